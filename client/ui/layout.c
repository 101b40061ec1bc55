/* mentorlink UI — layout (see layout.h). */
#include "layout.h"

#include <string.h>

#include <math.h>

#define BANNER_H 34
#define CONTROLS_H 68
#define CHAT_W 340
#define GAP 8
#define BUTTON_W 104
#define BUTTON_H 56
#define PIP_MIN_W 160
#define PIP_MAX_W 320
#define PIP_MARGIN 12
#define CHAT_HEADER_H 44
#define CHAT_INPUT_H 52
#define ACTIVE_SHARE 0.7

int ml_layout_px(float scale, int logical) {
  if (!(scale >= 1.0f))
    scale = 1.0f;
  return (int)lroundf((float)logical * scale);
}

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

static ml_rect rect(int x, int y, int w, int h) {
  ml_rect r = {x, y, imax(0, w), imax(0, h)};
  return r;
}

/* n tiles of 16:9 in area, as large as possible, the grid centred; returns
 * the tile width. */
static int grid(ml_rect area, int n, int gap, ml_rect *out) {
  if (n <= 0)
    return 0;
  int best_w = -1, best_cols = 1;
  for (int cols = 1; cols <= n; cols++) {
    int rows = imax(1, (n - 1) / cols + 1);
    int cw = (area.w - gap * (cols - 1)) / cols;
    int ch = (area.h - gap * (rows - 1)) / rows;
    int tw = imin(cw, ch * ML_LAYOUT_ASPECT_W / ML_LAYOUT_ASPECT_H);
    if (tw > best_w) {
      best_w = tw;
      best_cols = cols;
    }
  }
  int tw = imax(0, best_w), th = tw * ML_LAYOUT_ASPECT_H / ML_LAYOUT_ASPECT_W;
  int cols = best_cols, rows = (n + cols - 1) / cols;
  int total_h = rows * th + (rows - 1) * gap;
  int y0 = area.y + imax(0, (area.h - total_h) / 2);
  for (int i = 0; i < n; i++) {
    int row = i / cols, col = i % cols;
    int in_row = row == rows - 1 ? n - row * cols : cols; /* the last row is centred */
    int row_w = in_row * tw + (in_row - 1) * gap;
    int x0 = area.x + imax(0, (area.w - row_w) / 2);
    out[i] = rect(x0 + col * (tw + gap), y0 + row * (th + gap), tw, th);
  }
  return tw;
}

static void place_tiles(const ml_layout_input *in, ml_layout *o, int gap) {
  int n = o->n_tiles;
  ml_rect area = o->stage;
  if (n > 2 && in->active >= 0 && in->active < n) {
    ml_rect main_area, side;
    if (area.w >= area.h) {
      int mw = (int)(area.w * ACTIVE_SHARE) - gap / 2;
      main_area = rect(area.x, area.y, mw, area.h);
      side = rect(area.x + mw + gap, area.y, area.w - mw - gap, area.h);
    } else {
      int mh = (int)(area.h * ACTIVE_SHARE) - gap / 2;
      main_area = rect(area.x, area.y, area.w, mh);
      side = rect(area.x, area.y + mh + gap, area.w, area.h - mh - gap);
    }
    ml_rect others[ML_LAYOUT_MAX_TILES];
    int small = grid(side, n - 1, gap, others);
    /* Only while the others stay usable; else everyone shares the grid. */
    if (small >= ml_layout_px(in->scale, ML_LAYOUT_MIN_TILE_W)) {
      grid(main_area, 1, gap, &o->tiles[in->active]);
      for (int i = 0, k = 0; i < n; i++)
        if (i != in->active)
          o->tiles[i] = others[k++];
      return;
    }
  }
  grid(area, n, gap, o->tiles);
}

