/* The window's geometry (client/ui/layout.c) for 1 to 8 tiles, odd window
 * sizes, HiDPI scales, chat open or closed, banners and an active speaker:
 * everything inside the window, no overlap, aspect kept, minimum sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit.h"

#include "layout.h"

static const int sizes[][2] = {
    {640, 400},  {641, 401},  {643, 479},   {800, 600},   {999, 401},  {1001, 667},
    {1280, 720}, {1366, 768}, {1919, 1079}, {3841, 2161}, {640, 1201}, {700, 1333},
};
static const float scales[] = {1.0f, 1.25f, 2.0f};

static ml_rect win_rect(const ml_layout_input *in) { return (ml_rect){0, 0, in->win_w, in->win_h}; }

static void check_layout(const ml_layout_input *in, const ml_layout *l) {
  char what[160];
  snprintf(what, sizeof what, "%dx%d scale %.2f n=%d active=%d chat=%d banners=%d", in->win_w,
           in->win_h, (double)in->scale, in->n_tiles, in->active, in->chat_open, in->n_banners);
  ml_rect w = win_rect(in);
  assert_int_equal(l->n_tiles, in->n_tiles);
  int min_w = ml_layout_px(in->scale, ML_LAYOUT_MIN_TILE_W);
  bool big_enough = in->win_w >= ml_layout_px(in->scale, ML_LAYOUT_MIN_W) &&
                    in->win_h >= ml_layout_px(in->scale, ML_LAYOUT_MIN_H);
  for (int i = 0; i < l->n_tiles; i++) {
    ml_rect t = l->tiles[i];
    if (!ml_rect_inside(t, w) || !ml_rect_inside(t, l->stage))
      fail_msg("%s: tile %d (%d,%d %dx%d) outside", what, i, t.x, t.y, t.w, t.h);
    /* 16:9 within rounding of one pixel of height */
    if (abs(t.w * ML_LAYOUT_ASPECT_H - t.h * ML_LAYOUT_ASPECT_W) > ML_LAYOUT_ASPECT_W)
      fail_msg("%s: tile %d is %dx%d, not 16:9", what, i, t.w, t.h);
    if (big_enough && t.w < min_w)
      fail_msg("%s: tile %d is %d px wide (< %d)", what, i, t.w, min_w);
    for (int k = i + 1; k < l->n_tiles; k++)
      if (ml_rect_overlaps(t, l->tiles[k]))
        fail_msg("%s: tiles %d and %d overlap", what, i, k);
    if (ml_rect_overlaps(t, l->chat) || ml_rect_overlaps(t, l->controls))
      fail_msg("%s: tile %d overlaps the chat or the controls", what, i);
    for (int b = 0; b < in->n_banners; b++)
      if (ml_rect_overlaps(t, l->banners[b]))
        fail_msg("%s: tile %d overlaps banner %d", what, i, b);
  }
  assert_true(ml_rect_inside(l->controls, w));
  for (int b = 0; b < in->n_banners; b++) {
    assert_true(ml_rect_inside(l->banners[b], w));
    assert_false(ml_rect_overlaps(l->banners[b], l->controls));
    assert_true(l->banners[b].h > 0);
  }
  if (in->chat_open) {
    assert_true(l->chat.w > 0 && ml_rect_inside(l->chat, w));
    assert_false(ml_rect_overlaps(l->chat, l->controls));
    assert_false(ml_rect_overlaps(l->chat, l->stage));
    assert_true(ml_rect_inside(l->chat_log, l->chat));
    assert_true(ml_rect_inside(l->chat_input, l->chat));
    assert_true(ml_rect_inside(l->chat_header, l->chat));
    assert_false(ml_rect_overlaps(l->chat_log, l->chat_input));
  } else {
    assert_int_equal(l->chat.w, 0);
  }
  if (in->pip && in->n_tiles > 0 && big_enough) {
    if (l->pip.w <= 0)
      fail_msg("%s: no self view", what);
    assert_true(ml_rect_inside(l->pip, l->stage));
    assert_false(ml_rect_overlaps(l->pip, l->chat));
    assert_false(ml_rect_overlaps(l->pip, l->controls));
    assert_true(abs(l->pip.w * 9 - l->pip.h * 16) <= 16);
  }
  for (int i = 0; i < in->n_buttons; i++) {
    if (!ml_rect_inside(l->buttons[i], l->controls))
      fail_msg("%s: button %d outside the bar", what, i);
    if (big_enough && l->buttons[i].w < ml_layout_px(in->scale, 64))
      fail_msg("%s: button %d is %d px wide", what, i, l->buttons[i].w);
    for (int k = i + 1; k < in->n_buttons; k++)
      assert_false(ml_rect_overlaps(l->buttons[i], l->buttons[k]));
  }
}

