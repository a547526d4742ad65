// memberlist.hpp — a header-only RAII C++ wrapper over the stable C API (<memberlist/memberlist.h>):
// the top of the hourglass. It adds no behaviour: handles become move-only owners, ml_err_t
// becomes memberlist::Error (code + text), callbacks become std::function, snapshots become
// value types. C++17.
//
// Threading and lifetime are the C API's (see memberlist.h): every method may be called from any
// thread, and none waits for a callback in flight. Notifications (notify_msg, events, conflicts,
// ping completions, log lines) run in order on a notification thread and may block or call
// anything; callbacks that answer run on the loop thread and must not block (from them the
// calls that wait throw Error with ML_ERR_IN_CALLBACK). Exceptions thrown by a callback are
// caught at the C boundary and dropped (they never unwind into the library).
//
// Destruction order: a Memberlist before the Runtime it lives on (declare the Runtime first).
#ifndef MEMBERLIST_MEMBERLIST_HPP
#define MEMBERLIST_MEMBERLIST_HPP

#include <memberlist/memberlist.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace memberlist {

using Bytes = std::vector<uint8_t>;

// A failed call: the ml_err_t and the library's text (errstr, or ml_err_string).
class Error : public std::runtime_error {
 public:
  Error(ml_err_t code, const std::string &what) : std::runtime_error(what), code_(code) {}
  ml_err_t code() const noexcept { return code_; }

 private:
  ml_err_t code_;
};

namespace detail {
inline void check(ml_err_t rc, const char *call, const char *errstr = nullptr) {
  if (rc == ML_OK) return;
  std::string text = std::string(call) + ": " + ml_err_string(rc);
  if (errstr != nullptr && errstr[0] != '\0') text += ": " + std::string(errstr);
  throw Error(rc, text);
}
template <class F>
void free_fn(void *user) {
  delete static_cast<F *>(user);
}
}  // namespace detail

inline uint32_t version() { return ml_version(); }
inline std::string version_string() { return ml_version_string(); }

enum class State { Alive = ML_STATE_ALIVE, Suspect = ML_STATE_SUSPECT, Dead = ML_STATE_DEAD, Left = ML_STATE_LEFT };
enum class Event { Join = ML_EVENT_JOIN, Leave = ML_EVENT_LEAVE, Update = ML_EVENT_UPDATE };
enum class LogLevel { Debug = ML_LOG_DEBUG, Info = ML_LOG_INFO, Warn = ML_LOG_WARN, Error = ML_LOG_ERROR };
enum class Preset { LAN = ML_PRESET_LAN, WAN = ML_PRESET_WAN, Local = ML_PRESET_LOCAL };

// A member, copied out of a snapshot.
struct Member {
  std::string name;
  Bytes addr;           // 4 or 16 bytes
  std::string address;  // "10.0.0.1:7946"
  uint16_t port = 0;
  Bytes meta;
  State state = State::Alive;
  uint32_t incarnation = 0;
  std::array<uint8_t, 6> versions{};  // pmin pmax pcur dmin dmax dcur

  static Member from(const ml_member_t *m) {
    Member out;
    if (m == nullptr) return out;
    size_t len = 0;
    out.name = ml_member_name(m);
    const uint8_t *a = ml_member_addr(m, &len);
    out.addr.assign(a, a + len);
    out.address = ml_member_address(m);
    out.port = ml_member_port(m);
    const uint8_t *meta = ml_member_meta(m, &len);
    out.meta.assign(meta, meta + len);
    out.state = static_cast<State>(ml_member_state(m));
    out.incarnation = ml_member_incarnation(m);
    ml_member_versions(m, out.versions.data());
    return out;
  }
};

namespace detail {
inline std::vector<Member> take(ml_members_t *list) {
  std::vector<Member> out;
  const size_t n = ml_members_count(list);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(Member::from(ml_members_get(list, i)));
  ml_members_destroy(list);
  return out;
}
}  // namespace detail

