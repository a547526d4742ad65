// ml_members_* / ml_member_*: read-only accessors of member snapshots.
#include "handles.hpp"

using namespace memberlist::capi;

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

