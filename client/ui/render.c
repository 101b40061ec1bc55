/* mentorlink UI — render (see render.h). */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "palette.h"

#define P(v, n) ml_layout_px((v)->scale, (n))
#define MAX_WRAP 4096

static const ml_ui_shortcut shortcuts[] = {
    {"Ctrl+D", "Mute or unmute the microphone"},
    {"Ctrl+E", "Turn the camera off or on"},
    {"Ctrl+T", "Open the chat and type / close the chat"},
    {"Enter", "Send the chat message"},
    {"Ctrl+Shift+V", "Verify: compare security words"},
    {"Tab", "Verification: next participant"},
    {"F1", "This help"},
    {"Ctrl+W or Esc", "Leave the call (asks first)"},
    {"Ctrl+Shift+A", "Host: let in who is waiting"},
    {"Ctrl+P", "Show or hide the participants"},
    {"Ctrl+H", "Raise or lower your hand"},
    {"Page Up / Page Down", "Scroll the chat"},
};

const ml_ui_shortcut *ml_ui_shortcuts(size_t *n) {
  *n = sizeof shortcuts / sizeof shortcuts[0];
  return shortcuts;
}

/* ---- drawing helpers ---- */

static void color(SDL_Renderer *r, ml_rgb c) { SDL_SetRenderDrawColor(r, c.r, c.g, c.b, 255); }

static void fill(SDL_Renderer *r, ml_rect a, ml_rgb c) {
  SDL_Rect s = {a.x, a.y, a.w, a.h};
  color(r, c);
  SDL_RenderFillRect(r, &s);
}

static void outline(SDL_Renderer *r, ml_rect a, ml_rgb c, int t) {
  fill(r, (ml_rect){a.x, a.y, a.w, t}, c);
  fill(r, (ml_rect){a.x, a.y + a.h - t, a.w, t}, c);
  fill(r, (ml_rect){a.x, a.y, t, a.h}, c);
  fill(r, (ml_rect){a.x + a.w - t, a.y, t, a.h}, c);
}

static void thick_line(SDL_Renderer *r, int x0, int y0, int x1, int y1, int t, ml_rgb c) {
  color(r, c);
  for (int dx = -t / 2; dx <= t / 2; dx++)
    for (int dy = -t / 2; dy <= t / 2; dy++)
      SDL_RenderDrawLine(r, x0 + dx, y0 + dy, x1 + dx, y1 + dy);
}

static int text_mid(ml_ui_text *t, ml_ui_font f, ml_rect box) {
  return box.y + (box.h - ml_ui_text_line_height(t, f)) / 2;
}

static void text_centered(ml_ui_text *t, ml_ui_font f, const char *s, ml_rgb c, ml_rect box) {
  int w = ml_ui_text_width(t, f, s, strlen(s));
  if (w > box.w)
    ml_ui_text_draw_fit(t, f, s, c, box.x, text_mid(t, f, box), box.w);
  else
    ml_ui_text_puts(t, f, s, c, box.x + (box.w - w) / 2, text_mid(t, f, box));
}

/* Icons, drawn in a square of side sz: shapes, so no state depends on colour. */
static void icon_mic(SDL_Renderer *r, int x, int y, int sz, bool crossed, ml_rgb c) {
  int t = sz / 12 + 1;
  ml_rect cap = {x + sz * 3 / 8, y + sz / 10, sz / 4, sz / 2};
  fill(r, cap, c);
  thick_line(r, x + sz / 4, y + sz * 2 / 5, x + sz / 4, y + sz * 3 / 5, t, c);
  thick_line(r, x + sz * 3 / 4, y + sz * 2 / 5, x + sz * 3 / 4, y + sz * 3 / 5, t, c);
  thick_line(r, x + sz / 4, y + sz * 3 / 5, x + sz / 2, y + sz * 3 / 4, t, c);
  thick_line(r, x + sz * 3 / 4, y + sz * 3 / 5, x + sz / 2, y + sz * 3 / 4, t, c);
  thick_line(r, x + sz / 2, y + sz * 3 / 4, x + sz / 2, y + sz * 9 / 10, t, c);
  thick_line(r, x + sz / 3, y + sz * 9 / 10, x + sz * 2 / 3, y + sz * 9 / 10, t, c);
  if (crossed)
    thick_line(r, x + sz / 8, y + sz / 8, x + sz * 7 / 8, y + sz * 7 / 8, t + 1, c);
}

static void icon_camera(SDL_Renderer *r, int x, int y, int sz, bool crossed, ml_rgb c) {
  int t = sz / 12 + 1;
  fill(r, (ml_rect){x + sz / 10, y + sz * 3 / 10, sz * 3 / 5, sz * 2 / 5}, c);
  thick_line(r, x + sz * 7 / 10, y + sz / 2, x + sz * 9 / 10, y + sz * 3 / 10, t, c);
  thick_line(r, x + sz * 7 / 10, y + sz / 2, x + sz * 9 / 10, y + sz * 7 / 10, t, c);
  thick_line(r, x + sz * 9 / 10, y + sz * 3 / 10, x + sz * 9 / 10, y + sz * 7 / 10, t, c);
  if (crossed)
    thick_line(r, x + sz / 8, y + sz / 8, x + sz * 7 / 8, y + sz * 7 / 8, t + 1, c);
}

static void icon_chat(SDL_Renderer *r, int x, int y, int sz, ml_rgb c) {
  int t = sz / 12 + 1;
  outline(r, (ml_rect){x + sz / 10, y + sz / 6, sz * 4 / 5, sz / 2}, c, t);
  thick_line(r, x + sz / 4, y + sz * 2 / 3, x + sz / 4, y + sz * 7 / 8, t, c);
  thick_line(r, x + sz / 4, y + sz * 7 / 8, x + sz / 2, y + sz * 2 / 3, t, c);
}

static void icon_check(SDL_Renderer *r, int x, int y, int sz, ml_rgb c) {
  int t = sz / 10 + 1;
  thick_line(r, x + sz / 8, y + sz / 2, x + sz * 3 / 8, y + sz * 3 / 4, t, c);
  thick_line(r, x + sz * 3 / 8, y + sz * 3 / 4, x + sz * 7 / 8, y + sz / 5, t, c);
}

static void icon_leave(SDL_Renderer *r, int x, int y, int sz, ml_rgb c) {
  int t = sz / 12 + 1;
  thick_line(r, x + sz / 5, y + sz / 5, x + sz * 4 / 5, y + sz * 4 / 5, t + 1, c);
  thick_line(r, x + sz * 4 / 5, y + sz / 5, x + sz / 5, y + sz * 4 / 5, t + 1, c);
}

