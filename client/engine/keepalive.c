/* mentorlink — the peer link's keepalive and liveness policy (see keepalive.h). */
#include "keepalive.h"

#include <assert.h>

void ml_keepalive_init(ml_keepalive *k, uint32_t keepalive_ms, uint32_t silence_ms,
                       uint32_t path_timeout_ms, int64_t now_us) {
  assert(k && keepalive_ms && silence_ms && path_timeout_ms);
  *k = (ml_keepalive){.keepalive_ms = keepalive_ms,
                      .silence_ms = silence_ms,
                      .path_timeout_ms = path_timeout_ms,
                      .last_send_us = now_us};
}

void ml_keepalive_sent(ml_keepalive *k, int64_t now_us) { k->last_send_us = now_us; }

bool ml_keepalive_send_due(const ml_keepalive *k, int64_t now_us, uint32_t *next_ms) {
  int64_t period = (int64_t)k->keepalive_ms * 1000;
  int64_t idle = now_us - k->last_send_us;
  bool due = idle >= period;
  if (due)
    idle = 0;
  *next_ms = (uint32_t)((period - idle + 999) / 1000);
  return due;
}

void ml_keepalive_secure(ml_keepalive *k, int64_t now_us) {
  k->last_recv_us = k->silence_from_us = now_us;
  k->path_lost_reported = false;
}

bool ml_keepalive_received(ml_keepalive *k, bool secure, int64_t now_us) {
  /* Longer than the peer's keepalive period without a datagram: an outage. */
  bool after_outage = secure && now_us - k->last_recv_us > ((int64_t)k->keepalive_ms + 1000) * 1000;
  ml_keepalive_secure(k, now_us);
  return after_outage;
}

void ml_keepalive_restarted(ml_keepalive *k, int64_t now_us) {
  k->silence_from_us = now_us;
  k->path_lost_reported = false;
}

ml_keepalive_verdict ml_keepalive_check(ml_keepalive *k, int64_t now_us) {
  if (now_us - k->last_recv_us >= (int64_t)k->path_timeout_ms * 1000)
    return ML_KEEPALIVE_PATH_TIMEOUT;
  if (!k->path_lost_reported && now_us - k->silence_from_us >= (int64_t)k->silence_ms * 1000) {
    k->path_lost_reported = true;
    return ML_KEEPALIVE_PATH_LOST;
  }
  return ML_KEEPALIVE_ALIVE;
}

uint32_t ml_keepalive_check_interval_ms(const ml_keepalive *k) {
  uint32_t half = k->silence_ms / 2 + 1;
  return half < 1000u ? half : 1000u;
}

uint64_t ml_keepalive_silent_ms(const ml_keepalive *k, int64_t now_us) {
  return (uint64_t)(now_us - k->last_recv_us) / 1000;
}
