/* The session window in a real call: an embedded signaling server and two
 * `mentorlink join` processes with windows (under Xvfb: see CMakeLists.txt)
 * and test sources, driven through the window's test control (stdin
 * commands, JSON answers on stdout), checked by the pixels of screenshots:
 *   - each window shows the other's name on the remote tile;
 *   - the remote tile shows the sender's colour bars where they must be;
 *   - a chat line typed in one window appears in the other's chat panel
 *     (unread count first), and the sender sees it delivered;
 *   - the mute shortcut in one window shows the muted mark in the other;
 *   - the verification screen shows the same SAS words in both windows;
 *   - leaving through the confirmation dialog ends the call cleanly;
 *   - screenshots (F12 too) are PNG files of mode 0600 in a folder the
 *     window made 0700.
 * Screenshots stay in the build directory (ui-call-shots/); call.png is the
 * README's picture. Exit 77 (skipped) only when no display can be opened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "../engine/check.h"
#include "child.h"
#include "local_call.h"
#include "palette.h"
#include "ui_pixels.h"

#define VIDEO_W 640
#define VIDEO_H 360
#define SECURE_TIMEOUT_MS 40000
#define STEP_TIMEOUT_MS 20000
#define EXIT_TIMEOUT_MS 20000

typedef struct rect {
  int x, y, w, h;
} rect;

typedef struct win {
  const char *name;
  ml_child *proc;
  /* from its JSON lines */
  bool secure;
  char sas[64];
  unsigned layouts, shots;
  int width, height, peers, dialog;
  double scale;
  rect tile0, pip, chat, chat_log, controls, dialog_rect;
  char shot_path[1024];
  bool shot_ok;
  uint64_t frames_decoded;
  bool peer_muted;
  char chat_rx[256];
  unsigned receipts;
  bool peer_left;
  bool marked_verified; /* the engine stored "we compared them" */
} win;

static SDL_Color col(ml_rgb c) { return (SDL_Color){c.r, c.g, c.b, 255}; }

static rect rect_of(JsonObject *o, const char *k) {
  rect r = {0, 0, 0, 0};
  JsonArray *a = json_object_has_member(o, k) ? json_object_get_array_member(o, k) : NULL;
  if (a && json_array_get_length(a) == 4)
    r = (rect){(int)json_array_get_int_element(a, 0), (int)json_array_get_int_element(a, 1),
               (int)json_array_get_int_element(a, 2), (int)json_array_get_int_element(a, 3)};
  return r;
}

/* The window's test-control answers (client/ui/window.c), which are not
 * call events: ui_layout and ui_screenshot. */
