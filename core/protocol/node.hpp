// A memberlist node as a sans-I/O state machine (ARCHITECTURE.md "Why sans-I/O").
//
// The node never touches a socket or a clock. A driver (core/net's libuv runtime, or core/sim's
// simulator) feeds it inputs — a datagram from an address, a decoded stream request, the reply
// to a stream it asked for, the current time, API calls — and drains the effects it produced:
// datagrams to send, streams to open or answer, and completions of API operations. Delegates
// (memberlist's Delegate, EventDelegate, …) are called synchronously from inside the input that
// caused them, on the driver's thread.
//
// Time: every input takes `now` (monotonic). `next_deadline()` says when the node next needs
// `tick(now)`; the driver must call tick at or after that time.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "protocol/config.hpp"
#include "wire/crypto.hpp"
#include "wire/bytes.hpp"
#include "wire/error.hpp"
#include "wire/messages.hpp"
#include "wire/stream.hpp"

namespace memberlist::protocol {

using Time = std::chrono::steady_clock::time_point;
using wire::Bytes;
using wire::ByteView;
using wire::NodeState;

// Where to send: an IP (4 or 16 bytes) and port, and the node name when known (memberlist's
// Address.Name; with require_node_names a send without one is refused).
struct Endpoint {
  Bytes ip;
  uint16_t port = 0;
  std::string name;
  bool operator==(const Endpoint &) const = default;
};
std::string to_string(const Endpoint &e);  // "10.0.0.1:7946" or "[::1]:7946"

// An immutable snapshot of a member, as handed to delegates and the API.
struct Member {
  std::string name;
  Bytes addr;
  uint16_t port = 0;
  Bytes meta;
  std::array<uint8_t, 6> vsn{};  // pmin pmax pcur dmin dmax dcur
  NodeState state = NodeState::Alive;
  uint32_t incarnation = 0;
  bool operator==(const Member &) const = default;
};

// ---- delegates (memberlist's interfaces). All default to doing nothing.
class Delegate {
 public:
  virtual ~Delegate() = default;
  virtual Bytes node_meta(size_t /*limit*/) { return {}; }
  // A user message: from a stream (SendReliable), always delivered.
  virtual void notify_msg(ByteView /*msg*/) {}
  // A user message that came in a datagram. memberlist passes these through its bounded
  // handoff queue (HandoffQueueDepth) and drops them when it is full; a driver that queues
  // notifications may do the same. Default: notify_msg.
  virtual void notify_packet_msg(ByteView msg, const Endpoint & /*from*/) { notify_msg(msg); }
  // Up to `limit` bytes of user broadcasts, each costing `overhead` bytes extra.
  virtual std::vector<Bytes> get_broadcasts(size_t /*overhead*/, size_t /*limit*/) { return {}; }
  virtual Bytes local_state(bool /*join*/) { return {}; }
  virtual void merge_remote_state(ByteView /*buf*/, bool /*join*/) {}
};
class EventDelegate {
 public:
  virtual ~EventDelegate() = default;
  virtual void notify_join(const Member &) {}
  virtual void notify_leave(const Member &) {}
  virtual void notify_update(const Member &) {}
};
class ConflictDelegate {
 public:
  virtual ~ConflictDelegate() = default;
  virtual void notify_conflict(const Member & /*existing*/, const Member & /*other*/) {}
};
class MergeDelegate {
 public:
  virtual ~MergeDelegate() = default;
  // A returned error text cancels the merge.
  virtual std::optional<std::string> notify_merge(const std::vector<Member> & /*peers*/) { return std::nullopt; }
};
class AliveDelegate {
 public:
  virtual ~AliveDelegate() = default;
  // A returned error text makes the node ignore the alive message.
  virtual std::optional<std::string> notify_alive(const Member & /*peer*/) { return std::nullopt; }
};
// memberlist's Config.DisableTcpPingsForNode: asked when a probe of `node` got no direct ack,
// before the TCP fallback ping; true = no TCP ping to that node this time.
class TcpPingPolicy {
 public:
  virtual ~TcpPingPolicy() = default;
  virtual bool disable_tcp_pings_for(const std::string &node) = 0;
};
class PingDelegate {
 public:
  virtual ~PingDelegate() = default;
  virtual Bytes ack_payload() { return {}; }
  virtual void notify_ping_complete(const Member & /*other*/, Duration /*rtt*/, ByteView /*payload*/) {}
};
// Log lines in memberlist's words ("memberlist: Refuting a suspect message (from: b)"), without
// its "[WARN] " prefix: the level comes separately. Called from inside inputs, like delegates.
enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };
class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool enabled(LogLevel /*level*/) const { return true; }  // skip formatting otherwise
  virtual void log(LogLevel level, const std::string &msg) = 0;
};
// grafana/memberlist's NodeSelectionDelegate (Config.NodeSelection): asked each time gossip or
// push/pull targets are picked (not for probes, joins or reconnects; not for a gossip round with
// certainly nothing to send: no queued broadcasts and no Delegate), on the driver's thread,
// from inside the input; it must be quick. `candidates` is every member of the table (ourselves,
// suspect, dead and left ones included, as the fork passes its whole node list); the delegate
// sets selected[i] = 1 (all 0 on entry) for the candidates targets may be drawn from and returns
// the index of a preferred candidate, picked first whenever the usual rules allow it, or -1.
// Targets are then drawn at random among the selected candidates the usual rules allow (alive,
// suspect or recently dead for gossip; alive for push/pull; never ourselves). An index outside
// [-1, candidates.size()) is logged and ignored. The node does not read `candidates` after the
// call, so the delegate may move from them.
class NodeSelectionDelegate {
 public:
  virtual ~NodeSelectionDelegate() = default;
  virtual int64_t select_nodes(std::vector<Member> &candidates, std::vector<uint8_t> &selected) = 0;
};
// A user broadcast queued through the node (memberlist's Broadcast interface, for the
// TransmitLimitedQueue the node keeps on the user's behalf).
struct Delegates {
  Delegate *delegate = nullptr;
  EventDelegate *events = nullptr;
  ConflictDelegate *conflict = nullptr;
  MergeDelegate *merge = nullptr;
  AliveDelegate *alive = nullptr;
  PingDelegate *ping = nullptr;
  TcpPingPolicy *tcp_pings = nullptr;
  Logger *logger = nullptr;
  NodeSelectionDelegate *node_selection = nullptr;
};

