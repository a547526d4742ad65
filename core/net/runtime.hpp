// The libuv runtime: one event loop on one dedicated thread (ARCHITECTURE.md "Threading and
// lifetime"), or, driven (Options::driven), on whichever thread calls drive(). Every socket, timer and protocol::Node of the memberlists that share a runtime
// lives on that thread; other threads reach it only through post() and call(), which queue work
// behind a uv_async_t doorbell.
//
// The loop thread blocks SIGPIPE for itself (a peer that resets a TCP connection gives EPIPE,
// never a signal) and installs no signal handler: the embedding program (the Go runtime, the JVM)
// owns signals.
//
// Lifetime: create() starts the thread; shutdown() (or the destructor) stops it. Shutting down
// first runs every task already queued, then closes every Resource still attached (a NodeHost
// shuts its node down and closes its sockets), closes the doorbell, runs the loop until every
// close callback has run, joins the thread and closes the loop; uv_loop_close's result is
// reported (0, i.e. nothing leaked, is the only success). A runtime must not be shut down or
// destroyed from its own loop thread: shutdown() returns an error there, and the destructor
// aborts (a C layer checks in_loop_thread() first and reports the misuse).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <uv.h>

#include "net/notifier.hpp"
#include "wire/error.hpp"

namespace memberlist::net {

// A libuv error as a wire::Error ("bind 127.0.0.1:7946: EADDRINUSE (address already in use)").
wire::Error uv_error(int uv_status, const std::string &what);

class Runtime : public std::enable_shared_from_this<Runtime> {
 public:
  using Task = std::function<void()>;

  struct Options {
    std::string thread_name = "ml-loop";  // at most 15 characters are kept (pthread limit)
    // Driven: no loop thread is started; the embedder runs the loop by calling drive() whenever
    // backend_fd() is readable or the timeout drive() returned has passed, from any one thread at
    // a time (the Go package does it from a goroutine parked in Go's netpoller, so a hundred idle
    // nodes cost no OS threads and their callbacks into Go enter from a Go thread). Everything
    // else is as with a thread: the thread inside drive() is the loop thread for that call.
    bool driven = false;
  };

  // Something on the loop that must be closed when the runtime stops (a NodeHost). Attach and
  // detach on the loop thread only.
  class Resource {
   public:
    // Called on the loop thread while the runtime shuts down: stop and close every handle.
    // The resource must detach itself.
    virtual void close_for_runtime_shutdown() = 0;

   protected:
    ~Resource() = default;
  };

  static wire::Result<std::shared_ptr<Runtime>> create(Options options);
  static wire::Result<std::shared_ptr<Runtime>> create() { return create(Options{}); }
  ~Runtime();
  Runtime(const Runtime &) = delete;
  Runtime &operator=(const Runtime &) = delete;

  // Queues fn to run on the loop thread, in order with every other posted task. Never blocks
  // (beyond a short mutex). Returns false, and drops fn, once the runtime is shutting down. A
  // task accepted here always runs (shutdown runs what is queued before closing anything).
  // Exceptions escaping fn are caught and counted (task_exceptions()).
  bool post(Task fn);

  // Runs fn on the loop thread and returns its result. Called on the loop thread itself it runs
  // fn inline (no deadlock). From another thread it queues fn and waits for it; if the runtime is
  // shutting down, or fn throws, the result is an error. A void fn gives a wire::Status.
  template <class F>
  auto call(F &&fn);

  bool in_loop_thread() const noexcept;
  // Whether the calling thread is the loop thread of any runtime (inside a loop callback).
  static bool in_any_loop_thread() noexcept;

  // ---- driven runtimes (Options::driven) only
  // A file descriptor that becomes readable when the loop has work (libuv's backend fd, an
  // epoll fd on Linux). Owned by the runtime: poll it, never close it.
  bool driven() const noexcept { return driven_; }
  int backend_fd() noexcept { return uv_backend_fd(&loop_); }
  // Runs whatever is ready (due timers, readable sockets, posted tasks) without blocking, from
  // one thread at a time. Returns the milliseconds until drive() must run again even if the fd
  // stays quiet (-1: only when it becomes readable; 0: at once), or nullopt once the loop has
  // ended (after shutdown() began; the driver stops then, and shutdown() returns after that).
  std::optional<int> drive();
  bool running() const noexcept { return !stopping_.load(std::memory_order_acquire); }
  // Makes the embedder run this runtime's notifications (NotifyPool::external): before any node
  // is created on it; nullptr otherwise, or on a runtime with a thread. drive() returns 0 ("drive
  // again at once") as soon as a runner is wanted, so the driver can start it first.
  std::unique_ptr<NotifyRunners> external_notifications();

  // Stops the loop as described above; idempotent, thread-safe (a second caller waits for the
  // first). Errors: called on the loop thread; uv_loop_close() failed (a handle leaked).
  wire::Status shutdown();

