package updater

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/ubootenv"
)

// Reboot policies of [update] reboot.
const (
	RebootApprove = "approve"
	RebootWindow  = "window"
	RebootAuto    = "auto"
)

// Config wires an Updater. Bootloader, StateFile, Slots, Compatible and
// KeysDir are required.
type Config struct {
	Bootloader Bootloader
	// Storage carries every write (slots, state file); nil is the real
	// file system. Tests cut the power through it.
	Storage ubootenv.Storage
	// StateFile is the updater's state on the data partition.
	StateFile string
	// Slots are the devices (or, simulated, files) of slots A and B.
	Slots map[Slot]string
	// Cmdline is where lockd.slot= is read (/proc/cmdline).
	Cmdline string
	// Mountinfo defaults to /proc/self/mountinfo.
	Mountinfo string
	// BootID defaults to /proc/sys/kernel/random/boot_id.
	BootID string
	// KeysDir holds the trusted *.pub keys, read at every install so a
	// rotated key needs no restart.
	KeysDir string
	// Compatible is this unit's hardware.
	Compatible string
	// BootedVersion is the version of the running root file system; ""
	// takes the state file's record of the booted slot (UnknownVersion
	// without one).
	BootedVersion string
	// TryBoots is lockd_try_left when armed (default 3).
	TryBoots int
	// CommitAfter is how long lockd must be healthy on a trial boot
	// before it commits (default 60 s); TrialTimeout how long a trial may
	// take to get there before it is given up (default 3×CommitAfter).
	CommitAfter, TrialTimeout time.Duration
	// Policy is RebootApprove, RebootWindow or RebootAuto; Window the
	// minutes after midnight [from, to) of RebootWindow, local time.
	Policy string
	Window [2]int
	// Health reports whether lockd is healthy (database, hardware, D-Bus,
	// watchdog); nil error means healthy. Required for a trial.
	Health func() error
	// Quiet reports "" when the lock allows a reboot now (bolt locked,
	// door closed, no key for 2 minutes, no lockout), else what the reboot
	// waits for.
	Quiet func() string
	// Reboot reboots the machine into an armed trial, passing param (see
	// Bootloader.RebootParam). It returns once the reboot is under way.
	Reboot func(ctx context.Context, param string) error
	// GiveUp ends a trial boot that did not get healthy in time; in
	// production lockd exits with a failure and the unit's FailureAction
	// reboots, which the boot script counts.
	GiveUp func(reason string)
	// Now defaults to time.Now; Log to slog.Default().
	Now func() time.Time
	Log *slog.Logger
}

// Errors of Install and the other commands. Bundle refusals wrap the
// bundle package's errors (bundle.ErrIncompatible, ...).
var (
	ErrBusy        = errors.New("updater: busy")
	ErrNothing     = errors.New("updater: no update is pending")
	ErrUnavailable = errors.New("updater: unavailable")
)

// Event is something the owner should hear of.
type Event struct {
	Kind    string // update-installed, update-armed, update-committed, update-rolled-back, update-rejected, update-failed
	Version string
	Slot    Slot
	Detail  string
}

// Status is a snapshot for D-Bus and lockctl.
type Status struct {
	// Operation: idle, verifying, writing, syncing, pending, armed,
	// rebooting, trial, committing, unavailable.
	Operation string
	Progress  int
	LastError string
	Booted    Slot
	Committed Slot
	Slots     map[Slot]SlotInfo
	Pending   *Pending
	// Waiting says what a pending update waits for.
	Waiting string
	Policy  string
	History []Record
}

// Updater owns the update state; see the package documentation.
type Updater struct {
	cfg    Config
	st     ubootenv.Storage
	file   stateFile
	log    *slog.Logger
	booted Slot
	bootID string

	mu        sync.Mutex
	state     *State // nil when unusable (broken)
	broken    error
	op        string
	progress  int
	waiting   string
	trial     bool
	trialFrom time.Time // when this trial boot's gate started
	// trialBroken: a trial boot (lockd.trial=1) whose updater is broken.
	trialBroken bool
	healthy     time.Time // start of the current healthy streak
	approve     chan struct{}
	committed   Slot // as the bootloader said at start, or since the commit
	changed     chan struct{}

	subsMu  sync.Mutex
	started bool // New has returned: events go to subscribers
	subs    map[chan Event]struct{}
	startup []Event // what New found (a rollback): replayed to subscribers
}

