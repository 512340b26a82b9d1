package updater

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// tick is how often Run looks at the trial gate and the reboot policy.
const tick = time.Second

// Run proves a trial boot and carries out the reboot policy until ctx
// ends. It returns nil then.
func (u *Updater) Run(ctx context.Context) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		u.step(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-u.approve:
		}
	}
}

// step is one look at the trial gate or the pending update.
func (u *Updater) step(ctx context.Context) {
	u.mu.Lock()
	broken, trial, trialBroken := u.broken != nil, u.trial, u.trialBroken
	u.trial = u.trial && !trialBroken // give up once
	reason := ""
	if trialBroken && trial {
		reason = "updater unavailable on a trial boot: " + u.broken.Error()
	}
	u.mu.Unlock()
	switch {
	case reason != "":
		u.log.Error("updater: giving up the trial", "reason", reason)
		if u.cfg.GiveUp != nil {
			u.cfg.GiveUp(reason)
		}
	case broken:
	case trial:
		u.trialStep(ctx)
	default:
		u.pendingStep(ctx)
	}
}

// trialStep commits once lockd has been healthy for CommitAfter without a
// break, and gives the trial up when TrialTimeout passes first.
func (u *Updater) trialStep(ctx context.Context) {
	now := u.cfg.Now()
	var herr error = errors.New("no health check configured")
	if u.cfg.Health != nil {
		herr = u.cfg.Health()
	}
	u.mu.Lock()
	if herr != nil {
		u.healthy = time.Time{}
	} else if u.healthy.IsZero() {
		u.healthy = now
	}
	healthySince, from := u.healthy, u.trialFrom
	// Waiting says when the trial commits, as a moment that stays the same
	// while lockd stays healthy: one property change per change of health,
	// and the client counts the seconds down itself.
	why := trialWaiting(herr, healthySince.Add(u.cfg.CommitAfter))
	changed := u.waiting != why
	u.waiting = why
	u.mu.Unlock()
	if changed {
		u.notify()
	}
	if !healthySince.IsZero() && now.Sub(healthySince) >= u.cfg.CommitAfter {
		err := u.commit(ctx)
		if err == nil {
			return
		}
		u.log.Error("updater: commit failed; will retry", "err", err)
		// A commit that keeps failing (an unwritable environment) must
		// not leave the unit on an uncommitted trial for ever: past the
		// trial's deadline it is given up like an unhealthy one, and the
		// boot chain counts it.
		herr = fmt.Errorf("commit failed: %w", err)
	}
	if now.Sub(from) >= u.cfg.TrialTimeout {
		reason := fmt.Sprintf("trial of slot %s not healthy within %s", u.booted, u.cfg.TrialTimeout)
		if herr != nil {
			reason += ": " + herr.Error()
		}
		u.log.Error("updater: giving up the trial", "reason", reason)
		u.mu.Lock()
		u.trial = false // once
		u.op, u.waiting = "trial-failed", ""
		u.mu.Unlock()
		u.notify()
		if u.cfg.GiveUp != nil {
			u.cfg.GiveUp(reason)
		}
	}
}

// TrialCommitsAt starts Status.Waiting during a healthy trial; an RFC 3339
// time follows: when the trial commits if lockd stays healthy.
const TrialCommitsAt = "healthy running; the trial commits at "

// trialWaiting is Status.Waiting during a trial.
func trialWaiting(health error, commitAt time.Time) string {
	if health != nil {
		return "lockd to be healthy (" + health.Error() + ") before the trial can commit"
	}
	return TrialCommitsAt + commitAt.UTC().Format(time.RFC3339)
}

