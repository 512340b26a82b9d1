package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/board"
	"lockd.dev/lockd/internal/config"
)

// simSetupCodeFile keeps the simulated unit's setup code readable, because
// a simulated unit has no label. Only --sim writes it.
const simSetupCodeFile = "sim-setup-code"

// newSimBoard builds the electrical model for cfg's keypad and bolt kinds
// and points cfg's pins at it.
func newSimBoard(cfg config.Config) (*sim.Board, config.Config, error) {
	layout := strings.Join(cfg.Keypad.Layout, "/")
	b, err := sim.NewBoard(sim.BoardConfig{
		Layout: layout, Wiegand: cfg.Keypad.Type == "wiegand", Strike: cfg.Bolt.Type == "strike",
		Start: sim.BoltLocked,
	})
	if err != nil {
		return nil, cfg, fmt.Errorf("sim: %w", err)
	}
	rows, cols := 0, 0
	if b.Matrix != nil {
		rows, cols = len(b.Matrix.RowPins()), len(b.Matrix.ColPins())
	}
	return b, board.SimConfig(cfg, rows, cols), nil
}

// simSetupCode gives a fresh simulated unit its own secrets, as
// factory-init does for a real one, and returns its setup code.
func simSetupCode(dir string, log *slog.Logger) string {
	path := filepath.Join(dir, simSetupCodeFile)
	if _, err := os.Stat(filepath.Join(dir, codes.DeviceKeyName)); errors.Is(err, os.ErrNotExist) {
		code, err := codes.FactoryInit(dir, false)
		if err != nil {
			log.Error("sim: factory-init", "err", err)
			return ""
		}
		if err := os.WriteFile(path, []byte(code+"\n"), 0o600); err != nil {
			log.Error("sim: save setup code", "err", err)
		}
		log.Info("sim: new simulated unit; setup code in " + path)
		return code
	}
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}
