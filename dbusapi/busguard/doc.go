// Package busguard stands between lockd's godbus connection and the bus
// socket, so that what godbus reads is already bounded and holds no
// descriptor lockd did not ask for. It owns exactly that relay: it
// neither decodes bodies nor knows lockd's interfaces beyond the list of
// calls that may pass a descriptor (Config.FDCalls).
//
// Why a relay: godbus v5.2.4 reads a whole message before anyone can look
// at it (bodies up to 128 MiB, decoded before the service checks a
// signature), turns only top-level `h` arguments into UnixFD values, and
// closes no descriptor of a message it ignores or fails to decode. Any
// client the policy lets call lockd at all (group lockd may read
// properties) could thus fill lockd's descriptor table, after which
// godbus drops the connection, or make lockd allocate hundreds of MiB.
// None of that can be fixed from a method handler: it happens before one
// runs.
//
// How: Dial connects to the bus socket itself and hands godbus one end of
// a socketpair (dbus.ConnectUnix). The relay copies the SASL exchange
// through unchanged, line for line (every client command but BEGIN gets
// exactly one reply, so the two directions take turns), then frames each
// message the bus sends: the 16-byte fixed header, the header fields
// (parsed, in either byte order) and the body. Descriptors arrive with
// SCM_RIGHTS, received with MSG_CMSG_CLOEXEC into a queue; the bus sends
// each message's descriptors with its first bytes, so when a message's
// fixed header has been read its descriptors are queued behind those of
// earlier messages, and each message takes exactly its UNIX_FDS count from
// the front. Then:
//
//   - A method call listed in Config.FDCalls (lockd: Update1.Install and
//     InstallWithOptions, whose first argument is the `h`) keeps the one
//     descriptor its first argument names; the relay rewrites UNIX_FDS to
//     1 and the index to 0 and closes the rest.
//   - Every other message loses its descriptors: they are closed and
//     UNIX_FDS is rewritten to 0 in place (same length: nothing is
//     re-encoded). A method that does not take a descriptor runs as if
//     none had come.
//   - A message whose body exceeds Config.MaxBody, or whose header fields
//     exceed MaxFields, is never buffered: the relay reads and discards
//     it, closes its descriptors and, for a method call that wants a
//     reply, reports a Refusal so that the service answers the caller
//     with an error. The bus driver (org.freedesktop.DBus) is trusted and
//     exempt from the body bound; its replies carry group lists.
//
// What lockd sends goes to the bus unchanged. The relay ends, closing
// both sockets, when either side closes or breaks the protocol; godbus
// then sees its connection lost, as it would for the bus going away.
//
// MSG_CTRUNC: Linux returns the descriptors of at most one sendmsg per
// recvmsg on a stream socket, and a sender passes at most 253 (SCM_MAX_FD),
// so the control buffer holds 253 and truncation cannot happen unless
// lockd runs out of descriptors (then the kernel closes what it cannot
// install). The relay then cannot know which message lost descriptors,
// so it ends the connection rather than guess; lockd reconnects.
package busguard
