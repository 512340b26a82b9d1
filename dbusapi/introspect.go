package dbusapi

import (
	"encoding/xml"
	"regexp"
	"strings"

	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
)

const introspectable = "org.freedesktop.DBus.Introspectable"

// introspection is the XML Introspect returns: the standard interfaces,
// then every io.lockd.* interface exported.
func (s *Service) introspection() string {
	n := introspect.Node{Interfaces: []introspect.Interface{
		introspect.IntrospectData, introspect.PeerData, prop.IntrospectData,
	}}
	for _, o := range s.objects() {
		n.Interfaces = append(n.Interfaces, o.spec)
	}
	return marshalNode(n)
}

// InterfaceXML returns the introspection of the io.lockd.* interfaces,
// Simulator1 included, with a comment on what the a{sv} carry: the
// content of the shipped systemd/io.lockd.Lock1.xml (installed in
// /usr/share/dbus-1/interfaces/). A test keeps the two equal, and the
// file equal to what a running lockd introspects as.
func InterfaceXML() string {
	var n introspect.Node
	for _, o := range interfaces(nil, true, true) {
		n.Interfaces = append(n.Interfaces, o.spec)
	}
	return strings.Replace(marshalNode(n), "\n<node>", "\n"+xmlComment+"<node>", 1)
}

const xmlComment = `<!--
  lockd's D-Bus interfaces: bus name io.lockd.Lock1, object /io/lockd/Lock1.
  Generated from package dbusapi (go test ./dbusapi -run XML -update).
  io.lockd.Simulator1 exists only in the simulation (lockd with the sim flag).
  Simulator1.PresentCard sends a 26-bit card frame (34-bit when the
  facility is over 255) through the simulated reader.

  Lock1.Event details and Codes1.Log entries (a{sv}; a key is there only
  when it applies, uid always): time t (µs since the epoch), source s,
  reason s, code_id u, code_kind s, slot u, uid i (-1: not a D-Bus caller),
  until t (end of a lockout); Log adds kind s and details a{ss}.
  Codes1.List details: kind s, slot u, enabled b, uses u, created t,
  weekdays s + from s + until s (HH:MM, scheduled codes), valid_from t,
  valid_until t, uses_left u (limited codes), last_used t.
  Codes1.Add options: kind s, weekdays s or as, from s, until s (HH:MM
  local time), valid_from t, valid_until t (µs since the epoch), uses u,
  two_factor b, expire_after u (minutes, kind after-first-use), vacation b
  (opens in vacation mode too; ListUsers details say vacation b).
  Events and Log entries about a credential add credential s (pin, card).

  io.lockd.Users1: a user (what Codes1 calls a code: kind, keypad slot,
  label, schedule, uses) holds credentials: PINs and Wiegand cards.
  AddUser takes Codes1.Add's options. AddCredential type pin (secret: the
  digits) or card (secret: FACILITY:NUMBER in decimal; option bits u, 26
  or 34, default 26 unless the facility needs 16 bits); a secret already
  stored, or a PIN that starts or ends a stored one, is refused and
  counts as a wrong entry. ListUsers: (id, label, details, credentials
  (id, type, created t)); details as Codes1.List's plus two_factor b,
  expire_after u, first_used t. Codes1 sees a user holding PINs as one
  code (its first PIN's id); its Remove and SetEnabled act on the user.
  Every Users1 method and read is for root and lockd-admin only.
  Nothing lockd sends ever holds code digits, card numbers or digests.

  Lock1.OperatingMode: normal vacation privacy no-remote passage
  (Matter's modes; SetOperatingMode returns once the mode is kept;
  privacy needs the bolt locked, else io.lockd.Error.NotLocked;
  passage unlocks). In no-remote Lock and Unlock, in privacy Unlock,
  fail with io.lockd.Error.OperatingMode for every caller. Lock1.Alarms:
  forced-open ajar tamper jammed wrong-entry-limit power, listed until
  acknowledged and ended; AcknowledgeAlarm of one not listed is
  io.lockd.Error.NotActive. Events: operating-mode (reason: the new
  mode), command-refused (reason: the mode), alarm, alarm-cleared,
  alarm-acknowledged (reason: the alarm). Simulator1.SetTamper opens the
  simulated case, SetMains(false) cuts its mains.

  io.lockd.Update1 exists only when lockd has an updater. Install and
  InstallWithOptions take a descriptor of the bundle, a regular file the
  caller opened for reading; they return once the bundle is checked, and
  the write goes on (Operation, Progress). Options: allow-downgrade b.
  InstallFromURL takes an http:// or https:// URL instead (no user or
  password in it), with the same options and checks; lockd downloads the
  bundle with Range requests, resuming where a connection broke (its
  update-install event has the detail url).
  Update1.Slots: slot name -> state s, version s, security_version t,
  booted b, committed b. Pending (empty when none): version s, slot s,
  phase s, approved b, from_version s, security_version t, installed x.
  History entries: time x, event s, slot s, version s, detail s. Times in
  these dictionaries are x, Unix seconds. TrialCommitsAt t (µs since the
  epoch, 0 = none): when the running trial commits if lockd stays healthy;
  Waiting says what an update waits for in words. Update events on Lock1.Event: update-install,
  update-refused, update-approve, update-reject (requests, source dbus);
  update-installed, update-armed, update-committed, update-rolled-back,
  update-rejected, update-failed (source updater); details a{ss} version,
  boot_slot.

  Methods that change anything need root or group lockd-admin
  (org.freedesktop.DBus.Error.AccessDenied otherwise); bad arguments get
  org.freedesktop.DBus.Error.InvalidArgs with a reason. Other errors:
  io.lockd.Error.DoorOpen (Lock waits for the door to close),
  io.lockd.Error.Unavailable, io.lockd.Error.Unprovisioned,
  io.lockd.Error.Full, io.lockd.Error.Busy, io.lockd.Error.NothingPending,
  io.lockd.Error.BundleRefused (the bundle failed a check; nothing was
  written), org.freedesktop.DBus.Error.Failed.
-->
`

func marshalNode(n introspect.Node) string {
	b, err := xml.MarshalIndent(n, "", "  ")
	if err != nil {
		panic("dbusapi: introspection does not marshal: " + err.Error()) // static data: a bug
	}
	return doctype + emptyElement.ReplaceAllString(string(b), "<$1$2/>") + "\n"
}

const doctype = `<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
`

// emptyElement matches <x ...></x>, which encoding/xml writes for an
// element without children, to write it as <x .../>.
var emptyElement = regexp.MustCompile(`<(\w+)([^<>]*)></(\w+)>`)
