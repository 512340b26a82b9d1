package e2e

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cycleTimeout bounds one power cycle: more is a hung unit.
const cycleTimeout = 3 * time.Minute

// TestBootChain is the rig: every scenario of "How we know an update
// cannot brick the lock" (README), each on a unit of its own.
func TestBootChain(t *testing.T) {
	start := time.Now()
	a := buildAssets(t)
	t.Logf("assets ready in %.1f s", time.Since(start).Seconds())
	b := newBoard(t, a)
	// Each scenario has a rank: the pacer starts the longest first (its
	// seconds on 2 cores, cold, in the comment), so that the two QEMUs the
	// rig runs at a time finish together. Scenario 5b (power cuts at the
	// commit) runs as subtests of 1, ranks 7 to 9, on copies of its unit
	// once the trial is armed: the install they share runs once.
	scenarios := []struct {
		rank int
		name string
		fn   func(t *testing.T, u *unit)
	}{
		{3, "1 good update commits", goodUpdate}, // 45, then 5b: 17-24 each
		{2, "2 lockd never healthy: rolled back", func(t *testing.T, u *unit) { rolledBack(t, u, "v2-unhealthy") }}, // 57
		{10, "3 kernel cannot boot: rolled back", func(t *testing.T, u *unit) { rolledBack(t, u, "v2-badkernel") }}, // 26
		{4, "4 power cut during install", cutDuringInstall},                                                         // 53
		{6, "5a power cut right after arming", cutAfterArming},                                                      // 33
		{12, "6 wrong-model bundle refused", wrongModel},                                                            // 6
		{5, "7 GPIO uAPI: Wiegand code, wrong code, door guard, jam", gpioWiegand},                                  // 30
		{11, "8 GPIO uAPI: a held pin, a matrix column", gpioMatrix},                                                // 14
		{1, "9 systemd: the shipped units, lockd reboots into the trial through logind", systemdTrial},              // 130-141
		{0, "10 systemd: lockd never healthy, FailureAction reboots, rolled back", systemdRolledBack},               // 241-246
	}
	b.pace = newPacer()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			b.pace.run(sc.rank, func() {
				s := time.Now()
				sc.fn(t, b.newUnit(t))
				t.Logf("scenario %q: %.1f s", sc.name, time.Since(s).Seconds())
			})
		})
	}
}

// commitCuts are the delays of scenario 5b's power cuts after lockd
// starts to commit.
var commitCuts = []time.Duration{0, 20 * time.Millisecond, 300 * time.Millisecond}

// Guest command scripts (guestLib has st, envp and wait_op).
const (
	// statusOff prints the update status and the env, then powers off.
	statusOff = "st; envp; poweroff -f"
	// waitIdle first waits for lockd to be at rest: a trial committed, a
	// rollback reported.
	waitIdle = "wait_op idle; " + statusOff
)

// installApprove installs bundle and approves the reboot: lockd arms the
// trial and reboots through logind (the rig's stand-in).
func installApprove(bundle string) string {
	return fmt.Sprintf(`st
lockctl update install %s; echo "E2E-INSTALL rc=$?"
st
lockctl update approve; echo "E2E-APPROVE rc=$?"
sleep 120; echo E2E-NO-REBOOT; poweroff -f`, bundle)
}

// want fails the test unless got == want.
func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func (u *unit) wantVars(what string, want [3]string) {
	u.t.Helper()
	if got := lockdVars(u.env()); got != want {
		u.t.Fatalf("%s: uboot.env lockd_slot, lockd_try, lockd_try_left = %q, want %q", what, got, want)
	}
}

func wantBoot(t *testing.T, c *cycle, slot string, trial bool, version string) {
	t.Helper()
	if c.slot != slot || c.trial != trial || c.version != version {
		t.Fatalf("booted slot %q trial=%v version %q, want slot %s trial=%v version %s\n%s", c.slot, c.trial, c.version, slot, trial, version, c.console)
	}
}

func wantMarker(t *testing.T, c *cycle, m, rest string) {
	t.Helper()
	got, ok := c.marker(m)
	if !ok || got != rest {
		t.Fatalf("console: %s%q, want %s%q\n%s", m, got, m, rest, c.console)
	}
}

// installAndReboot: on A, v1, install bundle, approve; lockd arms the
// trial of B and reboots.
func installAndReboot(t *testing.T, u *unit, bundle string) {
	t.Helper()
	c := u.powerOn(installApprove(u.b.a.bundleNames[bundle]), nil, cycleTimeout)
	wantBoot(t, c, "A", false, "1.0.0")
	wantMarker(t, c, "E2E-INSTALL ", "rc=0")
	if _, ok := c.marker("E2E-REBOOT"); !ok {
		t.Fatalf("lockd did not reboot into the trial\n%s", c.console)
	}
	u.wantVars("after arming", [3]string{"A", "B", strconv.Itoa(tryBoots)})
}

