#include "net/notifier.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "state/fifo.hpp"

namespace memberlist::net {

// Lock order: a Notifier's State::mu, then never the pool's mu while holding it (schedule() is
// called after State::mu is released).

struct Notifier::State {
  std::shared_ptr<NotifyPool::Impl> pool;
  std::mutex mu;
  struct Item {
    Fn fn;
    bool msg = false;
  };
  state::Fifo<Item> queue;    // guarded by mu
  size_t waiting_msgs = 0;     // guarded by mu: datagram messages in `queue`
  size_t depth = 1;
  bool stopped = false;        // guarded by mu
  bool scheduled = false;      // guarded by mu: in the pool's ready list
  bool in_flight = false;      // guarded by mu: a pool thread is inside one of its callbacks
  std::shared_ptr<void> keep;  // guarded by mu
  std::atomic<uint64_t> dropped{0};
};

struct NotifyPool::Impl : std::enable_shared_from_this<NotifyPool::Impl> {
  std::mutex mu;
  std::condition_variable work_cv;  // ready work, or closing
  std::condition_variable gone_cv;  // a thread ended
  std::deque<std::shared_ptr<Notifier::State>> ready;  // guarded by mu
  size_t threads = 0;   // guarded by mu
  size_t idle = 0;      // guarded by mu
  size_t running = 0;   // guarded by mu: threads inside a callback
  bool closing = false;  // guarded by mu
  bool used = false;     // guarded by mu: a Notifier was made on the pool
  bool external = false;  // guarded by mu: the embedder's runners run the notifications
  std::function<void()> wake;      // guarded by mu: external only, until close()
  std::atomic<size_t> wanted{0};   // external: runners asked for, not yet taken (changed under mu)
  std::unordered_map<std::thread::id, std::thread> workers;  // guarded by mu: not yet joined
  std::vector<std::thread::id> finished;                       // guarded by mu: ended, to join

  // Takes the threads that have ended out of `workers` (to be joined without the lock).
  std::vector<std::thread> reap() {
    std::vector<std::thread> out;
    for (const auto &id : finished) {
      if (auto it = workers.find(id); it != workers.end()) {
        out.push_back(std::move(it->second));
        workers.erase(it);
      }
    }
    finished.clear();
    return out;
  }
  static void join_all(std::vector<std::thread> &ts) {
    for (auto &t : ts) {
      if (t.joinable()) t.join();
    }
  }

  // Puts a notifier with work on the ready list; starts a thread if none is idle. `from_pool`:
  // the caller is a pool thread about to look for work itself, so it needs no new thread (one
  // notifier's burst would otherwise start a thread per callback).
  void schedule(std::shared_ptr<Notifier::State> st, bool from_pool = false) {
    std::vector<std::thread> ended;
    {
      std::lock_guard lk(mu);
      ready.push_back(std::move(st));
      if (external) {
        // A runner that put its notifier back goes on running (it loops until nothing is ready);
        // otherwise ask for one, as a thread would be woken or started.
        if (!from_pool && !closing) {
          wanted.fetch_add(1, std::memory_order_release);
          if (wake) wake();
        }
        return;
      }
      if (from_pool) {
        // The calling pool thread takes the next ready notifier itself: wake another only when
        // there is more than that one and a thread is idle.
        if (ready.size() > 1 && idle > 0) work_cv.notify_one();
        return;
      }
      if (idle > 0 || closing) {
        work_cv.notify_one();
        return;
      }
      ended = reap();
      try {
        std::thread t(&Impl::main, shared_from_this());
        pthread_setname_np(t.native_handle(), "ml-notify");  // not "ml-loop", inherited
        workers.emplace(t.get_id(), std::move(t));
        ++threads;
      } catch (...) {
        // No new thread: a busy one takes the work when it is free (notifications wait longer).
      }
    }
    join_all(ended);
  }

  static void main(std::shared_ptr<Impl> self) {
    pthread_setname_np(pthread_self(), "ml-notify");
    self->serve();
  }

  void serve() {
    std::unique_lock lk(mu);
    for (;;) {
      if (ready.empty()) {
        if (closing) break;
        ++idle;
        const bool woke = work_cv.wait_for(lk, std::chrono::seconds(1), [&] { return closing || !ready.empty(); });
        --idle;
        if (!woke && ready.empty()) break;  // idle for a second: end
        continue;
      }
      run_front(lk);
    }
    --threads;
    finished.push_back(std::this_thread::get_id());
    gone_cv.notify_all();
  }

  // Takes the first ready notifier and runs a turn of it without the lock (lk is held on entry
  // and on return; the caller has checked that something is ready).
  void run_front(std::unique_lock<std::mutex> &lk) {
    std::shared_ptr<Notifier::State> st = std::move(ready.front());
    ready.pop_front();
    ++running;
    lk.unlock();
    run_one(st);
    st.reset();
    lk.lock();
    --running;
  }

