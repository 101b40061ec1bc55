/* The receiver's delay-based estimate: contract and rules in delay_est.h. */
#include "delay_est.h"

#include <math.h>
#include <string.h>

#define US_PER_MS 1000.0
#define VIDEO_TS_PER_MS 90.0
#define BURST_US 5000        /* groups closer than this, ahead of time: one burst */
#define RESET_GAP_US 2000000 /* no video this long: start over */
#define MAX_TS_GAP_MS 3000.0 /* a timestamp jump beyond: no gradient across it */
#define SMOOTHING 0.9
#define TREND_GAIN 4.0
#define TREND_DELTAS_CAP 60
#define THRESHOLD_START 12.5
#define THRESHOLD_MIN 6.0
#define THRESHOLD_MAX 600.0
#define K_UP 0.0087
#define K_DOWN 0.039
#define OVERUSE_TIME_MS 10.0
#define BETA 0.85
#define DECREASE_GAP_US 300000
#define INCREASE_PER_S 1.08
#define FAST_PER_S 1.4        /* past the old capacity: the link grew, recover fast */
#define FAST_AFTER_US 3000000 /* ... once no overuse was seen for this long */
#define RATE_WINDOW_US 1000000
#define MIN_ESTIMATE_KBPS 10.0
#define FEEDBACK_DROP 0.97
#define FEEDBACK_EVERY_US 1000000

void ml_delay_est_init(ml_delay_est *e) {
  memset(e, 0, sizeof *e);
  e->threshold = THRESHOLD_START;
  e->estimate_kbps = -1;
  ml_link_capacity_init(&e->capacity);
  e->sent_kbps = -1;
  e->overuse_ms = -1;
}

static void rate_push(ml_delay_est *e, int64_t now, uint32_t bytes) {
  unsigned i = (e->ring_head + e->ring_n) % ML_DELAY_EST_RATE_RING;
  if (e->ring_n == ML_DELAY_EST_RATE_RING) { /* full: the oldest goes */
    i = e->ring_head;
    e->ring_head = (e->ring_head + 1) % ML_DELAY_EST_RATE_RING;
  } else {
    e->ring_n++;
  }
  e->ring[i].at_us = now;
  e->ring[i].bytes = bytes;
}

double ml_delay_est_incoming_kbps(const ml_delay_est *e, int64_t now) {
  uint64_t bytes = 0;
  int64_t oldest = now;
  for (unsigned k = 0; k < e->ring_n; k++) {
    unsigned i = (e->ring_head + k) % ML_DELAY_EST_RATE_RING;
    if (e->ring[i].at_us < oldest)
      oldest = e->ring[i].at_us;
    if (e->ring[i].at_us > now - RATE_WINDOW_US && e->ring[i].at_us <= now)
      bytes += e->ring[i].bytes;
  }
  /* Over the window, or what the ring holds if that is shorter (the start,
   * or more packets than it holds at a high rate). */
  double span_us = fmin((double)(now - oldest), RATE_WINDOW_US);
  if (span_us < 100000)
    span_us = 100000;
  return (double)bytes * 8.0 / 1000.0 / (span_us / 1e6);
}

static double trend_slope(const ml_delay_est *e) {
  double mx = 0, my = 0;
  for (unsigned i = 0; i < e->n_pts; i++) {
    mx += e->pts_x[i];
    my += e->pts_y[i];
  }
  mx /= e->n_pts;
  my /= e->n_pts;
  double num = 0, den = 0;
  for (unsigned i = 0; i < e->n_pts; i++) {
    num += (e->pts_x[i] - mx) * (e->pts_y[i] - my);
    den += (e->pts_x[i] - mx) * (e->pts_x[i] - mx);
  }
  return den > 0 ? num / den : 0;
}

