// The Node facade: its inputs (tick, packets, streams), its API and snapshots, over Node::Impl
// (node_impl.hpp, which lists the files that implement the rest), plus the helpers and timers.
#include "protocol/node_impl.hpp"

namespace memberlist::protocol {

std::string to_string(const Endpoint &e) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (e.ip.size() == 4) {
    inet_ntop(AF_INET, e.ip.data(), buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(e.port);
  }
  if (e.ip.size() == 16) {
    inet_ntop(AF_INET6, e.ip.data(), buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(e.port);
  }
  return "<bad address>:" + std::to_string(e.port);
}

namespace {
// Pings and indirect pings answered from one datagram. Each makes us send a datagram (an ack to
// the sender, or to any SourceAddr it names; a ping to any target it names), so a datagram packed
// with them turns us into a reflector: memberlist answers every one (a compressed 8 KiB datagram
// of nested compounds held 257,040 pings). memberlist's senders put at most one ping or indirect
// ping in a datagram (probeNode: a ping, with a suspect piggybacked; one indirect request per
// peer), so this leaves room for batching senders while keeping a reply-to-request ratio near 1.
constexpr size_t kMaxRequestsPerPacket = 4;
}  // namespace

// ---- Node::Impl: helpers and timers

Member Node::Impl::to_member(const state::Member &r) const {
  Member mb;
  mb.name = r.name();
  mb.addr = bytes(r.addr());
  mb.port = r.port;
  mb.meta = bytes(r.meta());
  mb.vsn = r.vsn;
  mb.state = r.state;
  mb.incarnation = r.incarnation;
  return mb;
}

void Node::Impl::done(OpId op, wire::Status st, int contacted, Duration rtt) {
  effects.emplace_back(OpDone{op, std::move(st), contacted, rtt});
}

Time Node::Impl::next_deadline() const {
  Time t = std::min({next_probe, next_gossip, next_push_pull, next_reconnect});
  // While a TCP fallback ping is out, its result (due by probe->end) decides the probe; a
  // driver that never reports it cannot stall probing for longer than one more timeout.
  if (probe && !probe->indirect_sent) t = std::min(t, probe->direct_deadline);
  if (probe && probe->indirect_sent) t = std::min(t, probe->tcp ? probe->end + cfg.probe_timeout : probe->end);
  for (const auto &[seq, r] : relays) t = std::min(t, r.deadline);
  for (const auto &[seq, p] : pings) t = std::min(t, p.deadline);
  for (const auto &[seq, c] : name_checks) t = std::min(t, c.deadline);
  for (const auto &[name, s] : suspicions) t = std::min(t, s.deadline());
  for (const auto &[op, w] : waits) t = std::min(t, w.deadline);
  return t;
}

void Node::Impl::tick(Time now) {
  // Probe in flight.
  if (probe && !probe->indirect_sent && now >= probe->direct_deadline) probe_indirect(now);
  if (probe && probe->indirect_sent && now >= probe->end) {
    if (probe->tcp_ok) {
      probe_succeeded(now, nullptr, false);
    } else if (!probe->tcp || now >= probe->end + cfg.probe_timeout) {
      // No TCP fallback, or its result is overdue (its deadline was probe->end): failed.
      probe_failed(now);
    }
  }
  // Relays: nack when asked and nothing came back.
  for (auto it = relays.begin(); it != relays.end();) {
    if (now >= it->second.deadline) {
      const Relay &r = it->second;
      if (r.nack) {
        if (auto st = send_msg(r.requester, wire::encode(wire::NackResp{r.their_seq})); !st) {
          log(LogLevel::Error, [&] {
            return "Failed to send nack: " + st.error().message + " from=" + to_string(r.requester);
          });
        }
      }
      it = relays.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = pings.begin(); it != pings.end();) {
    if (now >= it->second.deadline) {
      log(LogLevel::Debug, [&] { return "Failed UDP ping: " + it->second.node + " (timeout reached)"; });
      done(it->second.op, make_error(Errc::Timeout, "no response from node"));
      it = pings.erase(it);
    } else {
      ++it;
    }
  }
  // Name reuse: old addresses that did not answer in time. Collected first: applying a claim may
  // start another check.
  if (!name_checks.empty()) {
    std::vector<NameCheck> gone;
    for (auto it = name_checks.begin(); it != name_checks.end();) {
      if (now >= it->second.deadline) {
        gone.push_back(std::move(it->second));
        it = name_checks.erase(it);
      } else {
        ++it;
      }
    }
    for (auto &c : gone) name_check_expired(now, std::move(c));
  }
  // Suspicions that ran out.
  std::vector<std::string> expired;
  for (const auto &[name, s] : suspicions) {
    if (now >= s.deadline()) expired.push_back(name);
  }
  for (const auto &name : expired) suspicion_expired(now, name);
  // Leave / UpdateNode waits that timed out.
  for (auto it = waits.begin(); it != waits.end();) {
    if (now >= it->second.deadline) {
      done(it->first, make_error(Errc::Timeout, "timeout waiting for " + it->second.what + " broadcast"));
      it = waits.erase(it);
    } else {
      ++it;
    }
  }
  // Periodic tasks.
  if (now >= next_probe) {
    if (!probe) start_probe(now);  // a probe still running drops the tick, as a Go ticker does
    while (next_probe <= now) next_probe += cfg.probe_interval;
  }
  if (now >= next_gossip) {
    gossip(now);
    while (next_gossip <= now) next_gossip += cfg.gossip_interval;
  }
  if (now >= next_push_pull) {
    push_pull_with_random(now);
    next_push_pull = now + state::push_pull_scale(cfg.push_pull_interval, est_nodes());
  }
  if (now >= next_reconnect) {
    reconnect(now);
    next_reconnect = now + cfg.reconnect_interval;
  }
}

bool Node::Impl::any_alive() const {
  bool any = false;
  for_each_member([&](const state::Member &r) {
    if (r.name() != cfg.name && !dead_or_left(r.state)) any = true;
  });
  return any;
}

std::function<void()> Node::Impl::waiter(OpId op, Time now, Duration timeout, std::string what) {
  waits[op] = WaitOp{timeout > 0s ? now + timeout : kNever, std::move(what)};
  return [this, op] {
    if (waits.erase(op)) done(op, wire::Ok{});
  };
}

// ====================================================================================== Node

Node::Node(Config config, Endpoint advertise, Delegates delegates, uint64_t seed, Time)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(advertise), delegates, seed)) {}
Node::~Node() = default;

wire::Status Node::start(Time now) {
  Impl &s = *impl_;
  if (s.started) return make_error(Errc::OutOfRange, "node already started");
  if (auto st = s.cfg.validate(); !st) return st;
  if (s.self.ip.size() != 4 && s.self.ip.size() != 16) {
    return make_error(Errc::OutOfRange, "advertise address must be IPv4 or IPv6");
  }
  for (const auto &c : s.cfg.cidrs_allowed) s.cidrs.push_back(*parse_cidr(c));
  if (!s.cfg.secret_key.empty()) {
    if (auto st = s.keyring.add_key(s.cfg.secret_key); !st) return st;
    if (auto st = s.keyring.use_key(s.cfg.secret_key); !st) return st;
  }
  s.vsn = {kProtocolVersionMin, kProtocolVersionMax, s.cfg.protocol_version, s.cfg.delegate_protocol_min,
           s.cfg.delegate_protocol_max, s.cfg.delegate_protocol_version};
  const auto meta_max = static_cast<size_t>(s.cfg.meta_max_size);
  // The receive bound covers what we send ourselves: nodes of ours with the same setting then
  // accept each other's metadata (docs/protocol.md "Metadata beyond 512 bytes").
  s.cfg.limits.max_meta = std::max(s.cfg.limits.max_meta, meta_max);
  // Over TCP a packet may be as large as max_tcp_packet (dskit's nodes gossip up to 10 MiB), and
  // compressed it decompresses to at most its sender's udp_buffer_size.
  if (s.cfg.tcp_only) {
    s.cfg.limits.max_packet_decompressed = std::max(s.cfg.limits.max_packet_decompressed, s.cfg.limits.max_tcp_packet);
  }
  Bytes meta;
  if (s.dg.delegate) {
    meta = s.dg.delegate->node_meta(meta_max);
    if (meta.size() > meta_max) return s.meta_too_large(meta.size());
  }
  if (meta_max > kMetaMaxSize) {
    s.log(LogLevel::Warn, [&] {
      return "meta_max_size is " + std::to_string(meta_max) + ", over memberlist's " + std::to_string(kMetaMaxSize) +
             ": metadata over " + std::to_string(kMetaMaxSize) +
             " bytes is accepted by memberlist (Go) nodes but only by libmemberlist nodes whose meta_max_size "
             "or max_meta is at least as large (docs/protocol.md)";
    });
  }
  s.started = true;
  // setAlive: incarnation 1, bootstrap.
  s.incarnation = 1;
  s.alive_node(now, wire::Alive{1, s.cfg.name, s.self.ip, s.self.port, meta, Bytes(s.vsn.begin(), s.vsn.end())},
               true);
  // Timers start after a random stagger, as memberlist's schedule() does.
  s.next_probe = now + state::random_stagger(s.cfg.probe_interval, s.rng);
  if (s.cfg.gossip_interval > 0s && s.cfg.gossip_nodes > 0) {
    s.next_gossip = now + state::random_stagger(s.cfg.gossip_interval, s.rng);
  }
  if (s.cfg.push_pull_interval > 0s) s.next_push_pull = now + state::random_stagger(s.cfg.push_pull_interval, s.rng);
  if (s.cfg.reconnect_interval > 0s) s.next_reconnect = now + state::random_stagger(s.cfg.reconnect_interval, s.rng);
  return wire::Ok{};
}

void Node::tick(Time now) {
  if (running()) impl_->tick(now);
}

Time Node::next_deadline() const { return running() ? impl_->next_deadline() : kNever; }

void Node::handle_packet(Time now, const Endpoint &from, ByteView datagram) {
  Impl &s = *impl_;
  if (!running()) return;
  ++s.m.udp_received;
  s.m.udp_received_bytes += datagram.size();
  wire::PacketIn in;
  in.label = s.cfg.label;
  in.skip_inbound_label_check = s.cfg.skip_inbound_label_check;
  in.keyring = &s.keyring;
  in.verify_incoming = s.cfg.gossip_verify_incoming;
  in.limits = s.cfg.limits;
  auto contents = wire::decode_packet(datagram, in);
  if (!contents) {
    ++s.m.packets_dropped;
    // The outer layers failed: nothing in the packet can be trusted. Where memberlist has a line
    // for the reason, its words lead (operators grep for "Decrypt packet failed").
    const wire::Error &e = contents.error();
    // With encryption on, these codes come from decrypting (the label and CRC have their own).
    const bool decrypting = s.encryption_on() && s.cfg.gossip_verify_incoming;
    switch (e.code) {
      case Errc::DecryptFailed:
      case Errc::NoKeys:
      case Errc::Unsupported:
      case Errc::Malformed:
      case Errc::Truncated:
        if (!decrypting) {
          s.log(LogLevel::Error, [&] { return "Dropped a packet from=" + to_string(from) + ": " + e.message; });
          break;
        }
        s.log(LogLevel::Error, [&] { return "Decrypt packet failed: " + e.message + " from=" + to_string(from); });
        break;
      case Errc::BadCrc:
        s.log(LogLevel::Warn, [&] {
          return "Got invalid checksum for UDP packet: " + e.message + " from=" + to_string(from);
        });
        break;
      case Errc::LabelMismatch:
        s.log(LogLevel::Error, [&] {
          return "discarding packet with unacceptable label: " + e.message + " from=" + to_string(from);
        });
        break;
      default:
        s.log(LogLevel::Error, [&] { return "Dropped a packet from=" + to_string(from) + ": " + e.message; });
    }
    return;
  }
  s.m.packets_dropped += contents->errors.size();
  for (const auto &e : contents->errors) {
    s.log(LogLevel::Warn, [&] { return "Dropped a message from=" + to_string(from) + ": " + e.message; });
  }
  // memberlist's handoff: ping, indirect ping, ack and nack are handled as they come; alive
  // messages go to a high-priority queue and suspect, dead and user messages to a low-priority
  // one, each bounded by HandoffQueueDepth (when full, the arriving message is dropped). Its
  // handler then always takes the newest message, high queue first. Consumers depend on that
  // order (two user messages in one compound reach NotifyMsg newest first), so we keep it.
  std::vector<wire::Message *> high, low;
  const auto depth = static_cast<size_t>(std::max(0, s.cfg.handoff_queue_depth));
  size_t requests = 0, ignored = 0;
  for (auto &msg : contents->messages) {
    const auto type = handoff_type(msg);
    if (!type) {
      if (std::holds_alternative<wire::Ping>(msg) || std::holds_alternative<wire::IndirectPingReq>(msg)) {
        if (requests >= kMaxRequestsPerPacket) {
          ++ignored;
          continue;
        }
        ++requests;
      }
      if (running()) s.handle_message(now, from, msg);
      continue;
    }
    auto &queue = *type == wire::MsgType::Alive ? high : low;
    if (queue.size() >= depth) {
      ++s.m.handoff_dropped;
      s.log(LogLevel::Warn, [&] {
        return "handler queue full, dropping message (" + std::to_string(static_cast<int>(*type)) +
               ") from=" + to_string(from);
      });
      continue;
    }
    queue.push_back(&msg);
  }
  if (ignored) {
    s.m.packets_dropped += ignored;
    s.log(LogLevel::Warn, [&] {
      return "Ignored " + std::to_string(ignored) + " pings in one packet beyond the first " +
             std::to_string(kMaxRequestsPerPacket) + " from=" + to_string(from);
    });
  }
  // A delegate may shut the node down from inside a message; nothing is handled after that.
  for (auto it = high.rbegin(); it != high.rend() && running(); ++it) s.handle_message(now, from, **it);
  for (auto it = low.rbegin(); it != low.rend() && running(); ++it) s.handle_message(now, from, **it);
}

void Node::handle_stream(Time now, StreamId id, const Endpoint &from, wire::StreamMessage msg) {
  Impl &s = *impl_;
  s.log(LogLevel::Debug, [&] { return "Stream connection from=" + to_string(from); });
  if (!running()) {
    s.effects.emplace_back(ReplyStream{id, {}});
    return;
  }
  ++s.m.tcp_accept;
  ++s.m.tcp_received;
  std::visit(
      [&](auto &x) {
        using M = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<M, wire::PushPull>) {
          // The responder sends its state first, then merges (memberlist's handleConn).
          const Bytes mine = s.local_state(x.join);
          s.reply_stream(id, mine);
          if (auto bad = s.merge_remote(now, x)) {
            s.log(LogLevel::Error, [&] { return "Failed push/pull merge: " + *bad + " from=" + to_string(from); });
          }
        } else if constexpr (std::is_same_v<M, wire::UserMsg>) {
          if (!x.msg.empty() && s.dg.delegate) s.dg.delegate->notify_msg(x.msg);
          s.reply_stream(id, {});
        } else if constexpr (std::is_same_v<M, wire::Ping>) {
          // Meant for a previous owner of this address: no ack, so the prober keeps looking.
          if (!x.node.empty() && x.node != s.cfg.name) {
            s.log(LogLevel::Warn, [&] {
              return "Got ping for unexpected node " + x.node + " from=" + to_string(from);
            });
            s.reply_stream(id, {});
            return;
          }
          s.reply_stream(id, wire::encode(wire::AckResp{x.seq_no, std::nullopt}));
        } else {
          // Acks and errors are replies, not requests.
          s.log(LogLevel::Error, [&] {
            const auto type = std::is_same_v<M, wire::AckResp> ? wire::MsgType::AckResp : wire::MsgType::Err;
            return "Received invalid msgType (" + std::to_string(static_cast<int>(type)) + ") from=" + to_string(from);
          });
          s.reply_stream(id, {});
        }
      },
      msg);
}

