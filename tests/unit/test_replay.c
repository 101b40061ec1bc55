/* Unit tests for the RFC 6479 anti-replay window (common/src/replay.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "ml/replay.h"

static void test_fresh_window_accepts_any(void **state) {
  (void)state;
  ml_replay w;
  ml_replay_init(&w);
  assert_true(ml_replay_check(&w, 0));
  assert_true(ml_replay_check(&w, 123456789));
  assert_true(ml_replay_commit(&w, 0));
  assert_false(ml_replay_check(&w, 0));
  assert_false(ml_replay_commit(&w, 0));
}

static void test_in_order_each_once(void **state) {
  (void)state;
  ml_replay w;
  ml_replay_init(&w);
  for (uint64_t c = 0; c < 10000; c++) {
    assert_true(ml_replay_check(&w, c));
    assert_true(ml_replay_commit(&w, c));
    assert_false(ml_replay_check(&w, c));
    assert_false(ml_replay_commit(&w, c));
  }
  assert_true(w.top == 10000);
}

static void test_window_boundary(void **state) {
  (void)state;
  ml_replay w;
  ml_replay_init(&w);
  const uint64_t high = 5000;
  assert_true(ml_replay_commit(&w, high));
  assert_true(ml_replay_check(&w, high - ML_REPLAY_WINDOW));      /* just inside */
  assert_false(ml_replay_check(&w, high - ML_REPLAY_WINDOW - 1)); /* just outside */
  assert_false(ml_replay_commit(&w, high - ML_REPLAY_WINDOW - 1));
  assert_false(ml_replay_check(&w, 0));
  /* Every counter inside the window, out of order, is accepted exactly once. */
  for (uint64_t d = ML_REPLAY_WINDOW; d >= 1; d--)
    assert_true(ml_replay_commit(&w, high - d));
  for (uint64_t d = 0; d <= ML_REPLAY_WINDOW; d++)
    assert_false(ml_replay_check(&w, high - d));
  assert_true(ML_REPLAY_WINDOW >= 1024); /* the brief's minimum */
}

static void test_failed_commit_changes_nothing(void **state) {
  (void)state;
  ml_replay w;
  ml_replay_init(&w);
  assert_true(ml_replay_commit(&w, 4000));
  assert_true(ml_replay_commit(&w, 3990));
  ml_replay before = w;
  assert_false(ml_replay_commit(&w, 3990));
  assert_false(ml_replay_commit(&w, 4000));
  assert_false(ml_replay_commit(&w, 1));
  assert_memory_equal(&w, &before, sizeof w);
}

static void test_reused_block_is_cleared(void **state) {
  (void)state;
  ml_replay w;
  ml_replay_init(&w);
  for (uint64_t c = 0; c < 128; c++)
    assert_true(ml_replay_commit(&w, c));
  /* 2048 is in block 32, which reuses ring slot 0 (counters 0..63). */
  const uint64_t reused = UINT64_C(64) * ML_REPLAY_BLOCKS;
  assert_true(ml_replay_commit(&w, reused + 10));
  assert_true(ml_replay_check(&w, reused + 3)); /* bit 3 of slot 0 must be clear */
  assert_true(ml_replay_commit(&w, reused + 3));
  assert_false(ml_replay_check(&w, reused + 3));
  /* 64..127 are still in the window and were seen. */
  assert_true(reused + 10 - 127 <= ML_REPLAY_WINDOW);
  assert_false(ml_replay_check(&w, 127));
  /* The blocks between were cleared too. */
  assert_true(ml_replay_check(&w, reused - 1));
}

static void test_big_jump_clears_everything(void **state) {
  (void)state;
  ml_replay w;
  ml_replay_init(&w);
  for (uint64_t c = 0; c < 2000; c++)
    assert_true(ml_replay_commit(&w, c));
  const uint64_t far = UINT64_C(1) << 40;
  assert_true(ml_replay_commit(&w, far));
  for (uint64_t d = 1; d <= ML_REPLAY_WINDOW; d++)
    assert_true(ml_replay_check(&w, far - d));
  assert_false(ml_replay_check(&w, 1999));
}

static void test_top_of_counter_space(void **state) {
  (void)state;
  ml_replay w;
  ml_replay_init(&w);
  assert_false(ml_replay_check(&w, UINT64_MAX));
  assert_false(ml_replay_commit(&w, UINT64_MAX));
  assert_true(ml_replay_commit(&w, UINT64_MAX - 1));
  assert_true(w.top == UINT64_MAX);
  assert_false(ml_replay_check(&w, UINT64_MAX - 1));
  assert_true(ml_replay_check(&w, UINT64_MAX - 2));
  assert_false(ml_replay_check(&w, UINT64_MAX));
}

/* A deterministic generator so the model test is hermetic. */
static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

/* Compares the window against the obvious model: a bitmap of every counter
 * seen, plus the highest. Counters drift forward with jitter and repeats. */
static void test_matches_model(void **state) {
  (void)state;
  enum { SPACE = 1 << 16 };
  static uint8_t seen[SPACE];
  memset(seen, 0, sizeof seen);
  ml_replay w;
  ml_replay_init(&w);
  bool any = false;
  uint64_t highest = 0, base = 0, s = 0x9e3779b97f4a7c15u;
  unsigned accepted = 0, rejected = 0;
  for (int i = 0; i < 200000; i++) {
    uint64_t r = xorshift(&s);
    base += (r & 3) == 0 ? 1 : 0;
    uint64_t c = base + (r >> 8) % 2600;
    if ((r & 0xff) == 0x42)
      c += 3000; /* occasional jump ahead */
    if (c >= SPACE)
      break;
    bool want = !seen[c] && (!any || c > highest || highest - c <= ML_REPLAY_WINDOW);
    assert_int_equal(ml_replay_check(&w, c), want);
    assert_int_equal(ml_replay_commit(&w, c), want);
    if (want) {
      seen[c] = 1;
      if (!any || c > highest)
        highest = c;
      any = true;
      accepted++;
    } else {
      rejected++;
    }
  }
  assert_true(accepted > 1000 && rejected > 1000); /* the run exercised both paths */
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_fresh_window_accepts_any,
             test_in_order_each_once, test_window_boundary, test_failed_commit_changes_nothing,
             test_reused_block_is_cleared, test_big_jump_clears_everything,
             test_top_of_counter_space, test_matches_model)
