package vectest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"time"
)

// ErrSkip is returned when a vector needs a feature the memberlist version lacks
// (labels before v0.3.0).
var ErrSkip = errors.New("skipped")

// ErrKnownLimitation is returned when the input is valid but the memberlist version is
// known to mis-handle it (compounds of more than 127 parts before v0.2.4).
var ErrKnownLimitation = errors.New("skipped: known limitation of this memberlist version")

// maxNesting bounds compound/compress recursion in the packet decoder. memberlist itself
// has no bound; real packets nest at most 3 deep.
const maxNesting = 64

// Item is one decoded message of a packet: a leaf message, a compound or a compress
// wrapper. Raw is the exact bytes of this message (type byte included).
type Item struct {
	Type  uint8
	Msg   any     // leaf: *Ping, *Alive, ..., *User
	Parts []*Item // compound
	Inner *Item   // compress
	Raw   []byte
}

// Leaves returns the leaf messages in order.
func (it *Item) Leaves() []any {
	var out []any
	var walk func(*Item)
	walk = func(i *Item) {
		switch {
		case i.Type == CompoundMsg:
			for _, p := range i.Parts {
				walk(p)
			}
		case i.Type == CompressMsg:
			walk(i.Inner)
		default:
			out = append(out, i.Msg)
		}
	}
	walk(it)
	return out
}

// Shape is a compact description of the nesting, e.g. "compress(compound(ping,alive))".
func (it *Item) Shape() string {
	switch it.Type {
	case CompoundMsg:
		s := "compound("
		for i, p := range it.Parts {
			if i > 0 {
				s += ","
			}
			if i >= 4 {
				s += fmt.Sprintf("...%d", len(it.Parts))
				break
			}
			s += p.Shape()
		}
		return s + ")"
	case CompressMsg:
		return "compress(" + it.Inner.Shape() + ")"
	}
	return WireName(it.Msg)
}

// Packet is a decoded UDP datagram.
type Packet struct {
	Label     string
	Encrypted bool
	EncVsn    uint8
	CRC       bool
	Root      *Item
}

// Dump is the packet's canonical expect string.
func (p *Packet) Dump() string {
	var ds []string
	for _, l := range p.Root.Leaves() {
		ds = append(ds, Dump(l))
	}
	return JoinDumps(ds)
}

// Shape describes the layering, e.g. "label+enc1+crc+compound(ping,alive)".
func (p *Packet) Shape() string {
	s := ""
	if p.Label != "" {
		s += "label+"
	}
	if p.Encrypted {
		s += fmt.Sprintf("enc%d+", p.EncVsn)
	}
	if p.CRC {
		s += "crc+"
	}
	return s + p.Root.Shape()
}

func catchPanic(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("panic in memberlist code: %v", r)
	}
}

// DecodePacket runs a UDP datagram through the receive path of memberlist's ingestPacket
// and handleCommand, calling the version's own functions for each layer: label removal,
// decryptPayload with the receiver's keyring (AAD = label), CRC check,
// decodeCompoundMessage, decompressPayload and decode into the mirror structs.
//
// It is stricter than memberlist in one place: a compound whose parts are truncated is an
// error (memberlist logs it and still handles the parts before the truncation).
func DecodePacket(c Codec, buf []byte, p Params) (pk *Packet, err error) {
	defer catchPanic(&err)
	buf = bytes.Clone(buf)
	pk = &Packet{}
	if c.SupportsLabels() {
		rest, label, err := c.RemoveLabelHeaderFromPacket(buf)
		if err != nil {
			return nil, fmt.Errorf("label: %w", err)
		}
		if label != p.LabelString() {
			return nil, fmt.Errorf("label mismatch: packet %q, receiver %q", label, p.LabelString())
		}
		pk.Label, buf = label, rest
	} else if p.HasLabel {
		return nil, fmt.Errorf("%w: labels (memberlist %s predates them)", ErrSkip, c.Version())
	}

	if len(p.Keys) > 0 {
		plain, err := c.DecryptPayload(p.Keys, buf, p.Label)
		if err != nil {
			if p.VerifyIncoming {
				return nil, fmt.Errorf("decrypt: %w", err)
			}
			plain = buf // GossipVerifyIncoming=false: treat as plaintext
		} else {
			pk.Encrypted, pk.EncVsn = true, buf[0]
		}
		buf = plain
	}

	if len(buf) >= 5 && buf[0] == HasCrcMsg {
		got := crc32.ChecksumIEEE(buf[5:])
		want := binary.BigEndian.Uint32(buf[1:5])
		if got != want {
			return nil, fmt.Errorf("bad CRC: computed %08x, header %08x", got, want)
		}
		pk.CRC = true
		buf = buf[5:]
	}
	pk.Root, err = decodeCommand(c, buf, 0)
	if err != nil {
		return nil, err
	}
	return pk, nil
}