void Node::handle_stream_error(Time, StreamId id, const Endpoint &from, const wire::Error &err) {
  Impl &s = *impl_;
  ++s.m.packets_dropped;
  s.log(LogLevel::Error, [&] { return "failed to receive: " + err.message + " from=" + to_string(from); });
  s.reply_stream(id, wire::encode(wire::ErrResp{err.message}));
}

void Node::handle_transport_error(Time, const std::string &what, LogLevel level) {
  impl_->log(level, [&] { return what; });
}

void Node::stream_result(Time now, StreamId id, wire::Result<std::optional<wire::StreamMessage>> outcome) {
  Impl &s = *impl_;
  auto it = s.out_streams.find(id);
  if (it == s.out_streams.end()) return;
  const Impl::OutStream os = it->second;
  s.out_streams.erase(it);
  if (!running()) return;
  // What went wrong, if anything, in words.
  std::optional<std::string> err;
  const wire::StreamMessage *reply = nullptr;
  if (!outcome) {
    err = outcome.error().message;
  } else if (*outcome) {
    reply = &**outcome;
    ++s.m.tcp_received;
    if (const auto *e = std::get_if<wire::ErrResp>(reply)) err = "remote error: " + e->error;
  }
  switch (os.kind) {
    case Impl::StreamKind::PushPull:
    case Impl::StreamKind::Join: {
      s.sample("memberlist.pushPullNode", Impl::to_ms(now - os.started));
      if (!err) {
        const auto *pp = reply ? std::get_if<wire::PushPull>(reply) : nullptr;
        if (!pp) {
          err = "expected a push/pull reply";
        } else if (auto bad = s.merge_remote(now, *pp)) {
          err = *bad;
        }
      }
      if (err) {
        // memberlist's Join logs each failed address at DEBUG (the caller gets the errors); a
        // failed periodic push/pull is an ERR, naming the node.
        const bool join = os.kind == Impl::StreamKind::Join;
        s.log(join ? LogLevel::Debug : LogLevel::Error, [&] {
          return join ? "failed to join " + to_string(os.to) + ": " + *err
                      : "Push/Pull with " + (os.to.name.empty() ? to_string(os.to) : os.to.name) + " failed: " + *err;
        });
      }
      if (os.kind == Impl::StreamKind::Join) {
        auto j = s.joins.find(os.op);
        if (j == s.joins.end()) break;
        if (err) {
          j->second.errors.push_back("failed to join " + to_string(os.to) + ": " + *err);
        } else {
          ++j->second.ok;
        }
        if (--j->second.outstanding == 0) {
          Impl::JoinOp finished = std::move(j->second);
          s.joins.erase(j);
          s.finish_join(os.op, finished);
        }
      }
      break;
    }
    case Impl::StreamKind::TcpPing: {
      if (s.probe && s.probe->seq == os.seq) {
        const auto *ack = reply ? std::get_if<wire::AckResp>(reply) : nullptr;
        if (!err && ack && ack->seq_no == os.seq) {
          s.probe->tcp_ok = true;
        }
        // memberlist's sendPingAndWaitForAck: a dial that fails is what a dead node looks like,
        // "so we shouldn't spam the logs with it"; a failure once connected is logged. The
        // transports report a failed dial as Errc::Network.
        const bool never_connected = !outcome && outcome.error().code == Errc::Network;
        if (err && !never_connected) s.log(LogLevel::Error, [&] { return "Failed fallback TCP ping: " + *err; });
        s.probe->tcp.reset();
        // The probe decides at its end time (the UDP paths may still answer first).
        if (now >= s.probe->end) {
          if (s.probe->tcp_ok) {
            s.probe_succeeded(now, nullptr, false);
          } else {
            s.probe_failed(now);
          }
        }
      }
      break;
    }
    case Impl::StreamKind::Reliable:
      s.done(os.op, err ? wire::Status(make_error(Errc::Network, *err)) : wire::Status(wire::Ok{}));
      break;
  }
}

