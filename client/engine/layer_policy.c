/* mentorlink — layer policy (see layer_policy.h). */
#include "layer_policy.h"

void ml_layer_policy_init(ml_layer_policy *p) {
  *p = (ml_layer_policy){.weak_since_ms = -1,
                         .good_since_ms = -1,
                         .demoted_ms = -1,
                         .promoted_ms = -1,
                         .retry_ms = ML_LAYER_RETRY_MS};
}

static void demote(ml_layer_policy *p, int64_t now_ms) {
  bool probe_failed = p->promoted_ms >= 0 && now_ms - p->promoted_ms < ML_LAYER_PROBE_WINDOW_MS;
  if (!probe_failed)
    p->retry_ms = ML_LAYER_RETRY_MS;
  else if (p->retry_ms < ML_LAYER_RETRY_MAX_MS / 2)
    p->retry_ms *= 2;
  else
    p->retry_ms = ML_LAYER_RETRY_MAX_MS;
  p->demoted = true;
  p->demoted_ms = now_ms;
  p->weak_since_ms = p->good_since_ms = -1;
  p->demotions++;
}

bool ml_layer_policy_update(ml_layer_policy *p, int64_t now_ms, bool congested, bool others_clean,
                            unsigned large_kbps, double estimate_kbps) {
  if (p->demoted) {
    if (congested || !(estimate_kbps >= ML_LAYER_PROMOTE_KBPS)) {
      p->good_since_ms = -1;
    } else if (p->good_since_ms < 0) {
      p->good_since_ms = now_ms;
    } else if (now_ms - p->good_since_ms >= (int64_t)p->retry_ms) {
      p->demoted = false;
      p->promoted_ms = now_ms;
    }
    return p->demoted;
  }
  if (!congested || !others_clean || large_kbps >= ML_LAYER_WEAK_KBPS) {
    p->weak_since_ms = -1;
    return false;
  }
  if (p->weak_since_ms < 0)
    p->weak_since_ms = now_ms;
  else if (now_ms - p->weak_since_ms >= ML_LAYER_WEAK_MS)
    demote(p, now_ms);
  return p->demoted;
}
