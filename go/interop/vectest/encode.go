package vectest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
	"strings"
)

// ErrNondeterministic is returned when asked to re-encode an encrypted packet or stream
// (the nonce is random).
var ErrNondeterministic = errors.New("encrypted: not re-encodable byte for byte")

// EncodeMsg encodes one message as a `msg` vector holds it: memberlist's encode(type, v),
// or 08 + raw bytes for a *User.
func EncodeMsg(c Codec, v any) ([]byte, error) {
	if u, ok := v.(*User); ok {
		return append([]byte{UserMsg}, u.Msg...), nil
	}
	t, ok := TypeOf(v)
	if !ok {
		return nil, fmt.Errorf("EncodeMsg: %T is not a message", v)
	}
	return c.Encode(t, v)
}

// emptySliceVariants returns copies of the struct behind ptr in which every combination
// of its nil, non-omitempty []byte fields is replaced by an empty non-nil slice.
// go-msgpack v0.5.3 decodes an empty str (`a0`) into a nil []byte, so a decoded struct
// alone cannot tell whether the sender wrote `a0` or `c0`; the re-encoders use these
// variants to find the one that reproduces the original bytes.
func emptySliceVariants(ptr any) []any {
	rv := reflect.ValueOf(ptr)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil
	}
	st := rv.Elem()
	var idx []int
	for i := 0; i < st.NumField(); i++ {
		f := st.Type().Field(i)
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8 &&
			st.Field(i).IsNil() && !strings.Contains(f.Tag.Get("codec"), "omitempty") {
			idx = append(idx, i)
		}
	}
	var out []any
	for mask := 1; mask < 1<<len(idx); mask++ {
		cp := reflect.New(st.Type())
		cp.Elem().Set(st)
		for b, i := range idx {
			if mask&(1<<b) != 0 {
				cp.Elem().Field(i).SetBytes([]byte{})
			}
		}
		out = append(out, cp.Interface())
	}
	return out
}

// encodeMatching encodes v with enc; if the result is not a prefix of want it tries the
// nil-vs-empty variants of v and returns the first whose encoding is a prefix of want.
// Without a match it returns the plain encoding.
func encodeMatching(v any, want []byte, enc func(any) ([]byte, error)) ([]byte, error) {
	base, err := enc(v)
	if err != nil || bytes.HasPrefix(want, base) {
		return base, err
	}
	for _, alt := range emptySliceVariants(v) {
		b, err := enc(alt)
		if err == nil && bytes.HasPrefix(want, b) {
			return b, nil
		}
	}
	return base, nil
}

// EncodeMsgLike is EncodeMsg, but resolves nil-vs-empty byte slices against the
// original bytes (see emptySliceVariants).
func EncodeMsgLike(c Codec, v any, orig []byte) ([]byte, error) {
	return encodeMatching(v, orig, func(x any) ([]byte, error) { return EncodeMsg(c, x) })
}

// EncodeItem re-encodes a decoded packet item with the version's functions.
func EncodeItem(c Codec, it *Item) ([]byte, error) {
	switch it.Type {
	case CompoundMsg:
		var parts [][]byte
		for _, p := range it.Parts {
			b, err := EncodeItem(c, p)
			if err != nil {
				return nil, err
			}
			parts = append(parts, b)
		}
		return c.MakeCompound(parts), nil
	case CompressMsg:
		inner, err := EncodeItem(c, it.Inner)
		if err != nil {
			return nil, err
		}
		return c.CompressPayload(inner)
	}
	return EncodeMsgLike(c, it.Msg, it.Raw)
}

// PacketOpts are the outer layers of a UDP datagram, applied in memberlist's order
// (rawSendMsgPacket + the label-wrapping transport): compress, CRC, encrypt, label.
type PacketOpts struct {
	Compress       bool // wrap in compress (always, even if larger)
	CompressIfLess bool // wrap in compress only when smaller (memberlist's rule)
	CRC            bool
	EncKey         []byte // nil: no encryption
	EncVsn         uint8
	Label          string
}

// BuildPacket wraps a message (or compound) buffer in the layers given by o.
func BuildPacket(c Codec, msg []byte, o PacketOpts) ([]byte, error) {
	if o.Compress || o.CompressIfLess {
		cb, err := c.CompressPayload(msg)
		if err != nil {
			return nil, err
		}
		if o.Compress || len(cb) < len(msg) {
			msg = cb
		}
	}
	if o.CRC {
		h := make([]byte, 5, 5+len(msg))
		h[0] = HasCrcMsg
		binary.BigEndian.PutUint32(h[1:], crc32.ChecksumIEEE(msg))
		msg = append(h, msg...)
	}
	if o.EncKey != nil {
		var err error
		if msg, err = c.EncryptPayload(o.EncVsn, o.EncKey, msg, []byte(o.Label)); err != nil {
			return nil, err
		}
	}
	if o.Label != "" {
		return c.AddLabelHeaderToPacket(msg, o.Label)
	}
	return msg, nil
}

