/* ml_delay_est (client/engine/delay_est.h): video frames through a
 * simulated bottleneck (a link of a given rate in front of a queue), time
 * passed in, so every run is exact. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "delay_est.h"

#define FPS 30
#define PACKETS 2

typedef struct sim {
  ml_delay_est e;
  double link_kbps;  /* the bottleneck */
  double free_at_us; /* when the link is done with what it holds */
  int64_t t_us;      /* sender's clock: the next frame's capture */
  uint32_t ts;
  uint32_t rng;
  double jitter_us; /* up to this much random extra delay per packet */
  double max_queue_ms;
  bool overuse;
} sim;

static void sim_init(sim *s, double link_kbps) {
  ml_delay_est_init(&s->e);
  s->link_kbps = link_kbps;
  s->free_at_us = 0;
  s->t_us = 1000000;
  s->ts = 1000;
  s->rng = 12345;
  s->jitter_us = 0;
  s->max_queue_ms = 0;
  s->overuse = false;
}

static double rnd(sim *s) {
  s->rng = s->rng * 1103515245u + 12345u;
  return (double)((s->rng >> 8) & 0xffff) / 65536.0;
}

/* One second of frames sent at send_kbps. */
static void sim_second(sim *s, double send_kbps) {
  for (int f = 0; f < FPS; f++) {
    uint32_t frame_bytes = (uint32_t)(send_kbps * 1000 / 8 / FPS);
    for (int k = 0; k < PACKETS; k++) {
      uint32_t bytes = frame_bytes / PACKETS;
      double start = fmax((double)s->t_us, s->free_at_us);
      s->free_at_us = start + bytes * 8.0 / s->link_kbps * 1000.0;
      double queue_ms = (s->free_at_us - (double)s->t_us) / 1000.0;
      if (queue_ms > s->max_queue_ms && !s->overuse)
        s->max_queue_ms = queue_ms;
      int64_t arrival = (int64_t)(s->free_at_us + s->jitter_us * rnd(s));
      ml_delay_est_on_packet(&s->e, arrival, s->ts, bytes);
      if (ml_delay_est_signal(&s->e) == ML_DELAY_OVERUSE)
        s->overuse = true;
    }
    s->t_us += 1000000 / FPS;
    s->ts += 90000 / FPS;
  }
}

static void test_below_capacity_is_normal(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 1000);
  for (int i = 0; i < 20; i++)
    sim_second(&s, 500);
  assert_false(s.overuse);
  assert_true(ml_delay_est_kbps(&s.e, s.t_us) < 0); /* unknown: nothing to tell */
  assert_false(ml_delay_est_feedback_due(&s.e, s.t_us));
  double r = ml_delay_est_incoming_kbps(&s.e, s.t_us);
  assert_true(r > 450 && r < 550);
}

static void test_jitter_is_not_overuse(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 2000);
  s.jitter_us = 15000; /* a busy host: up to 15 ms late, at random */
  for (int i = 0; i < 60; i++)
    sim_second(&s, 500);
  assert_false(s.overuse);
}

/* Sending 600 kbps into a 500 kbps link: overuse before 150 ms of queue
 * (800 kbps: before 300 ms), and an estimate of about 0.85 x what arrived. */
static void test_queue_build_is_overuse(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 500);
  for (int i = 0; i < 5; i++) /* a call under way: the detector has its history */
    sim_second(&s, 400);
  for (int i = 0; i < 5 && !s.overuse; i++)
    sim_second(&s, 600);
  assert_true(s.overuse);
  print_message("600 into 500: queue at overuse %.0f ms\n", s.max_queue_ms);
  assert_true(s.max_queue_ms < 150);
  sim_init(&s, 500);
  for (int i = 0; i < 3 && !s.overuse; i++)
    sim_second(&s, 800);
  assert_true(s.overuse);
  print_message("queue at overuse %.0f ms, estimate %.0f\n", s.max_queue_ms,
                ml_delay_est_kbps(&s.e, s.t_us));
  assert_true(s.max_queue_ms < 300);
  double a = ml_delay_est_kbps(&s.e, s.t_us);
  assert_true(a > 0.7 * 500 && a < 0.95 * 500);
  assert_true(ml_delay_est_feedback_due(&s.e, s.t_us));
}

