// The C API (capi/include/memberlist/memberlist.h): the waist of the hourglass.
//
// No protocol logic lives here. Every entry point validates its handle and arguments, runs its
// body through the one exception-translating guard (`guard` / `guard_value`), translates the
// core's wire::Error values into ml_err_t (`to_ml`) and writes errstr. Opaque structs hold the
// C++ objects; registrations become small adapters implementing the protocol::*Delegate
// interfaces, each owning a `UserData` whose destructor calls user_free exactly once.
//
// Keyring sharing: an ml_keyring_t is a reference to a KeyringState. Standalone, its keys live
// in the state behind a mutex. Once a memberlist uses it, the node's own keyring
// (Node::keyring()) is authoritative and every operation runs on the loop thread through
// NodeHost::with_node; when the memberlist shuts down the keys are copied back into the state
// and the keyring is standalone again. A keyring can back one memberlist at a time. The mutex
// is never held across a wait for the loop, so a callback may use a keyring without deadlock;
// from one of its own memberlist's callbacks on the loop the operation runs inline.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// config_table.hpp first: its PropertyType::Bytes enumerator trips -Wshadow when node.hpp's
// `using wire::Bytes` is already visible in namespace protocol.
#include "protocol/config_table.hpp"
#include "net/address.hpp"
#include "net/node_host.hpp"
#include "net/runtime.hpp"
#include "protocol/config.hpp"
#include "protocol/node.hpp"
#include "wire/crypto.hpp"

// Only what this macro marks is exported (the library is built with -fvisibility=hidden and
// linked with capi/memberlist.map).
#define ML_EXPORT __attribute__((visibility("default")))

#include <memberlist/memberlist.h>

namespace net = memberlist::net;
namespace protocol = memberlist::protocol;
namespace wire = memberlist::wire;

// ------------------------------------------------------------------------------------ helpers
namespace {

void write_str(char *buf, size_t size, std::string_view s) noexcept {
  if (buf == nullptr || size == 0) return;
  const size_t n = s.size() < size - 1 ? s.size() : size - 1;
  if (n != 0) std::memcpy(buf, s.data(), n);
  buf[n] = '\0';
}

// The one guard: every entry point runs its body through it.
template <class F>
ml_err_t guard(char *errstr, size_t errstr_size, F &&body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    write_str(errstr, errstr_size, "out of memory");
    return ML_ERR_NO_MEMORY;
  } catch (const std::exception &e) {
    write_str(errstr, errstr_size, e.what());
    return ML_ERR_INTERNAL;
  } catch (...) {
    write_str(errstr, errstr_size, "unknown exception");
    return ML_ERR_INTERNAL;
  }
}
// The same for entry points that answer a value instead of an ml_err_t.
template <class T, class F>
T guard_value(T fallback, F &&body) noexcept {
  T out = fallback;
  (void)guard(nullptr, 0, [&]() -> ml_err_t {
    out = body();
    return ML_OK;
  });
  return out;
}

// wire::Errc -> ml_err_t where the code alone says enough. Closed and in-callback conditions are
// detected before calling the core (NodeHost reports both as OutOfRange); operation-specific
// meanings (timeout, join failure) are mapped by the caller.
ml_err_t to_ml(const wire::Error &e) {
  switch (e.code) {
    case wire::Errc::LimitExceeded:
      return ML_ERR_TOO_LARGE;
    case wire::Errc::BadKey:
      return ML_ERR_KEY;
    case wire::Errc::Internal:
      return ML_ERR_INTERNAL;
    default:
      return ML_ERR_INVALID_ARGUMENT;
  }
}
ml_err_t fail(const wire::Error &e, ml_err_t code, char *errstr, size_t errstr_size) {
  write_str(errstr, errstr_size, e.message);
  return code;
}

// A C enum argument's value, read as bytes: C callers may pass any int, and loading an
// out-of-range value as the C++ enum type is undefined behaviour.
template <class E>
int enum_value(const E &e) {
  static_assert(sizeof(E) == sizeof(int));
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

struct UserData {
  void *user = nullptr;
  ml_user_free_fn user_free = nullptr;
  UserData(void *u, ml_user_free_fn f) : user(u), user_free(f) {}
  UserData(const UserData &) = delete;
  UserData &operator=(const UserData &) = delete;
  ~UserData() {
    if (user_free != nullptr) user_free(user);
  }
};

}  // namespace

// ------------------------------------------------------------------------------ opaque structs
struct ml_member {
  protocol::Member m;
  std::string address;
  explicit ml_member(protocol::Member mem)
      : m(std::move(mem)), address(protocol::to_string(protocol::Endpoint{m.addr, m.port, {}})) {}
};
struct ml_members {
  std::vector<ml_member> list;
};

struct ml_runtime {
  std::shared_ptr<net::Runtime> rt;
  std::atomic<int> users{0};
};

namespace {

struct KeyringState {
  std::mutex mu;
  wire::Keyring ring;                  // authoritative while not attached
  bool attached = false;               // guarded by mu
  std::weak_ptr<net::NodeHost> host;   // guarded by mu
};

// Runs f(Keyring&) on the authoritative keyring (see the top of the file).
template <class R, class F>
R keyring_op(KeyringState &st, F &&f) {
  std::shared_ptr<net::NodeHost> h;
  {
    std::lock_guard lock(st.mu);
    if (!st.attached) return f(st.ring);
    h = st.host.lock();
  }
  if (h) {
    // From one of that memberlist's callbacks on its loop, with_node runs inline: the live ring.
    std::optional<R> out;
    std::exception_ptr ex;
    auto s = h->with_node([&](protocol::Node &n) {
      std::lock_guard lock(st.mu);
      if (!st.attached) return;
      try {
        out = f(n.keyring());
      } catch (...) {
        ex = std::current_exception();
      }
    });
    if (ex) std::rethrow_exception(ex);
    if (out) return *out;
    (void)s;
  }
  std::lock_guard lock(st.mu);
  return f(st.ring);
}

// ---- adapters: registrations -> protocol delegates
ml_member_t *as_c(ml_member &m) { return &m; }

struct DelegateAdapter final : protocol::Delegate {
  ml_delegate_t d;
  UserData ud;
  DelegateAdapter(const ml_delegate_t &del, void *user, ml_user_free_fn f) : d(del), ud(user, f) {}

