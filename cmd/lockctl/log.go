package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// logPageSize is how many entries lockctl asks Log for at a time.
const logPageSize = 500

// cmdLog is `lockctl log [-n N] [--follow]`.
func (a *app) cmdLog(ctx context.Context, args []string) error {
	fs := a.flagSet("log")
	n := fs.Int("n", 0, "")
	follow := fs.Bool("follow", false, "")
	fs.BoolVar(follow, "f", false, "")
	if _, err := a.parse("log", fs, args, 0, 0); err != nil {
		return err
	}
	if *n < 0 {
		return usagef("log", "log: -n must be >= 0")
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	var live *eventStream
	if *follow {
		// Subscribe before reading the log so no event falls between.
		if live, err = c.subscribeEvents(ctx); err != nil {
			return err
		}
		defer live.close()
	}
	var entries []logEntry
	if *n > 0 {
		entries, err = c.tailLog(ctx, *n)
	} else {
		entries, err = c.readLog(ctx)
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := a.printEntry(e); err != nil {
			return err
		}
	}
	if live == nil {
		if len(entries) == 0 && !a.json {
			fmt.Fprintln(a.stdout, "-- No entries --")
		}
		return nil
	}
	recent := entries[max(0, len(entries)-64):]
	err = live.run(ctx, func(e logEntry) error {
		for i, r := range recent {
			if sameEvent(r, e) { // recorded before we read the log, signalled after we subscribed
				recent = append(recent[:i:i], recent[i+1:]...)
				return nil
			}
		}
		return a.printEntry(e)
	})
	if errors.Is(err, context.Canceled) {
		return nil // SIGINT or SIGTERM ends --follow; that is success
	}
	return err
}

// printEntry prints one entry: a line for a person, a JSON object on one
// line for a script.
func (a *app) printEntry(e logEntry) error {
	if !a.json {
		_, err := fmt.Fprintln(a.stdout, a.painter().paint(kindColour(e.Kind), e.String()))
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	_, err = fmt.Fprintf(a.stdout, "%s\n", b)
	return err
}

// rawEntry is one element of Log's a(ta{sv}) reply.
type rawEntry struct {
	ID      uint64
	Details map[string]dbus.Variant
}

// logPage returns up to limit entries with an id above after, oldest first.
func (c *client) logPage(ctx context.Context, after uint64, limit uint32) ([]logEntry, error) {
	var raw []rawEntry
	if err := c.call(ctx, ifaceLog, "Log", []any{after, limit}, &raw); err != nil {
		return nil, err
	}
	out := make([]logEntry, len(raw))
	for i, r := range raw {
		out[i] = newLogEntry(r.ID, "", r.Details)
	}
	return out, nil
}

// readLog returns the whole audit log, oldest first.
func (c *client) readLog(ctx context.Context) ([]logEntry, error) {
	var all []logEntry
	after := uint64(0)
	for {
		page, err := c.logPage(ctx, after, logPageSize)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return all, nil
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
}

// tailLog returns the last n entries. Log pages forward from an id, so the
// newest id is found first by galloping then bisecting with one-entry
// probes: about 2·log2(entries) small calls instead of reading the whole
// log.
func (c *client) tailLog(ctx context.Context, n int) ([]logEntry, error) {
	probe := func(after uint64) (uint64, bool, error) {
		p, err := c.logPage(ctx, after, 1)
		if err != nil || len(p) == 0 {
			return 0, false, err
		}
		return p[0].ID, true, nil
	}
	lo, ok, err := probe(0) // lo: an id that exists
	if err != nil || !ok {
		return nil, err
	}
	hi := uint64(0) // no id is above hi once found
	for step := uint64(1); hi == 0; step *= 2 {
		id, ok, err := probe(lo + step)
		if err != nil {
			return nil, err
		}
		if !ok {
			hi = lo + step
		} else {
			lo = id
		}
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		id, ok, err := probe(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			lo = id
		} else {
			hi = mid
		}
	}
	after := uint64(0)
	if lo > uint64(n) {
		after = lo - uint64(n)
	}
	var out []logEntry
	for len(out) < n {
		page, err := c.logPage(ctx, after, uint32(min(n-len(out), logPageSize)))
		if err != nil || len(page) == 0 {
			return out, err
		}
		out = append(out, page...)
		after = page[len(page)-1].ID
	}
	return out, nil
}
