/* unit.pins: trust-on-first-use pins (ml/pins.h), in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "ml/pins.h"

typedef struct fixture {
  char *dir;
  char *path;
} fixture;

static int setup(void **state) {
  fixture *f = g_new0(fixture, 1);
  f->dir = g_dir_make_tmp("mlpins-XXXXXX", NULL);
  assert_non_null(f->dir);
  f->path = g_build_filename(f->dir, "sub", "known_peers", NULL);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  g_autofree char *sub = g_path_get_dirname(f->path);
  g_autofree char *lock = g_strdup_printf("%s.lock", f->path);
  g_unlink(f->path);
  g_unlink(lock);
  g_rmdir(sub);
  g_rmdir(f->dir);
  g_free(f->path);
  g_free(f->dir);
  g_free(f);
  return 0;
}

static void key_of(uint8_t k[32], uint8_t v) { memset(k, v, 32); }

static void write_text(const char *path, const char *text, mode_t mode) {
  g_autofree char *dir = g_path_get_dirname(path);
  assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
  assert_true(g_file_set_contents(path, text, -1, NULL));
  assert_int_equal(chmod(path, mode), 0);
}

static void test_first_use_then_match(void **state) {
  fixture *f = *state;
  uint8_t a[32], b[32], pinned[32];
  key_of(a, 1);
  key_of(b, 2);
  ml_pin_status st;
  assert_int_equal(ml_pins_check(f->path, "Dr Okafor", a, &st, pinned), ML_OK);
  assert_int_equal(st, ML_PIN_NEW);
  struct stat sb;
  assert_int_equal(stat(f->path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  g_autofree char *dir = g_path_get_dirname(f->path);
  assert_int_equal(stat(dir, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0700);
  assert_int_equal(ml_pins_check(f->path, "Dr Okafor", a, &st, pinned), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  /* Another name is independent. */
  assert_int_equal(ml_pins_check(f->path, "Nurse Ünal", b, &st, NULL), ML_OK);
  assert_int_equal(st, ML_PIN_NEW);
  assert_int_equal(ml_pins_check(f->path, "Nurse Ünal", b, &st, NULL), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
}

