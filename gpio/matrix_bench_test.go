package gpio_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
)

// BenchmarkMatrixKeyLatency measures, with the default debounce, how long
// a '#' press takes from contact closing to its event reaching a reader,
// minus the debounce: the part the scanner adds. It reports the median
// and the worst case, and the scan-to-receive time alone (the event's Time
// to the reader), which is the scan, the send and the reader's wakeup.
func BenchmarkMatrixKeyLatency(b *testing.B) {
	pad, err := sim.NewMatrix(gpio.Layout3x4)
	if err != nil {
		b.Fatal(err)
	}
	drv, err := gpio.NewMatrix(pad.Rows(), pad.Cols(), gpio.MatrixOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	events := make(chan gpio.KeyEvent)
	done := make(chan error, 1)
	go func() { done <- drv.Run(ctx, events) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()

	var lat, deliver []time.Duration
	for b.Loop() {
		start := time.Now()
		_ = pad.Press('#')
		ev := <-events
		now := time.Now()
		lat = append(lat, now.Sub(start)-gpio.DefaultMatrixDebounce)
		deliver = append(deliver, now.Sub(ev.Time))
		_ = pad.Release('#')
		<-events
	}
	slices.Sort(lat)
	slices.Sort(deliver)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "µs-median-over-debounce")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "µs-max-over-debounce")
	b.ReportMetric(float64(deliver[len(deliver)/2].Microseconds()), "µs-median-scan-to-reader")
}
