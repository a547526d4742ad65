/* 2- and 5-node clusters on loopback: join, membership, events, user messages (best effort and
 * reliable), metadata propagation, failure detection (dead) and graceful leave (left). */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>

typedef struct {
  node_t *n;
  int value;
  int which; /* 0 joins >=, 1 best effort >=, 2 reliable >=, 3 updates >= */
} counter_cond_t;

static int counter_reached(void *arg) {
  counter_cond_t *c = (counter_cond_t *)arg;
  int v = 0;
  switch (c->which) {
    case 0: v = LOAD(c->n->joins); break;
    case 1: v = LOAD(c->n->best_effort_msgs); break;
    case 2: v = LOAD(c->n->reliable_msgs); break;
    case 3: v = LOAD(c->n->updates); break;
  }
  return v >= c->value;
}

typedef struct {
  node_t *n;
  int about;
  int state; /* expected 1 + ml_state_t */
} leave_cond_t;

static int leave_seen(void *arg) {
  leave_cond_t *c = (leave_cond_t *)arg;
  return LOAD(c->n->leave_state[c->about]) == c->state;
}

typedef struct {
  node_t *observer;
  const char *name;
  const char *meta;
} meta_cond_t;

static int meta_seen(void *arg) {
  meta_cond_t *c = (meta_cond_t *)arg;
  ml_members_t *list = NULL;
  size_t i, len = 0;
  int found = 0;
  if (ml_memberlist_members(c->observer->ml, &list) != ML_OK) return 0;
  for (i = 0; i < ml_members_count(list); ++i) {
    const ml_member_t *m = ml_members_get(list, i);
    if (strcmp(ml_member_name(m), c->name) == 0) {
      const uint8_t *meta = ml_member_meta(m, &len);
      found = len == strlen(c->meta) && memcmp(meta, c->meta, len) == 0;
    }
  }
  ml_members_destroy(list);
  return found;
}

static void wait_counter(node_t *n, int which, int value) {
  counter_cond_t c;
  c.n = n;
  c.which = which;
  c.value = value;
  assert_true(wait_until(counter_reached, &c, 10000));
}

static void test_two_nodes(void **state) {
  node_t nodes[2];
  members_cond_t all;
  leave_cond_t lc;
  meta_cond_t mc;
  ml_members_t *list = NULL;
  uint8_t vsn[6];
  (void)state;

  start_node(&nodes[0], NULL, fast_config(&nodes[0], 0, NULL));
  start_node(&nodes[1], NULL, fast_config(&nodes[1], 1, NULL));
  join_node(&nodes[1], &nodes[0]);

  all.nodes = nodes;
  all.count = 2;
  all.expected = 2;
  assert_true(wait_until(all_see, &all, 10000));
  wait_counter(&nodes[0], 0, 2); /* itself and node-1 */
  wait_counter(&nodes[1], 0, 2);

  assert_int_equal(ml_memberlist_members(nodes[0].ml, &list), ML_OK);
  assert_int_equal(ml_members_count(list), 2);
  assert_null(ml_members_get(list, 2));
  ml_member_versions(ml_members_get(list, 0), vsn);
  assert_true(vsn[1] >= vsn[2] && vsn[2] >= vsn[0]);
  assert_int_equal(ml_member_state(ml_members_get(list, 0)), ML_STATE_ALIVE);
  assert_true(ml_member_incarnation(ml_members_get(list, 0)) >= 1);
  ml_members_destroy(list);

  /* User messages both ways. */
  assert_int_equal(ml_memberlist_send_best_effort(nodes[0].ml, "node-1", (const uint8_t *)"be:hi", 5), ML_OK);
  assert_int_equal(ml_memberlist_send_best_effort(nodes[1].ml, "node-0", (const uint8_t *)"be:ho", 5), ML_OK);
  wait_counter(&nodes[1], 1, 1);
  wait_counter(&nodes[0], 1, 1);
  assert_int_equal(ml_memberlist_send_reliable(nodes[0].ml, "node-1", (const uint8_t *)"rl:hi", 5), ML_OK);
  assert_int_equal(ml_memberlist_send_reliable(nodes[1].ml, "node-0", (const uint8_t *)"rl:ho", 5), ML_OK);
  wait_counter(&nodes[1], 2, 1);
  wait_counter(&nodes[0], 2, 1);
  assert_int_equal(ml_memberlist_send_to_address(nodes[0].ml, nodes[1].addr, (const uint8_t *)"be:addr", 7),
                   ML_OK);
  wait_counter(&nodes[1], 1, 2);
  assert_int_equal(
      ml_memberlist_send_reliable_to_address(nodes[0].ml, nodes[1].addr, (const uint8_t *)"rl:addr", 7), ML_OK);
  wait_counter(&nodes[1], 2, 2);

  /* Ping by name and address. */
  {
    int64_t rtt = -1;
    assert_int_equal(ml_memberlist_ping(nodes[0].ml, "node-1", nodes[1].addr, &rtt), ML_OK);
    assert_true(rtt > 0);
  }

  /* Metadata update propagates (and fires an update event). */
  memcpy(nodes[0].meta, "role=db", 7);
  nodes[0].meta_len = 7;
  assert_int_equal(ml_memberlist_update_node(nodes[0].ml, scaled_ms(5000)), ML_OK);
  mc.observer = &nodes[1];
  mc.name = "node-0";
  mc.meta = "role=db";
  assert_true(wait_until(meta_seen, &mc, 10000));
  wait_counter(&nodes[1], 3, 1);

  /* node-1 leaves: node-0 sees it as left. */
  assert_int_equal(ml_memberlist_leave(nodes[1].ml, scaled_ms(5000)), ML_OK);
  lc.n = &nodes[0];
  lc.about = 1;
  lc.state = 1 + ML_STATE_LEFT;
  assert_true(wait_until(leave_seen, &lc, 10000));
  all.count = 1;
  all.expected = 1;
  assert_true(wait_until(all_see, &all, 10000));

  stop_node(&nodes[1]);
  stop_node(&nodes[0]);
}

