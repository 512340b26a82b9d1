package slotwrite

import (
	"context"
	"fmt"
	"sync"
	"time"

	"lockd.dev/lockd/updater/bundle"
)

// Decoders is how many chunks are checked and decoded at once: one a
// core of the 2-core boards lockd runs on, while the writer, mostly
// waiting on the device, and the read-back share them.
const Decoders = 2

// group is one write: the chunks whose image bytes fill one buffer.
type group struct {
	buf         []byte
	off, n      uint64
	first, last int // chunks first..last-1
	wg          sync.WaitGroup
	mu          sync.Mutex
	err         error
	stored      uint64
	busy        time.Duration
}

func (g *group) fail(err error) {
	g.mu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.mu.Unlock()
}

// decodePool checks and decodes chunks into their group's buffer.
type decodePool struct {
	c    *bundle.Chunks
	jobs chan [2]any // *group, chunk
}

func startDecoders(c *bundle.Chunks, thread func()) (*decodePool, error) {
	p := &decodePool{c: c, jobs: make(chan [2]any)}
	decs := make([]*bundle.ChunkDecoder, Decoders)
	for i := range decs {
		d, err := bundle.NewChunkDecoder()
		if err != nil {
			for _, d := range decs[:i] {
				d.Close()
			}
			return nil, err
		}
		decs[i] = d
	}
	for _, d := range decs {
		go func() {
			defer d.Close()
			if thread != nil {
				thread()
			}
			for j := range p.jobs {
				g, i := j[0].(*group), j[1].(int)
				t0 := time.Now()
				stored, err := d.Stored(c, i)
				if err == nil {
					err = p.decodeInto(d, g, i, stored)
				}
				g.mu.Lock()
				g.busy += time.Since(t0)
				g.stored += uint64(len(stored))
				g.mu.Unlock()
				if err != nil {
					g.fail(err)
				}
				g.wg.Done()
			}
		}()
	}
	return p, nil
}

// decodeInto decodes chunk i in place into its part of g's buffer.
func (p *decodePool) decodeInto(d *bundle.ChunkDecoder, g *group, i int, stored []byte) error {
	off, n := p.c.Index().ChunkRange(i)
	at := off - g.off
	dst := g.buf[at : at : at+n]
	out, err := d.Decode(p.c, i, stored, dst)
	if err != nil {
		return err
	}
	if &out[0] != &g.buf[at] { // cannot be: Decode checked the length
		copy(g.buf[at:at+n], out)
	}
	return nil
}

func (p *decodePool) close() { close(p.jobs) }

// Chunked writes every chunk of an indexed bundle's image into the slot:
// each chunk is checked against the signed index (its stored sha256, its
// frames) before it is decoded, two at a time, straight into the buffer
// of the next write, while the caller's goroutine writes the previous one
// and the read-back follows. Nothing is written that was not checked; a
// chunk that fails stops the install before its bytes or any later ones
// are written.
func Chunked(ctx context.Context, dev Device, c *bundle.Chunks, sum string, o Options) (Stats, error) {
	st := Stats{Mode: "chunked"}
	start := time.Now()
	ix := c.Index()
	size, cs := ix.ImageSize, ix.ChunkSize()
	per := max(1, Unit/cs) // chunks per write
	pool, err := startDecoders(c, o.Thread)
	if err != nil {
		return st, err
	}
	free := make(chan []byte, 2)
	free <- make([]byte, per*cs)
	free <- make([]byte, per*cs)
	ready := make(chan *group, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // hands out the chunks of one group after the other
		defer close(ready)
		defer pool.close()
		for first := 0; first < len(ix.Chunks); first += int(per) {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			g := &group{buf: buf, first: first, last: min(first+int(per), len(ix.Chunks))}
			g.off, _ = ix.ChunkRange(first)
			g.n = min(per*cs, size-g.off)
			g.wg.Add(g.last - g.first)
			for i := g.first; i < g.last; i++ {
				pool.jobs <- [2]any{g, i}
			}
			select {
			case ready <- g:
			case <-stop:
				g.wg.Wait()
				return
			}
		}
	}()
	fw := follow(ctx, dev, size, o.Thread, nil)
	last := -1
	for g := range ready {
		g.wg.Wait()
		st.Decode += g.busy
		st.BundleRead += g.stored
		err := g.err
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			t0 := time.Now()
			if _, werr := dev.WriteAt(g.buf[:g.n], int64(g.off)); werr != nil {
				err = fmt.Errorf("slotwrite: write slot at %d: %w", g.off, werr)
			}
			st.Write += time.Since(t0)
		}
		if err != nil {
			fw.stop()
			go func() { // let the feeder end
				for g := range ready {
					g.wg.Wait()
				}
			}()
			return st, err
		}
		st.Written += g.n
		fw.advance(g.off + g.n)
		if p := int((g.off + g.n) * 90 / size); p != last {
			o.progress("writing", p)
			last = p
		}
		free <- g.buf
	}
	return st, finish(dev, fw, size, sum, &st, start, o)
}
