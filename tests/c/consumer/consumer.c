/* A program outside the project: finds libmemberlist through pkg-config or find_package, starts
 * one node on 127.0.0.1:0 and stops it. */
#include <stdio.h>

#include <memberlist/memberlist.h>

int main(void) {
  ml_config_t *cfg = NULL;
  ml_memberlist_t *ml = NULL;
  char err[256] = "";
  int ok;
  if (ml_version() != (uint32_t)ML_VERSION) return 1;
  if (ml_config_create(&cfg, ML_PRESET_LOCAL) != ML_OK) return 1;
  if (ml_config_set(cfg, "name", "consumer", err, sizeof err) != ML_OK ||
      ml_config_set(cfg, "bind_addr", "127.0.0.1", err, sizeof err) != ML_OK ||
      ml_config_set(cfg, "bind_port", "0", err, sizeof err) != ML_OK) {
    return 1;
  }
  if (ml_memberlist_create(&ml, NULL, cfg, err, sizeof err) != ML_OK) {
    fprintf(stderr, "create: %s\n", err);
    return 1;
  }
  ml_config_destroy(cfg);
  ok = ml_memberlist_num_members(ml) == 1;
  if (ml_memberlist_destroy(ml) != ML_OK) return 1;
  printf("consumer: libmemberlist %s, %s\n", ml_version_string(), ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
