/* The participant panel in a real call: an embedded signaling server with
 * a waiting room, the host and a participant each in a `mentorlink join`
 * window (under Xvfb), checked by the pixels of screenshots:
 *   - the participant knocks: the host's panel (Ctrl+P) lists them under
 *     "Waiting to join" with Admit and Deny; a click on Admit lets them in;
 *   - the participant raises a hand (Ctrl+H): the panel shows "Hand #1" on
 *     their row; the host's own row has the HOST badge;
 *   - the host's window shortcut Ctrl+H raises the host's hand, which the
 *     participant sees (session hand);
 *   - the host's row buttons and Lock, each clicked and seen by the
 *     participant (--json); after Mute, the participant's own window shows
 *     "Muted by the host"; after Remove it exits with 5.
 * people.png (ui-people-shots/) is the README's picture of the panel. Exit
 * 77 (skipped) only when no display can be opened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "../engine/check.h"
#include "child.h"
#include "layout.h"
#include "local_call.h"
#include "ml/signal_server.h"
#include "palette.h"
#include "ui_pixels.h"

#define STEP_TIMEOUT_MS 25000

typedef struct party {
  const char *name;
  ml_child *proc;
  bool secure, knock, host_hand;
  /* What the participant was told of the host's actions from the panel. */
  bool hand_lowered, spotlit, muted_by_host, locked;
  unsigned layouts, shots;
  double scale;
  int width, height;
  ml_rect chat;
  char shot_path[1024];
  bool shot_ok;
} party;

static ml_rect rect_of(JsonObject *o, const char *k) {
  ml_rect r = {0, 0, 0, 0};
  JsonArray *a = json_object_has_member(o, k) ? json_object_get_array_member(o, k) : NULL;
  if (a && json_array_get_length(a) == 4)
    r = (ml_rect){(int)json_array_get_int_element(a, 0), (int)json_array_get_int_element(a, 1),
                  (int)json_array_get_int_element(a, 2), (int)json_array_get_int_element(a, 3)};
  return r;
}

static void take_line(void *user, const char *line, const ml_event *ev) {
  party *p = user;
  if (g_getenv("ML_TEST_VERBOSE"))
    fprintf(stderr, "  [%s] %.200s\n", p->name, line);
  if (ev) {
    if (ev->type == ML_EVENT_VERIFICATION)
      p->secure = true;
    else if (ev->type == ML_EVENT_KNOCK)
      p->knock = true;
    else if (ev->type == ML_EVENT_SESSION && !strcmp(ev->what, "hand") && ev->on &&
             !strcmp(ev->name, "Dr. Mentor"))
      p->host_hand = true;
    else if (ev->type == ML_EVENT_SESSION && !strcmp(ev->what, "hand") && !ev->on && ev->by[0])
      p->hand_lowered = true;
    else if (ev->type == ML_EVENT_SESSION && !strcmp(ev->what, "spotlight") &&
             !strcmp(ev->name, "Sam Mentee"))
      p->spotlit = true;
    else if (ev->type == ML_EVENT_SESSION && !strcmp(ev->what, "muted_by_host"))
      p->muted_by_host = true;
    else if (ev->type == ML_EVENT_SESSION && !strcmp(ev->what, "locked") && ev->on)
      p->locked = true;
    return;
  }
  g_autoptr(JsonParser) jp = json_parser_new();
  if (!json_parser_load_from_data(jp, line, -1, NULL) || !json_parser_get_root(jp) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(jp)))
    return;
  JsonObject *o = json_node_get_object(json_parser_get_root(jp));
  const char *e = ml_json_str(o, "event");
  if (!strcmp(e, "ui_layout")) {
    p->scale = json_object_get_double_member_with_default(o, "scale", 1.0);
    p->width = (int)json_object_get_int_member_with_default(o, "width", 0);
    p->height = (int)json_object_get_int_member_with_default(o, "height", 0);
    p->chat = rect_of(o, "chat");
    p->layouts++;
  } else if (!strcmp(e, "ui_screenshot")) {
    g_strlcpy(p->shot_path, ml_json_str(o, "path"), sizeof p->shot_path);
    p->shot_ok = ml_json_bool(o, "ok");
    p->shots++;
  }
}