// ---- effects
using StreamId = uint64_t;
using OpId = uint64_t;

struct SendPacket {  // one UDP datagram, fully framed
  Endpoint to;
  Bytes data;
};
struct OpenStream {  // dial `to`, write `data`; if expect_reply, read one stream message back
  StreamId id;
  Endpoint to;
  Time deadline;
  Bytes data;
  bool expect_reply = false;
};
struct ReplyStream {  // write `data` on an inbound stream (empty = nothing to write), then close it
  StreamId id;
  Bytes data;
};
struct OpDone {  // an API operation finished
  OpId op = 0;
  wire::Status status = wire::Ok{};
  int contacted = 0;      // join: nodes successfully push/pulled
  Duration rtt{};         // ping
};
using Effect = std::variant<SendPacket, OpenStream, ReplyStream, OpDone>;

// Counters named as memberlist's metrics (memberlist.udp.sent, memberlist.msg.alive, …).
struct Metrics {
  uint64_t udp_sent = 0, udp_received = 0, udp_sent_bytes = 0, udp_received_bytes = 0;
  uint64_t tcp_sent = 0, tcp_received = 0, tcp_sent_bytes = 0, tcp_received_bytes = 0, tcp_accept = 0, tcp_connect = 0;
  uint64_t msg_alive = 0, msg_suspect = 0, msg_dead = 0;
  uint64_t probe_count = 0, degraded_probe = 0, degraded_timeout = 0, probe_failed = 0;
  uint64_t gossip_count = 0, push_pull_count = 0, push_pull_refused = 0;
  uint64_t packets_dropped = 0;  // malformed, bad label/key/CRC, over a bound
  // alive/suspect/dead/user messages dropped because a packet carried more of them than the
  // handoff queue holds (HandoffQueueDepth; memberlist logs "handler queue full" and drops them)
  uint64_t handoff_dropped = 0;
  // Filled in by the runtime (net::NodeHost::metrics), from its transport: datagrams dropped
  // because the send queue was full (the socket buffer full for longer than a burst; plus queued
  // best-effort sends that failed, Node::send_best_effort_queued), and streams
  // refused by their memory bounds (wire::Limits::max_stream_memory, node states that decode to
  // far more than they take on the wire). The latter also count in push_pull_refused when inbound.
  uint64_t udp_send_dropped = 0;
  uint64_t streams_over_memory = 0;
  uint64_t refutes = 0;
  // Name reuse (Config::reclaim_name_on_new_address): pings sent to a name's old address, names
  // that moved because it went unanswered, checks it answered (a conflict), alives not checked
  // because too many checks were pending, and the checks pending now (a gauge).
  uint64_t name_checks = 0, name_reclaimed = 0, name_conflicts = 0, name_checks_refused = 0;
  uint64_t name_checks_pending = 0;
  uint64_t node_alive = 0, node_suspect = 0, node_dead = 0, node_left = 0;  // gauges, refreshed on read
  int64_t health_score = 0;
  uint64_t queue_system = 0, queue_user = 0;  // broadcast queue depths (gauges)
  // Of queue_system, the alives kept as a reference to their member entry (gauge), and those
  // dropped when sent because the entry had changed without a new broadcast (a bug if ever > 0).
  uint64_t queue_system_by_reference = 0, queue_stale_dropped = 0;
  uint64_t samples_dropped = 0;  // timing/size samples not drained in time (Node::take_samples)
};

// One of memberlist's per-event metrics: the timers memberlist.probeNode, memberlist.gossip and
// memberlist.pushPullNode (value in milliseconds, as go-metrics' MeasureSince reports), and the
// gauge memberlist.size.local (bytes of the local state sent in a push/pull).
struct MetricSample {
  const char *name;
  double value;
};

