/* The log callback (levels, min_level filtering, loop thread, user_free) and a malformed packet
 * sent from a raw UDP socket: logged as a drop, and the node keeps working. Also DNS names in
 * join ("localhost:PORT", "name/localhost:PORT"). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"

#define MAX_LINES 256

typedef struct {
  pthread_mutex_t mu;
  ml_log_level_t min;
  int count[4];
  int below_min; /* lines delivered below min_level: must stay 0 */
  int bad_level;
  int lines;
  char text[MAX_LINES][200];
  ml_log_level_t level[MAX_LINES];
  int frees;
} sink_t;

static void sink_init(sink_t *s, ml_log_level_t min) {
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->mu, NULL);
  s->min = min;
}

static void on_log(void *user, ml_log_level_t level, const char *msg) {
  sink_t *s = (sink_t *)user;
  pthread_mutex_lock(&s->mu);
  if ((int)level < 0 || (int)level > 3) {
    s->bad_level++;
  } else {
    s->count[level]++;
    if (level < s->min) s->below_min++;
  }
  if (s->lines < MAX_LINES) {
    snprintf(s->text[s->lines], sizeof s->text[0], "%s", msg);
    s->level[s->lines] = level;
    s->lines++;
  }
  pthread_mutex_unlock(&s->mu);
}
static void on_sink_free(void *user) { ADD(((sink_t *)user)->frees, 1); }

typedef struct {
  sink_t *s;
  const char *needle;
  ml_log_level_t at_least;
} line_cond_t;

static int has_line(void *arg) {
  line_cond_t *c = (line_cond_t *)arg;
  int i, found = 0;
  pthread_mutex_lock(&c->s->mu);
  for (i = 0; i < c->s->lines && !found; ++i) {
    found = strstr(c->s->text[i], c->needle) != NULL && c->s->level[i] >= c->at_least;
  }
  pthread_mutex_unlock(&c->s->mu);
  return found;
}

static void wait_line(sink_t *s, const char *needle, ml_log_level_t at_least) {
  line_cond_t c;
  c.s = s;
  c.needle = needle;
  c.at_least = at_least;
  if (!wait_until(has_line, &c, 10000)) {
    int i;
    fprintf(stderr, "no log line with '%s'; got:\n", needle);
    for (i = 0; i < s->lines; ++i) fprintf(stderr, "  %d %s\n", (int)s->level[i], s->text[i]);
    fail();
  }
}

/* Sends one datagram from a fresh UDP socket to "ip:port". */
static void send_raw(const char *addr, const void *data, size_t len) {
  char ip[64];
  const char *colon = strrchr(addr, ':');
  struct sockaddr_in sa;
  int fd;
  assert_non_null(colon);
  memcpy(ip, addr, (size_t)(colon - addr));
  ip[colon - addr] = '\0';
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)atoi(colon + 1));
  assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  assert_int_equal(sendto(fd, data, len, 0, (const struct sockaddr *)&sa, sizeof sa), (ssize_t)len);
  close(fd);
}

typedef struct {
  node_t *n;
  int value;
} msgs_cond_t;
static int reliable_reached(void *arg) {
  msgs_cond_t *c = (msgs_cond_t *)arg;
  return LOAD(c->n->reliable_msgs) >= c->value;
}

