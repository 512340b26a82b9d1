// Package updater installs signed update bundles into the inactive A/B slot,
// arms a trial boot, commits the trial once lockd has proved itself healthy,
// and notices when the boot chain fell back to the old slot.
//
// The boot chain is reached through the Bootloader interface; its backends
// are updater/uboot (U-Boot env, libubootenv format), updater/tryboot
// (Raspberry Pi firmware autoboot.txt) and updater/bootsim (a file-backed
// U-Boot env plus Boot, the boot-script rule, for --sim and tests).
//
// What the updater knows across reboots lives in one state file on the data
// partition, replaced atomically (temporary file, fsync, rename, fsync of
// the directory) before every step that crosses a reboot. Every write —
// slot, state file, bootloader environment — goes through a
// ubootenv.Storage, so a test can cut the power after any single one.
//
// The order of the writes is what makes a power cut harmless:
//
//	install: state (target slot "empty") → slot bytes → fdatasync →
//	         read-back hash → state (target "installed", pending)
//	switch:  state (pending "armed", this boot's id) → bootloader Arm
//	         (one write) → reboot
//	commit:  bootloader Commit (one write) → state (slot good, history)
//	fallback: state (slot bad, history, last error) → bootloader Disarm
//
// A cut before Arm leaves the old slot committed with no trial; after it,
// the boot chain boots the trial or, once the trial is spent, the old slot.
package updater