  protocol::Bytes node_meta(size_t limit) override {
    if (d.node_meta == nullptr) return {};
    protocol::Bytes buf(limit);
    const size_t n = d.node_meta(ud.user, buf.data(), limit);
    buf.resize(n);  // over `limit`: zero-filled, so the node reports the size error
    return buf;
  }
  void notify_msg(protocol::ByteView msg) override {
    if (d.notify_msg != nullptr) d.notify_msg(ud.user, msg.data(), msg.size());
  }
  static void emit_to_vector(void *ctx, const uint8_t *msg, size_t len) {
    auto *v = static_cast<std::vector<protocol::Bytes> *>(ctx);
    try {
      v->emplace_back(msg, msg + len);
    } catch (...) {  // never unwind through C
    }
  }
  std::vector<protocol::Bytes> get_broadcasts(size_t overhead, size_t limit) override {
    std::vector<protocol::Bytes> out;
    if (d.get_broadcasts != nullptr) d.get_broadcasts(ud.user, overhead, limit, &emit_to_vector, &out);
    return out;
  }
  static void emit_once(void *ctx, const uint8_t *buf, size_t len) {
    auto *b = static_cast<std::optional<protocol::Bytes> *>(ctx);
    if (b->has_value()) return;
    try {
      b->emplace(buf, buf + len);
    } catch (...) {
    }
  }
  protocol::Bytes local_state(bool join) override {
    std::optional<protocol::Bytes> out;
    if (d.local_state != nullptr) d.local_state(ud.user, join ? 1 : 0, &emit_once, &out);
    return out ? std::move(*out) : protocol::Bytes{};
  }
  void merge_remote_state(protocol::ByteView buf, bool join) override {
    if (d.merge_remote_state != nullptr) d.merge_remote_state(ud.user, buf.data(), buf.size(), join ? 1 : 0);
  }
};

struct EventAdapter final : protocol::EventDelegate {
  ml_event_fn fn;
  UserData ud;
  EventAdapter(ml_event_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  void fire(ml_event_t ev, const protocol::Member &m) {
    ml_member cm(m);
    fn(ud.user, ev, as_c(cm));
  }
  void notify_join(const protocol::Member &m) override { fire(ML_EVENT_JOIN, m); }
  void notify_leave(const protocol::Member &m) override { fire(ML_EVENT_LEAVE, m); }
  void notify_update(const protocol::Member &m) override { fire(ML_EVENT_UPDATE, m); }
};

struct ConflictAdapter final : protocol::ConflictDelegate {
  ml_conflict_fn fn;
  UserData ud;
  ConflictAdapter(ml_conflict_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  void notify_conflict(const protocol::Member &existing, const protocol::Member &other) override {
    ml_member a(existing), b(other);
    fn(ud.user, &a, &b);
  }
};

struct MergeAdapter final : protocol::MergeDelegate {
  ml_merge_fn fn;
  UserData ud;
  MergeAdapter(ml_merge_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  std::optional<std::string> notify_merge(const std::vector<protocol::Member> &peers) override {
    ml_members list;
    list.list.reserve(peers.size());
    for (const auto &p : peers) list.list.emplace_back(p);
    char err[512] = {0};
    if (fn(ud.user, &list, err, sizeof err) == 0) return std::nullopt;
    return err[0] != '\0' ? std::string(err) : std::string("merge refused by the merge delegate");
  }
};

struct AliveAdapter final : protocol::AliveDelegate {
  ml_alive_fn fn;
  UserData ud;
  AliveAdapter(ml_alive_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  std::optional<std::string> notify_alive(const protocol::Member &peer) override {
    ml_member m(peer);
    if (fn(ud.user, &m) == 0) return std::nullopt;
    return std::string("alive message refused by the alive delegate");
  }
};

struct TcpPingsAdapter final : protocol::TcpPingPolicy {
  ml_tcp_pings_fn fn;
  UserData ud;
  TcpPingsAdapter(ml_tcp_pings_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  bool disable_tcp_pings_for(const std::string &node) override { return fn(ud.user, node.c_str()) != 0; }
};

struct PingAdapter final : protocol::PingDelegate {
  static constexpr size_t kAckPayloadLimit = 512;
  ml_ping_delegate_t d;
  UserData ud;
  PingAdapter(const ml_ping_delegate_t &p, void *user, ml_user_free_fn uf) : d(p), ud(user, uf) {}
  protocol::Bytes ack_payload() override {
    if (d.ack_payload == nullptr) return {};
    protocol::Bytes buf(kAckPayloadLimit);
    const size_t n = d.ack_payload(ud.user, buf.data(), buf.size());
    buf.resize(n < kAckPayloadLimit ? n : kAckPayloadLimit);
    return buf;
  }
  void notify_ping_complete(const protocol::Member &other, protocol::Duration rtt,
                            protocol::ByteView payload) override {
    if (d.notify_ping_complete == nullptr) return;
    ml_member m(other);
    d.notify_ping_complete(ud.user, &m, static_cast<int64_t>(rtt.count()), payload.data(), payload.size());
  }
};

struct LogRegistration final : protocol::Logger {
  int min_level;
  ml_log_fn fn;
  UserData ud;
  LogRegistration(int l, ml_log_fn f, void *user, ml_user_free_fn uf) : min_level(l), fn(f), ud(user, uf) {}
  bool enabled(protocol::LogLevel level) const override { return static_cast<int>(level) >= min_level; }
  void log(protocol::LogLevel level, const std::string &msg) override {
    if (!enabled(level)) return;
    ml_log_level_t l = ML_LOG_ERROR;
    switch (level) {
      case protocol::LogLevel::Debug: l = ML_LOG_DEBUG; break;
      case protocol::LogLevel::Info: l = ML_LOG_INFO; break;
      case protocol::LogLevel::Warn: l = ML_LOG_WARN; break;
      case protocol::LogLevel::Error: l = ML_LOG_ERROR; break;
    }
    fn(ud.user, l, msg.c_str());
  }
};

// The external transport: net::ExternalCallbacks calling the C functions.
struct TransportRegistration {
  ml_transport_t t;
  UserData ud;
  TransportRegistration(const ml_transport_t &tr, void *user, ml_user_free_fn uf) : t(tr), ud(user, uf) {}
  net::ExternalCallbacks callbacks() {
    net::ExternalCallbacks cb;
    cb.send_packet = [this](const protocol::Endpoint &to, wire::ByteView data) {
      const std::string addr = protocol::to_string(to);
      t.send_packet(ud.user, addr.c_str(), to.name.c_str(), data.data(), data.size());
    };
    cb.open_stream = [this](uint64_t id, const protocol::Endpoint &to, protocol::Time deadline, wire::ByteView data,
                            bool expect_reply) {
      const std::string addr = protocol::to_string(to);
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const int64_t timeout_ms = left.count() < 1 ? 1 : static_cast<int64_t>(left.count());
      t.open_stream(ud.user, id, addr.c_str(), to.name.c_str(), timeout_ms, data.data(), data.size(),
                    expect_reply ? 1 : 0);
    };
    cb.reply_stream = [this](uint64_t id, wire::ByteView data) { t.reply_stream(ud.user, id, data.data(), data.size()); };
    cb.close_stream = [this](uint64_t id) { t.close_stream(ud.user, id); };
    return cb;
  }
};

struct Registrations {
  std::unique_ptr<DelegateAdapter> delegate;
  std::unique_ptr<EventAdapter> events;
  std::unique_ptr<ConflictAdapter> conflict;
  std::unique_ptr<MergeAdapter> merge;
  std::unique_ptr<AliveAdapter> alive;
  std::unique_ptr<PingAdapter> ping;
  std::unique_ptr<TcpPingsAdapter> tcp_pings;
  std::unique_ptr<LogRegistration> log;
  std::unique_ptr<TransportRegistration> transport;
  bool any() const {
    return delegate || events || conflict || merge || alive || ping || tcp_pings || log || transport;
  }
};

}  // namespace

struct ml_keyring {
  std::shared_ptr<KeyringState> st;
};

struct ml_config {
  protocol::Config cfg;
  // Moved to the memberlist by ml_memberlist_create (which takes a const ml_config_t *).
  mutable Registrations regs;
  mutable bool regs_taken = false;  // regs went to a memberlist: this config cannot make another
  std::shared_ptr<KeyringState> keyring;
};

struct ml_memberlist {
  // Shared with the host, which keeps them until its last callback has returned (a notification
  // in flight at shutdown may outlive this struct): user_free runs after the last callback.
  std::shared_ptr<Registrations> regs;
  std::shared_ptr<net::NodeHost> host;
  ml_runtime *rt = nullptr;  // the shared runtime, or null (private)
  ml_keyring keyring;
  uint16_t default_port = 0;
  std::mutex shutdown_mu;
  bool shut_down = false;  // guarded by shutdown_mu
  std::atomic<bool> closed{false};
};

// ------------------------------------------------------------------------------------ version
// The definitions below have C linkage through their declarations in memberlist.h.

ML_EXPORT uint32_t ml_version(void) { return ML_VERSION; }
ML_EXPORT const char *ml_version_string(void) { return "0.1.0"; }

ML_EXPORT const char *ml_err_string(ml_err_t err) {
  switch (err) {
    case ML_OK: return "ok";
    case ML_ERR_INVALID_ARGUMENT: return "invalid argument";
    case ML_ERR_UNKNOWN_KEY: return "unknown configuration key";
    case ML_ERR_BAD_VALUE: return "bad configuration value";
    case ML_ERR_INVALID_CONFIG: return "invalid configuration";
    case ML_ERR_CLOSED: return "shut down";
    case ML_ERR_IN_CALLBACK: return "called from a callback";
    case ML_ERR_TIMEOUT: return "timeout";
    case ML_ERR_NETWORK: return "network error";
    case ML_ERR_JOIN_FAILED: return "join failed";
    case ML_ERR_NOT_FOUND: return "not found";
    case ML_ERR_TOO_LARGE: return "too large";
    case ML_ERR_KEY: return "bad key";
    case ML_ERR_NO_MEMORY: return "out of memory";
    case ML_ERR_INTERNAL: return "internal error";
    case ML_ERR_NOT_SUPPORTED: return "not supported in this mode";
    case ML_ERR_BUSY: return "still in use";
    default: return "unknown error";
  }
}

// ------------------------------------------------------------------------------------ runtime
ML_EXPORT ml_err_t ml_runtime_create(ml_runtime_t **out, char *errstr, size_t errstr_size) {
  return guard(errstr, errstr_size, [&]() -> ml_err_t {
    if (out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    auto rt = net::Runtime::create();
    if (!rt) return fail(rt.error(), ML_ERR_INTERNAL, errstr, errstr_size);
    auto h = std::make_unique<ml_runtime>();
    h->rt = std::move(rt.value());
    *out = h.release();
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_runtime_destroy(ml_runtime_t *rt) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (rt == nullptr) return ML_OK;
    if (rt->users.load() != 0) return ML_ERR_BUSY;
    if (rt->rt->in_loop_thread()) return ML_ERR_IN_CALLBACK;
    auto st = rt->rt->shutdown();
    delete rt;
    return st ? ML_OK : ML_ERR_INTERNAL;
  });
}

// ------------------------------------------------------------------------------------- config
ML_EXPORT ml_err_t ml_config_create(ml_config_t **out, ml_preset_t preset) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    auto c = std::make_unique<ml_config>();
    switch (enum_value(preset)) {
      case int{ML_PRESET_LAN}: c->cfg = protocol::Config::lan(); break;
      case int{ML_PRESET_WAN}: c->cfg = protocol::Config::wan(); break;
      case int{ML_PRESET_LOCAL}: c->cfg = protocol::Config::local(); break;
      default: return ML_ERR_INVALID_ARGUMENT;
    }
    if (c->cfg.name.empty()) {  // memberlist's presets use os.Hostname()
      char host[256] = {0};
      if (gethostname(host, sizeof host - 1) == 0) c->cfg.name = host;
    }
    *out = c.release();
    return ML_OK;
  });
}

ML_EXPORT void ml_config_destroy(ml_config_t *cfg) {
  (void)guard(nullptr, 0, [&]() -> ml_err_t {
    delete cfg;
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_config_set(ml_config_t *cfg, const char *key, const char *value, char *errstr,
                                 size_t errstr_size) {
  return guard(errstr, errstr_size, [&]() -> ml_err_t {
    if (cfg == nullptr || key == nullptr || value == nullptr) {
      write_str(errstr, errstr_size, "ml_config_set: cfg, key and value are required");
      return ML_ERR_INVALID_ARGUMENT;
    }
    const bool known = protocol::find_property(key) != nullptr;
    auto st = protocol::set_property(cfg->cfg, key, value);
    if (st) return ML_OK;
    return fail(st.error(), known ? ML_ERR_BAD_VALUE : ML_ERR_UNKNOWN_KEY, errstr, errstr_size);
  });
}

ML_EXPORT ml_err_t ml_config_get(const ml_config_t *cfg, const char *key, char *buf, size_t buf_size,
                                 size_t *len_out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || key == nullptr) return ML_ERR_INVALID_ARGUMENT;
    if (protocol::find_property(key) == nullptr) return ML_ERR_UNKNOWN_KEY;
    auto v = protocol::get_property(cfg->cfg, key);
    if (!v) return ML_ERR_INTERNAL;
    write_str(buf, buf_size, *v);
    if (len_out != nullptr) *len_out = v->size();
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_config_validate(const ml_config_t *cfg, char *errstr, size_t errstr_size) {
  return guard(errstr, errstr_size, [&]() -> ml_err_t {
    if (cfg == nullptr) return ML_ERR_INVALID_ARGUMENT;
    auto st = cfg->cfg.validate();
    return st ? ML_OK : fail(st.error(), ML_ERR_INVALID_CONFIG, errstr, errstr_size);
  });
}

ML_EXPORT ml_err_t ml_config_set_delegate(ml_config_t *cfg, const ml_delegate_t *delegate, void *user,
                                          ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || delegate == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->regs.delegate = std::make_unique<DelegateAdapter>(*delegate, user, user_free);
    return ML_OK;
  });
}
ML_EXPORT ml_err_t ml_config_set_events(ml_config_t *cfg, ml_event_fn fn, void *user, ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->regs.events = std::make_unique<EventAdapter>(fn, user, user_free);
    return ML_OK;
  });
}
ML_EXPORT ml_err_t ml_config_set_conflict(ml_config_t *cfg, ml_conflict_fn fn, void *user, ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->regs.conflict = std::make_unique<ConflictAdapter>(fn, user, user_free);
    return ML_OK;
  });
}
ML_EXPORT ml_err_t ml_config_set_merge(ml_config_t *cfg, ml_merge_fn fn, void *user, ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->regs.merge = std::make_unique<MergeAdapter>(fn, user, user_free);
    return ML_OK;
  });
}
ML_EXPORT ml_err_t ml_config_set_alive(ml_config_t *cfg, ml_alive_fn fn, void *user, ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->regs.alive = std::make_unique<AliveAdapter>(fn, user, user_free);
    return ML_OK;
  });
}
ML_EXPORT ml_err_t ml_config_set_disable_tcp_pings_for_node(ml_config_t *cfg, ml_tcp_pings_fn fn, void *user,
                                                            ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->regs.tcp_pings = std::make_unique<TcpPingsAdapter>(fn, user, user_free);
    return ML_OK;
  });
}
ML_EXPORT ml_err_t ml_config_set_ping(ml_config_t *cfg, const ml_ping_delegate_t *ping, void *user,
                                      ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || ping == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->regs.ping = std::make_unique<PingAdapter>(*ping, user, user_free);
    return ML_OK;
  });
}
ML_EXPORT ml_err_t ml_config_set_log(ml_config_t *cfg, ml_log_level_t min_level, ml_log_fn fn, void *user,
                                     ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    const int level = enum_value(min_level);
    if (level < ML_LOG_DEBUG || level > ML_LOG_ERROR) return ML_ERR_INVALID_ARGUMENT;
    cfg->regs.log = std::make_unique<LogRegistration>(level, fn, user, user_free);
    return ML_OK;
  });
}
ML_EXPORT ml_err_t ml_config_set_transport(ml_config_t *cfg, const ml_transport_t *transport, void *user,
                                           ml_user_free_fn user_free) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || transport == nullptr || transport->send_packet == nullptr ||
        transport->open_stream == nullptr || transport->reply_stream == nullptr || transport->close_stream == nullptr) {
      return ML_ERR_INVALID_ARGUMENT;
    }
    cfg->regs.transport = std::make_unique<TransportRegistration>(*transport, user, user_free);
    return ML_OK;
  });
}