static void test_changed_is_reported_not_replaced(void **state) {
  fixture *f = *state;
  uint8_t a[32], b[32], pinned[32];
  key_of(a, 1);
  key_of(b, 2);
  ml_pin_status st;
  assert_int_equal(ml_pins_check(f->path, "mentor", a, &st, NULL), ML_OK);
  memset(pinned, 0, sizeof pinned);
  assert_int_equal(ml_pins_check(f->path, "mentor", b, &st, pinned), ML_OK);
  assert_int_equal(st, ML_PIN_CHANGED);
  assert_memory_equal(pinned, a, 32);
  /* Still changed: the warning does not accept the new key. */
  assert_int_equal(ml_pins_check(f->path, "mentor", b, &st, NULL), ML_OK);
  assert_int_equal(st, ML_PIN_CHANGED);
  /* Explicit replacement accepts it. */
  assert_int_equal(ml_pins_replace(f->path, "mentor", b), ML_OK);
  assert_int_equal(ml_pins_check(f->path, "mentor", b, &st, NULL), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_int_equal(ml_pins_check(f->path, "mentor", a, &st, NULL), ML_OK);
  assert_int_equal(st, ML_PIN_CHANGED);
  /* One line per name after the replacement. */
  g_autofree char *text = NULL;
  assert_true(g_file_get_contents(f->path, &text, NULL, NULL));
  unsigned lines = 0;
  for (const char *p = text; (p = strstr(p, " mentor\n")) != NULL; p++)
    lines++;
  assert_int_equal(lines, 1);
}

static void test_file_format(void **state) {
  fixture *f = *state;
  uint8_t a[32];
  key_of(a, 0);
  ml_pin_status st;
  /* A hand-written file: comments, blank lines, a name with spaces. */
  write_text(f->path, "# comment\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= Dr A. Okafor\n",
             0600);
  assert_int_equal(ml_pins_check(f->path, "Dr A. Okafor", a, &st, NULL), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  g_autofree char *text = NULL;
  uint8_t b[32];
  key_of(b, 0xff);
  assert_int_equal(ml_pins_check(f->path, "x", b, &st, NULL), ML_OK);
  assert_true(g_file_get_contents(f->path, &text, NULL, NULL));
  assert_non_null(strstr(text, "# comment\n\n"));
  assert_non_null(strstr(text, "//////////////////////////////////////////8= x\n"));
}

static void test_corrupt_and_unsafe_files(void **state) {
  fixture *f = *state;
  uint8_t a[32];
  key_of(a, 1);
  ml_pin_status st;
  static const char *const bad[] = {
      "garbage\n",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",          /* no name */
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA== x\n",        /* 31 bytes */
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=x\n",         /* no space */
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= a\tb\n",     /* control */
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \xff\xfe\n", /* not UTF-8 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_text(f->path, bad[i], 0600);
    assert_int_equal(ml_pins_check(f->path, "y", a, &st, NULL), ML_ERR_PROTOCOL);
  }
  /* Every truncated prefix of a valid line is refused or, when it ends at a
   * line boundary, read as what it is. */
  const char *good = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= nm\n";
  for (size_t n = 1; n < strlen(good) - 1; n++) {
    g_autofree char *pre = g_strndup(good, n);
    write_text(f->path, pre, 0600);
    int err = ml_pins_check(f->path, "nm", a, &st, NULL);
    if (n >= 46) /* "<key> n": a valid line naming "n" */
      assert_int_equal(err, ML_OK);
    else
      assert_int_equal(err, ML_ERR_PROTOCOL);
  }
  write_text(f->path, good, 0644);
  assert_int_equal(ml_pins_check(f->path, "nm", a, &st, NULL), ML_ERR_PERMISSION);
  write_text(f->path, "", 0600);
  assert_int_equal(ml_pins_check(f->path, "", a, &st, NULL), ML_ERR_INVALID);
  assert_int_equal(ml_pins_check(f->path, "a\nb", a, &st, NULL), ML_ERR_INVALID);
  char longname[80];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(ml_pins_check(f->path, longname, a, &st, NULL), ML_ERR_INVALID);
}

static unsigned count_lines(const char *path, const char *needle) {
  g_autofree char *text = NULL;
  assert_true(g_file_get_contents(path, &text, NULL, NULL));
  unsigned n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

static void test_mark_verified(void **state) {
  fixture *f = *state;
  uint8_t a[32], b[32];
  key_of(a, 1);
  key_of(b, 2);
  ml_pin_status st;
  bool verified = true;
  /* A new pin is not verified. */
  assert_int_equal(ml_pins_check_verified(f->path, "mentor", a, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_NEW);
  assert_false(verified);
  assert_int_equal(ml_pins_check_verified(f->path, "mentor", a, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_false(verified);
  /* Marked: the same key is verified from now on, in the documented form. */
  assert_int_equal(ml_pins_mark_verified(f->path, "mentor", a), ML_OK);
  assert_int_equal(ml_pins_check_verified(f->path, "mentor", a, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_true(verified);
  assert_int_equal(
      count_lines(f->path, "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= mentor\tverified\n"), 1);
  assert_int_equal(count_lines(f->path, "= mentor"), 1);
  /* Marking twice keeps one line. */
  assert_int_equal(ml_pins_mark_verified(f->path, "mentor", a), ML_OK);
  assert_int_equal(count_lines(f->path, "= mentor"), 1);
  /* ml_pins_check still works on the marked line (the old entry point). */
  assert_int_equal(ml_pins_check(f->path, "mentor", a, &st, NULL), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  /* Another key under the name: changed, and not verified. */
  uint8_t pinned[32];
  assert_int_equal(ml_pins_check_verified(f->path, "mentor", b, &st, pinned, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_CHANGED);
  assert_false(verified);
  assert_memory_equal(pinned, a, 32);
  /* Marking the new key verified replaces the changed pin. */
  assert_int_equal(ml_pins_mark_verified(f->path, "mentor", b), ML_OK);
  assert_int_equal(ml_pins_check_verified(f->path, "mentor", b, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_true(verified);
  assert_int_equal(ml_pins_check_verified(f->path, "mentor", a, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_CHANGED);
  assert_false(verified);
  assert_int_equal(count_lines(f->path, "= mentor"), 1);
  /* ml_pins_replace drops the mark with the old key. */
  assert_int_equal(ml_pins_replace(f->path, "mentor", a), ML_OK);
  assert_int_equal(ml_pins_check_verified(f->path, "mentor", a, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_false(verified);
  assert_int_equal(count_lines(f->path, "\t"), 0);
  /* Marking a name never seen pins it verified; other names are untouched. */
  assert_int_equal(ml_pins_check(f->path, "Nurse Ünal", b, &st, NULL), ML_OK);
  assert_int_equal(ml_pins_mark_verified(f->path, "Dr Okafor", b), ML_OK);
  assert_int_equal(ml_pins_check_verified(f->path, "Dr Okafor", b, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_true(verified);
  assert_int_equal(ml_pins_check_verified(f->path, "Nurse Ünal", b, &st, NULL, &verified), ML_OK);
  assert_false(verified);
  /* The rewrite keeps the file private. */
  struct stat sb;
  assert_int_equal(stat(f->path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  /* Same rules as check. */
  assert_int_equal(ml_pins_mark_verified(f->path, "", a), ML_ERR_INVALID);
  assert_int_equal(ml_pins_mark_verified(f->path, "a\tverified", a), ML_ERR_INVALID);
  assert_int_equal(chmod(f->path, 0640), 0);
  assert_int_equal(ml_pins_mark_verified(f->path, "mentor", a), ML_ERR_PERMISSION);
}

static void test_verified_format(void **state) {
  fixture *f = *state;
  uint8_t z[32];
  key_of(z, 0);
  ml_pin_status st;
  bool verified = false;
  /* Old files (no marks) and hand-written marks parse; a name with spaces
   * keeps them. */
  write_text(f->path,
             "# old\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= Dr A. Okafor\tverified\n"
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= plain name\n",
             0600);
  assert_int_equal(ml_pins_check_verified(f->path, "Dr A. Okafor", z, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_true(verified);
  assert_int_equal(ml_pins_check_verified(f->path, "plain name", z, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_false(verified);
  /* The name is what comes before the TAB: "Dr A. Okafor\tverified" is not a name. */
  assert_int_equal(ml_pins_check(f->path, "Dr A. Okafor\tverified", z, &st, NULL), ML_ERR_INVALID);
  /* Anything but exactly TAB "verified" after the name is corrupt. */
  static const char *const bad[] = {
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= n\tVerified\n",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= n\tverified \n",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= n\tverified\tverified\n",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= n\t\n",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \tverified\n",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= n\tverifie\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_text(f->path, bad[i], 0600);
    assert_int_equal(ml_pins_check(f->path, "n", z, &st, NULL), ML_ERR_PROTOCOL);
  }
  /* A space before the TAB belongs to the name, as any space does. */
  write_text(f->path, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= n \tverified\n", 0600);
  assert_int_equal(ml_pins_check_verified(f->path, "n ", z, &st, NULL, &verified), ML_OK);
  assert_int_equal(st, ML_PIN_MATCH);
  assert_true(verified);
  /* A 64-byte name with the mark parses; 65 bytes do not. */
  char name[66];
  memset(name, 'x', 65);
  name[64] = '\0';
  g_autofree char *line64 =
      g_strdup_printf("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= %s\tverified\n", name);
  write_text(f->path, line64, 0600);
  assert_int_equal(ml_pins_check_verified(f->path, name, z, &st, NULL, &verified), ML_OK);
  assert_true(verified);
  name[64] = 'x';
  name[65] = '\0';
  g_autofree char *line65 =
      g_strdup_printf("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= %s\tverified\n", name);
  write_text(f->path, line65, 0600);
  assert_int_equal(ml_pins_check(f->path, "y", z, &st, NULL), ML_ERR_PROTOCOL);
}

static void test_default_path(void **state) {
  (void)state;
  char buf[256];
  g_setenv("XDG_DATA_HOME", "/x/data", TRUE);
  assert_int_equal(ml_pins_default_path(buf, sizeof buf), ML_OK);
  assert_string_equal(buf, "/x/data/mentorlink/known_peers");
  g_setenv("XDG_DATA_HOME", "relative", TRUE);
  g_setenv("HOME", "/home/u", TRUE);
  assert_int_equal(ml_pins_default_path(buf, sizeof buf), ML_OK);
  assert_string_equal(buf, "/home/u/.local/share/mentorlink/known_peers");
  assert_int_equal(ml_pins_default_path(buf, 8), ML_ERR_BUFFER);
}

ML_UNIT_MAIN_LIST(ML_UNIT_SODIUM, ml_unit_fixture(test_first_use_then_match),
                  ml_unit_fixture(test_changed_is_reported_not_replaced),
                  ml_unit_fixture(test_file_format), ml_unit_fixture(test_corrupt_and_unsafe_files),
                  ml_unit_fixture(test_mark_verified), ml_unit_fixture(test_verified_format),
                  cmocka_unit_test(test_default_path))
