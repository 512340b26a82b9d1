package flagtext

import (
	"errors"
	"flag"
	"io"
	"testing"
	"time"
)

func TestMessage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--frob"}, "unknown option --frob"},
		{[]string{"-frob"}, "unknown option --frob"},
		{[]string{"-x"}, "unknown option -x"},
		{[]string{"--bus"}, "this option needs a value: --bus"},
		{[]string{"-n"}, "this option needs a value: -n"},
		{[]string{"--timeout", "soon"}, `invalid value "soon" for --timeout: parse error`},
		{[]string{"-n", "x"}, `invalid value "x" for -n: parse error`},
		{[]string{"--json=maybe"}, `invalid boolean value "maybe" for --json: parse error`},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("bus", "", "")
		fs.Duration("timeout", time.Second, "")
		fs.Int("n", 0, "")
		fs.Bool("json", false, "")
		err := fs.Parse(tt.args)
		if err == nil {
			t.Fatalf("%v: parsed", tt.args)
		}
		if got := Message(err); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.args, got, tt.want)
		}
	}
	if got := Message(errors.New("something else")); got != "something else" {
		t.Errorf("an unknown message changed: %q", got)
	}
}
