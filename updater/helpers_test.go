package updater_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/blockindex"
	"lockd.dev/lockd/updater/bootsim"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/bundle/bundletest"
	"lockd.dev/lockd/updater/ubootenv"
)

const (
	compatible = "acme,door-1"
	slotSize   = 4 << 20
)

// image is a root file-system image of a version (bundletest.Image).
func image(version string, size int) []byte { return bundletest.Image(version, size) }

// versionIn reads the version an image() in a slot file announces.
func versionIn(t *testing.T, path string) string {
	t.Helper()
	b := make([]byte, 64)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("ROOTFS ")) {
		return ""
	}
	v, _, _ := bytes.Cut(b[7:], []byte{0})
	return string(v)
}

// rig is a simulated unit: slots, env, keys, state directory.
type rig struct {
	t      *testing.T
	dir    string
	m      bootsim.Machine
	keys   string
	priv   ed25519.PrivateKey
	state  string
	clock  *fakeClock
	imgLen int
	// mountinfo, when set, is the mount table the updater reads (a
	// mountGate's FIFO holds an install inside its checks).
	mountinfo string

	mu       sync.Mutex
	reboots  []string
	giveUps  []string
	health   error
	quiet    string
	onQuiet  func()            // run once, by the next Quiet call, outside r.mu
	versions map[string][]byte // version -> image
	nbundles int
}

func newRig(t *testing.T) *rig {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return newRigKey(t, priv)
}

// newRigKey is a rig trusting priv's public key, to share bundles.
func newRigKey(t *testing.T, priv ed25519.PrivateKey) *rig {
	t.Helper()
	dir := t.TempDir()
	m, err := bootsim.Create(filepath.Join(dir, "boot"), slotSize)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, dir: dir, m: m, keys: filepath.Join(dir, "keys"), state: filepath.Join(dir, "data", "update.json"),
		clock: &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}, imgLen: slotSize - 512<<10,
		versions: map[string][]byte{}}
	for _, d := range []string{r.keys, filepath.Dir(r.state)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	r.priv = priv
	if err := bundle.WriteKeyPair(filepath.Join(r.keys, "vendor"), r.priv); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(r.keys, "vendor.key")) // the unit holds only the public key
	// The factory image: v1.0.0 in slot A.
	r.versions["1.0.0"] = image("1.0.0", r.imgLen)
	if err := os.WriteFile(m.SlotPath(updater.SlotA), r.versions["1.0.0"], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(m.SlotPath(updater.SlotA), slotSize); err != nil {
		t.Fatal(err)
	}
	return r
}

type bundleOpts struct {
	compatible  string
	secVersion  uint64
	compression string
	size        int
	priv        ed25519.PrivateKey
	editStored  func([]byte) []byte // see bundletest.Options.EditStored
	// chunk, if not 0, makes an indexed bundle in chunks of that size;
	// editIndex changes its index before signing.
	chunk     int
	editIndex func(*blockindex.Index)
	// img, if set, is the image instead of image(version, size).
	img []byte
}

// bundle writes a signed bundle of version and returns its path.
func (r *rig) bundle(version string, o bundleOpts) string {
	r.t.Helper()
	if o.compatible == "" {
		o.compatible = compatible
	}
	if o.compression == "" {
		o.compression = bundle.CompressionZstd
	}
	if o.size == 0 {
		o.size = r.imgLen
	}
	if o.priv == nil {
		o.priv = r.priv
	}
	img := o.img
	if img == nil {
		img = image(version, o.size)
	}
	r.versions[version] = img
	data := bundletest.Make(r.t, o.priv, img, bundletest.Options{Compatible: o.compatible, Version: version,
		SecurityVersion: o.secVersion, Compression: o.compression, Created: r.clock.Now(), EditStored: o.editStored,
		ChunkSize: o.chunk, EditIndex: o.editIndex})
	r.nbundles++
	p := filepath.Join(r.dir, fmt.Sprintf("v%s-%d.lockd", version, r.nbundles))
	if err := os.WriteFile(p, data, 0o600); err != nil {
		r.t.Fatal(err)
	}
	return p
}

