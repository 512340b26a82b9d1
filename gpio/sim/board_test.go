package sim

import (
	"context"
	"testing"
	"time"
)

func TestBoardPressChecksKeys(t *testing.T) {
	b, err := NewBoard(BoardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Press(context.Background(), "12A"); err == nil {
		t.Error("Press accepted a key a 3x4 pad does not have")
	}
	if b.Matrix.Down() != "" {
		t.Errorf("keys left down after a refused Press: %q", b.Matrix.Down())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Press(ctx, "1#"); err != nil {
		t.Fatal(err)
	}
	if err := b.SetJam(true); err != nil || !b.Motor.Jammed() {
		t.Errorf("SetJam: %v", err)
	}
	s, _ := NewBoard(BoardConfig{Strike: true})
	if err := s.SetJam(true); err == nil {
		t.Error("a strike board accepted a jam")
	}
}
