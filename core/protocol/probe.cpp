// Probing: one member per probe interval, indirect and TCP fallbacks, Lifeguard's final checks
// (memberlist's probeNode and probeNodeByAddr).
#include "protocol/node_impl.hpp"

namespace memberlist::protocol {

Duration Node::Impl::scaled_probe_interval() const {
  return cfg.lifeguard ? awareness.scale_timeout(cfg.probe_interval) : cfg.probe_interval;
}

void Node::Impl::start_probe(Time now) {
  // A suspect whose suspicion ran out is probed out of turn (suspicion_expired).
  while (!final_checks.empty()) {
    state::Member *fc = members.find(final_checks.front().name);
    if (fc && fc->state == NodeState::Suspect) {
      start_probe_of(now, *fc);
      return;
    }
    final_checks.erase(final_checks.begin());
  }
  auto step = members.next_probe(now, cfg.gossip_to_the_dead_time, rng);
  for (const auto &gone : step.reaped) {
    suspicions.erase(gone.name_str());
    if (gone.state == NodeState::Dead && cfg.reconnect_interval > 0s) {
      if (failed.size() == kMaxFailed) failed.pop_front();
      failed.push_back(Failed{endpoint_of(gone), gone.state_change});
    }
  }
  if (step.target) start_probe_of(now, *step.target);
}

void Node::Impl::start_probe_of(Time now, const state::Member &t) {
  const state::Member *target = &t;
  ++m.probe_count;
  const Duration interval = scaled_probe_interval();
  if (interval > cfg.probe_interval) ++m.degraded_probe;
  Probe p;
  p.seq = ++sequence;
  p.target = target->name_str();
  p.sent = now;
  // memberlist's ack handler expires after the (scaled) interval, which ends the direct wait
  // early when probe_timeout is longer.
  p.direct_deadline = now + std::min(cfg.probe_timeout, interval);
  p.end = now + interval;
  const Endpoint to = endpoint_of(*target);
  p.to = to;
  const Bytes ping = wire::encode(make_ping(p.seq, target->name_str()));
  // A failed send is logged and the probe runs its course, as if the datagram were lost.
  if (target->state == NodeState::Alive || !cfg.lifeguard) {
    if (auto st = send_msg(to, ping); !st) {
      log(LogLevel::Error, [&] { return "Failed to send UDP ping: " + st.error().message; });
    }
  } else {  // buddy system: tell the suspect it is suspected so it can refute at once
    const wire::Suspect s{target->incarnation, target->name_str(), cfg.name};
    const std::vector<Bytes> parts{ping, wire::encode(s)};
    if (auto st = send_raw(to, *wire::make_compound(parts)); !st) {
      log(LogLevel::Error, [&] {
        return "Failed to send UDP compound ping and suspect message to " + to_string(to) + ": " +
               st.error().message;
      });
    }
  }
  probe = std::move(p);
}

void Node::Impl::probe_indirect(Time now) {
  Probe &p = *probe;
  p.indirect_sent = true;
  log(LogLevel::Debug, [&] { return "Failed UDP ping: " + p.target + " (timeout reached)"; });
  const state::Member *target = members.find(p.target);
  if (!target) return;
  const std::string target_name = target->name_str();
  const auto relays_picked = members.k_random_members(
      static_cast<size_t>(cfg.indirect_checks), rng, [&](const state::Member &r) {
        return r.name() == cfg.name || r.name() == target_name || r.state != NodeState::Alive;
      });
  wire::OptBytes target_addr;
  if (target->has_addr()) target_addr = bytes(target->addr());
  wire::IndirectPingReq ind{p.seq, std::move(target_addr), target->port, target->name_str(), false, self.ip, self.port, cfg.name};
  for (const state::Member *relay : relays_picked) {
    ind.nack = relay->vsn[1] >= 4;
    p.expected_nacks += ind.nack;
    if (auto st = send_msg(endpoint_of(*relay), wire::encode(ind)); !st) {
      log(LogLevel::Error, [&] { return "Failed to send indirect UDP ping: " + st.error().message; });
    }
  }
  const bool no_tcp = cfg.disable_tcp_pings || (dg.tcp_pings && dg.tcp_pings->disable_tcp_pings_for(target_name));
  target = members.find(target_name);  // the policy is user code: look the target up again
  if (!no_tcp && target && target->vsn[1] >= 3) {
    const Bytes ping = wire::encode(make_ping(p.seq, target->name_str()));
    p.tcp = open_stream(now, endpoint_of(*target), ping, true, p.end - now,
                        OutStream{StreamKind::TcpPing, 0, p.seq, endpoint_of(*target)});
  }
}

void Node::Impl::probe_succeeded(Time now, const wire::AckResp *ack, bool direct) {
  Probe p = std::move(*probe);
  probe.reset();
  sample("memberlist.probeNode", to_ms(now - p.sent));
  if (cfg.lifeguard) awareness.apply_delta(-1);
  if (!ack) {  // only the TCP fallback got through
    log(LogLevel::Warn, [&] {
      return "Was able to connect to " + p.target + " over TCP but UDP probes failed, network may be misconfigured";
    });
  }
  if (is_final_check(p.target)) final_check_answered(now, p.target);
  if (direct && ack && dg.ping) {
    if (const auto *r = members.find(p.target)) {
      dg.ping->notify_ping_complete(to_member(*r), now - p.sent, ack->payload.value_or(Bytes{}));
    }
  }
}

void Node::Impl::probe_failed(Time now) {
  Probe p = std::move(*probe);
  probe.reset();
  sample("memberlist.probeNode", to_ms(now - p.sent));
  ++m.probe_failed;
  if (cfg.lifeguard) {
    int delta = 1;
    if (p.expected_nacks > 0) delta = std::max(0, p.expected_nacks - p.nacks);
    awareness.apply_delta(delta);
  }
  if (is_final_check(p.target)) {
    final_check_failed(now, p.target);
    return;
  }
  const state::Member *r = members.find(p.target);
  if (!r) return;
  // Name reuse: the target moved to a new address while we probed its old one. The failure
  // says nothing about the new address (our own check already found the old one gone).
  if (cfg.reclaim_name_on_new_address && endpoint_of(*r) != p.to) return;
  log(LogLevel::Info, [&] { return "Suspect " + r->name_str() + " has failed, no acks received"; });
  suspect_node(now, wire::Suspect{r->incarnation, r->name_str(), cfg.name});
}

}  // namespace memberlist::protocol
