// LZW, GIF flavour without early change: codes 0..255 literals, 256 CLEAR, 257 EOF, widths 9..12,
// bits packed LSB first. The code-width and table-reset rules follow Go's compress/lzw so the
// output is byte-identical (WIRE.md §5.4 describes them).
#include "wire/lzw.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

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

// Open-addressing map from (prefix code << 8 | byte) to code, key and code packed in one word.
// At most min(input length, 4096) codes are ever stored between clears, so the table is sized
// to the input (load at most one half): a 1.4 KB gossip packet clears 16 KB instead of 48 KB,
// and the storage is the thread's, reused, instead of a fresh heap block per packet.
class CodeTable {
 public:
  explicit CodeTable(size_t input_len) {
    const size_t codes = std::min<size_t>(input_len + 1, kMaxCode + 1);
    uint32_t slots = 512;
    while (slots < 2 * codes) slots <<= 1;
    mask_ = slots - 1;
    static thread_local std::vector<uint32_t> storage;
    if (storage.size() < slots) storage.resize(slots);
    slots_ = storage.data();
    clear();
  }
  void clear() { std::fill_n(slots_, mask_ + 1, kEmpty); }
  // Returns the code for key, or -1.
  int find(uint32_t key) const {
    for (uint32_t h = hash(key);; h = (h + 1) & mask_) {
      const uint32_t e = slots_[h];
      if (e == kEmpty) return -1;
      if (e >> 12 == key) return static_cast<int>(e & kMaxCode);
    }
  }
  void insert(uint32_t key, uint16_t code) {
    uint32_t h = hash(key);
    while (slots_[h] != kEmpty) h = (h + 1) & mask_;
    slots_[h] = key << 12 | code;
  }

 private:
  // Keys are at most 20 bits (12-bit prefix, 8-bit byte) and stored codes at most 4094 (4095
  // clears the table instead): an entry never reads as this.
  static constexpr uint32_t kEmpty = 0xffffffffu;
  uint32_t hash(uint32_t key) const { return ((key >> 12) ^ key ^ (key * 0x9e3779b1u >> 19)) & mask_; }
  uint32_t *slots_ = nullptr;
  uint32_t mask_ = 0;
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
  CodeTable table(in.size());
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
      table.clear();
      return true;
    }
    return false;
  };
  w.put(kClear, width);
  uint32_t code = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    const uint32_t key = code << 8 | in[i];
    if (int hit = table.find(key); hit >= 0) {
      code = static_cast<uint32_t>(hit);
      continue;
    }
    w.put(code, width);
    code = in[i];
    if (!inc_hi()) table.insert(key, static_cast<uint16_t>(hi));
  }
  w.put(code, width);
  inc_hi();
  w.put(kEof, width);
  w.flush();
  return out;
}

Result<Bytes> lzw_decompress(ByteView in, size_t max_out) {
  constexpr uint16_t kInvalid = 0xffff;
  // The thread's tables, reused: zeroing 16 KB per call cost more than a gossip packet's decode.
  // No entry is read before this call writes it: a code below hi names an entry written since
  // the last CLEAR, and hi itself is only read after the table froze, when it was written.
  struct Tables {
    std::array<uint16_t, 1u << kMaxWidth> prefix{};
    std::array<uint8_t, 1u << kMaxWidth> suffix{};
    std::array<uint8_t, 1u << kMaxWidth> stack{};  // one expansion, written back to front
  };
  static thread_local Tables tables;
  auto &prefix = tables.prefix;
  auto &suffix = tables.suffix;
  auto &stack = tables.stack;
  // Expansions are copied into `out` at `len` (grown by doubling, never past max_out) rather
  // than appended with vector::insert: a gossip packet is a few hundred short expansions.
  Bytes out(std::min<size_t>(in.size() * 3, max_out));
  size_t len = 0;
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
    if (code == kEof) {
      out.resize(len);
      return out;
    }
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
    if (len + n > max_out) {
      return make_error(Errc::LimitExceeded, "lzw: decompressed data over the limit of " +
                                                 std::to_string(max_out) + " bytes");
    }
    if (len + n > out.size()) out.resize(std::min(max_out, std::max(len + n, out.size() * 2)));
    std::memcpy(out.data() + len, stack.data() + i, n);
    len += n;
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
