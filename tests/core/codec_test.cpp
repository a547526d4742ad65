// The msgpack codec: what Go writes (WIRE.md §3.2) and everything Go's decoders accept (§3.3).
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "wire/codec.hpp"

using namespace memberlist::wire;
using memberlist::test::hex;

namespace {
template <class T>
Result<T> decode_hex(const std::string &h, const Limits &limits = {}) {
  T v;
  size_t off = 0;
  Bytes b = hex(h);
  auto st = decode_body(b, &off, v, limits);
  if (!st) return st.error();
  return v;
}
Bytes body(const auto &v, IntStyle s) {
  Bytes out;
  encode_body(out, v, s);
  return out;
}
}  // namespace

TEST(Codec, GoIntFieldsFollowTheLibraryStyle) {
  // WIRE.md §3.2: pushPullHeader{Nodes:200, UserStateLen:40000}, userMsgHeader{1000}.
  PushPullHeader h{200, 40000, false};
  EXPECT_EQ(body(h, IntStyle::Legacy), hex("83 a44a6f696e c2 a54e6f646573 ccc8 ac5573657253746174654c656e cd9c40"));
  EXPECT_EQ(body(h, IntStyle::V2), hex("83 a44a6f696e c2 a54e6f646573 d100c8 ac5573657253746174654c656e d200009c40"));
  EXPECT_EQ(body(UserMsgHeader{1000}, IntStyle::Legacy), hex("81 aa557365724d73674c656e cd03e8"));
  EXPECT_EQ(body(UserMsgHeader{1000}, IntStyle::V2), hex("81 aa557365724d73674c656e d103e8"));
  EXPECT_EQ(body(UserMsgHeader{127}, IntStyle::V2), hex("81 aa557365724d73674c656e 7f"));
  EXPECT_EQ(body(UserMsgHeader{5000000000}, IntStyle::V2), hex("81 aa557365724d73674c656e d3000000012a05f200"));
  EXPECT_EQ(body(UserMsgHeader{-1}, IntStyle::V2), hex("81 aa557365724d73674c656e ff"));
  EXPECT_EQ(body(UserMsgHeader{-100}, IntStyle::Legacy), hex("81 aa557365724d73674c656e d09c"));
  // Both decode to the same value.
  for (auto s : {IntStyle::Legacy, IntStyle::V2}) {
    Bytes b = body(h, s);
    PushPullHeader back;
    size_t off = 0;
    ASSERT_TRUE(decode_body(b, &off, back, Limits{}).ok());
    EXPECT_EQ(back, h);
    EXPECT_EQ(off, b.size());
  }
}

TEST(Codec, StringsUseTheRawFamilyAtEveryLength) {
  for (size_t n : {0u, 31u, 32u, 255u, 256u, 65535u, 65536u, 70000u}) {
    ErrResp e{std::string(n, 'x')};
    Bytes b = body(e, IntStyle::Legacy);
    const size_t hdr = 1 + 6;  // fixmap + "Error" key
    if (n < 32) {
      EXPECT_EQ(b[hdr], 0xa0 | n);
    } else if (n < 65536) {
      EXPECT_EQ(b[hdr], 0xda) << n;  // never d9 (str8)
    } else {
      EXPECT_EQ(b[hdr], 0xdb) << n;
    }
    auto back = decode_hex<ErrResp>(to_hex(b));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->error.size(), n);
  }
}

TEST(Codec, NilAndEmptyBytesStayDistinct) {
  EXPECT_EQ(body(AckResp{1, std::nullopt}, IntStyle::Legacy), hex("82 a75061796c6f6164 c0 a55365714e6f 01"));
  EXPECT_EQ(body(AckResp{1, Bytes{}}, IntStyle::Legacy), hex("82 a75061796c6f6164 a0 a55365714e6f 01"));
  EXPECT_FALSE(decode_hex<AckResp>("82 a75061796c6f6164 c0 a55365714e6f 01")->payload.has_value());
  EXPECT_TRUE(decode_hex<AckResp>("82 a75061796c6f6164 a0 a55365714e6f 01")->payload.has_value());
}

TEST(Codec, OmitemptyOnlyOnSourceFields) {
  EXPECT_EQ(body(Ping{1, "", {}, 0, ""}, IntStyle::Legacy), hex("82 a44e6f6465 a0 a55365714e6f 01"));
  EXPECT_EQ(body(Suspect{0, "", ""}, IntStyle::Legacy),
            hex("83 a446726f6d a0 ab496e6361726e6174696f6e 00 a44e6f6465 a0"));
}

TEST(Codec, AcceptsAnyKeyOrderUnknownKeysAndKeyForms) {
  // Node, an unknown key holding a nested map/array, Incarnation with a str8 key and int32 value.
  auto a = decode_hex<Alive>("83 a44e6f6465 a16e a54578747261 81a161920102 d90b496e6361726e6174696f6e d200000005");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->node, "n");
  EXPECT_EQ(a->incarnation, 5u);
  EXPECT_FALSE(a->addr.has_value());
  // bin key (v2 accepts it), lowercase key (unknown -> ignored), non-string key (skipped).
  auto b = decode_hex<Alive>("83 c4044e6f6465 a16e a46e6f6465 a178 01 02");
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(b->node, "n");
}

