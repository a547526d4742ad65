/* The TCP-only transport through the public header (config key "tcp_only"; docs/transport-tcp.md):
 * - the key defaults to false, takes true, and lets udp_buffer_size go past 65,507 (which
 *   without it is refused at create);
 * - a 3-node TCP-only cluster joins, carries best-effort messages (one of 100,000 bytes, more than
 *   a UDP datagram holds) and reliable ones, and declares a stopped node dead;
 * - no UDP socket is bound: the node's port number is free for UDP. */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static ml_config_t *tcp_config(node_t *n, int index) {
  char err[256];
  ml_config_t *cfg = fast_config(n, index, NULL);
  assert_int_equal(ml_config_set(cfg, "tcp_only", "true", err, sizeof err), ML_OK);
  return cfg;
}

/* errno of binding a socket of `type` to ip:port (0: it bound, and is closed again). */
static int try_bind(int type, const char *ip, int port) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, type, 0), rc;
  assert_true(fd >= 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  rc = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : errno;
  close(fd);
  return rc;
}

typedef struct {
  int *counter;
  int value;
} at_least_t;
static int at_least(void *arg) {
  at_least_t *c = (at_least_t *)arg;
  return LOAD(*c->counter) >= c->value;
}

typedef struct {
  node_t *n;
  int about;
} dead_cond_t;
static int seen_dead(void *arg) {
  dead_cond_t *c = (dead_cond_t *)arg;
  return LOAD(c->n->leave_state[c->about]) == 1 + (int)ML_STATE_DEAD;
}

static void test_config_key(void **state) {
  ml_config_t *cfg;
  ml_memberlist_t *ml = NULL;
  node_t d;
  char err[512];
  (void)state;
  assert_int_equal(ml_config_create(&cfg, ML_PRESET_LAN), ML_OK);
  assert_int_equal(ml_config_get(cfg, "tcp_only", err, sizeof err, NULL), ML_OK);
  assert_string_equal(err, "false");
  assert_int_not_equal(ml_config_set(cfg, "tcp_only", "maybe", err, sizeof err), ML_OK);
  assert_int_equal(ml_config_get(cfg, "max_tcp_packet", err, sizeof err, NULL), ML_OK);
  assert_string_equal(err, "16777216");
  ml_config_destroy(cfg);

  /* dskit's UDPBufferSize of 10 MiB: refused over UDP, taken with tcp_only. */
  cfg = fast_config(&d, 47, NULL);
  assert_int_equal(ml_config_set(cfg, "udp_buffer_size", "10485760", err, sizeof err), ML_OK);
  err[0] = '\0';
  assert_int_equal(ml_memberlist_create(&ml, NULL, cfg, err, sizeof err), ML_ERR_INVALID_CONFIG);
  assert_non_null(strstr(err, "udp_buffer_size"));
  ml_config_destroy(cfg);
  cfg = tcp_config(&d, 47);
  assert_int_equal(ml_config_set(cfg, "udp_buffer_size", "10485760", err, sizeof err), ML_OK);
  start_node(&d, NULL, cfg);
  stop_node(&d);
}

static void test_cluster(void **state) {
  node_t n[3];
  at_least_t c;
  dead_cond_t dc;
  char ip[64], big[100000];
  int i, port;
  (void)state;
  for (i = 0; i < 3; ++i) start_node(&n[i], NULL, tcp_config(&n[i], 40 + i));
  /* No UDP socket: the same port number binds for UDP, not for TCP. */
  snprintf(ip, sizeof ip, "%s", n[0].addr);
  *strchr(ip, ':') = '\0';
  port = atoi(strchr(n[0].addr, ':') + 1);
  assert_int_equal(try_bind(SOCK_DGRAM, ip, port), 0);
  assert_int_equal(try_bind(SOCK_STREAM, ip, port), EADDRINUSE);

  join_node(&n[1], &n[0]);
  join_node(&n[2], &n[0]);
  assert_true(wait_all_see(n, 3, 3, 15000));

  assert_int_equal(ml_memberlist_send_best_effort(n[0].ml, "node-41", (const uint8_t *)"be:hi", 5), ML_OK);
  memset(big, 'x', sizeof big);
  memcpy(big, "be:", 3);
  assert_int_equal(ml_memberlist_send_best_effort(n[0].ml, "node-42", (const uint8_t *)big, sizeof big), ML_OK);
  assert_int_equal(ml_memberlist_send_reliable(n[2].ml, "node-40", (const uint8_t *)"rl:hi", 5), ML_OK);
  c.counter = &n[1].best_effort_msgs;
  c.value = 1;
  assert_true(wait_until(at_least, &c, 10000));
  c.counter = &n[2].best_effort_msgs;
  assert_true(wait_until(at_least, &c, 10000));
  c.counter = &n[0].reliable_msgs;
  assert_true(wait_until(at_least, &c, 10000));

  /* A stopped node is declared dead by the other two. */
  stop_node(&n[2]);
  dc.about = 42;
  for (i = 0; i < 2; ++i) {
    dc.n = &n[i];
    assert_true(wait_until(seen_dead, &dc, 20000));
  }
  assert_true(wait_all_see(n, 2, 2, 15000));
  stop_node(&n[1]);
  stop_node(&n[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_key),
      cmocka_unit_test(test_cluster),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
