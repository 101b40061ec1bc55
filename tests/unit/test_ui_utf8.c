/* The chat input's editing by code point and the wrapping of chat text
 * (client/ui/utf8.c), with a fixed-width measure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "utf8.h"

/* 10 px per code point. */
static int measure(const char *s, size_t len, void *user) {
  (void)user;
  int n = 0;
  for (size_t i = 0; i < len; i = ml_utf8_next(s, len, i))
    n++;
  return n * 10;
}

static void test_validity(void **state) {
  (void)state;
  assert_true(ml_utf8_valid("héllo ✓ 😀", strlen("héllo ✓ 😀")));
  assert_false(ml_utf8_valid("\xc3", 1));             /* truncated */
  assert_false(ml_utf8_valid("\xc0\xaf", 2));         /* overlong */
  assert_false(ml_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
  assert_false(ml_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
  assert_false(ml_utf8_valid("a\xffz", 3));
}

static void test_edit_by_code_point(void **state) {
  (void)state;
  ml_ui_edit e;
  ml_ui_edit_clear(&e);
  assert_true(ml_ui_edit_insert(&e, "aé✓"));
  assert_int_equal(e.len, 1 + 2 + 3);
  assert_int_equal(e.cursor, e.len);
  ml_ui_edit_backspace(&e); /* removes the 3-byte ✓ whole */
  assert_string_equal(e.buf, "aé");
  ml_ui_edit_left(&e);
  assert_int_equal(e.cursor, 1);
  assert_true(ml_ui_edit_insert(&e, "😀"));
  assert_string_equal(e.buf, "a😀é");
  ml_ui_edit_home(&e);
  ml_ui_edit_delete(&e);
  assert_string_equal(e.buf, "😀é");
  ml_ui_edit_right(&e);
  assert_int_equal(e.cursor, 4);
  ml_ui_edit_end(&e);
  ml_ui_edit_right(&e); /* at the end: stays */
  assert_int_equal(e.cursor, e.len);
  ml_ui_edit_home(&e);
  ml_ui_edit_left(&e); /* at the start: stays */
  ml_ui_edit_backspace(&e);
  assert_int_equal(e.cursor, 0);
  assert_string_equal(e.buf, "😀é");
  assert_false(ml_ui_edit_insert(&e, "bad\xff"));
  assert_string_equal(e.buf, "😀é");
  assert_true(ml_ui_edit_has_text(&e));
  ml_ui_edit_clear(&e);
  ml_ui_edit_insert(&e, "  \t ");
  assert_false(ml_ui_edit_has_text(&e));
}

static void test_edit_capacity(void **state) {
  (void)state;
  static ml_ui_edit e;
  ml_ui_edit_clear(&e);
  char chunk[101];
  memset(chunk, 'x', 100);
  chunk[100] = '\0';
  while (ml_ui_edit_insert(&e, chunk))
    ;
  assert_true(e.len <= ML_UI_EDIT_MAX);
  assert_true(e.len > ML_UI_EDIT_MAX - 100);
  assert_int_equal(strlen(e.buf), e.len);
}

static void test_wrap(void **state) {
  (void)state;
  ml_ui_line l[16];
  const char *t = "the quick brown fox jumps";
  size_t n = ml_ui_wrap(t, 100, measure, NULL, l, 16); /* 10 code points per line */
  assert_int_equal(n, 3);
  assert_int_equal(l[0].len, 9); /* "the quick" */
  assert_memory_equal(t + l[0].start, "the quick", 9);
  assert_memory_equal(t + l[1].start, "brown fox", 9);
  assert_memory_equal(t + l[2].start, "jumps", 5);
  /* A word longer than the width is cut between code points. */
  const char *w = "ééééééééééééééééééééééé"; /* 23 x 2 bytes */
  n = ml_ui_wrap(w, 100, measure, NULL, l, 16);
  assert_int_equal(n, 3);
  assert_int_equal(l[0].len, 20);
  assert_int_equal(l[2].len, 6);
  for (size_t i = 0; i < n; i++)
    assert_true(ml_utf8_valid(w + l[i].start, l[i].len));
  /* Newlines always break; an empty line stays a line. */
  n = ml_ui_wrap("a\n\nb", 100, measure, NULL, l, 16);
  assert_int_equal(n, 3);
  assert_int_equal(l[1].len, 0);
  /* Every line fits, and they cover the text in order. */
  const char *long_text = "Patient stable; BP 120/80, HR 72. Proceed with the second incision "
                          "at the marked site ✓ — confirm when done.";
  for (int width = 10; width <= 400; width += 7) {
    n = ml_ui_wrap(long_text, width, measure, NULL, l, 16);
    size_t prev_end = 0;
    for (size_t i = 0; i < n && i < 16; i++) {
      assert_true(measure(long_text + l[i].start, l[i].len, NULL) <= (width < 10 ? 10 : width));
      assert_true(l[i].start >= prev_end);
      prev_end = l[i].start + l[i].len;
    }
  }
  /* Only max_lines are written; the count is the full one. */
  n = ml_ui_wrap(long_text, 30, measure, NULL, l, 2);
  assert_true(n > 2);
}

static size_t measured_bytes;

static int counting_measure(const char *s, size_t len, void *user) {
  measured_bytes += len;
  return measure(s, len, user);
}

/* A peer's 64 KiB word costs work in proportion to its length, not its
 * square: each measure stays within about one line's bytes. */
static void test_wrap_long_word_is_linear(void **state) {
  (void)state;
  static char word[65537];
  memset(word, 'w', sizeof word - 1);
  word[sizeof word - 1] = '\0';
  measured_bytes = 0;
  static ml_ui_line l[8192];
  size_t n = ml_ui_wrap(word, 300, counting_measure, NULL, l, 8192); /* 30 per line */
  assert_int_equal(n, (65536 + 29) / 30);
  assert_true(measured_bytes < (size_t)65536 * 64);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_validity, test_edit_by_code_point,
             test_edit_capacity, test_wrap, test_wrap_long_word_is_linear)
