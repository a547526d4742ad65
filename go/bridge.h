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
ml_err_t mlgo_set_ping(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_tcp_pings(ml_config_t *cfg, uintptr_t h);
ml_err_t mlgo_set_log(ml_config_t *cfg, ml_log_level_t min_level, uintptr_t h);
ml_err_t mlgo_set_transport(ml_config_t *cfg, uintptr_t h);
/* ml_memberlist_metrics with the Go collector behind handle h. */
ml_err_t mlgo_metrics(ml_memberlist_t *ml, uintptr_t h);

typedef void (*mlgo_emit_fn)(void *ctx, const uint8_t *buf, size_t len);
void mlgo_call_emit(mlgo_emit_fn emit, void *ctx, const uint8_t *buf, size_t len);

#endif
