/* mentorlink — rate: the sender's congestion controller (pure logic).
 *
 * Debian ships no GStreamer congestion-control element, so the video target
 * bitrate is decided here from the RTCP receiver reports each peer sends about
 * our media (ml_media_rtcp_info: fraction lost, round-trip time). The module
 * holds no GLib, GStreamer or clock: the caller passes the time in
 * (milliseconds of a monotonic clock) and applies the decision through the
 * ml_media_sender setters. That is what makes it testable report by report.
 *
 * Loss, after draft-ietf-rmcat-gcc-02 section 6 but told apart from
 * congestion: a queue that overflows raises the delay before it drops, so
 * loss counts as congestion only together with a delay rise (below), or
 * when it is severe. Random loss (a radio link, a lossy hop) is repaired by
 * Opus in-band FEC and NACK/RTX, and cutting the rate does not reduce it.
 * Each update reads the worst peer's latest report:
 *   overuse (delay, below)            rate * 0.85;
 *   loss >= 25 %                      rate * (1 - 0.5 * loss), whatever the
 *                                     delay says (a policer, a broken path);
 *   loss > 10 % and the delay raised  rate * (1 - 0.5 * loss);
 *   (or the RTT unknown)
 *   a delay rise (elevated) alone     hold;
 *   loss 2 .. 25 %, delay normal      random loss: increase at 4 % per second;
 *   (with the RTT unknown             hold, as GCC does for 2-10 %;)
 *   loss < 2 %, delay normal          increase by 8 % per second; after 3 s
 *                                     of such updates in a row, with no
 *                                     capacity band known and the rate
 *                                     above 1.5 x its recent peak, by
 *                                     40 % per second: recovery once a link
 *                                     is clean again (libwebrtc probes for
 *                                     it), while on a steady bottleneck the
 *                                     8 % pace meets it first;
 * the capacity (link_capacity.h) averages what got through at each decrease
 * (the rate x (1 - loss); an estimate's rate / 0.85) and is forgotten once
 * the rate passes its band (the link grew) or feedback stops; within the
 * band the increase is additive instead (a tenth of the capacity per
 * second, at least 5 kbps), as the receiver's estimate grows;
 * increases are per second elapsed since the previous update (at most one
 * second's worth per update, so a peer flooding reports cannot ramp
 * faster); a decrease once per fresh report of a congested peer and at most
 * once per 300 ms + RTT (a report already acted on is never counted twice).
 * The price: a policer that drops without queueing is seen only from 25 %
 * loss, so the rate swings between its cap and 1.33 x the cap there.
 * Delay-based part, from RTT (a sender sees no one-way delay in receiver
 * reports): each peer keeps the minimum RTT of the last ~30 s (two 15 s
 * buckets) as its path's base. An RTT above base + margin on two consecutive
 * reports is overuse (but only a hold while the peer's receiver sends a
 * fresh estimate, below: that has already answered the queue, and cutting
 * twice empties the link). margin = max(50 ms, base / 4,
 * 2 x RTT variation): RFC 6298's RTTVAR, so a noisy RTT widens it. An RTT
 * above base + margin / 2 is elevated. RTT includes both hosts' scheduling; a
 * persistent queue becomes the new base after the window (the price of a
 * sender-only estimate).
 *
 * Delay-based estimate from the receivers (ml_rate_on_estimate): each
 * receiver runs GCC's arrival-time filter on our video (trendline over the
 * delay gradient, overuse detector, AIMD on its received rate: delay_est.h)
 * and sends its estimate back as REMB. The target is min(the rules above,
 * the lowest fresh estimate): the sender backs off as the queue starts to
 * build, before loss or the once-a-second RTT can tell. An estimate does
 * not pause video by itself (it follows the received rate, low whenever
 * the encoder undershoots): the pause needs loss, an RTT rise or silence.
 *
 * Several peers (encode once, fan out): one controller serves one encoder,
 * so its target is driven by the worst of the peers it hears: nobody is sent
 * more than their path carries. A call runs one per video layer (ml/media.h,
 * "Layers"), each fed only by the peers sent that layer, and moves a peer
 * whose link holds the large layer down to the small one (layer_policy.h),
 * so one weak peer no longer lowers quality for everyone. A peer is known from
 * its first report until ml_rate_remove_peer; a known peer with no report for
 * feedback_timeout_ms counts as congested (loss 100 %): feedback that stops
 * is the worst sign, not a neutral one.
 *
 * Audio-first pause: when the rate sits at min_kbps and the path is still
 * congested (as above, or feedback timeout) for pause_after_ms, video is
 * paused (audio keeps going). While paused, reports (the caller passes the
 * audio block's loss: paused video reports 0 lost of 0 sent) must be
 * clean (no RTT rise and loss below 25 %: random loss does not hold video
 * back) for resume_wait; then video resumes at
 * min_kbps, a probe that grows at the normal pace. A probe that fails
 * (paused again within probe_window_ms of the resume) doubles resume_wait
 * (from resume_after_ms up to 60 s); a pause long after the last resume
 * starts from resume_after_ms again.
 *
 * Opus FEC: audio_loss_percent follows the worst peer's loss, fast up and
 * slowly down (est = loss if higher, else 0.8 est + 0.2 loss), in whole percent.
 *
 * Inputs are validated: a report with a NaN or infinite loss is ignored
 * (ML_ERR_INVALID); loss outside [0, 1] is clamped; an RTT that is negative,
 * NaN, infinite or above 60 s is treated as unknown (loss still counts). Time
 * that goes backwards is treated as no time elapsed.
 *
 * Threads: none of its own; one object is used by one thread at a time.
 * Errors: ml_err codes.
 */
