/* Unit tests for a call's peer lifecycle and ICE restart back-off
 * (client/engine/peer_state.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "peer_state.h"

#define N_STATES (ML_PEER_LEFT + 1)

/* The lifecycle's edges, written out once more as the header draws them. */
static bool legal(ml_peer_state from, ml_peer_state to) {
  switch (from) {
  case ML_PEER_JOINED: return to == ML_PEER_CONNECTING || to == ML_PEER_LEFT;
  case ML_PEER_CONNECTING:
    return to == ML_PEER_SECURE || to == ML_PEER_FAILED || to == ML_PEER_LEFT;
  case ML_PEER_SECURE:
    return to == ML_PEER_RESTARTING || to == ML_PEER_FAILED || to == ML_PEER_LEFT;
  case ML_PEER_RESTARTING:
    return to == ML_PEER_SECURE || to == ML_PEER_FAILED || to == ML_PEER_LEFT;
  case ML_PEER_FAILED: return to == ML_PEER_LEFT;
  case ML_PEER_LEFT: return false;
  }
  return false;
}

static void every_pair_matches_the_lifecycle(void **state) {
  (void)state;
  for (int from = 0; from < N_STATES; from++)
    for (int to = 0; to < N_STATES; to++)
      assert_int_equal(ml_peer_transition_ok((ml_peer_state)from, (ml_peer_state)to),
                       legal((ml_peer_state)from, (ml_peer_state)to));
}

static void legal_and_illegal_examples(void **state) {
  (void)state;
  assert_true(ml_peer_transition_ok(ML_PEER_JOINED, ML_PEER_CONNECTING));
  assert_true(ml_peer_transition_ok(ML_PEER_CONNECTING, ML_PEER_SECURE));
  assert_true(ml_peer_transition_ok(ML_PEER_SECURE, ML_PEER_RESTARTING));
  assert_true(ml_peer_transition_ok(ML_PEER_RESTARTING, ML_PEER_SECURE));
  assert_true(ml_peer_transition_ok(ML_PEER_RESTARTING, ML_PEER_FAILED));
  assert_true(ml_peer_transition_ok(ML_PEER_FAILED, ML_PEER_LEFT));
  /* No skipping the handshake, no way back from failed or left. */
  assert_false(ml_peer_transition_ok(ML_PEER_JOINED, ML_PEER_SECURE));
  assert_false(ml_peer_transition_ok(ML_PEER_CONNECTING, ML_PEER_RESTARTING));
  assert_false(ml_peer_transition_ok(ML_PEER_FAILED, ML_PEER_SECURE));
  assert_false(ml_peer_transition_ok(ML_PEER_FAILED, ML_PEER_CONNECTING));
  assert_false(ml_peer_transition_ok(ML_PEER_LEFT, ML_PEER_JOINED));
  assert_false(ml_peer_transition_ok(ML_PEER_SECURE, ML_PEER_CONNECTING));
  /* Staying is not a transition; out-of-range values are refused. */
  for (int s = 0; s < N_STATES; s++)
    assert_false(ml_peer_transition_ok((ml_peer_state)s, (ml_peer_state)s));
  assert_false(ml_peer_transition_ok((ml_peer_state)N_STATES, ML_PEER_LEFT));
  assert_false(ml_peer_transition_ok(ML_PEER_SECURE, (ml_peer_state)N_STATES));
}

static void every_state_reaches_left_once(void **state) {
  (void)state;
  for (int s = 0; s < N_STATES - 1; s++)
    assert_true(ml_peer_transition_ok((ml_peer_state)s, ML_PEER_LEFT));
  for (int s = 0; s < N_STATES; s++)
    assert_false(ml_peer_transition_ok(ML_PEER_LEFT, (ml_peer_state)s));
}

static void usable_only_with_a_channel(void **state) {
  (void)state;
  assert_false(ml_peer_state_usable(ML_PEER_JOINED));
  assert_false(ml_peer_state_usable(ML_PEER_CONNECTING));
  assert_true(ml_peer_state_usable(ML_PEER_SECURE));
  assert_true(ml_peer_state_usable(ML_PEER_RESTARTING));
  assert_false(ml_peer_state_usable(ML_PEER_FAILED));
  assert_false(ml_peer_state_usable(ML_PEER_LEFT));
}

static void names(void **state) {
  (void)state;
  assert_string_equal(ml_peer_state_name(ML_PEER_JOINED), "joined");
  assert_string_equal(ml_peer_state_name(ML_PEER_CONNECTING), "connecting");
  assert_string_equal(ml_peer_state_name(ML_PEER_SECURE), "secure");
  assert_string_equal(ml_peer_state_name(ML_PEER_RESTARTING), "restarting");
  assert_string_equal(ml_peer_state_name(ML_PEER_FAILED), "failed");
  assert_string_equal(ml_peer_state_name(ML_PEER_LEFT), "left");
  assert_string_equal(ml_peer_state_name((ml_peer_state)N_STATES), "unknown");
}

#define MS 1000 /* microseconds */
#define T0 ((int64_t)5000000)

