// memberlist's wire messages (WIRE.md §2, §4). Field names in comments are the Go names used as
// msgpack map keys.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "wire/bytes.hpp"

namespace memberlist::wire {

enum class MsgType : uint8_t {
  Ping = 0,
  IndirectPing = 1,
  AckResp = 2,
  Suspect = 3,
  Alive = 4,
  Dead = 5,
  PushPull = 6,
  Compound = 7,
  User = 8,
  Compress = 9,
  Encrypt = 10,
  NackResp = 11,
  HasCrc = 12,
  Err = 13,
  HasLabel = 244,
};

const char *msg_type_name(uint8_t t) noexcept;

// Node states as Go's NodeStateType (an int on the wire, PushNodeState::state; converted with a
// clamp to 0..3). One byte here: it sits in every member entry.
enum class NodeState : uint8_t { Alive = 0, Suspect = 1, Dead = 2, Left = 3 };

// How a Go `int` field is written. Both Go decoders accept both forms (WIRE.md §3.2).
enum class IntStyle : uint8_t {
  Legacy,  // go-msgpack v0.5.3 (memberlist <= v0.5.0): >= 0 as the smallest unsigned form
  V2,      // go-msgpack/v2 (memberlist >= v0.5.1): 128..32767 as int16, then int32, int64
};

struct Ping {                 // type 0
  uint32_t seq_no = 0;        // SeqNo
  std::string node;           // Node: intended recipient
  Bytes source_addr;          // SourceAddr, omitempty
  uint16_t source_port = 0;   // SourcePort, omitempty
  std::string source_node;    // SourceNode, omitempty
  bool operator==(const Ping &) const = default;
};

struct IndirectPingReq {      // type 1
  uint32_t seq_no = 0;        // SeqNo
  OptBytes target;            // Target
  uint16_t port = 0;          // Port
  std::string node;           // Node
  bool nack = false;          // Nack
  Bytes source_addr;          // SourceAddr, omitempty
  uint16_t source_port = 0;   // SourcePort, omitempty
  std::string source_node;    // SourceNode, omitempty
  bool operator==(const IndirectPingReq &) const = default;
};

struct AckResp {              // type 2
  uint32_t seq_no = 0;        // SeqNo
  OptBytes payload;           // Payload
  bool operator==(const AckResp &) const = default;
};

struct NackResp {             // type 11
  uint32_t seq_no = 0;        // SeqNo
  bool operator==(const NackResp &) const = default;
};

struct ErrResp {              // type 13
  std::string error;          // Error
  bool operator==(const ErrResp &) const = default;
};

struct Suspect {              // type 3
  uint32_t incarnation = 0;   // Incarnation
  std::string node;           // Node
  std::string from;           // From
  bool operator==(const Suspect &) const = default;
};

struct Dead {                 // type 5; From == Node means a voluntary leave
  uint32_t incarnation = 0;   // Incarnation
  std::string node;           // Node
  std::string from;           // From
  bool operator==(const Dead &) const = default;
};

struct Alive {                // type 4
  uint32_t incarnation = 0;   // Incarnation
  std::string node;           // Node
  OptSmallBytes addr;         // Addr: 4 or 16 bytes, forwarded verbatim
  uint16_t port = 0;          // Port
  OptBytes meta;              // Meta
  OptSmallBytes vsn;          // Vsn: pmin pmax pcur dmin dmax dcur
  bool operator==(const Alive &) const = default;
};

struct PushPullHeader {       // first object after type 6
  int64_t nodes = 0;          // Nodes (Go int)
  int64_t user_state_len = 0; // UserStateLen (Go int)
  bool join = false;          // Join
  bool operator==(const PushPullHeader &) const = default;
};

struct PushNodeState {
  std::string name;           // Name
  OptSmallBytes addr;         // Addr
  uint16_t port = 0;          // Port
  OptBytes meta;              // Meta
  uint32_t incarnation = 0;   // Incarnation
  int64_t state = 0;          // State (Go int, NodeState values)
  OptSmallBytes vsn;          // Vsn
  bool operator==(const PushNodeState &) const = default;
};

struct UserMsgHeader {        // TCP user message header
  int64_t user_msg_len = 0;   // UserMsgLen (Go int)
  bool operator==(const UserMsgHeader &) const = default;
};

struct Compress {             // type 9
  uint8_t algo = 0;           // Algo: 0 = LZW, 1 = Snappy (grafana/memberlist)
  OptBytes buf;               // Buf
  bool operator==(const Compress &) const = default;
};

// A user message: UDP `08` + raw bytes, or TCP `08` + UserMsgHeader + raw bytes.
struct UserMsg {
  Bytes msg;
  bool operator==(const UserMsg &) const = default;
};

// One complete push/pull exchange message.
struct PushPull {
  bool join = false;
  std::vector<PushNodeState> nodes;
  Bytes user_state;
  bool operator==(const PushPull &) const = default;
};

// Every message that can arrive inside a UDP packet after compound/compress are unpacked.
using Message =
    std::variant<Ping, IndirectPingReq, AckResp, Suspect, Alive, Dead, UserMsg, NackResp, ErrResp>;

// Every message a TCP stream can carry.
using StreamMessage = std::variant<PushPull, UserMsg, Ping, AckResp, ErrResp>;

}  // namespace memberlist::wire
