// The library's version, error strings and the shared runtime (ml_runtime_t).
#include "handles.hpp"

using namespace memberlist::capi;

// The definitions below have C linkage through their declarations in memberlist.h.
ML_EXPORT uint32_t ml_version(void) { return ML_VERSION; }
#define ML_STR_(x) #x
#define ML_STR(x) ML_STR_(x)
ML_EXPORT const char *ml_version_string(void) {
  return ML_STR(ML_VERSION_MAJOR) "." ML_STR(ML_VERSION_MINOR) "." ML_STR(ML_VERSION_PATCH);
}

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

ML_EXPORT ml_err_t ml_runtime_create_driven(ml_runtime_t **out, int *fd, char *errstr, size_t errstr_size) {
  return guard(errstr, errstr_size, [&]() -> ml_err_t {
    if (out == nullptr || fd == nullptr) return ML_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    net::Runtime::Options o;
    o.driven = true;
    auto rt = net::Runtime::create(o);
    if (!rt) return fail(rt.error(), ML_ERR_INTERNAL, errstr, errstr_size);
    auto h = std::make_unique<ml_runtime>();
    h->rt = std::move(rt.value());
    *fd = h->rt->backend_fd();
    *out = h.release();
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_runtime_drive(ml_runtime_t *rt, int *next_ms) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (rt == nullptr || next_ms == nullptr) return ML_ERR_INVALID_ARGUMENT;
    if (!rt->rt->driven()) return ML_ERR_NOT_SUPPORTED;
    if (rt->rt->in_loop_thread()) return ML_ERR_IN_CALLBACK;
    const auto next = rt->rt->drive();
    if (!next) return ML_ERR_CLOSED;
    *next_ms = *next;
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_runtime_notify_external(ml_runtime_t *rt, ml_notify_t **out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (rt == nullptr || out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    if (!rt->rt->driven()) return ML_ERR_NOT_SUPPORTED;
    if (rt->users.load() != 0) return ML_ERR_BUSY;
    auto runners = rt->rt->external_notifications();
    if (!runners) return ML_ERR_BUSY;  // a memberlist was created on it, or done before
    auto h = std::make_unique<ml_notify>();
    h->runners = std::move(runners);
    *out = h.release();
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_notify_wanted(ml_notify_t *n, size_t *count) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (n == nullptr || count == nullptr) return ML_ERR_INVALID_ARGUMENT;
    *count = n->runners->take_wanted();
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_notify_run(ml_notify_t *n) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (n == nullptr) return ML_ERR_INVALID_ARGUMENT;
    // Inside a notification or on a loop thread: running others there would break the order of
    // this memberlist's notifications, or run them on a loop.
    if (net::NotifyRunners::in_run() || net::Runtime::in_any_loop_thread()) return ML_ERR_IN_CALLBACK;
    return n->runners->run() ? ML_OK : ML_ERR_CLOSED;
  });
}

ML_EXPORT void ml_notify_release(ml_notify_t *n) { delete n; }

ML_EXPORT ml_err_t ml_runtime_set_timer_coalescing(ml_runtime_t *rt, uint32_t ms) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (rt == nullptr || ms > net::Runtime::kMaxTimerGridMs) return ML_ERR_INVALID_ARGUMENT;
    rt->rt->set_timer_grid_ms(ms);
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

