/* memberlist's concurrency contract, tested the way consumers write code: a component holds
 * its own mutex around calls into the library while its callbacks (notify_msg, events) take
 * that same mutex, under traffic. Every call must return, shutdown must free the port for an
 * immediate restart on the same address, and user_free must run once, after the last callback. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "helpers.h"

typedef struct {
  pthread_mutex_t mu;
  int attempts, acquired; /* callbacks that reached for mu / got it (atomic) */
  int msgs, events;
  int frees;
} consumer_t;

static void consumer_lock(consumer_t *c) {
  ADD(c->attempts, 1);
  pthread_mutex_lock(&c->mu);
  ADD(c->acquired, 1);
}
static void consumer_msg(void *user, const uint8_t *msg, size_t len) {
  consumer_t *c = (consumer_t *)user;
  (void)msg;
  (void)len;
  consumer_lock(c);
  c->msgs++;
  pthread_mutex_unlock(&c->mu);
}
static void consumer_event(void *user, ml_event_t ev, const ml_member_t *m) {
  consumer_t *c = (consumer_t *)user;
  (void)ev;
  (void)m;
  consumer_lock(c);
  c->events++;
  pthread_mutex_unlock(&c->mu);
}
static void consumer_free(void *user) { ADD(((consumer_t *)user)->frees, 1); }

typedef struct {
  ml_memberlist_t *from;
  int stop;
} traffic_t;
static void *traffic_main(void *arg) {
  traffic_t *t = (traffic_t *)arg;
  struct timespec ts = {0, 1000 * 1000}; /* pacing of the traffic, not a wait for a condition */
  while (!LOAD(t->stop)) {
    (void)ml_memberlist_send_best_effort(t->from, "node-1", (const uint8_t *)"be:x", 4);
    nanosleep(&ts, NULL);
  }
  return NULL;
}

/* While the test holds mu, `acquired` cannot grow: more attempts mean a callback waits for mu. */
static int is_waiting(void *arg) {
  consumer_t *c = (consumer_t *)arg;
  return LOAD(c->attempts) > LOAD(c->acquired);
}
static int frees_two(void *arg) { return LOAD(((consumer_t *)arg)->frees) == 2; }

static void test_lock_held_around_calls(void **state) {
  node_t a, b;
  traffic_t traffic;
  pthread_t th;
  char port[16] = "0", err[256];
  int round;
  static const ml_delegate_t delegate = {NULL, consumer_msg, NULL, NULL, NULL};
  (void)state;

  start_node(&a, NULL, fast_config(&a, 0, NULL));
  traffic.from = a.ml;
  traffic.stop = 0;
  assert_int_equal(pthread_create(&th, NULL, traffic_main, &traffic), 0);

  for (round = 0; round < 8; ++round) {
    consumer_t c;
    ml_config_t *cfg;
    ml_members_t *list = NULL;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    cfg = fast_config(&b, 1, NULL);
    assert_int_equal(ml_config_set(cfg, "bind_port", port, err, sizeof err), ML_OK); /* the same port */
    assert_int_equal(ml_config_set_delegate(cfg, &delegate, &c, consumer_free), ML_OK);
    assert_int_equal(ml_config_set_events(cfg, consumer_event, &c, consumer_free), ML_OK);
    start_node(&b, NULL, cfg);
    if (round == 0) snprintf(port, sizeof port, "%s", strrchr(b.addr, ':') + 1);
    join_node(&b, &a);

    /* Hold the lock until a callback waits for it, then call into the library. */
    pthread_mutex_lock(&c.mu);
    if (!wait_until(is_waiting, &c, 10000)) fprintf(stderr, "round %d: no callback waits for the lock\n", round);
    assert_true(is_waiting(&c));
    assert_int_equal(ml_memberlist_num_members(b.ml), 2);
    assert_int_equal(ml_memberlist_members(b.ml, &list), ML_OK);
    ml_members_destroy(list);
    assert_int_equal(ml_memberlist_update_node(b.ml, 1000), ML_OK);
    assert_int_equal(ml_memberlist_send_reliable(b.ml, "node-0", (const uint8_t *)"rl:x", 4), ML_OK);
    if (round % 2 == 0) assert_int_equal(ml_memberlist_leave(b.ml, 1000), ML_OK);
    assert_int_equal(ml_memberlist_shutdown(b.ml), ML_OK);
    assert_int_equal(ml_memberlist_destroy(b.ml), ML_OK);
    b.ml = NULL;
    assert_int_equal(LOAD(c.frees), 0); /* a callback of b is still waiting for our lock */
    pthread_mutex_unlock(&c.mu);
    assert_true(wait_until(frees_two, &c, 10000)); /* freed once, after it returned */
    pthread_mutex_destroy(&c.mu);
  }
  STORE(traffic.stop, 1);
  assert_int_equal(pthread_join(th, NULL), 0);
  stop_node(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lock_held_around_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
