package ddi

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// examples pairs each recorded example (testdata, one per endpoint, as
// the DDI documentation shows them) with the shape lockd reads or writes.
var examples = map[string]func() any{
	"controllerBase.json":         func() any { return &ControllerBase{} },
	"deploymentBase.json":         func() any { return &DeploymentBase{} },
	"confirmationBase.json":       func() any { return &ConfirmationBase{} },
	"confirmationBaseAction.json": func() any { return &ConfirmationAction{} },
	"cancelAction.json":           func() any { return &Cancel{} },
	"actionFeedback.json":         func() any { return &ActionFeedback{} },
	"confirmationFeedback.json":   func() any { return &ConfirmationFeedback{} },
	"configData.json":             func() any { return &ConfigData{} },
	"installedBase.json":          func() any { return &AssignedVersion{} },
}

// TestExamples: every recorded example decodes strictly (each of its
// fields is in the shape) and encodes back to the same JSON (each field
// of the shape is in the example, with its name).
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) != len(examples) {
		t.Fatalf("%d examples in testdata, %d shapes", len(files), len(examples))
	}
	for name, shape := range examples {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			v := shape()
			if err := Decode(b, v, true); err != nil {
				t.Fatal(err)
			}
			back, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			json.Unmarshal(b, &want)
			json.Unmarshal(back, &got)
			w, _ := json.Marshal(want)
			g, _ := json.Marshal(got)
			if !bytes.Equal(w, g) {
				t.Fatalf("round trip differs:\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name string
		json string
		v    any
		want string
	}{
		{"id with a slash", `{"id":"7/../../x","deployment":{"chunks":[{"part":"os","version":"1","name":"n"}]}}`, &DeploymentBase{}, "action id"},
		{"no chunks", `{"id":"7","deployment":{"chunks":[]}}`, &DeploymentBase{}, "chunks"},
		{"unknown handling", `{"id":"7","deployment":{"download":"now","chunks":[{}]}}`, &DeploymentBase{}, "download"},
		{"bad window", `{"id":"7","deployment":{"maintenanceWindow":"soon","chunks":[{}]}}`, &DeploymentBase{}, "maintenanceWindow"},
		{"bad sleep", `{"config":{"polling":{"sleep":"5 minutes"}}}`, &ControllerBase{}, "HH:MM:SS"},
		{"empty stopId", `{"id":"1","cancelAction":{"stopId":""}}`, &Cancel{}, "stopId"},
		{"two values", `{"id":"1","cancelAction":{"stopId":"1"}} {}`, &Cancel{}, "after the JSON"},
		{"too large", `{"x":"` + strings.Repeat("a", MaxBody) + `"}`, &Cancel{}, "64 KiB"},
	} {
		if err := Read(strings.NewReader(c.json), c.v); err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "ddi: ") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestSleep(t *testing.T) {
	for s, want := range map[string]time.Duration{"00:00:30": 30 * time.Second, "12:00:00": 12 * time.Hour, "00:05:00": 5 * time.Minute, "100:00:00": 100 * time.Hour} {
		got, err := ParseSleep(s)
		if err != nil || got != want || FormatSleep(got) != s {
			t.Errorf("%s: %v %v (%s)", s, got, err, FormatSleep(got))
		}
	}
	for _, s := range []string{"", "5", "00:60:00", "-1:00:00", "00:00:+1", "1:2:3:4", "00::00"} {
		if _, err := ParseSleep(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

// FuzzDecode: any response either is refused with the package's error or
// decodes into a value whose ids and handling lockd may use as they are.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, shape := range []func() any{
			func() any { return &ControllerBase{} }, func() any { return &DeploymentBase{} },
			func() any { return &ConfirmationAction{} }, func() any { return &Cancel{} },
		} {
			v := shape()
			err := Read(bytes.NewReader(b), v)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "ddi: ") {
					t.Fatalf("error %v", err)
				}
				continue
			}
			switch v := v.(type) {
			case *DeploymentBase:
				if !ValidID(v.ID) || len(v.Deployment.Chunks) == 0 {
					t.Fatalf("accepted %+v", v)
				}
			case *Cancel:
				if !ValidID(v.CancelAction.StopID) {
					t.Fatalf("accepted %+v", v)
				}
			case *ControllerBase:
				if v.Config.Polling.Sleep != "" {
					if _, err := ParseSleep(v.Config.Polling.Sleep); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}
