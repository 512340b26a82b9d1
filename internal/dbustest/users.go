package dbustest

import (
	"fmt"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Groups are the GIDs of the groups the shipped policy names.
type Groups struct {
	Lockd int // readers
	Admin int // lockd-admin: may change state
}

// EnsureGroups creates the groups lockd and lockd-admin if they are
// missing (as lockd.sysusers does on a unit) and returns their GIDs. They
// are left in place afterwards: packages test in parallel processes, and
// deleting a group another test's bus still uses would break it.
func EnsureGroups(t testing.TB) Groups {
	t.Helper()
	RequireRoot(t)
	return Groups{Lockd: ensureGroup(t, "lockd"), Admin: ensureGroup(t, "lockd-admin")}
}

func ensureGroup(t testing.TB, name string) int {
	t.Helper()
	groupadd := ""
	for attempt := 0; ; attempt++ {
		if g, err := user.LookupGroup(name); err == nil {
			gid, err := strconv.Atoi(g.Gid)
			if err != nil {
				t.Fatalf("dbustest: group %s has gid %q", name, g.Gid)
			}
			return gid
		}
		if groupadd == "" {
			groupadd = Need(t, "groupadd")
		}
		// Another test process may be adding it at the same moment;
		// groupadd then fails on the lock or on the duplicate, and the
		// next lookup finds it.
		out, err := exec.Command(groupadd, "--system", name).CombinedOutput()
		if err != nil && attempt >= 5 {
			t.Fatalf("dbustest: groupadd %s: %v\n%s", name, err, out)
		}
		if err != nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Nobody is the unprivileged UID and GID clients switch to.
const Nobody = 65534

// User is who a client command runs as.
type User struct {
	root   bool
	groups []int
}

// Root runs a command as the test process (root).
var Root = User{root: true}

// Unprivileged runs a command as UID/GID 65534 with exactly these
// supplementary groups (none: --clear-groups). dbus-daemon matches
// policy group rules against the client's real groups, and reports them in
// GetConnectionCredentials, so these are what both the policy and lockd
// see.
func Unprivileged(groups ...int) User { return User{groups: groups} }

// String names the user for test messages.
func (u User) String() string {
	if u.root {
		return "root"
	}
	if len(u.groups) == 0 {
		return "nobody"
	}
	return fmt.Sprintf("nobody+groups%v", u.groups)
}

// argv returns the command line that runs name as u.
func (u User) argv(t testing.TB, name string, args []string) []string {
	if u.root {
		return append([]string{name}, args...)
	}
	groups := "--clear-groups"
	if len(u.groups) > 0 {
		var s []string
		for _, g := range u.groups {
			s = append(s, strconv.Itoa(g))
		}
		groups = "--groups=" + strings.Join(s, ",")
	}
	id := strconv.Itoa(Nobody)
	return append([]string{Need(t, "setpriv"), "--reuid=" + id, "--regid=" + id, groups, "--", name}, args...)
}