// New checks cfg and reads the state file and the bootloader. It never
// fails for a problem the lock can run with: a missing lockd.slot=, an
// unreadable environment or a corrupt state file make the updater
// unavailable (Status says why), not lockd.
func New(ctx context.Context, cfg Config) (*Updater, error) {
	if cfg.Bootloader == nil || cfg.StateFile == "" || cfg.Slots[SlotA] == "" || cfg.Slots[SlotB] == "" {
		return nil, errors.New("updater: config needs a bootloader, a state file and both slots")
	}
	if cfg.Slots[SlotA] == cfg.Slots[SlotB] {
		return nil, fmt.Errorf("updater: slots A and B are the same device %s", cfg.Slots[SlotA])
	}
	if cfg.Compatible == "" || cfg.KeysDir == "" {
		return nil, errors.New("updater: config needs compatible and the keys directory")
	}
	if cfg.BootedVersion != "" {
		if _, err := bundle.ParseVersion(cfg.BootedVersion); err != nil {
			return nil, fmt.Errorf("updater: booted version: %w", err)
		}
	}
	if cfg.Storage == nil {
		cfg.Storage = ubootenv.OS{}
	}
	if cfg.Mountinfo == "" {
		cfg.Mountinfo = "/proc/self/mountinfo"
	}
	if cfg.BootID == "" {
		cfg.BootID = "/proc/sys/kernel/random/boot_id"
	}
	if cfg.Cmdline == "" {
		cfg.Cmdline = "/proc/cmdline"
	}
	if cfg.TryBoots == 0 {
		cfg.TryBoots = 3
	}
	if cfg.CommitAfter == 0 {
		cfg.CommitAfter = 60 * time.Second
	}
	if cfg.TrialTimeout == 0 {
		cfg.TrialTimeout = 3 * cfg.CommitAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Policy == "" {
		cfg.Policy = RebootApprove
	}
	u := &Updater{cfg: cfg, st: cfg.Storage, file: stateFile{path: cfg.StateFile, st: cfg.Storage},
		log: cfg.Log, op: "idle", subs: map[chan Event]struct{}{}, changed: make(chan struct{}, 1),
		approve: make(chan struct{}, 1)}
	if err := u.start(ctx); err != nil {
		u.broken = err
		u.op = "unavailable"
		u.state = nil
		u.log.Error("updater: unavailable", "err", err)
		// A trial boot whose updater cannot run cannot commit: it must
		// not sit uncommitted until someone cuts the power. Give it up.
		// The boot script says trial on the command line; the Pi
		// firmware's tryboot only in its flag, which State reads.
		trialBoot := false
		if b, rerr := os.ReadFile(cfg.Cmdline); rerr == nil && slices.Contains(cmdlineArgs(b)["lockd.trial"], "1") {
			trialBoot = true
		} else if bs, serr := cfg.Bootloader.State(ctx); serr == nil && bs.TrialBoot {
			trialBoot = true
		}
		if trialBoot {
			u.trial, u.trialBroken = true, true
		}
	}
	u.subsMu.Lock()
	u.started = true
	u.subsMu.Unlock()
	return u, nil
}

// start reconciles the state file with the boot chain at startup.
func (u *Updater) start(ctx context.Context) error {
	cmdline, err := os.ReadFile(u.cfg.Cmdline)
	if err != nil {
		return fmt.Errorf("updater: %w", err)
	}
	if u.booted, err = bootedSlot(cmdline, u.cfg.Slots); err != nil {
		return err
	}
	id, err := os.ReadFile(u.cfg.BootID)
	if err != nil {
		return fmt.Errorf("updater: boot id: %w", err)
	}
	u.bootID = strings.TrimSpace(string(id))
	bs, err := u.cfg.Bootloader.State(ctx)
	if err != nil {
		return err
	}
	u.committed = bs.Committed
	s, err := u.file.load()
	if err == nil && u.cfg.BootedVersion == "" {
		u.cfg.BootedVersion = recordedVersion(s, u.booted)
	}
	if u.cfg.BootedVersion == "" {
		u.cfg.BootedVersion = UnknownVersion
		u.log.Warn("updater: the running version is unknown; any signed, compatible bundle counts as newer", "assumed", UnknownVersion)
	}
	if errors.Is(err, errNoState) {
		// A fresh unit: what runs is good and committed.
		s = newState()
		s.Slots[u.booted] = SlotInfo{State: SlotGood, Version: u.cfg.BootedVersion}
		s.record(Record{Time: u.cfg.Now(), Event: "first-boot", Slot: u.booted, Version: u.cfg.BootedVersion})
		if err := u.file.save(s); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("%w (the file is kept as it is; updates stay off until it is repaired or removed)", err)
	}
	u.state = s
	return u.reconcile(ctx, bs)
}

// UnknownVersion is what a unit that cannot tell its version runs.
const UnknownVersion = "0.0.0"

// recordedVersion is the version the state file says the booted slot holds.
func recordedVersion(s *State, booted Slot) string {
	if p := s.Pending; p != nil && p.Slot == booted {
		return p.Version
	}
	if info := s.Slots[booted]; info.State == SlotGood || info.State == SlotTrial {
		return info.Version
	}
	return ""
}

// reconcile decides, from the state file, the boot chain and this boot,
// whether this is a trial to prove, an armed switch still waiting for its
// reboot, a trial the boot chain gave up, or a plain committed boot.
func (u *Updater) reconcile(ctx context.Context, bs BootState) error {
	s := u.state.clone()
	p := s.Pending
	onTrial := bs.Trial != "" && (bs.TrialBoot || (u.booted == bs.Trial && !bs.Spent))
	switch {
	case onTrial:
		if p == nil || p.Slot != u.booted {
			// Armed by someone else (fw_setenv by hand): prove it all
			// the same, the way an update is proved.
			p = &Pending{Slot: u.booted, Version: u.cfg.BootedVersion, Phase: PhaseArmed}
			s.Pending = p
		}
		p.Phase = PhaseArmed
		info := s.Slots[u.booted]
		info.State = SlotTrial
		s.Slots[u.booted] = info
		u.trial = true
		u.trialFrom = u.cfg.Now()
		u.op = "trial"
		u.log.Info("updater: booted on trial", "slot", u.booted, "version", u.cfg.BootedVersion, "tries_left", bs.TriesLeft)
		return u.save(s)

	case p != nil && p.Phase == PhaseArmed && p.ArmedBoot == u.bootID:
		// lockd restarted after arming, before the reboot.
		u.op = "armed"
		return nil

	case p != nil && p.Phase == PhaseArmed && u.booted == p.Slot && bs.Committed == p.Slot:
		// The commit reached the bootloader; the state file did not.
		u.finishCommit(s)
		u.emit(Event{Kind: "update-committed", Version: p.Version, Slot: p.Slot})
		return u.save(s)

	case p != nil && p.Phase == PhaseArmed && u.booted != p.Slot && !bs.Spent && bs.Trial == "":
		// Cut between writing "armed" and the bootloader write: the
		// switch never happened. The verified image still waits.
		// The approval is spent: the owner decides again.
		p.Phase, p.ArmedBoot, p.Approved = PhaseInstalled, "", false
		s.record(Record{Time: u.cfg.Now(), Event: "arm-interrupted", Slot: p.Slot, Version: p.Version,
			Detail: "the switch to the new slot did not complete; the update waits again"})
		u.op = "pending"
		return u.save(s)

	case p != nil && p.Phase == PhaseArmed && u.booted != p.Slot:
		// The boot chain gave up the trial (or it never ran).
		return u.rollback(ctx, s, bs)

	case bs.Spent || bs.Trial != "" && u.booted != bs.Trial && p == nil:
		// Leftovers in the bootloader that no update of ours explains.
		u.log.Warn("updater: clearing a trial no update explains", "trial", bs.Trial, "spent", bs.Spent)
		if err := u.cfg.Bootloader.Disarm(ctx); err != nil {
			return err
		}
	}
	if p != nil && p.Phase == PhaseInstalled {
		u.op = "pending"
	}
	if u.booted != bs.Committed && !onTrial {
		return fmt.Errorf("updater: booted slot %s is not the committed slot %s and is no trial; updates stay off", u.booted, bs.Committed)
	}
	return nil
}

// rollback records a trial the boot chain abandoned: the slot is bad, the
// owner is told, the bootloader is cleaned. The state goes first, so a cut
// in between repeats the cleanup, never the trial.
func (u *Updater) rollback(ctx context.Context, s *State, bs BootState) error {
	p := s.Pending
	tries := u.cfg.TryBoots
	if c, ok := u.cfg.Bootloader.(TrialCounter); ok {
		tries = c.TrialBoots(tries)
	}
	boots := "boots"
	if tries == 1 {
		boots = "boot"
	}
	msg := fmt.Sprintf("update %s rolled back after %d failed %s of slot %s", p.Version, tries, boots, p.Slot)
	if !bs.Spent {
		msg = fmt.Sprintf("update %s rolled back: slot %s was not booted on trial", p.Version, p.Slot)
	}
	s.Slots[p.Slot] = SlotInfo{State: SlotBad, Version: p.Version, SecurityVersion: p.SecurityVersion}
	s.Pending = nil
	s.LastError = msg
	s.record(Record{Time: u.cfg.Now(), Event: "rolled-back", Slot: p.Slot, Version: p.Version, Detail: msg})
	if err := u.save(s); err != nil {
		return err
	}
	u.log.Error("updater: "+msg, "slot", p.Slot, "version", p.Version)
	u.emit(Event{Kind: "update-rolled-back", Version: p.Version, Slot: p.Slot, Detail: msg})
	if err := u.cfg.Bootloader.Disarm(ctx); err != nil {
		return err
	}
	return nil
}

// finishCommit updates s for a committed trial.
func (u *Updater) finishCommit(s *State) {
	p := s.Pending
	info := s.Slots[p.Slot]
	info.State, info.Version = SlotGood, p.Version
	if p.SecurityVersion > 0 {
		info.SecurityVersion = p.SecurityVersion
	}
	s.Slots[p.Slot] = info
	s.MinSecurityVersion = max(s.MinSecurityVersion, p.SecurityVersion)
	s.Pending = nil
	s.LastError = ""
	s.record(Record{Time: u.cfg.Now(), Event: "committed", Slot: p.Slot, Version: p.Version,
		Detail: "from " + p.FromVersion})
}

// save writes s and makes it current.
func (u *Updater) save(s *State) error {
	if err := u.file.save(s); err != nil {
		return err
	}
	u.state = s
	u.notify()
	return nil
}

// Booted returns the slot running now ("" when unknown).
func (u *Updater) Booted() Slot { return u.booted }

// Status returns a snapshot.
func (u *Updater) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := Status{Operation: u.op, Progress: u.progress, Booted: u.booted, Committed: u.committed,
		Policy: u.cfg.Policy, Waiting: u.waiting, Slots: map[Slot]SlotInfo{}}
	if u.broken != nil {
		st.LastError = u.broken.Error()
		return st
	}
	s := u.state
	st.LastError = s.LastError
	for k, v := range s.Slots {
		st.Slots[k] = v
	}
	if s.Pending != nil {
		p := *s.Pending
		st.Pending = &p
	}
	st.History = append([]Record(nil), s.History...)
	return st
}

