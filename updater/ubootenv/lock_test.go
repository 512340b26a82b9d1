package ubootenv_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"lockd.dev/lockd/updater/ubootenv"
)

// TestConcurrentWithFwSetenv runs lockd updates and fw_setenv at the same
// time on one environment. Both take libubootenv's lock file around their
// read-modify-write, so no update is lost.
func TestConcurrentWithFwSetenv(t *testing.T) {
	f := newFW(t)
	lf, err := os.OpenFile(ubootenv.DefaultLockFile, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		// fw_setenv opens it for writing; if it cannot, it runs unlocked.
		if os.Getenv("CI") == "true" {
			t.Fatalf("fw_setenv cannot take %s (%v), and CI=true forbids skipping: run the tests as root", ubootenv.DefaultLockFile, err)
		}
		t.Skipf("fw_setenv cannot take %s here (%v): run the tests as root", ubootenv.DefaultLockFile, err)
	}
	lf.Close()
	img := f.mkenv(t, true, 0xff, "bootdelay=2")
	s := newSetup(t, img, img)
	cfg, err := ubootenv.ParseConfig(s.config)
	if err != nil {
		t.Fatal(err)
	}
	const n = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		script := filepath.Join(s.dir, fmt.Sprint("script", i))
		writeFile(t, script, []byte(fmt.Sprintf("fw%d=1\n", i)))
		wg.Add(2)
		go func() {
			defer wg.Done()
			out, err := exec.Command(f.setenv, "-c", s.config, "-f", f.noDefault, "-s", script).CombinedOutput()
			if err != nil {
				err = fmt.Errorf("fw_setenv: %v: %s", err, out)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			e, err := ubootenv.Open(cfg) // the real lock file
			if err == nil {
				err = e.Update(context.Background(), map[string]string{fmt.Sprint("lockd", i): "1"})
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.open(t).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*n+1 {
		t.Errorf("%d variables, want %d: an update was lost: %v", len(got), 2*n+1, got)
	}
}