// ReencodePacket rebuilds an unencrypted decoded packet byte for byte.
func ReencodePacket(c Codec, pk *Packet) ([]byte, error) {
	if pk.Encrypted {
		return nil, ErrNondeterministic
	}
	body, err := EncodeItem(c, pk.Root)
	if err != nil {
		return nil, err
	}
	return BuildPacket(c, body, PacketOpts{CRC: pk.CRC, Label: pk.Label})
}

// StreamOpts are the layers of a stream message (rawSendMsgStream + label header).
type StreamOpts struct {
	Compress bool
	EncKey   []byte
	EncVsn   uint8
	Label    string
}

// BuildStream wraps a stream message body (type byte + payload) as the dialer writes it:
// [label header] [0a u32 encrypted( [09 compress]( body ) )].
func BuildStream(c Codec, body []byte, o StreamOpts) ([]byte, error) {
	if o.Compress {
		cb, err := c.CompressPayload(body)
		if err != nil {
			return nil, err
		}
		body = cb
	}
	if o.EncKey != nil {
		hdr := make([]byte, 5)
		hdr[0] = EncryptMsg
		binary.BigEndian.PutUint32(hdr[1:], uint32(c.EncryptedLength(o.EncVsn, len(body))))
		aad := append(bytes.Clone(hdr), o.Label...)
		ct, err := c.EncryptPayload(o.EncVsn, o.EncKey, body, aad)
		if err != nil {
			return nil, err
		}
		body = append(hdr, ct...)
	}
	if o.Label == "" {
		return body, nil
	}
	w := &writeConn{}
	if err := c.AddLabelHeaderToStream(w, o.Label); err != nil {
		return nil, err
	}
	return append(w.buf, body...), nil
}

// streamObj encodes one msgpack object with the stream encoder memberlist uses.
func streamObj(c Codec, v any, want []byte) ([]byte, error) {
	return encodeMatching(v, want, func(x any) ([]byte, error) {
		var b bytes.Buffer
		if err := c.NewStreamEncoder(&b).Encode(x); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	})
}

// PushPullBody builds `06` + header + node states + user state as sendLocalState does.
func PushPullBody(c Codec, h *PushPullHeader, nodes []*PushNodeState, user []byte) ([]byte, error) {
	return pushPullBodyLike(c, h, nodes, user, nil)
}

func pushPullBodyLike(c Codec, h *PushPullHeader, nodes []*PushNodeState, user, orig []byte) ([]byte, error) {
	out := []byte{PushPullMsg}
	next := func(v any) error {
		var want []byte
		if len(orig) > len(out) {
			want = orig[len(out):]
		}
		b, err := streamObj(c, v, want)
		out = append(out, b...)
		return err
	}
	if err := next(h); err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if err := next(n); err != nil {
			return nil, err
		}
	}
	return append(out, user...), nil
}

// UserMsgBody builds `08` + userMsgHeader + raw as sendUserMsg does.
func UserMsgBody(c Codec, msg []byte) ([]byte, error) {
	b, err := streamObj(c, &UserMsgHeader{UserMsgLen: len(msg)}, nil)
	if err != nil {
		return nil, err
	}
	return append(append([]byte{UserMsg}, b...), msg...), nil
}

// ReencodeStream rebuilds an unencrypted decoded stream byte for byte. plain is the
// stream message as decoded (after label/decryption/decompression), used to resolve
// nil-vs-empty slices.
func ReencodeStream(c Codec, s *Stream, plain []byte) ([]byte, error) {
	if s.Encrypted {
		return nil, ErrNondeterministic
	}
	var body []byte
	var err error
	switch s.Type {
	case PushPullMsg:
		body, err = pushPullBodyLike(c, s.Header, s.Nodes, s.UserState, plain)
	case UserMsg:
		hdr, e := streamObj(c, s.UserHeader, nil)
		err = e
		body = append(append([]byte{UserMsg}, hdr...), s.Msg.(*User).Msg...)
	default:
		body, err = EncodeMsgLike(c, s.Msg, plain)
	}
	if err != nil {
		return nil, err
	}
	return BuildStream(c, body, StreamOpts{Compress: s.Compressed, Label: s.Label})
}