OpId Node::leave(Time now, Duration timeout) {
  Impl &s = *impl_;
  const OpId op = s.new_op();
  if (!running()) {
    s.done(op, make_error(Errc::Closed, "memberlist is shut down"));
    return op;
  }
  if (s.leaving) {
    s.done(op, wire::Ok{});
    return op;
  }
  s.leaving = true;
  const state::Member *me = s.members.find(s.cfg.name);
  // Nothing to announce without our own entry (cannot happen after start; memberlist guards it).
  if (!me) {
    s.log(LogLevel::Warn, [] { return std::string("Leave but we're not in the node map."); });
    s.done(op, wire::Ok{});
    return op;
  }
  const bool wait = s.any_alive();
  std::function<void()> notify;
  if (wait) notify = s.waiter(op, now, timeout, "leave");
  s.dead_node(now, wire::Dead{me->incarnation, s.cfg.name, s.cfg.name}, std::move(notify));
  if (!wait) s.done(op, wire::Ok{});
  return op;
}

OpId Node::update_node(Time now, Duration timeout) {
  Impl &s = *impl_;
  const OpId op = s.new_op();
  if (!running()) {
    s.done(op, make_error(Errc::Closed, "memberlist is shut down"));
    return op;
  }
  Bytes meta;
  if (s.dg.delegate) {
    const auto meta_max = static_cast<size_t>(s.cfg.meta_max_size);
    meta = s.dg.delegate->node_meta(meta_max);
    if (meta.size() > meta_max) {
      auto err = s.meta_too_large(meta.size());
      s.log(LogLevel::Error, [&] { return "UpdateNode refused: " + err.message; });
      s.done(op, std::move(err));
      return op;
    }
  }
  // Saturating, like refute: an update at the ceiling keeps 0xFFFFFFFF rather than wrapping
  // (peers that hold us alive at 0xFFFFFFFF then keep our old metadata; see docs/protocol.md).
  s.incarnation = Impl::next_incarnation(s.incarnation);
  const uint32_t inc = s.incarnation;
  const bool wait = s.any_alive();
  std::function<void()> notify;
  if (wait) notify = s.waiter(op, now, timeout, "update");
  s.alive_node(now, wire::Alive{inc, s.cfg.name, s.self.ip, s.self.port, meta, Bytes(s.vsn.begin(), s.vsn.end())},
               true, std::move(notify));
  if (!wait) s.done(op, wire::Ok{});
  return op;
}

