/* mentorlink UI — the window and its loop (see ml/ui.h).
 *
 * Test control (ml_ui_config.test_control): one command per stdin line,
 *   key SPEC          a key press as the user would type it, SPEC like
 *                     ctrl+d, ctrl+shift+v, escape, return, tab, f1
 *   text UTF8         typed text (goes where typing goes)
 *   click X Y         a left click at window coordinates
 *   resize W H        resizes the window (logical pixels)
 *   screenshot NAME   draws and saves DIR/NAME.png (screenshot_dir), then
 *                     prints {"event":"ui_screenshot","path":...}
 *   layout            prints {"event":"ui_layout",...}: output size, scale
 *                     and the rectangles of tiles, self view and chat
 * Answers are single JSON lines on stdout. Keys, text and clicks go through
 * the same event handler as the user's.
 */
#include "ml/ui.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <glib.h>

#include "layout.h"
#include "model.h"
#include "render.h"
#include "text.h"
#include "utf8.h"
#include "video.h"

#define TOOLTIP_DELAY_MS 600
#define LEAVE_WAIT_MS 5000
#define END_ARM_MS 5000
#define WATCH_STOP_MS 250 /* how often the watcher looks at the stop flag */
#define LEVEL_EVERY_TICKS 6
#define SPEAKING_DBFS (-45.0)
#define MAX_CONTROL_LINE 8192

enum { EV_ENGINE, EV_FRAME, EV_CONTROL, EV_STOP, EV_COUNT };

/* Shared with the frame timer (SDL's timer thread), under mu. */
typedef struct frame_slot {
  char id[ML_CALL_MAX_PEER_ID + 1]; /* "" : self view */
  bool used;
  uint64_t seq;            /* newest fetched */
  ml_media_frame *pending; /* fetched, not yet uploaded */
  double dbfs;
} frame_slot;

typedef struct shared {
  SDL_mutex *mu;
  frame_slot slot[ML_UI_MAX_PEERS + 1]; /* [0]: self */
  char active[ML_CALL_MAX_PEER_ID + 1];
  bool wake_pending; /* an EV_FRAME is queued and not yet handled */
  unsigned tick;
} shared;

typedef struct video_slot {
  char id[ML_CALL_MAX_PEER_ID + 1];
  ml_ui_video vid;
  int layer; /* the ml_media_layer asked of this peer; -1 not yet */
} video_slot;

/* A tile this many output pixels high or more shows a peer's large layer,
 * one below SMALL_BELOW its small one (half the sender's size: 180 lines
 * from 640x360); in between, what was asked stays (no flapping on a resize). */
#define LARGE_FROM 320
#define SMALL_BELOW 270

typedef struct ui {
  const ml_ui_config *cfg;
  ml_call *call;
  SDL_Window *win;
  SDL_Renderer *ren;
  ml_ui_text *text;
  Uint32 ev_base;
  int out_w, out_h, win_w, win_h;
  float scale;
  ml_ui_model model;
  ml_ui_edit input;
  ml_ui_view view;
  video_slot videos[ML_UI_MAX_PEERS];
  ml_ui_video self_video;
  shared sh;
  SDL_TimerID timer;
  SDL_Thread *watcher, *control;
  SDL_sem *drained;
  SDL_atomic_t quit;
  int stop_pipe[2];
  bool dirty;
  char clock[64]; /* the clock as last drawn */
  int64_t hover_since;
  int64_t leave_by; /* < 0: not leaving */
  ml_ui_result res;
  char screenshot_req[256];
} ui;

static int64_t now_ms(void) { return g_get_monotonic_time() / 1000; }

static void push(ui *u, int which, void *data) {
  SDL_Event e;
  SDL_zero(e);
  e.type = u->ev_base + (Uint32)which;
  e.user.data1 = data;
  if (SDL_PushEvent(&e) != 1 && data)
    free(data);
}

/* ---- threads that wake the loop ---- */

static int watcher_main(void *arg) {
  ui *u = arg;
  int fd = ml_call_event_fd(u->call);
  while (!SDL_AtomicGet(&u->quit)) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = u->stop_pipe[0], .events = POLLIN}};
    int n = poll(p, 2, WATCH_STOP_MS);
    if (n < 0 && errno != EINTR)
      break;
    if (u->cfg->stop && *u->cfg->stop)
      push(u, EV_STOP, NULL);
    if (n > 0 && (p[0].revents & POLLIN)) {
      push(u, EV_ENGINE, NULL);
      SDL_SemWaitTimeout(u->drained, 500); /* until the loop has drained the queue */
    }
  }
  return 0;
}

static Uint32 frame_tick(Uint32 interval, void *arg) {
  ui *u = arg;
  bool wake = false;
  SDL_LockMutex(u->sh.mu);
  bool levels = ++u->sh.tick % LEVEL_EVERY_TICKS == 0;
  const char *loudest = NULL;
  double best = SPEAKING_DBFS;
  for (size_t i = 0; i < ML_UI_MAX_PEERS + 1; i++) {
    frame_slot *s = &u->sh.slot[i];
    if (!s->used)
      continue;
    ml_media_frame *f = NULL;
    if (ml_call_latest_frame(u->call, i ? s->id : NULL, s->seq, &f) == ML_OK && f) {
      ml_media_frame_info info;
      ml_media_frame_get_info(f, &info);
      s->seq = info.seq;
      ml_media_frame_free(s->pending);
      s->pending = f;
      wake = true;
    }
    if (levels && i) {
      double d;
      if (ml_call_audio_level(u->call, s->id, &d) == ML_OK && d > best) {
        best = d;
        loudest = s->id;
      }
    }
  }
  if (loudest && strcmp(loudest, u->sh.active)) {
    snprintf(u->sh.active, sizeof u->sh.active, "%s", loudest);
    wake = true;
  }
  if (wake && !u->sh.wake_pending) {
    u->sh.wake_pending = true;
    push(u, EV_FRAME, NULL);
  }
  SDL_UnlockMutex(u->sh.mu);
  return interval;
}

