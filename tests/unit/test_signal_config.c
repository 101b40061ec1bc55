/* Unit tests for the configuration (signaling/src/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"
#include <glib.h>
#include <glib/gstdio.h>

#include "ml/signal_server.h"

static char *path;

static int setup(void **state) {
  (void)state;
  int fd = g_file_open_tmp("mlsigconf-XXXXXX.conf", &path, NULL);
  assert_true(fd >= 0);
  close(fd);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  g_unlink(path);
  g_free(path);
  return 0;
}

static int load(ml_signal_config *cfg, const char *text, char **err) {
  assert_true(g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0640, NULL));
  return ml_signal_config_load(cfg, path, err);
}

static void test_defaults(void **state) {
  (void)state;
  ml_signal_config c;
  ml_signal_config_init(&c);
  assert_string_equal(c.listen_host, "127.0.0.1");
  assert_int_equal(c.listen_port, 8443);
  assert_int_equal(c.room_capacity, 8);
  assert_int_equal(c.max_message_bytes, 16384);
  assert_false(c.open_mode);
  assert_false(c.insecure_listen);
  assert_null(c.token_secret);
  assert_int_equal(c.workers, 0);
  ml_signal_config_clear(&c);
  ml_signal_config_clear(NULL);
}

static void test_full_file(void **state) {
  (void)state;
  ml_signal_config c;
  ml_signal_config_init(&c);
  char *err = NULL;
  int rc = load(&c,
                "[server]\nlisten = [::1]:9000\nopen = true\nmax_connections = 50\nworkers = 2\n"
                "[rooms]\ncapacity = 4\nauto_admit = true\nhost_leave = end\n"
                "[tokens]\nsecret = 0123456789abcdef0123456789abcdef\n"
                "[limits]\nmessage_rate = 5.5\nip_message_rate = 100\n"
                "[ice]\nstun = stun:a:3478, stun:b:3478\nturn = turn:t:3478\nturn_secret = s\n",
                &err);
  assert_int_equal(rc, ML_OK);
  assert_null(err);
  assert_string_equal(c.listen_host, "::1");
  assert_int_equal(c.listen_port, 9000);
  assert_true(c.open_mode);
  assert_int_equal(c.max_connections, 50);
  assert_int_equal(c.workers, 2);
  assert_int_equal(c.room_capacity, 4);
  assert_true(c.auto_admit);
  assert_true(c.end_on_host_leave);
  assert_int_equal(c.token_secret_len, 32);
  assert_true(c.message_rate > 5.4 && c.message_rate < 5.6);
  assert_true(c.ip_message_rate > 99.9 && c.ip_message_rate < 100.1);
  assert_string_equal(c.stun_urls[1], "stun:b:3478");
  assert_null(c.stun_urls[2]);
  assert_string_equal(c.turn_secret, "s");
  /* A copy is deep. */
  ml_signal_config d;
  ml_signal_config_copy(&d, &c);
  assert_ptr_not_equal(d.token_secret, c.token_secret);
  assert_memory_equal(d.token_secret, c.token_secret, 32);
  ml_signal_config_clear(&c);
  assert_string_equal(d.stun_urls[0], "stun:a:3478");
  ml_signal_config_clear(&d);
}

/* Bad files are refused whole: the config is unchanged and the error names
 * the key. */