// Changed is signalled (without blocking) whenever Status may have
// changed.
func (u *Updater) Changed() <-chan struct{} { return u.changed }

func (u *Updater) notify() {
	select {
	case u.changed <- struct{}{}:
	default:
	}
}

// Subscribe returns a stream of events; stop ends it. A slow subscriber
// loses events rather than stalling the updater. What New found at start
// (a rolled-back trial) comes first, to every subscriber.
func (u *Updater) Subscribe(n int) (<-chan Event, func()) {
	ch := make(chan Event, n)
	u.subsMu.Lock()
	for _, e := range u.startup {
		select {
		case ch <- e:
		default:
		}
	}
	u.subs[ch] = struct{}{}
	u.subsMu.Unlock()
	return ch, func() {
		u.subsMu.Lock()
		delete(u.subs, ch)
		u.subsMu.Unlock()
	}
}

// emit sends e to every subscriber; callable with u.mu held or not.
func (u *Updater) emit(e Event) {
	u.subsMu.Lock()
	defer u.subsMu.Unlock()
	if !u.started {
		u.startup = append(u.startup, e)
		return
	}
	for ch := range u.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// setOp changes the running operation.
func (u *Updater) setOp(op string, pct int) {
	u.mu.Lock()
	changed := u.op != op || u.progress != pct
	u.op, u.progress = op, pct
	u.mu.Unlock()
	if changed {
		u.notify()
	}
}

// InstallOptions are the owner's choices for one install.
type InstallOptions struct {
	// AllowDowngrade installs a version not newer than the booted one;
	// never one below the minimum security version.
	AllowDowngrade bool
}

// Install verifies the bundle in f — signature, compatible, version,
// security version, size, and every stored byte against the signed
// manifest — before it writes one byte; a refusal is returned and changes
// nothing. Then it writes the inactive slot in the background, reading f
// a second time, and returns; Status follows the install, which ends
// "pending" or with LastError set. f must be a regular file (the D-Bus
// caller's descriptor); it is read with pread, so its offset does not
// matter, and closed when the install ends.
func (u *Updater) Install(ctx context.Context, f *os.File, o InstallOptions) error {
	src, err := newFileSource(f)
	if err != nil {
		return err
	}
	return u.InstallSource(ctx, src, o)
}

// InstallSource is Install for any Source: the same checks, in the same
// order, before one byte is written; src is closed when the install ends.
// A download (a Source that is Remote) ends its reads when its own
// context ends, which fails the install like a bad read of a file would.
func (u *Updater) InstallSource(ctx context.Context, f Source, o InstallOptions) error {
	if err := u.beginInstall(); err != nil {
		f.Close()
		return err
	}
	checked := make(chan error, 1)
	// The caller hears either nil, and the slot is written, or an error,
	// and nothing is: once ctx ends, checks that pass afterwards write
	// nothing (abandoned), and a write that has begun is reported as nil.
	var (
		decide    sync.Mutex
		abandoned bool
	)
	go func() {
		defer f.Close()
		// The whole install, checks included, runs on a thread of its own
		// at idle I/O and lowest CPU priority.
		if err := lowPriority(); err != nil {
			u.log.Warn("updater: install runs at normal priority", "err", err)
		}
		target, m, br, err := u.prepare(ctx, f, o)
		decide.Lock()
		if err == nil && abandoned {
			br.Close()
			err = fmt.Errorf("updater: the caller gave up before the checks ended: %w", ctx.Err())
		}
		if err != nil {
			decide.Unlock()
			u.endInstall(err, "", false)
			checked <- err
			return
		}
		checked <- nil
		decide.Unlock()
		defer br.Close()
		err = u.write(context.WithoutCancel(ctx), target, m, br, f)
		u.endInstall(err, m.Version, true)
	}()
	select {
	case err := <-checked:
		return err
	case <-ctx.Done():
		decide.Lock()
		defer decide.Unlock()
		select {
		case err := <-checked:
			return err // decided just before: the install goes on
		default:
		}
		abandoned = true
		// The checks may run on for a while; they end in a refusal.
		return ctx.Err()
	}
}

// beginInstall claims the updater for one install.
func (u *Updater) beginInstall() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.broken != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, u.broken)
	}
	if err := u.admit(cmdInstall); err != nil {
		return err
	}
	if p := u.state.Pending; p != nil && p.Phase == PhaseArmed {
		return fmt.Errorf("%w: update %s is armed for the next boot", ErrBusy, p.Version)
	}
	u.op, u.progress = "verifying", 0
	u.notify()
	return nil
}

