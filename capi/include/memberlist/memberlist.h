/*
 * libmemberlist — SWIM gossip membership (with Lifeguard), wire-compatible with HashiCorp's
 * memberlist. This is the stable C API.
 *
 * Conventions
 * - Functions are ml_<object>_<verb>; types ml_<object>_t; constants ML_.
 * - Handles are opaque. Every fallible call returns an ml_err_t: ML_OK (0) or a negative code
 *   (values are never reused). Calls that can fail for reasons worth a sentence also take
 *   `char *errstr, size_t errstr_size` (both may be NULL/0); the message is NUL-terminated and
 *   truncated to fit. There is no thread-local "last error".
 * - Strings are UTF-8 and NUL-terminated; byte buffers are (const uint8_t *, size_t).
 * - Ownership is stated on every function. Anything handed out is a snapshot that does not
 *   point into live state; the caller frees it with the named function.
 *
 * Threading
 * - A runtime (ml_runtime_t) is one event loop on one thread. A memberlist lives on one
 *   runtime: its own private one by default, or a shared one (many nodes per process).
 * - Every function may be called from any thread. Calls are queued onto the runtime's loop;
 *   calls that answer wait for the loop to complete them.
 * - Callbacks run on the runtime's loop thread and, for one memberlist, never concurrently.
 *   They must not block. A callback must not destroy or shut down its own memberlist: such a
 *   call returns ML_ERR_IN_CALLBACK instead of deadlocking. Calls that wait (join, leave,
 *   update, ping, send_reliable) likewise return ML_ERR_IN_CALLBACK from a callback.
 * - The loop thread blocks SIGPIPE for itself and installs no signal handlers.
 *
 * Lifecycle: ml_memberlist_create -> ml_memberlist_join -> ml_memberlist_leave ->
 * ml_memberlist_shutdown -> ml_memberlist_destroy. After shutdown returns no callback fires
 * again. Every registration that takes `void *user` also takes `user_free`, called exactly once
 * after the last callback (at destroy, or when the registration is replaced).
 */
#ifndef MEMBERLIST_MEMBERLIST_H
#define MEMBERLIST_MEMBERLIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ML_VERSION_MAJOR 0
#define ML_VERSION_MINOR 1
#define ML_VERSION_PATCH 0
/* 0xMMmmpp */
#define ML_VERSION ((ML_VERSION_MAJOR << 16) | (ML_VERSION_MINOR << 8) | ML_VERSION_PATCH)

/* The library's version as ML_VERSION encodes it; compare with the header you built against. */
uint32_t ml_version(void);
/* "0.1.0"; static storage. */
const char *ml_version_string(void);

/* ---------------------------------------------------------------------------------------- */
/* Errors                                                                                   */

typedef int32_t ml_err_t;
#define ML_OK 0
#define ML_ERR_INVALID_ARGUMENT (-1)  /* a NULL where a value is required, a bad value */
#define ML_ERR_UNKNOWN_KEY (-2)       /* configuration key not known */
#define ML_ERR_BAD_VALUE (-3)         /* configuration value does not parse or is out of range */
#define ML_ERR_INVALID_CONFIG (-4)    /* the configuration as a whole is inconsistent */
#define ML_ERR_CLOSED (-5)            /* the handle was shut down or destroyed */
#define ML_ERR_IN_CALLBACK (-6)       /* called from a callback where that would deadlock */
#define ML_ERR_TIMEOUT (-7)           /* leave/update/ping/send did not complete in time */
#define ML_ERR_NETWORK (-8)           /* bind, dial, read or write failed */
#define ML_ERR_JOIN_FAILED (-9)       /* no node could be joined */
#define ML_ERR_NOT_FOUND (-10)        /* no such member / key */
#define ML_ERR_TOO_LARGE (-11)        /* metadata over 512 bytes, message over a bound */
#define ML_ERR_KEY (-12)              /* key size not 16/24/32, removing the primary key, ... */
#define ML_ERR_NO_MEMORY (-13)
#define ML_ERR_INTERNAL (-14)         /* a bug: please report it with the error text */

/* A short English name of the code ("invalid argument"); static storage, never NULL. */
const char *ml_err_string(ml_err_t err);

/* ---------------------------------------------------------------------------------------- */
/* Runtime: one event loop on one thread                                                    */

typedef struct ml_runtime ml_runtime_t;

