// TCP stream messages: incremental decoding, layering and bounds.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "wire/codec.hpp"
#include "wire/framing.hpp"
#include "wire/stream.hpp"

using namespace memberlist::wire;
using memberlist::test::hex;

namespace {

PushPull sample_push_pull(int nodes, size_t user) {
  PushPull pp;
  pp.join = true;
  for (int i = 0; i < nodes; ++i) {
    pp.nodes.push_back(PushNodeState{"node-" + std::to_string(i), Bytes{10, 0, 0, static_cast<uint8_t>(i)},
                                     static_cast<uint16_t>(7946 + i), to_bytes("meta"), static_cast<uint32_t>(i + 1),
                                     i % 4, Bytes{1, 5, 2, 0, 0, 0}});
  }
  pp.user_state.assign(user, 0x5a);
  return pp;
}

// Feeds `bytes` in pieces of `chunk` and returns the decoder's final state.
StreamDecoder::State feed_in_chunks(StreamDecoder &d, ByteView bytes, size_t chunk) {
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    auto s = d.feed(bytes.subspan(i, std::min(chunk, bytes.size() - i)));
    if (s != StreamDecoder::State::NeedMore) return s;
  }
  return d.state();
}

}  // namespace

TEST(Stream, IncrementalEqualsWhole) {
  const PushPull pp = sample_push_pull(1000, 3000);
  Keyring ring;
  ASSERT_TRUE(ring.add_key(Bytes(24, 3)).ok());
  for (int mask = 0; mask < 8; ++mask) {
    StreamOut out;
    out.compress = mask & 1;
    out.keyring = (mask & 2) ? &ring : nullptr;
    out.label = (mask & 4) ? "green" : "";
    auto bytes = encode_stream(encode_push_pull(pp), out);
    ASSERT_TRUE(bytes.ok());
    StreamIn in;
    in.keyring = out.keyring;
    in.label = out.label;
    for (size_t chunk : {1u, 7u, 1400u, 65536u, 1u << 30}) {
      if (chunk == 1 && bytes->size() > 200000) continue;
      StreamDecoder d(in);
      ASSERT_EQ(feed_in_chunks(d, *bytes, chunk), StreamDecoder::State::Done)
          << "mask " << mask << " chunk " << chunk << ": " << d.error().to_string();
      EXPECT_EQ(std::get<PushPull>(d.message()), pp);
      EXPECT_EQ(d.was_encrypted(), out.keyring != nullptr);
    }
  }
}

TEST(Stream, EveryMessageKind) {
  const std::vector<StreamMessage> msgs{sample_push_pull(3, 0), UserMsg{to_bytes("hello")}, UserMsg{},
                                        Ping{1, "b", Bytes{1, 2, 3, 4}, 5, "a"}, AckResp{1, std::nullopt},
                                        ErrResp{"nope"}};
  for (const auto &m : msgs) {
    for (auto style : {IntStyle::Legacy, IntStyle::V2}) {
      auto got = StreamDecoder::decode(encode_stream_message(m, style), StreamIn{});
      ASSERT_TRUE(got.ok()) << dump(m) << ": " << got.error().to_string();
      EXPECT_EQ(*got, m);
    }
  }
  // Trailing bytes after the message are not read.
  Bytes b = encode_stream_message(UserMsg{to_bytes("x")});
  b.push_back(0xff);
  EXPECT_TRUE(StreamDecoder::decode(b, StreamIn{}).ok());
  // Types that are not stream messages.
  for (uint8_t t : {3, 4, 5, 7, 11, 12, 99}) {
    EXPECT_EQ(StreamDecoder::decode(Bytes{t, 0x80}, StreamIn{}).error().code, Errc::BadType) << int(t);
  }
}

TEST(Stream, ReplyWithoutLabelHeaderStillAuthenticatesLabel) {
  Keyring ring;
  ASSERT_TRUE(ring.add_key(Bytes(16, 8)).ok());
  StreamOut out;
  out.keyring = &ring;
  out.label = "lbl";
  out.write_label_header = false;
  Bytes reply = *encode_stream(encode_stream_message(AckResp{3, std::nullopt}), out);
  StreamIn in;
  in.keyring = &ring;
  in.label = "lbl";
  in.read_label_header = false;
  EXPECT_TRUE(StreamDecoder::decode(reply, in).ok());
  in.label = "other";
  EXPECT_EQ(StreamDecoder::decode(reply, in).error().code, Errc::DecryptFailed);
}

