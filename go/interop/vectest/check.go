package vectest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
)

// Outcome of checking one vector against a memberlist version.
type Outcome int

const (
	Pass Outcome = iota
	Fail
	Skip
)

func (o Outcome) String() string {
	return [...]string{"pass", "FAIL", "skip"}[o]
}

// Result is the outcome of Check plus a human-readable reason.
type Result struct {
	Outcome   Outcome
	Msg       string
	Reencoded bool // the bytes were also re-encoded and compared
}

func pass(format string, a ...any) Result {
	return Result{Outcome: Pass, Msg: fmt.Sprintf(format, a...)}
}
func fail(format string, a ...any) Result {
	return Result{Outcome: Fail, Msg: fmt.Sprintf(format, a...)}
}
func skip(format string, a ...any) Result {
	return Result{Outcome: Skip, Msg: fmt.Sprintf(format, a...)}
}

// Check decodes a vector with the version's own functions and compares it with expect;
// error=1 vectors must be rejected. When re-encoding is wanted (params reencode, default
// for msg) and the vector's ints style is the version's, the decoded value is re-encoded
// with the version's encoder and must reproduce the hex exactly (not possible for
// encrypted vectors: their nonce is random).
func Check(c Codec, v Vector) Result {
	var (
		dump   string
		err    error
		reenc  func() ([]byte, error)
		encryp bool
	)
	switch v.Kind {
	case KindMsg:
		var m any
		if m, err = DecodeMsg(c, v.Data); err == nil {
			dump = Dump(m)
			reenc = func() ([]byte, error) { return EncodeMsgLike(c, m, v.Data) }
		}
	case KindPacket:
		var pk *Packet
		if pk, err = DecodePacket(c, v.Data, v.Params); err == nil {
			dump, encryp = pk.Dump(), pk.Encrypted
			reenc = func() ([]byte, error) { return ReencodePacket(c, pk) }
		}
	case KindStream:
		var s *Stream
		if s, err = DecodeStream(c, v.Data, v.Params); err == nil {
			dump, encryp = s.Dump(), s.Encrypted
			reenc = func() ([]byte, error) { return ReencodeStream(c, s, s.Body) }
		}
	case KindLZW:
		var out []byte
		if out, err = DecodeLZW(c, v.Data); err == nil {
			dump = "0x" + hex.EncodeToString(out)
		}
	default:
		return fail("unknown kind %q", v.Kind)
	}
	if errors.Is(err, ErrSkip) || errors.Is(err, ErrKnownLimitation) {
		return skip("%v", err)
	}
	if v.Params.Error {
		if err == nil {
			return fail("memberlist %s accepted a vector that must be rejected (%s); it decoded to %s",
				c.Version(), v.Expect, clip(dump))
		}
		return pass("rejected: %v", err)
	}
	if err != nil {
		return fail("memberlist %s cannot decode it: %v", c.Version(), err)
	}
	if dump != v.Expect {
		return fail("dump differs\n  got:  %s\n  want: %s\n  first difference at byte %d", clip(dump), clip(v.Expect), firstDiff(dump, v.Expect))
	}
	if !v.Params.ReencodeWanted(v.Kind) || reenc == nil {
		return pass("decoded")
	}
	if v.Params.Ints != c.Ints() {
		return pass("decoded (not re-encoded: ints=%q, %s writes %q)", v.Params.Ints, c.Version(), c.Ints())
	}
	if encryp {
		return pass("decoded (not re-encoded: encrypted)")
	}
	re, err := reenc()
	if err != nil {
		return fail("re-encode with memberlist %s: %v", c.Version(), err)
	}
	if !bytes.Equal(re, v.Data) {
		i := firstDiff(string(re), string(v.Data))
		return fail("memberlist %s re-encodes it differently (first difference at byte %d)\n  got:  %s\n  want: %s",
			c.Version(), i, clip(hex.EncodeToString(re)), clip(hex.EncodeToString(v.Data)))
	}
	return Result{Outcome: Pass, Msg: "decoded and re-encoded byte for byte", Reencoded: true}
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
