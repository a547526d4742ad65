// Error values for the wire layer: no exceptions leave core/wire.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace memberlist::wire {

// Stable codes; the C API maps them to ml_err_t later, so values are never reused.
enum class Errc : int {
  Truncated = 1,       // input ended before the structure it announces
  Malformed = 2,       // not valid msgpack / not the expected shape
  BadType = 3,         // unknown or misplaced message type
  LimitExceeded = 4,   // a length, count or size is over its configured bound
  BadCrc = 5,          // CRC32 mismatch
  DecryptFailed = 6,   // no key authenticates the payload
  NoKeys = 7,          // encrypted input but no keyring (or plaintext while one is required)
  LabelMismatch = 8,   // cluster label differs
  BadLabel = 9,        // label header malformed (length 0, truncated, too long)
  Unsupported = 10,    // unknown compression algorithm or encryption version
  BadKey = 11,         // key size not 16/24/32, or keyring misuse
  OutOfRange = 12,     // a value does not fit its field
  Internal = 13,       // crypto library failure and the like

  // Outcomes of operations on a running node (core/protocol, core/net). The carrier is shared
  // so a result passes up unchanged; the C API maps every code with one table (capi/guard.hpp).
  Closed = 20,           // the node or its host is shut down
  Timeout = 21,          // no answer in time: a ping, a leave/update broadcast wait
  JoinFailed = 22,       // Join contacted no node
  Network = 23,          // a send, dial or stream to a peer failed
  InCallback = 24,       // a blocking call on the loop thread (from a callback) would deadlock
  NotExternal = 25,      // external-transport input to a host that has its own sockets
  Busy = 26,             // held elsewhere (a keyring another host uses)
  InvalidArgument = 27,  // an argument the operation cannot take (a missing node name, …)
};

const char *errc_name(Errc c) noexcept;

struct Error {
  Errc code;
  std::string message;
  std::string to_string() const;
};

// A value or an Error. Small on purpose: C++20 has no std::expected.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}                  // NOLINT(google-explicit-constructor)
  Result(Error e) : v_(std::move(e)) {}              // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  T *operator->() { return &std::get<0>(v_); }
  const T *operator->() const { return &std::get<0>(v_); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  const Error &error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

inline Error make_error(Errc c, std::string msg) { return Error{c, std::move(msg)}; }

}  // namespace memberlist::wire