static void take_ui_line(win *w, const char *line) {
  g_autoptr(JsonParser) p = json_parser_new();
  if (strlen(line) > ML_EVENT_MAX_LINE || !json_parser_load_from_data(p, line, -1, NULL) ||
      !json_parser_get_root(p) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
    return;
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  const char *ev = ml_json_str(o, "event");
  if (!strcmp(ev, "ui_layout")) {
    w->width = (int)ml_json_int(o, "width");
    w->height = (int)ml_json_int(o, "height");
    w->peers = (int)ml_json_int(o, "peers");
    w->dialog = (int)ml_json_int(o, "dialog");
    w->scale = json_object_get_double_member_with_default(o, "scale", 1.0);
    JsonArray *t = json_object_get_array_member(o, "tiles");
    JsonArray *t0 = t && json_array_get_length(t) ? json_array_get_array_element(t, 0) : NULL;
    if (t0 && json_array_get_length(t0) == 4)
      w->tile0 =
          (rect){(int)json_array_get_int_element(t0, 0), (int)json_array_get_int_element(t0, 1),
                 (int)json_array_get_int_element(t0, 2), (int)json_array_get_int_element(t0, 3)};
    w->pip = rect_of(o, "pip");
    w->chat = rect_of(o, "chat");
    w->chat_log = rect_of(o, "chat_log");
    w->controls = rect_of(o, "controls");
    w->dialog_rect = rect_of(o, "dialog_rect");
    w->layouts++;
  } else if (!strcmp(ev, "ui_screenshot")) {
    g_strlcpy(w->shot_path, ml_json_str(o, "path"), sizeof w->shot_path);
    w->shot_ok = ml_json_bool(o, "ok");
    w->shots++;
  }
}

static void take_line(void *user, const char *line, const ml_event *ev) {
  win *w = user;
  if (!ev) {
    take_ui_line(w, line);
    return;
  }
  switch (ev->type) {
  case ML_EVENT_VERIFICATION:
    w->secure = true;
    g_strlcpy(w->sas, ev->sas, sizeof w->sas);
    break;
  case ML_EVENT_STATS:
    if (ev->stats.video_frames_decoded > 0)
      w->frames_decoded = ev->stats.video_frames_decoded;
    break;
  case ML_EVENT_PEER_MEDIA: w->peer_muted = ev->muted; break;
  case ML_EVENT_CHAT: g_strlcpy(w->chat_rx, ev->text, sizeof w->chat_rx); break;
  case ML_EVENT_RECEIPT: w->receipts++; break;
  case ML_EVENT_PEER_LEFT: w->peer_left = true; break;
  case ML_EVENT_MARKED_VERIFIED: w->marked_verified = ev->ok; break;
  default: break;
  }
}

static bool spawn(win *w, const char *exe, const char *url, const char *room, const char *secret,
                  const char *data, const char *shots) {
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  ml_local_join_args(argv, exe, url, room, w->name, FALSE); /* the window */
  const char *more[] = {"--ui-test-control", "--screenshot-dir", shots, "--duration", "120"};
  for (size_t i = 0; i < G_N_ELEMENTS(more); i++)
    g_ptr_array_add(argv, g_strdup(more[i]));
  g_ptr_array_add(argv, NULL);
  g_autofree char *data_env = g_strconcat("XDG_DATA_HOME=", data, NULL);
  g_autofree char *secret_env = g_strconcat("MENTORLINK_ROOM_SECRET=", secret, NULL);
  const char *env[] = {data_env, secret_env, "MENTORLINK_PASSPHRASE", NULL};
  ml_child_options co = {.name = w->name,
                         .argv = (const char *const *)argv->pdata,
                         .env = env,
                         .stdin_pipe = true,
                         .inherit_stderr = true,
                         .on_line = take_line,
                         .user = w};
  w->proc = ml_child_spawn(&co);
  g_ptr_array_free(argv, TRUE);
  return w->proc != NULL;
}

static void send_cmd(win *w, const char *cmd) {
  if (!ml_child_exited(w->proc))
    (void)ml_child_write_line(w->proc, cmd, NULL);
}

typedef bool (*cond_fn)(win *a, win *b);
typedef struct holds {
  cond_fn cond;
  win *a, *b;
} holds;

static bool cond_holds(void *arg) {
  holds *h = arg;
  return h->cond(h->a, h->b);
}

/* Iterates the main context until cond holds or timeout_ms passes. */
static bool wait_for(cond_fn cond, win *a, win *b, int timeout_ms) {
  holds h = {cond, a, b};
  return ml_child_run_until(cond_holds, &h, g_get_monotonic_time() + (int64_t)timeout_ms * 1000);
}

static bool both_secure(win *a, win *b) { return a->secure && b->secure; }
static bool both_exited(win *a, win *b) {
  return ml_child_exited(a->proc) && ml_child_exited(b->proc);
}
static bool a_exited(win *a, win *b) {
  (void)b;
  return ml_child_exited(a->proc);
}

static unsigned want_count;
static bool layout_came(win *a, win *b) {
  (void)b;
  return a->layouts >= want_count || ml_child_exited(a->proc);
}
static bool shot_came(win *a, win *b) {
  (void)b;
  return a->shots >= want_count || ml_child_exited(a->proc);
}
static bool frames_decoded(win *a, win *b) {
  (void)b;
  return a->frames_decoded >= 30;
}
static bool chat_came(win *a, win *b) {
  (void)b;
  return a->chat_rx[0] != '\0';
}
static bool receipt_came(win *a, win *b) {
  (void)b;
  return a->receipts > 0;
}
static bool peer_muted(win *a, win *b) {
  (void)b;
  return a->peer_muted;
}
static bool marked_verified(win *a, win *b) {
  (void)b;
  return a->marked_verified;
}
static bool peer_left(win *a, win *b) {
  (void)b;
  return a->peer_left;
}

static bool layout(win *w) {
  want_count = w->layouts + 1;
  send_cmd(w, "layout");
  return wait_for(layout_came, w, NULL, STEP_TIMEOUT_MS) && !ml_child_exited(w->proc);
}

/* Sends cmd, which saves a screenshot of w's window, and loads that
 * (free with SDL_FreeSurface). */
static SDL_Surface *shot_by(win *w, const char *cmd) {
  want_count = w->shots + 1;
  send_cmd(w, cmd);
  if (!wait_for(shot_came, w, NULL, STEP_TIMEOUT_MS) || !w->shot_ok)
    return NULL;
  printf("  screenshot %s\n", w->shot_path);
  return ml_px_load(w->shot_path);
}

/* A screenshot of w's window named name. */
static SDL_Surface *shot(win *w, const char *name) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "screenshot %s", name);
  return shot_by(w, cmd);
}