static void backoff_delays_grow_and_cap(void **state) {
  (void)state;
  assert_int_equal(ml_restart_backoff_delay_ms(0), 0); /* the first restart: at once */
  assert_int_equal(ml_restart_backoff_delay_ms(1), 2000);
  assert_int_equal(ml_restart_backoff_delay_ms(2), 4000);
  assert_int_equal(ml_restart_backoff_delay_ms(3), 8000);
  assert_int_equal(ml_restart_backoff_delay_ms(4), 16000);
  assert_int_equal(ml_restart_backoff_delay_ms(5), ML_RESTART_BACKOFF_MAX_MS);
  assert_int_equal(ml_restart_backoff_delay_ms(6), ML_RESTART_BACKOFF_MAX_MS);
  assert_int_equal(ml_restart_backoff_delay_ms(1000), ML_RESTART_BACKOFF_MAX_MS);
  for (unsigned a = 1; a < 64; a++) /* never shrinks, never beyond the cap */
    assert_true(ml_restart_backoff_delay_ms(a) >= ml_restart_backoff_delay_ms(a - 1) &&
                ml_restart_backoff_delay_ms(a) <= ML_RESTART_BACKOFF_MAX_MS);
}

/* Losses without progress: MAX restarts at growing intervals from the time
 * passed in (no jitter: exact), then one GIVE_UP, then nothing. */
static void backoff_schedules_then_gives_up_once(void **state) {
  (void)state;
  ml_restart_backoff b = {0};
  static const int64_t waits_ms[ML_RESTART_MAX_ATTEMPTS] = {0, 2000, 4000, 8000, 16000};
  int64_t now = T0;
  for (unsigned i = 0; i < ML_RESTART_MAX_ATTEMPTS; i++) {
    int64_t due = -1;
    unsigned attempt = 0;
    assert_int_equal(ml_restart_backoff_next(&b, 7, now, &due, &attempt), ML_RESTART_SCHEDULE);
    assert_int_equal(attempt, i + 1);
    assert_int_equal(due, now + waits_ms[i] * MS);
    now = due + 3000 * MS; /* the restart ran and the path was lost again */
  }
  int64_t due = -1;
  unsigned attempt = 0;
  assert_int_equal(ml_restart_backoff_next(&b, 7, now, &due, &attempt), ML_RESTART_GIVE_UP);
  assert_int_equal(ml_restart_backoff_next(&b, 7, now, &due, &attempt), ML_RESTART_NONE);
  assert_int_equal(ml_restart_backoff_next(&b, 7, now + 60000 * MS, &due, &attempt),
                   ML_RESTART_NONE);
  assert_int_equal(due, -1); /* untouched unless scheduled */
  assert_int_equal(attempt, 0);
}

/* Datagrams through since the last restart: the path came back in between,
 * and the next loss starts over (even after giving up). */
static void backoff_progress_starts_over(void **state) {
  (void)state;
  ml_restart_backoff b = {0};
  int64_t due;
  unsigned attempt;
  assert_int_equal(ml_restart_backoff_next(&b, 10, T0, &due, &attempt), ML_RESTART_SCHEDULE);
  assert_int_equal(ml_restart_backoff_next(&b, 10, T0, &due, &attempt), ML_RESTART_SCHEDULE);
  assert_int_equal(attempt, 2);
  assert_int_equal(due, T0 + 2000 * MS);
  assert_int_equal(ml_restart_backoff_next(&b, 11, T0, &due, &attempt), ML_RESTART_SCHEDULE);
  assert_int_equal(attempt, 1);
  assert_int_equal(due, T0);
  for (int i = 0; i < ML_RESTART_MAX_ATTEMPTS - 1; i++)
    assert_int_equal(ml_restart_backoff_next(&b, 11, T0, &due, &attempt), ML_RESTART_SCHEDULE);
  assert_int_equal(ml_restart_backoff_next(&b, 11, T0, &due, &attempt), ML_RESTART_GIVE_UP);
  assert_int_equal(ml_restart_backoff_next(&b, 11, T0, &due, &attempt), ML_RESTART_NONE);
  assert_int_equal(ml_restart_backoff_next(&b, 12, T0, &due, &attempt), ML_RESTART_SCHEDULE);
  assert_int_equal(attempt, 1);
  assert_int_equal(due, T0);
}

/* ICE ready again: the next loss restarts at once, as the first did. */
static void backoff_reset(void **state) {
  (void)state;
  ml_restart_backoff b = {0};
  int64_t due;
  unsigned attempt;
  for (int i = 0; i < 3; i++)
    assert_int_equal(ml_restart_backoff_next(&b, 0, T0, &due, &attempt), ML_RESTART_SCHEDULE);
  assert_int_equal(due, T0 + 4000 * MS);
  ml_restart_backoff_reset(&b);
  assert_int_equal(ml_restart_backoff_next(&b, 0, T0 + 1, &due, &attempt), ML_RESTART_SCHEDULE);
  assert_int_equal(attempt, 1);
  assert_int_equal(due, T0 + 1);
  for (int i = 0; i < ML_RESTART_MAX_ATTEMPTS; i++)
    (void)ml_restart_backoff_next(&b, 0, T0, &due, &attempt);
  assert_int_equal(ml_restart_backoff_next(&b, 0, T0, &due, &attempt), ML_RESTART_NONE);
  ml_restart_backoff_reset(&b); /* also after giving up */
  assert_int_equal(ml_restart_backoff_next(&b, 0, T0, &due, &attempt), ML_RESTART_SCHEDULE);
  assert_int_equal(attempt, 1);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, every_pair_matches_the_lifecycle,
             legal_and_illegal_examples, every_state_reaches_left_once, usable_only_with_a_channel,
             names, backoff_delays_grow_and_cap, backoff_schedules_then_gives_up_once,
             backoff_progress_starts_over, backoff_reset)