// ------------------------------------------------------------------------------------ Runtime
// One event loop on one thread, shared by the memberlists created on it.
class Runtime {
 public:
  Runtime() {
    char err[256] = "";
    detail::check(ml_runtime_create(&h_, err, sizeof err), "ml_runtime_create", err);
  }
  ~Runtime() { (void)ml_runtime_destroy(h_); }  // refused (and leaked) while memberlists live on it
  Runtime(Runtime &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Runtime &operator=(Runtime &&o) noexcept {
    if (this != &o) {
      (void)ml_runtime_destroy(h_);
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Runtime(const Runtime &) = delete;
  Runtime &operator=(const Runtime &) = delete;
  // Stops the loop now (throws ML_ERR_BUSY while memberlists live on it).
  void destroy() {
    if (h_ == nullptr) return;
    detail::check(ml_runtime_destroy(h_), "ml_runtime_destroy");
    h_ = nullptr;
  }
  ml_runtime_t *native() const noexcept { return h_; }
  // ml_runtime_set_timer_coalescing: node timers fire on a shared grid of ms (0..100) ms.
  void set_timer_coalescing(uint32_t ms) {
    detail::check(ml_runtime_set_timer_coalescing(h_, ms), "ml_runtime_set_timer_coalescing");
  }

 private:
  ml_runtime_t *h_ = nullptr;
};

// ------------------------------------------------------------------------------------ Keyring
// AES keys (16, 24 or 32 bytes); the first is the primary. Owning (create) or borrowed from a
// Memberlist (Memberlist::keyring(), valid while the Memberlist lives).
class Keyring {
 public:
  explicit Keyring(const Bytes &primary) : owned_(true) {
    detail::check(ml_keyring_create(&h_, primary.data(), primary.size()), "ml_keyring_create");
  }
  static Keyring borrow(ml_keyring_t *h) { return Keyring(h); }
  ~Keyring() {
    if (owned_) ml_keyring_destroy(h_);
  }
  Keyring(Keyring &&o) noexcept : h_(std::exchange(o.h_, nullptr)), owned_(std::exchange(o.owned_, false)) {}
  Keyring &operator=(Keyring &&o) noexcept {
    if (this != &o) {
      if (owned_) ml_keyring_destroy(h_);
      h_ = std::exchange(o.h_, nullptr);
      owned_ = std::exchange(o.owned_, false);
    }
    return *this;
  }
  Keyring(const Keyring &) = delete;
  Keyring &operator=(const Keyring &) = delete;

  void add(const Bytes &key) { detail::check(ml_keyring_add(h_, key.data(), key.size()), "ml_keyring_add"); }
  void use(const Bytes &key) { detail::check(ml_keyring_use(h_, key.data(), key.size()), "ml_keyring_use"); }
  void remove(const Bytes &key) { detail::check(ml_keyring_remove(h_, key.data(), key.size()), "ml_keyring_remove"); }
  // The keys, primary first.
  std::vector<Bytes> keys() const {
    std::vector<Bytes> out;
    const size_t n = ml_keyring_count(h_);
    for (size_t i = 0; i < n; ++i) {
      Bytes k(32);
      const size_t len = ml_keyring_get(h_, i, k.data(), k.size());
      if (len == 0) break;  // changed meanwhile
      k.resize(len);
      out.push_back(std::move(k));
    }
    return out;
  }
  ml_keyring_t *native() const noexcept { return h_; }

 private:
  explicit Keyring(ml_keyring_t *h) : h_(h), owned_(false) {}
  ml_keyring_t *h_ = nullptr;
  bool owned_ = false;
};

// ------------------------------------------------------------------------------------- Config
// memberlist's Delegate; every member may be empty.
struct Delegate {
  std::function<Bytes(size_t limit)> node_meta;
  std::function<void(const Bytes &msg)> notify_msg;
  std::function<std::vector<Bytes>(size_t overhead, size_t limit)> get_broadcasts;
  std::function<Bytes(bool join)> local_state;
  std::function<void(const Bytes &state, bool join)> merge_remote_state;
};

// The external transport (see ml_transport_t); every member is required.
struct Transport {
  std::function<void(const std::string &addr, const std::string &name, const Bytes &data)> send_packet;
  std::function<void(uint64_t id, const std::string &addr, const std::string &name, std::chrono::milliseconds timeout,
                     const Bytes &data, bool expect_reply)>
      open_stream;
  std::function<void(uint64_t id, const Bytes &data)> reply_stream;
  std::function<void(uint64_t id)> close_stream;
};

class Config {
 public:
  explicit Config(Preset preset = Preset::LAN) {
    detail::check(ml_config_create(&h_, static_cast<ml_preset_t>(preset)), "ml_config_create");
  }
  static Config lan() { return Config(Preset::LAN); }
  static Config wan() { return Config(Preset::WAN); }
  static Config local() { return Config(Preset::Local); }
  ~Config() { ml_config_destroy(h_); }
  Config(Config &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Config &operator=(Config &&o) noexcept {
    if (this != &o) {
      ml_config_destroy(h_);
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Config(const Config &) = delete;
  Config &operator=(const Config &) = delete;

  // Keys and values as in docs/config.md; throws ML_ERR_UNKNOWN_KEY / ML_ERR_BAD_VALUE.
  Config &set(const std::string &key, const std::string &value) {
    char err[512] = "";
    detail::check(ml_config_set(h_, key.c_str(), value.c_str(), err, sizeof err), "ml_config_set", err);
    return *this;
  }
  std::string get(const std::string &key) const {
    size_t len = 0;
    detail::check(ml_config_get(h_, key.c_str(), nullptr, 0, &len), "ml_config_get");
    std::string out(len + 1, '\0');
    detail::check(ml_config_get(h_, key.c_str(), out.data(), out.size(), &len), "ml_config_get");
    out.resize(len);
    return out;
  }
  void validate() const {
    char err[512] = "";
    detail::check(ml_config_validate(h_, err, sizeof err), "ml_config_validate", err);
  }

  Config &delegate(Delegate d) {
    using D = Delegate;
    static const ml_delegate_t table = {
        [](void *u, uint8_t *buf, size_t limit) noexcept -> size_t {
          try {
            auto &f = static_cast<D *>(u)->node_meta;
            if (!f) return 0;
            const Bytes meta = f(limit);
            const size_t n = meta.size() < limit ? meta.size() : limit;
            std::copy(meta.begin(), meta.begin() + static_cast<std::ptrdiff_t>(n), buf);
            return meta.size();  // over limit: the library reports it
          } catch (...) {
            return 0;
          }
        },
        [](void *u, const uint8_t *msg, size_t len) noexcept {
          try {
            auto &f = static_cast<D *>(u)->notify_msg;
            if (f) f(Bytes(msg, msg + len));
          } catch (...) {
          }
        },
        [](void *u, size_t overhead, size_t limit, void (*emit)(void *, const uint8_t *, size_t), void *ctx) noexcept {
          try {
            auto &f = static_cast<D *>(u)->get_broadcasts;
            if (!f) return;
            for (const Bytes &b : f(overhead, limit)) emit(ctx, b.data(), b.size());
          } catch (...) {
          }
        },
        [](void *u, int join, void (*emit)(void *, const uint8_t *, size_t), void *ctx) noexcept {
          try {
            auto &f = static_cast<D *>(u)->local_state;
            if (!f) return;
            const Bytes s = f(join != 0);
            emit(ctx, s.data(), s.size());
          } catch (...) {
          }
        },
        [](void *u, const uint8_t *buf, size_t len, int join) noexcept {
          try {
            auto &f = static_cast<D *>(u)->merge_remote_state;
            if (f) f(Bytes(buf, buf + len), join != 0);
          } catch (...) {
          }
        },
    };
    auto *user = new D(std::move(d));
    register_or_free(ml_config_set_delegate(h_, &table, user, &detail::free_fn<D>), user, "ml_config_set_delegate");
    return *this;
  }

  using EventFn = std::function<void(Event, const Member &)>;
  Config &on_event(EventFn fn) {
    auto *user = new EventFn(std::move(fn));
    register_or_free(ml_config_set_events(
                         h_,
                         [](void *u, ml_event_t ev, const ml_member_t *m) noexcept {
                           try {
                             (*static_cast<EventFn *>(u))(static_cast<Event>(ev), Member::from(m));
                           } catch (...) {
                           }
                         },
                         user, &detail::free_fn<EventFn>),
                     user, "ml_config_set_events");
    return *this;
  }

  using ConflictFn = std::function<void(const Member &existing, const Member &other)>;
  Config &on_conflict(ConflictFn fn) {
    auto *user = new ConflictFn(std::move(fn));
    register_or_free(ml_config_set_conflict(
                         h_,
                         [](void *u, const ml_member_t *a, const ml_member_t *b) noexcept {
                           try {
                             (*static_cast<ConflictFn *>(u))(Member::from(a), Member::from(b));
                           } catch (...) {
                           }
                         },
                         user, &detail::free_fn<ConflictFn>),
                     user, "ml_config_set_conflict");
    return *this;
  }

  // Return an error text to refuse the merge (it shows up in Memberlist::join's Error).
  using MergeFn = std::function<std::optional<std::string>(const std::vector<Member> &peers)>;
  Config &on_merge(MergeFn fn) {
    auto *user = new MergeFn(std::move(fn));
    register_or_free(ml_config_set_merge(
                         h_,
                         [](void *u, const ml_members_t *peers, char *errbuf, size_t size) noexcept -> int {
                           try {
                             std::vector<Member> v;
                             for (size_t i = 0; i < ml_members_count(peers); ++i) {
                               v.push_back(Member::from(ml_members_get(peers, i)));
                             }
                             auto err = (*static_cast<MergeFn *>(u))(v);
                             if (!err) return 0;
                             if (size > 0) {
                               const size_t n = err->size() < size - 1 ? err->size() : size - 1;
                               err->copy(errbuf, n);
                               errbuf[n] = '\0';
                             }
                             return 1;
                           } catch (...) {
                             return 1;
                           }
                         },
                         user, &detail::free_fn<MergeFn>),
                     user, "ml_config_set_merge");
    return *this;
  }

  // Return false to ignore the alive message about `peer`.
  using AliveFn = std::function<bool(const Member &peer)>;
  Config &on_alive(AliveFn fn) {
    auto *user = new AliveFn(std::move(fn));
    register_or_free(ml_config_set_alive(
                         h_,
                         [](void *u, const ml_member_t *m) noexcept -> int {
                           try {
                             return (*static_cast<AliveFn *>(u))(Member::from(m)) ? 0 : 1;
                           } catch (...) {
                             return 1;
                           }
                         },
                         user, &detail::free_fn<AliveFn>),
                     user, "ml_config_set_alive");
    return *this;
  }

  // Zone-aware gossip (grafana/memberlist's NodeSelectionDelegate; ml_config_set_node_selection):
  // set selected[i] = true for the candidates gossip and push/pull targets may be drawn from and
  // return the index of a preferred candidate, or -1. Runs on the loop thread: quick, no blocking
  // calls. A throwing selector selects every candidate and prefers none.
  using NodeSelectionFn = std::function<int64_t(const std::vector<Member> &candidates, std::vector<bool> &selected)>;
  Config &on_node_selection(NodeSelectionFn fn) {
    auto *user = new NodeSelectionFn(std::move(fn));
    register_or_free(ml_config_set_node_selection(
                         h_,
                         [](void *u, const ml_members_t *cands, uint8_t *selected) noexcept -> int64_t {
                           const size_t n = ml_members_count(cands);
                           try {
                             std::vector<Member> v;
                             v.reserve(n);
                             for (size_t i = 0; i < n; ++i) v.push_back(Member::from(ml_members_get(cands, i)));
                             std::vector<bool> sel(n, false);
                             const int64_t preferred = (*static_cast<NodeSelectionFn *>(u))(v, sel);
                             for (size_t i = 0; i < n && i < sel.size(); ++i) selected[i] = sel[i] ? 1 : 0;
                             return preferred;
                           } catch (...) {
                             for (size_t i = 0; i < n; ++i) selected[i] = 1;
                             return -1;
                           }
                         },
                         user, &detail::free_fn<NodeSelectionFn>),
                     user, "ml_config_set_node_selection");
    return *this;
  }

  // memberlist's DisableTcpPingsForNode: return true for no TCP fallback ping to `node` this
  // time (asked when a probe of it got no direct ack). A throwing policy allows the ping.
  using TcpPingsFn = std::function<bool(const std::string &node)>;
  Config &disable_tcp_pings_for_node(TcpPingsFn fn) {
    auto *user = new TcpPingsFn(std::move(fn));
    register_or_free(ml_config_set_disable_tcp_pings_for_node(
                         h_,
                         [](void *u, const char *node) noexcept -> int {
                           try {
                             return (*static_cast<TcpPingsFn *>(u))(node) ? 1 : 0;
                           } catch (...) {
                             return 0;
                           }
                         },
                         user, &detail::free_fn<TcpPingsFn>),
                     user, "ml_config_set_disable_tcp_pings_for_node");
    return *this;
  }

  using LogFn = std::function<void(LogLevel, const std::string &)>;
  Config &on_log(LogLevel min_level, LogFn fn) {
    auto *user = new LogFn(std::move(fn));
    register_or_free(ml_config_set_log(
                         h_, static_cast<ml_log_level_t>(min_level),
                         [](void *u, ml_log_level_t level, const char *msg) noexcept {
                           try {
                             (*static_cast<LogFn *>(u))(static_cast<LogLevel>(level), msg);
                           } catch (...) {
                           }
                         },
                         user, &detail::free_fn<LogFn>),
                     user, "ml_config_set_log");
    return *this;
  }

  Config &transport(Transport t) {
    using T = Transport;
    static const ml_transport_t table = {
        [](void *u, const char *addr, const char *name, const uint8_t *data, size_t len) noexcept {
          try {
            static_cast<T *>(u)->send_packet(addr, name, Bytes(data, data + len));
          } catch (...) {
          }
        },
        [](void *u, uint64_t id, const char *addr, const char *name, int64_t timeout_ms, const uint8_t *data,
           size_t len, int expect_reply) noexcept {
          try {
            static_cast<T *>(u)->open_stream(id, addr, name, std::chrono::milliseconds(timeout_ms),
                                             Bytes(data, data + len), expect_reply != 0);
          } catch (...) {
          }
        },
        [](void *u, uint64_t id, const uint8_t *data, size_t len) noexcept {
          try {
            static_cast<T *>(u)->reply_stream(id, Bytes(data, data + len));
          } catch (...) {
          }
        },
        [](void *u, uint64_t id) noexcept {
          try {
            static_cast<T *>(u)->close_stream(id);
          } catch (...) {
          }
        },
    };
    if (!t.send_packet || !t.open_stream || !t.reply_stream || !t.close_stream) {
      throw Error(ML_ERR_INVALID_ARGUMENT, "Config::transport: every callback is required");
    }
    auto *user = new T(std::move(t));
    register_or_free(ml_config_set_transport(h_, &table, user, &detail::free_fn<T>), user, "ml_config_set_transport");
    return *this;
  }

  // The memberlist created from this config shares `kr` live.
  Config &keyring(const Keyring &kr) {
    detail::check(ml_config_set_keyring(h_, kr.native()), "ml_config_set_keyring");
    return *this;
  }

  ml_config_t *native() const noexcept { return h_; }

 private:
  template <class U>
  static void register_or_free(ml_err_t rc, U *user, const char *call) {
    if (rc != ML_OK) {
      delete user;  // not registered: the library will never call user_free
      detail::check(rc, call);
    }
  }
  ml_config_t *h_ = nullptr;
};

// --------------------------------------------------------------------------------- Memberlist
class Memberlist {
 public:
  // Creates and starts a node (a private runtime unless `rt` is given). The config's
  // registrations move to the node; the config itself stays usable.
  explicit Memberlist(const Config &cfg, Runtime *rt = nullptr) {
    char err[512] = "";
    detail::check(ml_memberlist_create(&h_, rt != nullptr ? rt->native() : nullptr, cfg.native(), err, sizeof err),
                  "ml_memberlist_create", err);
  }
  ~Memberlist() { (void)ml_memberlist_destroy(h_); }
  Memberlist(Memberlist &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Memberlist &operator=(Memberlist &&o) noexcept {
    if (this != &o) {
      (void)ml_memberlist_destroy(h_);
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Memberlist(const Memberlist &) = delete;
  Memberlist &operator=(const Memberlist &) = delete;

  // Returns how many nodes were contacted; throws (ML_ERR_JOIN_FAILED with every reason) if none.
  int join(const std::vector<std::string> &addrs) {
    std::vector<const char *> c;
    c.reserve(addrs.size());
    for (const auto &a : addrs) c.push_back(a.c_str());
    char err[2048] = "";
    int contacted = 0;
    detail::check(ml_memberlist_join(h_, c.data(), c.size(), &contacted, err, sizeof err), "ml_memberlist_join", err);
    return contacted;
  }
  void leave(std::chrono::milliseconds timeout) {
    detail::check(ml_memberlist_leave(h_, static_cast<int64_t>(timeout.count())), "ml_memberlist_leave");
  }
  void shutdown() { detail::check(ml_memberlist_shutdown(h_), "ml_memberlist_shutdown"); }

  std::vector<Member> members() const {
    ml_members_t *list = nullptr;
    detail::check(ml_memberlist_members(h_, &list), "ml_memberlist_members");
    return detail::take(list);
  }
  Member local() const {
    ml_members_t *list = nullptr;
    detail::check(ml_memberlist_local(h_, &list), "ml_memberlist_local");
    auto v = detail::take(list);
    return v.empty() ? Member{} : v.front();
  }
  int num_members() const { return ml_memberlist_num_members(h_); }
  int health_score() const { return ml_memberlist_health_score(h_); }
  void update_node(std::chrono::milliseconds timeout) {
    detail::check(ml_memberlist_update_node(h_, static_cast<int64_t>(timeout.count())), "ml_memberlist_update_node");
  }

  void send_best_effort(const std::string &name, const Bytes &msg) {
    detail::check(ml_memberlist_send_best_effort(h_, name.c_str(), msg.data(), msg.size()),
                  "ml_memberlist_send_best_effort");
  }
  void send_reliable(const std::string &name, const Bytes &msg) {
    detail::check(ml_memberlist_send_reliable(h_, name.c_str(), msg.data(), msg.size()), "ml_memberlist_send_reliable");
  }
  void send_to_address(const std::string &addr, const Bytes &msg) {
    detail::check(ml_memberlist_send_to_address(h_, addr.c_str(), msg.data(), msg.size()),
                  "ml_memberlist_send_to_address");
  }
  void send_reliable_to_address(const std::string &addr, const Bytes &msg) {
    detail::check(ml_memberlist_send_reliable_to_address(h_, addr.c_str(), msg.data(), msg.size()),
                  "ml_memberlist_send_reliable_to_address");
  }
  void queue_broadcast(const Bytes &msg, const std::string &name = {}) {
    detail::check(ml_memberlist_queue_broadcast(h_, name.empty() ? nullptr : name.c_str(), msg.data(), msg.size()),
                  "ml_memberlist_queue_broadcast");
  }
  std::chrono::nanoseconds ping(const std::string &name, const std::string &addr) {
    int64_t rtt = 0;
    detail::check(ml_memberlist_ping(h_, name.c_str(), addr.c_str(), &rtt), "ml_memberlist_ping");
    return std::chrono::nanoseconds(rtt);
  }

  // The node's keyring, shared live (valid while this Memberlist lives).
  Keyring keyring() const { return Keyring::borrow(ml_memberlist_keyring(h_)); }

  std::map<std::string, double> metrics() const {
    std::map<std::string, double> out;
    detail::check(ml_memberlist_metrics(
                      h_,
                      [](void *ctx, const char *name, double value) {
                        try {
                          (*static_cast<std::map<std::string, double> *>(ctx))[name] = value;
                        } catch (...) {
                        }
                      },
                      &out),
                  "ml_memberlist_metrics");
    return out;
  }

  // External-transport input (see ml_transport_t).
  void deliver_packet(const std::string &from, const Bytes &data) {
    detail::check(ml_memberlist_deliver_packet(h_, from.c_str(), data.data(), data.size()),
                  "ml_memberlist_deliver_packet");
  }
  uint64_t accept_stream(const std::string &from) {
    uint64_t id = 0;
    detail::check(ml_memberlist_accept_stream(h_, from.c_str(), &id), "ml_memberlist_accept_stream");
    return id;
  }
  void stream_data(uint64_t id, const Bytes &data) {
    detail::check(ml_memberlist_stream_data(h_, id, data.data(), data.size()), "ml_memberlist_stream_data");
  }
  void stream_end(uint64_t id, const std::optional<std::string> &error = std::nullopt) {
    detail::check(ml_memberlist_stream_end(h_, id, error ? error->c_str() : nullptr), "ml_memberlist_stream_end");
  }

  ml_memberlist_t *native() const noexcept { return h_; }

 private:
  ml_memberlist_t *h_ = nullptr;
};

}  // namespace memberlist

#endif  // MEMBERLIST_MEMBERLIST_HPP
