/* The external transport: three memberlists that open no socket, joined through an in-process
 * "network" the test implements with the ml_transport_t callbacks and the four inputs
 * (deliver_packet, accept_stream, stream_data, stream_end). They advertise addresses that exist
 * nowhere (10.99.0.x), so any byte that reached a real socket would be lost. Join, user messages
 * both ways (best effort and reliable), a killed node becomes dead, a leaving node left; plus the
 * misuse errors of the external-transport API. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "helpers.h"

#define NET_NODES 3
#define MAX_STREAMS 512

/* The network. Every callback runs on some memberlist's loop thread; the table is guarded by
 * g_mu, which is held while calling the inputs (they only queue work, so this cannot deadlock)
 * and never while the test thread shuts a memberlist down. */
typedef struct {
  int used;
  int a, b;          /* dialer and acceptor (node indexes) */
  uint64_t aid, bid; /* their stream ids */
  int a_open, b_open;
} stream_pair_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static ml_memberlist_t *g_ml[NET_NODES];
static char g_addr[NET_NODES][32];
static stream_pair_t g_streams[MAX_STREAMS];
static int g_packets, g_streams_opened, g_refused, g_transport_frees;
static int g_contract_broken; /* callbacks cannot assert (not the test thread): they count */
static int g_muted = -1;      /* a node whose datagrams are lost and whose streams are refused */
static int g_index[NET_NODES] = {0, 1, 2};

static int find_node(const char *addr) {
  int i;
  for (i = 0; i < NET_NODES; ++i) {
    if (g_ml[i] != NULL && strcmp(g_addr[i], addr) == 0) return i;
  }
  return -1;
}

static void maybe_free(stream_pair_t *p) {
  if (!p->a_open && !p->b_open) p->used = 0;
}

static void t_send_packet(void *user, const char *addr, const char *name, const uint8_t *data, size_t len) {
  int from = *(int *)user, to;
  (void)name;
  pthread_mutex_lock(&g_mu);
  to = find_node(addr);
  if (to >= 0 && g_ml[from] != NULL && from != LOAD(g_muted)) {
    ADD(g_packets, 1);
    (void)ml_memberlist_deliver_packet(g_ml[to], g_addr[from], data, len);
  }
  pthread_mutex_unlock(&g_mu);
}

static void t_open_stream(void *user, uint64_t id, const char *addr, const char *name, int64_t timeout_ms,
                          const uint8_t *data, size_t len, int expect_reply) {
  int from = *(int *)user, to, i;
  stream_pair_t *p = NULL;
  (void)name;
  if (timeout_ms <= 0) ADD(g_contract_broken, 1);
  pthread_mutex_lock(&g_mu);
  to = find_node(addr);
  for (i = 0; i < MAX_STREAMS && to >= 0; ++i) {
    if (!g_streams[i].used) {
      p = &g_streams[i];
      break;
    }
  }
  if (g_ml[from] == NULL) {
    /* Our own memberlist is being shut down: it closes the stream itself. */
  } else if (p == NULL || from == LOAD(g_muted) || to == LOAD(g_muted)) {
    ADD(g_refused, 1);
    (void)ml_memberlist_stream_end(g_ml[from], id, "connection refused");
  } else {
    memset(p, 0, sizeof *p);
    p->used = 1;
    p->a = from;
    p->aid = id;
    p->b = to;
    p->a_open = 1;
    if (ml_memberlist_accept_stream(g_ml[to], g_addr[from], &p->bid) == ML_OK) {
      p->b_open = 1;
      ADD(g_streams_opened, 1);
      (void)ml_memberlist_stream_data(g_ml[to], p->bid, data, len);
      if (!expect_reply) {
        /* Written; the dialer then closes its side, which the acceptor reads as EOF. */
        (void)ml_memberlist_stream_end(g_ml[from], id, NULL);
        (void)ml_memberlist_stream_end(g_ml[to], p->bid, NULL);
      }
    } else {
      (void)ml_memberlist_stream_end(g_ml[from], id, "connection refused");
    }
  }
  pthread_mutex_unlock(&g_mu);
}

/* Finds the pair where node `self` holds stream `id`; *dialer = 1 when it is the dialer's end. */
static stream_pair_t *find_stream(int self, uint64_t id, int *dialer) {
  int i;
  for (i = 0; i < MAX_STREAMS; ++i) {
    stream_pair_t *p = &g_streams[i];
    if (!p->used) continue;
    if (p->a == self && p->aid == id && p->a_open) {
      *dialer = 1;
      return p;
    }
    if (p->b == self && p->bid == id && p->b_open) {
      *dialer = 0;
      return p;
    }
  }
  return NULL;
}