void ml_layout_compute(const ml_layout_input *in, ml_layout *o) {
  *o = (ml_layout){0};
  float s = in->scale >= 1.0f ? in->scale : 1.0f;
  int W = imax(0, in->win_w), H = imax(0, in->win_h);
  int gap = ml_layout_px(s, GAP);
  int nb = imax(0, imin(in->n_banners, ML_LAYOUT_MAX_BANNERS));
  int bh = ml_layout_px(s, BANNER_H);
  int ch = imin(ml_layout_px(s, CONTROLS_H), H / 3);
  o->controls = rect(0, H - ch, W, ch);
  int top = imin(nb * bh, imax(0, o->controls.y - bh));
  bh = nb ? top / nb : 0;
  for (int i = 0; i < nb; i++)
    o->banners[i] = rect(0, i * bh, W, bh);
  int body_h = o->controls.y - top;

  int cw = 0;
  if (in->chat_open) {
    cw = imin(ml_layout_px(s, CHAT_W), W * 2 / 5);
    o->chat = rect(W - cw, top, cw, body_h);
    int hh = imin(ml_layout_px(s, CHAT_HEADER_H), body_h / 3);
    int ih = imin(ml_layout_px(s, CHAT_INPUT_H), body_h / 3);
    o->chat_header = rect(o->chat.x, top, cw, hh);
    o->chat_input = rect(o->chat.x + gap, top + body_h - ih, cw - 2 * gap, ih - gap);
    o->chat_log = rect(o->chat.x + gap, top + hh, cw - 2 * gap, body_h - hh - ih - gap);
  }
  o->stage = rect(gap, top + gap, W - cw - 2 * gap, body_h - 2 * gap);

  o->n_tiles = imax(0, imin(in->n_tiles, ML_LAYOUT_MAX_TILES));
  place_tiles(in, o, gap);

  if (in->pip && o->n_tiles > 0) {
    int pw = imax(ml_layout_px(s, PIP_MIN_W), o->stage.w / 5);
    pw = imin(imin(pw, ml_layout_px(s, PIP_MAX_W)), o->stage.w / 3);
    int ph = pw * ML_LAYOUT_ASPECT_H / ML_LAYOUT_ASPECT_W;
    int m = ml_layout_px(s, PIP_MARGIN);
    o->pip = rect(o->stage.x + o->stage.w - pw - m, o->stage.y + o->stage.h - ph - m, pw, ph);
    if (o->pip.w <= 0 || o->pip.h <= 0 || o->pip.y < o->stage.y)
      o->pip = rect(0, 0, 0, 0);
  }

  int n = imax(0, imin(in->n_buttons, ML_LAYOUT_MAX_BUTTONS));
  if (n) {
    int bw = ml_layout_px(s, BUTTON_W);
    int bhh = imin(ml_layout_px(s, BUTTON_H), ch - 2 * ml_layout_px(s, 4));
    bw = imin(bw, (W - gap * (n + 1)) / n);
    int total = n * bw + (n - 1) * gap;
    int x0 = (W - total) / 2, y0 = o->controls.y + (ch - bhh) / 2;
    for (int i = 0; i < n; i++)
      o->buttons[i] = rect(x0 + i * (bw + gap), y0, bw, bhh);
  }
}

ml_rect ml_layout_fit(ml_rect box, int src_w, int src_h) {
  if (src_w <= 0 || src_h <= 0 || box.w <= 0 || box.h <= 0)
    return box;
  /* 64-bit: a 4K box times a 4K frame overflows int. */
  long long w = box.w, h = (long long)box.w * src_h / src_w;
  if (h > box.h) {
    h = box.h;
    w = (long long)box.h * src_w / src_h;
  }
  return rect(box.x + (box.w - (int)w) / 2, box.y + (box.h - (int)h) / 2, (int)w, (int)h);
}

ml_rect ml_layout_dialog(int win_w, int win_h, float scale, int w, int h) {
  int m = ml_layout_px(scale, 16);
  int dw = imin(ml_layout_px(scale, w), win_w - 2 * m);
  int dh = imin(ml_layout_px(scale, h), win_h - 2 * m);
  return rect((win_w - dw) / 2, (win_h - dh) / 2, dw, dh);
}

void ml_layout_dialog_buttons(ml_rect d, float scale, int n, ml_rect *out) {
  if (n <= 0)
    return;
  int gap = ml_layout_px(scale, 12), bh = ml_layout_px(scale, 44);
  int bw = imin(ml_layout_px(scale, 260), (d.w - gap * (n + 1)) / n);
  int total = n * bw + (n - 1) * gap;
  int x0 = d.x + (d.w - total) / 2, y0 = d.y + d.h - bh - gap;
  for (int i = 0; i < n; i++)
    out[i] = rect(x0 + i * (bw + gap), y0, bw, bh);
}

