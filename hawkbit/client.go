package hawkbit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/internal/retry"
	"lockd.dev/lockd/updater"
)

// Updater is what the client needs of the A/B updater
// (*updater.Updater). InstallSource returns once the bundle's checks
// passed (then it writes in the background) or with the refusal; Status's
// History is the record the client reports from.
type Updater interface {
	Status() updater.Status
	InstallSource(ctx context.Context, src updater.Source, o updater.InstallOptions) error
	Approve(ctx context.Context) error
	Withdraw(ctx context.Context) error
}

// Opener starts the download of a bundle at url, sending header with
// every request (updater/httpsource.Open, wired in cmd/lockd). The
// download ends when ctx does.
type Opener func(ctx context.Context, url string, header http.Header) (updater.Source, error)

// Config wires a Client. Server, Tenant, ControllerID, StateFile,
// Updater and Open are required.
type Config struct {
	// Server is the base URL (https://host[:port][/path]); Tenant and
	// ControllerID make the rest of the DDI root: SERVER/TENANT/controller/v1/ID.
	Server, Tenant, ControllerID string
	// Authorization is the header sent with every DDI request
	// ("TargetToken ..." or "GatewayToken ..."; ReadToken), "" for none.
	Authorization string
	// Client makes the DDI requests (internal/tlsclient).
	Client *http.Client
	// StateFile keeps the action across reboots.
	StateFile string
	Updater   Updater
	Open      Opener
	// Compatible is this unit's model, for configData.
	Compatible string
	// Policy is the owner's reboot policy (updater.RebootApprove, ...):
	// with approve, an action the server asks to confirm waits for
	// `lockctl update approve`; with window or auto the owner has
	// consented to updates already, and the client confirms it.
	Policy string
	// MinSleep and MaxSleep bound the server's polling period (default
	// 10 s and 24 h); Follow is how often a running install or trial is
	// looked at between polls (default 5 s).
	MinSleep, MaxSleep, Follow time.Duration
	// Backoff spaces polls after errors (default 10 s doubling to 15 min).
	Backoff retry.Backoff
	// MaxAttempts is how many installs of one action may fail (a
	// download that gave up, a write error) before it is reported failed
	// (default 3).
	MaxAttempts int
	// Clock and Rand default to the real ones.
	Clock retry.Clock
	Rand  func() float64
	Log   *slog.Logger
}

// Client speaks DDI for one controller; see the package comment.
type Client struct {
	cfg  Config
	root string // the DDI root URL of this controller
	orig *url.URL
	file stateFile

	mu       sync.Mutex
	st       state
	hold     string // what the server's deployment makes the reboot wait for
	status   Status
	changed  chan struct{}
	wake     chan struct{}
	failures int                     // polls in a row that failed
	stopDL   context.CancelCauseFunc // ends the running download
	progress int                     // last progress reported, in tenths
	said     map[string]bool         // proceeding messages sent for this action
}

// Status is the client's state for the owner (lockctl update status).
type Status struct {
	// State: off, polling, offline (the server unreachable), consent
	// (an update waits for the owner's approval), installing, installed.
	State       string
	ActionID    string
	Version     string
	LastPoll    time.Time
	LastError   string
	NextPollDue time.Time
}

