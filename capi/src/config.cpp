// ml_config_*: a protocol::Config edited by name (config_table.hpp holds every property, its
// parser and its documentation) plus the registrations a memberlist will take over.
#include <unistd.h>

#include <memory>
#include <type_traits>
#include <utility>

#include "handles.hpp"

using namespace memberlist::capi;

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

ML_EXPORT const char *ml_config_key_at(size_t i) {
  const auto all = protocol::properties();
  return i < all.size() ? all[i].key.data() : nullptr;  // string literals: NUL-terminated
}

ML_EXPORT ml_err_t ml_config_validate(const ml_config_t *cfg, char *errstr, size_t errstr_size) {
  return guard(errstr, errstr_size, [&]() -> ml_err_t {
    if (cfg == nullptr) return ML_ERR_INVALID_ARGUMENT;
    auto st = cfg->cfg.validate();
    return st ? ML_OK : fail(st.error(), ML_ERR_INVALID_CONFIG, errstr, errstr_size);
  });
}

namespace {
// Every ml_config_set_<registration>: checks the config and the required callbacks, then makes
// the adapter for `Slot` from the remaining arguments (replacing an earlier one, whose user_free
// runs now).
template <auto Slot, class... A>
ml_err_t set_registration(ml_config_t *cfg, bool callbacks_ok, A &&...args) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || !callbacks_ok) return ML_ERR_INVALID_ARGUMENT;
    using Adapter = typename std::remove_reference_t<decltype(cfg->regs.*Slot)>::element_type;
    cfg->regs.*Slot = std::make_unique<Adapter>(std::forward<A>(args)...);
    return ML_OK;
  });
}
}  // namespace

ML_EXPORT ml_err_t ml_config_set_delegate(ml_config_t *cfg, const ml_delegate_t *delegate, void *user,
                                          ml_user_free_fn user_free) {
  return set_registration<&Registrations::delegate>(cfg, delegate != nullptr, delegate ? *delegate : ml_delegate_t{},
                                                    user, user_free);
}
ML_EXPORT ml_err_t ml_config_set_events(ml_config_t *cfg, ml_event_fn fn, void *user, ml_user_free_fn user_free) {
  return set_registration<&Registrations::events>(cfg, fn != nullptr, fn, user, user_free);
}
ML_EXPORT ml_err_t ml_config_set_conflict(ml_config_t *cfg, ml_conflict_fn fn, void *user, ml_user_free_fn user_free) {
  return set_registration<&Registrations::conflict>(cfg, fn != nullptr, fn, user, user_free);
}
ML_EXPORT ml_err_t ml_config_set_merge(ml_config_t *cfg, ml_merge_fn fn, void *user, ml_user_free_fn user_free) {
  return set_registration<&Registrations::merge>(cfg, fn != nullptr, fn, user, user_free);
}
ML_EXPORT ml_err_t ml_config_set_alive(ml_config_t *cfg, ml_alive_fn fn, void *user, ml_user_free_fn user_free) {
  return set_registration<&Registrations::alive>(cfg, fn != nullptr, fn, user, user_free);
}
ML_EXPORT ml_err_t ml_config_set_disable_tcp_pings_for_node(ml_config_t *cfg, ml_tcp_pings_fn fn, void *user,
                                                            ml_user_free_fn user_free) {
  return set_registration<&Registrations::tcp_pings>(cfg, fn != nullptr, fn, user, user_free);
}
ML_EXPORT ml_err_t ml_config_set_node_selection(ml_config_t *cfg, ml_node_selection_fn fn, void *user,
                                                ml_user_free_fn user_free) {
  return set_registration<&Registrations::node_selection>(cfg, fn != nullptr, fn, user, user_free);
}
ML_EXPORT ml_err_t ml_config_set_ping(ml_config_t *cfg, const ml_ping_delegate_t *ping, void *user,
                                      ml_user_free_fn user_free) {
  return set_registration<&Registrations::ping>(cfg, ping != nullptr, ping ? *ping : ml_ping_delegate_t{}, user,
                                                user_free);
}
ML_EXPORT ml_err_t ml_config_set_log(ml_config_t *cfg, ml_log_level_t min_level, ml_log_fn fn, void *user,
                                     ml_user_free_fn user_free) {
  const int level = enum_value(min_level);
  return set_registration<&Registrations::log>(cfg, fn != nullptr && level >= ML_LOG_DEBUG && level <= ML_LOG_ERROR,
                                               level, fn, user, user_free);
}
ML_EXPORT ml_err_t ml_config_set_transport(ml_config_t *cfg, const ml_transport_t *transport, void *user,
                                           ml_user_free_fn user_free) {
  const bool complete = transport != nullptr && transport->send_packet != nullptr && transport->open_stream != nullptr &&
                        transport->reply_stream != nullptr && transport->close_stream != nullptr;
  return set_registration<&Registrations::transport>(cfg, complete, complete ? *transport : ml_transport_t{}, user,
                                                     user_free);
}
ML_EXPORT ml_err_t ml_config_set_keyring(ml_config_t *cfg, ml_keyring_t *kr) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (cfg == nullptr || kr == nullptr) return ML_ERR_INVALID_ARGUMENT;
    cfg->keyring = kr->st;
    return ML_OK;
  });
}
