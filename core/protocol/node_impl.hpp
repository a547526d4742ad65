// Node::Impl, the state machine's state and steps, shared by the files that implement it along
// memberlist's own cut (internal to core/protocol; not installed):
//   node.cpp        the Node facade (inputs, API, snapshots), the helpers and the timers
//   membership.cpp  alive / suspect / dead / refute (memberlist's state.go: aliveNode, ...)
//   probe.cpp       probing and the Lifeguard final checks (probeNode, probeNodeByAddr)
//   transmit.cpp    sending, framing, broadcasts, gossip (net.go: sendMsg, rawSendMsgPacket)
//   push_pull.cpp   push/pull and join (pushPullNode, mergeRemoteState, Join)
//   packets.cpp     what arrives in datagrams (net.go: handleCommand, handlePing, ...)
// Behaviour follows memberlist (WIRE.md §6); comments name the memberlist function a piece
// mirrors.
#pragma once

#include "protocol/node.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "state/awareness.hpp"
#include "state/broadcast_queue.hpp"
#include "state/fifo.hpp"
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

namespace impl_detail {

inline constexpr size_t kCompoundHeaderOverhead = 2;
inline constexpr size_t kCompoundOverhead = 2;
inline constexpr size_t kUserMsgOverhead = 1;
// memberlist before v0.2.4 (v0.1.5 included) mis-splits compounds of more than 127 parts (its
// length check is computed in uint8), so we never send more, though newer nodes accept 255.
inline constexpr size_t kMaxCompoundParts = 127;
inline constexpr Time kNever = Time::max();
inline constexpr uint32_t kMaxIncarnation = 0xFFFFFFFF;  // incarnations are uint32 on the wire

inline bool dead_or_left(NodeState s) { return s == NodeState::Dead || s == NodeState::Left; }

// memberlist compares byte slices with bytes.Equal: nil equals empty.
inline Bytes bytes(ByteView b) { return Bytes(b.begin(), b.end()); }
inline const Bytes &bytes(const wire::OptBytes &b) {
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
inline std::string go_ip(const Bytes &ip) {
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
inline std::string go_bytes(ByteView b) {
  std::string out = "[";
  for (size_t i = 0; i < b.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(b[i]);
  }
  return out + "]";
}

// The type of a message memberlist hands off to its packet handler goroutine (alive, suspect,
// dead, user); nullopt for those it handles on the receive path.
inline std::optional<wire::MsgType> handoff_type(const wire::Message &msg) {
  if (std::holds_alternative<wire::Alive>(msg)) return wire::MsgType::Alive;
  if (std::holds_alternative<wire::Suspect>(msg)) return wire::MsgType::Suspect;
  if (std::holds_alternative<wire::Dead>(msg)) return wire::MsgType::Dead;
  if (std::holds_alternative<wire::UserMsg>(msg)) return wire::MsgType::User;
  return std::nullopt;
}

}  // namespace impl_detail
using namespace impl_detail;

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
  // Moves whenever a member joins (perhaps at a new address) or becomes dead or left: what a
  // host's name -> endpoint cache of live members must be cleared on (Node::address_epoch).
  uint64_t address_epoch = 0;

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
  state::Fifo<Failed> failed;
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
    Endpoint to;  // the address probed (the target may move meanwhile: name reuse)
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

  // Name reuse (Config::reclaim_name_on_new_address; membership.cpp): an alive for a live or
  // suspect name from a new address waits while the old address is pinged. One check per name,
  // at most Node::kMaxNameChecks; by the ping's sequence number.
  struct NameCheck {
    std::string name;
    Endpoint old;          // the address pinged (the one we hold for the name)
    Time deadline;         // probe_timeout after the ping
    wire::Alive pending;   // the newest alive from another address, applied when no ack came
    uint32_t incarnation;  // the holder's when the check began
  };
  std::map<uint32_t, NameCheck> name_checks;
  // Where names moved away from, with the incarnation they had there: an alive from that
  // address no newer than it is stale news (gossip or push/pull from a node that has not moved
  // the name yet), not a claim to check. Bounded (Node::kMaxMovedNames, oldest dropped).
  struct MovedName {
    std::string name;
    Endpoint old;
    uint32_t incarnation;
    Time until;
  };
  state::Fifo<MovedName> moved_names;

  // ---- streams we opened
  enum class StreamKind { PushPull, Join, TcpPing, Reliable };
  struct OutStream {
    StreamKind kind;
    OpId op = 0;      // Join, Reliable
    uint32_t seq = 0;  // TcpPing
    Endpoint to;
    Time started{};  // PushPull, Join: for memberlist.pushPullNode
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
  void finish_join(OpId op, const JoinOp &j);  // push_pull.cpp
  struct WaitOp {  // Leave / UpdateNode: waiting for a broadcast to finish
    Time deadline;
    std::string what;
  };
  std::map<OpId, WaitOp> waits;
  OpId next_op = 1;

  std::vector<Effect> effects;
  Metrics m;
  // The samples since the last take_samples, oldest first, at most kMaxMetricSamples: once full,
  // a ring whose oldest (at samples_head) the next sample overwrites. Nothing is allocated before
  // the first sample, and no more than the cap after.
  std::vector<MetricSample> samples;
  size_t samples_head = 0;
  std::function<Time()> work_clock;  // Node::set_work_clock
  void sample(const char *name, double value) {
    if (samples.size() < Node::kMaxMetricSamples) {
      samples.push_back(MetricSample{name, value});
      return;
    }
    samples[samples_head] = MetricSample{name, value};
    samples_head = (samples_head + 1) % samples.size();
    ++m.samples_dropped;
  }
  static double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

  Impl(Config c, Endpoint adv, Delegates d, uint64_t seed)
      : cfg(std::move(c)),
        self(std::move(adv)),
        dg(d),
        rng(seed),
        members(cfg.name),
        awareness(cfg.awareness_max_multiplier) {
    system_queue.set_retransmit_mult(cfg.retransmit_mult);
    // A queued member alive refers to its entry: it goes before the entry does.
    members.set_reap_hook([this](const state::Member &r) { system_queue.forget_member(r); });
    user_queue.set_retransmit_mult(cfg.retransmit_mult);
  }

  // ------------------------------------------------------------------ helpers
  size_t est_nodes() const { return std::max<size_t>(1, members.size()); }
  template <class F>
  void for_each_member(F &&f) const {
    for (const state::Member &r : members.members()) f(r);
  }

  Member to_member(const state::Member &r) const;

  Endpoint endpoint_of(const state::Member &r) const { return Endpoint{bytes(r.addr()), r.port, r.name_str()}; }

  OpId new_op() { return next_op++; }
  void done(OpId op, wire::Status st, int contacted = 0, Duration rtt = {});

  bool encryption_on() const { return !keyring.empty(); }

  // ------------------------------------------------------------------ sending
  // rawSendMsgPacket: compress, CRC for PMax >= 5 peers, encrypt, label. The callers log a
  // failure in memberlist's words for their situation.
  wire::Status send_raw(const Endpoint &to, ByteView payload);

  // With RequireNodeNames, nothing goes to an address without a node name.
  wire::Status names_ok(const Endpoint &to) const;

  size_t packet_budget() const;

  // The refusal of metadata over meta_max_size (start, update_node).
  wire::Error meta_too_large(size_t got) const {
    std::string msg = "node metadata is " + std::to_string(got) + " bytes; at most " +
                      std::to_string(cfg.meta_max_size) + " are allowed (meta_max_size)";
    return make_error(Errc::LimitExceeded, std::move(msg));
  }

  // Broadcasts for one packet. System and user messages share the budget fairly: when both
  // have more than fits, each gets at least half (so a flood of one cannot starve the other);
  // what one leaves unused goes to the other. Each queue is asked once per packet, so a message
  // is never taken twice for the same packet. Everything the delegate returns is kept, even
  // beyond `limit` (memberlist's getBroadcasts appends it all): the caller splits the result
  // into as many packets as it needs (send_parts), so no user broadcast is lost.
  std::vector<Bytes> take_broadcasts(size_t limit);

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
  wire::Status send_msg(const Endpoint &to, Bytes msg);

  wire::Result<Bytes> frame_stream(ByteView msg, bool dialer);

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
  wire::Result<StreamId> open_push_pull(Time now, const Endpoint &to, bool join, OutStream what);

  void reply_stream(StreamId id, ByteView msg);

  wire::Ping make_ping(uint32_t seq, const std::string &target) const;

  // ------------------------------------------------------------------ broadcasting
  void broadcast(const std::string &node, Bytes msg, std::function<void()> notify = nullptr);
  // An alive a about r (msg is its encoding), already applied to r: queued as a reference to the
  // entry when r states exactly a (state::TransmitLimitedQueue::queue_member_alive), else as msg.
  void broadcast_alive(const state::Member &r, const wire::Alive &a, Bytes msg);

  // ------------------------------------------------------------------ alive / suspect / dead
  // aliveNode. `notify` runs when this node's broadcast of `a` finishes (UpdateNode).
  void alive_node(Time now, wire::Alive a, bool bootstrap, std::function<void()> notify = nullptr);

  // suspectNode
  void suspect_node(Time now, const wire::Suspect &s);

  // The suspicion timer fired: the node is dead if nothing refuted it meanwhile. memberlist
  // declares it dead right away. With Lifeguard on we first probe it once more, fully (ping with
  // the suspicion attached, indirect pings, TCP): a node that missed the refutation's gossip
  // (each node misses a rumor with probability ~e^-RetransmitMult·log10 n) would otherwise
  // declare a healthy node dead. An answer re-arms the suspicion; the accused, told again,
  // refutes (or sends its newer incarnation, see stale_accusation).
  void suspicion_expired(Time now, const std::string &name);

  // The suspicion ran out (and, with Lifeguard, the final check failed): the suspect is dead.
  void declare_failed(Time now, const state::Member &r, const FinalCheck &check);

  bool is_final_check(const std::string &name) const;
  // Ends the final check of `name`, handing back what it kept.
  FinalCheck end_final_check(const std::string &name);

  // The final check failed: the suspect is dead.
  void final_check_failed(Time now, const std::string &name);

  // The final check got an answer: wait one more suspicion period for the refutation.
  void final_check_answered(Time now, const std::string &name);

  // Someone accuses us with an incarnation older than ours: it missed our refutation. Tell it
  // directly (memberlist ignores such messages and leaves the repair to push/pull).
  void stale_accusation(const Endpoint &from);

  // deadNode. `notify` is the Leave waiter for our own dead message.
  void dead_node(Time now, const wire::Dead &d, std::function<void()> notify = nullptr);

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
  void refute(state::Member &me, uint32_t accused);

  bool ip_allowed(const Bytes &addr) const;

  // ------------------------------------------------------------------ name reuse
  // An alive `a` for `r` (alive or suspect, not us) from another address: ping r's address and
  // keep `a` until the ack or probe_timeout (membership.cpp).
  void check_old_address(Time now, const state::Member &r, wire::Alive a);
  // The ping to the old address was acked: two live nodes claim the name (a conflict).
  void name_check_answered(const NameCheck &c);
  // No ack within probe_timeout: the old incarnation is gone; the pending alive is applied.
  void name_check_expired(Time now, NameCheck c);
  // Remembers that `name` moved away from `old` at `incarnation` (see moved_names).
  void remember_move(Time now, const std::string &name, const Endpoint &old, uint32_t incarnation);
  // An alive from an address `name` moved away from, no newer than it was there.
  bool stale_after_move(Time now, const wire::Alive &a, const Bytes &addr);

  // ------------------------------------------------------------------ probing (probeNode)
  Duration scaled_probe_interval() const;

  void start_probe(Time now);

  void start_probe_of(Time now, const state::Member &t);

  // No direct ack within ProbeTimeout: ask others, and try TCP.
  void probe_indirect(Time now);

  void probe_succeeded(Time now, const wire::AckResp *ack, bool direct);

  void probe_failed(Time now);

  // ------------------------------------------------------------------ gossip
  void gossip(Time now);

  // kRandomNodes for gossip and push/pull targets: up to k members for which exclude(member) is
  // false. Without a node-selection delegate this is members.k_random_members (the same draws
  // from rng); with one, the delegate narrows the pool and may name a preferred target, taken
  // first (state::k_random_selected). `what` names the caller in the log line of a bad answer.
  template <class Exclude>
  std::vector<state::Member *> pick_targets(size_t k, Exclude &&exclude, const char *what) {
    if (!dg.node_selection) return members.k_random_members(k, rng, exclude);
    if (k == 0) return {};
    const size_t n = members.size();
    std::vector<Member> candidates;
    candidates.reserve(n);
    for (size_t i = 0; i < n; ++i) candidates.push_back(to_member(members.at(i)));
    std::vector<uint8_t> selected(n, 0);
    const int64_t pref = dg.node_selection->select_nodes(candidates, selected);
    std::optional<size_t> preferred;
    if (pref >= 0 && static_cast<uint64_t>(pref) < n) {
      preferred = static_cast<size_t>(pref);
    } else if (pref != -1) {
      log(LogLevel::Error, [&] {
        return std::string("Node selection delegate named preferred candidate ") + std::to_string(pref) + " of " +
               std::to_string(n) + " for " + what + "; ignored (no preferred node this time)";
      });
    }
    if (selected.size() != n) selected.resize(n, 0);  // a delegate that resized it: pad with "not selected"
    std::vector<size_t> pool;
    pool.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (selected[i]) pool.push_back(i);
    }
    const auto idx = state::k_random_selected(
        k, std::span<const size_t>(pool), preferred,
        [&](size_t i) -> bool { return exclude(std::as_const(members.at(i))); }, rng);
    std::vector<state::Member *> out;
    out.reserve(idx.size());
    for (size_t i : idx) out.push_back(&members.at(i));
    return out;
  }

  // ------------------------------------------------------------------ push/pull
  Bytes local_state(bool join);

  // verifyProtocol (v0.7.0 rules: only entries with >= 5 version bytes set the ranges).
  std::optional<std::string> verify_protocol(const std::vector<wire::PushNodeState> &remote) const;

  // mergeRemoteState
  std::optional<std::string> merge_remote(Time now, const wire::PushPull &pp);

  void push_pull_with_random(Time now);

  // Partition healing: push/pull with one random failed node (reaped ones, or dead ones still
  // in the table past the gossip-to-the-dead window). A node that answers comes back through
  // the ordinary merge and refutation rules.
  void reconnect(Time now);

  // ------------------------------------------------------------------ packets
  void handle_message(Time now, const Endpoint &from, wire::Message &msg);

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
  static Endpoint reply_to(const Endpoint &from, const Bytes &src_addr, uint16_t src_port, const std::string &src_node);

  void on_ping(const Endpoint &from, const wire::Ping &p);

  void on_indirect_ping(Time now, const Endpoint &from, const wire::IndirectPingReq &req);

  void on_ack(Time now, const wire::AckResp &ack, bool udp);

  // ------------------------------------------------------------------ timers
  Time next_deadline() const;

  void tick(Time now);

  bool any_alive() const;

  // Completes `op` once the broadcast finishes; fails it at `deadline` (0 timeout = never).
  std::function<void()> waiter(OpId op, Time now, Duration timeout, std::string what);
};

}  // namespace memberlist::protocol
