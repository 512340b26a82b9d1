// Package slotwrite writes an image into a slot and reads it back: the
// install's data path, separate from the updater's state machine. Three
// ways in: Stream (a format-1 bundle's image stream), Chunked (every chunk
// of an indexed bundle, decoded on two cores) and Adaptive (only the
// blocks the slot lacks, reused from the active slot or decoded from the
// bundle's chunks). Each ends the same way: fdatasync, the written range
// dropped from the page cache, and the whole image read back from the
// device and hashed against the manifest's sha256; the slot holds the
// image only if that returns nil. Where the writes are sequential
// (Stream, Chunked) the read-back follows the writer on the other core,
// each range flushed with sync_file_range and dropped from the cache
// before it is read, so most of it is done when the last write returns.
//
// Every write goes through a ubootenv.Device from one goroutine, in
// order, so a power-cut test sees the same sequence of writes each run.
package slotwrite
