/* The link's capacity, averaged: contract and rules in link_capacity.h. */
#include "link_capacity.h"

#include <math.h>

#define ALPHA 0.05
#define DEVIATION_START 0.4
#define DEVIATION_MIN 0.4
#define DEVIATION_MAX 2.5
#define BAND 3.0
#define PEAK_MEMORY_MS 60000
#define PEAK_FACTOR 1.5
#define STEP_SHARE 0.1 /* near the capacity: a tenth of it per second */
#define STEP_MIN_KBPS 5.0

/* Forgets the band; the peak stays. */
static void forget_band(ml_link_capacity *c) {
  c->kbps = -1;
  c->deviation = DEVIATION_START;
}

void ml_link_capacity_init(ml_link_capacity *c) {
  forget_band(c);
  c->peak_kbps = 0;
  c->peak_ms = 0;
}

double ml_link_capacity_peak(const ml_link_capacity *c, int64_t now) {
  return now - c->peak_ms < PEAK_MEMORY_MS ? c->peak_kbps : 0.0;
}

bool ml_link_capacity_known(const ml_link_capacity *c) { return c->kbps >= 0; }

static double spread(const ml_link_capacity *c) { return BAND * sqrt(c->deviation * c->kbps); }

double ml_link_capacity_lower(const ml_link_capacity *c) {
  return ml_link_capacity_known(c) ? fmax(0.0, c->kbps - spread(c)) : 0.0;
}

double ml_link_capacity_upper(const ml_link_capacity *c) {
  return ml_link_capacity_known(c) ? c->kbps + spread(c) : INFINITY;
}

void ml_link_capacity_sample(ml_link_capacity *c, int64_t now, double kbps) {
  if (!isfinite(kbps) || kbps < 0)
    return;
  if (kbps >= ml_link_capacity_peak(c, now)) {
    c->peak_kbps = kbps;
    c->peak_ms = now;
  }
  if (ml_link_capacity_known(c) && kbps < ml_link_capacity_lower(c))
    forget_band(c); /* a thinner link: start over from this sample */
  if (!ml_link_capacity_known(c)) {
    c->kbps = kbps;
    return;
  }
  c->kbps = (1 - ALPHA) * c->kbps + ALPHA * kbps;
  double err = c->kbps - kbps;
  c->deviation = (1 - ALPHA) * c->deviation + ALPHA * err * err / fmax(c->kbps, 1.0);
  c->deviation = fmin(fmax(c->deviation, DEVIATION_MIN), DEVIATION_MAX);
}

bool ml_link_capacity_near(const ml_link_capacity *c, double rate_kbps) {
  return ml_link_capacity_known(c) && rate_kbps >= ml_link_capacity_lower(c);
}

double ml_link_capacity_step_kbps(double base_kbps) {
  return fmax(STEP_SHARE * base_kbps, STEP_MIN_KBPS);
}

bool ml_link_capacity_passed(ml_link_capacity *c, double rate_kbps) {
  if (!ml_link_capacity_known(c) || rate_kbps <= ml_link_capacity_upper(c))
    return false;
  forget_band(c);
  return true;
}

bool ml_link_capacity_fast(const ml_link_capacity *c, int64_t now, double rate_kbps) {
  return !ml_link_capacity_known(c) && rate_kbps > PEAK_FACTOR * ml_link_capacity_peak(c, now);
}