TEST(Stream, EncryptionPolicy) {
  Keyring ring;
  ASSERT_TRUE(ring.add_key(Bytes(16, 8)).ok());
  const Bytes plain = encode_stream_message(UserMsg{to_bytes("x")});
  StreamIn in;
  in.keyring = &ring;
  EXPECT_EQ(StreamDecoder::decode(plain, in).error().code, Errc::NoKeys);
  in.verify_incoming = false;
  EXPECT_TRUE(StreamDecoder::decode(plain, in).ok());
  StreamOut out;
  out.keyring = &ring;
  Bytes enc = *encode_stream(plain, out);
  EXPECT_EQ(StreamDecoder::decode(enc, StreamIn{}).error().code, Errc::NoKeys);
}

TEST(Stream, BoundsAreEnforcedBeforeBuffering) {
  StreamIn in;
  in.limits.max_push_pull_nodes = 10;
  in.limits.max_user_state = 100;
  in.limits.max_user_msg = 50;
  in.limits.max_encrypted_stream = 1000;
  in.limits.max_stream_bytes = 5000;
  EXPECT_EQ(StreamDecoder::decode(encode_push_pull(sample_push_pull(11, 0)), in).error().code, Errc::LimitExceeded);
  EXPECT_TRUE(StreamDecoder::decode(encode_push_pull(sample_push_pull(10, 100)), in).ok());
  EXPECT_EQ(StreamDecoder::decode(encode_push_pull(sample_push_pull(1, 101)), in).error().code, Errc::LimitExceeded);
  EXPECT_EQ(StreamDecoder::decode(encode_user_stream(Bytes(51, 1)), in).error().code, Errc::LimitExceeded);

  // Headers that lie: huge or negative counts, seen after a few bytes, before any payload.
  for (const char *h : {"06 83 a44a6f696e c2 a54e6f646573 d2ffffffff ac5573657253746174654c656e 00",
                        "06 83 a44a6f696e c2 a54e6f646573 00 ac5573657253746174654c656e ce7fffffff",
                        "08 81 aa557365724d73674c656e cf00000000ffffffff"}) {
    StreamDecoder d(in);
    EXPECT_EQ(d.feed(hex(h)), StreamDecoder::State::Failed) << h;
    EXPECT_EQ(d.error().code, Errc::LimitExceeded) << h;
  }
  // Encrypted frame length over the limit, refused from its 5-byte header alone.
  Keyring ring;
  ASSERT_TRUE(ring.add_key(Bytes(16, 1)).ok());
  in.keyring = &ring;
  StreamDecoder d(in);
  EXPECT_EQ(d.feed(hex("0a 00100000")), StreamDecoder::State::Failed);
  EXPECT_EQ(d.error().code, Errc::LimitExceeded);
  // A plaintext stream that never ends stops at max_stream_bytes (here a node state with a
  // 6000-byte unknown field).
  in.keyring = nullptr;
  StreamDecoder endless(in);
  ASSERT_EQ(endless.feed(hex("06 83 a44a6f696e c2 a54e6f646573 01 ac5573657253746174654c656e 00 81 a158 db00001770")),
            StreamDecoder::State::NeedMore);
  EXPECT_EQ(endless.feed(Bytes(6000, 0)), StreamDecoder::State::Failed);
  EXPECT_EQ(endless.error().code, Errc::LimitExceeded);
  // A message that ends within max_stream_bytes is decoded whatever follows it, in one feed or
  // byte by byte (fuzz_stream found the two disagreeing).
  Bytes trailing = hex("08 81 aa557365724d73674c656e 32");
  trailing.resize(trailing.size() + 6000, 0);
  EXPECT_TRUE(StreamDecoder::decode(trailing, in).ok());
  StreamDecoder bytewise(in);
  for (uint8_t b : trailing) bytewise.feed(ByteView(&b, 1));
  EXPECT_EQ(bytewise.state(), StreamDecoder::State::Done);
  // Decompression bomb on a stream.
  in.limits.max_stream_decompressed = 1000;
  StreamOut out;
  out.compress = true;
  EXPECT_EQ(StreamDecoder::decode(*encode_stream(encode_user_stream(Bytes(4000, 0)), out), in).error().code,
            Errc::LimitExceeded);
}