static int control_main(void *arg) {
  ui *u = arg;
  char *line = malloc(MAX_CONTROL_LINE);
  while (line && !SDL_AtomicGet(&u->quit) && fgets(line, MAX_CONTROL_LINE, stdin)) {
    line[strcspn(line, "\r\n")] = '\0';
    push(u, EV_CONTROL, strdup(line));
  }
  free(line);
  return 0;
}

/* ---- state sync ---- */

/* Frame slots and video slots follow the model's peers. */
static void sync_peers(ui *u) {
  SDL_LockMutex(u->sh.mu);
  u->sh.slot[0].used = true;
  for (size_t i = 1; i < ML_UI_MAX_PEERS + 1; i++) {
    frame_slot *s = &u->sh.slot[i];
    bool keep = s->used && ml_ui_model_peer(&u->model, s->id);
    if (s->used && !keep) {
      ml_media_frame_free(s->pending);
      memset(s, 0, sizeof *s);
    }
  }
  for (size_t k = 0; k < u->model.n_peers; k++) {
    const char *id = u->model.peers[k].id;
    bool have = false;
    for (size_t i = 1; i < ML_UI_MAX_PEERS + 1 && !have; i++)
      have = u->sh.slot[i].used && !strcmp(u->sh.slot[i].id, id);
    for (size_t i = 1; i < ML_UI_MAX_PEERS + 1 && !have; i++)
      if (!u->sh.slot[i].used) {
        u->sh.slot[i].used = true;
        snprintf(u->sh.slot[i].id, sizeof u->sh.slot[i].id, "%s", id);
        have = true;
      }
  }
  SDL_UnlockMutex(u->sh.mu);
  for (size_t i = 0; i < ML_UI_MAX_PEERS; i++)
    if (u->videos[i].id[0] && !ml_ui_model_peer(&u->model, u->videos[i].id)) {
      ml_ui_video_reset(&u->videos[i].vid);
      u->videos[i].id[0] = '\0';
    }
}

static ml_ui_video *video_for(ui *u, const char *id, bool create) {
  for (size_t i = 0; i < ML_UI_MAX_PEERS; i++)
    if (u->videos[i].id[0] && !strcmp(u->videos[i].id, id))
      return &u->videos[i].vid;
  if (!create)
    return NULL;
  for (size_t i = 0; i < ML_UI_MAX_PEERS; i++)
    if (!u->videos[i].id[0]) {
      snprintf(u->videos[i].id, sizeof u->videos[i].id, "%s", id);
      u->videos[i].layer = -1;
      return &u->videos[i].vid;
    }
  return NULL;
}

static void upload(ui *u, ml_ui_video *v, ml_media_frame *f) {
  ml_media_frame_info in;
  ml_media_frame_get_info(f, &in);
  if (v && ml_ui_video_upload(v, u->ren, (int)in.width, (int)in.height, in.planes, in.strides,
                              in.seq) == 0)
    u->dirty = true;
  ml_media_frame_free(f);
}

static void take_frames(ui *u) {
  ml_media_frame *got[ML_UI_MAX_PEERS + 1] = {0};
  char ids[ML_UI_MAX_PEERS + 1][ML_CALL_MAX_PEER_ID + 1];
  char active[ML_CALL_MAX_PEER_ID + 1];
  SDL_LockMutex(u->sh.mu);
  for (size_t i = 0; i < ML_UI_MAX_PEERS + 1; i++) {
    got[i] = u->sh.slot[i].pending;
    u->sh.slot[i].pending = NULL;
    memcpy(ids[i], u->sh.slot[i].id, sizeof ids[i]);
  }
  memcpy(active, u->sh.active, sizeof active);
  u->sh.wake_pending = false;
  SDL_UnlockMutex(u->sh.mu);
  if (got[0])
    upload(u, &u->self_video, got[0]);
  for (size_t i = 1; i < ML_UI_MAX_PEERS + 1; i++)
    if (got[i])
      upload(u, video_for(u, ids[i], true), got[i]);
  /* The spotlight (a host's choice for everyone) wins over the active
   * speaker: its tile is the large one. */
  const char *big = u->model.spotlight[0] ? u->model.spotlight : active;
  int a = -1;
  for (size_t k = 0; k < u->model.n_peers; k++)
    if (big[0] && !strcmp(u->model.peers[k].id, big))
      a = (int)k;
  if (a != u->view.active) {
    u->view.active = a;
    u->dirty = true;
  }
}

/* ---- actions ---- */

static void set_chat_focus(ui *u, bool on) {
  if (on == u->view.chat_focus)
    return;
  u->view.chat_focus = on;
  if (on)
    SDL_StartTextInput();
  else
    SDL_StopTextInput();
}

static void toggle_chat(ui *u) {
  u->model.people_open = false; /* the chat takes the panel's place */
  if (!u->model.chat_open) {
    ml_ui_model_set_chat_open(&u->model, true);
    set_chat_focus(u, true);
  } else if (!u->view.chat_focus) {
    set_chat_focus(u, true);
  } else {
    ml_ui_model_set_chat_open(&u->model, false);
    set_chat_focus(u, false);
  }
}

