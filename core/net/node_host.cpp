#include "net/node_host.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "net/address.hpp"
#include "net/net_transport.hpp"
#include "net/notifier.hpp"
#include "state/fifo.hpp"

namespace memberlist::net {

using protocol::Member;
using protocol::Node;
using protocol::OpDone;
using protocol::OpId;
using wire::Errc;
using wire::make_error;

namespace {
wire::Error shut_down_error() { return make_error(Errc::Closed, "memberlist is shut down"); }
wire::Error blocking_on_loop_error() {
  return make_error(Errc::InCallback,
                    "a blocking call on the runtime's loop thread (inside a callback) would deadlock");
}
Time now() { return std::chrono::steady_clock::now(); }

// call() wraps the callee's own Result in another: flatten.
template <class T>
wire::Result<T> flat(wire::Result<wire::Result<T>> r) {
  if (!r) return r.error();
  return std::move(r.value());
}
}  // namespace

// ============================================================================= Relay

// The delegates the node sees. Calls that answer go straight to the user's delegates, on the
// loop thread; notifications go through the host's Notifier (notifier.hpp), with their
// arguments copied, so the loop never waits for user code that needs to give no answer.
struct Relay final : protocol::Delegate, protocol::EventDelegate, protocol::ConflictDelegate, protocol::PingDelegate,
                     protocol::Logger {
  protocol::Delegates user;
  Notifier *notifier = nullptr;  // delegates and events
  Notifier *logs = nullptr;      // log lines: their own queue, so a blocked delegate holds none up
  // Called (loop thread) before an event about ourselves is handed on, so a delegate that reads
  // the host's local member copy there sees the change it is told about.
  std::string local_name;
  std::function<void()> refresh_local;

  // The node's view: this relay where the user registered something, the user's own for the
  // answering-only interfaces.
  protocol::Delegates for_node() {
    protocol::Delegates d = user;
    if (user.delegate) d.delegate = this;
    if (user.events) d.events = this;
    if (user.conflict) d.conflict = this;
    if (user.ping) d.ping = this;
    if (user.logger) d.logger = this;
    return d;
  }

