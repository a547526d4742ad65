// Shared helpers of the core/net tests: scaled deadlines, fast configs, recording delegates.
#pragma once

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/address.hpp"
#include "net/node_host.hpp"
#include "net/runtime.hpp"

namespace nettest {

using namespace memberlist;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ML_TEST_TIMEOUT_SCALE stretches every wait (librdkafka's tmout_multip): default 1, or 4 in a
// sanitizer build.
#ifndef ML_TEST_DEFAULT_TIMEOUT_SCALE
#define ML_TEST_DEFAULT_TIMEOUT_SCALE 1
#endif
inline double timeout_scale() {
  static const double s = [] {
    const char *e = std::getenv("ML_TEST_TIMEOUT_SCALE");
    const double v = e ? std::atof(e) : double{ML_TEST_DEFAULT_TIMEOUT_SCALE};
    return v > 0 ? v : 1.0;
  }();
  return s;
}
inline std::chrono::milliseconds scaled(std::chrono::milliseconds d) {
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * timeout_scale()));
}

// Polls pred until it holds or the (scaled) deadline passes. Never a fixed sleep: the poll
// interval is short and the result is whether pred held.
inline bool wait_until(const std::function<bool()> &pred, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + scaled(limit);
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// Threads of this process named like a runtime's loop thread ("ml-loop"). Counting by name
// keeps sanitizer helper threads (TSan starts one lazily) out of the count. The directory is read
// with open() + getdents64 rather than opendir(): TSan's opendir interceptor does not register
// the descriptor it opens, so reusing the number of a socket another thread just closed would be
// reported as a race on closedir().
inline int thread_count() {
  const int dir = ::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  int n = 0;
  alignas(8) char buf[4096];
  for (;;) {
    const long got = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      auto *e = reinterpret_cast<dirent64 *>(buf + off);
      off += e->d_reclen;
      if (e->d_name[0] == '.') continue;
      std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/comm");
      std::string comm;
      std::getline(f, comm);
      n += comm == "ml-loop";
    }
  }
  ::close(dir);
  return n;
}

// Protocol timers of the test configurations: ML_TEST_DEFAULT_TIMEOUT_SCALE (4) times longer in a
// sanitizer build, like the waits. A sanitized loop thread on a loaded machine misses 75 ms probe
// timeouts and 1 s stream deadlines: healthy nodes get suspected and declared dead, joins fail
// (seen under ThreadSanitizer: 7 of 49 joins of FiftyNodesOnOneRuntimeConverge). Scaling timers
// and waits alike keeps each wait's margin, in protocol periods, as in the normal build. Not
// ML_TEST_TIMEOUT_SCALE: that one only lengthens the waits.
inline std::chrono::milliseconds timer(std::chrono::milliseconds d) { return d * ML_TEST_DEFAULT_TIMEOUT_SCALE; }

// Config::local() with fast probes and gossip, on 127.0.0.1 and a kernel-chosen port.
inline protocol::Config fast_config(const std::string &name, const std::string &ip = "127.0.0.1") {
  protocol::Config c = protocol::Config::local();
  c.name = name;
  c.bind_addr = ip;
  c.bind_port = 0;
  c.advertise_port = 0;
  c.probe_interval = timer(150ms);
  c.probe_timeout = timer(75ms);
  c.gossip_interval = timer(30ms);
  c.push_pull_interval = timer(2s);
  c.tcp_timeout = timer(1s);
  c.reconnect_interval = 0s;
  c.gossip_to_the_dead_time = timer(5s);
  return c;
}

// Records events and user messages; called on the loop thread, read from the test thread.
class Recorder : public protocol::Delegate, public protocol::EventDelegate {
 public:
  wire::Bytes node_meta(size_t limit) override {
    std::lock_guard<std::mutex> lk(mu_);
    return meta_.size() <= limit ? meta_ : wire::Bytes{};
  }
  void notify_msg(wire::ByteView msg) override {
    std::lock_guard<std::mutex> lk(mu_);
    msgs_.emplace_back(msg.begin(), msg.end());
  }
  void notify_join(const protocol::Member &m) override {
    std::lock_guard<std::mutex> lk(mu_);
    ++joins_[m.name];
  }
  void notify_leave(const protocol::Member &m) override {
    std::lock_guard<std::mutex> lk(mu_);
    left_[m.name] = m.state;
  }
  void notify_update(const protocol::Member &m) override {
    std::lock_guard<std::mutex> lk(mu_);
    updates_[m.name] = m.meta;
  }