// ------------------------------------------------------------------------------------ members
ML_EXPORT size_t ml_members_count(const ml_members_t *list) {
  return list == nullptr ? 0 : list->list.size();
}
ML_EXPORT const ml_member_t *ml_members_get(const ml_members_t *list, size_t i) {
  if (list == nullptr || i >= list->list.size()) return nullptr;
  return &list->list[i];
}
ML_EXPORT void ml_members_destroy(ml_members_t *list) {
  (void)guard(nullptr, 0, [&]() -> ml_err_t {
    delete list;
    return ML_OK;
  });
}
ML_EXPORT const char *ml_member_name(const ml_member_t *m) { return m == nullptr ? nullptr : m->m.name.c_str(); }
ML_EXPORT const uint8_t *ml_member_addr(const ml_member_t *m, size_t *len_out) {
  if (len_out != nullptr) *len_out = m == nullptr ? 0 : m->m.addr.size();
  return m == nullptr ? nullptr : m->m.addr.data();
}
ML_EXPORT const char *ml_member_address(const ml_member_t *m) { return m == nullptr ? nullptr : m->address.c_str(); }
ML_EXPORT uint16_t ml_member_port(const ml_member_t *m) { return m == nullptr ? 0 : m->m.port; }
ML_EXPORT const uint8_t *ml_member_meta(const ml_member_t *m, size_t *len_out) {
  if (len_out != nullptr) *len_out = m == nullptr ? 0 : m->m.meta.size();
  return m == nullptr ? nullptr : m->m.meta.data();
}
ML_EXPORT ml_state_t ml_member_state(const ml_member_t *m) {
  if (m == nullptr) return ML_STATE_DEAD;
  switch (m->m.state) {
    case wire::NodeState::Alive: return ML_STATE_ALIVE;
    case wire::NodeState::Suspect: return ML_STATE_SUSPECT;
    case wire::NodeState::Left: return ML_STATE_LEFT;
    default: return ML_STATE_DEAD;
  }
}
ML_EXPORT uint32_t ml_member_incarnation(const ml_member_t *m) { return m == nullptr ? 0 : m->m.incarnation; }
ML_EXPORT void ml_member_versions(const ml_member_t *m, uint8_t out[6]) {
  if (out == nullptr) return;
  for (size_t i = 0; i < 6; ++i) out[i] = m == nullptr ? 0 : m->m.vsn[i];
}