#ifndef ML_RATE_H
#define ML_RATE_H

#include <stdbool.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_RATE_MAX_PEERS 16 /* peers tracked; reports from more are refused */

typedef struct ml_rate_config {
  unsigned min_kbps;            /* video floor; 0 selects 50 */
  unsigned max_kbps;            /* 0 selects 1200 */
  unsigned start_kbps;          /* 0 selects 800; clamped to [min, max] */
  unsigned min_interval_ms;     /* between two updates; 0 selects 250 */
  unsigned feedback_timeout_ms; /* 0 selects 4000 */
  unsigned pause_after_ms;      /* congested at the floor this long: pause; 0 selects 5000 */
  unsigned resume_after_ms;     /* clean this long: resume (first try); 0 selects 5000 */
  unsigned probe_window_ms;     /* a pause this soon after a resume failed the probe;
                                   0 selects 15000 */
  bool no_pause;                /* never pause (e.g. no audio: reports would stop) */
} ml_rate_config;

/* What the caller applies to the sender. */
typedef enum ml_rate_action {
  ML_RATE_HOLD = 0,
  ML_RATE_INCREASE,
  ML_RATE_DECREASE,
} ml_rate_action;

/* Why the latest update did what it did (for stats and the window). */
typedef enum ml_rate_reason {
  ML_RATE_REASON_START = 0,        /* no update yet */
  ML_RATE_REASON_PROBE,            /* clean: increasing */
  ML_RATE_REASON_RANDOM_LOSS,      /* loss without a delay rise: increasing slowly */
  ML_RATE_REASON_LOSS,             /* congestion seen as loss */
  ML_RATE_REASON_DELAY,            /* a delay rise: hold or decrease */
  ML_RATE_REASON_FEEDBACK_TIMEOUT, /* a peer's reports stopped */
  ML_RATE_REASON_PAUSED,           /* video paused, audio goes on */
  ML_RATE_REASON_RESUME,           /* video resumed at the floor */
} ml_rate_reason;

/* A short English name ("probe", "random-loss", "loss", "delay", ...). */
const char *ml_rate_reason_name(ml_rate_reason reason);

typedef struct ml_rate_decision {
  unsigned video_kbps;         /* ml_media_sender_set_video_kbps */
  bool video_paused;           /* ml_media_sender_set_video_paused */
  unsigned audio_loss_percent; /* ml_media_sender_set_audio_loss_percent, 0..100 */
  ml_rate_action last_action;  /* what the latest update did (for stats and tests) */
  ml_rate_reason reason;       /* and why */
  double worst_loss;           /* 0..1, the worst known peer's latest report */
  uint64_t updates;            /* updates run so far */
} ml_rate_decision;

typedef struct ml_rate ml_rate;

/* cfg may be NULL (all defaults). Errors: ML_ERR_INVALID (min > max),
 * ML_ERR_NOMEM. */
int ml_rate_new(ml_rate **out, const ml_rate_config *cfg) ML_MUST_CHECK;

/* One receiver report from the peer identified by key (any stable non-NULL
 * pointer of the caller's; it is never dereferenced). loss is the fraction
 * lost (0..1), rtt_ms negative when unknown. Runs an update unless the
 * previous one is less than min_interval_ms old (the report is still stored
 * and counts at the next update). Errors: ML_ERR_INVALID (NaN/infinite loss;
 * ignored), ML_ERR_TOO_BIG (ML_RATE_MAX_PEERS peers already known). */
int ml_rate_on_report(ml_rate *rc, const void *key, int64_t now_ms, double loss,
                      double rtt_ms) ML_MUST_CHECK;

/* The peer's delay-based estimate (REMB from its receiver, delay_est.h), in
 * kbps: the target never exceeds the lowest estimate of the last
 * feedback_timeout_ms (GCC: min of the loss- and delay-based rates); a lower
 * one is applied at once. Errors: ML_ERR_INVALID (NaN, infinite or
 * negative; ignored), ML_ERR_NOT_FOUND (no report from key yet; ignored). */
int ml_rate_on_estimate(ml_rate *rc, const void *key, int64_t now_ms, double kbps) ML_MUST_CHECK;

/* Periodic call (about once per second): notices peers whose reports stopped
 * and runs an update for them. */
void ml_rate_tick(ml_rate *rc, int64_t now_ms);

/* Forgets a peer (it left). Unknown keys are ignored. */
void ml_rate_remove_peer(ml_rate *rc, const void *key);

void ml_rate_get(const ml_rate *rc, ml_rate_decision *out);

/* NULL does nothing. */
void ml_rate_free(ml_rate *rc);

#endif /* ML_RATE_H */
