package hawkbit

import (
	"context"
	"errors"
	"fmt"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/updater"
)

// errCancelled ends a download the server cancelled: it is the reason
// the updater records for the failed install.
var errCancelled = errors.New("the fleet server cancelled the update")

// armedOps are the updater's operations from the switch on: the update
// can no longer be taken back.
var armedOps = map[string]bool{"checking": true, "armed": true, "rebooting": true, "trial": true, "committing": true, "trial-failed": true}

// cancelStep answers the server's cancelAction: an action not yet armed
// is stopped (the download ended, or the pending update withdrawn) and
// the cancel confirmed; an armed one, or one on trial, goes on, and the
// cancel is rejected, since only the boot chain may end a trial.
func (c *Client) cancelStep(ctx context.Context, base ddi.ControllerBase) error {
	link := base.Links[ddi.RelCancelAction].Href
	if link == "" {
		return nil
	}
	var cc ddi.Cancel
	if err := c.get(ctx, link, &cc); err != nil {
		return err
	}
	cancelID := cc.ID
	if !ddi.ValidID(cancelID) {
		return fmt.Errorf("hawkbit: cancelAction id %.70q", cancelID)
	}
	stop := cc.CancelAction.StopID
	c.mu.Lock()
	a := c.st.Action
	phase := ""
	if a != nil && a.ID == stop {
		phase = a.Phase
	}
	c.mu.Unlock()
	s := c.cfg.Updater.Status()
	var st ddi.Status
	switch {
	case phase == phaseFinal:
		// Its result is owed already; the cancel comes too late.
		st = rejected("the update has ended here already; its result follows")
	case phase == phaseInstalled && (armedOps[s.Operation] || (s.Pending != nil && s.Pending.Phase == updater.PhaseArmed)):
		st = rejected(fmt.Sprintf("update %s is armed (%s): only its health-gated trial or the boot chain's fallback ends it now", s.Pending.Version, s.Operation))
	case phase == phaseInstalled:
		if err := c.cfg.Updater.Withdraw(ctx); err != nil && !errors.Is(err, updater.ErrNothing) {
			st = rejected("the update could not be withdrawn: " + err.Error())
			break
		}
		st = closedOK("the pending update was withdrawn; slot " + a.Slot + " is empty again")
	case phase == phaseInstalling:
		c.stopDownload(errCancelled)
		st = closedOK("the download was stopped")
	default:
		st = closedOK("nothing of this action runs here")
	}
	c.mu.Lock()
	if st.Execution == ddi.ExecClosed && c.st.Action != nil && c.st.Action.ID == stop {
		c.st.finish(stop)
	}
	c.st.Cancel, c.st.CancelID = &st, cancelID
	c.save()
	c.mu.Unlock()
	c.cfg.Log.Info("hawkbit: cancel", "action", stop, "answer", st.Execution, "detail", st.Details)
	c.notify()
	return c.sendOwed(ctx, base)
}

func closedOK(detail string) ddi.Status {
	return ddi.Status{Execution: ddi.ExecClosed, Result: ddi.Result{Finished: ddi.FinishedSuccess}, Details: ddi.Details(detail)}
}

func rejected(detail string) ddi.Status {
	return ddi.Status{Execution: ddi.ExecRejected, Result: ddi.Result{Finished: ddi.FinishedNone}, Details: ddi.Details(detail)}
}
