package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// userInfo is one user as Users1.ListUsers describes it: its codeInfo
// (slot, kind, schedule, uses...) and its credentials, never what they
// hold.
type userInfo struct {
	codeInfo
	TwoFactor   bool             `json:"two_factor"`
	Vacation    bool             `json:"vacation"` // opens in vacation mode too
	ExpireAfter int64            `json:"expire_after_minutes,omitempty"`
	FirstUsed   *time.Time       `json:"first_used,omitempty"`
	Credentials []credentialInfo `json:"credentials"`
}

// credentialInfo is a credential's id and type.
type credentialInfo struct {
	ID      uint32     `json:"id"`
	Type    string     `json:"type"`
	Created *time.Time `json:"created,omitempty"`
}

// listUsers calls Users1.ListUsers.
func (c *client) listUsers(ctx context.Context) ([]userInfo, error) {
	var raw []struct {
		ID          uint32
		Label       string
		Details     map[string]dbus.Variant
		Credentials []struct {
			ID      uint32
			Type    string
			Created uint64
		}
	}
	if err := c.call(ctx, wire.Users1, "ListUsers", nil, &raw); err != nil {
		return nil, err
	}
	out := make([]userInfo, 0, len(raw))
	for _, r := range raw {
		u := userInfo{codeInfo: newCodeInfo(r.ID, r.Label, r.Details), TwoFactor: vBool(r.Details, wire.KeyTwoFactor),
			Vacation:  vBool(r.Details, wire.KeyVacation),
			FirstUsed: timePtr(vMicros(r.Details, wire.KeyFirstUsed)), Credentials: []credentialInfo{}}
		u.ExpireAfter, _ = vInt(r.Details, wire.KeyExpireAfter)
		delete(u.Details, wire.KeyTwoFactor)
		delete(u.Details, wire.KeyVacation)
		delete(u.Details, wire.KeyExpireAfter)
		delete(u.Details, wire.KeyFirstUsed)
		for _, cr := range r.Credentials {
			u.Credentials = append(u.Credentials, credentialInfo{ID: cr.ID, Type: sanitize(cr.Type),
				Created: timePtr(time.UnixMicro(int64(cr.Created)))})
		}
		out = append(out, u)
	}
	return out, nil
}

// cmdUser is `lockctl user add|list|remove|enable|disable|add-pin`.
func (a *app) cmdUser(ctx context.Context, args []string) error {
	sub, rest, err := subcommand("user", args, "add", "list", "remove", "enable", "disable", "add-pin")
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		return a.userAdd(ctx, rest)
	case "list":
		return a.userList(ctx, rest)
	}
	return a.userBySlot(ctx, sub, rest)
}

// addUserFlags registers the options of code add and user add on fs.
func addUserFlags(fs *flag.FlagSet, f *addFlags) {
	fs.StringVar(&f.label, "label", "", "")
	fs.StringVar(&f.kind, "kind", "", "")
	fs.StringVar(&f.weekdays, "weekdays", "", "")
	fs.StringVar(&f.from, "from", "", "")
	fs.StringVar(&f.until, "until", "", "")
	fs.StringVar(&f.validFrom, "valid-from", "", "")
	fs.StringVar(&f.validUntil, "valid-until", "", "")
	fs.IntVar(&f.uses, "uses", -1, "")
	fs.BoolVar(&f.twoFactor, "two-factor", false, "")
	fs.BoolVar(&f.vacation, "vacation", false, "")
	fs.IntVar(&f.expireAfter, "expire-after", 0, "")
}

// userAdd is `lockctl user add`: a user without credentials yet.
func (a *app) userAdd(ctx context.Context, args []string) error {
	fs := a.flagSet("user add")
	var f addFlags
	addUserFlags(fs, &f)
	if _, err := a.parse("user add", fs, args, 0, 0); err != nil {
		return err
	}
	opts, err := f.options("user add")
	if err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	var id uint32
	if err := c.call(ctx, wire.Users1, "AddUser", []any{f.label, opts}, &id); err != nil {
		return err
	}
	u, _ := c.userByID(ctx, id)
	if a.json {
		return printJSON(a.stdout, map[string]any{"id": id, "slot": u.Slot, "kind": opts["kind"].Value()})
	}
	fmt.Fprintf(a.stdout, "Added a %s user in keypad slot %d; give it a PIN with 'lockctl user add-pin %d' or a card with 'lockctl card add %d'.\n",
		opts["kind"].Value(), u.Slot, u.Slot, u.Slot)
	return nil
}

