// LZW, GIF flavour without early change: codes 0..255 literals, 256 CLEAR, 257 EOF, widths 9..12,
// bits packed LSB first. The code-width and table-reset rules follow Go's compress/lzw so the
// output is byte-identical (WIRE.md §5.4 describes them).
#include "wire/lzw.hpp"

#include <array>
#include <memory>

namespace memberlist::wire {
namespace {

constexpr uint32_t kClear = 256;
constexpr uint32_t kEof = 257;
constexpr uint32_t kMaxWidth = 12;
constexpr uint32_t kMaxCode = (1u << kMaxWidth) - 1;  // 4095

class BitWriter {
 public:
  explicit BitWriter(Bytes &out) : out_(out) {}
  void put(uint32_t code, uint32_t width) {
    bits_ |= code << nbits_;
    nbits_ += width;
    while (nbits_ >= 8) {
      out_.push_back(static_cast<uint8_t>(bits_));
      bits_ >>= 8;
      nbits_ -= 8;
    }
  }
  void flush() {
    if (nbits_ > 0) out_.push_back(static_cast<uint8_t>(bits_));
    bits_ = 0;
    nbits_ = 0;
  }

 private:
  Bytes &out_;
  uint32_t bits_ = 0;
  uint32_t nbits_ = 0;
};

// Open-addressing map from (prefix code << 8 | byte) to code. 4096 entries at most, so 2^13
// slots keep the load under one half.
class CodeTable {
 public:
  static constexpr uint32_t kSlots = 1u << 13;
  CodeTable() { clear(); }
  void clear() { keys_.fill(kEmpty); }
  // Returns the code for key, or -1.
  int find(uint32_t key) const {
    for (uint32_t h = hash(key);; h = (h + 1) & (kSlots - 1)) {
      if (keys_[h] == kEmpty) return -1;
      if (keys_[h] == key) return vals_[h];
    }
  }
  void insert(uint32_t key, uint16_t code) {
    uint32_t h = hash(key);
    while (keys_[h] != kEmpty) h = (h + 1) & (kSlots - 1);
    keys_[h] = key;
    vals_[h] = code;
  }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  static uint32_t hash(uint32_t key) { return ((key >> 12) ^ key ^ (key * 0x9e3779b1u >> 19)) & (kSlots - 1); }
  std::array<uint32_t, kSlots> keys_;
  std::array<uint16_t, kSlots> vals_{};
};

}  // namespace

Bytes lzw_compress(ByteView in) {
  Bytes out;
  out.reserve(in.size() / 2 + 8);
  BitWriter w(out);
  uint32_t width = 9, hi = kEof, overflow = 512;
  if (in.empty()) {
    w.put(kClear, width);
    w.put(kEof, width);
    w.flush();
    return out;
  }
  auto table = std::make_unique<CodeTable>();
  // Go's incHi: next implied code; at 4095 emit CLEAR and start over. Returns true on reset.
  auto inc_hi = [&]() {
    ++hi;
    if (hi == overflow) {
      ++width;
      overflow <<= 1;
    }
    if (hi == kMaxCode) {
      w.put(kClear, width);
      width = 9;
      hi = kEof;
      overflow = 512;
      table->clear();
      return true;
    }
    return false;
  };
  w.put(kClear, width);
  uint32_t code = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    const uint32_t key = code << 8 | in[i];
    if (int hit = table->find(key); hit >= 0) {
      code = static_cast<uint32_t>(hit);
      continue;
    }
    w.put(code, width);
    code = in[i];
    if (!inc_hi()) table->insert(key, static_cast<uint16_t>(hi));
  }
  w.put(code, width);
  inc_hi();
  w.put(kEof, width);
  w.flush();
  return out;
}

Result<Bytes> lzw_decompress(ByteView in, size_t max_out) {
  constexpr uint16_t kInvalid = 0xffff;
  std::array<uint16_t, 1u << kMaxWidth> prefix{};
  std::array<uint8_t, 1u << kMaxWidth> suffix{};
  std::array<uint8_t, 1u << kMaxWidth> stack{};  // one expansion, written back to front
  Bytes out;
  out.reserve(std::min<size_t>(in.size() * 3, max_out));
  uint32_t width = 9, hi = kEof, overflow = 512;
  uint16_t last = kInvalid;
  uint32_t bits = 0, nbits = 0;
  size_t pos = 0;
  for (;;) {
    while (nbits < width) {
      if (pos == in.size()) return make_error(Errc::Truncated, "lzw: stream ends without EOF code");
      bits |= static_cast<uint32_t>(in[pos++]) << nbits;
      nbits += 8;
    }
    const uint32_t code = bits & ((1u << width) - 1);
    bits >>= width;
    nbits -= width;

    if (code == kClear) {
      width = 9;
      hi = kEof;
      overflow = 512;
      last = kInvalid;
      continue;
    }
    if (code == kEof) return out;
    if (code > hi) return make_error(Errc::Malformed, "lzw: invalid code");

    // Expand into stack[i..end).
    size_t i = stack.size();
    uint32_t c = code;
    if (code == hi && last != kInvalid) {
      // KwKwK: the last expansion followed by its own first byte. (With no last code, as after
      // the table freezes at 12 bits, entry hi is an ordinary stored entry, as in Go.)
      uint32_t head = last;
      while (head >= kClear) head = prefix[head];
      stack[--i] = static_cast<uint8_t>(head);
      c = last;
    }
    while (c >= kClear) {
      if (i == 0) return make_error(Errc::Malformed, "lzw: expansion too long");
      stack[--i] = suffix[c];
      c = prefix[c];
    }
    if (i == 0) return make_error(Errc::Malformed, "lzw: expansion too long");
    stack[--i] = static_cast<uint8_t>(c);
    const size_t n = stack.size() - i;
    if (out.size() + n > max_out) {
      return make_error(Errc::LimitExceeded, "lzw: decompressed data over the limit of " +
                                                 std::to_string(max_out) + " bytes");
    }
    out.insert(out.end(), stack.begin() + static_cast<std::ptrdiff_t>(i), stack.end());
    if (last != kInvalid) {
      suffix[hi] = static_cast<uint8_t>(c);  // c is the first byte of this expansion
      prefix[hi] = last;
    }
    last = static_cast<uint16_t>(code);
    ++hi;
    if (hi >= overflow) {
      if (width == kMaxWidth) {
        last = kInvalid;
        --hi;
      } else {
        ++width;
        overflow <<= 1;
      }
    }
  }
}

}  // namespace memberlist::wire
