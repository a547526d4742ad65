// fuzz_node: a live protocol::Node fed hostile datagrams and streams, with bounds on what it
// does in return. The node is driven directly (this file is its driver, as core/sim is for
// simulations): no sockets, a virtual clock, effects drained after every input.
//
// Input: one config byte, then records until the input ends:
//   op (1 byte), length (2 bytes, little endian), payload (length bytes; cut short at the end)
//   op & 7: 0, 1, 6, 7  a datagram from peer (op >> 3) & 3  -> handle_packet
//           2           a stream from peer (op >> 3) & 3, decoded with the node's own stream
//                       options                              -> handle_stream / handle_stream_error
//           3           time passes: (op >> 3) * 50 ms, then tick (no payload)
//           4           the reply to the oldest stream the node opened (decoded as a reply;
//                       an empty payload = the dial failed)  -> stream_result
//           5           API: join(peer (op >> 3) & 3)       (no payload)
// Config byte: bit 0 require_node_names, bit 1 enable_compression off, bit 2 small limits
// (fuzz_common.hpp's, so the limit paths are reached), bit 3 protocol_version 5 (CRC on).
//
// Bounds checked after every input (the work an attacker gets per byte it sends):
//   - datagrams the node sends in reaction to inputs (handle_packet, handle_stream,
//     stream_result): at most kMaxPacketsPerInputByte per payload byte, plus a constant;
//   - bytes it sends in reaction to inputs (datagrams and stream replies): at most
//     kMaxBytesOutPerInputByte per payload byte, plus a constant;
//   - member table entries (alive + suspect + dead + left): at most 1 + kMaxMembersPerInputByte
//     per payload byte; the broadcast queue at most kMaxQueuedPerMember per entry, plus a constant.
// Effects of ticks (probes, gossip, push/pull) are drained but not charged to the input.
// Every datagram the node sends must decode with its own receive options (a peer configured
// the same way could read it).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "protocol/config.hpp"
#include "protocol/node.hpp"
#include "wire/packet.hpp"
#include "wire/stream.hpp"

using namespace memberlist;
using protocol::Endpoint;

namespace {

// Today's core answers every ping in a datagram, however many a compound (or a compress of
// nested compounds) carries: with the fuzz decompression ceiling (64 KiB per datagram) an
// ~1 KiB datagram of empty pings decompresses to ~16 Ki pings, which is ~16 acks per byte
// received. 64 leaves room for that and for piggybacked gossip. A per-datagram message
// budget in the core (issue 12, being added) will bound this by a constant per datagram;
// then tighten kMaxPacketsPerInputByte to well below 1 and rely on kPacketSlack.
constexpr uint64_t kMaxPacketsPerInputByte = 64;
constexpr uint64_t kPacketSlack = 64;
// An ack to an empty ping is ~20 bytes, a push/pull reply carries every member (each learned
// from at least a few input bytes), so 64 acks of ~24 bytes per byte, rounded up.
constexpr uint64_t kMaxBytesOutPerInputByte = 2048;
constexpr uint64_t kBytesSlack = 64 << 10;
// A new member needs a distinct name. Raw, a minimal alive costs ~20 bytes; LZW can shrink a
// run of similar alives several times over. 8 per byte is far above anything seen.
constexpr uint64_t kMaxMembersPerInputByte = 8;
constexpr uint64_t kMaxQueuedPerMember = 4;
constexpr uint64_t kQueueSlack = 64;
constexpr size_t kMaxRecords = 256;
constexpr size_t kMaxCheckedPackets = 64;  // sent datagrams decoded per input (time bound)

Endpoint peer(unsigned i) {
  return Endpoint{wire::Bytes{10, 0, 0, static_cast<uint8_t>(2 + (i & 3))}, 7946, "peer-" + std::to_string(i & 3)};
}

struct Driver {
  protocol::Node node;
  protocol::Time now;
  wire::PacketIn packet_in;
  std::deque<protocol::StreamId> opened;  // streams the node asked for, oldest first
  protocol::StreamId next_inbound = 1;
  uint64_t charged_packets = 0, charged_bytes = 0, checked = 0;

  Driver(protocol::Config cfg, protocol::Time t)
      : node(std::move(cfg), Endpoint{wire::Bytes{10, 0, 0, 1}, 7946, "target"}, {}, 42, t), now(t) {}

  wire::StreamIn stream_in(bool reply) { return node.stream_in(!reply); }

