/* mentorlink — the media receiver's policy: jitter-buffer sizing, the NACK
 * allowance and PLI timing (pure; private to the engine).
 *
 * The receiver's GStreamer callbacks gather the inputs (rtpbin's stats, the
 * monotonic clock in microseconds, as g_get_monotonic_time gives it), call
 * these functions and apply what they decide. No GLib, no I/O, no
 * allocation, no clock of their own. Each struct is owned by the caller, who
 * serialises calls on it (the latency on the receiver's context, the NACK
 * bucket under the receiver's lock).
 */
#ifndef ML_RECV_POLICY_H
#define ML_RECV_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Defaults for a receiver config's zero latency fields, ms. */
#define ML_RECV_LATENCY_MIN_MS 20
#define ML_RECV_LATENCY_MAX_MS 250
#define ML_RECV_LATENCY_START_MS 50
/* The latency moves only by at least this much, so that the pipeline is not
 * re-timed every second. */
#define ML_RECV_LATENCY_STEP_MS 10
/* Updates the NACK allowance stays in the latency after the last new loss. */
#define ML_RECV_LOSS_HOLD_UPDATES 5

/* Jitter-buffer latency from measured jitter (not a constant): about four
 * times the RFC 3550 jitter plus a 20 ms floor. While packets are being lost
 * (and for ML_RECV_LOSS_HOLD_UPDATES updates after the last new loss), room
 * for one NACK/RTX round is added: a lost packet at the end of a frame is
 * only noticed when the next frame arrives, so 1.5 frame intervals plus a
 * round trip (at least 5 ms) plus 10 ms. Within [min_ms, max_ms]. */
typedef struct ml_recv_latency {
  unsigned min_ms, max_ms;
  unsigned latency_ms;  /* the current latency */
  unsigned loss_hold;   /* updates left with the NACK allowance */
  int64_t packets_lost; /* cumulative, at the last update */
} ml_recv_latency;

/* Bounds and start from a receiver config (0: the defaults above; max below
 * min is raised to min; the start is clamped into the bounds). */
void ml_recv_latency_init(ml_recv_latency *l, unsigned min_ms, unsigned max_ms, unsigned start_ms);

typedef struct ml_recv_latency_input {
  int64_t packets_lost; /* cumulative, of the peer's audio and video */
  double jitter_ms;     /* the video stream's RFC 3550 jitter */
  double fps;           /* decoded video frames per second (below 5: 30 assumed) */
  double rtx_rtt_ms;    /* the jitter buffer's retransmission round trip */
} ml_recv_latency_input;

/* One update, once per stats period (1 s). Returns true when latency_ms
 * changed and must be applied to the jitter buffers. */
bool ml_recv_latency_update(ml_recv_latency *l, const ml_recv_latency_input *in);

/* A token bucket for the NACKs we send, so that a peer sending wild
 * sequence numbers cannot make us answer each packet with RTCP (measured:
 * tens of thousands per second without it). ML_RECV_NACK_PER_S covers 5 %
 * loss of a 4 Mbit/s stream of 1200-byte packets with retries. */
#define ML_RECV_NACK_PER_S 60
#define ML_RECV_NACK_BURST 30

typedef struct ml_recv_nack_bucket {
  double tokens;
  int64_t refill_us;
} ml_recv_nack_bucket;

/* A full bucket at now_us. */
void ml_recv_nack_bucket_init(ml_recv_nack_bucket *b, int64_t now_us);

/* True when a NACK may go out at now_us (and takes its token). */
bool ml_recv_nack_allowed(ml_recv_nack_bucket *b, int64_t now_us);

/* One PLI per ML_RECV_PLI_MIN_INTERVAL_US is plenty for the keyframe
 * requests of the jitter buffer and depayloader: the keyframe answers them
 * all. True when one may go out at now_us, the last having gone at
 * last_pli_us (0: none yet, counts from the clock's start). */
#define ML_RECV_PLI_MIN_INTERVAL_US 100000
bool ml_recv_pli_due(int64_t last_pli_us, int64_t now_us);

/* Until the first frame decodes, keep asking for a keyframe while video
 * packets arrive (a PLI sent before the sender's first packet is ignored by
 * it). */
typedef enum ml_recv_first_frame_pli {
  ML_RECV_FIRST_PLI_STOP, /* a frame decoded: stop asking */
  ML_RECV_FIRST_PLI_WAIT, /* no video packet yet: ask later */
  ML_RECV_FIRST_PLI_SEND, /* send a PLI now, and ask again later */
} ml_recv_first_frame_pli;

ml_recv_first_frame_pli ml_recv_first_frame_pli_step(bool frame_decoded, uint64_t video_packets);

#endif /* ML_RECV_POLICY_H */
