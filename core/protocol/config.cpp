#include "protocol/config.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "wire/codec.hpp"
#include "wire/crypto.hpp"
#include "wire/framing.hpp"

namespace memberlist::protocol {

using wire::Errc;
using wire::make_error;

namespace {
// The mask for the byte that holds prefix bits [8·i, 8·i + 8) when `bits` of them remain.
uint8_t byte_mask(int bits) {
  if (bits >= 8) return 0xff;
  if (bits <= 0) return 0;
  return static_cast<uint8_t>((0xffu << (8 - bits)) & 0xffu);
}
}  // namespace

bool Cidr::contains(wire::ByteView addr) const {
  wire::Bytes a(addr.begin(), addr.end());
  // An IPv4-mapped IPv6 address matches an IPv4 network and vice versa.
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (ip.size() == 4 && a.size() == 16 && std::equal(a.begin(), a.begin() + 12, kMapped)) {
    a.erase(a.begin(), a.begin() + 12);
  }
  if (a.size() != ip.size()) return false;
  int bits = prefix;
  for (size_t i = 0; i < a.size() && bits > 0; ++i, bits -= 8) {
    if ((a[i] & byte_mask(bits)) != ip[i]) return false;
  }
  return true;
}

wire::Result<Cidr> parse_cidr(std::string_view s) {
  const auto slash = s.find('/');
  if (slash == std::string_view::npos) return make_error(Errc::Malformed, "CIDR '" + std::string(s) + "' has no /prefix");
  const std::string host(s.substr(0, slash));
  const std::string bits(s.substr(slash + 1));
  Cidr c;
  uint8_t buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    c.ip.assign(buf, buf + 4);
  } else if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    c.ip.assign(buf, buf + 16);
  } else {
    return make_error(Errc::Malformed, "CIDR '" + std::string(s) + "': bad address");
  }
  const int max = static_cast<int>(c.ip.size() * 8);
  if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(bits) > max) {
    return make_error(Errc::Malformed, "CIDR '" + std::string(s) + "': prefix must be 0.." + std::to_string(max));
  }
  c.prefix = std::stoi(bits);
  int left = c.prefix;
  for (auto &b : c.ip) {
    b &= byte_mask(left);
    left -= 8;
  }
  return c;
}

Config Config::lan() { return Config{}; }

size_t Config::alive_size(size_t meta_len) const {
  const uint8_t vsn[6] = {kProtocolVersionMin, kProtocolVersionMax, protocol_version,
                          delegate_protocol_min, delegate_protocol_max, delegate_protocol_version};
  wire::Alive a{0xffffffffu, name, wire::Bytes(16, 0xff), 0xffff, wire::Bytes(meta_len, 0xff),
                wire::Bytes(vsn, vsn + 6)};
  return wire::encode(a).size();
}

size_t Config::packet_budget(bool encrypted) const {
  size_t overhead = wire::kCompoundHeaderOverhead + wire::label_overhead(label);
  if (encrypted && gossip_verify_outgoing) overhead += wire::kEncryptOverhead;
  const auto size = static_cast<size_t>(std::max(0, udp_buffer_size));
  return size > overhead ? size - overhead : 0;
}

size_t Config::user_packet_sure_fit() const {
  const size_t most = tcp_only ? limits.max_tcp_packet : kMaxDatagram;
  const size_t crc = 5;  // wire::add_crc: the type byte and a CRC-32
  const size_t overhead = 1 + crc + wire::kEncryptOverhead + wire::label_overhead(label);
  return most > overhead ? most - overhead : 0;
}

wire::Status check_target_name(bool names_required, std::string_view name) {
  if (names_required && name.empty()) {
    return wire::make_error(wire::Errc::InvalidArgument,
                            "memberlist: node names are required by configuration but one was not provided");
  }
  return wire::Ok{};
}

size_t Config::packet_room() const {
  const size_t budget = packet_budget(!secret_key.empty());
  return budget > wire::kCompoundOverhead ? budget - wire::kCompoundOverhead : 0;
}

