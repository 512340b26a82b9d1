package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"lockd.dev/lockd/codes"
)

// simSetupCodeFile keeps the simulated unit's setup code readable, because
// a simulated unit has no label. Only --sim writes it.
const simSetupCodeFile = "sim-setup-code"

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