static void threshold_update(ml_delay_est *e, double m, int64_t now) {
  if (!e->have_threshold_time) {
    e->have_threshold_time = true;
    e->last_threshold_us = now;
  }
  double am = fabs(m);
  if (am > e->threshold + 15.0) { /* a spike (a busy host): do not adapt to it */
    e->last_threshold_us = now;
    return;
  }
  double k = am < e->threshold ? K_DOWN : K_UP;
  double dt = (double)(now - e->last_threshold_us) / US_PER_MS;
  if (dt > 100)
    dt = 100;
  if (dt < 0)
    dt = 0;
  e->threshold += k * (am - e->threshold) * dt;
  e->threshold = fmin(fmax(e->threshold, THRESHOLD_MIN), THRESHOLD_MAX);
  e->last_threshold_us = now;
}

static void detect(ml_delay_est *e, double m, double ts_delta_ms, int64_t now) {
  if (e->n_deltas < 2) {
    e->signal = ML_DELAY_NORMAL;
  } else if (m > e->threshold) {
    e->overuse_ms = e->overuse_ms < 0 ? ts_delta_ms / 2 : e->overuse_ms + ts_delta_ms;
    e->overuse_count++;
    if (e->overuse_ms > OVERUSE_TIME_MS && e->overuse_count > 1 && m >= e->prev_trend) {
      e->signal = ML_DELAY_OVERUSE;
      e->overuse_ms = 0;
      e->overuse_count = 0;
    }
  } else if (m < -e->threshold) {
    e->overuse_ms = -1;
    e->overuse_count = 0;
    e->signal = ML_DELAY_UNDERUSE;
  } else {
    e->overuse_ms = -1;
    e->overuse_count = 0;
    e->signal = ML_DELAY_NORMAL;
  }
  e->prev_trend = m;
  threshold_update(e, m, now);
}

static void aimd(ml_delay_est *e, int64_t now) {
  double r = ml_delay_est_incoming_kbps(e, now);
  double dt_s = e->last_update_us ? (double)(now - e->last_update_us) / 1e6 : 0;
  if (dt_s > 1)
    dt_s = 1;
  if (dt_s < 0)
    dt_s = 0;
  e->last_update_us = now;
  switch (e->signal) {
  case ML_DELAY_OVERUSE:
    if (!e->have_decrease || now - e->last_decrease_us >= DECREASE_GAP_US) {
      double a = BETA * r;
      e->estimate_kbps = e->estimate_kbps < 0 ? a : fmin(e->estimate_kbps, a);
      ml_link_capacity_sample(&e->capacity, now / 1000, r); /* what the link carried */
      e->have_decrease = true;
      e->last_decrease_us = now;
    }
    break;
  case ML_DELAY_UNDERUSE: break; /* the queue drains: hold */
  case ML_DELAY_NORMAL:
    if (e->estimate_kbps < 0)
      break; /* unknown until the first overuse: the loss rules steer */
    (void)ml_link_capacity_passed(&e->capacity, e->estimate_kbps); /* the link grew */
    /* Well past what the link carried, and no overuse for a while: recover fast. */
    bool fast = ml_link_capacity_fast(&e->capacity, now / 1000, e->estimate_kbps) &&
                (!e->have_decrease || now - e->last_decrease_us >= FAST_AFTER_US);
    if (ml_link_capacity_near(&e->capacity, e->estimate_kbps))
      e->estimate_kbps += ml_link_capacity_step_kbps(fmax(
                              e->capacity.kbps, ml_link_capacity_peak(&e->capacity, now / 1000))) *
                          dt_s;
    else
      e->estimate_kbps *= pow(fast ? FAST_PER_S : INCREASE_PER_S, dt_s);
    break;
  }
  if (e->estimate_kbps >= 0) {
    e->estimate_kbps = fmin(e->estimate_kbps, 1.5 * r + 10.0);
    e->estimate_kbps = fmax(e->estimate_kbps, MIN_ESTIMATE_KBPS);
  }
}

