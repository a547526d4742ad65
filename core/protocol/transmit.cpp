// Sending: framing, compound packets, broadcasts and gossip (memberlist's net.go sendMsg /
// rawSendMsgPacket, broadcast.go, and gossip in state.go).
#include "protocol/node_impl.hpp"

namespace memberlist::protocol {

wire::Status Node::Impl::send_raw(const Endpoint &to, ByteView payload) {
  if (auto st = names_ok(to); !st) return st;
  wire::PacketOut o;
  o.label = cfg.label;
  o.compress = cfg.enable_compression;
  o.compression = cfg.compression;
  if (const auto *r = to.name.empty() ? nullptr : members.find(to.name); r && r->vsn[1] >= 5) o.crc = true;
  if (encryption_on() && cfg.gossip_verify_outgoing) {
    o.keyring = &keyring;
    o.encryption_version = wire::encryption_version_for(cfg.protocol_version);
  }
  auto pkt = wire::encode_packet(payload, o);
  if (!pkt) return pkt.error();
  // A message that even alone (send_parts never puts a part over the budget in a compound) is
  // larger than any UDP datagram can never be delivered; say so here rather than as a socket error.
  // Over the TCP-only transport the bound is what a receiver of ours accepts (max_tcp_packet).
  const size_t most = cfg.tcp_only ? cfg.limits.max_tcp_packet : kMaxDatagram;
  if (pkt->size() > most) {
    return make_error(Errc::LimitExceeded, "a packet of " + std::to_string(pkt->size()) + " bytes (a " +
                                               std::to_string(payload.size()) + "-byte message) is over the " +
                                               std::to_string(most) +
                                               (cfg.tcp_only ? " max_tcp_packet allows; not sent"
                                                             : " a UDP datagram holds; not sent"));
  }
  ++m.udp_sent;
  m.udp_sent_bytes += pkt->size();
  effects.emplace_back(SendPacket{to, std::move(pkt.value())});
  return wire::Ok{};
}

wire::Status Node::Impl::names_ok(const Endpoint &to) const { return check_target_name(cfg.require_node_names, to.name); }

size_t Node::Impl::packet_budget() const { return cfg.packet_budget(encryption_on()); }

std::vector<Bytes> Node::Impl::take_broadcasts(size_t limit) {
  std::vector<Bytes> out;
  const size_t n = est_nodes();
  const auto overhead = static_cast<int64_t>(kCompoundOverhead);
  // The reservation only matters when there is user data to hold back; without any, the peek
  // (a second walk of the system queue, per packet) is skipped: the result is the same.
  const bool user_side = !user_queue.empty() || dg.delegate != nullptr;
  const auto system_wants =
      user_side ? static_cast<size_t>(system_queue.peek_bytes(overhead, static_cast<int64_t>(limit))) : 0;
  size_t used = 0;
  const size_t system_reserved = std::min(system_wants, limit / 2);
  const size_t user_limit = limit - system_reserved;
  // User data: the node's own queue, then the delegate (memberlist's GetBroadcasts).
  used += static_cast<size_t>(
      user_queue.append_broadcasts(overhead, static_cast<int64_t>(user_limit), n, out));
  if (dg.delegate && user_limit > used + kCompoundOverhead + kUserMsgOverhead) {
    const size_t room = user_limit - used;
    for (auto &b : dg.delegate->get_broadcasts(kCompoundOverhead + kUserMsgOverhead, room)) {
      used += kCompoundOverhead + kUserMsgOverhead + b.size();
      Bytes framed;
      framed.reserve(b.size() + 1);
      framed.push_back(static_cast<uint8_t>(wire::MsgType::User));
      framed.insert(framed.end(), b.begin(), b.end());
      out.push_back(std::move(framed));
    }
  }
  // System messages go first, as in memberlist. A delegate that overran its limit does not
  // take the share reserved for them.
  const size_t system_limit = std::max(limit > used ? limit - used : 0, system_reserved);
  std::vector<Bytes> system;
  const uint64_t stale_before = system_queue.stale_dropped();
  system_queue.append_broadcasts(overhead, static_cast<int64_t>(system_limit), n, system);
  if (system_queue.stale_dropped() != stale_before) {
    log(LogLevel::Error, [&] {
      return "memberlist: " + std::to_string(system_queue.stale_dropped() - stale_before) +
             " queued alive broadcast(s) no longer matched their member entry and were dropped (a bug: please report it)";
    });
  }
  system.insert(system.end(), std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()));
  return system;
}

