/* C side of the cgo bridge: registration helpers that pass a cgo.Handle (as uintptr_t) as the
 * `void *user` of every libmemberlist registration, and small calls through C function pointers.
 * No Go pointer is ever stored by C: only handles (integers). */
#ifndef LIBMEMBERLIST_GO_BRIDGE_H
#define LIBMEMBERLIST_GO_BRIDGE_H

#include <stdint.h>
#include <stdlib.h>
#include <memberlist/memberlist.h>

ml_err_t mlgo_set_delegate(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_events(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_conflict(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_merge(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_alive(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_node_selection(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_ping(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_tcp_pings(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_log(ml_config_t *cfg, ml_log_level_t min_level, uintptr_t h);
ml_err_t mlgo_set_transport(ml_config_t *cfg, uintptr_t h);
/* One metric of ml_memberlist_metrics, copied. */
typedef struct mlgo_metric {
  char name[56];
  double value;
} mlgo_metric_t;
/* ml_memberlist_metrics into out[0..cap) in one call (no callback into Go per value: each of
 * those costs a cgo callback); *n is the count stored. Values past cap are left out. */
ml_err_t mlgo_metrics(ml_memberlist_t *ml, mlgo_metric_t *out, size_t cap, size_t *n);
/* ml_memberlist_metric_samples, batched the same way. */
ml_err_t mlgo_metric_samples(ml_memberlist_t *ml, mlgo_metric_t *out, size_t cap, size_t *n);

typedef void (*mlgo_emit_fn)(void *ctx, const uint8_t *buf, size_t len);
/* A close-on-exec, non-blocking duplicate of fd, or -1 with errno set. */
int mlgo_dup_nonblock(int fd);
/* 1 if fd is readable now (poll with timeout 0), else 0. */
int mlgo_fd_readable(int fd);
void mlgo_call_emit(mlgo_emit_fn emit, void *ctx, const uint8_t *buf, size_t len);

#endif