OpId Node::ping(Time now, const std::string &name, const Endpoint &addr) {
  Impl &s = *impl_;
  const OpId op = s.new_op();
  if (!running()) {
    s.done(op, make_error(Errc::Closed, "memberlist is shut down"));
    return op;
  }
  const uint32_t seq = ++s.sequence;
  if (auto st = s.send_raw(Endpoint{addr.ip, addr.port, name}, wire::encode(s.make_ping(seq, name))); !st) {
    s.done(op, st);  // memberlist's Ping returns the send error
    return op;
  }
  s.pings[seq] = Impl::PingOp{op, now, now + s.cfg.probe_timeout, name};
  return op;
}

wire::Status Node::send_best_effort(Time, const Endpoint &to, ByteView msg) {
  Impl &s = *impl_;
  if (!running()) return make_error(Errc::Closed, "memberlist is shut down");
  Bytes framed;
  framed.reserve(msg.size() + 1);
  framed.push_back(static_cast<uint8_t>(wire::MsgType::User));
  framed.insert(framed.end(), msg.begin(), msg.end());
  return s.send_raw(to, framed);
}

void Node::send_best_effort_queued(Time now, const Endpoint &to, ByteView msg) {
  if (!running()) return;
  if (auto st = send_best_effort(now, to, msg); !st) {
    ++impl_->m.udp_send_dropped;
    impl_->log(LogLevel::Error,
               [&] { return "Failed to send user message to " + to_string(to) + ": " + st.error().message; });
  }
}