static void test_all_sizes(void **state) {
  (void)state;
  unsigned checked = 0;
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
    for (size_t sc = 0; sc < sizeof scales / sizeof scales[0]; sc++)
      for (int n = 1; n <= ML_LAYOUT_MAX_TILES; n++)
        for (int chat = 0; chat < 2; chat++)
          for (int banners = 0; banners <= 2; banners++)
            for (int active = -1; active < n; active += (n > 1 ? n : 2)) {
              ml_layout_input in = {
                  .win_w = (int)(sizes[si][0] * scales[sc]),
                  .win_h = (int)(sizes[si][1] * scales[sc]),
                  .scale = scales[sc],
                  .n_tiles = n,
                  .active = active,
                  .chat_open = chat,
                  .pip = true,
                  .n_banners = banners,
                  .n_buttons = 6,
              };
              ml_layout l;
              ml_layout_compute(&in, &l);
              check_layout(&in, &l);
              checked++;
            }
  assert_true(checked > 1000);
}

/* More than two: the active speaker's tile is the largest; at most two:
 * equal tiles. */
static void test_active_speaker(void **state) {
  (void)state;
  for (int n = 1; n <= ML_LAYOUT_MAX_TILES; n++)
    for (int active = 0; active < n; active++) {
      ml_layout_input in = {.win_w = 1280,
                            .win_h = 720,
                            .scale = 1,
                            .n_tiles = n,
                            .active = active,
                            .pip = true,
                            .n_buttons = 6};
      ml_layout l;
      ml_layout_compute(&in, &l);
      for (int i = 0; i < n; i++) {
        if (i == active)
          continue;
        if (n > 2)
          assert_true(l.tiles[active].w > l.tiles[i].w);
        else
          assert_int_equal(l.tiles[active].w, l.tiles[i].w);
      }
    }
}

/* One remote participant fills most of the stage (the mentor large). */
static void test_one_tile_is_large(void **state) {
  (void)state;
  ml_layout_input in = {.win_w = 1280,
                        .win_h = 720,
                        .scale = 1,
                        .n_tiles = 1,
                        .active = -1,
                        .chat_open = true,
                        .pip = true,
                        .n_buttons = 6};
  ml_layout l;
  ml_layout_compute(&in, &l);
  assert_true(l.tiles[0].w >= l.stage.w * 9 / 10 || l.tiles[0].h >= l.stage.h * 9 / 10);
  assert_true(l.pip.w > 0 && l.pip.w < l.tiles[0].w / 3);
}

static void test_fit(void **state) {
  (void)state;
  ml_rect box = {10, 20, 400, 300};
  ml_rect f = ml_layout_fit(box, 640, 360); /* wider: bars above and below */
  assert_int_equal(f.w, 400);
  assert_int_equal(f.h, 225);
  assert_int_equal(f.x, 10);
  assert_int_equal(f.y, 20 + (300 - 225) / 2);
  f = ml_layout_fit(box, 360, 640); /* taller: bars left and right */
  assert_int_equal(f.h, 300);
  assert_int_equal(f.w, 168);
  assert_true(ml_rect_inside(f, box));
  f = ml_layout_fit((ml_rect){0, 0, 3841, 2161}, 4096, 2160); /* no int overflow */
  assert_true(f.w == 3841 && f.h <= 2161 && f.h > 2000);
  f = ml_layout_fit(box, 0, 0);
  assert_memory_equal(&f, &box, sizeof box);
}

static void test_degenerate(void **state) {
  (void)state;
  int dims[][2] = {{0, 0}, {1, 1}, {-5, 10}, {100, 50}, {7, 3000}};
  for (size_t i = 0; i < 5; i++)
    for (int n = 0; n <= 9; n++) {
      ml_layout_input in = {.win_w = dims[i][0],
                            .win_h = dims[i][1],
                            .scale = 0,
                            .n_tiles = n,
                            .active = 3,
                            .chat_open = true,
                            .pip = true,
                            .n_banners = 9,
                            .n_buttons = 99};
      ml_layout l;
      ml_layout_compute(&in, &l);
      for (int k = 0; k < l.n_tiles; k++)
        assert_true(l.tiles[k].w >= 0 && l.tiles[k].h >= 0);
      assert_true(l.n_tiles <= ML_LAYOUT_MAX_TILES);
    }
}

static void test_dialogs(void **state) {
  (void)state;
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    ml_rect d = ml_layout_dialog(sizes[si][0], sizes[si][1], 1, 700, 470);
    assert_true(ml_rect_inside(d, (ml_rect){0, 0, sizes[si][0], sizes[si][1]}));
    ml_rect b[3];
    ml_layout_dialog_buttons(d, 1, 3, b);
    for (int i = 0; i < 3; i++) {
      assert_true(ml_rect_inside(b[i], d));
      for (int k = i + 1; k < 3; k++)
        assert_false(ml_rect_overlaps(b[i], b[k]));
    }
  }
}

