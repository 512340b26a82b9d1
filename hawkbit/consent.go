package hawkbit

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/updater"
)

// ErrNoConsentAsked: no action waits for the owner's consent.
var ErrNoConsentAsked = errors.New("hawkbit: no update of the fleet server waits for approval")

// consentStep handles an action the server asks the device to confirm.
// With the owner's policy "approve", the owner decides (Decide, through
// `lockctl update approve` or `reject`); with "window" or "auto" the
// owner has consented to updates already and the client confirms it. The
// decision, once taken, is sent until the server has it.
func (c *Client) consentStep(ctx context.Context, base ddi.ControllerBase) error {
	c.mu.Lock()
	a := c.st.Action
	c.mu.Unlock()
	if a != nil && (a.Phase == phaseConsented || a.Phase == phaseDenied) {
		return c.sendConsent(ctx)
	}
	link := base.Links[ddi.RelConfirmationBase].Href
	if link == "" {
		return nil
	}
	var ca ddi.ConfirmationAction
	if err := c.get(ctx, link, &ca); err != nil {
		return err
	}
	c.mu.Lock()
	switch {
	case c.st.done(ca.ID):
		c.mu.Unlock()
		return nil
	case a != nil && a.ID != ca.ID && a.Phase != phaseConsent && a.Phase != phaseNew:
		c.mu.Unlock()
		return nil // another action is under way
	case a == nil || a.ID != ca.ID:
		name, version := chunkOf(ca.Confirmation)
		c.st.Action = &action{ID: ca.ID, Name: name, Version: version, Phase: phaseConsent}
		c.said = map[string]bool{}
		c.save()
		c.cfg.Log.Info("hawkbit: the fleet server offers an update that waits for consent", "action", ca.ID, "version", version)
	}
	c.mu.Unlock()
	c.notify()
	if c.cfg.Policy != updater.RebootApprove {
		return c.decide(ctx, true, "the owner's reboot policy is "+c.cfg.Policy+": updates are consented to")
	}
	return nil
}

// Decide records the owner's decision on the action that waits for
// consent, and has Run send it at once. Approval also approves the
// reboot into that update once it is installed.
func (c *Client) Decide(ctx context.Context, approve bool) error {
	return c.decide(ctx, approve, "")
}

func (c *Client) decide(ctx context.Context, approve bool, why string) error {
	c.mu.Lock()
	a := c.st.Action
	if a == nil || a.Phase != phaseConsent {
		c.mu.Unlock()
		return ErrNoConsentAsked
	}
	if approve {
		a.Phase, a.Consent = phaseConsented, true
	} else {
		a.Phase = phaseDenied
	}
	c.save()
	c.mu.Unlock()
	c.cfg.Log.Info("hawkbit: consent", "action", a.ID, "approved", approve, "why", why)
	c.notify()
	c.poke()
	return nil
}

// sendConsent sends the recorded decision.
func (c *Client) sendConsent(ctx context.Context) error {
	c.mu.Lock()
	a := *c.st.Action
	c.mu.Unlock()
	fb := ddi.ConfirmationFeedback{Confirmation: ddi.Confirmed, Details: ddi.Details("approved by the lock's owner")}
	if a.Phase == phaseDenied {
		fb = ddi.ConfirmationFeedback{Confirmation: ddi.Denied, Details: ddi.Details("rejected by the lock's owner")}
	}
	err := c.send(ctx, http.MethodPost, c.root+"/confirmationBase/"+a.ID+"/feedback", fb)
	if err != nil && !gone(err) {
		return fmt.Errorf("hawkbit: consent for action %s: %w", a.ID, err)
	}
	c.mu.Lock()
	if cur := c.st.Action; cur != nil && cur.ID == a.ID {
		if a.Phase == phaseDenied {
			c.st.finish(a.ID)
		} else {
			cur.Phase = phaseNew // the deployment comes next
		}
		c.save()
	}
	c.mu.Unlock()
	c.notify()
	return nil
}

// WaitingConsent says, for Update1's Waiting, which update of the fleet
// server waits for the owner's approval; "" when none.
func (c *Client) WaitingConsent() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.st.Action; a != nil && a.Phase == phaseConsent {
		return fmt.Sprintf("approval (lockctl update approve) to install update %s from the fleet server (action %s)", a.Version, a.ID)
	}
	return ""
}
