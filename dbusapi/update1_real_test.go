package dbusapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bootsim"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/bundle/bundletest"
)

var _ dbusapi.Updater = (*updater.Updater)(nil)

const (
	compatible = "acme,door-1"
	slotSize   = 1 << 20
)

// unit is a simulated unit's updater: bootsim slots and environment, a
// trusted key, booted on slot A with version 1.0.0.
type unit struct {
	dir  string
	priv ed25519.PrivateKey
	upd  *updater.Updater
}

func newUnit(t *testing.T) *unit {
	t.Helper()
	u := &unit{dir: t.TempDir()}
	m, err := bootsim.Create(filepath.Join(u.dir, "boot"), slotSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	bl, err := m.Bootloader(nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(u.dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	_, u.priv, _ = ed25519.GenerateKey(rand.Reader)
	if err := bundle.WriteKeyPair(filepath.Join(keys, "vendor"), u.priv); err != nil {
		t.Fatal(err)
	}
	u.upd, err = updater.New(context.Background(), updater.Config{
		Bootloader: bl, StateFile: filepath.Join(u.dir, "update.json"),
		Slots:   map[updater.Slot]string{updater.SlotA: m.SlotPath(updater.SlotA), updater.SlotB: m.SlotPath(updater.SlotB)},
		Cmdline: m.Cmdline(), BootID: m.BootID(), KeysDir: keys, Compatible: compatible, BootedVersion: "1.0.0",
		Log: discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// bundle writes a signed bundle and returns its path.
func (u *unit) bundle(t *testing.T, version, compat string) string {
	t.Helper()
	img := bytes.Repeat([]byte("rootfs "+version+" "), 20000)
	data := bundletest.Make(t, u.priv, img, bundletest.Options{Compatible: compat, Version: version})
	p := filepath.Join(u.dir, version+"-"+compat+".lockd")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUpdate1RealInstall installs a real bundle through the bus into a
// real updater: the descriptor crosses dbus-daemon, the properties and
// events follow the install, and a bundle for other hardware is refused
// naming both.
func TestUpdate1RealInstall(t *testing.T) {
	r := newRig(t, rigOptions{})
	sigs := r.lockSignals(t)
	install := func(path string) error {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return r.obj.Call(wire.Update1+".Install", 0, dbus.UnixFD(f.Fd())).Err
	}
	if err := install(r.unit.bundle(t, "2.0.0", compatible)); err != nil {
		t.Fatal(err)
	}
	sigs.wait(t, "update-installed", eventOf(wire.EventUpdateInstalled))
	sigs.wait(t, "Operation=pending", func(s *dbus.Signal) bool {
		if s.Name != "org.freedesktop.DBus.Properties.PropertiesChanged" || s.Body[0] != wire.Update1 {
			return false
		}
		m, _ := s.Body[1].(map[string]dbus.Variant)
		return m[wire.PropOperation].Value() == "pending"
	})
	v, err := r.obj.GetProperty(wire.Update1 + "." + wire.PropPending)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := v.Value().(map[string]dbus.Variant)
	if p[wire.KeyVersion].Value() != "2.0.0" || p[wire.KeyUpdateSlot].Value() != "B" || p[wire.KeyApproved].Value() != false {
		t.Errorf("Pending = %v", p)
	}
	v, err = r.obj.GetProperty(wire.Update1 + "." + wire.PropSlots)
	if err != nil {
		t.Fatal(err)
	}
	slots, _ := v.Value().(map[string]map[string]dbus.Variant)
	if slots["B"][wire.KeyState].Value() != "installed" || slots["A"][wire.KeyBooted].Value() != true {
		t.Errorf("Slots = %v", slots)
	}

	err = install(r.unit.bundle(t, "3.0.0", "other,board"))
	var de dbus.Error
	if !errors.As(err, &de) || de.Name != wire.ErrBundleRefused ||
		!strings.Contains(de.Body[0].(string), `bundle is for "other,board", this unit is "acme,door-1"`) {
		t.Errorf("other hardware's bundle: %v", err)
	}
	if err := r.obj.Call(wire.Update1+".Reject", 0).Err; err != nil {
		t.Fatal(err)
	}
	sigs.wait(t, "update-rejected", eventOf(wire.EventUpdateRejected))
	// The request and the updater's outcome race to the log.
	var kinds []string
	for _, e := range r.log(t) {
		if k := e.Details[wire.KeyKind].Value().(string); strings.HasPrefix(k, "update-") {
			kinds = append(kinds, k+" "+e.Details[wire.KeySource].Value().(string))
		}
	}
	sort.Strings(kinds)
	want := "update-install dbus,update-installed updater,update-refused dbus,update-reject dbus,update-rejected updater"
	if got := strings.Join(kinds, ","); got != want {
		t.Errorf("audit log: %s\nwant %s", got, want)
	}
}
