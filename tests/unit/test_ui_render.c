/* The window's renderer (client/ui/render.c) drawing into SDL's software
 * renderer, checked by pixels: a synthetic I420 colour-bar frame shows as
 * the bars in the remote tile (aspect kept), names, marks, chat text, the
 * unread count and the SAS words appear as DejaVu glyphs, camera-off shows
 * the initials, the identity alert hides the call, and HiDPI doubles the
 * text. No display needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "render.h"
#include "ui_pixels.h"
#include "ui_event.h"

#define VW 640
#define VH 360

typedef struct fixture {
  SDL_Surface *surf;
  SDL_Renderer *ren;
  ml_ui_text *text;
  ml_ui_model model;
  ml_ui_video vid;
  ml_ui_view view;
  ml_ui_edit input;
  float scale;
} fixture;

static SDL_Color col(ml_rgb c) { return (SDL_Color){c.r, c.g, c.b, 255}; }

static void apply(fixture *f, ml_call_event e) { ml_ui_model_apply(&f->model, &e, 0, 1700000000); }

static fixture *make(int w, int h, float scale) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->scale = scale;
  f->surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
  assert_non_null(f->surf);
  f->ren = SDL_CreateSoftwareRenderer(f->surf);
  assert_non_null(f->ren);
  char err[256];
  assert_int_equal(ml_ui_text_new(&f->text, f->ren, NULL, scale, err, sizeof err), 0);
  ml_ui_model_init(&f->model, "Dr. Mentor");
  ml_call_event s = ml_test_event_of(ML_CALL_EV_SIGNALING, NULL, NULL);
  s.state = 3; /* joined */
  apply(f, s);
  apply(f, ml_test_event_of(ML_CALL_EV_JOINED, "self", "Dr. Mentor"));
  apply(f, ml_test_event_of(ML_CALL_EV_PEER_JOINED, "p1", "Sam Mentee"));
  ml_call_event v = ml_test_event_of(ML_CALL_EV_VERIFIED, "p1", "Sam Mentee");
  snprintf(v.sas, sizeof v.sas, "tactics retraction sawdust amulet");
  snprintf(v.safety_number, sizeof v.safety_number, "12345 67890 12345 67890");
  apply(f, v);
  ml_call_event st = ml_test_event_of(ML_CALL_EV_STATS, "p1", "Sam Mentee");
  st.stats.rtt_ms = 30;
  apply(f, st);

  /* Our own colour bars, as a decoder would hand them over (stride > width). */
  int sy = VW + 32, sc = VW / 2 + 16;
  unsigned char *y = malloc((size_t)sy * VH), *u = malloc((size_t)sc * VH / 2),
                *vv = malloc((size_t)sc * VH / 2);
  ml_px_make_bars(VW, VH, y, sy, u, sc, vv, sc);
  const uint8_t *planes[3] = {y, u, vv};
  int strides[3] = {sy, sc, sc};
  assert_int_equal(ml_ui_video_upload(&f->vid, f->ren, VW, VH, planes, strides, 1), 0);
  free(y);
  free(u);
  free(vv);

  f->view = (ml_ui_view){.model = &f->model,
                         .win_w = w,
                         .win_h = h,
                         .scale = scale,
                         .active = -1,
                         .hover_button = -1,
                         .input = &f->input};
  f->view.video[0] = &f->vid;
  ml_ui_edit_clear(&f->input);
  return f;
}

static void draw(fixture *f) {
  ml_ui_render(f->ren, f->text, &f->view);
  SDL_RenderPresent(f->ren);
}

static void destroy(fixture *f) {
  ml_ui_video_reset(&f->vid);
  ml_ui_text_free(f->text);
  SDL_DestroyRenderer(f->ren);
  SDL_FreeSurface(f->surf);
  ml_ui_model_clear(&f->model);
  free(f);
}

static ml_rect tile0(fixture *f) {
  ml_layout l;
  ml_ui_view_layout(&f->view, &l);
  return l.tiles[0];
}

static SDL_Rect sdl(ml_rect r) { return (SDL_Rect){r.x, r.y, r.w, r.h}; }

/* The label strip along the bottom of a tile. */
static SDL_Rect label_region(fixture *f, ml_rect t) {
  int h = ml_layout_px(f->scale, 44);
  return (SDL_Rect){t.x, t.y + t.h - h, t.w, h};
}