static void icon_help(SDL_Renderer *r, ml_ui_text *t, int x, int y, int sz, ml_rgb c) {
  int t2 = sz / 12 + 1;
  outline(r, (ml_rect){x + sz / 6, y + sz / 6, sz * 2 / 3, sz * 2 / 3}, c, t2);
  int w = ml_ui_text_width(t, ML_FONT_BOLD, "?", 1);
  ml_ui_text_puts(t, ML_FONT_BOLD, "?", c, x + (sz - w) / 2,
                  y + (sz - ml_ui_text_line_height(t, ML_FONT_BOLD)) / 2);
}

/* Bars 1..3 by quality: height and count, not colour, carry the level. */
static void quality_bars(SDL_Renderer *r, int x, int y, int h, ml_ui_quality q, ml_rgb c,
                         ml_rgb off) {
  int n = q == ML_UI_QUALITY_GOOD   ? 3
          : q == ML_UI_QUALITY_FAIR ? 2
          : q == ML_UI_QUALITY_POOR ? 1
                                    : 0;
  int bw = h / 4 + 1;
  for (int i = 0; i < 3; i++) {
    int bh = h * (i + 1) / 3;
    ml_rect b = {x + i * (bw + bw / 2), y + h - bh, bw, bh};
    if (i < n)
      fill(r, b, c);
    else
      outline(r, b, off, 1);
  }
}

/* ---- view geometry ---- */

ml_ui_dialog ml_ui_view_dialog(const ml_ui_view *v) {
  if (ml_ui_model_identity_alert(v->model) && v->dialog != ML_UI_DIALOG_VERIFY &&
      v->dialog != ML_UI_DIALOG_LEAVE)
    return ML_UI_DIALOG_IDENTITY;
  if (v->dialog == ML_UI_DIALOG_VERIFY && !v->model->n_peers)
    return ML_UI_DIALOG_NONE;
  return v->dialog;
}

void ml_ui_view_layout(const ml_ui_view *v, ml_layout *out) {
  ml_ui_banner b[ML_UI_MAX_BANNERS];
  const ml_ui_model *m = v->model;
  ml_layout_input in = {
      .win_w = v->win_w,
      .win_h = v->win_h,
      .scale = v->scale,
      .n_tiles = m->n_peers ? (int)m->n_peers : 1, /* alone: our own picture */
      .active = v->active,
      .chat_open = m->chat_open || m->people_open,
      .pip = m->n_peers > 0,
      .n_banners = (int)ml_ui_model_banners(m, v->now_ms, b, ML_UI_MAX_BANNERS),
      .n_buttons = ML_UI_BTN_COUNT,
  };
  ml_layout_compute(&in, out);
}

int ml_ui_view_dialog_rects(const ml_ui_view *v, ml_rect *d,
                            ml_rect buttons[ML_UI_MAX_DIALOG_BUTTONS]) {
  int n = 0;
  switch (ml_ui_view_dialog(v)) {
  case ML_UI_DIALOG_NONE: return 0;
  case ML_UI_DIALOG_LEAVE:
    *d = ml_layout_dialog(v->win_w, v->win_h, v->scale, 480, 210);
    n = 2;
    break;
  case ML_UI_DIALOG_VERIFY:
    *d = ml_layout_dialog(v->win_w, v->win_h, v->scale, 700, 470);
    n = 2;
    break;
  case ML_UI_DIALOG_HELP:
    *d = ml_layout_dialog(v->win_w, v->win_h, v->scale, 600, 470);
    n = 1;
    break;
  case ML_UI_DIALOG_IDENTITY:
    *d = ml_layout_dialog(v->win_w, v->win_h, v->scale, 700, 400);
    n = 2;
    break;
  }
  ml_layout_dialog_buttons(*d, v->scale, n, buttons);
  return n;
}

const char *ml_ui_people_act_label(ml_people_act a, const ml_ui_model *m, const ml_ui_peer *p) {
  switch (a) {
  case ML_PEOPLE_ACT_MUTE: return "Mute";
  case ML_PEOPLE_ACT_LOWER_HAND: return "Lower hand";
  case ML_PEOPLE_ACT_SPOTLIGHT: return strcmp(m->spotlight, p->id) ? "Spotlight" : "Spot off";
  case ML_PEOPLE_ACT_MAKE_HOST: return "Make host";
  case ML_PEOPLE_ACT_REMOVE:
  case ML_PEOPLE_ACT_COUNT: break;
  }
  return "Remove";
}

void ml_ui_view_people(const ml_ui_view *v, const ml_layout *l, ml_people_layout *out) {
  const ml_ui_model *m = v->model;
  ml_layout_people(l->chat, v->scale, 1 + (int)m->n_peers, m->self_host ? (int)m->n_knocks : 0,
                   m->self_host, out);
}

static ml_rect chat_close_rect(const ml_ui_view *v, const ml_layout *l) {
  int s = P(v, 32);
  return (ml_rect){l->chat_header.x + l->chat_header.w - s - P(v, 8),
                   l->chat_header.y + (l->chat_header.h - s) / 2, s, s};
}

