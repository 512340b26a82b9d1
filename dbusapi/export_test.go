package dbusapi

// MethodNames lists every method lockd exports, with the simulator's and
// the updater's, as "interface.Method", for the external tests.
func MethodNames() []string {
	var names []string
	for _, o := range interfaces(nil, true, true) {
		for _, m := range o.spec.Methods {
			names = append(names, o.spec.Name+"."+m.Name)
		}
	}
	return names
}