static bool bars_in(fixture *f, ml_rect box, int tol) {
  ml_rect fit = ml_layout_fit(box, VW, VH);
  for (int i = 0; i < 7; i++) {
    int x = fit.x + (2 * i + 1) * fit.w / 14, y = fit.y + fit.h / 3;
    SDL_Color c = ml_px_get(f->surf, x, y);
    if (!ml_px_near(c, ml_px_bars[i].r, ml_px_bars[i].g, ml_px_bars[i].b, tol)) {
      printf("  bar %d at (%d,%d): %d,%d,%d, want %d,%d,%d\n", i, x, y, c.r, c.g, c.b,
             ml_px_bars[i].r, ml_px_bars[i].g, ml_px_bars[i].b);
      return false;
    }
  }
  return true;
}

static void test_remote_tile_shows_bars_and_name(void **state) {
  (void)state;
  fixture *f = make(1280, 720, 1);
  draw(f);
  ml_rect t = tile0(f);
  assert_true(bars_in(f, t, 8));
  /* Video is 16:9 like the tile: no bars of background inside it. */
  ml_rect fit = ml_layout_fit(t, VW, VH);
  assert_true(fit.w >= t.w - 1 && fit.h >= t.h - 1);
  assert_true(ml_px_find_text(f->surf, label_region(f, t), ML_PX_BOLD, 1, "Sam Mentee",
                              col(ML_COL_TEXT), col(ML_COL_LABEL_BG), NULL));
  assert_true(ml_px_find_text(f->surf, label_region(f, t), ML_PX_SMALL, 1, "Not verified",
                              col(ML_COL_MUTED_TEXT), col(ML_COL_LABEL_BG), NULL));
  SDL_Rect top = {t.x + t.w / 2, t.y, t.w / 2, ml_layout_px(1, 40)};
  assert_true(ml_px_find_text(f->surf, top, ML_PX_SMALL, 1, "Good", col(ML_COL_OK),
                              col(ML_COL_LABEL_BG), NULL));
  /* A string that is not there is not found. */
  assert_false(ml_px_find_text(f->surf, label_region(f, t), ML_PX_BOLD, 1, "Dr. Mentor",
                               col(ML_COL_TEXT), col(ML_COL_LABEL_BG), NULL));
  destroy(f);
}

static void test_odd_window_keeps_aspect(void **state) {
  (void)state;
  fixture *f = make(1001, 733, 1); /* stage taller than 16:9 */
  draw(f);
  ml_rect t = tile0(f);
  assert_true(bars_in(f, t, 8));
  /* Above and below the tile: the window's background, not video. */
  SDL_Color above = ml_px_get(f->surf, t.x + t.w / 2, t.y - 2);
  assert_false(ml_px_near(above, 191, 191, 0, 30));
  destroy(f);
}

static void test_muted_mark(void **state) {
  (void)state;
  fixture *f = make(1280, 720, 1);
  draw(f);
  ml_rect t = tile0(f);
  assert_false(ml_px_find_text(f->surf, label_region(f, t), ML_PX_SMALL, 1, "Muted",
                               col(ML_COL_BAD), col(ML_COL_LABEL_BG), NULL));
  ml_call_event m = ml_test_event_of(ML_CALL_EV_PEER_MEDIA, "p1", "Sam Mentee");
  m.media.muted = true;
  m.media.camera_on = true;
  apply(f, m);
  draw(f);
  assert_true(ml_px_find_text(f->surf, label_region(f, t), ML_PX_SMALL, 1, "Muted", col(ML_COL_BAD),
                              col(ML_COL_LABEL_BG), NULL));
  destroy(f);
}

static void test_camera_off_shows_initials(void **state) {
  (void)state;
  fixture *f = make(1280, 720, 1);
  ml_call_event m = ml_test_event_of(ML_CALL_EV_PEER_MEDIA, "p1", "Sam Mentee");
  m.media.camera_on = false;
  apply(f, m);
  draw(f);
  ml_rect t = tile0(f);
  assert_false(bars_in(f, t, 30));
  assert_true(ml_px_find_text(f->surf, sdl(t), ML_PX_HUGE, 1, "SM", col(ML_COL_TEXT),
                              col(ML_COL_BUTTON), NULL));
  assert_true(ml_px_find_text(f->surf, sdl(t), ML_PX_SMALL, 1, "Camera off", col(ML_COL_MUTED_TEXT),
                              col(ML_COL_TILE), NULL));
  destroy(f);
}