static void send_chat(ui *u) {
  if (!ml_ui_edit_has_text(&u->input))
    return;
  if (ml_call_send_chat(u->call, u->input.buf) == ML_OK) {
    ml_ui_model_add_outgoing(&u->model, u->input.buf, (int64_t)time(NULL));
    ml_ui_edit_clear(&u->input);
    u->view.chat_scroll = 0;
  }
}

static void toggle_people(ui *u) {
  u->model.people_open = !u->model.people_open;
  if (u->model.people_open)
    set_chat_focus(u, false); /* the panel takes the chat's place */
}

static void toggle_hand(ui *u) { ml_call_raise_hand(u->call, !u->model.self_hand); }

/* As the host, from the participant panel: admit or deny knock i. */
static void people_answer(ui *u, int i, bool admit_it) {
  if (i < 0 || (size_t)i >= u->model.n_knocks)
    return;
  char id[ML_CALL_MAX_PEER_ID + 1];
  snprintf(id, sizeof id, "%s", u->model.knocks[i].id);
  if (admit_it)
    ml_call_admit(u->call, id);
  else
    ml_call_deny(u->call, id);
  ml_ui_model_remove_knock(&u->model, id);
}

/* As the host, from the participant panel: an action on the member of
 * index / ML_PEOPLE_ACT_COUNT (a model peer); what the room did comes back
 * as events. */
static void people_act(ui *u, int index) {
  size_t i = (size_t)index / ML_PEOPLE_ACT_COUNT;
  if (index < 0 || i >= u->model.n_peers)
    return;
  char id[ML_CALL_MAX_PEER_ID + 1];
  snprintf(id, sizeof id, "%s", u->model.peers[i].id);
  switch ((ml_people_act)(index % ML_PEOPLE_ACT_COUNT)) {
  case ML_PEOPLE_ACT_MUTE: ml_call_ask_mute(u->call, id); break;
  case ML_PEOPLE_ACT_LOWER_HAND: ml_call_lower_hand(u->call, id); break;
  case ML_PEOPLE_ACT_SPOTLIGHT:
    ml_call_spotlight(u->call, strcmp(u->model.spotlight, id) ? id : NULL);
    break;
  case ML_PEOPLE_ACT_MAKE_HOST: ml_call_hand_over(u->call, id); break;
  case ML_PEOPLE_ACT_REMOVE: ml_call_remove(u->call, id); break;
  case ML_PEOPLE_ACT_COUNT: break;
  }
}

/* "End for all" ends the session on a second click within END_ARM_MS. */
static void end_for_all(ui *u) {
  int64_t now = now_ms();
  if (now < u->view.end_armed_until_ms) {
    u->view.end_armed_until_ms = 0;
    ml_call_end_for_all(u->call);
  } else {
    u->view.end_armed_until_ms = now + END_ARM_MS;
  }
}

static void toggle_mic(ui *u) {
  u->model.muted = !u->model.muted;
  if (!u->model.muted)
    u->model.muted_by_host = false; /* only we unmute */
  ml_call_set_muted(u->call, u->model.muted);
}

static void toggle_camera(ui *u) {
  u->model.camera_on = !u->model.camera_on;
  ml_call_set_camera_on(u->call, u->model.camera_on);
}

static void open_verify(ui *u) {
  const ml_ui_peer *alert = ml_ui_model_identity_alert(&u->model);
  if (alert)
    u->view.verify_peer = (size_t)(alert - u->model.peers);
  else if (u->view.verify_peer >= u->model.n_peers)
    u->view.verify_peer = 0;
  u->view.dialog = ML_UI_DIALOG_VERIFY;
  set_chat_focus(u, false);
}

static void start_leave(ui *u) {
  if (u->leave_by >= 0)
    return;
  ml_call_leave(u->call);
  u->leave_by = now_ms() + LEAVE_WAIT_MS;
  u->view.leaving = true;
  u->view.dialog = ML_UI_DIALOG_LEAVE;
}

static void mark_verified(ui *u) {
  if (u->view.verify_peer >= u->model.n_peers)
    return;
  const ml_ui_peer *p = &u->model.peers[u->view.verify_peer];
  if (p->secure && !p->verified)
    ml_call_mark_verified(u->call, p->id);
}

/* As the host: lets in the first waiting peer, or the one of banner i. */
static void admit(ui *u, int banner) {
  ml_ui_banner b[ML_UI_MAX_BANNERS];
  size_t n = ml_ui_model_banners(&u->model, now_ms(), b, ML_UI_MAX_BANNERS);
  const char *id = NULL;
  for (size_t i = 0; i < n && !id; i++)
    if (b[i].knock_id[0] && (banner < 0 || (int)i == banner))
      id = b[i].knock_id;
  if (id) {
    ml_call_admit(u->call, id);
    ml_ui_model_remove_knock(&u->model, id);
  }
}

static void dialog_button(ui *u, ml_ui_dialog d, int i) {
  switch (d) {
  case ML_UI_DIALOG_LEAVE:
    if (i == 0)
      start_leave(u);
    else if (!u->view.leaving)
      u->view.dialog = ML_UI_DIALOG_NONE;
    break;
  case ML_UI_DIALOG_VERIFY:
    if (i == 0)
      mark_verified(u);
    else
      u->view.dialog = ML_UI_DIALOG_NONE;
    break;
  case ML_UI_DIALOG_HELP: u->view.dialog = ML_UI_DIALOG_NONE; break;
  case ML_UI_DIALOG_IDENTITY:
    if (i == 0)
      open_verify(u);
    else
      u->view.dialog = ML_UI_DIALOG_LEAVE;
    break;
  case ML_UI_DIALOG_NONE: break;
  }
}

