// Package mlwire exposes memberlist v0.7.0's own wire functions as a vectest.Codec.
package mlwire

import (
	"bytes"
	"io"
	"net"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/memberlist"
	"github.com/libmemberlist/interop/vectest"
)

// Codec is memberlist v0.7.0 (go-msgpack/v2 v2.1.5). memberlist's Config default
// MsgpackUseNewTimeFormat=false is used wherever encode takes that flag.
type Codec struct{}

var _ vectest.Codec = Codec{}

func (Codec) Version() string { return "v0.7.0" }
func (Codec) Ints() string    { return vectest.IntsV2 }

// Limits are the inbound limits of v0.7.0's readRemoteState, readUserMsg,
// decryptRemoteState and readStream.
func (Codec) Limits() vectest.Limits {
	return vectest.Limits{
		MaxPushStateNodes: 1024 * 1024,
		MaxUserStateLen:   20 * 1024 * 1024,
		MaxUserMsgLen:     20 * 1024 * 1024,
		MaxEncryptedLen:   20 * 1024 * 1024,
		RejectNegative:    true,
		RejectEmptyDecomp: true,
	}
}

func (Codec) Encode(msgType uint8, in any) ([]byte, error) {
	b, err := mlEncode(msgType, in, false)
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (Codec) Decode(buf []byte, out any) error { return mlDecode(buf, out) }

// NewStreamDecoder builds the decoder exactly as memberlist v0.7.0's readStream does.
func (Codec) NewStreamDecoder(r io.Reader) vectest.StreamDecoder {
	hd := codec.MsgpackHandle{}
	return codec.NewDecoder(r, &hd)
}

// NewStreamEncoder builds the encoder as sendUserMsg does (TimeNotBuiltin =
// !MsgpackUseNewTimeFormat; sendLocalState leaves it false, which only matters for
// time.Time values, never present on memberlist's wire).
func (Codec) NewStreamEncoder(w io.Writer) interface{ Encode(v any) error } {
	hd := codec.MsgpackHandle{}
	hd.TimeNotBuiltin = true
	return codec.NewEncoder(w, &hd)
}

func (Codec) MakeCompound(msgs [][]byte) []byte { return mlMakeCompoundMessage(msgs).Bytes() }

func (Codec) MaxCompoundParts() int { return 255 }

func (Codec) DecodeCompound(buf []byte) (int, [][]byte, error) {
	return mlDecodeCompoundMessage(buf)
}

func (Codec) CompressPayload(inp []byte) ([]byte, error) {
	b, err := mlCompressPayload(inp, false)
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (Codec) DecompressPayload(msg []byte) ([]byte, error) { return mlDecompressPayload(msg) }

func (Codec) DecompressBuffer(c *vectest.Compress) ([]byte, error) { return mlDecompressBuffer(c) }

func (Codec) EncryptPayload(vsn uint8, key, msg, data []byte) ([]byte, error) {
	var dst bytes.Buffer
	if err := mlEncryptPayload(vsn, key, msg, data, &dst); err != nil {
		return nil, err
	}
	return dst.Bytes(), nil
}

func (Codec) DecryptPayload(keys [][]byte, msg, data []byte) ([]byte, error) {
	return mlDecryptPayload(keys, msg, data)
}

func (Codec) EncryptedLength(vsn uint8, n int) int { return mlEncryptedLength(vsn, n) }

func (Codec) SupportsLabels() bool { return true }

func (Codec) AddLabelHeaderToPacket(buf []byte, label string) ([]byte, error) {
	return memberlist.AddLabelHeaderToPacket(buf, label)
}

func (Codec) RemoveLabelHeaderFromPacket(buf []byte) ([]byte, string, error) {
	return memberlist.RemoveLabelHeaderFromPacket(buf)
}

func (Codec) AddLabelHeaderToStream(conn net.Conn, label string) error {
	return memberlist.AddLabelHeaderToStream(conn, label)
}

func (Codec) RemoveLabelHeaderFromStream(conn net.Conn) (net.Conn, string, error) {
	return memberlist.RemoveLabelHeaderFromStream(conn)
}
