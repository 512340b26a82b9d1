package ubootenv

// inUse picks the copy an environment reader uses, by libubootenv's rule
// for files and block devices (FLAGS_INCREMENTAL), which is also U-Boot's
// env_import_redund: a valid copy beats an invalid one; of two valid
// copies, the one with the greater flags byte, except that 0 beats 0xff
// (the counter wrapped); on a tie, the first (index 0). ok is false when
// neither copy is valid; the index is then 0, the copy libubootenv numbers
// the next write from.
func inUse(valid []bool, flags []byte) (i int, ok bool) {
	if len(valid) == 1 {
		return 0, valid[0]
	}
	switch {
	case valid[0] && !valid[1]:
		return 0, true
	case !valid[0] && valid[1]:
		return 1, true
	case !valid[0] && !valid[1]:
		return 0, false
	}
	switch f0, f1 := flags[0], flags[1]; {
	case f0 == 0xff && f1 == 0:
		return 1, true
	case f1 == 0xff && f0 == 0:
		return 0, true
	case f1 > f0:
		return 1, true
	default:
		return 0, true
	}
}