static void t_reply_stream(void *user, uint64_t id, const uint8_t *data, size_t len) {
  int self = *(int *)user, dialer = 0;
  stream_pair_t *p;
  pthread_mutex_lock(&g_mu);
  p = find_stream(self, id, &dialer);
  if (p != NULL && dialer) ADD(g_contract_broken, 1); /* only inbound streams are answered */
  if (p != NULL) {
    p->b_open = 0;
    if (p->a_open && g_ml[p->a] != NULL) {
      if (len > 0) (void)ml_memberlist_stream_data(g_ml[p->a], p->aid, data, len);
      (void)ml_memberlist_stream_end(g_ml[p->a], p->aid, NULL);
    }
    maybe_free(p);
  }
  pthread_mutex_unlock(&g_mu);
}

static void t_close_stream(void *user, uint64_t id) {
  int self = *(int *)user, dialer = 0;
  stream_pair_t *p;
  pthread_mutex_lock(&g_mu);
  p = find_stream(self, id, &dialer);
  if (p != NULL) {
    /* The other end reads EOF. */
    if (dialer) {
      p->a_open = 0;
      if (p->b_open && g_ml[p->b] != NULL) (void)ml_memberlist_stream_end(g_ml[p->b], p->bid, NULL);
    } else {
      p->b_open = 0;
      if (p->a_open && g_ml[p->a] != NULL) (void)ml_memberlist_stream_end(g_ml[p->a], p->aid, NULL);
    }
    maybe_free(p);
  }
  pthread_mutex_unlock(&g_mu);
}

static void t_free(void *user) {
  (void)user;
  ADD(g_transport_frees, 1);
}

static const ml_transport_t g_transport = {t_send_packet, t_open_stream, t_reply_stream, t_close_stream};

static ml_config_t *external_config(node_t *n, int i) {
  char buf[64], err[256];
  ml_config_t *cfg = fast_config(n, i, NULL);
  snprintf(buf, sizeof buf, "10.99.0.%d", i + 1);
  assert_int_equal(ml_config_set(cfg, "advertise_addr", buf, err, sizeof err), ML_OK);
  assert_int_equal(ml_config_set(cfg, "advertise_port", "7946", err, sizeof err), ML_OK);
  assert_int_equal(ml_config_set_transport(cfg, &g_transport, &g_index[i], t_free), ML_OK);
  return cfg;
}

/* Takes node i off the network (after its shutdown), then destroys it. */
static void unplug_and_stop(node_t *n) {
  assert_int_equal(ml_memberlist_shutdown(n->ml), ML_OK);
  pthread_mutex_lock(&g_mu);
  g_ml[n->index] = NULL;
  pthread_mutex_unlock(&g_mu);
  stop_node(n);
}

typedef struct {
  node_t *n;
  int about, state;
} left_cond_t;
static int left_seen(void *arg) {
  left_cond_t *c = (left_cond_t *)arg;
  return LOAD(c->n->leave_state[c->about]) == c->state;
}

