package mlwire

import (
	"bytes"
	_ "unsafe" // for go:linkname

	"github.com/libmemberlist/interop/vectest"

	// The functions below live in memberlist; the blank import links the package in.
	_ "github.com/hashicorp/memberlist"
)

// Pull declarations of memberlist v0.1.5's unexported wire helpers. The bodies are
// memberlist's own (the empty pull.s lets the compiler accept bodyless declarations).
// Parameter types are memberlist's underlying types: messageType, compressionType and
// encryptionVersion are uint8; *compress has the layout of *vectest.Compress.

//go:linkname mlEncode github.com/hashicorp/memberlist.encode
func mlEncode(msgType uint8, in interface{}) (*bytes.Buffer, error)

//go:linkname mlDecode github.com/hashicorp/memberlist.decode
func mlDecode(buf []byte, out interface{}) error

//go:linkname mlMakeCompoundMessage github.com/hashicorp/memberlist.makeCompoundMessage
func mlMakeCompoundMessage(msgs [][]byte) *bytes.Buffer

//go:linkname mlDecodeCompoundMessage github.com/hashicorp/memberlist.decodeCompoundMessage
func mlDecodeCompoundMessage(buf []byte) (trunc int, parts [][]byte, err error)

//go:linkname mlCompressPayload github.com/hashicorp/memberlist.compressPayload
func mlCompressPayload(inp []byte) (*bytes.Buffer, error)

//go:linkname mlDecompressPayload github.com/hashicorp/memberlist.decompressPayload
func mlDecompressPayload(msg []byte) ([]byte, error)

//go:linkname mlDecompressBuffer github.com/hashicorp/memberlist.decompressBuffer
func mlDecompressBuffer(c *vectest.Compress) ([]byte, error)

//go:linkname mlEncryptPayload github.com/hashicorp/memberlist.encryptPayload
func mlEncryptPayload(vsn uint8, key []byte, msg []byte, data []byte, dst *bytes.Buffer) error

//go:linkname mlDecryptPayload github.com/hashicorp/memberlist.decryptPayload
func mlDecryptPayload(keys [][]byte, msg []byte, data []byte) ([]byte, error)

//go:linkname mlEncryptedLength github.com/hashicorp/memberlist.encryptedLength
func mlEncryptedLength(vsn uint8, inp int) int
