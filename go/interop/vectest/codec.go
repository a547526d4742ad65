package vectest

import (
	"io"
	"net"
)

// StreamDecoder is the part of a go-msgpack *codec.Decoder that memberlist's stream
// readers use (both go-msgpack v0.5.3 and v2 satisfy it).
type StreamDecoder interface {
	Decode(v any) error
}

// Limits are inbound sanity limits a memberlist version applies while reading a stream
// (in readRemoteState / readUserMsg / decryptRemoteState). 0 means "no limit".
type Limits struct {
	MaxPushStateNodes int // pushPullHeader.Nodes upper bound (v0.6.0+)
	MaxUserStateLen   int // pushPullHeader.UserStateLen upper bound (v0.6.0+)
	MaxUserMsgLen     int // userMsgHeader.UserMsgLen upper bound (v0.7.0)
	MaxEncryptedLen   int // length field of the stream encryption wrapper (all versions)
	RejectNegative    bool
	RejectEmptyDecomp bool // "decompressed message is empty" (v0.7.0); older versions panic
}

// Codec gives access to one memberlist version's own wire functions. Every method must
// call memberlist's code (via //go:linkname) or the exact msgpack handle memberlist uses;
// nothing here is reimplemented.
type Codec interface {
	// Version is the memberlist tag, e.g. "v0.7.0".
	Version() string
	// Ints is the integer style of the msgpack library this version uses.
	Ints() string
	// Limits returns the inbound stream limits of this version.
	Limits() Limits

	// Encode is memberlist's encode(msgType, in): type byte + one msgpack object.
	Encode(msgType uint8, in any) ([]byte, error)
	// Decode is memberlist's decode(buf, out).
	Decode(buf []byte, out any) error
	// NewStreamDecoder returns codec.NewDecoder(r, &codec.MsgpackHandle{}), as
	// memberlist's readStream builds it.
	NewStreamDecoder(r io.Reader) StreamDecoder
	// NewStreamEncoder returns codec.NewEncoder(w, &codec.MsgpackHandle{}) as
	// memberlist's sendLocalState / sendUserMsg build it.
	NewStreamEncoder(w io.Writer) interface{ Encode(v any) error }

	MakeCompound(msgs [][]byte) []byte
	DecodeCompound(buf []byte) (trunc int, parts [][]byte, err error)
	// MaxCompoundParts is the largest part count DecodeCompound splits correctly (127
	// before v0.2.4, whose decodeCompoundMessage computes numParts*2 in uint8).
	MaxCompoundParts() int

	CompressPayload(inp []byte) ([]byte, error)
	DecompressPayload(msg []byte) ([]byte, error)
	DecompressBuffer(c *Compress) ([]byte, error)

	EncryptPayload(vsn uint8, key, msg, data []byte) ([]byte, error)
	DecryptPayload(keys [][]byte, msg, data []byte) ([]byte, error)
	EncryptedLength(vsn uint8, n int) int

	// SupportsLabels is false before v0.3.0; the label methods are then never called.
	SupportsLabels() bool
	AddLabelHeaderToPacket(buf []byte, label string) ([]byte, error)
	RemoveLabelHeaderFromPacket(buf []byte) ([]byte, string, error)
	AddLabelHeaderToStream(conn net.Conn, label string) error
	RemoveLabelHeaderFromStream(conn net.Conn) (net.Conn, string, error)
}
