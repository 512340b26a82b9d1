// Package httpsource reads an update bundle over HTTP(S) at any offset,
// for the updater's InstallSource: it keeps one response open and serves
// reads in order from it, and answers a read elsewhere, a dropped
// connection or a server that stalls with a Range request from exactly
// the byte it needs — never from zero. The bytes are not trusted here:
// the updater checks them against the signed manifest and index as it
// does a file's, and the hash state lives there, so a resumed download
// carries it over untouched.
//
// What it refuses without retrying: a 404, 410 or 416, a server that
// ignores Range on a resumed request, and a file that changed under the
// download (its size, or its ETag / Last-Modified through If-Range).
// What it retries, with exponential backoff and jitter, honouring
// Retry-After: connection errors, cut or stalled bodies, 5xx and 429 —
// up to MaxRetries times in a row without a byte of progress.
package httpsource
