/* Unit tests for TURN REST credentials (signaling/src/turn.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "turn.h"

/* Expected values computed independently:
 * python3: base64(hmac.new(b'north-wing-secret', b'1700003600:alice', sha1)). */
static void test_turn_known_answer(void **state) {
  (void)state;
  char *u = NULL, *p = NULL;
  assert_int_equal(ml_turn_credentials("north-wing-secret", "alice", 1700000000, 3600, &u, &p),
                   ML_OK);
  assert_string_equal(u, "1700003600:alice");
  assert_string_equal(p, "nToMrymG2kblkPfdN7PuQJZ9JVU=");
  g_free(u);
  g_free(p);
}

static void test_turn_refuses_bad_input(void **state) {
  (void)state;
  char *u = NULL, *p = NULL;
  assert_int_equal(ml_turn_credentials("", "a", 1, 1, &u, &p), ML_ERR_INVALID);
  assert_int_equal(ml_turn_credentials("s", "", 1, 1, &u, &p), ML_ERR_INVALID);
  assert_int_equal(ml_turn_credentials("s", "a:b", 1, 1, &u, &p), ML_ERR_INVALID);
  assert_int_equal(ml_turn_credentials("s", "a", 1, 0, &u, &p), ML_ERR_INVALID);
  assert_null(u);
  assert_null(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_turn_known_answer),
      cmocka_unit_test(test_turn_refuses_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
