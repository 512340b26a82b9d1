package ubootenv

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEnv(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []Var
		err        bool
	}{
		{"empty env", "\x00", nil, false},
		{"empty env, padded", "\x00\x00\xff\xff", nil, false},
		{"vars", "a=1\x00b=x=y\x00\x00junk", []Var{{"a", "1"}, {"b", "x=y"}}, false},
		{"duplicates kept in order", "a=1\x00a=2\x00\x00", []Var{{"a", "1"}, {"a", "2"}}, false},
		{"no '=' skipped, empty value and name kept", "x\x00a=\x00=v\x00\x00", []Var{{"a", ""}, {"", "v"}}, false},
		{"newline and high bytes in a value", "a=1\n2\xff\x00\x00", []Var{{"a", "1\n2\xff"}}, false},
		{"nothing", "", nil, true},
		{"unterminated", "a=1", nil, true},
		{"no end marker", "a=1\x00", nil, true},
		{"all 0xff", "\xff\xff\xff", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEnv([]byte(tc.data))
			if (err != nil) != tc.err || (err != nil && !errors.Is(err, ErrCorrupt)) {
				t.Fatalf("err = %v, want error: %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestInUse(t *testing.T) {
	for _, tc := range []struct {
		valid   []bool
		flags   []byte
		want    int
		wantErr bool
	}{
		{[]bool{true}, []byte{0}, 0, false},
		{[]bool{false}, []byte{0}, 0, true},
		{[]bool{true, true}, []byte{1, 2}, 1, false},
		{[]bool{true, true}, []byte{2, 1}, 0, false},
		{[]bool{true, true}, []byte{5, 5}, 0, false},
		{[]bool{true, true}, []byte{0xff, 0}, 1, false},
		{[]bool{true, true}, []byte{0, 0xff}, 0, false},
		{[]bool{true, true}, []byte{0xfe, 0xff}, 1, false},
		{[]bool{true, true}, []byte{0xff, 1}, 0, false}, // only an exact wrap counts
		{[]bool{true, true}, []byte{1, 200}, 1, false},
		{[]bool{true, false}, []byte{1, 2}, 0, false},
		{[]bool{false, true}, []byte{2, 1}, 1, false},
		{[]bool{false, false}, []byte{1, 2}, 0, true},
	} {
		got, ok := inUse(tc.valid, tc.flags)
		if got != tc.want || ok == tc.wantErr {
			t.Errorf("inUse(%v, %v) = %d, %v; want %d, %v", tc.valid, tc.flags, got, ok, tc.want, !tc.wantErr)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	vars := map[string]string{"b": "2", "a": "1", ".flags": "a:sr", "A": "0", "é": "ü"}
	for _, redundant := range []bool{false, true} {
		data, err := encodeData(vars, 64)
		if err != nil {
			t.Fatal(err)
		}
		want := "A=0\x00a=1\x00b=2\x00\xc3\xa9=\xc3\xbc\x00.flags=a:sr\x00\x00"
		if string(data[:len(want)]) != want || len(data) != 64 {
			t.Errorf("data = %q", data)
		}
		for _, c := range data[len(want):] {
			if c != 0 {
				t.Fatalf("padding is not zero: %q", data)
			}
		}
		flags, got, err := decodeBlock(encodeBlock(data, redundant, 9), redundant)
		if err != nil || (redundant && flags != 9) {
			t.Fatalf("decode: %v, flags %d", err, flags)
		}
		if diff := cmp.Diff(vars, toMap(got)); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	if _, err := encodeData(vars, 28); !errors.Is(err, ErrTooLarge) {
		t.Errorf("encodeData into too little: %v", err)
	}
}

func TestProtected(t *testing.T) {
	got := protected("a:sr,b:so,c:sa,d:xc,e:s,noattrs,:r,f:r")
	want := map[string]bool{"a": true, "b": true, "": true, "f": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