static void button(ui *u, ml_ui_button b) {
  switch (b) {
  case ML_UI_BTN_MIC: toggle_mic(u); break;
  case ML_UI_BTN_CAMERA: toggle_camera(u); break;
  case ML_UI_BTN_CHAT: toggle_chat(u); break;
  case ML_UI_BTN_VERIFY: open_verify(u); break;
  case ML_UI_BTN_HELP: u->view.dialog = ML_UI_DIALOG_HELP; break;
  case ML_UI_BTN_LEAVE: u->view.dialog = ML_UI_DIALOG_LEAVE; break;
  default: break;
  }
}

static void scroll_chat(ui *u, int dy) {
  u->view.chat_scroll += dy;
  if (u->view.chat_scroll < 0)
    u->view.chat_scroll = 0;
}

/* F12's file name: the local time to the millisecond, so two presses in a
 * second keep both pictures. */
static void screenshot_name(char *out, size_t cap) {
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
  snprintf(out, cap, "screenshot-%s-%03d", stamp ? stamp : "now",
           g_date_time_get_microsecond(now) / 1000);
}

static void on_key(ui *u, const SDL_Keysym *k) {
  bool ctrl = k->mod & KMOD_CTRL, shift = k->mod & KMOD_SHIFT;
  SDL_Keycode c = k->sym;
  bool enter = c == SDLK_RETURN || c == SDLK_KP_ENTER;
  ml_ui_dialog d = ml_ui_view_dialog(&u->view);
  if (d != ML_UI_DIALOG_NONE) { /* dialogs are modal */
    if (enter)
      dialog_button(u, d, 0);
    else if (c == SDLK_ESCAPE && d != ML_UI_DIALOG_IDENTITY)
      dialog_button(u, d, d == ML_UI_DIALOG_HELP ? 0 : 1);
    else if (c == SDLK_TAB && d == ML_UI_DIALOG_VERIFY && u->model.n_peers)
      u->view.verify_peer = (u->view.verify_peer + 1) % u->model.n_peers;
    else if (ctrl && c == SDLK_w && !u->view.leaving)
      u->view.dialog = ML_UI_DIALOG_LEAVE;
    else if (c == SDLK_F1 && d == ML_UI_DIALOG_HELP)
      u->view.dialog = ML_UI_DIALOG_NONE;
    return;
  }
  if (ctrl && c == SDLK_d)
    toggle_mic(u);
  else if (ctrl && c == SDLK_e)
    toggle_camera(u);
  else if (ctrl && c == SDLK_t)
    toggle_chat(u);
  else if (ctrl && c == SDLK_p)
    toggle_people(u);
  else if (ctrl && c == SDLK_h)
    toggle_hand(u);
  else if (ctrl && shift && c == SDLK_v)
    open_verify(u);
  else if (ctrl && shift && c == SDLK_a)
    admit(u, -1);
  else if (ctrl && c == SDLK_w)
    u->view.dialog = ML_UI_DIALOG_LEAVE;
  else if (c == SDLK_F1)
    u->view.dialog = ML_UI_DIALOG_HELP;
  else if (c == SDLK_F12)
    screenshot_name(u->screenshot_req, sizeof u->screenshot_req);
  else if (c == SDLK_ESCAPE)
    u->view.chat_focus ? set_chat_focus(u, false) : (void)(u->view.dialog = ML_UI_DIALOG_LEAVE);
  else if (c == SDLK_PAGEUP && u->model.chat_open)
    scroll_chat(u, ml_layout_px(u->scale, 200));
  else if (c == SDLK_PAGEDOWN && u->model.chat_open)
    scroll_chat(u, -ml_layout_px(u->scale, 200));
  else if (u->view.chat_focus) {
    if (enter)
      send_chat(u);
    else if (c == SDLK_BACKSPACE)
      ml_ui_edit_backspace(&u->input);
    else if (c == SDLK_DELETE)
      ml_ui_edit_delete(&u->input);
    else if (c == SDLK_LEFT)
      ml_ui_edit_left(&u->input);
    else if (c == SDLK_RIGHT)
      ml_ui_edit_right(&u->input);
    else if (c == SDLK_HOME)
      ml_ui_edit_home(&u->input);
    else if (c == SDLK_END)
      ml_ui_edit_end(&u->input);
    else
      return;
  } else {
    return;
  }
}

static void on_click(ui *u, int x, int y) {
  ml_ui_hit h = ml_ui_view_hit(&u->view, x, y);
  switch (h.kind) {
  case ML_UI_HIT_BUTTON: button(u, (ml_ui_button)h.index); break;
  case ML_UI_HIT_DIALOG_BUTTON: dialog_button(u, ml_ui_view_dialog(&u->view), h.index); break;
  case ML_UI_HIT_CHAT_CLOSE:
    ml_ui_model_set_chat_open(&u->model, false);
    set_chat_focus(u, false);
    break;
  case ML_UI_HIT_CHAT_INPUT: set_chat_focus(u, true); break;
  case ML_UI_HIT_TILE: u->view.verify_peer = (size_t)h.index; break;
  case ML_UI_HIT_BANNER: admit(u, h.index); break;
  case ML_UI_HIT_PEOPLE_CLOSE: u->model.people_open = false; break;
  case ML_UI_HIT_PEOPLE_ADMIT: people_answer(u, h.index, true); break;
  case ML_UI_HIT_PEOPLE_DENY: people_answer(u, h.index, false); break;
  case ML_UI_HIT_PEOPLE_ACT: people_act(u, h.index); break;
  case ML_UI_HIT_PEOPLE_LOCK: ml_call_set_locked(u->call, !u->model.locked); break;
  case ML_UI_HIT_PEOPLE_MUTE_ALL: /* everyone but the one speaking (if that is not us) */
    if (u->view.active >= 0 && u->view.active < (int)u->model.n_peers)
      ml_call_ask_mute_all_but(u->call, u->model.peers[u->view.active].id);
    else
      ml_call_ask_mute(u->call, NULL);
    break;
  case ML_UI_HIT_PEOPLE_END: end_for_all(u); break;
  default: set_chat_focus(u, false); break;
  }
}

