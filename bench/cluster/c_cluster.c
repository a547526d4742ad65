/* c_cluster: N memberlist nodes in one process on ONE shared runtime (one event loop thread),
 * measured the way bench/go measures hashicorp/memberlist and our Go package, so one script can
 * tabulate all three. Public C API only.
 *
 *   c_cluster --nodes N [--join seed|random] [--window S] [--deadline S] [--hold S] [--rep R]
 *             [--net A] [--port P] [--header] [--workload] [--retries K] [--runtimes R] [--coalesce MS]
 *
 * --retries K retries a failed join up to K times (default 0). --runtimes R spreads the nodes
 * round-robin over R runtimes (default 1, the measurement this program is for; R > 1 shows how much
 * of a result is the one loop thread). --coalesce MS: ml_runtime_set_timer_coalescing on every
 * runtime (default 10, what the Go package's shared runtimes use; 0 turns it off).
 *
 * Node i binds 127.A.(i/250).(i%250+1):P and is named n%05d. Every 127/8 address is on lo.
 *
 * Output (stdout, tab-separated; progress goes to stderr; impl is "c", or "c_rt<R>" with --runtimes R):
 *   impl n rep join create_s join_s converge_s settle_s window_s cpu_s_node_min rss_kb_node suspects
 *   deaths detect_s leave_s status
 * and with --workload, after it (rate_per_s = delivered / seconds; CPU over the sending seconds):
 *   impl n rep path sent delivered expected seconds rate_per_s p50_ms p99_ms cpu_s_node_min
 *
 * Phases: create N nodes; join them one after the other (node i joins node 0, or a random
 * earlier node); converge (every node's alive count, kept by its event callback, equals N);
 * settle (the summed "memberlist.queue.broadcasts" gauge reaches 0); window (CPU and RSS per node,
 * false suspicions and deaths); hold (more observation, optional); workload (optional); detect
 * (the last node stops without leaving: time until every survivor got a LEAVE event for it);
 * leave (the second-to-last node leaves: the same for it). --deadline bounds the joins too: past
 * it the remaining nodes do not join (and the status is noconverge).
 *
 * Workload rows: 64-byte messages carrying a CLOCK_MONOTONIC timestamp; latency is taken in the
 * receiver's notify_msg. best_effort_paced/reliable_paced: 4 senders, each at most 2,000
 * messages/s to random other nodes. broadcast: 4 senders, each 10 queue_broadcast calls/s;
 * delivered counts receptions. memberlist does not relay user broadcasts (a receiver only gets
 * NotifyMsg): the sender hands each one to retransmit_mult * ceil(log10(N+1)) gossip targets in
 * all (repeats possible), so delivered is about sent * that limit, not sent * (N-1) (8 nodes,
 * LAN: 4 per message).
 *
 * status: ok, noconverge (then every later measure is '-'), unstable (a suspicion or death while
 * nothing failed), nodetect, noleave. Exit code 0 for all of those; 1 for a harness error (a node
 * that cannot be created, no memory), 2 for bad arguments.
 *
 * Counters touched from callbacks use the GCC/Clang __atomic builtins (C99 has no <stdatomic.h>). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <memberlist/memberlist.h>

#define MAX_NODES 60000 /* 127.A.0.1 .. 127.A.239.250 */
#define MSG_LEN 64
#define MSG_MAGIC 0x4d4c4342u /* "MLCB" */
#define NSENDERS 4
#define POINT_RATE 2000 /* the paced paths: at most this many messages per second per sender */
#define BCAST_RATE 10   /* broadcasts per second per sender */
#define MAX_LAT ((size_t)16 * 1024 * 1024) /* latency samples kept per path */

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)

typedef struct node {
  ml_memberlist_t *ml;
  int idx;
  int alive;       /* JOIN minus LEAVE events seen by this node (atomic) */
  int saw_detect;  /* saw LEAVE for the detect target (atomic) */
  int saw_leave;   /* saw LEAVE for the leave target (atomic) */
  int gone;        /* stopped by the benchmark (main thread only) */
  char name[16];
  char addr[32];
} node_t;

enum { PATH_BEST_EFFORT = 0, PATH_RELIABLE = 1, PATH_BROADCAST = 2, NPATHS = 3 };
/* Paced (POINT_RATE): the rows compare with the Go scenario's paced paths of the same names. */
static const char *const path_names[NPATHS] = {"best_effort_paced", "reliable_paced", "broadcast"};

