// NodeHost: one protocol::Node living on a Runtime with its transport — a running memberlist.
//
// The host feeds the node every input (datagrams, streams, stream outcomes, its one timer armed
// at next_deadline(), API calls) and executes its effects exactly as the simulator's flush does
// (SendPacket -> a datagram, OpenStream -> a dial, ReplyStream -> the answer on an inbound
// stream, OpDone -> the waiting caller). Everything touching the node runs on the runtime's loop
// thread; every public method here may be called from any thread.
//
// Callbacks: notifications that need no answer (notify_msg, the events, conflicts, ping
// completions, log lines) are copied and run on the runtime's NotifyPool through the host's
// Notifiers (notifier.hpp), in order, never waited for; datagram user messages are bounded by
// handoff_queue_depth. The rest (answering delegates, join_async's completion, the external
// transport's callbacks) run on the loop thread, one at a time for a given host. From inside one
// of those:
//  * snapshots (members(), metrics(), …) and keyring operations run inline (local_member()
//    reads a copy the loop keeps, from any thread, without a round trip);
//  * non-blocking calls on the same host (send_best_effort, queue_broadcast, join_async)
//    are queued and run right after the current input, in order (their result is Ok if queued);
//  * blocking calls (join, leave, update_node, ping, send_reliable) return an error instead of
//    deadlocking — on the loop thread, from any callback or posted task, on any host of that
//    runtime. Use join_async there;
//  * shutdown() of the same host works: the host is closed at once (no new callback starts,
//    operations fail) and its sockets close right after the current input. Destroying the host
//    there works the same way. A host destroyed on the loop thread hands its runtime reference
//    to a short-lived thread, so a private runtime is never destroyed on its own thread.
//
// Shutdown: Node::shutdown (pending operations complete with an error), then the transport's
// sockets, the timer and the notifiers are closed. After shutdown() returns no callback of this
// host starts again (a notification already running may finish), and the ports can be bound by
// someone else. It never waits for a notification. Snapshots keep working (memberlist allows
// Members() after Shutdown()) for as long as the runtime runs.
//
// Errors are values: wire::Status / wire::Result; nothing throws out of this class.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/external_transport.hpp"
#include "net/runtime.hpp"
#include "net/shared_keyring.hpp"
#include "net/transport.hpp"
#include "protocol/config.hpp"
#include "protocol/node.hpp"

namespace memberlist::net {

struct HostOptions {
  protocol::Config config;
  // Called on the loop thread; the objects must stay valid until shutdown() has returned.
  protocol::Delegates delegates;
  // The runtime to live on; null: a private one, created here and stopped with the host.
  std::shared_ptr<Runtime> runtime;
  // Addresses to bind (IP literals); empty: {config.bind_addr}. config.bind_port applies to all.
  std::vector<std::string> bind_addrs;
  uint64_t seed = 0;  // the node's random seed; 0: from std::random_device
  // Set: external-transport mode. No socket is opened; config.advertise_addr (an IP literal,
  // required) and config.advertise_port are advertised as they are.
  std::optional<ExternalCallbacks> external;
  // What `delegates` belong to: held until the last callback has returned (by the notifier's
  // thread when one is in flight at shutdown), then released.
  std::shared_ptr<void> keep_alive;
  // The keyring to use (shared_keyring.hpp): its keys replace the node's, and its primary is
  // the config's secret_key. Null: a new one holding the config's key. Either way keyring()
  // returns it, and it is standalone again after the host closes.
  std::shared_ptr<SharedKeyring> keyring;
};

class NodeHost {
 public:
  using DoneFn = std::function<void(const protocol::OpDone &)>;

  // Binds the sockets (or sets up the external transport), computes the advertise address (rules
  // in address.hpp: choose_advertise), creates and starts the node. The node's config gets the
  // real bound port as bind_port when it was 0, and the advertised port as advertise_port.
  static wire::Result<std::unique_ptr<NodeHost>> create(HostOptions options);
  ~NodeHost();  // shutdown(), then releases the runtime (stopping it if it was private)
  NodeHost(const NodeHost &) = delete;
  NodeHost &operator=(const NodeHost &) = delete;

  const std::shared_ptr<Runtime> &runtime() const { return rt_; }
  // Name, advertised IP and port, as peers see this node. Fixed after create().
  const protocol::Endpoint &advertise() const { return advertise_; }
  uint16_t port() const { return port_; }  // the bound port (0 in external mode)
  const std::string &name() const { return advertise_.name; }

