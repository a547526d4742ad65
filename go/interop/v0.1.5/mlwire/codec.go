// Package mlwire exposes memberlist v0.1.5's own wire functions as a vectest.Codec.
package mlwire

import (
	"bytes"
	"errors"
	"io"
	"net"

	"github.com/hashicorp/go-msgpack/codec"
	"github.com/libmemberlist/interop/vectest"
)

// Codec is memberlist v0.1.5 (go-msgpack v0.5.3).
type Codec struct{}

var _ vectest.Codec = Codec{}

var errNoLabels = errors.New("memberlist v0.1.5 has no label support")

func (Codec) Version() string { return "v0.1.5" }
func (Codec) Ints() string    { return vectest.IntsLegacy }

// Limits: v0.1.5 only bounds the encrypted stream length (decryptRemoteState).
func (Codec) Limits() vectest.Limits {
	return vectest.Limits{MaxEncryptedLen: 20 * 1024 * 1024}
}

func (Codec) Encode(msgType uint8, in any) ([]byte, error) {
	b, err := mlEncode(msgType, in)
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (Codec) Decode(buf []byte, out any) error { return mlDecode(buf, out) }

// NewStreamDecoder builds the decoder exactly as memberlist v0.1.5's readStream does.
func (Codec) NewStreamDecoder(r io.Reader) vectest.StreamDecoder {
	hd := codec.MsgpackHandle{}
	return codec.NewDecoder(r, &hd)
}

// NewStreamEncoder builds the encoder exactly as sendLocalState / sendUserMsg do.
func (Codec) NewStreamEncoder(w io.Writer) interface{ Encode(v any) error } {
	hd := codec.MsgpackHandle{}
	return codec.NewEncoder(w, &hd)
}

func (Codec) MakeCompound(msgs [][]byte) []byte { return mlMakeCompoundMessage(msgs).Bytes() }

// MaxCompoundParts: v0.1.5 computes numParts*2 in uint8, so more than 127 parts are
// split at the wrong offset.
func (Codec) MaxCompoundParts() int { return 127 }

func (Codec) DecodeCompound(buf []byte) (int, [][]byte, error) {
	return mlDecodeCompoundMessage(buf)
}

func (Codec) CompressPayload(inp []byte) ([]byte, error) {
	b, err := mlCompressPayload(inp)
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

func (Codec) SupportsLabels() bool { return false }

func (Codec) AddLabelHeaderToPacket([]byte, string) ([]byte, error) { return nil, errNoLabels }

func (Codec) RemoveLabelHeaderFromPacket([]byte) ([]byte, string, error) {
	return nil, "", errNoLabels
}

func (Codec) AddLabelHeaderToStream(net.Conn, string) error { return errNoLabels }

func (Codec) RemoveLabelHeaderFromStream(net.Conn) (net.Conn, string, error) {
	return nil, "", errNoLabels
}
