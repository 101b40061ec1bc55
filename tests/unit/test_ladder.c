/* ml_ladder (client/engine/ladder.h): rungs and hysteresis, time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "ladder.h"

static const ml_ladder_format FULL = {640, 360, 30};

static void expect(const ml_ladder *l, unsigned w, unsigned h, unsigned fps) {
  ml_ladder_format f = ml_ladder_format_now(l);
  assert_int_equal(f.width, w);
  assert_int_equal(f.height, h);
  assert_int_equal(f.fps, fps);
}

static void test_start_rungs(void **state) {
  (void)state;
  const struct {
    unsigned kbps, w, h, fps;
  } cases[] = {{1200, 640, 360, 30}, {500, 640, 360, 30}, {499, 480, 270, 30}, {300, 480, 270, 30},
               {299, 320, 180, 30},  {160, 320, 180, 30}, {159, 320, 180, 22}, {100, 320, 180, 22},
               {99, 320, 180, 15},   {0, 320, 180, 15}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ml_ladder l;
    ml_ladder_init(&l, FULL, cases[i].kbps);
    expect(&l, cases[i].w, cases[i].h, cases[i].fps);
  }
  /* Scaled to the capture format, even sizes, at least 1 fps. */
  ml_ladder l;
  ml_ladder_init(&l, (ml_ladder_format){1278, 718, 2}, 50);
  expect(&l, 638, 358, 1);
}

static void test_down_at_once_up_after_hold(void **state) {
  (void)state;
  ml_ladder l;
  ml_ladder_init(&l, FULL, 800);
  assert_false(ml_ladder_update(&l, 0, 420)); /* above 360p's floor: stays */
  expect(&l, 640, 360, 30);
  assert_true(ml_ladder_update(&l, 1000, 90)); /* far below: straight to 180p22 */
  expect(&l, 320, 180, 22);
  /* Up after 2 s at or above the next entry, not before: one rung for 170. */
  assert_false(ml_ladder_update(&l, 2000, 170));
  assert_false(ml_ladder_update(&l, 3999, 170));
  assert_true(ml_ladder_update(&l, 4000, 900));
  expect(&l, 320, 180, 30);
  /* The next step waits its own hold, then goes as high as the lowest
   * target of the hold allows: 360p straight away. */
  assert_false(ml_ladder_update(&l, 5000, 900));
  assert_false(ml_ladder_update(&l, 6999, 600));
  assert_true(ml_ladder_update(&l, 7000, 900));
  expect(&l, 640, 360, 30);
}

/* A target swinging across an entry never flaps: a dip below the entry
 * restarts the hold, and inside the band between floor and entry nothing
 * moves. */
static void test_no_flapping(void **state) {
  (void)state;
  ml_ladder l;
  ml_ladder_init(&l, FULL, 350); /* 270p */
  unsigned changes = 0;
  for (int64_t t = 0; t < 60000; t += 1000)
    changes += ml_ladder_update(&l, t, (t / 1000) % 3 ? 520 : 450);
  assert_int_equal(changes, 0);
  expect(&l, 480, 270, 30);
  for (int64_t t = 60000; t < 120000; t += 1000)
    changes += ml_ladder_update(&l, t, (t / 1000) % 2 ? 240 : 480);
  assert_int_equal(changes, 0);
}

static void test_thin_audio(void **state) {
  (void)state;
  ml_ladder l;
  ml_ladder_init(&l, FULL, 800);
  assert_false(ml_ladder_thin_audio(&l, false));
  assert_true(ml_ladder_thin_audio(&l, true)); /* paused video: audio is all there is */
  (void)ml_ladder_update(&l, 0, 150);
  assert_false(ml_ladder_thin_audio(&l, false)); /* 180p30 */
  (void)ml_ladder_update(&l, 1000, 70);
  assert_true(ml_ladder_thin_audio(&l, false));
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_start_rungs, test_down_at_once_up_after_hold,
             test_no_flapping, test_thin_audio)
