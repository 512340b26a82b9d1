package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestE2EUsersAndCards: lockctl against lockd --sim: a user, a card read
// from stdin (never the command line), the card opening at the simulated
// reader beside the keypad through the real decoder, the same card
// refused for another user and counted, lists that never show the
// numbers, the card removed, and group lockd kept out.
func TestE2EUsersAndCards(t *testing.T) {
	r := newRig(t)
	r.setup()
	res := r.want(0, "", "--json", "user", "add", "--label", "guest")
	var added struct {
		ID   uint32 `json:"id"`
		Slot int64  `json:"slot"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &added); err != nil || added.ID == 0 || added.Slot == 0 {
		t.Fatalf("user add --json: %+v %v\n%s", added, err, res)
	}
	slot := strconv.FormatInt(added.Slot, 10)
	res = r.want(0, "12:3456\n12:3456\n", "card", "add", slot)
	wantOutput(t, res, "to the user in keypad slot "+slot+" (guest).\n")
	res = r.want(0, "", "user", "list")
	wantOutput(t, res, "guest", "1 card")
	res = r.want(0, "", "--json", "card", "list")
	var cards []struct {
		ID   uint32 `json:"id"`
		Slot int64  `json:"slot"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &cards); err != nil || len(cards) != 1 || cards[0].Slot != added.Slot {
		t.Fatalf("card list --json: %+v %v\n%s", cards, err, res)
	}
	for _, args := range [][]string{{"user", "list"}, {"--json", "user", "list"}, {"card", "list"}, {"log"}} {
		if res := r.want(0, "", args...); strings.Contains(res.stdout, "3456") {
			t.Errorf("%v shows the card's number:\n%s", args, res)
		}
	}

	ev := r.events()
	r.want(0, "", "sim", "card", "12", "3456")
	r.waitEvent(ev, "unlocked")

	res = r.want(0, "", "--json", "user", "add", "--label", "other")
	var other struct {
		Slot int64 `json:"slot"`
	}
	json.Unmarshal([]byte(res.stdout), &other)
	res = r.want(1, "12:3456\n", "card", "add", strconv.FormatInt(other.Slot, 10))
	wantStderr(t, res, "lockctl: card already enrolled; counted as a wrong entry\n")
	r.want(1, "12:999999\n", "card", "add", slot)
	r.want(2, "", "card", "add", "--bits", "30", slot)

	r.want(0, "", "card", "remove", strconv.FormatUint(uint64(cards[0].ID), 10))
	r.want(0, "", "sim", "card", "12", "3456")
	r.waitEvent(ev, "denied")
	res = r.want(0, "", "card", "list")
	wantOutput(t, res, "No cards.\n")

	res = r.wantAs(r.reader(), 1, "", "user", "list")
	if !strings.Contains(res.stderr, "lockd-admin") {
		t.Errorf("group lockd: user list: %s", res)
	}
}