ml_ui_hit ml_ui_view_hit(const ml_ui_view *v, int x, int y) {
  ml_ui_hit h = {ML_UI_HIT_NONE, -1};
  ml_rect d, b[ML_UI_MAX_DIALOG_BUTTONS];
  int n = ml_ui_view_dialog_rects(v, &d, b);
  if (n) { /* a dialog is modal */
    for (int i = 0; i < n; i++)
      if (ml_rect_contains(b[i], x, y))
        return (ml_ui_hit){ML_UI_HIT_DIALOG_BUTTON, i};
    return h;
  }
  ml_layout l;
  ml_ui_view_layout(v, &l);
  for (int i = 0; i < ML_UI_BTN_COUNT; i++)
    if (ml_rect_contains(l.buttons[i], x, y))
      return (ml_ui_hit){ML_UI_HIT_BUTTON, i};
  for (int i = 0; i < ML_LAYOUT_MAX_BANNERS; i++)
    if (ml_rect_contains(l.banners[i], x, y))
      return (ml_ui_hit){ML_UI_HIT_BANNER, i};
  if (v->model->people_open) {
    ml_people_layout pl;
    ml_ui_view_people(v, &l, &pl);
    if (ml_rect_contains(pl.close, x, y))
      return (ml_ui_hit){ML_UI_HIT_PEOPLE_CLOSE, 0};
    if (ml_rect_contains(pl.lock, x, y))
      return (ml_ui_hit){ML_UI_HIT_PEOPLE_LOCK, 0};
    if (ml_rect_contains(pl.mute_all, x, y))
      return (ml_ui_hit){ML_UI_HIT_PEOPLE_MUTE_ALL, 0};
    if (ml_rect_contains(pl.end, x, y))
      return (ml_ui_hit){ML_UI_HIT_PEOPLE_END, 0};
    for (int i = 1; i < pl.n_rows; i++)
      for (int a = 0; a < ML_PEOPLE_ACT_COUNT; a++)
        if (ml_rect_contains(pl.acts[i][a], x, y))
          return (ml_ui_hit){ML_UI_HIT_PEOPLE_ACT, (i - 1) * ML_PEOPLE_ACT_COUNT + a};
    for (int i = 0; i < pl.n_waiting; i++) {
      if (ml_rect_contains(pl.admit[i], x, y))
        return (ml_ui_hit){ML_UI_HIT_PEOPLE_ADMIT, i};
      if (ml_rect_contains(pl.deny[i], x, y))
        return (ml_ui_hit){ML_UI_HIT_PEOPLE_DENY, i};
    }
  } else if (v->model->chat_open) {
    if (ml_rect_contains(chat_close_rect(v, &l), x, y))
      return (ml_ui_hit){ML_UI_HIT_CHAT_CLOSE, 0};
    if (ml_rect_contains(l.chat_input, x, y))
      return (ml_ui_hit){ML_UI_HIT_CHAT_INPUT, 0};
    if (ml_rect_contains(l.chat_log, x, y))
      return (ml_ui_hit){ML_UI_HIT_CHAT_LOG, 0};
  }
  for (int i = 0; i < l.n_tiles && v->model->n_peers; i++)
    if (ml_rect_contains(l.tiles[i], x, y))
      return (ml_ui_hit){ML_UI_HIT_TILE, i};
  return h;
}

const char *ml_ui_button_tooltip(const ml_ui_view *v, ml_ui_button b) {
  switch (b) {
  case ML_UI_BTN_MIC:
    return v->model->muted ? "Unmute the microphone (Ctrl+D)" : "Mute the microphone (Ctrl+D)";
  case ML_UI_BTN_CAMERA:
    return v->model->camera_on ? "Turn the camera off (Ctrl+E)" : "Turn the camera on (Ctrl+E)";
  case ML_UI_BTN_CHAT:
    return v->model->chat_open ? "Close the chat (Ctrl+T)" : "Open the chat (Ctrl+T)";
  case ML_UI_BTN_VERIFY: return "Compare security words with a participant (Ctrl+Shift+V)";
  case ML_UI_BTN_HELP: return "Keyboard shortcuts (F1)";
  case ML_UI_BTN_LEAVE: return "Leave the call (Ctrl+W or Esc)";
  default: return "";
  }
}

/* ---- parts ---- */

static void draw_banners(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, const ml_layout *l) {
  ml_ui_banner b[ML_UI_MAX_BANNERS];
  size_t n = ml_ui_model_banners(v->model, v->now_ms, b, ML_UI_MAX_BANNERS);
  for (size_t i = 0; i < n && i < ML_LAYOUT_MAX_BANNERS; i++) {
    bool warn = b[i].kind == ML_UI_BANNER_WARNING;
    ml_rgb fg = warn ? ML_COL_DARK_TEXT : ML_COL_TEXT;
    fill(r, l->banners[i], warn ? ML_COL_WARN_BG : ML_COL_INFO_BG);
    char line[ML_UI_BANNER_TEXT + 16];
    snprintf(line, sizeof line, "%s %s", warn ? "⚠" : "ℹ", b[i].text);
    int pad = P(v, 12);
    ml_ui_text_draw_fit(t, ML_FONT_BOLD, line, fg, l->banners[i].x + pad,
                        text_mid(t, ML_FONT_BOLD, l->banners[i]), l->banners[i].w - 2 * pad);
  }
}

static bool peer_video_visible(const ml_ui_peer *p, const ml_ui_video *vid) {
  if (!vid || !vid->tex)
    return false;
  if (p->media_known && (!p->media.camera_on || p->media.video_paused))
    return false;
  return true;
}

static void avatar(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, ml_rect tile,
                   const char *name, const char *caption, bool camera_off) {
  fill(r, tile, ML_COL_TILE);
  char ini[16];
  ml_ui_initials(name, ini);
  int d = tile.h / 2 < P(v, 120) ? tile.h / 2 : P(v, 120);
  ml_rect circle = {tile.x + (tile.w - d) / 2, tile.y + tile.h / 2 - d * 2 / 3, d, d};
  fill(r, circle, ML_COL_BUTTON);
  ml_ui_font f = d >= P(v, 80) ? ML_FONT_HUGE : ML_FONT_TITLE;
  text_centered(t, f, ini, ML_COL_TEXT, circle);
  if (caption) {
    int lh = ml_ui_text_line_height(t, ML_FONT_SMALL);
    ml_rect cap = {tile.x, circle.y + circle.h + P(v, 6), tile.w, lh};
    if (cap.y + cap.h < tile.y + tile.h) {
      int isz = lh;
      int w = ml_ui_text_width(t, ML_FONT_SMALL, caption, strlen(caption)) +
              (camera_off ? isz + P(v, 4) : 0);
      int x = tile.x + (tile.w - w) / 2;
      if (camera_off) {
        icon_camera(r, x, cap.y, isz, true, ML_COL_MUTED_TEXT);
        x += isz + P(v, 4);
      }
      ml_ui_text_puts(t, ML_FONT_SMALL, caption, ML_COL_MUTED_TEXT, x, cap.y);
    }
  }
}

/* The label along a tile's bottom: name, muted mark, verified mark. */
static void name_label(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, ml_rect tile,
                       const char *name, bool muted, int verified /* -1: n/a */) {
  int lh = ml_ui_text_line_height(t, ML_FONT_BOLD), pad = P(v, 6);
  int isz = lh;
  char nm[ML_CALL_MAX_NAME + 8];
  snprintf(nm, sizeof nm, "%s", name);
  int w = ml_ui_text_width(t, ML_FONT_BOLD, nm, strlen(nm));
  int mw = muted ? isz + ml_ui_text_width(t, ML_FONT_SMALL, "Muted", 5) + pad : 0;
  const char *vt = verified > 0 ? "Verified" : verified == 0 ? "Not verified" : NULL;
  int vw =
      vt ? (verified > 0 ? isz : 0) + ml_ui_text_width(t, ML_FONT_SMALL, vt, strlen(vt)) + pad : 0;
  int total = pad + w + (mw ? pad + mw : 0) + (vw ? pad + vw : 0) + pad;
  if (total > tile.w)
    total = tile.w;
  ml_rect lab = {tile.x, tile.y + tile.h - lh - 2 * pad, total, lh + 2 * pad};
  if (lab.y < tile.y)
    return;
  fill(r, lab, ML_COL_LABEL_BG);
  int x = lab.x + pad, y = lab.y + pad;
  SDL_Rect clip = {lab.x, lab.y, lab.w, lab.h};
  SDL_RenderSetClipRect(r, &clip);
  x += ml_ui_text_draw_fit(t, ML_FONT_BOLD, nm, ML_COL_TEXT, x, y, tile.w - 2 * pad) + pad;
  int sy = y + (lh - ml_ui_text_line_height(t, ML_FONT_SMALL)) / 2;
  if (muted) {
    icon_mic(r, x, y, isz, true, ML_COL_BAD);
    x += isz;
    x += ml_ui_text_puts(t, ML_FONT_SMALL, "Muted", ML_COL_BAD, x, sy) + pad;
  }
  if (vt) {
    if (verified > 0) {
      icon_check(r, x, y, isz, ML_COL_OK);
      x += isz;
    }
    ml_ui_text_puts(t, ML_FONT_SMALL, vt, verified > 0 ? ML_COL_OK : ML_COL_MUTED_TEXT, x, sy);
  }
  SDL_RenderSetClipRect(r, NULL);
}