// 1. A good update: installed on A, tried on B, committed by lockd; then
// B boots for good and the trial counter is never touched again.
func goodUpdate(t *testing.T, u *unit) {
	installAndReboot(t, u, "v2")
	for i, d := range commitCuts {
		name := fmt.Sprintf("5b power cut at the commit +%dms", d.Milliseconds())
		c := u.clone()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c.t = t
			u.b.pace.run(7+i, func() { // ranks 7-9: after 5a, before 3
				s := time.Now()
				cutDuringCommit(t, c, d)
				t.Logf("scenario %q (after 1's install): %.1f s", name, time.Since(s).Seconds())
			})
		})
	}
	c := u.powerOn(waitIdle, nil, cycleTimeout)
	wantBoot(t, c, "B", true, "2.0.0")
	u.wantVars("after the trial", [3]string{"B", "", ""})
	for i := range 3 {
		before := u.rawEnv()
		c := u.powerOn(statusOff, nil, cycleTimeout)
		wantBoot(t, c, "B", false, "2.0.0")
		if !bytes.Equal(before, u.rawEnv()) {
			t.Fatalf("committed boot %d changed uboot.env", i+1)
		}
		s := c.status(t)
		want(t, "booted slot", s.BootedSlot, "B")
		want(t, "operation", s.Operation, "idle")
		want(t, "last error", s.LastError, "")
		want(t, "slot B", slotInfo(s, "B"), "committed=true state=good version=2.0.0")
		if s.Pending != nil {
			t.Fatalf("pending update after the commit: %+v", *s.Pending)
		}
		if !strings.Contains(c.console, "E2E-ENV lockd_slot=B") {
			t.Fatalf("lockd bootenv print on B:\n%s", c.console)
		}
	}
}

// slotInfo is a slot of the update status as one line.
func slotInfo(s updateStatus, slot string) string {
	d := s.Slots[slot]
	return fmt.Sprintf("committed=%v state=%v version=%v", d["committed"], d["state"], d["version"])
}

// 2, 3. An update that never proves itself, because lockd on it never
// gets healthy or because its kernel does not even boot: the boot script
// tries it exactly try_boots times, then A boots, and lockd on A reports
// the rollback and marks B bad.
func rolledBack(t *testing.T, u *unit, bundle string) {
	installAndReboot(t, u, bundle)
	for i := 1; i <= tryBoots; i++ {
		c := u.powerOn("", nil, cycleTimeout)
		if bundle == "v2-badkernel" {
			if c.slot != "" || !strings.Contains(c.console, "lockd: trial boot of slot B") ||
				!strings.Contains(c.console, "lockd: booting slot B failed: resetting") {
				t.Fatalf("trial boot %d: want U-Boot to refuse B's kernel and reset\n%s", i, c.console)
			}
		} else {
			wantBoot(t, c, "B", true, "2.0.0")
			if !strings.Contains(c.console, "E2E-TRIAL-REBOOT") {
				t.Fatalf("trial boot %d: lockd did not give up the trial\n%s", i, c.console)
			}
		}
		u.wantVars(fmt.Sprintf("after trial boot %d", i), [3]string{"A", "B", strconv.Itoa(tryBoots - i)})
	}
	c := u.powerOn("wait_op idle; "+statusOff, nil, cycleTimeout)
	wantBoot(t, c, "A", false, "1.0.0")
	u.wantVars("after the fallback", [3]string{"A", "", ""})
	if _, ok := c.marker("E2E-EVENT update-rolled-back"); !ok {
		t.Errorf("no Event(update-rolled-back) signal from lockd on A\n%s", c.console)
	}
	s := c.status(t)
	want(t, "booted slot", s.BootedSlot, "A")
	want(t, "last error", s.LastError, "update 2.0.0 rolled back after 3 failed boots of slot B")
	want(t, "slot B", slotInfo(s, "B"), "committed=false state=bad version=2.0.0")
	want(t, "slot A", slotInfo(s, "A"), "committed=true state=good version=1.0.0")
	if s.Pending != nil {
		t.Fatalf("pending update after the rollback: %+v", *s.Pending)
	}
	if h := s.History; len(h) == 0 || h[len(h)-1].Event != "rolled-back" {
		t.Fatalf("history does not end with the rollback: %+v", h)
	}
}