// New checks cfg and reads the state file.
func New(cfg Config) (*Client, error) {
	if cfg.Server == "" || cfg.Tenant == "" || cfg.ControllerID == "" || cfg.StateFile == "" || cfg.Updater == nil || cfg.Open == nil {
		return nil, errors.New("hawkbit: config needs the server, tenant, controller id, state file, updater and opener")
	}
	u, err := url.Parse(strings.TrimRight(cfg.Server, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("hawkbit: server %q: want https://HOST[:PORT][/PATH]", cfg.Server)
	}
	for _, part := range []string{cfg.Tenant, cfg.ControllerID} {
		if !ddi.ValidID(part) && !validName(part) {
			return nil, fmt.Errorf("hawkbit: tenant or controller id %q: letters, digits, '-', '_', '.' and ':' only, at most 64", part)
		}
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.MinSleep == 0 {
		cfg.MinSleep = 10 * time.Second
	}
	if cfg.MaxSleep == 0 {
		cfg.MaxSleep = 24 * time.Hour
	}
	if cfg.Follow == 0 {
		cfg.Follow = 5 * time.Second
	}
	if cfg.Backoff.Base == 0 {
		cfg.Backoff = retry.Backoff{Base: 10 * time.Second, Max: 15 * time.Minute, Rand: cfg.Rand}
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.Clock == nil {
		cfg.Clock = retry.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Client{cfg: cfg, orig: u, root: u.String() + "/" + cfg.Tenant + "/controller/v1/" + cfg.ControllerID,
		file: stateFile{path: cfg.StateFile}, changed: make(chan struct{}, 1), wake: make(chan struct{}, 1), said: map[string]bool{}}
	st, err := c.file.load()
	if err != nil {
		return nil, err
	}
	c.st = st
	c.status.State = "polling"
	return c, nil
}

// validName is a tenant or controller id: what goes into the path.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return false
		}
	}
	return true
}

// Run polls until ctx ends; it returns nil then. Between polls it
// follows a running install or trial every Follow, and the owner's
// consent makes it poll at once.
func (c *Client) Run(ctx context.Context) error {
	c.cfg.Log.Info("hawkbit: polling", "server", c.orig.Redacted(), "tenant", c.cfg.Tenant, "controller", c.cfg.ControllerID)
	for {
		wait := c.poll(ctx)
		due := c.cfg.Clock.Now().Add(wait)
		c.mu.Lock()
		c.status.NextPollDue = due
		c.mu.Unlock()
		for woke := false; !woke; {
			left := due.Sub(c.cfg.Clock.Now())
			if left <= 0 {
				break
			}
			if c.following() {
				left = min(left, c.cfg.Follow)
			}
			select {
			case <-ctx.Done():
				c.stopDownload(errors.New("lockd is stopping"))
				return nil
			case <-c.cfg.Clock.After(left):
			case <-c.wake:
				woke = true
			}
			c.follow(ctx)
		}
	}
}

// poke makes Run poll at once.
func (c *Client) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// poll is one look at the server; it returns how long to wait for the
// next one.
func (c *Client) poll(ctx context.Context) time.Duration {
	var base ddi.ControllerBase
	err := c.get(ctx, c.root, &base)
	if err != nil {
		return c.failed(err)
	}
	c.mu.Lock()
	c.failures = 0
	c.status.State, c.status.LastPoll, c.status.LastError = "polling", c.cfg.Clock.Now(), ""
	c.mu.Unlock()
	sleep := c.cfg.MaxSleep
	if d, err := ddi.ParseSleep(base.Config.Polling.Sleep); err == nil {
		sleep = min(max(d, c.cfg.MinSleep), c.cfg.MaxSleep)
	}
	// follow before configStep: a commit it reports changes the version.
	steps := []func(context.Context, ddi.ControllerBase) error{c.sendOwed, c.cancelStep, c.consentStep, c.deploymentStep, c.followStep, c.configStep}
	for _, step := range steps {
		if err := step(ctx, base); err != nil {
			c.cfg.Log.Warn("hawkbit: poll step failed", "err", err)
			c.setError(err)
		}
	}
	c.notify()
	return retry.Jitter(sleep, 0.1, c.cfg.Rand)
}

// failed records a failed poll and returns the backoff before the next.
func (c *Client) failed(err error) time.Duration {
	c.mu.Lock()
	n := c.failures
	c.failures++
	c.status.State, c.status.LastError = "offline", err.Error()
	c.mu.Unlock()
	wait := c.cfg.Backoff.Delay(n)
	var he *httpError
	if errors.As(err, &he) && he.retryAfter > wait {
		wait = he.retryAfter
	}
	c.cfg.Log.Warn("hawkbit: poll failed", "err", err, "failures", n+1, "retry_in", wait)
	c.notify()
	return wait
}

func (c *Client) setError(err error) {
	c.mu.Lock()
	c.status.LastError = err.Error()
	c.mu.Unlock()
}

// Status returns the client's state for the owner.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	if a := c.st.Action; a != nil {
		s.ActionID, s.Version = a.ID, a.Version
		switch a.Phase {
		case phaseConsent:
			s.State = "consent"
		case phaseInstalling:
			s.State = "installing"
		case phaseInstalled:
			s.State = "installed"
		}
	} else if s.State != "offline" {
		s.State = "polling"
	}
	return s
}

// Changed is signalled, coalesced, when Status may have changed.
func (c *Client) Changed() <-chan struct{} { return c.changed }

func (c *Client) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}
