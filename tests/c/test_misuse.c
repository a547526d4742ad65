/* Misuse: NULL arguments, bad keys and values, oversized metadata, calls after shutdown,
 * destroy(NULL), in-callback calls; the node keeps working after each error. */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

static void test_config_errors(void **state) {
  ml_config_t *cfg = NULL;
  char err[256], buf[64];
  size_t len = 0;
  (void)state;

  assert_int_equal(ml_config_create(NULL, ML_PRESET_LAN), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_create(&cfg, (ml_preset_t)42), ML_ERR_INVALID_ARGUMENT);
  assert_null(cfg);
  assert_int_equal(ml_config_create(&cfg, ML_PRESET_LAN), ML_OK);

  /* Unknown key: the message names it. */
  err[0] = '\0';
  assert_int_equal(ml_config_set(cfg, "no_such_key", "1", err, sizeof err), ML_ERR_UNKNOWN_KEY);
  assert_non_null(strstr(err, "no_such_key"));
  /* Bad values leave the configuration as it was. */
  assert_int_equal(ml_config_get(cfg, "probe_interval", buf, sizeof buf, &len), ML_OK);
  assert_string_equal(buf, "1s");
  assert_int_equal(ml_config_set(cfg, "probe_interval", "soon", err, sizeof err), ML_ERR_BAD_VALUE);
  assert_int_equal(ml_config_set(cfg, "protocol_version", "9", err, sizeof err), ML_ERR_BAD_VALUE);
  assert_int_equal(ml_config_set(cfg, "secret_key", "abc", NULL, 0), ML_ERR_BAD_VALUE);
  assert_int_equal(ml_config_get(cfg, "probe_interval", buf, sizeof buf, &len), ML_OK);
  assert_string_equal(buf, "1s");
  assert_int_equal(len, 2);
  /* Truncation: the full length is still reported. */
  assert_int_equal(ml_config_get(cfg, "probe_interval", buf, 2, &len), ML_OK);
  assert_string_equal(buf, "1");
  assert_int_equal(len, 2);
  assert_int_equal(ml_config_get(cfg, "nope", buf, sizeof buf, NULL), ML_ERR_UNKNOWN_KEY);
  /* A tiny errstr is truncated and NUL-terminated. */
  memset(err, 'x', sizeof err);
  assert_int_equal(ml_config_set(cfg, "no_such_key", "1", err, 4), ML_ERR_UNKNOWN_KEY);
  assert_int_equal(strlen(err), 3);

  /* NULL arguments. */
  assert_int_equal(ml_config_set(NULL, "name", "x", NULL, 0), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_set(cfg, NULL, "x", NULL, 0), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_set(cfg, "name", NULL, NULL, 0), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_get(NULL, "name", buf, sizeof buf, NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_validate(NULL, NULL, 0), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_set_events(cfg, NULL, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_set_delegate(cfg, NULL, NULL, NULL), ML_ERR_INVALID_ARGUMENT);

  /* Inconsistent as a whole: each value is fine alone. */
  assert_int_equal(ml_config_set(cfg, "delegate_protocol_min", "3", err, sizeof err), ML_OK);
  assert_int_equal(ml_config_set(cfg, "delegate_protocol_max", "2", err, sizeof err), ML_OK);
  err[0] = '\0';
  assert_int_equal(ml_config_validate(cfg, err, sizeof err), ML_ERR_INVALID_CONFIG);
  assert_non_null(strstr(err, "delegate_protocol_min"));
  assert_int_equal(ml_config_set(cfg, "delegate_protocol_min", "0", err, sizeof err), ML_OK);
  assert_int_equal(ml_config_validate(cfg, err, sizeof err), ML_OK);

  ml_config_destroy(cfg);
  ml_config_destroy(NULL);
}

static int g_frees;
static void count_free(void *user) {
  (void)user;
  ADD(g_frees, 1);
}
static void ignore_event(void *user, ml_event_t ev, const ml_member_t *m) {
  (void)user;
  (void)ev;
  (void)m;
}

static void test_registration_replaced_and_destroyed(void **state) {
  ml_config_t *cfg = NULL;
  (void)state;
  STORE(g_frees, 0);
  assert_int_equal(ml_config_create(&cfg, ML_PRESET_LOCAL), ML_OK);
  assert_int_equal(ml_config_set_events(cfg, ignore_event, NULL, count_free), ML_OK);
  assert_int_equal(ml_config_set_events(cfg, ignore_event, NULL, count_free), ML_OK);
  assert_int_equal(LOAD(g_frees), 1); /* the replaced one */
  ml_config_destroy(cfg);
  assert_int_equal(LOAD(g_frees), 2); /* the config's one, at destroy */
}

/* Registrations are single-use: a second create from the same config is refused, not run
 * silently without its delegates. */
static void test_config_registrations_single_use(void **state) {
  node_t a;
  ml_memberlist_t *second = NULL;
  ml_config_t *cfg;
  char err[256] = "";
  (void)state;
  cfg = fast_config(&a, 7, NULL);
  assert_int_equal(ml_memberlist_create(&a.ml, NULL, cfg, err, sizeof err), ML_OK);
  assert_int_equal(ml_memberlist_create(&second, NULL, cfg, err, sizeof err), ML_ERR_INVALID_ARGUMENT);
  assert_null(second);
  assert_non_null(strstr(err, "single-use"));
  ml_config_destroy(cfg);
  assert_int_equal(ml_memberlist_num_members(a.ml), 1); /* the first node is unharmed */
  assert_int_equal(ml_memberlist_shutdown(a.ml), ML_OK);
  assert_int_equal(ml_memberlist_destroy(a.ml), ML_OK);
  assert_int_equal(LOAD(a.frees), 2); /* events and delegate, once each */
}

static void test_handles_null(void **state) {
  ml_members_t *list = NULL;
  size_t len = 7;
  uint8_t vsn[6] = {1, 1, 1, 1, 1, 1};
  (void)state;
  assert_int_equal(ml_memberlist_destroy(NULL), ML_OK);
  assert_int_equal(ml_runtime_destroy(NULL), ML_OK);
  ml_members_destroy(NULL);
  ml_keyring_destroy(NULL);
  assert_int_equal(ml_memberlist_shutdown(NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_join(NULL, NULL, 0, NULL, NULL, 0), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_leave(NULL, 0), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_members(NULL, &list), ML_ERR_INVALID_ARGUMENT);
  assert_null(list);
  assert_int_equal(ml_memberlist_num_members(NULL), 0);
  assert_null(ml_memberlist_keyring(NULL));
  assert_int_equal(ml_members_count(NULL), 0);
  assert_null(ml_members_get(NULL, 0));
  assert_null(ml_member_name(NULL));
  assert_null(ml_member_meta(NULL, &len));
  assert_int_equal(len, 0);
  ml_member_versions(NULL, vsn);
  assert_int_equal(vsn[0], 0);
  assert_int_equal(ml_memberlist_create(NULL, NULL, NULL, NULL, 0), ML_ERR_INVALID_ARGUMENT);
  assert_string_equal(ml_err_string(ML_ERR_CLOSED), "shut down");
  assert_string_equal(ml_err_string(-1000), "unknown error");
  assert_int_equal(ml_runtime_create(NULL, NULL, 0), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_runtime_set_timer_coalescing(NULL, 10), ML_ERR_INVALID_ARGUMENT);
  {
    int fd = -1, next = 0;
    ml_runtime_t *rt = NULL;
    assert_int_equal(ml_runtime_create_driven(NULL, &fd, NULL, 0), ML_ERR_INVALID_ARGUMENT);
    assert_int_equal(ml_runtime_create_driven(&rt, NULL, NULL, 0), ML_ERR_INVALID_ARGUMENT);
    assert_null(rt);
    assert_int_equal(ml_runtime_drive(NULL, &next), ML_ERR_INVALID_ARGUMENT);
    /* A runtime with its own thread is not driven. */
    assert_int_equal(ml_runtime_create(&rt, NULL, 0), ML_OK);
    assert_int_equal(ml_runtime_drive(rt, &next), ML_ERR_NOT_SUPPORTED);
    assert_int_equal(ml_runtime_drive(rt, NULL), ML_ERR_INVALID_ARGUMENT);
    {
      ml_notify_t *n = (ml_notify_t *)&fd; /* must be overwritten with NULL */
      size_t wanted = 7;
      assert_int_equal(ml_runtime_notify_external(NULL, &n), ML_ERR_INVALID_ARGUMENT);
      assert_int_equal(ml_runtime_notify_external(rt, NULL), ML_ERR_INVALID_ARGUMENT);
      /* Only a driven runtime hands its notifications out (a threaded one has its own threads). */
      assert_int_equal(ml_runtime_notify_external(rt, &n), ML_ERR_NOT_SUPPORTED);
      assert_null(n);
      assert_int_equal(ml_notify_wanted(NULL, &wanted), ML_ERR_INVALID_ARGUMENT);
      assert_int_equal(ml_notify_run(NULL), ML_ERR_INVALID_ARGUMENT);
      ml_notify_release(NULL);
    }
    assert_int_equal(ml_runtime_destroy(rt), ML_OK);
  }
  {
    ml_runtime_t *rt = NULL;
    assert_int_equal(ml_runtime_create(&rt, NULL, 0), ML_OK);
    assert_int_equal(ml_runtime_set_timer_coalescing(rt, 101), ML_ERR_INVALID_ARGUMENT);
    assert_int_equal(ml_runtime_set_timer_coalescing(rt, 100), ML_OK);
    assert_int_equal(ml_runtime_set_timer_coalescing(rt, 0), ML_OK);
    assert_int_equal(ml_runtime_destroy(rt), ML_OK);
  }
}

/* A notification (it runs off the loop thread, as memberlist's handler goroutine does) may call
 * every blocking function of its own memberlist, shut it down and destroy it: the user data is
 * freed once that callback has returned, never under it. */
typedef struct {
  ml_memberlist_t *volatile ml;
  node_t *owner;
  int shutdown_rc, destroy_rc, leave_rc, members_rc, members_after_rc, frees_in_cb, done;
} cb_probe_t;
static void probing_msg(void *user, const uint8_t *msg, size_t len) {
  cb_probe_t *p = (cb_probe_t *)user;
  ml_members_t *list = NULL;
  (void)msg;
  (void)len;
  if (p->ml == NULL || LOAD(p->done)) return;
  p->members_rc = ml_memberlist_members(p->ml, &list);
  ml_members_destroy(list);
  list = NULL;
  p->leave_rc = ml_memberlist_leave(p->ml, 10);
  p->shutdown_rc = ml_memberlist_shutdown(p->ml);
  p->members_after_rc = ml_memberlist_members(p->ml, &list); /* snapshots after shutdown */
  ml_members_destroy(list);
  p->destroy_rc = ml_memberlist_destroy(p->ml);
  p->ml = NULL;
  p->frees_in_cb = LOAD(p->owner->frees);
  STORE(p->done, 1);
}
static int probe_done(void *arg) { return LOAD(((cb_probe_t *)arg)->done); }

/* A callback on the loop thread (one that answers, here get_broadcasts): blocking calls return
 * ML_ERR_IN_CALLBACK instead of deadlocking; snapshots answer; shutdown works (memberlist allows
 * Shutdown from any delegate) and completes right after the callback. */
typedef struct {
  ml_memberlist_t *ml; /* atomic: set by the test thread, read on the loop */
  int join_rc, leave_rc, members_rc, shutdown_rc, done;
} loop_probe_t;
static void probing_broadcasts(void *user, size_t overhead, size_t limit,
                               void (*emit)(void *ctx, const uint8_t *msg, size_t len), void *ctx) {
  loop_probe_t *p = (loop_probe_t *)user;
  ml_members_t *list = NULL;
  const char *addr = "127.0.0.1:1";
  ml_memberlist_t *ml = LOAD(p->ml);
  (void)overhead;
  (void)limit;
  (void)emit;
  (void)ctx;
  if (ml == NULL || LOAD(p->done)) return;
  p->join_rc = ml_memberlist_join(ml, &addr, 1, NULL, NULL, 0);
  p->leave_rc = ml_memberlist_leave(ml, 10);
  p->members_rc = ml_memberlist_members(ml, &list);
  ml_members_destroy(list);
  p->shutdown_rc = ml_memberlist_shutdown(ml);
  STORE(p->done, 1);
}
static int loop_probe_done(void *arg) { return LOAD(((loop_probe_t *)arg)->done); }

static void test_node_errors(void **state) {
  node_t a, b;
  ml_config_t *cfg;
  char err[256];
  const char *bad_addrs[2] = {"not an address", "127.0.0.1:1"};
  int contacted = 5;
  uint8_t big[600];
  (void)state;

  start_node(&a, NULL, fast_config(&a, 0, NULL));
  start_node(&b, NULL, fast_config(&b, 1, NULL));

  /* Join failures: unparsable, unreachable. */
  err[0] = '\0';
  assert_int_equal(ml_memberlist_join(a.ml, bad_addrs, 1, &contacted, err, sizeof err), ML_ERR_JOIN_FAILED);
  assert_int_equal(contacted, 0);
  assert_non_null(strstr(err, "not an address"));
  assert_int_equal(ml_memberlist_join(a.ml, bad_addrs, 2, &contacted, err, sizeof err), ML_ERR_JOIN_FAILED);
  assert_int_equal(ml_memberlist_join(a.ml, NULL, 1, NULL, NULL, 0), ML_ERR_INVALID_ARGUMENT);
  join_node(&b, &a); /* still works */

  /* Unknown member, NULL arguments. */
  assert_int_equal(ml_memberlist_send_best_effort(a.ml, "nobody", (const uint8_t *)"x", 1), ML_ERR_NOT_FOUND);
  assert_int_equal(ml_memberlist_send_reliable(a.ml, "nobody", (const uint8_t *)"x", 1), ML_ERR_NOT_FOUND);
  assert_int_equal(ml_memberlist_send_best_effort(a.ml, NULL, (const uint8_t *)"x", 1), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_send_best_effort(a.ml, "node-1", NULL, 1), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_send_to_address(a.ml, "garbage", (const uint8_t *)"x", 1), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_send_reliable_to_address(a.ml, "garbage", (const uint8_t *)"x", 1),
                   ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_send_reliable_to_address(a.ml, NULL, (const uint8_t *)"x", 1), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_metrics(a.ml, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_metric_samples(a.ml, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_metric_samples(NULL, NULL, NULL), ML_ERR_INVALID_ARGUMENT);

  /* Metadata over 512 bytes. */
  memset(big, 'm', sizeof big);
  memcpy(a.meta, big, sizeof big);
  a.meta_len = 600;
  assert_int_equal(ml_memberlist_update_node(a.ml, 1000), ML_ERR_TOO_LARGE);
  a.meta_len = 3;
  assert_int_equal(ml_memberlist_update_node(a.ml, scaled_ms(5000)), ML_OK);

  /* Node still works: a reliable message goes through. */
  assert_int_equal(ml_memberlist_send_reliable(a.ml, "node-1", (const uint8_t *)"rl:ok", 5), ML_OK);
  {
    members_cond_t c;
    c.nodes = &a;
    c.count = 1;
    c.expected = 2;
    assert_true(wait_until(all_see, &c, 10000));
  }

  /* Shutdown, then: every operation is ML_ERR_CLOSED; shutdown is idempotent. */
  assert_int_equal(ml_memberlist_shutdown(b.ml), ML_OK);
  assert_int_equal(ml_memberlist_shutdown(b.ml), ML_OK);
  assert_int_equal(ml_memberlist_join(b.ml, (const char *const *)&a.addr, 0, NULL, NULL, 0), ML_ERR_CLOSED);
  assert_int_equal(ml_memberlist_leave(b.ml, 10), ML_ERR_CLOSED);
  assert_int_equal(ml_memberlist_update_node(b.ml, 10), ML_ERR_CLOSED);
  assert_int_equal(ml_memberlist_send_best_effort(b.ml, "node-0", (const uint8_t *)"x", 1), ML_ERR_CLOSED);
  assert_int_equal(ml_memberlist_send_reliable(b.ml, "node-0", (const uint8_t *)"x", 1), ML_ERR_CLOSED);
  assert_int_equal(ml_memberlist_queue_broadcast(b.ml, NULL, (const uint8_t *)"x", 1), ML_ERR_CLOSED);
  assert_int_equal(ml_memberlist_ping(b.ml, "node-0", a.addr, NULL), ML_ERR_CLOSED);
  stop_node(&b);

  /* a keeps working after b's misuse. */
  assert_int_equal(ml_memberlist_queue_broadcast(a.ml, "n", (const uint8_t *)"x", 1), ML_OK);
  stop_node(&a);

  /* create with an invalid configuration. */
  cfg = fast_config(&a, 2, NULL);
  assert_int_equal(ml_config_set(cfg, "delegate_protocol_min", "3", err, sizeof err), ML_OK);
  assert_int_equal(ml_config_set(cfg, "delegate_protocol_max", "2", err, sizeof err), ML_OK);
  err[0] = '\0';
  assert_int_equal(ml_memberlist_create(&a.ml, NULL, cfg, err, sizeof err), ML_ERR_INVALID_CONFIG);
  assert_null(a.ml);
  assert_true(strlen(err) > 0);
  ml_config_destroy(cfg);
  assert_int_equal(LOAD(a.frees), 2); /* registrations stayed with the config */
}

static int frees_are_two(void *arg) { return LOAD(((node_t *)arg)->frees) == 2; }

static void test_notification_may_shut_down(void **state) {
  node_t a, b;
  ml_config_t *cfg;
  cb_probe_t probe;
  ml_runtime_t *rt = NULL;
  static const ml_delegate_t delegate = {NULL, probing_msg, NULL, NULL, NULL};
  (void)state;
  memset(&probe, 0, sizeof probe);
  probe.owner = &b;

  start_node(&a, NULL, fast_config(&a, 0, NULL));
  cfg = fast_config(&b, 1, NULL);
  assert_int_equal(ml_config_set_delegate(cfg, &delegate, &probe, NULL), ML_OK); /* replaces: frees once */
  assert_int_equal(LOAD(b.frees), 1);
  {
    char err[128];
    assert_int_equal(ml_runtime_create(&rt, err, sizeof err), ML_OK);
  }
  start_node(&b, rt, cfg);
  probe.ml = b.ml;
  join_node(&a, &b);
  assert_int_equal(ml_memberlist_send_reliable(a.ml, "node-1", (const uint8_t *)"rl:probe", 8), ML_OK);
  assert_true(wait_until(probe_done, &probe, 10000));
  assert_int_equal(probe.members_rc, ML_OK);
  assert_true(probe.leave_rc == ML_OK || probe.leave_rc == ML_ERR_TIMEOUT);
  assert_int_equal(probe.shutdown_rc, ML_OK);
  assert_int_equal(probe.members_after_rc, ML_OK);
  assert_int_equal(probe.destroy_rc, ML_OK);
  assert_int_equal(probe.frees_in_cb, 1); /* not freed under the callback that destroyed it */
  assert_true(wait_until(frees_are_two, &b, 10000)); /* freed once it returned */
  b.ml = NULL;
  assert_int_equal(ml_runtime_destroy(rt), ML_OK);
  assert_int_equal(LOAD(b.frees), 2);
  stop_node(&a);
}

static void test_loop_callback_may_not_block(void **state) {
  node_t a, b;
  ml_config_t *cfg;
  loop_probe_t probe;
  static const ml_delegate_t delegate = {NULL, NULL, probing_broadcasts, NULL, NULL};
  (void)state;
  memset(&probe, 0, sizeof probe);

  start_node(&a, NULL, fast_config(&a, 0, NULL));
  cfg = fast_config(&b, 1, NULL);
  assert_int_equal(ml_config_set_delegate(cfg, &delegate, &probe, NULL), ML_OK);
  start_node(&b, NULL, cfg);
  join_node(&a, &b);
  STORE(probe.ml, b.ml); /* from here on the next gossip or probe of b asks for broadcasts */
  assert_true(wait_until(loop_probe_done, &probe, 10000));
  assert_int_equal(probe.join_rc, ML_ERR_IN_CALLBACK);
  assert_int_equal(probe.leave_rc, ML_ERR_IN_CALLBACK);
  assert_int_equal(probe.members_rc, ML_OK);
  assert_int_equal(probe.shutdown_rc, ML_OK);
  assert_int_equal(ml_memberlist_send_best_effort(b.ml, "node-0", (const uint8_t *)"x", 1), ML_ERR_CLOSED);
  stop_node(&b);
  stop_node(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_errors),
      cmocka_unit_test(test_registration_replaced_and_destroyed),
      cmocka_unit_test(test_config_registrations_single_use),
      cmocka_unit_test(test_handles_null),
      cmocka_unit_test(test_node_errors),
      cmocka_unit_test(test_notification_may_shut_down),
      cmocka_unit_test(test_loop_callback_may_not_block),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
