package updater_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bootsim"
	"lockd.dev/lockd/updater/uboot"
	"lockd.dev/lockd/updater/ubootenv/ubootenvtest"
)

// happyPath is install, approval, switch, trial boot and commit, with every
// write of lockd (slots, state file, environment) through st. It stops at
// the first error: after a cut, the machine is off.
func happyPath(t *testing.T, r *rig, st *ubootenvtest.Storage, bundlePath string) error {
	t.Helper()
	ctx := context.Background()
	u, err := r.lockd(r.boot(), st)
	if err != nil {
		return err
	}
	if st.Cut() {
		return ubootenvtest.ErrPowerCut
	}
	if err := install(t, u, bundlePath, updater.InstallOptions{}); err != nil {
		return err
	}
	if err := u.Approve(ctx); err != nil {
		return err
	}
	u.Step(ctx)
	if st.Cut() {
		return ubootenvtest.ErrPowerCut
	}
	if len(r.takeReboots()) != 1 {
		t.Fatalf("no reboot without a cut: %+v", u.Status())
	}
	b := r.boot()
	if u, err = r.lockd(b, st); err != nil {
		return err
	}
	for i := 0; i < 70 && u.Status().Operation == "trial"; i++ {
		u.Step(ctx)
		r.clock.Add(time.Second)
	}
	if st.Cut() {
		return ubootenvtest.ErrPowerCut
	}
	return nil
}

// checkBoot boots the unit and checks it came up on a slot whose image is
// complete and verified, with an updater that works.
func checkBoot(t *testing.T, r *rig, when string) (bootsim.Booted, *updater.Updater) {
	t.Helper()
	b := r.boot()
	v := versionIn(t, r.m.SlotPath(b.Slot))
	want, ok := r.versions[v]
	if !ok {
		t.Fatalf("%s: booted slot %s holds no known image", when, b.Slot)
	}
	got, err := os.ReadFile(r.m.SlotPath(b.Slot))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:len(want)], want) {
		t.Fatalf("%s: booted slot %s holds a damaged image of %s (trial %v)", when, b.Slot, v, b.Trial)
	}
	u := r.mustLockd(b)
	if s := u.Status(); s.Operation == "unavailable" {
		t.Fatalf("%s: updater unavailable after the cut: %s", when, s.LastError)
	}
	return b, u
}

// finish drives a unit, whatever state a cut left, to v2 committed: it
// proves a trial, approves a pending update, installs again if needed.
func finish(t *testing.T, r *rig, b bootsim.Booted, u *updater.Updater, bundlePath, when string) {
	t.Helper()
	ctx := context.Background()
	for round := 0; round < 6; round++ {
		s := u.Status()
		switch {
		case s.Operation == "trial":
			trialUntilCommit(t, r, u)
		case s.Pending != nil:
			if err := u.Approve(ctx); err != nil {
				t.Fatalf("%s: approve: %v", when, err)
			}
			u.Step(ctx)
			if len(r.takeReboots()) != 1 {
				t.Fatalf("%s: approved update did not reboot: %+v", when, u.Status())
			}
			b, u = checkBoot(t, r, when+", after approval")
			continue
		case versionIn(t, r.m.SlotPath(b.Slot)) == "2.0.0":
			env := r.env()
			if env[uboot.VarSlot] != string(b.Slot) || env[uboot.VarTry] != "" {
				t.Fatalf("%s: v2 runs uncommitted: %v", when, env)
			}
			return
		default:
			if err := install(t, u, bundlePath, updater.InstallOptions{}); err != nil {
				t.Fatalf("%s: install again: %v", when, err)
			}
			continue
		}
		b, u = checkBoot(t, r, when+", next boot")
	}
	t.Fatalf("%s: v2 not committed after 6 rounds: %+v", when, u.Status())
}

// TestPowerCutEveryWrite cuts the power at every single write, fsync,
// rename and environment write of install, switch and commit — each of
// them, not a sample, writes torn at two lengths — then boots through the
// simulated boot script until the unit runs v2 committed. After every cut
// the unit boots a slot holding a complete, verified image; a cut before
// the switch boots the old slot with no trial.
func TestPowerCutEveryWrite(t *testing.T) {
	// Both bundle formats: a stream (format 1) and an indexed bundle,
	// installed in one pass chunk by chunk.
	t.Run("format1", func(t *testing.T) { powerCutEveryWrite(t, bundleOpts{}) })
	t.Run("indexed", func(t *testing.T) { powerCutEveryWrite(t, bundleOpts{chunk: 64 << 10}) })
}

