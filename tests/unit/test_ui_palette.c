/* WCAG AA: every text colour on every background the window uses has a
 * contrast ratio of at least 4.5:1 (client/ui/palette.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "unit.h"

#include "palette.h"

static void test_reference_values(void **state) {
  (void)state;
  ml_rgb black = {0, 0, 0}, white = {255, 255, 255}, grey = {0x76, 0x76, 0x76};
  assert_float_equal(ml_ui_contrast(black, white), 21.0, 0.01);
  assert_float_equal(ml_ui_contrast(white, black), 21.0, 0.01);
  assert_float_equal(ml_ui_contrast(white, white), 1.0, 0.001);
  /* #767676 on white is the well-known 4.54:1 */
  assert_float_equal(ml_ui_contrast(grey, white), 4.54, 0.01);
}

static void test_pairs_meet_aa(void **state) {
  (void)state;
  size_t n;
  const ml_ui_palette_pair *p = ml_ui_palette_pairs(&n);
  assert_true(n >= 15);
  for (size_t i = 0; i < n; i++) {
    double c = ml_ui_contrast(p[i].fg, p[i].bg);
    printf("  %-28s %5.2f:1\n", p[i].what, c);
    if (c < 4.5)
      fail_msg("%s: contrast %.2f:1 < 4.5:1", p[i].what, c);
  }
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_reference_values, test_pairs_meet_aa)