size_t Config::meta_max_size_fitting() const {
  const size_t room = packet_room();
  if (alive_size(0) > room) return 0;
  size_t lo = 0, hi = static_cast<size_t>(kMetaMaxSizeCeiling);  // lo fits; find the largest
  while (lo < hi) {
    const size_t mid = lo + (hi - lo + 1) / 2;
    if (alive_size(mid) <= room) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

Config Config::wan() {
  Config c;
  c.tcp_timeout = 30s;
  c.suspicion_mult = 6;
  c.push_pull_interval = 60s;
  c.probe_timeout = 3s;
  c.probe_interval = 5s;
  c.gossip_nodes = 4;
  c.gossip_interval = 500ms;
  c.gossip_to_the_dead_time = 60s;
  return c;
}

Config Config::local() {
  Config c;
  c.tcp_timeout = 1s;
  c.indirect_checks = 1;
  c.retransmit_mult = 2;
  c.suspicion_mult = 3;
  c.push_pull_interval = 15s;
  c.probe_timeout = 200ms;
  c.probe_interval = 1s;
  c.gossip_interval = 100ms;
  c.gossip_to_the_dead_time = 15s;
  return c;
}

wire::Status Config::validate() const {
  auto bad = [](const std::string &msg) { return wire::Status(make_error(Errc::OutOfRange, msg)); };
  if (name.empty()) return bad("name: a node name is required");
  if (protocol_version < kProtocolVersionMin || protocol_version > kProtocolVersionMax) {
    return bad("protocol_version: " + std::to_string(protocol_version) + " is outside the supported range [" +
               std::to_string(kProtocolVersionMin) + ", " + std::to_string(kProtocolVersionMax) + "]");
  }
  if (auto st = wire::validate_label(label); !st) return bad("label: " + st.error().message);
  if (!secret_key.empty()) {
    if (auto st = wire::validate_key(secret_key); !st) return bad("secret_key: " + st.error().message);
  }
  if (probe_interval <= 0s) return bad("probe_interval: must be positive");
  if (probe_timeout <= 0s) return bad("probe_timeout: must be positive");
  // probe_timeout > probe_interval is allowed, as memberlist allows it (its own tests set a
  // 100 ms interval under the LAN preset's 500 ms timeout). As there, the direct wait then ends
  // with the (awareness-scaled) interval and the indirect probes get no time.
  if (tcp_timeout <= 0s) return bad("tcp_timeout: must be positive");
  if (push_pull_interval < 0s) return bad("push_pull_interval: must be >= 0 (0 disables push/pull)");
  if (gossip_interval < 0s) return bad("gossip_interval: must be >= 0 (0 disables gossip)");
  if (gossip_to_the_dead_time < 0s) return bad("gossip_to_the_dead_time: must be >= 0");
  if (dead_node_reclaim_time < 0s) return bad("dead_node_reclaim_time: must be >= 0");
  if (queue_check_interval < 0s) return bad("queue_check_interval: must be >= 0");
  if (reconnect_interval < 0s) return bad("reconnect_interval: must be >= 0 (0 disables reconnecting)");
  if (reconnect_timeout < 0s) return bad("reconnect_timeout: must be >= 0");
  if (indirect_checks < 0) return bad("indirect_checks: must be >= 0");
  if (retransmit_mult < 1) return bad("retransmit_mult: must be >= 1");
  if (suspicion_mult < 1) return bad("suspicion_mult: must be >= 1");
  if (suspicion_max_timeout_mult < 1) return bad("suspicion_max_timeout_mult: must be >= 1");
  if (awareness_max_multiplier < 1) return bad("awareness_max_multiplier: must be >= 1");
  if (gossip_nodes < 0) return bad("gossip_nodes: must be >= 0");
  if (push_pull_nodes < 0) return bad("push_pull_nodes: must be >= 0 (0 means 1)");
  if (handoff_queue_depth < 1) return bad("handoff_queue_depth: must be >= 1");
  if (max_concurrent_push_pulls < 1) return bad("max_concurrent_push_pulls: must be >= 1");
  // The smallest packet must hold a compound header and one small message; the largest must fit
  // a UDP datagram.
  if (tcp_only) {
    if (udp_buffer_size < 64 || static_cast<size_t>(udp_buffer_size) > limits.max_tcp_packet) {
      return bad("udp_buffer_size: must be in [64, max_tcp_packet (" + std::to_string(limits.max_tcp_packet) +
                 ")] with tcp_only");
    }
  } else if (udp_buffer_size < 64 || udp_buffer_size > 65507) {
    return bad("udp_buffer_size: must be in [64, 65507] (larger only with tcp_only)");
  }
  if (meta_max_size < 0 || meta_max_size > kMetaMaxSizeCeiling) {
    return bad("meta_max_size: must be in [0, " + std::to_string(kMetaMaxSizeCeiling) + "]");
  }
  // Beyond memberlist's 512, the alive message that carries our metadata must fit one packet,
  // or it could never be gossiped. (At 512 or less memberlist checks nothing, and neither do we.)
  if (static_cast<size_t>(meta_max_size) > kMetaMaxSize) {
    const size_t alive = alive_size(static_cast<size_t>(meta_max_size));
    if (alive > packet_room()) {
      return bad("meta_max_size: " + std::to_string(meta_max_size) + " bytes of metadata make an alive message of " +
                 std::to_string(alive) + " bytes, over the " + std::to_string(packet_room()) +
                 " one packet holds (udp_buffer_size " + std::to_string(udp_buffer_size) +
                 " less label, encryption and compound overhead); with this udp_buffer_size, name, label and key "
                 "meta_max_size can be at most " +
                 std::to_string(meta_max_size_fitting()) + ", or raise udp_buffer_size (at most 65507)");
    }
  }
  if (delegate_protocol_min > delegate_protocol_max && delegate_protocol_max != 0) {
    return bad("delegate_protocol_min must not exceed delegate_protocol_max");
  }
  if (delegate_protocol_version < delegate_protocol_min ||
      (delegate_protocol_max != 0 && delegate_protocol_version > delegate_protocol_max)) {
    return bad("delegate_protocol_version must lie within [delegate_protocol_min, delegate_protocol_max]");
  }
  for (const auto &c : cidrs_allowed) {
    if (auto r = parse_cidr(c); !r) return bad("cidrs_allowed: " + r.error().message);
  }
  return wire::Ok{};
}

}  // namespace memberlist::protocol