/* Whether path's permission bits are exactly mode. */
static bool mode_is(const char *path, mode_t mode) {
  struct stat st;
  return stat(path, &st) == 0 && (st.st_mode & 07777) == mode;
}

static SDL_Rect sdl(rect r) { return (SDL_Rect){r.x, r.y, r.w, r.h}; }

static SDL_Rect label_region(const win *w, rect t) {
  int h = (int)(44 * w->scale + 0.5);
  return (SDL_Rect){t.x, t.y + t.h - h, t.w, h};
}

/* What the sender's test source (videotestsrc pattern=smpte) draws in its
 * top two thirds: full-intensity bars, white, yellow, cyan, green, magenta,
 * red, blue. */
static const SDL_Color sender_bars[7] = {
    {255, 255, 255, 255}, {255, 255, 0, 255}, {0, 255, 255, 255}, {0, 255, 0, 255},
    {255, 0, 255, 255},   {255, 0, 0, 255},   {0, 0, 255, 255},
};

/* The sender's bars, where they must be in the letterboxed video. */
static bool bars_in(SDL_Surface *s, rect box, int tol) {
  long long fw = box.w, fh = (long long)box.w * VIDEO_H / VIDEO_W;
  if (fh > box.h) {
    fh = box.h;
    fw = (long long)box.h * VIDEO_W / VIDEO_H;
  }
  int fx = box.x + (box.w - (int)fw) / 2, fy = box.y + (box.h - (int)fh) / 2;
  int ok = 0;
  for (int i = 0; i < 7; i++) {
    int x = fx + (2 * i + 1) * (int)fw / 14, y = fy + (int)fh / 4;
    SDL_Color c = ml_px_get(s, x, y);
    SDL_Color want = sender_bars[i];
    bool near = ml_px_near(c, want.r, want.g, want.b, tol);
    if (!near)
      printf("  bar %d at (%d,%d) is %d,%d,%d (want %d,%d,%d)\n", i, x, y, c.r, c.g, c.b, want.r,
             want.g, want.b);
    ok += near;
  }
  return ok == 7;
}

static bool find(SDL_Surface *s, SDL_Rect r, ml_px_font f, const win *w, const char *text,
                 ml_rgb fg, ml_rgb bg) {
  return s && ml_px_find_text(s, r, f, (float)w->scale, text, col(fg), col(bg), NULL);
}

