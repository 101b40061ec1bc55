/* mentorlink — freeze: how long a peer's video stood still (pure; private to
 * the engine).
 *
 * A freeze is a gap between two decoded frames longer than
 * max(3 x the median interval of the last ML_FREEZE_WINDOW intervals,
 * ML_FREEZE_MIN_MS): the rule of the table, close to libwebrtc's
 * (which uses the mean and "+ 150 ms"). Every interval, freezes included,
 * enters the window, so a steady low frame rate stops counting as frozen
 * once it fills half the window; a stall after smooth video counts at once.
 *
 * The caller passes the time in (microseconds of a monotonic clock, as
 * g_get_monotonic_time gives it) and serialises calls (the receiver holds
 * its lock). Time that goes backwards counts as no time elapsed. No GLib,
 * no allocation.
 */
#ifndef ML_FREEZE_H
#define ML_FREEZE_H

#include <stdbool.h>
#include <stdint.h>

#define ML_FREEZE_WINDOW 30 /* intervals the median is taken over (~1 s at 30 fps) */
#define ML_FREEZE_MIN_MS 150

typedef struct ml_freeze {
  bool have_last;
  int64_t last_us;                /* the latest frame */
  int64_t ring[ML_FREEZE_WINDOW]; /* recent intervals, us */
  unsigned n, pos;                /* intervals held, next slot */
  int64_t threshold_us;           /* for the gap after the latest frame */
  int64_t frozen_us;              /* freezes that ended */
  uint64_t freezes;               /* how many ended */
} ml_freeze;

void ml_freeze_init(ml_freeze *f);

/* A frame decoded at now_us. Returns the length of the freeze it ended (us),
 * 0 when the gap before it was no freeze (or it is the first frame). */
int64_t ml_freeze_on_frame(ml_freeze *f, int64_t now_us);

/* The frozen time up to now_us: the freezes that ended, plus the gap since
 * the latest frame when it already exceeds the threshold (so a stall shows
 * while it lasts; the total never decreases as time goes on). */
int64_t ml_freeze_total_us(const ml_freeze *f, int64_t now_us);

/* The gap after the latest frame that would count as a freeze (us). */
int64_t ml_freeze_threshold_us(const ml_freeze *f);

/* Forgets the latest frame (and the window): the next frame starts afresh,
 * its gap not counted. For a stream that stopped on purpose (camera off).
 * A freeze under way at now_us ends there and is counted. */
void ml_freeze_restart(ml_freeze *f, int64_t now_us);

#endif /* ML_FREEZE_H */
