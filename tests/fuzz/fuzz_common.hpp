// Shared by the fuzz targets and the seed generator: how the leading config byte(s) of an input
// choose the receiver configuration. The layout is part of the corpus format, so changing it
// invalidates tests/fuzz/corpus/ (regenerate the seeds and re-run the campaign, docs/fuzzing.md).
//
// Config byte:
//   bits 0-1  label: 0 none, 1 "lbl", 2 taken from the input (one length byte, then the label;
//             length 0 = none), 3 "lbl" with skip_inbound_label_check
//   bits 2-3  keyring: 0 none, 1 the pair {00..0f, 10..1f}, 2 the wide ring (every fixed key the
//             vector files use, 00..0f first), 3 a non-null but empty keyring
//   bit 4     verify_incoming off (on when clear)
//   bit 5     small limits (so the limit paths are reached), otherwise the fuzz defaults
//   bit 6     read_label_header off (stream target only)
//   bit 7     unused
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/crypto.hpp"
#include "wire/limits.hpp"

// Always on, whatever NDEBUG says.
#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s: %s\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                              \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace memberlist::fuzz {

using wire::Bytes;
using wire::ByteView;

enum : uint8_t {
  kLabelMask = 0x03,
  kLabelNone = 0,
  kLabelLbl = 1,
  kLabelFromInput = 2,
  kLabelLblSkipCheck = 3,
  kKeysShift = 2,
  kKeysMask = 0x0c,
  kKeysNone = 0,
  kKeysPair = 1,
  kKeysWide = 2,
  kKeysEmptyRing = 3,
  kVerifyOff = 0x10,
  kSmallLimits = 0x20,
  kNoLabelHeader = 0x40,
};

inline Bytes seq_key(uint8_t start, size_t n) {
  Bytes k(n);
  for (size_t i = 0; i < n; ++i) k[i] = static_cast<uint8_t>(start + i);
  return k;
}

// golden.tsv's key and Go's Key1 (00..0f), Go's Key2 (10..1f).
inline const std::vector<Bytes> &pair_keys() {
  static const std::vector<Bytes> k{seq_key(0x00, 16), seq_key(0x10, 16)};
  return k;
}
// Every key of tests/vectors/*.tsv and generate_vectors(): Go's Key1/2/3, Key24, Key32, and
// our generator's 11 x 16, 22 x 24, 33 x 32.
inline const std::vector<Bytes> &wide_keys() {
  static const std::vector<Bytes> k{seq_key(0x00, 16),   seq_key(0x10, 16),  seq_key(0x20, 16),
                                    seq_key(0x40, 24),   seq_key(0x60, 32),  Bytes(16, 0x11),
                                    Bytes(24, 0x22),     Bytes(32, 0x33)};
  return k;
}

inline wire::Keyring make_ring(const std::vector<Bytes> &keys) {
  wire::Keyring r;
  for (const auto &k : keys) FUZZ_CHECK(r.add_key(k).ok(), "fixed key rejected");
  return r;
}

// Per-input work stays around 10 ms: the decompression ceilings are lowered from the
// production defaults (1 MiB per compress wrapper in a packet, 40 MiB per stream; 64 KiB still
// holds anything a sender compresses into a datagram), everything else is the default.
inline wire::Limits fuzz_default_limits() {
  wire::Limits l;
  l.max_packet_decompressed = 64u << 10;
  l.max_stream_decompressed = 256u << 10;
  return l;
}
// Small enough that inputs of a few hundred bytes reach every limit check.
inline wire::Limits fuzz_small_limits() {
  wire::Limits l;
  l.max_packet_decompressed = 512;
  l.max_stream_decompressed = 512;
  l.max_encrypted_stream = 256;
  l.max_stream_bytes = 1024;
  l.max_push_pull_nodes = 3;
  l.max_user_state = 64;
  l.max_user_msg = 64;
  l.max_nesting = 2;
  l.max_meta = 8;
  l.max_msgpack_depth = 3;
  return l;
}

struct Config {
  uint8_t byte = 0;
  std::string label;
  bool skip_inbound_label_check = false;
  const wire::Keyring *keyring = nullptr;
  bool verify_incoming = true;
  bool read_label_header = true;
  wire::Limits limits;
};

// Reads the config byte (already split off) and, for label mode 2, the label from `in`.
// Returns false when the input is too short for what the config byte announces.
inline bool parse_config(uint8_t b, ByteView &in, Config &c) {
  static const wire::Keyring pair = make_ring(pair_keys());
  static const wire::Keyring wide = make_ring(wide_keys());
  static const wire::Keyring empty;
  c.byte = b;
  switch (b & kLabelMask) {
    case kLabelNone: break;
    case kLabelLbl: c.label = "lbl"; break;
    case kLabelFromInput: {
      if (in.empty()) return false;
      const size_t n = in[0];
      if (in.size() < 1 + n) return false;
      c.label.assign(reinterpret_cast<const char *>(in.data()) + 1, n);
      in = in.subspan(1 + n);
      break;
    }
    case kLabelLblSkipCheck:
      c.label = "lbl";
      c.skip_inbound_label_check = true;
      break;
  }
  switch ((b & kKeysMask) >> kKeysShift) {
    case kKeysNone: c.keyring = nullptr; break;
    case kKeysPair: c.keyring = &pair; break;
    case kKeysWide: c.keyring = &wide; break;
    case kKeysEmptyRing: c.keyring = &empty; break;
  }
  c.verify_incoming = !(b & kVerifyOff);
  c.read_label_header = !(b & kNoLabelHeader);
  c.limits = (b & kSmallLimits) ? fuzz_small_limits() : fuzz_default_limits();
  return true;
}

// A fixed nonce for the round trips, so a run is deterministic.
inline wire::Nonce fixed_nonce() {
  wire::Nonce n{};
  for (size_t i = 0; i < n.size(); ++i) n[i] = static_cast<uint8_t>(0xa0 + i);
  return n;
}

}  // namespace memberlist::fuzz