wire::Status Node::Impl::send_msg(const Endpoint &to, Bytes msg) {
  // Refused before taking broadcasts, which would otherwise count a transmit for nothing.
  if (auto st = names_ok(to); !st) return st;
  const size_t budget = packet_budget();
  const size_t room = budget > msg.size() ? budget - msg.size() : 0;
  std::vector<Bytes> extra = room > 0 ? take_broadcasts(room) : std::vector<Bytes>{};
  if (extra.empty()) return send_raw(to, msg);
  return send_parts(to, std::move(msg), std::move(extra), room, budget);
}

wire::Result<Bytes> Node::Impl::frame_stream(ByteView msg, bool dialer) {
  wire::StreamOut o;
  o.label = cfg.label;
  o.write_label_header = dialer;
  o.compress = cfg.enable_compression;
  o.compression = cfg.compression;
  if (encryption_on() && cfg.gossip_verify_outgoing) {
    o.keyring = &keyring;
    o.encryption_version = wire::encryption_version_for(cfg.protocol_version);
  }
  return wire::encode_stream(msg, o);
}

wire::Result<StreamId> Node::Impl::open_push_pull(Time now, const Endpoint &to, bool join, OutStream what) {
  if (auto st = names_ok(to); !st) return st.error();
  what.started = now;
  auto id = open_stream(now, to, local_state(join), true, cfg.tcp_timeout, std::move(what));
  if (!id) return make_error(Errc::Internal, "cannot frame the push/pull state");
  log(LogLevel::Debug, [&] { return "Initiating push/pull sync with: " + to.name + " " + to_string(to); });
  return *id;
}

void Node::Impl::reply_stream(StreamId id, ByteView msg) {
  Bytes data;
  if (!msg.empty()) {
    auto framed = frame_stream(msg, false);
    if (framed) data = std::move(framed.value());
  }
  ++m.tcp_sent;
  m.tcp_sent_bytes += data.size();
  effects.emplace_back(ReplyStream{id, std::move(data)});
}

wire::Ping Node::Impl::make_ping(uint32_t seq, const std::string &target) const {
  return wire::Ping{seq, target, self.ip, self.port, cfg.name};
}

void Node::Impl::broadcast(const std::string &node, Bytes msg, std::function<void()> notify) {
  system_queue.queue(std::make_unique<state::MemberlistBroadcast>(node, std::move(msg), std::move(notify)));
}

void Node::Impl::broadcast_alive(const state::Member &r, const wire::Alive &a, Bytes msg) {
  // The entry must state exactly the alive memberlist would queue (msg, the encoding of a; a Vsn
  // longer than six bytes, or an address cut to 255, does not): then those bytes need not be
  // kept. Equal messages encode to equal bytes, so comparing them spares a second encoding.
  if (state::alive_of(r) == a && system_queue.queue_member_alive(r, msg.size())) return;
  broadcast(r.name_str(), std::move(msg));
}

void Node::Impl::gossip(Time now) {
  ++m.gossip_count;
  // memberlist.gossip times the work of one round with the runtime's clock (0 without one).
  struct Timer {
    Impl &s;
    Time t0 = s.work_clock ? s.work_clock() : Time{};
    ~Timer() { s.sample("memberlist.gossip", s.work_clock ? to_ms(s.work_clock() - t0) : 0.0); }
  } timer{*this};
  // With a node-selection delegate, a round that certainly has nothing to send (no queued
  // broadcasts, no Delegate that could hand some out) does not build the candidate list. Without
  // one, the targets are drawn as always (the rng draws stay memberlist's).
  if (dg.node_selection && !dg.delegate && system_queue.empty() && user_queue.empty()) return;
  const auto targets = pick_targets(
      static_cast<size_t>(cfg.gossip_nodes),
      [&](const state::Member &r) {
        if (r.name() == cfg.name) return true;
        if (r.state == NodeState::Alive || r.state == NodeState::Suspect) return false;
        if (r.state == NodeState::Dead) return now - r.state_change > cfg.gossip_to_the_dead_time;
        return true;  // Left
      },
      "gossip");
  for (const state::Member *t : targets) {
    auto msgs = take_broadcasts(packet_budget());
    if (msgs.empty()) return;
    const Endpoint to = endpoint_of(*t);
    if (auto st = send_parts(to, std::nullopt, std::move(msgs), packet_budget(), packet_budget()); !st) {
      log(LogLevel::Error, [&] { return "Failed to send gossip to " + to_string(to) + ": " + st.error().message; });
    }
  }
}

}  // namespace memberlist::protocol
