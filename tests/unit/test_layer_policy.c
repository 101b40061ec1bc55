/* ml_layer_policy (client/engine/layer_policy.h): demotion of a weak peer
 * and the back-off of its retries, time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "layer_policy.h"

/* Steps once a second from t to t + ms; returns the last result. */
static bool run(ml_layer_policy *p, int64_t *t, int64_t ms, bool congested, bool others_clean,
                unsigned kbps, double estimate) {
  bool d = p->demoted;
  for (int64_t end = *t + ms; *t < end; *t += 1000)
    d = ml_layer_policy_update(p, *t, congested, others_clean, kbps, estimate);
  return d;
}

static void test_demoted_after_weak_ms(void **state) {
  (void)state;
  ml_layer_policy p;
  ml_layer_policy_init(&p);
  assert_false(ml_layer_policy_update(&p, 0, true, true, 300, 100));
  assert_false(ml_layer_policy_update(&p, ML_LAYER_WEAK_MS - 1, true, true, 300, 100));
  assert_true(ml_layer_policy_update(&p, ML_LAYER_WEAK_MS, true, true, 300, 100));
  assert_int_equal(p.demotions, 1);
}

static void test_not_demoted_without_cause(void **state) {
  (void)state;
  ml_layer_policy p;
  ml_layer_policy_init(&p);
  int64_t t = 0;
  /* Alone (nobody clean to hold back), a high target, or not congested. */
  assert_false(run(&p, &t, 20000, true, false, 300, 100));
  assert_false(run(&p, &t, 20000, true, true, ML_LAYER_WEAK_KBPS, 100));
  assert_false(run(&p, &t, 20000, false, true, 100, 100));
  /* A clean report in between starts the count again. */
  for (int i = 0; i < 10; i++) {
    assert_false(ml_layer_policy_update(&p, t, true, true, 300, 100));
    assert_false(ml_layer_policy_update(&p, t + 1500, false, true, 300, 100));
    t += 3000;
  }
  assert_int_equal(p.demotions, 0);
}

/* A link that stays weak is not tried again; one that grew is, after
 * RETRY_MS of clean reports and a high enough estimate. */
static void test_promoted_only_when_it_would_carry(void **state) {
  (void)state;
  ml_layer_policy p;
  ml_layer_policy_init(&p);
  int64_t t = 0;
  assert_true(run(&p, &t, ML_LAYER_WEAK_MS + 1000, true, true, 300, 100));
  assert_true(run(&p, &t, 10 * ML_LAYER_RETRY_MS, false, true, 300, ML_LAYER_PROMOTE_KBPS - 1));
  assert_true(run(&p, &t, 10 * ML_LAYER_RETRY_MS, true, true, 300, 1000));
  assert_true(run(&p, &t, 10 * ML_LAYER_RETRY_MS, false, true, 300, -1));
  /* Good, but interrupted just before the wait is over: from zero again. */
  assert_true(run(&p, &t, ML_LAYER_RETRY_MS, false, true, 300, 400));
  assert_true(ml_layer_policy_update(&p, t, true, true, 300, 400));
  t += 1000;
  assert_true(run(&p, &t, ML_LAYER_RETRY_MS, false, true, 300, 400));
  assert_false(ml_layer_policy_update(&p, t, false, true, 300, 400));
}

static void test_retry_backs_off_and_resets(void **state) {
  (void)state;
  ml_layer_policy p;
  ml_layer_policy_init(&p);
  int64_t t = 0;
  unsigned expect = ML_LAYER_RETRY_MS;
  assert_true(run(&p, &t, ML_LAYER_WEAK_MS + 1000, true, true, 300, 100));
  for (int i = 0; i < 6; i++) { /* each try fails at once: the wait doubles, to the cap */
    assert_int_equal(p.retry_ms, expect);
    int64_t good = t;
    assert_true(ml_layer_policy_update(&p, good, false, true, 300, 400));
    assert_true(ml_layer_policy_update(&p, good + p.retry_ms - 1, false, true, 300, 400));
    t = good + p.retry_ms;
    assert_false(ml_layer_policy_update(&p, t, false, true, 300, 400)); /* promoted */
    assert_true(run(&p, &t, ML_LAYER_WEAK_MS + 1000, true, true, 300, 100));
    expect = expect * 2 > ML_LAYER_RETRY_MAX_MS ? ML_LAYER_RETRY_MAX_MS : expect * 2;
  }
  assert_int_equal(p.retry_ms, ML_LAYER_RETRY_MAX_MS);
  /* A try that holds past the probe window: the next demotion waits the first time again. */
  assert_false(run(&p, &t, p.retry_ms + 1000, false, true, 300, 400));
  assert_false(run(&p, &t, ML_LAYER_PROBE_WINDOW_MS + 1000, false, true, 300, 400));
  assert_true(run(&p, &t, ML_LAYER_WEAK_MS + 1000, true, true, 300, 100));
  assert_int_equal(p.retry_ms, ML_LAYER_RETRY_MS);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_demoted_after_weak_ms,
             test_not_demoted_without_cause, test_promoted_only_when_it_would_carry,
             test_retry_backs_off_and_resets)