  // ---- loop thread only
  uv_loop_t *loop() noexcept { return &loop_; }
  // A 65,536-byte buffer every socket read on this loop uses (a read is consumed before the next
  // one starts, and everything runs on one thread), or null when memory ran out (the read then
  // fails with UV_ENOBUFS). Buffers are borrowed from a process-wide free list for as long as the
  // loop runs (a drive() call, or the loop thread's life), so there are as many as loops running
  // at one time, not one per runtime: a thousand driven runtimes share a handful.
  static constexpr size_t kReadBufferSize = 65536;
  char *read_buffer() noexcept;
  // Read buffers this process has allocated so far (tests check they are shared).
  static uint64_t read_buffers_made() noexcept;
  void attach(Resource *r);
  void detach(Resource *r);

  // The threads that run the notifications of this runtime's nodes (notifier.hpp), or the
  // embedder's runners (external_notifications). Closed by shutdown(), after the loop: idle pool
  // threads end; one inside a callback is not waited for.
  NotifyPool &notify_pool() noexcept { return pool_; }

  // Tasks whose exception was swallowed (a bug in the caller's code; counted so tests see it).
  uint64_t task_exceptions() const noexcept { return task_exceptions_.load(); }

  // Timer coalescing: the nodes' protocol timers on this runtime fire on a shared grid of this
  // many milliseconds of CLOCK_MONOTONIC (at most that much late, never early), so many nodes'
  // probes and gossip rounds wake the loop (and whatever their callbacks call into) once instead
  // of once each. 0 (the default): each timer fires at its own millisecond. Any thread.
  static constexpr uint32_t kMaxTimerGridMs = 100;
  void set_timer_grid_ms(uint32_t ms) noexcept { timer_grid_ms_.store(ms, std::memory_order_relaxed); }
  uint32_t timer_grid_ms() const noexcept { return timer_grid_ms_.load(std::memory_order_relaxed); }

 private:
  explicit Runtime(bool driven);
  static void on_async(uv_async_t *h);
  void run_tasks();
  void close_everything();
  void thread_main();

  uv_loop_t loop_{};
  uv_async_t async_{};
  char *read_buffer_ = nullptr;  // borrowed while the loop runs (read_buffer())
  void give_back_read_buffer() noexcept;
  std::thread thread_;
  NotifyPool pool_;
  const bool driven_ = false;
  std::mutex drive_mu_;  // serialises drive(); guards ended_
  std::condition_variable ended_cv_;
  bool ended_ = false;  // a driven loop has run out of handles

  std::mutex mu_;  // guards queue_ and the doorbell against closing
  std::deque<Task> queue_;
  std::atomic<bool> stopping_{false};

  std::mutex shutdown_mu_;  // serialises shutdown(); guards the fields below
  bool stopped_ = false;
  std::optional<wire::Error> shutdown_error_;

  std::set<Resource *> resources_;  // loop thread only
  std::atomic<uint64_t> task_exceptions_{0};
  std::atomic<uint32_t> timer_grid_ms_{0};
  int leaked_handles_ = 0;  // loop thread, read after the join
  bool loop_initialised_ = false, async_initialised_ = false;
};

// ------------------------------------------------------------------------------ implementation

namespace detail {
template <class R>
struct CallSlot {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::optional<R> value;
  std::optional<wire::Error> error;
};
wire::Error stopped_error();
wire::Error exception_error(const std::exception_ptr &e);
}  // namespace detail

template <class F>
auto Runtime::call(F &&fn) {
  using R = std::invoke_result_t<F &>;
  using Out = std::conditional_t<std::is_void_v<R>, wire::Status, wire::Result<R>>;
  using Stored = std::conditional_t<std::is_void_v<R>, wire::Ok, R>;
  auto invoke = [&fn]() -> Stored {
    if constexpr (std::is_void_v<R>) {
      fn();
      return wire::Ok{};
    } else {
      return fn();
    }
  };
  if (in_loop_thread()) {
    try {
      return Out(invoke());
    } catch (...) {
      return Out(detail::exception_error(std::current_exception()));
    }
  }
  auto slot = std::make_shared<detail::CallSlot<Stored>>();
  const bool queued = post([slot, &invoke] {
    std::optional<Stored> v;
    std::optional<wire::Error> err;
    try {
      v.emplace(invoke());
    } catch (...) {
      err = detail::exception_error(std::current_exception());
    }
    std::lock_guard<std::mutex> lk(slot->mu);
    slot->value = std::move(v);
    slot->error = std::move(err);
    slot->done = true;
    slot->cv.notify_all();
  });
  if (!queued) return Out(detail::stopped_error());
  std::unique_lock<std::mutex> lk(slot->mu);
  slot->cv.wait(lk, [&] { return slot->done; });
  if (slot->error) return Out(std::move(*slot->error));
  return Out(std::move(*slot->value));
}

}  // namespace memberlist::net
