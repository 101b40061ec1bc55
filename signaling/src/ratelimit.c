/* Token buckets. See ratelimit.h. */
#include "ratelimit.h"

static void refill(ml_ratelimit *rl, int64_t now_us) {
  if (now_us > rl->last_us) {
    rl->tokens += (double)(now_us - rl->last_us) * rl->rate / 1e6;
    if (rl->tokens > rl->burst)
      rl->tokens = rl->burst;
    rl->last_us = now_us; /* a clock that steps back never earns tokens */
  }
}

void ml_ratelimit_init(ml_ratelimit *rl, double rate, double burst, int64_t now_us) {
  rl->rate = rate;
  rl->burst = burst < 1 ? 1 : burst;
  rl->tokens = rl->burst;
  rl->last_us = now_us;
}

void ml_ratelimit_configure(ml_ratelimit *rl, double rate, double burst) {
  rl->rate = rate;
  rl->burst = burst < 1 ? 1 : burst;
  if (rl->tokens > rl->burst)
    rl->tokens = rl->burst;
}

bool ml_ratelimit_take(ml_ratelimit *rl, int64_t now_us) {
  if (rl->rate <= 0)
    return true;
  refill(rl, now_us);
  if (rl->tokens < 1.0)
    return false;
  rl->tokens -= 1.0;
  return true;
}

bool ml_ratelimit_idle(ml_ratelimit *rl, int64_t now_us) {
  if (rl->rate <= 0)
    return true;
  refill(rl, now_us);
  return rl->tokens >= rl->burst;
}
