/* mentorlink UI — UTF-8 text editing and wrapping, without SDL.
 *
 * The chat input line is an ml_ui_edit: a byte buffer of valid UTF-8 whose
 * cursor always sits on a code point boundary; every operation moves or
 * deletes whole code points. Wrapping breaks text into lines no wider than
 * a width, measured by the caller's function (SDL_ttf in the window, a fixed
 * width in tests): at spaces when it can, inside a word (between code
 * points) when a word alone is too wide, and always at '\n'.
 */
#ifndef ML_UI_UTF8_H
#define ML_UI_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#define ML_UI_EDIT_MAX 4096 /* bytes of one chat message typed in the window */

typedef struct ml_ui_edit {
  char buf[ML_UI_EDIT_MAX + 1]; /* NUL-terminated */
  size_t len, cursor;           /* bytes; cursor <= len, on a boundary */
} ml_ui_edit;

/* The byte length of the valid UTF-8 sequence at s[0..n), 0 if invalid. */
size_t ml_utf8_seq_len(const char *s, size_t n);
bool ml_utf8_valid(const char *s, size_t n);
size_t ml_utf8_next(const char *s, size_t len, size_t i); /* next boundary after i */
size_t ml_utf8_prev(const char *s, size_t i);             /* boundary before i */

void ml_ui_edit_clear(ml_ui_edit *e);
/* Inserts at the cursor; invalid UTF-8 or text that would not fit is
 * refused whole (returns false). */
bool ml_ui_edit_insert(ml_ui_edit *e, const char *text);
void ml_ui_edit_backspace(ml_ui_edit *e);
void ml_ui_edit_delete(ml_ui_edit *e);
void ml_ui_edit_left(ml_ui_edit *e);
void ml_ui_edit_right(ml_ui_edit *e);
void ml_ui_edit_home(ml_ui_edit *e);
void ml_ui_edit_end(ml_ui_edit *e);
/* Whether the text has anything but white space. */
bool ml_ui_edit_has_text(const ml_ui_edit *e);

/* Width in pixels of s[0..len). */
typedef int (*ml_ui_measure_fn)(const char *s, size_t len, void *user);

typedef struct ml_ui_line {
  size_t start, len; /* bytes of the text */
} ml_ui_line;

/* Wraps text into at most max_lines lines of width <= max_w (a single code
 * point wider than max_w gets a line of its own). Returns the number of
 * lines the whole text needs (may exceed max_lines: only max_lines are
 * written). Trailing spaces at a break are not part of either line. */
size_t ml_ui_wrap(const char *text, int max_w, ml_ui_measure_fn measure, void *user,
                  ml_ui_line *lines, size_t max_lines);

#endif /* ML_UI_UTF8_H */
