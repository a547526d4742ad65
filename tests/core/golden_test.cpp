// WIRE.md §5.9: decoding every golden vector (tests/vectors/golden.tsv) and reproducing the
// bytes with our encoder, including the framing layers with the fixed nonce a0..ab.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "vectors.hpp"
#include "wire/codec.hpp"
#include "wire/framing.hpp"
#include "wire/packet.hpp"
#include "wire/stream.hpp"

using namespace memberlist::wire;
using memberlist::test::hex;

namespace {

const Bytes kAddr{10, 0, 0, 1};
const Bytes kVsn{1, 5, 2, 0, 0, 0};
const Ping kPing{7, "node-b", kAddr, 7946, "node-a"};
const Suspect kSuspect{3, "node-b", "node-a"};
const std::string kPingHex =
    "0085a44e6f6465a66e6f64652d62a55365714e6f07aa536f7572636541646472a40a000001aa536f757263654e6f6465a66e6f64652d61"
    "aa536f75726365506f7274cd1f0a";
const std::string kSuspectHex = "0383a446726f6da66e6f64652d61ab496e6361726e6174696f6e03a44e6f6465a66e6f64652d62";

Nonce golden_nonce() {
  Nonce n{};
  for (size_t i = 0; i < n.size(); ++i) n[i] = static_cast<uint8_t>(0xa0 + i);
  return n;
}

Keyring golden_ring() {
  Keyring k;
  EXPECT_TRUE(k.add_key(hex("000102030405060708090a0b0c0d0e0f")).ok());
  return k;
}

}  // namespace

TEST(Golden, EveryVectorInGoldenTsvDecodesAndReencodes) {
  auto vs = memberlist::tools::read_vectors(memberlist::test::tests_path("vectors/golden.tsv"));
  ASSERT_TRUE(vs.ok()) << vs.error().to_string();
  ASSERT_GE(vs->size(), 25u);
  for (const auto &v : *vs) EXPECT_EQ(memberlist::tools::check_vector(v), "") << v.name;
}

TEST(Golden, Messages) {
  EXPECT_EQ(encode(kPing), hex(kPingHex));
  EXPECT_EQ(encode(kSuspect), hex(kSuspectHex));
  EXPECT_EQ(encode(Ping{7, "node-b", {}, 0, ""}), hex("0082a44e6f6465a66e6f64652d62a55365714e6f07"));
  EXPECT_EQ(encode(Alive{1, "node-a", kAddr, 7946, to_bytes("meta"), kVsn}),
            hex("04 86 a441646472 a40a000001 ab496e6361726e6174696f6e 01 a44d657461 a46d657461"
                "a44e6f6465 a66e6f64652d61 a4506f7274 cd1f0a a356736e a6010502000000"));
  EXPECT_EQ(encode(AckResp{7, std::nullopt}), hex("0282a75061796c6f6164c0a55365714e6f07"));
  EXPECT_EQ(encode(NackResp{7}), hex("0b81a55365714e6f07"));
  EXPECT_EQ(encode(ErrResp{"x"}), hex("0d81a54572726f72a178"));
}

TEST(Golden, CompoundAndCompress) {
  const std::vector<Bytes> parts{encode(kPing), encode(kSuspect)};
  auto compound = make_compound(parts);
  ASSERT_TRUE(compound.ok());
  EXPECT_EQ(*compound, hex("07020045 0027" + kPingHex + kSuspectHex));
  EXPECT_EQ(compress_payload(*compound),
            hex("0982a4416c676f00a3427566da0067000f08005004c009008548397943a68c29370ccbb410536a4a99380b0fa89af2a68e9c"
                "3165829021238794020000026cecf8b1ccc2860f23b608b3d22348286fe4d069f641c18041a48cc879d32666c399ab92b8"
                "1913468e9b3074d2bc7133406144a312c50404"));
  EXPECT_EQ(compress_payload({}), hex("0982a4416c676f00a3427566a3000302"));
  EXPECT_EQ(compress_payload(Bytes(20, 'a')), hex("0982a4416c676f00a3427566a900c3081c48b060c180"));
}

TEST(Golden, EncryptPayload) {
  const Bytes key = hex("000102030405060708090a0b0c0d0e0f");
  auto v1 = encrypt_payload(1, key, golden_nonce(), encode(kPing), {});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*v1, hex("01 a0a1a2a3a4a5a6a7a8a9aaab aa039cf511ed56ace417d1656b701533369f6d6784bd6ec0506212fe03e9ebda3ea9"
                     "45310e40bf020aac81a1e1b46db51a3a232d56acf747d159fbb88600541283457ecd61 "
                     "f5e608c1b3548863d08c0dbef2369d44"));
  auto v0 = encrypt_payload(0, key, golden_nonce(), encode(kPing), {});
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(*v0, hex("00a0a1a2a3a4a5a6a7a8a9aaabaa039cf511ed56ace417d1656b701533369f6d6784bd6ec0506212fe03e9ebda3ea9"
                     "45310e40bf020aac81a1e1b46db51a3a232d56acf747d159fbb88600541283457ecd617d9ac9db1884b952224e8ba4d6"
                     "e887b9557ec385bafdb7f8b46a2a"));
  auto lbl = encrypt_payload(1, key, golden_nonce(), encode(kPing), view("lbl"));
  ASSERT_TRUE(lbl.ok());
  EXPECT_EQ(*lbl, hex("01a0a1a2a3a4a5a6a7a8a9aaabaa039cf511ed56ace417d1656b701533369f6d6784bd6ec0506212fe03e9ebda3ea"
                      "945310e40bf020aac81a1e1b46db51a3a232d56acf747d159fbb88600541283457ecd61ea50ec3f2010d728fd0bd2"
                      "56f3f6d35d"));
  EXPECT_EQ(v1->size(), encrypted_length(1, 69));
  EXPECT_EQ(v0->size(), encrypted_length(0, 69));
}