  // ---- Delegate
  Bytes node_meta(size_t limit) override { return user.delegate->node_meta(limit); }
  std::vector<Bytes> get_broadcasts(size_t overhead, size_t limit) override {
    return user.delegate->get_broadcasts(overhead, limit);
  }
  Bytes local_state(bool join) override { return user.delegate->local_state(join); }
  // Answers nothing, but stays synchronous: memberlist merges the remote state inside the
  // push/pull (in Join's own goroutine for a join), and programs rely on it having happened when
  // Join returns.
  void merge_remote_state(ByteView buf, bool join) override { user.delegate->merge_remote_state(buf, join); }
  void notify_msg(ByteView msg) override {
    notifier->post([d = user.delegate, m = Bytes(msg.begin(), msg.end())] { d->notify_msg(m); });
  }
  void notify_packet_msg(ByteView msg, const Endpoint &from) override {
    const auto offer =
        notifier->post_msg([d = user.delegate, m = Bytes(msg.begin(), msg.end())] { d->notify_msg(m); });
    if (offer == Notifier::Offer::Full && user.logger && user.logger->enabled(protocol::LogLevel::Warn)) {
      log(protocol::LogLevel::Warn, "memberlist: handler queue full, dropping message (" +
                                        std::to_string(static_cast<int>(wire::MsgType::User)) +
                                        ") from=" + protocol::to_string(from));
    }
  }
  // ---- EventDelegate
  void notify_join(const Member &m) override {
    if (m.name == local_name) refresh_local();
    notifier->post([e = user.events, m] { e->notify_join(m); });
  }
  void notify_leave(const Member &m) override {
    if (m.name == local_name) refresh_local();
    notifier->post([e = user.events, m] { e->notify_leave(m); });
  }
  void notify_update(const Member &m) override {
    if (m.name == local_name) refresh_local();
    notifier->post([e = user.events, m] { e->notify_update(m); });
  }
  // ---- ConflictDelegate
  void notify_conflict(const Member &existing, const Member &other) override {
    notifier->post([c = user.conflict, existing, other] { c->notify_conflict(existing, other); });
  }
  // ---- PingDelegate
  Bytes ack_payload() override { return user.ping->ack_payload(); }
  void notify_ping_complete(const Member &other, protocol::Duration rtt, ByteView payload) override {
    notifier->post([p = user.ping, other, rtt, b = Bytes(payload.begin(), payload.end())] {
      p->notify_ping_complete(other, rtt, b);
    });
  }
  // ---- Logger
  bool enabled(protocol::LogLevel level) const override { return user.logger->enabled(level); }
  void log(protocol::LogLevel level, const std::string &msg) override {
    logs->post([l = user.logger, level, msg] { l->log(level, msg); });
  }
};


// ============================================================================== Impl (loop)

struct NodeHost::Impl final : Transport::Sink, Runtime::Resource, SharedKeyring::Owner {
  Runtime *rt = nullptr;
  std::weak_ptr<Runtime> rt_weak;  // for callers off the loop that hold only the Impl (keyring)
  std::weak_ptr<Impl> self;
  std::shared_ptr<SharedKeyring> keyring;  // attached from open() to close()
  std::unique_ptr<Node> node;
  std::unique_ptr<Transport> transport;
  ExternalTransport *ext = nullptr;  // set in external mode (== transport)
  Timer timer;
  Relay relay;
  std::unique_ptr<Notifier> notifier, log_notifier;
  std::shared_ptr<void> keep_alive;     // the user's delegates (HostOptions::keep_alive), until close()
  bool closed = false;                  // loop thread
  std::atomic<bool> closed_flag{false};  // the same, readable anywhere
  bool busy = false;                    // inside an input (so inside any callback of ours)
  std::atomic<size_t> queued_send_bytes{0};  // send_best_effort: queued, not yet run (any thread)
  // A copy of node->local_member(), refreshed on the loop when local_stamp() moves, so that
  // local_member() (memberlist's LocalNode, which consumers call per message) needs no round trip.
  uint64_t local_stamp = 0;  // loop thread
  std::mutex local_mu;
  std::optional<protocol::Member> local_copy;  // guarded by local_mu
  // Live members' endpoints by name, for endpoint_of(); written on the loop only, cleared there
  // when node->address_epoch() moves (every time before a caller can be woken, as local_copy).
  uint64_t address_epoch = 0;  // loop thread
  std::mutex endpoints_mu;
  std::unordered_map<std::string, Endpoint> endpoints;  // guarded by endpoints_mu
  state::Fifo<std::function<void(Time)>> deferred;
  std::map<OpId, DoneFn> waiting;
  Endpoint advertise;
  uint16_t port = 0;

  wire::Status open(HostOptions &o, bool install_keyring);
  void close();
  void stop_notifiers() {
    if (notifier) notifier->stop();
    if (log_notifier) log_notifier->stop();
  }
  // open() failed half-way (an exception): release what was set up.
  void abandon() {
    if (keyring && node) keyring->detach(node->keyring());
    if (transport) transport->close();
    timer.close();
    stop_notifiers();
    closed = true;
    closed_flag = true;
  }

  // Feeds one input to the node and executes the effects; an input arriving while another runs
  // (a callback re-entering, a transport failing synchronously) is queued and run right after.
  template <class F>
  void run(F &&f) {
    busy = true;
    try {
      f(now());
      flush();
    } catch (...) {
      // A delegate threw: the input is abandoned, the node keeps running.
    }
    while (!deferred.empty()) {
      auto g = std::move(deferred.front());
      deferred.pop_front();
      try {
        g(now());
        flush();
      } catch (...) {
      }
    }
    busy = false;
    if (!closed) rearm();
  }
  void input(std::function<void(Time)> f) {
    if (closed && !busy) return;
    if (busy) {
      deferred.push_back(std::move(f));
    } else {
      run(f);
    }
  }

  void flush() {
    // Before the effects: an OpDone below wakes a caller who may read local_member() at once.
    refresh_local();
    while (node->has_effects()) {
      for (auto &effect : node->take_effects()) {
        if (auto *p = std::get_if<protocol::SendPacket>(&effect)) {
          transport->send_packet(p->to, p->data);
        } else if (auto *o = std::get_if<protocol::OpenStream>(&effect)) {
          transport->open_stream(std::move(*o));
        } else if (auto *r = std::get_if<protocol::ReplyStream>(&effect)) {
          transport->reply_stream(std::move(*r));
        } else if (auto *d = std::get_if<OpDone>(&effect)) {
          complete(*d);
        }
      }
    }
  }