OpId Node::send_reliable(Time now, const Endpoint &to, ByteView msg) {
  Impl &s = *impl_;
  const OpId op = s.new_op();
  if (!running()) {
    s.done(op, make_error(Errc::Closed, "memberlist is shut down"));
    return op;
  }
  if (!s.open_stream(now, to, wire::encode_user_stream(msg), false, s.cfg.tcp_timeout,
                     Impl::OutStream{Impl::StreamKind::Reliable, op, 0, to})) {
    s.done(op, make_error(Errc::Network, "cannot send to " + to_string(to)));
  }
  return op;
}

void Node::queue_broadcast(Bytes msg, std::string name) {
  Bytes framed;
  framed.reserve(msg.size() + 1);
  framed.push_back(static_cast<uint8_t>(wire::MsgType::User));
  framed.insert(framed.end(), msg.begin(), msg.end());
  impl_->user_queue.queue(std::make_unique<UserBroadcast>(std::move(name), std::move(framed)));
}

void Node::shutdown(Time) {
  Impl &s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  const auto fail = make_error(Errc::Closed, "memberlist is shut down");
  for (const auto &[op, j] : s.joins) s.done(op, fail);
  for (const auto &[op, w] : s.waits) s.done(op, fail);
  for (const auto &[seq, p] : s.pings) s.done(p.op, fail);
  for (const auto &[id, os] : s.out_streams) {
    if (os.kind == Impl::StreamKind::Reliable) s.done(os.op, fail);
  }
  s.joins.clear();
  s.waits.clear();
  s.pings.clear();
  s.out_streams.clear();
  s.relays.clear();
  s.name_checks.clear();
  s.probe.reset();
}

