package sim

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/pin"
)

// EdgeQueue is how many edges a Pin holds for WaitForEdge before it drops
// the oldest, like a kernel line-event buffer that a slow reader overruns.
const EdgeQueue = 256

// Pin is a simulated GPIO line with electrically sensible behaviour.
//
// The embedded gpiotest.Pin supplies the name, number, function and PWM
// bookkeeping (Name, Number, SupportedFuncs, SetFunc, Halt, PWM, and the D
// and F fields, under its own lock). Its L, P, Fn and EdgesChan fields are
// NOT used: the level, direction, pull and edge queue live here, behind Pin's own lock, so that reading the
// level never consumes an edge and edges never rewrite the level.
//
// The level a driver reads is, in order of precedence:
//   - the level last written with Out, while the pin is an output;
//   - the level an external source sets with Drive, until Release;
//   - the pull set by In: PullUp reads High, PullDown reads Low, and a
//     floating line keeps whatever level it last had.
//
// Whenever that level changes while the pin is an input configured with a
// matching edge, an edge is queued for WaitForEdge.
//
// All methods are safe for concurrent use.
type Pin struct {
	gpiotest.Pin

	// OnOut, if set, is called after every Out with the level written,
	// outside the pin's lock, before Out returns, so that a model can
	// react electrically (a keypad row changes what its columns read) and
	// the driver's next Read sees the result. Set it before the pin is
	// handed to a driver; it must not call Out on this same pin.
	OnOut func(gpio.Level)

	edges chan gpio.Level // queued edges, newest level of each

	mu      sync.Mutex
	level   gpio.Level // what Read returns
	output  bool       // Out was called after the last In
	outL    gpio.Level // level written by Out
	driven  bool       // an external source drives the line (Drive)
	driveL  gpio.Level // the level it drives
	pull    gpio.Pull  // set by In
	edge    gpio.Edge  // set by In
	dropped uint64     // edges lost to a full queue
}

var (
	_ gpio.PinIO  = &Pin{}
	_ pin.PinFunc = &Pin{}
)

// NewPin returns an unconfigured, undriven, floating pin reading Low.
func NewPin(name string, num int) *Pin {
	p := &Pin{edges: make(chan gpio.Level, EdgeQueue), pull: gpio.Float}
	p.N, p.Num = name, num
	return p
}

// String implements conn.Resource.
func (p *Pin) String() string { return fmt.Sprintf("%s(%d)", p.N, p.Num) }

// Function implements pin.Pin: "IN/High", "OUT/Low", ...
func (p *Pin) Function() string { return string(p.Func()) + "/" + p.Read().String() }

// Func implements pin.PinFunc: gpio.IN or gpio.OUT.
func (p *Pin) Func() pin.Func {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.output {
		return gpio.OUT
	}
	return gpio.IN
}

// In implements gpio.PinIn. It makes the pin an input, sets its pull and
// edge detection, and flushes queued edges. PullNoChange keeps the pull.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	if edge < gpio.NoEdge || edge > gpio.BothEdges {
		return fmt.Errorf("sim: %s: invalid edge %d", p, edge)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pull != gpio.PullNoChange {
		p.pull = pull
	}
	p.output = false
	p.edge = edge
	// Reconfiguring a line is not an edge: settle first, then flush.
	p.level = p.resolve()
	for {
		select {
		case <-p.edges:
		default:
			return nil
		}
	}
}

// Read implements gpio.PinIn. It never consumes an edge.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// Level returns the pin's current level, whether it is an input or an
// output. It is Read under a name that reads better in models and tests.
func (p *Pin) Level() gpio.Level { return p.Read() }

// WaitForEdge implements gpio.PinIn. It returns true as soon as an edge is
// queued and false after timeout. A negative timeout waits forever (as
// gpiotest does; a real gpioioctl line returns at once, so drivers should
// always pass a finite timeout); zero only checks the queue. It does not
// change the level: Read afterwards returns the level now, which may be
// newer than the edge.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	if timeout < 0 {
		<-p.edges
		return true
	}
	select {
	case <-p.edges:
		return true
	default:
	}
	if timeout == 0 {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.edges:
		return true
	case <-t.C:
		return false
	}
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn. A simulated line has no boot-time
// default; it reports the current pull.
func (p *Pin) DefaultPull() gpio.Pull { return p.Pull() }

// Out implements gpio.PinOut. It makes the pin an output at l, then calls
// OnOut.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.output, p.outL = true, l
	p.level = l
	p.mu.Unlock()
	if p.OnOut != nil {
		p.OnOut(l)
	}
	return nil
}

// OutLevel reports whether the pin is an output and, if so, the level it
// drives. Models use it to tell a driven line from a high-impedance input.
func (p *Pin) OutLevel() (l gpio.Level, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outL, p.output
}

// Drive makes an external source drive the line to l (a switch to ground,
// a reader's data line). While the pin is an output, its own Out level
// still wins; the driven level takes effect once it becomes an input.
func (p *Pin) Drive(l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.driven, p.driveL = true, l
	p.settle()
}

// Release stops the external source: the line follows its pull again
// (PullUp: High, PullDown: Low, floating: unchanged).
func (p *Pin) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.driven = false
	p.settle()
}

// Dropped returns how many edges were lost because nobody waited for them
// and the queue (EdgeQueue) was full.
func (p *Pin) Dropped() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// resolve returns the level the line settles at. Call with p.mu held.
func (p *Pin) resolve() gpio.Level {
	switch {
	case p.output:
		return p.outL
	case p.driven:
		return p.driveL
	case p.pull == gpio.PullUp:
		return gpio.High
	case p.pull == gpio.PullDown:
		return gpio.Low
	}
	return p.level
}

// settle updates the level and queues an edge if it changed and the input
// watches that direction. Call with p.mu held.
func (p *Pin) settle() {
	l := p.resolve()
	if l == p.level {
		return
	}
	p.level = l
	if p.output {
		return
	}
	want := gpio.FallingEdge
	if l == gpio.High {
		want = gpio.RisingEdge
	}
	if p.edge&want == 0 {
		return
	}
	// Drop the oldest edge when full. Only settle sends, under p.mu, so
	// after one receive there is room.
	select {
	case p.edges <- l:
	default:
		select {
		case <-p.edges:
			p.dropped++
		default:
		}
		p.edges <- l
	}
}