// opAt cuts the power when lockd signals operation op at progress >=
// pct (pct < 0: at any progress), after a delay.
func opAt(op string, pct int, delay time.Duration) func(string) bool {
	return func(l string) bool {
		i := strings.Index(l, "E2E-OP ")
		if i < 0 {
			return false
		}
		f := strings.Fields(l[i:])
		if len(f) < 3 || f[1] != op {
			return false
		}
		if n, err := strconv.Atoi(f[2]); pct >= 0 && (err != nil || n < pct) {
			return false
		}
		time.Sleep(delay)
		return true
	}
}

// wantAtRestOnA checks a unit that must be on A, committed, no trial.
func wantAtRestOnA(t *testing.T, c *cycle) updateStatus {
	t.Helper()
	wantBoot(t, c, "A", false, "1.0.0")
	s := c.status(t)
	want(t, "booted slot", s.BootedSlot, "A")
	want(t, "slot A", slotInfo(s, "A"), "committed=true state=good version=1.0.0")
	if s.Pending != nil && s.Pending.Phase != "installed" {
		t.Fatalf("pending update after the cut: %+v", *s.Pending)
	}
	return s
}

// 4. The power fails while lockd writes slot B (0-89 % of the install's
// progress; then it syncs and verifies), at three points: A boots,
// committed, no trial; installing again succeeds.
func cutDuringInstall(t *testing.T, u *unit) {
	install := "st\nlockctl update install " + u.b.a.bundleNames["v2"] + "; echo \"E2E-INSTALL rc=$?\"\nst; poweroff -f"
	var c *cycle
	for i, pct := range []int{10, 45, 80} {
		c = u.powerOn(install, opAt("writing", pct, 0), cycleTimeout)
		if !c.cut {
			t.Fatalf("cut %d: the install ended before %d%%\n%s", i+1, pct, c.console)
		}
		if i == 0 {
			wantBoot(t, c, "A", false, "1.0.0")
		} else {
			s := wantAtRestOnA(t, c)
			t.Logf("after the cut at %d%%: operation %s, last error %q, slot B %s", []int{10, 45, 80}[i-1], s.Operation, s.LastError, slotInfo(s, "B"))
		}
		u.wantVars(fmt.Sprintf("after the cut at %d%%", pct), [3]string{"A", "", ""})
	}
	c = u.powerOn(install, nil, cycleTimeout)
	wantAtRestOnA(t, c)
	wantMarker(t, c, "E2E-INSTALL ", "rc=0")
	s := c.status(t)
	if s.Pending == nil || s.Pending.Version != "2.0.0" || s.Pending.Slot != "B" {
		t.Fatalf("after installing again: pending %+v, want 2.0.0 in B", s.Pending)
	}
	img, err := os.ReadFile(u.b.a.slots["v2"])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(u.partition(2)[:len(img)], img) {
		t.Fatal("slot B does not hold the v2 image after the install")
	}
	u.wantVars("after the install", [3]string{"A", "", ""})
}

// wantSettled checks the end of a power-cut scenario: the unit boots a
// slot that is committed and good, with no trial armed, and exactly one
// slot committed.
func wantSettled(t *testing.T, u *unit) {
	t.Helper()
	c := u.powerOn(statusOff, nil, cycleTimeout)
	env := u.env()
	if c.slot == "" || c.trial || env["lockd_try"] != "" {
		t.Fatalf("not settled: booted %q trial=%v, uboot.env %q\n%s", c.slot, c.trial, lockdVars(env), c.console)
	}
	committed := env["lockd_slot"]
	if committed == "" {
		committed = "A"
	}
	want(t, "booted slot vs uboot.env lockd_slot", c.slot, committed)
	s := c.status(t)
	n := 0
	for _, sl := range []string{"A", "B"} {
		if s.Slots[sl]["committed"] == true {
			n++
		}
	}
	want(t, "slots committed", n, 1)
	want(t, "booted slot", slotInfo(s, c.slot), fmt.Sprintf("committed=true state=good version=%s", c.version))
	if s.Pending != nil && s.Pending.Phase != "installed" {
		t.Fatalf("pending update at rest: %+v", *s.Pending)
	}
	t.Logf("settled on %s (version %s), last error %q", c.slot, c.version, s.LastError)
}

