/* Shared helpers for the C API tests: small nodes on 127.0.0.x with fast timers, event and
 * message counters, and a "wait until condition or deadline" loop. C99 + POSIX time. */
#ifndef ML_TEST_HELPERS_H
#define ML_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <memberlist/memberlist.h>

#define MAX_NODES 64 /* nodes whose events are tracked per peer (leave_state) */

/* Callbacks run on the loop thread while the test thread reads: counters use the compiler's
 * atomic builtins (no header needed). */
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define ADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

typedef struct node {
  ml_memberlist_t *ml;
  int index;
  char name[32];
  char addr[64]; /* "127.0.0.x:port" once started */
  int joins, leaves, updates;
  int leave_state[MAX_NODES]; /* 1 + ml_state_t of the last leave event about node-i */
  int best_effort_msgs, reliable_msgs;
  uint8_t meta[2048]; /* up to meta_max_size beyond 512 (test_features) */
  size_t meta_len; /* written by the test thread only while it waits in ml_memberlist_update_node */
  int frees;       /* user_free calls for this node's registrations */
} node_t;

static inline long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A sanitizer build (ML_TEST_SANITIZED, set by tests/c/CMakeLists.txt) runs several times
 * slower, valgrind even more (its tests set ML_TEST_TIMEOUT_SCALE=10). There the deadlines are
 * longer (scaled_ms), and so are fast_config's protocol timers: with 50 ms probe timeouts a slow
 * loop thread on a loaded machine misses acks, so nodes suspect healthy peers (and one that has
 * not yet heard a leave can mark the leaver dead, not left), and the LOCAL preset's 1 s stream
 * timeout cuts joins short. Scaling both by the same factor keeps every wait's margin, in
 * protocol periods, as in the normal build. */
#ifdef ML_TEST_SANITIZED
#define ML_TEST_SANITIZER_SCALE 3
#else
#define ML_TEST_SANITIZER_SCALE 1
#endif

/* Deadlines are stretched by ML_TEST_TIMEOUT_SCALE (a number >= 1; the valgrind tests set it) and
 * by ML_TEST_SANITIZER_SCALE. */
static inline long long scaled_ms(long long ms) {
  const char *env = getenv("ML_TEST_TIMEOUT_SCALE");
  double f = env != NULL ? atof(env) : 1.0;
  if (f < 1.0) f = 1.0;
  f *= ML_TEST_SANITIZER_SCALE;
  return (long long)((double)ms * f);
}

/* Polls cond(arg) every few milliseconds until it holds (1) or timeout_ms (scaled) passes (0). */
static inline int wait_until(int (*cond)(void *), void *arg, long long timeout_ms) {
  long long deadline = now_ms() + scaled_ms(timeout_ms);
  for (;;) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    if (cond(arg)) return 1;
    if (now_ms() > deadline) return 0;
    nanosleep(&ts, NULL);
  }
}

/* Waits until *counter (bumped by callbacks) reaches value, or fails the test. */
typedef struct {
  int *counter;
  int value;
} count_cond_t;
static inline int count_reached(void *arg) {
  count_cond_t *c = (count_cond_t *)arg;
  return LOAD(*c->counter) >= c->value;
}
static inline void wait_count(int *counter, int value, long long timeout_ms) {
  count_cond_t c;
  c.counter = counter;
  c.value = value;
  assert_true(wait_until(count_reached, &c, timeout_ms));
}

static inline int node_index_of(const char *name) {
  int i;
  if (strncmp(name, "node-", 5) != 0) return -1;
  i = atoi(name + 5);
  return i >= 0 && i < MAX_NODES ? i : -1;
}

static inline void on_event(void *user, ml_event_t ev, const ml_member_t *m) {
  node_t *n = (node_t *)user;
  int i;
  switch (ev) {
    case ML_EVENT_JOIN: ADD(n->joins, 1); break;
    case ML_EVENT_LEAVE:
      ADD(n->leaves, 1);
      i = node_index_of(ml_member_name(m));
      if (i >= 0) STORE(n->leave_state[i], 1 + (int)ml_member_state(m));
      break;
    case ML_EVENT_UPDATE: ADD(n->updates, 1); break;
  }
}

static inline size_t on_node_meta(void *user, uint8_t *buf, size_t limit) {
  node_t *n = (node_t *)user;
  size_t len = n->meta_len;
  memcpy(buf, n->meta, len < limit ? len : limit);
  return len;
}

static inline void on_msg(void *user, const uint8_t *msg, size_t len) {
  node_t *n = (node_t *)user;
  if (len >= 3 && memcmp(msg, "be:", 3) == 0) ADD(n->best_effort_msgs, 1);
  if (len >= 3 && memcmp(msg, "rl:", 3) == 0) ADD(n->reliable_msgs, 1);
}

static inline void on_free(void *user) { ADD(((node_t *)user)->frees, 1); }

/* A LOCAL-preset configuration with fast timers for node-<index> on 127.0.0.<10+index>:0. The
 * timers (and the stream timeout) are scaled as the deadlines are (scaled_ms). */
