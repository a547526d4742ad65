// Snappy block format: a greedy single-pass encoder with a small hash table of 4-byte prefixes,
// and a decoder that checks every length and offset against what it has and what was announced.
#include "wire/snappy.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <string>

namespace memberlist::wire {
namespace {

constexpr int kHashBits = 14;
constexpr size_t kMaxOffset = 65535;  // the encoder only writes the 1- and 2-byte offset forms

uint32_t load32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint32_t hash32(uint32_t v) { return (v * 0x1e35a7bdu) >> (32 - kHashBits); }

void put_varint(Bytes &out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

void put_le(Bytes &out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void emit_literal(Bytes &out, const uint8_t *p, size_t len) {
  if (len == 0) return;
  const uint64_t n = len - 1;
  if (n < 60) {
    out.push_back(static_cast<uint8_t>(n << 2));
  } else {
    int bytes = n < (1u << 8) ? 1 : n < (1u << 16) ? 2 : n < (1u << 24) ? 3 : 4;
    out.push_back(static_cast<uint8_t>((59 + bytes) << 2));
    put_le(out, n, bytes);
  }
  out.insert(out.end(), p, p + len);
}

void emit_copy2(Bytes &out, size_t offset, size_t len) {  // len 1..64, offset < 65536
  out.push_back(static_cast<uint8_t>(2 | ((len - 1) << 2)));
  put_le(out, offset, 2);
}

void emit_copy(Bytes &out, size_t offset, size_t len) {  // len >= 4
  // Pieces of 64; when 65..67 would remain, take 60 so that the last piece keeps 4 or more.
  while (len >= 68) {
    emit_copy2(out, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    emit_copy2(out, offset, 60);
    len -= 60;
  }
  if (len >= 12 || offset >= 2048) {
    emit_copy2(out, offset, len);
  } else {
    out.push_back(static_cast<uint8_t>(1 | ((len - 4) << 2) | ((offset >> 8) << 5)));
    out.push_back(static_cast<uint8_t>(offset));
  }
}

}  // namespace

Bytes snappy_compress(ByteView in) {
  const size_t n = in.size();
  Bytes out;
  out.reserve(n + n / 6 + 16);
  put_varint(out, n);
  const uint8_t *src = in.data();
  size_t next_emit = 0;
  if (n >= 8) {
    // Positions are stored plus one, so 0 means empty.
    auto table = std::make_unique<std::array<uint32_t, size_t{1} << kHashBits>>();
    table->fill(0);
    size_t ip = 0;
    while (ip + 4 <= n) {
      const uint32_t cur = load32(src + ip);
      const uint32_t h = hash32(cur);
      const uint32_t cand1 = (*table)[h];
      (*table)[h] = static_cast<uint32_t>(ip + 1);
      if (cand1 != 0) {
        const size_t cand = cand1 - 1;
        if (ip - cand <= kMaxOffset && load32(src + cand) == cur) {
          size_t len = 4;
          while (ip + len < n && src[cand + len] == src[ip + len]) ++len;
          emit_literal(out, src + next_emit, ip - next_emit);
          emit_copy(out, ip - cand, len);
          ip += len;
          next_emit = ip;
          continue;
        }
      }
      // Skip faster through data that does not match (as the reference encoder does).
      ip += 1 + ((ip - next_emit) >> 5);
    }
  }
  emit_literal(out, src + next_emit, n - next_emit);
  return out;
}

Result<Bytes> snappy_decompress(ByteView in, size_t max_out) {
  size_t pos = 0;
  uint64_t want = 0;
  for (int shift = 0;; shift += 7) {
    if (pos == in.size()) return make_error(Errc::Truncated, "snappy: input ends inside the length");
    if (shift > 28) return make_error(Errc::Malformed, "snappy: length varint longer than 5 bytes");
    const uint8_t b = in[pos++];
    want |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  if (want > 0xffffffffu) return make_error(Errc::Malformed, "snappy: length over 2^32-1");
  if (want > max_out) {
    return make_error(Errc::LimitExceeded,
                      "snappy: announces " + std::to_string(want) + " bytes, bound " + std::to_string(max_out));
  }
  Bytes out;
  out.reserve(want);
  auto le = [&](int nbytes, uint64_t &v) {
    if (in.size() - pos < static_cast<size_t>(nbytes)) return false;
    v = 0;
    for (int i = 0; i < nbytes; ++i) v |= static_cast<uint64_t>(in[pos + i]) << (8 * i);
    pos += nbytes;
    return true;
  };
  while (pos < in.size()) {
    const uint8_t tag = in[pos++];
    uint64_t len = 0, offset = 0;
    switch (tag & 3) {
      case 0: {
        len = tag >> 2;
        if (len >= 60 && !le(static_cast<int>(len - 59), len)) {
          return make_error(Errc::Truncated, "snappy: input ends inside a literal's length");
        }
        len += 1;
        if (len > in.size() - pos) return make_error(Errc::Truncated, "snappy: input ends inside a literal");
        if (len > want - out.size()) return make_error(Errc::Malformed, "snappy: literal overruns the announced length");
        out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(pos),
                   in.begin() + static_cast<std::ptrdiff_t>(pos + len));
        pos += len;
        continue;
      }
      case 1:
        len = 4 + ((tag >> 2) & 7);
        if (pos == in.size()) return make_error(Errc::Truncated, "snappy: input ends inside a copy");
        offset = (static_cast<uint64_t>(tag >> 5) << 8) | in[pos++];
        break;
      case 2:
        len = 1 + (tag >> 2);
        if (!le(2, offset)) return make_error(Errc::Truncated, "snappy: input ends inside a copy");
        break;
      default:
        len = 1 + (tag >> 2);
        if (!le(4, offset)) return make_error(Errc::Truncated, "snappy: input ends inside a copy");
        break;
    }
    if (offset == 0 || offset > out.size()) {
      return make_error(Errc::Malformed, "snappy: copy offset " + std::to_string(offset) + " with " +
                                             std::to_string(out.size()) + " bytes written");
    }
    if (len > want - out.size()) return make_error(Errc::Malformed, "snappy: copy overruns the announced length");
    // Byte by byte: a copy may overlap what it writes (offset < length repeats a pattern).
    size_t from = out.size() - offset;
    for (uint64_t i = 0; i < len; ++i) out.push_back(out[from + i]);
  }
  if (out.size() != want) {
    return make_error(Errc::Truncated, "snappy: " + std::to_string(out.size()) + " of " + std::to_string(want) +
                                           " announced bytes");
  }
  return out;
}

}  // namespace memberlist::wire
