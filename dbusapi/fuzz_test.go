package dbusapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// fakeSim is a Simulator with a 3x4 keypad.
type fakeSim struct{}

var _ Simulator = fakeSim{}

func (fakeSim) Press(_ context.Context, keys string) error {
	if i := strings.IndexFunc(keys, func(r rune) bool { return !strings.ContainsRune("0123456789*#", r) }); i >= 0 {
		return fmt.Errorf("sim: no key %q on the keypad", keys[i:i+1])
	}
	return nil
}
func (fakeSim) PressTime(n int) time.Duration { return time.Duration(n) * time.Millisecond }
func (fakeSim) SetDoor(bool)                  {}
func (fakeSim) SetJam(bool) error             { return nil }

// fuzzMethod is one of lockd's methods with its in-signature.
type fuzzMethod struct {
	iface, member, sig string
	handler            any
}

// fuzzMethods lists every io.lockd.* method, in a fixed order.
func fuzzMethods(s *Service) []fuzzMethod {
	var out []fuzzMethod
	for _, o := range interfaces(s, true, true) {
		for _, m := range o.spec.Methods {
			out = append(out, fuzzMethod{o.spec.Name, m.Name, s.signatures[o.spec.Name+"."+m.Name], o.handler})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].iface+out[i].member < out[j].iface+out[j].member })
	return out
}

// callBytes is a method call of m with body (in m's signature) as it
// comes off the wire, little-endian.
func callBytes(m fuzzMethod, body []byte) []byte {
	msg := &dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:      dbus.MakeVariant(wire.ObjectPath),
		dbus.FieldInterface: dbus.MakeVariant(m.iface),
		dbus.FieldMember:    dbus.MakeVariant(m.member),
		dbus.FieldSender:    dbus.MakeVariant(":1.42"),
	}}
	if m.sig != "" {
		msg.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.ParseSignatureMust(m.sig))
	}
	var b bytes.Buffer
	if err := msg.EncodeTo(&b, binary.LittleEndian); err != nil {
		panic(err) // static headers
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(body)))
	binary.LittleEndian.PutUint32(out[8:], 1) // serial
	return append(out, body...)
}

// digits are runs that could be a code (4 to 12 digits).
var digits = regexp.MustCompile(`[0-9]{4,12}`)

// codeArg is the index of the argument that is a code, for the methods
// that take one.
var codeArg = map[string]int{wire.Codes1 + ".SetAdminCode": 0, wire.Codes1 + ".Add": 1}

// FuzzMethods decodes a body for one of lockd's methods as godbus does
// (what godbus refuses never reaches lockd) and calls the method's handler
// on fakes, as an admin: every io.lockd.* method, Codes1.Add's options,
// Codes1.Log's range, Simulator1.Press's keys, Update1's options. Whatever
// the bytes, the handler returns; an error has a name clients know and a
// reason for a person, short, that repeats no code the call carried.
func FuzzMethods(f *testing.F) {
	seedService, _, _ := testService(f, caller{uid: 0})
	for i, m := range fuzzMethods(seedService) {
		var body bytes.Buffer
		var args []any
		switch m.iface + "." + m.member {
		case wire.Codes1 + ".Add":
			args = []any{"front", "2580", map[string]dbus.Variant{"kind": dbus.MakeVariant("scheduled"),
				"weekdays": dbus.MakeVariant([]string{"mon", "fri"}), "from": dbus.MakeVariant("08:00"), "until": dbus.MakeVariant("18:00")}}
		case wire.Codes1 + ".Log":
			args = []any{uint64(5), uint32(10)}
		case wire.Simulator1 + ".Press":
			args = []any{"2580#"}
		case wire.Update1 + ".InstallWithOptions":
			args = []any{dbus.UnixFDIndex(0), map[string]dbus.Variant{wire.OptAllowDowngrade: dbus.MakeVariant(true)}}
		}
		if len(args) > 0 {
			msg := &dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
				dbus.FieldPath: dbus.MakeVariant(wire.ObjectPath), dbus.FieldMember: dbus.MakeVariant("X"),
				dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(args...))}, Body: args}
			if err := msg.EncodeTo(&body, binary.LittleEndian); err != nil {
				f.Fatal(err)
			}
			enc := body.Bytes()
			f.Add(uint8(i), enc[len(enc)-int(binary.LittleEndian.Uint32(enc[4:])):])
		}
		f.Add(uint8(i), []byte{})
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		s, _, st := testService(t, caller{uid: 0})
		s.cfg.Sim, s.cfg.Updater = fakeSim{}, newFakeUpdater()
		ms := fuzzMethods(s)
		m := ms[int(which)%len(ms)]
		msg, err := dbus.DecodeMessage(bytes.NewReader(callBytes(m, body)))
		if err != nil {
			return // refused before any handler runs
		}
		fn := reflect.ValueOf(m.handler).MethodByName(m.member)
		ptrs := make([]any, fn.Type().NumIn()-1)
		for i := range ptrs {
			ptrs[i] = reflect.New(fn.Type().In(i + 1)).Interface()
		}
		if dbus.Store(msg.Body, ptrs...) != nil {
			return // godbus answers InvalidArgs itself
		}
		in := []reflect.Value{reflect.ValueOf(*msg)}
		for _, p := range ptrs {
			in = append(in, reflect.ValueOf(p).Elem())
		}
		out := fn.Call(in)
		derr, _ := out[len(out)-1].Interface().(*dbus.Error)
		if derr == nil {
			return
		}
		if !strings.HasPrefix(derr.Name, "org.freedesktop.DBus.Error.") && !strings.HasPrefix(derr.Name, "io.lockd.Error.") {
			t.Errorf("%s.%s: error name %q", m.iface, m.member, derr.Name)
		}
		reason, _ := derr.Body[0].(string)
		if reason == "" || len(reason) > 300 {
			t.Errorf("%s.%s: reason of %d bytes: %.300q", m.iface, m.member, len(reason), reason)
		}
		if i, ok := codeArg[m.iface+"."+m.member]; ok {
			code, _ := msg.Body[i].(string)
			others := fmt.Sprint(append(append([]any{}, msg.Body[:i]...), msg.Body[i+1:]...)...)
			if digits.MatchString(code) && strings.Contains(reason, code) && !strings.Contains(others, code) {
				t.Errorf("%s.%s: reason %q repeats the code %q", m.iface, m.member, reason, code)
			}
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if len(st.calls) > 0 && derr.Name != wire.ErrInvalidArgs {
			return // the fakes do not fail, so only a refused argument stops a change
		}
		if len(st.calls) > 0 {
			t.Errorf("%s.%s: refused (%s) after it reached the store: %v", m.iface, m.member, reason, st.calls)
		}
	})
}