static void test_three_nodes_external(void **state) {
  node_t nodes[NET_NODES];
  left_cond_t lc;
  ml_runtime_t *rt = NULL;
  char err[256];
  int i;
  (void)state;

  memset(g_streams, 0, sizeof g_streams);
  STORE(g_transport_frees, 0);
  /* node-0 and node-1 share a runtime, node-2 has its own: callbacks from two loop threads. */
  assert_int_equal(ml_runtime_create(&rt, err, sizeof err), ML_OK);
  for (i = 0; i < NET_NODES; ++i) {
    start_node(&nodes[i], i < 2 ? rt : NULL, external_config(&nodes[i], i));
    pthread_mutex_lock(&g_mu);
    g_ml[i] = nodes[i].ml;
    snprintf(g_addr[i], sizeof g_addr[i], "%s", nodes[i].addr);
    pthread_mutex_unlock(&g_mu);
  }
  assert_string_equal(nodes[0].addr, "10.99.0.1:7946");

  join_node(&nodes[1], &nodes[0]);
  join_node(&nodes[2], &nodes[1]);
  assert_true(wait_all_see(nodes, NET_NODES, NET_NODES, 15000));
  assert_true(LOAD(g_streams_opened) >= 2); /* the two joins */
  /* The joins' push/pulls alone can make everyone see everyone (a slow TSan run did); the
   * probes and gossip then go through send_packet. */
  wait_count(&g_packets, 1, 15000);

  /* User messages both ways, best effort (packets) and reliable (streams). */
  assert_int_equal(ml_memberlist_send_best_effort(nodes[0].ml, "node-2", (const uint8_t *)"be:a", 4), ML_OK);
  assert_int_equal(ml_memberlist_send_best_effort(nodes[2].ml, "node-0", (const uint8_t *)"be:b", 4), ML_OK);
  assert_int_equal(ml_memberlist_send_reliable(nodes[0].ml, "node-2", (const uint8_t *)"rl:a", 4), ML_OK);
  assert_int_equal(ml_memberlist_send_reliable(nodes[2].ml, "node-0", (const uint8_t *)"rl:b", 4), ML_OK);
  wait_count(&nodes[2].best_effort_msgs, 1, 15000);
  wait_count(&nodes[0].best_effort_msgs, 1, 15000);
  wait_count(&nodes[2].reliable_msgs, 1, 15000);
  wait_count(&nodes[0].reliable_msgs, 1, 15000);
  {
    int64_t rtt = 0;
    assert_int_equal(ml_memberlist_ping(nodes[1].ml, "node-2", nodes[2].addr, &rtt), ML_OK);
    assert_true(rtt > 0);
  }

  /* node-2 disappears from the network without leaving: the others declare it dead. */
  unplug_and_stop(&nodes[2]);
  for (i = 0; i < 2; ++i) {
    lc.n = &nodes[i];
    lc.about = 2;
    lc.state = 1 + ML_STATE_DEAD;
    assert_true(wait_until(left_seen, &lc, 15000));
  }

  /* node-1 leaves: node-0 sees it left. */
  assert_int_equal(ml_memberlist_leave(nodes[1].ml, scaled_ms(5000)), ML_OK);
  lc.n = &nodes[0];
  lc.about = 1;
  lc.state = 1 + ML_STATE_LEFT;
  assert_true(wait_until(left_seen, &lc, 15000));

  /* After shutdown the inputs say so. */
  assert_int_equal(ml_memberlist_shutdown(nodes[1].ml), ML_OK);
  assert_int_equal(ml_memberlist_deliver_packet(nodes[1].ml, "10.99.0.1:7946", (const uint8_t *)"x", 1),
                   ML_ERR_CLOSED);
  unplug_and_stop(&nodes[1]);
  unplug_and_stop(&nodes[0]);
  assert_int_equal(ml_runtime_destroy(rt), ML_OK);
  assert_int_equal(LOAD(g_transport_frees), NET_NODES);
  assert_int_equal(LOAD(g_contract_broken), 0);
}

/* WARN lines of node-2: set when it refutes an accusation. */
static int g_refuted;
static void on_log(void *user, ml_log_level_t level, const char *msg) {
  (void)user;
  if (level == ML_LOG_WARN && strstr(msg, "memberlist: Refuting a ") != NULL) STORE(g_refuted, 1);
}
static int refuted(void *arg) {
  (void)arg;
  return LOAD(g_refuted);
}
/* Every node sees node-2 alive. */
static int node2_alive_everywhere(void *arg) {
  node_t *nodes = (node_t *)arg;
  int i, ok = 1;
  for (i = 0; i < NET_NODES && ok; ++i) {
    ml_members_t *list = NULL;
    size_t j;
    int seen = 0;
    if (ml_memberlist_members(nodes[i].ml, &list) != ML_OK) return 0;
    for (j = 0; j < ml_members_count(list); ++j) {
      const ml_member_t *m = ml_members_get(list, j);
      if (strcmp(ml_member_name(m), "node-2") == 0) seen = ml_member_state(m) == ML_STATE_ALIVE;
    }
    ml_members_destroy(list);
    ok = seen;
  }
  return ok;
}

/* node-2's datagrams get lost and its streams refused, while it still hears the others: they
 * suspect it and gossip that to it, and it refutes (logged at WARN). Once heard again, it is
 * alive everywhere. */
static void test_refute_over_lossy_network(void **state) {
  node_t nodes[NET_NODES];
  int i;
  (void)state;

  memset(g_streams, 0, sizeof g_streams);
  STORE(g_refuted, 0);
  STORE(g_transport_frees, 0);
  for (i = 0; i < NET_NODES; ++i) {
    ml_config_t *cfg = external_config(&nodes[i], i);
    if (i == 2) assert_int_equal(ml_config_set_log(cfg, ML_LOG_WARN, on_log, NULL, NULL), ML_OK);
    start_node(&nodes[i], NULL, cfg);
    pthread_mutex_lock(&g_mu);
    g_ml[i] = nodes[i].ml;
    snprintf(g_addr[i], sizeof g_addr[i], "%s", nodes[i].addr);
    pthread_mutex_unlock(&g_mu);
  }
  join_node(&nodes[1], &nodes[0]);
  join_node(&nodes[2], &nodes[0]);
  assert_true(wait_all_see(nodes, NET_NODES, NET_NODES, 15000));

  STORE(g_muted, 2);
  assert_true(wait_until(refuted, NULL, 15000));
  STORE(g_muted, -1);
  /* Heard again: its refutation (a newer incarnation) makes it alive everywhere. */
  assert_true(wait_until(node2_alive_everywhere, nodes, 30000));
  assert_true(wait_all_see(nodes, NET_NODES, NET_NODES, 30000));

  for (i = NET_NODES - 1; i >= 0; --i) unplug_and_stop(&nodes[i]);
  assert_int_equal(LOAD(g_transport_frees), NET_NODES);
  assert_int_equal(LOAD(g_contract_broken), 0);
}