/* The participant panel: every rectangle inside the panel, rows in order
 * without overlaps, buttons inside their row and apart, what does not fit
 * left out; at every size and scale. */
static void test_people(void **state) {
  (void)state;
  for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++)
    for (int h = 100; h <= 1400; h += 70)
      for (int members = 0; members <= ML_LAYOUT_MAX_PEOPLE + 2; members += 3)
        for (int waiting = 0; waiting <= 5; waiting++)
          for (int host = 0; host <= 1; host++) {
            ml_rect panel = {900, 40, ml_layout_px(scales[si], 360), h};
            ml_people_layout pl;
            ml_layout_people(panel, scales[si], members, waiting, host, &pl);
            if (!pl.header.h)
              continue; /* too small for anything */
            assert_true(ml_rect_inside(pl.header, panel));
            assert_true(ml_rect_inside(pl.close, pl.header));
            assert_true(pl.n_rows <= members && pl.n_rows <= ML_LAYOUT_MAX_PEOPLE);
            int bottom = pl.header.y + pl.header.h;
            if (!host)
              assert_int_equal(pl.lock.w, 0);
            if (pl.lock.w) { /* the room's actions, side by side below the header */
              assert_true(ml_rect_inside(pl.lock, panel) && ml_rect_inside(pl.end, panel) &&
                          ml_rect_inside(pl.mute_all, panel));
              assert_true(pl.lock.y >= bottom && !ml_rect_overlaps(pl.lock, pl.end) &&
                          !ml_rect_overlaps(pl.lock, pl.mute_all) &&
                          !ml_rect_overlaps(pl.mute_all, pl.end));
              bottom = pl.lock.y + pl.lock.h;
            }
            for (int i = 0; i < pl.n_rows; i++) {
              assert_true(ml_rect_inside(pl.rows[i], panel));
              assert_true(pl.rows[i].y >= bottom);
              bottom = pl.rows[i].y + pl.rows[i].h;
              for (int a = 0; a < ML_PEOPLE_ACT_COUNT; a++) {
                /* a host's buttons on the others' rows (360 px: room for them), none on ours */
                assert_true((pl.acts[i][a].w > 0) == (host && i > 0));
                if (!pl.acts[i][a].w)
                  continue;
                assert_true(ml_rect_inside(pl.acts[i][a], pl.rows[i]));
                for (int b = a + 1; b < ML_PEOPLE_ACT_COUNT; b++)
                  assert_false(ml_rect_overlaps(pl.acts[i][a], pl.acts[i][b]));
              }
            }
            if (pl.n_rows < members && members <= ML_LAYOUT_MAX_PEOPLE) /* cut: no room below */
              assert_true(bottom + ml_layout_px(scales[si], host ? 76 : 46) > panel.y + panel.h);
            assert_true(pl.n_waiting <= waiting);
            if (pl.waiting_header.h) {
              assert_true(ml_rect_inside(pl.waiting_header, panel) &&
                          pl.waiting_header.y >= bottom);
              bottom = pl.waiting_header.y + pl.waiting_header.h;
            } else {
              assert_int_equal(pl.n_waiting, 0);
            }
            for (int i = 0; i < pl.n_waiting; i++) {
              assert_true(ml_rect_inside(pl.waiting[i], panel) && pl.waiting[i].y >= bottom);
              bottom = pl.waiting[i].y + pl.waiting[i].h;
              assert_true(pl.admit[i].w > 0 &&
                          pl.deny[i].w > 0); /* 360 logical px: room for buttons */
              assert_true(ml_rect_inside(pl.admit[i], pl.waiting[i]));
              assert_true(ml_rect_inside(pl.deny[i], pl.waiting[i]));
              assert_false(ml_rect_overlaps(pl.admit[i], pl.deny[i]));
            }
          }
  /* A tall panel shows everyone. */
  ml_people_layout pl;
  ml_layout_people((ml_rect){0, 0, 400, 2000}, 1.0f, 9, 3, true, &pl);
  assert_int_equal(pl.n_rows, 9);
  assert_int_equal(pl.n_waiting, 3);
  /* A group of 9 with a host's buttons fits a 1000 px panel. */
  ml_layout_people((ml_rect){0, 0, 340, 1000}, 1.0f, 9, 0, true, &pl);
  assert_int_equal(pl.n_rows, 9);
  /* Too narrow for buttons: rows without them. */
  ml_layout_people((ml_rect){0, 0, 150, 800}, 1.0f, 2, 1, true, &pl);
  assert_int_equal(pl.n_waiting, 1);
  assert_int_equal(pl.admit[0].w, 0);
  assert_int_equal(pl.acts[1][0].w, 0);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_all_sizes, test_active_speaker,
             test_one_tile_is_large, test_fit, test_degenerate, test_dialogs, test_people)
