/* Unit tests for the token bucket (signaling/src/ratelimit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "ratelimit.h"

static void test_bucket_burst_then_refill(void **state) {
  (void)state;
  ml_ratelimit rl;
  ml_ratelimit_init(&rl, 10, 5, 0);
  for (int i = 0; i < 5; i++)
    assert_true(ml_ratelimit_take(&rl, 0));
  assert_false(ml_ratelimit_take(&rl, 0));
  assert_false(ml_ratelimit_take(&rl, 50000)); /* 0.5 token */
  assert_true(ml_ratelimit_take(&rl, 100000)); /* 1 token after 100 ms */
  assert_false(ml_ratelimit_idle(&rl, 100000));
  assert_true(ml_ratelimit_idle(&rl, 10000000)); /* refilled, capped at burst */
  for (int i = 0; i < 5; i++)
    assert_true(ml_ratelimit_take(&rl, 10000000));
  assert_false(ml_ratelimit_take(&rl, 10000000));
}

static void test_bucket_unlimited_and_reconfigure(void **state) {
  (void)state;
  ml_ratelimit rl;
  ml_ratelimit_init(&rl, 0, 1, 0);
  for (int i = 0; i < 1000; i++)
    assert_true(ml_ratelimit_take(&rl, 0));
  ml_ratelimit_init(&rl, 1, 100, 0);
  ml_ratelimit_configure(&rl, 1, 2);
  assert_true(ml_ratelimit_take(&rl, 0));
  assert_true(ml_ratelimit_take(&rl, 0));
  assert_false(ml_ratelimit_take(&rl, 0));
  /* A clock going backwards never adds tokens. */
  assert_false(ml_ratelimit_take(&rl, -5000000));
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_bucket_burst_then_refill,
             test_bucket_unlimited_and_reconfigure)