static void quality_label(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, ml_rect tile,
                          ml_ui_quality q) {
  const char *name = ml_ui_quality_name(q);
  int lh = ml_ui_text_line_height(t, ML_FONT_SMALL), pad = P(v, 5);
  int bars = lh * 3 / 4 + lh / 2;
  int w = pad + bars + pad + ml_ui_text_width(t, ML_FONT_SMALL, name, strlen(name)) + pad;
  ml_rect lab = {tile.x + tile.w - w - P(v, 6), tile.y + P(v, 6), w, lh + 2 * pad};
  if (lab.x < tile.x || lab.h > tile.h / 3)
    return;
  fill(r, lab, ML_COL_LABEL_BG);
  ml_rgb c = q == ML_UI_QUALITY_POOR   ? ML_COL_BAD
             : q == ML_UI_QUALITY_GOOD ? ML_COL_OK
                                       : ML_COL_TEXT;
  quality_bars(r, lab.x + pad, lab.y + pad + lh / 8, lh * 3 / 4, q, c, ML_COL_MUTED_TEXT);
  ml_ui_text_puts(t, ML_FONT_SMALL, name, c, lab.x + pad + bars + pad, lab.y + pad);
}

static void draw_tiles(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, const ml_layout *l) {
  const ml_ui_model *m = v->model;
  if (!m->n_peers) { /* alone: our own picture in the one tile */
    ml_rect tile = l->tiles[0];
    if (!(m->camera_on && ml_ui_video_draw(v->self_video, r, tile)))
      avatar(r, t, v, tile, m->self_name, m->camera_on ? "Waiting for others…" : "Camera off",
             !m->camera_on);
    name_label(r, t, v, tile, m->self_name[0] ? m->self_name : "You", m->muted, -1);
    return;
  }
  for (size_t i = 0; i < m->n_peers && (int)i < l->n_tiles; i++) {
    const ml_ui_peer *p = &m->peers[i];
    ml_rect tile = l->tiles[i];
    if (peer_video_visible(p, v->video[i])) {
      ml_ui_video_draw(v->video[i], r, tile);
    } else {
      const char *cap = !p->secure                                ? "Connecting…"
                        : p->media_known && !p->media.camera_on   ? "Camera off"
                        : p->media_known && p->media.video_paused ? "Video paused: slow connection"
                                                                  : "No video yet";
      avatar(r, t, v, tile, p->name, cap, p->media_known && !p->media.camera_on);
    }
    if ((int)i == v->active && m->n_peers > 1)
      outline(r, tile, ML_COL_ACCENT, P(v, 4));
    name_label(r, t, v, tile, p->name, p->media_known && p->media.muted,
               p->secure ? (p->verified ? 1 : 0) : -1);
    if (p->have_stats)
      quality_label(r, t, v, tile, p->quality);
  }
  if (l->pip.w > 0) {
    ml_rect pip = l->pip;
    if (!(m->camera_on && ml_ui_video_draw(v->self_video, r, pip)))
      avatar(r, t, v, pip, m->self_name, m->camera_on ? NULL : "Camera off", !m->camera_on);
    outline(r, pip, ML_COL_MUTED_TEXT, P(v, 2));
    name_label(r, t, v, pip, "You", m->muted, -1); /* short: the marks must fit */
  }
}

static void draw_button(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, ml_rect b,
                        ml_ui_button which) {
  const ml_ui_model *m = v->model;
  bool pressed = (which == ML_UI_BTN_MIC && m->muted) ||
                 (which == ML_UI_BTN_CAMERA && !m->camera_on) ||
                 (which == ML_UI_BTN_CHAT && m->chat_open);
  ml_rgb bg = which == ML_UI_BTN_LEAVE ? ML_COL_ALERT_BG
              : pressed                ? ML_COL_BUTTON_ON
                                       : ML_COL_BUTTON;
  ml_rgb fg = pressed && which != ML_UI_BTN_LEAVE ? ML_COL_DARK_TEXT : ML_COL_TEXT;
  fill(r, b, bg);
  if (v->hover_button == (int)which)
    outline(r, b, ML_COL_ACCENT, P(v, 2));
  char label[32];
  switch (which) {
  case ML_UI_BTN_MIC: snprintf(label, sizeof label, "%s", m->muted ? "Unmute" : "Mute"); break;
  case ML_UI_BTN_CAMERA:
    snprintf(label, sizeof label, "%s", m->camera_on ? "Stop video" : "Start video");
    break;
  case ML_UI_BTN_CHAT:
    if (m->unread && !m->chat_open)
      snprintf(label, sizeof label, "Chat (%u new)", m->unread);
    else
      snprintf(label, sizeof label, "Chat");
    break;
  case ML_UI_BTN_VERIFY: snprintf(label, sizeof label, "Verify"); break;
  case ML_UI_BTN_HELP: snprintf(label, sizeof label, "Help"); break;
  default: snprintf(label, sizeof label, "Leave"); break;
  }
  int lh = ml_ui_text_line_height(t, ML_FONT_SMALL);
  int isz = b.h - lh - P(v, 6);
  if (isz > P(v, 28))
    isz = P(v, 28);
  int ix = b.x + (b.w - isz) / 2, iy = b.y + P(v, 3);
  switch (which) {
  case ML_UI_BTN_MIC: icon_mic(r, ix, iy, isz, m->muted, fg); break;
  case ML_UI_BTN_CAMERA: icon_camera(r, ix, iy, isz, !m->camera_on, fg); break;
  case ML_UI_BTN_CHAT: icon_chat(r, ix, iy, isz, fg); break;
  case ML_UI_BTN_VERIFY: icon_check(r, ix, iy, isz, fg); break;
  case ML_UI_BTN_HELP: icon_help(r, t, ix, iy, isz, fg); break;
  default: icon_leave(r, ix, iy, isz, fg); break;
  }
  ml_rect lab = {b.x + P(v, 2), b.y + b.h - lh - P(v, 2), b.w - P(v, 4), lh};
  text_centered(t, ML_FONT_SMALL, label, fg, lab);
  if (which == ML_UI_BTN_CHAT && m->unread && !m->chat_open) { /* a count badge too */
    char n[16];
    snprintf(n, sizeof n, "%u", m->unread > 99 ? 99 : m->unread);
    int bw = ml_ui_text_width(t, ML_FONT_SMALL, n, strlen(n)) + P(v, 10);
    ml_rect badge = {b.x + b.w - bw - P(v, 3), b.y + P(v, 3), bw, lh};
    fill(r, badge, ML_COL_WARN_BG);
    text_centered(t, ML_FONT_SMALL, n, ML_COL_DARK_TEXT, badge);
  }
}

