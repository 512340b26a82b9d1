package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// raucUnit is Debian's RAUC 1.8 set up on the same loop-device slots as
// a benchUnit: a self-signed certificate, a plain bundle of the same
// image (squashfs, mksquashfs's default gzip), a system.conf with
// bootloader=noop and the two raw slots, and `rauc service` on a private
// bus of its own, booted from slot A. It also makes, for its size only,
// the bundle RAUC needs for what every lockd bundle can do (adaptive
// installs, streaming): format=verity with adaptive=block-hash-index.
type raucUnit struct {
	dir, bundle    string
	adaptiveBundle string
	env            []string
	stop           func()
}

// raucTools are what the RAUC comparison needs (make deps installs them).
var raucTools = []string{"rauc", "mksquashfs", "openssl", "dbus-daemon"}

// newRaucUnit makes the RAUC bundle of img and starts the service for
// slots (A, B).
func newRaucUnit(ctx context.Context, dir, img string, slots [2]string) (*raucUnit, error) {
	r := &raucUnit{dir: filepath.Join(dir, "rauc")}
	content := filepath.Join(r.dir, "content")
	if err := os.MkdirAll(content, 0o700); err != nil {
		return nil, err
	}
	if err := os.Link(img, filepath.Join(content, "rootfs.img")); err != nil {
		return nil, err
	}
	cert, key := filepath.Join(r.dir, "cert.pem"), filepath.Join(r.dir, "key.pem")
	r.bundle = filepath.Join(r.dir, "update.raucb")
	r.adaptiveBundle = filepath.Join(r.dir, "adaptive.raucb")
	manifest := "[update]\ncompatible=" + benchCompatible + "\nversion=2.0.0\n\n[image.rootfs]\nfilename=rootfs.img\n"
	for _, step := range []struct {
		manifest string   // written first, when not ""
		args     []string // then run
	}{
		{"", []string{"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=lockbench"}},
		{manifest, []string{"rauc", "bundle", "--cert", cert, "--key", key, content, r.bundle}},
		{strings.Replace(manifest, "[image.rootfs]", "[bundle]\nformat=verity\n\n[image.rootfs]", 1) + "adaptive=block-hash-index\n",
			[]string{"rauc", "bundle", "--cert", cert, "--key", key, content, r.adaptiveBundle}},
	} {
		if step.manifest != "" {
			if err := os.WriteFile(filepath.Join(content, "manifest.raucm"), []byte(step.manifest), 0o600); err != nil {
				return nil, err
			}
		}
		if out, err := exec.CommandContext(ctx, step.args[0], step.args[1:]...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", strings.Join(step.args, " "), err, out)
		}
	}
	os.Remove(filepath.Join(content, "rootfs.img"))
	os.Remove(filepath.Join(content, "rootfs.img.block-hash-index"))
	conf := filepath.Join(r.dir, "system.conf")
	sys := fmt.Sprintf("[system]\ncompatible=%s\nbootloader=noop\n\n[keyring]\npath=%s\n\n"+
		"[slot.rootfs.0]\ndevice=%s\ntype=raw\nbootname=A\n\n[slot.rootfs.1]\ndevice=%s\ntype=raw\nbootname=B\n",
		benchCompatible, cert, slots[0], slots[1])
	if err := os.WriteFile(conf, []byte(sys), 0o600); err != nil {
		return nil, err
	}
	// A bus that lets RAUC own its name; both rauc processes find it as
	// their system bus.
	socket := filepath.Join(r.dir, "bus")
	busConf := filepath.Join(r.dir, "bus.conf")
	policy := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=` + socket + `</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>`
	if err := os.WriteFile(busConf, []byte(policy), 0o600); err != nil {
		return nil, err
	}
	bus := exec.CommandContext(ctx, "dbus-daemon", "--config-file="+busConf, "--nofork", "--print-address")
	out, err := bus.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := bus.Start(); err != nil {
		return nil, fmt.Errorf("dbus-daemon: %w", err)
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		bus.Process.Kill()
		bus.Wait()
		return nil, fmt.Errorf("dbus-daemon: %w", err)
	}
	go io.Copy(io.Discard, out)
	r.env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+socket)
	svc := exec.CommandContext(ctx, "rauc", "service", "--conf="+conf, "--override-boot-slot=A")
	svc.Env = r.env
	logf, _ := os.Create(filepath.Join(r.dir, "service.log"))
	svc.Stdout, svc.Stderr = logf, logf
	if err := svc.Start(); err != nil {
		bus.Process.Kill()
		bus.Wait()
		return nil, fmt.Errorf("rauc service: %w", err)
	}
	r.stop = func() {
		svc.Process.Kill()
		svc.Wait()
		bus.Process.Kill()
		bus.Wait()
		logf.Close()
	}
	for i := 0; ; i++ { // until the service answers
		st := exec.CommandContext(ctx, "rauc", "status")
		st.Env = r.env
		if st.Run() == nil {
			return r, nil
		}
		if i == 50 {
			r.stop()
			return nil, fmt.Errorf("rauc service did not come up (%s)", filepath.Join(r.dir, "service.log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// install times `rauc install` of the bundle into slot B.
func (r *raucUnit) install(ctx context.Context) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, "rauc", "install", r.bundle)
	cmd.Env = r.env
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(t0)
	if err != nil || !strings.Contains(string(out), "succeeded") {
		return d, fmt.Errorf("rauc install: %v\n%s", err, out)
	}
	return d, nil
}

func (r *raucUnit) close() {
	if r.stop != nil {
		r.stop()
	}
}