// Every counter and gauge of `m` under its exported name: the one table of metric names (the C
// API's ml_memberlist_metrics passes it on, and Go and Java read these names). A new field of
// Metrics gets its name here. Defined in metrics.cpp.
std::vector<std::pair<const char *, double>> metric_values(const Metrics &m);

class Node {
 public:
  // `advertise` is this node's address as peers should see it (IP bytes kept verbatim).
  Node(Config config, Endpoint advertise, Delegates delegates, uint64_t seed, Time now);
  ~Node();
  Node(const Node &) = delete;
  Node &operator=(const Node &) = delete;

  // Validates the config, becomes alive (incarnation 1, NotifyJoin for itself), arms timers.
  wire::Status start(Time now);

  // ---- inputs
  void tick(Time now);
  Time next_deadline() const;
  void handle_packet(Time now, const Endpoint &from, ByteView datagram);
  // An inbound stream (already decoded with stream_in_options()). The node answers with a
  // ReplyStream effect for the same id (possibly empty), at once or later.
  void handle_stream(Time now, StreamId id, const Endpoint &from, wire::StreamMessage msg);
  // An inbound stream that failed to decode: the node replies with an errResp.
  void handle_stream_error(Time now, StreamId id, const Endpoint &from, const wire::Error &err);
  // The transport failed at something no operation waits for (Transport::Sink::on_transport_error).
  void handle_transport_error(Time now, const std::string &what, LogLevel level = LogLevel::Error);
  // How an OpenStream ended: an error (dial, write, read, timeout, decode), or success with the
  // reply message when expect_reply was set (nullopt for a write-only stream).
  void stream_result(Time now, StreamId id, wire::Result<std::optional<wire::StreamMessage>> outcome);

  // ---- API (memberlist's *Memberlist methods). Operations that wait complete with OpDone.
  OpId join(Time now, const std::vector<Endpoint> &peers);
  OpId leave(Time now, Duration timeout);        // 0 = wait forever
  OpId update_node(Time now, Duration timeout);  // re-reads node_meta, gossips a new alive
  OpId ping(Time now, const std::string &name, const Endpoint &addr);
  wire::Status send_best_effort(Time now, const Endpoint &to, ByteView msg);
  // The same for a send whose caller was already told Ok (net::NodeHost queues sends that
  // Config::user_packet_sure_fit says cannot fail): a failure after all is logged at ERR and
  // counted in udp_send_dropped, not lost silently. Nothing is sent once shut down.
  void send_best_effort_queued(Time now, const Endpoint &to, ByteView msg);
  OpId send_reliable(Time now, const Endpoint &to, ByteView msg);
  // Queues a user broadcast for gossip (the node's own TransmitLimitedQueue for user data).
  // `name`, when non-empty, replaces a queued broadcast of the same name.
  void queue_broadcast(Bytes msg, std::string name = {});
  void shutdown(Time now);  // stops everything; sends nothing; pending ops fail

  // ---- state (snapshots)
  std::vector<Member> members() const;  // non-dead, non-left, self included
  int num_members() const;
  Member local_member() const;
  // Changes whenever local_member() would (our incarnation or state; our metadata and address
  // change only with a new incarnation): a host refreshes a copy only when this moved. O(1).
  uint64_t local_stamp() const;
  // Moves whenever a member joins or becomes dead or left (so whenever a live member's address
  // may have changed or a member stopped being live). O(1).
  uint64_t address_epoch() const;
  std::optional<Member> member(const std::string &name) const;
  int health_score() const;
  Metrics metrics() const;
  // The samples recorded since the last call, oldest first. At most kMaxMetricSamples are kept
  // between calls; older ones are dropped and counted in Metrics::samples_dropped.
  static constexpr size_t kMaxMetricSamples = 256;
  // Name reuse (Config::reclaim_name_on_new_address): at most this many pings to old addresses
  // are pending at once (one per name); an alive that would need one more is refused as a
  // conflict would be, and counted in Metrics::name_checks_refused.
  static constexpr size_t kMaxNameChecks = 32;
  // Addresses a name moved away from are remembered (at most this many, for twice
  // gossip_to_the_dead_time) so that stale alives from them are ignored, not checked again.
  static constexpr size_t kMaxMovedNames = 256;
  std::vector<MetricSample> take_samples();
  // The clock memberlist.gossip is timed with (the work of a round, in real time). The protocol
  // reads no clock itself: the runtime passes one; without it (the simulator) rounds time as 0.
  void set_work_clock(std::function<Time()> clock);
  const Config &config() const;
  bool running() const;

  // How to decode a stream addressed to this node, with its label, keys and limits: the one
  // place a wire::StreamIn is made, for every driver (core/net's transports, the simulator).
  // `request`: an inbound request (a label header comes first); false: the reply to a stream
  // this node opened. The label and keyring views point into the node (valid while it lives).
  // A driver that shares a memory budget across its streams sets `memory` itself.
  wire::StreamIn stream_in(bool request) const;
  // The keyring (encryption on when non-empty). Changes take effect on the next packet.
  wire::Keyring &keyring();

  // ---- effects
  bool has_effects() const;
  std::vector<Effect> take_effects();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace memberlist::protocol
