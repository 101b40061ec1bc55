/* mentorlink UI — render: draws one frame of the session window from plain
 * inputs (a model, the window's own state, video textures), and says what
 * lies under a point (the window's hit-testing uses the same geometry).
 * No engine calls; tests render into a software renderer and read pixels.
 *
 * Threads: the renderer's thread. Nothing is owned: the view points at the
 * caller's objects for the duration of the call.
 */
#ifndef ML_UI_RENDER_H
#define ML_UI_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include <SDL.h>

#include "layout.h"
#include "model.h"
#include "text.h"
#include "utf8.h"
#include "video.h"

typedef enum ml_ui_button {
  ML_UI_BTN_MIC,
  ML_UI_BTN_CAMERA,
  ML_UI_BTN_CHAT,
  ML_UI_BTN_VERIFY,
  ML_UI_BTN_HELP,
  ML_UI_BTN_LEAVE,
  ML_UI_BTN_COUNT
} ml_ui_button;

typedef enum ml_ui_dialog {
  ML_UI_DIALOG_NONE,
  ML_UI_DIALOG_LEAVE,    /* "Leave the call?" */
  ML_UI_DIALOG_VERIFY,   /* SAS and safety number of one peer */
  ML_UI_DIALOG_HELP,     /* keyboard shortcuts */
  ML_UI_DIALOG_IDENTITY, /* blocking: a pinned identity changed */
} ml_ui_dialog;

#define ML_UI_MAX_DIALOG_BUTTONS 3

/* Wrapped chat messages, kept between frames (a long message is wrapped
 * once per width, not once per frame). Owned by the window. */
typedef struct ml_ui_wrap_cache ml_ui_wrap_cache;
ml_ui_wrap_cache *ml_ui_wrap_cache_new(void);
void ml_ui_wrap_cache_free(ml_ui_wrap_cache *c);

typedef struct ml_ui_view {
  const ml_ui_model *model;
  int win_w, win_h; /* output pixels */
  float scale;
  int64_t now_ms; /* model time (for banners) */
  /* Video per model peer (same index; NULL: none yet) and our own. */
  const ml_ui_video *video[ML_UI_MAX_PEERS];
  const ml_ui_video *self_video;
  int active;          /* active speaker: a model peer index, or -1 */
  ml_ui_dialog dialog; /* ML_UI_DIALOG_IDENTITY is shown whenever the model has an alert */
  size_t verify_peer;  /* which peer the verification dialog shows */
  bool chat_focus;     /* typing goes to the chat input */
  const ml_ui_edit *input;
  int chat_scroll;              /* pixels scrolled up from the newest message */
  int hover_button;             /* ml_ui_button under the mouse, -1 none */
  bool tooltip;                 /* show the hovered button's tooltip */
  bool leaving;                 /* the user confirmed: "Leaving…" */
  int64_t end_armed_until_ms;   /* host: "End for all" asks again until then (now_ms clock) */
  ml_ui_wrap_cache *wrap_cache; /* NULL: wrap on every frame */
} ml_ui_view;

/* What a point hits. */
typedef enum ml_ui_hit_kind {
  ML_UI_HIT_NONE,
  ML_UI_HIT_BUTTON,        /* index: ml_ui_button */
  ML_UI_HIT_DIALOG_BUTTON, /* index: 0.. in the dialog's order */
  ML_UI_HIT_CHAT_CLOSE,
  ML_UI_HIT_CHAT_INPUT,
  ML_UI_HIT_CHAT_LOG,
  ML_UI_HIT_TILE,   /* index: model peer */
  ML_UI_HIT_BANNER, /* index: banner (ml_ui_model_banners order) */
  ML_UI_HIT_PEOPLE_CLOSE,
  ML_UI_HIT_PEOPLE_ADMIT,    /* index: model knock */
  ML_UI_HIT_PEOPLE_DENY,     /* index: model knock */
  ML_UI_HIT_PEOPLE_ACT,      /* index: model peer * ML_PEOPLE_ACT_COUNT + ml_people_act */
  ML_UI_HIT_PEOPLE_LOCK,     /* host: lock or unlock the room */
  ML_UI_HIT_PEOPLE_MUTE_ALL, /* host: ask every other participant to mute */
  ML_UI_HIT_PEOPLE_END,      /* host: end the session for everyone (asks first) */
} ml_ui_hit_kind;

typedef struct ml_ui_hit {
  ml_ui_hit_kind kind;
  int index;
} ml_ui_hit;

/* The dialog shown (the identity alert wins over the others except
 * verification, which it opens). */
ml_ui_dialog ml_ui_view_dialog(const ml_ui_view *v);

/* The window's geometry for this view. */
void ml_ui_view_layout(const ml_ui_view *v, ml_layout *out);
/* The participant panel's geometry (model->people_open; in the chat's
 * rectangle): members are us then the model's peers, the waiting rows the
 * model's knocks (for a host). */
void ml_ui_view_people(const ml_ui_view *v, const ml_layout *l, ml_people_layout *out);
/* The label of a host's action button on p's row ("Spotlight" or "Spot off", ...). */
const char *ml_ui_people_act_label(ml_people_act a, const ml_ui_model *m, const ml_ui_peer *p);

/* Dialog geometry: its rectangle and its buttons (returns how many). */
int ml_ui_view_dialog_rects(const ml_ui_view *v, ml_rect *dialog,
                            ml_rect buttons[ML_UI_MAX_DIALOG_BUTTONS]);

ml_ui_hit ml_ui_view_hit(const ml_ui_view *v, int x, int y);

/* A button's tooltip (with its shortcut), for the state in v. */
const char *ml_ui_button_tooltip(const ml_ui_view *v, ml_ui_button b);

/* Draws the whole window (does not present). */
void ml_ui_render(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v);

/* The keyboard shortcuts, as shown in the help dialog and the README. */
typedef struct ml_ui_shortcut {
  const char *keys, *what;
} ml_ui_shortcut;
const ml_ui_shortcut *ml_ui_shortcuts(size_t *n);

#endif /* ML_UI_RENDER_H */