func decodeCommand(c Codec, buf []byte, depth int) (*Item, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("nesting deeper than %d", maxNesting)
	}
	if len(buf) < 1 {
		return nil, errors.New("missing message type byte")
	}
	it := &Item{Type: buf[0], Raw: buf}
	body := buf[1:]
	switch it.Type {
	case CompoundMsg:
		if len(body) > 0 && int(body[0]) > c.MaxCompoundParts() {
			return nil, fmt.Errorf("%w: compound of %d parts (decodeCompoundMessage handles at most %d)",
				ErrKnownLimitation, body[0], c.MaxCompoundParts())
		}
		trunc, parts, err := c.DecodeCompound(body)
		if err != nil {
			return nil, fmt.Errorf("compound: %w", err)
		}
		if trunc > 0 {
			return nil, fmt.Errorf("compound: %d truncated parts", trunc)
		}
		for _, part := range parts {
			sub, err := decodeCommand(c, part, depth+1)
			if err != nil {
				return nil, err
			}
			it.Parts = append(it.Parts, sub)
		}
	case CompressMsg:
		payload, err := c.DecompressPayload(body)
		if err != nil {
			return nil, fmt.Errorf("decompress: %w", err)
		}
		if it.Inner, err = decodeCommand(c, payload, depth+1); err != nil {
			return nil, err
		}
	case PingMsg, IndirectPingMsg, AckRespMsg, SuspectMsg, AliveMsg, DeadMsg, NackRespMsg:
		v := NewForType(it.Type)
		if err := c.Decode(body, v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", WireName(v), err)
		}
		it.Msg = v
	case UserMsg:
		it.Msg = &User{Msg: bytes.Clone(body)}
	default:
		return nil, fmt.Errorf("msg type (%d) not supported in a packet", it.Type)
	}
	return it, nil
}

