package ddi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxBody bounds every DDI response lockd reads: the largest the
// documentation shows is a few KiB; a server that sends more is refused
// unread past the bound.
const MaxBody = 64 << 10

// Bounds of what an action may hold, far above a lock's one bundle.
const (
	maxChunks    = 16
	maxArtifacts = 16
	maxDetails   = 16
	maxString    = 1024
)

// ErrTooLarge is a response over MaxBody.
var ErrTooLarge = errors.New("ddi: response larger than 64 KiB")

// Read decodes one JSON value of at most MaxBody bytes from r into v
// (unknown fields are allowed: servers add them) and checks it when v has
// a Validate method.
func Read(r io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return fmt.Errorf("ddi: read: %w", err)
	}
	return Decode(b, v, false)
}

// Decode decodes b into v; strict refuses unknown fields (the tests hold
// the recorded examples to these shapes with it).
func Decode(b []byte, v any, strict bool) error {
	if len(b) > MaxBody {
		return ErrTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("ddi: %T: %w", v, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("ddi: %T: data after the JSON value", v)
	}
	if c, ok := v.(interface{ Validate() error }); ok {
		return c.Validate()
	}
	return nil
}

// idPattern is what lockd takes as an action id: it goes into URLs and
// the state file.
var idPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// ValidID reports whether id is an action id lockd accepts.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Validate checks the fields lockd uses.
func (c *ControllerBase) Validate() error {
	if c.Config.Polling.Sleep != "" {
		if _, err := ParseSleep(c.Config.Polling.Sleep); err != nil {
			return err
		}
	}
	return c.Links.validate()
}

// Validate checks the fields lockd uses.
func (d *DeploymentBase) Validate() error {
	if !ValidID(d.ID) {
		return fmt.Errorf("ddi: deploymentBase: action id %.70q", d.ID)
	}
	return d.Deployment.validate()
}

// Validate checks the fields lockd uses.
func (d *ConfirmationAction) Validate() error {
	if !ValidID(d.ID) {
		return fmt.Errorf("ddi: confirmationBase: action id %.70q", d.ID)
	}
	return d.Confirmation.validate()
}

// Validate checks the fields lockd uses.
func (c *Cancel) Validate() error {
	if !ValidID(c.CancelAction.StopID) {
		return fmt.Errorf("ddi: cancelAction: stopId %.70q", c.CancelAction.StopID)
	}
	return nil
}

func (d *Deployment) validate() error {
	for _, v := range []struct{ name, val string }{{"download", d.Download}, {"update", d.Update}} {
		switch v.val {
		case "", HandlingSkip, HandlingAttempt, HandlingForced:
		default:
			return fmt.Errorf("ddi: deployment: %s %.40q", v.name, v.val)
		}
	}
	switch d.MaintenanceWindow {
	case "", WindowAvailable, WindowUnavailable:
	default:
		return fmt.Errorf("ddi: deployment: maintenanceWindow %.40q", d.MaintenanceWindow)
	}
	if len(d.Chunks) == 0 || len(d.Chunks) > maxChunks {
		return fmt.Errorf("ddi: deployment: %d chunks, want 1..%d", len(d.Chunks), maxChunks)
	}
	for _, c := range d.Chunks {
		if len(c.Artifacts) > maxArtifacts {
			return fmt.Errorf("ddi: deployment: chunk with %d artifacts, want at most %d", len(c.Artifacts), maxArtifacts)
		}
		for _, s := range []string{c.Part, c.Version, c.Name} {
			if len(s) > maxString {
				return errors.New("ddi: deployment: a chunk's part, name or version is over 1 KiB")
			}
		}
		for _, a := range c.Artifacts {
			if len(a.Filename) > maxString || a.Size < 0 {
				return fmt.Errorf("ddi: deployment: artifact %.70q", a.Filename)
			}
			if err := a.Links.validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l Links) validate() error {
	for rel, link := range l {
		if len(rel) > 64 || len(link.Href) > 4096 {
			return fmt.Errorf("ddi: link %.40q too long", rel)
		}
	}
	return nil
}

// ParseSleep reads a polling period "HH:MM:SS".
func ParseSleep(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || len(s) > 16 {
		return 0, fmt.Errorf("ddi: polling sleep %.20q: want HH:MM:SS", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || p == "" || strings.Trim(p, "0123456789") != "" || (i > 0 && v > 59) || len(p) > 4 {
			return 0, fmt.Errorf("ddi: polling sleep %.20q: want HH:MM:SS", s)
		}
		n[i] = v
	}
	return time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second, nil
}

// FormatSleep is ParseSleep's inverse.
func FormatSleep(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// Details bounds the detail lines of a feedback: at most 16, each at most
// 1 KiB, as the server's columns are bounded too.
func Details(lines ...string) []string {
	if len(lines) > maxDetails {
		lines = lines[:maxDetails]
	}
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if len(l) > maxString {
			l = strings.ToValidUTF8(l[:maxString], "")
		}
		out = append(out, l)
	}
	return out
}