// ------------------------------------------------------------------------------------ keyring
ML_EXPORT ml_err_t ml_keyring_create(ml_keyring_t **out, const uint8_t *primary, size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    if (primary == nullptr && len == 0) {  // empty: memberlist's NewKeyring(nil, nil)
      *out = new ml_keyring{std::make_shared<KeyringState>()};
      return ML_OK;
    }
    if (primary == nullptr) return ML_ERR_INVALID_ARGUMENT;
    const wire::ByteView key(primary, len);
    if (!wire::validate_key(key)) return ML_ERR_KEY;
    auto st = std::make_shared<KeyringState>();
    if (auto s = st->ring.add_key(key); !s) return ML_ERR_KEY;
    *out = new ml_keyring{std::move(st)};
    return ML_OK;
  });
}
ML_EXPORT void ml_keyring_destroy(ml_keyring_t *kr) {
  (void)guard(nullptr, 0, [&]() -> ml_err_t {
    delete kr;
    return ML_OK;
  });
}

namespace {
template <class Op>
ml_err_t keyring_change(ml_keyring_t *kr, const uint8_t *key, size_t len, Op op) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (kr == nullptr || key == nullptr) return ML_ERR_INVALID_ARGUMENT;
    const wire::ByteView k(key, len);
    if (!wire::validate_key(k)) return ML_ERR_KEY;
    return keyring_op<ml_err_t>(*kr->st, [&](wire::Keyring &ring) -> ml_err_t {
      auto s = op(ring, k);
      return s ? ML_OK : ML_ERR_KEY;
    });
  });
}
}  // namespace

