package codes

// Notice is something Open found and dealt with that a person should
// know about. The caller logs it and raises a health warning for the
// Warn ones; Open also writes each to the audit log (source "codes").
type Notice struct {
	Kind string // one of the Notice* constants
	Path string // the file concerned, if any
	Text string // for a person; never contains digits of a code
	Warn bool   // degraded or data lost: show it as a health warning
}

// Notice kinds.
const (
	// NoticeCorrupt: the database failed its integrity check and was moved
	// aside to Path; the store started empty (unprovisioned).
	NoticeCorrupt = "db-corrupt"
	// NoticeOtherKey: the database was made under another device key
	// (factory-init --force, a swapped key file) and was moved aside.
	NoticeOtherKey = "db-other-key"
	// NoticeRestored: the database was written by a newer lockd (a
	// rollback); it was moved aside to Path and the copy made before the
	// upgrade was restored. Changes since the upgrade are lost.
	NoticeRestored = "db-restored"
	// NoticeMigrated: the schema was upgraded; Path is the copy of the
	// old version.
	NoticeMigrated = "db-migrated"
	// NoticeKeyMode: the device key file is readable by others.
	NoticeKeyMode = "key-mode"
	// NoticeNoSetupCode: the unit is unprovisioned and has no usable setup
	// code digest: only a local SetAdmin (D-Bus) can provision it.
	NoticeNoSetupCode = "no-setup-code"
)

func (s *Store) notice(kind, path, text string, warn bool) {
	n := Notice{Kind: kind, Path: path, Text: text, Warn: warn}
	s.notices = append(s.notices, n)
	if warn {
		s.opts.Logger.Warn("codes: "+text, "notice", kind, "path", path)
	} else {
		s.opts.Logger.Info("codes: "+text, "notice", kind, "path", path)
	}
}

// Notices returns what Open found and dealt with, in order.
func (s *Store) Notices() []Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notice(nil), s.notices...)
}
