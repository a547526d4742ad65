// Protocol configuration: memberlist's Config fields that concern the protocol (WIRE.md §6.11),
// the LAN/WAN/Local presets, and validation with clear messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/error.hpp"
#include "wire/framing.hpp"
#include "wire/limits.hpp"

namespace memberlist::protocol {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

inline constexpr uint8_t kProtocolVersionMin = 1;
inline constexpr uint8_t kProtocolVersion2Compatible = 2;
inline constexpr uint8_t kProtocolVersionMax = 5;
// The largest UDP payload over IPv4 (65535 less the IP and UDP headers).
inline constexpr size_t kMaxDatagram = 65507;

// memberlist's errNodeNamesAreRequired when names are required (Config::require_node_names)
// and the target's `name` is empty.
wire::Status check_target_name(bool names_required, std::string_view name);
// memberlist's MetaMaxSize: the default for Config::meta_max_size.
inline constexpr size_t kMetaMaxSize = 512;
// The most Config::meta_max_size may be set to: a compound part holds at most 65535 bytes, and
// an alive message must fit one UDP datagram (validate() checks the exact budget).
inline constexpr int kMetaMaxSizeCeiling = 65535;

// An IPv4 or IPv6 network for CIDRsAllowed.
struct Cidr {
  wire::Bytes ip;  // 4 or 16 bytes, masked
  int prefix = 0;
  bool contains(wire::ByteView addr) const;
};
wire::Result<Cidr> parse_cidr(std::string_view s);

struct Config {
  std::string name;
  std::string label;
  bool skip_inbound_label_check = false;

  std::string bind_addr = "0.0.0.0";
  uint16_t bind_port = 7946;
  std::string advertise_addr;
  uint16_t advertise_port = 7946;

  uint8_t protocol_version = kProtocolVersion2Compatible;
  Duration tcp_timeout = 10s;
  int indirect_checks = 3;
  int retransmit_mult = 4;
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;
  Duration push_pull_interval = 30s;  // 0 disables periodic push/pull
  int push_pull_nodes = 1;            // nodes push/pulled with per interval (0 = 1; grafana/memberlist's PushPullNodes)
  Duration probe_interval = 1s;
  Duration probe_timeout = 500ms;
  bool disable_tcp_pings = false;
  int awareness_max_multiplier = 8;
  Duration gossip_interval = 200ms;   // 0 disables gossip
  int gossip_nodes = 3;
  Duration gossip_to_the_dead_time = 30s;
  bool gossip_verify_incoming = true;
  bool gossip_verify_outgoing = true;
  bool enable_compression = true;
  // What enable_compression sends (grafana/memberlist's CompressionAlgorithm); LZW as memberlist.
  wire::Compression compression = wire::Compression::Lzw;
  wire::Bytes secret_key;              // 16, 24 or 32 bytes, or empty

  uint8_t delegate_protocol_version = 0;
  uint8_t delegate_protocol_min = 0;
  uint8_t delegate_protocol_max = 0;

  std::string dns_config_path = "/etc/resolv.conf";
  int handoff_queue_depth = 1024;
  int udp_buffer_size = 1400;
  Duration dead_node_reclaim_time = 0s;
  bool require_node_names = false;
  std::vector<std::string> cidrs_allowed;  // empty = allow all
  Duration queue_check_interval = 30s;

