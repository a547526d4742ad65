// ml_keyring_*: a thin shim over net::SharedKeyring (shared_keyring.hpp), which owns the rules:
// standalone keys, or the live ring of the memberlist using it.
#include <cstring>
#include <memory>

#include "handles.hpp"

using namespace memberlist::capi;

namespace {
ml_err_t key_status(const memberlist::wire::Status &s) { return s ? ML_OK : ML_ERR_KEY; }
}  // namespace

ML_EXPORT ml_err_t ml_keyring_create(ml_keyring_t **out, const uint8_t *primary, size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    auto st = std::make_shared<net::SharedKeyring>();
    if (primary != nullptr || len != 0) {  // empty: memberlist's NewKeyring(nil, nil)
      if (primary == nullptr) return ML_ERR_INVALID_ARGUMENT;
      if (auto rc = key_status(st->add(wire::ByteView(primary, len))); rc != ML_OK) return rc;
    }
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

ML_EXPORT ml_err_t ml_keyring_add(ml_keyring_t *kr, const uint8_t *key, size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (kr == nullptr || key == nullptr) return ML_ERR_INVALID_ARGUMENT;
    return key_status(kr->st->add(wire::ByteView(key, len)));
  });
}
ML_EXPORT ml_err_t ml_keyring_use(ml_keyring_t *kr, const uint8_t *key, size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (kr == nullptr || key == nullptr) return ML_ERR_INVALID_ARGUMENT;
    return key_status(kr->st->use(wire::ByteView(key, len)));
  });
}
ML_EXPORT ml_err_t ml_keyring_remove(ml_keyring_t *kr, const uint8_t *key, size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (kr == nullptr || key == nullptr) return ML_ERR_INVALID_ARGUMENT;
    return key_status(kr->st->remove(wire::ByteView(key, len)));
  });
}
ML_EXPORT size_t ml_keyring_count(const ml_keyring_t *kr) {
  return guard_value<size_t>(0, [&]() -> size_t { return kr == nullptr ? 0 : kr->st->count(); });
}
ML_EXPORT size_t ml_keyring_get(const ml_keyring_t *kr, size_t i, uint8_t *buf, size_t buf_size) {
  return guard_value<size_t>(0, [&]() -> size_t {
    if (kr == nullptr) return 0;
    auto k = kr->st->key(i);
    if (!k) return 0;
    if (buf != nullptr) std::memcpy(buf, k->data(), k->size() < buf_size ? k->size() : buf_size);
    return k->size();
  });
}
