package tryboot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/ubootenv"
)

// DefaultTrybootFlag is where Linux shows the firmware's tryboot flag.
const DefaultTrybootFlag = "/proc/device-tree/chosen/bootloader/tryboot"

// Config says where autoboot.txt and the tryboot flag are.
type Config struct {
	// Path is autoboot.txt on the first FAT partition, mounted. Required:
	// with A/B boot partitions it is usually not the partition mounted on
	// /boot/firmware.
	Path string
	// Partitions maps each slot to its boot partition number (1..63);
	// nil means A:2, B:3.
	Partitions map[updater.Slot]int
	// TrybootFlag is the firmware's flag file; "" means
	// DefaultTrybootFlag.
	TrybootFlag string
	// Storage is what every read and write goes through; nil means
	// ubootenv.OS{}.
	Storage ubootenv.Storage
}

// Bootloader is the Raspberry Pi firmware's tryboot, driven through
// autoboot.txt. Its methods are safe for concurrent use; it assumes no
// other program edits autoboot.txt meanwhile.
type Bootloader struct {
	path, flag string
	lay        layout
	st         ubootenv.Storage

	mu sync.Mutex // one read-modify-write at a time
}

var _ updater.Bootloader = (*Bootloader)(nil)

// New checks cfg and fills in its defaults. It reads nothing yet.
func New(cfg Config) (*Bootloader, error) {
	if cfg.Path == "" {
		return nil, errors.New("tryboot: no autoboot.txt path")
	}
	lay, err := newLayout(cfg.Partitions)
	if err != nil {
		return nil, err
	}
	b := &Bootloader{path: cfg.Path, flag: cfg.TrybootFlag, lay: lay, st: cfg.Storage}
	if b.flag == "" {
		b.flag = DefaultTrybootFlag
	}
	if b.st == nil {
		b.st = ubootenv.OS{}
	}
	return b, nil
}

// State implements updater.Bootloader. TriesLeft is 1 while a trial is
// armed and 0 otherwise, as the firmware tries once. Spent is true while a
// trial is armed and this is not a trial boot, which includes the boot that
// armed it (see the package documentation). A missing or unreadable
// autoboot.txt, one lockd will not interpret (ErrInvalid), and a tryboot
// flag that is neither 0 nor 1 are errors; a missing flag file reads as
// not a trial boot (firmware without tryboot, or not a Pi).
func (b *Bootloader) State(ctx context.Context) (updater.BootState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.load(ctx)
	if err != nil {
		return updater.BootState{}, err
	}
	committed, trial, _ := f.slots(b.lay) // load checked them
	trialBoot, err := b.trialBoot()
	if err != nil {
		return updater.BootState{}, err
	}
	s := updater.BootState{Committed: committed, Trial: trial, TrialBoot: trialBoot}
	if trial != "" {
		s.TriesLeft = 1
		s.Spent = !trialBoot
	}
	return s, nil
}

// Arm implements updater.Bootloader: the next reboot with RebootParam
// boots slot once. Any tries >= 1 means that one try; the firmware counts
// nothing. Arming the committed slot is an error.
func (b *Bootloader) Arm(ctx context.Context, slot updater.Slot, tries int) error {
	if !slot.Valid() {
		return fmt.Errorf("tryboot: arm %q: not a slot", slot)
	}
	if tries < 1 {
		return fmt.Errorf("tryboot: arm %s with %d tries: need at least 1", slot, tries)
	}
	return b.change(ctx, "arm "+string(slot), armEdit(b.lay, slot))
}

// Commit implements updater.Bootloader. It sets both sections' partition,
// so that a stray tryboot reboot boots the committed slot as well.
func (b *Bootloader) Commit(ctx context.Context, slot updater.Slot) error {
	if !slot.Valid() {
		return fmt.Errorf("tryboot: commit %q: not a slot", slot)
	}
	return b.change(ctx, "commit "+string(slot), commitEdit(b.lay, slot))
}

// Disarm implements updater.Bootloader: a tryboot reboot boots the
// committed slot. A spent trial leaves no other trace to clear.
func (b *Bootloader) Disarm(ctx context.Context) error {
	return b.change(ctx, "disarm", disarmEdit(b.lay))
}

var _ updater.TrialCounter = (*Bootloader)(nil)

// TrialBoots implements updater.TrialCounter: the firmware tries an armed
// slot once, whatever it was armed with.
func (b *Bootloader) TrialBoots(int) int { return 1 }

// RebootParam implements updater.Bootloader: reboot(2)'s argument for the
// default partition with the tryboot flag.
func (b *Bootloader) RebootParam() string { return "0 tryboot" }

// change reads autoboot.txt, edits it, and writes it in one replacement
// (nothing when nothing changed).
func (b *Bootloader) change(ctx context.Context, what string, edit editFunc) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.load(ctx)
	if err != nil {
		return err
	}
	old := f.bytes()
	if err := b.lay.apply(f, edit); errors.Is(err, ErrInvalid) {
		return fmt.Errorf("tryboot: %s: %s: %w", what, b.path, err)
	} else if err != nil {
		return fmt.Errorf("tryboot: %s: %w", what, err)
	}
	data := f.bytes()
	if string(data) == string(old) {
		return nil
	}
	if err := ctx.Err(); err != nil { // the last moment a cancel leaves the file as it was
		return fmt.Errorf("tryboot: %s: %w", what, err)
	}
	if err := replace(b.st, b.path, data); err != nil {
		return fmt.Errorf("tryboot: %s: write %s: %w", what, b.path, err)
	}
	return nil
}

// load reads and parses autoboot.txt and checks that it names the slots.
func (b *Bootloader) load(ctx context.Context) (*file, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tryboot: %w", err)
	}
	data, err := readAtMost(b.st, b.path, maxSize+1)
	if err != nil {
		return nil, fmt.Errorf("tryboot: read %s: %w", b.path, err)
	}
	f, err := parse(data)
	if err == nil {
		_, _, err = f.slots(b.lay)
	}
	if err != nil {
		return nil, fmt.Errorf("tryboot: %s: %w", b.path, err)
	}
	return f, nil
}

// trialBoot reads the firmware's tryboot flag: a 32-bit big-endian 0 or 1.
func (b *Bootloader) trialBoot() (bool, error) {
	data, err := readAtMost(b.st, b.flag, 5)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tryboot: read %s: %w", b.flag, err)
	}
	if len(data) != 4 {
		return false, fmt.Errorf("tryboot: %s: %w", b.flag, invalidf("%d bytes, not a 32-bit flag", len(data)))
	}
	switch v := binary.BigEndian.Uint32(data); v {
	case 0, 1:
		return v == 1, nil
	default:
		return false, fmt.Errorf("tryboot: %s: %w", b.flag, invalidf("flag is %#x, not 0 or 1", v))
	}
}

// readAtMost reads up to n bytes from the start of a file through st.
func readAtMost(st ubootenv.Storage, path string, n int) ([]byte, error) {
	d, err := st.Open(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	buf := make([]byte, n)
	m, err := d.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:m], nil
}
