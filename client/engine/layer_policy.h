/* mentorlink — layer policy: when a peer that asked for the large layer is
 * sent the small one because its link is weak (pure; private to the engine).
 *
 * One encoder per layer serves everyone, so the large layer's rate follows
 * the weakest peer it is sent to (ml/rate.h). A peer whose link holds the
 * large layer's rate down for others is moved to the small layer, which has
 * its own rate controller; the others' large layer then recovers. The rule:
 *
 *   demote   the peer is congested (its reports: loss >= 5 %, or its
 *            delay-based estimate below 3/4 of the best other one), another
 *            peer sent the large layer is not, and the large layer's target
 *            is below ML_LAYER_WEAK_KBPS, all for ML_LAYER_WEAK_MS in a row;
 *   promote  once the peer's reports on the small layer have been clean
 *            and its estimate at least ML_LAYER_PROMOTE_KBPS (its link would
 *            carry more than the small layer: a receiver's estimate grows to
 *            1.5 x what arrives) for ML_LAYER_RETRY_MS in a row (the first
 *            time); a demotion within ML_LAYER_PROBE_WINDOW_MS of the
 *            promotion doubles that wait (up to ML_LAYER_RETRY_MAX_MS), a
 *            later one starts it again. A link that stays weak is not tried
 *            again, so the others are not pulled down over and over.
 *
 * A peer alone on the large layer is never demoted: with nobody to hold
 * back, the large layer's ladder (ladder.h) serves it as in a 1:1 call. The
 * caller decides what "congested" is from the peer's reports and passes it
 * with the time (milliseconds of a monotonic clock). No GLib, no clock.
 */
#ifndef ML_LAYER_POLICY_H
#define ML_LAYER_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define ML_LAYER_WEAK_KBPS 500 /* the ladder's 360p threshold */
#define ML_LAYER_WEAK_MS 2000
#define ML_LAYER_PROMOTE_KBPS 350
#define ML_LAYER_RETRY_MS 10000
#define ML_LAYER_RETRY_MAX_MS 120000
#define ML_LAYER_PROBE_WINDOW_MS 15000

typedef struct ml_layer_policy {
  bool demoted;                    /* sent the small layer for its link's sake */
  int64_t weak_since_ms;           /* the demotion rule has held since; -1 */
  int64_t good_since_ms;           /* demoted, and the promotion rule has held since; -1 */
  int64_t demoted_ms, promoted_ms; /* -1 before the first */
  unsigned retry_ms;               /* the wait before the next promotion */
  unsigned demotions;
} ml_layer_policy;

void ml_layer_policy_init(ml_layer_policy *p);

/* One step (each report of the peer, or the once-a-second tick).
 * congested: this peer's latest reports say so; others_clean: another peer
 * sent the large layer is not congested; large_kbps: the large layer's
 * target; estimate_kbps: the peer's own delay-based estimate (< 0: none).
 * Returns whether the peer is demoted now. */
bool ml_layer_policy_update(ml_layer_policy *p, int64_t now_ms, bool congested, bool others_clean,
                            unsigned large_kbps, double estimate_kbps);

#endif /* ML_LAYER_POLICY_H */
