/* Unit tests for the Redis URL (signaling/src/redis_url.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <sodium.h>

#include "unit.h"

#include "redis_url.h"

static void test_good(void **state) {
  (void)state;
  ml_redis_url u;
  char *err = NULL;
  assert_int_equal(ml_redis_url_parse("redis://127.0.0.1", &u, &err), ML_OK);
  assert_string_equal(u.host, "127.0.0.1");
  assert_int_equal(u.port, 6379);
  assert_int_equal(u.db, 0);
  assert_null(u.password);
  assert_null(u.user);
  ml_redis_url_clear(&u);
  assert_int_equal(ml_redis_url_parse("redis://:s3cr@t@redis.example.org:6380/2", &u, &err), ML_OK);
  assert_string_equal(u.host, "redis.example.org");
  assert_int_equal(u.port, 6380);
  assert_int_equal(u.db, 2);
  assert_string_equal(u.password, "s3cr@t");
  assert_null(u.user);
  ml_redis_url_clear(&u);
  assert_int_equal(ml_redis_url_parse("redis://signal:pw@[::1]:7000/", &u, &err), ML_OK);
  assert_string_equal(u.host, "::1");
  assert_int_equal(u.port, 7000);
  assert_string_equal(u.user, "signal");
  assert_string_equal(u.password, "pw");
  assert_false(u.tls);
  ml_redis_url_clear(&u);
  assert_int_equal(ml_redis_url_parse("rediss://redis.example.org:6380/1", &u, &err), ML_OK);
  assert_true(u.tls);
  assert_string_equal(u.host, "redis.example.org");
  assert_int_equal(u.port, 6380);
  assert_int_equal(u.db, 1);
  ml_redis_url_clear(&u);
}

static void test_bad(void **state) {
  (void)state;
  static const char *const bad[] = {
      "http://x",    "redis://",     "redis://h:0",    "redis://h:65536",
      "redis://h:x", "redis://h/16", "redis://h/x",    "redis://[::1",
      "redis://h h", "redis://pw@h", "redis://[::1]x", "redis://h:1:2",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ml_redis_url u;
    char *err = NULL;
    assert_int_equal(ml_redis_url_parse(bad[i], &u, &err), ML_ERR_INVALID);
    assert_non_null(err);
    g_free(err);
  }
  ml_redis_url u;
  char *err = NULL;
  assert_int_equal(ml_redis_url_parse("http://h", &u, &err), ML_ERR_INVALID);
  assert_non_null(strstr(err, "rediss://"));
  g_free(err);
  /* The error never quotes the password. */
  assert_int_equal(ml_redis_url_parse("redis://:hunter2@h:99999", &u, &err), ML_ERR_INVALID);
  assert_null(strstr(err, "hunter2"));
  g_free(err);
}

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, test_good, test_bad)
