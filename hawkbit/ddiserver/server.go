// Package ddiserver is a hawkBit DDI server for tests and lockbench: the
// controller resources of the published DDI API (the root resource,
// deploymentBase, confirmationBase, cancelAction, configData,
// installedBase, artifacts with Range), built from and checked against
// the shapes of hawkbit/ddi (every request body is decoded strictly), with
// what a test needs to see and break: the feedback each target sent, in
// order, and faults (down, 429 with Retry-After, sporadic 5xx; artifacts
// through internal/faultserve). It is no hawkBit: one action per target,
// no rollouts, no management API.
package ddiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/internal/faultserve"
)

// Server is the DDI server of one tenant.
type Server struct {
	// Tenant is the first path element; Token the target token every
	// request must carry ("" takes any, as anonymous hawkBit does).
	Tenant, Token string
	// Sleep is config.polling.sleep.
	Sleep time.Duration
	// OnRequest, when set, sees every request's kind ("base",
	// "deployment", "feedback", "artifact", ...) and whether it was
	// answered with a fault; set before serving.
	OnRequest func(kind string, fault bool)
	// OnFeedback, when set, sees every feedback accepted, as it arrives
	// (lockbench checks each success against the lock's own state).
	OnFeedback func(controller string, fb Feedback)

	mu        sync.Mutex
	targets   map[string]*Target
	artifacts map[string][]byte // by name
	afaults   faultserve.Faults
	faults    Faults
	nextID    int
	n         int
}

// Faults are the server's own faults (artifacts have theirs).
type Faults struct {
	Down                   bool // 503 to everything
	TooMany, RetryAfter    int  // the next TooMany requests get 429, Retry-After seconds
	Error5xxEvery          int  // every n-th request 503
	NotFoundDeploymentBase bool // deploymentBase answers 404
}

// Action is what a test assigns to a target.
type Action struct {
	// Artifact names an artifact added with AddArtifact; Version and
	// Name are the chunk's.
	Artifact, Version, Name string
	// Download, Update and Window are the deployment's handling and
	// maintenance window ("" leaves them out).
	Download, Update, Window string
	// Confirm makes the action wait for the device's confirmation.
	Confirm bool
}

// Feedback is one feedback a target sent.
type Feedback struct {
	Kind     string // deployment, cancel, confirmation
	ActionID string
	Status   ddi.Status               // deployment and cancel
	Confirm  ddi.ConfirmationFeedback // confirmation
	At       int                      // the server's request count when it came
}

// Target is what the server knows of one controller.
type Target struct {
	ID         string
	Polls      int
	Action     *Action
	ActionID   string
	State      string // running, waiting (for confirmation), finished, error, canceled
	CancelID   string // a cancel asked for and not answered
	Feedback   []Feedback
	ConfigData map[string]string
	Installed  ddi.AssignedVersion
	files      map[string]*faultserve.File
}

// New returns a server for tenant with token.
func New(tenant, token string, sleep time.Duration) *Server {
	return &Server{Tenant: tenant, Token: token, Sleep: sleep, targets: map[string]*Target{}, artifacts: map[string][]byte{}, nextID: 1}
}

// AddArtifact makes data downloadable as name.
func (s *Server) AddArtifact(name string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.artifacts[name] = data
}

// SetFaults replaces the server's faults.
func (s *Server) SetFaults(f Faults) { s.mu.Lock(); s.faults = f; s.mu.Unlock() }

// SetArtifactFaults replaces the faults of every artifact download, of
// targets to come and of those already downloading.
func (s *Server) SetArtifactFaults(f faultserve.Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afaults = f
	for _, t := range s.targets {
		for _, file := range t.files {
			file.SetFaults(f)
		}
	}
}

// Assign gives controller a new action and returns its id.
func (s *Server) Assign(controller string, a Action) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.target(controller)
	id := strconv.Itoa(s.nextID)
	s.nextID++
	t.Action, t.ActionID, t.State, t.CancelID = &a, id, "running", ""
	if a.Confirm {
		t.State = "waiting"
	}
	return id
}

// Cancel asks controller to cancel its action.
func (s *Server) Cancel(controller string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.target(controller)
	t.CancelID = strconv.Itoa(s.nextID)
	s.nextID++
	return t.CancelID
}

// SetWindow changes the maintenance window of controller's action.
func (s *Server) SetWindow(controller, window string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.target(controller); t.Action != nil {
		t.Action.Window = window
	}
}

// Target returns a copy of what the server knows of controller.
func (s *Server) Target(controller string) Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := *s.target(controller)
	t.Feedback = append([]Feedback(nil), t.Feedback...)
	t.files = nil
	return t
}

