// Ceilings for everything read from the network (ARCHITECTURE.md "Bounds").
// Defaults follow hashicorp/memberlist v0.7.0's inbound limits where it has one.
#pragma once

#include <cstddef>

namespace memberlist::wire {

struct Limits {
  // Decompressed size of everything inside one UDP packet: one budget shared by all its compress
  // wrappers. A sender only compresses a payload that would otherwise have fit a datagram, so
  // anything far above 64 KiB is hostile.
  size_t max_packet_decompressed = 1u << 20;
  // Decompressed size of a TCP stream message (memberlist v0.7.0: 2 x 20 MiB).
  size_t max_stream_decompressed = 40u << 20;
  // Length of an encrypted stream frame (memberlist: maxPushStateBytes, 20 MiB).
  size_t max_encrypted_stream = 20u << 20;
  // Total bytes of one plaintext stream message we buffer (memberlist has no bound; ours fits
  // a full 20 MiB user state plus a large node list).
  size_t max_stream_bytes = 64u << 20;
  // Push/pull header bounds (memberlist v0.6.0+).
  size_t max_push_pull_nodes = 1u << 20;
  size_t max_user_state = 20u << 20;
  // TCP user message (memberlist v0.7.0).
  size_t max_user_msg = 20u << 20;
  // How deep compound/compress wrappers may nest inside one packet.
  size_t max_nesting = 8;
  // Compound parts in one packet, counted at every nesting level. memberlist's senders pack at
  // most one compound of up to 255 parts per datagram (makeCompoundMessage) and never put a
  // compound inside another, so 255 is the most any real datagram carries; nested compounds
  // (which memberlist would unpack without bound: 16 x 63 x 255 pings fit one compressed
  // 8 KiB datagram) stop at this budget and the rest of the packet is dropped.
  size_t max_packet_parts = 255;
  // Memory held at once by the streams one node is reading: wire bytes buffered while a message
  // arrives plus what its push/pull decodes to (node states, user state). Beyond it a stream is
  // refused (memberlist has no bound: 128 concurrent push/pulls of tiny node states could take
  // tens of GB). A 10,000-member push/pull with 512-byte metadata (6 MB on the wire) charges
  // about 13 MB against it.
  size_t max_stream_memory = 256u << 20;
  // Node metadata accepted from a peer (memberlist's MetaMaxSize, enforced by every Go node on
  // its own meta, so a larger value can only come from a misbehaving peer).
  size_t max_meta = 512;
  // Body of one packet received over a TCP-only transport (Config::tcp_only; docs/transport-tcp.md):
  // a connection that sends more is cut off. Grafana dskit (Loki, Mimir, Tempo) sets
  // UDPBufferSize to 10 MiB for its TCP transport, so its gossip packets reach 10 MiB; 16 MiB
  // takes those with room for a large best-effort user message, and stays far below
  // max_stream_memory, which every packet being read is charged against as well.
  size_t max_tcp_packet = 16u << 20;
  // Nesting of msgpack containers inside one message (only unknown keys nest at all).
  size_t max_msgpack_depth = 32;
};

}  // namespace memberlist::wire
