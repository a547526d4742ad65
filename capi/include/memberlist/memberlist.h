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
 * - No call waits for a callback in flight (as in memberlist): a caller may hold a lock of its
 *   own around any call, Shutdown included, while its callbacks take that same lock.
 * - Notifications (the delegate's notify_msg, events, conflicts, notify_ping_complete) are
 *   queued by the loop and run in order, one at a time for one memberlist, on a notification
 *   thread of the runtime (memberlist's handler goroutine). They may block and may call any
 *   function, including shutdown and destroy of their own memberlist. Log callbacks run the
 *   same way on a queue of their own (so a blocked delegate holds no log line up; a log
 *   callback may run while a delegate runs). notify_msg for messages received over UDP waits in
 *   a queue of at most handoff_queue_depth; beyond it they are dropped with memberlist's warning
 *   ("handler queue full, dropping message (8) from=..."). At shutdown what is still queued is
 *   dropped; a notification already running may finish after shutdown has returned.
 * - Callbacks that answer (node_meta, get_broadcasts, local_state, merge_remote_state, merge,
 *   alive, node selection, ack_payload, the TCP-ping policy, the external transport) run on the
 *   loop thread and must not block: a lock they take must never be held around a call into the library.
 *   From inside them snapshots, sends, keyring operations and shutdown work (the shutdown
 *   completes right after the callback); calls that wait (join, leave, update, ping,
 *   send_reliable) return ML_ERR_IN_CALLBACK instead of deadlocking.
 * - The loop thread blocks SIGPIPE for itself and installs no signal handlers.
 *
 * Lifecycle: ml_memberlist_create -> ml_memberlist_join -> ml_memberlist_leave ->
 * ml_memberlist_shutdown -> ml_memberlist_destroy. After shutdown returns no new callback
 * starts. Every registration that takes `void *user` also takes `user_free`, called exactly
 * once after the last callback has returned (at destroy, when the registration is replaced, or
 * when a notification that was running at destroy returns).
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
#define ML_ERR_TIMEOUT (-7)           /* leave/update/ping did not complete in time */
#define ML_ERR_NETWORK (-8)           /* bind, dial, read or write failed (a reliable send that timed out too) */
#define ML_ERR_JOIN_FAILED (-9)       /* no node could be joined */
#define ML_ERR_NOT_FOUND (-10)        /* no such member / key */
#define ML_ERR_TOO_LARGE (-11)        /* metadata over meta_max_size (512), message over a bound */
#define ML_ERR_KEY (-12)              /* key size not 16/24/32, removing the primary key, ... */
#define ML_ERR_NO_MEMORY (-13)
#define ML_ERR_INTERNAL (-14)         /* a bug: please report it with the error text */
#define ML_ERR_NOT_SUPPORTED (-15)    /* not in this mode (an external-transport input on a memberlist
                                         with its own sockets) */
#define ML_ERR_BUSY (-16)             /* still in use: a runtime with memberlists on it, a keyring
                                         already backing another memberlist */

/* A short English name of the code ("invalid argument"); static storage, never NULL. */
const char *ml_err_string(ml_err_t err);

/* ---------------------------------------------------------------------------------------- */
/* Runtime: one event loop on one thread                                                    */

typedef struct ml_runtime ml_runtime_t;

/* Starts a runtime. *out is owned by the caller: ml_runtime_destroy. */
ml_err_t ml_runtime_create(ml_runtime_t **out, char *errstr, size_t errstr_size);
/* A driven runtime: no thread of its own; the caller runs its loop, for an embedder with its own
 * poller (the Go package parks a goroutine in Go's netpoller). *fd becomes readable when the loop
 * has work; poll it (edge- or level-triggered), never close it (the runtime owns it). Call
 * ml_runtime_drive whenever it is readable or the time the last drive returned has passed, from
 * one thread at a time; that thread is the loop thread for the call (callbacks that answer run on
 * it). ml_runtime_destroy on a driven runtime returns only after a drive has seen the loop end,
 * so the driver must go on until ml_runtime_drive returns ML_ERR_CLOSED, and must not touch rt
 * after that. */
ml_err_t ml_runtime_create_driven(ml_runtime_t **out, int *fd, char *errstr, size_t errstr_size);
/* Runs whatever is ready (due timers, readable sockets, queued work) without blocking. *next_ms:
 * run again within this many milliseconds even if the fd stays quiet (-1: only when it becomes
 * readable; 0: at once). ML_ERR_CLOSED: the loop has ended (ml_runtime_destroy began): stop.
 * Errors: rt or next_ms NULL (ML_ERR_INVALID_ARGUMENT), rt not driven (ML_ERR_NOT_SUPPORTED),
 * called from a callback of this runtime (ML_ERR_IN_CALLBACK). */
ml_err_t ml_runtime_drive(ml_runtime_t *rt, int *next_ms);
/* Stops the loop and joins its thread (a driven runtime: waits until a drive saw it end). Every memberlist on it must be destroyed first
 * (ML_ERR_BUSY otherwise, and nothing is stopped). From a callback on its own loop thread:
 * ML_ERR_IN_CALLBACK. NULL is a no-op. */
ml_err_t ml_runtime_destroy(ml_runtime_t *rt);
/* Timer coalescing for many memberlists on one runtime: their protocol timers (probe, gossip,
 * push/pull, suspicion, ...) fire on a shared grid of `ms` milliseconds of CLOCK_MONOTONIC, at
 * most `ms` late and never early, so the loop wakes once for many nodes' timers instead of once
 * each. 0 (the default) fires every timer at its own millisecond. Takes effect as each timer is
 * next armed. Any thread. Errors: rt NULL or ms over 100 (ML_ERR_INVALID_ARGUMENT). */
ml_err_t ml_runtime_set_timer_coalescing(ml_runtime_t *rt, uint32_t ms);

/* Notifications on the embedder's threads (driven runtimes). Notifications are the callbacks that
 * answer nothing: notify_msg, the events, conflicts, ping completions, log lines. By default a
 * runtime runs them on threads of its own (never on the loop thread: a user's lock held around a
 * call into the library must not deadlock against them). ml_runtime_notify_external hands them to
 * the caller instead, for an embedder whose threads are cheaper to call back on (Go: a call into
 * Go from a thread Go did not start costs tens of microseconds). The contract:
 * - After every ml_runtime_drive, ml_notify_wanted says how many runners the runtime asks for;
 *   start that many. (ml_runtime_drive returns *next_ms 0 as soon as one is wanted.)
 * - A runner is one call of ml_notify_run, on any thread but the driver's: it runs ready
 *   notifications, each memberlist's in order and one at a time, until none is left, and returns.
 *   A callback that blocks holds up that memberlist's notifications only; other memberlists'
 *   work asks for runners of its own. Never wait inside the driver for a runner to finish.
 * - *out is the caller's, valid after ml_runtime_destroy; free it with ml_notify_release once no
 *   runner uses it (a runner still inside a callback when the runtime is destroyed returns later).
 * Only before any memberlist is created on rt. Errors: NULL arguments (ML_ERR_INVALID_ARGUMENT),
 * rt not driven (ML_ERR_NOT_SUPPORTED), a memberlist exists or was created on rt, or this was
 * done before (ML_ERR_BUSY). */
typedef struct ml_notify ml_notify_t;
ml_err_t ml_runtime_notify_external(ml_runtime_t *rt, ml_notify_t **out);
/* How many runners were asked for since the last call (0: none). Any thread. */
ml_err_t ml_notify_wanted(ml_notify_t *n, size_t *count);
/* Runs ready notifications on the calling thread until none is ready. ML_ERR_CLOSED: the runtime
 * has shut down and nothing was left to run. From a callback (a notification's or a loop's):
 * ML_ERR_IN_CALLBACK, nothing run. */
ml_err_t ml_notify_run(ml_notify_t *n);
/* Frees the handle. NULL is a no-op. */
void ml_notify_release(ml_notify_t *n);

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
/* Checks the whole configuration (e.g. a node name is set, durations are positive). */
ml_err_t ml_config_validate(const ml_config_t *cfg, char *errstr, size_t errstr_size);
/* The i-th configuration key (i from 0), or NULL past the last: every key ml_config_set and
 * ml_config_get take, in the order of docs/config.md. Static storage. Bindings use it to check
 * that their own configuration types cover the library's. */
const char *ml_config_key_at(size_t i);

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
/* Config.DisableTcpPingsForNode: asked when a probe of the node named `node` got no direct ack,
 * before the fallback TCP ping; return non-zero for no TCP ping to that node this time. */
typedef int (*ml_tcp_pings_fn)(void *user, const char *node);
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
/* A log line in memberlist's words, without its "[WARN] " prefix ("memberlist: Refuting a suspect
 * message (from: node-2)"); memberlist's prefixes are [DEBUG] [INFO] [WARN] [ERR]. `msg` is valid
 * during the call only. Runs on a notification thread, in order (see Threading). */
typedef void (*ml_log_fn)(void *user, ml_log_level_t level, const char *msg);

/* Registrations on a configuration, taken over by ml_memberlist_create. Replacing one calls the
 * previous user_free. `delegate` is copied. Registrations are single-use: once a memberlist has
 * taken them, creating another from the same config returns ML_ERR_INVALID_ARGUMENT (a config
 * without registrations may make any number of memberlists). */
ml_err_t ml_config_set_delegate(ml_config_t *cfg, const ml_delegate_t *delegate, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_events(ml_config_t *cfg, ml_event_fn fn, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_conflict(ml_config_t *cfg, ml_conflict_fn fn, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_merge(ml_config_t *cfg, ml_merge_fn fn, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_alive(ml_config_t *cfg, ml_alive_fn fn, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_ping(ml_config_t *cfg, const ml_ping_delegate_t *ping, void *user, ml_user_free_fn user_free);
ml_err_t ml_config_set_disable_tcp_pings_for_node(ml_config_t *cfg, ml_tcp_pings_fn fn, void *user,
                                                  ml_user_free_fn user_free);
/* Zone-aware gossip: grafana/memberlist's NodeSelectionDelegate (Config.NodeSelection). Asked
 * each time this node picks gossip targets (every gossip_interval, except rounds with certainly
 * nothing to send: no queued broadcasts and no ml_delegate_t registered) and push/pull targets
 * (every push_pull_interval); never for probes, joins or reconnects.
 * `candidates` is every member this node knows, itself and suspect, dead and left members
 * included, in no particular order; `selected` has ml_members_count(candidates) bytes, all 0 on
 * entry: set selected[i] non-zero for each candidate the targets may be drawn from. Return the
 * index of a preferred candidate (always picked first when the usual rules allow: not this node,
 * alive or suspect or recently dead for gossip, alive for push/pull; it need not be selected), or
 * -1 for none. Targets are then drawn at random among the selected candidates the usual rules
 * allow. A return outside [-1, count) is logged at error level and treated as -1. Nothing selected
 * and no preferred node: nothing is sent that round (queued broadcasts wait for the next).
 * Runs on the loop thread like alive and merge: it must be quick and must not block (a cluster of
 * 1,000 nodes calls it with 1,000 candidates about 5 times a second); the candidates and
 * `selected` are valid during the call only. Without a registration nothing of this runs and
 * targets are picked as in hashicorp/memberlist. */
typedef int64_t (*ml_node_selection_fn)(void *user, const ml_members_t *candidates, uint8_t *selected);
ml_err_t ml_config_set_node_selection(ml_config_t *cfg, ml_node_selection_fn fn, void *user,
                                      ml_user_free_fn user_free);
/* Lines below min_level are neither formatted nor delivered. */
ml_err_t ml_config_set_log(ml_config_t *cfg, ml_log_level_t min_level, ml_log_fn fn, void *user, ml_user_free_fn user_free);

/* ---------------------------------------------------------------------------------------- */
/* External transport: the embedding program moves the bytes                               */

/* With a transport registered, the memberlist opens no socket: it hands datagrams and streams to
 * these callbacks and the embedder feeds what arrives into ml_memberlist_deliver_packet /
 * accept_stream / stream_data / stream_end. The library still frames, encrypts, decodes, bounds
 * and times out everything; the embedder only carries datagrams and byte streams (Go's
 * memberlist.Transport: WriteToAddress = send_packet, DialAddressTimeout + write + read =
 * open_stream, PacketCh = deliver_packet, StreamCh = accept_stream + stream_data + stream_end).
 *
 * The configuration must then set "advertise_addr" (an IP literal) and "advertise_port" (not 0):
 * they are advertised as they are (Go: Transport.FinalAdvertiseAddr). bind_addr/bind_port are
 * ignored. Addresses are "ip:port" ("[::1]:7946" for IPv6); `name` is the node's name when known,
 * else "" (Go's Address.Name).
 *
 * Streams: every stream, outbound or inbound, has an id unique within this memberlist and ends
 * with exactly one call of reply_stream or close_stream for that id; after it the id is dead and
 * input for it is ignored.
 * - Outbound (open_stream): dial `addr`, write `data`. If expect_reply, pass every byte read back
 *   to ml_memberlist_stream_data(id, ...) and call ml_memberlist_stream_end(id, NULL) at EOF (or
 *   with an error text on a read error); otherwise call ml_memberlist_stream_end(id, NULL) once
 *   `data` is written (or with an error text). The exchange must end within timeout_ms; the
 *   library gives up on it then (close_stream). A failed dial: ml_memberlist_stream_end(id, text).
 * - Inbound: for each connection call ml_memberlist_accept_stream (gets the id), pass what is read
 *   to ml_memberlist_stream_data and call ml_memberlist_stream_end(id, NULL) at EOF. The library
 *   answers with reply_stream(id, data, len) (write data, possibly empty, then close) or
 *   close_stream(id) (close without writing).
 *
 * Callbacks run on the loop thread, must not block and must copy `data` (valid during the call
 * only). They may call the four inputs (those only queue work), for this or another memberlist.
 * After ml_memberlist_shutdown returns, no callback runs again and the inputs return
 * ML_ERR_CLOSED; the embedder must not call them on a destroyed handle. */
typedef struct ml_transport {
  void (*send_packet)(void *user, const char *addr, const char *name, const uint8_t *data, size_t len);
  void (*open_stream)(void *user, uint64_t id, const char *addr, const char *name, int64_t timeout_ms,
                      const uint8_t *data, size_t len, int expect_reply);
  void (*reply_stream)(void *user, uint64_t id, const uint8_t *data, size_t len);
  void (*close_stream)(void *user, uint64_t id);
} ml_transport_t;

/* Registers an external transport (`transport` is copied; every function is required). */
ml_err_t ml_config_set_transport(ml_config_t *cfg, const ml_transport_t *transport, void *user,
                                 ml_user_free_fn user_free);

/* ---------------------------------------------------------------------------------------- */
/* Keyring: shared live between the caller and the running node                            */

typedef struct ml_keyring ml_keyring_t;

/* A keyring backs at most one memberlist at a time (ml_memberlist_create: ML_ERR_BUSY). While it does, its operations run on that
 * memberlist's loop (the node's live keyring), also from that memberlist's own callbacks. After the memberlist shuts down the
 * keyring holds the node's last keys and works standalone again.
 * Keys are 16, 24 or 32 bytes (AES-128/192/256). The first key passed is the primary.
 * primary NULL with len 0 makes an empty keyring (memberlist's NewKeyring(nil, nil)): a
 * memberlist using it sends plaintext, and the first key added later becomes the primary and
 * turns encryption on at once, as in memberlist. */
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
/* Joins through `n` addresses ("host", "host:port", "name/host:port"; host is an IP literal,
 * "[v6]", or a DNS name, resolved on the calling thread, every address it resolves to being
 * contacted; a missing port is the node's own bind port, or with an external transport its
 * advertise port); waits for every push/pull.
 * *contacted_out (may be NULL) = how many push/pulls succeeded. ML_OK if at least one did; then
 * errstr names the addresses that could not be parsed or resolved, if any. Otherwise ML_ERR_JOIN_FAILED with every failure (lookup,
 * dial, a merge delegate's own text) in errstr. */
ml_err_t ml_memberlist_join(ml_memberlist_t *ml, const char *const *addrs, size_t n, int *contacted_out,
                            char *errstr, size_t errstr_size);
/* Gossips our leave and waits up to timeout_ms (0 = no limit) for it to spread. */
ml_err_t ml_memberlist_leave(ml_memberlist_t *ml, int64_t timeout_ms);
/* Stops the node: closes its sockets (the port is free when this returns) and timers; sends
 * nothing. Never waits for a callback: no new callback starts after it returns (one already
 * running may finish). Idempotent; may be called from any callback (from one on the loop
 * thread the sockets close right after that callback returns). Afterwards the snapshots (members,
 * local, num_members, health_score, metrics) and ml_memberlist_keyring keep working; join,
 * leave, update_node, the sends, queue_broadcast and ping return ML_ERR_CLOSED. */
ml_err_t ml_memberlist_shutdown(ml_memberlist_t *ml);
/* Shuts down if needed, frees the handle and calls every user_free (after the last callback:
 * from a notification, or while one runs, user_free follows when it returns). NULL is a no-op.
 * May be called from a notification of the same memberlist; the handle is invalid afterwards. */
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
/* A best-effort message to an address ("host:port", or "name/host:port"). */
ml_err_t ml_memberlist_send_to_address(ml_memberlist_t *ml, const char *addr, const uint8_t *msg, size_t len);
/* A reliable message (a stream) to an address ("name/host:port" or "host:port"), member or not,
 * as memberlist's SendReliable dials the node's address; waits until it is written. */
ml_err_t ml_memberlist_send_reliable_to_address(ml_memberlist_t *ml, const char *addr, const uint8_t *msg,
                                                size_t len);
/* Queues a user broadcast for gossip; `name` (may be NULL) replaces a queued one of that name. */
ml_err_t ml_memberlist_queue_broadcast(ml_memberlist_t *ml, const char *name, const uint8_t *msg, size_t len);
/* Pings `name` at `addr` ("host:port"); *rtt_ns_out gets the round trip. */
ml_err_t ml_memberlist_ping(ml_memberlist_t *ml, const char *name, const char *addr, int64_t *rtt_ns_out);

/* External-transport input (see ml_transport_t). Any thread, including the transport's own
 * callbacks; they never block (the work is queued on the loop). `from` is "ip:port". Errors:
 * ML_ERR_NOT_SUPPORTED without an external transport, ML_ERR_CLOSED after shutdown,
 * ML_ERR_INVALID_ARGUMENT for NULLs or an unparsable `from`. Bytes are copied. */
ml_err_t ml_memberlist_deliver_packet(ml_memberlist_t *ml, const char *from, const uint8_t *data, size_t len);
/* An inbound stream from `from`: *id_out gets its id. */
ml_err_t ml_memberlist_accept_stream(ml_memberlist_t *ml, const char *from, uint64_t *id_out);
ml_err_t ml_memberlist_stream_data(ml_memberlist_t *ml, uint64_t id, const uint8_t *data, size_t len);
/* The embedder's side of stream `id` ended: error NULL = EOF (or, outbound without a reply
 * expected, "written"); otherwise what went wrong (reported in join errors and logs). */
ml_err_t ml_memberlist_stream_end(ml_memberlist_t *ml, uint64_t id, const char *error);

/* The node's keyring (shared live). Borrowed: valid until ml_memberlist_destroy. */
ml_keyring_t *ml_memberlist_keyring(ml_memberlist_t *ml);

/* Counters named as memberlist's metrics ("memberlist.udp.sent", "memberlist.msg.alive", ...):
 * calls fn once per metric, synchronously, before returning. */
ml_err_t ml_memberlist_metrics(ml_memberlist_t *ml, void (*fn)(void *ctx, const char *name, double value),
                               void *ctx);

/* memberlist's per-event metrics, recorded since the last call and drained by this one, oldest
 * first: the timers "memberlist.probeNode" (one probe, from the ping to the ack or the end of the
 * probe period), "memberlist.gossip" (one gossip round's work) and "memberlist.pushPullNode" (a
 * push/pull this node started, until the reply is merged or fails), in milliseconds; and
 * "memberlist.size.local" (bytes of the local state sent in a push/pull, memberlist's gauge).
 * At most 256 are kept between calls; older ones are dropped and counted by
 * "memberlist.samples.dropped" in ml_memberlist_metrics. One reader should drain them (the Go
 * package does, once a second). Calls fn synchronously, before returning. */
ml_err_t ml_memberlist_metric_samples(ml_memberlist_t *ml,
                                      void (*fn)(void *ctx, const char *name, double value), void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MEMBERLIST_MEMBERLIST_H */
