package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/hawkbit/ddiserver"
	"lockd.dev/lockd/hawkbit/hawkbittest"
	"lockd.dev/lockd/internal/faultserve"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/bundle/bundletest"
)

// Fleet run (issue 13): in-process locks — each the real updater on the
// simulated boot chain with file-backed slots and the real hawkBit client
// downloading over HTTP on 127.0.0.1 — against ddiserver. In-process and
// not 100 lockd processes: the figures asked for are the protocol's
// (request rates, bytes, report order), which the same client code gives
// at a tenth of the memory, and time can be compressed: every clock of
// the run (polling, backoff, Retry-After, the updater's commit_after) is
// scaledClock, fleetScale simulated seconds to one real second. The idle
// lockd's CPU and RSS are measured on the real binary, in real time.
const (
	fleetScale   = 200
	fleetImage   = 1<<20 + 512<<10
	fleetSlot    = 2 << 20
	fleetPoll    = 5 * time.Minute // config.polling.sleep, hawkBit's default
	fleetOutage  = 60 * time.Second
	fleetCompat  = "lockd,fleet"
	fleetToken   = "fleet-bench-token"
	fleetVersion = "2.0.0"
)

// scaledClock runs fleetScale times faster than the real one.
type scaledClock struct{ start, base time.Time }

func (c scaledClock) Now() time.Time {
	return c.base.Add(time.Since(c.start) * fleetScale)
}

func (c scaledClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(d/fleetScale, func() { ch <- c.Now() })
	return ch
}

// sleepSim waits d of simulated time.
func (c scaledClock) sleepSim(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

// fleetLog counts requests by simulated second and checks each success
// against the lock that sends it.
type fleetLog struct {
	clock     scaledClock
	mu        sync.Mutex
	perSecond map[int]int // every request
	polls     map[int]int // the root resource alone
	units     map[string]*hawkbittest.Unit
	successes int
	early     []string
	failures  []string
}

func (l *fleetLog) request(kind string, _ bool) {
	s := int(l.clock.Now().Sub(l.clock.base) / time.Second)
	l.mu.Lock()
	l.perSecond[s]++
	if kind == "base" {
		l.polls[s]++
	}
	l.mu.Unlock()
}

func (l *fleetLog) feedback(cid string, fb ddiserver.Feedback) {
	if fb.Kind != "deployment" || fb.Status.Execution != ddi.ExecClosed {
		return
	}
	l.mu.Lock()
	u := l.units[cid]
	l.mu.Unlock()
	s := u.U.Status()
	committed := s.Booted == updater.SlotB && s.Committed == updater.SlotB && s.Slots[updater.SlotB].Version == fleetVersion && s.Pending == nil
	l.mu.Lock()
	defer l.mu.Unlock()
	if fb.Status.Result.Finished != ddi.FinishedSuccess {
		l.failures = append(l.failures, fmt.Sprintf("%s: %v", cid, fb.Status.Details))
		return
	}
	l.successes++
	if !committed {
		l.early = append(l.early, fmt.Sprintf("%s (booted %s, committed %s, op %s)", cid, s.Booted, s.Committed, s.Operation))
	}
}

// rate is the requests of m per simulated second over [from, to).
func (l *fleetLog) rate(m map[int]int, from, to time.Duration) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for s := int(from / time.Second); s < int(to/time.Second); s++ {
		n += m[s]
	}
	return float64(n) / (to - from).Seconds()
}

// peak is the highest rate of m over any 10 s window in [from, to).
func (l *fleetLog) peak(m map[int]int, from, to time.Duration) float64 {
	best := 0.0
	for t := from; t+10*time.Second <= to; t += time.Second {
		best = max(best, l.rate(m, t, t+10*time.Second))
	}
	return best
}

