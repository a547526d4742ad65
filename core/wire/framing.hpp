// Wrappers around messages (WIRE.md §5.2, §5.4, §5.5, §5.8): compound, compress, CRC, label.
#pragma once

#include <string_view>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/error.hpp"
#include "wire/limits.hpp"

namespace memberlist::wire {

// ---- compound (type 7): 07 | n | n x u16be length | parts
// Parts must number 1..255 and each be at most 65535 bytes (callers pack within UDP budgets).
Result<Bytes> make_compound(std::span<const Bytes> parts);
Result<Bytes> make_compound(std::span<const ByteView> parts);
struct CompoundParts {
  std::vector<ByteView> parts;  // views into the input
  size_t truncated = 0;         // parts announced but cut off (memberlist logs and drops them)
};
// `in` starts after the 07 type byte. Parts cut off at the end are counted in `truncated` (as
// memberlist does); bytes left over after the last announced part fail the whole compound
// (Malformed): that is what an old memberlist sends when a count over 255 or a length over
// 65535 wrapped, and none of its parts can be trusted.
Result<CompoundParts> split_compound(ByteView in);
// memberlist's packing accounting (not the real header size, which is 2 + 2n).
inline constexpr size_t kCompoundHeaderOverhead = 2;
inline constexpr size_t kCompoundOverhead = 2;

// ---- compress (type 9): 09 | msgpack {Algo, Buf}: Algo 0 = LZW (every memberlist), 1 = Snappy's
// block format (grafana/memberlist's CompressionAlgorithmSnappy; hashicorp/memberlist refuses it).
enum class Compression : uint8_t { Lzw = 0, Snappy = 1 };
Bytes compress_payload(ByteView payload, Compression algo = Compression::Lzw);
// `in` starts after the 09 type byte. max_out bounds the decompressed size. Both algorithms are
// accepted whatever this node sends.
Result<Bytes> decompress_payload(ByteView in, size_t max_out, const Limits &limits);

// ---- CRC (type 12): 0c | crc32be(payload) | payload
uint32_t crc32_ieee(ByteView b);
Bytes add_crc(ByteView payload);
// If `in` is a CRC-wrapped packet (len >= 5 and in[0] == 12), verifies and strips it; otherwise
// returns the input unchanged. Sets *had_crc accordingly.
Result<ByteView> strip_crc(ByteView in, bool *had_crc);

// ---- label header (type 244): f4 | len (1..255) | label
inline constexpr size_t kLabelMaxSize = 255;
Status validate_label(std::string_view label);
// Prepends the header; an empty label adds nothing.
Result<Bytes> add_label_header(std::string_view label, ByteView payload);
inline size_t label_overhead(std::string_view label) { return label.empty() ? 0 : 2 + label.size(); }
struct Labeled {
  ByteView rest;
  std::string_view label;  // empty when there was no header; views into the input
};
// Splits off a label header if present (no comparison).
Result<Labeled> strip_label_header(ByteView in);
// The receive-side rule: strip and compare with the configured label. With
// skip_inbound_label_check a packet that carries a header is refused and the configured label
// is assumed (memberlist's SkipInboundLabelCheck).
Result<ByteView> check_label(ByteView in, std::string_view configured, bool skip_inbound_label_check);

}  // namespace memberlist::wire
