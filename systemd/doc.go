// Package systemd holds lockd's system integration files; it has no Go
// code. Its test checks the files with the tools that will read them.
//
//   - lockd.service: the unit, installed as
//     /usr/lib/systemd/system/lockd.service. Kept at a
//     `systemd-analyze security` exposure of 2.0 or better.
//   - lockd.toml: the example configuration, installed as
//     /etc/lockd/lockd.toml.
//   - lockd.sysusers: the lockd user and the gpio and lockd-admin groups,
//     installed as /usr/lib/sysusers.d/lockd.conf.
//   - 60-lockd-gpio.rules: gives group gpio the GPIO character devices,
//     installed in /usr/lib/udev/rules.d/.
package systemd
