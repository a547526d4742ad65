// The C half of the cgo bridge (see bridge.h). The Go trampolines it calls are in callbacks.go.
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "bridge.h"

#include "_cgo_export.h"

static size_t tr_node_meta(void *user, uint8_t *buf, size_t limit) {
  return mlgoNodeMeta((uintptr_t)user, buf, limit);
}
static void tr_notify_msg(void *user, const uint8_t *msg, size_t len) {
  mlgoNotifyMsg((uintptr_t)user, (uint8_t *)msg, len);
}
static void tr_get_broadcasts(void *user, size_t overhead, size_t limit,
                              void (*emit)(void *ctx, const uint8_t *msg, size_t len), void *ctx) {
  mlgoGetBroadcasts((uintptr_t)user, overhead, limit, emit, ctx);
}
static void tr_local_state(void *user, int join, void (*emit)(void *ctx, const uint8_t *buf, size_t len),
                           void *ctx) {
  mlgoLocalState((uintptr_t)user, join, emit, ctx);
}
static void tr_merge_remote_state(void *user, const uint8_t *buf, size_t len, int join) {
  mlgoMergeRemoteState((uintptr_t)user, (uint8_t *)buf, len, join);
}
static void tr_event(void *user, ml_event_t event, const ml_member_t *member) {
  mlgoEvent((uintptr_t)user, (int)event, (ml_member_t *)member);
}
static void tr_conflict(void *user, const ml_member_t *existing, const ml_member_t *other) {
  mlgoConflict((uintptr_t)user, (ml_member_t *)existing, (ml_member_t *)other);
}
static int tr_merge(void *user, const ml_members_t *peers, char *errbuf, size_t errbuf_size) {
  return mlgoMerge((uintptr_t)user, (ml_members_t *)peers, errbuf, errbuf_size);
}
static int tr_alive(void *user, const ml_member_t *peer) {
  return mlgoAlive((uintptr_t)user, (ml_member_t *)peer);
}
static int64_t tr_node_selection(void *user, const ml_members_t *candidates, uint8_t *selected) {
  return mlgoNodeSelection((uintptr_t)user, (ml_members_t *)candidates, selected);
}
static size_t tr_ack_payload(void *user, uint8_t *buf, size_t limit) {
  return mlgoAckPayload((uintptr_t)user, buf, limit);
}
static void tr_ping_complete(void *user, const ml_member_t *other, int64_t rtt_ns, const uint8_t *payload,
                             size_t len) {
  mlgoPingComplete((uintptr_t)user, (ml_member_t *)other, rtt_ns, (uint8_t *)payload, len);
}
static int tr_tcp_pings(void *user, const char *node) { return mlgoDisableTcpPings((uintptr_t)user, (char *)node); }
static void tr_log(void *user, ml_log_level_t level, const char *msg) {
  mlgoLog((uintptr_t)user, (int)level, (char *)msg);
}
static void tr_send_packet(void *user, const char *addr, const char *name, const uint8_t *data, size_t len) {
  mlgoSendPacket((uintptr_t)user, (char *)addr, (char *)name, (uint8_t *)data, len);
}
static void tr_open_stream(void *user, uint64_t id, const char *addr, const char *name, int64_t timeout_ms,
                           const uint8_t *data, size_t len, int expect_reply) {
  mlgoOpenStream((uintptr_t)user, id, (char *)addr, (char *)name, timeout_ms, (uint8_t *)data, len, expect_reply);
}
static void tr_reply_stream(void *user, uint64_t id, const uint8_t *data, size_t len) {
  mlgoReplyStream((uintptr_t)user, id, (uint8_t *)data, len);
}
static void tr_close_stream(void *user, uint64_t id) { mlgoCloseStream((uintptr_t)user, id); }
static void tr_free(void *user) { mlgoFreeHandle((uintptr_t)user); }

ml_err_t mlgo_set_delegate(ml_config_t *cfg, uintptr_t h) {
  static const ml_delegate_t d = {tr_node_meta, tr_notify_msg, tr_get_broadcasts, tr_local_state,
                                  tr_merge_remote_state};
  return ml_config_set_delegate(cfg, &d, (void *)h, tr_free);
}
ml_err_t mlgo_set_events(ml_config_t *cfg, uintptr_t h) {
  return ml_config_set_events(cfg, tr_event, (void *)h, tr_free);
}
ml_err_t mlgo_set_conflict(ml_config_t *cfg, uintptr_t h) {
  return ml_config_set_conflict(cfg, tr_conflict, (void *)h, tr_free);
}
ml_err_t mlgo_set_merge(ml_config_t *cfg, uintptr_t h) {
  return ml_config_set_merge(cfg, tr_merge, (void *)h, tr_free);
}
ml_err_t mlgo_set_alive(ml_config_t *cfg, uintptr_t h) {
  return ml_config_set_alive(cfg, tr_alive, (void *)h, tr_free);
}
ml_err_t mlgo_set_node_selection(ml_config_t *cfg, uintptr_t h) {
  return ml_config_set_node_selection(cfg, tr_node_selection, (void *)h, tr_free);
}
ml_err_t mlgo_set_ping(ml_config_t *cfg, uintptr_t h) {
  static const ml_ping_delegate_t p = {tr_ack_payload, tr_ping_complete};
  return ml_config_set_ping(cfg, &p, (void *)h, tr_free);
}
ml_err_t mlgo_set_tcp_pings(ml_config_t *cfg, uintptr_t h) {
  return ml_config_set_disable_tcp_pings_for_node(cfg, tr_tcp_pings, (void *)h, tr_free);
}
ml_err_t mlgo_set_log(ml_config_t *cfg, ml_log_level_t min_level, uintptr_t h) {
  return ml_config_set_log(cfg, min_level, tr_log, (void *)h, tr_free);
}

ml_err_t mlgo_set_transport(ml_config_t *cfg, uintptr_t h) {
  static const ml_transport_t t = {tr_send_packet, tr_open_stream, tr_reply_stream, tr_close_stream};
  return ml_config_set_transport(cfg, &t, (void *)h, tr_free);
}

typedef struct metric_sink {
  mlgo_metric_t *out;
  size_t cap, n;
} metric_sink_t;
static void tr_metric(void *ctx, const char *name, double value) {
  metric_sink_t *s = (metric_sink_t *)ctx;
  if (s->n >= s->cap) return;
  snprintf(s->out[s->n].name, sizeof s->out[s->n].name, "%s", name);
  s->out[s->n].value = value;
  s->n++;
}
ml_err_t mlgo_metrics(ml_memberlist_t *ml, mlgo_metric_t *out, size_t cap, size_t *n) {
  metric_sink_t s = {out, cap, 0};
  ml_err_t rc = ml_memberlist_metrics(ml, tr_metric, &s);
  *n = s.n;
  return rc;
}

ml_err_t mlgo_metric_samples(ml_memberlist_t *ml, mlgo_metric_t *out, size_t cap, size_t *n) {
  metric_sink_t s = {out, cap, 0};
  ml_err_t rc = ml_memberlist_metric_samples(ml, tr_metric, &s);
  *n = s.n;
  return rc;
}

int mlgo_dup_nonblock(int fd) {
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d >= 0 && fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK) != 0) {
    int e = errno;
    close(d);
    errno = e;
    return -1;
  }
  return d;
}

int mlgo_fd_readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

void mlgo_call_emit(mlgo_emit_fn emit, void *ctx, const uint8_t *buf, size_t len) { emit(ctx, buf, len); }
