// Datagram input: the handlers memberlist's handleCommand dispatches to (net.go).
#include "protocol/node_impl.hpp"

namespace memberlist::protocol {

void Node::Impl::handle_message(Time now, const Endpoint &from, wire::Message &msg) {
  std::visit(
      [&](auto &x) {
        using M = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<M, wire::Ping>) {
          on_ping(from, x);
        } else if constexpr (std::is_same_v<M, wire::IndirectPingReq>) {
          on_indirect_ping(now, from, x);
        } else if constexpr (std::is_same_v<M, wire::AckResp>) {
          on_ack(now, x, true);
        } else if constexpr (std::is_same_v<M, wire::NackResp>) {
          if (probe && probe->seq == x.seq_no) ++probe->nacks;
        } else if constexpr (std::is_same_v<M, wire::Suspect>) {
          accused(from, x.node, x.incarnation, [&] { suspect_node(now, x); });
        } else if constexpr (std::is_same_v<M, wire::Alive>) {
          // Beyond memberlist (which stores it): an address that is not an IP cannot be probed,
          // gossiped to or dialled, so such a member would only ever be declared dead.
          if (!x.addr || (x.addr->size() != 4 && x.addr->size() != 16)) {
            log(LogLevel::Warn, [&] {
              return "Ignoring an alive message for '" + x.node + "' because its address is not an IP (" +
                     std::to_string(x.addr ? x.addr->size() : 0) + " bytes) from=" + to_string(from);
            });
            return;
          }
          // handleAlive: port 0 (or our running protocol v1) means "the sender's port is our
          // BindPort". Without this a forged port-0 alive would be stored as an undialable ":0".
          if (cfg.protocol_version < 2 || x.port == 0) x.port = cfg.bind_port;
          alive_node(now, std::move(x), false);
        } else if constexpr (std::is_same_v<M, wire::Dead>) {
          accused(from, x.node, x.incarnation, [&] { dead_node(now, x); });
        } else if constexpr (std::is_same_v<M, wire::UserMsg>) {
          if (dg.delegate) dg.delegate->notify_packet_msg(x.msg, from);
        } else {
          ++m.packets_dropped;  // errResp on UDP: not a packet message
          log(LogLevel::Error, [&] {
            return "msg type (" + std::to_string(static_cast<int>(wire::MsgType::Err)) +
                   ") not supported from=" + to_string(from);
          });
        }
      },
      msg);
}

Endpoint Node::Impl::reply_to(const Endpoint &from, const Bytes &src_addr, uint16_t src_port, const std::string &src_node) {
  if (!src_addr.empty() && src_port > 0) return Endpoint{src_addr, src_port, src_node};
  return Endpoint{from.ip, from.port, src_node};
}

void Node::Impl::on_ping(const Endpoint &from, const wire::Ping &p) {
  // Meant for a previous owner of this address: answering would vouch for a node we are not.
  if (!p.node.empty() && p.node != cfg.name) {
    log(LogLevel::Warn, [&] { return "Got ping for unexpected node '" + p.node + "' from=" + to_string(from); });
    return;
  }
  wire::AckResp ack{p.seq_no, std::nullopt};
  if (dg.ping) ack.payload = dg.ping->ack_payload();
  if (auto st = send_msg(reply_to(from, p.source_addr, p.source_port, p.source_node), wire::encode(ack)); !st) {
    log(LogLevel::Error, [&] { return "Failed to send ack: " + st.error().message + " from=" + to_string(from); });
  }
}

void Node::Impl::on_indirect_ping(Time now, const Endpoint &from, const wire::IndirectPingReq &req) {
  const uint32_t seq = ++sequence;
  const uint16_t port = (req.port == 0 || cfg.protocol_version < 2) ? cfg.bind_port : req.port;
  const Endpoint target{req.target.value_or(Bytes{}), port, req.node};
  relays[seq] = Relay{reply_to(from, req.source_addr, req.source_port, req.source_node), req.seq_no, req.nack,
                      now + cfg.probe_timeout};
  if (auto st = send_msg(target, wire::encode(make_ping(seq, req.node))); !st) {
    log(LogLevel::Error, [&] {
      return "Failed to send indirect ping: " + st.error().message + " from=" + to_string(relays[seq].requester);
    });
  }
}

void Node::Impl::on_ack(Time now, const wire::AckResp &ack, bool udp) {
  if (probe && probe->seq == ack.seq_no) {
    probe_succeeded(now, &ack, udp && !probe->indirect_sent);
    return;
  }
  if (auto it = relays.find(ack.seq_no); it != relays.end()) {
    const Relay r = it->second;
    relays.erase(it);
    if (auto st = send_msg(r.requester, wire::encode(wire::AckResp{r.their_seq, std::nullopt})); !st) {
      log(LogLevel::Error, [&] {
        return "Failed to forward ack: " + st.error().message + " from=" + to_string(r.requester);
      });
    }
    return;
  }
  if (auto it = pings.find(ack.seq_no); it != pings.end()) {
    const PingOp p = it->second;
    pings.erase(it);
    done(p.op, wire::Ok{}, 0, now - p.sent);
    return;
  }
  if (auto it = name_checks.find(ack.seq_no); it != name_checks.end()) {
    const NameCheck c = std::move(it->second);
    name_checks.erase(it);
    name_check_answered(c);
  }
}

}  // namespace memberlist::protocol
