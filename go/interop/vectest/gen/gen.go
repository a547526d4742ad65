// Package gen builds the vector files: deterministic synthetic vectors made with a
// memberlist version's own functions (synthetic.go), and vectors recorded from real
// memberlist clusters on memnet (traffic.go). Every expect string is what that version's
// own decode path yields (vectest.DecodePacket / DecodeStream / DecodeMsg).
package gen

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/libmemberlist/interop/vectest"
)

// Builder adds vectors to a Writer, checking each one against the version's decoder.
type Builder struct {
	C vectest.Codec
	W *vectest.Writer
}

func (b *Builder) params() vectest.Params { return vectest.DefaultParams() }

func (b *Builder) add(v vectest.Vector) error {
	if err := b.W.Add(v); err != nil {
		return err
	}
	return nil
}

// Msg adds a `msg` vector for v (a mirror struct pointer or *User), encoded with the
// version's encode.
func (b *Builder) Msg(name string, v any) error {
	data, err := vectest.EncodeMsg(b.C, v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", name, err)
	}
	got, err := vectest.DecodeMsg(b.C, data)
	if err != nil {
		return fmt.Errorf("%s: decode: %w", name, err)
	}
	if !SameMsg(got, v) {
		return fmt.Errorf("%s: round trip changed the message: %s vs %s", name, vectest.Dump(got), vectest.Dump(v))
	}
	p := b.params()
	p.Ints = b.C.Ints()
	return b.add(vectest.Vector{Name: "msg." + name, Kind: vectest.KindMsg, Params: p, Data: data, Expect: vectest.Dump(got)})
}

// Packet adds a `packet` vector. want (optional) are the leaf messages the datagram is
// known to carry; the decoded dump must match them.
func (b *Builder) Packet(name string, data []byte, p vectest.Params, want []any) error {
	pk, err := vectest.DecodePacket(b.C, data, p)
	if err != nil {
		return fmt.Errorf("%s: decode: %w", name, err)
	}
	expect := pk.Dump()
	if want != nil {
		if w := dumpAll(want); w != expect {
			return fmt.Errorf("%s: decoded %q, built from %q", name, short(expect), short(w))
		}
	}
	return b.add(vectest.Vector{Name: name, Kind: vectest.KindPacket, Params: p, Data: data, Expect: expect})
}

// KnownMisdecode adds a packet (a bare compound of parts) that the version encodes
// correctly but whose own decodeCompoundMessage splits wrongly; expect is the dump of
// want, and a comment explains. It checks that the version really misreads it.
func (b *Builder) KnownMisdecode(name string, data []byte, parts [][]byte, want []any, why string) error {
	trunc, got, err := b.C.DecodeCompound(data[1:])
	if err == nil && trunc == 0 && len(got) == len(parts) {
		same := true
		for i := range got {
			same = same && bytes.Equal(got[i], parts[i])
		}
		if same {
			return fmt.Errorf("%s: expected %s's decoder to misread this, but it decoded correctly", name, b.C.Version())
		}
	}
	b.W.Comment("%s: %s", name, why)
	return b.add(vectest.Vector{Name: name, Kind: vectest.KindPacket, Params: vectest.DefaultParams(), Data: data, Expect: dumpAll(want)})
}

// Stream adds a `stream` vector; wantDump (optional) must equal the decoded dump.
func (b *Builder) Stream(name string, data []byte, p vectest.Params, wantDump string) error {
	s, err := vectest.DecodeStream(b.C, data, p)
	if err != nil {
		return fmt.Errorf("%s: decode: %w", name, err)
	}
	expect := s.Dump()
	if wantDump != "" && wantDump != expect {
		return fmt.Errorf("%s: decoded %q, built from %q", name, short(expect), short(wantDump))
	}
	if p.ReencodeWanted(vectest.KindStream) {
		re, err := vectest.ReencodeStream(b.C, s, s.Body)
		if err != nil {
			return fmt.Errorf("%s: reencode: %w", name, err)
		}
		if !bytes.Equal(re, data) {
			return fmt.Errorf("%s: reencode differs", name)
		}
	}
	return b.add(vectest.Vector{Name: name, Kind: vectest.KindStream, Params: p, Data: data, Expect: expect})
}

// LZW adds an `lzw` vector: the raw compress/lzw output memberlist's compressPayload
// produced for input.
func (b *Builder) LZW(name string, input []byte) error {
	wrapped, err := b.C.CompressPayload(input)
	if err != nil {
		return err
	}
	var cm vectest.Compress
	if err := b.C.Decode(wrapped[1:], &cm); err != nil {
		return err
	}
	out, err := vectest.DecodeLZW(b.C, cm.Buf)
	if err != nil || !bytes.Equal(out, input) {
		return fmt.Errorf("%s: lzw round trip failed: %v", name, err)
	}
	if resets := vectest.LZWTableResets(cm.Buf); resets < 0 || (strings.Contains(name, "reset") && resets == 0) {
		return fmt.Errorf("%s: %d bytes of input gave %d LZW table resets", name, len(input), resets)
	}
	return b.add(vectest.Vector{Name: "lzw." + name, Kind: vectest.KindLZW, Params: b.params(), Data: cm.Buf,
		Expect: "0x" + hex.EncodeToString(input)})
}

// Reject adds an error=1 vector after checking that the version rejects it.
func (b *Builder) Reject(kind, name string, data []byte, p vectest.Params, reason string) error {
	p.Error = true
	var err error
	switch kind {
	case vectest.KindPacket:
		_, err = vectest.DecodePacket(b.C, data, p)
	case vectest.KindStream:
		_, err = vectest.DecodeStream(b.C, data, p)
	case vectest.KindMsg:
		_, err = vectest.DecodeMsg(b.C, data)
	case vectest.KindLZW:
		_, err = vectest.DecodeLZW(b.C, data)
	}
	if errors.Is(err, vectest.ErrSkip) {
		return fmt.Errorf("%s: version cannot check it: %w", name, err)
	}
	if err == nil {
		return fmt.Errorf("%s: %s accepted a vector meant to be rejected (%s)", name, b.C.Version(), reason)
	}
	return b.add(vectest.Vector{Name: name, Kind: kind, Params: p, Data: data, Expect: reason})
}

func dumpAll(msgs []any) string {
	var ds []string
	for _, m := range msgs {
		ds = append(ds, vectest.Dump(m))
	}
	return vectest.JoinDumps(ds)
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// SameMsg compares two mirror structs, treating nil and empty byte slices as equal (the
// dump does not distinguish them either).
func SameMsg(a, b any) bool {
	return vectest.Dump(a) == vectest.Dump(b) && reflect.TypeOf(a) == reflect.TypeOf(b)
}