// endInstall records how an install ended. A refusal (written false)
// changed nothing and is not kept in the state file: the caller got it.
func (u *Updater) endInstall(err error, version string, written bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.progress = 0
	if u.state.Pending != nil && u.state.Pending.Phase == PhaseInstalled {
		u.op = "pending"
		// Wake Run: the policy's verdict (Waiting) shows at once.
		select {
		case u.approve <- struct{}{}:
		default:
		}
	} else {
		u.op = "idle"
	}
	if err != nil && written {
		s := u.state.clone()
		s.LastError = err.Error()
		s.record(Record{Time: u.cfg.Now(), Event: "failed", Version: version, Detail: err.Error()})
		if serr := u.save(s); serr != nil {
			u.log.Error("updater: cannot record a failed install", "err", serr)
		}
		u.emit(Event{Kind: "update-failed", Version: version, Detail: err.Error()})
	}
	if err != nil {
		u.log.Error("updater: install failed", "err", err, "written", written)
	}
	u.notify()
}

// prepare checks the target slot and the bundle; nothing is written. A
// format-1 bundle, or any while an update is pending in the target slot,
// gets a first pass over every stored byte (VerifyStored), and a second
// Open, returned, is for the install; an indexed bundle otherwise is
// returned as it is, for the install to check chunk by chunk as it
// writes (see onePass).
func (u *Updater) prepare(ctx context.Context, f Source, o InstallOptions) (Slot, bundle.Manifest, *bundle.Reader, error) {
	fail := func(err error) (Slot, bundle.Manifest, *bundle.Reader, error) {
		return "", bundle.Manifest{}, nil, err
	}
	keys, err := bundle.LoadKeyring(u.cfg.KeysDir)
	if err != nil {
		return fail(fmt.Errorf("updater: trusted keys: %w", err))
	}
	target := u.booted.Other()
	dev := u.cfg.Slots[target]
	if err := checkNotInUse(dev, u.cfg.Mountinfo); err != nil {
		return fail(err)
	}
	size, err := slotSize(dev)
	if err != nil {
		return fail(err)
	}
	first, err := bundle.Open(io.NewSectionReader(f, 0, f.Size()), keys)
	if err != nil {
		return fail(err)
	}
	m := first.Manifest()
	signed := first.ManifestBytes()
	u.mu.Lock()
	minSec, pending := u.state.MinSecurityVersion, u.state.Pending != nil
	u.mu.Unlock()
	err = bundle.Check(m, bundle.Policy{Compatible: u.cfg.Compatible, BootedVersion: u.cfg.BootedVersion,
		MinSecurityVersion: minSec, AllowDowngrade: o.AllowDowngrade, SlotSize: size})
	if err == nil && onePass(first, pending) {
		// Every chunk is checked against the signed index before one
		// byte of it is written: one pass over the stored bytes.
		if err := ctx.Err(); err != nil {
			first.Close()
			return fail(err)
		}
		return target, m, first, nil
	}
	if err == nil {
		err = first.VerifyStored()
	}
	first.Close()
	if err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	br, err := bundle.Open(io.NewSectionReader(f, 0, f.Size()), keys)
	if err != nil {
		return fail(fmt.Errorf("updater: bundle changed while it was read: %w", err))
	}
	if !bytes.Equal(br.ManifestBytes(), signed) {
		br.Close()
		return fail(errors.New("updater: bundle changed while it was read"))
	}
	return target, m, br, nil
}

