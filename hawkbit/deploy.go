package hawkbit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/httpsource"
)

// deploymentStep reads the deployment the server offers, if any, and
// installs it when the updater is free and the server lets it download.
func (c *Client) deploymentStep(ctx context.Context, base ddi.ControllerBase) error {
	link := base.Links[ddi.RelDeploymentBase].Href
	if link == "" {
		c.setHold("")
		return nil
	}
	var d ddi.DeploymentBase
	if err := c.get(ctx, link, &d); err != nil {
		return err
	}
	c.setHold(holdOf(d.Deployment))
	c.mu.Lock()
	a := c.st.Action
	switch {
	case c.st.done(d.ID):
		// Finished here; the server has not heard it yet (sendOwed).
		c.mu.Unlock()
		return nil
	case a != nil && a.ID != d.ID && a.Phase != phaseConsent && a.Phase != phaseNew:
		// Another action is under way; this one waits for it to end.
		c.mu.Unlock()
		return nil
	case a == nil || a.ID != d.ID:
		name, version := chunkOf(d.Deployment)
		a = &action{ID: d.ID, Name: name, Version: version, Phase: phaseNew}
		c.st.Action = a
		c.said = map[string]bool{}
		c.save()
	}
	phase := a.Phase
	c.mu.Unlock()
	if phase != phaseNew && phase != phaseConsented {
		return nil
	}
	if d.Deployment.Download == ddi.HandlingSkip {
		return c.proceeding(ctx, ddi.ExecScheduled, "the server asks to wait before downloading")
	}
	return c.install(ctx, link, d)
}

// holdOf is what the deployment makes a pending update's reboot wait
// for: the server's maintenance window, or its "update: skip".
func holdOf(d ddi.Deployment) string {
	switch {
	case d.MaintenanceWindow == ddi.WindowUnavailable:
		return "the fleet server's maintenance window"
	case d.Update == ddi.HandlingSkip:
		return "the fleet server to let the update go ahead"
	}
	return ""
}

func (c *Client) setHold(h string) {
	c.mu.Lock()
	changed := c.hold != h
	c.hold = h
	c.mu.Unlock()
	if changed {
		c.notify()
	}
}

// Hold says what a pending update's reboot must also wait for, on the
// server's word: its maintenance window, or "" when it allows the update.
// cmd/lockd adds it to the updater's Quiet, so the server can delay a
// reboot and never bring one about.
func (c *Client) Hold() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.Action == nil {
		return ""
	}
	return c.hold
}

// chunkOf is the name and version of the deployment's first chunk.
func chunkOf(d ddi.Deployment) (name, version string) {
	ch := d.Chunks[0] // Validate: at least one
	return ch.Name, ch.Version
}

// artifact picks the bundle among the deployment's artifacts: the one
// whose name ends in .bundle, else the only one; and its link: HTTPS when
// the server is HTTPS (never plain HTTP then), either one otherwise.
func (c *Client) artifact(d ddi.Deployment) (string, error) {
	var all []ddi.Artifact
	for _, ch := range d.Chunks {
		all = append(all, ch.Artifacts...)
	}
	var pick *ddi.Artifact
	for i, a := range all {
		if strings.HasSuffix(a.Filename, ".bundle") {
			pick = &all[i]
			break
		}
	}
	if pick == nil && len(all) == 1 {
		pick = &all[0]
	}
	if pick == nil {
		return "", fmt.Errorf("hawkbit: the deployment has %d artifacts and none is a .bundle", len(all))
	}
	rels := []string{ddi.RelDownload}
	if c.orig.Scheme == "http" {
		rels = append(rels, ddi.RelDownloadHTTP)
	}
	for _, rel := range rels {
		if href := pick.Links[rel].Href; href != "" {
			return href, nil
		}
	}
	return "", fmt.Errorf("hawkbit: artifact %q has no %s link", pick.Filename, strings.Join(rels, " or "))
}

// install starts the install of the deployment's bundle; the updater
// writes it in the background, and follow reports it.
func (c *Client) install(ctx context.Context, link string, d ddi.DeploymentBase) error {
	href, err := c.artifact(d.Deployment)
	if err != nil {
		return c.fail(ctx, err.Error())
	}
	st := c.cfg.Updater.Status()
	c.mu.Lock()
	a := c.st.Action
	a.Phase, a.Bundle, a.Slot = phaseInstalling, "", ""
	a.Marker = nil
	if n := len(st.History); n > 0 {
		m := st.History[n-1]
		a.Marker = &m
	}
	a.Attempts++
	attempt := a.Attempts
	c.progress = -1
	c.save()
	c.mu.Unlock()
	_ = c.proceeding(ctx, ddi.ExecDownload, fmt.Sprintf("downloading and installing %s (attempt %d)", httpsource.Redact(href), attempt))
	// The token goes with the download only to the DDI server itself.
	var header http.Header
	if _, err := c.sameOrigin(href); err == nil && c.cfg.Authorization != "" {
		header = http.Header{"Authorization": {c.cfg.Authorization}}
	}
	dctx, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	c.mu.Lock()
	c.stopDL = stop
	c.mu.Unlock()
	src, err := c.cfg.Open(dctx, href, header)
	if err == nil {
		err = c.cfg.Updater.InstallSource(ctx, src, updater.InstallOptions{})
	}
	if err == nil {
		c.notify()
		return nil
	}
	stop(err)
	switch {
	case bundle.Refused(err):
		// A wrong-model, unsigned or corrupt bundle: no retry can help.
		return c.fail(ctx, "the bundle was refused: "+err.Error())
	case errors.Is(err, updater.ErrBusy):
		// The owner's install, or a trial, runs: try again later.
		c.mu.Lock()
		c.st.Action.Phase = phaseNew
		c.st.Action.Attempts--
		c.save()
		c.mu.Unlock()
		return c.proceeding(ctx, ddi.ExecProceeding, "waiting: "+err.Error())
	}
	return c.attemptFailed(ctx, err.Error())
}

// attemptFailed counts a failed install of the action: a later poll
// tries again (the download resuming from what the slot holds) until
// MaxAttempts, then the action is reported failed.
func (c *Client) attemptFailed(ctx context.Context, why string) error {
	c.mu.Lock()
	a := c.st.Action
	if a == nil {
		c.mu.Unlock()
		return nil
	}
	if a.Attempts >= c.cfg.MaxAttempts {
		c.mu.Unlock()
		return c.fail(ctx, fmt.Sprintf("install failed %d times; the last: %s", a.Attempts, why))
	}
	a.Phase = phaseNew
	c.save()
	c.mu.Unlock()
	return c.proceeding(ctx, ddi.ExecProceeding, fmt.Sprintf("install attempt %d failed, will try again: %s", a.Attempts, why))
}

// stopDownload ends the running download, if any, with cause.
func (c *Client) stopDownload(cause error) {
	c.mu.Lock()
	stop := c.stopDL
	c.stopDL = nil
	c.mu.Unlock()
	if stop != nil {
		stop(cause)
	}
}