static void test_chat_panel_and_unread(void **state) {
  (void)state;
  fixture *f = make(1280, 720, 1);
  char text[] = "Vitals stable, proceed";
  ml_call_event c = ml_test_event_of(ML_CALL_EV_CHAT, "p1", "Sam Mentee");
  c.text = text;
  apply(f, c);
  apply(f, c);
  apply(f, c);
  draw(f);
  ml_layout l;
  ml_ui_view_layout(&f->view, &l);
  assert_true(ml_px_find_text(f->surf, sdl(l.controls), ML_PX_SMALL, 1, "Chat (3 new)",
                              col(ML_COL_TEXT), col(ML_COL_BUTTON), NULL));
  ml_ui_model_set_chat_open(&f->model, true);
  f->view.chat_focus = true;
  ml_ui_edit_insert(&f->input, "typing ✓");
  f->view.wrap_cache = ml_ui_wrap_cache_new();
  draw(f);
  draw(f); /* the second time from the wrap cache */
  ml_ui_view_layout(&f->view, &l);
  assert_true(ml_px_find_text(f->surf, sdl(l.chat_log), ML_PX_BODY, 1, "Vitals stable, proceed",
                              col(ML_COL_TEXT), col(ML_COL_PANEL), NULL));
  assert_true(ml_px_find_text(f->surf, sdl(l.chat_log), ML_PX_BOLD, 1, "Sam Mentee",
                              col(ML_COL_TEXT), col(ML_COL_PANEL), NULL));
  assert_true(ml_px_find_text(f->surf, sdl(l.chat_input), ML_PX_BODY, 1, "typing ✓",
                              col(ML_COL_TEXT), col(ML_COL_INPUT), NULL));
  assert_true(ml_px_find_text(f->surf, sdl(l.controls), ML_PX_SMALL, 1, "Chat",
                              col(ML_COL_DARK_TEXT), col(ML_COL_BUTTON_ON), NULL));
  assert_true(bars_in(f, l.tiles[0], 8)); /* the video moved left, still whole */
  ml_ui_wrap_cache_free(f->view.wrap_cache);
  destroy(f);
}

static void test_verification_dialog(void **state) {
  (void)state;
  fixture *f = make(1280, 720, 1);
  f->view.dialog = ML_UI_DIALOG_VERIFY;
  draw(f);
  ml_rect d, b[ML_UI_MAX_DIALOG_BUTTONS];
  assert_int_equal(ml_ui_view_dialog_rects(&f->view, &d, b), 2);
  const char *words[] = {"tactics", "retraction", "sawdust", "amulet"};
  for (int i = 0; i < 4; i++)
    assert_true(ml_px_find_text(f->surf, sdl(d), ML_PX_LARGE, 1, words[i], col(ML_COL_ACCENT),
                                col(ML_COL_DIALOG), NULL));
  assert_true(ml_px_find_text(f->surf, sdl(b[0]), ML_PX_BOLD, 1, "We compared them (Enter)",
                              col(ML_COL_DARK_TEXT), col(ML_COL_BUTTON_ON), NULL));
  ml_ui_hit h = ml_ui_view_hit(&f->view, b[0].x + 2, b[0].y + 2);
  assert_int_equal(h.kind, ML_UI_HIT_DIALOG_BUTTON);
  assert_int_equal(h.index, 0);
  /* marked verified: the tile says so, with a word */
  f->view.dialog = ML_UI_DIALOG_NONE;
  apply(f, ml_test_event_of(ML_CALL_EV_MARKED_VERIFIED, "p1", "Sam Mentee"));
  draw(f);
  ml_rect t = tile0(f);
  assert_true(ml_px_find_text(f->surf, label_region(f, t), ML_PX_SMALL, 1, "Verified",
                              col(ML_COL_OK), col(ML_COL_LABEL_BG), NULL));
  destroy(f);
}

static void test_identity_alert_blocks(void **state) {
  (void)state;
  fixture *f = make(1280, 720, 1);
  ml_call_event ic = ml_test_event_of(ML_CALL_EV_IDENTITY_CHANGED, "p1", "Sam Mentee");
  snprintf(ic.old_fingerprint, sizeof ic.old_fingerprint, "aaaa bbbb");
  snprintf(ic.fingerprint, sizeof ic.fingerprint, "cccc dddd");
  apply(f, ic);
  draw(f);
  assert_int_equal(ml_ui_view_dialog(&f->view), ML_UI_DIALOG_IDENTITY);
  ml_rect t = tile0(f);
  /* The call is hidden: no video anywhere in the tile. */
  assert_false(bars_in(f, t, 40));
  ml_rect d, b[ML_UI_MAX_DIALOG_BUTTONS];
  ml_ui_view_dialog_rects(&f->view, &d, b);
  assert_true(ml_px_find_text(f->surf, sdl(b[1]), ML_PX_BOLD, 1, "Leave the call", col(ML_COL_TEXT),
                              col(ML_COL_BUTTON), NULL));
  /* Clicks outside the dialog reach nothing. */
  ml_ui_hit h = ml_ui_view_hit(&f->view, 5, 700);
  assert_int_equal(h.kind, ML_UI_HIT_NONE);
  destroy(f);
}

