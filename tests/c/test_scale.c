/* Larger clusters.
 * - 32 nodes on 127.0.0.10-41, spread over 4 shared runtimes: join, converge, a metadata update
 *   reaches everyone, user messages both ways, a killed node (shutdown without leave) becomes
 *   dead everywhere, a leaving node left everywhere.
 * - 200 nodes on ONE shared runtime (one loop thread) join through one seed and converge: every
 *   node sees all 200 within 60 s. In a sanitizer build it is 50 nodes (ML_TEST_SANITIZED), as a
 *   longer deadline is not enough there: the one loop thread runs every node's probe, gossip and
 *   push/pull work, and under ThreadSanitizer 200 nodes need more than the whole thread (it runs
 *   at 100% CPU, and by the ~190th join the seed cannot answer a push/pull within 10 s). 50 nodes
 *   converge in a few seconds there, still dozens of nodes on one thread. ML_TEST_SCALE_NODES=n
 *   (2..200) overrides the count, e.g. to try 200 under a sanitizer. */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#ifdef ML_TEST_SANITIZED
#define ONE_RUNTIME_NODES 50
#else
#define ONE_RUNTIME_NODES 200
#endif
#define ONE_RUNTIME_MAX 200 /* 127.0.0.10 .. 127.0.0.209 */

static int one_runtime_nodes(void) {
  const char *env = getenv("ML_TEST_SCALE_NODES");
  int n = env != NULL ? atoi(env) : ONE_RUNTIME_NODES;
  if (n < 2 || n > ONE_RUNTIME_MAX) n = ONE_RUNTIME_NODES;
  return n;
}

typedef struct {
  node_t *nodes;
  int count;
  int skip; /* index not to check, or -1 */
  int about;
  int state; /* 1 + ml_state_t */
} all_leave_cond_t;

static int all_saw_leave(void *arg) {
  all_leave_cond_t *c = (all_leave_cond_t *)arg;
  int i;
  for (i = 0; i < c->count; ++i) {
    if (i == c->skip || c->nodes[i].ml == NULL) continue;
    if (LOAD(c->nodes[i].leave_state[c->about]) != c->state) return 0;
  }
  return 1;
}

/* Waits for all_saw_leave; on failure prints, for each node that disagrees, the state it has. */
static int wait_all_saw_leave(all_leave_cond_t *c, long long timeout_ms) {
  static const char *const names[] = {"none", "alive", "suspect", "dead", "left"};
  int i;
  if (wait_until(all_saw_leave, c, timeout_ms)) return 1;
  for (i = 0; i < c->count; ++i) {
    int st;
    if (i == c->skip || c->nodes[i].ml == NULL) continue;
    st = LOAD(c->nodes[i].leave_state[c->about]);
    if (st != c->state) {
      fprintf(stderr, "node-%d: last leave event about node-%d: %s (want %s)\n", i, c->about,
              st >= 0 && st <= 4 ? names[st] : "?", names[c->state]);
    }
  }
  return 0;
}

typedef struct {
  node_t *nodes;
  int count;
  const char *name;
  const char *meta;
} all_meta_cond_t;

static int all_see_meta(void *arg) {
  all_meta_cond_t *c = (all_meta_cond_t *)arg;
  int i;
  for (i = 0; i < c->count; ++i) {
    ml_members_t *list = NULL;
    size_t j, len = 0;
    int found = 0;
    if (c->nodes[i].ml == NULL) continue;
    if (ml_memberlist_members(c->nodes[i].ml, &list) != ML_OK) return 0;
    for (j = 0; j < ml_members_count(list); ++j) {
      const ml_member_t *m = ml_members_get(list, j);
      if (strcmp(ml_member_name(m), c->name) == 0) {
        const uint8_t *meta = ml_member_meta(m, &len);
        found = len == strlen(c->meta) && memcmp(meta, c->meta, len) == 0;
      }
    }
    ml_members_destroy(list);
    if (!found) return 0;
  }
  return 1;
}


