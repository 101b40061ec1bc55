/* mentorlink — the receiver's delay-based bandwidth estimate (pure; private
 * to the engine).
 *
 * draft-ietf-rmcat-gcc-02's receive-side controller, shaped like libwebrtc's
 * InterArrival + TrendlineEstimator + OveruseDetector + AimdRateControl (the
 * ideas, not their code):
 *
 *   groups     video packets of one RTP timestamp (one frame) form a group;
 *              a packet with a newer timestamp closes the group before it.
 *              Older timestamps (reordering, RTX) are ignored here.
 *   gradient   for two closed groups, d = (arrival delta) - (RTP timestamp
 *              delta): how much longer the second took to arrive than it
 *              was apart at the sender. A growing queue makes it positive.
 *              A group that arrives within 5 ms of the previous one and
 *              ahead of its timestamp (a burst after a stall) is merged.
 *   trendline  acc += d; smoothed = 0.9 smoothed + 0.1 acc; the slope of a
 *              least-squares line through the last 20 (arrival, smoothed)
 *              points, times min(deltas, 60) and a gain of 4, is the
 *              modified trend m (ms).
 *   detector   against an adaptive threshold g (start 12.5, in [6, 600],
 *              g += k (|m| - g) dt with k 0.0087 when |m| > g and 0.039
 *              below; not adapted when |m| > g + 15): m > g for more than
 *              10 ms and two deltas, and not falling, is OVERUSE; m < -g is
 *              UNDERUSE; else NORMAL.
 *   AIMD       the estimate A starts unknown. OVERUSE: A = 0.85 R (R: the
 *              received video rate over the last second), once per 300 ms,
 *              and R is a sample of the link's capacity (link_capacity.h);
 *              UNDERUSE: hold (the queue is draining); NORMAL: additive
 *              within the capacity's band (ml_link_capacity_step_kbps of
 *              the capacity, or of its recent peak if higher, per second),
 *              multiplicative 8 % per second below it; past the band the link grew, the capacity is
 * forgotten, A grows 8 % per second, and 40 % per second (recovery) once above 1.5 x the capacity's
 * recent peak and 3 s after the last overuse. A never exceeds 1.5 R + 10 kbps (no estimate beyond
 * what was seen arriving).
 *
 * Times are monotonic microseconds passed in (g_get_monotonic_time on the
 * context thread that opened the datagram). No GLib, no allocation, no
 * clock; the caller owns the struct and serialises calls on it.
 *
 * Feedback (REMB, packet_check.h): ml_delay_est_feedback_due says when to
 * send the estimate: at once when it fell by 3 % or more since the last one
 * sent, else once a second; never while it is unknown.
 */
#ifndef ML_DELAY_EST_H
#define ML_DELAY_EST_H

#include <stdbool.h>
#include <stdint.h>

#include "link_capacity.h"

#define ML_DELAY_EST_WINDOW 20     /* trendline points */
#define ML_DELAY_EST_MIN_POINTS 6  /* a trend from this many (the gain is small then) */
#define ML_DELAY_EST_RATE_RING 512 /* packets remembered for the incoming rate */

typedef enum ml_delay_signal {
  ML_DELAY_NORMAL = 0,
  ML_DELAY_OVERUSE,
  ML_DELAY_UNDERUSE,
} ml_delay_signal;

typedef struct ml_delay_est {
  /* groups */
  bool have_group, have_prev;
  uint32_t group_ts, prev_ts;
  int64_t group_first_us, group_last_us, prev_last_us;
  /* trendline */
  double acc_ms, smoothed_ms;
  double pts_x[ML_DELAY_EST_WINDOW], pts_y[ML_DELAY_EST_WINDOW];
  unsigned n_pts, pt_pos, n_deltas;
  int64_t first_arrival_us;
  double prev_trend;
  /* detector */
  double threshold;
  int64_t last_threshold_us;
  bool have_threshold_time;
  double overuse_ms;
  unsigned overuse_count;
  ml_delay_signal signal;
  /* incoming rate */
  struct {
    int64_t at_us;
    uint32_t bytes;
  } ring[ML_DELAY_EST_RATE_RING];
  unsigned ring_head, ring_n;
  /* AIMD */
  double estimate_kbps;      /* < 0: unknown */
  ml_link_capacity capacity; /* the received rate at overuses */
  int64_t last_update_us, last_decrease_us;
  bool have_decrease;
  /* feedback */
  double sent_kbps; /* < 0: none sent */
  int64_t sent_us;
  int64_t last_packet_us;
} ml_delay_est;

void ml_delay_est_init(ml_delay_est *e);

/* One video packet (media SSRC, not RTX): its RTP timestamp, its size in
 * bytes (RTP header included) and when it arrived. */
void ml_delay_est_on_packet(ml_delay_est *e, int64_t now_us, uint32_t rtp_ts, uint32_t bytes);

/* Received video rate over the last second, kbps. */
double ml_delay_est_incoming_kbps(const ml_delay_est *e, int64_t now_us);

/* The estimate in kbps; negative while unknown. No video for 2 s makes it
 * unknown again (video paused: nothing to measure; it starts over). */
double ml_delay_est_kbps(const ml_delay_est *e, int64_t now_us);

ml_delay_signal ml_delay_est_signal(const ml_delay_est *e);

/* True when the estimate should go to the sender now; the caller sends it
 * and calls ml_delay_est_feedback_sent. */
bool ml_delay_est_feedback_due(const ml_delay_est *e, int64_t now_us);
void ml_delay_est_feedback_sent(ml_delay_est *e, int64_t now_us);

#endif /* ML_DELAY_EST_H */
