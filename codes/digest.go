package codes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Each use of the device key has its own domain prefix, so a digest of
// one kind can never stand in for another (the setup code's digest is not
// a code digest, an affix digest is not a code digest).
const (
	domainCode  = "lockd code\x00"
	domainCard  = "lockd card\x00"
	domainAffix = "lockd affix\x00"
	domainSetup = "lockd setup\x00"
	domainKeyID = "lockd key-id\x00"
	domainSeal  = "lockd seal\x00"
)

// digester computes keyed digests. It reuses one HMAC state and is not
// safe for concurrent use: the Store calls it under its mutex.
type digester struct {
	mac hash.Hash
	buf []byte
}

func newDigester(key []byte) *digester {
	return &digester{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 64)}
}

// sum returns HMAC-SHA256(key, domain || s) in a new slice.
func (d *digester) sum(domain, s string) []byte {
	d.mac.Reset()
	d.buf = append(append(d.buf[:0], domain...), s...)
	d.mac.Write(d.buf)
	clear(d.buf) // digits do not linger in the scratch buffer
	return d.mac.Sum(nil)
}

// code is the stored digest of a code.
func (d *digester) code(code string) []byte { return d.sum(domainCode, code) }

// setup is the digest of the setup code in the setup.digest file.
func (d *digester) setup(code string) []byte { return d.sum(domainSetup, code) }

// affix is the 64-bit keyed digest of a prefix or suffix of a stored code.
// 64 bits are plenty for an equality test among at most a few million
// rows (a false match only refuses a new code as ambiguous) and keep the
// table small.
func (d *digester) affix(s string) int64 {
	return int64(binary.BigEndian.Uint64(d.sum(domainAffix, s)))
}

// keyID names the device key without revealing it; the database and the
// setup digest file record it so that files made under another key are
// recognised.
func (d *digester) keyID() []byte { return d.sum(domainKeyID, "")[:8] }
