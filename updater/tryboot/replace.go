package tryboot

import (
	"lockd.dev/lockd/updater/ubootenv"
)

// replace writes autoboot.txt through st with ubootenv.ReplaceFile.
//
// autoboot.txt lives on FAT, and vfat makes no promise that a rename over
// an existing file is atomic across a power cut: it rewrites directory
// entries in place, without a journal, so a cut inside the rename itself
// can leave the old file, the new one or, rarely, neither (State then
// reports the missing file; it never guesses). It is still the better
// risk: overwriting autoboot.txt in place would let the firmware read a
// half-written file, which can name no partition or the wrong one, and a
// cut anywhere but inside the rename leaves a complete old or new file.
//
// FAT has no permissions (the mount decides them); 0644 is for tests and
// other file systems, where autoboot.txt is world-readable anyway.
func replace(st ubootenv.Storage, path string, data []byte) error {
	return ubootenv.ReplaceFile(st, path, data, 0o644)
}