  void set_meta(wire::Bytes m) {
    std::lock_guard<std::mutex> lk(mu_);
    meta_ = std::move(m);
  }
  bool got_msg(const std::string &s) const {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto &m : msgs_) {
      if (std::string(m.begin(), m.end()) == s) return true;
    }
    return false;
  }
  std::optional<wire::NodeState> left(const std::string &name) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = left_.find(name);
    if (it == left_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<wire::Bytes> update(const std::string &name) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = updates_.find(name);
    if (it == updates_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<wire::Bytes> messages() const {
    std::lock_guard<std::mutex> lk(mu_);
    return msgs_;
  }
  int joins(const std::string &name) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = joins_.find(name);
    return it == joins_.end() ? 0 : it->second;
  }

  protocol::Delegates delegates() {
    protocol::Delegates d;
    d.delegate = this;
    d.events = this;
    return d;
  }

 private:
  mutable std::mutex mu_;
  wire::Bytes meta_;
  std::vector<wire::Bytes> msgs_;
  std::map<std::string, int> joins_;
  std::map<std::string, wire::NodeState> left_;
  std::map<std::string, wire::Bytes> updates_;
};

// Holds a runtime's loop thread: nothing posted to it runs until release() (or the destructor).
// held() says whether the hold began within the (scaled) deadline.
class LoopHold {
 public:
  explicit LoopHold(net::Runtime &rt) {
    posted_ = rt.post([this] {
      std::unique_lock<std::mutex> lk(mu_);
      held_ = true;
      cv_.notify_all();
      cv_.wait(lk, [this] { return released_; });
      done_ = true;
      cv_.notify_all();
    });
  }
  ~LoopHold() {
    release();
    // The loop runs the task (perhaps not yet started) until it sees the release: wait, so it
    // never touches *this after it is gone.
    std::unique_lock<std::mutex> lk(mu_);
    if (posted_) cv_.wait_for(lk, scaled(10000ms), [this] { return done_; });
  }
  bool held(std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock<std::mutex> lk(mu_);
    return posted_ && cv_.wait_for(lk, scaled(limit), [this] { return held_; });
  }
  void release() {
    std::lock_guard<std::mutex> lk(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool posted_ = false, held_ = false, released_ = false, done_ = false;
};

// A node plus its recorder. The host holds the recorder too (HostOptions::keep_alive): a
// notification still running on a pool thread after shutdown() returned (shutdown never waits for
// one) keeps it alive until it returns, so tearing a test down cannot free it under that callback.
struct TestNode {
  std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();
  std::unique_ptr<net::NodeHost> host;
};

// A test with its own runtime: SetUp creates it; TearDown shuts every node down, then the
// runtime (uv_loop_close() must be 0: no handle leaked), and checks no thread was left behind.
class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    threads_before = thread_count();
    auto r = net::Runtime::create();
    ASSERT_TRUE(r.ok());
    rt = r.value();
  }
  void TearDown() override {
    nodes.clear();  // shuts every host down
    ASSERT_TRUE(rt->shutdown().ok());
    rt.reset();
    EXPECT_EQ(thread_count(), threads_before);
  }
  int threads_before = 0;
  std::shared_ptr<net::Runtime> rt;
  std::vector<std::unique_ptr<TestNode>> nodes;
};

inline TestNode start_node(protocol::Config cfg, std::shared_ptr<net::Runtime> rt = nullptr,
                           std::vector<std::string> bind_addrs = {}) {
  TestNode n;
  net::HostOptions o;
  o.config = std::move(cfg);
  o.delegates = n.rec->delegates();
  o.keep_alive = n.rec;
  o.runtime = std::move(rt);
  o.bind_addrs = std::move(bind_addrs);
  auto h = net::NodeHost::create(std::move(o));
  EXPECT_TRUE(h.ok()) << h.error().to_string();
  if (h) n.host = std::move(h.value());
  return n;
}

inline int members_of(net::NodeHost &h) {
  auto n = h.num_members();
  return n ? *n : -1;
}

inline std::optional<wire::NodeState> state_of(net::NodeHost &h, const std::string &name) {
  auto m = h.member(name);
  if (!m || !*m) return std::nullopt;
  return (*m)->state;
}

// Every host sees `expect` live members.
inline bool converged(const std::vector<TestNode *> &nodes, int expect) {
  for (auto *n : nodes) {
    if (members_of(*n->host) != expect) return false;
  }
  return true;
}

}  // namespace nettest

// ---- raw sockets for poking a transport from outside (blocking, with timeouts)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace nettest {

// A blocking TCP connection to ip:port (IPv4), with a receive timeout; -1 on failure.
inline int tcp_connect(const std::string &ip, uint16_t port, std::chrono::milliseconds rcv_timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(rcv_timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((rcv_timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads until EOF, error or timeout. *eof tells whether the peer closed (0 from recv).
// Writes all of data to a connected socket; false when the peer closed or reset it first.
inline bool send_all(int fd, const wire::Bytes &data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

inline wire::Bytes read_all(int fd, bool *eof) {
  wire::Bytes out;
  *eof = false;
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      out.insert(out.end(), buf, buf + n);
      continue;
    }
    // 0: orderly close; ECONNRESET: closed with unread data (also a close)
    *eof = n == 0 || errno == ECONNRESET;
    return out;
  }
}

// Binds a socket of `type` to ip:port; returns errno (0 = bound, and closed again).
inline int try_bind(int type, const std::string &ip, uint16_t port) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  const int rc = ::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa);
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

// Whether [::1] can be bound here (IPv6 may be disabled in a container).
inline bool ipv6_loopback_available() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace nettest
