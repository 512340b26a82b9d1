package busguard

import "fmt"

// maxDepth is the specification's limit on nested containers (32 arrays
// plus 32 structs); variants count here too, which bounds the recursion
// of skipValue whatever the bytes say.
const maxDepth = 64

// skipValue skips one value of the single complete type sig. Arrays are
// skipped by their byte length, so the work is bounded by the signature
// and the nesting, never by the data.
func (p *fieldParser) skipValue(sig string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: header value nested deeper than %d", errProtocol, maxDepth)
	}
	t, rest, err := nextType(sig)
	if err != nil {
		return err
	}
	if rest != "" {
		return fmt.Errorf("%w: header variant signature %q is not one type", errProtocol, sig)
	}
	switch t[0] {
	case 'y':
		return p.skip(1)
	case 'n', 'q':
		return p.fixedValue(2)
	case 'b', 'i', 'u', 'h':
		return p.fixedValue(4)
	case 'x', 't', 'd':
		return p.fixedValue(8)
	case 's', 'o':
		_, _, err := p.str()
		return err
	case 'g':
		_, err := p.signature()
		return err
	case 'v':
		inner, err := p.signature()
		if err != nil {
			return err
		}
		return p.skipValue(inner, depth+1)
	case 'a':
		n, err := p.uint32()
		if err != nil {
			return err
		}
		if err := p.pad(alignment(t[1])); err != nil {
			return err
		}
		return p.skipLong(int64(n))
	case '(', '{':
		if err := p.pad(8); err != nil {
			return err
		}
		fields := t[1 : len(t)-1]
		for fields != "" {
			var f string
			if f, fields, err = nextType(fields); err != nil {
				return err
			}
			if err := p.skipValue(f, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: header value of type %q", errProtocol, t)
}

// fixedValue skips an aligned value of n bytes.
func (p *fieldParser) fixedValue(n int) error {
	if err := p.pad(n); err != nil {
		return err
	}
	return p.skip(n)
}

// alignment is the alignment of values of type code c.
func alignment(c byte) int {
	switch c {
	case 'n', 'q':
		return 2
	case 'b', 'i', 'u', 'h', 's', 'o', 'a':
		return 4
	case 'x', 't', 'd', '(', '{':
		return 8
	}
	return 1 // y g v
}

// nextType splits the first single complete type off a signature.
func nextType(sig string) (string, string, error) {
	if sig == "" {
		return "", "", fmt.Errorf("%w: empty signature", errProtocol)
	}
	n, err := typeLen(sig, 0)
	if err != nil {
		return "", "", err
	}
	return sig[:n], sig[n:], nil
}

// typeLen is the length of the single complete type at the start of sig.
func typeLen(sig string, depth int) (int, error) {
	if depth > maxDepth || sig == "" {
		return 0, fmt.Errorf("%w: bad signature", errProtocol)
	}
	switch sig[0] {
	case 'y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 'd', 'h', 's', 'o', 'g', 'v':
		return 1, nil
	case 'a':
		n, err := typeLen(sig[1:], depth+1)
		return n + 1, err
	case '(', '{':
		closing := map[byte]byte{'(': ')', '{': '}'}[sig[0]]
		i := 1
		for i < len(sig) && sig[i] != closing {
			n, err := typeLen(sig[i:], depth+1)
			if err != nil {
				return 0, err
			}
			i += n
		}
		if i == len(sig) || i == 1 {
			return 0, fmt.Errorf("%w: bad signature", errProtocol)
		}
		return i + 1, nil
	}
	return 0, fmt.Errorf("%w: bad signature", errProtocol)
}
