// msgpack encoding and decoding of memberlist's message structs (WIRE.md §3, §4), and the
// canonical text dump used by tests and tools (tests/vectors/README.md).
#pragma once

#include <memory>
#include <string>

#include "wire/bytes.hpp"
#include "wire/error.hpp"
#include "wire/limits.hpp"
#include "wire/messages.hpp"

namespace memberlist::wire {

// The msgpack body of a struct, as Go writes it: a map keyed by the Go field names in sorted
// order, strings and bytes in the old raw-string family, nil byte slices as c0.
template <class T> void encode_body(Bytes &out, const T &v, IntStyle style = IntStyle::Legacy);

// What decode_body may assume of the struct it decodes into: Reuse clears it first; Fresh means
// the caller has just default-constructed it (a push/pull's node states), so clearing is skipped.
enum class Target : uint8_t { Reuse, Fresh };

// Decodes one msgpack object at data[*offset...] into v, advancing *offset past it. Accepts every
// form Go's decoders accept (WIRE.md §3.3). Trailing bytes are left alone.
template <class T>
Status decode_body(ByteView data, size_t *offset, T &v, const Limits &limits, Target target = Target::Reuse);

// Finds where one msgpack object that arrives in pieces ends. Each ready() parses only the bytes
// that came since the previous call (msgpack-c's parser resumes where it stopped), so an object
// that arrives in n pieces is parsed once, not n times. A container nested deeper than max_depth
// ends the scan, as it ends a decode.
class ObjectScanner {
 public:
  ObjectScanner(size_t start, size_t max_depth);
  ~ObjectScanner();
  ObjectScanner(const ObjectScanner &) = delete;
  ObjectScanner &operator=(const ObjectScanner &) = delete;

  size_t start() const { return start_; }
  // data holds the bytes of earlier calls and maybe more, from the same origin. True once the
  // object at data[start()] is complete or can never be (invalid msgpack, too deep): decode it
  // then, for the value or the error. False while it needs more bytes.
  bool ready(ByteView data);
  // Bytes parsed so far.
  size_t scanned() const { return pos_ - start_; }

 private:
  struct Parser;
  std::unique_ptr<Parser> parser_;
  size_t start_;
  size_t pos_;
  bool done_ = false;
};

// type byte + body. UserMsg encodes as 08 + raw bytes (the UDP form).
Bytes encode_message(const Message &m, IntStyle style = IntStyle::Legacy);
void append_message(Bytes &out, const Message &m, IntStyle style = IntStyle::Legacy);
template <class T> Bytes encode(const T &v, IntStyle style = IntStyle::Legacy);

// Decodes one message (type byte + body) of the kinds in Message. Compound and compress are
// not handled here (see packet.hpp).
Result<Message> decode_message(ByteView msg, const Limits &limits = {});

// Canonical dump: `name{Field=value ...}` (tests/vectors/README.md).
std::string dump(const Message &m);
std::string dump(const StreamMessage &m);
template <class T> std::string dump_struct(const T &v);

}  // namespace memberlist::wire