static inline ml_config_t *fast_config(node_t *n, int index, const char *secret_hex) {
  ml_config_t *cfg = NULL;
  char buf[64], err[256];
  static const char *const kv[][2] = {{"suspicion_mult", "2"}, {"bind_port", "0"}};
  static const struct {
    const char *key;
    int ms;
  } timers[] = {
      {"probe_interval", 100}, {"probe_timeout", 50}, {"gossip_interval", 20},
      {"push_pull_interval", 1000}, {"tcp_timeout", 1000},
  };
  size_t i;
  static const ml_delegate_t delegate = {on_node_meta, on_msg, NULL, NULL, NULL};

  memset(n, 0, sizeof *n);
  n->index = index;
  snprintf(n->name, sizeof n->name, "node-%d", index);
  assert_int_equal(ml_config_create(&cfg, ML_PRESET_LOCAL), ML_OK);
  for (i = 0; i < sizeof kv / sizeof kv[0]; ++i) {
    assert_int_equal(ml_config_set(cfg, kv[i][0], kv[i][1], err, sizeof err), ML_OK);
  }
  for (i = 0; i < sizeof timers / sizeof timers[0]; ++i) {
    snprintf(buf, sizeof buf, "%lldms", scaled_ms(timers[i].ms));
    assert_int_equal(ml_config_set(cfg, timers[i].key, buf, err, sizeof err), ML_OK);
  }
  assert_int_equal(ml_config_set(cfg, "name", n->name, err, sizeof err), ML_OK);
  snprintf(buf, sizeof buf, "127.0.0.%d", 10 + index);
  assert_int_equal(ml_config_set(cfg, "bind_addr", buf, err, sizeof err), ML_OK);
  if (secret_hex != NULL) assert_int_equal(ml_config_set(cfg, "secret_key", secret_hex, err, sizeof err), ML_OK);
  assert_int_equal(ml_config_set_events(cfg, on_event, n, on_free), ML_OK);
  assert_int_equal(ml_config_set_delegate(cfg, &delegate, n, on_free), ML_OK);
  return cfg;
}

/* Creates the node from cfg (then destroys cfg) and records its "ip:port". */
static inline void start_node(node_t *n, ml_runtime_t *rt, ml_config_t *cfg) {
  char err[256] = "";
  ml_members_t *local = NULL;
  ml_err_t rc = ml_memberlist_create(&n->ml, rt, cfg, err, sizeof err);
  if (rc != ML_OK) fprintf(stderr, "create %s: %s (%s)\n", n->name, ml_err_string(rc), err);
  assert_int_equal(rc, ML_OK);
  ml_config_destroy(cfg);
  assert_int_equal(ml_memberlist_local(n->ml, &local), ML_OK);
  assert_int_equal(ml_members_count(local), 1);
  assert_string_equal(ml_member_name(ml_members_get(local, 0)), n->name);
  assert_true(ml_member_port(ml_members_get(local, 0)) != 0);
  snprintf(n->addr, sizeof n->addr, "%s", ml_member_address(ml_members_get(local, 0)));
  ml_members_destroy(local);
}

static inline void join_node(node_t *n, const node_t *seed) {
  const char *addrs[1];
  char err[512] = "";
  int contacted = 0;
  ml_err_t rc;
  addrs[0] = seed->addr;
  rc = ml_memberlist_join(n->ml, addrs, 1, &contacted, err, sizeof err);
  if (rc != ML_OK) fprintf(stderr, "join %s -> %s: %s (%s)\n", n->name, seed->addr, ml_err_string(rc), err);
  assert_int_equal(rc, ML_OK);
  assert_int_equal(contacted, 1);
}

/* Shuts down and destroys; then n's registrations have seen user_free `frees` times in all. */
static inline void stop_node_frees(node_t *n, int frees) {
  if (n->ml == NULL) return;
  assert_int_equal(ml_memberlist_shutdown(n->ml), ML_OK);
  assert_int_equal(ml_memberlist_destroy(n->ml), ML_OK);
  n->ml = NULL;
  /* A notification in flight at shutdown finishes on its own thread; user_free follows it. */
  {
    count_cond_t c = {&n->frees, frees};
    assert_true(wait_until(count_reached, &c, 10000));
  }
  assert_int_equal(LOAD(n->frees), frees);
}
/* fast_config's two registrations (events + delegate): each user_free exactly once. */
static inline void stop_node(node_t *n) { stop_node_frees(n, 2); }

/* Conditions for wait_until. */
typedef struct {
  node_t *nodes;
  int count;    /* nodes to check */
  int expected; /* members each should see */
} members_cond_t;

static inline int all_see(void *arg) {
  members_cond_t *c = (members_cond_t *)arg;
  int i;
  for (i = 0; i < c->count; ++i) {
    if (c->nodes[i].ml == NULL) continue;
    if (ml_memberlist_num_members(c->nodes[i].ml) != c->expected) return 0;
  }
  return 1;
}

/* Waits (deadline scaled like wait_until) until nodes[0..count) each see `expected` members;
 * nodes already stopped (ml == NULL) are skipped. */
static inline int wait_all_see(node_t *nodes, int count, int expected, long long timeout_ms) {
  members_cond_t c;
  c.nodes = nodes;
  c.count = count;
  c.expected = expected;
  return wait_until(all_see, &c, timeout_ms);
}

#endif