  // ---- blocking operations: wait for the node's OpDone. Error on the loop thread.
  wire::Result<int> join(const std::vector<protocol::Endpoint> &peers);  // nodes contacted
  wire::Status leave(protocol::Duration timeout);                       // 0: wait forever
  wire::Status update_node(protocol::Duration timeout);
  wire::Result<protocol::Duration> ping(const std::string &name, const protocol::Endpoint &addr);  // RTT
  wire::Status send_reliable(const protocol::Endpoint &to, wire::ByteView msg);

  // ---- join, asynchronous, for code on the loop thread (where join() refuses): `done` runs on
  // the loop thread when the join ends (also when it fails because the host shuts down). If the
  // call itself returns an error, `done` never runs. (The other operations had such forms; with
  // no caller they went. start_op() makes one in a line when a caller appears.)
  wire::Status join_async(std::vector<protocol::Endpoint> peers, DoneFn done);

  // ---- non-blocking
  // A message that surely fits a packet (Config::user_packet_sure_fit) is checked here (shut
  // down, node names required), copied and queued to the loop without waiting: Ok means it will
  // be sent unless the host shuts down first; a failure after all is logged and counted
  // (Node::send_best_effort_queued). At most kMaxQueuedSendBytes wait so; past that, and for a
  // larger message, the call waits for the loop and returns the send's own result (memberlist's
  // SendBestEffort writes the socket in the caller; this keeps its back-pressure without a
  // round trip per message). Either way one caller's sends go out in call order.
  static constexpr size_t kMaxQueuedSendBytes = 256 * 1024;
  wire::Status send_best_effort(const protocol::Endpoint &to, wire::ByteView msg);
  wire::Status queue_broadcast(wire::Bytes msg, std::string name = {});

  // The node's keyring, usable from any thread (shared_keyring.hpp).
  const std::shared_ptr<SharedKeyring> &keyring() const { return keyring_; }

  // ---- snapshots
  wire::Result<protocol::Config> config();  // as the node runs it (bound port filled in)
  wire::Result<std::vector<protocol::Member>> members();
  wire::Result<int> num_members();
  wire::Result<protocol::Member> local_member();
  wire::Result<std::optional<protocol::Member>> member(const std::string &name);
  // The member's endpoint (address, port, name), in any state; nullopt if it is not in the
  // membership. Live members' endpoints are kept in a cache the loop clears whenever a member
  // joins or becomes dead or left (Node::address_epoch), so a by-name send to a live member needs
  // no round trip to the loop; a miss, or a dead member, asks the loop.
  static constexpr size_t kMaxCachedEndpoints = 4096;
  wire::Result<std::optional<protocol::Endpoint>> endpoint_of(const std::string &name);
  wire::Result<int> health_score();
  // The node's counters; push_pull_refused also counts inbound streams the transport refused.
  wire::Result<protocol::Metrics> metrics();
  // Drains the node's timing and size samples (protocol::Node::take_samples).
  wire::Result<std::vector<protocol::MetricSample>> take_samples();
  wire::Result<TransportStats> transport_stats();

  // Idempotent. Error only when called from one of this host's own callbacks.
  wire::Status shutdown();
  bool is_shut_down() const;
  // True on the loop thread while this host is inside an input (i.e. in one of its callbacks).
  bool in_callback() const;
  // Whether a blocking call may be made here and now: Closed once shut down, InCallback on the
  // loop thread. The blocking operations check it themselves; a caller that must prepare
  // something slow first (the C API resolves join addresses) asks before.
  wire::Status may_block() const;

  // ---- external-transport mode input (any thread, never blocks; errors: not in external mode,
  // shut down). See external_transport.hpp for the contract.
  wire::Status deliver_packet(const protocol::Endpoint &from, wire::ByteView data);
  wire::Result<uint64_t> accept_stream(const protocol::Endpoint &from);
  wire::Status stream_data(uint64_t id, wire::ByteView data);
  // The embedder's side of the stream ended: Ok = EOF (or, outbound without reply, "written").
  wire::Status stream_end(uint64_t id, wire::Status status);

 private:
  struct Impl;
  NodeHost(std::shared_ptr<Runtime> rt, std::shared_ptr<Impl> impl);
  wire::Status start_op(std::function<protocol::OpId(protocol::Node &, protocol::Time)> start, DoneFn done);
  wire::Result<protocol::OpDone> wait_op(std::function<protocol::OpId(protocol::Node &, protocol::Time)> start);
  wire::Status post_external(std::function<void(ExternalTransport &)> fn);

  std::shared_ptr<Runtime> rt_;  // declared first: released last
  std::shared_ptr<Impl> impl_;
  std::shared_ptr<SharedKeyring> keyring_;
  protocol::Endpoint advertise_;
  uint16_t port_ = 0;
  // From the config at create(), which never changes: what send_best_effort checks off the loop.
  bool names_required_ = false;
  size_t sure_fit_ = 0;
};

}  // namespace memberlist::net
