package hawkbit

import (
	"context"
	"net/http"
	"strconv"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/updater"
)

// deploymentFeedback is the feedback URL of action id.
func (c *Client) deploymentFeedback(id string) string {
	return c.root + "/deploymentBase/" + id + "/feedback"
}

// proceeding tells the server how the action goes; best effort.
func (c *Client) proceeding(ctx context.Context, exec, detail string) error {
	c.mu.Lock()
	a := c.st.Action
	if a == nil {
		c.mu.Unlock()
		return nil
	}
	id := a.ID
	c.mu.Unlock()
	st := ddi.Status{Execution: exec, Result: ddi.Result{Finished: ddi.FinishedNone}, Details: ddi.Details(detail)}
	return c.send(ctx, http.MethodPost, c.deploymentFeedback(id), ddi.ActionFeedback{Timestamp: c.cfg.Clock.Now().UnixMilli(), Status: st})
}

// proceedingOnce is proceeding sent once per action and key.
func (c *Client) proceedingOnce(ctx context.Context, key, exec, detail string) error {
	c.mu.Lock()
	if c.said[key] {
		c.mu.Unlock()
		return nil
	}
	c.said[key] = true
	c.mu.Unlock()
	return c.proceeding(ctx, exec, detail)
}

// fail closes the action as failed before anything was installed.
func (c *Client) fail(ctx context.Context, why string) error {
	return c.close(ctx, ddi.FinishedFailure, why, "")
}

// failRunning closes the action as failed after its install: the server
// also hears which version actually runs.
func (c *Client) failRunning(ctx context.Context, why string, s updater.Status) error {
	return c.close(ctx, ddi.FinishedFailure, why, s.Slots[s.Booted].Version)
}

// succeed closes the action as a success; only follow calls it, on the
// updater's record of the commit.
func (c *Client) succeed(ctx context.Context, detail string) error {
	return c.close(ctx, ddi.FinishedSuccess, detail, "")
}

// close records the closing feedback as owed (it survives a reboot and
// is sent until the server takes it) and sends it.
func (c *Client) close(ctx context.Context, finished, detail, running string) error {
	c.mu.Lock()
	a := c.st.Action
	if a == nil {
		c.mu.Unlock()
		return nil
	}
	a.Phase = phaseFinal
	a.Final = &ddi.Status{Execution: ddi.ExecClosed, Result: ddi.Result{Finished: finished}, Details: ddi.Details(detail)}
	a.RunningVersion = running
	c.save()
	c.mu.Unlock()
	if finished == ddi.FinishedSuccess {
		c.cfg.Log.Info("hawkbit: reporting success", "action", a.ID, "detail", detail)
	} else {
		c.cfg.Log.Warn("hawkbit: reporting failure", "action", a.ID, "detail", detail)
	}
	c.stopDownload(nil)
	c.notify()
	return c.sendOwed(ctx, ddi.ControllerBase{})
}

// sendOwed sends the closing feedback and the cancel feedback owed, and
// after a failure the version that runs (installedBase).
func (c *Client) sendOwed(ctx context.Context, _ ddi.ControllerBase) error {
	c.mu.Lock()
	cancel, cancelID := c.st.Cancel, c.st.CancelID
	a := c.st.Action
	var final *ddi.Status
	var id, name, running string
	if a != nil && a.Phase == phaseFinal {
		final, id, name, running = a.Final, a.ID, a.Name, a.RunningVersion
	}
	c.mu.Unlock()
	if cancel != nil {
		err := c.send(ctx, http.MethodPost, c.root+"/cancelAction/"+cancelID+"/feedback", ddi.ActionFeedback{Timestamp: c.cfg.Clock.Now().UnixMilli(), Status: *cancel})
		if err != nil && !gone(err) {
			return err
		}
		c.mu.Lock()
		c.st.Cancel, c.st.CancelID = nil, ""
		c.save()
		c.mu.Unlock()
	}
	if final == nil {
		return nil
	}
	err := c.send(ctx, http.MethodPost, c.deploymentFeedback(id), ddi.ActionFeedback{Timestamp: c.cfg.Clock.Now().UnixMilli(), Status: *final})
	if err != nil && !gone(err) {
		return err
	}
	if running != "" && name != "" {
		// The server must not believe the failed version runs (it would
		// mark the lock in sync): say what does.
		if err := c.send(ctx, http.MethodPut, c.root+"/installedBase", ddi.AssignedVersion{Name: name, Version: running}); err != nil {
			c.cfg.Log.Warn("hawkbit: installedBase", "err", err)
		}
	}
	c.mu.Lock()
	c.st.finish(id)
	c.st.ConfigSent = nil // the version may have changed: send configData again
	c.save()
	c.mu.Unlock()
	c.notify()
	return nil
}

// gone reports a feedback the server no longer takes (the action was
// closed or cancelled there): resending it cannot help.
func gone(err error) bool {
	he, ok := err.(*httpError)
	return ok && (he.code == http.StatusGone || he.code == http.StatusNotFound || he.code == http.StatusConflict)
}

// configStep sends configData when the server asks for it or what it
// holds changed: compatible, version, slot and security_version.
func (c *Client) configStep(ctx context.Context, base ddi.ControllerBase) error {
	s := c.cfg.Updater.Status()
	info := s.Slots[s.Booted]
	data := map[string]string{"compatible": c.cfg.Compatible, "version": info.Version, "slot": string(s.Booted),
		"security_version": strconv.FormatUint(info.SecurityVersion, 10)}
	c.mu.Lock()
	same := len(c.st.ConfigSent) == len(data)
	for k, v := range data {
		same = same && c.st.ConfigSent[k] == v
	}
	c.mu.Unlock()
	if same && base.Links[ddi.RelConfigData].Href == "" {
		return nil
	}
	if err := c.send(ctx, http.MethodPut, c.root+"/configData", ddi.ConfigData{Mode: "merge", Data: data}); err != nil {
		return err
	}
	c.mu.Lock()
	c.st.ConfigSent = data
	c.save()
	c.mu.Unlock()
	return nil
}
