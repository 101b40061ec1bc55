/* ml_link_capacity (client/engine/link_capacity.h): the averaged capacity,
 * its band, and the peak that gates fast recovery; time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "unit.h"

#include "link_capacity.h"

static void test_unknown_then_band(void **state) {
  (void)state;
  ml_link_capacity c;
  ml_link_capacity_init(&c);
  assert_false(ml_link_capacity_known(&c));
  assert_false(ml_link_capacity_near(&c, 100));
  assert_true(isinf(ml_link_capacity_upper(&c)));
  assert_true(ml_link_capacity_fast(&c, 0, 1)); /* nothing seen: recover fast */
  ml_link_capacity_sample(&c, 0, NAN);          /* garbage is ignored */
  ml_link_capacity_sample(&c, 0, -5);
  assert_false(ml_link_capacity_known(&c));
  ml_link_capacity_sample(&c, 0, 100);
  assert_true(ml_link_capacity_known(&c));
  /* 100 +/- 3 sqrt(0.4 x 100) = 100 +/- 19 */
  assert_true(fabs(ml_link_capacity_lower(&c) - 81.0) < 0.2);
  assert_true(fabs(ml_link_capacity_upper(&c) - 119.0) < 0.2);
  /* Samples near it move it a little: an average, not the latest. */
  ml_link_capacity_sample(&c, 1000, 110);
  assert_true(c.kbps > 100 && c.kbps < 101);
  assert_false(ml_link_capacity_fast(&c, 1000, 1000)); /* a band is known */
  /* Near it from the lower edge up; the step is a tenth, at least 5 kbps. */
  assert_false(ml_link_capacity_near(&c, 80));
  assert_true(ml_link_capacity_near(&c, 90));
  assert_true(ml_link_capacity_near(&c, 500));
  assert_true(fabs(ml_link_capacity_step_kbps(140) - 14) < 1e-9);
  assert_true(fabs(ml_link_capacity_step_kbps(20) - 5) < 1e-9);
}

static void test_thinner_link_starts_over(void **state) {
  (void)state;
  ml_link_capacity c;
  ml_link_capacity_init(&c);
  ml_link_capacity_sample(&c, 0, 1000);
  ml_link_capacity_sample(&c, 1000, 120); /* far below the band: a new bottleneck */
  assert_true(fabs(c.kbps - 120) < 1e-9);
  assert_true(fabs(ml_link_capacity_peak(&c, 1000) - 1000) < 1e-9); /* the peak stays */
}

static void test_passed_forgets_the_band_not_the_peak(void **state) {
  (void)state;
  ml_link_capacity c;
  ml_link_capacity_init(&c);
  ml_link_capacity_sample(&c, 0, 140);   /* the link's real limit */
  ml_link_capacity_sample(&c, 1000, 20); /* after a collapse: the sender had cut */
  assert_false(ml_link_capacity_passed(&c, 25));
  assert_true(ml_link_capacity_passed(&c, 40)); /* past 20 + 3 sqrt(8) */
  assert_false(ml_link_capacity_known(&c));
  /* The band is gone, but fast recovery waits for 1.5 x the peak (210). */
  assert_false(ml_link_capacity_fast(&c, 2000, 150));
  assert_false(ml_link_capacity_fast(&c, 2000, 210));
  assert_true(ml_link_capacity_fast(&c, 2000, 211));
  /* A peak is remembered for 60 s. */
  assert_false(ml_link_capacity_fast(&c, 59999, 150));
  assert_true(ml_link_capacity_fast(&c, 60000, 150));
  assert_true(ml_link_capacity_peak(&c, 60000) == 0);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_unknown_then_band,
             test_thinner_link_starts_over, test_passed_forgets_the_band_not_the_peak)