// storm prints the rates of m after the server came back, against steady.
func (l *fleetLog) storm(what string, m map[int]int, back time.Duration, steady float64) {
	r1, r5, pk := l.rate(m, back, back+time.Minute), l.rate(m, back, back+5*time.Minute), l.peak(m, back, back+5*time.Minute)
	fmt.Printf("fleet: %s after the server returned: first 60 s %.3f/s (%.2fx steady polling), first 5 min %.3f/s (%.2fx), peak 10 s %.3f/s (%.2fx)\n",
		what, r1, r1/steady, r5, r5/steady, pk, pk/steady)
}

func fleetBench(ctx context.Context, bin string, devices int, idleSpan time.Duration) error {
	dir, err := os.MkdirTemp("", "lockbench-fleet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		return err
	}
	if err := bundle.WriteKeyPair(filepath.Join(keys, "vendor"), priv); err != nil {
		return err
	}
	os.Remove(filepath.Join(keys, "vendor.key"))
	b, err := bundletest.MakeErr(priv, hawkbittest.Image(fleetVersion, fleetImage), bundletest.Options{Compatible: fleetCompat, Version: fleetVersion, ChunkSize: 64 << 10})
	if err != nil {
		return err
	}
	clock := scaledClock{start: time.Now(), base: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	flog := &fleetLog{clock: clock, perSecond: map[int]int{}, polls: map[int]int{}, units: map[string]*hawkbittest.Unit{}}
	srv := ddiserver.New("DEFAULT", fleetToken, fleetPoll)
	srv.OnRequest, srv.OnFeedback = flog.request, flog.feedback
	srv.AddArtifact("lockd-2.0.0.bundle", b)
	// Two cuts in each lock's download, besides what the outage breaks.
	const cutsPerLock = 2
	srv.SetArtifactFaults(faultserve.Faults{CutAt: []int64{int64(len(b)) / 3, int64(len(b)) * 2 / 3}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: devices}}

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	units := make([]*hawkbittest.Unit, devices)
	for i := range units {
		id := fmt.Sprintf("lock-%03d", i)
		u, err := hawkbittest.NewUnit(hawkbittest.Config{Dir: filepath.Join(dir, id), KeysDir: keys, Compatible: fleetCompat, Factory: "1.0.0",
			ImageSize: fleetImage, SlotSize: fleetSlot, Server: hs.URL, Tenant: "DEFAULT", ControllerID: id,
			Authorization: "TargetToken " + fleetToken, Policy: updater.RebootAuto, Clock: clock, DownloadClock: clock, HTTP: httpc,
			Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			return err
		}
		units[i] = u
		flog.units[id] = u
		wg.Add(1)
		go func() { defer wg.Done(); runFleetUnit(rctx, u) }()
	}
	defer func() { stop(); wg.Wait() }()

	at := func(d time.Duration) error { return clock.sleepSim(ctx, d-clock.Now().Sub(clock.base)) }
	steadyFrom, assign := 5*time.Minute, 20*time.Minute
	if err := at(assign); err != nil {
		return err
	}
	steady := flog.rate(flog.perSecond, steadyFrom, assign)
	for i := range units {
		srv.Assign(fmt.Sprintf("lock-%03d", i), ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: fleetVersion, Name: "lockd-rootfs"})
	}
	down := assign + 2*time.Minute
	if err := at(down); err != nil {
		return err
	}
	srv.SetFaults(ddiserver.Faults{Down: true})
	if err := at(down + fleetOutage); err != nil {
		return err
	}
	srv.SetFaults(ddiserver.Faults{})
	back := down + fleetOutage
	deadline := back + 3*time.Hour
	for {
		flog.mu.Lock()
		n := flog.successes + len(flog.failures)
		flog.mu.Unlock()
		if n >= devices || clock.Now().Sub(clock.base) > deadline {
			break
		}
		if err := clock.sleepSim(ctx, 10*time.Second); err != nil {
			return err
		}
	}
	end := clock.Now().Sub(clock.base)

	var sent, unique int64
	var requests []int
	for i := range units {
		st := srv.ArtifactStats(fmt.Sprintf("lock-%03d", i))
		sent += st.Sent
		unique += st.Unique
		requests = append(requests, st.Requests)
	}
	sort.Ints(requests)
	again := sent - unique
	fmt.Printf("fleet: %d simulated locks, in-process (updater + bootsim + hawkBit client over HTTP on 127.0.0.1), time compressed %dx; bundle %d KiB (indexed, 64 KiB chunks)\n",
		devices, fleetScale, len(b)>>10)
	fmt.Printf("fleet: steady polling (every %v ±10 %%) %.3f req/s; server down %v from +%v after the assignment\n", fleetPoll, steady, fleetOutage, down-assign)
	flog.storm("polls", flog.polls, back, steady)
	flog.storm("all requests (polls, deployments, feedback, downloads)", flog.perSecond, back, steady)
	fmt.Printf("fleet: downloads: %d cuts injected (%d a lock) + the outage; %d KiB sent twice in all, %.1f KiB a lock, %.1f KiB per injected cut; artifact requests a lock: median %d, max %d\n",
		devices*cutsPerLock, cutsPerLock, again>>10, float64(again)/1024/float64(devices), float64(again)/1024/float64(devices*cutsPerLock), requests[len(requests)/2], requests[len(requests)-1])
	flog.mu.Lock()
	fmt.Printf("fleet: %d of %d reported success, %d failure, within %v simulated after the assignment; successes before the lock's commit: %d (%.0f %%)\n",
		flog.successes, devices, len(flog.failures), (end - assign).Round(time.Minute), len(flog.early), 100*float64(len(flog.early))/float64(max(flog.successes, 1)))
	for _, e := range append(flog.early, flog.failures...) {
		fmt.Printf("fleet:   %s\n", e)
	}
	flog.mu.Unlock()
	return idlePolling(ctx, bin, idleSpan)
}

// runFleetUnit powers u on, runs its client, and powers it on again at
// every reboot the updater asks for, until ctx ends.
func runFleetUnit(ctx context.Context, u *hawkbittest.Unit) {
	defer u.PowerOff()
	for ctx.Err() == nil {
		if err := u.PowerOn(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "lockbench: fleet: power-on:", err)
			return
		}
		reboots := u.Reboots()
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); u.C.Run(cctx) }()
		for ctx.Err() == nil && u.Reboots() == reboots {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
	}
}

