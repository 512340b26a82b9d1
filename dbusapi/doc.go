// Package dbusapi is lockd's D-Bus service and its authorisation: it owns
// the bus name io.lockd.Lock1 and exports, on /io/lockd/Lock1, the
// interfaces io.lockd.Lock1, io.lockd.Codes1, io.lockd.Update1 (when lockd
// has an updater) and (simulation only) io.lockd.Simulator1, with org.freedesktop.DBus.Properties,
// Introspectable and Peer. The names and the keys of every a{sv} are in
// package wire; the interface XML is shipped as systemd/io.lockd.Lock1.xml.
//
// Who may do what: the shipped policy (systemd/io.lockd.Lock1.conf) lets
// root and group lockd-admin call anything and group lockd read the
// properties, the audit log (Codes1.Log) and the signals; lockd checks
// again itself, from the caller's credentials, before anything that
// changes state and before every read but Introspect and Peer (see
// authz.go): Codes1.List for admins only, properties and the log for
// group lockd too. So a policy file edited by mistake neither opens the
// door nor shows anyone the codes.
//
// lockd serves through busguard, which closes every descriptor a call
// does not take and refuses unread any message too large (guard.go), and
// on Config.Bus it reconnects whenever it loses the bus (keep.go).
//
// Each interface lives in its own file (lock1.go, codes1.go, update1.go,
// sim1.go) and is listed in interfaces (service.go).
package dbusapi
