#include "sim/sim.hpp"

#include <algorithm>

#include "wire/stream.hpp"

namespace memberlist::sim {

using protocol::Endpoint;
using protocol::OpDone;

namespace {
enum class Kind : uint8_t { Tick, Packet, StreamRequest, StreamResult, StreamTimeout };
}  // namespace

struct Simulator::Event {
  Time at;
  uint64_t seq = 0;
  Kind kind = Kind::Tick;
  NodeId target = 0;
  NodeId from = 0;
  wire::Bytes data;                    // Packet
  uint64_t stream = 0;                 // StreamRequest: responder id; StreamResult/Timeout: opener id
  std::optional<wire::StreamMessage> msg;  // StreamRequest / StreamResult payload
  std::optional<wire::Error> error;    // StreamRequest decode error / StreamResult failure
};

bool Simulator::EventOrder::operator()(const std::unique_ptr<Event> &a, const std::unique_ptr<Event> &b) const {
  if (a->at != b->at) return a->at > b->at;
  return a->seq > b->seq;
}

struct Simulator::SimNode {
  std::unique_ptr<protocol::Node> node;
  Endpoint endpoint;
  bool alive = true;
  Time stalled_until{};
  std::optional<Time> tick_at;
  std::map<protocol::OpId, OpDone> done;
  std::map<protocol::StreamId, uint64_t> open;  // opener stream id -> responder id (0 = not delivered)
};

struct Simulator::PendingStream {
  NodeId opener;
  protocol::StreamId opener_id;
  NodeId responder;
  bool expect_reply;
  Time deadline;
};

Simulator::Simulator(uint64_t seed) : rng_(seed), now_(Time{} + std::chrono::hours(1)) {}
Simulator::~Simulator() = default;

wire::Result<Simulator::NodeId> Simulator::add_node(protocol::Config cfg, protocol::Delegates delegates) {
  const NodeId id = nodes_.size();
  const uint32_t n = static_cast<uint32_t>(id + 1);
  Endpoint ep{wire::Bytes{10, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)},
              7946, cfg.name.empty() ? "node-" + std::to_string(id) : cfg.name};
  cfg.name = ep.name;
  cfg.bind_port = cfg.advertise_port = ep.port;
  auto sn = std::make_unique<SimNode>();
  sn->endpoint = ep;
  sn->node = std::make_unique<protocol::Node>(std::move(cfg), ep, delegates, rng_(), now_);
  if (auto st = sn->node->start(now_); !st) return st.error();
  by_addr_[{std::string(ep.ip.begin(), ep.ip.end()), ep.port}] = id;
  nodes_.push_back(std::move(sn));
  side_.push_back(-1);
  flush(id);
  return id;
}

protocol::Node &Simulator::node(NodeId id) { return *nodes_.at(id)->node; }
const protocol::Node &Simulator::node(NodeId id) const { return *nodes_.at(id)->node; }
Endpoint Simulator::endpoint(NodeId id) const { return nodes_.at(id)->endpoint; }

void Simulator::kill(NodeId id) {
  auto &sn = *nodes_.at(id);
  sn.alive = false;
  sn.node->shutdown(now_);
  sn.node->take_effects();  // a crashed node says nothing
  sn.tick_at.reset();
}

bool Simulator::is_alive(NodeId id) const { return nodes_.at(id)->alive; }

void Simulator::stall(NodeId id, Duration d) { nodes_.at(id)->stalled_until = now_ + d; }

void Simulator::partition(const std::vector<NodeId> &side) {
  std::fill(side_.begin(), side_.end(), 1);
  for (NodeId id : side) side_.at(id) = 0;
}

void Simulator::heal() { std::fill(side_.begin(), side_.end(), -1); }

void Simulator::set_faults(const LinkFaults &f) { default_faults_ = f; }

bool Simulator::link_up(NodeId from, NodeId to) const {
  return side_[from] == side_[to] || side_[from] < 0 || side_[to] < 0;
}

const LinkFaults &Simulator::faults(NodeId, NodeId) const { return default_faults_; }

Duration Simulator::delay(const LinkFaults &f) {
  Duration d = f.latency;
  if (f.jitter > 0ns) d += Duration(static_cast<int64_t>(rng_() % static_cast<uint64_t>(f.jitter.count())));
  return d;
}