  // Runs up to kBatch callbacks of one notifier, in order, then puts it back on the ready list if
  // it has more (at the tail: every node with work gets its turn). One turn per callback cost two
  // trips through the pool's lock and a wake-up of another pool thread per callback: a
  // 1,024-node join queues about a million NotifyJoin calls.
  static constexpr int kBatch = 64;
  void run_one(const std::shared_ptr<Notifier::State> &st) {
    {
      std::lock_guard sl(st->mu);
      st->scheduled = false;
      if (st->stopped || st->queue.empty()) return;
      st->in_flight = true;
    }
    std::shared_ptr<void> keep;
    bool again = false;
    for (int n = 0;; ++n) {
      Notifier::State::Item item;
      {
        std::lock_guard sl(st->mu);
        if (st->stopped) {
          st->in_flight = false;
          keep = std::move(st->keep);  // stop() left the delegates to us, after this callback
          break;
        }
        if (st->queue.empty() || n == kBatch) {
          st->in_flight = false;
          if (!st->queue.empty()) st->scheduled = again = true;
          break;
        }
        item = std::move(st->queue.front());
        st->queue.pop_front();
        if (item.msg) --st->waiting_msgs;
      }
      try {
        item.fn();
      } catch (...) {
        // The adapters catch what user code throws; nothing may end a pool thread early.
      }
      item.fn = nullptr;  // the copied arguments go before the notifier's lock is taken again
    }
    keep.reset();
    if (again) schedule(st, true);
  }

  // An external pool's runner: what serve() does, until nothing is ready.
  bool run_ready() {
    std::unique_lock lk(mu);
    ++threads;
    while (!ready.empty()) run_front(lk);
    --threads;
    gone_cv.notify_all();
    return !closing;
  }

  void close() {
    std::vector<std::thread> ended;
    std::deque<std::shared_ptr<Notifier::State>> unrun;
    {
      std::unique_lock lk(mu);
      closing = true;
      wake = nullptr;
      // A runner asked for may never come (the driver stops at the loop's end), and a ready
      // notifier holds the pool: drop them (every notifier is stopped by now; nothing is lost).
      if (external) std::swap(unrun, ready);
      work_cv.notify_all();
      // Idle threads end at once; a thread inside a callback is not waited for: it is detached
      // and ends when its callback returns.
      gone_cv.wait(lk, [&] { return threads == running; });
      ended = reap();
      for (auto &[id, t] : workers) t.detach();
      workers.clear();
    }
    join_all(ended);
  }
};

NotifyPool::NotifyPool() : impl_(std::make_shared<Impl>()) {}
NotifyPool::~NotifyPool() { close(); }
void NotifyPool::close() { impl_->close(); }
size_t NotifyPool::threads() const {
  std::lock_guard lk(impl_->mu);
  return impl_->threads;
}

std::unique_ptr<NotifyRunners> NotifyPool::external(std::function<void()> wake) {
  std::lock_guard lk(impl_->mu);
  if (impl_->used || impl_->external || impl_->closing || impl_->threads > 0) return nullptr;
  impl_->external = true;
  impl_->wake = std::move(wake);
  return std::make_unique<NotifyRunners>(impl_);
}

size_t NotifyPool::wanted() const noexcept { return impl_->wanted.load(std::memory_order_acquire); }

namespace {
thread_local int tls_runs = 0;  // NotifyRunners::run() calls on this thread's stack
}

size_t NotifyRunners::take_wanted() { return impl_->wanted.exchange(0, std::memory_order_acq_rel); }

bool NotifyRunners::run() {
  ++tls_runs;
  const bool open = impl_->run_ready();
  --tls_runs;
  return open;
}

bool NotifyRunners::in_run() noexcept { return tls_runs > 0; }

Notifier::Notifier(NotifyPool &pool, size_t depth, std::shared_ptr<void> keep) : st_(std::make_shared<State>()) {
  st_->pool = pool.impl_;
  {
    std::lock_guard lk(pool.impl_->mu);
    pool.impl_->used = true;
  }
  st_->depth = depth == 0 ? 1 : depth;
  st_->keep = std::move(keep);
}

Notifier::~Notifier() { stop(); }

bool Notifier::post(Fn fn) {
  bool schedule = false;
  {
    std::lock_guard lk(st_->mu);
    if (st_->stopped) return false;
    st_->queue.push_back(State::Item{std::move(fn), false});
    if (!st_->scheduled && !st_->in_flight) schedule = st_->scheduled = true;
  }
  if (schedule) st_->pool->schedule(st_);
  return true;
}

Notifier::Offer Notifier::post_msg(Fn fn) {
  bool schedule = false;
  {
    std::lock_guard lk(st_->mu);
    if (st_->stopped) return Offer::Stopped;
    if (st_->waiting_msgs >= st_->depth) {
      st_->dropped.fetch_add(1);
      return Offer::Full;
    }
    st_->queue.push_back(State::Item{std::move(fn), true});
    ++st_->waiting_msgs;
    if (!st_->scheduled && !st_->in_flight) schedule = st_->scheduled = true;
  }
  if (schedule) st_->pool->schedule(st_);
  return Offer::Queued;
}

void Notifier::stop() {
  state::Fifo<State::Item> dropped;
  std::shared_ptr<void> keep;
  {
    std::lock_guard lk(st_->mu);
    if (st_->stopped) return;
    st_->stopped = true;
    std::swap(dropped, st_->queue);
    st_->waiting_msgs = 0;
    // No callback in flight: none can start any more, so the delegates go now. Otherwise the
    // pool thread releases them when the one in flight returns.
    if (!st_->in_flight) keep = std::move(st_->keep);
  }
  // Outside the lock: dropping the copies and the delegates may run user code (user_free).
  dropped.clear();
  keep.reset();
}

uint64_t Notifier::dropped() const { return st_->dropped.load(); }

}  // namespace memberlist::net