/* ---- sizes ---- */

static void update_size(ui *u) {
  SDL_GetWindowSize(u->win, &u->win_w, &u->win_h);
  if (SDL_GetRendererOutputSize(u->ren, &u->out_w, &u->out_h) != 0) {
    u->out_w = u->win_w;
    u->out_h = u->win_h;
  }
  float s = u->win_w > 0 ? (float)u->out_w / (float)u->win_w : 1.0f;
  const char *env = getenv("MENTORLINK_UI_SCALE"); /* e.g. 2 on a HiDPI X11 screen */
  if (env && atof(env) >= 1.0 && atof(env) <= 4.0)
    s *= (float)atof(env);
  u->scale = s < 1.0f ? 1.0f : s;
  ml_ui_text_set_scale(u->text, u->scale);
  u->dirty = true;
}

/* Window (logical) coordinates to output pixels. */
static void to_px(ui *u, int *x, int *y) {
  if (u->win_w > 0 && u->win_h > 0) {
    *x = (int)((long long)*x * u->out_w / u->win_w);
    *y = (int)((long long)*y * u->out_h / u->win_h);
  }
}

/* ---- test control ---- */

static void print_rect(GString *j, const char *k, ml_rect r) {
  g_string_append_printf(j, ",\"%s\":[%d,%d,%d,%d]", k, r.x, r.y, r.w, r.h);
}

static void print_layout(ui *u) {
  ml_layout l;
  ml_ui_view_layout(&u->view, &l);
  GString *j = g_string_new("{\"event\":\"ui_layout\"");
  g_string_append_printf(j, ",\"width\":%d,\"height\":%d,\"scale\":%.2f", u->out_w, u->out_h,
                         (double)u->scale);
  g_string_append(j, ",\"tiles\":[");
  for (int i = 0; i < l.n_tiles; i++)
    g_string_append_printf(j, "%s[%d,%d,%d,%d]", i ? "," : "", l.tiles[i].x, l.tiles[i].y,
                           l.tiles[i].w, l.tiles[i].h);
  g_string_append(j, "]");
  print_rect(j, "pip", l.pip);
  print_rect(j, "chat", l.chat);
  print_rect(j, "chat_log", l.chat_log);
  print_rect(j, "controls", l.controls);
  ml_rect d = {0, 0, 0, 0}, buttons[ML_UI_MAX_DIALOG_BUTTONS];
  (void)ml_ui_view_dialog_rects(&u->view, &d, buttons);
  print_rect(j, "dialog_rect", d);
  g_string_append_printf(j, ",\"peers\":%zu,\"dialog\":%d}\n", u->model.n_peers,
                         (int)ml_ui_view_dialog(&u->view));
  fputs(j->str, stdout);
  fflush(stdout);
  g_string_free(j, TRUE);
}

static void handle(ui *u, const SDL_Event *e);

/* Synthesised input goes straight through the event handler (pushing it
 * would put it behind SDL's poll sentinel, after a screenshot asked next). */
static void synth_key(ui *u, const char *spec) {
  SDL_Event e;
  SDL_zero(e);
  e.type = SDL_KEYDOWN;
  e.key.state = SDL_PRESSED;
  char buf[64];
  snprintf(buf, sizeof buf, "%s", spec);
  char *save = NULL;
  for (char *tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
    if (!g_ascii_strcasecmp(tok, "ctrl"))
      e.key.keysym.mod |= KMOD_LCTRL;
    else if (!g_ascii_strcasecmp(tok, "shift"))
      e.key.keysym.mod |= KMOD_LSHIFT;
    else
      e.key.keysym.sym = SDL_GetKeyFromName(tok);
  }
  e.key.keysym.scancode = SDL_GetScancodeFromKey(e.key.keysym.sym);
  handle(u, &e);
}

static void synth_text(ui *u, const char *s) {
  size_t len = strlen(s);
  for (size_t i = 0; i < len;) { /* SDL's text events hold up to 31 bytes */
    size_t end = i;
    while (end < len && ml_utf8_next(s, len, end) - i < SDL_TEXTINPUTEVENT_TEXT_SIZE)
      end = ml_utf8_next(s, len, end);
    if (end == i)
      break;
    SDL_Event e;
    SDL_zero(e);
    e.type = SDL_TEXTINPUT;
    memcpy(e.text.text, s + i, end - i);
    handle(u, &e);
    i = end;
  }
}