ML_EXPORT ml_err_t ml_keyring_add(ml_keyring_t *kr, const uint8_t *key, size_t len) {
  return keyring_change(kr, key, len, [](wire::Keyring &r, wire::ByteView k) { return r.add_key(k); });
}
ML_EXPORT ml_err_t ml_keyring_use(ml_keyring_t *kr, const uint8_t *key, size_t len) {
  return keyring_change(kr, key, len, [](wire::Keyring &r, wire::ByteView k) { return r.use_key(k); });
}
ML_EXPORT ml_err_t ml_keyring_remove(ml_keyring_t *kr, const uint8_t *key, size_t len) {
  return keyring_change(kr, key, len, [](wire::Keyring &r, wire::ByteView k) { return r.remove_key(k); });
}
ML_EXPORT size_t ml_keyring_count(const ml_keyring_t *kr) {
  return guard_value<size_t>(0, [&]() -> size_t {
    if (kr == nullptr) return 0;
    return keyring_op<size_t>(*kr->st, [](wire::Keyring &r) -> size_t { return r.keys().size(); });
  });
}
ML_EXPORT size_t ml_keyring_get(const ml_keyring_t *kr, size_t i, uint8_t *buf, size_t buf_size) {
  return guard_value<size_t>(0, [&]() -> size_t {
    if (kr == nullptr) return 0;
    return keyring_op<size_t>(*kr->st, [&](wire::Keyring &r) -> size_t {
      if (i >= r.keys().size()) return 0;
      const auto &k = r.keys()[i];
      if (buf != nullptr) std::memcpy(buf, k.data(), k.size() < buf_size ? k.size() : buf_size);
      return k.size();
    });
  });
}
ML_EXPORT ml_err_t ml_config_set_keyring(ml_config_t *cfg, ml_keyring_t *kr) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || kr == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->keyring = kr->st;
    return ML_OK;
  });
}

// --------------------------------------------------------------------------------- memberlist
namespace {

// Checks shared by the operations on a running node.
ml_err_t check_running(ml_memberlist_t *ml) {
  if (ml == nullptr) return ML_ERR_INVALID_ARGUMENT;
  if (ml->closed.load() || ml->host->is_shut_down()) return ML_ERR_CLOSED;
  return ML_OK;
}
// Blocking calls: not from a callback, nor from anywhere on the runtime's loop thread.
ml_err_t check_may_block(ml_memberlist_t *ml) {
  if (ml->host->in_callback() || ml->host->runtime()->in_loop_thread()) return ML_ERR_IN_CALLBACK;
  return ML_OK;
}

// The shutdown sequence shared by ml_memberlist_shutdown and ml_memberlist_destroy. It never
// waits for a callback: from anywhere, including the memberlist's own callbacks (as memberlist
// allows Shutdown from a delegate).
ml_err_t do_shutdown(ml_memberlist_t *ml) {
  std::lock_guard lock(ml->shutdown_mu);
  if (ml->shut_down) return ML_OK;
  ml->closed.store(true);
  // Hand the keys back to the keyring state (it becomes standalone again), then stop.
  auto &st = *ml->keyring.st;
  auto s = ml->host->with_node([&](protocol::Node &n) {
    std::lock_guard kl(st.mu);
    st.ring = n.keyring();
    st.attached = false;
  });
  {
    std::lock_guard kl(st.mu);
    st.attached = false;
  }
  (void)s;
  auto r = ml->host->shutdown();
  if (!r) return ML_ERR_INTERNAL;
  ml->shut_down = true;
  return ML_OK;
}

// Parses and resolves (host names: getaddrinfo, on the calling thread) the join addresses.
std::vector<protocol::Endpoint> parse_addresses(const char *const *addrs, size_t n, uint16_t default_port,
                                                std::string &errors) {
  std::vector<protocol::Endpoint> out;
  for (size_t i = 0; i < n; ++i) {
    if (addrs[i] == nullptr) continue;
    auto e = net::resolve_endpoints(addrs[i], default_port);
    if (e) {
      for (auto &ep : e.value()) out.push_back(std::move(ep));
    } else {
      if (!errors.empty()) errors += "; ";
      errors += std::string(addrs[i]) + ": " + e.error().message;
    }
  }
  return out;
}

ml_members_t *snapshot(std::vector<protocol::Member> v) {
  auto out = std::make_unique<ml_members>();
  out->list.reserve(v.size());
  for (auto &m : v) out->list.emplace_back(std::move(m));
  return out.release();
}

}  // namespace

