// Byte buffers and views used across the wire layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace memberlist::wire {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
// A Go []byte that may be nil: nullopt encodes as msgpack nil (c0), an empty value as a0.
using OptBytes = std::optional<Bytes>;

inline ByteView view(std::string_view s) {
  return {reinterpret_cast<const uint8_t *>(s.data()), s.size()};
}
inline std::string_view as_string(ByteView b) {
  return {reinterpret_cast<const char *>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string to_hex(ByteView b);
// Lowercase or uppercase hex, no separators; nullopt on odd length or a non-hex digit.
std::optional<Bytes> from_hex(std::string_view s);

}  // namespace memberlist::wire
