// fuzz_packet: the UDP receive path. Input = config byte (fuzz_common.hpp) [label] datagram.
//
// decode_packet must never crash, leak, hang or allocate without bound. Every message it
// returns is dumped, and must survive two round trips: encode_message -> decode_message in both
// int styles, and the whole send pipeline (compound, compress, CRC, encryption, label) with the
// same receiver configuration.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "wire/codec.hpp"
#include "wire/framing.hpp"
#include "wire/packet.hpp"

using namespace memberlist::wire;
using memberlist::fuzz::Config;

namespace {

void check_message_round_trip(const Message &m, const std::string &dumped) {
  for (IntStyle style : {IntStyle::Legacy, IntStyle::V2}) {
    const Bytes enc = encode_message(m, style);
    auto back = decode_message(enc, Limits{});
    FUZZ_CHECK(back.ok(), "re-encoded message does not decode: " + dumped + " -> " +
                              (back.ok() ? std::string() : back.error().to_string()));
    FUZZ_CHECK(*back == m, "re-encoded message decodes differently: " + dumped + " vs " + dump(*back));
  }
}

// Sends the messages again the way memberlist would and decodes them with the same receiver.
void check_packet_round_trip(const std::vector<Message> &msgs, const Config &cfg, size_t variant) {
  if (msgs.empty() || msgs.size() > 255) return;
  std::vector<Bytes> parts;
  size_t total = 0;
  for (const auto &m : msgs) {
    parts.push_back(encode_message(m, variant & 4 ? IntStyle::V2 : IntStyle::Legacy));
    if (parts.back().size() > 0xffff) return;  // cannot be a compound part
    total += parts.back().size() + 2;
  }
  const Limits defaults;
  if (total + 2 > defaults.max_packet_decompressed) return;
  Bytes payload;
  if (parts.size() == 1) {
    payload = parts.front();
  } else {
    auto c = make_compound(std::span<const Bytes>(parts));
    FUZZ_CHECK(c.ok(), "make_compound failed");
    payload = std::move(c.value());
  }
  PacketOut out;
  out.label = cfg.label;
  out.compress = variant & 1;
  out.crc = variant & 2;
  out.keyring = cfg.keyring;
  out.encryption_version = variant & 8 ? 0 : 1;
  out.nonce = memberlist::fuzz::fixed_nonce();
  auto pkt = encode_packet(payload, out);
  FUZZ_CHECK(pkt.ok(), "encode_packet failed: " + (pkt.ok() ? std::string() : pkt.error().to_string()));

  PacketIn in;
  in.label = cfg.label;
  in.keyring = cfg.keyring;
  in.verify_incoming = true;
  auto back = decode_packet(*pkt, in);
  FUZZ_CHECK(back.ok(), "round trip: decode_packet failed: " + (back.ok() ? std::string() : back.error().to_string()));
  FUZZ_CHECK(back->errors.empty(), "round trip: " + back->errors.front().to_string());
  FUZZ_CHECK(back->messages == msgs, "round trip: messages differ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  ByteView in(data + 1, size - 1);
  Config cfg;
  if (!memberlist::fuzz::parse_config(data[0], in, cfg)) return 0;

  PacketIn opts;
  opts.label = cfg.label;
  opts.skip_inbound_label_check = cfg.skip_inbound_label_check;
  opts.keyring = cfg.keyring;
  opts.verify_incoming = cfg.verify_incoming;
  opts.limits = cfg.limits;

  auto r = decode_packet(in, opts);
  if (!r) {
    FUZZ_CHECK(!r.error().to_string().empty(), "empty error text");
    return 0;
  }
  for (const auto &e : r->errors) FUZZ_CHECK(!e.to_string().empty(), "empty error text");
  for (const auto &m : r->messages) {
    const std::string d = dump(m);
    FUZZ_CHECK(!d.empty() && d.back() == '}', "odd dump: " + d);
    check_message_round_trip(m, d);
  }
  check_packet_round_trip(r->messages, cfg, size);
  return 0;
}