std::optional<Simulator::NodeId> Simulator::lookup(const Endpoint &e) const {
  auto it = by_addr_.find({std::string(e.ip.begin(), e.ip.end()), e.port});
  if (it == by_addr_.end()) return std::nullopt;
  return it->second;
}

void Simulator::mix(uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    hash_ ^= (v >> (8 * i)) & 0xff;
    hash_ *= 1099511628211ull;
  }
}

void Simulator::schedule(std::unique_ptr<Event> e) {
  e->seq = seq_++;
  queue_.push(std::move(e));
}

std::optional<OpDone> Simulator::completion(NodeId id, protocol::OpId op) const {
  const auto &done = nodes_.at(id)->done;
  auto it = done.find(op);
  if (it == done.end()) return std::nullopt;
  return it->second;
}

void Simulator::reschedule_tick(NodeId id) {
  auto &sn = *nodes_[id];
  if (!sn.alive || !sn.node->running()) return;
  const Time next = std::max(sn.node->next_deadline(), now_);
  if (sn.tick_at && *sn.tick_at <= next) return;
  sn.tick_at = next;
  auto e = std::make_unique<Event>();
  e->at = next;
  e->kind = Kind::Tick;
  e->target = id;
  schedule(std::move(e));
}

void Simulator::flush(NodeId id) {
  auto &sn = *nodes_[id];
  for (auto &effect : sn.node->take_effects()) {
    if (auto *p = std::get_if<protocol::SendPacket>(&effect)) {
      ++stats_.packets_sent;
      stats_.bytes_sent += p->data.size();
      if (observer_) observer_(id, p->to, p->data);
      auto to = lookup(p->to);
      if (!to || !link_up(id, *to)) {
        ++stats_.packets_lost;
        continue;
      }
      const LinkFaults &f = faults(id, *to);
      if (f.loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < f.loss) {
        ++stats_.packets_lost;
        continue;
      }
      const int copies = (f.duplicate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < f.duplicate) ? 2 : 1;
      for (int c = 0; c < copies; ++c) {
        auto e = std::make_unique<Event>();
        e->at = now_ + delay(f);
        e->kind = Kind::Packet;
        e->target = *to;
        e->from = id;
        e->data = p->data;
        schedule(std::move(e));
      }
    } else if (auto *o = std::get_if<protocol::OpenStream>(&effect)) {
      ++stats_.streams_opened;
      auto to = lookup(o->to);
      auto fail_at = [&](Time at, std::string why) {
        ++stats_.streams_failed;
        sn.open[o->id] = 0;
        auto e = std::make_unique<Event>();
        e->at = at;
        e->kind = Kind::StreamResult;
        e->target = id;
        e->stream = o->id;
        e->error = wire::make_error(wire::Errc::Truncated, std::move(why));
        schedule(std::move(e));
      };
      if (!to || !nodes_[*to]->alive) {
        fail_at(now_ + default_faults_.latency * 2, "connection refused");
        continue;
      }
      const LinkFaults &f = faults(id, *to);
      if (!link_up(id, *to) || (f.loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < f.loss)) {
        fail_at(o->deadline, "i/o timeout");
        continue;
      }
      // The responder decodes with its own options, as its transport would.
      auto decoded = wire::StreamDecoder::decode(o->data, nodes_[*to]->node->stream_in(true));
      const uint64_t rid = next_stream_++;
      streams_[rid] = std::make_unique<PendingStream>(PendingStream{id, o->id, *to, o->expect_reply, o->deadline});
      if (stream_observer_) stream_observer_(id, *to, o->data.size());
      sn.open[o->id] = rid;
      auto e = std::make_unique<Event>();
      e->at = now_ + delay(f);
      e->kind = Kind::StreamRequest;
      e->target = *to;
      e->from = id;
      e->stream = rid;
      if (decoded) {
        e->msg = std::move(decoded.value());
      } else {
        e->error = decoded.error();
      }
      schedule(std::move(e));
      auto t = std::make_unique<Event>();
      t->at = o->deadline;
      t->kind = Kind::StreamTimeout;
      t->target = id;
      t->stream = o->id;
      schedule(std::move(t));
    } else if (auto *r = std::get_if<protocol::ReplyStream>(&effect)) {
      auto it = streams_.find(r->id);
      if (it == streams_.end()) continue;
      PendingStream ps = *it->second;
      streams_.erase(it);
      if (!ps.expect_reply || !nodes_[ps.opener]->alive) continue;
      auto e = std::make_unique<Event>();
      e->kind = Kind::StreamResult;
      e->target = ps.opener;
      e->stream = ps.opener_id;
      e->at = now_ + delay(faults(id, ps.opener));
      if (!link_up(id, ps.opener) || e->at > ps.deadline) continue;  // the opener's timeout fires
      if (stream_observer_) stream_observer_(id, ps.opener, r->data.size());
      auto decoded = wire::StreamDecoder::decode(r->data, nodes_[ps.opener]->node->stream_in(false));
      if (decoded) {
        e->msg = std::move(decoded.value());
      } else {
        e->error = decoded.error();
      }
      schedule(std::move(e));
    } else if (auto *d = std::get_if<OpDone>(&effect)) {
      sn.done[d->op] = *d;
    }
  }
  reschedule_tick(id);
}

