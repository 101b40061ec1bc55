/* mentorlink — the media receiver's policy (see recv_policy.h). */
#include "recv_policy.h"

static unsigned clampu(unsigned v, unsigned lo, unsigned hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

void ml_recv_latency_init(ml_recv_latency *l, unsigned min_ms, unsigned max_ms, unsigned start_ms) {
  l->min_ms = min_ms == 0 ? ML_RECV_LATENCY_MIN_MS : min_ms;
  l->max_ms = max_ms == 0 ? ML_RECV_LATENCY_MAX_MS : max_ms;
  if (l->max_ms < l->min_ms)
    l->max_ms = l->min_ms;
  l->latency_ms = clampu(start_ms == 0 ? ML_RECV_LATENCY_START_MS : start_ms, l->min_ms, l->max_ms);
  l->loss_hold = 0;
  l->packets_lost = 0;
}

bool ml_recv_latency_update(ml_recv_latency *l, const ml_recv_latency_input *in) {
  if (in->packets_lost > l->packets_lost)
    l->loss_hold = ML_RECV_LOSS_HOLD_UPDATES;
  else if (l->loss_hold > 0)
    l->loss_hold--;
  l->packets_lost = in->packets_lost;
  double frame_ms = 1000.0 / (in->fps >= 5.0 ? in->fps : 30.0);
  double want = 4.0 * in->jitter_ms + 20.0;
  if (l->loss_hold > 0)
    want += 1.5 * frame_ms + (in->rtx_rtt_ms > 5.0 ? in->rtx_rtt_ms : 5.0) + 10.0;
  unsigned target = clampu((unsigned)want, l->min_ms, l->max_ms);
  if (target + ML_RECV_LATENCY_STEP_MS <= l->latency_ms ||
      target >= l->latency_ms + ML_RECV_LATENCY_STEP_MS) {
    l->latency_ms = target;
    return true;
  }
  return false;
}

void ml_recv_nack_bucket_init(ml_recv_nack_bucket *b, int64_t now_us) {
  b->tokens = ML_RECV_NACK_BURST;
  b->refill_us = now_us;
}

bool ml_recv_nack_allowed(ml_recv_nack_bucket *b, int64_t now_us) {
  double tokens = b->tokens + (double)(now_us - b->refill_us) * ML_RECV_NACK_PER_S / 1e6;
  b->tokens = tokens > ML_RECV_NACK_BURST ? ML_RECV_NACK_BURST : tokens;
  b->refill_us = now_us;
  bool ok = b->tokens >= 1.0;
  if (ok)
    b->tokens -= 1.0;
  return ok;
}

bool ml_recv_pli_due(int64_t last_pli_us, int64_t now_us) {
  return now_us - last_pli_us >= ML_RECV_PLI_MIN_INTERVAL_US;
}

ml_recv_first_frame_pli ml_recv_first_frame_pli_step(bool frame_decoded, uint64_t video_packets) {
  if (frame_decoded)
    return ML_RECV_FIRST_PLI_STOP;
  return video_packets > 0 ? ML_RECV_FIRST_PLI_SEND : ML_RECV_FIRST_PLI_WAIT;
}
