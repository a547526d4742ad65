/* Zone-aware gossip through the public header: ml_config_set_node_selection (grafana/memberlist's
 * NodeSelectionDelegate). Node 0 routes its gossip through a selector the test steers; probes and
 * periodic push/pull are turned off so that gossip is the only way node 0's metadata update can
 * travel:
 *  - the selector sees every member (itself included) as a candidate, with `selected` all 0;
 *  - selecting nobody sends nothing, and the update is not lost: it stays queued;
 *  - a preferred candidate gets it even though nothing is selected, and the others then hear it
 *    from that node;
 *  - a preferred index out of range is logged at error level and ignored; the node keeps going;
 *  - user_free runs once at destroy. */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#define NODES 4

typedef struct {
  int mode;      /* 0 all, 1 none, 2 none + prefer node-3, 3 none + preferred index out of range */
  int calls;
  int bad_entry; /* calls where `selected` was not all 0 on entry */
  int no_self;   /* calls whose candidates lacked node-0 */
  int max_candidates;
  int frees;
  int bad_index_logged;
} selector_t;

static int64_t on_select(void *user, const ml_members_t *cands, uint8_t *selected) {
  selector_t *s = (selector_t *)user;
  size_t i, n = ml_members_count(cands);
  int self = 0;
  int64_t preferred = -1;
  const int mode = LOAD(s->mode);
  for (i = 0; i < n; ++i) {
    const char *name = ml_member_name(ml_members_get(cands, i));
    if (selected[i] != 0) ADD(s->bad_entry, 1);
    if (strcmp(name, "node-0") == 0) self = 1;
    if (mode == 0) selected[i] = 1;
    if (mode == 2 && strcmp(name, "node-3") == 0) preferred = (int64_t)i;
  }
  if (mode == 3) preferred = 1000;
  if (!self) ADD(s->no_self, 1);
  if ((int)n > LOAD(s->max_candidates)) STORE(s->max_candidates, (int)n);
  ADD(s->calls, 1);
  return preferred;
}
static void on_selector_free(void *user) { ADD(((selector_t *)user)->frees, 1); }
static void on_log(void *user, ml_log_level_t level, const char *msg) {
  selector_t *s = (selector_t *)user;
  if (level == ML_LOG_ERROR && strstr(msg, "Node selection delegate named preferred candidate 1000 of 4") != NULL) {
    ADD(s->bad_index_logged, 1);
  }
}

typedef struct {
  node_t *nodes;
  int from, to, value;
} updates_cond_t;
static int updates_reached(void *arg) {
  updates_cond_t *c = (updates_cond_t *)arg;
  int i;
  for (i = c->from; i < c->to; ++i) {
    if (LOAD(c->nodes[i].updates) < c->value) return 0;
  }
  return 1;
}

static void update_meta(node_t *n, uint8_t v) {
  ml_err_t rc;
  n->meta[0] = v;
  n->meta_len = 1;
  /* The update waits for its broadcast to go out; with nobody selected it cannot: time out. */
  rc = ml_memberlist_update_node(n->ml, 100);
  assert_true(rc == ML_OK || rc == ML_ERR_TIMEOUT);
}

static void test_node_selection(void **state) {
  node_t nodes[NODES];
  selector_t sel;
  char err[256];
  int i, calls;
  updates_cond_t uc;
  count_cond_t cc;
  (void)state;
  memset(&sel, 0, sizeof sel);

  for (i = 0; i < NODES; ++i) {
    ml_config_t *cfg = fast_config(&nodes[i], i, NULL);
    /* Only gossip may carry node 0's update: no periodic push/pull, and no probes (pings and
     * acks piggyback broadcasts). */
    assert_int_equal(ml_config_set(cfg, "push_pull_interval", "0", err, sizeof err), ML_OK);
    assert_int_equal(ml_config_set(cfg, "probe_interval", "1h", err, sizeof err), ML_OK);
    /* With nothing to repair a missed rumor, every node sends it to every other (4 nodes, 3
     * gossip targets: the LOCAL preset's 2 transmissions would reach only 2 of them). */
    assert_int_equal(ml_config_set(cfg, "retransmit_mult", "8", err, sizeof err), ML_OK);
    if (i == 0) {
      assert_int_equal(ml_config_set_node_selection(cfg, NULL, &sel, on_selector_free), ML_ERR_INVALID_ARGUMENT);
      assert_int_equal(ml_config_set_node_selection(cfg, on_select, &sel, on_selector_free), ML_OK);
      assert_int_equal(ml_config_set_log(cfg, ML_LOG_ERROR, on_log, &sel, on_selector_free), ML_OK);
    }
    start_node(&nodes[i], NULL, cfg);
  }
  for (i = 1; i < NODES; ++i) join_node(&nodes[i], &nodes[0]);
  assert_true(wait_all_see(nodes, NODES, NODES, 10000));
  cc.counter = &sel.max_candidates; /* node 0 has gossiped since it knew everyone */
  cc.value = NODES;
  assert_true(wait_until(count_reached, &cc, 10000));
  assert_int_equal(LOAD(sel.max_candidates), NODES);
  assert_int_equal(LOAD(sel.bad_entry), 0);
  assert_int_equal(LOAD(sel.no_self), 0);

  /* Nobody selected: 20 more gossip rounds go by and nobody hears the update over gossip. */
  STORE(sel.mode, 1);
  calls = LOAD(sel.calls);
  update_meta(&nodes[0], 1);
  cc.counter = &sel.calls;
  cc.value = calls + 20;
  assert_true(wait_until(count_reached, &cc, 10000));
  for (i = 1; i < NODES; ++i) assert_int_equal(LOAD(nodes[i].updates), 0);

  /* Prefer node-3 (still nothing selected): node 3 gets it, then everyone from node 3. */
  STORE(sel.mode, 2);
  uc.nodes = nodes;
  uc.from = 1;
  uc.to = NODES;
  uc.value = 1;
  if (!wait_until(updates_reached, &uc, 10000)) {
    fprintf(stderr, "updates: %d %d %d\n", LOAD(nodes[1].updates), LOAD(nodes[2].updates), LOAD(nodes[3].updates));
    fail();
  }

  /* A preferred index out of range: logged, ignored, nothing breaks. */
  STORE(sel.mode, 3);
  cc.counter = &sel.bad_index_logged;
  cc.value = 1;
  assert_true(wait_until(count_reached, &cc, 10000));
  STORE(sel.mode, 0);
  update_meta(&nodes[0], 2);
  uc.value = 2;
  assert_true(wait_until(updates_reached, &uc, 10000));
  assert_true(wait_all_see(nodes, NODES, NODES, 10000));

  for (i = NODES - 1; i >= 1; --i) stop_node(&nodes[i]);
  stop_node(&nodes[0]);
  assert_int_equal(LOAD(sel.frees), 2); /* the selector's and the log's registration, once each */
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_node_selection)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
