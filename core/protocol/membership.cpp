// Membership: alive, suspect, dead and refute (memberlist's state.go: aliveNode, suspectNode,
// deadNode, refute), with the suspicion timers of Lifeguard.
#include "protocol/node_impl.hpp"

namespace memberlist::protocol {

void Node::Impl::alive_node(Time now, wire::Alive a, bool bootstrap, std::function<void()> notify) {
  const bool about_self = a.node == cfg.name;
  // An alive about us still in flight while we leave would make us rejoin: drop it.
  if (leaving && about_self) return;
  // Fast path for the bulk of gossip: old news about a known other node, at the address we
  // hold, with a well-formed Vsn. The full path below would return at "Old news" having done
  // nothing observable (no delegate judges it, no line is logged); this returns before the
  // copies it makes. In a cluster that is joining, nearly every alive received is such an
  // echo (each node re-gossips every alive it learns), so this is most of the receive cost.
  if (!dg.alive && !about_self) {
    const state::Member *r = members.find(a.node);
    const auto same_bytes = [](ByteView held, const wire::OptSmallBytes &in) {
      const size_t n = held.size();
      return n == (in ? in->size() : 0) && (n == 0 || std::equal(held.begin(), held.end(), in->begin()));
    };
    const bool vsn_ok = a.vsn && a.vsn->size() >= 6 && (*a.vsn)[0] != 0 && (*a.vsn)[1] != 0 &&
                        (*a.vsn)[0] <= (*a.vsn)[1];
    if (r && vsn_ok && a.incarnation <= r->incarnation && r->port == a.port && same_bytes(r->addr(), a.addr) &&
        !(a.incarnation == kMaxIncarnation && r->incarnation == kMaxIncarnation &&
          (r->state == NodeState::Suspect || r->state == NodeState::Dead))) {
      return;
    }
  }
  const Bytes vsn_in = a.vsn.value_or(Bytes{});
  const Bytes addr = a.addr.value_or(Bytes{});
  const Bytes meta = a.meta.value_or(Bytes{});
  // A node advertising an impossible protocol range is broken or hostile: never store it.
  if (vsn_in.size() >= 3 && (vsn_in[0] == 0 || vsn_in[1] == 0 || vsn_in[0] > vsn_in[1])) {
    log(LogLevel::Warn, [&] {
      return "Ignoring an alive message for '" + a.node + "' (" + go_ip(addr) + ":" + std::to_string(a.port) +
             ") because protocol version(s) are wrong: " + std::to_string(vsn_in[0]) + " <= " +
             std::to_string(vsn_in[2]) + " <= " + std::to_string(vsn_in[1]) + " should be >0";
    });
    return;
  }
  // A Vsn shorter than 6 bytes is refused always, not only when an AliveDelegate judges (as
  // memberlist does): stored, it reads as protocol range 0..0, and every later push/pull
  // merge (and every join through us) fails verifyProtocol until the forged member is
  // reaped. Every memberlist version sends 6 bytes (BuildVsnArray).
  if (vsn_in.size() < 6) {
    log(LogLevel::Warn, [&] {
      return "ignoring alive message for '" + a.node + "' (" + go_ip(addr) + ":" + std::to_string(a.port) +
             ") because Vsn is not present";
    });
    return;
  }
  // The node as the alive describes it, for the delegates that judge it (alive, conflict).
  auto claimed = [&] {
    Member peer;
    peer.name = a.node;
    peer.addr = addr;
    peer.port = a.port;
    peer.meta = meta;
    std::copy_n(vsn_in.begin(), 6, peer.vsn.begin());
    return peer;
  };
  if (dg.alive) {
    const Member peer = claimed();
    if (auto veto = dg.alive->notify_alive(peer)) {
      log(LogLevel::Warn, [&] { return "ignoring alive message for '" + a.node + "': " + *veto; });
      return;
    }
  }
  state::Member *r = members.find(a.node);
  bool updates_node = false;
  if (!r) {
    // CIDRsAllowed: a new node must have an allowed address.
    if (!ip_allowed(addr)) {
      log(LogLevel::Warn, [&] {
        return "Rejected node " + a.node + " (" + go_ip(addr) + "): " + go_ip(addr) + " is not allowed";
      });
      return;
    }
    state::Member rec(a.node);
    rec.set_addr_opt(a.addr);
    rec.port = a.port;
    rec.set_meta_opt(a.meta);
    rec.state = NodeState::Dead;
    rec.incarnation = 0;
    rec.state_change = now;
    if (vsn_in.size() > 5) std::copy_n(vsn_in.begin(), 6, rec.vsn.begin());
    r = &members.insert(std::move(rec), rng).first;
  } else if (bytes(r->addr()) != addr || r->port != a.port) {
    // CIDRsAllowed: a known node may not move to an address outside them.
    if (!ip_allowed(addr)) {
      // memberlist's arguments are in this (odd) order; kept so the line reads the same.
      log(LogLevel::Warn, [&] {
        return "Rejected IP update from " + a.node + " to " + go_ip(bytes(r->addr())) + " for node " + go_ip(addr) +
               ": " + go_ip(addr) + " is not allowed";
      });
      return;
    }
    const bool can_reclaim = cfg.dead_node_reclaim_time > 0s && now - r->state_change > cfg.dead_node_reclaim_time;
    // Name reuse (off by default): a restarted node may take its name to a new address. Never
    // about ourselves: someone else claims our name, which stays a conflict.
    const bool reuse = cfg.reclaim_name_on_new_address && r->name() != cfg.name;
    if (reuse && stale_after_move(now, a, addr)) return;
    // A left node, or one dead long enough, may come back elsewhere; a live one may not: two
    // nodes claim one name.
    if (r->state == NodeState::Left || (r->state == NodeState::Dead && (can_reclaim || reuse))) {
      log(LogLevel::Info, [&] {
        return "Updating address for left or failed node " + r->name_str() + " from " + go_ip(bytes(r->addr())) + ":" +
               std::to_string(r->port) + " to " + go_ip(addr) + ":" + std::to_string(a.port);
      });
      if (reuse) remember_move(now, r->name_str(), endpoint_of(*r), r->incarnation);
      updates_node = true;
    } else if (reuse) {
      // Alive or suspect: whether the old incarnation is still there is asked of it directly.
      check_old_address(now, *r, std::move(a));
      return;
    } else {
      log(LogLevel::Error, [&] {
        return "Conflicting address for " + r->name_str() + ". Mine: " + go_ip(bytes(r->addr())) + ":" +
               std::to_string(r->port) + " Theirs: " + go_ip(addr) + ":" + std::to_string(a.port) +
               " Old state: " + std::to_string(static_cast<int64_t>(r->state));
      });
      if (dg.conflict) {
        Member other = claimed();
        other.vsn = {};  // memberlist's NotifyConflict node carries no versions
        dg.conflict->notify_conflict(to_member(*r), other);
      }
      return;
    }
  }
  const bool is_local = r->name() == cfg.name;
  // Beyond memberlist, the ceiling tie rule: an alive needs a strictly greater incarnation than
  // what we hold, which no alive has once a suspect/dead at 0xFFFFFFFF is held. Such an
  // accusation would evict the node for good (memberlist #358), so at the ceiling an alive
  // beats a suspect or dead of the same incarnation. The accused's refutation (saturated at
  // the ceiling, see refute) brings it back as soon as it spreads. Left is not overridden: a
  // node that left does not come back through a tie. The cost is that at the ceiling an alive
  // and an accusation can alternate; probing settles it, as for any other node.
  const bool ceiling_tie = a.incarnation == kMaxIncarnation && r->incarnation == kMaxIncarnation &&
                           (r->state == NodeState::Suspect || r->state == NodeState::Dead);
  // Old news about someone else: what we hold is as new or newer (memberlist: "Bail if the
  // incarnation number is older, and this is not about us").
  if (a.incarnation <= r->incarnation && !is_local && !updates_node && !ceiling_tie) return;
  // About us, older than what we hold: an echo of our own past; nothing to refute.
  if (a.incarnation < r->incarnation && is_local) return;
  suspicions.erase(a.node);
  const NodeState old_state = r->state;
  const Bytes old_meta = bytes(r->meta());
  if (!bootstrap && is_local) {
    const Bytes ours(r->vsn.begin(), r->vsn.end());
    // Our own current alive coming back to us: nothing differs, so nothing to refute.
    if (a.incarnation == r->incarnation && meta == bytes(r->meta()) && vsn_in == ours) return;
    refute(*r, a.incarnation);
    log(LogLevel::Warn, [&] {
      return "Refuting an alive message for '" + a.node + "' (" + go_ip(addr) + ":" + std::to_string(a.port) +
             ") meta:(" + go_bytes(meta) + " VS " + go_bytes(bytes(r->meta())) + "), vsn:(" + go_bytes(vsn_in) +
             " VS " + go_bytes(ours) + ")";
    });
  } else {
    ++m.msg_alive;
    // About another node and with nobody waiting for it, the broadcast refers to the entry once
    // the entry states exactly this alive (broadcast_alive); otherwise it is queued as bytes.
    const bool by_reference = !notify && !is_local;
    Bytes msg = wire::encode(a);
    if (!by_reference) broadcast(a.node, std::move(msg), std::move(notify));
    if (vsn_in.size() >= 6) std::copy_n(vsn_in.begin(), 6, r->vsn.begin());
    r->incarnation = a.incarnation;
    r->set_meta_opt(a.meta);
    r->set_addr_opt(a.addr);
    r->port = a.port;
    if (r->state != NodeState::Alive) {
      r->state = NodeState::Alive;
      r->state_change = now;
    }
    if (by_reference) broadcast_alive(*r, a, std::move(msg));
  }
  if (dead_or_left(old_state)) ++address_epoch;
  if (dg.events) {
    if (dead_or_left(old_state)) {
      dg.events->notify_join(to_member(*r));
    } else if (old_meta != bytes(r->meta())) {
      dg.events->notify_update(to_member(*r));
    }
  }
}

void Node::Impl::suspect_node(Time now, const wire::Suspect &s) {
  state::Member *r = members.find(s.node);
  // Unknown node, or an accusation older than what we know (memberlist: "Ignore old
  // incarnation numbers").
  if (!r || s.incarnation < r->incarnation) return;
  // Already suspected: a new accuser is a Lifeguard confirmation (shortens the timeout and is
  // passed on); a repeated one is not news.
  if (auto it = suspicions.find(s.node); it != suspicions.end()) {
    if (it->second.confirm(s.from)) broadcast(s.node, wire::encode(s));
    return;
  }
  // Only an alive node can become suspect: dead and left stay as they are.
  if (r->state != NodeState::Alive) return;
  if (r->name() == cfg.name) {
    log(LogLevel::Warn, [&] { return "Refuting a suspect message (from: " + s.from + ")"; });
    refute(*r, s.incarnation);
    return;
  }
  ++m.msg_suspect;
  broadcast(s.node, wire::encode(s));
  r->incarnation = s.incarnation;
  r->state = NodeState::Suspect;
  r->state_change = now;
  const size_t n = est_nodes();
  int k = cfg.suspicion_mult - 2;
  if (static_cast<int>(n) - 2 < k) k = 0;
  const Duration min = state::suspicion_timeout(cfg.suspicion_mult, n, cfg.probe_interval);
  Duration max = min * cfg.suspicion_max_timeout_mult;
  if (!cfg.lifeguard) {  // plain SWIM: a fixed timeout, no confirmations
    k = 0;
    max = min;
  }
  suspicions.insert_or_assign(s.node, state::Suspicion(s.from, k, min, max, now));
}

void Node::Impl::suspicion_expired(Time now, const std::string &name) {
  FinalCheck check{name};
  if (auto it = suspicions.find(name); it != suspicions.end()) {
    check.confirmations = it->second.confirmations();
    check.k = it->second.k();
    suspicions.erase(it);
  }
  state::Member *r = members.find(name);
  // Refuted (alive again) or already dead meanwhile: the timer is stale.
  if (!r || r->state != NodeState::Suspect) return;
  // The final check guards against a lone accuser that missed a refutation. A suspicion that
  // gathered its k independent confirmations (Lifeguard's own evidence) is declared at once, as
  // memberlist declares every expired suspicion: a killed or partitioned node then dies at
  // memberlist's pace instead of waiting for a turn of the one probe slot (docs/reliability.md).
  const bool confirmed = check.k > 0 && check.confirmations >= check.k;
  if (cfg.lifeguard && r->state_change != Time{} && !confirmed) {
    if (!is_final_check(name)) final_checks.push_back(std::move(check));
    if (!probe) start_probe(now);
    return;
  }
  declare_failed(now, *r, check);
}

void Node::Impl::declare_failed(Time now, const state::Member &r, const FinalCheck &check) {
  // memberlist's degraded.timeout: fewer independent confirmations than expected.
  if (check.k > 0 && check.confirmations < check.k) ++m.degraded_timeout;
  log(LogLevel::Info, [&] {
    return "Marking " + r.name_str() + " as failed, suspect timeout reached (" + std::to_string(check.confirmations) +
           " peer confirmations)";
  });
  dead_node(now, wire::Dead{r.incarnation, r.name_str(), cfg.name});
}

bool Node::Impl::is_final_check(const std::string &name) const {
  return std::any_of(final_checks.begin(), final_checks.end(), [&](const FinalCheck &f) { return f.name == name; });
}

Node::Impl::FinalCheck Node::Impl::end_final_check(const std::string &name) {
  FinalCheck out{name};
  for (auto it = final_checks.begin(); it != final_checks.end(); ++it) {
    if (it->name == name) {
      out = std::move(*it);
      final_checks.erase(it);
      break;
    }
  }
  return out;
}

void Node::Impl::final_check_failed(Time now, const std::string &name) {
  const FinalCheck check = end_final_check(name);
  state::Member *r = members.find(name);
  if (!r || r->state != NodeState::Suspect) return;  // refuted while we checked
  declare_failed(now, *r, check);
}

void Node::Impl::final_check_answered(Time now, const std::string &name) {
  end_final_check(name);
  state::Member *r = members.find(name);
  if (!r || r->state != NodeState::Suspect) return;  // refuted while we checked
  const size_t n = est_nodes();
  const Duration min = state::suspicion_timeout(cfg.suspicion_mult, n, cfg.probe_interval);
  suspicions.insert_or_assign(name, state::Suspicion(cfg.name, 0, min, min, now));
}

void Node::Impl::stale_accusation(const Endpoint &from) {
  const state::Member *me = members.find(cfg.name);
  if (!me || from.ip.empty()) return;  // not started, or no address to answer to
  // Best effort, as the gossip it stands in for: a failure is not worth a line of its own.
  (void)send_msg(from, wire::encode(state::alive_of(*me)));
}

void Node::Impl::dead_node(Time now, const wire::Dead &d, std::function<void()> notify) {
  state::Member *r = members.find(d.node);
  // Unknown node, or older than what we know (memberlist: "Ignore old incarnation numbers").
  if (!r || d.incarnation < r->incarnation) return;
  suspicions.erase(d.node);
  // Already dead or left: nothing changes, and re-broadcasting would only echo it.
  if (dead_or_left(r->state)) return;
  if (r->name() == cfg.name) {
    if (!leaving) {
      log(LogLevel::Warn, [&] { return "Refuting a dead message (from: " + d.from + ")"; });
      refute(*r, d.incarnation);
      return;
    }
    broadcast(d.node, wire::encode(d), std::move(notify));
  } else {
    broadcast(d.node, wire::encode(d));
  }
  ++m.msg_dead;
  r->incarnation = d.incarnation;
  r->state = d.node == d.from ? NodeState::Left : NodeState::Dead;
  r->state_change = now;
  ++address_epoch;
  if (dg.events) dg.events->notify_leave(to_member(*r));
}

void Node::Impl::refute(state::Member &me, uint32_t accused) {
  incarnation = next_incarnation(incarnation);
  if (accused >= incarnation) incarnation = next_incarnation(accused);
  const uint32_t inc = incarnation;
  me.incarnation = inc;
  ++m.refutes;
  if (cfg.lifeguard) awareness.apply_delta(1);
  // memberlist queues this under the address string, not the name (WIRE.md §6.2 refute).
  broadcast(to_string(endpoint_of(me)), wire::encode(state::alive_of(me)));
}

void Node::Impl::check_old_address(Time now, const state::Member &r, wire::Alive a) {
  // One check per name: a later claim replaces the pending one when it is at least as new.
  for (auto &[seq, c] : name_checks) {
    if (c.name == a.node) {
      if (a.incarnation >= c.pending.incarnation) c.pending = std::move(a);
      return;
    }
  }
  const Endpoint old = endpoint_of(r);
  const std::string claim = go_ip(bytes(a.addr)) + ":" + std::to_string(a.port);
  if (name_checks.size() >= Node::kMaxNameChecks) {
    ++m.name_checks_refused;
    log(LogLevel::Warn, [&] {
      return "Conflicting address for " + a.node + ". Mine: " + go_ip(old.ip) + ":" + std::to_string(old.port) +
             " Theirs: " + claim + ": not checked, " + std::to_string(name_checks.size()) +
             " checks of old addresses are pending (reclaim_name_on_new_address)";
    });
    return;
  }
  const uint32_t seq = ++sequence;
  ++m.name_checks;
  log(LogLevel::Info, [&] {
    return "Node " + a.node + " claims a new address " + claim + " while " +
           (r.state == NodeState::Suspect ? "suspect" : "alive") + " at " + go_ip(old.ip) + ":" +
           std::to_string(old.port) + ": pinging the old address";
  });
  // Straight to the old address, nothing piggybacked: it may belong to another process now. A
  // failed send is logged and the check runs its course, as if the datagram were lost.
  if (auto st = send_raw(old, wire::encode(make_ping(seq, r.name_str()))); !st) {
    log(LogLevel::Error, [&] { return "Failed to send UDP ping: " + st.error().message; });
  }
  name_checks.emplace(seq, NameCheck{a.node, old, now + cfg.probe_timeout, std::move(a), r.incarnation});
}

void Node::Impl::name_check_answered(const NameCheck &c) {
  const state::Member *r = members.find(c.name);
  // The name moved, left or was reaped meanwhile: this answer no longer decides anything.
  if (!r || dead_or_left(r->state) || endpoint_of(*r) != c.old) return;
  ++m.name_conflicts;
  const Bytes addr = bytes(c.pending.addr);
  log(LogLevel::Error, [&] {
    return "Conflicting address for " + r->name_str() + ". Mine: " + go_ip(c.old.ip) + ":" +
           std::to_string(c.old.port) + " Theirs: " + go_ip(addr) + ":" + std::to_string(c.pending.port) +
           " Old state: " + std::to_string(static_cast<int64_t>(r->state)) + " (the old address answered a ping)";
  });
  if (dg.conflict) {
    Member other;
    other.name = c.pending.node;
    other.addr = addr;
    other.port = c.pending.port;
    other.meta = bytes(c.pending.meta);
    dg.conflict->notify_conflict(to_member(*r), other);
  }
}

void Node::Impl::name_check_expired(Time now, NameCheck c) {
  state::Member *r = members.find(c.name);
  // A newer alive from the old address came meanwhile (the holder refuted or updated): it is
  // there, whatever became of our ping or its ack. That is an answer too.
  if (r && r->state == NodeState::Alive && endpoint_of(*r) == c.old && r->incarnation > c.incarnation) {
    name_check_answered(c);
    return;
  }
  if (r && !dead_or_left(r->state) && endpoint_of(*r) == c.old) {
    ++m.name_reclaimed;
    log(LogLevel::Info, [&] {
      return "Node " + c.name + " did not answer at its old address " + go_ip(c.old.ip) + ":" +
             std::to_string(c.old.port) + " within the probe timeout: taking its new address " +
             go_ip(bytes(c.pending.addr)) + ":" + std::to_string(c.pending.port);
    });
    // The old incarnation is gone: it leaves here (not broadcast: the name lives on), and the
    // claim below brings the name back at its new address, as after a dead node's reclaim.
    suspicions.erase(c.name);
    // Its queued alive, if held as a reference, no longer states the entry: it goes too.
    system_queue.forget_member(*r);
    r->state = NodeState::Dead;
    r->state_change = now;
    ++address_epoch;
    if (dg.events) dg.events->notify_leave(to_member(*r));
  }
  // Whatever happened meanwhile, the claim goes through the ordinary rules now.
  alive_node(now, std::move(c.pending), false);
}

void Node::Impl::remember_move(Time now, const std::string &name, const Endpoint &old, uint32_t inc) {
  erase_if(moved_names, [&](const MovedName &x) { return x.name == name || x.until <= now; });
  if (moved_names.size() >= Node::kMaxMovedNames) moved_names.pop_front();
  moved_names.push_back(MovedName{name, old, inc, now + 2 * cfg.gossip_to_the_dead_time});
}

bool Node::Impl::stale_after_move(Time now, const wire::Alive &a, const Bytes &addr) {
  for (const MovedName &x : moved_names) {
    if (x.name == a.node && x.until > now && x.old.ip == addr && x.old.port == a.port) {
      return a.incarnation <= x.incarnation;
    }
  }
  return false;
}

bool Node::Impl::ip_allowed(const Bytes &addr) const {
  if (cidrs.empty()) return true;
  return std::any_of(cidrs.begin(), cidrs.end(), [&](const Cidr &c) { return c.contains(addr); });
}

}  // namespace memberlist::protocol