static void test_log_levels_and_malformed_packet(void **state) {
  node_t a, b;
  sink_t la, lb;
  ml_config_t *cfg;
  msgs_cond_t mc;
  /* An unknown message type; a compound (type 7) that claims more parts than it holds; a lone
   * byte that is a valid type with no body. */
  static const uint8_t junk1[] = {0xff, 'j', 'u', 'n', 'k'};
  static const uint8_t junk2[] = {7, 9, 0, 50};
  static const uint8_t junk3[] = {0};
  (void)state;

  sink_init(&la, ML_LOG_DEBUG);
  sink_init(&lb, ML_LOG_WARN);
  cfg = fast_config(&a, 0, NULL);
  assert_int_equal(ml_config_set_log(cfg, (ml_log_level_t)7, on_log, &la, NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_set_log(cfg, ML_LOG_DEBUG, NULL, &la, NULL), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_config_set_log(cfg, ML_LOG_DEBUG, on_log, &la, on_sink_free), ML_OK);
  start_node(&a, NULL, cfg);
  cfg = fast_config(&b, 1, NULL);
  assert_int_equal(ml_config_set_log(cfg, ML_LOG_WARN, on_log, &lb, on_sink_free), ML_OK);
  start_node(&b, NULL, cfg);

  /* b's join is a stream into a: a logs it at DEBUG; b, at WARN, sees nothing of the kind. */
  join_node(&b, &a);
  assert_true(wait_all_see(&a, 1, 2, 10000));
  wait_line(&la, "memberlist: Stream connection from=127.0.0.", ML_LOG_DEBUG);

  /* Malformed packets to b: each is dropped, logged at WARN or ERROR, and counted. */
  send_raw(b.addr, junk1, sizeof junk1);
  send_raw(b.addr, junk2, sizeof junk2);
  send_raw(b.addr, junk3, sizeof junk3);
  wait_line(&lb, "memberlist: Dropped a", ML_LOG_WARN);
  wait_line(&lb, "from=127.0.0.", ML_LOG_WARN);

  /* b keeps working: a reliable message and a metadata update go through. */
  assert_int_equal(ml_memberlist_send_reliable(a.ml, "node-1", (const uint8_t *)"rl:1", 4), ML_OK);
  mc.n = &b;
  mc.value = 1;
  assert_true(wait_until(reliable_reached, &mc, 10000));
  assert_int_equal(ml_memberlist_update_node(b.ml, scaled_ms(5000)), ML_OK);

  /* Kill a: b suspects it (INFO, filtered out for b) and declares it dead. */
  stop_node(&a);
  assert_true(wait_all_see(&b, 1, 1, 15000));
  stop_node(&b);

  wait_count(&la.frees, 1, 10000); /* after a log line still being delivered, if any */
  wait_count(&lb.frees, 1, 10000);
  assert_int_equal(LOAD(la.frees), 1);
  assert_int_equal(LOAD(lb.frees), 1);
  assert_int_equal(la.bad_level + lb.bad_level, 0);
  assert_int_equal(lb.below_min, 0);
  assert_int_equal(lb.count[ML_LOG_DEBUG] + lb.count[ML_LOG_INFO], 0);
  assert_true(la.count[ML_LOG_DEBUG] > 0);
  pthread_mutex_destroy(&la.mu);
  pthread_mutex_destroy(&lb.mu);
}

/* A killed peer is logged as memberlist does: first suspected, then marked failed (INFO). */
static void test_failure_logged(void **state) {
  node_t a, b;
  sink_t la;
  ml_config_t *cfg;
  (void)state;

  sink_init(&la, ML_LOG_INFO);
  cfg = fast_config(&a, 0, NULL);
  assert_int_equal(ml_config_set_log(cfg, ML_LOG_INFO, on_log, &la, on_sink_free), ML_OK);
  start_node(&a, NULL, cfg);
  start_node(&b, NULL, fast_config(&b, 1, NULL));
  join_node(&b, &a);
  assert_true(wait_all_see(&a, 1, 2, 10000));
  stop_node(&b);
  wait_line(&la, "memberlist: Suspect node-1 has failed, no acks received", ML_LOG_INFO);
  wait_line(&la, "memberlist: Marking node-1 as failed", ML_LOG_INFO);
  stop_node(&a);
  assert_int_equal(la.count[ML_LOG_DEBUG], 0);
  pthread_mutex_destroy(&la.mu);
}

static void test_join_dns_names(void **state) {
  node_t a, b;
  ml_config_t *cfg;
  char err[512], addr[96];
  const char *addrs[2];
  const char *port;
  int contacted = 0;
  (void)state;

  cfg = fast_config(&a, 0, NULL);
  assert_int_equal(ml_config_set(cfg, "bind_addr", "127.0.0.1", err, sizeof err), ML_OK);
  start_node(&a, NULL, cfg);
  start_node(&b, NULL, fast_config(&b, 1, NULL));
  port = strrchr(a.addr, ':') + 1;

  /* "localhost:PORT": resolved, every address contacted (127.0.0.1, and ::1 if it resolves). */
  snprintf(addr, sizeof addr, "localhost:%s", port);
  addrs[0] = addr;
  err[0] = '\0';
  assert_int_equal(ml_memberlist_join(b.ml, addrs, 1, &contacted, err, sizeof err), ML_OK);
  assert_true(contacted >= 1);
  assert_true(wait_all_see(&a, 1, 2, 10000));

  /* "name/localhost:PORT", next to an unresolvable entry: partial success names the bad one. */
  snprintf(addr, sizeof addr, "node-0/localhost:%s", port);
  addrs[0] = "bad host name!";
  addrs[1] = addr;
  err[0] = '\0';
  assert_int_equal(ml_memberlist_join(b.ml, addrs, 2, &contacted, err, sizeof err), ML_OK);
  assert_true(contacted >= 1);
  assert_non_null(strstr(err, "bad host name!"));

  /* A name with a bad port, and nothing else: the join fails with the reason. */
  addrs[0] = "localhost:99999";
  err[0] = '\0';
  assert_int_equal(ml_memberlist_join(b.ml, addrs, 1, &contacted, err, sizeof err), ML_ERR_JOIN_FAILED);
  assert_int_equal(contacted, 0);
  assert_non_null(strstr(err, "port"));

  stop_node(&b);
  stop_node(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_log_levels_and_malformed_packet),
      cmocka_unit_test(test_failure_logged),
      cmocka_unit_test(test_join_dns_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
