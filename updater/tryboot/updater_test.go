package tryboot_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/updater"
)

// TestBrokenUpdaterGivesUpATryboot: on a tryboot the command line says
// nothing of a trial (no lockd.trial=1); only the firmware's flag does. An
// updater that cannot run there (a corrupt state file) must still give the
// trial up, so the unit reboots into the committed slot instead of staying
// on an unproven one.
func TestBrokenUpdaterGivesUpATryboot(t *testing.T) {
	r := newRig(t, docs) // committed A (partition 2), B armed for a tryboot
	if err := os.WriteFile(r.flag, []byte{0, 0, 0, 1}, 0o444); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) string {
		p := filepath.Join(r.dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gaveUp := make(chan string, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	u, err := updater.New(ctx, updater.Config{
		Bootloader: r.open(t, nil),
		StateFile:  write("update.json", "{garbage"),
		Slots:      map[updater.Slot]string{updater.SlotA: write("slot-a", ""), updater.SlotB: write("slot-b", "")},
		Cmdline:    write("cmdline", "console=serial0,115200 root=/dev/mmcblk0p3 rootwait lockd.slot=B\n"),
		BootID:     write("boot_id", "b00t\n"),
		KeysDir:    r.dir, Compatible: "acme,door-1", BootedVersion: "2.0.0",
		GiveUp: func(reason string) { gaveUp <- reason },
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Operation != "unavailable" {
		t.Fatalf("with a corrupt state file: %+v", s)
	}
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	select {
	case reason := <-gaveUp:
		if !strings.Contains(reason, "unavailable on a trial boot") {
			t.Errorf("gave up with %q", reason)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the broken updater did not give the tryboot trial up")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := r.read(t); got != docs {
		t.Errorf("autoboot.txt changed:\n%s", got)
	}
}
