// Package hawkbit is lockd's client of an Eclipse hawkBit server's Direct
// Device Integration API (hawkbit/ddi): it polls at the server's period
// with jitter and backs off with jitter on errors (honouring
// Retry-After); takes a deployment's bundle through the updater's
// InstallSource, streamed over HTTPS (updater/httpsource), under the same
// checks as a local bundle; maps the server's confirmation flow to the
// owner's approval; honours cancelAction until the update is armed and
// refuses it after; and reports what the updater did, as the updater
// recorded it: finished=success only once the updater's history says the
// trial committed on the new slot, failure with the updater's reason
// after a rollback, with the version actually running in configData and
// installedBase.
//
// The client never reboots the lock and never gets around the owner: a
// pending update reboots through the updater's policy and its Quiet gate
// alone; the server's maintenance window can only add to what the reboot
// waits for (Client.Hold), and its "forced" changes nothing. What must
// survive a reboot (the action, the report owed) is in one state file,
// replaced atomically.
package hawkbit
