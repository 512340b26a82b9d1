package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// field is one key of a JSON object in the manifest schema.
type field struct {
	name     string
	required bool
	sub      []field // non-nil: the value is an object with these keys
}

var imageFields = []field{
	{name: "size", required: true},
	{name: "sha256", required: true},
	{name: "compression", required: true},
	{name: "stored_size", required: true},
	{name: "stored_sha256", required: true},
}

var indexFields = []field{
	{name: "size", required: true},
	{name: "sha256", required: true},
}

var manifestFields = []field{
	{name: "format", required: true},
	{name: "compatible", required: true},
	{name: "version", required: true},
	{name: "security_version", required: true},
	{name: "image", required: true, sub: imageFields},
	{name: "index", sub: indexFields},
	{name: "created", required: true},
	{name: "description"},
}

// checkStrict walks the JSON tokens of a manifest before encoding/json
// decodes it, because encoding/json alone accepts what a signed document
// must not: duplicate keys (last wins, a classic parser-differential trick),
// keys in another case, null for a required value, and missing keys.
func checkStrict(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkObject(dec, manifestFields, "manifest"); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

func walkObject(dec *json.Decoder, fields []field, path string) error {
	t, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if t != json.Delim('{') {
		return fmt.Errorf("%s: want a JSON object", path)
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		k, _ := t.(string)
		f, ok := lookupField(fields, k)
		if !ok {
			return fmt.Errorf("%s: unknown field %.40q", path, k)
		}
		if seen[k] {
			return fmt.Errorf("%s: duplicate field %q", path, k)
		}
		seen[k] = true
		if f.sub != nil {
			if err := walkObject(dec, f.sub, path+"."+k); err != nil {
				return err
			}
			continue
		}
		v, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s.%s: %w", path, k, err)
		}
		switch v.(type) {
		case nil:
			return fmt.Errorf("%s.%s: null is not allowed", path, k)
		case json.Delim:
			return fmt.Errorf("%s.%s: want a string or a number", path, k)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, f := range fields {
		if f.required && !seen[f.name] {
			return fmt.Errorf("%s: missing field %q", path, f.name)
		}
	}
	return nil
}

func lookupField(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}
