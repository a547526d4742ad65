#include "protocol/node.hpp"

namespace memberlist::protocol {

std::vector<std::pair<const char *, double>> metric_values(const Metrics &m) {
  auto d = [](auto v) { return static_cast<double>(v); };
  return {
      {"memberlist.udp.sent", d(m.udp_sent)},
      {"memberlist.udp.received", d(m.udp_received)},
      {"memberlist.udp.sent_bytes", d(m.udp_sent_bytes)},
      {"memberlist.udp.received_bytes", d(m.udp_received_bytes)},
      {"memberlist.tcp.sent", d(m.tcp_sent)},
      {"memberlist.tcp.received", d(m.tcp_received)},
      {"memberlist.tcp.sent_bytes", d(m.tcp_sent_bytes)},
      {"memberlist.tcp.received_bytes", d(m.tcp_received_bytes)},
      {"memberlist.tcp.accept", d(m.tcp_accept)},
      {"memberlist.tcp.connect", d(m.tcp_connect)},
      {"memberlist.msg.alive", d(m.msg_alive)},
      {"memberlist.msg.suspect", d(m.msg_suspect)},
      {"memberlist.msg.dead", d(m.msg_dead)},
      {"memberlist.probe", d(m.probe_count)},
      {"memberlist.degraded.probe", d(m.degraded_probe)},
      {"memberlist.degraded.timeout", d(m.degraded_timeout)},
      {"memberlist.probe.failed", d(m.probe_failed)},
      {"memberlist.gossip", d(m.gossip_count)},
      {"memberlist.pushPullNode", d(m.push_pull_count)},
      {"memberlist.push_pull.refused", d(m.push_pull_refused)},
      {"memberlist.packets.dropped", d(m.packets_dropped)},
      {"memberlist.handoff.dropped", d(m.handoff_dropped)},
      {"memberlist.udp.send_dropped", d(m.udp_send_dropped)},
      {"memberlist.stream.over_memory", d(m.streams_over_memory)},
      {"memberlist.refute", d(m.refutes)},
      {"memberlist.name_reuse.checks", d(m.name_checks)},
      {"memberlist.name_reuse.reclaimed", d(m.name_reclaimed)},
      {"memberlist.name_reuse.conflicts", d(m.name_conflicts)},
      {"memberlist.name_reuse.refused", d(m.name_checks_refused)},
      {"memberlist.name_reuse.pending", d(m.name_checks_pending)},
      {"memberlist.node.alive", d(m.node_alive)},
      {"memberlist.node.suspect", d(m.node_suspect)},
      {"memberlist.node.dead", d(m.node_dead)},
      {"memberlist.node.left", d(m.node_left)},
      {"memberlist.health.score", d(m.health_score)},
      {"memberlist.queue.broadcasts", d(m.queue_system)},
      {"memberlist.queue.user", d(m.queue_user)},
      {"memberlist.queue.broadcasts_by_reference", d(m.queue_system_by_reference)},
      {"memberlist.queue.stale_dropped", d(m.queue_stale_dropped)},
      {"memberlist.samples.dropped", d(m.samples_dropped)},
  };
}

}  // namespace memberlist::protocol
