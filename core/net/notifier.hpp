// Notifier: the per-node queue that carries notifications off the loop thread.
//
// memberlist never waits for a delegate call in flight: packets are read by the transport's
// goroutines and handed to a separate handler goroutine, and Shutdown only stops the transport.
// Programs rely on it: they hold their own lock around Shutdown, Leave, Members, … and take that
// same lock inside NotifyMsg or NotifyJoin. If those callbacks ran on the loop thread, a caller
// waiting for the loop while holding the lock would wait forever.
//
// So a NodeHost calls the callbacks that need no answer (user messages, join/leave/update
// events, conflicts, ping completions) through a Notifier: the loop thread queues a copy of the
// arguments and goes on. A Notifier runs its callbacks in the order they were queued, one at a
// time, on a thread of its runtime's NotifyPool. Log lines have a Notifier of their own, so a
// delegate that blocks holds no log line up (memberlist logs from every goroutine). Callbacks
// that answer (metadata, broadcasts, local/remote state, merge and alive vetoes, the ack
// payload) stay on the loop.
//
// User messages that came in datagrams are memberlist's handoff queue: at most `depth` of them
// wait at once, and one more is refused (the caller drops and logs it, as memberlist does).
// Nothing else is ever refused while the notifier runs.
//
// stop(): no callback starts after it returns; what is queued is dropped; a callback already in
// flight finishes on its own thread. stop() never waits for user code. `keep` (the user's
// delegates) is released after the last callback: by stop() itself when none is in flight,
// otherwise by the pool thread when that callback returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace memberlist::net {

// The threads that run a runtime's notifications. A node's notifications run on one pool thread
// at a time; a pool thread serves whichever node has work, up to 64 of one node's callbacks per
// turn before the next node with work (so a burst costs the pool's lock once per 64, and one
// node's burst delays another's by at most 64 callbacks per thread). Threads start when every existing
// one is busy (a node whose callback blocks holds one thread, never the others' work) and end
// after a second idle. close() (the runtime's shutdown) ends the idle ones at once and waits for
// them, never for one inside a callback: that one ends when its callback returns.
//
// Or the embedder runs them (external()): no thread is ever started. Each time a notifier gets
// work while none of its callbacks is queued or running (where a pool thread would be woken or
// started), the pool asks for one more runner (NotifyRunners::take_wanted); a runner is any
// thread of the embedder's that calls NotifyRunners::run() once: it runs ready notifications
// until none is left and returns. A runner inside a callback that blocks holds up only that
// node's notifications: the next node with work asks for a runner of its own. The Go package
// uses goroutines (a call into Go from a thread Go started is cheap; from a C thread it is not).
class NotifyRunners;

class NotifyPool {
 public:
  NotifyPool();
  ~NotifyPool();
  NotifyPool(const NotifyPool &) = delete;
  NotifyPool &operator=(const NotifyPool &) = delete;
  void close();
  size_t threads() const;  // pool threads alive now (external: runners inside run())

  // Hands the running of this pool's notifications to the embedder, before any Notifier uses the
  // pool (nullptr otherwise, or when it already is external). `wake` is called, with the pool's
  // lock held, whenever a runner is asked for; it must not block (the runtime wakes its loop when
  // the work came from another thread, so the driver sees take_wanted() > 0). close() forgets it.
  std::unique_ptr<NotifyRunners> external(std::function<void()> wake);
  // Runners asked for and not yet taken (external pools; 0 otherwise). Any thread, lock-free.
  size_t wanted() const noexcept;

  struct Impl;

 private:
  friend class Notifier;
  friend class NotifyRunners;
  std::shared_ptr<Impl> impl_;
};

// The embedder's side of an external pool. Holds the pool: valid after the runtime is gone (run()
// then finds nothing to do and reports the pool closed).
class NotifyRunners {
 public:
  explicit NotifyRunners(std::shared_ptr<NotifyPool::Impl> impl) : impl_(std::move(impl)) {}
  // How many runners the pool asked for since the last call; the caller starts that many.
  size_t take_wanted();
  // Runs ready notifications on the calling thread until none is ready. Returns false once the
  // pool is closed (its runtime shut down) and nothing was left to run.
  bool run();
  // Whether the calling thread is inside run() (of any pool): a callback must not run others.
  static bool in_run() noexcept;

 private:
  std::shared_ptr<NotifyPool::Impl> impl_;
};

class Notifier {
 public:
  using Fn = std::function<void()>;
  enum class Offer { Queued, Full, Stopped };

  // depth: how many datagram user messages may wait at once (>= 1).
  Notifier(NotifyPool &pool, size_t depth, std::shared_ptr<void> keep);
  ~Notifier();  // stop()
  Notifier(const Notifier &) = delete;
  Notifier &operator=(const Notifier &) = delete;

  // Queues an ordered notification. Returns false (fn dropped) once stopped.
  bool post(Fn fn);
  // Queues a datagram user message, counted against `depth`.
  Offer post_msg(Fn fn);
  void stop();

  // How many datagram user messages were refused because `depth` were waiting.
  uint64_t dropped() const;

  struct State;

 private:
  std::shared_ptr<State> st_;
};

}  // namespace memberlist::net
