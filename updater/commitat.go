package updater

import "time"

// TrialCommitsAt returns when the running trial commits if lockd stays
// healthy until then: the moment Waiting names in words, for clients that
// count it down (D-Bus Update1.TrialCommitsAt). It is zero when no trial
// runs or lockd is not healthy yet. It changes only with the health, and
// Changed is signalled then.
func (u *Updater) TrialCommitsAt() time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.trial || u.healthy.IsZero() {
		return time.Time{}
	}
	return u.healthy.Add(u.cfg.CommitAfter)
}
