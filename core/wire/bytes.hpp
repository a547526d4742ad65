// Byte buffers and views used across the wire layer.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
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

// A byte string kept inline up to 16 bytes and on the heap beyond: for the fields that are short
// in practice (a node's IPv4/IPv6 address, its 6 version bytes), so that decoding a push/pull
// does not allocate for them. Converts to and from Bytes; compares with both.
class SmallBytes {
 public:
  static constexpr size_t kInline = 16;

  SmallBytes() = default;
  SmallBytes(const Bytes &b) { assign(b.begin(), b.end()); }  // NOLINT(google-explicit-constructor)
  SmallBytes(std::initializer_list<uint8_t> l) { assign(l.begin(), l.end()); }
  template <class It>
  SmallBytes(It first, It last) {
    assign(first, last);
  }

  template <class It>
  void assign(It first, It last) {
    const auto n = static_cast<size_t>(std::distance(first, last));
    if (n <= kInline) {
      std::copy(first, last, inline_.begin());
      heap_.clear();
    } else {
      heap_.assign(first, last);
    }
    size_ = n;
  }
  void push_back(uint8_t b) {
    if (size_ < kInline) {
      inline_[size_] = b;
    } else {
      if (size_ == kInline) heap_.assign(inline_.begin(), inline_.end());
      heap_.push_back(b);
    }
    ++size_;
  }
  void clear() noexcept {
    size_ = 0;
    heap_.clear();
  }
  void reserve(size_t) noexcept {}

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const uint8_t *data() const noexcept { return size_ <= kInline ? inline_.data() : heap_.data(); }
  uint8_t *data() noexcept { return size_ <= kInline ? inline_.data() : heap_.data(); }
  const uint8_t *begin() const noexcept { return data(); }
  const uint8_t *end() const noexcept { return data() + size_; }
  uint8_t *begin() noexcept { return data(); }
  uint8_t *end() noexcept { return data() + size_; }
  uint8_t operator[](size_t i) const noexcept { return data()[i]; }
  uint8_t &operator[](size_t i) noexcept { return data()[i]; }

  operator Bytes() const { return Bytes(begin(), end()); }  // NOLINT(google-explicit-constructor)

  friend bool operator==(const SmallBytes &a, const SmallBytes &b) noexcept {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const SmallBytes &a, const Bytes &b) noexcept {
    return a.size_ == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  std::array<uint8_t, kInline> inline_{};
  size_t size_ = 0;
  Bytes heap_;  // the bytes when size_ > kInline
};
// A Go []byte that may be nil, short in practice.
using OptSmallBytes = std::optional<SmallBytes>;

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