/* Shared with callbacks (all accessed atomically). */
static int g_observing;         /* 1 during window + hold */
static long g_suspects;         /* suspicion / failure log lines while observing */
static long g_deaths;           /* LEAVE events while observing */
static int g_detect_target = -1;
static int g_leave_target = -1;
static int g_path = -1;         /* workload path whose messages are counted */
static long g_delivered;
static long g_lat_n;
static double *g_lat;           /* ms, MAX_LAT entries */

static double t0_mono;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* How long a call that waits for the shared loop takes right now (its queueing delay), in ms. */
static double loop_rtt_ms(ml_memberlist_t *ml) {
  double t = now_s();
  (void)ml_memberlist_num_members(ml);
  return (now_s() - t) * 1e3;
}

/* Progress on stderr: UTC wall clock and seconds since start. */
static void progress(const char *fmt, ...) {
  char stamp[32];
  struct timespec ts;
  struct tm tm;
  va_list ap;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  fprintf(stderr, "[%s.%03ld +%.1fs] ", stamp, ts.tv_nsec / 1000000L, now_s() - t0_mono);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
}

/* "n00042" -> 42; -1 when it is not one of ours. */
static int name_index(const char *name) {
  char *end;
  long v;
  if (name == NULL || name[0] != 'n') return -1;
  v = strtol(name + 1, &end, 10);
  if (end == name + 1 || *end != '\0' || v < 0 || v >= MAX_NODES) return -1;
  return (int)v;
}

static void on_event(void *user, ml_event_t ev, const ml_member_t *m) {
  node_t *n = (node_t *)user;
  int who;
  if (ev == ML_EVENT_JOIN) {
    ADD(&n->alive, 1);
  } else if (ev == ML_EVENT_LEAVE) {
    ADD(&n->alive, -1);
    if (LOAD(&g_observing)) ADD(&g_deaths, 1L);
    who = name_index(ml_member_name(m));
    if (who >= 0 && who == LOAD(&g_detect_target)) STORE(&n->saw_detect, 1);
    if (who >= 0 && who == LOAD(&g_leave_target)) STORE(&n->saw_leave, 1);
  }
}

static long g_warnings; /* WARN/ERR lines: the first MAX_WARN_SHOWN go to stderr */
#define MAX_WARN_SHOWN 20

static void on_log(void *user, ml_log_level_t level, const char *msg) {
  (void)user;
  if (level >= ML_LOG_WARN && ADD(&g_warnings, 1L) < MAX_WARN_SHOWN)
    fprintf(stderr, "  log %s: %s\n", level == ML_LOG_WARN ? "WARN" : "ERR", msg);
  if (!LOAD(&g_observing)) return;
  if ((strstr(msg, "Suspect ") != NULL && strstr(msg, "has failed") != NULL) ||
      (strstr(msg, "Marking ") != NULL && strstr(msg, "as failed") != NULL)) {
    ADD(&g_suspects, 1L);
    fprintf(stderr, "  observed: %s\n", msg);
  }
}

static void on_msg(void *user, const uint8_t *msg, size_t len) {
  uint32_t magic, path;
  uint64_t sent;
  long i;
  (void)user;
  if (len != MSG_LEN) return;
  memcpy(&magic, msg, 4);
  memcpy(&path, msg + 4, 4);
  memcpy(&sent, msg + 8, 8);
  if (magic != MSG_MAGIC || (int)path != LOAD(&g_path)) return;
  ADD(&g_delivered, 1L);
  i = ADD(&g_lat_n, 1L);
  if (i >= 0 && (size_t)i < MAX_LAT) g_lat[i] = (double)(now_ns() - sent) / 1e6;
}

static int cfg_set(ml_config_t *cfg, const char *key, const char *value) {
  char err[256] = "";
  ml_err_t rc = ml_config_set(cfg, key, value, err, sizeof err);
  if (rc != ML_OK) fprintf(stderr, "c_cluster: config %s=%s: %s (%s)\n", key, value, ml_err_string(rc), err);
  return rc == ML_OK;
}

static long rss_kb(void) {
  char line[256];
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kb = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb;
}

static double cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

/* xorshift64*: deterministic per --rep. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- metrics: the broadcast queues summed over the running nodes ---- */

typedef struct {
  const char *want;
  double sum;
  int found;
} metric_sum_t;

static void metric_cb(void *ctx, const char *name, double value) {
  metric_sum_t *s = (metric_sum_t *)ctx;
  if (strcmp(name, s->want) == 0) {
    s->sum += value;
    s->found = 1;
  }
}

