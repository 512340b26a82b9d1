// Command lockd-mqtt publishes a lockd lock to Home Assistant over MQTT
// (docs/DESIGN.md "lockd-mqtt"). It reaches lockd only over D-Bus, as
// lockctl does, and is the only part of lockd that touches the network.
// main only wires the packages under mqtt/ together.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"lockd.dev/lockd/mqtt/bridge"
	"lockd.dev/lockd/mqtt/broker"
	"lockd.dev/lockd/mqtt/hass"
	"lockd.dev/lockd/mqtt/lockbus"
	"lockd.dev/lockd/mqtt/mqttconf"
)

const usage = `usage: lockd-mqtt [--config FILE] [--bus system|session|ADDRESS]
       lockd-mqtt pin-digest    (reads a PIN twice from stdin, prints pin_digest)

Publishes lockd to Home Assistant over MQTT; --config defaults to
/etc/lockd/mqtt.toml (systemd/mqtt.toml is the annotated reference).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main with its inputs, for tests: the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "pin-digest" {
		return pinDigest(args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("lockd-mqtt", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", mqttconf.Path, "")
	bus := fs.String("bus", "", "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "lockd-mqtt: %v\n%s", err, usage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lockd-mqtt: unexpected argument %q\n%s", fs.Arg(0), usage)
		return 2
	}
	s, err := setUp(*configPath, *bus)
	if err != nil {
		fmt.Fprintf(stderr, "lockd-mqtt: %v\n", err)
		return 1
	}
	log := newLogger(stderr)
	if s.warning != "" {
		log.Warn(s.warning)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	lockd := lockbus.New(s.bus, log)
	mqtt := broker.New(s.broker, log)
	b := bridge.New(s.bridge, mqtt, lockd, log)
	log.Info("lockd-mqtt: starting", "broker", s.broker.URL.Redacted(), "bus", s.bus, "node_id", s.bridge.Device.NodeID,
		"remote_unlock", s.bridge.RemoteUnlock, "pin", s.bridge.PIN != nil)

	updates := make(chan lockbus.Update, 16)
	var wg sync.WaitGroup
	wg.Go(func() { lockd.Run(ctx, updates) })
	wg.Go(func() { mqtt.Run(ctx) }) // says "offline" on the way out
	b.Run(ctx, updates, mqtt.Events())
	wg.Wait()
	log.Info("lockd-mqtt: stopped")
	return 0
}

// availabilityWill is what the broker publishes for a vanished lockd-mqtt.
func availabilityWill(t hass.Topics) (string, string) { return t.Availability(), hass.Offline }

// now is the bridge's clock.
func now() time.Time { return time.Now() }
