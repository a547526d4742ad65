/* The remaining registrations: merge (refusing a join, text reported), alive, conflict-free
 * ping with ack payloads, local/remote state on push/pull, user broadcasts (queued through the
 * node and handed out by get_broadcasts), metrics, log (registration only), the TCP-ping policy
 * (DisableTcpPingsForNode). */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

typedef struct {
  int merges, alives, pings, remote_states, local_states, broadcasts_seen, frees;
  int tcp_asked; /* the TCP-ping policy asked about node-1 */
  int refuse_merge;
  int gave_broadcast;
} extra_t;

static int on_merge(void *user, const ml_members_t *peers, char *errbuf, size_t errbuf_size) {
  extra_t *x = (extra_t *)user;
  ADD(x->merges, 1);
  if (ml_members_count(peers) == 0) return 1;
  if (LOAD(x->refuse_merge)) {
    snprintf(errbuf, errbuf_size, "merge refused: peers=%u", (unsigned)ml_members_count(peers));
    return 1;
  }
  return 0;
}
static int on_alive(void *user, const ml_member_t *peer) {
  (void)peer;
  ADD(((extra_t *)user)->alives, 1);
  return 0;
}
static size_t on_ack_payload(void *user, uint8_t *buf, size_t limit) {
  (void)user;
  if (limit < 4) return 0;
  memcpy(buf, "pong", 4);
  return 4;
}
static void on_ping_complete(void *user, const ml_member_t *other, int64_t rtt_ns, const uint8_t *payload, size_t len) {
  (void)other;
  (void)rtt_ns;
  if (len == 4 && memcmp(payload, "pong", 4) == 0) ADD(((extra_t *)user)->pings, 1);
}
/* DisableTcpPingsForNode: never a TCP ping. */
static int on_tcp_pings(void *user, const char *node) {
  if (strcmp(node, "node-1") == 0) ADD(((extra_t *)user)->tcp_asked, 1);
  return 1;
}
static void on_local_state(void *user, int join, void (*emit)(void *ctx, const uint8_t *buf, size_t len), void *ctx) {
  (void)join;
  ADD(((extra_t *)user)->local_states, 1);
  emit(ctx, (const uint8_t *)"state", 5);
  emit(ctx, (const uint8_t *)"ignored", 7); /* at most once */
}
static void on_merge_remote(void *user, const uint8_t *buf, size_t len, int join) {
  (void)join;
  if (len == 5 && memcmp(buf, "state", 5) == 0) ADD(((extra_t *)user)->remote_states, 1);
}
static void on_get_broadcasts(void *user, size_t overhead, size_t limit,
                              void (*emit)(void *ctx, const uint8_t *msg, size_t len), void *ctx) {
  extra_t *x = (extra_t *)user;
  (void)overhead;
  if (limit > 16 && LOAD(x->gave_broadcast) < 3) {
    ADD(x->gave_broadcast, 1);
    emit(ctx, (const uint8_t *)"bc:delegate", 11);
  }
}
static void on_extra_msg(void *user, const uint8_t *msg, size_t len) {
  if (len >= 3 && memcmp(msg, "bc:", 3) == 0) ADD(((extra_t *)user)->broadcasts_seen, 1);
}
static void on_log(void *user, ml_log_level_t level, const char *msg) {
  (void)user;
  (void)level;
  (void)msg;
}
static void on_extra_free(void *user) { ADD(((extra_t *)user)->frees, 1); }

static void on_metric(void *ctx, const char *name, double value) {
  (void)value;
  if (strcmp(name, "memberlist.udp.sent") == 0) ADD(*(int *)ctx, 1);
}

/* Per-event samples: [0] gossip timers, [1] probe timers, [2] local state sizes, [3] others or
 * out-of-range values. */
static void on_sample(void *ctx, const char *name, double value) {
  int *seen = (int *)ctx;
  if (strcmp(name, "memberlist.gossip") == 0 && value >= 0) {
    seen[0]++;
  } else if (strcmp(name, "memberlist.probeNode") == 0 && value >= 0 && value < 60000) {
    seen[1]++;
  } else if (strcmp(name, "memberlist.size.local") == 0 && value > 0) {
    seen[2]++;
  } else if (strcmp(name, "memberlist.pushPullNode") != 0) {
    seen[3]++;
  }
}

typedef struct sample_poll {
  ml_memberlist_t *ml;
  int seen[4];
} sample_poll_t;
/* Drains a's samples into the tally; done when gossip, probe and size samples have all come. */
static int samples_complete(void *arg) {
  sample_poll_t *p = (sample_poll_t *)arg;
  if (ml_memberlist_metric_samples(p->ml, on_sample, p->seen) != ML_OK) return 0;
  return p->seen[0] > 0 && p->seen[1] > 0 && p->seen[2] > 0;
}