ML_EXPORT ml_err_t ml_memberlist_create(ml_memberlist_t **out, ml_runtime_t *rt, const ml_config_t *cfg,
                                        char *errstr, size_t errstr_size) {
  return guard(errstr, errstr_size, [&]() -> ml_err_t {
    if (out == nullptr || cfg == nullptr) {
      write_str(errstr, errstr_size, "ml_memberlist_create: out and cfg are required");
      return ML_ERR_INVALID_ARGUMENT;
    }
    *out = nullptr;
    if (rt != nullptr && rt->rt->in_loop_thread()) return ML_ERR_IN_CALLBACK;
    if (cfg->regs_taken) {
      write_str(errstr, errstr_size,
                "this config's delegates, events, log or transport already belong to an earlier memberlist; "
                "registrations are single-use: make a new config");
      return ML_ERR_INVALID_ARGUMENT;
    }
    auto ml = std::make_unique<ml_memberlist>();
    ml->regs = std::make_shared<Registrations>();
    net::HostOptions o;
    o.config = cfg->cfg;
    ml->keyring.st = cfg->keyring ? cfg->keyring : std::make_shared<KeyringState>();
    auto &kst = *ml->keyring.st;
    {
      std::lock_guard kl(kst.mu);
      if (kst.attached) {
        write_str(errstr, errstr_size, "the keyring is already used by another memberlist");
        return ML_ERR_BUSY;
      }
      // The node starts encrypting at once with the keyring's primary; the full ring is
      // installed right after create().
      if (cfg->keyring && kst.ring.primary() != nullptr) o.config.secret_key = *kst.ring.primary();
    }
    if (auto v = o.config.validate(); !v) return fail(v.error(), ML_ERR_INVALID_CONFIG, errstr, errstr_size);
    if (rt != nullptr) o.runtime = rt->rt;
    const auto &regs = cfg->regs;
    if (regs.transport) o.external = regs.transport->callbacks();  // NodeHost checks the advertise address
    o.delegates.logger = regs.log.get();
    o.delegates.delegate = regs.delegate.get();
    o.delegates.events = regs.events.get();
    o.delegates.conflict = regs.conflict.get();
    o.delegates.merge = regs.merge.get();
    o.delegates.alive = regs.alive.get();
    o.delegates.ping = regs.ping.get();
    o.delegates.tcp_pings = regs.tcp_pings.get();
    // The adapters move into ml->regs right after create (the objects themselves stay put).
    o.keep_alive = ml->regs;
    auto host = net::NodeHost::create(std::move(o));
    if (!host) {
      const auto &e = host.error();
      const ml_err_t code = e.code == wire::Errc::LimitExceeded ? ML_ERR_TOO_LARGE
                            : e.code == wire::Errc::Internal    ? ML_ERR_NETWORK
                                                                : ML_ERR_INVALID_CONFIG;
      return fail(e, code, errstr, errstr_size);
    }
    // The delegates are in use from here on: the registrations move to the memberlist.
    cfg->regs_taken = regs.any();
    *ml->regs = std::move(cfg->regs);
    ml->host = std::shared_ptr<net::NodeHost>(std::move(host.value()));
    ml->default_port = regs.transport            ? ml->host->advertise().port
                       : cfg->cfg.bind_port != 0 ? cfg->cfg.bind_port
                                                 : ml->host->port();
    {
      std::shared_ptr<KeyringState> sp = ml->keyring.st;
      std::weak_ptr<net::NodeHost> wh = ml->host;
      auto s = ml->host->with_node([&](protocol::Node &n) {
        std::lock_guard kl(sp->mu);
        if (cfg->keyring) n.keyring() = sp->ring;
        sp->host = wh;
        sp->attached = true;
      });
      if (!s) {
        write_str(errstr, errstr_size, s.error().message);
        (void)ml->host->shutdown();  // we fail anyway
        return ML_ERR_INTERNAL;
      }
    }
    if (rt != nullptr) {
      ml->rt = rt;
      rt->users.fetch_add(1);
    }
    *out = ml.release();
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_join(ml_memberlist_t *ml, const char *const *addrs, size_t n, int *contacted_out,
                                      char *errstr, size_t errstr_size) {
  return guard(errstr, errstr_size, [&]() -> ml_err_t {
    if (contacted_out != nullptr) *contacted_out = 0;
    if (ml == nullptr || (addrs == nullptr && n != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    if (auto rc = check_may_block(ml); rc != ML_OK) return rc;
    std::string errors;
    auto peers = parse_addresses(addrs, n, ml->default_port, errors);
    if (peers.empty()) {
      write_str(errstr, errstr_size, errors.empty() ? "no addresses to join" : errors);
      return ML_ERR_JOIN_FAILED;
    }
    auto r = ml->host->join(peers);
    if (!r) {
      if (ml->host->is_shut_down()) return ML_ERR_CLOSED;
      if (!errors.empty()) errors += "; ";
      write_str(errstr, errstr_size, errors + r.error().message);
      return ML_ERR_JOIN_FAILED;
    }
    if (contacted_out != nullptr) *contacted_out = *r;
    if (!errors.empty()) write_str(errstr, errstr_size, errors);  // partial success
    return ML_OK;
  });
}

namespace {
ml_err_t wait_status(ml_memberlist_t *ml, const wire::Status &s) {
  if (s) return ML_OK;
  if (ml->host->is_shut_down()) return ML_ERR_CLOSED;
  if (s.error().code == wire::Errc::Truncated) return ML_ERR_TIMEOUT;  // the node's "timeout waiting"
  return to_ml(s.error());
}
protocol::Duration ms(int64_t v) { return std::chrono::milliseconds(v < 0 ? 0 : v); }
}  // namespace

ML_EXPORT ml_err_t ml_memberlist_leave(ml_memberlist_t *ml, int64_t timeout_ms) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    if (auto rc = check_may_block(ml); rc != ML_OK) return rc;
    return wait_status(ml, ml->host->leave(ms(timeout_ms)));
  });
}

ML_EXPORT ml_err_t ml_memberlist_shutdown(ml_memberlist_t *ml) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (ml == nullptr) return ML_ERR_INVALID_ARGUMENT;
    return do_shutdown(ml);
  });
}

