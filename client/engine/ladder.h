/* mentorlink — the video ladder: which resolution and frame rate the sender
 * encodes at for a target bitrate (pure; private to the engine).
 *
 * libwebrtc's rungs for a 640x360 source (its VP8 bitrate limits), scaled to
 * the configured capture format (full, 3/4 and 1/2 of its size, even
 * dimensions):
 *
 *   rung  size (640x360 source)  fps        entered from  left below
 *   0     640x360                full       500 kbps      400 kbps
 *   1     480x270                full       300 kbps      230 kbps
 *   2     320x180                full       160 kbps      110 kbps
 *   3     320x180                3/4 full   100 kbps       70 kbps
 *   4     320x180                full / 2   (the bottom: below it the rate
 *                                            controller pauses video)
 *
 * A thin link gets fewer, sharper pixels (and then fewer frames) instead of
 * a 360p picture the encoder can only hit by dropping most frames. 180p
 * keeps at least 3/4 of the frame rate down to 70 kbps (a 150 kbit/s link
 * carries about 110 kbps of video next to audio: 22 fps there); only below
 * it does motion get choppy.
 * Hysteresis: down at once when the target falls below the current rung's
 * floor (the link is thinner now; the encoder would drop frames); up once
 * the target has stayed at or above the next rung's entry for
 * ML_LADDER_UP_HOLD_MS (a new format costs a keyframe, so it must not
 * flap), to the highest rung whose entry the lowest target of that hold
 * reached (recovery after a clean link comes back is one switch, not four). The caller applies a
 * change with ml_media_sender_set_video_format, which restarts the encoder on a keyframe.
 *
 * Time is milliseconds of a monotonic clock, passed in. No GLib, no
 * allocation; the caller owns the struct and serialises calls on it.
 */
#ifndef ML_LADDER_H
#define ML_LADDER_H

#include <stdbool.h>
#include <stdint.h>

#define ML_LADDER_RUNGS 5
#define ML_LADDER_UP_HOLD_MS 2000

typedef struct ml_ladder_format {
  unsigned width, height, fps;
} ml_ladder_format;

typedef struct ml_ladder {
  ml_ladder_format full; /* the configured capture format: rung 0 */
  unsigned rung;
  bool rising; /* the target is above the next rung's entry since rising_since_ms */
  int64_t rising_since_ms;
  unsigned rising_min_kbps; /* the lowest target since then */
} ml_ladder;

/* Starts at the rung for start_kbps (no hysteresis at the start). full must
 * be a valid format (non-zero, fps >= 1). */
void ml_ladder_init(ml_ladder *l, ml_ladder_format full, unsigned start_kbps);

/* A new target: true when the format changed (read it with
 * ml_ladder_format_now). */
bool ml_ladder_update(ml_ladder *l, int64_t now_ms, unsigned target_kbps);

ml_ladder_format ml_ladder_format_now(const ml_ladder *l);

/* Audio on a thin link: at the rungs below 180p at the full frame rate (a
 * target under 110 kbps, left above 160 kbps after the hold) or with video
 * paused, Opus gets ML_LADDER_THIN_AUDIO_KBPS in ML_LADDER_THIN_FRAME_MS
 * frames instead of 32 kbps in 20 ms frames: per-packet overhead (IP, UDP,
 * our datagram header, RTP: about 70 bytes) is 28 kbps at 50 packets a
 * second, most of a 64 kbit/s link; at 60 ms it is 9 kbps. In-band FEC
 * still engages at 20 kbps. The frames add 40 ms of delay, the price. */
#define ML_LADDER_THIN_AUDIO_KBPS 20
#define ML_LADDER_THIN_FRAME_MS 60
bool ml_ladder_thin_audio(const ml_ladder *l, bool video_paused);

#endif /* ML_LADDER_H */
