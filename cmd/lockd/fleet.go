package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/hawkbit"
	"lockd.dev/lockd/internal/config"
	"lockd.dev/lockd/internal/tlsclient"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/httpsource"
)

// newOpenURL is Update1.InstallFromURL's download: the system's CAs and,
// when [update.hawkbit] names one, its CA and client certificate too.
func newOpenURL(cfg config.Config, log *slog.Logger) (func(context.Context, string) (updater.Source, error), error) {
	h := cfg.Update.Hawkbit
	client, err := tlsclient.New(tlsclient.Config{CAFile: h.CAFile, AlsoSystem: true, ClientCert: h.ClientCert, ClientKey: h.ClientKey})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, url string) (updater.Source, error) {
		return httpsource.Open(ctx, url, httpsource.Config{Client: client, Log: log})
	}, nil
}

// newFleet builds the hawkBit client [update.hawkbit] describes; nil when
// its server is empty.
func newFleet(o options, cfg config.Config, up *updater.Updater, log *slog.Logger) (*hawkbit.Client, error) {
	h := cfg.Update.Hawkbit
	if h.Server == "" || up == nil {
		return nil, nil
	}
	client, err := tlsclient.New(tlsclient.Config{CAFile: h.CAFile, ClientCert: h.ClientCert, ClientKey: h.ClientKey})
	if err != nil {
		return nil, err
	}
	auth, err := hawkbit.ReadToken(h.TokenFile, os.Getenv("CREDENTIALS_DIRECTORY"))
	if err != nil {
		return nil, err
	}
	id := h.ControllerID
	if id == "" {
		key, err := os.ReadFile(filepath.Join(o.stateDir, "device.key"))
		if err != nil {
			return nil, fmt.Errorf("hawkbit: controller id from the device key: %w (run lockd factory-init, or set controller_id)", err)
		}
		id = hawkbit.ControllerID(key)
	}
	return hawkbit.New(hawkbit.Config{
		Server: h.Server, Tenant: h.Tenant, ControllerID: id, Authorization: auth, Client: client,
		StateFile: filepath.Join(o.stateDir, "hawkbit.json"), Updater: up, Compatible: cfg.Update.Compatible,
		Policy: cfg.Update.Reboot, Log: log,
		Open: func(ctx context.Context, url string, hdr http.Header) (updater.Source, error) {
			return httpsource.Open(ctx, url, httpsource.Config{Client: client, Header: hdr, Log: log})
		},
	})
}

// fleetHold adds the fleet client's Hold to the updater's Quiet once the
// client exists (it is built on the updater): the server may delay a
// reboot, never bring one about.
type fleetHold struct {
	c atomic.Pointer[hawkbit.Client]
}

func (h *fleetHold) quiet(q func() string) func() string {
	return func() string {
		if w := q(); w != "" {
			return w
		}
		if c := h.c.Load(); c != nil {
			return c.Hold()
		}
		return ""
	}
}

// startFleet starts the fleet client, if configured, and returns what
// D-Bus serves as Update1 (the updater, or with a fleet client the
// hawkbit.Owner joining both) and InstallFromURL's download. Neither
// failing stops lockd or holds a trial: updates from a file still work.
func startFleet(ctx context.Context, o options, cfg config.Config, up *updater.Updater, hold *fleetHold, log *slog.Logger) (dbusapi.Updater, func(context.Context, string) (updater.Source, error)) {
	if up == nil {
		return nil, nil
	}
	openURL, err := newOpenURL(cfg, log)
	if err != nil {
		log.Error("update: installs from a URL are off", "err", err)
		openURL = nil
	}
	fleet, err := newFleet(o, cfg, up, log)
	if err != nil {
		log.Error("update: the fleet server is off", "err", err)
	}
	if fleet == nil {
		return up, openURL
	}
	hold.c.Store(fleet)
	go fleet.Run(ctx)
	return hawkbit.NewOwner(ctx, up, fleet), openURL
}