TEST(Codec, AcceptsEveryStringAndBytesForm) {
  for (const char *node : {"a26e6e", "d9026e6e", "da00026e6e", "db000000026e6e", "c4026e6e", "c500026e6e", "c600000002"
                                                                                                       "6e6e"}) {
    auto s = decode_hex<Suspect>(std::string("81 a44e6f6465 ") + node);
    ASSERT_TRUE(s.ok()) << node << ": " << s.error().to_string();
    EXPECT_EQ(s->node, "nn");
  }
  // []byte as an array of small ints (WIRE.md §3.3), and as nil.
  auto a = decode_hex<Alive>("82 a441646472 94 0a 00 00 01 a356736e c0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a->addr, (Bytes{10, 0, 0, 1}));
  EXPECT_FALSE(a->vsn.has_value());
  EXPECT_FALSE(decode_hex<Alive>("81 a441646472 92 01 cd0100").ok());  // 256 does not fit a byte
}

TEST(Codec, IntegersInAnyFamilyWithRangeChecks) {
  for (const char *port : {"7f", "cc80", "cd1f0a", "ce00001f0a", "cf0000000000001f0a", "d01f", "d11f0a", "d200001f0a",
                           "d3000000000000001f0a"}) {
    EXPECT_TRUE((decode_hex<Alive>(std::string("81 a4506f7274 ") + port)).ok()) << port;
  }
  EXPECT_EQ(decode_hex<Alive>("81 a4506f7274 ce00010000").error().code, Errc::OutOfRange);  // Port 65536
  EXPECT_EQ(decode_hex<Alive>("81 a4506f7274 ff").error().code, Errc::OutOfRange);          // negative
  EXPECT_EQ(decode_hex<Alive>("81 a4506f7274 cb3ff0000000000000").error().code, Errc::Malformed);  // float
  EXPECT_EQ(decode_hex<Ping>("81 a55365714e6f cf0000000100000000").error().code, Errc::OutOfRange);
  auto h = decode_hex<PushPullHeader>("82 a54e6f646573 d0ff a44a6f696e 01");  // Nodes -1, bool as fixint
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->nodes, -1);
  EXPECT_TRUE(h->join);
  EXPECT_FALSE(decode_hex<PushPullHeader>("81 a44a6f696e 02").ok());
}

TEST(Codec, NilStructAndPositionalArrays) {
  EXPECT_EQ(*decode_hex<NackResp>("c0"), NackResp{});
  // alive as an array in Go declaration order: Incarnation Node Addr Port Meta Vsn.
  auto a = decode_hex<Alive>("96 01 a16e c4040a000001 cd1f0a c0 a6010502000000");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->incarnation, 1u);
  EXPECT_EQ(a->node, "n");
  EXPECT_EQ(a->port, 7946);
  EXPECT_EQ(*a->vsn, (Bytes{1, 5, 2, 0, 0, 0}));
  // v0.1.5's ping had two fields: a short array is fine.
  auto p = decode_hex<Ping>("92 07 a16e");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->seq_no, 7u);
  EXPECT_FALSE(decode_hex<Ping>("a3616263").ok());  // a string is not a struct
}

TEST(Codec, TrailingBytesAreLeftAlone) {
  Bytes b = hex("81 a55365714e6f 07 ffffff");
  NackResp n;
  size_t off = 0;
  ASSERT_TRUE(decode_body(b, &off, n, Limits{}).ok());
  EXPECT_EQ(off, 8u);
}

TEST(Codec, HostileSizesAreBoundedByTheInput) {
  // 6 bytes announcing 4 G array elements / map entries / string bytes: refused without allocating.
  for (const char *h : {"dd ffffffff 00", "df ffffffff 00", "db ffffffff 00", "c6 ffffffff 00", "dc ffff", "de ffff"}) {
    auto r = decode_hex<Alive>(h);
    ASSERT_FALSE(r.ok()) << h;
    EXPECT_EQ(r.error().code, Errc::Truncated) << h;
  }
  // Nesting deeper than the limit inside an unknown key.
  std::string deep = "81 a178 ";
  for (int i = 0; i < 100; ++i) deep += "91 ";
  deep += "00";
  EXPECT_EQ(decode_hex<Alive>(deep).error().code, Errc::LimitExceeded);
  // Metadata over max_meta.
  Alive big{1, "n", Bytes{1, 2, 3, 4}, 1, Bytes(513, 'm'), Bytes{1, 5, 2, 0, 0, 0}};
  Bytes b = body(big, IntStyle::Legacy);
  EXPECT_EQ(decode_hex<Alive>(to_hex(b)).error().code, Errc::LimitExceeded);
  big.meta = Bytes(512, 'm');
  EXPECT_TRUE(decode_hex<Alive>(to_hex(body(big, IntStyle::Legacy))).ok());
}

TEST(Codec, DecodeMessageDispatchesOnType) {
  auto m = decode_message(hex("0b81a55365714e6f07"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<NackResp>(*m).seq_no, 7u);
  auto u = decode_message(hex("08 010203"));
  EXPECT_EQ(std::get<UserMsg>(*u).msg, (Bytes{1, 2, 3}));
  EXPECT_EQ(decode_message({}).error().code, Errc::Truncated);
  for (uint8_t t : {6, 7, 9, 10, 12, 99, 244}) {
    EXPECT_EQ(decode_message(Bytes{t, 0x80}).error().code, Errc::BadType) << int(t);
  }
}

TEST(Codec, DumpIsCanonical) {
  EXPECT_EQ(dump(Message{ErrResp{std::string("a\"b\x01", 4)}}), "errResp{Error=x\"61226201\"}");
  EXPECT_EQ(dump(Message{AckResp{1, std::nullopt}}), "ackResp{Payload=0x SeqNo=1}");
  EXPECT_EQ(dump(StreamMessage{PushPull{false, {}, {}}}),
            "pushPullHeader{Join=false Nodes=0 UserStateLen=0} ; userState=0x");
}
