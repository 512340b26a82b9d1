package updater

import (
	"fmt"
	"io"
	"os"
)

// Source is a bundle the updater reads at offsets: the D-Bus caller's
// file, or a download (updater/httpsource) that fetches the ranges it is
// asked for. ReadAt may be called from several goroutines. Size is the
// whole bundle's length. Close is called once, when the install ends.
//
// A Source whose reads cost more than reading the slots — a download —
// also has a method Remote() bool that returns true; see writeImage.
type Source interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// remote is the optional side of a Source that is a download.
type remote interface{ Remote() bool }

// isRemote reports whether src is a download.
func isRemote(src Source) bool {
	r, ok := src.(remote)
	return ok && r.Remote()
}

// fileSource is the bundle file a D-Bus caller handed over.
type fileSource struct {
	*os.File
	size int64
}

func (f fileSource) Size() int64 { return f.size }

// newFileSource checks that f is a regular file and returns it as a
// Source; on error f is closed.
func newFileSource(f *os.File) (Source, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("updater: bundle: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("updater: bundle: not a regular file (%s)", fi.Mode().Type())
	}
	return fileSource{File: f, size: fi.Size()}, nil
}
