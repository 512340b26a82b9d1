package main

import (
	"strings"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// modeStatus reads OperatingMode and Alarms; a lockd without them gives
// "" and nil, and status leaves their rows out.
func modeStatus(p map[string]dbus.Variant) (mode string, alarms []string) {
	mode = vString(p, wire.PropOperatingMode)
	if _, ok := p[wire.PropAlarms]; ok {
		alarms = nonNil(vStrings(p, wire.PropAlarms))
	}
	return mode, alarms
}

// modeRows are status's rows for the operating mode and the alarms.
func modeRows(s lockStatus) [][2]string {
	var rows [][2]string
	if s.OperatingMode != "" {
		rows = append(rows, [2]string{"Operating mode", s.OperatingMode})
	}
	if s.Alarms != nil {
		alarms := "none"
		if len(s.Alarms) > 0 {
			alarms = strings.Join(s.Alarms, "\n") + "\n('lockctl alarm ack NAME' acknowledges one)"
		}
		rows = append(rows, [2]string{"Alarms", alarms})
	}
	return rows
}

// modeColour: any alarm needs a person; a mode other than normal is
// worth a second look.
func (s lockStatus) modeColour(key string) colour {
	switch {
	case key == "Alarms" && len(s.Alarms) > 0:
		return red
	case key == "Alarms":
		return green
	case s.OperatingMode != "normal":
		return yellow
	}
	return noColour
}
