package ubootenv

import "strings"

// protected returns the variables that the .flags variable marks
// read-only ('r') or write-once ('o'). libubootenv refuses to change or
// delete those once they exist, and so does Update. The format is U-Boot's
// "name:attrs[,name:attrs...]" where attrs are a type letter (s d x b i m)
// and an access letter (a r o c); like libubootenv, unknown letters are
// ignored.
func protected(flags string) map[string]bool {
	p := map[string]bool{}
	for _, entry := range strings.Split(flags, ",") {
		name, attrs, ok := strings.Cut(entry, ":")
		if ok && strings.ContainsAny(attrs, "ro") {
			p[name] = true
		}
	}
	return p
}