std::vector<Member> Node::members() const {
  std::vector<Member> out;
  impl_->for_each_member([&](const state::Member &r) {
    if (!dead_or_left(r.state)) out.push_back(impl_->to_member(r));
  });
  return out;
}

int Node::num_members() const {
  int n = 0;
  impl_->for_each_member([&](const state::Member &r) { n += !dead_or_left(r.state); });
  return n;
}

Member Node::local_member() const {
  const auto *r = impl_->members.find(impl_->cfg.name);
  return r ? impl_->to_member(*r) : Member{};
}

uint64_t Node::local_stamp() const {
  const auto *r = impl_->members.local();
  if (!r) return 0;
  return uint64_t{1} << 40 | uint64_t{static_cast<uint8_t>(r->state)} << 32 | r->incarnation;
}

uint64_t Node::address_epoch() const { return impl_->address_epoch; }

std::optional<Member> Node::member(const std::string &name) const {
  const auto *r = impl_->members.find(name);
  if (!r) return std::nullopt;
  return impl_->to_member(*r);
}

int Node::health_score() const { return impl_->awareness.score(); }

Metrics Node::metrics() const {
  Metrics m = impl_->m;
  impl_->for_each_member([&](const state::Member &r) {
    switch (r.state) {
      case NodeState::Alive: ++m.node_alive; break;
      case NodeState::Suspect: ++m.node_suspect; break;
      case NodeState::Dead: ++m.node_dead; break;
      case NodeState::Left: ++m.node_left; break;
    }
  });
  m.health_score = impl_->awareness.score();
  m.name_checks_pending = impl_->name_checks.size();
  m.queue_system = impl_->system_queue.num_queued();
  m.queue_system_by_reference = impl_->system_queue.num_member_alives();
  m.queue_stale_dropped = impl_->system_queue.stale_dropped();
  m.queue_user = impl_->user_queue.num_queued();
  return m;
}

