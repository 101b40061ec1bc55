/* Unit tests for the peer link's keepalive and liveness policy (keepalive.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "keepalive.h"

#define MS 1000 /* microseconds */
#define T0 ((int64_t)5000000)

static void send_due_after_period(void **state) {
  (void)state;
  ml_keepalive k;
  ml_keepalive_init(&k, 2000, 6000, 60000, T0);
  uint32_t next;
  assert_false(ml_keepalive_send_due(&k, T0, &next));
  assert_int_equal(next, 2000);
  assert_false(ml_keepalive_send_due(&k, T0 + 1500 * MS, &next));
  assert_int_equal(next, 500);
  assert_false(ml_keepalive_send_due(&k, T0 + 1999 * MS + 1, &next));
  assert_int_equal(next, 1); /* rounded up: never wakes early */
  assert_true(ml_keepalive_send_due(&k, T0 + 2000 * MS, &next));
  assert_int_equal(next, 2000);
  /* Any datagram sent postpones it. */
  ml_keepalive_sent(&k, T0 + 1800 * MS);
  assert_false(ml_keepalive_send_due(&k, T0 + 2000 * MS, &next));
  assert_int_equal(next, 1800);
}

static void path_lost_once_then_timeout(void **state) {
  (void)state;
  ml_keepalive k;
  ml_keepalive_init(&k, 2000, 6000, 60000, T0);
  ml_keepalive_secure(&k, T0);
  assert_int_equal(ml_keepalive_check(&k, T0 + 5999 * MS), ML_KEEPALIVE_ALIVE);
  assert_int_equal(ml_keepalive_check(&k, T0 + 6000 * MS), ML_KEEPALIVE_PATH_LOST);
  assert_int_equal(ml_keepalive_check(&k, T0 + 7000 * MS), ML_KEEPALIVE_ALIVE); /* said once */
  /* An ICE restart gives the new session silence_ms again. */
  ml_keepalive_restarted(&k, T0 + 8000 * MS);
  assert_int_equal(ml_keepalive_check(&k, T0 + 13999 * MS), ML_KEEPALIVE_ALIVE);
  assert_int_equal(ml_keepalive_check(&k, T0 + 14000 * MS), ML_KEEPALIVE_PATH_LOST);
  assert_int_equal(ml_keepalive_silent_ms(&k, T0 + 14000 * MS), 14000);
  assert_int_equal(ml_keepalive_check(&k, T0 + 60000 * MS), ML_KEEPALIVE_PATH_TIMEOUT);
}

static void received_rearms_and_detects_outage(void **state) {
  (void)state;
  ml_keepalive k;
  ml_keepalive_init(&k, 2000, 6000, 60000, T0);
  ml_keepalive_secure(&k, T0);
  assert_false(ml_keepalive_received(&k, true, T0 + 3000 * MS)); /* = keepalive + 1 s */
  assert_true(ml_keepalive_received(&k, true, T0 + 6000 * MS + 1));
  assert_false(ml_keepalive_received(&k, false, T0 + 60000 * MS)); /* not secure: no outage */
  assert_int_equal(ml_keepalive_check(&k, T0 + 65999 * MS), ML_KEEPALIVE_ALIVE);
  assert_int_equal(ml_keepalive_check(&k, T0 + 66000 * MS), ML_KEEPALIVE_PATH_LOST);
  ml_keepalive_received(&k, true, T0 + 67000 * MS);
  assert_int_equal(ml_keepalive_check(&k, T0 + 73000 * MS), ML_KEEPALIVE_PATH_LOST);
}

static void check_interval(void **state) {
  (void)state;
  ml_keepalive k;
  ml_keepalive_init(&k, 2000, 6000, 60000, 0);
  assert_int_equal(ml_keepalive_check_interval_ms(&k), 1000);
  ml_keepalive_init(&k, 100, 300, 1000, 0);
  assert_int_equal(ml_keepalive_check_interval_ms(&k), 151);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, send_due_after_period, path_lost_once_then_timeout,
             received_rearms_and_detects_outage, check_interval)
