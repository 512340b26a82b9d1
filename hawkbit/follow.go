package hawkbit

import (
	"context"
	"fmt"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/updater"
)

// installingOps are the updater's operations while it installs.
var installingOps = map[string]bool{"verifying": true, "writing": true, "syncing": true}

// following reports whether an install or a trial of the action runs, to
// be looked at more often than the server is polled.
func (c *Client) following() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.st.Action
	return a != nil && (a.Phase == phaseInstalling || a.Phase == phaseInstalled)
}

// after returns the history records that follow marker (all of them if
// marker is nil or has been pruned away).
func after(h []updater.Record, marker *updater.Record) []updater.Record {
	if marker == nil {
		return h
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i] == *marker {
			return h[i+1:]
		}
	}
	return h
}

// follow reads the updater's status and history and tells the server what
// they say about the action. The history is the only evidence: success
// is its "committed" record of the installed version, written by the
// updater after the health-gated commit on the new slot.
func (c *Client) follow(ctx context.Context) {
	c.mu.Lock()
	a := c.st.Action
	if a == nil || (a.Phase != phaseInstalling && a.Phase != phaseInstalled) {
		c.mu.Unlock()
		return
	}
	cp := *a
	c.mu.Unlock()
	s := c.cfg.Updater.Status()
	for _, r := range after(s.History, cp.Marker) {
		switch {
		case r.Event == "installed" && cp.Bundle == "":
			cp.Bundle, cp.Slot, cp.Phase = r.Version, string(r.Slot), phaseInstalled
			c.update(func(a *action) { a.Bundle, a.Slot, a.Phase = cp.Bundle, cp.Slot, cp.Phase })
			c.stopDownload(nil)
			_ = c.proceedingOnce(ctx, "installed", ddi.ExecDownloaded, fmt.Sprintf("update %s installed in slot %s; the lock reboots into it when its owner's policy and its state allow", r.Version, r.Slot))
			if cp.Consent {
				// The owner approved this action through the confirmation
				// flow: that approval is the reboot's too.
				if err := c.cfg.Updater.Approve(ctx); err != nil {
					c.cfg.Log.Warn("hawkbit: approving the consented update", "err", err)
				}
			}
		case r.Event == "failed" && cp.Bundle == "":
			c.stopDownload(nil)
			_ = c.attemptFailed(ctx, r.Detail)
			return
		case cp.Bundle == "" || r.Version != cp.Bundle:
		case r.Event == "armed":
			_ = c.proceedingOnce(ctx, "armed", ddi.ExecProceeding, fmt.Sprintf("slot %s armed for a trial boot; rebooting", r.Slot))
		case r.Event == "committed" && string(r.Slot) == cp.Slot && s.Booted == r.Slot && s.Committed == r.Slot:
			_ = c.succeed(ctx, fmt.Sprintf("update %s committed on slot %s after its health-gated trial", r.Version, r.Slot))
			return
		case r.Event == "rolled-back" || r.Event == "failed":
			_ = c.failRunning(ctx, r.Detail, s)
			return
		case r.Event == "rejected":
			_ = c.failRunning(ctx, "the lock's owner rejected the update", s)
			return
		case r.Event == "replaced":
			_ = c.failRunning(ctx, "replaced by another install on the lock: "+r.Detail, s)
			return
		}
	}
	switch {
	case cp.Phase == phaseInstalling && installingOps[s.Operation]:
		c.reportProgress(ctx, s.Operation, s.Progress)
	case cp.Phase == phaseInstalled && s.Operation == "trial" && string(s.Booted) == cp.Slot:
		_ = c.proceedingOnce(ctx, "trial", ddi.ExecProceeding, fmt.Sprintf("booted slot %s on trial; it commits once lockd has been healthy long enough", cp.Slot))
	case cp.Phase == phaseInstalling && !installingOps[s.Operation] && len(after(s.History, cp.Marker)) == 0:
		// The updater is at rest and recorded nothing: the install never
		// began here (a power cut before its first record); try again.
		c.stopDownload(nil)
		_ = c.attemptFailed(ctx, "the install was interrupted")
	}
}

// followStep is follow as a step of poll.
func (c *Client) followStep(ctx context.Context, _ ddi.ControllerBase) error {
	c.follow(ctx)
	return nil
}

// update changes the stored action under the lock and saves it.
func (c *Client) update(fn func(*action)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.Action != nil {
		fn(c.st.Action)
		c.save()
	}
}

// reportProgress sends the install's progress in tenths.
func (c *Client) reportProgress(ctx context.Context, op string, pct int) {
	c.mu.Lock()
	tenth := pct / 10
	if tenth == c.progress {
		c.mu.Unlock()
		return
	}
	c.progress = tenth
	id := c.st.Action.ID
	c.mu.Unlock()
	st := ddi.Status{Execution: ddi.ExecProceeding, Result: ddi.Result{Finished: ddi.FinishedNone, Progress: &ddi.Progress{Cnt: pct, Of: 100}},
		Details: ddi.Details(fmt.Sprintf("%s: %d %%", op, pct))}
	if err := c.send(ctx, "POST", c.deploymentFeedback(id), ddi.ActionFeedback{Timestamp: c.cfg.Clock.Now().UnixMilli(), Status: st}); err != nil {
		c.cfg.Log.Warn("hawkbit: progress feedback", "err", err)
	}
}