static void draw_controls(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, const ml_layout *l) {
  fill(r, l->controls, ML_COL_PANEL);
  for (int i = 0; i < ML_UI_BTN_COUNT; i++)
    draw_button(r, t, v, l->buttons[i], (ml_ui_button)i);
  /* The call's clock, left of the buttons: elapsed, and the time left. */
  char clock[64];
  bool warn;
  ml_ui_model_clock(v->model, v->now_ms, clock, sizeof clock, &warn);
  int room = l->buttons[0].x - l->controls.x - P(v, 16);
  if (clock[0] && room > P(v, 40))
    ml_ui_text_draw_fit(t, ML_FONT_BODY, clock, warn ? ML_COL_WARN_BG : ML_COL_MUTED_TEXT,
                        l->controls.x + P(v, 12), text_mid(t, ML_FONT_BODY, l->controls), room);
}

static void draw_tooltip(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, const ml_layout *l) {
  if (!v->tooltip || v->hover_button < 0 || v->hover_button >= ML_UI_BTN_COUNT)
    return;
  const char *tip = ml_ui_button_tooltip(v, (ml_ui_button)v->hover_button);
  ml_rect b = l->buttons[v->hover_button];
  int pad = P(v, 8), lh = ml_ui_text_line_height(t, ML_FONT_BODY);
  int w = ml_ui_text_width(t, ML_FONT_BODY, tip, strlen(tip)) + 2 * pad;
  if (w > v->win_w)
    w = v->win_w;
  int x = b.x + b.w / 2 - w / 2;
  if (x + w > v->win_w)
    x = v->win_w - w;
  if (x < 0)
    x = 0;
  ml_rect box = {x, b.y - lh - 2 * pad - P(v, 6), w, lh + 2 * pad};
  fill(r, box, ML_COL_DIALOG);
  outline(r, box, ML_COL_MUTED_TEXT, 1);
  ml_ui_text_draw_fit(t, ML_FONT_BODY, tip, ML_COL_TEXT, box.x + pad, box.y + pad, w - 2 * pad);
}

typedef struct measure_ctx {
  ml_ui_text *t;
  ml_ui_font f;
} measure_ctx;

static int measure(const char *s, size_t len, void *user) {
  measure_ctx *c = user;
  return ml_ui_text_width(c->t, c->f, s, len);
}

#define WRAP_CACHE_SIZE 64

typedef struct wrap_entry {
  uint64_t serial; /* the message's number in the model (0: free) */
  int width;
  float scale;
  size_t n;
  ml_ui_line *lines;
  uint64_t used;
} wrap_entry;

struct ml_ui_wrap_cache {
  wrap_entry e[WRAP_CACHE_SIZE];
  uint64_t clock;
};

ml_ui_wrap_cache *ml_ui_wrap_cache_new(void) { return calloc(1, sizeof(ml_ui_wrap_cache)); }

void ml_ui_wrap_cache_free(ml_ui_wrap_cache *c) {
  if (!c)
    return;
  for (size_t i = 0; i < WRAP_CACHE_SIZE; i++)
    free(c->e[i].lines);
  free(c);
}

/* The lines of message i of the model at width w: from the cache, or
 * wrapped into scratch (returns the line count, at most MAX_WRAP). */
static size_t wrapped(const ml_ui_view *v, ml_ui_text *t, size_t i, int w, ml_ui_line *scratch,
                      const ml_ui_line **out) {
  const ml_ui_model *m = v->model;
  measure_ctx mc = {t, ML_FONT_BODY};
  uint64_t serial = m->chat_serial - m->n_chat + i + 1;
  ml_ui_wrap_cache *c = v->wrap_cache;
  wrap_entry *victim = NULL;
  if (c) {
    c->clock++;
    for (size_t k = 0; k < WRAP_CACHE_SIZE; k++) {
      wrap_entry *e = &c->e[k];
      if (e->serial == serial && e->width == w && e->scale == v->scale) {
        e->used = c->clock;
        *out = e->lines;
        return e->n;
      }
      if (!victim || e->used < victim->used)
        victim = e;
    }
  }
  size_t n = ml_ui_wrap(m->chat[i].text, w, measure, &mc, scratch, MAX_WRAP);
  if (n > MAX_WRAP)
    n = MAX_WRAP;
  *out = scratch;
  ml_ui_line *copy = victim ? malloc(n * sizeof *copy + 1) : NULL;
  if (copy) {
    memcpy(copy, scratch, n * sizeof *copy);
    free(victim->lines);
    *victim = (wrap_entry){serial, w, v->scale, n, copy, c->clock};
  }
  return n;
}

static const char *delivery_mark(const ml_ui_chat_msg *c) {
  switch (ml_ui_model_delivery(c)) {
  case ML_UI_DELIVERY_SENDING: return "Sending…";
  case ML_UI_DELIVERY_SENT: return "✓ Sent";
  default: return "✓✓ Delivered";
  }
}