// ArtifactStats returns what controller's downloads cost, summed.
func (s *Server) ArtifactStats(controller string) faultserve.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum faultserve.Stats
	for _, f := range s.target(controller).files {
		st := f.Stats()
		sum.Requests += st.Requests
		sum.RangeRequests += st.RangeRequests
		sum.Sent += st.Sent
		sum.Unique += st.Unique
	}
	return sum
}

func (s *Server) target(id string) *Target {
	t := s.targets[id]
	if t == nil {
		t = &Target{ID: id, files: map[string]*faultserve.File{}}
		s.targets[id] = t
	}
	return t
}

// ServeHTTP routes /{tenant}/controller/v1/{controllerId}[/...].
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+s.Tenant+"/controller/v1/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	cid, sub, _ := strings.Cut(rest, "/")
	kind := kindOf(sub)
	if code, retryAfter := s.fault(r, kind); code != 0 {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		}
		http.Error(w, http.StatusText(code), code)
		return
	}
	if s.OnRequest != nil {
		s.OnRequest(kind, false)
	}
	base := "http://" + r.Host + "/" + s.Tenant + "/controller/v1/" + cid
	parts := strings.Split(sub, "/")
	switch {
	case sub == "" && r.Method == http.MethodGet:
		s.base(w, cid, base)
	case parts[0] == "deploymentBase" && len(parts) == 2 && r.Method == http.MethodGet:
		s.deployment(w, cid, parts[1], base)
	case parts[0] == "deploymentBase" && len(parts) == 3 && parts[2] == "feedback" && r.Method == http.MethodPost:
		s.feedback(w, r, cid, "deployment", parts[1])
	case parts[0] == "confirmationBase" && len(parts) == 1 && r.Method == http.MethodGet:
		s.confirmationBase(w, cid, base)
	case parts[0] == "confirmationBase" && len(parts) == 2 && r.Method == http.MethodGet:
		s.confirmation(w, cid, parts[1], base)
	case parts[0] == "confirmationBase" && len(parts) == 3 && parts[2] == "feedback" && r.Method == http.MethodPost:
		s.feedback(w, r, cid, "confirmation", parts[1])
	case parts[0] == "cancelAction" && len(parts) == 2 && r.Method == http.MethodGet:
		s.cancel(w, cid, parts[1])
	case parts[0] == "cancelAction" && len(parts) == 3 && parts[2] == "feedback" && r.Method == http.MethodPost:
		s.feedback(w, r, cid, "cancel", parts[1])
	case sub == "configData" && r.Method == http.MethodPut:
		s.configData(w, r, cid)
	case sub == "installedBase" && r.Method == http.MethodPut:
		s.installedBase(w, r, cid)
	case parts[0] == "softwaremodules" && len(parts) == 4 && parts[2] == "artifacts":
		s.artifact(w, r, cid, parts[3])
	default:
		http.Error(w, "no such DDI resource", http.StatusNotFound)
	}
}

func kindOf(sub string) string {
	first, _, _ := strings.Cut(sub, "/")
	switch {
	case sub == "":
		return "base"
	case strings.HasSuffix(sub, "/feedback"):
		return "feedback"
	case first == "softwaremodules":
		return "artifact"
	}
	return first
}

// fault decides a request's fault, and checks its token.
func (s *Server) fault(r *http.Request, kind string) (code, retryAfter int) {
	s.mu.Lock()
	s.n++
	f := s.faults
	switch {
	case f.Down:
		code = http.StatusServiceUnavailable
	case f.TooMany > 0:
		s.faults.TooMany--
		code, retryAfter = http.StatusTooManyRequests, f.RetryAfter
	case f.Error5xxEvery > 0 && s.n%f.Error5xxEvery == 0:
		code = http.StatusInternalServerError
	case s.Token != "" && r.Header.Get("Authorization") != "TargetToken "+s.Token:
		code = http.StatusUnauthorized
	}
	s.mu.Unlock()
	if code != 0 && s.OnRequest != nil {
		s.OnRequest(kind, true)
	}
	return code, retryAfter
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/hal+json")
	json.NewEncoder(w).Encode(v)
}

// readBody decodes a request body strictly into v: a client that sends
// a field the DDI shapes do not have, or a bad value, is refused.
func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b := make([]byte, ddi.MaxBody+1)
	n, _ := readFull(r, b)
	if err := ddi.Decode(b[:n], v, true); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func readFull(r *http.Request, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Body.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// errorf answers 400 with a reason.
func errorf(w http.ResponseWriter, format string, a ...any) {
	http.Error(w, fmt.Sprintf(format, a...), http.StatusBadRequest)
}
