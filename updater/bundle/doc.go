// Package bundle owns the lockd update bundle: its file format, the key
// files that sign it, the reader the installer streams from, the
// pre-install checks, and the host-side `lockd bundle` tool.
//
// A bundle is one file, read strictly front to back, so that an installer
// fed from a pipe or a D-Bus file descriptor can verify the signed manifest
// before it reads a single byte of the image, and can verify the image
// while it streams it into a slot:
//
//	offset    size  field
//	0         8     magic 89 6c 6f 63 6b 64 0d 0a ("\x89lockd\r\n")
//	8         2     format version, big-endian uint16 (1)
//	10        4     section tag "MNFT"
//	14        8     n, big-endian uint64, 1 <= n <= 65536
//	22        n     manifest.json (one JSON object, see Manifest)
//	22+n      4     section tag "SIGN"
//	26+n      8     big-endian uint64, always 72
//	34+n      8     key id: the first 8 bytes of sha256(ed25519 public key)
//	42+n      64    ed25519 signature of "lockd-bundle-v1\x00" || manifest
//	106+n     4     section tag "IMAG"
//	110+n     8     s, big-endian uint64, equal to manifest image.stored_size
//	118+n     s     the root file-system image, raw or one or more zstd frames
//	118+n+s         end of file; any further byte is an error
//
// The signature covers the manifest bytes exactly as stored, behind a
// domain-separation prefix so that no other lockd signature can be replayed
// as a bundle signature. The header is not signed, but everything in it is
// either checked against the signed manifest (format version, image length)
// or only selects which trusted key to verify with (key id). The image is
// bound to the manifest twice: by size and sha256 of the decompressed bytes
// (what lands in the slot) and by stored_size and stored_sha256 of the bytes
// in the bundle, so that every byte of a bundle is covered by the signature.
//
// A zstd image is one or more zstd frames and nothing else: each with a
// window of at most 8 MiB (the installer's memory bound), no dictionary,
// no skippable frame; a frame may declare its content size, and the sizes
// of frames that do must add up to the manifest's image size (`lockd
// bundle create` streams and declares none). An installer checks this
// from the frame and block headers before it changes anything
// (Reader.VerifyStored), not only while it decompresses into a slot.
//
// Key files are two lines of text: a header line, then the standard
// base64 encoding of the key, each ending in a newline:
//
//	KEYBASE.key (mode 0600):  "lockd-ed25519-private v1\n" base64(32-byte seed) "\n"
//	KEYBASE.pub:              "lockd-ed25519-public v1\n"  base64(32-byte key)  "\n"
package bundle
