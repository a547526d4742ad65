// TCP stream messages (WIRE.md §5.7): [label header] [0a len encrypted( [09 compress( msg )] )].
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/framing.hpp"
#include "wire/codec.hpp"
#include "wire/crypto.hpp"
#include "wire/error.hpp"
#include "wire/limits.hpp"
#include "wire/messages.hpp"

namespace memberlist::wire {

// 06 | pushPullHeader | node states | user state (header counts taken from the message).
Bytes encode_push_pull(const PushPull &pp, IntStyle style = IntStyle::Legacy);
// 08 | userMsgHeader | raw
Bytes encode_user_stream(ByteView msg, IntStyle style = IntStyle::Legacy);
// Any StreamMessage in its stream form (ping 00, ack 02, err 0d + msgpack).
Bytes encode_stream_message(const StreamMessage &m, IntStyle style = IntStyle::Legacy);

struct StreamOut {
  std::string_view label;            // written as a header only when write_label_header
  bool write_label_header = true;    // the dialer writes it; replies never carry one
  bool compress = false;             // always applied when set (unlike UDP)
  Compression compression = Compression::Lzw;
  const Keyring *keyring = nullptr;  // encrypt with the primary when non-null and non-empty
  uint8_t encryption_version = 1;
  std::optional<Nonce> nonce;        // tests only
};
// Wraps one stream message (type byte first) for the wire.
Result<Bytes> encode_stream(ByteView message, const StreamOut &opts);

// The memory budget the stream decoders of one node share (Limits::max_stream_memory): what each
// has buffered and decoded and not yet handed over. Single-threaded, like the decoders.
struct StreamMemory {
  size_t used = 0;
};

struct StreamIn {
  std::string_view label;
  bool skip_inbound_label_check = false;
  bool read_label_header = true;     // server side; a reply has none (label still used as AAD)
  const Keyring *keyring = nullptr;
  bool verify_incoming = true;
  Limits limits;
  // Shared with the node's other decoders; null: only this stream's own bounds apply.
  std::shared_ptr<StreamMemory> memory;
};

// Incremental decoder for one stream message: feed bytes as they arrive. Everything it buffers
// is bounded by the limits; it never allocates for a count or length it has not checked.
class StreamDecoder {
 public:
  enum class State { NeedMore, Done, Failed };
  explicit StreamDecoder(StreamIn opts);
  ~StreamDecoder();  // gives back what it holds of the shared budget
  StreamDecoder(const StreamDecoder &) = delete;
  StreamDecoder &operator=(const StreamDecoder &) = delete;
  State feed(ByteView chunk);
  State state() const { return state_; }
  const Error &error() const { return error_; }
  StreamMessage &message() { return message_; }
  // Moves the decoded message out, frees the buffered bytes and gives back the budget.
  StreamMessage take();
  // The message type (the byte after the label, encryption and compression), once known.
  std::optional<uint8_t> message_type() const { return type_; }
  // Failed because the message would hold more memory than its bounds allow (the shared budget,
  // or node states that decode to far more than they take on the wire).
  bool memory_refused() const { return memory_refused_; }
  // The label the peer sent (server side), valid once past the header.
  const std::string &peer_label() const { return peer_label_; }
  bool was_encrypted() const { return encrypted_; }
  // Bytes of msgpack parsed so far. An object that arrives in many pieces is parsed about twice
  // in all (a first decode that comes up short, then a scan that resumes with each piece), not
  // once per piece; tests hold the decoder to that.
  size_t bytes_parsed() const { return parsed_; }

  // Decodes a complete buffer.
  static Result<StreamMessage> decode(ByteView all, const StreamIn &opts);

 private:
  enum class Phase { Label, Type, Body };
  State fail(Error e);
  // Charges n bytes to the shared budget; false (nothing charged) when it would go over.
  bool charge(size_t n);
  void release();
  Error over_memory(const char *what);  // sets memory_refused_
  State step(ByteView all);  // all: buf_, or the caller's buffer in decode()
  State finish(ByteView msg);
  // Parses the message body in data (type byte at data[0]); complete == no more bytes will come.
  Result<bool> parse_body(ByteView data, bool complete);
  // Decodes the S at data[*off] and advances *off past it; false = not all of it is here yet.
  template <class S>
  Result<bool> decode_at(ByteView data, size_t *off, S &v, bool complete, Target target = Target::Reuse);

  StreamIn opts_;
  State state_ = State::NeedMore;
  Phase phase_ = Phase::Label;
  Error error_{};
  Bytes buf_;
  size_t pos_ = 0;  // start of the not yet consumed part of buf_
  std::string peer_label_;
  bool encrypted_ = false;
  // body parsing
  int body_stage_ = 0;
  size_t body_off_ = 0;
  PushPullHeader header_;
  int64_t user_len_ = 0;
  StreamMessage message_;
  // Set where a decode came up short: no decode is tried there again until it finds the end.
  std::optional<ObjectScanner> scan_;
  size_t parsed_ = 0;
  std::optional<uint8_t> type_;
  size_t charged_ = 0;          // held of opts_.memory
  size_t nodes_start_ = 0;      // push/pull: offset of the first node state
  size_t nodes_decoded_ = 0;    // push/pull: bytes the decoded node states hold
  bool memory_refused_ = false;
};

}  // namespace memberlist::wire