// idlePolling measures lockd --sim, the real binary, polling a DDI server
// with nothing to do every 10 s (the client's floor; hawkBit's default
// is 5 min), in real time.
func idlePolling(ctx context.Context, bin string, span time.Duration) error {
	if os.Geteuid() != 0 {
		// lockd reads the token only from a root-owned file.
		fmt.Println("fleet: idle polling: SKIPPED: the token file must be root's (sudo make bench)")
		return nil
	}
	dir, err := os.MkdirTemp("", "lockbench-idle-fleet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv := ddiserver.New("DEFAULT", fleetToken, 10*time.Second)
	polls := 0
	var mu sync.Mutex
	srv.OnRequest = func(kind string, _ bool) {
		if kind == "base" {
			mu.Lock()
			polls++
			mu.Unlock()
		}
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	token := filepath.Join(dir, "token")
	conf := filepath.Join(dir, "lockd.toml")
	if err := os.WriteFile(token, []byte(fleetToken+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return err
	}
	cfg := fmt.Sprintf("[update]\nbootloader = \"sim\"\ncompatible = \"lockd,sim\"\nkeys = %q\n[update.hawkbit]\nserver = %q\ncontroller_id = \"idle-lock\"\ntoken_file = %q\n",
		filepath.Join(dir, "keys"), hs.URL, token)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		return err
	}
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return err
	}
	cmd, _, err := startLockd(ctx, bin, state, "--config", conf, "--bus", noBus)
	if err != nil {
		return err
	}
	defer stopLockd(cmd)
	m, err := measureIdle(ctx, cmd, span)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if polls == 0 {
		return fmt.Errorf("idle polling: lockd never polled the DDI server (see %s)", filepath.Join(state, "lockd.stderr"))
	}
	fmt.Printf("fleet: idle lockd --sim polling every 10 s (%d polls) over %s\n", polls, m)
	return nil
}
