// The C API's shared helpers: the one exception-translating guard every entry point runs its
// body through, error translation, and the UserData whose destructor calls user_free once.
//
// capi/src is a thin shim (ARCHITECTURE.md: "validate handle, run body in one guard, translate
// errors. No logic."), one file per object, as libgit2 splits its API:
//   guard.hpp     these helpers          handles.hpp  the opaque structs behind the C handles
//   adapters.hpp  registrations -> protocol delegates
//   runtime.cpp   version, ml_err_string, ml_runtime_*
//   config.cpp    ml_config_*            keyring.cpp  ml_keyring_* (over net::SharedKeyring)
//   members.cpp   ml_members_* / ml_member_*
//   memberlist.cpp ml_memberlist_*       transport.cpp the external-transport input
#pragma once

#include <cstring>
#include <exception>
#include <new>
#include <string_view>

// config_table.hpp first: its PropertyType::Bytes enumerator trips -Wshadow when node.hpp's
// `using wire::Bytes` is already visible in namespace protocol.
#include "protocol/config_table.hpp"
#include "net/node_host.hpp"
#include "wire/error.hpp"

// Only what this macro marks is exported (the library is built with -fvisibility=hidden and
// linked with capi/memberlist.map).
#define ML_EXPORT __attribute__((visibility("default")))

#include <memberlist/memberlist.h>

namespace memberlist::capi {
namespace net = memberlist::net;
namespace protocol = memberlist::protocol;
namespace wire = memberlist::wire;
}  // namespace memberlist::capi

// ------------------------------------------------------------------------------------ helpers
namespace memberlist::capi {

inline void write_str(char *buf, size_t size, std::string_view s) noexcept {
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

// The one table from the core's codes (wire/error.hpp) to ml_err_t. The core says what happened
// (shut down, in a callback, timeout, …); the shim only forwards it.
inline ml_err_t to_ml(const wire::Error &e) {
  switch (e.code) {
    case wire::Errc::LimitExceeded: return ML_ERR_TOO_LARGE;
    case wire::Errc::BadKey: return ML_ERR_KEY;
    case wire::Errc::Internal: return ML_ERR_INTERNAL;
    case wire::Errc::Closed: return ML_ERR_CLOSED;
    case wire::Errc::Timeout: return ML_ERR_TIMEOUT;
    case wire::Errc::JoinFailed: return ML_ERR_JOIN_FAILED;
    case wire::Errc::Network: return ML_ERR_NETWORK;
    case wire::Errc::InCallback: return ML_ERR_IN_CALLBACK;
    case wire::Errc::NotExternal: return ML_ERR_NOT_SUPPORTED;
    case wire::Errc::Busy: return ML_ERR_BUSY;
    case wire::Errc::InvalidArgument: return ML_ERR_INVALID_ARGUMENT;
    default: return ML_ERR_INVALID_ARGUMENT;  // the wire codes: a value the caller gave was bad
  }
}
// A Status as an ml_err_t.
inline ml_err_t to_ml(const wire::Status &s) { return s ? ML_OK : to_ml(s.error()); }
inline ml_err_t fail(const wire::Error &e, ml_err_t code, char *errstr, size_t errstr_size) {
  write_str(errstr, errstr_size, e.message);
  return code;
}

// A C enum argument's value, read as bytes: C callers may pass any int, and loading an
// out-of-range value as the C++ enum type is undefined behaviour.
template <class E>
inline int enum_value(const E &e) {
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

}  // namespace memberlist::capi
