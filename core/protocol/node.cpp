// The SWIM + Lifeguard state machine. Behaviour follows memberlist (WIRE.md §6); comments name
// the memberlist function whose semantics a piece mirrors.
#include "protocol/node.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "state/awareness.hpp"
#include "state/broadcast_queue.hpp"
#include "state/member_table.hpp"
#include "state/suspicion.hpp"
#include "state/util.hpp"
#include "wire/codec.hpp"
#include "wire/crypto.hpp"
#include "wire/framing.hpp"
#include "wire/packet.hpp"
#include "wire/stream.hpp"

namespace memberlist::protocol {

using wire::Errc;
using wire::make_error;

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

constexpr size_t kCompoundHeaderOverhead = 2;
constexpr size_t kCompoundOverhead = 2;
constexpr size_t kUserMsgOverhead = 1;
// memberlist before v0.2.4 (v0.1.5 included) mis-splits compounds of more than 127 parts (its
// length check is computed in uint8), so we never send more, though newer nodes accept 255.
constexpr size_t kMaxCompoundParts = 127;
constexpr Time kNever = Time::max();
constexpr uint32_t kMaxIncarnation = 0xFFFFFFFF;  // incarnations are uint32 on the wire

bool dead_or_left(NodeState s) { return s == NodeState::Dead || s == NodeState::Left; }

// memberlist compares byte slices with bytes.Equal: nil equals empty.
const Bytes &bytes(const wire::OptBytes &b) {
  static const Bytes empty;
  return b ? *b : empty;
}

// A user broadcast queued through Node::queue_broadcast.
class UserBroadcast final : public state::Broadcast {
 public:
  UserBroadcast(std::string name, Bytes msg) : name_(std::move(name)), msg_(std::move(msg)) {}
  ByteView message() const override { return msg_; }
  std::optional<std::string_view> name() const override {
    if (name_.empty()) return std::nullopt;
    return std::string_view(name_);
  }
  bool unique() const override { return name_.empty(); }

