// fuzz_stream: the TCP stream path. Input = config byte (fuzz_common.hpp), chunking byte,
// [label], stream bytes.
//
// The bytes are decoded three ways: StreamDecoder::decode on the whole buffer, one feed() of the
// whole buffer, and feed() in chunks. Chunking byte: bit 7 clear = fixed chunks of (b & 0x7f) + 1
// bytes; bit 7 set = pseudo-random chunks of 0..(b & 0x7f) + 1 bytes (empty feeds included) from
// a generator seeded with b. After kMaxChunks feeds the rest goes in one chunk, so the work per
// input stays bounded. All three must agree (Done/Failed, and on Done the same message, label and
// encryption flag); ending in NeedMore counts as Failed, as in decode(). A decoded message must
// survive encode_stream_message + encode_stream (same label and keyring, compressed or not) and
// decode back to itself.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "wire/codec.hpp"
#include "wire/stream.hpp"

using namespace memberlist::wire;
using memberlist::fuzz::Config;

namespace {

constexpr size_t kMaxChunks = 512;

enum class Outcome { Done, Failed };

const char *name(Outcome o) { return o == Outcome::Done ? "Done" : "Failed"; }
Outcome outcome(StreamDecoder::State s) {
  return s == StreamDecoder::State::Done ? Outcome::Done : Outcome::Failed;
}

struct Chunker {
  uint8_t b;
  uint32_t rng;
  explicit Chunker(uint8_t byte) : b(byte), rng(0x9e3779b9u ^ (byte * 0x01000193u)) {}
  size_t next() {
    const size_t span = static_cast<size_t>(b & 0x7f) + 1;
    if (!(b & 0x80)) return span;
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng % (span + 1);
  }
};

void check_round_trip(const StreamMessage &m, const Config &cfg, size_t variant) {
  for (IntStyle style : {IntStyle::Legacy, IntStyle::V2}) {
    const Bytes body = encode_stream_message(m, style);
    StreamOut out;
    out.label = cfg.label;
    out.write_label_header = true;
    out.compress = variant & 1;
    out.keyring = cfg.keyring;
    out.encryption_version = variant & 2 ? 0 : 1;
    out.nonce = memberlist::fuzz::fixed_nonce();
    auto wire = encode_stream(body, out);
    FUZZ_CHECK(wire.ok(), "encode_stream failed: " + (wire.ok() ? std::string() : wire.error().to_string()));
    StreamIn in;
    in.label = cfg.label;
    in.keyring = cfg.keyring;
    auto back = StreamDecoder::decode(*wire, in);
    FUZZ_CHECK(back.ok(), "round trip does not decode: " + dump(m) + " -> " +
                              (back.ok() ? std::string() : back.error().to_string()));
    FUZZ_CHECK(*back == m, "round trip decodes differently: " + dump(m) + " vs " + dump(*back));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  const uint8_t chunk_byte = data[1];
  ByteView in(data + 2, size - 2);
  Config cfg;
  if (!memberlist::fuzz::parse_config(data[0], in, cfg)) return 0;

  StreamIn opts;
  opts.label = cfg.label;
  opts.skip_inbound_label_check = cfg.skip_inbound_label_check;
  opts.read_label_header = cfg.read_label_header;
  opts.keyring = cfg.keyring;
  opts.verify_incoming = cfg.verify_incoming;
  opts.limits = cfg.limits;

  // 1. The one-call API.
  auto decoded = StreamDecoder::decode(in, opts);
  const Outcome o_decode = decoded.ok() ? Outcome::Done : Outcome::Failed;
  if (decoded.ok()) {
    (void)dump(*decoded);
  } else {
    FUZZ_CHECK(!decoded.error().to_string().empty(), "empty error text");
  }

  // 2. One feed of everything.
  StreamDecoder whole(opts);
  const Outcome o_whole = outcome(whole.feed(in));
  FUZZ_CHECK(o_whole == o_decode, std::string("decode() ") + name(o_decode) + " but feed(all) " + name(o_whole));

  // 3. Chunks.
  StreamDecoder chunked(opts);
  Chunker chunker(chunk_byte);
  size_t pos = 0;
  for (size_t n = 0; pos < in.size() && chunked.state() == StreamDecoder::State::NeedMore; ++n) {
    const size_t len = n + 1 >= kMaxChunks ? in.size() - pos : std::min(chunker.next(), in.size() - pos);
    chunked.feed(in.subspan(pos, len));
    pos += len;
  }
  const StreamDecoder::State final_state = chunked.state();
  // Bytes after the end of the message change nothing.
  if (pos < in.size()) FUZZ_CHECK(chunked.feed(in.subspan(pos)) == final_state, "feed after the end changed the state");
  const Outcome o_chunked = outcome(final_state);
  FUZZ_CHECK(o_chunked == o_whole, std::string("whole buffer ") + name(o_whole) + " but chunked " + name(o_chunked) +
                                       (o_whole == Outcome::Failed ? " (whole: " + whole.error().to_string() + ")"
                                        : final_state == StreamDecoder::State::Failed
                                            ? " (chunked: " + chunked.error().to_string() + ")"
                                            : std::string(" (chunked: still NeedMore)")));
  if (o_whole == Outcome::Failed) return 0;

  const std::string d_whole = dump(whole.message());
  const std::string d_chunked = dump(chunked.message());
  FUZZ_CHECK(whole.message() == chunked.message(), "messages differ:\n  whole:   " + d_whole + "\n  chunked: " + d_chunked);
  FUZZ_CHECK(d_whole == d_chunked, "dumps differ");
  FUZZ_CHECK(*decoded == whole.message(), "decode() and feed(all) give different messages");
  FUZZ_CHECK(whole.was_encrypted() == chunked.was_encrypted(), "was_encrypted differs");
  FUZZ_CHECK(whole.peer_label() == chunked.peer_label(), "peer_label differs");

  check_round_trip(whole.message(), cfg, size);
  return 0;
}