static void on_group_gradient(ml_delay_est *e, double d_ms, double ts_delta_ms, int64_t arrival) {
  if (e->n_deltas < 1000)
    e->n_deltas++;
  e->acc_ms += d_ms;
  e->smoothed_ms = SMOOTHING * e->smoothed_ms + (1 - SMOOTHING) * e->acc_ms;
  e->pts_x[e->pt_pos] = (double)(arrival - e->first_arrival_us) / US_PER_MS;
  e->pts_y[e->pt_pos] = e->smoothed_ms;
  e->pt_pos = (e->pt_pos + 1) % ML_DELAY_EST_WINDOW;
  if (e->n_pts < ML_DELAY_EST_WINDOW)
    e->n_pts++;
  double m = e->prev_trend;
  if (e->n_pts >= ML_DELAY_EST_MIN_POINTS) {
    unsigned n = e->n_deltas < TREND_DELTAS_CAP ? e->n_deltas : TREND_DELTAS_CAP;
    m = n * trend_slope(e) * TREND_GAIN;
  }
  detect(e, m, ts_delta_ms, arrival);
  aimd(e, arrival);
}

void ml_delay_est_on_packet(ml_delay_est *e, int64_t now, uint32_t ts, uint32_t bytes) {
  if (e->last_packet_us != 0 && now - e->last_packet_us > RESET_GAP_US) {
    ml_delay_est_init(e); /* video was paused: the old path state says nothing */
  }
  if (now < e->last_packet_us)
    now = e->last_packet_us; /* time never goes backwards here */
  e->last_packet_us = now;
  if (e->first_arrival_us == 0)
    e->first_arrival_us = now;
  rate_push(e, now, bytes);
  if (!e->have_group) {
    e->have_group = true;
    e->group_ts = ts;
    e->group_first_us = e->group_last_us = now;
    return;
  }
  if (ts == e->group_ts) {
    e->group_last_us = now;
    return;
  }
  if ((int32_t)(ts - e->group_ts) < 0)
    return; /* older: reordered or retransmitted */
  double ts_delta_ms = (double)(uint32_t)(ts - e->group_ts) / VIDEO_TS_PER_MS;
  int64_t since_last = now - e->group_last_us;
  if (since_last < BURST_US && (double)since_last / US_PER_MS - ts_delta_ms < 0) {
    e->group_ts = ts; /* a burst after a stall: one group */
    e->group_last_us = now;
    return;
  }
  if (e->have_prev) {
    double pdelta = (double)(uint32_t)(e->group_ts - e->prev_ts) / VIDEO_TS_PER_MS;
    if (pdelta <= MAX_TS_GAP_MS) {
      double d = (double)(e->group_last_us - e->prev_last_us) / US_PER_MS - pdelta;
      on_group_gradient(e, d, pdelta, e->group_last_us);
    }
  }
  e->have_prev = true;
  e->prev_ts = e->group_ts;
  e->prev_last_us = e->group_last_us;
  e->group_ts = ts;
  e->group_first_us = e->group_last_us = now;
}

double ml_delay_est_kbps(const ml_delay_est *e, int64_t now) {
  if (e->last_packet_us == 0 || now - e->last_packet_us > RESET_GAP_US)
    return -1;
  return e->estimate_kbps;
}

ml_delay_signal ml_delay_est_signal(const ml_delay_est *e) { return e->signal; }

bool ml_delay_est_feedback_due(const ml_delay_est *e, int64_t now) {
  double a = ml_delay_est_kbps(e, now);
  if (a < 0)
    return false;
  return e->sent_kbps < 0 || a <= FEEDBACK_DROP * e->sent_kbps ||
         now - e->sent_us >= FEEDBACK_EVERY_US;
}

void ml_delay_est_feedback_sent(ml_delay_est *e, int64_t now) {
  e->sent_kbps = e->estimate_kbps;
  e->sent_us = now;
}
