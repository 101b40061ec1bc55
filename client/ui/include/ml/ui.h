/* mentorlink — the session window (SDL2): video tiles, self view, chat,
 * controls, verification, banners. It talks to the engine only through
 * ml/call.h.
 *
 * Threads. ml_ui_run runs on the calling thread (the UI thread; SDL wants
 * the main thread) until the call ends. It never calls a blocking engine
 * function: a watcher thread polls ml_call_event_fd and wakes the loop with
 * an SDL user event, and an SDL timer paced at the display's refresh rate
 * fetches new frames (ml_call_latest_frame, which never blocks) and wakes
 * the loop only when one came. With nothing new the loop sleeps in
 * SDL_WaitEventTimeout; it draws only when something changed and presents
 * with vsync.
 *
 * Ownership: the call stays the caller's (borrowed); the UI drains its
 * events (each is handed to on_event first, then freed).
 *
 * Errors: -1 when the window cannot open (no display, no font), with a
 * message on stderr; the call is left untouched so the caller can go on
 * without a window or leave.
 */
#ifndef ML_UI_H
#define ML_UI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ml/call.h"

typedef struct ml_ui_config {
  ml_call *call;         /* required, borrowed */
  const char *self_name; /* shown until the JOINED event gives ours */
  const char *title;     /* window title; NULL: "mentorlink" */
  const char *font_dir;  /* NULL: /usr/share/fonts/truetype/dejavu */
  /* Screenshots (F12 and the test control's "screenshot NAME") go here as
   * NAME.png, each file 0600; the folder is made (0700) on the first one.
   * NULL: F12 does nothing. */
  const char *screenshot_dir;
  /* Tests: read commands from stdin, one per line (documented in window.c:
   * key, text, click, screenshot, layout, resize) and answer on stdout. */
  bool test_control;
  int64_t deadline_ms;         /* g_get_monotonic_time()/1000 to leave at; < 0 none */
  volatile sig_atomic_t *stop; /* set (by a signal handler) to leave now; may be NULL */
  void (*on_event)(ml_call *call, const ml_call_event *ev, void *user); /* may be NULL */
  void *user;
} ml_ui_config;

typedef struct ml_ui_result {
  bool joined; /* a JOINED event came */
  bool fatal;  /* a fatal error, or the call ended without being asked */
  bool ended;  /* the ENDED event came (else: the engine did not end in time) */
} ml_ui_result;

int ml_ui_run(const ml_ui_config *cfg, ml_ui_result *res);

#endif /* ML_UI_H */
