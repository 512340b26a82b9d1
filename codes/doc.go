// Package codes owns the lock's access codes, its lockout state and its
// audit log, kept in one SQLite database in the state directory, and the
// per-unit secrets beside it (device key, setup code digest).
//
// No code is ever stored: every code is kept as HMAC-SHA256 under a 32-byte
// device key that lives in its own file outside the database, so a stolen
// database alone reveals nothing, and checking an entry costs one HMAC and
// one indexed lookup whatever the number of codes. No code has a default: a
// unit whose database has no admin code is unprovisioned and grants nothing
// but its per-unit setup code (FactoryInit), and only for setting the first
// admin code.
//
// Every method that changes something returns only once the change is
// durable (WAL, synchronous=FULL): a power cut loses nothing acknowledged.
// The store is safe for concurrent use; one mutex serialises it, which is
// plenty for a keypad and a handful of D-Bus callers.
//
// The lock core uses the store through its own lock.Codes interface; this
// package imports no other package of the project.
package codes
