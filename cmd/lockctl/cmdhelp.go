package main

import (
	"fmt"
	"strings"
)

// optionHelp is what `lockctl COMMAND --help` says about a command's
// options, beyond its usage line and its line in `lockctl help`.
var optionHelp = map[string]string{
	"code add": `Options:
  --label L            a name for the code, shown by code list and the log
  --kind K             what the code is; without --kind it follows from the
                       other options (user when there are none):
                         user       opens at any time
                         scheduled  opens on --weekdays between --from and --until
                         expiring   opens between --valid-from and --valid-until
                         one-time   opens once (--uses 1)
                         limited    opens --uses N times
                         duress     opens like a user code and raises a silent
                                    duress event
                         non-access opens nothing: its use is only logged
                         after-first-use opens for --expire-after minutes
                                    from its first use
  --weekdays mon,tue   the days a scheduled code opens: mon tue wed thu fri
                       sat sun, comma-separated
  --from HH:MM         a scheduled code's daily window, in the lock's
  --until HH:MM        local time (24-hour)
  --valid-from TIME    an expiring code opens from TIME ...
  --valid-until TIME   ... until TIME; RFC 3339 or a local YYYY-MM-DD[THH:MM]
  --uses N             how many times a one-time or limited code opens
  --vacation           opens in vacation mode too (lockctl mode vacation)
  --two-factor         opens only with a card of the same user first, then
                       the code within codes.two_factor_window seconds
  --expire-after MIN   an after-first-use code's minutes (1 to 2880)

The code is asked twice without echo on a terminal, else read from the
first line of stdin (a second line must repeat it); never from the command
line. lockd assigns the next free keypad slot.`,
	"user add": "Options: those of code add (lockctl code add --help); the user gets no\n" +
		"credential: add PINs with user add-pin and cards with card add.",
	"card add": `Options:
  --bits 26|34         the card's format; without it 26 unless the facility
                       is over 255

FACILITY:NUMBER is asked twice without echo on a terminal, else read from
the first line of stdin (a second line must repeat it); never from the
command line: a card's numbers are all a clone needs.`,
	"setup": `Options:
  --change             replace the admin code of a unit already set up
                       (without it, setup refuses there)`,
	"unlock": moveHelp,
	"lock":   moveHelp,
}

// moveHelp is the options of lock and unlock.
const moveHelp = `Options:
  --no-wait            return once lockd took the request
  --timeout DURATION   how long to wait for the bolt (global option, 25s)`

// helpOf returns the help of cmd and its subcommands: usage lines,
// what each does, and its options.
func helpOf(cmd string) string {
	var b strings.Builder
	b.WriteString(usage(cmd) + "\n")
	for _, c := range commands {
		if c.path == cmd || strings.HasPrefix(c.path, cmd+" ") {
			fmt.Fprintf(&b, "\n%s: %s\n", c.path, c.help)
			if o, ok := optionHelp[c.path]; ok {
				b.WriteString("\n" + o + "\n")
			}
		}
	}
	return b.String()
}