// DecodeMsg decodes a `msg` vector: one message as encode() makes it (types 0-5, 11, 13)
// or 08 + raw user bytes.
func DecodeMsg(c Codec, buf []byte) (v any, err error) {
	defer catchPanic(&err)
	if len(buf) < 1 {
		return nil, errors.New("empty message")
	}
	t := buf[0]
	switch t {
	case UserMsg:
		return &User{Msg: bytes.Clone(buf[1:])}, nil
	case PingMsg, IndirectPingMsg, AckRespMsg, SuspectMsg, AliveMsg, DeadMsg, NackRespMsg, ErrMsg:
		v := NewForType(t)
		if err := c.Decode(buf[1:], v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", WireName(v), err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("message type %d is not a msg vector type", t)
}

// Stream is a decoded stream message.
type Stream struct {
	Label      string
	Encrypted  bool
	EncVsn     uint8
	Compressed bool
	Type       uint8
	Header     *PushPullHeader
	Nodes      []*PushNodeState
	UserState  []byte
	UserHeader *UserMsgHeader
	Msg        any // *Ping, *AckResp, *ErrResp, or *User for type 8
	// Body is the stream message after label removal, decryption and decompression
	// (type byte first).
	Body []byte
}

// Dump is the stream's canonical expect string.
func (s *Stream) Dump() string {
	if s.Type == PushPullMsg {
		ds := []string{Dump(s.Header)}
		for _, n := range s.Nodes {
			ds = append(ds, Dump(n))
		}
		ds = append(ds, "userState="+DumpBytes(s.UserState))
		return JoinDumps(ds)
	}
	return Dump(s.Msg)
}

// Shape describes the layering, e.g. "label+enc1+compress+pushPull(3)".
func (s *Stream) Shape() string {
	out := ""
	if s.Label != "" {
		out += "label+"
	}
	if s.Encrypted {
		out += fmt.Sprintf("enc%d+", s.EncVsn)
	}
	if s.Compressed {
		out += "compress+"
	}
	switch s.Type {
	case PushPullMsg:
		return out + fmt.Sprintf("pushPull(%d)", len(s.Nodes))
	case UserMsg:
		return out + "userMsg"
	}
	return out + WireName(s.Msg)
}

// byteConn is a read-only net.Conn over a byte slice (memberlist's stream helpers take a
// net.Conn).
type byteConn struct{ r *bytes.Reader }

func (b *byteConn) Read(p []byte) (int, error)         { return b.r.Read(p) }
func (b *byteConn) Write(p []byte) (int, error)        { return 0, errors.New("read-only conn") }
func (b *byteConn) Close() error                       { return nil }
func (b *byteConn) LocalAddr() net.Addr                { return fakeAddr("vector") }
func (b *byteConn) RemoteAddr() net.Addr               { return fakeAddr("vector") }
func (b *byteConn) SetDeadline(t time.Time) error      { return nil }
func (b *byteConn) SetReadDeadline(t time.Time) error  { return nil }
func (b *byteConn) SetWriteDeadline(t time.Time) error { return nil }

// writeConn is a write-only net.Conn collecting what is written.
type writeConn struct {
	byteConn
	buf []byte
}

func (w *writeConn) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

type fakeAddr string

func (a fakeAddr) Network() string { return "vector" }
func (a fakeAddr) String() string  { return string(a) }

// DecodeStream runs everything a dialer wrote for one stream message through the
// server-side path of memberlist (handleConn + readStream + readRemoteState/readUserMsg,
// WIRE.md §5.7), with the version's own functions for each step: label header removal,
// decryptPayload of the `0a`+u32 wrapper (AAD = the 5 header bytes + label),
// decompressBuffer of a `09` wrapper, then msgpack decoding with the same handle
// memberlist uses. The version's inbound limits apply.
func DecodeStream(c Codec, data []byte, p Params) (s *Stream, err error) {
	defer catchPanic(&err)
	s = &Stream{}
	data = bytes.Clone(data)
	var conn net.Conn = &byteConn{bytes.NewReader(data)}
	if c.SupportsLabels() {
		nc, label, err := c.RemoveLabelHeaderFromStream(conn)
		if err != nil {
			return nil, fmt.Errorf("label: %w", err)
		}
		if label != p.LabelString() {
			return nil, fmt.Errorf("label mismatch: stream %q, receiver %q", label, p.LabelString())
		}
		s.Label, conn = label, nc
	} else if p.HasLabel {
		return nil, fmt.Errorf("%w: labels (memberlist %s predates them)", ErrSkip, c.Version())
	}
	s.Body = data
	if s.Label != "" {
		s.Body = data[2+len(s.Label):]
	}
	lim := c.Limits()

	var r io.Reader = bufio.NewReader(conn)
	var tb [1]byte
	if _, err := io.ReadFull(r, tb[:]); err != nil {
		return nil, fmt.Errorf("read message type: %w", err)
	}
	s.Type = tb[0]
	if s.Type == EncryptMsg {
		if len(p.Keys) == 0 {
			return nil, errors.New("remote state is encrypted and encryption is not configured")
		}
		hdr := make([]byte, 5)
		hdr[0] = EncryptMsg
		if _, err := io.ReadFull(r, hdr[1:]); err != nil {
			return nil, fmt.Errorf("read encrypted length: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if lim.MaxEncryptedLen > 0 && n > uint32(lim.MaxEncryptedLen) {
			return nil, fmt.Errorf("remote node state is larger than limit (%d)", n)
		}
		ct := make([]byte, n)
		if _, err := io.ReadFull(r, ct); err != nil {
			return nil, fmt.Errorf("read encrypted payload: %w", err)
		}
		aad := append(bytes.Clone(hdr), p.Label...)
		plain, err := c.DecryptPayload(p.Keys, ct, aad)
		if err != nil {
			return nil, fmt.Errorf("decrypt: %w", err)
		}
		if len(plain) == 0 {
			// memberlist indexes plain[0] without a check (it would panic).
			return nil, errors.New("decrypted stream message is empty")
		}
		s.Encrypted, s.EncVsn = true, ct[0]
		s.Type = plain[0]
		s.Body = plain
		r = bytes.NewReader(plain[1:])
	} else if len(p.Keys) > 0 && p.VerifyIncoming {
		return nil, errors.New("encryption is configured but remote state is not encrypted")
	}

	dec := c.NewStreamDecoder(r)
	if s.Type == CompressMsg {
		var cm Compress
		if err := dec.Decode(&cm); err != nil {
			return nil, fmt.Errorf("decode compress: %w", err)
		}
		decomp, err := c.DecompressBuffer(&cm)
		if err != nil {
			return nil, fmt.Errorf("decompress: %w", err)
		}
		if len(decomp) == 0 {
			// v0.7.0 returns "decompressed message is empty"; older versions panic.
			return nil, errors.New("decompressed message is empty")
		}
		s.Compressed = true
		s.Type = decomp[0]
		s.Body = decomp
		r = bytes.NewReader(decomp[1:])
		dec = c.NewStreamDecoder(r)
	}

	switch s.Type {
	case PushPullMsg:
		s.Header = &PushPullHeader{}
		if err := dec.Decode(s.Header); err != nil {
			return nil, fmt.Errorf("decode pushPullHeader: %w", err)
		}
		h := s.Header
		// A negative count is rejected by v0.6.0+ and makes older versions panic in make().
		if h.Nodes < 0 || lim.MaxPushStateNodes > 0 && h.Nodes > lim.MaxPushStateNodes {
			return nil, fmt.Errorf("number of nodes in header (%d) exceeds limit", h.Nodes)
		}
		for i := 0; i < h.Nodes; i++ {
			ns := &PushNodeState{}
			if err := dec.Decode(ns); err != nil {
				return nil, fmt.Errorf("decode pushNodeState %d: %w", i, err)
			}
			s.Nodes = append(s.Nodes, ns)
		}
		if h.UserStateLen < 0 && lim.RejectNegative || lim.MaxUserStateLen > 0 && h.UserStateLen > lim.MaxUserStateLen {
			return nil, fmt.Errorf("user state length (%d) exceeds limit", h.UserStateLen)
		}
		if h.UserStateLen > 0 {
			s.UserState = make([]byte, h.UserStateLen)
			if _, err := io.ReadFull(r, s.UserState); err != nil {
				return nil, fmt.Errorf("read user state: %w", err)
			}
		}
	case UserMsg:
		s.UserHeader = &UserMsgHeader{}
		if err := dec.Decode(s.UserHeader); err != nil {
			return nil, fmt.Errorf("decode userMsgHeader: %w", err)
		}
		n := s.UserHeader.UserMsgLen
		if n < 0 && lim.RejectNegative || lim.MaxUserMsgLen > 0 && n > lim.MaxUserMsgLen {
			return nil, fmt.Errorf("user message length (%d) exceeds limit", n)
		}
		u := &User{}
		if n > 0 {
			u.Msg = make([]byte, n)
			if _, err := io.ReadFull(r, u.Msg); err != nil {
				return nil, fmt.Errorf("read user message: %w", err)
			}
		}
		s.Msg = u
	case PingMsg, AckRespMsg, ErrMsg:
		v := NewForType(s.Type)
		if err := dec.Decode(v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", WireName(v), err)
		}
		s.Msg = v
	default:
		return nil, fmt.Errorf("invalid stream message type (%d)", s.Type)
	}
	return s, nil
}

// DecodeLZW decompresses a raw compress/lzw buffer with the version's decompressBuffer.
func DecodeLZW(c Codec, buf []byte) (out []byte, err error) {
	defer catchPanic(&err)
	return c.DecompressBuffer(&Compress{Algo: 0, Buf: bytes.Clone(buf)})
}