ML_EXPORT ml_err_t ml_memberlist_destroy(ml_memberlist_t *ml) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (ml == nullptr) return ML_OK;
    if (auto rc = do_shutdown(ml); rc != ML_OK) return rc;
    ml_runtime *rt = ml->rt;
    // The host goes first (no callback after its shutdown), then the registrations: user_free.
    ml->host.reset();
    delete ml;
    if (rt != nullptr) rt->users.fetch_sub(1);
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_members(ml_memberlist_t *ml, ml_members_t **out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (out != nullptr) *out = nullptr;
    if (ml == nullptr || out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->members();
    if (!r) return ml->host->is_shut_down() ? ML_ERR_CLOSED : to_ml(r.error());
    *out = snapshot(std::move(r.value()));
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_local(ml_memberlist_t *ml, ml_members_t **out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (out != nullptr) *out = nullptr;
    if (ml == nullptr || out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->local_member();
    if (!r) return ml->host->is_shut_down() ? ML_ERR_CLOSED : to_ml(r.error());
    std::vector<protocol::Member> v;
    v.push_back(std::move(r.value()));
    *out = snapshot(std::move(v));
    return ML_OK;
  });
}

ML_EXPORT int ml_memberlist_num_members(ml_memberlist_t *ml) {
  return guard_value<int>(0, [&]() -> int {
    if (ml == nullptr) return 0;
    auto r = ml->host->num_members();
    return r ? *r : 0;
  });
}

ML_EXPORT int ml_memberlist_health_score(ml_memberlist_t *ml) {
  return guard_value<int>(0, [&]() -> int {
    if (ml == nullptr) return 0;
    auto r = ml->host->health_score();
    return r ? *r : 0;
  });
}

ML_EXPORT ml_err_t ml_memberlist_update_node(ml_memberlist_t *ml, int64_t timeout_ms) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    if (auto rc = check_may_block(ml); rc != ML_OK) return rc;
    return wait_status(ml, ml->host->update_node(ms(timeout_ms)));
  });
}

namespace {
// The member's endpoint by name, from the current membership.
ml_err_t lookup(ml_memberlist_t *ml, const char *name, protocol::Endpoint &out) {
  auto r = ml->host->member(name);
  if (!r) return ml->host->is_shut_down() ? ML_ERR_CLOSED : to_ml(r.error());
  if (!r->has_value()) return ML_ERR_NOT_FOUND;
  const auto &m = **r;
  out = protocol::Endpoint{m.addr, m.port, m.name};
  return ML_OK;
}
}  // namespace

ML_EXPORT ml_err_t ml_memberlist_send_best_effort(ml_memberlist_t *ml, const char *name, const uint8_t *msg,
                                                  size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (name == nullptr || (msg == nullptr && len != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    protocol::Endpoint to;
    if (auto rc = lookup(ml, name, to); rc != ML_OK) return rc;
    auto s = ml->host->send_best_effort(to, wire::ByteView(msg, len));
    return s ? ML_OK : (ml->host->is_shut_down() ? ML_ERR_CLOSED : to_ml(s.error()));
  });
}

ML_EXPORT ml_err_t ml_memberlist_send_reliable(ml_memberlist_t *ml, const char *name, const uint8_t *msg,
                                               size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (name == nullptr || (msg == nullptr && len != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    if (auto rc = check_may_block(ml); rc != ML_OK) return rc;
    protocol::Endpoint to;
    if (auto rc = lookup(ml, name, to); rc != ML_OK) return rc;
    auto s = ml->host->send_reliable(to, wire::ByteView(msg, len));
    if (s) return ML_OK;
    if (ml->host->is_shut_down()) return ML_ERR_CLOSED;
    return s.error().code == wire::Errc::LimitExceeded ? ML_ERR_TOO_LARGE : ML_ERR_NETWORK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_send_to_address(ml_memberlist_t *ml, const char *addr, const uint8_t *msg,
                                                 size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (addr == nullptr || (msg == nullptr && len != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    auto to = net::parse_endpoint(addr, ml->default_port);
    if (!to) return ML_ERR_INVALID_ARGUMENT;
    auto s = ml->host->send_best_effort(*to, wire::ByteView(msg, len));
    return s ? ML_OK : (ml->host->is_shut_down() ? ML_ERR_CLOSED : to_ml(s.error()));
  });
}

ML_EXPORT ml_err_t ml_memberlist_queue_broadcast(ml_memberlist_t *ml, const char *name, const uint8_t *msg,
                                                 size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (msg == nullptr && len != 0) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    auto s = ml->host->queue_broadcast(wire::Bytes(msg, msg + len), name != nullptr ? std::string(name) : std::string());
    return s ? ML_OK : (ml->host->is_shut_down() ? ML_ERR_CLOSED : to_ml(s.error()));
  });
}

ML_EXPORT ml_err_t ml_memberlist_ping(ml_memberlist_t *ml, const char *name, const char *addr, int64_t *rtt_ns_out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (rtt_ns_out != nullptr) *rtt_ns_out = 0;
    if (name == nullptr || addr == nullptr) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    if (auto rc = check_may_block(ml); rc != ML_OK) return rc;
    auto to = net::parse_endpoint(addr, ml->default_port);
    if (!to) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->ping(name, *to);
    if (!r) return ml->host->is_shut_down() ? ML_ERR_CLOSED : ML_ERR_TIMEOUT;
    if (rtt_ns_out != nullptr) *rtt_ns_out = static_cast<int64_t>(r->count());
    return ML_OK;
  });
}