static void draw_chat(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, const ml_layout *l) {
  const ml_ui_model *m = v->model;
  fill(r, l->chat, ML_COL_PANEL);
  fill(r, (ml_rect){l->chat.x, l->chat.y, P(v, 1), l->chat.h}, ML_COL_BUTTON);
  int pad = P(v, 10);
  ml_ui_text_puts(t, ML_FONT_TITLE, "Chat", ML_COL_TEXT, l->chat_header.x + pad,
                  text_mid(t, ML_FONT_TITLE, l->chat_header));
  ml_rect close = chat_close_rect(v, l);
  fill(r, close, ML_COL_BUTTON);
  icon_leave(r, close.x + close.w / 4, close.y + close.h / 4, close.w / 2, ML_COL_TEXT);

  /* Scrollback, newest at the bottom, drawn upwards. */
  ml_rect log = l->chat_log;
  SDL_Rect clip = {log.x, log.y, log.w, log.h};
  SDL_RenderSetClipRect(r, &clip);
  int lh = ml_ui_text_line_height(t, ML_FONT_BODY), hh = ml_ui_text_line_height(t, ML_FONT_BOLD);
  int y = log.y + log.h + v->chat_scroll;
  static ml_ui_line scratch[MAX_WRAP];
  if (!m->n_chat)
    text_centered(t, ML_FONT_SMALL, "No messages yet", ML_COL_MUTED_TEXT, log);
  for (size_t i = m->n_chat; i-- > 0 && y > log.y;) {
    const ml_ui_chat_msg *c = &m->chat[i];
    const ml_ui_line *lines;
    size_t n = wrapped(v, t, i, log.w - pad, scratch, &lines);
    int block = hh + (int)n * lh + pad;
    y -= block;
    if (y > log.y + log.h)
      continue; /* below the visible part (scrolled up) */
    int x = log.x;
    char head[ML_CALL_MAX_NAME + 32];
    snprintf(head, sizeof head, "%s%s", c->sender, c->outgoing ? " (you)" : "");
    x += ml_ui_text_draw_fit(t, ML_FONT_BOLD, head, c->outgoing ? ML_COL_ACCENT : ML_COL_TEXT, x, y,
                             log.w / 2) +
         pad;
    char tm[16];
    time_t ts = (time_t)c->wall_s;
    struct tm lt;
    localtime_r(&ts, &lt);
    strftime(tm, sizeof tm, "%H:%M", &lt);
    int sy = y + (hh - ml_ui_text_line_height(t, ML_FONT_SMALL)) / 2;
    x += ml_ui_text_puts(t, ML_FONT_SMALL, tm, ML_COL_MUTED_TEXT, x, sy) + pad;
    if (c->outgoing) {
      ml_ui_delivery d = ml_ui_model_delivery(c);
      ml_ui_text_puts(t, ML_FONT_SMALL, delivery_mark(c),
                      d == ML_UI_DELIVERY_DELIVERED ? ML_COL_OK : ML_COL_MUTED_TEXT, x, sy);
    }
    for (size_t k = 0; k < n; k++)
      ml_ui_text_draw(t, ML_FONT_BODY, c->text + lines[k].start, lines[k].len, ML_COL_TEXT, log.x,
                      y + hh + (int)k * lh);
  }
  SDL_RenderSetClipRect(r, NULL);

  /* The input line: one line, scrolled so the cursor stays visible. */
  ml_rect in = l->chat_input;
  fill(r, in, ML_COL_INPUT);
  outline(r, in, v->chat_focus ? ML_COL_ACCENT : ML_COL_MUTED_TEXT, v->chat_focus ? P(v, 2) : 1);
  int ty = text_mid(t, ML_FONT_BODY, in), tx = in.x + pad, tw = in.w - 2 * pad;
  const ml_ui_edit *e = v->input;
  if (!e || !e->len) {
    ml_ui_text_draw_fit(t, ML_FONT_BODY,
                        v->chat_focus ? "Type a message, Enter sends" : "Ctrl+T to type a message",
                        ML_COL_MUTED_TEXT, tx, ty, tw);
    if (v->chat_focus)
      fill(r, (ml_rect){tx, ty, P(v, 2), lh}, ML_COL_TEXT);
  } else {
    int cx = ml_ui_text_width(t, ML_FONT_BODY, e->buf, e->cursor);
    int off = cx > tw - P(v, 4) ? cx - (tw - P(v, 4)) : 0;
    SDL_Rect ic = {tx, in.y, tw, in.h};
    SDL_RenderSetClipRect(r, &ic);
    ml_ui_text_draw(t, ML_FONT_BODY, e->buf, e->len, ML_COL_TEXT, tx - off, ty);
    if (v->chat_focus)
      fill(r, (ml_rect){tx - off + cx, ty, P(v, 2), lh}, ML_COL_TEXT);
    SDL_RenderSetClipRect(r, NULL);
  }
}

/* ---- dialogs ---- */

static void dialog_frame(SDL_Renderer *r, const ml_ui_view *v, ml_rect d, bool alert, bool opaque) {
  SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
  SDL_SetRenderDrawColor(r, 0, 0, 0, opaque ? 255 : 170);
  SDL_Rect all = {0, 0, v->win_w, v->win_h};
  SDL_RenderFillRect(r, &all);
  SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
  fill(r, d, alert ? ML_COL_ALERT_BG : ML_COL_DIALOG);
  outline(r, d, alert ? ML_COL_WARN_BG : ML_COL_ACCENT, P(v, alert ? 4 : 2));
}

static void dialog_button(SDL_Renderer *r, ml_ui_text *t, ml_rect b, const char *label,
                          bool primary) {
  fill(r, b, primary ? ML_COL_BUTTON_ON : ML_COL_BUTTON);
  text_centered(t, ML_FONT_BOLD, label, primary ? ML_COL_DARK_TEXT : ML_COL_TEXT, b);
}

/* Wrapped paragraph; returns the y below it. */
static int para(ml_ui_text *t, ml_ui_font f, const char *s, ml_rgb c, int x, int y, int w,
                bool center) {
  measure_ctx mc = {t, f};
  ml_ui_line lines[32];
  size_t n = ml_ui_wrap(s, w, measure, &mc, lines, 32);
  if (n > 32)
    n = 32;
  int lh = ml_ui_text_line_height(t, f);
  for (size_t k = 0; k < n; k++) {
    int lw = center ? ml_ui_text_width(t, f, s + lines[k].start, lines[k].len) : 0;
    ml_ui_text_draw(t, f, s + lines[k].start, lines[k].len, c, center ? x + (w - lw) / 2 : x, y);
    y += lh;
  }
  return y;
}

