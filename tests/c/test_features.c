/* Labels, compression, and key rotation on a running cluster.
 * - Two clusters with different labels on one network (127.0.0.x) stay apart: a join across
 *   fails, a message across is dropped (counted), each cluster keeps exactly its own members.
 * - Compression on and off, LZW and Snappy in one cluster: a Snappy node, an LZW node and a
 *   node without enable_compression join and exchange large compressible messages (packets and
 *   streams) intact both ways; compression_algorithm refuses anything but lzw and snappy.
 * - Key rotation while running: a 3-node cluster on key A installs key B everywhere, makes it
 *   primary, removes A, and keeps working; a newcomer with only A is kept out, one with B joins.
 *   (test_encryption covers the keyring API itself and a wrong key at join.)
 * - Metadata beyond 512 bytes (meta_max_size): two nodes set to 1200 carry 1000 bytes each way
 *   and an update to 1200; 1201 is refused (ML_ERR_TOO_LARGE); bad values of the key and a
 *   value no packet could carry are refused with a message; the default stays at 512.
 * - Name reuse with a new address (reclaim_name_on_new_address): a node killed and restarted at
 *   once under its name on another IP is adopted at its new address by the nodes that still held
 *   it alive (their ping to the old address goes unanswered), with no conflict reported; the key
 *   defaults to false and refuses a non-boolean. */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#define KEY_A_HEX "000102030405060708090a0b0c0d0e0f"