static void test_five_nodes_shared_runtime(void **state) {
  enum { N = 5 };
  node_t nodes[N];
  ml_runtime_t *rt = NULL;
  members_cond_t all;
  leave_cond_t lc;
  char err[256];
  int i;
  (void)state;

  assert_int_equal(ml_runtime_create(&rt, err, sizeof err), ML_OK);
  for (i = 0; i < N; ++i) start_node(&nodes[i], rt, fast_config(&nodes[i], i, NULL));
  /* The runtime refuses to stop while memberlists live on it. */
  assert_int_equal(ml_runtime_destroy(rt), ML_ERR_BUSY);
  for (i = 1; i < N; ++i) join_node(&nodes[i], &nodes[i == 1 ? 0 : i - 1]);

  all.nodes = nodes;
  all.count = N;
  all.expected = N;
  assert_true(wait_until(all_see, &all, 15000));
  for (i = 0; i < N; ++i) wait_counter(&nodes[i], 0, N);

  /* A message from every node to the next. */
  for (i = 0; i < N; ++i) {
    char to[32];
    snprintf(to, sizeof to, "node-%d", (i + 1) % N);
    assert_int_equal(ml_memberlist_send_reliable(nodes[i].ml, to, (const uint8_t *)"rl:x", 4), ML_OK);
  }
  for (i = 0; i < N; ++i) wait_counter(&nodes[i], 2, 1);

  /* node-4 stops without leaving: the others declare it dead. */
  assert_int_equal(ml_memberlist_shutdown(nodes[4].ml), ML_OK);
  for (i = 0; i < 4; ++i) {
    lc.n = &nodes[i];
    lc.about = 4;
    lc.state = 1 + ML_STATE_DEAD;
    assert_true(wait_until(leave_seen, &lc, 15000));
  }
  all.count = 4;
  all.expected = 4;
  assert_true(wait_until(all_see, &all, 15000));

  /* node-3 leaves: the others mark it left. */
  assert_int_equal(ml_memberlist_leave(nodes[3].ml, scaled_ms(5000)), ML_OK);
  for (i = 0; i < 3; ++i) {
    lc.n = &nodes[i];
    lc.about = 3;
    lc.state = 1 + ML_STATE_LEFT;
    assert_true(wait_until(leave_seen, &lc, 15000));
  }
  all.count = 3;
  all.expected = 3;
  assert_true(wait_until(all_see, &all, 15000));

  for (i = N - 1; i >= 0; --i) stop_node(&nodes[i]);
  assert_int_equal(ml_runtime_destroy(rt), ML_OK);
}

/* A driven runtime: no loop thread of its own; this test's thread runs the loop whenever its fd
 * is readable or a timer is due, as the Go package does from a goroutine. */
typedef struct {
  ml_runtime_t *rt;
  int fd;
  int drives;
  ml_notify_t *notify; /* notifications on runners this test starts (NULL: the runtime's threads) */
  int runners_started, runners_done, runner_errors; /* atomics */
} driver_t;

/* One runner: runs the ready notifications on this (detached) thread, then ends. */
static void *notify_runner(void *arg) {
  driver_t *d = (driver_t *)arg;
  ml_err_t rc = ml_notify_run(d->notify);
  if (rc != ML_OK && rc != ML_ERR_CLOSED) ADD(d->runner_errors, 1);
  ADD(d->runners_done, 1);
  return NULL;
}