static void test_strict(void **state) {
  (void)state;
  static const struct {
    const char *text, *needle;
  } bad[] = {
      {"[server]\nlisten_port = 1\n", "unknown key"},
      {"[srever]\nlisten = 127.0.0.1:1\n", "unknown key"},
      {"[server]\nlisten = localhost\n", "listen"},
      {"[server]\nlisten = 127.0.0.1:70000\n", "listen"},
      {"[server]\nmax_connections = 0\n", "max_connections"},
      {"[server]\nmax_connections = 2.5\n", "max_connections"},
      {"[server]\nopen = maybe\n", "open"},
      {"[rooms]\nhost_leave = explode\n", "host_leave"},
      {"[tokens]\nsecret = short\n", "secret"},
      {"[ice]\nturn = turn:x\n", "turn_secret"},
      {"[server]\ntls_cert = /x.pem\n", "tls_key"},
      {"not an ini file", ""},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    ml_signal_config c;
    ml_signal_config_init(&c);
    char *err = NULL;
    assert_int_equal(load(&c, bad[i].text, &err), ML_ERR_INVALID);
    assert_non_null(err);
    if (!strstr(err, bad[i].needle))
      fail_msg("case %zu: error \"%s\" does not mention %s", i, err, bad[i].needle);
    g_free(err);
    assert_int_equal(c.listen_port, 8443); /* unchanged */
    assert_int_equal(c.max_connections, 1000);
    ml_signal_config_clear(&c);
  }
}

/* A file with a secret that every user may read is refused (group: the
 * service's group may read it, as the package installs it). */
static void test_secret_file_mode(void **state) {
  (void)state;
  static const char text[] = "[tokens]\nsecret = 0123456789abcdef0123456789abcdef\n";
  ml_signal_config c;
  ml_signal_config_init(&c);
  char *err = NULL;
  assert_true(g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL));
  assert_int_equal(ml_signal_config_load(&c, path, &err), ML_ERR_PERMISSION);
  assert_non_null(strstr(err, "chmod o-rwx"));
  assert_null(c.token_secret); /* unchanged */
  g_free(err);
  err = NULL;
  /* Without a secret the same mode is fine. */
  assert_true(g_file_set_contents_full(path, "[rooms]\ncapacity = 4\n", -1,
                                       G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL));
  assert_int_equal(ml_signal_config_load(&c, path, &err), ML_OK);
  assert_true(g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0640, NULL));
  assert_int_equal(ml_signal_config_load(&c, path, &err), ML_OK);
  assert_int_equal(c.token_secret_len, 32);
  ml_signal_config_clear(&c);
}

static void test_missing_file(void **state) {
  (void)state;
  ml_signal_config c;
  ml_signal_config_init(&c);
  char *err = NULL;
  assert_int_equal(ml_signal_config_load(&c, "/nonexistent/signal.conf", &err), ML_ERR_IO);
  assert_non_null(err);
  g_free(err);
  ml_signal_config_clear(&c);
}

static void test_set_listen(void **state) {
  (void)state;
  ml_signal_config c;
  ml_signal_config_init(&c);
  assert_int_equal(ml_signal_config_set_listen(&c, "0.0.0.0:0"), ML_OK);
  assert_string_equal(c.listen_host, "0.0.0.0");
  assert_int_equal(c.listen_port, 0);
  assert_int_equal(ml_signal_config_set_listen(&c, "[fe80::1]:443"), ML_OK);
  assert_string_equal(c.listen_host, "fe80::1");
  assert_int_not_equal(ml_signal_config_set_listen(&c, "nocolon"), ML_OK);
  assert_int_not_equal(ml_signal_config_set_listen(&c, ":80"), ML_OK);
  assert_int_not_equal(ml_signal_config_set_listen(&c, "1.2.3.4:"), ML_OK);
  assert_int_not_equal(ml_signal_config_set_listen(&c, "1.2.3.4:8x"), ML_OK);
  assert_int_not_equal(ml_signal_config_set_listen(&c, "[::1:80"), ML_OK);
  assert_string_equal(c.listen_host, "fe80::1"); /* unchanged by failures */
  ml_signal_config_clear(&c);
}

ML_UNIT_MAIN_LIST(ML_UNIT_NOTHING, cmocka_unit_test(test_defaults), ml_unit_fixture(test_full_file),
                  ml_unit_fixture(test_strict), ml_unit_fixture(test_secret_file_mode),
                  cmocka_unit_test(test_missing_file), cmocka_unit_test(test_set_listen))