/* Words words[from..n) shown as wrapped lines, each below the previous one
 * (inside dialog, which shrinks below each line found): the window draws each wrapped line as one
 * string, and a word inside a line can sit at a fractional glyph position, so whole lines are what
 * to look for, inside the dialog. Tries the longest line first. */
static bool find_lines(SDL_Surface *s, const win *w, SDL_Rect dialog, char **words, int from,
                       int n) {
  if (from == n)
    return true;
  for (int k = n; k > from; k--) {
    GString *l = g_string_new(NULL);
    for (int i = from; i < k; i++)
      g_string_append_printf(l, "%s%s", i > from ? " " : "", words[i]);
    SDL_Rect below = dialog;
    SDL_Point at;
    bool ok =
        ml_px_find_text(s, below, ML_PX_LARGE, (float)w->scale, l->str, col(ML_COL_ACCENT),
                        col(ML_COL_DIALOG), &at) &&
        find_lines(s, w, (SDL_Rect){dialog.x, at.y + 1, dialog.w, dialog.y + dialog.h - at.y - 1},
                   words, k, n);
    g_string_free(l, TRUE);
    if (ok)
      return true;
  }
  return false;
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
  /* The windows make the folder themselves (0700), as F12 would. */
  g_autofree char *shots = g_build_filename(g_get_current_dir(), "ui-call-shots", NULL);
  ml_remove_tree(shots);
  g_autofree char *data = g_dir_make_tmp("mentorlink-ui-XXXXXX", NULL);

  ml_local_server ls;
  if (ml_local_server_start(&ls, "ui.call") != 0)
    return 1;
  const char *url = ls.url;
  char room[32], secret[32];
  g_snprintf(room, sizeof room, "ui-%08x", g_random_int());
  g_snprintf(secret, sizeof secret, "%08x%08x", g_random_int(), g_random_int());

  win a = {.name = "Dr. Mentor"}, b = {.name = "Sam Mentee"};
  g_autofree char *da = g_build_filename(data, "mentor", NULL);
  g_autofree char *db = g_build_filename(data, "mentee", NULL);
  g_mkdir_with_parents(da, 0700);
  g_mkdir_with_parents(db, 0700);
  if (!spawn(&a, MENTORLINK_BIN, url, room, secret, da, shots) ||
      !spawn(&b, MENTORLINK_BIN, url, room, secret, db, shots))
    return 1;

  CHECK(wait_for(both_secure, &a, &b, SECURE_TIMEOUT_MS), "the call did not become secure");
  CHECK(a.sas[0] && !strcmp(a.sas, b.sas), "SAS \"%s\" vs \"%s\"", a.sas, b.sas);
  CHECK(layout(&a) && a.peers == 1, "A's window has %d peers", a.peers);
  CHECK(layout(&b) && b.peers == 1, "B's window has %d peers", b.peers);

  /* Names on the remote tiles. */
  SDL_Surface *sa = shot(&a, "names-a"), *sb = shot(&b, "names-b");
  CHECK(sa && sb, "screenshots failed");
  CHECK(mode_is(shots, 0700), "the screenshot folder is not 0700");
  CHECK(mode_is(a.shot_path, 0600) && mode_is(b.shot_path, 0600), "screenshots are not 0600");
  SDL_Surface *f12 = shot_by(&a, "key f12");
  g_autofree char *f12_name = g_path_get_basename(a.shot_path);
  CHECK(f12 && g_str_has_prefix(f12_name, "screenshot-") && g_str_has_suffix(f12_name, ".png") &&
            mode_is(a.shot_path, 0600),
        "F12 saved no 0600 screenshot-*.png (got \"%s\")", a.shot_path);
  SDL_FreeSurface(f12);
  CHECK(find(sa, label_region(&a, a.tile0), ML_PX_BOLD, &a, "Sam Mentee", ML_COL_TEXT,
             ML_COL_LABEL_BG),
        "A's remote tile does not show \"Sam Mentee\"");
  CHECK(find(sb, label_region(&b, b.tile0), ML_PX_BOLD, &b, "Dr. Mentor", ML_COL_TEXT,
             ML_COL_LABEL_BG),
        "B's remote tile does not show \"Dr. Mentor\"");
  SDL_FreeSurface(sa);
  SDL_FreeSurface(sb);

  /* The remote tile shows the sender's colour bars (VP8 over the call:
   * a wide tolerance; the bars differ from each other by far more). */
  CHECK(wait_for(frames_decoded, &b, NULL, STEP_TIMEOUT_MS), "B decoded %llu frames",
        (unsigned long long)b.frames_decoded);
  bool bars = false;
  for (int i = 0; i < 10 && !bars; i++) {
    sb = shot(&b, "video-b");
    bars = sb && bars_in(sb, b.tile0, 40);
    SDL_FreeSurface(sb);
    if (!bars)
      g_usleep(500000); /* the next attempt; the check above waited for decoding */
  }
  CHECK(bars, "B's remote tile does not show A's colour bars");

  /* Chat: typed in A, unread in B, read in B's panel, delivered in A. */
  send_cmd(&a, "key ctrl+t");
  send_cmd(&a, "text Vitals stable, proceed");
  send_cmd(&a, "key return");
  CHECK(wait_for(chat_came, &b, NULL, STEP_TIMEOUT_MS), "B got no chat");
  CHECK(!strcmp(b.chat_rx, "Vitals stable, proceed"), "B got \"%s\"", b.chat_rx);
  sb = shot(&b, "unread-b");
  CHECK(find(sb, sdl(b.controls), ML_PX_SMALL, &b, "Chat (1 new)", ML_COL_TEXT, ML_COL_BUTTON),
        "B's chat button does not show the unread count");
  SDL_FreeSurface(sb);
  send_cmd(&b, "key ctrl+t");
  CHECK(layout(&b) && b.chat.w > 0, "B's chat panel did not open");
  sb = shot(&b, "chat-b");
  CHECK(find(sb, sdl(b.chat_log), ML_PX_BODY, &b, "Vitals stable, proceed", ML_COL_TEXT,
             ML_COL_PANEL),
        "B's chat panel does not show the line");
  SDL_FreeSurface(sb);
  send_cmd(&b, "key escape"); /* typing focus off, panel stays */
  CHECK(wait_for(receipt_came, &a, NULL, STEP_TIMEOUT_MS), "A got no receipt");
  CHECK(layout(&a) && a.chat.w > 0, "A's chat panel is not open");
  sa = shot(&a, "delivered-a");
  CHECK(find(sa, sdl(a.chat_log), ML_PX_SMALL, &a, "✓✓ Delivered", ML_COL_OK, ML_COL_PANEL),
        "A's chat does not show the delivery mark");
  SDL_FreeSurface(sa);

  /* Mute by shortcut in B: B's own view says so at once, A's when B's
   * media state arrives. */
  send_cmd(&b, "key ctrl+d");
  sb = shot(&b, "muted-b");
  CHECK(find(sb, sdl(b.controls), ML_PX_SMALL, &b, "Unmute", ML_COL_DARK_TEXT, ML_COL_BUTTON_ON),
        "B's microphone button does not say Unmute");
  SDL_FreeSurface(sb);
  CHECK(wait_for(peer_muted, &a, NULL, STEP_TIMEOUT_MS), "A was not told that B muted");
  sa = shot(&a, "muted-a");
  CHECK(find(sa, label_region(&a, a.tile0), ML_PX_SMALL, &a, "Muted", ML_COL_BAD, ML_COL_LABEL_BG),
        "A's tile of B does not show the muted mark");
  SDL_FreeSurface(sa);

  /* Verification: the same SAS words on both screens. */
  send_cmd(&a, "key ctrl+shift+v");
  send_cmd(&b, "key ctrl+shift+v");
  sa = shot(&a, "verify-a");
  sb = shot(&b, "verify-b");
  char **words = g_strsplit(a.sas, " ", -1);
  int n_words = (int)g_strv_length(words);
  CHECK(n_words == 5, "A's SAS \"%s\" is not five words", a.sas);
  CHECK(layout(&a) && layout(&b) && a.dialog_rect.w > 0 && b.dialog_rect.w > 0,
        "no verification dialog in the layouts");
  CHECK(sa && find_lines(sa, &a, sdl(a.dialog_rect), words, 0, n_words),
        "A's verification screen lacks \"%s\"", a.sas);
  CHECK(sb && find_lines(sb, &b, sdl(b.dialog_rect), words, 0, n_words),
        "B's verification screen lacks \"%s\"", a.sas);
  g_strfreev(words);
  SDL_FreeSurface(sa);
  SDL_FreeSurface(sb);
  /* A confirms ("We compared them", Enter): stored with the pin, and A's
   * tile of B says so; B, who did not, still says "Not verified". */
  send_cmd(&a, "key return");
  send_cmd(&b, "key escape");
  CHECK(wait_for(marked_verified, &a, NULL, STEP_TIMEOUT_MS), "A's verification was not stored");
  send_cmd(&a, "key escape"); /* the screen stays open, saying so, until closed */
  CHECK(layout(&a), "A's layout did not come");
  sa = shot(&a, "verified-a");
  CHECK(
      find(sa, label_region(&a, a.tile0), ML_PX_SMALL, &a, "Verified", ML_COL_OK, ML_COL_LABEL_BG),
      "A's tile of B does not show the verified mark");
  SDL_FreeSurface(sa);
  sb = shot(&b, "verified-b");
  CHECK(find(sb, label_region(&b, b.tile0), ML_PX_SMALL, &b, "Not verified", ML_COL_MUTED_TEXT,
             ML_COL_LABEL_BG),
        "B's tile of A should still say \"Not verified\"");
  SDL_FreeSurface(sb);

  /* The README's picture: A's window in the call, chat open (call.png). */
  sa = shot(&a, "call");
  CHECK(sa, "no screenshot of the call");
  printf("  README picture: %s\n", a.shot_path);
  SDL_FreeSurface(sa);

  /* A leaves through the confirmation; B sees it. */
  send_cmd(&a, "key ctrl+w");
  send_cmd(&a, "key return");
  CHECK(wait_for(a_exited, &a, NULL, EXIT_TIMEOUT_MS) && ml_child_status(a.proc) == 0,
        "A exited with %d", ml_child_status(a.proc));
  CHECK(wait_for(peer_left, &b, NULL, STEP_TIMEOUT_MS), "B was not told that A left");
  sb = shot(&b, "left-b");
  SDL_Rect top = {0, 0, sb ? sb->w : 0, (int)(80 * b.scale)};
  CHECK(find(sb, top, ML_PX_BOLD, &b, "ℹ Dr. Mentor left the call", ML_COL_TEXT, ML_COL_INFO_BG),
        "B shows no \"left the call\" banner");
  SDL_FreeSurface(sb);
  send_cmd(&b, "key ctrl+w");
  send_cmd(&b, "key return");
  CHECK(wait_for(both_exited, &a, &b, EXIT_TIMEOUT_MS) && ml_child_status(b.proc) == 0,
        "B exited with %d", ml_child_status(b.proc));

  ml_child_free(a.proc); /* kills it if it still runs */
  ml_child_free(b.proc);
  while (g_main_context_iteration(NULL, FALSE)) /* the cancelled reads' callbacks */
    ;
  ml_remove_tree(data);
  ml_local_server_stop(&ls);
  TTF_Quit();
  printf("%s: %d failed checks; screenshots in %s\n", failures ? "FAIL" : "PASS", failures, shots);
  return failures ? 1 : 0;
}