void ml_layout_people(ml_rect panel, float scale, int n_members, int n_waiting, bool host,
                      ml_people_layout *out) {
  memset(out, 0, sizeof *out);
  int gap = ml_layout_px(scale, 8), hh = ml_layout_px(scale, 48), rh = ml_layout_px(scale, 46);
  int wh = ml_layout_px(scale, 30), bw = ml_layout_px(scale, 72), bh = ml_layout_px(scale, 30);
  int cs = ml_layout_px(scale, 32), ah = ml_layout_px(scale, 26), ag = ml_layout_px(scale, 4);
  if (panel.w <= 2 * gap || panel.h <= hh)
    return;
  out->header = rect(panel.x, panel.y, panel.w, hh);
  out->close = rect(panel.x + panel.w - cs - gap, panel.y + (hh - cs) / 2, cs, cs);
  int y = panel.y + hh, bottom = panel.y + panel.h, x = panel.x + gap, w = panel.w - 2 * gap;
  n_members = imin(imax(n_members, 0), ML_LAYOUT_MAX_PEOPLE);
  n_waiting = imin(imax(n_waiting, 0), ML_LAYOUT_MAX_PEOPLE);
  /* A host's buttons: room actions of bw; member actions share the row's
   * width by the length of their labels (ml_ui_people_act_label). */
  static const int weight[ML_PEOPLE_ACT_COUNT] = {7, 14, 11, 12, 10};
  int inner = w - (ML_PEOPLE_ACT_COUNT - 1) * ag, total = 0;
  for (int a = 0; a < ML_PEOPLE_ACT_COUNT; a++)
    total += weight[a];
  bool acts = host && inner * weight[0] / total >= ml_layout_px(scale, 36);
  if (host && w >= 3 * bw + 2 * gap && y + bh + gap <= bottom) {
    out->lock = rect(x, y, bw, bh);
    out->mute_all = rect(x + bw + gap, y, bw, bh);
    out->end = rect(x + 2 * (bw + gap), y, bw, bh);
    y += bh + gap;
  }
  for (int i = 0; i < n_members; i++) {
    bool with_acts = acts && i > 0;
    int h = with_acts ? rh + ah + ag : rh;
    if (y + h > bottom)
      break;
    int k = out->n_rows++;
    out->rows[k] = rect(x, y, w, h);
    for (int a = 0, ax = x; with_acts && a < ML_PEOPLE_ACT_COUNT; a++) {
      int aw = inner * weight[a] / total;
      out->acts[k][a] = rect(ax, y + rh, aw, ah);
      ax += aw + ag;
    }
    y += h;
  }
  if (n_waiting == 0 || y + wh + rh > bottom)
    return;
  out->waiting_header = rect(x, y, w, wh);
  y += wh;
  bool buttons = w >= 2 * bw + 3 * gap + ml_layout_px(scale, 40); /* room for a name too */
  for (int i = 0; i < n_waiting && y + rh <= bottom; i++, y += rh) {
    int k = out->n_waiting++;
    out->waiting[k] = rect(x, y, w, rh);
    if (buttons) {
      int by = y + (rh - bh) / 2;
      out->deny[k] = rect(x + w - bw - gap, by, bw, bh);
      out->admit[k] = rect(x + w - 2 * bw - 2 * gap, by, bw, bh);
    }
  }
}

bool ml_rect_contains(ml_rect r, int x, int y) {
  return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

bool ml_rect_overlaps(ml_rect a, ml_rect b) {
  return a.w > 0 && a.h > 0 && b.w > 0 && b.h > 0 && a.x < b.x + b.w && b.x < a.x + a.w &&
         a.y < b.y + b.h && b.y < a.y + a.h;
}

bool ml_rect_inside(ml_rect a, ml_rect b) {
  return a.x >= b.x && a.y >= b.y && a.x + a.w <= b.x + b.w && a.y + a.h <= b.y + b.h;
}