static const uint8_t KEY_A[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t KEY_B[32] = {0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba,
                                  0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5,
                                  0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};


static void wait_members(node_t *nodes, int count, int expected) {
  members_cond_t c;
  c.nodes = nodes;
  c.count = count;
  c.expected = expected;
  assert_true(wait_until(all_see, &c, 15000));
}

static void on_metric(void *ctx, const char *name, double value) {
  if (strcmp(name, "memberlist.packets.dropped") == 0) *(double *)ctx = value;
}
typedef struct {
  ml_memberlist_t *ml;
  double above;
} dropped_cond_t;
static int dropped_more(void *arg) {
  dropped_cond_t *c = (dropped_cond_t *)arg;
  double v = 0;
  if (ml_memberlist_metrics(c->ml, on_metric, &v) != ML_OK) return 0;
  return v > c->above;
}

static ml_config_t *labelled(node_t *n, int index, const char *label) {
  char err[256];
  ml_config_t *cfg = fast_config(n, index, NULL);
  assert_int_equal(ml_config_set(cfg, "label", label, err, sizeof err), ML_OK);
  return cfg;
}

static void test_labels_keep_clusters_apart(void **state) {
  node_t x[2], y[2];
  char err[512];
  const char *addrs[1];
  int contacted = 9;
  dropped_cond_t dc;
  (void)state;

  start_node(&x[0], NULL, labelled(&x[0], 0, "cluster-x"));
  start_node(&x[1], NULL, labelled(&x[1], 1, "cluster-x"));
  start_node(&y[0], NULL, labelled(&y[0], 2, "cluster-y"));
  start_node(&y[1], NULL, labelled(&y[1], 3, "cluster-y"));
  join_node(&x[1], &x[0]);
  join_node(&y[1], &y[0]);
  wait_members(x, 2, 2);
  wait_members(y, 2, 2);

  /* A join across the label boundary fails (the other side closes the stream unanswered). */
  addrs[0] = y[0].addr;
  err[0] = '\0';
  assert_int_equal(ml_memberlist_join(x[0].ml, addrs, 1, &contacted, err, sizeof err), ML_ERR_JOIN_FAILED);
  assert_int_equal(contacted, 0);
  assert_true(strlen(err) > 0);

  /* A packet across is dropped and counted, never delivered. */
  dc.ml = y[0].ml;
  dc.above = 0;
  assert_int_equal(ml_memberlist_metrics(y[0].ml, on_metric, &dc.above), ML_OK);
  assert_int_equal(ml_memberlist_send_to_address(x[0].ml, y[0].addr, (const uint8_t *)"be:x", 4), ML_OK);
  assert_true(wait_until(dropped_more, &dc, 10000));
  assert_int_equal(LOAD(y[0].best_effort_msgs), 0);

  /* Same label, same message: delivered. Each cluster still holds its own two members. */
  assert_int_equal(ml_memberlist_send_to_address(y[1].ml, y[0].addr, (const uint8_t *)"be:y", 4), ML_OK);
  wait_count(&y[0].best_effort_msgs, 1, 10000);
  assert_int_equal(LOAD(y[0].best_effort_msgs), 1);
  assert_int_equal(ml_memberlist_num_members(x[0].ml), 2);
  assert_int_equal(ml_memberlist_num_members(x[1].ml), 2);
  assert_int_equal(ml_memberlist_num_members(y[0].ml), 2);
  assert_int_equal(ml_memberlist_num_members(y[1].ml), 2);

  stop_node(&y[1]);
  stop_node(&y[0]);
  stop_node(&x[1]);
  stop_node(&x[0]);
}

static void test_compression_on_and_off(void **state) {
  node_t n[3];
  char err[256];
  uint8_t big[1200];
  int i;
  (void)state;

  /* node-0 compresses with Snappy, node-1 with LZW, node-2 not at all: every pair must
   * understand each other. */
  for (i = 0; i < 3; ++i) {
    char val[16];
    ml_config_t *cfg = fast_config(&n[i], i, NULL);
    assert_int_equal(ml_config_set(cfg, "enable_compression", i < 2 ? "true" : "false", err, sizeof err), ML_OK);
    if (i == 0) {
      assert_int_equal(ml_config_set(cfg, "compression_algorithm", "zstd", err, sizeof err), ML_ERR_BAD_VALUE);
      assert_non_null(strstr(err, "lzw or snappy"));
      assert_int_equal(ml_config_set(cfg, "compression_algorithm", "snappy", err, sizeof err), ML_OK);
    }
    assert_int_equal(ml_config_get(cfg, "compression_algorithm", val, sizeof val, NULL), ML_OK);
    assert_string_equal(val, i == 0 ? "snappy" : "lzw");
    start_node(&n[i], NULL, cfg);
  }
  join_node(&n[1], &n[0]);
  join_node(&n[2], &n[1]);
  wait_members(n, 3, 3);

  /* Large, very compressible messages, both ways between a compressing and a plain node. */
  memset(big, 'z', sizeof big);
  memcpy(big, "be:", 3);
  assert_int_equal(ml_memberlist_send_best_effort(n[0].ml, "node-2", big, sizeof big), ML_OK);
  assert_int_equal(ml_memberlist_send_best_effort(n[2].ml, "node-0", big, sizeof big), ML_OK);
  memcpy(big, "rl:", 3);
  assert_int_equal(ml_memberlist_send_reliable(n[0].ml, "node-2", big, sizeof big), ML_OK);
  assert_int_equal(ml_memberlist_send_reliable(n[2].ml, "node-1", big, sizeof big), ML_OK);
  assert_int_equal(ml_memberlist_send_reliable(n[0].ml, "node-1", big, sizeof big), ML_OK);
  assert_int_equal(ml_memberlist_send_reliable(n[1].ml, "node-0", big, sizeof big), ML_OK);
  wait_count(&n[2].best_effort_msgs, 1, 10000);
  wait_count(&n[0].best_effort_msgs, 1, 10000);
  wait_count(&n[2].reliable_msgs, 1, 10000);
  wait_count(&n[1].reliable_msgs, 2, 10000);
  wait_count(&n[0].reliable_msgs, 1, 10000);

  /* A metadata update from the plain node reaches the compressing ones (gossip + push/pull). */
  memcpy(n[2].meta, "plain", 5);
  n[2].meta_len = 5;
  assert_int_equal(ml_memberlist_update_node(n[2].ml, scaled_ms(5000)), ML_OK);
  wait_count(&n[0].updates, 1, 10000);
  wait_count(&n[1].updates, 1, 10000);

  for (i = 2; i >= 0; --i) stop_node(&n[i]);
}

static void rotate(ml_keyring_t *kr, int step) {
  switch (step) {
    case 0: assert_int_equal(ml_keyring_add(kr, KEY_B, sizeof KEY_B), ML_OK); break;
    case 1: assert_int_equal(ml_keyring_use(kr, KEY_B, sizeof KEY_B), ML_OK); break;
    case 2: assert_int_equal(ml_keyring_remove(kr, KEY_A, sizeof KEY_A), ML_OK); break;
  }
}

static void test_key_rotation_while_running(void **state) {
  enum { N = 3 };
  node_t n[N], old_key, new_key;
  ml_config_t *cfg;
  ml_keyring_t *kr = NULL;
  char err[512];
  const char *addrs[1];
  int i, step, contacted = 0, sent = 0;
  uint8_t key[32];
  (void)state;

  for (i = 0; i < N; ++i) start_node(&n[i], NULL, fast_config(&n[i], i, KEY_A_HEX));
  join_node(&n[1], &n[0]);
  join_node(&n[2], &n[0]);
  wait_members(n, N, N);

  /* Rotate: add B everywhere, then make it primary everywhere, then drop A everywhere. Between
   * the steps the cluster keeps talking: a reliable message round the ring after each. */
  for (step = 0; step < 3; ++step) {
    for (i = 0; i < N; ++i) rotate(ml_memberlist_keyring(n[i].ml), step);
    for (i = 0; i < N; ++i) {
      char to[16];
      snprintf(to, sizeof to, "node-%d", (i + 1) % N);
      assert_int_equal(ml_memberlist_send_reliable(n[i].ml, to, (const uint8_t *)"rl:k", 4), ML_OK);
    }
    ++sent;
    for (i = 0; i < N; ++i) wait_count(&n[i].reliable_msgs, sent, 10000);
  }
  for (i = 0; i < N; ++i) {
    assert_int_equal(ml_keyring_count(ml_memberlist_keyring(n[i].ml)), 1);
    assert_int_equal(ml_keyring_get(ml_memberlist_keyring(n[i].ml), 0, key, sizeof key), 32);
    assert_memory_equal(key, KEY_B, 32);
  }
  /* Still one cluster: gossip and probes run on key B alone. */
  assert_int_equal(ml_memberlist_update_node(n[0].ml, scaled_ms(5000)), ML_OK);
  wait_members(n, N, N);

  /* A newcomer still on key A is kept out... */
  start_node(&old_key, NULL, fast_config(&old_key, 3, KEY_A_HEX));
  addrs[0] = n[0].addr;
  err[0] = '\0';
  assert_int_equal(ml_memberlist_join(old_key.ml, addrs, 1, &contacted, err, sizeof err), ML_ERR_JOIN_FAILED);
  assert_int_equal(contacted, 0);
  /* ...one with key B (through a standalone keyring) gets in. */
  assert_int_equal(ml_keyring_create(&kr, KEY_B, sizeof KEY_B), ML_OK);
  cfg = fast_config(&new_key, 4, NULL);
  assert_int_equal(ml_config_set_keyring(cfg, kr), ML_OK);
  start_node(&new_key, NULL, cfg);
  join_node(&new_key, &n[1]);
  wait_members(n, N, N + 1);
  assert_int_equal(ml_memberlist_num_members(old_key.ml), 1);
  ml_keyring_destroy(kr);

  stop_node(&new_key);
  stop_node(&old_key);
  for (i = N - 1; i >= 0; --i) stop_node(&n[i]);
}

/* Does `who` hold `name` with metadata of `len` bytes, all `fill`? */
typedef struct {
  ml_memberlist_t *who;
  const char *name;
  size_t len;
  uint8_t fill;
} meta_cond_t;
static int has_meta(void *arg) {
  meta_cond_t *c = (meta_cond_t *)arg;
  ml_members_t *list = NULL;
  size_t i, j, len = 0;
  int found = 0;
  if (ml_memberlist_members(c->who, &list) != ML_OK) return 0;
  for (i = 0; i < ml_members_count(list); ++i) {
    const ml_member_t *m = ml_members_get(list, i);
    const uint8_t *meta = ml_member_meta(m, &len);
    if (strcmp(ml_member_name(m), c->name) != 0 || len != c->len) continue;
    found = 1;
    for (j = 0; j < len; ++j) found = found && meta[j] == c->fill;
  }
  ml_members_destroy(list);
  return found;
}

static void test_meta_beyond_512(void **state) {
  node_t n[2], d;
  char err[512];
  ml_config_t *cfg;
  ml_memberlist_t *ml = NULL;
  meta_cond_t mc;
  int i;
  (void)state;

  for (i = 0; i < 2; ++i) {
    cfg = fast_config(&n[i], i, NULL);
    assert_int_equal(ml_config_set(cfg, "meta_max_size", "1200", err, sizeof err), ML_OK);
    memset(n[i].meta, 'a' + i, sizeof n[i].meta);
    n[i].meta_len = 1000;
    start_node(&n[i], NULL, cfg);
  }
  join_node(&n[1], &n[0]);
  wait_members(n, 2, 2);
  mc.who = n[1].ml;
  mc.name = "node-0";
  mc.len = 1000;
  mc.fill = 'a';
  assert_true(wait_until(has_meta, &mc, 10000));
  mc.who = n[0].ml;
  mc.name = "node-1";
  mc.fill = 'b';
  assert_true(wait_until(has_meta, &mc, 10000));

  /* Up to the setting: gossiped. One byte more: refused, nothing changes. */
  n[0].meta_len = 1200;
  assert_int_equal(ml_memberlist_update_node(n[0].ml, scaled_ms(5000)), ML_OK);
  mc.who = n[1].ml;
  mc.name = "node-0";
  mc.len = 1200;
  mc.fill = 'a';
  assert_true(wait_until(has_meta, &mc, 10000));
  n[0].meta_len = 1201;
  assert_int_equal(ml_memberlist_update_node(n[0].ml, 1000), ML_ERR_TOO_LARGE);
  n[0].meta_len = 1200;

  /* Bad values of the key, each with a message. */
  assert_int_equal(ml_config_create(&cfg, ML_PRESET_LAN), ML_OK);
  err[0] = '\0';
  assert_int_not_equal(ml_config_set(cfg, "meta_max_size", "65536", err, sizeof err), ML_OK);
  assert_true(strlen(err) > 0);
  err[0] = '\0';
  assert_int_not_equal(ml_config_set(cfg, "meta_max_size", "big", err, sizeof err), ML_OK);
  assert_true(strlen(err) > 0);
  assert_int_not_equal(ml_config_set(cfg, "meta_max_size", "-1", err, sizeof err), ML_OK);
  assert_int_equal(ml_config_get(cfg, "meta_max_size", err, sizeof err, NULL), ML_OK);
  assert_string_equal(err, "512");
  ml_config_destroy(cfg);

  /* A value whose alive message no 1400-byte packet holds: refused at create, saying why. */
  cfg = fast_config(&d, 5, NULL);
  assert_int_equal(ml_config_set(cfg, "meta_max_size", "60000", err, sizeof err), ML_OK);
  err[0] = '\0';
  assert_int_equal(ml_memberlist_create(&ml, NULL, cfg, err, sizeof err), ML_ERR_INVALID_CONFIG);
  assert_non_null(strstr(err, "meta_max_size: 60000 bytes of metadata make an alive message of"));
  assert_non_null(strstr(err, "udp_buffer_size"));
  ml_config_destroy(cfg);

  /* The default is memberlist's 512: 600 bytes of metadata are refused at create. */
  cfg = fast_config(&d, 5, NULL);
  d.meta_len = 600;
  err[0] = '\0';
  assert_int_equal(ml_memberlist_create(&ml, NULL, cfg, err, sizeof err), ML_ERR_TOO_LARGE);
  assert_non_null(strstr(err, "node metadata is 600 bytes; at most 512 are allowed"));
  ml_config_destroy(cfg);

  stop_node(&n[1]);
  stop_node(&n[0]);
}

static int conflicts[2];
static void on_conflict(void *user, const ml_member_t *existing, const ml_member_t *other) {
  (void)existing;
  (void)other;
  ADD(*(int *)user, 1);
}
static void on_reuse_metric(void *ctx, const char *name, double value) {
  if (strcmp(name, "memberlist.name_reuse.reclaimed") == 0) *(double *)ctx = value;
}
typedef struct {
  node_t *viewers;
  int count;
  const char *name, *addr;
} at_cond_t;
/* Every viewer holds `name` alive at `addr`. */
static int all_hold_at(void *arg) {
  at_cond_t *c = (at_cond_t *)arg;
  int i, ok = 1;
  for (i = 0; i < c->count && ok; ++i) {
    ml_members_t *list = NULL;
    size_t j;
    int found = 0;
    if (ml_memberlist_members(c->viewers[i].ml, &list) != ML_OK) return 0;
    for (j = 0; j < ml_members_count(list); ++j) {
      const ml_member_t *m = ml_members_get(list, j);
      if (strcmp(ml_member_name(m), c->name) == 0 && strcmp(ml_member_address(m), c->addr) == 0 &&
          ml_member_state(m) == ML_STATE_ALIVE) {
        found = 1;
      }
    }
    ml_members_destroy(list);
    ok = found;
  }
  return ok;
}

static void test_name_reuse_on_new_address(void **state) {
  node_t n[3], back;
  char err[256];
  ml_config_t *cfg;
  at_cond_t at;
  double reclaimed = 0;
  int i;
  (void)state;

  for (i = 0; i < 3; ++i) {
    cfg = fast_config(&n[i], i, NULL);
    assert_int_equal(ml_config_set(cfg, "reclaim_name_on_new_address", "true", err, sizeof err), ML_OK);
    if (i < 2) {
      STORE(conflicts[i], 0);
      assert_int_equal(ml_config_set_conflict(cfg, on_conflict, &conflicts[i], NULL), ML_OK);
    }
    start_node(&n[i], NULL, cfg);
  }
  join_node(&n[1], &n[0]);
  join_node(&n[2], &n[0]);
  wait_members(n, 3, 3);

  /* node-2 dies without a word and is back at once on 127.0.0.13, before anyone noticed. */
  stop_node(&n[2]);
  cfg = fast_config(&back, 3, NULL);
  snprintf(back.name, sizeof back.name, "node-2");
  assert_int_equal(ml_config_set(cfg, "name", "node-2", err, sizeof err), ML_OK);
  assert_int_equal(ml_config_set(cfg, "reclaim_name_on_new_address", "true", err, sizeof err), ML_OK);
  start_node(&back, NULL, cfg);
  join_node(&back, &n[0]);

  at.viewers = n;
  at.count = 2;
  at.name = "node-2";
  at.addr = back.addr;
  assert_true(wait_until(all_hold_at, &at, 10000));
  assert_int_equal(ml_memberlist_num_members(n[0].ml), 3);
  assert_int_equal(ml_memberlist_num_members(n[1].ml), 3);
  assert_int_equal(LOAD(conflicts[0]), 0);
  assert_int_equal(LOAD(conflicts[1]), 0);
  assert_int_equal(ml_memberlist_metrics(n[0].ml, on_reuse_metric, &reclaimed), ML_OK);
  assert_true(reclaimed >= 1);

  /* The key: false by default, booleans only. */
  assert_int_equal(ml_config_create(&cfg, ML_PRESET_LAN), ML_OK);
  assert_int_equal(ml_config_get(cfg, "reclaim_name_on_new_address", err, sizeof err, NULL), ML_OK);
  assert_string_equal(err, "false");
  err[0] = '\0';
  assert_int_not_equal(ml_config_set(cfg, "reclaim_name_on_new_address", "maybe", err, sizeof err), ML_OK);
  assert_true(strlen(err) > 0);
  ml_config_destroy(cfg);

  stop_node(&back);
  stop_node(&n[1]);
  stop_node(&n[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_labels_keep_clusters_apart),
      cmocka_unit_test(test_compression_on_and_off),
      cmocka_unit_test(test_key_rotation_while_running),
      cmocka_unit_test(test_meta_beyond_512),
      cmocka_unit_test(test_name_reuse_on_new_address),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
