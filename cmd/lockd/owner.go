package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"lockd.dev/lockd/codes"
)

// fileOwner is who factory-init gives its files to, and how to name them.
type fileOwner struct {
	codes.Owner
	name string // "lockd:lockd", or numbers when the names are unknown
}

// keepOwner leaves the files to whoever runs factory-init.
var keepOwner = fileOwner{Owner: codes.NoOwner}

// stateOwner decides who owns factory-init's files: userName (and its
// primary group) when given, else the owner of dir when that is another
// user and factory-init runs as root; else nobody is changed.
func stateOwner(dir, userName string) (fileOwner, error) {
	root := os.Geteuid() == 0
	var o fileOwner
	if userName != "" {
		u, err := user.Lookup(userName)
		if err != nil {
			return o, usageError{fmt.Errorf("factory-init: --user %s: %w", userName, err)}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		o = fileOwner{Owner: codes.Owner{UID: uid, GID: gid}}
	} else {
		fi, err := os.Stat(dir)
		if err != nil || !root {
			return keepOwner, nil // a new directory is the caller's own
		}
		st := fi.Sys().(*syscall.Stat_t)
		o = fileOwner{Owner: codes.Owner{UID: int(st.Uid), GID: int(st.Gid)}}
	}
	if o.UID == os.Geteuid() && o.GID == os.Getegid() {
		return keepOwner, nil
	}
	if !root {
		return o, fmt.Errorf("factory-init: giving the files to %s needs root", ownerName(o.Owner))
	}
	o.name = ownerName(o.Owner)
	return o, nil
}

// ownerName is "user:group", with numbers for names this system does not
// know (a state directory inside an image built for another system).
func ownerName(o codes.Owner) string {
	u, g := strconv.Itoa(o.UID), strconv.Itoa(o.GID)
	if pw, err := user.LookupId(u); err == nil {
		u = pw.Username
	}
	if gr, err := user.LookupGroupId(g); err == nil {
		g = gr.Name
	}
	return u + ":" + g
}

// chownTo gives path to o, unless o keeps the caller's files.
func chownTo(path string, o fileOwner) error {
	if o.Owner == codes.NoOwner {
		return nil
	}
	if err := os.Chown(path, o.UID, o.GID); err != nil {
		return fmt.Errorf("factory-init: %w", err)
	}
	return nil
}
