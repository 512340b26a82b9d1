package updater_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/ubootenv/ubootenvtest"
)

// download is a Source that is Remote, as updater/httpsource is: the
// bundle's bytes, with the bytes handed out counted.
type download struct {
	data []byte
	mu   sync.Mutex
	read int
}

func newDownload(t *testing.T, path string) *download {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &download{data: data}
}

func (d *download) ReadAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if off >= int64(len(d.data)) {
		return 0, errors.New("download: read past the end")
	}
	n := copy(p, d.data[off:])
	d.read += n
	return n, nil
}

func (d *download) Size() int64  { return int64(len(d.data)) }
func (d *download) Close() error { return nil }
func (d *download) Remote() bool { return true }

func (d *download) fetched() int { d.mu.Lock(); defer d.mu.Unlock(); return d.read }

var _ updater.Source = &download{}

// TestDownloadResumesAfterPowerCut: the power goes while a downloaded
// indexed bundle is written, losing what was not synced. Installed again
// after the boot, the same bundle is fetched only where the slot lacks
// it: what the slot holds is hashed against the signed index, never
// trusted for being there. The cut costs less than 1 MiB of downloads
// again, and the slot ends holding the image.
func TestDownloadResumesAfterPowerCut(t *testing.T) {
	r := newRig(t)
	path := r.bundle("2.0.0", bundleOpts{chunk: testChunk})
	slotB := r.m.SlotPath(updater.SlotB)

	// Where the slot writes are, from a run without a cut.
	probe := &ubootenvtest.Storage{}
	u, err := r.lockd(r.boot(), probe)
	if err != nil {
		t.Fatal(err)
	}
	if err := installFrom(t, u, newDownload(t, path)); err != nil {
		t.Fatal(err)
	}
	var writes []int
	for i, op := range probe.Ops {
		if strings.HasPrefix(op, "write "+slotB+" ") {
			writes = append(writes, i+1)
		}
	}
	if len(writes) < 20 {
		t.Fatalf("%d slot writes: too few to cut in the middle", len(writes))
	}

	r2 := newRigKey(t, r.priv)
	path2 := r2.bundle("2.0.0", bundleOpts{chunk: testChunk})
	st := &ubootenvtest.Storage{CutAt: writes[len(writes)/2], LoseUnsynced: true}
	u, err = r2.lockd(r2.boot(), st)
	if err != nil {
		t.Fatal(err)
	}
	first := newDownload(t, path2)
	// The machine is off: the failure cannot even be recorded.
	_ = installFrom(t, u, first)
	if s := u.Status(); s.Pending != nil {
		t.Fatalf("an install cut half-way left %+v pending", s.Pending)
	}

	u = r2.mustLockd(r2.boot())
	second := newDownload(t, path2)
	if err := installFrom(t, u, second); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(r2.m.SlotPath(updater.SlotB))
	if want := r2.versions["2.0.0"]; !bytes.Equal(got[:len(want)], want) {
		t.Fatal("slot B does not hold 2.0.0")
	}
	size := len(second.data)
	again := first.fetched() + second.fetched() - size
	t.Logf("bundle %d bytes: %d fetched before the cut, %d after; %d fetched twice", size, first.fetched(), second.fetched(), again)
	if second.fetched() > size*3/4 {
		t.Fatalf("the resumed install fetched %d of %d bytes: it started over", second.fetched(), size)
	}
	if again > 1<<20 {
		t.Fatalf("the cut cost %d bytes fetched twice; the goal is under 1 MiB", again)
	}
}

// installFrom installs src and waits for the install to end.
func installFrom(t *testing.T, u *updater.Updater, src updater.Source) error {
	t.Helper()
	if err := u.InstallSource(context.Background(), src, updater.InstallOptions{}); err != nil {
		return err
	}
	return waitRest(t, u)
}

// TestWithdraw: the fleet server's cancel takes back an installed update,
// and is refused once the update is armed, where the owner's Reject still
// works.
func TestWithdraw(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	u := r.mustLockd(r.boot())
	if err := u.Withdraw(ctx); !errors.Is(err, updater.ErrNothing) {
		t.Fatalf("withdraw with nothing pending: %v", err)
	}
	if err := installFrom(t, u, newDownload(t, r.bundle("2.0.0", bundleOpts{chunk: testChunk}))); err != nil {
		t.Fatal(err)
	}
	if err := u.Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Pending != nil || s.Slots[updater.SlotB].State != updater.SlotEmpty {
		t.Fatalf("after withdraw: %+v", s)
	}
	if err := installFrom(t, u, newDownload(t, r.bundle("2.0.1", bundleOpts{chunk: testChunk}))); err != nil {
		t.Fatal(err)
	}
	if err := u.Approve(ctx); err != nil {
		t.Fatal(err)
	}
	r.setQuiet("")
	u.Step(ctx)
	if got := r.takeReboots(); len(got) != 1 {
		t.Fatalf("reboots: %q", got)
	}
	if err := u.Withdraw(ctx); !errors.Is(err, updater.ErrBusy) {
		t.Fatalf("withdraw of an armed update: %v", err)
	}
	if s := u.Status(); s.Pending == nil || s.Pending.Phase != updater.PhaseArmed {
		t.Fatalf("the refused withdraw changed the update: %+v", s.Pending)
	}
}
