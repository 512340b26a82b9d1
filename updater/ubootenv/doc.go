// Package ubootenv owns lockd's access to the U-Boot environment: it reads
// the libubootenv configuration (fw_env.config), reads and writes the
// environment with single or redundant copies exactly as U-Boot and
// Debian's libubootenv-tool (fw_printenv/fw_setenv 0.3.x) do, prints it like
// fw_printenv, and implements `lockd bootenv`.
//
// # Layout of one copy
//
// A copy is ENVSIZE bytes at OFFSET of a plain file or a block device:
//
//	single:     crc32 (4, LE) | data (ENVSIZE-4)
//	redundant:  crc32 (4, LE) | flags (1) | data (ENVSIZE-5)
//
// The CRC (IEEE) covers the whole data area, padding included, never the
// flags byte. The data area holds "name=value\x00" strings, then one more
// "\x00"; the rest is padding. This package writes the variables sorted by
// name (bytewise, as U-Boot's `env export` and libubootenv do), ".flags"
// last (as libubootenv does), and pads with 0x00 as U-Boot's saveenv does.
// libubootenv 0.3.2 leaves the padding as whatever its heap held (in
// practice stale bytes of the environment it read, and heap pointers), and
// mkenvimage pads with 0xff, so two writers agree on the data but not
// always on the padding.
//
// # Redundant copies
//
// A copy whose CRC does not match is never trusted. A copy that cannot be
// read whole (a short file, an I/O error) is invalid too, as in U-Boot, so
// its twin is still used (libubootenv 0.3.2 refuses the whole environment
// then). Of two valid copies the
// one with the newer flags byte wins: the greater one, except that 0 beats
// 0xff (the counter wrapped); on a tie the first copy wins. This is
// libubootenv's rule for files and block devices and U-Boot's
// env_import_redund. A write goes to the other copy, the one not in use,
// with flags = current+1 (wrapping 0xff to 0), so a power cut during it
// leaves the copy in use intact.
//
// # A single copy
//
// When the only copy is a whole plain file (offset 0, no bigger than
// ENVSIZE), as uboot.env on a Raspberry Pi's FAT boot partition is, an
// update writes a temporary file beside it, fsyncs it, renames it over the
// original and fsyncs the directory. U-Boot's FAT driver finds the file by
// name, so this is invisible to it, and a power cut leaves the old or the
// new file, never a torn one. A single copy inside a bigger file or on a
// block device can only be overwritten in place, in one write followed by
// fsync; a power cut during that write can leave it torn (its CRC then
// fails and readers report ErrNoValidEnv). Use redundant copies there.
//
// # Locking
//
// Every access holds an flock on libubootenv's lock file
// (/var/lock/fw_printenv.lock), so lockd and fw_setenv never interleave
// a read-modify-write. As in libubootenv, a lock file that cannot be
// opened at all is skipped rather than blocking access.
package ubootenv