/* Starts a runtime. *out is owned by the caller: ml_runtime_destroy. */
ml_err_t ml_runtime_create(ml_runtime_t **out, char *errstr, size_t errstr_size);
/* Stops the loop and joins its thread. Every memberlist on it must be destroyed first
 * (ML_ERR_INVALID_ARGUMENT otherwise, and nothing is stopped). NULL is a no-op. */
ml_err_t ml_runtime_destroy(ml_runtime_t *rt);

/* ---------------------------------------------------------------------------------------- */
/* Configuration: string keys and values, backed by one property table                      */

typedef struct ml_config ml_config_t;

typedef enum ml_preset {
  ML_PRESET_LAN = 0,   /* memberlist's DefaultLANConfig */
  ML_PRESET_WAN = 1,   /* DefaultWANConfig */
  ML_PRESET_LOCAL = 2  /* DefaultLocalConfig */
} ml_preset_t;

/* A configuration with the preset's defaults. Owned by the caller: ml_config_destroy. */
ml_err_t ml_config_create(ml_config_t **out, ml_preset_t preset);
void ml_config_destroy(ml_config_t *cfg);
/* Sets one key ("probe_interval", "bind_addr", ...; see docs/config.md). Durations take Go
 * syntax ("200ms", "1m30s"); byte values (secret_key) take hex or base64; lists are
 * comma-separated. A bad key or value returns an error and leaves the configuration as it was. */
ml_err_t ml_config_set(ml_config_t *cfg, const char *key, const char *value, char *errstr, size_t errstr_size);
/* Writes the value of `key` as a string into buf (NUL-terminated, truncated to fit) and its full
 * length (without the NUL) to *len_out (may be NULL). */
ml_err_t ml_config_get(const ml_config_t *cfg, const char *key, char *buf, size_t buf_size, size_t *len_out);
/* Checks the whole configuration (e.g. probe_timeout <= probe_interval). */
ml_err_t ml_config_validate(const ml_config_t *cfg, char *errstr, size_t errstr_size);

/* ---------------------------------------------------------------------------------------- */
/* Members: immutable snapshots                                                             */

typedef enum ml_state {
  ML_STATE_ALIVE = 0,
  ML_STATE_SUSPECT = 1,
  ML_STATE_DEAD = 2,
  ML_STATE_LEFT = 3
} ml_state_t;

typedef struct ml_member ml_member_t;   /* one member; valid as long as the snapshot holding it */
typedef struct ml_members ml_members_t; /* a list of members */

size_t ml_members_count(const ml_members_t *list);
/* The i-th member, or NULL when i is out of range. Borrowed from the list. */
const ml_member_t *ml_members_get(const ml_members_t *list, size_t i);
void ml_members_destroy(ml_members_t *list);

/* Accessors; pointers are borrowed from the snapshot. */
const char *ml_member_name(const ml_member_t *m);
/* The address bytes as learned (4 bytes IPv4, or 16 bytes IPv6 / IPv4-mapped). */
const uint8_t *ml_member_addr(const ml_member_t *m, size_t *len_out);
/* "10.0.0.1:7946" or "[::1]:7946". */
const char *ml_member_address(const ml_member_t *m);
uint16_t ml_member_port(const ml_member_t *m);
const uint8_t *ml_member_meta(const ml_member_t *m, size_t *len_out);
ml_state_t ml_member_state(const ml_member_t *m);
uint32_t ml_member_incarnation(const ml_member_t *m);
/* Protocol and delegate versions: out[0..5] = pmin pmax pcur dmin dmax dcur. */
void ml_member_versions(const ml_member_t *m, uint8_t out[6]);

/* ---------------------------------------------------------------------------------------- */
/* Callbacks                                                                                */

typedef void (*ml_user_free_fn)(void *user);

typedef enum ml_event {
  ML_EVENT_JOIN = 0,
  ML_EVENT_LEAVE = 1,
  ML_EVENT_UPDATE = 2
} ml_event_t;

/* memberlist's EventDelegate. `member` is valid during the call only. */
typedef void (*ml_event_fn)(void *user, ml_event_t event, const ml_member_t *member);

/* memberlist's Delegate. Every function may be NULL. Byte buffers passed in are valid during
 * the call only; buffers the callback hands out are copied before it returns to the library. */