// 5a. The power fails right after lockd armed the trial, before the
// reboot: the unit still comes up on a verified slot and settles.
func cutAfterArming(t *testing.T, u *unit) {
	c := u.powerOn(installApprove(u.b.a.bundleNames["v2"]), opAt("rebooting", -1, 0), cycleTimeout)
	wantBoot(t, c, "A", false, "1.0.0")
	if !c.cut {
		t.Fatalf("no power cut at the reboot\n%s", c.console)
	}
	t.Logf("after the cut: uboot.env %q", lockdVars(u.env()))
	c = u.powerOn(waitIdle, nil, cycleTimeout)
	t.Logf("next boot: slot %s trial=%v", c.slot, c.trial)
	wantSettled(t, u)
}

// 5b. The power fails as lockd commits the trial: delay after lockd
// signals "committing", or after it logs the commit when that signal was
// coalesced away. Where the cut lands (before, inside or after the env
// write and the state file write) is timing; the run logs what uboot.env
// held after it. Whatever it was, the unit comes up on a verified slot
// and settles on exactly one. u is a copy of scenario 1's unit after
// installAndReboot: v2 in B, the trial armed.
func cutDuringCommit(t *testing.T, u *unit, delay time.Duration) {
	u.wantVars("the copy of the armed unit", [3]string{"A", "B", strconv.Itoa(tryBoots)})
	// The guest lingers after the commit: a late cut must still come
	// before it powers off.
	committing := opAt("committing", -1, delay)
	cut := func(l string) bool {
		// lockd coalesces property signals: when "committing" is not
		// signalled, its log line after the commit is the mark.
		if strings.Contains(l, `msg="updater: committed"`) {
			time.Sleep(delay)
			return true
		}
		return committing(l)
	}
	c := u.powerOn("wait_op idle; sleep 5; "+statusOff, cut, cycleTimeout)
	wantBoot(t, c, "B", true, "2.0.0")
	if !c.cut {
		t.Fatalf("no power cut at the commit\n%s", c.console)
	}
	vars := lockdVars(u.env())
	t.Logf("cut %s after %q: uboot.env %q", delay, strings.TrimSpace(c.cutLine), vars)
	if strings.Contains(c.cutLine, "updater: committed") && vars != [3]string{"B", "", ""} {
		t.Fatalf("lockd had logged the commit, but uboot.env holds %q after the cut", vars)
	}
	// Power on until the unit settles, as it must within the trial boots
	// left: the trial commits, or the boot chain counts it out and the
	// old slot boots. Every boot must be on a verified slot.
	for i := 1; ; i++ {
		c = u.powerOn(waitIdle, nil, cycleTimeout)
		t.Logf("boot %d after the cut: slot %s trial=%v", i, c.slot, c.trial)
		wantVerified(t, c)
		if !c.trial && u.env()["lockd_try"] == "" {
			break
		}
		if i > tryBoots {
			t.Fatalf("still on trial %d boots after the cut: uboot.env %q\n%s", i, lockdVars(u.env()), c.console)
		}
	}
	wantSettled(t, u)
}

// wantVerified fails unless the booted slot runs the image installed in
// it: A the factory 1.0.0, B the update 2.0.0.
func wantVerified(t *testing.T, c *cycle) {
	t.Helper()
	if v := map[string]string{"A": "1.0.0", "B": "2.0.0"}[c.slot]; v == "" || c.version != v {
		t.Fatalf("booted slot %q runs version %q\n%s", c.slot, c.version, c.console)
	}
}

// 6. A bundle signed with the right key for another model is refused in
// the guest, and neither slot B nor uboot.env changes by a byte.
func wrongModel(t *testing.T, u *unit) {
	slotB, env := u.partition(2), u.rawEnv()
	c := u.powerOn("lockctl update install "+u.b.a.bundleNames["v2-othermodel"]+"; echo \"E2E-INSTALL rc=$?\"\n"+statusOff, nil, cycleTimeout)
	wantBoot(t, c, "A", false, "1.0.0")
	if rc, _ := c.marker("E2E-INSTALL "); rc == "rc=0" {
		t.Fatalf("the wrong-model bundle was installed\n%s", c.console)
	}
	refusal, ok := c.marker("lockctl: update install: ")
	if !ok || !strings.Contains(refusal, "incompatible") {
		t.Errorf("lockctl's refusal %q does not name the model mismatch\n%s", refusal, c.console)
	}
	s := c.status(t)
	if s.Pending != nil {
		t.Fatalf("pending update: %+v", *s.Pending)
	}
	if !bytes.Equal(slotB, u.partition(2)) {
		t.Error("slot B changed")
	}
	if !bytes.Equal(env, u.rawEnv()) {
		t.Error("uboot.env changed")
	}
	t.Logf("refused: %s", refusal)
}