/* After the overuse the sender follows the estimate; the link then grows:
 * the estimate follows it up. */
static void test_follows_a_growing_link(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 500);
  for (int i = 0; i < 3; i++)
    sim_second(&s, 800);
  double a = ml_delay_est_kbps(&s.e, s.t_us);
  assert_true(a > 0);
  s.link_kbps = 3000;
  for (int i = 0; i < 30; i++)
    sim_second(&s, ml_delay_est_kbps(&s.e, s.t_us));
  assert_true(ml_delay_est_kbps(&s.e, s.t_us) > 1000);
}

/* Steady at the estimate on the same link: the estimate stays near the
 * link's rate, never far above it. */
static void test_converges_below_the_link(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 500);
  for (int i = 0; i < 3 && !s.overuse; i++)
    sim_second(&s, 800);
  assert_true(s.overuse);
  double max_queue = 0, min_a = 1e9, max_a = 0;
  for (int i = 0; i < 60; i++) {
    s.max_queue_ms = 0;
    s.overuse = false;
    sim_second(&s, ml_delay_est_kbps(&s.e, s.t_us));
    if (i >= 20) { /* the queue of the overshoot drained */
      double a = ml_delay_est_kbps(&s.e, s.t_us);
      max_queue = fmax(max_queue, s.max_queue_ms);
      min_a = fmin(min_a, a);
      max_a = fmax(max_a, a);
    }
  }
  print_message("estimate %.0f-%.0f, max queue %.0f ms\n", min_a, max_a, max_queue);
  assert_true(min_a > 0.8 * 500 && max_a < 1.1 * 500);
  assert_true(max_queue < 150);
}

static void test_gap_starts_over_and_feedback_cadence(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 500);
  for (int i = 0; i < 3; i++)
    sim_second(&s, 800);
  int64_t now = (int64_t)s.free_at_us; /* the last arrival */
  assert_true(ml_delay_est_feedback_due(&s.e, now));
  ml_delay_est_feedback_sent(&s.e, now);
  assert_false(ml_delay_est_feedback_due(&s.e, now + 500000));
  assert_true(ml_delay_est_feedback_due(&s.e, now + 1000000)); /* once a second */
  /* Video stops for 3 s: unknown, and no feedback. */
  assert_true(ml_delay_est_kbps(&s.e, now + 3000000) < 0);
  assert_false(ml_delay_est_feedback_due(&s.e, now + 3000000));
  s.t_us = now + 3000000;
  s.ts += 3 * 90000;
  s.free_at_us = (double)s.t_us;
  sim_second(&s, 200);
  assert_true(ml_delay_est_kbps(&s.e, s.t_us) < 0); /* started over */
}

/* Reordered and retransmitted packets (older timestamps) change nothing;
 * hostile timestamps do not crash it. */
static void test_old_and_odd_timestamps(void **state) {
  (void)state;
  ml_delay_est e;
  ml_delay_est_init(&e);
  int64_t t = 1000000;
  const uint32_t tss[] = {1000, 4000, 2000, 0xffffff00u, 7, 7, 0x80000000u, 3000, 1};
  for (size_t i = 0; i < sizeof tss / sizeof tss[0]; i++, t += 33000)
    ml_delay_est_on_packet(&e, t, tss[i], 1200);
  ml_delay_est_on_packet(&e, t - 500000, 5, 1200); /* time going backwards */
  assert_true(ml_delay_est_incoming_kbps(&e, t) >= 0);
  assert_int_equal(ml_delay_est_signal(&e), ML_DELAY_NORMAL);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_below_capacity_is_normal,
             test_jitter_is_not_overuse, test_queue_build_is_overuse, test_follows_a_growing_link,
             test_converges_below_the_link, test_gap_starts_over_and_feedback_cadence,
             test_old_and_odd_timestamps)