// userByID finds a user by id.
func (c *client) userByID(ctx context.Context, id uint32) (userInfo, error) {
	list, err := c.listUsers(ctx)
	if err != nil {
		return userInfo{}, err
	}
	for _, u := range list {
		if u.ID == id {
			return u, nil
		}
	}
	return userInfo{}, fmt.Errorf("no user with id %d", id)
}

// userList is `lockctl user list`.
func (a *app) userList(ctx context.Context, args []string) error {
	if _, err := a.parse("user list", a.flagSet("user list"), args, 0, 0); err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	list, err := c.listUsers(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, list)
	}
	writeUserTable(a.stdout, list)
	return nil
}

// writeUserTable prints the users as `lockctl user list` does.
func writeUserTable(w io.Writer, list []userInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tLABEL\tKIND\tSCHEDULE\tENABLED\tCREDENTIALS\tUSES")
	for _, u := range list {
		slot, label, enabled := "-", "-", "no"
		if u.Slot != 0 {
			slot = fmt.Sprint(u.Slot)
		}
		if u.Label != "" {
			label = sanitize(u.Label)
		}
		if u.Enabled {
			enabled = "yes"
		}
		kind := sanitize(u.Kind)
		if u.TwoFactor {
			kind += " (card+PIN)"
		}
		if u.Vacation {
			kind += " (vacation)"
		}
		sched := u.schedule()
		if u.ExpireAfter > 0 {
			sched = fmt.Sprintf("%d min from first use", u.ExpireAfter)
			if u.FirstUsed != nil {
				sched += ", first " + u.FirstUsed.Local().Format("2006-01-02 15:04")
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", slot, label, kind, sched, enabled, credentialSummary(u.Credentials), u.Uses)
	}
	_ = tw.Flush()
}

// credentialSummary counts a user's credentials: "1 PIN, 2 cards".
func credentialSummary(creds []credentialInfo) string {
	pins, cards := 0, 0
	for _, c := range creds {
		if c.Type == wire.CredentialCard {
			cards++
		} else {
			pins++
		}
	}
	var s []string
	if pins > 0 {
		s = append(s, plural(pins, "PIN", "PINs"))
	}
	if cards > 0 {
		s = append(s, plural(cards, "card", "cards"))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// slotUser resolves a keypad slot argument to its user (see codeBySlot
// for why the owner names users by slot).
func (a *app) slotUser(ctx context.Context, cmd, arg string) (*client, userInfo, error) {
	slot, err := strconv.ParseUint(arg, 10, 31)
	if err != nil || slot == 0 {
		return nil, userInfo{}, usagef(cmd, "%s: SLOT must be a keypad slot as 'lockctl user list' shows it, not %q", cmd, arg)
	}
	c, err := a.connect(ctx)
	if err != nil {
		return nil, userInfo{}, err
	}
	list, err := c.listUsers(ctx)
	if err != nil {
		return nil, userInfo{}, err
	}
	i := slices.IndexFunc(list, func(u userInfo) bool { return u.Slot == int64(slot) })
	if i < 0 {
		return nil, userInfo{}, fmt.Errorf("%s: no user in keypad slot %d (see 'lockctl user list')", cmd, slot)
	}
	return c, list[i], nil
}

// userBySlot is `lockctl user remove|enable|disable|add-pin SLOT`.
func (a *app) userBySlot(ctx context.Context, sub string, args []string) error {
	cmd := "user " + sub
	pos, err := a.parse(cmd, a.flagSet(cmd), args, 1, 1)
	if err != nil {
		return err
	}
	c, u, err := a.slotUser(ctx, cmd, pos[0])
	if err != nil {
		return err
	}
	var credential uint32
	switch sub {
	case "remove":
		err = c.call(ctx, wire.Users1, "RemoveUser", []any{u.ID})
	case "add-pin":
		code, rerr := a.readCode(ctx, "PIN")
		if rerr != nil {
			return rerr
		}
		err = c.call(ctx, wire.Users1, "AddCredential", []any{u.ID, wire.CredentialPIN, code, map[string]dbus.Variant{}}, &credential)
	default:
		err = c.call(ctx, wire.Users1, "SetUserEnabled", []any{u.ID, sub == "enable"})
	}
	if err != nil {
		return err
	}
	if a.json {
		out := map[string]any{"slot": u.Slot, "id": u.ID, "done": sub}
		if credential != 0 {
			out["credential"] = credential
		}
		return printJSON(a.stdout, out)
	}
	switch sub {
	case "add-pin":
		fmt.Fprintf(a.stdout, "Added a PIN to the user in keypad slot %d%s.\n", u.Slot, labelled(u.Label))
	default:
		fmt.Fprintf(a.stdout, "%sd the user in keypad slot %d%s.\n", capitalize(sub), u.Slot, labelled(u.Label))
	}
	return nil
}
