package updater

import "context"

// Withdraw discards an installed update that is not armed yet, as Reject
// does, for a party that may stop an update only until the switch: the
// fleet server's cancel (hawkbit). Once the update is armed, or while the
// switch checks the slot or reboots, it is refused with ErrBusy and
// changes nothing — unlike Reject, which the owner may use on an armed
// update whose reboot failed. With nothing pending it returns ErrNothing
// and, unlike Reject, leaves LastError alone.
func (u *Updater) Withdraw(ctx context.Context) error { return u.reject(ctx, true) }
