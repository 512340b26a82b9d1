package faultserve

import "sort"

// spans is a set of byte offsets as sorted, disjoint, non-adjacent
// half-open intervals: downloads send long runs, so it stays short.
type spans [][2]int64

// add adds [lo, hi) and returns how many of its offsets were new.
func (s *spans) add(lo, hi int64) int64 {
	if lo >= hi {
		return 0
	}
	old := *s
	// The first interval that ends at or after lo.
	i := sort.Search(len(old), func(k int) bool { return old[k][1] >= lo })
	j := i
	nlo, nhi := lo, hi
	covered := int64(0)
	for ; j < len(old) && old[j][0] <= hi; j++ {
		covered += min(old[j][1], hi) - max(old[j][0], lo)
		nlo, nhi = min(nlo, old[j][0]), max(nhi, old[j][1])
	}
	merged := append(append(append(spans(nil), old[:i]...), [2]int64{nlo, nhi}), old[j:]...)
	*s = merged
	return hi - lo - max(covered, 0)
}