// write invalidates the target in the state file, writes and verifies the
// image, and records it as pending.
//
// An update that was pending lives in the target slot, so it is gone once
// writing begins, whether the write succeeds or not: prepare has refused
// every bundle it can before this point (VerifyStored walks the zstd
// stream), the history records the replacement, and a failed write says
// in LastError and its event that the pending update went with it.
func (u *Updater) write(ctx context.Context, target Slot, m bundle.Manifest, br *bundle.Reader, f Source) error {
	u.mu.Lock()
	s := u.state.clone()
	replaced := s.Pending
	s.Slots[target] = SlotInfo{State: SlotEmpty}
	s.Pending = nil // a newer install replaces one that waited
	s.LastError = ""
	if replaced != nil {
		s.record(Record{Time: u.cfg.Now(), Event: "replaced", Slot: replaced.Slot, Version: replaced.Version,
			Detail: "discarded for the install of " + m.Version + " into its slot"})
	}
	err := u.save(s)
	u.mu.Unlock()
	if err != nil {
		return err
	}
	progress := func(op string, pct int) { u.setOp(op, pct) }
	stats, err := writeImage(ctx, u.st, u.cfg.Slots[target], u.cfg.Slots[target.Other()], f, br, progress)
	u.log.Info("updater: slot written", "slot", target, "mode", stats.Mode, "ok", err == nil,
		"written", stats.Written, "bundle_read", stats.BundleRead, "reused_slot", stats.ReusedTarget, "reused_active", stats.ReusedActive,
		"decode", stats.Decode, "write", stats.Write, "sync", stats.Sync, "read_back", stats.ReadBack, "scan", stats.Scan, "total", stats.Total)
	if err != nil {
		if replaced != nil {
			return fmt.Errorf("%w (update %s, which was pending in slot %s, was discarded when this install began writing that slot; install it again)",
				err, replaced.Version, target)
		}
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	s = u.state.clone()
	s.Slots[target] = SlotInfo{State: SlotInstalled, Version: m.Version, SecurityVersion: m.SecurityVersion,
		Size: m.Image.Size, SHA256: m.Image.SHA256}
	s.Pending = &Pending{Slot: target, Version: m.Version, FromVersion: u.cfg.BootedVersion,
		SecurityVersion: m.SecurityVersion, Phase: PhaseInstalled, Installed: u.cfg.Now()}
	s.record(Record{Time: u.cfg.Now(), Event: "installed", Slot: target, Version: m.Version})
	if err := u.save(s); err != nil {
		return err
	}
	u.log.Info("updater: installed", "slot", target, "version", m.Version)
	u.emit(Event{Kind: "update-installed", Version: m.Version, Slot: target})
	return nil
}
