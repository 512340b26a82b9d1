package dbustest

import (
	"fmt"
	"html"
)

// busConfig is a system bus as Debian's /usr/share/dbus-1/system.conf
// sets it up (default deny for owning names and for method calls, replies
// and signals allowed, the bus driver reachable), without the parts that
// need a real system (user switch, fork, pid file, syslog, service
// activation), listening on socket and including the policy file.
func busConfig(socket, policy, extra string) string {
	return fmt.Sprintf(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=%s</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>%s</include>
%s
</busconfig>
`, html.EscapeString(socket), html.EscapeString(policy), extra)
}

// BusConfig returns a system-bus-like dbus-daemon configuration listening
// on socket and including the policy file, for tools outside tests (the
// D-Bus benchmark of cmd/lockbench).
func BusConfig(socket, policy string) string { return busConfig(socket, policy, "") }