  // Beyond memberlist.
  // Lifeguard (awareness-scaled probes, dynamic suspicion timeouts, the buddy system). memberlist
  // always runs it; turning it off gives plain SWIM, for comparison.
  bool lifeguard = true;
  // Partition healing (beyond memberlist, like Serf's reconnect): nodes that failed (not left)
  // are remembered for reconnect_timeout, and every reconnect_interval the node push/pulls with
  // a random one, so two halves of a healed partition find each other again however long it
  // lasted. memberlist never contacts a node again once GossipToTheDeadTime has passed.
  // reconnect_interval 0 turns this off (memberlist's behaviour).
  Duration reconnect_interval = 30s;
  Duration reconnect_timeout = 24h;
  // TCP-only transport (docs/transport-tcp.md): no UDP socket; every packet travels on a TCP
  // connection of its own in Grafana dskit's TCPTransport framing, so these nodes can join a
  // Loki/Mimir/Tempo memberlist ring. Cannot be mixed with UDP nodes. A packet is then bounded by
  // limits.max_tcp_packet instead of the 65,507 bytes of a UDP datagram, and so is
  // udp_buffer_size (dskit sets it to 10 MiB).
  bool tcp_only = false;
  // Concurrent inbound push/pulls served (memberlist: 128).
  int max_concurrent_push_pulls = 128;
  // The most metadata this node's delegate may give (NodeMeta is asked with this limit and a
  // longer answer is refused). memberlist's MetaMaxSize (512) by default; larger values are for
  // clusters of libmemberlist nodes (docs/protocol.md "Metadata beyond 512 bytes"). At start
  // the receive bound limits.max_meta is raised to at least this, so our own nodes with the same
  // setting accept what we send. validate() refuses a value whose alive message could never fit
  // a packet (udp_buffer_size less label, encryption and compound overhead).
  int meta_max_size = static_cast<int>(kMetaMaxSize);
  // Name reuse with a new address (docs/protocol.md; memberlist #157). memberlist refuses an
  // alive for a known name from another address ("Conflicting address") unless the holder left,
  // or is dead and dead_node_reclaim_time has passed. With this on: a dead holder gives way at
  // once; a live or suspect holder is pinged at its old address first (the ping names it, as a
  // probe does), and gives way when no ack comes within probe_timeout; an ack is a real
  // conflict, reported as memberlist reports it. Off by default (memberlist's behaviour).
  bool reclaim_name_on_new_address = false;
  wire::Limits limits;

  static Config lan();
  static Config wan();
  static Config local();

  // Size of the alive message that announces this node with `meta_len` bytes of metadata,
  // at its largest (IPv6 address, highest incarnation).
  size_t alive_size(size_t meta_len) const;
  // The bytes of one UDP packet left for a compound's parts: udp_buffer_size less memberlist's
  // compound header accounting, the label header and, when `encrypted` (and outgoing
  // encryption is on), the encryption overhead. The node's packing budget.
  size_t packet_budget(bool encrypted) const;
  // What one UDP packet holds for one message, judged before start (encrypted when a key is
  // set): packet_budget less one part's compound accounting.
  size_t packet_room() const;
  // The largest meta_max_size whose alive message fits packet_room() (0 if none does).
  size_t meta_max_size_fitting() const;
  // The largest user message a best-effort send always fits in one packet, whatever the keyring
  // (now or later), compression and the receiver's CRC: the packet bound (kMaxDatagram, or
  // limits.max_tcp_packet with tcp_only) less the user type byte, a CRC, the largest encryption
  // overhead and the label header. Such a send can only fail by the node being shut down.
  size_t user_packet_sure_fit() const;

  // Rejects a configuration a node cannot run with; the message names the field. Checked: a
  // name is set; protocol_version in [kProtocolVersionMin, kProtocolVersionMax]; label at most
  // 255 bytes; secret_key empty or 16, 24 or 32 bytes; probe_interval, probe_timeout and
  // tcp_timeout > 0; push_pull_interval, gossip_interval, gossip_to_the_dead_time,
  // dead_node_reclaim_time, queue_check_interval, reconnect_interval and reconnect_timeout >= 0;
  // indirect_checks and gossip_nodes >= 0; retransmit_mult, suspicion_mult,
  // suspicion_max_timeout_mult, awareness_max_multiplier, handoff_queue_depth and
  // max_concurrent_push_pulls >= 1; udp_buffer_size in [64, 65507] (in tcp_only mode [64,
  // limits.max_tcp_packet]); meta_max_size in
  // [0, kMetaMaxSizeCeiling] and, above 512, small enough that its alive message fits
  // packet_room(); delegate_protocol_min <=
  // delegate_protocol_max (unless max is 0) and delegate_protocol_version within them; every
  // cidrs_allowed entry parses. Accepted on purpose: probe_timeout > probe_interval, as
  // memberlist accepts it (the direct wait then ends with the interval). Not checked: `limits`
  // (ml_config_set keeps each of them >= 1).
  wire::Status validate() const;
};

}  // namespace memberlist::protocol
