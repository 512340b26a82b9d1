// Package tlsclient builds the HTTP client of lockd's network side (the
// bundle download, the fleet client): TLS with the system's CAs or one
// the owner configures, an optional client certificate, bounded response
// headers, and no downgrade from HTTPS to HTTP on a redirect.
package tlsclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// MaxHeaderBytes bounds the response headers lockd reads from a server.
const MaxHeaderBytes = 16 << 10

// Config says whom the client trusts and who it is.
type Config struct {
	// CAFile is a PEM file of the CAs to trust; "" trusts the system's.
	CAFile string
	// AlsoSystem, with CAFile, trusts the system's CAs as well; without
	// it the CAs of CAFile are the only ones (the fleet server's own).
	AlsoSystem bool
	// ClientCert and ClientKey are PEM files of a client certificate and
	// its key, both or neither.
	ClientCert, ClientKey string
}

// New returns a client for c. It sets no overall timeout: a download
// runs for minutes, so callers bound each request with a context; the
// transport bounds connecting, the TLS handshake and the wait for the
// response headers.
func New(c Config) (*http.Client, error) {
	tc, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        tc,
		TLSHandshakeTimeout:    30 * time.Second,
		ResponseHeaderTimeout:  60 * time.Second,
		MaxResponseHeaderBytes: MaxHeaderBytes,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    2,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect}, nil
}

// checkRedirect follows at most 5 redirects and never from HTTPS to
// HTTP: a redirect must not take the bundle or the token off TLS.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("tlsclient: more than 5 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("tlsclient: refusing a redirect from https to %s", req.URL.Scheme)
	}
	return nil
}

func (c Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tlsclient: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if c.AlsoSystem {
			if sys, err := x509.SystemCertPool(); err == nil {
				pool = sys
			}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tlsclient: ca_file %s: no PEM certificate in it", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		return nil, errors.New("tlsclient: client_cert and client_key go together")
	}
	if c.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("tlsclient: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
