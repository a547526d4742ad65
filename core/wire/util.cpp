// Small helpers: error names, hex, message type names.
#include <string>

#include "wire/bytes.hpp"
#include "wire/error.hpp"
#include "wire/messages.hpp"

namespace memberlist::wire {

const char *errc_name(Errc c) noexcept {
  switch (c) {
    case Errc::Truncated: return "truncated";
    case Errc::Malformed: return "malformed";
    case Errc::BadType: return "bad message type";
    case Errc::LimitExceeded: return "limit exceeded";
    case Errc::BadCrc: return "CRC mismatch";
    case Errc::DecryptFailed: return "decryption failed";
    case Errc::NoKeys: return "encryption mismatch";
    case Errc::LabelMismatch: return "label mismatch";
    case Errc::BadLabel: return "bad label header";
    case Errc::Unsupported: return "unsupported";
    case Errc::BadKey: return "bad key";
    case Errc::OutOfRange: return "value out of range";
    case Errc::Internal: return "internal error";
    case Errc::Closed: return "shut down";
    case Errc::Timeout: return "timeout";
    case Errc::JoinFailed: return "join failed";
    case Errc::Network: return "network error";
    case Errc::InCallback: return "called from a callback";
    case Errc::NotExternal: return "not in external-transport mode";
    case Errc::Busy: return "in use";
    case Errc::InvalidArgument: return "invalid argument";
  }
  return "unknown error";
}

std::string Error::to_string() const { return std::string(errc_name(code)) + ": " + message; }

std::string to_hex(ByteView b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(b.size() * 2, '\0');
  for (size_t i = 0; i < b.size(); ++i) {
    s[2 * i] = digits[b[i] >> 4];
    s[2 * i + 1] = digits[b[i] & 15];
  }
  return s;
}

std::optional<Bytes> from_hex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out(s.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

const char *msg_type_name(uint8_t t) noexcept {
  switch (static_cast<MsgType>(t)) {
    case MsgType::Ping: return "ping(0)";
    case MsgType::IndirectPing: return "indirectPing(1)";
    case MsgType::AckResp: return "ackResp(2)";
    case MsgType::Suspect: return "suspect(3)";
    case MsgType::Alive: return "alive(4)";
    case MsgType::Dead: return "dead(5)";
    case MsgType::PushPull: return "pushPull(6)";
    case MsgType::Compound: return "compound(7)";
    case MsgType::User: return "user(8)";
    case MsgType::Compress: return "compress(9)";
    case MsgType::Encrypt: return "encrypt(10)";
    case MsgType::NackResp: return "nackResp(11)";
    case MsgType::HasCrc: return "hasCrc(12)";
    case MsgType::Err: return "err(13)";
    case MsgType::HasLabel: return "hasLabel(244)";
  }
  return "unknown";
}

}  // namespace memberlist::wire
