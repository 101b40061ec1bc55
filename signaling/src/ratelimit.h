/* mentorlink-signal — token buckets for rate limits.
 *
 * A bucket holds up to `burst` tokens and refills at `rate` tokens per second;
 * each event takes one. Time is passed in (microseconds, monotonic), so tests
 * and fuzzers control it. Plain structs, no allocation, not thread-safe.
 */
#ifndef ML_SIGNAL_RATELIMIT_H
#define ML_SIGNAL_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ml_ratelimit {
  double tokens;
  double rate;  /* tokens per second; <= 0 means unlimited */
  double burst; /* capacity */
  int64_t last_us;
} ml_ratelimit;

void ml_ratelimit_init(ml_ratelimit *rl, double rate, double burst, int64_t now_us);
/* Changes rate and burst (config reload), keeping the tokens already earned. */
void ml_ratelimit_configure(ml_ratelimit *rl, double rate, double burst);
/* Takes one token; false when the bucket is empty (the event is over the limit). */
bool ml_ratelimit_take(ml_ratelimit *rl, int64_t now_us);
/* True when the bucket is full again: an idle per-address entry can be dropped. */
bool ml_ratelimit_idle(ml_ratelimit *rl, int64_t now_us);

#endif /* ML_SIGNAL_RATELIMIT_H */