TEST(Golden, UdpPipeline) {
  const Bytes ping = encode(kPing);
  PacketOut crc;
  crc.crc = true;
  EXPECT_EQ(*encode_packet(ping, crc), hex("0c7553ccdb" + kPingHex));
  EXPECT_EQ(*encode_packet(ping, PacketOut{}), ping);
  PacketOut label;
  label.label = "lbl";
  EXPECT_EQ(*encode_packet(ping, label), hex("f4036c626c" + kPingHex));

  Keyring ring = golden_ring();
  PacketOut enc;
  enc.crc = true;
  enc.keyring = &ring;
  enc.nonce = golden_nonce();
  EXPECT_EQ(*encode_packet(ping, enc),
            hex("01a0a1a2a3a4a5a6a7a8a9aaaba6f36b77a589b6aec417d165e07cdf0436c341add0724ce14a17dbc82df8fdcbffe22155"
                "7d4ee66d7fdf4897c0ae7bb3d91a232d5627f882e653a3ab4f366b088352d6820404e50fcf198f4f5dada5b3291727a877"
                "b074f481cf"));

  // compound(ping, suspect), compression on but not smaller, CRC, encrypted with AAD "lbl", label.
  const std::vector<Bytes> parts{ping, encode(kSuspect)};
  PacketOut full = enc;
  full.compress = true;
  full.label = "lbl";
  EXPECT_EQ(*encode_packet(*make_compound(parts), full),
            hex("f4036c626c 01a0a1a2a3a4a5a6a7a8a9aaab a63f69f7db8e310acf789200c3b6fe0f378b8566ec73588247b522fe33"
                "c3e0af30f02a447d89892c1bba9060a5db09d11607233c41e2f3a3ed52eb6c8b0a6018dc5019810403e3a1b543e0c02de4"
                "5a8a4f3afe680d8ee6077f744d5d8719a70968881f6e5f02aad56d0fb3d11b8effca97f63bee4d5c0f603ff70f4a3c3bf0"
                "d2757d0707092a1c"));
}

TEST(Golden, TcpStreams) {
  PushPull pp{true, {PushNodeState{"node-a", kAddr, 7946, to_bytes("meta"), 1, 0, kVsn}}, to_bytes("USER")};
  const Bytes plain = encode_push_pull(pp);
  EXPECT_EQ(plain, hex("06 83 a44a6f696e c3 a54e6f646573 01 ac5573657253746174654c656e 04"
                       "87 a441646472 a40a000001 ab496e6361726e6174696f6e 01 a44d657461 a46d657461 a44e616d65"
                       "a66e6f64652d61 a4506f7274 cd1f0a a5537461746500 a356736e a6010502000000 55534552"));
  pp.join = false;
  StreamOut comp;
  comp.compress = true;
  EXPECT_EQ(*encode_stream(encode_push_pull(pp), comp),
            hex("0982a4416c676f00a3427566da006f000d0c22a5e44d1a37c24a397943a6cc9c00acaacc2923670a9d3074ca3029e386c0"
                "215241c89091434a0100000156257133268c1c3718d3bc7113805493321749b5c119869493303b4db96158a6454f286fe4"
                "d069f64141298b18cb001865658e1b53010a083809a0ca9422520202"));

  const Bytes user = encode_user_stream(to_bytes("hello"));
  EXPECT_EQ(user, hex("08 81 aa557365724d73674c656e 05 68656c6c6f"));
  Keyring ring = golden_ring();
  StreamOut enc;
  enc.keyring = &ring;
  enc.nonce = golden_nonce();
  EXPECT_EQ(*encode_stream(user, enc), hex("0a 00000030 01a0a1a2a3a4a5a6a7a8a9aaab a20792ee0dec4147f91ff9652817d8053f824c"
                                           "f6ff9555b3bc5755cbb3f9a9c3a98048"));
  enc.label = "lbl";
  EXPECT_EQ(*encode_stream(user, enc),
            hex("f4036c626c 0a 00000030 01a0a1a2a3a4a5a6a7a8a9aaab a20792ee0dec4147f91ff9652817d8053f824c"
                "ac8a7c4c50fc3a576a81c06d1f1aa330"));
  // A reply carries no label header but still authenticates the label.
  enc.write_label_header = false;
  EXPECT_EQ(*encode_stream(user, enc), hex("0a 00000030 01a0a1a2a3a4a5a6a7a8a9aaab a20792ee0dec4147f91ff9652817d8053f824c"
                                           "ac8a7c4c50fc3a576a81c06d1f1aa330"));
}
