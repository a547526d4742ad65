package main

import (
	"bytes"
	_ "unsafe" // for go:linkname

	// The functions below live in memberlist; the import links the package in.
	_ "github.com/hashicorp/memberlist"
)

// Pull declarations of hashicorp/memberlist v0.7.0's own unexported wire helpers
// (util.go). The bodies are memberlist's; the empty pull.s lets the compiler accept
// bodyless declarations. messageType is a uint8 in memberlist, so uint8 has the same ABI.
// Signatures checked against memberlist@v0.7.0/util.go:
//   func encode(msgType messageType, in any, msgpackUseNewTimeFormat bool) (*bytes.Buffer, error)
//   func decode(buf []byte, out any) error
//   func makeCompoundMessage(msgs [][]byte) *bytes.Buffer
//   func decodeCompoundMessage(buf []byte) (trunc int, parts [][]byte, err error)

//go:linkname mlEncode github.com/hashicorp/memberlist.encode
func mlEncode(msgType uint8, in any, msgpackUseNewTimeFormat bool) (*bytes.Buffer, error)

//go:linkname mlDecode github.com/hashicorp/memberlist.decode
func mlDecode(buf []byte, out any) error

//go:linkname mlMakeCompoundMessage github.com/hashicorp/memberlist.makeCompoundMessage
func mlMakeCompoundMessage(msgs [][]byte) *bytes.Buffer

//go:linkname mlDecodeCompoundMessage github.com/hashicorp/memberlist.decodeCompoundMessage
func mlDecodeCompoundMessage(buf []byte) (trunc int, parts [][]byte, err error)