/* The gauge summed over the running nodes, or -1 when a metrics call failed or no node has it. */
static double sum_gauge(node_t *nodes, int n, const char *gauge) {
  metric_sum_t s;
  int i;
  s.want = gauge;
  s.sum = 0;
  s.found = 0;
  for (i = 0; i < n; i++) {
    ml_err_t rc;
    if (nodes[i].gone) continue;
    rc = ml_memberlist_metrics(nodes[i].ml, metric_cb, &s);
    if (rc != ML_OK) {
      fprintf(stderr, "c_cluster: metrics on %s: %s\n", nodes[i].name, ml_err_string(rc));
      return -1;
    }
  }
  if (!s.found) fprintf(stderr, "c_cluster: no metric named %s\n", gauge);
  return s.found ? s.sum : -1;
}

/* Waits until `gauge` summed over the nodes is 0; returns seconds waited or -1 on deadline. */
static double drain(node_t *nodes, int n, const char *gauge, double deadline_s) {
  double start = now_s(), last_report = start;
  for (;;) {
    double q = sum_gauge(nodes, n, gauge);
    double t = now_s();
    if (q == 0) return t - start;
    if (q < 0) return -1;
    if (t - start > deadline_s) {
      progress("%s still %.0f after %.0f s; going on", gauge, q, deadline_s);
      return -1;
    }
    if (t - last_report >= 5) {
      progress("  settling: %s = %.0f", gauge, q);
      last_report = t;
    }
    sleep_ms(100);
  }
}

/* ---- workload ---- */

typedef struct {
  node_t *nodes;
  int n;
  int self;
  int path;
  double seconds;
  uint64_t seed;
  long sent;
  long failed;
} sender_t;

static void *sender_main(void *arg) {
  sender_t *s = (sender_t *)arg;
  uint8_t msg[MSG_LEN];
  uint32_t magic = MSG_MAGIC, path = (uint32_t)s->path;
  uint64_t st = s->seed | 1u;
  int rate = s->path == PATH_BROADCAST ? BCAST_RATE : POINT_RATE;
  /* Ticks of 10 ms for point-to-point (20 messages each at 2,000/s), one broadcast per 100 ms. */
  long tick_ns = s->path == PATH_BROADCAST ? 1000000000L / BCAST_RATE : 10000000L;
  long per_tick = s->path == PATH_BROADCAST ? 1 : (long)rate / 100;
  struct timespec next;
  double end = now_s() + s->seconds;
  memset(msg, 0xab, sizeof msg);
  memcpy(msg, &magic, 4);
  memcpy(msg + 4, &path, 4);
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (now_s() < end) {
    long k;
    for (k = 0; k < per_tick && now_s() < end; k++) {
      uint64_t ts = now_ns();
      ml_err_t rc;
      memcpy(msg + 8, &ts, 8);
      if (s->path == PATH_BROADCAST) {
        rc = ml_memberlist_queue_broadcast(s->nodes[s->self].ml, NULL, msg, sizeof msg);
      } else {
        int to;
        st ^= st >> 12;
        st ^= st << 25;
        st ^= st >> 27;
        to = (int)((st * 0x2545f4914f6cdd1dull >> 33) % (uint64_t)(s->n - 1));
        if (to >= s->self) to++;
        rc = s->path == PATH_BEST_EFFORT
                 ? ml_memberlist_send_best_effort(s->nodes[s->self].ml, s->nodes[to].name, msg, sizeof msg)
                 : ml_memberlist_send_reliable(s->nodes[s->self].ml, s->nodes[to].name, msg, sizeof msg);
      }
      if (rc == ML_OK) {
        s->sent++;
      } else if (s->failed++ < 3) {
        fprintf(stderr, "c_cluster: %s from %s: %s\n", path_names[s->path], s->nodes[s->self].name,
                ml_err_string(rc));
      }
    }
    next.tv_nsec += tick_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
    }
  }
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

typedef struct {
  long sent, delivered, expected;
  double seconds, p50, p99, cpu_node_min;
} load_result_t;

