/* Encryption: nodes sharing a secret key form a cluster; a node with another key cannot join.
 * Keyrings: standalone and shared live with a running node; an empty one turning encryption on. */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#define KEY_A "000102030405060708090a0b0c0d0e0f"
#define KEY_B "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

static void test_same_key_joins_other_key_cannot(void **state) {
  node_t nodes[3];
  char err[512];
  const char *addrs[1];
  int contacted = 7;
  ml_err_t rc;
  ml_keyring_t *kr;
  uint8_t key[32];
  static const uint8_t extra[16] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
  (void)state;

  start_node(&nodes[0], NULL, fast_config(&nodes[0], 0, KEY_A));
  start_node(&nodes[1], NULL, fast_config(&nodes[1], 1, KEY_A));
  start_node(&nodes[2], NULL, fast_config(&nodes[2], 2, KEY_B));
  join_node(&nodes[1], &nodes[0]);
  assert_true(wait_all_see(nodes, 2, 2, 10000));

  addrs[0] = nodes[0].addr;
  err[0] = '\0';
  assert_int_equal(ml_memberlist_join(nodes[2].ml, addrs, 1, &contacted, err, sizeof err), ML_ERR_JOIN_FAILED);
  assert_int_equal(contacted, 0);
  assert_true(strlen(err) > 0);
  assert_int_equal(ml_memberlist_num_members(nodes[2].ml), 1);
  assert_int_equal(ml_memberlist_num_members(nodes[0].ml), 2);

  /* The nodes' keyrings are live: node-0 learns KEY_B and node-2 KEY_A as secondary keys;
   * then node-2 can join. */
  kr = ml_memberlist_keyring(nodes[0].ml);
  assert_non_null(kr);
  assert_int_equal(ml_keyring_count(kr), 1);
  assert_int_equal(ml_keyring_get(kr, 0, key, sizeof key), 16);
  assert_int_equal(key[1], 0x01);
  {
    static const uint8_t key_b[16] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
                                      0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff};
    assert_int_equal(ml_keyring_add(kr, key_b, sizeof key_b), ML_OK);
    assert_int_equal(ml_keyring_count(kr), 2);
    assert_int_equal(ml_keyring_remove(kr, key, 16), ML_ERR_KEY); /* the primary */
    assert_int_equal(ml_keyring_add(kr, key, 5), ML_ERR_KEY);
    assert_int_equal(ml_keyring_add(kr, extra, sizeof extra), ML_OK);
    assert_int_equal(ml_keyring_remove(kr, extra, sizeof extra), ML_OK);
    assert_int_equal(ml_keyring_count(kr), 2);
  }
  /* node-0 answers with its primary (KEY_A): node-2 must know it as well. */
  assert_int_equal(ml_keyring_add(ml_memberlist_keyring(nodes[2].ml), key, 16), ML_OK);
  err[0] = '\0';
  rc = ml_memberlist_join(nodes[2].ml, addrs, 1, &contacted, err, sizeof err);
  if (rc != ML_OK) fprintf(stderr, "join: %s\n", err);
  assert_int_equal(rc, ML_OK);
  assert_int_equal(contacted, 1);
  assert_int_equal(ml_keyring_get(kr, 5, key, sizeof key), 0);

  stop_node(&nodes[2]);
  stop_node(&nodes[1]);
  stop_node(&nodes[0]);
}