static bool spawn(party *p, const char *url, const char *room, const char *data, const char *shots,
                  bool window) {
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  ml_local_join_args(argv, MENTORLINK_BIN, url, room, p->name, !window);
  const char *win_args[] = {"--ui-test-control", "--screenshot-dir", shots};
  for (size_t i = 0; window && i < G_N_ELEMENTS(win_args); i++)
    g_ptr_array_add(argv, g_strdup(win_args[i]));
  if (!window)
    g_ptr_array_add(argv, g_strdup("--stdin-commands"));
  g_ptr_array_add(argv, g_strdup("--duration"));
  g_ptr_array_add(argv, g_strdup("120"));
  g_ptr_array_add(argv, NULL);
  g_autofree char *data_env = g_strconcat("XDG_DATA_HOME=", data, NULL);
  const char *env[] = {data_env, "MENTORLINK_ROOM_SECRET", "MENTORLINK_PASSPHRASE", NULL};
  ml_child_options co = {.name = p->name,
                         .argv = (const char *const *)argv->pdata,
                         .env = env,
                         .stdin_pipe = true,
                         .inherit_stderr = window,
                         .on_line = take_line,
                         .user = p};
  p->proc = ml_child_spawn(&co);
  g_ptr_array_free(argv, TRUE);
  return p->proc != NULL;
}

static void send_cmd(party *p, const char *cmd) {
  if (!ml_child_exited(p->proc))
    (void)ml_child_write_line(p->proc, cmd, NULL);
}

typedef struct cond {
  party *p;
  int what; /* 0 secure, 1 knock, 2 layouts >= n, 3 shots >= n, 4 host hand, 5 hand lowered,
               6 spotlit, 7 muted by the host, 8 locked, 9 exited */
  unsigned n;
} cond;

static bool cond_holds(void *arg) {
  cond *c = arg;
  switch (c->what) {
  case 0: return c->p->secure;
  case 1: return c->p->knock;
  case 2: return c->p->layouts >= c->n;
  case 3: return c->p->shots >= c->n;
  case 4: return c->p->host_hand;
  case 5: return c->p->hand_lowered;
  case 6: return c->p->spotlit;
  case 7: return c->p->muted_by_host;
  case 8: return c->p->locked;
  default: return ml_child_done(c->p->proc);
  }
}

static bool wait_cond(party *p, int what, unsigned n) {
  cond c = {p, what, n};
  return ml_child_run_until(cond_holds, &c,
                            g_get_monotonic_time() + (int64_t)STEP_TIMEOUT_MS * 1000);
}

static bool layout(party *p) {
  unsigned n = p->layouts + 1;
  send_cmd(p, "layout");
  return wait_cond(p, 2, n);
}

static SDL_Surface *shot(party *p, const char *name) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "screenshot %s", name);
  unsigned n = p->shots + 1;
  send_cmd(p, cmd);
  if (!wait_cond(p, 3, n) || !p->shot_ok)
    return NULL;
  printf("  screenshot %s\n", p->shot_path);
  return ml_px_load(p->shot_path);
}

static SDL_Color col(ml_rgb c) { return (SDL_Color){c.r, c.g, c.b, 255}; }

static bool find(SDL_Surface *s, ml_rect r, ml_px_font f, const party *p, const char *text,
                 ml_rgb fg, ml_rgb bg) {
  SDL_Rect sr = {r.x, r.y, r.w, r.h};
  return s && ml_px_find_text(s, sr, f, (float)p->scale, text, col(fg), col(bg), NULL);
}

static bool display_available(void) {
  if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY") && !getenv("SDL_VIDEODRIVER"))
    return false;
  if (SDL_Init(SDL_INIT_VIDEO) != 0)
    return false;
  SDL_Quit();
  return true;
}

