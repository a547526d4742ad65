package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/memberlist"
)

const hostile = "evil\x1b[2J\x07\x7f\xff\u202e\tname"

// noControl fails the test if out holds a raw control byte other than the newline, DEL, an
// invalid UTF-8 byte or a bidi override.
func noControl(t *testing.T, out string) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		if c := out[i]; (c < 0x20 && c != '\n' && c != ' ') || c == 0x7f || c == 0xff {
			t.Fatalf("raw byte %#x at %d in output %q", c, i, out)
		}
	}
	if strings.ContainsRune(out, '\u202e') {
		t.Fatalf("raw bidi override in output %q", out)
	}
}

func TestPrintableEscapesOnlyWhatATerminalWouldObey(t *testing.T) {
	for in, want := range map[string]string{
		"node-1":                "node-1",
		"名前 with space":         "名前 with space",
		`back\slash`:            `back\slash`,
		"a\x1b[2Jb\x07":         `a\x1b[2Jb\a`,
		"del\x7f bad\xff tab\t": `del\x7f bad\xff tab\t`,
		"rtl\u202eoverride":     `rtl\u202eoverride`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMembersTableEscapesNetworkStrings(t *testing.T) {
	var out bytes.Buffer
	v := View{Self: "node-0", Members: []Member{
		{Name: "node-0", Addr: "10.0.0.1:7946", Protocol: [3]uint8{1, 5, 2}, Self: true},
		{Name: hostile, Addr: "10.0.0.2:7946", Protocol: [3]uint8{1, 5, 2}, Meta: hostile},
	}}
	if err := printView(&out, v, false); err != nil {
		t.Fatal(err)
	}
	noControl(t, out.String())
	if !strings.Contains(out.String(), `evil\x1b[2J\a\x7f\xff\u202e\tname`) {
		t.Errorf("escaped name missing from:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "node-0 *") {
		t.Errorf("plain name changed:\n%s", out.String())
	}
}

func TestEventLinesEscapeNetworkStrings(t *testing.T) {
	var out bytes.Buffer
	e := newEvents()
	e.NotifyJoin(&memberlist.Node{Name: hostile, Meta: []byte(hostile)})
	e.NotifyJoin(&memberlist.Node{Name: "node-1"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.run(ctx, &printer{out: &out}) // prints what is queued, then returns
	noControl(t, out.String())
	if !strings.Contains(out.String(), `join   evil\x1b[2J\a\x7f\xff\u202e\tname `) {
		t.Errorf("escaped join line missing from:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "join   node-1 ") {
		t.Errorf("plain join line changed:\n%s", out.String())
	}
}