 private:
  std::string name_;
  Bytes msg_;
};

// An IP as Go's net.IP prints it with %v (log lines keep memberlist's words): dotted for IPv4
// and IPv4-mapped IPv6, RFC 5952 for IPv6, "<nil>" when empty, "?" and hex otherwise.
std::string go_ip(const Bytes &ip) {
  char buf[INET6_ADDRSTRLEN] = "";
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (ip.empty()) return "<nil>";
  if (ip.size() == 4 || (ip.size() == 16 && std::equal(kMapped, kMapped + 12, ip.begin()))) {
    inet_ntop(AF_INET, ip.data() + (ip.size() - 4), buf, sizeof buf);
    return buf;
  }
  if (ip.size() == 16) {
    inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
    return buf;
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out = "?";
  for (uint8_t b : ip) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// A byte slice as Go prints it with %v: "[1 2 3]".
std::string go_bytes(ByteView b) {
  std::string out = "[";
  for (size_t i = 0; i < b.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(b[i]);
  }
  return out + "]";
}

// The type of a message memberlist hands off to its packet handler goroutine (alive, suspect,
// dead, user); nullopt for those it handles on the receive path.
std::optional<wire::MsgType> handoff_type(const wire::Message &msg) {
  if (std::holds_alternative<wire::Alive>(msg)) return wire::MsgType::Alive;
  if (std::holds_alternative<wire::Suspect>(msg)) return wire::MsgType::Suspect;
  if (std::holds_alternative<wire::Dead>(msg)) return wire::MsgType::Dead;
  if (std::holds_alternative<wire::UserMsg>(msg)) return wire::MsgType::User;
  return std::nullopt;
}

// Pings and indirect pings answered from one datagram. Each makes us send a datagram (an ack to
// the sender, or to any SourceAddr it names; a ping to any target it names), so a datagram packed
// with them turns us into a reflector: memberlist answers every one (a compressed 8 KiB datagram
// of nested compounds held 257,040 pings). memberlist's senders put at most one ping or indirect
// ping in a datagram (probeNode: a ping, with a suspect piggybacked; one indirect request per
// peer), so this leaves room for batching senders while keeping a reply-to-request ratio near 1.
constexpr size_t kMaxRequestsPerPacket = 4;

}  // namespace

struct Node::Impl {
  // ---- configuration and identity
  Config cfg;
  Endpoint self;
  Delegates dg;
  state::Rng rng;
  wire::Keyring keyring;
  std::vector<Cidr> cidrs;
  std::array<uint8_t, 6> vsn{};
  bool started = false;
  bool stopped = false;
  bool leaving = false;

  // ---- state
  state::MemberTable members;
  std::unordered_map<std::string, state::Suspicion> suspicions;
  state::Awareness awareness;
  state::TransmitLimitedQueue system_queue;
  state::TransmitLimitedQueue user_queue;
  uint32_t incarnation = 0;
  uint32_t sequence = 0;

  // ---- timers
  Time next_probe = kNever, next_gossip = kNever, next_push_pull = kNever, next_reconnect = kNever;

  // Nodes that failed and were reaped, kept for reconnecting (bounded; oldest dropped first).
  struct Failed {
    Endpoint at;
    Time since;
  };
  std::deque<Failed> failed;
  static constexpr size_t kMaxFailed = 4096;

  // An in-flight probe (probeNode).
  struct Probe {
    uint32_t seq = 0;
    std::string target;
    Time sent{};
    Time direct_deadline{};  // ProbeTimeout after sending: go indirect
    Time end{};              // the scaled probe interval after sending: give up
    bool indirect_sent = false;
    int expected_nacks = 0;
    int nacks = 0;
    std::optional<StreamId> tcp;
    bool tcp_ok = false;
  };
  std::optional<Probe> probe;
  // Suspects whose suspicion ran out, to be probed once more before they are declared dead
  // (Lifeguard on; beyond memberlist, see suspicion_expired).
  // Each keeps the expired suspicion's confirmations and k, for the log line and metric.
  struct FinalCheck {
    std::string name;
    int confirmations = 0;
    int k = 0;
  };
  std::vector<FinalCheck> final_checks;

  // Ack handlers other than the probe's own: relayed pings (indirect ping on behalf of someone)
  // and the public Ping call.
  struct Relay {
    Endpoint requester;
    uint32_t their_seq;
    bool nack;
    Time deadline;
  };
  std::map<uint32_t, Relay> relays;
  struct PingOp {
    OpId op;
    Time sent;
    Time deadline;
    std::string node;
  };
  std::map<uint32_t, PingOp> pings;

  // ---- streams we opened
  enum class StreamKind { PushPull, Join, TcpPing, Reliable };
  struct OutStream {
    StreamKind kind;
    OpId op = 0;      // Join, Reliable
    uint32_t seq = 0;  // TcpPing
    Endpoint to;
  };
  std::map<StreamId, OutStream> out_streams;
  StreamId next_stream = 1;

  // ---- operations in progress
  struct JoinOp {
    int outstanding = 0;
    int ok = 0;
    std::vector<std::string> errors;
  };
  std::map<OpId, JoinOp> joins;
  struct WaitOp {  // Leave / UpdateNode: waiting for a broadcast to finish
    Time deadline;
    std::string what;
  };
  std::map<OpId, WaitOp> waits;
  OpId next_op = 1;

  std::deque<Effect> effects;
  Metrics m;

  Impl(Config c, Endpoint adv, Delegates d, uint64_t seed)
      : cfg(std::move(c)),
        self(std::move(adv)),
        dg(d),
        rng(seed),
        members(cfg.name),
        awareness(cfg.awareness_max_multiplier) {
    system_queue.set_retransmit_mult(cfg.retransmit_mult);
    user_queue.set_retransmit_mult(cfg.retransmit_mult);
  }

  // ------------------------------------------------------------------ helpers
  size_t est_nodes() const { return std::max<size_t>(1, members.size()); }
  template <class F>
  void for_each_member(F &&f) const {
    for (const state::Member &r : members.members()) f(r);
  }

  Member to_member(const state::Member &r) const {
    Member mb;
    mb.name = r.name;
    mb.addr = bytes(r.addr);
    mb.port = r.port;
    mb.meta = bytes(r.meta);
    mb.vsn = r.vsn;
    mb.state = r.state;
    mb.incarnation = r.incarnation;
    return mb;
  }

  Endpoint endpoint_of(const state::Member &r) const { return Endpoint{bytes(r.addr), r.port, r.name}; }

  OpId new_op() { return next_op++; }
  void done(OpId op, wire::Status st, int contacted = 0, Duration rtt = {}) {
    effects.emplace_back(OpDone{op, std::move(st), contacted, rtt});
  }

  bool encryption_on() const { return !keyring.empty(); }

  // ------------------------------------------------------------------ sending
  // rawSendMsgPacket: compress, CRC for PMax >= 5 peers, encrypt, label. The callers log a
  // failure in memberlist's words for their situation.
  wire::Status send_raw(const Endpoint &to, ByteView payload) {
    if (auto st = names_ok(to); !st) return st;
    wire::PacketOut o;
    o.label = cfg.label;
    o.compress = cfg.enable_compression;
    if (const auto *r = to.name.empty() ? nullptr : members.find(to.name); r && r->vsn[1] >= 5) o.crc = true;
    if (encryption_on() && cfg.gossip_verify_outgoing) {
      o.keyring = &keyring;
      o.encryption_version = wire::encryption_version_for(cfg.protocol_version);
    }
    auto pkt = wire::encode_packet(payload, o);
    if (!pkt) return pkt.error();
    ++m.udp_sent;
    m.udp_sent_bytes += pkt->size();
    effects.emplace_back(SendPacket{to, std::move(pkt.value())});
    return wire::Ok{};
  }

  // With RequireNodeNames, nothing goes to an address without a node name.
  wire::Status names_ok(const Endpoint &to) const {
    if (cfg.require_node_names && to.name.empty()) {
      return make_error(Errc::OutOfRange,
                        "memberlist: node names are required by configuration but one was not provided");
    }
    return wire::Ok{};
  }

  size_t packet_budget() const {
    size_t overhead = kCompoundHeaderOverhead + wire::label_overhead(cfg.label);
    if (encryption_on() && cfg.gossip_verify_outgoing) overhead += wire::kEncryptOverhead;
    const auto size = static_cast<size_t>(cfg.udp_buffer_size);
    return size > overhead ? size - overhead : 0;
  }

  // Broadcasts for one packet. System and user messages share the budget fairly: when both
  // have more than fits, each gets at least half (so a flood of one cannot starve the other);
  // what one leaves unused goes to the other. Each queue is asked once per packet, so a message
  // is never taken twice for the same packet. Everything the delegate returns is kept, even
  // beyond `limit` (memberlist's getBroadcasts appends it all): the caller splits the result
  // into as many packets as it needs (send_parts), so no user broadcast is lost.
  std::vector<Bytes> take_broadcasts(size_t limit) {
    std::vector<Bytes> out;
    const size_t n = est_nodes();
    const auto overhead = static_cast<int64_t>(kCompoundOverhead);
    const auto system_wants =
        static_cast<size_t>(system_queue.peek_bytes(overhead, static_cast<int64_t>(limit)));
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
    system_queue.append_broadcasts(overhead, static_cast<int64_t>(system_limit), n, system);
    system.insert(system.end(), std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()));
    return system;
  }

  // Sends `parts` to `to` in order, as few packets as the limits allow: a packet holds at most
  // kMaxCompoundParts parts and, where the parts allow, at most `budget` bytes by memberlist's
  // accounting (kCompoundOverhead + size per part; the header is already out of the budget). A
  // part larger than the budget goes alone. The first packet has only `first_budget` bytes (what
  // a primary message left, see send_msg) and starts with `primary` when given. A packet of one
  // part is sent bare. (memberlist's makeCompoundMessages splits by count only, at 255.)
  // Returns the first failure (the other packets are still tried).
  wire::Status send_parts(const Endpoint &to, std::optional<Bytes> primary, std::vector<Bytes> parts,
                          size_t first_budget, size_t budget) {
    std::vector<Bytes> packet;
    size_t used = 0, limit = first_budget;
    wire::Status result = wire::Ok{};
    if (primary) packet.push_back(std::move(*primary));
    auto flush = [&] {
      wire::Status st = wire::Ok{};
      if (packet.size() == 1) {
        st = send_raw(to, packet[0]);
      } else if (!packet.empty()) {
        auto c = wire::make_compound(packet);
        st = c ? send_raw(to, *c) : wire::Status(c.error());
      }
      if (!st && result) result = st;
      packet.clear();
      used = 0;
      limit = budget;
    };
    for (auto &part : parts) {
      const size_t cost = kCompoundOverhead + part.size();
      if (!packet.empty() && (packet.size() == kMaxCompoundParts || used + cost > limit)) flush();
      used += cost;
      packet.push_back(std::move(part));
    }
    flush();
    return result;
  }

  // sendMsg: one message, with queued broadcasts piggybacked when they fit. Broadcasts beyond
  // what fits beside the message (a delegate may return more than asked) follow in further
  // packets to the same target.
  wire::Status send_msg(const Endpoint &to, Bytes msg) {
    // Refused before taking broadcasts, which would otherwise count a transmit for nothing.
    if (auto st = names_ok(to); !st) return st;
    const size_t budget = packet_budget();
    const size_t room = budget > msg.size() ? budget - msg.size() : 0;
    std::vector<Bytes> extra = room > 0 ? take_broadcasts(room) : std::vector<Bytes>{};
    if (extra.empty()) return send_raw(to, msg);
    return send_parts(to, std::move(msg), std::move(extra), room, budget);
  }

  wire::Result<Bytes> frame_stream(ByteView msg, bool dialer) {
    wire::StreamOut o;
    o.label = cfg.label;
    o.write_label_header = dialer;
    o.compress = cfg.enable_compression;
    if (encryption_on() && cfg.gossip_verify_outgoing) {
      o.keyring = &keyring;
      o.encryption_version = wire::encryption_version_for(cfg.protocol_version);
    }
    return wire::encode_stream(msg, o);
  }

  std::optional<StreamId> open_stream(Time now, const Endpoint &to, ByteView msg, bool expect_reply, Duration timeout,
                                      OutStream what) {
    if (cfg.require_node_names && to.name.empty()) return std::nullopt;
    auto framed = frame_stream(msg, true);
    if (!framed) return std::nullopt;
    const StreamId id = next_stream++;
    ++m.tcp_connect;
    ++m.tcp_sent;
    m.tcp_sent_bytes += framed->size();
    out_streams[id] = std::move(what);
    effects.emplace_back(OpenStream{id, to, now + timeout, std::move(framed.value()), expect_reply});
    return id;
  }

  // pushPullNode's sending half: our state to `to`, its state expected back.
  wire::Result<StreamId> open_push_pull(Time now, const Endpoint &to, bool join, OutStream what) {
    if (auto st = names_ok(to); !st) return st.error();
    auto id = open_stream(now, to, local_state(join), true, cfg.tcp_timeout, std::move(what));
    if (!id) return make_error(Errc::Internal, "cannot frame the push/pull state");
    log(LogLevel::Debug, [&] { return "Initiating push/pull sync with: " + to.name + " " + to_string(to); });
    return *id;
  }

  void reply_stream(StreamId id, ByteView msg) {
    Bytes data;
    if (!msg.empty()) {
      auto framed = frame_stream(msg, false);
      if (framed) data = std::move(framed.value());
    }
    ++m.tcp_sent;
    m.tcp_sent_bytes += data.size();
    effects.emplace_back(ReplyStream{id, std::move(data)});
  }

  wire::Ping make_ping(uint32_t seq, const std::string &target) const {
    return wire::Ping{seq, target, self.ip, self.port, cfg.name};
  }

  // ------------------------------------------------------------------ broadcasting
  void broadcast(const std::string &node, Bytes msg, std::function<void()> notify = nullptr) {
    system_queue.queue(std::make_unique<state::MemberlistBroadcast>(node, std::move(msg), std::move(notify)));
  }

  // ------------------------------------------------------------------ alive / suspect / dead
  // aliveNode. `notify` runs when this node's broadcast of `a` finishes (UpdateNode).
  void alive_node(Time now, wire::Alive a, bool bootstrap, std::function<void()> notify = nullptr) {
    const bool about_self = a.node == cfg.name;
    // An alive about us still in flight while we leave would make us rejoin: drop it.
    if (leaving && about_self) return;
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
    if (dg.alive) {
      // The alive delegate is shown the full version vector; without one it cannot judge.
      if (vsn_in.size() < 6) {
        log(LogLevel::Warn, [&] {
          return "ignoring alive message for '" + a.node + "' (" + go_ip(addr) + ":" + std::to_string(a.port) +
                 ") because Vsn is not present";
        });
        return;
      }
      Member peer;
      peer.name = a.node;
      peer.addr = addr;
      peer.port = a.port;
      peer.meta = meta;
      std::copy_n(vsn_in.begin(), 6, peer.vsn.begin());
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
      state::Member rec;
      rec.name = a.node;
      rec.addr = a.addr;
      rec.port = a.port;
      rec.meta = a.meta;
      rec.state = NodeState::Dead;
      rec.incarnation = 0;
      rec.state_change = now;
      if (vsn_in.size() > 5) std::copy_n(vsn_in.begin(), 6, rec.vsn.begin());
      r = &members.insert(std::move(rec), rng).first;
    } else if (bytes(r->addr) != addr || r->port != a.port) {
      // CIDRsAllowed: a known node may not move to an address outside them.
      if (!ip_allowed(addr)) {
        // memberlist's arguments are in this (odd) order; kept so the line reads the same.
        log(LogLevel::Warn, [&] {
          return "Rejected IP update from " + a.node + " to " + go_ip(bytes(r->addr)) + " for node " + go_ip(addr) +
                 ": " + go_ip(addr) + " is not allowed";
        });
        return;
      }
      const bool can_reclaim = cfg.dead_node_reclaim_time > 0s && now - r->state_change > cfg.dead_node_reclaim_time;
      // A left node, or one dead long enough, may come back elsewhere; a live one may not: two
      // nodes claim one name.
      if (r->state == NodeState::Left || (r->state == NodeState::Dead && can_reclaim)) {
        log(LogLevel::Info, [&] {
          return "Updating address for left or failed node " + r->name + " from " + go_ip(bytes(r->addr)) + ":" +
                 std::to_string(r->port) + " to " + go_ip(addr) + ":" + std::to_string(a.port);
        });
        updates_node = true;
      } else {
        log(LogLevel::Error, [&] {
          return "Conflicting address for " + r->name + ". Mine: " + go_ip(bytes(r->addr)) + ":" +
                 std::to_string(r->port) + " Theirs: " + go_ip(addr) + ":" + std::to_string(a.port) +
                 " Old state: " + std::to_string(static_cast<int64_t>(r->state));
        });
        if (dg.conflict) {
          Member other;
          other.name = a.node;
          other.addr = addr;
          other.port = a.port;
          other.meta = meta;
          dg.conflict->notify_conflict(to_member(*r), other);
        }
        return;
      }
    }
    const bool is_local = r->name == cfg.name;
    // Beyond memberlist, the ceiling tie rule: an alive needs a strictly greater incarnation than
    // what we hold, which no alive has once a suspect/dead at 0xFFFFFFFF is held. Such an
    // accusation would evict the node for good (memberlist #358), so at the ceiling an alive
    // beats a suspect or dead of the same incarnation. The accused's refutation (saturated at
    // the ceiling, see refute) brings it back as soon as it spreads. Left is not overridden: a
    // node that left does not come back through a tie. The cost is that at the ceiling an alive
    // and an accusation can alternate; probing settles it, as for any other node.
    const bool ceiling_tie = a.incarnation == kMaxIncarnation && r->incarnation == kMaxIncarnation &&
                             (r->state == NodeState::Suspect || r->state == NodeState::Dead);
    if (a.incarnation <= r->incarnation && !is_local && !updates_node && !ceiling_tie) return;
    if (a.incarnation < r->incarnation && is_local) return;
    suspicions.erase(a.node);
    const NodeState old_state = r->state;
    const Bytes old_meta = bytes(r->meta);
    if (!bootstrap && is_local) {
      const Bytes ours(r->vsn.begin(), r->vsn.end());
      if (a.incarnation == r->incarnation && meta == bytes(r->meta) && vsn_in == ours) return;
      refute(*r, a.incarnation);
      log(LogLevel::Warn, [&] {
        return "Refuting an alive message for '" + a.node + "' (" + go_ip(addr) + ":" + std::to_string(a.port) +
               ") meta:(" + go_bytes(meta) + " VS " + go_bytes(bytes(r->meta)) + "), vsn:(" + go_bytes(vsn_in) +
               " VS " + go_bytes(ours) + ")";
      });
    } else {
      ++m.msg_alive;
      broadcast(a.node, wire::encode(a), std::move(notify));
      if (vsn_in.size() >= 6) std::copy_n(vsn_in.begin(), 6, r->vsn.begin());
      r->incarnation = a.incarnation;
      r->meta = a.meta;
      r->addr = a.addr;
      r->port = a.port;
      if (r->state != NodeState::Alive) {
        r->state = NodeState::Alive;
        r->state_change = now;
      }
    }
    if (dg.events) {
      if (dead_or_left(old_state)) {
        dg.events->notify_join(to_member(*r));
      } else if (old_meta != bytes(r->meta)) {
        dg.events->notify_update(to_member(*r));
      }
    }
  }

  // suspectNode
  void suspect_node(Time now, const wire::Suspect &s) {
    state::Member *r = members.find(s.node);
    if (!r || s.incarnation < r->incarnation) return;
    if (auto it = suspicions.find(s.node); it != suspicions.end()) {
      if (it->second.confirm(s.from)) broadcast(s.node, wire::encode(s));
      return;
    }
    if (r->state != NodeState::Alive) return;
    if (r->name == cfg.name) {
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

  // The suspicion timer fired: the node is dead if nothing refuted it meanwhile. memberlist
  // declares it dead right away. With Lifeguard on we first probe it once more, fully (ping with
  // the suspicion attached, indirect pings, TCP): a node that missed the refutation's gossip
  // (each node misses a rumor with probability ~e^-RetransmitMult·log10 n) would otherwise
  // declare a healthy node dead. An answer re-arms the suspicion; the accused, told again,
  // refutes (or sends its newer incarnation, see stale_accusation).
  void suspicion_expired(Time now, const std::string &name) {
    FinalCheck check{name};
    if (auto it = suspicions.find(name); it != suspicions.end()) {
      check.confirmations = it->second.confirmations();
      check.k = it->second.k();
      suspicions.erase(it);
    }
    state::Member *r = members.find(name);
    if (!r || r->state != NodeState::Suspect) return;
    if (cfg.lifeguard && r->state_change != Time{}) {
      if (!is_final_check(name)) final_checks.push_back(std::move(check));
      if (!probe) start_probe(now);
      return;
    }
    declare_failed(now, *r, check);
  }

  // The suspicion ran out (and, with Lifeguard, the final check failed): the suspect is dead.
  void declare_failed(Time now, const state::Member &r, const FinalCheck &check) {
    // memberlist's degraded.timeout: fewer independent confirmations than expected.
    if (check.k > 0 && check.confirmations < check.k) ++m.degraded_timeout;
    log(LogLevel::Info, [&] {
      return "Marking " + r.name + " as failed, suspect timeout reached (" + std::to_string(check.confirmations) +
             " peer confirmations)";
    });
    dead_node(now, wire::Dead{r.incarnation, r.name, cfg.name});
  }

  bool is_final_check(const std::string &name) const {
    return std::any_of(final_checks.begin(), final_checks.end(), [&](const FinalCheck &f) { return f.name == name; });
  }
  // Ends the final check of `name`, handing back what it kept.
  FinalCheck end_final_check(const std::string &name) {
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

  // The final check failed: the suspect is dead.
  void final_check_failed(Time now, const std::string &name) {
    const FinalCheck check = end_final_check(name);
    state::Member *r = members.find(name);
    if (!r || r->state != NodeState::Suspect) return;
    declare_failed(now, *r, check);
  }

  // The final check got an answer: wait one more suspicion period for the refutation.
  void final_check_answered(Time now, const std::string &name) {
    end_final_check(name);
    state::Member *r = members.find(name);
    if (!r || r->state != NodeState::Suspect) return;
    const size_t n = est_nodes();
    const Duration min = state::suspicion_timeout(cfg.suspicion_mult, n, cfg.probe_interval);
    suspicions.insert_or_assign(name, state::Suspicion(cfg.name, 0, min, min, now));
  }

  // Someone accuses us with an incarnation older than ours: it missed our refutation. Tell it
  // directly (memberlist ignores such messages and leaves the repair to push/pull).
  void stale_accusation(const Endpoint &from) {
    const state::Member *me = members.find(cfg.name);
    if (!me || from.ip.empty()) return;
    wire::Alive a{me->incarnation, me->name, me->addr, me->port, me->meta, Bytes(me->vsn.begin(), me->vsn.end())};
    // Best effort, as the gossip it stands in for: a failure is not worth a line of its own.
    (void)send_msg(from, wire::encode(a));
  }

  // deadNode. `notify` is the Leave waiter for our own dead message.
  void dead_node(Time now, const wire::Dead &d, std::function<void()> notify = nullptr) {
    state::Member *r = members.find(d.node);
    if (!r || d.incarnation < r->incarnation) return;
    suspicions.erase(d.node);
    if (dead_or_left(r->state)) return;
    if (r->name == cfg.name) {
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
    if (dg.events) dg.events->notify_leave(to_member(*r));
  }

  // Delegates::logger; `make` builds the text only when the level is wanted.
  template <class F>
  void log(LogLevel level, F &&make) {
    if (dg.logger && dg.logger->enabled(level)) dg.logger->log(level, "memberlist: " + make());
  }

  // Our next incarnation, saturating: memberlist's uint32 add wraps 0xFFFFFFFF to 0, and an
  // alive at 0 is never accepted by anyone again (memberlist #358).
  static uint32_t next_incarnation(uint32_t inc) { return inc == kMaxIncarnation ? inc : inc + 1; }

  // refute: a higher incarnation than the accusation, gossiped as alive. Never wraps: an
  // accusation at 0xFFFFFFFF (only a forgery gets there; honest counting would take 4 billion
  // refutations) is answered with an alive at 0xFFFFFFFF, which our peers accept under the
  // ceiling tie rule in alive_node.
  void refute(state::Member &me, uint32_t accused) {
    incarnation = next_incarnation(incarnation);
    if (accused >= incarnation) incarnation = next_incarnation(accused);
    const uint32_t inc = incarnation;
    me.incarnation = inc;
    ++m.refutes;
    if (cfg.lifeguard) awareness.apply_delta(1);
    wire::Alive a{inc, me.name, me.addr, me.port, me.meta, Bytes(me.vsn.begin(), me.vsn.end())};
    // memberlist queues this under the address string, not the name (WIRE.md §6.2 refute).
    broadcast(to_string(endpoint_of(me)), wire::encode(a));
  }

  bool ip_allowed(const Bytes &addr) const {
    if (cidrs.empty()) return true;
    return std::any_of(cidrs.begin(), cidrs.end(), [&](const Cidr &c) { return c.contains(addr); });
  }

  // ------------------------------------------------------------------ probing (probeNode)
  Duration scaled_probe_interval() const {
    return cfg.lifeguard ? awareness.scale_timeout(cfg.probe_interval) : cfg.probe_interval;
  }

  void start_probe(Time now) {
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
      suspicions.erase(gone.name);
      if (gone.state == NodeState::Dead && cfg.reconnect_interval > 0s) {
        if (failed.size() == kMaxFailed) failed.pop_front();
        failed.push_back(Failed{endpoint_of(gone), gone.state_change});
      }
    }
    if (step.target) start_probe_of(now, *step.target);
  }

  void start_probe_of(Time now, const state::Member &t) {
    const state::Member *target = &t;
    ++m.probe_count;
    const Duration interval = scaled_probe_interval();
    if (interval > cfg.probe_interval) ++m.degraded_probe;
    Probe p;
    p.seq = ++sequence;
    p.target = target->name;
    p.sent = now;
    // memberlist's ack handler expires after the (scaled) interval, which ends the direct wait
    // early when probe_timeout is longer.
    p.direct_deadline = now + std::min(cfg.probe_timeout, interval);
    p.end = now + interval;
    const Endpoint to = endpoint_of(*target);
    const Bytes ping = wire::encode(make_ping(p.seq, target->name));
    // A failed send is logged and the probe runs its course, as if the datagram were lost.
    if (target->state == NodeState::Alive || !cfg.lifeguard) {
      if (auto st = send_msg(to, ping); !st) {
        log(LogLevel::Error, [&] { return "Failed to send UDP ping: " + st.error().message; });
      }
    } else {  // buddy system: tell the suspect it is suspected so it can refute at once
      const wire::Suspect s{target->incarnation, target->name, cfg.name};
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

  // No direct ack within ProbeTimeout: ask others, and try TCP.
  void probe_indirect(Time now) {
    Probe &p = *probe;
    p.indirect_sent = true;
    log(LogLevel::Debug, [&] { return "Failed UDP ping: " + p.target + " (timeout reached)"; });
    const state::Member *target = members.find(p.target);
    if (!target) return;
    const std::string target_name = target->name;
    const auto relays_picked = members.k_random_members(
        static_cast<size_t>(cfg.indirect_checks), rng, [&](const state::Member &r) {
          return r.name == cfg.name || r.name == target_name || r.state != NodeState::Alive;
        });
    wire::IndirectPingReq ind{p.seq, target->addr, target->port, target->name, false, self.ip, self.port, cfg.name};
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
      const Bytes ping = wire::encode(make_ping(p.seq, target->name));
      p.tcp = open_stream(now, endpoint_of(*target), ping, true, p.end - now,
                          OutStream{StreamKind::TcpPing, 0, p.seq, endpoint_of(*target)});
    }
  }

  void probe_succeeded(Time now, const wire::AckResp *ack, bool direct) {
    Probe p = std::move(*probe);
    probe.reset();
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

  void probe_failed(Time now) {
    Probe p = std::move(*probe);
    probe.reset();
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
    log(LogLevel::Info, [&] { return "Suspect " + r->name + " has failed, no acks received"; });
    suspect_node(now, wire::Suspect{r->incarnation, r->name, cfg.name});
  }

  // ------------------------------------------------------------------ gossip
  void gossip(Time now) {
    ++m.gossip_count;
    const auto targets = members.k_random_members(
        static_cast<size_t>(cfg.gossip_nodes), rng, [&](const state::Member &r) {
          if (r.name == cfg.name) return true;
          if (r.state == NodeState::Alive || r.state == NodeState::Suspect) return false;
          if (r.state == NodeState::Dead) return now - r.state_change > cfg.gossip_to_the_dead_time;
          return true;  // Left
        });
    for (const state::Member *t : targets) {
      auto msgs = take_broadcasts(packet_budget());
      if (msgs.empty()) return;
      const Endpoint to = endpoint_of(*t);
      if (auto st = send_parts(to, std::nullopt, std::move(msgs), packet_budget(), packet_budget()); !st) {
        log(LogLevel::Error, [&] { return "Failed to send gossip to " + to_string(to) + ": " + st.error().message; });
      }
    }
  }

  // ------------------------------------------------------------------ push/pull
  Bytes local_state(bool join) {
    wire::PushPull pp;
    pp.join = join;
    for_each_member([&](const state::Member &r) {
      pp.nodes.push_back(wire::PushNodeState{r.name, r.addr, r.port, r.meta, r.incarnation,
                                             static_cast<int64_t>(r.state), Bytes(r.vsn.begin(), r.vsn.end())});
    });
    if (dg.delegate) pp.user_state = dg.delegate->local_state(join);
    return wire::encode_push_pull(pp);
  }

  // verifyProtocol (v0.7.0 rules: only entries with >= 5 version bytes set the ranges).
  std::optional<std::string> verify_protocol(const std::vector<wire::PushNodeState> &remote) const {
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
        bad = "node '" + r.name + "' protocol version (" + std::to_string(r.vsn[2]) + ") is incompatible";
      } else if (r.vsn[5] < maxdmin || r.vsn[5] > mindmax) {
        bad = "node '" + r.name + "' delegate protocol version (" + std::to_string(r.vsn[5]) + ") is incompatible";
      }
    });
    return bad;
  }

  // mergeRemoteState
  std::optional<std::string> merge_remote(Time now, const wire::PushPull &pp) {
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

  void push_pull_with_random(Time now) {
    const auto picked = members.k_random_members(1, rng, [&](const state::Member &r) {
      return r.name == cfg.name || r.state != NodeState::Alive;
    });
    if (picked.empty()) return;
    ++m.push_pull_count;
    const Endpoint to = endpoint_of(*picked[0]);
    if (auto id = open_push_pull(now, to, false, OutStream{StreamKind::PushPull, 0, 0, to}); !id) {
      log(LogLevel::Error, [&] { return "Push/Pull with " + to.name + " failed: " + id.error().message; });
    }
  }

  // Partition healing: push/pull with one random failed node (reaped ones, or dead ones still
  // in the table past the gossip-to-the-dead window). A node that answers comes back through
  // the ordinary merge and refutation rules.
  void reconnect(Time now) {
    std::erase_if(failed, [&](const Failed &f) { return now - f.since > cfg.reconnect_timeout || members.find(f.at.name); });
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

  // ------------------------------------------------------------------ packets
  void handle_message(Time now, const Endpoint &from, wire::Message &msg) {
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

  // A suspect or dead message from `from` about `node`. About us, with an older incarnation:
  // the sender missed our refutation, so tell it directly. About us otherwise: memberlist's
  // handling (refute by gossip), and the sender also gets the new alive directly.
  template <class F>
  void accused(const Endpoint &from, const std::string &node, uint32_t inc, F &&handle) {
    const state::Member *me = node == cfg.name ? members.find(cfg.name) : nullptr;
    if (!me || !cfg.lifeguard || leaving) {
      handle();
      return;
    }
    if (inc < me->incarnation) {
      stale_accusation(from);
      return;
    }
    const uint32_t before = me->incarnation;
    handle();
    if (me->incarnation > before) stale_accusation(from);
  }

  // Where to answer: SourceAddr:SourcePort when present, else the UDP source.
  static Endpoint reply_to(const Endpoint &from, const Bytes &src_addr, uint16_t src_port, const std::string &src_node) {
    if (!src_addr.empty() && src_port > 0) return Endpoint{src_addr, src_port, src_node};
    return Endpoint{from.ip, from.port, src_node};
  }

  void on_ping(const Endpoint &from, const wire::Ping &p) {
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

  void on_indirect_ping(Time now, const Endpoint &from, const wire::IndirectPingReq &req) {
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

  void on_ack(Time now, const wire::AckResp &ack, bool udp) {
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
    }
  }

  // ------------------------------------------------------------------ timers
  Time next_deadline() const {
    Time t = std::min({next_probe, next_gossip, next_push_pull, next_reconnect});
    // While a TCP fallback ping is out, its result (due by probe->end) decides the probe; a
    // driver that never reports it cannot stall probing for longer than one more timeout.
    if (probe && !probe->indirect_sent) t = std::min(t, probe->direct_deadline);
    if (probe && probe->indirect_sent) t = std::min(t, probe->tcp ? probe->end + cfg.probe_timeout : probe->end);
    for (const auto &[seq, r] : relays) t = std::min(t, r.deadline);
    for (const auto &[seq, p] : pings) t = std::min(t, p.deadline);
    for (const auto &[name, s] : suspicions) t = std::min(t, s.deadline());
    for (const auto &[op, w] : waits) t = std::min(t, w.deadline);
    return t;
  }

  void tick(Time now) {
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
        done(it->second.op, make_error(Errc::Truncated, "no response from node"));
        it = pings.erase(it);
      } else {
        ++it;
      }
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
        done(it->first, make_error(Errc::Truncated, "timeout waiting for " + it->second.what + " broadcast"));
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

  bool any_alive() const {
    bool any = false;
    for_each_member([&](const state::Member &r) {
      if (r.name != cfg.name && !dead_or_left(r.state)) any = true;
    });
    return any;
  }

  // Completes `op` once the broadcast finishes; fails it at `deadline` (0 timeout = never).
  std::function<void()> waiter(OpId op, Time now, Duration timeout, std::string what) {
    waits[op] = WaitOp{timeout > 0s ? now + timeout : kNever, std::move(what)};
    return [this, op] {
      if (waits.erase(op)) done(op, wire::Ok{});
    };
  }
};

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
  Bytes meta;
  if (s.dg.delegate) {
    meta = s.dg.delegate->node_meta(kMetaMaxSize);
    if (meta.size() > kMetaMaxSize) {
      return make_error(Errc::LimitExceeded, "node metadata is " + std::to_string(meta.size()) +
                                                 " bytes; at most " + std::to_string(kMetaMaxSize) + " are allowed");
    }
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

void Node::handle_transport_error(Time, const std::string &what) {
  impl_->log(LogLevel::Error, [&] { return what; });
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
          const int ok = j->second.ok;
          std::string all;
          for (const auto &e : j->second.errors) all += (all.empty() ? "" : "; ") + e;
          s.joins.erase(j);
          if (ok > 0) {
            s.done(os.op, wire::Ok{}, ok);
          } else {
            s.done(os.op, make_error(Errc::Truncated, all.empty() ? "no nodes to join" : all), 0);
          }
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
        if (err) s.log(LogLevel::Error, [&] { return "Failed fallback TCP ping: " + *err; });
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
      s.done(os.op, err ? wire::Status(make_error(Errc::Truncated, *err)) : wire::Status(wire::Ok{}));
      break;
  }
}

OpId Node::join(Time now, const std::vector<Endpoint> &peers) {
  Impl &s = *impl_;
  const OpId op = s.new_op();
  if (!running()) {
    s.done(op, make_error(Errc::OutOfRange, "memberlist is shut down"));
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
    std::string all;
    for (const auto &e : j.errors) all += (all.empty() ? "" : "; ") + e;
    s.done(op, make_error(Errc::Truncated, all.empty() ? "no nodes to join" : all));
  } else {
    s.joins[op] = std::move(j);
  }
  return op;
}

OpId Node::leave(Time now, Duration timeout) {
  Impl &s = *impl_;
  const OpId op = s.new_op();
  if (!running()) {
    s.done(op, make_error(Errc::OutOfRange, "memberlist is shut down"));
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
    s.done(op, make_error(Errc::OutOfRange, "memberlist is shut down"));
    return op;
  }
  Bytes meta;
  if (s.dg.delegate) {
    meta = s.dg.delegate->node_meta(kMetaMaxSize);
    if (meta.size() > kMetaMaxSize) {
      s.done(op, make_error(Errc::LimitExceeded, "node metadata is " + std::to_string(meta.size()) +
                                                     " bytes; at most 512 are allowed"));
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
    s.done(op, make_error(Errc::OutOfRange, "memberlist is shut down"));
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
  if (!running()) return make_error(Errc::OutOfRange, "memberlist is shut down");
  if (s.cfg.require_node_names && to.name.empty()) return make_error(Errc::OutOfRange, "node names are required");
  Bytes framed;
  framed.reserve(msg.size() + 1);
  framed.push_back(static_cast<uint8_t>(wire::MsgType::User));
  framed.insert(framed.end(), msg.begin(), msg.end());
  return s.send_raw(to, framed);
}

OpId Node::send_reliable(Time now, const Endpoint &to, ByteView msg) {
  Impl &s = *impl_;
  const OpId op = s.new_op();
  if (!running()) {
    s.done(op, make_error(Errc::OutOfRange, "memberlist is shut down"));
    return op;
  }
  if (!s.open_stream(now, to, wire::encode_user_stream(msg), false, s.cfg.tcp_timeout,
                     Impl::OutStream{Impl::StreamKind::Reliable, op, 0, to})) {
    s.done(op, make_error(Errc::OutOfRange, "cannot send to " + to_string(to)));
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
  const auto fail = make_error(Errc::OutOfRange, "memberlist is shut down");
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
  m.queue_system = impl_->system_queue.num_queued();
  m.queue_user = impl_->user_queue.num_queued();
  return m;
}

const Config &Node::config() const { return impl_->cfg; }
bool Node::running() const { return impl_->started && !impl_->stopped; }

Node::StreamOptions Node::stream_options() const {
  return StreamOptions{impl_->cfg.label, impl_->cfg.skip_inbound_label_check, impl_->cfg.gossip_verify_incoming,
                       impl_->cfg.limits};
}

wire::Keyring &Node::keyring() { return impl_->keyring; }
bool Node::has_effects() const { return !impl_->effects.empty(); }
std::deque<Effect> Node::take_effects() { return std::exchange(impl_->effects, {}); }

}  // namespace memberlist::protocol
