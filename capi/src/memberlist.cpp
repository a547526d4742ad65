// ml_memberlist_*: a thin shim over net::NodeHost. Each entry point checks its handle, runs in
// the one guard (guard.hpp) and translates the host's result.
#include <string>
#include <utility>
#include <vector>

#include "handles.hpp"
#include "net/address.hpp"

using namespace memberlist::capi;

namespace {

// The handle's own state: a memberlist shut down through this API answers CLOSED before its
// arguments are looked at (the host would say the same, after a name lookup or an address parse).
ml_err_t check_running(ml_memberlist_t *ml) {
  if (ml == nullptr) return ML_ERR_INVALID_ARGUMENT;
  if (ml->closed.load()) return ML_ERR_CLOSED;
  return ML_OK;
}

// The shutdown sequence shared by ml_memberlist_shutdown and ml_memberlist_destroy. It never
// waits for a callback: from anywhere, including the memberlist's own callbacks (as memberlist
// allows Shutdown from a delegate).
ml_err_t do_shutdown(ml_memberlist_t *ml) {
  std::lock_guard lock(ml->shutdown_mu);
  if (ml->shut_down) return ML_OK;
  ml->closed.store(true);
  // The host hands its keys back to the keyring as it closes (net::SharedKeyring).
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
    if (cfg->keyring && cfg->keyring->in_use()) {
      write_str(errstr, errstr_size, "the keyring is already used by another memberlist");
      return ML_ERR_BUSY;
    }
    o.keyring = cfg->keyring;  // null: the host makes one from the config's secret_key
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
    o.delegates.node_selection = regs.node_selection.get();
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
    ml->keyring.st = ml->host->keyring();
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
    // Before resolving names (blocking getaddrinfo), which must not run on the loop either.
    if (auto rc = to_ml(ml->host->may_block()); rc != ML_OK) return rc;
    std::string errors;
    auto peers = parse_addresses(addrs, n, ml->default_port, errors);
    if (peers.empty()) {
      write_str(errstr, errstr_size, errors.empty() ? "no addresses to join" : errors);
      return ML_ERR_JOIN_FAILED;
    }
    auto r = ml->host->join(peers);
    if (!r) {
      if (!errors.empty()) errors += "; ";
      write_str(errstr, errstr_size, errors + r.error().message);
      return to_ml(r.error());
    }
    if (contacted_out != nullptr) *contacted_out = *r;
    if (!errors.empty()) write_str(errstr, errstr_size, errors);  // partial success
    return ML_OK;
  });
}

namespace {
protocol::Duration ms(int64_t v) { return std::chrono::milliseconds(v < 0 ? 0 : v); }
}  // namespace

ML_EXPORT ml_err_t ml_memberlist_leave(ml_memberlist_t *ml, int64_t timeout_ms) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    return to_ml(ml->host->leave(ms(timeout_ms)));
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
    if (!r) return to_ml(r.error());
    *out = snapshot(std::move(r.value()));
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_local(ml_memberlist_t *ml, ml_members_t **out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (out != nullptr) *out = nullptr;
    if (ml == nullptr || out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->local_member();
    if (!r) return to_ml(r.error());
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
    return to_ml(ml->host->update_node(ms(timeout_ms)));
  });
}

namespace {
// The member's endpoint by name, from the current membership (a live member's without a round
// trip to the loop: NodeHost::endpoint_of).
ml_err_t lookup(ml_memberlist_t *ml, const char *name, protocol::Endpoint &out) {
  auto r = ml->host->endpoint_of(name);
  if (!r) return to_ml(r.error());
  if (!r->has_value()) return ML_ERR_NOT_FOUND;
  out = std::move(**r);
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
    return s ? ML_OK : to_ml(s.error());
  });
}

ML_EXPORT ml_err_t ml_memberlist_send_reliable(ml_memberlist_t *ml, const char *name, const uint8_t *msg,
                                               size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (name == nullptr || (msg == nullptr && len != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    protocol::Endpoint to;
    if (auto rc = lookup(ml, name, to); rc != ML_OK) return rc;
    auto s = ml->host->send_reliable(to, wire::ByteView(msg, len));
    return to_ml(s);
  });
}

namespace {
// A user message to an address ("name/host:port" or "host:port"): a datagram or a stream.
ml_err_t send_to_address(ml_memberlist_t *ml, const char *addr, const uint8_t *msg, size_t len, bool reliable) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (addr == nullptr || (msg == nullptr && len != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    auto to = net::parse_endpoint(addr, ml->default_port);
    if (!to) return ML_ERR_INVALID_ARGUMENT;
    const wire::ByteView m(msg, len);
    return to_ml(reliable ? ml->host->send_reliable(*to, m) : ml->host->send_best_effort(*to, m));
  });
}
}  // namespace

ML_EXPORT ml_err_t ml_memberlist_send_to_address(ml_memberlist_t *ml, const char *addr, const uint8_t *msg,
                                                 size_t len) {
  return send_to_address(ml, addr, msg, len, false);
}

ML_EXPORT ml_err_t ml_memberlist_send_reliable_to_address(ml_memberlist_t *ml, const char *addr, const uint8_t *msg,
                                                          size_t len) {
  return send_to_address(ml, addr, msg, len, true);
}

ML_EXPORT ml_err_t ml_memberlist_queue_broadcast(ml_memberlist_t *ml, const char *name, const uint8_t *msg,
                                                 size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (msg == nullptr && len != 0) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    auto s = ml->host->queue_broadcast(wire::Bytes(msg, msg + len), name != nullptr ? std::string(name) : std::string());
    return s ? ML_OK : to_ml(s.error());
  });
}

ML_EXPORT ml_err_t ml_memberlist_ping(ml_memberlist_t *ml, const char *name, const char *addr, int64_t *rtt_ns_out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (rtt_ns_out != nullptr) *rtt_ns_out = 0;
    if (name == nullptr || addr == nullptr) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_running(ml); rc != ML_OK) return rc;
    auto to = net::parse_endpoint(addr, ml->default_port);
    if (!to) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->ping(name, *to);
    if (!r) return to_ml(r.error());
    if (rtt_ns_out != nullptr) *rtt_ns_out = static_cast<int64_t>(r->count());
    return ML_OK;
  });
}


ML_EXPORT ml_keyring_t *ml_memberlist_keyring(ml_memberlist_t *ml) { return ml == nullptr ? nullptr : &ml->keyring; }

ML_EXPORT ml_err_t ml_memberlist_metric_samples(ml_memberlist_t *ml,
                                                void (*fn)(void *ctx, const char *name, double value), void *ctx) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (ml == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->take_samples();
    if (!r) return to_ml(r.error());
    for (const auto &s : *r) fn(ctx, s.name, s.value);
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_metrics(ml_memberlist_t *ml, void (*fn)(void *ctx, const char *name, double value),
                                         void *ctx) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (ml == nullptr || fn == nullptr) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->metrics();
    if (!r) return to_ml(r.error());
    for (const auto &[name, value] : protocol::metric_values(*r)) fn(ctx, name, value);
    return ML_OK;
  });
}
