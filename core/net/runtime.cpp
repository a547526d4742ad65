#include "net/runtime.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

namespace memberlist::net {

namespace {
// The runtime whose loop this thread runs (null on every other thread).
thread_local const Runtime *tls_current = nullptr;
}  // namespace

wire::Error uv_error(int uv_status, const std::string &what) {
  return wire::make_error(wire::Errc::Internal,
                          what + ": " + uv_err_name(uv_status) + " (" + uv_strerror(uv_status) + ")");
}

namespace detail {
wire::Error stopped_error() { return wire::make_error(wire::Errc::Closed, "runtime is shut down"); }
wire::Error exception_error(const std::exception_ptr &e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception &ex) {
    return wire::make_error(wire::Errc::Internal, std::string("exception on the loop thread: ") + ex.what());
  } catch (...) {
    return wire::make_error(wire::Errc::Internal, "exception on the loop thread");
  }
}
}  // namespace detail

Runtime::Runtime(bool driven) : driven_(driven) {}

namespace {
// The read buffers not lent to a running loop. Never freed: there are at most as many as loops
// ever ran at one time (the pointer keeps them reachable for leak checkers).
struct FreeReadBuffers {
  std::mutex mu;
  std::vector<std::unique_ptr<char[]>> free;
  std::atomic<uint64_t> made{0};
};
FreeReadBuffers &free_read_buffers() {
  static auto *buffers = new FreeReadBuffers;
  return *buffers;
}
}  // namespace

char *Runtime::read_buffer() noexcept {
  if (read_buffer_) return read_buffer_;
  auto &b = free_read_buffers();
  {
    std::lock_guard<std::mutex> lk(b.mu);
    if (!b.free.empty()) {
      read_buffer_ = b.free.back().release();
      b.free.pop_back();
      return read_buffer_;
    }
  }
  read_buffer_ = new (std::nothrow) char[kReadBufferSize];
  if (read_buffer_) b.made.fetch_add(1, std::memory_order_relaxed);
  return read_buffer_;
}

uint64_t Runtime::read_buffers_made() noexcept { return free_read_buffers().made.load(std::memory_order_relaxed); }

void Runtime::give_back_read_buffer() noexcept {
  if (!read_buffer_) return;
  std::unique_ptr<char[]> buffer(read_buffer_);
  read_buffer_ = nullptr;
  auto &b = free_read_buffers();
  std::lock_guard<std::mutex> lk(b.mu);
  try {
    b.free.push_back(std::move(buffer));
  } catch (...) {
    // out of memory for the list itself: the buffer is freed instead
  }
}

wire::Result<std::shared_ptr<Runtime>> Runtime::create(Options options) {
  std::shared_ptr<Runtime> rt(new (std::nothrow) Runtime(options.driven));
  if (!rt) return wire::make_error(wire::Errc::Internal, "out of memory");
  if (int rc = uv_loop_init(&rt->loop_); rc != 0) return uv_error(rc, "uv_loop_init");
  rt->loop_initialised_ = true;
  rt->loop_.data = rt.get();
  if (int rc = uv_async_init(&rt->loop_, &rt->async_, &Runtime::on_async); rc != 0) {
    rt->stopping_ = true;
    rt->stopped_ = true;
    return uv_error(rc, "uv_async_init");
  }
  rt->async_initialised_ = true;
  rt->async_.data = rt.get();
  if (options.driven) return rt;
  try {
    rt->thread_ = std::thread([r = rt.get()] { r->thread_main(); });
    // Named from here, so the name is there when create() returns.
    std::string name = options.thread_name.substr(0, 15);
    pthread_setname_np(rt->thread_.native_handle(), name.c_str());
  } catch (const std::system_error &e) {
    // Nothing runs the loop: close the doorbell by hand so the loop can be closed.
    uv_close(reinterpret_cast<uv_handle_t *>(&rt->async_), nullptr);
    (void)uv_run(&rt->loop_, UV_RUN_DEFAULT);  // runs the close callback, then has nothing left
    rt->stopping_ = true;
    rt->stopped_ = true;
    return wire::make_error(wire::Errc::Internal, std::string("cannot start the loop thread: ") + e.what());
  }
  return rt;
}

Runtime::~Runtime() {
  if (in_loop_thread()) {
    std::fputs("libmemberlist: a Runtime was destroyed on its own loop thread\n", stderr);
    std::abort();
  }
  (void)shutdown();
  if (loop_initialised_ && !thread_.joinable()) {
    // create() failed after uv_loop_init: the loop may still hold nothing but must be closed.
    (void)uv_loop_close(&loop_);
    loop_initialised_ = false;
  }
  give_back_read_buffer();  // none is held once the loop stopped; this only makes sure
}

bool Runtime::in_loop_thread() const noexcept { return tls_current == this; }
bool Runtime::in_any_loop_thread() noexcept { return tls_current != nullptr; }

bool Runtime::post(Task fn) {
  std::lock_guard<std::mutex> lk(mu_);
  if (stopping_.load(std::memory_order_relaxed)) return false;
  queue_.push_back(std::move(fn));
  // Under the mutex: the loop closes the doorbell only after it has seen stopping_ under the same
  // mutex, so no send can reach a closed handle (the only way uv_async_send fails).
  (void)uv_async_send(&async_);
  return true;
}

