/* mentorlink — what a path carried when it last congested: the link's
 * capacity, averaged (pure; private to the engine).
 *
 * Both rate controllers (the sender's, rate.c, and the receiver's
 * delay-based estimate, delay_est.c) grow fast while they are far below the
 * path's capacity and gently near it. What "near" means comes from here,
 * shaped like libwebrtc's LinkCapacityEstimator (the idea, not its code):
 *
 *   sample     the throughput seen at a congestion signal (the received rate
 *              at a delay overuse; what got through at a loss decrease);
 *   estimate   the first sample, then c = 0.95 c + 0.05 sample;
 *   deviation  v = 0.95 v + 0.05 (c - sample)^2 / max(c, 1), held in
 *              [0.4, 2.5]; the band is c -/+ 3 sqrt(v c) kbps;
 *   below      a sample under the band's lower edge starts over from it
 *              (the link got thinner: a new bottleneck, not noise);
 *   above      a rate past the upper edge (ml_link_capacity_passed) means
 *              the link grew: the estimate is forgotten;
 *   peak       the largest sample of the last 60 s is kept apart from the
 *              band: it is not forgotten with it. A controller recovers
 *              fast (40 %/s) only above 1.5 x that peak
 *              (ml_link_capacity_fast): after a collapse the first samples
 *              are low (the sender had cut its rate) and the band passes
 *              them long before the link's real limit, which is where the
 *              peak is.
 *
 * One sample taken in a collapse (a deep queue that dropped most packets)
 * therefore no longer defines the link: the next overuses move the estimate
 * to where the link really congests, and only a rate well past it (not 1.2 x
 * one low sample) counts as growth.
 *
 * Time is milliseconds of a monotonic clock, passed in. No clock, no
 * allocation, no GLib; the caller owns the struct.
 */
#ifndef ML_LINK_CAPACITY_H
#define ML_LINK_CAPACITY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ml_link_capacity {
  double kbps;      /* < 0: unknown */
  double deviation; /* normalised variance, see above */
  double peak_kbps; /* the largest sample since peak_ms; 0 none */
  int64_t peak_ms;
} ml_link_capacity;

void ml_link_capacity_init(ml_link_capacity *c);

/* A throughput sample at a congestion signal (kbps, >= 0; others ignored). */
void ml_link_capacity_sample(ml_link_capacity *c, int64_t now_ms, double kbps);

bool ml_link_capacity_known(const ml_link_capacity *c);

/* The band's edges; lower 0 and upper +inf while unknown. */
double ml_link_capacity_lower(const ml_link_capacity *c);
double ml_link_capacity_upper(const ml_link_capacity *c);

/* True when a band is known and rate_kbps is at or above its lower edge:
 * near the capacity, where both controllers grow additively. */
bool ml_link_capacity_near(const ml_link_capacity *c, double rate_kbps);

/* The additive increase per second near a capacity of base_kbps: a tenth of
 * it, at least 5 kbps (a fixed step would be 40 %/s on a 100 kbps link). */
double ml_link_capacity_step_kbps(double base_kbps);

/* True (and the estimate forgotten) when rate_kbps is past the upper edge. */
bool ml_link_capacity_passed(ml_link_capacity *c, double rate_kbps);

/* The largest sample of the last 60 s; 0 none. */
double ml_link_capacity_peak(const ml_link_capacity *c, int64_t now_ms);

/* True when a rate of rate_kbps may grow at the fast pace: no band known,
 * and above 1.5 x the peak of the last 60 s (or no peak). */
bool ml_link_capacity_fast(const ml_link_capacity *c, int64_t now_ms, double rate_kbps);

#endif /* ML_LINK_CAPACITY_H */