static void test_32_nodes(void **state) {
  enum { N = 32, RUNTIMES = 4 };
  node_t *nodes = calloc(N, sizeof *nodes);
  ml_runtime_t *rts[RUNTIMES];
  members_cond_t all;
  all_leave_cond_t lc;
  all_meta_cond_t mc;
  char err[256];
  int i;
  (void)state;
  assert_non_null(nodes);

  for (i = 0; i < RUNTIMES; ++i) assert_int_equal(ml_runtime_create(&rts[i], err, sizeof err), ML_OK);
  for (i = 0; i < N; ++i) start_node(&nodes[i], rts[i % RUNTIMES], fast_config(&nodes[i], i, NULL));
  for (i = 1; i < N; ++i) join_node(&nodes[i], &nodes[i < 4 ? 0 : i / 2]);

  all.nodes = nodes;
  all.count = N;
  all.expected = N;
  assert_true(wait_until(all_see, &all, 30000));

  /* Metadata of node-7 reaches all 32. */
  memcpy(nodes[7].meta, "zone=b", 6);
  nodes[7].meta_len = 6;
  assert_int_equal(ml_memberlist_update_node(nodes[7].ml, scaled_ms(5000)), ML_OK);
  mc.nodes = nodes;
  mc.count = N;
  mc.name = "node-7";
  mc.meta = "zone=b";
  assert_true(wait_until(all_see_meta, &mc, 30000));

  /* User messages both ways between the first and the last node. */
  assert_int_equal(ml_memberlist_send_reliable(nodes[0].ml, "node-31", (const uint8_t *)"rl:0", 4), ML_OK);
  assert_int_equal(ml_memberlist_send_reliable(nodes[31].ml, "node-0", (const uint8_t *)"rl:31", 5), ML_OK);
  assert_int_equal(ml_memberlist_send_best_effort(nodes[0].ml, "node-31", (const uint8_t *)"be:0", 4), ML_OK);
  assert_int_equal(ml_memberlist_send_best_effort(nodes[31].ml, "node-0", (const uint8_t *)"be:31", 5), ML_OK);
  wait_count(&nodes[31].reliable_msgs, 1, 10000);
  wait_count(&nodes[0].reliable_msgs, 1, 10000);
  wait_count(&nodes[31].best_effort_msgs, 1, 10000);
  wait_count(&nodes[0].best_effort_msgs, 1, 10000);

  /* node-31 is killed: everyone else marks it dead. */
  assert_int_equal(ml_memberlist_shutdown(nodes[31].ml), ML_OK);
  lc.nodes = nodes;
  lc.count = N;
  lc.skip = 31;
  lc.about = 31;
  lc.state = 1 + ML_STATE_DEAD;
  assert_true(wait_all_saw_leave(&lc, 30000));

  /* node-30 leaves: everyone else marks it left. */
  assert_int_equal(ml_memberlist_leave(nodes[30].ml, scaled_ms(5000)), ML_OK);
  lc.skip = 30;
  lc.about = 30;
  lc.state = 1 + ML_STATE_LEFT;
  lc.count = 30; /* node-31 is gone */
  assert_true(wait_all_saw_leave(&lc, 30000));
  all.count = 30;
  all.expected = 30;
  assert_true(wait_until(all_see, &all, 30000));

  for (i = N - 1; i >= 0; --i) stop_node(&nodes[i]);
  for (i = 0; i < RUNTIMES; ++i) assert_int_equal(ml_runtime_destroy(rts[i]), ML_OK);
  free(nodes);
}

static void test_many_nodes_one_runtime(void **state) {
  const int N = one_runtime_nodes();
  node_t *nodes = calloc((size_t)N, sizeof *nodes);
  ml_runtime_t *rt = NULL;
  members_cond_t all;
  char err[256];
  long long start;
  int i;
  /* Calmer timers than fast_config: up to 200 nodes share one loop thread. The stream timeout
   * is long because the seed answers N - 1 push/pulls on that one thread, which under a
   * sanitizer can take more than the LOCAL preset's 1 s for one of them. */
  static const char *const kv[][2] = {
      {"probe_interval", "500ms"}, {"probe_timeout", "250ms"}, {"gossip_interval", "100ms"},
      {"suspicion_mult", "4"},     {"push_pull_interval", "1s"}, {"tcp_timeout", "10s"},
  };
  (void)state;
  assert_non_null(nodes);

  assert_int_equal(ml_runtime_create(&rt, err, sizeof err), ML_OK);
  /* As the Go package's shared runtimes do: the nodes' timers fire together on a 10 ms grid. */
  assert_int_equal(ml_runtime_set_timer_coalescing(rt, 10), ML_OK);
  for (i = 0; i < N; ++i) {
    ml_config_t *cfg = fast_config(&nodes[i], i, NULL);
    size_t k;
    for (k = 0; k < sizeof kv / sizeof kv[0]; ++k) {
      assert_int_equal(ml_config_set(cfg, kv[k][0], kv[k][1], err, sizeof err), ML_OK);
    }
    start_node(&nodes[i], rt, cfg);
  }
  start = now_ms();
  for (i = 1; i < N; ++i) join_node(&nodes[i], &nodes[0]);
  printf("%d joins took %lld ms\n", N - 1, now_ms() - start);

  /* The bound: every node sees all N within 60 s (scaled, see helpers.h) of the first join. */
  all.nodes = nodes;
  all.count = N;
  all.expected = N;
  assert_true(wait_until(all_see, &all, 60000));
  printf("%d nodes on one runtime converged %lld ms after the first join\n", N, now_ms() - start);

  for (i = N - 1; i >= 0; --i) stop_node(&nodes[i]);
  assert_int_equal(ml_runtime_destroy(rt), ML_OK);
  free(nodes);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_32_nodes),
      cmocka_unit_test(test_many_nodes_one_runtime),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
