package updater_test

import (
	"encoding/json"
	"testing"

	"lockd.dev/lockd/updater"
)

// FuzzParseState: the state file parser never panics, and what it accepts
// survives a write and a read unchanged.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"format":1,"min_security_version":2,"slots":{"A":{"state":"good","version":"1.0.0"},"B":{"state":"installed","version":"2.0.0","size":10,"sha256":"ab"}},"pending":{"slot":"B","version":"2.0.0","from_version":"1.0.0","security_version":2,"phase":"installed","installed":"2026-11-25T12:00:00Z"},"history":[]}`))
	f.Add([]byte(`{"format":1,"slots":{"A":{"state":"good"},"B":{"state":"bad"}},"last_error":"x","history":[{"time":"2026-11-25T12:00:00Z","event":"rolled-back","slot":"B"}]}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`{"format":1,"slots":{"A":{"state":"good"},"B":{"state":"good"}},"pending":{"slot":"C","phase":"armed"}}`))
	f.Add([]byte(`{"format":1,"slots":{"A":{"state":"good"},"B":{"state":"good"}}}{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := updater.ParseState(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := updater.ParseState(again)
		if err != nil {
			t.Fatalf("accepted %q, then refused its own rewrite %q: %v", data, again, err)
		}
		third, _ := json.Marshal(s2)
		if string(third) != string(again) {
			t.Fatalf("rewrite not stable:\n%s\n%s", again, third)
		}
	})
}
