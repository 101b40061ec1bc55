/* Unit tests for the freeze detector (client/engine/freeze.h): the gap rule
 * max(3 x median interval, 150 ms), time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "freeze.h"

#define MS 1000 /* microseconds */
#define T0 ((int64_t)5000000)

/* n frames every step_us from *t (the first at *t + step_us). */
static void frames(ml_freeze *f, int64_t *t, int n, int64_t step_us) {
  for (int i = 0; i < n; i++) {
    *t += step_us;
    assert_int_equal(ml_freeze_on_frame(f, *t), 0);
  }
}

static void smooth_video_never_freezes(void **state) {
  (void)state;
  ml_freeze f;
  ml_freeze_init(&f);
  assert_int_equal(ml_freeze_threshold_us(&f), 150 * MS);
  int64_t t = T0;
  assert_int_equal(ml_freeze_on_frame(&f, t), 0); /* the first frame */
  frames(&f, &t, 300, 33 * MS);
  assert_int_equal(ml_freeze_total_us(&f, t), 0);
  assert_int_equal(f.freezes, 0);
  /* 3 x 33 ms is below the floor. */
  assert_int_equal(ml_freeze_threshold_us(&f), 150 * MS);
}

static void stall_counts_its_whole_gap(void **state) {
  (void)state;
  ml_freeze f;
  ml_freeze_init(&f);
  int64_t t = T0;
  (void)ml_freeze_on_frame(&f, t);
  frames(&f, &t, 60, 33 * MS);
  /* 150 ms exactly is no freeze; 151 ms is, all of it. */
  t += 150 * MS;
  assert_int_equal(ml_freeze_on_frame(&f, t), 0);
  frames(&f, &t, 30, 33 * MS);
  t += 151 * MS;
  assert_int_equal(ml_freeze_on_frame(&f, t), 151 * MS);
  assert_int_equal(f.freezes, 1);
  assert_int_equal(ml_freeze_total_us(&f, t), 151 * MS);
}

static void threshold_follows_the_median(void **state) {
  (void)state;
  ml_freeze f;
  ml_freeze_init(&f);
  int64_t t = T0;
  (void)ml_freeze_on_frame(&f, t);
  /* 10 fps: 3 x 100 ms. */
  frames(&f, &t, 30, 100 * MS);
  assert_int_equal(ml_freeze_threshold_us(&f), 300 * MS);
  t += 290 * MS;
  assert_int_equal(ml_freeze_on_frame(&f, t), 0);
  t += 310 * MS;
  assert_int_equal(ml_freeze_on_frame(&f, t), 310 * MS);
  /* Even window: the mean of the two middle values. */
  ml_freeze_init(&f);
  t = T0;
  (void)ml_freeze_on_frame(&f, t);
  frames(&f, &t, 1, 60 * MS);
  frames(&f, &t, 1, 80 * MS);
  assert_int_equal(ml_freeze_threshold_us(&f), 210 * MS);
}

static void steady_low_rate_stops_counting(void **state) {
  (void)state;
  ml_freeze f;
  ml_freeze_init(&f);
  int64_t t = T0;
  (void)ml_freeze_on_frame(&f, t);
  frames(&f, &t, 30, 33 * MS);
  /* Down to 2 fps: frozen until the long intervals are the median. */
  int counted = 0;
  for (int i = 0; i < 40; i++) {
    t += 500 * MS;
    counted += ml_freeze_on_frame(&f, t) > 0;
  }
  assert_int_equal(counted, 15); /* the 16th 500 ms interval makes the median 500 ms */
  assert_int_equal(ml_freeze_total_us(&f, t), 15 * 500 * MS);
}

static void ongoing_freeze_shows_and_never_decreases(void **state) {
  (void)state;
  ml_freeze f;
  ml_freeze_init(&f);
  int64_t t = T0;
  (void)ml_freeze_on_frame(&f, t);
  frames(&f, &t, 30, 33 * MS);
  assert_int_equal(ml_freeze_total_us(&f, t + 150 * MS), 0);
  assert_int_equal(ml_freeze_total_us(&f, t + 1000 * MS), 1000 * MS);
  int64_t prev = 0;
  for (int64_t d = 0; d <= 3000 * MS; d += 100 * MS) {
    int64_t now = ml_freeze_total_us(&f, t + d);
    assert_true(now >= prev);
    prev = now;
  }
  t += 3000 * MS;
  assert_int_equal(ml_freeze_on_frame(&f, t), 3000 * MS);
  assert_int_equal(ml_freeze_total_us(&f, t), 3000 * MS);
  assert_true(ml_freeze_total_us(&f, t) >= prev);
}

static void time_backwards_and_restart(void **state) {
  (void)state;
  ml_freeze f;
  ml_freeze_init(&f);
  int64_t t = T0;
  (void)ml_freeze_on_frame(&f, t);
  assert_int_equal(ml_freeze_on_frame(&f, t - 10 * MS), 0); /* no time elapsed */
  assert_int_equal(ml_freeze_total_us(&f, t - 1000 * MS), 0);
  frames(&f, &t, 30, 33 * MS);
  /* Camera off 400 ms into a stall: the 400 ms count, the rest does not. */
  ml_freeze_restart(&f, t + 400 * MS);
  assert_int_equal(f.freezes, 1);
  assert_int_equal(ml_freeze_total_us(&f, t + 400 * MS), 400 * MS);
  t += 10000 * MS;
  assert_int_equal(ml_freeze_on_frame(&f, t), 0); /* the first frame again */
  assert_int_equal(ml_freeze_total_us(&f, t), 400 * MS);
  assert_int_equal(ml_freeze_threshold_us(&f), 150 * MS);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, smooth_video_never_freezes,
             stall_counts_its_whole_gap, threshold_follows_the_median,
             steady_low_rate_stops_counting, ongoing_freeze_shows_and_never_decreases,
             time_backwards_and_restart)