static void test_standalone_keyring_on_config(void **state) {
  static const uint8_t k1[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  static const uint8_t k2[32] = {1};
  ml_keyring_t *kr = NULL;
  node_t nodes[2];
  ml_config_t *cfg;
  uint8_t buf[32];
  (void)state;

  assert_int_equal(ml_keyring_create(&kr, k1, 7), ML_ERR_KEY);
  assert_null(kr);
  assert_int_equal(ml_keyring_create(NULL, k1, 16), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_keyring_create(&kr, k1, sizeof k1), ML_OK);
  assert_int_equal(ml_keyring_add(kr, k2, sizeof k2), ML_OK);
  assert_int_equal(ml_keyring_count(kr), 2);
  assert_int_equal(ml_keyring_use(kr, k2, sizeof k2), ML_OK);
  assert_int_equal(ml_keyring_get(kr, 0, buf, sizeof buf), 32);
  assert_int_equal(ml_keyring_use(kr, k1, sizeof k1), ML_OK);

  /* node-0 uses the keyring (primary k1 = KEY_A); node-1 has secret_key KEY_A. */
  cfg = fast_config(&nodes[0], 0, NULL);
  assert_int_equal(ml_config_set_keyring(cfg, kr), ML_OK);
  start_node(&nodes[0], NULL, cfg);
  start_node(&nodes[1], NULL, fast_config(&nodes[1], 1, KEY_A));
  join_node(&nodes[1], &nodes[0]);
  assert_true(wait_all_see(nodes, 2, 2, 10000));

  /* Shared live: a change through the caller's handle is seen through the node's. */
  assert_int_equal(ml_keyring_remove(kr, k2, sizeof k2), ML_OK);
  assert_int_equal(ml_keyring_count(ml_memberlist_keyring(nodes[0].ml)), 1);

  /* A keyring backs one memberlist at a time. */
  {
    node_t other;
    ml_config_t *c2 = fast_config(&other, 2, NULL);
    char err[256] = "";
    assert_int_equal(ml_config_set_keyring(c2, kr), ML_OK);
    assert_int_equal(ml_memberlist_create(&other.ml, NULL, c2, err, sizeof err), ML_ERR_BUSY);
    assert_null(other.ml);
    assert_true(strlen(err) > 0);
    ml_config_destroy(c2);
    assert_int_equal(LOAD(other.frees), 2);
  }

  /* The caller's reference may go first; the node keeps its own. */
  ml_keyring_destroy(kr);
  assert_int_equal(ml_keyring_count(ml_memberlist_keyring(nodes[0].ml)), 1);
  stop_node(&nodes[1]);
  stop_node(&nodes[0]);
}

/* An empty keyring (memberlist's NewKeyring(nil, nil)): plaintext until a key is added, then
 * encrypted at once, as in memberlist: a node with that key joins, a node without any cannot. */
static void test_empty_keyring_turns_encryption_on_live(void **state) {
  static const uint8_t key_a[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}; /* KEY_A */
  ml_keyring_t *kr = NULL;
  node_t nodes[4];
  ml_config_t *cfg;
  char err[512] = "";
  const char *addrs[1];
  int contacted = 0;
  (void)state;

  assert_int_equal(ml_keyring_create(&kr, NULL, 1), ML_ERR_INVALID_ARGUMENT);
  assert_int_equal(ml_keyring_create(&kr, NULL, 0), ML_OK);
  assert_int_equal(ml_keyring_count(kr), 0);
  cfg = fast_config(&nodes[0], 3, NULL);
  assert_int_equal(ml_config_set_keyring(cfg, kr), ML_OK);
  start_node(&nodes[0], NULL, cfg);
  start_node(&nodes[1], NULL, fast_config(&nodes[1], 4, NULL));
  join_node(&nodes[1], &nodes[0]); /* both plaintext */
  assert_true(wait_all_see(nodes, 2, 2, 10000));

  assert_int_equal(ml_keyring_add(kr, key_a, sizeof key_a), ML_OK);
  assert_int_equal(ml_keyring_count(ml_memberlist_keyring(nodes[0].ml)), 1);
  start_node(&nodes[2], NULL, fast_config(&nodes[2], 5, KEY_A));
  join_node(&nodes[2], &nodes[0]);
  start_node(&nodes[3], NULL, fast_config(&nodes[3], 6, NULL));
  addrs[0] = nodes[0].addr;
  assert_int_equal(ml_memberlist_join(nodes[3].ml, addrs, 1, &contacted, err, sizeof err), ML_ERR_JOIN_FAILED);
  assert_int_equal(contacted, 0);

  ml_keyring_destroy(kr);
  stop_node(&nodes[3]);
  stop_node(&nodes[2]);
  stop_node(&nodes[1]);
  stop_node(&nodes[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_keyring_turns_encryption_on_live),
      cmocka_unit_test(test_same_key_joins_other_key_cannot),
      cmocka_unit_test(test_standalone_keyring_on_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
