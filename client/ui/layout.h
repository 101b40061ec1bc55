/* mentorlink UI — layout: pure geometry of the session window.
 *
 * Everything is in output pixels (what SDL_GetRendererOutputSize reports);
 * `scale` is output pixels per logical pixel (2 on a HiDPI screen), so sizes
 * given here in logical pixels are multiplied by it. No SDL, no state: the
 * same input always gives the same rectangles, which the renderer draws and
 * the window hit-tests.
 *
 * The window, top to bottom: banners (one strip each), the stage (video
 * tiles and the self-view picture-in-picture), the controls bar; the chat
 * panel, when open, takes the right side above the controls bar.
 *
 * Tiles: 1 or 2 remote participants share the stage equally; with more than
 * two and an active speaker, the speaker's tile takes 70 % of the stage along
 * its longer side and the others share the rest. Every tile is 16:9 (video
 * inside is letterboxed with ml_layout_fit), tiles never overlap each other,
 * the chat panel, the bars or the banners, and all stay inside the window.
 * At or above ML_LAYOUT_MIN_W x ML_LAYOUT_MIN_H logical pixels every tile is
 * at least ML_LAYOUT_MIN_TILE_W logical pixels wide.
 */
#ifndef ML_UI_LAYOUT_H
#define ML_UI_LAYOUT_H

#include <stdbool.h>

#define ML_LAYOUT_MAX_TILES 8
#define ML_LAYOUT_MAX_BANNERS 4
#define ML_LAYOUT_MAX_BUTTONS 8
/* The smallest window the UI allows (logical pixels; SDL_SetWindowMinimumSize). */
#define ML_LAYOUT_MIN_W 640
#define ML_LAYOUT_MIN_H 400
#define ML_LAYOUT_MIN_TILE_W 64
#define ML_LAYOUT_ASPECT_W 16
#define ML_LAYOUT_ASPECT_H 9

typedef struct ml_rect {
  int x, y, w, h;
} ml_rect;

typedef struct ml_layout_input {
  int win_w, win_h; /* output pixels */
  float scale;      /* output pixels per logical pixel; < 1 is taken as 1 */
  int n_tiles;      /* 0..ML_LAYOUT_MAX_TILES (more are clamped) */
  int active;       /* index of the active speaker, -1 none */
  bool chat_open;
  bool pip;      /* a self-view picture-in-picture */
  int n_banners; /* 0..ML_LAYOUT_MAX_BANNERS */
  int n_buttons; /* controls bar buttons, 0..ML_LAYOUT_MAX_BUTTONS */
} ml_layout_input;

typedef struct ml_layout {
  ml_rect banners[ML_LAYOUT_MAX_BANNERS];
  ml_rect stage; /* where tiles go */
  ml_rect tiles[ML_LAYOUT_MAX_TILES];
  int n_tiles;
  ml_rect pip;      /* w == 0: none */
  ml_rect chat;     /* w == 0: closed */
  ml_rect controls; /* the bar */
  ml_rect buttons[ML_LAYOUT_MAX_BUTTONS];
  /* Inside chat: header, scrollback, input line. */
  ml_rect chat_header, chat_log, chat_input;
} ml_layout;

/* The participant panel (in the right-side panel's place, the chat's
 * rectangle): a header with a close box; for a host, a line of room
 * actions (Lock or Unlock, Mute all, End for all); one row per member (us first);
 * for a host, each other member's row has a line of actions (ml_people_act)
 * under its name; then, for a host, a "Waiting" heading and one row per
 * waiting person with Admit and Deny buttons at its right. Rows that do not
 * fit below are left out (n_rows, n_waiting say how many are laid out);
 * every rectangle lies inside the panel and none overlaps another (buttons
 * lie inside their row, apart). A panel too narrow for buttons gets rows
 * without them (w == 0). */
#define ML_LAYOUT_MAX_PEOPLE 16
typedef enum ml_people_act {
  ML_PEOPLE_ACT_MUTE,       /* ask to mute */
  ML_PEOPLE_ACT_LOWER_HAND, /* lower its hand */
  ML_PEOPLE_ACT_SPOTLIGHT,  /* in the spotlight for everyone, or out of it */
  ML_PEOPLE_ACT_MAKE_HOST,  /* hand the host role over */
  ML_PEOPLE_ACT_REMOVE,     /* out of the room */
  ML_PEOPLE_ACT_COUNT
} ml_people_act;
typedef struct ml_people_layout {
  ml_rect header, close;
  ml_rect lock, mute_all, end; /* host: the room's actions; w == 0: none */
  ml_rect rows[ML_LAYOUT_MAX_PEOPLE];
  ml_rect acts[ML_LAYOUT_MAX_PEOPLE][ML_PEOPLE_ACT_COUNT]; /* host, rows 1..; w == 0: none */
  int n_rows;
  ml_rect waiting_header; /* h == 0: nobody waiting */
  ml_rect waiting[ML_LAYOUT_MAX_PEOPLE], admit[ML_LAYOUT_MAX_PEOPLE], deny[ML_LAYOUT_MAX_PEOPLE];
  int n_waiting;
} ml_people_layout;

void ml_layout_people(ml_rect panel, float scale, int n_members, int n_waiting, bool host,
                      ml_people_layout *out);

/* Logical pixels to output pixels (rounded). */
int ml_layout_px(float scale, int logical);

void ml_layout_compute(const ml_layout_input *in, ml_layout *out);

/* The largest rectangle of aspect src_w:src_h centred in box (letterbox or
 * pillarbox). A degenerate source gives box itself. */
ml_rect ml_layout_fit(ml_rect box, int src_w, int src_h);

/* A centred dialog of the given logical size, shrunk to fit the window. */
ml_rect ml_layout_dialog(int win_w, int win_h, float scale, int w, int h);

/* n buttons side by side, centred along the bottom of a dialog. */
void ml_layout_dialog_buttons(ml_rect dialog, float scale, int n, ml_rect *out);

bool ml_rect_contains(ml_rect r, int x, int y);
bool ml_rect_overlaps(ml_rect a, ml_rect b);
/* a lies entirely inside b. */
bool ml_rect_inside(ml_rect a, ml_rect b);

#endif /* ML_UI_LAYOUT_H */