static void control(ui *u, const char *line) {
  int a, b;
  if (!strncmp(line, "key ", 4)) {
    synth_key(u, line + 4);
  } else if (!strncmp(line, "text ", 5)) {
    synth_text(u, line + 5);
  } else if (sscanf(line, "click %d %d", &a, &b) == 2) {
    SDL_Event e;
    SDL_zero(e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.x = a;
    e.button.y = b;
    handle(u, &e);
  } else if (sscanf(line, "resize %d %d", &a, &b) == 2) {
    SDL_SetWindowSize(u->win, a, b);
    update_size(u);
  } else if (!strncmp(line, "screenshot ", 11)) {
    snprintf(u->screenshot_req, sizeof u->screenshot_req, "%s", line + 11);
    u->dirty = true;
  } else if (!strcmp(line, "layout")) {
    print_layout(u);
  } else {
    fprintf(stderr, "mentorlink: unknown test command: %.60s\n", line);
  }
}

/* Writes s to path as PNG, the file 0600 (a screenshot shows faces and
 * chat), dir made 0700 if missing. Written beside it under a temporary name
 * and renamed over path, so an existing link at path is replaced, not
 * followed, and no half-written file is left. */
static bool write_png(SDL_Surface *s, const char *dir, const char *path) {
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    fprintf(stderr, "mentorlink: screenshot: cannot make %s: %s\n", dir, g_strerror(errno));
    return false;
  }
  g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
  int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "mentorlink: screenshot: cannot write in %s: %s\n", dir, g_strerror(errno));
    return false;
  }
  FILE *f = fdopen(fd, "wb");
  SDL_RWops *rw = f ? SDL_RWFromFP(f, SDL_TRUE) : NULL;
  if (!rw) {
    f ? fclose(f) : close(fd);
    fprintf(stderr, "mentorlink: screenshot: cannot write %s\n", tmp);
  } else if (IMG_SavePNG_RW(s, rw, 1) != 0) { /* closes rw, f and fd */
    fprintf(stderr, "mentorlink: screenshot: cannot write %s: %s\n", tmp, IMG_GetError());
  } else if (rename(tmp, path) != 0) {
    fprintf(stderr, "mentorlink: screenshot: cannot write %s: %s\n", path, g_strerror(errno));
  } else {
    return true;
  }
  unlink(tmp);
  return false;
}

/* Saves what was just drawn (before present: the back buffer) as
 * screenshot_dir/NAME.png and says where; a NAME with a path in it is refused. */
static void save_screenshot(ui *u) {
  const char *name = u->screenshot_req, *dir = u->cfg->screenshot_dir;
  bool ok = false;
  char path[1024];
  path[0] = '\0';
  if (dir && !strchr(name, '/') && name[0] != '.' &&
      snprintf(path, sizeof path, "%s/%s.png", dir, name) < (int)sizeof path) {
    SDL_Surface *s =
        SDL_CreateRGBSurfaceWithFormat(0, u->out_w, u->out_h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!s || SDL_RenderReadPixels(u->ren, NULL, SDL_PIXELFORMAT_ARGB8888, s->pixels, s->pitch))
      fprintf(stderr, "mentorlink: screenshot failed: %s\n", SDL_GetError());
    else
      ok = write_png(s, dir, path);
    SDL_FreeSurface(s);
  }
  if (ok)
    fprintf(stderr, "mentorlink: screenshot saved to %s\n", path);
  if (u->cfg->test_control) {
    GString *j = g_string_new("{\"event\":\"ui_screenshot\",\"path\":\"");
    g_string_append(j, ok ? path : "");
    g_string_append_printf(j, "\",\"ok\":%s}\n", ok ? "true" : "false");
    fputs(j->str, stdout);
    fflush(stdout);
    g_string_free(j, TRUE);
  }
  u->screenshot_req[0] = '\0';
}

/* ---- the loop ---- */

static void drain_engine(ui *u) {
  ml_call_event *ev;
  int64_t t = now_ms(), wall = (int64_t)time(NULL);
  bool peers_changed = false;
  while ((ev = ml_call_next_event(u->call, 0)) != NULL) {
    if (u->cfg->on_event)
      u->cfg->on_event(u->call, ev, u->cfg->user);
    if (ml_ui_model_apply(&u->model, ev, t, wall))
      u->dirty = true;
    switch (ev->type) {
    case ML_CALL_EV_JOINED: u->res.joined = true; break;
    case ML_CALL_EV_PEER_JOINED:
    case ML_CALL_EV_PEER_LEFT:
    case ML_CALL_EV_PEER_REJOINED:
    case ML_CALL_EV_PEER_STATE:
    case ML_CALL_EV_VERIFIED: peers_changed = true; break;
    case ML_CALL_EV_ERROR:
      if (ev->fatal)
        u->res.fatal = true;
      break;
    case ML_CALL_EV_ENDED:
      u->res.ended = true;
      if (u->leave_by < 0)
        u->res.fatal = true; /* ended without being asked */
      break;
    default: break;
    }
    ml_call_event_free(ev);
  }
  if (peers_changed)
    sync_peers(u);
  SDL_SemPost(u->drained);
}

/* The view the renderer and the hit-testing read, from the current state. */
static void sync_view(ui *u) {
  u->view.model = &u->model;
  u->view.win_w = u->out_w;
  u->view.win_h = u->out_h;
  u->view.scale = u->scale;
  u->view.now_ms = now_ms();
  u->view.input = &u->input;
  for (size_t i = 0; i < ML_UI_MAX_PEERS; i++)
    u->view.video[i] = i < u->model.n_peers ? video_for(u, u->model.peers[i].id, false) : NULL;
  u->view.self_video = &u->self_video;
  if (u->view.active >= (int)u->model.n_peers)
    u->view.active = -1;
}

