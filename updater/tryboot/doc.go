// Package tryboot is the Raspberry Pi firmware backend of
// updater.Bootloader: it owns autoboot.txt on the first FAT partition and
// reads the firmware's tryboot flag.
//
// With A/B partitions autoboot.txt looks like
//
//	[all]
//	tryboot_a_b=1
//	boot_partition=2
//	[tryboot]
//	boot_partition=3
//
// A normal boot uses the boot_partition of [all]: that is the committed
// slot. A reboot with the firmware's one-shot tryboot flag (`reboot "0
// tryboot"`, RebootParam) also applies the [tryboot] section, so its
// boot_partition wins: that is the trial slot, armed when it differs from
// the committed one. tryboot_a_b=1 makes the firmware switch whole
// partitions (it loads config.txt, not tryboot.txt, from the trial
// partition); Arm adds it when it is missing.
//
// The firmware clears the flag before it starts the trial, so whatever
// ends the trial boot — a reboot, the watchdog, a crash, a power cut —
// boots the committed slot again. That is the fallback, and its limits:
//
//   - The firmware tries once. Arm accepts any tries >= 1 and State reports
//     TriesLeft 1 while armed, 0 otherwise; there is no counter to read.
//   - The firmware records nothing when a trial ends. A booted system
//     learns that it is the trial from the flag the firmware passes in the
//     device tree (/proc/device-tree/chosen/bootloader/tryboot, a 32-bit
//     big-endian 1), which State reports as TrialBoot.
//   - So a spent trial is inferred: State reports Spent when a trial is
//     armed and this boot is not a trial boot. That is also true on the
//     boot that armed the trial, before it reboots; the updater tells the
//     two apart by the boot id it records when it arms.
//
// An image should ship autoboot.txt with both sections naming the same
// partition: the documentation's example above, with [tryboot] on 3, reads
// as a trial of B armed (and, on a normal boot, spent).
//
// Every change rewrites autoboot.txt whole, through a ubootenv.Storage, by
// writing a temporary file beside it, fsyncing it, renaming it over
// autoboot.txt and fsyncing the directory. Lines lockd does not manage
// (other keys, comments, [none] sections) are kept byte for byte.
// autoboot.txt is read strictly: a boot_partition that is neither slot, a
// filter the firmware does not support around a boot_partition, or a file
// larger than the 512 bytes the firmware reads is an error (ErrInvalid),
// never a guess.
package tryboot
