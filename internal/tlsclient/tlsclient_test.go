package tlsclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki is a CA, a server certificate for 127.0.0.1 and a client
// certificate, as PEM files in a directory.
type pki struct {
	dir            string
	ca             *x509.Certificate
	caKey          *ecdsa.PrivateKey
	server         tls.Certificate
	caFile         string
	clientCert     string
	clientKey      string
	otherCAFile    string
	serverCertPool *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	p.ca, p.caKey = makeCA(t, "lockd test CA")
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", p.ca.Raw)
	other, _ := makeCA(t, "another CA")
	p.otherCAFile = p.write(t, "other.pem", "CERTIFICATE", other.Raw)
	srvDER, srvKey := p.leaf(t, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := p.leaf(t, "lock-0001", x509.ExtKeyUsageClientAuth)
	p.clientCert = p.write(t, "client.pem", "CERTIFICATE", cliDER)
	der, _ := x509.MarshalECPrivateKey(cliKey)
	p.clientKey = p.write(t, "client.key", "EC PRIVATE KEY", der)
	p.serverCertPool = x509.NewCertPool()
	p.serverCertPool.AddCert(p.ca)
	return p
}

func makeCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func (p *pki) leaf(t *testing.T, name string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// server is an HTTPS server on 127.0.0.1 that wants a client certificate
// of the test CA.
func (p *pki) serverTLS(t *testing.T, h http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.serverCertPool}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func TestTLS(t *testing.T) {
	p := newPKI(t)
	var plain *httptest.Server
	s := p.serverTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			http.Redirect(w, r, plain.URL+"/", http.StatusFound)
			return
		}
		w.Write([]byte("ok"))
	}))
	plain = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("plain")) }))
	defer plain.Close()
	for _, c := range []struct {
		name string
		cfg  Config
		path string
		want string // "" = success, else part of the error
	}{
		{"the fleet's CA and a client certificate", Config{CAFile: p.caFile, ClientCert: p.clientCert, ClientKey: p.clientKey}, "/", ""},
		{"system CAs only", Config{ClientCert: p.clientCert, ClientKey: p.clientKey}, "/", "certificate"},
		{"another CA", Config{CAFile: p.otherCAFile, ClientCert: p.clientCert, ClientKey: p.clientKey}, "/", "certificate"},
		{"no client certificate", Config{CAFile: p.caFile}, "/", "certificate"},
		{"a redirect off TLS", Config{CAFile: p.caFile, ClientCert: p.clientCert, ClientKey: p.clientKey}, "/down", "redirect from https to http"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := cl.Get(s.URL + c.path)
			if err == nil {
				resp.Body.Close()
			}
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want an error about %q", err, c.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	p := newPKI(t)
	for _, c := range []Config{
		{CAFile: filepath.Join(p.dir, "missing.pem")},
		{CAFile: p.clientKey}, // no certificate in it
		{ClientCert: p.clientCert},
		{ClientCert: p.caFile, ClientKey: p.clientKey},
	} {
		if _, err := New(c); err == nil || !strings.HasPrefix(err.Error(), "tlsclient: ") {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