// boot is a power-on through the simulated boot script.
func (r *rig) boot() bootsim.Booted {
	r.t.Helper()
	b, err := r.m.Boot(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

// lockd starts the updater as the lockd of the booted slot would: its
// version is the one in that slot.
func (r *rig) lockd(b bootsim.Booted, st ubootenv.Storage) (*updater.Updater, error) {
	r.t.Helper()
	bl, err := r.m.Bootloader(st)
	if err != nil {
		r.t.Fatal(err)
	}
	version := versionIn(r.t, r.m.SlotPath(b.Slot))
	if version == "" {
		r.t.Fatalf("booted slot %s holds no complete image", b.Slot)
	}
	return updater.New(context.Background(), updater.Config{
		Bootloader: bl, Storage: st, StateFile: r.state,
		Slots:   map[updater.Slot]string{updater.SlotA: r.m.SlotPath(updater.SlotA), updater.SlotB: r.m.SlotPath(updater.SlotB)},
		Cmdline: r.m.Cmdline(), BootID: r.m.BootID(), Mountinfo: r.mountinfo, KeysDir: r.keys, Compatible: compatible,
		BootedVersion: version, TryBoots: 3, CommitAfter: time.Minute, Policy: updater.RebootApprove,
		Health: func() error { r.mu.Lock(); defer r.mu.Unlock(); return r.health },
		Quiet: func() string {
			r.mu.Lock()
			hook, q := r.onQuiet, r.quiet
			r.onQuiet = nil
			r.mu.Unlock()
			if hook != nil {
				hook()
			}
			return q
		},
		Reboot: func(ctx context.Context, param string) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.reboots = append(r.reboots, param)
			return nil
		},
		GiveUp: func(reason string) { r.mu.Lock(); defer r.mu.Unlock(); r.giveUps = append(r.giveUps, reason) },
		Now:    r.clock.Now,
		Log:    testLog(r.t),
	})
}

// mustLockd is lockd that must start.
func (r *rig) mustLockd(b bootsim.Booted) *updater.Updater {
	r.t.Helper()
	u, err := r.lockd(b, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return u
}

// install installs the bundle at path and waits for the install to end.
func install(t *testing.T, u *updater.Updater, path string, o updater.InstallOptions) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Install(context.Background(), f, o); err != nil {
		return err
	}
	return waitRest(t, u)
}

// waitRest waits until no install runs and returns LastError as an error.
func waitRest(t *testing.T, u *updater.Updater) error {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := u.Status()
		switch s.Operation {
		case "idle", "pending", "unavailable", "armed", "rebooting":
			if s.LastError != "" {
				return fmt.Errorf("%s", s.LastError)
			}
			return nil
		}
		if time.Now().After(deadline) {
			t.Fatalf("install still %s after 30 s", s.Operation)
		}
		select {
		case <-u.Changed():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// env reads the simulated environment.
func (r *rig) env() map[string]string {
	r.t.Helper()
	bl, err := ubootenv.ParseConfig(r.m.FwEnvConfig())
	if err != nil {
		r.t.Fatal(err)
	}
	e, err := ubootenv.Open(bl, ubootenv.WithLockFile(""))
	if err != nil {
		r.t.Fatal(err)
	}
	v, err := e.Read(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return v
}

// files returns every file of the unit's storage, for byte-for-byte checks.
func (r *rig) files() map[string][]byte {
	r.t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{r.m.SlotPath(updater.SlotA), r.m.SlotPath(updater.SlotB), r.m.EnvPath(), r.state} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			r.t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

func (r *rig) takeReboots() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.reboots
	r.reboots = nil
	return x
}

func (r *rig) takeGiveUps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.giveUps
	r.giveUps = nil
	return x
}

func (r *rig) setHealth(err error) { r.mu.Lock(); r.health = err; r.mu.Unlock() }
func (r *rig) setQuiet(s string)   { r.mu.Lock(); r.quiet = s; r.mu.Unlock() }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testLog sends the updater's log to the test's.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