static ml_config_t *delegate_config(node_t *n, int index, extra_t *x) {
  static const ml_ping_delegate_t ping = {on_ack_payload, on_ping_complete};
  static const ml_delegate_t delegate = {NULL, on_extra_msg, on_get_broadcasts, on_local_state, on_merge_remote};
  ml_config_t *cfg = fast_config(n, index, NULL);
  assert_int_equal(ml_config_set_delegate(cfg, &delegate, x, on_extra_free), ML_OK); /* replaces n's */
  assert_int_equal(ml_config_set_merge(cfg, on_merge, x, on_extra_free), ML_OK);
  assert_int_equal(ml_config_set_alive(cfg, on_alive, x, on_extra_free), ML_OK);
  assert_int_equal(ml_config_set_ping(cfg, &ping, x, on_extra_free), ML_OK);
  assert_int_equal(ml_config_set_log(cfg, ML_LOG_DEBUG, on_log, x, on_extra_free), ML_OK);
  assert_int_equal(ml_config_set_disable_tcp_pings_for_node(cfg, on_tcp_pings, x, on_extra_free), ML_OK);
  assert_int_equal(ml_config_set_disable_tcp_pings_for_node(cfg, NULL, x, on_extra_free), ML_ERR_INVALID_ARGUMENT);
  return cfg;
}

typedef struct {
  int *counter;
  int value;
} at_least_t;
static int at_least(void *arg) {
  at_least_t *a = (at_least_t *)arg;
  return LOAD(*a->counter) >= a->value;
}
static void wait_at_least(int *counter, int value) {
  at_least_t a;
  a.counter = counter;
  a.value = value;
  assert_true(wait_until(at_least, &a, 10000));
}

static void test_delegates(void **state) {
  node_t a, b;
  extra_t xa, xb;
  char err[512];
  const char *addrs[1];
  int contacted = 0, udp = 0, asked;
  int64_t rtt = 0;
  (void)state;
  memset(&xa, 0, sizeof xa);
  memset(&xb, 0, sizeof xb);

  start_node(&a, NULL, delegate_config(&a, 0, &xa));
  start_node(&b, NULL, delegate_config(&b, 1, &xb));
  assert_int_equal(LOAD(a.frees), 1); /* fast_config's delegate registration, replaced */

  /* b refuses to merge what a sends back: the join fails with b's text. */
  STORE(xb.refuse_merge, 1);
  addrs[0] = a.addr;
  err[0] = '\0';
  assert_int_equal(ml_memberlist_join(b.ml, addrs, 1, &contacted, err, sizeof err), ML_ERR_JOIN_FAILED);
  assert_non_null(strstr(err, "merge refused"));
  STORE(xb.refuse_merge, 0);
  assert_int_equal(ml_memberlist_join(b.ml, addrs, 1, &contacted, err, sizeof err), ML_OK);
  assert_int_equal(contacted, 1);
  assert_true(LOAD(xb.merges) >= 2);
  wait_at_least(&xa.remote_states, 1);
  wait_at_least(&xb.remote_states, 1);
  wait_at_least(&xb.alives, 1);

  /* Broadcasts: queued through the node, and from get_broadcasts. */
  assert_int_equal(ml_memberlist_queue_broadcast(a.ml, "k", (const uint8_t *)"bc:queued", 9), ML_OK);
  wait_at_least(&xb.broadcasts_seen, 1);

  /* Ping with an ack payload. */
  assert_int_equal(ml_memberlist_ping(b.ml, "node-0", a.addr, &rtt), ML_OK);
  assert_true(rtt > 0);
  wait_at_least(&xb.pings, 1); /* b's probes of a carry a's payload */

  assert_int_equal(ml_memberlist_metrics(a.ml, on_metric, &udp), ML_OK);
  assert_int_equal(udp, 1);
  {
    /* a answered b's joins (its local state went out), and gossips and probes b periodically. */
    sample_poll_t poll = {a.ml, {0, 0, 0, 0}};
    assert_true(wait_until(samples_complete, &poll, 10000));
    assert_int_equal(poll.seen[3], 0);
  }
  assert_true(ml_memberlist_health_score(a.ml) >= 0);

  /* b stops without leaving: a's probes of b get no direct ack, and a's TCP-ping policy is asked
   * about b (and says no TCP ping). */
  asked = LOAD(xa.tcp_asked); /* under load a live b may have missed a direct probe already */
  stop_node_frees(&b, 2);     /* the replaced delegate + events */
  wait_at_least(&xa.tcp_asked, asked + 1);
  stop_node_frees(&a, 2);
  /* delegate, merge, alive, ping, log, tcp pings; after any notification still running */
  wait_count(&xa.frees, 6, 10000);
  wait_count(&xb.frees, 6, 10000);
  assert_int_equal(LOAD(xa.frees), 6);
  assert_int_equal(LOAD(xb.frees), 6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delegates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