// commit makes the trial slot the committed one: the bootloader first
// (one write), then the state file.
func (u *Updater) commit(ctx context.Context) error {
	u.setOp("committing", 0)
	if err := u.cfg.Bootloader.Commit(ctx, u.booted); err != nil {
		u.setOp("trial", 0)
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.state.clone()
	if s.Pending == nil {
		s.Pending = &Pending{Slot: u.booted, Version: u.cfg.BootedVersion}
	}
	version := s.Pending.Version
	u.finishCommit(s)
	// The slot we came from stays good: it is the known-good fallback
	// until the next install overwrites it.
	u.trial = false
	u.committed = u.booted
	u.op, u.waiting = "idle", ""
	if err := u.save(s); err != nil {
		// The bootloader is committed: the next start finishes the state.
		u.log.Error("updater: committed, but the state file was not updated", "err", err)
	}
	u.log.Info("updater: committed", "slot", u.booted, "version", version)
	u.emit(Event{Kind: "update-committed", Version: version, Slot: u.booted})
	u.notify()
	return nil
}

// pendingStep reboots into an installed update when the policy and the
// lock allow it.
func (u *Updater) pendingStep(ctx context.Context) {
	u.mu.Lock()
	p := u.state.Pending
	op := u.op
	if p == nil || (op != "pending" && op != "armed") {
		u.waiting = ""
		u.mu.Unlock()
		return
	}
	pend := *p
	u.mu.Unlock()
	why := u.policyWait(pend)
	if why == "" && u.cfg.Quiet != nil {
		why = u.cfg.Quiet()
	}
	u.mu.Lock()
	changed := u.waiting != why
	u.waiting = why
	u.mu.Unlock()
	if changed {
		u.notify()
	}
	if why != "" {
		return
	}
	if !u.claimSwitch(pend) {
		// An install, a reject or an approval came while Quiet was
		// asked: the next step looks again.
		return
	}
	if err := u.switchAndReboot(ctx, pend); err != nil {
		u.log.Error("updater: switch to the new slot failed", "err", err)
		u.mu.Lock()
		s := u.state.clone()
		s.LastError = err.Error()
		_ = u.save(s)
		u.mu.Unlock()
	}
}

// policyWait says what the owner's policy still waits for, or "".
func (u *Updater) policyWait(p Pending) string {
	if p.Approved || u.cfg.Policy == RebootAuto {
		return ""
	}
	if u.cfg.Policy == RebootWindow {
		now := u.cfg.Now()
		m := now.Hour()*60 + now.Minute()
		from, to := u.cfg.Window[0], u.cfg.Window[1]
		in := (from <= to && m >= from && m < to) || (from > to && (m >= from || m < to))
		if in {
			return ""
		}
		return fmt.Sprintf("the maintenance window %02d:%02d-%02d:%02d (or approval)", from/60, from%60, to/60, to%60)
	}
	return "approval (lockctl update approve)"
}

// claimSwitch takes the pending update p, which pendingStep saw before it
// let go of the lock, for the switch: only if it is still the same pending
// update and nothing else runs. From then until the switch ends the
// operation is "checking" or "rebooting", and Install and Reject are
// refused, so neither can change the slot or the state under the switch.
func (u *Updater) claimSwitch(p Pending) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	cur := u.state.Pending
	if cur == nil || (u.op != "pending" && u.op != "armed") || !samePending(*cur, p) {
		return false
	}
	if cur.Phase == PhaseArmed && cur.ArmedBoot == u.bootID {
		u.op, u.progress = "rebooting", 0
	} else {
		u.op, u.progress = "checking", 0
	}
	u.notify()
	return true
}

// samePending reports whether a and b are the same installed update.
func samePending(a, b Pending) bool {
	return a.Slot == b.Slot && a.Version == b.Version && a.Installed.Equal(b.Installed)
}

// switchAndReboot re-verifies the slot after a reboot since the install,
// writes "armed" to the state file, arms the bootloader in one write and
// reboots. The caller has claimed p (claimSwitch).
func (u *Updater) switchAndReboot(ctx context.Context, p Pending) error {
	u.mu.Lock()
	info := u.state.Slots[p.Slot]
	armedHere := p.Phase == PhaseArmed && p.ArmedBoot == u.bootID
	u.mu.Unlock()
	if !armedHere {
		// Only a verified slot may be switched to: hash it again, since
		// nothing guards an unmounted partition between boots.
		d, err := u.st.Open(u.cfg.Slots[p.Slot], os.O_RDONLY, 0)
		if err != nil {
			u.setOp("pending", 0)
			return fmt.Errorf("updater: check slot: %w", err)
		}
		err = verifySlot(ctx, d, info.Size, info.SHA256, func(pct int) { u.setOp("checking", pct) })
		d.Close()
		if err != nil {
			u.markBad(p, "slot "+string(p.Slot)+" changed after install: "+err.Error())
			return err
		}
		u.mu.Lock()
		if cur := u.state.Pending; cur == nil || !samePending(*cur, p) {
			// claimSwitch keeps Install and Reject out; should anything
			// still have changed the update, arm nothing.
			u.op = "idle"
			u.mu.Unlock()
			u.notify()
			return errors.New("updater: the pending update changed while its slot was checked; nothing was armed")
		}
		s := u.state.clone()
		s.Pending.Phase, s.Pending.ArmedBoot = PhaseArmed, u.bootID
		s.record(Record{Time: u.cfg.Now(), Event: "armed", Slot: p.Slot, Version: p.Version})
		err = u.save(s)
		u.mu.Unlock()
		if err != nil {
			u.setOp("pending", 0)
			return err
		}
		if err := u.cfg.Bootloader.Arm(ctx, p.Slot, u.cfg.TryBoots); err != nil {
			// Not armed: back to installed so the next try starts over.
			u.mu.Lock()
			s := u.state.clone()
			s.Pending.Phase, s.Pending.ArmedBoot = PhaseInstalled, ""
			_ = u.save(s)
			u.op = "pending"
			u.mu.Unlock()
			return err
		}
		u.emit(Event{Kind: "update-armed", Version: p.Version, Slot: p.Slot})
	}
	u.setOp("rebooting", 0)
	u.log.Info("updater: rebooting into the trial", "slot", p.Slot, "version", p.Version)
	if u.cfg.Reboot == nil {
		u.setOp("armed", 0)
		return errors.New("updater: no way to reboot configured; the trial runs at the next boot")
	}
	if err := u.cfg.Reboot(ctx, u.cfg.Bootloader.RebootParam()); err != nil {
		u.setOp("armed", 0)
		return fmt.Errorf("updater: reboot: %w", err)
	}
	return nil
}

