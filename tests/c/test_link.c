/* References every function of the C API, so a missing implementation fails to link, then
 * checks that each address is non-null and that the version matches the header. */
#include <stdio.h>
#include <string.h>

#include <memberlist/memberlist.h>

typedef void (*any_fn)(void);

static const any_fn all_functions[] = {
    (any_fn)ml_config_create,
    (any_fn)ml_config_destroy,
    (any_fn)ml_config_get,
    (any_fn)ml_config_key_at,
    (any_fn)ml_config_set,
    (any_fn)ml_config_set_alive,
    (any_fn)ml_config_set_node_selection,
    (any_fn)ml_config_set_conflict,
    (any_fn)ml_config_set_delegate,
    (any_fn)ml_config_set_events,
    (any_fn)ml_config_set_keyring,
    (any_fn)ml_config_set_log,
    (any_fn)ml_config_set_merge,
    (any_fn)ml_config_set_ping,
    (any_fn)ml_config_set_disable_tcp_pings_for_node,
    (any_fn)ml_config_set_transport,
    (any_fn)ml_config_validate,
    (any_fn)ml_err_string,
    (any_fn)ml_keyring_add,
    (any_fn)ml_keyring_count,
    (any_fn)ml_keyring_create,
    (any_fn)ml_keyring_destroy,
    (any_fn)ml_keyring_get,
    (any_fn)ml_keyring_remove,
    (any_fn)ml_keyring_use,
    (any_fn)ml_member_addr,
    (any_fn)ml_member_address,
    (any_fn)ml_member_incarnation,
    (any_fn)ml_member_meta,
    (any_fn)ml_member_name,
    (any_fn)ml_member_port,
    (any_fn)ml_member_state,
    (any_fn)ml_member_versions,
    (any_fn)ml_memberlist_accept_stream,
    (any_fn)ml_memberlist_create,
    (any_fn)ml_memberlist_deliver_packet,
    (any_fn)ml_memberlist_destroy,
    (any_fn)ml_memberlist_health_score,
    (any_fn)ml_memberlist_join,
    (any_fn)ml_memberlist_keyring,
    (any_fn)ml_memberlist_leave,
    (any_fn)ml_memberlist_local,
    (any_fn)ml_memberlist_members,
    (any_fn)ml_memberlist_metrics,
    (any_fn)ml_memberlist_metric_samples,
    (any_fn)ml_memberlist_num_members,
    (any_fn)ml_memberlist_ping,
    (any_fn)ml_memberlist_queue_broadcast,
    (any_fn)ml_memberlist_send_best_effort,
    (any_fn)ml_memberlist_send_reliable,
    (any_fn)ml_memberlist_send_to_address,
    (any_fn)ml_memberlist_send_reliable_to_address,
    (any_fn)ml_memberlist_shutdown,
    (any_fn)ml_memberlist_stream_data,
    (any_fn)ml_memberlist_stream_end,
    (any_fn)ml_memberlist_update_node,
    (any_fn)ml_members_count,
    (any_fn)ml_members_destroy,
    (any_fn)ml_members_get,
    (any_fn)ml_runtime_create,
    (any_fn)ml_runtime_create_driven,
    (any_fn)ml_runtime_drive,
    (any_fn)ml_runtime_notify_external,
    (any_fn)ml_notify_wanted,
    (any_fn)ml_notify_run,
    (any_fn)ml_notify_release,
    (any_fn)ml_runtime_destroy,
    (any_fn)ml_runtime_set_timer_coalescing,
    (any_fn)ml_version,
    (any_fn)ml_version_string,
};

int main(void) {
  size_t i, n = sizeof all_functions / sizeof all_functions[0];
  for (i = 0; i < n; ++i) {
    if (all_functions[i] == NULL) {
      fprintf(stderr, "function %u is NULL\n", (unsigned)i);
      return 1;
    }
  }
  if (ml_version() != (uint32_t)ML_VERSION) {
    fprintf(stderr, "ml_version() %x != ML_VERSION %x\n", (unsigned)ml_version(), (unsigned)ML_VERSION);
    return 1;
  }
  if (strcmp(ml_version_string(), "0.1.0") != 0) return 1;
  printf("%u functions referenced\n", (unsigned)n);
  return 0;
}
