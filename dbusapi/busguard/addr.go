package busguard

import (
	"fmt"
	"net/url"
	"strings"
)

// unixSockets returns the socket addresses of the unix: entries of a
// D-Bus address ("unix:path=/run/dbus/system_bus_socket", entries joined
// by ';', values %-escaped), abstract ones with Go's leading '@'. Other
// transports cannot pass descriptors and are not lockd's.
func unixSockets(address string) ([]string, error) {
	var out []string
	for _, entry := range strings.Split(address, ";") {
		transport, params, ok := strings.Cut(entry, ":")
		if !ok || transport != "unix" {
			continue
		}
		for _, kv := range strings.Split(params, ",") {
			k, v, _ := strings.Cut(kv, "=")
			v, err := url.PathUnescape(v)
			if err != nil {
				return nil, fmt.Errorf("busguard: address %q: %w", address, err)
			}
			switch k {
			case "path":
				out = append(out, v)
			case "abstract":
				out = append(out, "@"+v)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("busguard: address %q has no unix:path= or unix:abstract= entry", address)
	}
	return out, nil
}
