/* mentorlink UI — UTF-8 editing and wrapping (see utf8.h). */
#include "utf8.h"

#include <string.h>

size_t ml_utf8_seq_len(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  if (!n)
    return 0;
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  unsigned cp = c & (0x7f >> len);
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

bool ml_utf8_valid(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t l = ml_utf8_seq_len(s + i, n - i);
    if (!l)
      return false;
    i += l;
  }
  return true;
}

size_t ml_utf8_next(const char *s, size_t len, size_t i) {
  if (i >= len)
    return len;
  size_t l = ml_utf8_seq_len(s + i, len - i);
  return i + (l ? l : 1);
}

size_t ml_utf8_prev(const char *s, size_t i) {
  if (!i)
    return 0;
  i--;
  while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
    i--;
  return i;
}

void ml_ui_edit_clear(ml_ui_edit *e) {
  e->len = e->cursor = 0;
  e->buf[0] = '\0';
}

bool ml_ui_edit_insert(ml_ui_edit *e, const char *text) {
  size_t n = strlen(text);
  if (!ml_utf8_valid(text, n) || e->len + n > ML_UI_EDIT_MAX)
    return false;
  memmove(e->buf + e->cursor + n, e->buf + e->cursor, e->len - e->cursor + 1);
  memcpy(e->buf + e->cursor, text, n);
  e->len += n;
  e->cursor += n;
  return true;
}

static void cut(ml_ui_edit *e, size_t from, size_t to) {
  memmove(e->buf + from, e->buf + to, e->len - to + 1);
  e->len -= to - from;
  e->cursor = from;
}

void ml_ui_edit_backspace(ml_ui_edit *e) {
  if (e->cursor)
    cut(e, ml_utf8_prev(e->buf, e->cursor), e->cursor);
}

void ml_ui_edit_delete(ml_ui_edit *e) {
  if (e->cursor < e->len)
    cut(e, e->cursor, ml_utf8_next(e->buf, e->len, e->cursor));
}

void ml_ui_edit_left(ml_ui_edit *e) { e->cursor = ml_utf8_prev(e->buf, e->cursor); }
void ml_ui_edit_right(ml_ui_edit *e) { e->cursor = ml_utf8_next(e->buf, e->len, e->cursor); }
void ml_ui_edit_home(ml_ui_edit *e) { e->cursor = 0; }
void ml_ui_edit_end(ml_ui_edit *e) { e->cursor = e->len; }

bool ml_ui_edit_has_text(const ml_ui_edit *e) {
  for (size_t i = 0; i < e->len; i++)
    if (e->buf[i] != ' ' && e->buf[i] != '\t' && e->buf[i] != '\n')
      return true;
  return false;
}

static void emit(ml_ui_line *lines, size_t max, size_t *n, size_t start, size_t len) {
  if (*n < max) {
    lines[*n].start = start;
    lines[*n].len = len;
  }
  (*n)++;
}

/* One paragraph (no '\n') text[p0..p1). A line never holds more than
 * max_bytes, so each measure costs O(width) even for a hostile 64 KiB word
 * (zero-width code points beyond it just break the line earlier). */
static void wrap_para(const char *t, size_t p0, size_t p1, int max_w, ml_ui_measure_fn measure,
                      void *user, ml_ui_line *lines, size_t max, size_t *n) {
  size_t max_bytes = 4 * (size_t)(max_w > 0 ? max_w : 1) + 64;
  size_t start = p0;
  while (start < p1) {
    size_t limit = p1 - start > max_bytes ? start + max_bytes : p1;
    /* The longest run of whole words from start that fits. */
    size_t best = start, i = start;
    bool all = false;
    while (i < limit) {
      size_t end = i;
      while (end < limit && t[end] == ' ')
        end++;
      while (end < limit && t[end] != ' ')
        end = ml_utf8_next(t, limit, end);
      if (measure(t + start, end - start, user) > max_w)
        break;
      best = end;
      i = end;
      all = end == p1;
    }
    if (all) {
      emit(lines, max, n, start, p1 - start);
      return;
    }
    size_t brk;
    if (best > start && (best < limit || limit == p1)) {
      brk = best;
    } else { /* the first word alone is too wide: as many code points as fit */
      brk = ml_utf8_next(t, p1, start);
      for (size_t k = brk; k < limit;) {
        size_t nk = ml_utf8_next(t, p1, k);
        if (nk > limit || measure(t + start, nk - start, user) > max_w)
          break;
        brk = k = nk;
      }
    }
    size_t len = brk - start;
    while (len && t[start + len - 1] == ' ')
      len--;
    emit(lines, max, n, start, len);
    start = brk;
    while (start < p1 && t[start] == ' ')
      start++;
  }
}

size_t ml_ui_wrap(const char *text, int max_w, ml_ui_measure_fn measure, void *user,
                  ml_ui_line *lines, size_t max_lines) {
  size_t n = 0, len = strlen(text), p0 = 0;
  for (;;) {
    size_t p1 = p0;
    while (p1 < len && text[p1] != '\n')
      p1++;
    if (p1 == p0)
      emit(lines, max_lines, &n, p0, 0);
    else
      wrap_para(text, p0, p1, max_w, measure, user, lines, max_lines, &n);
    if (p1 >= len)
      break;
    p0 = p1 + 1;
  }
  return n;
}
