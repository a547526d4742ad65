// Push/pull and join (memberlist's pushPullNode, sendAndReceiveState, mergeRemoteState, Join).
#include "protocol/node_impl.hpp"

namespace memberlist::protocol {

Bytes Node::Impl::local_state(bool join) {
  wire::PushPull pp;
  pp.join = join;
  for_each_member([&](const state::Member &r) {
    pp.nodes.push_back(wire::PushNodeState{r.name_str(), r.addr_opt(), r.port, r.meta_opt(), r.incarnation,
                                           static_cast<int64_t>(r.state), Bytes(r.vsn.begin(), r.vsn.end())});
  });
  if (dg.delegate) pp.user_state = dg.delegate->local_state(join);
  Bytes out = wire::encode_push_pull(pp);
  sample("memberlist.size.local", static_cast<double>(out.size()));
  return out;
}

std::optional<std::string> Node::Impl::verify_protocol(const std::vector<wire::PushNodeState> &remote) const {
  int maxpmin = 0, minpmax = 255, maxdmin = 0, mindmax = 255;
  auto widen = [&](const uint8_t *v) {
    maxpmin = std::max<int>(maxpmin, v[0]);
    minpmax = std::min<int>(minpmax, v[1]);
    maxdmin = std::max<int>(maxdmin, v[3]);
    mindmax = std::min<int>(mindmax, v[4]);
  };
  for (const auto &rn : remote) {
    if (rn.state != static_cast<int64_t>(NodeState::Alive)) continue;
    if (!rn.vsn || rn.vsn->size() < 5) continue;
    uint8_t v[6] = {};
    std::copy_n(rn.vsn->begin(), std::min<size_t>(6, rn.vsn->size()), v);
    widen(v);
  }
  for_each_member([&](const state::Member &r) {
    if (r.state == NodeState::Alive) widen(r.vsn.data());
  });
  for (const auto &rn : remote) {
    int pcur = 0, dcur = 0;
    if (rn.vsn && rn.vsn->size() >= 6) {
      pcur = (*rn.vsn)[2];
      dcur = (*rn.vsn)[5];
    }
    if (pcur < maxpmin || pcur > minpmax) {
      return "node '" + rn.name + "' protocol version (" + std::to_string(pcur) + ") is incompatible: [" +
             std::to_string(maxpmin) + ", " + std::to_string(minpmax) + "]";
    }
    if (dcur < maxdmin || dcur > mindmax) {
      return "node '" + rn.name + "' delegate protocol version (" + std::to_string(dcur) +
             ") is incompatible: [" + std::to_string(maxdmin) + ", " + std::to_string(mindmax) + "]";
    }
  }
  std::optional<std::string> bad;
  for_each_member([&](const state::Member &r) {
    if (bad) return;
    if (r.vsn[2] < maxpmin || r.vsn[2] > minpmax) {
      bad = "node '" + r.name_str() + "' protocol version (" + std::to_string(r.vsn[2]) + ") is incompatible";
    } else if (r.vsn[5] < maxdmin || r.vsn[5] > mindmax) {
      bad = "node '" + r.name_str() + "' delegate protocol version (" + std::to_string(r.vsn[5]) + ") is incompatible";
    }
  });
  return bad;
}

std::optional<std::string> Node::Impl::merge_remote(Time now, const wire::PushPull &pp) {
  // readRemoteState: as for an alive datagram, port 0 (or our running v1) means our BindPort.
  auto port_of = [&](const wire::PushNodeState &n) -> uint16_t {
    return (cfg.protocol_version < 2 || n.port == 0) ? cfg.bind_port : n.port;
  };
  if (auto bad = verify_protocol(pp.nodes)) return bad;
  if (pp.join && dg.merge) {
    std::vector<Member> peers;
    peers.reserve(pp.nodes.size());
    for (const auto &n : pp.nodes) {
      Member mb;
      mb.name = n.name;
      mb.addr = n.addr.value_or(Bytes{});
      mb.port = port_of(n);
      mb.meta = n.meta.value_or(Bytes{});
      mb.state = static_cast<NodeState>(std::clamp<int64_t>(n.state, 0, 3));
      mb.incarnation = n.incarnation;
      if (n.vsn && n.vsn->size() >= 6) std::copy_n(n.vsn->begin(), 6, mb.vsn.begin());
      peers.push_back(std::move(mb));
    }
    if (auto err = dg.merge->notify_merge(peers)) return *err;
  }
  for (const auto &n : pp.nodes) {
    switch (n.state) {
      case static_cast<int64_t>(NodeState::Alive):
        alive_node(now, wire::Alive{n.incarnation, n.name, n.addr, port_of(n), n.meta, n.vsn}, false);
        break;
      case static_cast<int64_t>(NodeState::Left):
        dead_node(now, wire::Dead{n.incarnation, n.name, n.name});
        break;
      case static_cast<int64_t>(NodeState::Dead):
      case static_cast<int64_t>(NodeState::Suspect):
        suspect_node(now, wire::Suspect{n.incarnation, n.name, cfg.name});
        break;
      default: break;
    }
  }
  if (!pp.user_state.empty() && dg.delegate) dg.delegate->merge_remote_state(pp.user_state, pp.join);
  return std::nullopt;
}

void Node::Impl::push_pull_with_random(Time now) {
  // grafana/memberlist's PushPullNodes (0 = 1): as many random live nodes per interval.
  const auto k = static_cast<size_t>(std::max(1, cfg.push_pull_nodes));
  const auto picked = pick_targets(
      k, [&](const state::Member &r) { return r.name() == cfg.name || r.state != NodeState::Alive; }, "push/pull");
  for (const state::Member *t : picked) {
    ++m.push_pull_count;
    const Endpoint to = endpoint_of(*t);
    if (auto id = open_push_pull(now, to, false, OutStream{StreamKind::PushPull, 0, 0, to}); !id) {
      log(LogLevel::Error, [&] { return "Push/Pull with " + to.name + " failed: " + id.error().message; });
    }
  }
}

void Node::Impl::reconnect(Time now) {
  erase_if(failed, [&](const Failed &f) { return now - f.since > cfg.reconnect_timeout || members.find(f.at.name); });
  std::vector<Endpoint> candidates;
  for (const auto &f : failed) candidates.push_back(f.at);
  for_each_member([&](const state::Member &r) {
    if (r.state == NodeState::Dead && now - r.state_change > cfg.gossip_to_the_dead_time &&
        now - r.state_change <= cfg.reconnect_timeout) {
      candidates.push_back(endpoint_of(r));
    }
  });
  if (candidates.empty()) return;
  const Endpoint to = candidates[static_cast<size_t>(rng.below(candidates.size()))];
  if (auto id = open_push_pull(now, to, false, OutStream{StreamKind::PushPull, 0, 0, to}); !id) {
    log(LogLevel::Error, [&] { return "Push/Pull with " + to.name + " failed: " + id.error().message; });
  }
}

// A join ends once every push/pull it started has: it succeeded if any did (memberlist's Join
// returns the number of nodes contacted and an error only when that is 0), and its error lists
// every failure, in order.
void Node::Impl::finish_join(OpId op, const JoinOp &j) {
  if (j.ok > 0) {
    done(op, wire::Ok{}, j.ok);
    return;
  }
  std::string all;
  for (const auto &e : j.errors) all += (all.empty() ? "" : "; ") + e;
  done(op, make_error(Errc::JoinFailed, all.empty() ? "no nodes to join" : all));
}

// memberlist's Join: a push/pull with each address; the OpDone comes from finish_join.
OpId Node::join(Time now, const std::vector<Endpoint> &peers) {
  Impl &s = *impl_;
  const OpId op = s.new_op();
  if (!running()) {
    s.done(op, make_error(Errc::Closed, "memberlist is shut down"));
    return op;
  }
  Impl::JoinOp j;
  for (const auto &p : peers) {
    auto id = s.open_push_pull(now, p, true, Impl::OutStream{Impl::StreamKind::Join, op, 0, p});
    if (id) {
      ++j.outstanding;
    } else {
      j.errors.push_back("failed to join " + to_string(p) + ": " + id.error().message);
      s.log(LogLevel::Debug, [&] { return j.errors.back(); });
    }
  }
  if (j.outstanding == 0) {
    s.finish_join(op, j);  // no push/pull could even start
  } else {
    s.joins[op] = std::move(j);
  }
  return op;
}

}  // namespace memberlist::protocol
