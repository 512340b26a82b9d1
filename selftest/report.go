package selftest

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Status is the verdict on one pin. Later checks can only make it worse:
// a pin that was OK once and then showed a short is shorted.
type Status int

// Statuses, from best to worst.
const (
	Skipped  Status = iota // not checked: the installer skipped it, or nothing exercised it
	OK                     // it did what the wiring says
	NoChange               // it was exercised and did not react
	Stuck                  // it sits at a level it must not hold at rest
	Miswired               // it reacted, but as another pin should have
	Shorted                // it follows another pin
)

// String is the word the report prints.
func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case NoChange:
		return "no change"
	case Stuck:
		return "stuck"
	case Miswired:
		return "miswired"
	case Shorted:
		return "shorted"
	}
	return "skipped"
}

// Result is what the walk found on one pin.
type Result struct {
	Pin    string   // the kernel name, e.g. GPIO17
	Key    string   // the configuration key, e.g. keypad.rows[0]
	Status Status   // the worst verdict of every check of the pin
	Notes  []string // what was seen, in order, for a person
}

// Report is the outcome of a walk: one Result per configured pin, in the
// order of the configuration.
type Report struct {
	Results []Result
}

// OK reports whether every pin checked out. A skipped pin is not OK.
func (r Report) OK() bool {
	for _, res := range r.Results {
		if res.Status != OK {
			return false
		}
	}
	return len(r.Results) > 0
}

// Find returns the result of the pin with configuration key key.
func (r Report) Find(key string) (Result, bool) {
	for _, res := range r.Results {
		if res.Key == key {
			return res, true
		}
	}
	return Result{}, false
}

// WriteTo prints the report as a table, one pin a line.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	tw := tabwriter.NewWriter(cw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PIN\tCONFIG KEY\tRESULT\tSEEN")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Pin, res.Key, res.Status, strings.Join(res.Notes, "; "))
	}
	err := tw.Flush()
	return cw.n, err
}

// countWriter counts what WriteTo wrote, for io.WriterTo.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// note records a finding on the pin with configuration key key.
func (r *Report) note(key string, s Status, format string, args ...any) {
	for i := range r.Results {
		if r.Results[i].Key == key {
			res := &r.Results[i]
			res.Status = max(res.Status, s)
			res.Notes = append(res.Notes, fmt.Sprintf(format, args...))
			return
		}
	}
}
