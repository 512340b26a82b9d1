package ubootenv

import (
	"bytes"
	"context"
	"io"
)

// Print writes the environment as libubootenv's fw_printenv does: with no
// names, every variable as a "name=value" line, sorted bytewise (the order
// libubootenv keeps them in, whatever the stored order), .flags left out;
// with names, one "name=value" line per name in the order given, and
// "name=" for a name that is not set (fw_printenv 0.3.2 prints that and
// exits 0: unset and empty are the same in U-Boot). The output is written
// with one Write, and nothing is written on error.
func (e *Env) Print(ctx context.Context, w io.Writer, names ...string) error {
	return e.print(ctx, w, true, names)
}

// PrintValues is `fw_printenv -n`: with names, each value alone on a line
// ("" for one not set); with no names, the same as Print.
func (e *Env) PrintValues(ctx context.Context, w io.Writer, names ...string) error {
	return e.print(ctx, w, false, names)
}

func (e *Env) print(ctx context.Context, w io.Writer, header bool, names []string) error {
	vars, err := e.Read(ctx)
	if err != nil {
		return err
	}
	_, err = w.Write(format(vars, header, names))
	return err
}

// format renders variables as fw_printenv does.
func format(vars map[string]string, header bool, names []string) []byte {
	var b bytes.Buffer
	if len(names) == 0 {
		header = true
		for _, n := range sortedNames(vars) {
			if n != flagsVar {
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		v := vars[n]
		if n == flagsVar {
			v = "" // libubootenv keeps .flags out of its variable list
		}
		if header {
			b.WriteString(n)
			b.WriteByte('=')
		}
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
