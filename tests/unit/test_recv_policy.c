/* Unit tests for the media receiver's policy (client/engine/recv_policy.h):
 * jitter-buffer sizing, the NACK allowance and PLI timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "recv_policy.h"

#define MS 1000 /* microseconds */
#define T0 ((int64_t)7000000)

static void latency_defaults_and_bounds(void **state) {
  (void)state;
  ml_recv_latency l;
  ml_recv_latency_init(&l, 0, 0, 0);
  assert_int_equal(l.min_ms, 20);
  assert_int_equal(l.max_ms, 250);
  assert_int_equal(l.latency_ms, 50);
  ml_recv_latency_init(&l, 100, 60, 0); /* max below min: raised */
  assert_int_equal(l.max_ms, 100);
  assert_int_equal(l.latency_ms, 100); /* start clamped */
  ml_recv_latency_init(&l, 30, 80, 500);
  assert_int_equal(l.latency_ms, 80);
  ml_recv_latency_init(&l, 30, 80, 10);
  assert_int_equal(l.latency_ms, 30);
}

static void latency_follows_jitter_in_steps(void **state) {
  (void)state;
  ml_recv_latency l;
  ml_recv_latency_init(&l, 0, 0, 0); /* 50 ms */
  ml_recv_latency_input in = {.jitter_ms = 0, .fps = 30};
  /* 4 x 0 + 20 = 20: 30 ms below, moves. */
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 20);
  /* 4 x 2 + 20 = 28: less than a 10 ms step away, stays. */
  in.jitter_ms = 2;
  assert_false(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 20);
  /* 4 x 2.5 + 20 = 30: exactly one step, moves. */
  in.jitter_ms = 2.5;
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 30);
  /* Down by exactly one step moves; by less stays. */
  in.jitter_ms = 0;
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 20);
  /* Capped at max. */
  in.jitter_ms = 1000;
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 250);
  assert_false(ml_recv_latency_update(&l, &in));
}

static void latency_loss_hold(void **state) {
  (void)state;
  ml_recv_latency l;
  ml_recv_latency_init(&l, 0, 0, 20);
  ml_recv_latency_input in = {.packets_lost = 0, .jitter_ms = 0, .fps = 30, .rtx_rtt_ms = 40};
  assert_false(ml_recv_latency_update(&l, &in)); /* 20 */
  /* New loss: + 1.5 x 33.3 + 40 + 10 = 20 + 50 + 50 = 120. */
  in.packets_lost = 3;
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 120);
  /* No new loss: the allowance stays for 4 more updates (5 in all)... */
  for (int i = 0; i < 4; i++) {
    assert_false(ml_recv_latency_update(&l, &in));
    assert_int_equal(l.latency_ms, 120);
  }
  /* ...then goes. */
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 20);
  /* Low fps counts as 30; an RTT below 5 ms counts as 5. */
  in.packets_lost = 4;
  in.fps = 2;
  in.rtx_rtt_ms = 0;
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 85); /* 20 + 50 + 5 + 10 */
  /* At 10 fps the frame interval is 100 ms. */
  in.packets_lost = 5;
  in.fps = 10;
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 185); /* 20 + 150 + 5 + 10 */
  /* A lost count that goes down (a new stream) is no new loss. */
  in.packets_lost = 0;
  for (int i = 0; i < 4; i++)
    assert_false(ml_recv_latency_update(&l, &in));
  assert_true(ml_recv_latency_update(&l, &in));
  assert_int_equal(l.latency_ms, 20);
}

static void nack_bucket_burst_and_refill(void **state) {
  (void)state;
  ml_recv_nack_bucket b;
  ml_recv_nack_bucket_init(&b, T0);
  for (int i = 0; i < ML_RECV_NACK_BURST; i++)
    assert_true(ml_recv_nack_allowed(&b, T0));
  assert_false(ml_recv_nack_allowed(&b, T0));
  /* 60 per second: one token every 16.67 ms. */
  assert_false(ml_recv_nack_allowed(&b, T0 + 16 * MS));
  assert_true(ml_recv_nack_allowed(&b, T0 + 17 * MS));
  assert_false(ml_recv_nack_allowed(&b, T0 + 17 * MS));
  /* A long quiet spell refills only up to the burst. */
  int64_t t = T0 + 60 * 1000 * MS;
  for (int i = 0; i < ML_RECV_NACK_BURST; i++)
    assert_true(ml_recv_nack_allowed(&b, t));
  assert_false(ml_recv_nack_allowed(&b, t));
}

static void nack_bucket_steady_rate(void **state) {
  (void)state;
  ml_recv_nack_bucket b;
  ml_recv_nack_bucket_init(&b, T0);
  /* Asked every millisecond for 10 s: the burst plus 60 per second. */
  unsigned sent = 0;
  for (int64_t t = T0; t < T0 + 10000 * MS; t += MS)
    sent += ml_recv_nack_allowed(&b, t);
  assert_in_range(sent, ML_RECV_NACK_BURST + 599, ML_RECV_NACK_BURST + 600);
}

static void pli_spacing(void **state) {
  (void)state;
  assert_true(ml_recv_pli_due(0, T0)); /* none yet */
  assert_false(ml_recv_pli_due(T0, T0));
  assert_false(ml_recv_pli_due(T0, T0 + 99999));
  assert_true(ml_recv_pli_due(T0, T0 + 100 * MS));
}

static void first_frame_pli(void **state) {
  (void)state;
  assert_int_equal(ml_recv_first_frame_pli_step(false, 0), ML_RECV_FIRST_PLI_WAIT);
  assert_int_equal(ml_recv_first_frame_pli_step(false, 1), ML_RECV_FIRST_PLI_SEND);
  assert_int_equal(ml_recv_first_frame_pli_step(true, 0), ML_RECV_FIRST_PLI_STOP);
  assert_int_equal(ml_recv_first_frame_pli_step(true, 50), ML_RECV_FIRST_PLI_STOP);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, latency_defaults_and_bounds,
             latency_follows_jitter_in_steps, latency_loss_hold, nack_bucket_burst_and_refill,
             nack_bucket_steady_rate, pli_spacing, first_frame_pli)