typedef struct ml_delegate {
  /* Write up to `limit` bytes of metadata into buf; return the length (> limit is an error). */
  size_t (*node_meta)(void *user, uint8_t *buf, size_t limit);
  void (*notify_msg)(void *user, const uint8_t *msg, size_t len);
  /* Hand out user broadcasts: call `emit(ctx, bytes, len)` for each, each costing `overhead`
   * bytes extra, within `limit` bytes in total. */
  void (*get_broadcasts)(void *user, size_t overhead, size_t limit,
                         void (*emit)(void *ctx, const uint8_t *msg, size_t len), void *ctx);
  /* Hand out the local state for a push/pull through `emit` (called at most once). */
  void (*local_state)(void *user, int join, void (*emit)(void *ctx, const uint8_t *buf, size_t len), void *ctx);
  void (*merge_remote_state)(void *user, const uint8_t *buf, size_t len, int join);
} ml_delegate_t;

/* ConflictDelegate: the same name seen at another address. */
typedef void (*ml_conflict_fn)(void *user, const ml_member_t *existing, const ml_member_t *other);
/* MergeDelegate: return 0 to accept a join's remote state, non-zero to refuse it; an error
 * message may be written into errbuf (size errbuf_size) and is reported by ml_memberlist_join. */
typedef int (*ml_merge_fn)(void *user, const ml_members_t *peers, char *errbuf, size_t errbuf_size);
/* AliveDelegate: return non-zero to ignore the alive message about `peer`. */
typedef int (*ml_alive_fn)(void *user, const ml_member_t *peer);
/* PingDelegate. */
typedef struct ml_ping_delegate {
  size_t (*ack_payload)(void *user, uint8_t *buf, size_t limit);
  void (*notify_ping_complete)(void *user, const ml_member_t *other, int64_t rtt_ns, const uint8_t *payload,
                               size_t len);
} ml_ping_delegate_t;

typedef enum ml_log_level {
  ML_LOG_DEBUG = 0,
  ML_LOG_INFO = 1,
  ML_LOG_WARN = 2,
  ML_LOG_ERROR = 3
} ml_log_level_t;
typedef void (*ml_log_fn)(void *user, ml_log_level_t level, const char *msg);

/* Registrations on a configuration, taken over by ml_memberlist_create. Replacing one calls the
 * previous user_free. `delegate` is copied. */
