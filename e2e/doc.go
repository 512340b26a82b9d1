// Package e2e is lockd's real boot-chain rig (`make e2e`): the shipped
// U-Boot boot script in Debian's U-Boot for QEMU's arm64 virt board,
// Debian's arm64 kernel, a busybox initramfs, and in each root
// file-system slot lockd and lockctl cross-built for arm64 with a real
// dbus-daemon, and the kernel's own gpio-sim driver built by the rig for
// that kernel (gpiosim_test.go): on it lockd runs without --sim, through
// periph.io's gpioioctl driver, and e2e-guest board plays the world
// around the lock (gpio_test.go). One slot image boots Debian's systemd
// with lockd installed by make install (systemd_test.go). Every Linux-side step of an update (install, arm, commit,
// the report of a rollback) is lockd's own code on real block devices
// and the real uboot.env; the rig only powers the unit on, runs a script
// in it, and cuts the power.
//
// The package holds only tests; guest/ holds the guest's init scripts and
// its helper, e2e-guest (logind's stand-in, the D-Bus watch, the board).
// The assets (downloaded .deb files, extracted trees, kernel, initramfs,
// slot images, bundles) are cached under .cache/e2e of the repository,
// keyed by a hash of their inputs.
package e2e