static int run_path(node_t *nodes, int n, int path, double seconds, double deadline, uint64_t seed,
                    load_result_t *out) {
  sender_t snd[NSENDERS];
  pthread_t th[NSENDERS];
  int k, ns = n - 1 < NSENDERS ? n - 1 : NSENDERS;
  long expected = 0, nlat;
  double start, stop_send, wait_until, c0 = cpu_s();
  STORE(&g_delivered, 0L);
  STORE(&g_lat_n, 0L);
  STORE(&g_path, path);
  progress("workload %s: %d senders for %.0f s", path_names[path], ns, seconds);
  start = now_s();
  for (k = 0; k < ns; k++) {
    snd[k].nodes = nodes;
    snd[k].n = n;
    snd[k].self = (int)((long)k * n / ns); /* spread over the cluster */
    snd[k].path = path;
    snd[k].seconds = seconds;
    snd[k].seed = seed + 0x1000u * (uint64_t)(k + 1) + (uint64_t)path;
    snd[k].sent = 0;
    snd[k].failed = 0;
    if (pthread_create(&th[k], NULL, sender_main, &snd[k]) != 0) {
      fprintf(stderr, "c_cluster: pthread_create failed\n");
      while (k-- > 0) pthread_join(th[k], NULL);
      STORE(&g_path, -1);
      return 0;
    }
  }
  for (k = 0; k < ns; k++) pthread_join(th[k], NULL);
  stop_send = now_s();
  out->cpu_node_min = (cpu_s() - c0) / n / ((stop_send - start) / 60.0);
  out->sent = 0;
  for (k = 0; k < ns; k++) out->sent += snd[k].sent;
  expected = path == PATH_BROADCAST ? out->sent * (n - 1) : out->sent;
  out->expected = expected;
  /* Let what is in flight arrive: up to 2 s for point-to-point; broadcasts until the user
   * queues are empty (bounded by --deadline), then 1 s for the last packets. */
  if (path == PATH_BROADCAST) drain(nodes, n, "memberlist.queue.user", deadline);
  wait_until = now_s() + (path == PATH_BROADCAST ? 1.0 : 2.0);
  while (now_s() < wait_until && LOAD(&g_delivered) < expected) sleep_ms(20);
  STORE(&g_path, -1);
  sleep_ms(50); /* a callback past its path check finishes its store */
  out->delivered = LOAD(&g_delivered);
  out->seconds = stop_send - start;
  nlat = LOAD(&g_lat_n);
  if ((size_t)nlat > MAX_LAT) nlat = (long)MAX_LAT;
  if (nlat > 0) {
    qsort(g_lat, (size_t)nlat, sizeof *g_lat, cmp_double);
    out->p50 = g_lat[(size_t)((double)(nlat - 1) * 0.50)];
    out->p99 = g_lat[(size_t)((double)(nlat - 1) * 0.99)];
  } else {
    out->p50 = out->p99 = -1;
  }
  progress("workload %s: sent %ld delivered %ld (expected %ld) p50 %.2f ms p99 %.2f ms", path_names[path],
           out->sent, out->delivered, expected, out->p50, out->p99);
  return 1;
}

/* ---- main ---- */

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s --nodes N [--join seed|random] [--window S] [--deadline S] [--hold S] [--rep R]\n"
          "          [--net A] [--port P] [--header] [--workload] [--retries K] [--runtimes R] [--coalesce MS]\n"
          "  N >= 3 (at most %d); A in 1..255 (default 30); P default 7946;\n"
          "  K: retry a failed join up to K times, 1 s apart (default 0: a failed join stays failed)\n"
          "  R: runtimes (event loops) the nodes are spread over, default 1\n"
          "  MS: timer coalescing grid of every runtime in ms, 0..100, default 10\n",
          argv0, MAX_NODES);
  return 2;
}

static int parse_num(const char *s, double lo, double hi, double *out) {
  char *end;
  double v;
  if (s == NULL) return 0;
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

/* Counts running nodes whose flag at byte offset `off` is set. */
static int count_flag(node_t *nodes, int n, size_t off) {
  int i, c = 0;
  for (i = 0; i < n; i++) {
    if (nodes[i].gone) continue;
    if (LOAD((int *)((char *)&nodes[i] + off))) c++;
  }
  return c;
}

static int count_live(node_t *nodes, int n) {
  int i, c = 0;
  for (i = 0; i < n; i++) c += !nodes[i].gone;
  return c;
}

/* Stops node i: optional leave, then shutdown and destroy. */
static void stop_node(node_t *nodes, int i, int leave) {
  ml_err_t rc;
  if (nodes[i].gone || nodes[i].ml == NULL) return;
  if (leave) {
    rc = ml_memberlist_leave(nodes[i].ml, 5000);
    if (rc != ML_OK) fprintf(stderr, "c_cluster: leave %s: %s\n", nodes[i].name, ml_err_string(rc));
  }
  rc = ml_memberlist_shutdown(nodes[i].ml);
  if (rc != ML_OK) fprintf(stderr, "c_cluster: shutdown %s: %s\n", nodes[i].name, ml_err_string(rc));
  rc = ml_memberlist_destroy(nodes[i].ml);
  if (rc != ML_OK) fprintf(stderr, "c_cluster: destroy %s: %s\n", nodes[i].name, ml_err_string(rc));
  nodes[i].ml = NULL;
  nodes[i].gone = 1;
}

/* Waits until every node still running has `flag` set; seconds since `since`, or -1. */
static double wait_flag(node_t *nodes, int n, size_t off, double since, double deadline_s, const char *what) {
  double last_report = now_s();
  int total = count_live(nodes, n);
  for (;;) {
    int c = count_flag(nodes, n, off);
    double t = now_s();
    if (c == total) return t - since;
    if (t - since > deadline_s) {
      progress("%s: only %d of %d survivors saw it after %.0f s", what, c, total, deadline_s);
      return -1;
    }
    if (t - last_report >= 5) {
      progress("  %s: %d of %d", what, c, total);
      last_report = t;
    }
    sleep_ms(20);
  }
}

static void fmt_s(char *buf, size_t size, double v) {
  if (v < 0)
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, "%.3f", v);
}