// An object that arrives in many pieces must not be parsed again from its start on every piece:
// a peer that trickles a large object would make that quadratic (fuzzing found 4.3 s of CPU on
// the loop thread for 9 MB sent in 64 KiB pieces). Each kind of object the stream decoder waits
// for carries a 40,000-element unknown array here and is fed 256 bytes at a time (160 pieces).
TEST(Stream, ObjectsArrivingInPiecesAreParsedInLinearTime) {
  // A map entry "X": [0, 1, ..., 0, 1] to prepend to any struct's own entries.
  Bytes junk = hex("a158 dd00009c40");
  for (int i = 0; i < 40000; ++i) junk.push_back(static_cast<uint8_t>(i & 1));
  const auto with_junk = [&](const Bytes &msg, size_t map_at) {
    Bytes out(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(map_at));
    const uint8_t map = msg[map_at];
    EXPECT_TRUE(map >= 0x80 && map < 0x8f) << "fixmap expected";
    out.push_back(static_cast<uint8_t>(map + 1));
    out.insert(out.end(), junk.begin(), junk.end());
    out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(map_at) + 1, msg.end());
    return out;
  };
  const PushPull pp = sample_push_pull(3, 10);
  const Bytes pp_bytes = encode_push_pull(pp);
  size_t first_node = 1;
  PushPullHeader h;
  ASSERT_TRUE(decode_body(pp_bytes, &first_node, h, Limits{}).ok());
  const Ping ping{7, "node-a", Bytes{10, 0, 0, 1}, 7946, "node-b"};
  StreamOut compressed;
  compressed.compress = true;
  struct Case {
    const char *what;
    Bytes bytes;
  };
  const std::vector<Case> cases = {
      {"push/pull header", with_junk(pp_bytes, 1)},
      {"push/pull node state", with_junk(pp_bytes, first_node)},
      {"user message header", with_junk(encode_user_stream(Bytes(5, 1)), 1)},
      {"ping", with_junk(encode(ping), 1)},
      {"compress wrapper", with_junk(*encode_stream(encode_user_stream(Bytes(5, 1)), compressed), 1)},
  };
  for (const auto &c : cases) {
    const auto whole = StreamDecoder::decode(c.bytes, StreamIn{});
    ASSERT_TRUE(whole.ok()) << c.what << ": " << whole.error().to_string();
    StreamDecoder d{StreamIn{}};
    ASSERT_EQ(feed_in_chunks(d, c.bytes, 256), StreamDecoder::State::Done) << c.what << ": " << d.error().to_string();
    EXPECT_EQ(dump(d.message()), dump(whole.value())) << c.what;
    // Parsed twice at most, plus the bit of each piece a scan looks at again (a token split
    // between pieces). Parsing from the start on every piece would be about 80 times the size.
    EXPECT_LE(d.bytes_parsed(), 3 * c.bytes.size()) << c.what << ": " << c.bytes.size() << " bytes";
  }
}

TEST(Stream, EmptyAndTruncatedInput) {
  EXPECT_EQ(StreamDecoder::decode({}, StreamIn{}).error().code, Errc::Truncated);
  // Compression of nothing: memberlist v0.7.0 rejects an empty decompressed message.
  EXPECT_EQ(StreamDecoder::decode(compress_payload({}), StreamIn{}).error().code, Errc::Truncated);
  const Bytes full = encode_push_pull(sample_push_pull(5, 10));
  for (size_t cut = 0; cut < full.size(); ++cut) {
    auto r = StreamDecoder::decode(ByteView(full).first(cut), StreamIn{});
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.error().code, Errc::Truncated) << cut;
  }
  StreamDecoder d(StreamIn{});
  EXPECT_EQ(d.feed(hex("f4")), StreamDecoder::State::NeedMore);  // label header split across reads
  EXPECT_EQ(d.feed(hex("00")), StreamDecoder::State::Failed);
  EXPECT_EQ(d.error().code, Errc::BadLabel);
}