ml_err_t ml_config_set_delegate(ml_config_t *cfg, const ml_delegate_t *delegate, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_events(ml_config_t *cfg, ml_event_fn fn, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_conflict(ml_config_t *cfg, ml_conflict_fn fn, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_merge(ml_config_t *cfg, ml_merge_fn fn, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_alive(ml_config_t *cfg, ml_alive_fn fn, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_ping(ml_config_t *cfg, const ml_ping_delegate_t *ping, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_log(ml_config_t *cfg, ml_log_level_t min_level, ml_log_fn fn, void *user, ml_user_free_fn user_free);

/* ---------------------------------------------------------------------------------------- */
/* Keyring: shared live between the caller and the running node                            */

typedef struct ml_keyring ml_keyring_t;

/* A keyring backs at most one memberlist at a time. While it does, its operations run on that
 * memberlist's loop (the node's live keyring); from one of that memberlist's own callbacks they
 * return ML_ERR_IN_CALLBACK (ml_keyring_count/get: 0). After the memberlist shuts down the
 * keyring holds the node's last keys and works standalone again.
 * Keys are 16, 24 or 32 bytes (AES-128/192/256). The first key passed is the primary. */
ml_err_t ml_keyring_create(ml_keyring_t **out, const uint8_t *primary, size_t len);
/* Releases the caller's reference; a memberlist using it keeps its own. NULL is a no-op. */
void ml_keyring_destroy(ml_keyring_t *kr);
ml_err_t ml_keyring_add(ml_keyring_t *kr, const uint8_t *key, size_t len);
ml_err_t ml_keyring_use(ml_keyring_t *kr, const uint8_t *key, size_t len);
ml_err_t ml_keyring_remove(ml_keyring_t *kr, const uint8_t *key, size_t len);
size_t ml_keyring_count(const ml_keyring_t *kr);
/* Copies key i (0 = primary) into buf; returns its length, or 0 if i is out of range. */
size_t ml_keyring_get(const ml_keyring_t *kr, size_t i, uint8_t *buf, size_t buf_size);
/* Uses `kr` for the memberlist created from `cfg` (shared: changes apply at once). Its keys
 * replace any secret_key set on `cfg`. */
ml_err_t ml_config_set_keyring(ml_config_t *cfg, ml_keyring_t *kr);

/* ---------------------------------------------------------------------------------------- */
/* Memberlist                                                                               */

typedef struct ml_memberlist ml_memberlist_t;

/* Creates a node from `cfg` (copied; registrations move to the node) and starts it: binds its
 * sockets, becomes alive, starts its timers. `rt` NULL = a private runtime. *out is owned by the
 * caller: ml_memberlist_destroy. The bound port (with bind_port 0) is readable afterwards with
 * ml_memberlist_local. */
ml_err_t ml_memberlist_create(ml_memberlist_t **out, ml_runtime_t *rt, const ml_config_t *cfg, char *errstr,
                              size_t errstr_size);
/* Joins through `n` addresses ("host", "host:port", "name/host:port"); waits for every push/pull.
 * *contacted_out (may be NULL) = how many succeeded. ML_OK if at least one did; otherwise
 * ML_ERR_JOIN_FAILED with every failure (including a merge delegate's own text) in errstr. */
ml_err_t ml_memberlist_join(ml_memberlist_t *ml, const char *const *addrs, size_t n, int *contacted_out,
                            char *errstr, size_t errstr_size);
/* Gossips our leave and waits up to timeout_ms (0 = no limit) for it to spread. */
ml_err_t ml_memberlist_leave(ml_memberlist_t *ml, int64_t timeout_ms);
/* Stops the node: closes its sockets (the port is free when this returns) and timers; sends
 * nothing. No callback runs after it returns. Idempotent. Afterwards the snapshots (members,
 * local, num_members, health_score, metrics) and ml_memberlist_keyring keep working; join,
 * leave, update_node, the sends, queue_broadcast and ping return ML_ERR_CLOSED. */
ml_err_t ml_memberlist_shutdown(ml_memberlist_t *ml);
/* Shuts down if needed, calls every user_free, frees the handle. NULL is a no-op. */
ml_err_t ml_memberlist_destroy(ml_memberlist_t *ml);

/* Snapshots. Owned by the caller: ml_members_destroy. */
ml_err_t ml_memberlist_members(ml_memberlist_t *ml, ml_members_t **out);
/* A one-member list holding this node. */
ml_err_t ml_memberlist_local(ml_memberlist_t *ml, ml_members_t **out);
int ml_memberlist_num_members(ml_memberlist_t *ml);
int ml_memberlist_health_score(ml_memberlist_t *ml);
/* Re-reads node_meta and gossips it; waits up to timeout_ms (0 = no limit). */
ml_err_t ml_memberlist_update_node(ml_memberlist_t *ml, int64_t timeout_ms);

/* User messages to a member by name (looked up in the current membership). */
ml_err_t ml_memberlist_send_best_effort(ml_memberlist_t *ml, const char *name, const uint8_t *msg, size_t len);
ml_err_t ml_memberlist_send_reliable(ml_memberlist_t *ml, const char *name, const uint8_t *msg, size_t len);
/* A best-effort message to an address ("host:port"). */
ml_err_t ml_memberlist_send_to_address(ml_memberlist_t *ml, const char *addr, const uint8_t *msg, size_t len);
/* Queues a user broadcast for gossip; `name` (may be NULL) replaces a queued one of that name. */
ml_err_t ml_memberlist_queue_broadcast(ml_memberlist_t *ml, const char *name, const uint8_t *msg, size_t len);
/* Pings `name` at `addr` ("host:port"); *rtt_ns_out gets the round trip. */
ml_err_t ml_memberlist_ping(ml_memberlist_t *ml, const char *name, const char *addr, int64_t *rtt_ns_out);

/* The node's keyring (shared live). Borrowed: valid until ml_memberlist_destroy. */
ml_keyring_t *ml_memberlist_keyring(ml_memberlist_t *ml);

/* Counters named as memberlist's metrics ("memberlist.udp.sent", "memberlist.msg.alive", ...):
 * calls fn once per metric, synchronously, before returning. */
ml_err_t ml_memberlist_metrics(ml_memberlist_t *ml, void (*fn)(void *ctx, const char *name, double value),
                               void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MEMBERLIST_MEMBERLIST_H */