void Runtime::run_tasks() {
  for (;;) {
    std::deque<Task> batch;
    {
      std::lock_guard<std::mutex> lk(mu_);
      batch.swap(queue_);
    }
    if (batch.empty()) return;
    for (auto &t : batch) {
      try {
        t();
      } catch (...) {
        task_exceptions_.fetch_add(1);
      }
    }
  }
}

void Runtime::on_async(uv_async_t *h) {
  auto *rt = static_cast<Runtime *>(h->data);
  rt->run_tasks();
  if (rt->stopping_.load(std::memory_order_acquire)) rt->close_everything();
}

void Runtime::close_everything() {
  // stopping_ is set, so nothing more can be queued; run what was queued before.
  run_tasks();
  while (!resources_.empty()) {
    Resource *r = *resources_.begin();
    r->close_for_runtime_shutdown();
    resources_.erase(r);  // in case it did not detach itself
  }
  run_tasks();
  if (!uv_is_closing(reinterpret_cast<uv_handle_t *>(&async_))) {
    uv_close(reinterpret_cast<uv_handle_t *>(&async_), nullptr);
  }
  // Anything else still open was leaked by its owner: close it so the loop can end, and make
  // shutdown() report it.
  uv_walk(
      &loop_,
      [](uv_handle_t *h, void *arg) {
        if (!uv_is_closing(h)) {
          ++*static_cast<int *>(arg);
          std::fprintf(stderr, "libmemberlist: runtime shutdown closes a leaked %s handle\n",
                       uv_handle_type_name(h->type));
          uv_close(h, nullptr);
        }
      },
      &leaked_handles_);
}

void Runtime::thread_main() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  tls_current = this;
  // Returns once every handle is closed (close_everything); nothing calls uv_stop.
  (void)uv_run(&loop_, UV_RUN_DEFAULT);
  give_back_read_buffer();
  tls_current = nullptr;
}

std::optional<int> Runtime::drive() {
  std::lock_guard<std::mutex> lk(drive_mu_);
  if (ended_) return std::nullopt;
  const Runtime *outer = tls_current;
  tls_current = this;
  bool alive = true;
  for (;;) {
    alive = uv_run(&loop_, UV_RUN_NOWAIT) != 0;
    if (!alive) break;
    // Notifications asked for runners: hand back at once (0: drive again) so the embedder starts
    // them now rather than after the loop has run out of work.
    if (pool_.wanted() > 0) break;
    // The embedder's poller may watch the fd edge-triggered (Go's netpoller does): return only
    // once nothing is left ready in it, or the next event would not wake the driver.
    if (uv_backend_timeout(&loop_) == 0) continue;
    pollfd p{uv_backend_fd(&loop_), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
  }
  give_back_read_buffer();
  tls_current = outer;
  if (!alive) {
    // Every handle is closed (close_everything): the loop has ended. shutdown() waits for this.
    ended_ = true;
    ended_cv_.notify_all();
    return std::nullopt;
  }
  if (pool_.wanted() > 0) return 0;
  return uv_backend_timeout(&loop_);
}

std::unique_ptr<NotifyRunners> Runtime::external_notifications() {
  if (!driven_) return nullptr;
  // Work posted by a thread other than the driver's (a log line from an API call) wakes the loop,
  // so the driver returns from its poll and takes the runner.
  return pool_.external([this] {
    if (in_loop_thread()) return;
    std::lock_guard<std::mutex> lk(mu_);
    if (!stopping_.load(std::memory_order_relaxed)) (void)uv_async_send(&async_);
  });
}

wire::Status Runtime::shutdown() {
  if (in_loop_thread()) {
    return wire::make_error(wire::Errc::InCallback, "a runtime cannot be shut down from its own loop thread");
  }
  std::lock_guard<std::mutex> guard(shutdown_mu_);
  if (!stopped_) {
    stopped_ = true;
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_.store(true, std::memory_order_release);
      (void)uv_async_send(&async_);  // not closed yet: stopping_ was false until now
    }
    if (thread_.joinable()) thread_.join();
    if (driven_) {
      std::unique_lock<std::mutex> lk(drive_mu_);
      ended_cv_.wait(lk, [&] { return ended_; });
    }
    pool_.close();
    if (loop_initialised_) {
      const int rc = uv_loop_close(&loop_);
      if (rc != 0) {
        shutdown_error_ = uv_error(rc, "uv_loop_close (a libuv handle was left open)");
      } else {
        loop_initialised_ = false;
        if (leaked_handles_ > 0) {
          shutdown_error_ = wire::make_error(wire::Errc::Internal, std::to_string(leaked_handles_) +
                                                                       " libuv handle(s) were left open by their owner");
        }
      }
    }
  }
  if (shutdown_error_) return *shutdown_error_;
  return wire::Ok{};
}

void Runtime::attach(Resource *r) { resources_.insert(r); }
void Runtime::detach(Resource *r) { resources_.erase(r); }

}  // namespace memberlist::net
