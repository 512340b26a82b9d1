package codes

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
)

// Prefixes and suffixes: no stored code may start or end another (1234
// and 123456, or 1234 and 991234), so an entry can never match two codes
// however the keypad splits it.
//
// Digests cannot be compared for prefixes, so the store also keeps a
// keyed 64-bit digest of every proper prefix and suffix of 4 digits or
// more of every code (table affixes, with a reference count). Adding code
// C then costs:
//   - C's own prefixes/suffixes (at most 16) looked up among the code
//     digests: does C start or end with an existing code?
//   - C's affix digest looked up among the affixes: does an existing code
//     start or end with C?
//
// Removing a code must release its affixes, but it has no digits to
// recompute them from; so each code keeps its list of affix values sealed
// (table credential_affixes): padded to 16 entries, XORed with an HMAC keystream
// under the device key and a random nonce. Sealed, the list neither links
// affixes to codes nor gives away how many a code has.
//
// What a stolen database gives away, and the trade-off:
//   - Without the device key: nothing about any code. The affix digests
//     are as opaque as the code digests (HMAC-SHA256 under the key, their
//     own domain); code lengths are hidden per code; only the total number
//     of affixes (a sum over all codes) and the count of codes sharing an
//     affix show.
//   - With the device key too (the whole SD card): the affix table lets a
//     long code be found piece by piece (a 4-digit prefix, then one digit
//     at a time) instead of in one search over 10^L. That changes little:
//     with the key, every code of at most 12 digits falls to an exhaustive
//     HMAC search in minutes on one GPU anyway. The key is the secret; a
//     slow hash was rejected because Verify must stay one fast HMAC.

// affixRows is the most affixes a code has: 8 prefixes and 8 suffixes of
// a 12-digit code.
const affixRows = 2 * (MaxDigits - MinUserDigits)

// Sealed list layout: nonce, then affixRows big-endian uint64 (0 = none).
const (
	sealNonce = 16
	sealSize  = sealNonce + 8*affixRows
)

// affixesOf returns the proper prefixes and suffixes of code that are
// MinUserDigits long or longer.
func affixesOf(code string) []string {
	var a []string
	for n := MinUserDigits; n < len(code); n++ {
		a = append(a, code[:n], code[len(code)-n:])
	}
	return a
}

// checkUnambiguous returns ErrAmbiguous if code starts or ends a stored
// code or a stored code starts or ends it.
func (s *Store) checkUnambiguous(ctx context.Context, tx *sql.Tx, code string) error {
	var found bool
	for _, a := range affixesOf(code) {
		err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM credentials WHERE digest = ?)", s.dig.code(a)).Scan(&found)
		if err != nil {
			return fmt.Errorf("codes: check code: %w", err)
		}
		if found {
			return fmt.Errorf("codes: %w, so the keypad could not tell them apart: choose other digits", ErrAmbiguous)
		}
	}
	err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM affixes WHERE affix = ?)", s.dig.affix(code)).Scan(&found)
	if err != nil {
		return fmt.Errorf("codes: check code: %w", err)
	}
	if found {
		return fmt.Errorf("codes: %w, so the keypad could not tell them apart: choose other digits", ErrAmbiguous)
	}
	return nil
}

// insertAffixes counts code's affixes in and seals their list for id.
func (s *Store) insertAffixes(ctx context.Context, tx *sql.Tx, id int64, code string) error {
	var vals []int64
	seen := map[int64]bool{}
	for _, a := range affixesOf(code) {
		if v := s.dig.affix(a); !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	for _, v := range vals {
		_, err := tx.ExecContext(ctx, "INSERT INTO affixes (affix, refs) VALUES (?, 1) ON CONFLICT (affix) DO UPDATE SET refs = refs + 1", v)
		if err != nil {
			return fmt.Errorf("codes: store affixes: %w", err)
		}
	}
	sealed, err := s.dig.seal(vals)
	if err != nil {
		return fmt.Errorf("codes: store affixes: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO credential_affixes (credential_id, sealed) VALUES (?, ?)", id, sealed); err != nil {
		return fmt.Errorf("codes: store affixes: %w", err)
	}
	return nil
}

// deleteCredential removes credential id and releases its affixes (a
// card has none).
func (s *Store) deleteCredential(ctx context.Context, tx *sql.Tx, id int64) error {
	var sealed []byte
	err := tx.QueryRowContext(ctx, "SELECT sealed FROM credential_affixes WHERE credential_id = ?", id).Scan(&sealed)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("codes: remove: %w", err)
	}
	// A list that does not open (it cannot, short of tampering) leaves
	// stale affixes: at worst a later code is refused as ambiguous.
	for _, v := range s.dig.unseal(sealed) {
		if _, err := tx.ExecContext(ctx, "UPDATE affixes SET refs = refs - 1 WHERE affix = ?", v); err != nil {
			return fmt.Errorf("codes: remove: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM affixes WHERE affix = ? AND refs <= 0", v); err != nil {
			return fmt.Errorf("codes: remove: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM credentials WHERE id = ?", id); err != nil {
		return fmt.Errorf("codes: remove: %w", err)
	}
	return nil
}

// deleteUser removes user id with every credential it holds.
func (s *Store) deleteUser(ctx context.Context, tx *sql.Tx, id int64) error {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM credentials WHERE user_id = ?", id)
	if err != nil {
		return fmt.Errorf("codes: remove: %w", err)
	}
	var creds []int64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return fmt.Errorf("codes: remove: %w", err)
		}
		creds = append(creds, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("codes: remove: %w", err)
	}
	for _, c := range creds {
		if err := s.deleteCredential(ctx, tx, c); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", id); err != nil {
		return fmt.Errorf("codes: remove: %w", err)
	}
	delete(s.usage, id)
	return nil
}

// seal returns vals (at most affixRows, none 0) padded and encrypted.
func (d *digester) seal(vals []int64) ([]byte, error) {
	b := make([]byte, sealSize)
	if _, err := rand.Read(b[:sealNonce]); err != nil {
		return nil, err
	}
	for i, v := range vals {
		binary.BigEndian.PutUint64(b[sealNonce+8*i:], uint64(v))
	}
	d.xorKeystream(b[:sealNonce], b[sealNonce:])
	return b, nil
}

// unseal returns the values sealed in b, or nil if b is not a sealed list.
func (d *digester) unseal(b []byte) []int64 {
	if len(b) != sealSize {
		return nil
	}
	p := append([]byte(nil), b[sealNonce:]...)
	d.xorKeystream(b[:sealNonce], p)
	var vals []int64
	for i := 0; i < affixRows; i++ {
		if v := int64(binary.BigEndian.Uint64(p[8*i:])); v != 0 {
			vals = append(vals, v)
		}
	}
	return vals
}

// xorKeystream XORs p with HMAC(key, domainSeal || nonce || counter)
// blocks.
func (d *digester) xorKeystream(nonce, p []byte) {
	for ctr := byte(0); len(p) > 0; ctr++ {
		ks := d.sum(domainSeal, string(nonce)+string([]byte{ctr}))
		n := min(len(p), len(ks))
		for i := range n {
			p[i] ^= ks[i]
		}
		p = p[n:]
	}
}