void Simulator::dispatch(Event &e) {
  auto &sn = *nodes_[e.target];
  if (!sn.alive) {
    if (e.kind == Kind::StreamRequest) streams_.erase(e.stream);  // the opener times out
    return;
  }
  if (sn.stalled_until > now_) {  // starved: handle it when the stall ends, in order
    if (e.kind == Kind::Tick) {
      sn.tick_at.reset();
      auto t = std::make_unique<Event>();
      t->at = sn.stalled_until;
      t->kind = Kind::Tick;
      t->target = e.target;
      sn.tick_at = sn.stalled_until;
      schedule(std::move(t));
      return;
    }
    auto again = std::make_unique<Event>(std::move(e));
    again->at = sn.stalled_until;
    schedule(std::move(again));
    return;
  }
  mix(static_cast<uint64_t>(now_.time_since_epoch().count()));
  mix(static_cast<uint64_t>(e.kind) << 56 | e.target << 28 | e.from);
  auto &node = *sn.node;
  switch (e.kind) {
    case Kind::Tick:
      if (!sn.tick_at || *sn.tick_at != e.at) return;  // superseded
      sn.tick_at.reset();
      node.tick(now_);
      break;
    case Kind::Packet:
      mix(e.data.size());
      node.handle_packet(now_, nodes_[e.from]->endpoint, e.data);
      break;
    case Kind::StreamRequest: {
      auto it = streams_.find(e.stream);
      if (it == streams_.end()) return;
      // A write-only stream completes for the opener once the bytes are delivered.
      if (!it->second->expect_reply) {
        auto done = std::make_unique<Event>();
        done->at = now_;
        done->kind = Kind::StreamResult;
        done->target = it->second->opener;
        done->stream = it->second->opener_id;
        schedule(std::move(done));
      }
      if (e.msg) {
        node.handle_stream(now_, e.stream, nodes_[e.from]->endpoint, std::move(*e.msg));
      } else {
        node.handle_stream_error(now_, e.stream, nodes_[e.from]->endpoint, *e.error);
      }
      break;
    }
    case Kind::StreamResult: {
      if (!sn.open.erase(e.stream)) return;  // already timed out
      if (e.error) {
        node.stream_result(now_, e.stream, *e.error);
      } else {
        node.stream_result(now_, e.stream, std::move(e.msg));
      }
      break;
    }
    case Kind::StreamTimeout: {
      auto it = sn.open.find(e.stream);
      if (it == sn.open.end()) return;
      streams_.erase(it->second);
      sn.open.erase(it);
      ++stats_.streams_failed;
      node.stream_result(now_, e.stream, wire::make_error(wire::Errc::Truncated, "i/o timeout"));
      break;
    }
  }
  flush(e.target);
}

void Simulator::step() {
  auto e = std::move(const_cast<std::unique_ptr<Event> &>(queue_.top()));
  queue_.pop();
  now_ = std::max(now_, e->at);
  ++events_;
  dispatch(*e);
}

void Simulator::run_for(Duration d) {
  const Time end = now_ + d;
  while (!queue_.empty() && queue_.top()->at <= end) step();
  now_ = end;
}

bool Simulator::run_until(const std::function<bool()> &pred, Duration max, Duration check_every) {
  const Time end = now_ + max;
  while (now_ < end) {
    if (pred()) return true;
    run_for(std::min(check_every, end - now_));
  }
  return pred();
}

}  // namespace memberlist::sim