/* Stops node `victim` (graceful: leave first) and returns the seconds until every survivor saw it
 * go (a LEAVE event), or -1 past the deadline. */
static double time_departure(node_t *nodes, int n, int victim, int graceful, double deadline) {
  const char *what = graceful ? "leave" : "detect";
  double t, s;
  STORE(graceful ? &g_leave_target : &g_detect_target, victim);
  progress("%s: %s %s", what, nodes[victim].name, graceful ? "leaves" : "stops without a leave");
  t = now_s();
  stop_node(nodes, victim, graceful);
  s = wait_flag(nodes, n, graceful ? offsetof(node_t, saw_leave) : offsetof(node_t, saw_detect), t, deadline, what);
  if (s >= 0) progress("%s seen by all survivors in %.3f s", what, s);
  return s;
}

int main(int argc, char **argv) {
  double runtimes_d = 1, coalesce_d = 10, retries_d = 0, nodes_d = 0, window = 30, deadline = 120, hold = 0, rep_d = 1, net_d = 30, port_d = 7946;
  int n, rep, net, port, retries, header = 0, workload = 0, random_join = 0;
  int i, rc_exit = 0, converged = 0, join_failures = 0;
  node_t *nodes = NULL;
#define MAX_RUNTIMES 64
  ml_runtime_t *rts[MAX_RUNTIMES];
  int nrt;
  char err[1024] = "";
  const char *status = "ok";
  double t_create0, create_s = -1, join_s = -1, converge_s = -1, settle_s = -1, cpu_node_min = -1, detect_s = -1, leave_s = -1;
  long rss0, rss_node = -1, suspects = -1, deaths = -1;
  load_result_t load[NPATHS];
  int load_done = 0;
  struct rlimit rl;
  ml_err_t rc;

  t0_mono = now_s();
  for (i = 1; i < argc; i++) {
    const char *opt = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(opt, "--header") == 0) {
      header = 1;
      continue;
    }
    if (strcmp(opt, "--workload") == 0) {
      workload = 1;
      continue;
    }
    if (val == NULL) return usage(argv[0]);
    i++;
    if (strcmp(opt, "--nodes") == 0) {
      if (!parse_num(val, 3, MAX_NODES, &nodes_d)) return usage(argv[0]);
    } else if (strcmp(opt, "--join") == 0) {
      if (strcmp(val, "random") == 0)
        random_join = 1;
      else if (strcmp(val, "seed") != 0)
        return usage(argv[0]);
    } else if (strcmp(opt, "--window") == 0) {
      if (!parse_num(val, 0.1, 86400, &window)) return usage(argv[0]);
    } else if (strcmp(opt, "--deadline") == 0) {
      if (!parse_num(val, 1, 86400, &deadline)) return usage(argv[0]);
    } else if (strcmp(opt, "--hold") == 0) {
      if (!parse_num(val, 0, 86400 * 7, &hold)) return usage(argv[0]);
    } else if (strcmp(opt, "--rep") == 0) {
      if (!parse_num(val, 0, 1e9, &rep_d)) return usage(argv[0]);
    } else if (strcmp(opt, "--net") == 0) {
      if (!parse_num(val, 1, 255, &net_d)) return usage(argv[0]);
    } else if (strcmp(opt, "--port") == 0) {
      if (!parse_num(val, 1, 65535, &port_d)) return usage(argv[0]);
    } else if (strcmp(opt, "--runtimes") == 0) {
      if (!parse_num(val, 1, MAX_RUNTIMES, &runtimes_d)) return usage(argv[0]);
    } else if (strcmp(opt, "--coalesce") == 0) {
      if (!parse_num(val, 0, 100, &coalesce_d)) return usage(argv[0]);
    } else if (strcmp(opt, "--retries") == 0) {
      if (!parse_num(val, 0, 100, &retries_d)) return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }
  if (nodes_d < 3) return usage(argv[0]);
  n = (int)nodes_d;
  rep = (int)rep_d;
  net = (int)net_d;
  port = (int)port_d;
  retries = (int)retries_d;
  nrt = (int)runtimes_d;
  rng_state ^= (uint64_t)(rep + 1) * 0x100000001b3ull;

  /* Two sockets a node plus TCP streams: raise the descriptor limit to its hard maximum. */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) fprintf(stderr, "c_cluster: could not raise RLIMIT_NOFILE\n");
  }

  nodes = (node_t *)calloc((size_t)n, sizeof *nodes);
  g_lat = workload ? (double *)malloc(MAX_LAT * sizeof *g_lat) : NULL;
  if (nodes == NULL || (workload && g_lat == NULL)) {
    fprintf(stderr, "c_cluster: out of memory\n");
    free(nodes);
    free(g_lat);
    return 1;
  }
  for (i = 0; i < n; i++) {
    nodes[i].idx = i;
    snprintf(nodes[i].name, sizeof nodes[i].name, "n%05d", i);
    snprintf(nodes[i].addr, sizeof nodes[i].addr, "127.%d.%d.%d", net, i / 250, i % 250 + 1);
  }

  progress("c_cluster: %d nodes on %d runtime(s), join %s, window %.0f s, deadline %.0f s, 127.%d.x.y:%d", n, nrt,
           random_join ? "random" : "seed", window, deadline, net, port);
  rss0 = rss_kb();
  for (i = 0; i < nrt; i++) {
    rc = ml_runtime_create(&rts[i], err, sizeof err);
    if (rc == ML_OK && (rc = ml_runtime_set_timer_coalescing(rts[i], (uint32_t)coalesce_d)) != ML_OK) {
      ml_runtime_destroy(rts[i]);
      snprintf(err, sizeof err, "timer coalescing %.0f ms", coalesce_d);
    }
    if (rc != ML_OK) {
      fprintf(stderr, "c_cluster: runtime: %s: %s\n", ml_err_string(rc), err);
      while (i-- > 0) ml_runtime_destroy(rts[i]);
      free(nodes);
      free(g_lat);
      return 1;
    }
  }

  /* ---- create ---- */
  t_create0 = now_s();
  for (i = 0; i < n; i++) {
    ml_config_t *cfg = NULL;
    ml_delegate_t dg;
    char portbuf[16];
    int ok;
    if (ml_config_create(&cfg, ML_PRESET_LAN) != ML_OK) {
      fprintf(stderr, "c_cluster: ml_config_create failed\n");
      rc_exit = 1;
      break;
    }
    snprintf(portbuf, sizeof portbuf, "%d", port);
    ok = cfg_set(cfg, "name", nodes[i].name) && cfg_set(cfg, "bind_addr", nodes[i].addr) &&
         cfg_set(cfg, "bind_port", portbuf);
    memset(&dg, 0, sizeof dg);
    dg.notify_msg = on_msg;
    ok = ok && ml_config_set_events(cfg, on_event, &nodes[i], NULL) == ML_OK &&
         ml_config_set_log(cfg, ML_LOG_INFO, on_log, NULL, NULL) == ML_OK &&
         ml_config_set_delegate(cfg, &dg, &nodes[i], NULL) == ML_OK;
    if (!ok) {
      fprintf(stderr, "c_cluster: configuring %s failed\n", nodes[i].name);
      ml_config_destroy(cfg);
      rc_exit = 1;
      break;
    }
    err[0] = '\0';
    rc = ml_memberlist_create(&nodes[i].ml, rts[i % nrt], cfg, err, sizeof err);
    ml_config_destroy(cfg);
    if (rc != ML_OK) {
      fprintf(stderr, "c_cluster: create %s on %s:%d: %s: %s\n", nodes[i].name, nodes[i].addr, port,
              ml_err_string(rc), err);
      nodes[i].ml = NULL;
      rc_exit = 1;
      break;
    }
  }
  if (rc_exit != 0) {
    for (i = 0; i < n; i++) stop_node(nodes, i, 0);
    for (i = 0; i < nrt; i++) ml_runtime_destroy(rts[i]);
    free(nodes);
    free(g_lat);
    return rc_exit;
  }
  create_s = now_s() - t_create0;
  progress("created %d nodes in %.3f s", n, create_s);

  /* ---- join ---- */
  {
    double t_join0 = now_s(), last_report = t_join0, slowest = 0;
    int slow = 0, slowest_i = 0;
    for (i = 1; i < n; i++) {
      double tj = now_s();
      if (tj - t_create0 > deadline) {
        progress("deadline passed with %d of %d joins done: the rest do not join", i - 1, n - 1);
        break;
      }
      int target = random_join ? (int)(rng_next() % (uint64_t)i) : 0;
      char addr[48];
      const char *addrs[1];
      int contacted = 0, attempt;
      snprintf(addr, sizeof addr, "%s:%d", nodes[target].addr, port);
      addrs[0] = addr;
      for (attempt = 0;; attempt++) {
        err[0] = '\0';
        rc = ml_memberlist_join(nodes[i].ml, addrs, 1, &contacted, err, sizeof err);
        if (rc == ML_OK) break;
        if (join_failures++ < 5) {
          metric_sum_t r;
          r.want = "memberlist.push_pull.refused";
          r.sum = 0;
          r.found = 0;
          if (ml_memberlist_metrics(nodes[target].ml, metric_cb, &r) != ML_OK) r.sum = -1;
          fprintf(stderr, "c_cluster: %s join %s (attempt %d): %s: %s [%s push_pull.refused=%.0f]\n", nodes[i].name,
                  addr, attempt + 1, ml_err_string(rc), err, nodes[target].name, r.sum);
        }
        if (attempt >= retries) break;
        sleep_ms(1000);
      }
      tj = now_s() - tj;
      if (tj > 1.0) slow++;
      if (tj > slowest) {
        slowest = tj;
        slowest_i = i;
      }
      if (now_s() - last_report >= 5) {
        progress("  joined %d of %d (%d joins over 1 s so far, slowest %.3f s by %s; loop call %.1f ms)", i, n - 1,
                 slow, slowest, nodes[slowest_i].name, loop_rtt_ms(nodes[0].ml));
        last_report = now_s();
      }
    }
    join_s = now_s() - t_join0;
    progress("joins returned in %.3f s (%d attempts failed; %d joins over 1 s, slowest %.3f s by %s)", join_s,
             join_failures, slow, slowest, nodes[slowest_i].name);
  }

  /* ---- converge ---- */
  {
    double last_report = now_s();
    for (;;) {
      int done = 0, minv = n;
      double t;
      for (i = 0; i < n; i++) {
        int a = LOAD(&nodes[i].alive);
        if (a == n) done++;
        if (a < minv) minv = a;
      }
      t = now_s();
      if (done == n) {
        converged = 1;
        converge_s = t - t_create0;
        break;
      }
      if (t - t_create0 > deadline) break;
      if (t - last_report >= 5) {
        progress("  converging: %d of %d nodes see all %d (min %d; loop call %.1f ms)", done, n, n, minv,
                 loop_rtt_ms(nodes[0].ml));
        last_report = t;
      }
      sleep_ms(20);
    }
  }

  if (!converged) {
    status = "noconverge";
    progress("no convergence within %.0f s", deadline);
  } else {
    double s, c0, t_obs0, obs;
    long rss1;
    progress("converged %.3f s after the start of creation", converge_s);

    /* ---- settle: the gossip broadcast queues of every node drained ---- */
    s = drain(nodes, n, "memberlist.queue.broadcasts", deadline);
    settle_s = s;
    if (s >= 0) progress("broadcast queues drained in %.3f s", s);

    /* ---- window (and hold) ---- */
    STORE(&g_suspects, 0L);
    STORE(&g_deaths, 0L);
    STORE(&g_observing, 1);
    c0 = cpu_s();
    t_obs0 = now_s();
    progress("window: %.0f s", window);
    while (now_s() - t_obs0 < window) sleep_ms(20);
    cpu_node_min = (cpu_s() - c0) / n / (window / 60.0);
    rss1 = rss_kb();
    rss_node = rss0 >= 0 && rss1 >= 0 ? (rss1 - rss0) / n : -1;
    obs = hold > window ? hold : window;
    if (obs > window) {
      progress("hold: observing up to %.0f s in total", obs);
      while (now_s() - t_obs0 < obs) sleep_ms(100);
    }
    STORE(&g_observing, 0);
    suspects = LOAD(&g_suspects);
    deaths = LOAD(&g_deaths);
    progress("window: cpu %.4f s/node/min, rss %ld kB/node, suspects %ld, deaths %ld", cpu_node_min, rss_node,
             suspects, deaths);
    if (suspects > 0 || deaths > 0) status = "unstable";

    /* ---- workload ---- */
    if (workload) {
      int p;
      for (p = 0; p < NPATHS; p++) {
        if (!run_path(nodes, n, p, window, deadline, rng_next(), &load[p])) {
          rc_exit = 1;
          break;
        }
        load_done = p + 1;
      }
      s = drain(nodes, n, "memberlist.queue.broadcasts", deadline);
      if (s >= 0) progress("after the workload, broadcast queues drained in %.3f s", s);
    }

    /* ---- detect: the last node stops without leaving; leave: the second-to-last leaves ---- */
    detect_s = time_departure(nodes, n, n - 1, 0, deadline);
    if (detect_s < 0 && strcmp(status, "ok") == 0) status = "nodetect";
    leave_s = time_departure(nodes, n, n - 2, 1, deadline);
    if (leave_s < 0 && strcmp(status, "ok") == 0) status = "noleave";
  }

  /* ---- report ---- */
  {
    char impl[16], cs[32], js[32], vs[32], ss[32], ds[32], ls[32], cpu[32], rss[32], sus[32], dth[32];
    /* impl: "c" on one runtime; "c_rt<R>" with --runtimes R > 1, so a table keeps them apart. */
    if (nrt == 1)
      snprintf(impl, sizeof impl, "c");
    else
      snprintf(impl, sizeof impl, "c_rt%d", nrt);
    fmt_s(cs, sizeof cs, create_s);
    fmt_s(js, sizeof js, join_s);
    fmt_s(vs, sizeof vs, converge_s);
    fmt_s(ss, sizeof ss, settle_s);
    fmt_s(ds, sizeof ds, detect_s);
    fmt_s(ls, sizeof ls, leave_s);
    if (converged) {
      snprintf(cpu, sizeof cpu, "%.4f", cpu_node_min);
      if (rss_node >= 0)
        snprintf(rss, sizeof rss, "%ld", rss_node);
      else
        snprintf(rss, sizeof rss, "-");
      snprintf(sus, sizeof sus, "%ld", suspects);
      snprintf(dth, sizeof dth, "%ld", deaths);
    } else {
      snprintf(cpu, sizeof cpu, "-");
      snprintf(rss, sizeof rss, "-");
      snprintf(sus, sizeof sus, "-");
      snprintf(dth, sizeof dth, "-");
    }
    if (header)
      printf("impl\tn\trep\tjoin\tcreate_s\tjoin_s\tconverge_s\tsettle_s\twindow_s\tcpu_s_node_min\trss_kb_node\tsuspects\t"
             "deaths\tdetect_s\tleave_s\tstatus\n");
    printf("%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%g\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", impl, n, rep,
           random_join ? "random" : "seed", cs, js, vs, ss, window, cpu, rss, sus, dth, ds, ls, status);
    if (workload && load_done > 0) {
      int p;
      if (header)
        printf("impl\tn\trep\tpath\tsent\tdelivered\texpected\tseconds\trate_per_s\tp50_ms\tp99_ms\tcpu_s_node_min\n");
      for (p = 0; p < load_done; p++) {
        char p50[32], p99[32];
        if (load[p].p50 >= 0) {
          snprintf(p50, sizeof p50, "%.3f", load[p].p50);
          snprintf(p99, sizeof p99, "%.3f", load[p].p99);
        } else {
          snprintf(p50, sizeof p50, "-");
          snprintf(p99, sizeof p99, "-");
        }
        printf("%s\t%d\t%d\t%s\t%ld\t%ld\t%ld\t%.3f\t%.1f\t%s\t%s\t%.4f\n", impl, n, rep, path_names[p], load[p].sent,
               load[p].delivered, load[p].expected, load[p].seconds,
               load[p].seconds > 0 ? (double)load[p].delivered / load[p].seconds : 0.0, p50, p99, load[p].cpu_node_min);
      }
    }
    fflush(stdout);
  }

  /* ---- clean shutdown: stop every node first so none suspects the others while they go ---- */
  progress("shutting down");
  for (i = 0; i < n; i++) {
    if (nodes[i].gone || nodes[i].ml == NULL) continue;
    rc = ml_memberlist_shutdown(nodes[i].ml);
    if (rc != ML_OK) fprintf(stderr, "c_cluster: shutdown %s: %s\n", nodes[i].name, ml_err_string(rc));
  }
  for (i = 0; i < n; i++) {
    if (nodes[i].gone || nodes[i].ml == NULL) continue;
    rc = ml_memberlist_destroy(nodes[i].ml);
    if (rc != ML_OK) fprintf(stderr, "c_cluster: destroy %s: %s\n", nodes[i].name, ml_err_string(rc));
    nodes[i].ml = NULL;
    nodes[i].gone = 1;
  }
  for (i = 0; i < nrt; i++) {
    rc = ml_runtime_destroy(rts[i]);
    if (rc != ML_OK) {
      fprintf(stderr, "c_cluster: runtime destroy: %s\n", ml_err_string(rc));
      rc_exit = 1;
    }
  }
  free(nodes);
  free(g_lat);
  progress("done");
  return rc_exit;
}