// ------------------------------------------------------------------- external-transport input
namespace {
ml_err_t external_status(ml_memberlist_t *ml, const wire::Status &s) {
  if (s) return ML_OK;
  if (ml->host->is_shut_down()) return ML_ERR_CLOSED;
  return ML_ERR_INTERNAL;
}
ml_err_t check_external(ml_memberlist_t *ml) {
  if (ml == nullptr) return ML_ERR_INVALID_ARGUMENT;
  if (!ml->regs->transport) return ML_ERR_NOT_SUPPORTED;
  if (ml->closed.load() || ml->host->is_shut_down()) return ML_ERR_CLOSED;
  return ML_OK;
}
}  // namespace

ML_EXPORT ml_err_t ml_memberlist_deliver_packet(ml_memberlist_t *ml, const char *from, const uint8_t *data,
                                                size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (from == nullptr || (data == nullptr && len != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_external(ml); rc != ML_OK) return rc;
    auto ep = net::parse_endpoint(from, 0);
    if (!ep) return ML_ERR_INVALID_ARGUMENT;
    return external_status(ml, ml->host->deliver_packet(*ep, wire::ByteView(data, len)));
  });
}

ML_EXPORT ml_err_t ml_memberlist_accept_stream(ml_memberlist_t *ml, const char *from, uint64_t *id_out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (id_out != nullptr) *id_out = 0;
    if (from == nullptr || id_out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_external(ml); rc != ML_OK) return rc;
    auto ep = net::parse_endpoint(from, 0);
    if (!ep) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->accept_stream(*ep);
    if (!r) return external_status(ml, r.error());
    *id_out = *r;
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_stream_data(ml_memberlist_t *ml, uint64_t id, const uint8_t *data, size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (data == nullptr && len != 0) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_external(ml); rc != ML_OK) return rc;
    return external_status(ml, ml->host->stream_data(id, wire::ByteView(data, len)));
  });
}

ML_EXPORT ml_err_t ml_memberlist_stream_end(ml_memberlist_t *ml, uint64_t id, const char *error) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (auto rc = check_external(ml); rc != ML_OK) return rc;
    wire::Status st = wire::Ok{};
    if (error != nullptr) st = wire::make_error(wire::Errc::Truncated, error);
    return external_status(ml, ml->host->stream_end(id, std::move(st)));
  });
}

ML_EXPORT ml_keyring_t *ml_memberlist_keyring(ml_memberlist_t *ml) { return ml == nullptr ? nullptr : &ml->keyring; }

ML_EXPORT ml_err_t ml_memberlist_metrics(ml_memberlist_t *ml, void (*fn)(void *ctx, const char *name, double value),
                                         void *ctx) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (ml == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->metrics();
    if (!r) return ml->host->is_shut_down() ? ML_ERR_CLOSED : to_ml(r.error());
    const protocol::Metrics &m = *r;
    const std::pair<const char *, double> all[] = {
        {"memberlist.udp.sent", static_cast<double>(m.udp_sent)},
        {"memberlist.udp.received", static_cast<double>(m.udp_received)},
        {"memberlist.udp.sent_bytes", static_cast<double>(m.udp_sent_bytes)},
        {"memberlist.udp.received_bytes", static_cast<double>(m.udp_received_bytes)},
        {"memberlist.tcp.sent", static_cast<double>(m.tcp_sent)},
        {"memberlist.tcp.received", static_cast<double>(m.tcp_received)},
        {"memberlist.tcp.sent_bytes", static_cast<double>(m.tcp_sent_bytes)},
        {"memberlist.tcp.received_bytes", static_cast<double>(m.tcp_received_bytes)},
        {"memberlist.tcp.accept", static_cast<double>(m.tcp_accept)},
        {"memberlist.tcp.connect", static_cast<double>(m.tcp_connect)},
        {"memberlist.msg.alive", static_cast<double>(m.msg_alive)},
        {"memberlist.msg.suspect", static_cast<double>(m.msg_suspect)},
        {"memberlist.msg.dead", static_cast<double>(m.msg_dead)},
        {"memberlist.probe", static_cast<double>(m.probe_count)},
        {"memberlist.degraded.probe", static_cast<double>(m.degraded_probe)},
        {"memberlist.degraded.timeout", static_cast<double>(m.degraded_timeout)},
        {"memberlist.probe.failed", static_cast<double>(m.probe_failed)},
        {"memberlist.gossip", static_cast<double>(m.gossip_count)},
        {"memberlist.pushPullNode", static_cast<double>(m.push_pull_count)},
        {"memberlist.push_pull.refused", static_cast<double>(m.push_pull_refused)},
        {"memberlist.packets.dropped", static_cast<double>(m.packets_dropped)},
        {"memberlist.handoff.dropped", static_cast<double>(m.handoff_dropped)},
        {"memberlist.udp.send_dropped", static_cast<double>(m.udp_send_dropped)},
        {"memberlist.stream.over_memory", static_cast<double>(m.streams_over_memory)},
        {"memberlist.refute", static_cast<double>(m.refutes)},
        {"memberlist.node.alive", static_cast<double>(m.node_alive)},
        {"memberlist.node.suspect", static_cast<double>(m.node_suspect)},
        {"memberlist.node.dead", static_cast<double>(m.node_dead)},
        {"memberlist.node.left", static_cast<double>(m.node_left)},
        {"memberlist.health.score", static_cast<double>(m.health_score)},
        {"memberlist.queue.broadcasts", static_cast<double>(m.queue_system)},
        {"memberlist.queue.user", static_cast<double>(m.queue_user)},
    };
    for (const auto &[name, value] : all) fn(ctx, name, value);
    return ML_OK;
  });
}