int main(void) {
  if (!display_available()) {
    printf("SKIP: no display (DISPLAY unset or unusable; run under xvfb-run)\n");
    return 77;
  }
  if (TTF_Init() != 0)
    return 1;
  g_autofree char *shots = g_build_filename(g_get_current_dir(), "ui-people-shots", NULL);
  ml_remove_tree(shots);
  g_autofree char *data = g_dir_make_tmp("mentorlink-ui-people-XXXXXX", NULL);
  ml_local_server ls;
  memset(&ls, 0, sizeof ls);
  ml_signal_config_init(&ls.cfg);
  ls.cfg.listen_port = 0;
  ls.cfg.open_mode = true;
  ls.cfg.auto_admit = false; /* the participant waits for the host */
  char *errmsg = NULL;
  if (ml_signal_server_new(&ls.srv, &ls.cfg) != 0 || ml_signal_server_start(ls.srv, &errmsg) != 0) {
    fprintf(stderr, "FAIL: the signaling server did not start: %s\n", errmsg ? errmsg : "?");
    return 1;
  }
  g_snprintf(ls.url, sizeof ls.url, "ws://127.0.0.1:%u/v1/ws", ml_signal_server_port(ls.srv));
  char room[32];
  g_snprintf(room, sizeof room, "people-%08x", g_random_int());

  party a = {.name = "Dr. Mentor"}, b = {.name = "Sam Mentee"};
  g_autofree char *da = g_build_filename(data, "mentor", NULL);
  g_autofree char *db = g_build_filename(data, "mentee", NULL);
  g_mkdir_with_parents(da, 0700);
  g_mkdir_with_parents(db, 0700);
  if (!spawn(&a, ls.url, room, da, shots, true))
    return 1;
  CHECK(layout(&a), "the host's window answers"); /* joined first: it hosts */
  if (!spawn(&b, ls.url, room, db, shots, true))
    return 1;
  CHECK(wait_cond(&a, 1, 0), "the host got no knock");

  /* The panel: the waiting participant with Admit and Deny. */
  send_cmd(&a, "key ctrl+p");
  CHECK(layout(&a) && a.chat.w > 0, "the participant panel did not open");
  ml_people_layout pl;
  ml_layout_people(a.chat, (float)a.scale, 1, 1, true, &pl);
  SDL_Surface *s = shot(&a, "waiting");
  CHECK(find(s, pl.waiting_header, ML_PX_BOLD, &a, "Waiting to join", ML_COL_TEXT, ML_COL_PANEL),
        "the panel shows no \"Waiting to join\"");
  CHECK(find(s, pl.waiting[0], ML_PX_BODY, &a, "Sam Mentee", ML_COL_TEXT, ML_COL_PANEL),
        "the panel does not list the waiting participant");
  CHECK(find(s, pl.admit[0], ML_PX_SMALL, &a, "Admit", ML_COL_DARK_TEXT, ML_COL_OK),
        "no Admit button");
  CHECK(find(s, pl.deny[0], ML_PX_SMALL, &a, "Deny", ML_COL_TEXT, ML_COL_BUTTON), "no Deny button");
  SDL_FreeSurface(s);
  char click[64];
  snprintf(click, sizeof click, "click %d %d", pl.admit[0].x + pl.admit[0].w / 2,
           pl.admit[0].y + pl.admit[0].h / 2);
  send_cmd(&a, click);
  CHECK(wait_cond(&a, 0, 0) && wait_cond(&b, 0, 0), "Admit did not lead to a secure call");

  /* A raised hand, in order, and the host badge. */
  send_cmd(&b, "key ctrl+h");
  CHECK(layout(&a), "the host's window answers"); /* the knock's banner went: the panel moved */
  ml_layout_people(a.chat, (float)a.scale, 2, 0, true, &pl);
  bool hand = false;
  for (int i = 0; i < 20 && !hand; i++) {
    s = shot(&a, "people");
    hand = find(s, pl.rows[1], ML_PX_SMALL, &a, "Hand #1", ML_COL_WARN_BG, ML_COL_PANEL);
    if (hand) {
      CHECK(find(s, pl.rows[1], ML_PX_BOLD, &a, "Sam Mentee", ML_COL_TEXT, ML_COL_PANEL),
            "the participant's row has no name");
      CHECK(find(s, pl.rows[0], ML_PX_SMALL, &a, "HOST", ML_COL_ACCENT, ML_COL_PANEL),
            "the host's row has no HOST badge");
      printf("  README picture: %s\n", a.shot_path);
    }
    SDL_FreeSurface(s);
    if (!hand)
      g_usleep(250000); /* the next frame; the hand's CONTROL message is on its way */
  }
  CHECK(hand, "the panel shows no \"Hand #1\" on the participant's row");

  /* The host's own hand by shortcut, seen by the participant. */
  send_cmd(&a, "key ctrl+h");
  CHECK(wait_cond(&b, 4, 0), "the participant did not see the host's hand");

  /* The host's buttons on the participant's row and for the room, each
   * clicked and seen by the participant (the layout asked again before
   * each: a banner may have moved the panel). */
  CHECK(layout(&a), "the host's window answers");
  ml_layout_people(a.chat, (float)a.scale, 2, 0, true, &pl);
  s = shot(&a, "actions");
  CHECK(find(s, pl.acts[1][ML_PEOPLE_ACT_LOWER_HAND], ML_PX_SMALL, &a, "Lower hand", ML_COL_TEXT,
             ML_COL_BUTTON),
        "no \"Lower hand\" button on the participant's row");
  CHECK(find(s, pl.acts[1][ML_PEOPLE_ACT_REMOVE], ML_PX_SMALL, &a, "Remove", ML_COL_TEXT,
             ML_COL_BUTTON),
        "no \"Remove\" button on the participant's row");
  CHECK(find(s, pl.lock, ML_PX_SMALL, &a, "Lock", ML_COL_TEXT, ML_COL_BUTTON), "no Lock button");
  SDL_FreeSurface(s);
  struct {
    int act; /* ml_people_act, or -1: Lock */
    int what;
    const char *fail;
  } acts[] = {
      {ML_PEOPLE_ACT_LOWER_HAND, 5, "Lower hand did not lower the participant's hand"},
      {ML_PEOPLE_ACT_SPOTLIGHT, 6, "Spotlight did not reach the participant"},
      {ML_PEOPLE_ACT_MUTE, 7, "Mute did not mute the participant"},
      {-1, 8, "Lock did not lock the room"},
      {ML_PEOPLE_ACT_REMOVE, 9, "Remove did not take the participant out"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(acts); i++) {
    CHECK(layout(&a), "the host's window answers");
    ml_layout_people(a.chat, (float)a.scale, 2, 0, true, &pl);
    ml_rect at = acts[i].act < 0 ? pl.lock : pl.acts[1][acts[i].act];
    snprintf(click, sizeof click, "click %d %d", at.x + at.w / 2, at.y + at.h / 2);
    send_cmd(&a, click);
    CHECK(wait_cond(&b, acts[i].what, 0), "%s", acts[i].fail);
    if (acts[i].act != ML_PEOPLE_ACT_MUTE)
      continue;
    /* The participant's own window says why its microphone is off. */
    bool said = false;
    for (int k = 0; k < 20 && !said && layout(&b); k++) {
      s = shot(&b, "muted-by-host");
      said = find(s, (ml_rect){0, 0, b.width, b.height}, ML_PX_BOLD, &b, "Muted by the host",
                  ML_COL_DARK_TEXT, ML_COL_WARN_BG);
      SDL_FreeSurface(s);
      if (!said)
        g_usleep(100000); /* the next frame */
    }
    CHECK(said, "the participant's window shows no \"Muted by the host\" banner");
  }
  CHECK(ml_child_status(b.proc) == 5, "the removed participant exited with %d, not 5 (removed)",
        ml_child_status(b.proc));

  send_cmd(&a, "key ctrl+w");
  send_cmd(&a, "key return");
  ml_child *both[] = {a.proc, b.proc};
  CHECK(ml_child_wait(both, 2, g_get_monotonic_time() + (int64_t)STEP_TIMEOUT_MS * 1000),
        "the two did not exit");
  ml_child_free(a.proc);
  ml_child_free(b.proc);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  ml_remove_tree(data);
  ml_local_server_stop(&ls);
  TTF_Quit();
  printf("%s: %d failed checks; screenshots in %s\n", failures ? "FAIL" : "PASS", failures, shots);
  return failures ? 1 : 0;
}