  void refresh_local() {
    if (const uint64_t epoch = node->address_epoch(); epoch != address_epoch) {
      address_epoch = epoch;
      std::lock_guard<std::mutex> lk(endpoints_mu);
      endpoints.clear();
    }
    const uint64_t stamp = node->local_stamp();
    if (stamp == local_stamp) return;
    local_stamp = stamp;
    protocol::Member copy = node->local_member();  // built outside the lock
    std::lock_guard<std::mutex> lk(local_mu);
    local_copy = std::move(copy);
  }

  void complete(const OpDone &d) {
    auto it = waiting.find(d.op);
    if (it == waiting.end()) return;
    DoneFn fn = std::move(it->second);
    waiting.erase(it);
    if (fn) fn(d);
  }

  void rearm() {
    const Time t = node->next_deadline();
    if (t == Time::max()) {
      timer.stop();
    } else {
      timer.arm_at(t, rt->timer_grid_ms());
    }
  }

  // ---- Transport::Sink
  void on_packet(const Endpoint &from, ByteView data) override {
    if (closed) return;
    if (busy) {
      input([this, from, bytes = Bytes(data.begin(), data.end())](Time t) { node->handle_packet(t, from, bytes); });
      return;
    }
    run([&](Time t) { node->handle_packet(t, from, data); });
  }
  void on_stream(StreamId id, const Endpoint &from, wire::Result<wire::StreamMessage> request) override {
    input([this, id, from, req = std::move(request)](Time t) mutable {
      if (req) {
        node->handle_stream(t, id, from, std::move(req.value()));
      } else {
        node->handle_stream_error(t, id, from, req.error());
      }
    });
  }
  void on_stream_result(StreamId id, wire::Result<std::optional<wire::StreamMessage>> outcome) override {
    input([this, id, out = std::move(outcome)](Time t) mutable { node->stream_result(t, id, std::move(out)); });
  }
  void on_transport_error(std::string what, protocol::LogLevel level) override {
    input([this, w = std::move(what), level](Time t) { node->handle_transport_error(t, w, level); });
  }
  wire::StreamIn stream_in(bool request) override { return node->stream_in(request); }

  // ---- Runtime::Resource
  void close_for_runtime_shutdown() override { close(); }

