package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable makes a string that came from the network (a member's name or metadata) safe to
// write to a terminal. Any host that can reach the gossip port can choose these bytes, so raw
// control characters (ESC sequences, BEL, a tab that breaks the members table), DEL, invalid
// UTF-8 and non-printable runes such as bidi overrides are written as Go escapes (\x1b, \a,
// \u202e, \xff); everything printable, backslash included, is left as it is, so an ordinary
// name prints unchanged.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // 'x' with the rune escaped
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