/* Each peer is asked for the layer its tile shows (ml_call_receive_layer). */
static void ask_layers(ui *u) {
  ml_layout l;
  ml_ui_view_layout(&u->view, &l);
  for (size_t i = 0; i < u->model.n_peers && (int)i < l.n_tiles; i++) {
    const char *id = u->model.peers[i].id;
    video_slot *vs = NULL;
    for (size_t k = 0; k < ML_UI_MAX_PEERS && !vs; k++)
      if (u->videos[k].id[0] && !strcmp(u->videos[k].id, id))
        vs = &u->videos[k];
    if (!vs)
      continue; /* no frame yet: the peer sends the large layer until asked */
    int h = l.tiles[i].h;
    int want = h >= LARGE_FROM   ? ML_MEDIA_LAYER_LARGE
               : h < SMALL_BELOW ? ML_MEDIA_LAYER_SMALL
               : vs->layer >= 0  ? vs->layer
                                 : ML_MEDIA_LAYER_LARGE;
    if (want != vs->layer) {
      vs->layer = want;
      ml_call_receive_layer(u->call, id, (ml_media_layer)want);
    }
  }
}

static void render(ui *u) {
  sync_view(u);
  ask_layers(u);
  ml_ui_render(u->ren, u->text, &u->view);
  if (u->screenshot_req[0])
    save_screenshot(u);
  SDL_RenderPresent(u->ren);
  ml_ui_text_end_frame(u->text);
  u->dirty = false;
}

static void handle(ui *u, const SDL_Event *e) {
  sync_view(u);
  if (e->type >= u->ev_base && e->type < u->ev_base + EV_COUNT) {
    switch (e->type - u->ev_base) {
    case EV_ENGINE: drain_engine(u); break;
    case EV_FRAME: take_frames(u); break;
    case EV_CONTROL:
      control(u, e->user.data1);
      free(e->user.data1);
      break;
    case EV_STOP: start_leave(u); break;
    }
    return;
  }
  int x, y;
  switch (e->type) {
  case SDL_QUIT:
    if (u->view.dialog != ML_UI_DIALOG_LEAVE)
      u->view.dialog = ML_UI_DIALOG_LEAVE;
    else
      start_leave(u); /* asked twice: the user means it */
    u->dirty = true;
    break;
  case SDL_WINDOWEVENT:
    if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
        e->window.event == SDL_WINDOWEVENT_RESIZED)
      update_size(u);
    u->dirty = true; /* exposed, shown, focus: redraw */
    break;
  case SDL_KEYDOWN:
    on_key(u, &e->key.keysym);
    u->dirty = true;
    break;
  case SDL_TEXTINPUT:
    if (u->view.chat_focus && ml_ui_view_dialog(&u->view) == ML_UI_DIALOG_NONE) {
      ml_ui_edit_insert(&u->input, e->text.text);
      u->dirty = true;
    }
    break;
  case SDL_MOUSEBUTTONDOWN:
    if (e->button.button != SDL_BUTTON_LEFT)
      break;
    x = e->button.x;
    y = e->button.y;
    to_px(u, &x, &y);
    on_click(u, x, y);
    u->dirty = true;
    break;
  case SDL_MOUSEMOTION: {
    x = e->motion.x;
    y = e->motion.y;
    to_px(u, &x, &y);
    ml_ui_hit h = ml_ui_view_hit(&u->view, x, y);
    int hb = h.kind == ML_UI_HIT_BUTTON ? h.index : -1;
    if (hb != u->view.hover_button) {
      u->view.hover_button = hb;
      u->view.tooltip = false;
      u->hover_since = now_ms();
      u->dirty = true;
    }
    break;
  }
  case SDL_MOUSEWHEEL:
    if (u->model.chat_open) {
      scroll_chat(u, e->wheel.y * ml_layout_px(u->scale, 40));
      u->dirty = true;
    }
    break;
  default: break;
  }
}

/* How long the loop may sleep: until a tooltip is due, a banner expires,
 * the deadline or the leave timeout. */
static int sleep_ms(ui *u) {
  int64_t t = now_ms(), wake = -1;
#define WAKE(at)                                                                                   \
  do {                                                                                             \
    int64_t at_ = (at);                                                                            \
    if (at_ >= 0 && (wake < 0 || at_ < wake))                                                      \
      wake = at_;                                                                                  \
  } while (0)
  if (u->view.hover_button >= 0 && !u->view.tooltip)
    WAKE(u->hover_since + TOOLTIP_DELAY_MS);
  if (u->model.left_at_ms >= 0 && t - u->model.left_at_ms < ML_UI_PEER_LEFT_SHOW_MS)
    WAKE(u->model.left_at_ms + ML_UI_PEER_LEFT_SHOW_MS);
  if (u->leave_by < 0)
    WAKE(u->cfg->deadline_ms);
  if (u->model.joined_at_ms >= 0) /* the clock's next second */
    WAKE(t + 1000 - (t - u->model.joined_at_ms) % 1000);
  WAKE(u->leave_by);
#undef WAKE
  if (wake < 0)
    return 60000;
  return wake <= t ? 0 : (int)MIN(wake - t, 60000);
}