static void draw_verify(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, ml_rect d,
                        const ml_rect *b) {
  const ml_ui_model *m = v->model;
  size_t idx = v->verify_peer < m->n_peers ? v->verify_peer : 0;
  const ml_ui_peer *p = &m->peers[idx];
  int pad = P(v, 20), x = d.x + pad, w = d.w - 2 * pad, y = d.y + pad;
  char s[256];
  snprintf(s, sizeof s, "Verify %s", p->name);
  ml_ui_text_draw_fit(t, ML_FONT_TITLE, s, ML_COL_TEXT, x, y, w);
  if (m->n_peers > 1) {
    snprintf(s, sizeof s, "%zu of %zu (Tab: next)", idx + 1, m->n_peers);
    int sw = ml_ui_text_width(t, ML_FONT_SMALL, s, strlen(s));
    ml_ui_text_puts(t, ML_FONT_SMALL, s, ML_COL_MUTED_TEXT, d.x + d.w - pad - sw, y);
  }
  y += ml_ui_text_line_height(t, ML_FONT_TITLE) + P(v, 8);
  if (!p->secure) {
    para(t, ML_FONT_BODY,
         "Not connected securely yet: the words appear once the encrypted "
         "connection is up.",
         ML_COL_TEXT, x, y, w, false);
  } else {
    snprintf(s, sizeof s, "Read these words aloud to %s. They must say the same words:", p->name);
    y = para(t, ML_FONT_BODY, s, ML_COL_TEXT, x, y, w, false) + P(v, 10);
    y = para(t, ML_FONT_LARGE, p->sas, ML_COL_ACCENT, x, y, w, true) + P(v, 12);
    y = para(t, ML_FONT_SMALL, "Or compare the safety number:", ML_COL_MUTED_TEXT, x, y, w, false) +
        P(v, 4);
    /* The 12 groups of the safety number in rows of four, as people read them. */
    char sn[ML_SAFETY_NUMBER_TEXT_LEN + 4];
    size_t k = 0;
    int groups = 0;
    for (const char *c = p->safety_number; *c && k + 2 < sizeof sn; c++) {
      bool sep = *c == ' ';
      if (sep && ++groups % 4 == 0)
        sn[k++] = '\n';
      else
        sn[k++] = *c;
    }
    sn[k] = '\0';
    y = para(t, ML_FONT_MONO, sn, ML_COL_TEXT, x, y, w, true) + P(v, 12);
    if (p->verified) {
      int lh = ml_ui_text_line_height(t, ML_FONT_BOLD);
      icon_check(r, x, y, lh, ML_COL_OK);
      ml_ui_text_puts(t, ML_FONT_BOLD, "Verified: you compared them", ML_COL_OK, x + lh + P(v, 4),
                      y);
    } else {
      para(t, ML_FONT_BODY,
           "Not verified yet. If the words differ, someone may be listening in: "
           "leave the call.",
           ML_COL_TEXT, x, y, w, false);
    }
  }
  dialog_button(r, t, b[0], p->verified ? "Compared ✓" : "We compared them (Enter)",
                p->secure && !p->verified);
  dialog_button(r, t, b[1], "Close (Esc)", false);
}

static void draw_identity(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, ml_rect d,
                          const ml_rect *b) {
  const ml_ui_peer *p = ml_ui_model_identity_alert(v->model);
  int pad = P(v, 20), x = d.x + pad, w = d.w - 2 * pad, y = d.y + pad;
  char s[400];
  snprintf(s, sizeof s, "⚠ Security warning: %s's identity has changed", p->name);
  y = para(t, ML_FONT_TITLE, s, ML_COL_TEXT, x, y, w, false) + P(v, 8);
  snprintf(s, sizeof s,
           "The key %s uses now is not the one you saw in earlier calls. They may have a new "
           "device, or someone may be intercepting the call. Compare the security words with "
           "them (by phone or in person) before you go on.",
           p->name);
  y = para(t, ML_FONT_BODY, s, ML_COL_TEXT, x, y, w, false) + P(v, 8);
  snprintf(s, sizeof s, "Before: %s", p->old_fingerprint);
  y = para(t, ML_FONT_MONO, s, ML_COL_TEXT, x, y, w, false);
  snprintf(s, sizeof s, "Now:    %s", p->fingerprint);
  para(t, ML_FONT_MONO, s, ML_COL_TEXT, x, y, w, false);
  dialog_button(r, t, b[0], "Compare the words (Enter)", true);
  dialog_button(r, t, b[1], "Leave the call", false);
}

static void draw_help(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, ml_rect d,
                      const ml_rect *b) {
  int pad = P(v, 20), x = d.x + pad, y = d.y + pad;
  ml_ui_text_puts(t, ML_FONT_TITLE, "Keyboard shortcuts", ML_COL_TEXT, x, y);
  y += ml_ui_text_line_height(t, ML_FONT_TITLE) + P(v, 10);
  size_t n;
  const ml_ui_shortcut *sc = ml_ui_shortcuts(&n);
  int col = P(v, 200), lh = ml_ui_text_line_height(t, ML_FONT_BODY) + P(v, 4);
  for (size_t i = 0; i < n && y + lh < b[0].y; i++, y += lh) {
    ml_ui_text_draw_fit(t, ML_FONT_BOLD, sc[i].keys, ML_COL_ACCENT, x, y, col - P(v, 8));
    ml_ui_text_draw_fit(t, ML_FONT_BODY, sc[i].what, ML_COL_TEXT, x + col, y, d.w - 2 * pad - col);
  }
  dialog_button(r, t, b[0], "Close (Esc)", true);
}

static void draw_leave(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, ml_rect d,
                       const ml_rect *b) {
  int pad = P(v, 20), x = d.x + pad, y = d.y + pad;
  ml_ui_text_puts(t, ML_FONT_TITLE, v->leaving ? "Leaving…" : "Leave the call?", ML_COL_TEXT, x, y);
  y += ml_ui_text_line_height(t, ML_FONT_TITLE) + P(v, 8);
  para(t, ML_FONT_BODY, "You can join again with the same room code.", ML_COL_MUTED_TEXT, x, y,
       d.w - 2 * pad, false);
  dialog_button(r, t, b[0], "Leave (Enter)", true);
  dialog_button(r, t, b[1], "Stay (Esc)", false);
}

/* One member's row: name (badges), then its state in small text. */
static void people_row(ml_ui_text *t, const ml_ui_view *v, ml_rect row, const char *name, bool self,
                       bool host, unsigned hand, bool spot, const char *state, bool warn) {
  int pad = P(v, 6), x = row.x + pad, y = row.y + pad;
  char head[ML_CALL_MAX_NAME + 64];
  snprintf(head, sizeof head, "%s%s", name, self ? " (you)" : "");
  x += ml_ui_text_draw_fit(t, ML_FONT_BOLD, head, ML_COL_TEXT, x, y, row.w / 2) + pad;
  if (host)
    x += ml_ui_text_puts(t, ML_FONT_SMALL, "HOST", ML_COL_ACCENT, x, y) + pad;
  if (hand) {
    char h[32];
    snprintf(h, sizeof h, "Hand #%u", hand);
    x += ml_ui_text_puts(t, ML_FONT_SMALL, h, ML_COL_WARN_BG, x, y) + pad;
  }
  if (spot)
    ml_ui_text_puts(t, ML_FONT_SMALL, "Spotlight", ML_COL_OK, x, y);
  ml_ui_text_draw_fit(t, ML_FONT_SMALL, state, warn ? ML_COL_BAD : ML_COL_MUTED_TEXT, row.x + pad,
                      y + ml_ui_text_line_height(t, ML_FONT_BOLD), row.w - 2 * pad);
}