static void test_hidpi(void **state) {
  (void)state;
  fixture *f = make(2560, 1440, 2);
  draw(f);
  ml_rect t = tile0(f);
  assert_true(bars_in(f, t, 8));
  assert_true(ml_px_find_text(f->surf, label_region(f, t), ML_PX_BOLD, 2, "Sam Mentee",
                              col(ML_COL_TEXT), col(ML_COL_LABEL_BG), NULL));
  destroy(f);
}

static void test_tooltip_and_buttons(void **state) {
  (void)state;
  fixture *f = make(1280, 720, 1);
  ml_layout l;
  ml_ui_view_layout(&f->view, &l);
  ml_rect mic = l.buttons[ML_UI_BTN_MIC];
  ml_ui_hit h = ml_ui_view_hit(&f->view, mic.x + mic.w / 2, mic.y + mic.h / 2);
  assert_int_equal(h.kind, ML_UI_HIT_BUTTON);
  assert_int_equal(h.index, ML_UI_BTN_MIC);
  f->view.hover_button = ML_UI_BTN_MIC;
  f->view.tooltip = true;
  draw(f);
  SDL_Rect above = {0, mic.y - ml_layout_px(1, 60), 1280, ml_layout_px(1, 60)};
  assert_true(ml_px_find_text(f->surf, above, ML_PX_BODY, 1, "Mute the microphone (Ctrl+D)",
                              col(ML_COL_TEXT), col(ML_COL_DIALOG), NULL));
  f->model.muted = true;
  draw(f);
  assert_true(ml_px_find_text(f->surf, sdl(mic), ML_PX_SMALL, 1, "Unmute", col(ML_COL_DARK_TEXT),
                              col(ML_COL_BUTTON_ON), NULL));
  destroy(f);
}

/* Four participants, the third speaking: its tile is the largest and
 * outlined, every tile has its name, and the self view stays clear of the
 * controls. */
static void test_four_participants(void **state) {
  (void)state;
  fixture *f = make(1366, 768, 1);
  const char *names[] = {"Ana", "Bo", "Cyd"};
  for (int i = 0; i < 3; i++) {
    char id[8];
    snprintf(id, sizeof id, "q%d", i);
    apply(f, ml_test_event_of(ML_CALL_EV_PEER_JOINED, id, names[i]));
    apply(f, ml_test_event_of(ML_CALL_EV_VERIFIED, id, names[i]));
  }
  assert_int_equal(f->model.n_peers, 4);
  f->view.active = 2;
  draw(f);
  ml_layout l;
  ml_ui_view_layout(&f->view, &l);
  assert_int_equal(l.n_tiles, 4);
  for (int i = 0; i < 4; i++)
    if (i != 2)
      assert_true(l.tiles[2].w > l.tiles[i].w);
  SDL_Color edge = ml_px_get(f->surf, l.tiles[2].x + 1, l.tiles[2].y + l.tiles[2].h / 2);
  assert_true(ml_px_near(edge, ML_COL_ACCENT.r, ML_COL_ACCENT.g, ML_COL_ACCENT.b, 2));
  assert_true(ml_px_find_text(f->surf, label_region(f, l.tiles[0]), ML_PX_BOLD, 1, "Sam Mentee",
                              col(ML_COL_TEXT), col(ML_COL_LABEL_BG), NULL));
  for (int i = 0; i < 3; i++)
    assert_true(ml_px_find_text(f->surf, label_region(f, l.tiles[i + 1]), ML_PX_BOLD, 1, names[i],
                                col(ML_COL_TEXT), col(ML_COL_LABEL_BG), NULL));
  assert_true(bars_in(f, l.tiles[0], 8));
  assert_false(ml_rect_overlaps(l.pip, l.controls));
  destroy(f);
}

int main(void) {
  if (TTF_Init() != 0) {
    fprintf(stderr, "SDL_ttf: %s\n", TTF_GetError());
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_remote_tile_shows_bars_and_name),
      cmocka_unit_test(test_odd_window_keeps_aspect),
      cmocka_unit_test(test_muted_mark),
      cmocka_unit_test(test_camera_off_shows_initials),
      cmocka_unit_test(test_chat_panel_and_unread),
      cmocka_unit_test(test_verification_dialog),
      cmocka_unit_test(test_identity_alert_blocks),
      cmocka_unit_test(test_hidpi),
      cmocka_unit_test(test_tooltip_and_buttons),
      cmocka_unit_test(test_four_participants),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  TTF_Quit();
  return rc;
}
