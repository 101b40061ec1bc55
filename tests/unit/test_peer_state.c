/* Unit tests for a call's peer lifecycle and ICE restart back-off
 * (client/engine/peer_state.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_pair_matches_the_lifecycle),
      cmocka_unit_test(legal_and_illegal_examples),
      cmocka_unit_test(every_state_reaches_left_once),
      cmocka_unit_test(usable_only_with_a_channel),
      cmocka_unit_test(names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