void Node::set_work_clock(std::function<Time()> clock) { impl_->work_clock = std::move(clock); }

std::vector<MetricSample> Node::take_samples() {
  auto &ring = impl_->samples;
  const auto head = ring.begin() + static_cast<std::ptrdiff_t>(impl_->samples_head);
  std::vector<MetricSample> out;
  out.reserve(ring.size());
  out.insert(out.end(), head, ring.end());  // the oldest, when the ring wrapped
  out.insert(out.end(), ring.begin(), head);
  impl_->samples_head = 0;
  ring.clear();  // the capacity stays: about one read interval's samples
  return out;
}

const Config &Node::config() const { return impl_->cfg; }
bool Node::running() const { return impl_->started && !impl_->stopped; }

wire::StreamIn Node::stream_in(bool request) const {
  wire::StreamIn in;
  in.label = impl_->cfg.label;
  in.skip_inbound_label_check = impl_->cfg.skip_inbound_label_check;
  in.read_label_header = request;
  in.keyring = &impl_->keyring;
  in.verify_incoming = impl_->cfg.gossip_verify_incoming;
  in.limits = impl_->cfg.limits;
  return in;
}

wire::Keyring &Node::keyring() { return impl_->keyring; }
bool Node::has_effects() const { return !impl_->effects.empty(); }
std::vector<Effect> Node::take_effects() { return std::exchange(impl_->effects, {}); }

}  // namespace memberlist::protocol