// markBad records that a pending slot can no longer be trusted.
func (u *Updater) markBad(p Pending, why string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.state.clone()
	s.Slots[p.Slot] = SlotInfo{State: SlotBad, Version: p.Version}
	s.Pending = nil
	s.LastError = why
	s.record(Record{Time: u.cfg.Now(), Event: "failed", Slot: p.Slot, Version: p.Version, Detail: why})
	u.op = "idle"
	if err := u.save(s); err != nil {
		u.log.Error("updater: cannot record a bad slot", "err", err)
	}
	u.emit(Event{Kind: "update-failed", Version: p.Version, Slot: p.Slot, Detail: why})
}

// Approve lets a pending update reboot as soon as the lock allows. While
// an install runs it is refused with ErrBusy: the update it would approve
// is about to be replaced, and the owner may believe it approves the new
// one.
func (u *Updater) Approve(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.broken != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, u.broken)
	}
	if err := u.admit(cmdApprove); err != nil {
		return err
	}
	p := u.state.Pending
	if p == nil || u.trial {
		return ErrNothing
	}
	if !p.Approved {
		s := u.state.clone()
		s.Pending.Approved = true
		s.record(Record{Time: u.cfg.Now(), Event: "approved", Slot: p.Slot, Version: p.Version})
		if err := u.save(s); err != nil {
			return err
		}
	}
	select {
	case u.approve <- struct{}{}:
	default:
	}
	return nil
}

// Reject discards a pending update: an installed one is forgotten (the
// slot is marked empty), an armed one is disarmed first. With nothing
// pending it acknowledges the last failure: LastError is cleared. A trial
// that is running cannot be rejected; it commits or falls back by itself.
// While an install or the switch runs, Reject is refused with ErrBusy and
// changes nothing (see admit).
func (u *Updater) Reject(ctx context.Context) error { return u.reject(ctx, false) }

// reject is Reject; withdraw is Withdraw.
func (u *Updater) reject(ctx context.Context, withdraw bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.broken != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, u.broken)
	}
	if err := u.admit(cmdReject); err != nil {
		return err
	}
	p := u.state.Pending
	if withdraw {
		if p == nil {
			return ErrNothing
		}
		if p.Phase == PhaseArmed || u.op != "pending" {
			return fmt.Errorf("%w: update %s is armed for the next boot (%s); it can no longer be withdrawn", ErrBusy, p.Version, u.op)
		}
	}
	if p == nil && u.state.LastError != "" {
		// Nothing to discard: the owner has read the report of the last
		// failure, which clears it (and the warning on the LEDs).
		s := u.state.clone()
		s.record(Record{Time: u.cfg.Now(), Event: "acknowledged", Detail: s.LastError})
		s.LastError = ""
		return u.save(s)
	}
	if p == nil {
		return ErrNothing
	}
	if u.trial {
		return fmt.Errorf("%w: update %s is on trial now; it commits or falls back by itself", ErrBusy, p.Version)
	}
	if p.Phase == PhaseArmed {
		if err := u.cfg.Bootloader.Disarm(ctx); err != nil {
			return err
		}
	}
	s := u.state.clone()
	s.Slots[p.Slot] = SlotInfo{State: SlotEmpty}
	s.Pending = nil
	s.record(Record{Time: u.cfg.Now(), Event: "rejected", Slot: p.Slot, Version: p.Version})
	u.op, u.waiting = "idle", ""
	if err := u.save(s); err != nil {
		return err
	}
	u.emit(Event{Kind: "update-rejected", Version: p.Version, Slot: p.Slot})
	return nil
}
