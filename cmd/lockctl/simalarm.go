package main

// simSwitch maps `sim tamper on|off` and `sim mains on|off` to their
// Simulator1 calls: tamper on opens the case, mains off cuts the power.
func simSwitch(sub, arg string) (method string, callArg any, done string, err error) {
	on := arg == "on"
	if !on && arg != "off" {
		return "", nil, "", usagef("sim "+sub, "sim %s: want on or off, not %q", sub, arg)
	}
	if sub == "tamper" {
		if on {
			return "SetTamper", true, "case opened (tamper switch open)", nil
		}
		return "SetTamper", false, "case shut", nil
	}
	if on {
		return "SetMains", true, "mains restored", nil
	}
	return "SetMains", false, "mains cut", nil
}
