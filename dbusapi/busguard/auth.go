package busguard

import (
	"bytes"
	"fmt"
)

// Bounds of the SASL exchange. dbus-daemon's own line limit is 16 KiB;
// godbus needs four lines (AUTH, AUTH EXTERNAL, NEGOTIATE_UNIX_FD, BEGIN).
const (
	maxAuthLine  = 16 << 10
	maxAuthLines = 32
)

// passAuth copies the SASL exchange through unchanged: the client's NUL
// byte, then client line, bus reply, client line, ... until the client's
// BEGIN, which gets no reply. After BEGIN both sides speak messages; bytes
// either inbox holds beyond the exchange stay there for the pumps.
func passAuth(client, bus *inbox, toBus, toClient func([]byte) error) error {
	b, err := client.take(1)
	if err != nil {
		return fmt.Errorf("busguard: authentication: %w", err)
	}
	if b[0] != 0 {
		return fmt.Errorf("%w: the client did not start with a NUL byte", errProtocol)
	}
	if err := toBus([]byte{0}); err != nil {
		return err
	}
	for range maxAuthLines {
		line, err := client.line(maxAuthLine)
		if err != nil {
			return fmt.Errorf("busguard: authentication: %w", err)
		}
		if err := toBus(line); err != nil {
			return err
		}
		if bytes.Equal(line, []byte("BEGIN\r\n")) {
			return nil
		}
		reply, err := bus.line(maxAuthLine)
		if err != nil {
			return fmt.Errorf("busguard: authentication: %w", err)
		}
		if err := toClient(reply); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: no BEGIN after %d authentication lines", errProtocol, maxAuthLines)
}
