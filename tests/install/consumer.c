/* tests/install: a program that knows libmemberlist only through its installed files. It starts
 * one node on 127.0.0.1, port 0, prints the node's name and the address it bound, and shuts down
 * cleanly. Exit status 0 only if every step succeeded. */
#include <stdio.h>

#include <memberlist/memberlist.h>

static int fail(const char *what, ml_err_t rc, const char *err) {
  fprintf(stderr, "install-consumer: %s failed (%d) %s\n", what, (int)rc, err);
  return 1;
}

int main(void) {
  ml_config_t *cfg = NULL;
  ml_memberlist_t *ml = NULL;
  ml_members_t *local = NULL;
  const ml_member_t *self;
  char err[256] = "";
  ml_err_t rc;
  const char *name;
  int n;

  if (ml_version() != (uint32_t)ML_VERSION) {
    fprintf(stderr, "install-consumer: header %d.%d.%d, library %s\n", ML_VERSION_MAJOR, ML_VERSION_MINOR,
            ML_VERSION_PATCH, ml_version_string());
    return 1;
  }
  if ((rc = ml_config_create(&cfg, ML_PRESET_LOCAL)) != ML_OK) return fail("ml_config_create", rc, "");
  if ((rc = ml_config_set(cfg, "name", "install-consumer", err, sizeof err)) != ML_OK ||
      (rc = ml_config_set(cfg, "bind_addr", "127.0.0.1", err, sizeof err)) != ML_OK ||
      (rc = ml_config_set(cfg, "bind_port", "0", err, sizeof err)) != ML_OK) {
    return fail("ml_config_set", rc, err);
  }
  if ((rc = ml_memberlist_create(&ml, NULL, cfg, err, sizeof err)) != ML_OK) return fail("ml_memberlist_create", rc, err);
  ml_config_destroy(cfg);

  if ((rc = ml_memberlist_local(ml, &local)) != ML_OK) return fail("ml_memberlist_local", rc, "");
  if ((self = ml_members_get(local, 0)) == NULL) return fail("ml_members_get", ML_OK, "no local member");
  name = ml_member_name(self);
  n = ml_memberlist_num_members(ml);
  printf("node %s on %s, %d member(s), libmemberlist %s\n", name, ml_member_address(self), n, ml_version_string());
  ml_members_destroy(local);

  if ((rc = ml_memberlist_shutdown(ml)) != ML_OK) return fail("ml_memberlist_shutdown", rc, "");
  if ((rc = ml_memberlist_destroy(ml)) != ML_OK) return fail("ml_memberlist_destroy", rc, "");
  return n == 1 ? 0 : 1;
}