func powerCutEveryWrite(t *testing.T, o bundleOpts) {
	base := newRig(t)
	bundlePath := base.bundle("2.0.0", o)
	counting := &ubootenvtest.Storage{}
	if err := happyPath(t, base, counting, bundlePath); err != nil {
		t.Fatal(err)
	}
	ops := counting.Ops
	armAt := -1
	for i, op := range ops {
		if strings.HasPrefix(op, "rename") && strings.Contains(op, "uboot.env") && armAt < 0 {
			armAt = i
		}
	}
	if armAt < 0 {
		t.Fatalf("no environment write among %d operations: %q", len(ops), ops)
	}
	t.Logf("%d storage operations; the switch is operation %d (%s)", len(ops), armAt+1, ops[armAt])
	cases := 0
	defer func() { t.Logf("%d cuts, each followed by boots until v2 runs committed", cases) }()
	v2 := base.versions["2.0.0"]
	for k := 1; k <= len(ops); k++ {
		torns := []int{0}
		if strings.HasPrefix(ops[k-1], "write") {
			torns = []int{0, -1}
		}
		for _, torn := range torns {
			when := ops[k-1]
			cases++
			// Each cut is a unit of its own: they run side by side.
			t.Run(fmt.Sprintf("%d-torn%d", k, torn), func(t *testing.T) {
				t.Parallel()
				r := newRigKey(t, base.priv)
				r.versions["2.0.0"] = v2
				st := &ubootenvtest.Storage{CutAt: k, Torn: torn, LoseUnsynced: true}
				if err := happyPath(t, r, st, bundlePath); !errors.Is(err, ubootenvtest.ErrPowerCut) && !st.Cut() {
					t.Fatalf("cut at %d (%s): the path ended with %v and no cut", k, when, err)
				}
				env := r.env()
				b, u := checkBoot(t, r, when)
				if k-1 < armAt {
					if b.Slot != updater.SlotA || b.Trial {
						t.Fatalf("cut at %d (%s), before the switch: booted %+v", k, when, b)
					}
				} else if env[uboot.VarTry] == "B" && b.Slot != updater.SlotB {
					t.Fatalf("cut at %d (%s), armed: booted %+v", k, when, b)
				}
				finish(t, r, b, u, bundlePath, when)
			})
		}
	}
}

// TestPowerCutDuringRollback cuts the power at every write of the
// rollback a fallback boot makes: the report survives, slot B is never
// booted again, and the environment ends clean.
func TestPowerCutDuringRollback(t *testing.T) {
	prepare := func(t *testing.T) *rig {
		r := newRig(t)
		ctx := context.Background()
		u := r.mustLockd(r.boot())
		if err := install(t, u, r.bundle("2.1.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		approveAndReboot(t, r, u)
		_ = ctx
		for i := 0; i < 3; i++ {
			if b := r.boot(); !b.Trial {
				t.Fatalf("trial boot %d: %+v", i, b)
			}
		}
		return r
	}
	r := prepare(t)
	counting := &ubootenvtest.Storage{}
	if _, err := r.lockd(r.boot(), counting); err != nil {
		t.Fatal(err)
	}
	ops := counting.Ops
	if len(ops) == 0 {
		t.Fatal("the rollback wrote nothing")
	}
	t.Logf("%d storage operations in the rollback: %q", len(ops), ops)
	for k := 1; k <= len(ops); k++ {
		r := prepare(t)
		st := &ubootenvtest.Storage{CutAt: k, LoseUnsynced: true}
		b := r.boot()
		if b.Slot != updater.SlotA || b.Trial {
			t.Fatalf("fallback boot: %+v", b)
		}
		_, _ = r.lockd(b, st)
		for boot := 0; boot < 2; boot++ {
			b, u := checkBoot(t, r, ops[k-1])
			if b.Slot != updater.SlotA || b.Trial {
				t.Fatalf("cut at %s: boot %d: %+v", ops[k-1], boot, b)
			}
			s := u.Status()
			if !strings.Contains(s.LastError, "rolled back") || s.Slots[updater.SlotB].State != updater.SlotBad {
				t.Fatalf("cut at %s: boot %d: %+v", ops[k-1], boot, s)
			}
		}
		if env := r.env(); env[uboot.VarTry] != "" || env[uboot.VarTryLeft] != "" {
			t.Fatalf("cut at %s: env %v", ops[k-1], env)
		}
	}
}