static void test_external_misuse(void **state) {
  node_t a, b;
  ml_config_t *cfg;
  char err[256];
  uint64_t id = 99;
  static const ml_transport_t incomplete = {t_send_packet, NULL, t_reply_stream, t_close_stream};
  (void)state;

  /* Every callback is required. */
  assert_int_equal(ml_config_create(&cfg, ML_PRESET_LOCAL), ML_OK);
  assert_int_equal(ml_config_set_transport(cfg, &incomplete, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_set_transport(cfg, NULL, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_set_transport(NULL, &g_transport, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  ml_config_destroy(cfg);

  /* External mode needs an advertise address. */
  STORE(g_transport_frees, 0);
  cfg = fast_config(&a, 0, NULL);
  assert_int_equal(ml_config_set_transport(cfg, &g_transport, &g_index[0], t_free), ML_OK);
  err[0] = '\0';
  assert_int_equal(ml_memberlist_create(&a.ml, NULL, cfg, err, sizeof err), ML_ERR_INVALID_CONFIG);
  assert_non_null(strstr(err, "advertise_addr"));
  assert_int_equal(ml_config_set(cfg, "advertise_addr", "some.host", err, sizeof err), ML_OK);
  assert_int_equal(ml_config_set(cfg, "advertise_port", "7946", err, sizeof err), ML_OK);
  assert_int_equal(ml_memberlist_create(&a.ml, NULL, cfg, err, sizeof err), ML_ERR_INVALID_CONFIG);
  ml_config_destroy(cfg);
  assert_int_equal(LOAD(g_transport_frees), 1);

  /* The inputs on a memberlist with its own sockets; NULLs; a bad source address. */
  start_node(&a, NULL, fast_config(&a, 0, NULL));
  assert_int_equal(ml_memberlist_deliver_packet(a.ml, "127.0.0.1:1", (const uint8_t *)"x", 1), ML_ERR_NOT_SUPPORTED);
  assert_int_equal(ml_memberlist_accept_stream(a.ml, "127.0.0.1:1", &id), ML_ERR_NOT_SUPPORTED);
  assert_int_equal(id, 0);
  assert_int_equal(ml_memberlist_stream_data(a.ml, 1, (const uint8_t *)"x", 1), ML_ERR_NOT_SUPPORTED);
  assert_int_equal(ml_memberlist_stream_end(a.ml, 1, NULL), ML_ERR_NOT_SUPPORTED);
  assert_int_equal(ml_memberlist_deliver_packet(NULL, "127.0.0.1:1", (const uint8_t *)"x", 1),
                   ML_ERR_INVALID_ARGUMENT);
  stop_node(&a);

  start_node(&b, NULL, external_config(&b, 1));
  assert_int_equal(ml_memberlist_deliver_packet(b.ml, NULL, (const uint8_t *)"x", 1), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_deliver_packet(b.ml, "nowhere", (const uint8_t *)"x", 1), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_accept_stream(b.ml, "10.0.0.1:1", NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_memberlist_stream_data(b.ml, 1, NULL, 3), ML_ERR_INVALID_ARGUMENT);
  /* Garbage, unknown ids and a stream that ends at once are dropped; the node keeps working. */
  assert_int_equal(ml_memberlist_deliver_packet(b.ml, "10.0.0.1:1", (const uint8_t *)"\xff\x00garbage", 9), ML_OK);
  assert_int_equal(ml_memberlist_stream_data(b.ml, 12345, (const uint8_t *)"x", 1), ML_OK);
  assert_int_equal(ml_memberlist_stream_end(b.ml, 12345, "reset"), ML_OK);
  assert_int_equal(ml_memberlist_accept_stream(b.ml, "10.0.0.1:1", &id), ML_OK);
  assert_true(id != 0);
  assert_int_equal(ml_memberlist_stream_data(b.ml, id, (const uint8_t *)"\xee\xee\xee", 3), ML_OK);
  assert_int_equal(ml_memberlist_stream_end(b.ml, id, NULL), ML_OK);
  assert_int_equal(ml_memberlist_num_members(b.ml), 1);
  assert_int_equal(ml_memberlist_update_node(b.ml, scaled_ms(5000)), ML_OK);
  unplug_and_stop(&b);
  assert_int_equal(LOAD(g_transport_frees), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_three_nodes_external),
      cmocka_unit_test(test_refute_over_lossy_network),
      cmocka_unit_test(test_external_misuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