  // Drains effects; `charge` says whether they count against the input.
  void drain(bool charge) {
    for (auto &e : node.take_effects()) {
      if (auto *p = std::get_if<protocol::SendPacket>(&e)) {
        if (charge) {
          ++charged_packets;
          charged_bytes += p->data.size();
        }
        if (checked < kMaxCheckedPackets) {
          ++checked;
          auto r = wire::decode_packet(p->data, packet_in);
          FUZZ_CHECK(r.ok(), "the node sent a datagram it cannot decode itself: " +
                                 (r.ok() ? std::string() : r.error().to_string()));
          FUZZ_CHECK(r->errors.empty(), "the node sent a datagram with a bad part: " + r->errors.front().to_string());
        }
      } else if (auto *o = std::get_if<protocol::OpenStream>(&e)) {
        opened.push_back(o->id);
      } else if (auto *r = std::get_if<protocol::ReplyStream>(&e)) {
        if (charge) charged_bytes += r->data.size();
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t cfg_byte = data[0];
  protocol::Config cfg = protocol::Config::local();
  cfg.name = "target";
  cfg.bind_addr = "10.0.0.1";
  cfg.bind_port = cfg.advertise_port = 7946;
  cfg.require_node_names = cfg_byte & 1;
  cfg.enable_compression = !(cfg_byte & 2);
  cfg.limits = (cfg_byte & 4) ? fuzz::fuzz_small_limits() : fuzz::fuzz_default_limits();
  if (cfg_byte & 8) cfg.protocol_version = 5;
  cfg.reconnect_interval = protocol::Duration::zero();

  const protocol::Time t0 = protocol::Time{} + std::chrono::hours(1);
  Driver d(cfg, t0);
  // The check of what the node sends uses the production limits: its own datagrams are small,
  // but the small fuzz limits (nesting 2, 512 bytes decompressed) are not meant for them.
  FUZZ_CHECK(d.node.start(t0).ok(), "node did not start");
  d.drain(false);

  size_t pos = 1, input_bytes = 0;
  for (size_t rec = 0; rec < kMaxRecords && pos < size; ++rec) {
    const uint8_t op = data[pos++];
    size_t len = 0;
    if (pos + 2 <= size) {
      len = data[pos] | (static_cast<size_t>(data[pos + 1]) << 8);
      pos += 2;
    } else {
      pos = size;
    }
    if (len > size - pos) len = size - pos;
    const wire::ByteView payload(data + pos, len);
    const Endpoint from = peer(op >> 3);
    d.now += std::chrono::milliseconds(1);
    switch (op & 7) {
      case 3:  // time passes; ticks are not charged
        d.now += std::chrono::milliseconds(50) * (op >> 3);
        if (d.node.next_deadline() <= d.now) d.node.tick(d.now);
        d.drain(false);
        continue;
      case 5:  // API call; not charged
        d.node.join(d.now, {from});
        d.drain(false);
        continue;
      default: break;
    }
    pos += len;
    input_bytes += len;
    switch (op & 7) {
      case 2: {
        auto m = wire::StreamDecoder::decode(payload, d.stream_in(false));
        const protocol::StreamId id = d.next_inbound++;
        if (m) {
          d.node.handle_stream(d.now, id, from, std::move(m.value()));
        } else {
          d.node.handle_stream_error(d.now, id, from, m.error());
        }
        break;
      }
      case 4: {
        if (d.opened.empty()) break;
        const protocol::StreamId id = d.opened.front();
        d.opened.pop_front();
        if (payload.empty()) {
          d.node.stream_result(d.now, id, wire::make_error(wire::Errc::Truncated, "dial failed"));
          break;
        }
        auto m = wire::StreamDecoder::decode(payload, d.stream_in(true));
        if (m) {
          d.node.stream_result(d.now, id, std::optional<wire::StreamMessage>(std::move(m.value())));
        } else {
          d.node.stream_result(d.now, id, m.error());
        }
        break;
      }
      default: d.node.handle_packet(d.now, from, payload); break;
    }
    d.drain(true);

    const auto mt = d.node.metrics();
    const uint64_t entries = mt.node_alive + mt.node_suspect + mt.node_dead + mt.node_left;
    FUZZ_CHECK(d.charged_packets <= kMaxPacketsPerInputByte * uint64_t{input_bytes} + kPacketSlack,
               std::to_string(d.charged_packets) + " datagrams sent for " + std::to_string(input_bytes) + " input bytes");
    FUZZ_CHECK(d.charged_bytes <= kMaxBytesOutPerInputByte * uint64_t{input_bytes} + kBytesSlack,
               std::to_string(d.charged_bytes) + " bytes sent for " + std::to_string(input_bytes) + " input bytes");
    FUZZ_CHECK(entries <= 1 + kMaxMembersPerInputByte * uint64_t{input_bytes},
               std::to_string(entries) + " member entries from " + std::to_string(input_bytes) + " input bytes");
    FUZZ_CHECK(mt.queue_system + mt.queue_user <= kMaxQueuedPerMember * entries + kQueueSlack,
               std::to_string(mt.queue_system) + " queued broadcasts for " + std::to_string(entries) + " members");
    FUZZ_CHECK(static_cast<uint64_t>(d.node.num_members()) <= entries, "members() larger than the table");
  }
  // The node's own view stays sane: it is alive and listed.
  FUZZ_CHECK(d.node.member("target").has_value(), "the node forgot itself");
  d.node.shutdown(d.now);
  d.drain(false);
  if (const char *s = std::getenv("FUZZ_NODE_STATS")) {
    (void)s;
    const auto mt = d.node.metrics();
    std::fprintf(stderr, "fuzz_node: %zu input bytes -> %llu datagrams, %llu bytes; %llu members; queue %llu\n",
                 input_bytes, static_cast<unsigned long long>(d.charged_packets),
                 static_cast<unsigned long long>(d.charged_bytes),
                 static_cast<unsigned long long>(mt.node_alive + mt.node_suspect + mt.node_dead + mt.node_left),
                 static_cast<unsigned long long>(mt.queue_system));
  }
  return 0;
}
