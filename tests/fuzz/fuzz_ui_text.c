/* libFuzzer target: what a peer's text becomes in the window's model.
 *
 * A peer chooses its display name and its chat lines; the engine passes chat
 * text on only as valid UTF-8, names as the signaling server relayed them.
 * The input is split at the first NUL into a name and a chat line; the line
 * is made valid UTF-8 the way the engine would refuse it otherwise (invalid
 * input is skipped), applied to the model as a peer's events, wrapped at
 * several widths with a fixed-width measure, and the initials of the name
 * are taken. Invariants: lines cover the text in order and fit the width
 * (a single code point may exceed it), every line is valid UTF-8, initials
 * are valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "utf8.h"

#include "fuzz.h"

static int measure(const char *s, size_t len, void *user) {
  (void)user;
  int n = 0;
  for (size_t i = 0; i < len; i = ml_utf8_next(s, len, i))
    n += (unsigned char)s[i] < 0x80 ? 7 : 13;
  return n;
}

static ml_ui_model model;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 70000)
    return 0;
  const uint8_t *nul = memchr(data, 0, size);
  size_t name_len = nul ? (size_t)(nul - data) : size;
  const char *text = nul ? (const char *)nul + 1 : "";
  size_t text_len = nul ? size - name_len - 1 : 0;
  char *t = malloc(text_len + 1);
  if (!t)
    return 0;
  memcpy(t, text, text_len);
  t[text_len] = '\0';
  text_len = strlen(t); /* up to an embedded NUL, as a C string */

  ml_ui_model_init(&model, "me");
  ml_call_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = ML_CALL_EV_PEER_JOINED;
  memcpy(ev.peer_id, "p1", 3);
  size_t n = name_len < ML_CALL_MAX_NAME ? name_len : ML_CALL_MAX_NAME;
  memcpy(ev.peer_name, data, n);
  ev.peer_name[n] = '\0';
  ml_ui_model_apply(&model, &ev, 0, 0);
  char ini[16];
  if (ml_utf8_valid(ev.peer_name, strlen(ev.peer_name))) {
    ml_ui_initials(ev.peer_name, ini);
    CHECK(strlen(ini) < sizeof ini && ml_utf8_valid(ini, strlen(ini)));
  }
  ml_ui_banner banners[ML_UI_MAX_BANNERS];
  ml_ui_model_banners(&model, 0, banners, ML_UI_MAX_BANNERS);

  if (ml_utf8_valid(t, text_len)) {
    ev.type = ML_CALL_EV_CHAT;
    ev.text = t;
    ml_ui_model_apply(&model, &ev, 0, 0);
    CHECK(model.n_chat == 1 && !strcmp(model.chat[0].text, t));
    static ml_ui_line lines[256];
    const int widths[] = {1, 13, 100, 333};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
      size_t nl = ml_ui_wrap(t, widths[w], measure, NULL, lines, 256);
      size_t end = 0;
      for (size_t i = 0; i < nl && i < 256; i++) {
        CHECK(lines[i].start >= end && lines[i].start + lines[i].len <= text_len);
        CHECK(ml_utf8_valid(t + lines[i].start, lines[i].len));
        size_t first = ml_utf8_next(t + lines[i].start, lines[i].len, 0);
        CHECK(measure(t + lines[i].start, lines[i].len, NULL) <= widths[w] ||
              lines[i].len == first);
        end = lines[i].start + lines[i].len;
      }
    }
    ml_ui_edit e;
    ml_ui_edit_clear(&e);
    if (ml_ui_edit_insert(&e, t)) {
      ml_ui_edit_left(&e);
      ml_ui_edit_backspace(&e);
      CHECK(ml_utf8_valid(e.buf, e.len) && e.cursor <= e.len);
    }
  }
  ml_ui_model_clear(&model);
  free(t);
  return 0;
}