static int open_window(ui *u) {
  SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1"); /* the caller handles SIGINT/SIGTERM */
  SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0");
  if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) {
    fprintf(stderr, "mentorlink: cannot open the window: %s (no display? use --headless)\n",
            SDL_GetError());
    return -1;
  }
  u->win = SDL_CreateWindow(u->cfg->title ? u->cfg->title : "mentorlink", SDL_WINDOWPOS_CENTERED,
                            SDL_WINDOWPOS_CENTERED, 1280, 720,
                            SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
  if (u->win)
    u->ren = SDL_CreateRenderer(u->win, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
  if (u->win && !u->ren)
    u->ren = SDL_CreateRenderer(u->win, -1, SDL_RENDERER_SOFTWARE);
  if (!u->ren) {
    fprintf(stderr, "mentorlink: cannot open the window: %s\n", SDL_GetError());
    return -1;
  }
  SDL_SetWindowMinimumSize(u->win, ML_LAYOUT_MIN_W, ML_LAYOUT_MIN_H);
  char err[800];
  if (ml_ui_text_new(&u->text, u->ren, u->cfg->font_dir, 1.0f, err, sizeof err) != 0) {
    fprintf(stderr, "mentorlink: %s (install fonts-dejavu-core)\n", err);
    return -1;
  }
  u->ev_base = SDL_RegisterEvents(EV_COUNT);
  if (u->ev_base == (Uint32)-1)
    return -1;
  update_size(u);
  return 0;
}

static void close_window(ui *u) {
  SDL_AtomicSet(&u->quit, 1);
  if (u->timer)
    SDL_RemoveTimer(u->timer);
  if (u->watcher) {
    if (write(u->stop_pipe[1], "x", 1) < 0) { /* the watcher also wakes on its timeout */
    }
    SDL_SemPost(u->drained);
    SDL_WaitThread(u->watcher, NULL);
  }
  if (u->control)
    SDL_DetachThread(u->control); /* blocked in fgets; ends with the process */
  for (size_t i = 0; i < ML_UI_MAX_PEERS + 1; i++)
    ml_media_frame_free(u->sh.slot[i].pending);
  for (size_t i = 0; i < ML_UI_MAX_PEERS; i++)
    ml_ui_video_reset(&u->videos[i].vid);
  ml_ui_video_reset(&u->self_video);
  ml_ui_text_free(u->text);
  ml_ui_wrap_cache_free(u->view.wrap_cache);
  if (u->ren)
    SDL_DestroyRenderer(u->ren);
  if (u->win)
    SDL_DestroyWindow(u->win);
  if (u->sh.mu)
    SDL_DestroyMutex(u->sh.mu);
  if (u->drained)
    SDL_DestroySemaphore(u->drained);
  if (u->stop_pipe[0] >= 0) {
    close(u->stop_pipe[0]);
    close(u->stop_pipe[1]);
  }
  ml_ui_model_clear(&u->model);
  TTF_Quit();
  SDL_Quit();
}

int ml_ui_run(const ml_ui_config *cfg, ml_ui_result *res) {
  static ui u; /* one window per process; large (the chat log) */
  memset(&u, 0, sizeof u);
  u.cfg = cfg;
  u.call = cfg->call;
  u.leave_by = -1;
  u.stop_pipe[0] = u.stop_pipe[1] = -1;
  u.view.hover_button = -1;
  u.view.active = -1;
  ml_ui_model_init(&u.model, cfg->self_name);
  u.model.end_at_ms = cfg->deadline_ms; /* --duration: the scheduled end */
  if (pipe(u.stop_pipe) != 0 || open_window(&u) != 0) {
    close_window(&u);
    return -1;
  }
  u.sh.mu = SDL_CreateMutex();
  u.drained = SDL_CreateSemaphore(0);
  u.view.wrap_cache = ml_ui_wrap_cache_new();
  sync_peers(&u);
  SDL_DisplayMode mode;
  int hz =
      SDL_GetWindowDisplayMode(u.win, &mode) == 0 && mode.refresh_rate > 0 ? mode.refresh_rate : 60;
  u.timer = SDL_AddTimer((Uint32)(1000 / hz > 0 ? 1000 / hz : 1), frame_tick, &u);
  u.watcher = SDL_CreateThread(watcher_main, "ml-ui-events", &u);
  if (cfg->test_control)
    u.control = SDL_CreateThread(control_main, "ml-ui-control", &u);
  if (!u.sh.mu || !u.drained || !u.timer || !u.watcher || !u.view.wrap_cache) {
    fprintf(stderr, "mentorlink: cannot start the window's threads: %s\n", SDL_GetError());
    close_window(&u);
    return -1;
  }
  u.dirty = true;
  while (!u.res.ended) {
    SDL_Event e;
    if (u.dirty ? SDL_PollEvent(&e) : SDL_WaitEventTimeout(&e, sleep_ms(&u))) {
      handle(&u, &e);
      while (SDL_PollEvent(&e))
        handle(&u, &e);
    }
    int64_t t = now_ms();
    if (u.view.hover_button >= 0 && !u.view.tooltip && t - u.hover_since >= TOOLTIP_DELAY_MS) {
      u.view.tooltip = true;
      u.dirty = true;
    }
    if (u.leave_by < 0 && cfg->deadline_ms >= 0 && t >= cfg->deadline_ms)
      start_leave(&u);
    if (u.leave_by >= 0 && t >= u.leave_by) {
      fprintf(stderr, "mentorlink: the engine did not end in time\n");
      u.res.fatal = true;
      break;
    }
    char clock[64];
    bool warn;
    ml_ui_model_clock(&u.model, t, clock, sizeof clock, &warn);
    if (strcmp(clock, u.clock) != 0) { /* a new second: the clock (and maybe the warning) */
      snprintf(u.clock, sizeof u.clock, "%s", clock);
      u.dirty = true;
    }
    if (u.model.left_at_ms >= 0 && t - u.model.left_at_ms >= ML_UI_PEER_LEFT_SHOW_MS) {
      u.model.left_at_ms = -1;
      u.dirty = true;
    }
    if (u.dirty)
      render(&u);
  }
  *res = u.res;
  close_window(&u);
  return 0;
}
