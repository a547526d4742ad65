// Package vectest holds the version-independent half of the wire cross-checks between
// libmemberlist and hashicorp/memberlist: the vector file format, the canonical dump,
// Go mirrors of memberlist's wire structs, and the decode/encode pipelines that are driven
// by a version's own memberlist functions (see Codec).
//
// Nothing in this module depends on memberlist. The per-version modules (../v0.1.5,
// ../v0.7.0) implement Codec with //go:linkname pulls of memberlist's unexported helpers.
package vectest

// Message type bytes (memberlist net.go, "ONLY APPEND").
const (
	PingMsg         uint8 = 0
	IndirectPingMsg uint8 = 1
	AckRespMsg      uint8 = 2
	SuspectMsg      uint8 = 3
	AliveMsg        uint8 = 4
	DeadMsg         uint8 = 5
	PushPullMsg     uint8 = 6
	CompoundMsg     uint8 = 7
	UserMsg         uint8 = 8
	CompressMsg     uint8 = 9
	EncryptMsg      uint8 = 10
	NackRespMsg     uint8 = 11
	HasCrcMsg       uint8 = 12
	ErrMsg          uint8 = 13
	HasLabelMsg     uint8 = 244
)

// The mirror structs below have exactly the field names, Go types and codec tags of
// memberlist's wire structs, so memberlist's own encode/decode (which take interface{})
// produce and accept the same bytes. Where versions differ, the newest shape is used:
// ping and indirectPingReq carry the Source* fields (v0.2.0+); older decoders skip them
// as unknown keys, which is what older memberlist does on the wire.

// Ping is memberlist's ping (type 0).
type Ping struct {
	SeqNo      uint32
	Node       string
	SourceAddr []byte `codec:",omitempty"`
	SourcePort uint16 `codec:",omitempty"`
	SourceNode string `codec:",omitempty"`
}

// IndirectPingReq is memberlist's indirectPingReq (type 1).
type IndirectPingReq struct {
	SeqNo      uint32
	Target     []byte
	Port       uint16
	Node       string
	Nack       bool
	SourceAddr []byte `codec:",omitempty"`
	SourcePort uint16 `codec:",omitempty"`
	SourceNode string `codec:",omitempty"`
}

// AckResp is memberlist's ackResp (type 2).
type AckResp struct {
	SeqNo   uint32
	Payload []byte
}

// NackResp is memberlist's nackResp (type 11).
type NackResp struct {
	SeqNo uint32
}

// ErrResp is memberlist's errResp (type 13).
type ErrResp struct {
	Error string
}

// Suspect is memberlist's suspect (type 3).
type Suspect struct {
	Incarnation uint32
	Node        string
	From        string
}

// Alive is memberlist's alive (type 4).
type Alive struct {
	Incarnation uint32
	Node        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Vsn         []uint8
}

// Dead is memberlist's dead (type 5).
type Dead struct {
	Incarnation uint32
	Node        string
	From        string
}

// PushPullHeader is memberlist's pushPullHeader (first object after type 6 on a stream).
type PushPullHeader struct {
	Nodes        int
	UserStateLen int
	Join         bool
}

// UserMsgHeader is memberlist's userMsgHeader (TCP user message, after type 8).
type UserMsgHeader struct {
	UserMsgLen int
}

// NodeStateType mirrors memberlist's nodeStateType / NodeStateType (a Go int).
type NodeStateType int

// PushNodeState is memberlist's pushNodeState. The field order matches memberlist's
// declaration (it matters only for memory layout, never for the wire).
type PushNodeState struct {
	Name        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Incarnation uint32
	State       NodeStateType
	Vsn         []uint8
}

// Compress is memberlist's compress (type 9). Its memory layout equals memberlist's
// compress{Algo compressionType(uint8); Buf []byte}, so a *Compress can be handed to a
// linknamed decompressBuffer.
type Compress struct {
	Algo uint8
	Buf  []byte
}

// User is the dump-only representation of a user message: the raw bytes after `08` on
// UDP, or the UserMsgLen bytes after the userMsgHeader on a stream.
type User struct {
	Msg []byte
}

// WireName returns the dump name of a mirror struct ("" if v is not one).
func WireName(v any) string {
	switch v.(type) {
	case *Ping, Ping:
		return "ping"
	case *IndirectPingReq, IndirectPingReq:
		return "indirectPingReq"
	case *AckResp, AckResp:
		return "ackResp"
	case *NackResp, NackResp:
		return "nackResp"
	case *ErrResp, ErrResp:
		return "errResp"
	case *Suspect, Suspect:
		return "suspect"
	case *Alive, Alive:
		return "alive"
	case *Dead, Dead:
		return "dead"
	case *PushPullHeader, PushPullHeader:
		return "pushPullHeader"
	case *UserMsgHeader, UserMsgHeader:
		return "userMsgHeader"
	case *PushNodeState, PushNodeState:
		return "pushNodeState"
	case *Compress, Compress:
		return "compress"
	case *User, User:
		return "user"
	}
	return ""
}

// NewForType returns a fresh pointer to the mirror struct carried by a UDP/stream
// message of type t (types whose body is one msgpack object), or nil.
func NewForType(t uint8) any {
	switch t {
	case PingMsg:
		return &Ping{}
	case IndirectPingMsg:
		return &IndirectPingReq{}
	case AckRespMsg:
		return &AckResp{}
	case SuspectMsg:
		return &Suspect{}
	case AliveMsg:
		return &Alive{}
	case DeadMsg:
		return &Dead{}
	case NackRespMsg:
		return &NackResp{}
	case ErrMsg:
		return &ErrResp{}
	case CompressMsg:
		return &Compress{}
	}
	return nil
}

// TypeOf returns the message type byte for a mirror struct (pointer or value).
func TypeOf(v any) (uint8, bool) {
	switch v.(type) {
	case *Ping, Ping:
		return PingMsg, true
	case *IndirectPingReq, IndirectPingReq:
		return IndirectPingMsg, true
	case *AckResp, AckResp:
		return AckRespMsg, true
	case *NackResp, NackResp:
		return NackRespMsg, true
	case *ErrResp, ErrResp:
		return ErrMsg, true
	case *Suspect, Suspect:
		return SuspectMsg, true
	case *Alive, Alive:
		return AliveMsg, true
	case *Dead, Dead:
		return DeadMsg, true
	case *Compress, Compress:
		return CompressMsg, true
	case *User, User:
		return UserMsg, true
	}
	return 0, false
}
