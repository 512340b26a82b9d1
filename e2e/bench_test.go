package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchRounds is how many codes BenchmarkKeyToBoltUAPI types.
const benchRounds = 30

// BenchmarkKeyToBoltUAPI measures key-to-bolt over the kernel's GPIO uAPI
// in the guest (`make bench`): lockd without --sim on gpio-sim, a code
// typed on the Wiegand reader by the guest's board, from the falling edge
// of the code's last bit to lockd's H-bridge line toward unlocked reading
// active in gpio-sim's value file (polled every 0.5 ms), then the bolt
// locked again over D-Bus, benchRounds times in one power cycle. The
// figures are the guest's clock on an emulated CPU (TCG), and include
// Wiegand's end of frame: lockd knows a frame is over only after 25 ms
// without a bit (gpio.DefaultWiegandGap).
func BenchmarkKeyToBoltUAPI(b *testing.B) {
	a := buildAssets(b)
	u := newBoard(b, a).newUnit(b)
	u.setBoard("E2E_KEYPAD=wiegand\n")
	c := u.powerOn(boardLib+provision+"b bench "+strconv.Itoa(benchRounds)+" "+hwCode+"#\npoweroff -f", nil, 10*time.Minute)
	res, ok := c.marker("E2E-BENCH ")
	if !ok {
		b.Fatalf("no E2E-BENCH line\n%s", c.console)
	}
	b.Logf("key-to-bolt over the uAPI, emulated: %s", res)
	for _, f := range strings.Fields(res) {
		k, v, _ := strings.Cut(f, "=")
		if us, err := strconv.Atoi(v); err == nil && strings.HasSuffix(k, "_us") {
			b.ReportMetric(float64(us)/1000, strings.TrimSuffix(k, "_us")+"-ms")
		}
	}
	b.ReportMetric(0, "ns/op")
}
