package sim

import (
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

func TestPinPullAndRelease(t *testing.T) {
	tests := []struct {
		pull gpio.Pull
		want gpio.Level
	}{
		{gpio.PullUp, gpio.High},
		{gpio.PullDown, gpio.Low},
		{gpio.Float, gpio.Low}, // keeps the level it had: NewPin reads Low
	}
	for _, tt := range tests {
		t.Run(tt.pull.String(), func(t *testing.T) {
			p := NewPin("P", 1)
			if err := p.In(tt.pull, gpio.BothEdges); err != nil {
				t.Fatal(err)
			}
			if got := p.Read(); got != tt.want {
				t.Fatalf("after In: Read() = %s, want %s", got, tt.want)
			}
			p.Drive(!tt.want)
			if got := p.Read(); got != !tt.want {
				t.Fatalf("driven: Read() = %s, want %s", got, !tt.want)
			}
			p.Release()
			want := tt.want
			if tt.pull == gpio.Float {
				want = !tt.want // a floating line keeps the driven level
			}
			if got := p.Read(); got != want {
				t.Fatalf("released: Read() = %s, want %s", got, want)
			}
		})
	}
}

func TestPinEdgesDoNotRewriteLevel(t *testing.T) {
	p := NewPin("P", 1)
	if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	p.Drive(gpio.Low)
	p.Drive(gpio.Low) // no change, no edge
	p.Release()
	for i := range 2 {
		if !p.WaitForEdge(time.Second) {
			t.Fatalf("edge %d missing", i)
		}
		if got := p.Read(); got != gpio.High {
			t.Fatalf("after edge %d: Read() = %s, want High (the level now)", i, got)
		}
	}
	if p.WaitForEdge(0) {
		t.Fatal("a third edge was queued for two changes")
	}
}

func TestPinEdgeFilter(t *testing.T) {
	tests := []struct {
		edge gpio.Edge
		want int
	}{
		{gpio.NoEdge, 0}, {gpio.RisingEdge, 1}, {gpio.FallingEdge, 1}, {gpio.BothEdges, 2},
	}
	for _, tt := range tests {
		t.Run(tt.edge.String(), func(t *testing.T) {
			p := NewPin("P", 1)
			if err := p.In(gpio.PullUp, tt.edge); err != nil {
				t.Fatal(err)
			}
			p.Drive(gpio.Low)
			p.Release()
			got := 0
			for p.WaitForEdge(0) {
				got++
			}
			if got != tt.want {
				t.Fatalf("%d edges, want %d", got, tt.want)
			}
		})
	}
}

func TestPinInFlushesAndOutIsQuiet(t *testing.T) {
	p := NewPin("P", 1)
	if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	p.Drive(gpio.Low)
	if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if p.WaitForEdge(0) {
		t.Fatal("In did not flush queued edges")
	}
	if got := p.Read(); got != gpio.Low {
		t.Fatalf("driven input after In: Read() = %s, want Low", got)
	}
	var seen []gpio.Level
	p.OnOut = func(l gpio.Level) { seen = append(seen, l) }
	_ = p.Out(gpio.High)
	_ = p.Out(gpio.Low)
	if p.WaitForEdge(0) {
		t.Fatal("an output queued an edge")
	}
	if l, ok := p.OutLevel(); !ok || l != gpio.Low {
		t.Fatalf("OutLevel() = %s, %t; want Low, true", l, ok)
	}
	if len(seen) != 2 || seen[0] != gpio.High || seen[1] != gpio.Low {
		t.Fatalf("OnOut saw %v, want [High Low]", seen)
	}
}

func TestPinQueueDropsOldest(t *testing.T) {
	p := NewPin("P", 1)
	if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	for range EdgeQueue + 10 {
		p.Drive(gpio.Low)
		p.Release()
	}
	if got := p.Dropped(); got != 10 {
		t.Fatalf("Dropped() = %d, want 10", got)
	}
}

func TestPinWaitTimesOut(t *testing.T) {
	p := NewPin("P", 1)
	if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if p.WaitForEdge(5 * time.Millisecond) {
		t.Fatal("edge without a change")
	}
	if d := time.Since(start); d < 5*time.Millisecond {
		t.Fatalf("returned after %s, before the timeout", d)
	}
}

// TestPinConcurrent is for the race detector.
func TestPinConcurrent(t *testing.T) {
	p := NewPin("P", 1)
	if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				p.WaitForEdge(time.Millisecond)
				_ = p.Read()
			}
		}
	})
	for range 1000 {
		p.Drive(gpio.Low)
		p.Release()
		_ = p.Pull()
	}
	close(done)
	wg.Wait()
}

func TestPinFunction(t *testing.T) {
	p := NewPin("P", 3)
	if err := p.In(gpio.PullUp, gpio.NoEdge); err != nil {
		t.Fatal(err)
	}
	if got := p.Function(); got != "IN/High" {
		t.Errorf("Function() = %q, want IN/High", got)
	}
	_ = p.Out(gpio.Low)
	if got := p.Function(); got != "OUT/Low" {
		t.Errorf("Function() = %q, want OUT/Low", got)
	}
	if got := p.String(); got != "P(3)" {
		t.Errorf("String() = %q, want P(3)", got)
	}
}