static void *drive_loop(void *arg) {
  driver_t *d = (driver_t *)arg;
  for (;;) {
    int next = -1;
    struct pollfd p;
    ml_err_t rc = ml_runtime_drive(d->rt, &next);
    d->drives++;
    if (rc != ML_OK) {
      assert_int_equal(rc, ML_ERR_CLOSED); /* the loop ended: rt is not touched again */
      return NULL;
    }
    if (d->notify != NULL) {
      size_t wanted = 0, k;
      assert_int_equal(ml_notify_wanted(d->notify, &wanted), ML_OK);
      for (k = 0; k < wanted; ++k) {
        pthread_t t;
        ADD(d->runners_started, 1);
        if (pthread_create(&t, NULL, notify_runner, d) != 0) {
          ADD(d->runner_errors, 1);
          ADD(d->runners_done, 1);
          continue;
        }
        (void)pthread_detach(t);
      }
    }
    p.fd = d->fd;
    p.events = POLLIN;
    p.revents = 0;
    (void)poll(&p, 1, next);
  }
}

/* Threads of this process named `name` (from /proc/self/task/<tid>/comm). */
static int threads_named(const char *name) {
  char path[320], comm[32];
  int n = 0;
  DIR *dir = opendir("/proc/self/task");
  struct dirent *e;
  assert_non_null(dir);
  while ((e = readdir(dir)) != NULL) {
    FILE *f;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(comm, sizeof comm, f) != NULL) {
      comm[strcspn(comm, "\n")] = 0;
      if (strcmp(comm, name) == 0) ++n;
    }
    fclose(f);
  }
  closedir(dir);
  return n;
}

typedef struct {
  driver_t *d;
} runners_cond_t;

static int runners_finished(void *arg) {
  driver_t *d = ((runners_cond_t *)arg)->d;
  return LOAD(d->runners_done) == LOAD(d->runners_started);
}

static void run_three_nodes_driven(int external) {
  enum { N = 3 };
  node_t nodes[N];
  driver_t d;
  pthread_t driver;
  members_cond_t all;
  char err[256];
  int i;

  memset(&d, 0, sizeof d);
  assert_int_equal(ml_runtime_create_driven(&d.rt, &d.fd, err, sizeof err), ML_OK);
  assert_true(d.fd >= 0);
  if (external) {
    ml_notify_t *again = NULL;
    assert_int_equal(ml_runtime_notify_external(d.rt, &d.notify), ML_OK);
    assert_int_equal(ml_runtime_notify_external(d.rt, &again), ML_ERR_BUSY); /* once only */
    assert_null(again);
  }
  assert_int_equal(pthread_create(&driver, NULL, drive_loop, &d), 0);
  for (i = 0; i < N; ++i) start_node(&nodes[i], d.rt, fast_config(&nodes[i], i, NULL));
  for (i = 1; i < N; ++i) join_node(&nodes[i], &nodes[0]);
  if (!external) {
    ml_notify_t *late = NULL;
    /* Too late once a memberlist lives on it: its notifications already have their threads. */
    assert_int_equal(ml_runtime_notify_external(d.rt, &late), ML_ERR_BUSY);
    assert_null(late);
  }
  all.nodes = nodes;
  all.count = N;
  all.expected = N;
  assert_true(wait_until(all_see, &all, 15000));
  for (i = 0; i < N; ++i) wait_counter(&nodes[i], 0, N); /* NotifyJoin: notifications ran */
  assert_int_equal(ml_memberlist_send_reliable(nodes[2].ml, "node-1", (const uint8_t *)"rl:x", 4), ML_OK);
  wait_counter(&nodes[1], 2, 1);
  assert_int_equal(ml_memberlist_send_best_effort(nodes[0].ml, "node-2", (const uint8_t *)"be:x", 4), ML_OK);
  wait_counter(&nodes[2], 1, 1);
  if (external) {
    /* Every notification ran on a runner this test started: the runtime started no thread. */
    assert_int_equal(threads_named("ml-notify"), 0);
    assert_true(LOAD(d.runners_started) > 0);
  }
  for (i = N - 1; i >= 0; --i) stop_node(&nodes[i]);
  /* Returns once the driver has seen the loop end. */
  assert_int_equal(ml_runtime_destroy(d.rt), ML_OK);
  assert_int_equal(pthread_join(driver, NULL), 0);
  assert_true(d.drives > 1);
  if (external) {
    runners_cond_t rc;
    rc.d = &d;
    assert_true(wait_until(runners_finished, &rc, 10000));
    assert_int_equal(LOAD(d.runner_errors), 0);
    /* The handle outlives the runtime: a late runner finds the pool closed. */
    assert_int_equal(ml_notify_run(d.notify), ML_ERR_CLOSED);
    ml_notify_release(d.notify);
  }
}

static void test_three_nodes_driven_runtime(void **state) {
  (void)state;
  run_three_nodes_driven(0);
}

/* The same, with the notifications (NotifyJoin, NotifyMsg) run by runners the driver starts
 * (ml_runtime_notify_external), as the Go package does with goroutines. */
static void test_three_nodes_driven_external_notifications(void **state) {
  (void)state;
  run_three_nodes_driven(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_nodes),
      cmocka_unit_test(test_five_nodes_shared_runtime),
      cmocka_unit_test(test_three_nodes_driven_runtime),
      cmocka_unit_test(test_three_nodes_driven_external_notifications),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