  // Runs fn on the node's live keyring: inline when already inside this host's input (or on a
  // closed node, whose state is all that is left), otherwise as an input of its own.
  bool run_on_ring(const std::function<void(wire::Keyring &)> &fn) override {
    auto r = rt_weak.lock();
    if (!r) return false;
    auto st = r->call([&] {
      if (busy || closed) {
        fn(node->keyring());
      } else {
        run([&](Time) { fn(node->keyring()); });
      }
    });
    return st.ok();
  }
};

wire::Status NodeHost::Impl::open(HostOptions &o, bool install_keyring) {
  protocol::Config cfg = o.config;
  if (o.external && cfg.tcp_only) {
    return make_error(Errc::InvalidArgument, "tcp_only selects the built-in TCP-only transport; it cannot be combined "
                                             "with an external transport");
  }
  if (o.external) {
    auto t = ExternalTransport::create(*rt, std::move(*o.external), cfg.tcp_timeout, cfg.max_concurrent_push_pulls);
    if (!t) return t.error();
    ext = t->get();
    transport = std::move(t.value());
    auto ip = parse_ip(cfg.advertise_addr);
    if (!ip || cfg.advertise_port == 0) {
      transport->close();
      return make_error(Errc::OutOfRange, "external transport: advertise_addr must be an IP address and "
                                          "advertise_port not 0 (got '" +
                                              cfg.advertise_addr + "' port " + std::to_string(cfg.advertise_port) + ")");
    }
    advertise = Endpoint{std::move(*ip), cfg.advertise_port, cfg.name};
  } else {
    NetTransportOptions no;
    no.bind_addrs = o.bind_addrs.empty() ? std::vector<std::string>{cfg.bind_addr} : o.bind_addrs;
    no.bind_port = cfg.bind_port;
    no.tcp_timeout = cfg.tcp_timeout;
    no.max_inbound_streams = cfg.max_concurrent_push_pulls;
    no.tcp_only = cfg.tcp_only;
    no.max_tcp_packet = cfg.limits.max_tcp_packet;
    auto t = NetTransport::create(*rt, std::move(no));
    if (!t) return t.error();
    auto adv = choose_advertise(cfg, t.value()->bind_ips().front(), t.value()->port(), interface_addresses());
    if (!adv) {
      t.value()->close();
      return adv.error();
    }
    port = t.value()->port();
    if (cfg.bind_port == 0) cfg.bind_port = port;
    cfg.advertise_port = adv->port;
    advertise = std::move(adv.value());
    t.value()->set_advertise(advertise);
    transport = std::move(t.value());
  }
  auto fail = [&](wire::Error e) -> wire::Status {
    if (keyring && node) keyring->detach(node->keyring());
    transport->close();
    timer.close();
    stop_notifiers();
    closed = true;
    closed_flag = true;
    return e;
  };
  if (auto st = timer.init(rt->loop(), [this] { input([this](Time t) { node->tick(t); }); }); !st) {
    return fail(st.error());
  }
  const uint64_t seed = o.seed != 0 ? o.seed : (uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  keep_alive = o.keep_alive;
  notifier = std::make_unique<Notifier>(rt->notify_pool(), static_cast<size_t>(cfg.handoff_queue_depth), o.keep_alive);
  log_notifier = std::make_unique<Notifier>(rt->notify_pool(), 1, o.keep_alive);
  relay.user = o.delegates;
  relay.notifier = notifier.get();
  relay.logs = log_notifier.get();
  relay.local_name = cfg.name;
  relay.refresh_local = [this] { refresh_local(); };
  node = std::make_unique<Node>(cfg, advertise, relay.for_node(), seed, now());
  node->set_work_clock(now);
  keyring = o.keyring;
  if (!keyring->attach(self, node->keyring(), install_keyring)) {
    keyring.reset();
    return fail(make_error(Errc::Busy, "the keyring is already used by another memberlist"));
  }
  // start() calls the delegate (node_meta, notify_join for itself): it is an input too.
  wire::Status started = wire::Ok{};
  busy = true;
  try {
    started = node->start(now());
  } catch (...) {
    started = make_error(Errc::Internal, "a delegate threw while the node started");
  }
  busy = false;
  if (!started) return fail(started.error());
  if (auto st = transport->start(this); !st) {
    node->shutdown(now());
    (void)node->take_effects();
    return fail(st.error());
  }
  rt->attach(this);
  run([](Time) {});  // the effects of start(), and the timer
  return wire::Ok{};
}

void NodeHost::Impl::close() {
  if (closed) return;
  closed = true;
  closed_flag = true;
  const bool was_busy = busy;
  busy = true;  // completions below are callbacks too
  try {
    if (node) {
      node->shutdown(now());
      // A shut-down node sends nothing; only the completions of failed operations matter.
      for (auto &effect : node->take_effects()) {
        if (auto *d = std::get_if<OpDone>(&effect)) complete(*d);
      }
    }
    auto rest = std::move(waiting);
    waiting.clear();
    for (auto &[op, fn] : rest) {
      if (fn) fn(OpDone{op, shut_down_error(), 0, {}});
    }
  } catch (...) {
  }
  busy = was_busy;
  // The keys go back to the keyring, which a program may keep using (or give to a new node).
  if (keyring && node) keyring->detach(node->keyring());
  if (transport) transport->close();
  timer.close();
  // No notification starts after this; one in flight finishes on the notifier's thread, which
  // then releases the delegates (never waited for here).
  stop_notifiers();
  rt->detach(this);
  keep_alive.reset();
}

// ============================================================================= NodeHost

NodeHost::NodeHost(std::shared_ptr<Runtime> rt, std::shared_ptr<Impl> impl)
    : rt_(std::move(rt)), impl_(std::move(impl)) {
  advertise_ = impl_->advertise;
  port_ = impl_->port;
}

wire::Result<std::unique_ptr<NodeHost>> NodeHost::create(HostOptions options) {
  const bool install_keyring = options.keyring != nullptr;
  if (options.keyring) {
    // The node starts encrypting at once with the keyring's primary; open() installs the rest.
    if (options.keyring->in_use()) return make_error(Errc::Busy, "the keyring is already used by another memberlist");
    if (auto k = options.keyring->primary()) options.config.secret_key = std::move(*k);
  } else {
    options.keyring = std::make_shared<SharedKeyring>();
  }
  if (auto st = options.config.validate(); !st) return st.error();
  std::shared_ptr<Runtime> rt = options.runtime;
  if (!rt) {
    auto r = Runtime::create();
    if (!r) return r.error();
    rt = std::move(r.value());
  }
  auto impl = std::make_shared<Impl>();
  impl->rt = rt.get();
  impl->rt_weak = rt;
  impl->self = impl;
  auto keyring = options.keyring;
  auto st = rt->call([&]() -> wire::Status {
    try {
      return impl->open(options, install_keyring);
    } catch (const std::exception &e) {
      impl->abandon();
      return make_error(Errc::Internal, std::string("creating the node: ") + e.what());
    } catch (...) {
      impl->abandon();
      return make_error(Errc::Internal, "creating the node: unknown exception");
    }
  });
  if (!st) return st.error();
  if (!st.value()) return st.value().error();
  auto host = std::unique_ptr<NodeHost>(new NodeHost(std::move(rt), std::move(impl)));
  host->keyring_ = std::move(keyring);
  host->names_required_ = options.config.require_node_names;
  host->sure_fit_ = options.config.user_packet_sure_fit();
  return host;
}

NodeHost::~NodeHost() {
  if (!impl_) return;
  if (rt_->in_loop_thread() && impl_->busy) {
    // Destroyed from its own callback: finish the shutdown once the current input is over.
    rt_->post([impl = impl_] { impl->close(); });
  } else {
    (void)shutdown();
  }
  impl_.reset();
  if (rt_->in_loop_thread()) {
    // This may be the last reference to the runtime (a private one), and a runtime cannot be
    // destroyed on its own thread (it joins it): let another thread drop it.
    try {
      std::thread([r = std::move(rt_)]() mutable { r.reset(); }).detach();
    } catch (...) {
      // No thread to be had: keep the reference (the runtime leaks rather than aborting).
      new std::shared_ptr<Runtime>(std::move(rt_));
    }
  }
}

wire::Status NodeHost::shutdown() {
  if (impl_->closed_flag.load()) return wire::Ok{};
  auto impl = impl_;
  auto r = rt_->call([&]() -> wire::Status {
    if (impl->busy) {
      // From one of this host's own callbacks on the loop (memberlist allows Shutdown from a
      // delegate): nothing more of this host runs, and the close follows the current input.
      impl->closed_flag = true;
      impl->stop_notifiers();
      // Refused only while the runtime shuts down, which closes every host itself.
      (void)rt_->post([impl] { impl->close(); });
      return wire::Ok{};
    }
    impl->close();
    return wire::Ok{};
  });
  if (!r) return impl->closed_flag.load() ? wire::Status(wire::Ok{}) : wire::Status(r.error());
  return r.value();
}

bool NodeHost::is_shut_down() const { return impl_->closed_flag.load(); }

bool NodeHost::in_callback() const { return rt_->in_loop_thread() && impl_->busy; }

// ---- operations

wire::Status NodeHost::start_op(std::function<OpId(Node &, Time)> start, DoneFn done) {
  auto impl = impl_;
  auto r = rt_->call([&]() -> wire::Status {
    if (impl->closed_flag.load()) return shut_down_error();
    // Run now, or (inside a callback) right after the current input: the node answers an
    // operation started on a shut-down node with an error completion, so `done` always runs.
    impl->input([impl, start = std::move(start), done = std::move(done)](Time t) mutable {
      const OpId op = start(*impl->node, t);
      impl->waiting[op] = std::move(done);
    });
    return wire::Ok{};
  });
  return flat(std::move(r));
}

wire::Status NodeHost::may_block() const {
  if (impl_->closed_flag.load()) return shut_down_error();
  if (rt_->in_loop_thread()) return blocking_on_loop_error();
  return wire::Ok{};
}

wire::Result<OpDone> NodeHost::wait_op(std::function<OpId(Node &, Time)> start) {
  if (auto st = may_block(); !st) return st.error();
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<OpDone> done;
  };
  auto w = std::make_shared<Waiter>();
  auto st = start_op(std::move(start), [w](const OpDone &d) {
    std::lock_guard<std::mutex> lk(w->mu);
    w->done = d;
    w->cv.notify_all();
  });
  if (!st) return st.error();
  std::unique_lock<std::mutex> lk(w->mu);
  w->cv.wait(lk, [&] { return w->done.has_value(); });
  return *w->done;
}

wire::Result<int> NodeHost::join(const std::vector<protocol::Endpoint> &peers) {
  auto d = wait_op([peers](Node &n, Time t) { return n.join(t, peers); });
  if (!d) return d.error();
  if (!d->status) return d->status.error();
  return d->contacted;
}

wire::Status NodeHost::leave(protocol::Duration timeout) {
  auto d = wait_op([timeout](Node &n, Time t) { return n.leave(t, timeout); });
  if (!d) return d.error();
  return d->status;
}

wire::Status NodeHost::update_node(protocol::Duration timeout) {
  auto d = wait_op([timeout](Node &n, Time t) { return n.update_node(t, timeout); });
  if (!d) return d.error();
  return d->status;
}

wire::Result<protocol::Duration> NodeHost::ping(const std::string &name, const protocol::Endpoint &addr) {
  auto d = wait_op([name, addr](Node &n, Time t) { return n.ping(t, name, addr); });
  if (!d) return d.error();
  if (!d->status) return d->status.error();
  return d->rtt;
}

wire::Status NodeHost::send_reliable(const protocol::Endpoint &to, wire::ByteView msg) {
  auto d = wait_op([to, bytes = wire::Bytes(msg.begin(), msg.end())](Node &n, Time t) {
    return n.send_reliable(t, to, bytes);
  });
  if (!d) return d.error();
  return d->status;
}

wire::Status NodeHost::join_async(std::vector<protocol::Endpoint> peers, DoneFn done) {
  return start_op([peers = std::move(peers)](Node &n, Time t) { return n.join(t, peers); }, std::move(done));
}

// ---- non-blocking

wire::Status NodeHost::send_best_effort(const protocol::Endpoint &to, wire::ByteView msg) {
  auto impl = impl_;
  if (impl->closed_flag.load()) return shut_down_error();
  if (auto st = protocol::check_target_name(names_required_, to.name); !st) return st;
  // Queued without waiting when it surely fits and the queue has room (bytes counted with a
  // little for the task itself, so a flood of empty messages is bounded too). On the loop thread
  // the call below runs inline, in order with the other calls made from a callback.
  const size_t cost = msg.size() + 64;
  const bool may_queue = msg.size() <= sure_fit_ && !rt_->in_loop_thread();
  if (may_queue && impl->queued_send_bytes.fetch_add(cost) + cost <= kMaxQueuedSendBytes) {
    const bool queued = rt_->post([impl, to, cost, bytes = wire::Bytes(msg.begin(), msg.end())]() mutable {
      impl->queued_send_bytes.fetch_sub(cost);
      impl->input([impl, to = std::move(to), bytes = std::move(bytes)](Time t) {
        impl->node->send_best_effort_queued(t, to, bytes);
      });
    });
    if (queued) return wire::Ok{};
    impl->queued_send_bytes.fetch_sub(cost);
    return shut_down_error();
  }
  if (may_queue) impl->queued_send_bytes.fetch_sub(cost);
  auto r = rt_->call([&]() -> wire::Status {
    if (impl->closed_flag.load()) return shut_down_error();
    if (impl->busy) {
      impl->input([impl, to, bytes = wire::Bytes(msg.begin(), msg.end())](Time t) {
        impl->node->send_best_effort_queued(t, to, bytes);
      });
      return wire::Ok{};
    }
    wire::Status st = wire::Ok{};
    impl->run([&](Time t) { st = impl->node->send_best_effort(t, to, msg); });
    return st;
  });
  return flat(std::move(r));
}

wire::Status NodeHost::queue_broadcast(wire::Bytes msg, std::string name) {
  auto impl = impl_;
  auto r = rt_->call([&]() -> wire::Status {
    if (impl->closed_flag.load()) return shut_down_error();
    impl->input([impl, m = std::move(msg), n = std::move(name)](Time) mutable {
      impl->node->queue_broadcast(std::move(m), std::move(n));
    });
    return wire::Ok{};
  });
  return flat(std::move(r));
}

// ---- snapshots

wire::Result<protocol::Config> NodeHost::config() {
  auto impl = impl_;
  return rt_->call([impl] { return impl->node->config(); });
}

wire::Result<std::vector<protocol::Member>> NodeHost::members() {
  auto impl = impl_;
  return rt_->call([impl] { return impl->node->members(); });
}

wire::Result<int> NodeHost::num_members() {
  auto impl = impl_;
  return rt_->call([impl] { return impl->node->num_members(); });
}

wire::Result<protocol::Member> NodeHost::local_member() {
  auto impl = impl_;
  {
    std::lock_guard<std::mutex> lk(impl->local_mu);
    if (impl->local_copy) return *impl->local_copy;
  }
  return rt_->call([impl] { return impl->node->local_member(); });
}

wire::Result<std::optional<protocol::Member>> NodeHost::member(const std::string &name) {
  auto impl = impl_;
  return rt_->call([impl, &name] { return impl->node->member(name); });
}

wire::Result<std::optional<protocol::Endpoint>> NodeHost::endpoint_of(const std::string &name) {
  auto impl = impl_;
  {
    std::lock_guard<std::mutex> lk(impl->endpoints_mu);
    if (auto it = impl->endpoints.find(name); it != impl->endpoints.end()) return std::optional<Endpoint>(it->second);
  }
  return rt_->call([impl, &name]() -> std::optional<Endpoint> {
    auto m = impl->node->member(name);
    if (!m) return std::nullopt;
    Endpoint ep{m->addr, m->port, m->name};
    if (m->state == protocol::NodeState::Alive || m->state == protocol::NodeState::Suspect) {
      // Cleared by refresh_local() on the loop, so no entry outlives a change it depends on.
      std::lock_guard<std::mutex> lk(impl->endpoints_mu);
      if (impl->endpoints.size() >= kMaxCachedEndpoints) impl->endpoints.clear();
      impl->endpoints.emplace(name, ep);
    }
    return ep;
  });
}

wire::Result<int> NodeHost::health_score() {
  auto impl = impl_;
  return rt_->call([impl] { return impl->node->health_score(); });
}

wire::Result<protocol::Metrics> NodeHost::metrics() {
  auto impl = impl_;
  return rt_->call([impl] {
    protocol::Metrics m = impl->node->metrics();
    const TransportStats ts = impl->transport->stats();
    m.push_pull_refused += ts.streams_refused;
    m.udp_send_dropped += ts.udp_send_dropped + ts.tcp_packet_send_dropped;  // the latter: tcp_only
    m.streams_over_memory += ts.streams_over_memory;
    // Datagram user messages that found the notification queue full (notifier.hpp).
    if (impl->notifier) m.handoff_dropped += impl->notifier->dropped();
    return m;
  });
}

wire::Result<std::vector<protocol::MetricSample>> NodeHost::take_samples() {
  auto impl = impl_;
  return rt_->call([impl] { return impl->node->take_samples(); });
}

wire::Result<TransportStats> NodeHost::transport_stats() {
  auto impl = impl_;
  return rt_->call([impl] { return impl->transport->stats(); });
}

// ---- external transport input

wire::Status NodeHost::post_external(std::function<void(ExternalTransport &)> fn) {
  if (!impl_->ext) return make_error(Errc::NotExternal, "not in external-transport mode");
  if (impl_->closed_flag.load()) return shut_down_error();
  if (!rt_->post([impl = impl_, fn = std::move(fn)] {
        if (!impl->closed) fn(*impl->ext);
      })) {
    return shut_down_error();
  }
  return wire::Ok{};
}

wire::Status NodeHost::deliver_packet(const protocol::Endpoint &from, wire::ByteView data) {
  return post_external([from, bytes = wire::Bytes(data.begin(), data.end())](ExternalTransport &t) {
    t.deliver_packet(from, bytes);
  });
}

wire::Result<uint64_t> NodeHost::accept_stream(const protocol::Endpoint &from) {
  if (!impl_->ext) return make_error(Errc::NotExternal, "not in external-transport mode");
  const uint64_t id = impl_->ext->allocate_id();
  if (auto st = post_external([id, from](ExternalTransport &t) { t.accept_stream(id, from); }); !st) {
    return st.error();
  }
  return id;
}

wire::Status NodeHost::stream_data(uint64_t id, wire::ByteView data) {
  return post_external(
      [id, bytes = wire::Bytes(data.begin(), data.end())](ExternalTransport &t) { t.stream_data(id, bytes); });
}

wire::Status NodeHost::stream_end(uint64_t id, wire::Status status) {
  return post_external([id, st = std::move(status)](ExternalTransport &t) { t.stream_end(id, st); });
}

}  // namespace memberlist::net