static void draw_people(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v, const ml_layout *l) {
  const ml_ui_model *m = v->model;
  ml_people_layout pl;
  ml_ui_view_people(v, l, &pl);
  fill(r, l->chat, ML_COL_PANEL);
  fill(r, (ml_rect){l->chat.x, l->chat.y, P(v, 1), l->chat.h}, ML_COL_BUTTON);
  char title[64];
  snprintf(title, sizeof title, "People (%zu)%s", m->n_peers + 1, m->locked ? " · locked" : "");
  ml_ui_text_puts(t, ML_FONT_TITLE, title, ML_COL_TEXT, pl.header.x + P(v, 10),
                  text_mid(t, ML_FONT_TITLE, pl.header));
  fill(r, pl.close, ML_COL_BUTTON);
  icon_leave(r, pl.close.x + pl.close.w / 4, pl.close.y + pl.close.h / 4, pl.close.w / 2,
             ML_COL_TEXT);
  for (int i = 0; i < pl.n_rows; i++) {
    char state[160];
    if (i == 0) {
      snprintf(state, sizeof state, "%s, camera %s%s", m->muted ? "muted" : "microphone on",
               m->camera_on ? "on" : "off", m->muted_by_host ? " (muted by the host)" : "");
      people_row(t, v, pl.rows[0], m->self_name, true, m->self_host,
                 ml_ui_model_hand_place(m, true, 0),
                 m->spotlight[0] && !strcmp(m->spotlight, m->self_id), state, false);
      continue;
    }
    const ml_ui_peer *p = &m->peers[i - 1];
    snprintf(state, sizeof state, "%s, camera %s, %s, connection %s",
             !p->media_known  ? "microphone ?"
             : p->media.muted ? "muted"
                              : "microphone on",
             p->media_known && p->media.camera_on ? "on" : "off",
             p->verified ? "verified"
             : p->secure ? "not verified"
                         : "connecting",
             ml_ui_quality_name(p->quality));
    people_row(
        t, v, pl.rows[i], p->name, false, p->host, ml_ui_model_hand_place(m, false, (size_t)i - 1),
        m->spotlight[0] && !strcmp(m->spotlight, p->id), state, p->quality == ML_UI_QUALITY_POOR);
  }
  if (pl.lock.w) {
    fill(r, pl.lock, ML_COL_BUTTON);
    text_centered(t, ML_FONT_SMALL, m->locked ? "Unlock" : "Lock", ML_COL_TEXT, pl.lock);
    fill(r, pl.mute_all, ML_COL_BUTTON);
    text_centered(t, ML_FONT_SMALL, "Mute all", ML_COL_TEXT, pl.mute_all);
    bool armed = v->now_ms < v->end_armed_until_ms;
    fill(r, pl.end, armed ? ML_COL_BAD : ML_COL_BUTTON);
    text_centered(t, ML_FONT_SMALL, armed ? "Really end?" : "End for all",
                  armed ? ML_COL_DARK_TEXT : ML_COL_TEXT, pl.end);
  }
  for (int i = 1; i < pl.n_rows; i++) {
    const ml_ui_peer *p = &m->peers[i - 1];
    for (int a = 0; a < ML_PEOPLE_ACT_COUNT && pl.acts[i][a].w; a++) {
      fill(r, pl.acts[i][a], ML_COL_BUTTON);
      text_centered(t, ML_FONT_SMALL, ml_ui_people_act_label((ml_people_act)a, m, p), ML_COL_TEXT,
                    pl.acts[i][a]);
    }
  }
  if (pl.waiting_header.h) {
    ml_ui_text_puts(t, ML_FONT_BOLD, "Waiting to join", ML_COL_TEXT, pl.waiting_header.x + P(v, 6),
                    text_mid(t, ML_FONT_BOLD, pl.waiting_header));
    for (int i = 0; i < pl.n_waiting; i++) {
      ml_rect row = pl.waiting[i];
      int nw = pl.admit[i].w ? pl.admit[i].x - row.x - P(v, 12) : row.w - P(v, 12);
      ml_ui_text_draw_fit(t, ML_FONT_BODY, m->knocks[i].name, ML_COL_TEXT, row.x + P(v, 6),
                          text_mid(t, ML_FONT_BODY, row), nw);
      if (pl.admit[i].w) {
        fill(r, pl.admit[i], ML_COL_OK);
        text_centered(t, ML_FONT_SMALL, "Admit", ML_COL_DARK_TEXT, pl.admit[i]);
        fill(r, pl.deny[i], ML_COL_BUTTON);
        text_centered(t, ML_FONT_SMALL, "Deny", ML_COL_TEXT, pl.deny[i]);
      }
    }
  }
}

void ml_ui_render(SDL_Renderer *r, ml_ui_text *t, const ml_ui_view *v) {
  ml_layout l;
  ml_ui_view_layout(v, &l);
  SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
  color(r, ML_COL_BG);
  SDL_RenderClear(r);
  draw_tiles(r, t, v, &l);
  draw_banners(r, t, v, &l);
  if (v->model->people_open)
    draw_people(r, t, v, &l);
  else if (v->model->chat_open)
    draw_chat(r, t, v, &l);
  draw_controls(r, t, v, &l);
  ml_rect d, b[ML_UI_MAX_DIALOG_BUTTONS];
  int n = ml_ui_view_dialog_rects(v, &d, b);
  switch (n ? ml_ui_view_dialog(v) : ML_UI_DIALOG_NONE) {
  case ML_UI_DIALOG_NONE: draw_tooltip(r, t, v, &l); break;
  case ML_UI_DIALOG_LEAVE:
    dialog_frame(r, v, d, false, false);
    draw_leave(r, t, v, d, b);
    break;
  case ML_UI_DIALOG_VERIFY:
    dialog_frame(r, v, d, false, ml_ui_model_identity_alert(v->model) != NULL);
    draw_verify(r, t, v, d, b);
    break;
  case ML_UI_DIALOG_HELP:
    dialog_frame(r, v, d, false, false);
    draw_help(r, t, v, d, b);
    break;
  case ML_UI_DIALOG_IDENTITY: /* blocking: the call is hidden until this is settled */
    dialog_frame(r, v, d, true, true);
    draw_identity(r, t, v, d, b);
    break;
  }
}
