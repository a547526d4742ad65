// A deterministic simulator that drives many protocol::Node instances (the real protocol code)
// over a virtual clock and an in-memory network with per-link latency, jitter (reordering),
// loss, duplication and partitions, and nodes that crash or stall. The same seed gives the same
// run, event for event (trace_hash()).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <vector>

#include "protocol/node.hpp"

namespace memberlist::sim {

using protocol::Duration;
using protocol::Time;
using namespace std::chrono_literals;

struct LinkFaults {
  double loss = 0;          // probability a datagram (or a stream dial) is lost
  double duplicate = 0;     // probability a datagram is delivered twice
  Duration latency = 1ms;   // one-way delay
  Duration jitter = 0ms;    // extra uniform delay in [0, jitter); reorders datagrams
};

class Simulator {
 public:
  using NodeId = size_t;

  explicit Simulator(uint64_t seed);
  ~Simulator();
  Simulator(const Simulator &) = delete;
  Simulator &operator=(const Simulator &) = delete;

  // Adds and starts a node. Its address is 10.x.y.z:7946 (from its id); an empty config name
  // becomes "node-<id>". Fails if the config does not validate.
  wire::Result<NodeId> add_node(protocol::Config cfg, protocol::Delegates delegates = {});
  protocol::Node &node(NodeId id);
  const protocol::Node &node(NodeId id) const;
  protocol::Endpoint endpoint(NodeId id) const;
  size_t size() const { return nodes_.size(); }

  // Crash: the node stops; traffic to it is lost, dials to it are refused. Nothing is sent.
  void kill(NodeId id);
  bool is_alive(NodeId id) const;
  // CPU starvation: the node processes nothing (ticks or input) until now + d; what arrived in
  // between is processed late, in order.
  void stall(NodeId id, Duration d);
  // Nodes in `side` can reach each other but nobody outside it, and vice versa.
  void partition(const std::vector<NodeId> &side);
  void heal();
  void set_faults(const LinkFaults &f);                           // every link

  Time now() const { return now_; }
  void run_for(Duration d);
  // Runs until pred() holds (checked every `check_every` of virtual time) or `max` elapses.
  bool run_until(const std::function<bool()> &pred, Duration max, Duration check_every = 100ms);

  // API calls on a node, with their completion collected for the test to read.
  std::optional<protocol::OpDone> completion(NodeId id, protocol::OpId op) const;

  uint64_t trace_hash() const { return hash_; }
  uint64_t events_processed() const { return events_; }
  struct NetStats {
    uint64_t packets_sent = 0, packets_lost = 0, bytes_sent = 0, streams_opened = 0, streams_failed = 0;
  };
  NetStats net_stats() const { return stats_; }

  // Drains a node's effects into the network. Call after using node(id) directly.
  void flush(NodeId id);

  // Called with every datagram a node sends, as sent (before loss or partitions), for tests
  // that check what goes on the wire. Empty = none.
  using PacketObserver = std::function<void(NodeId from, const protocol::Endpoint &to, wire::ByteView data)>;
  void set_packet_observer(PacketObserver f) { observer_ = std::move(f); }
  // Called with the bytes of every stream delivered: a request (`from` opened it to `to`) and
  // its reply (`from` answers `to`). Draws nothing from the simulator's generator.
  using StreamObserver = std::function<void(NodeId from, NodeId to, size_t bytes)>;
  void set_stream_observer(StreamObserver f) { stream_observer_ = std::move(f); }

 private:
  struct Event;
  struct EventOrder {
    bool operator()(const std::unique_ptr<Event> &a, const std::unique_ptr<Event> &b) const;
  };
  struct SimNode;
  struct PendingStream;

  void schedule(std::unique_ptr<Event> e);
  void dispatch(Event &e);
  void reschedule_tick(NodeId id);
  bool link_up(NodeId from, NodeId to) const;
  const LinkFaults &faults(NodeId from, NodeId to) const;
  Duration delay(const LinkFaults &f);
  std::optional<NodeId> lookup(const protocol::Endpoint &e) const;
  void mix(uint64_t v);
  void step();

  std::mt19937_64 rng_;
  Time now_;
  uint64_t seq_ = 0;
  std::priority_queue<std::unique_ptr<Event>, std::vector<std::unique_ptr<Event>>, EventOrder> queue_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::map<std::pair<std::string, uint16_t>, NodeId> by_addr_;
  std::map<uint64_t, std::unique_ptr<PendingStream>> streams_;  // by the responder-side stream id
  uint64_t next_stream_ = 1;
  LinkFaults default_faults_;
  std::vector<int> side_;  // partition side per node (-1: none)
  uint64_t hash_ = 1469598103934665603ull;
  uint64_t events_ = 0;
  NetStats stats_;
  PacketObserver observer_;
  StreamObserver stream_observer_;
};

}  // namespace memberlist::sim
