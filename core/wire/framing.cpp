#include "wire/framing.hpp"

#include <zlib.h>

#include "wire/codec.hpp"
#include "wire/lzw.hpp"
#include "wire/snappy.hpp"
#include "wire/messages.hpp"

namespace memberlist::wire {

namespace {
template <class Part>
Result<Bytes> make_compound_impl(std::span<const Part> parts) {
  if (parts.empty() || parts.size() > 255) {
    return make_error(Errc::OutOfRange, "a compound message holds 1..255 parts, not " +
                                            std::to_string(parts.size()));
  }
  size_t total = 2 + 2 * parts.size();
  for (const auto &p : parts) {
    if (p.size() > 0xffff) return make_error(Errc::OutOfRange, "compound part over 65535 bytes");
    total += p.size();
  }
  Bytes out;
  out.reserve(total);
  out.push_back(static_cast<uint8_t>(MsgType::Compound));
  out.push_back(static_cast<uint8_t>(parts.size()));
  for (const auto &p : parts) {
    out.push_back(static_cast<uint8_t>(p.size() >> 8));
    out.push_back(static_cast<uint8_t>(p.size()));
  }
  for (const auto &p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
}  // namespace

Result<Bytes> make_compound(std::span<const Bytes> parts) { return make_compound_impl(parts); }
Result<Bytes> make_compound(std::span<const ByteView> parts) { return make_compound_impl(parts); }

Result<CompoundParts> split_compound(ByteView in) {
  if (in.empty()) return make_error(Errc::Truncated, "compound: missing part count");
  const size_t n = in[0];
  if (in.size() < 1 + 2 * n) return make_error(Errc::Truncated, "compound: truncated length table");
  CompoundParts out;
  out.parts.reserve(n);
  size_t pos = 1 + 2 * n;
  for (size_t i = 0; i < n; ++i) {
    const size_t len = static_cast<size_t>(in[1 + 2 * i]) << 8 | in[2 + 2 * i];
    if (len > in.size() - pos) {
      out.truncated = n - i;
      break;
    }
    out.parts.push_back(in.subspan(pos, len));
    pos += len;
  }
  // Bytes left after the last announced part: never produced by make_compound nor by any
  // memberlist sender that stays within the format. An older memberlist writes uint8(count) and
  // uint16(length) unchecked, so more than 255 parts wrap the count (the parts then start inside
  // the rest of the length table) and a part over 65535 bytes wraps its length; both leave
  // trailing bytes, and the parts found are garbage. memberlist ignores the rest; we refuse the
  // whole compound, naming the figures.
  if (!out.truncated && pos != in.size()) {
    const size_t announced = pos - (1 + 2 * n);
    return make_error(Errc::Malformed,
                      "compound: " + std::to_string(n) + " parts announce " + std::to_string(announced) + " bytes but " +
                          std::to_string(in.size() - (1 + 2 * n)) + " follow the length table (" +
                          std::to_string(in.size() - pos) +
                          " trailing): the sender wrapped a part count over 255 or a part length over 65535 "
                          "(hashicorp/memberlist #239, #260); the whole compound is dropped");
  }
  return out;
}

Bytes compress_payload(ByteView payload, Compression algo) {
  Compress c;
  c.algo = static_cast<uint8_t>(algo);
  c.buf = algo == Compression::Snappy ? snappy_compress(payload) : lzw_compress(payload);
  return encode(c);
}

Result<Bytes> decompress_payload(ByteView in, size_t max_out, const Limits &limits) {
  Compress c;
  size_t off = 0;
  if (auto st = decode_body(in, &off, c, limits); !st) return st.error();
  static const Bytes empty;
  const Bytes &buf = c.buf ? *c.buf : empty;
  switch (c.algo) {
    case static_cast<uint8_t>(Compression::Lzw): return lzw_decompress(buf, max_out);
    case static_cast<uint8_t>(Compression::Snappy): return snappy_decompress(buf, max_out);
    default:
      return make_error(Errc::Unsupported,
                        "compress: unknown algorithm " + std::to_string(c.algo) + " (0 = LZW and 1 = Snappy are known)");
  }
}

uint32_t crc32_ieee(ByteView b) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed in chunks so any size works.
  size_t pos = 0;
  while (pos < b.size()) {
    const uInt n = static_cast<uInt>(std::min<size_t>(b.size() - pos, 1u << 30));
    crc = crc32(crc, b.data() + pos, n);
    pos += n;
  }
  return static_cast<uint32_t>(crc);
}

Bytes add_crc(ByteView payload) {
  Bytes out;
  out.reserve(payload.size() + 5);
  const uint32_t crc = crc32_ieee(payload);
  out.push_back(static_cast<uint8_t>(MsgType::HasCrc));
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(crc >> s));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<ByteView> strip_crc(ByteView in, bool *had_crc) {
  *had_crc = false;
  if (in.size() < 5 || in[0] != static_cast<uint8_t>(MsgType::HasCrc)) return in;
  const uint32_t want = static_cast<uint32_t>(in[1]) << 24 | static_cast<uint32_t>(in[2]) << 16 |
                        static_cast<uint32_t>(in[3]) << 8 | in[4];
  ByteView rest = in.subspan(5);
  if (crc32_ieee(rest) != want) return make_error(Errc::BadCrc, "packet CRC32 mismatch");
  *had_crc = true;
  return rest;
}

Status validate_label(std::string_view label) {
  if (label.size() > kLabelMaxSize) {
    return make_error(Errc::BadLabel, "label is " + std::to_string(label.size()) +
                                          " bytes; at most 255 are allowed");
  }
  return Ok{};
}

Result<Bytes> add_label_header(std::string_view label, ByteView payload) {
  if (auto st = validate_label(label); !st) return st.error();
  Bytes out;
  out.reserve(label_overhead(label) + payload.size());
  if (!label.empty()) {
    out.push_back(static_cast<uint8_t>(MsgType::HasLabel));
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<Labeled> strip_label_header(ByteView in) {
  if (in.empty() || in[0] != static_cast<uint8_t>(MsgType::HasLabel)) return Labeled{in, {}};
  if (in.size() < 2) return make_error(Errc::BadLabel, "label header truncated");
  const size_t n = in[1];
  if (n == 0) return make_error(Errc::BadLabel, "label header with length 0");
  if (in.size() < 2 + n) return make_error(Errc::BadLabel, "label header truncated");
  return Labeled{in.subspan(2 + n), as_string(in.subspan(2, n))};
}

Result<ByteView> check_label(ByteView in, std::string_view configured, bool skip_inbound_label_check) {
  auto l = strip_label_header(in);
  if (!l) return l.error();
  const bool had_header = l->rest.size() != in.size();
  if (skip_inbound_label_check) {
    if (had_header) return make_error(Errc::LabelMismatch, "unexpected label header (inbound label check is skipped)");
    return in;
  }
  if (l->label != configured) {
    return make_error(Errc::LabelMismatch, "label '" + std::string(l->label) + "' does not match '" +
                                               std::string(configured) + "'");
  }
  return l->rest;
}

}  // namespace memberlist::wire
