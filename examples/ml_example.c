/* ml_example: one memberlist node from the command line.
 *
 *   ml_example --name NAME [--bind HOST:PORT] [--join ADDR]... [--preset lan|wan|local]
 *              [--key HEX] [--log debug|info|warn|error]
 *
 * Starts a node, joins the given addresses ("ip:port", "name/ip:port", "localhost:port"), prints
 * every membership change as it happens, and on SIGINT or SIGTERM leaves the cluster, shuts down
 * and exits 0.
 *
 * Signals: the library installs no signal handlers, so the program owns them. It blocks SIGINT
 * and SIGTERM before creating anything (threads the library starts inherit the mask) and waits
 * for them with sigwait() in the main thread: no handler, no async-signal-safety concerns. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memberlist/memberlist.h>

#define MAX_JOIN 16

static const char *state_name(ml_state_t s) {
  switch (s) {
    case ML_STATE_ALIVE: return "alive";
    case ML_STATE_SUSPECT: return "suspect";
    case ML_STATE_DEAD: return "dead";
    case ML_STATE_LEFT: return "left";
  }
  return "?";
}

/* Runs on the library's loop thread; stdio locks the stream. */
static void on_event(void *user, ml_event_t ev, const ml_member_t *m) {
  const char *what = ev == ML_EVENT_JOIN ? "JOIN" : ev == ML_EVENT_LEAVE ? "LEAVE" : "UPDATE";
  (void)user;
  printf("%s %s %s %s\n", what, ml_member_name(m), ml_member_address(m), state_name(ml_member_state(m)));
  fflush(stdout);
}

static void on_log(void *user, ml_log_level_t level, const char *msg) {
  static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERR"};
  (void)user;
  fprintf(stderr, "[%s] %s\n", (int)level >= 0 && (int)level < 4 ? names[level] : "?", msg);
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s --name NAME [--bind HOST:PORT] [--join ADDR]... [--preset lan|wan|local] [--key HEX]\n"
          "          [--log debug|info|warn|error]\n",
          argv0);
  return 2;
}

static int set(ml_config_t *cfg, const char *key, const char *value) {
  char err[256] = "";
  ml_err_t rc = ml_config_set(cfg, key, value, err, sizeof err);
  if (rc != ML_OK) fprintf(stderr, "%s=%s: %s (%s)\n", key, value, ml_err_string(rc), err);
  return rc == ML_OK;
}

int main(int argc, char **argv) {
  const char *name = NULL, *bind = "0.0.0.0:7946", *preset = "lan", *key = NULL, *log = NULL;
  const char *join[MAX_JOIN];
  size_t njoin = 0;
  ml_config_t *cfg = NULL;
  ml_memberlist_t *ml = NULL;
  ml_members_t *local = NULL;
  ml_preset_t p = ML_PRESET_LAN;
  char err[1024] = "", host[256];
  const char *colon;
  sigset_t stop;
  int i, sig = 0, contacted = 0;
  ml_err_t rc;

  for (i = 1; i < argc; i += 2) { /* --option value pairs */
    const char *opt = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (val == NULL) return usage(argv[0]);
    if (strcmp(opt, "--name") == 0) {
      name = val;
    } else if (strcmp(opt, "--bind") == 0) {
      bind = val;
    } else if (strcmp(opt, "--join") == 0) {
      if (njoin == MAX_JOIN) return usage(argv[0]);
      join[njoin++] = val;
    } else if (strcmp(opt, "--preset") == 0) {
      preset = val;
    } else if (strcmp(opt, "--key") == 0) {
      key = val;
    } else if (strcmp(opt, "--log") == 0) {
      log = val;
    } else {
      return usage(argv[0]);
    }
  }
  if (name == NULL) return usage(argv[0]);
  if (strcmp(preset, "wan") == 0) {
    p = ML_PRESET_WAN;
  } else if (strcmp(preset, "local") == 0) {
    p = ML_PRESET_LOCAL;
  } else if (strcmp(preset, "lan") != 0) {
    return usage(argv[0]);
  }
  colon = strrchr(bind, ':');
  if (colon == NULL || (size_t)(colon - bind) >= sizeof host) return usage(argv[0]);
  memcpy(host, bind, (size_t)(colon - bind));
  host[colon - bind] = '\0';

  /* Before any library thread exists: block the stop signals in every thread. */
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
    fprintf(stderr, "pthread_sigmask failed\n");
    return 1;
  }

  if (ml_config_create(&cfg, p) != ML_OK) return 1;
  if (!set(cfg, "name", name) || !set(cfg, "bind_addr", host) || !set(cfg, "bind_port", colon + 1) ||
      (key != NULL && !set(cfg, "secret_key", key))) {
    ml_config_destroy(cfg);
    return 2;
  }
  ml_config_set_events(cfg, on_event, NULL, NULL);
  if (log != NULL) {
    ml_log_level_t level = strcmp(log, "debug") == 0  ? ML_LOG_DEBUG
                           : strcmp(log, "info") == 0 ? ML_LOG_INFO
                           : strcmp(log, "warn") == 0 ? ML_LOG_WARN
                                                      : ML_LOG_ERROR;
    ml_config_set_log(cfg, level, on_log, NULL, NULL);
  }
  rc = ml_memberlist_create(&ml, NULL, cfg, err, sizeof err);
  ml_config_destroy(cfg);
  if (rc != ML_OK) {
    fprintf(stderr, "create: %s: %s\n", ml_err_string(rc), err);
    return 1;
  }
  if (ml_memberlist_local(ml, &local) == ML_OK) {
    printf("LISTENING %s %s\n", name, ml_member_address(ml_members_get(local, 0)));
    fflush(stdout);
    ml_members_destroy(local);
  }

  if (njoin > 0) {
    err[0] = '\0';
    rc = ml_memberlist_join(ml, join, njoin, &contacted, err, sizeof err);
    if (rc != ML_OK) {
      fprintf(stderr, "join: %s: %s\n", ml_err_string(rc), err);
      ml_memberlist_destroy(ml);
      return 1;
    }
    printf("JOINED %d\n", contacted);
    fflush(stdout);
  }

  if (sigwait(&stop, &sig) != 0) sig = 0;
  printf("LEAVING on signal %d\n", sig);
  fflush(stdout);
  rc = ml_memberlist_leave(ml, 5000);
  if (rc != ML_OK) fprintf(stderr, "leave: %s\n", ml_err_string(rc));
  if (ml_memberlist_shutdown(ml) != ML_OK || ml_memberlist_destroy(ml) != ML_OK) return 1;
  printf("STOPPED\n");
  return rc == ML_OK || rc == ML_ERR_TIMEOUT ? 0 : 1;
}
