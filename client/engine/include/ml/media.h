/* mentorlink — media: one send pipeline per call, one receive branch per peer.
 *
 * The sender captures, encodes once (VP8 real-time, Opus voice) and packetises
 * into RTP; every RTP and RTCP packet it produces is handed to ONE callback,
 * which the engine seals on each peer's ml_channel (encode once, fan out).
 * The receiver is one per remote peer: the engine pushes the RTP and RTCP it
 * opened from that peer's channel; the receiver jitter-buffers, decodes, keeps
 * the latest video frame for the UI and hands its own RTCP (receiver reports,
 * PLI, NACK) back out for the engine to seal to that peer. The sender keeps
 * the latest captured frame too (the self view).
 *
 * RTP layout (fixed): one bundled RTP
 * session (audio and video in one rtpbin session, as webrtcbin bundles),
 * RTP/AVPF profile (early feedback), RTP packets of at most
 * ML_MEDIA_RTP_MTU bytes so each fits one datagram (ML_DATAGRAM_MAX_PAYLOAD).
 *
 *   what        payload type            SSRC
 *   VP8         ML_MEDIA_PT_VP8 (96)    ML_MEDIA_SSRC_VIDEO
 *   VP8 RTX     ML_MEDIA_PT_RTX (97)    ML_MEDIA_SSRC_VIDEO_RTX (RFC 4588)
 *   VP8 small   ML_MEDIA_PT_VP8 (96)    ML_MEDIA_SSRC_SMALL (the sender's second layer)
 *   small RTX   ML_MEDIA_PT_RTX (97)    ML_MEDIA_SSRC_SMALL_RTX
 *   Opus        ML_MEDIA_PT_OPUS (111)  ML_MEDIA_SSRC_AUDIO
 *
 * Layers (simulcast). With small_layer set, the sender encodes a second,
 * small VP8 stream of the same frames (ML_MEDIA_LAYER_SMALL: half the
 * configured capture size, at most ML_MEDIA_SMALL_MAX_KBPS) next to the
 * large one (ML_MEDIA_LAYER_LARGE: the capture format the rate controller's
 * ladder chose). Both payloaders stamp the same RTP time for the same frame,
 * so one SR mapping serves both. The packets of both reach on_packet; a peer
 * gets one of them, rewritten to the large layer's SSRCs (layer_fwd.h), so
 * receivers see one stream that changes size at a keyframe. A layer nobody
 * is sent is switched off before its encoder (ml_media_sender_set_layer_on).
 *
 * The SSRCs are constants because every pair of peers has its own channel and
 * every receive branch its own RTP session; a later relay (SFU) mode will
 * assign them per participant.
 *
 * Threading. Each object belongs to the thread that runs the GMainContext
 * given at creation (the engine thread): call every function there, except
 * where a function says otherwise. All GStreamer bus watches, timers and
 * callbacks of this module are attached to that context; GStreamer's
 * streaming threads never call into the engine: they hand packets to the
 * context through a bounded, mutex-protected queue (overflow drops the newest
 * and counts it), keep the latest decoded frame in a mutex-protected slot, and
 * update counters atomically.
 *
 * Loss and feedback. The receiver's jitter buffer starts at latency_start_ms
 * (50) and is resized every second from rtpbin's RFC 3550 jitter (about
 * 4 x jitter + 20 ms), plus room for one NACK/RTX round while packets are
 * being lost, within [latency_min_ms, latency_max_ms]: never webrtcbin's
 * constant 200 ms. Lost VP8 packets are NACKed and resent as RTX (RFC 4588);
 * a frame that cannot be repaired makes the depayloader wait for a keyframe
 * and ask for one. NACK and PLI leave the receiver immediately (RFC 4585
 * immediate mode: one receiver per session), built by this module rather
 * than rtpsession, which holds early feedback back to once per report
 * interval and lets NACKs expire. Opus relies on in-band FEC and PLC.
 *
 * Timing figures. The sender's RTCP SR maps RTP time to its wall clock at
 * capture (rtcp-sync-send-time off), so each decoded frame carries the
 * sender's capture time; on one host (or NTP-synchronised hosts) decode minus
 * capture is the end-to-end latency.
 *
 * Fan-out: every packet goes to every peer sent its layer, RTX included
 * (other receivers drop retransmissions they did not ask for). An engine that wants to spare
 * them can send packets with SSRC ML_MEDIA_SSRC_VIDEO_RTX only to peers whose
 * recent RTCP carried a NACK (ml_media_rtcp_info.nack).
 *
 * Callbacks must not free the object that called them.
 *
 * Untrusted input. Pipelines are built from element factories with fixed
 * properties; nothing a peer sends is ever parsed as pipeline text. Incoming
 * RTP is checked (version, lengths, not an RTCP type) and incoming RTCP
 * strictly, before GStreamer sees it: only SR, RR, SDES (describing SSRCs
 * reported on in the same compound, standard printable items), BYE, generic
 * NACK, PLI and FIR, every count and item inside its packet. That check is
 * what keeps a heap over-read and a leak in GStreamer 1.22's RTCP handling
 * (found by the hostile test case under ASan) out of reach of a peer. NACKs
 * we send are rate-limited. Depayloaders and decoders still parse payloads:
 * the engine's receive-path fuzz target should cover ml_media_receiver_push.
 *
 * Errors: ml_err codes. GError from GStreamer is converted at this boundary:
 * a missing element gives ML_ERR_UNSUPPORTED, a pipeline that will not start
 * ML_ERR_IO; runtime errors (a camera unplugged, a decoder error) arrive on
 * the context through ml_media_error_cb with a short English message.
 */
#ifndef ML_MEDIA_H
#define ML_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "ml/datagram.h"
#include "ml/error.h"

#define ML_MEDIA_RTP_MTU 1200 /* payloader MTU: RTP header + payload */
#define ML_MEDIA_PT_VP8 96
#define ML_MEDIA_PT_RTX 97
#define ML_MEDIA_PT_OPUS 111
#define ML_MEDIA_SSRC_VIDEO 0x4d4c5601u     /* "MLV\1" */
#define ML_MEDIA_SSRC_VIDEO_RTX 0x4d4c5202u /* "MLR\2" */
#define ML_MEDIA_SSRC_AUDIO 0x4d4c4101u     /* "MLA\1" */
#define ML_MEDIA_SSRC_SMALL 0x4d4c5603u     /* "MLV\3" */
#define ML_MEDIA_SSRC_SMALL_RTX 0x4d4c5204u /* "MLR\4" */
#define ML_MEDIA_SMALL_MAX_KBPS 250         /* the small layer's ceiling */
#define ML_MEDIA_VIDEO_CLOCK_RATE 90000
#define ML_MEDIA_AUDIO_CLOCK_RATE 48000
/* Largest RTP or RTCP packet the module hands out or accepts. */
#define ML_MEDIA_MAX_PACKET ML_DATAGRAM_MAX_PAYLOAD

/* One RTP or RTCP packet (type is ML_INNER_RTP or ML_INNER_RTCP). Called on
 * the owning context; data is valid only during the call. */
typedef void (*ml_media_packet_cb)(ml_inner_type type, const uint8_t *data, size_t len, void *user);

/* A runtime pipeline error (err is an ml_err; message is English, no media
 * content). Called on the owning context. The object stays valid; the caller
 * decides whether to free it. */
typedef void (*ml_media_error_cb)(int err, const char *message, void *user);

/* Decoded audio: interleaved signed 16-bit samples at ML_MEDIA_AUDIO_CLOCK_RATE,
 * mono. Called on the owning context (a tap for tests and bots; the audio
 * is played regardless). samples is valid only during the call. */
typedef void (*ml_media_pcm_cb)(const int16_t *samples, size_t n_samples, void *user);

/* A video layer (see "Layers" above). The values are the wire's (ml/control.h). */
typedef enum ml_media_layer {
  ML_MEDIA_LAYER_SMALL = 0,
  ML_MEDIA_LAYER_LARGE = 1,
} ml_media_layer;

typedef enum ml_media_video_source {
  ML_MEDIA_VIDEO_NONE = 0,
  ML_MEDIA_VIDEO_TEST,   /* videotestsrc, live, SMPTE colour bars */
  ML_MEDIA_VIDEO_CAMERA, /* v4l2src */
} ml_media_video_source;

typedef enum ml_media_audio_source {
  ML_MEDIA_AUDIO_NONE = 0,
  ML_MEDIA_AUDIO_TEST, /* audiotestsrc, live sine tone */
  ML_MEDIA_AUDIO_MIC,  /* autoaudiosrc (PulseAudio/PipeWire/ALSA) */
} ml_media_audio_source;

/* One video frame, I420, immutable and reference counted: the UI may hold it
 * on any thread while the receiver (or the sender's self view) moves on, and
 * after the object that produced it is freed. */
typedef struct ml_media_frame ml_media_frame;

typedef struct ml_media_frame_info {
  unsigned width, height;
  const uint8_t *planes[3]; /* Y, U, V: valid until ml_media_frame_free */
  int strides[3];
  uint64_t seq; /* 1 for the first frame, then increasing (per receiver or self view) */
  uint32_t rtp_timestamp;
  int64_t capture_time_us; /* sender's wall clock (g_get_real_time) at capture,
                              from RTCP SR mapping; 0 when not yet known */
  int64_t decoded_time_us; /* our g_get_real_time() when decoded */
} ml_media_frame_info;

typedef struct ml_media_sender_config {
  ml_media_video_source video;
  ml_media_audio_source audio;
  unsigned width, height, fps;  /* 0 selects 640x360 at 30 fps */
  unsigned video_kbps;          /* 0 selects 800 */
  unsigned audio_kbps;          /* 0 selects 32 */
  unsigned audio_loss_percent;  /* expected loss told to Opus FEC, 0..100 */
  unsigned keyframe_max_frames; /* 0 selects 60 (2 s at 30 fps) */
  double tone_hz;               /* test tone; 0 selects 440 */
  /* The camera (a V4L2 device node such as /dev/video0, or a name or id of
   * ml/devices.h) and the microphone (a name or id of ml/devices.h); borrowed,
   * used while building. NULL: v4l2src's default camera, autoaudiosrc. A
   * device node that is not there fails ml_media_sender_new with ML_ERR_IO,
   * a name that no device has with ML_ERR_NOT_FOUND. */
  const char *camera_device;
  const char *microphone_device;
  bool small_layer;             /* also encode the small layer (off until set_layer_on) */
  ml_media_packet_cb on_packet; /* required */
  ml_media_error_cb on_error;   /* may be NULL */
  void *user;
} ml_media_sender_config;

typedef struct ml_media_sender_stats {
  uint64_t video_frames_encoded; /* counted at the encoder output */
  uint64_t video_keyframes;
  uint64_t audio_packets;
  uint64_t rtp_packets, rtp_bytes; /* handed to on_packet, RTX included */
  uint64_t rtcp_packets_out;       /* sender reports handed to on_packet */
  uint64_t rtcp_packets_in;        /* accepted by ml_media_sender_push_rtcp */
  uint64_t pli_received, fir_received, nack_received;
  uint64_t keyframe_requests;   /* force-key-unit requests that reached the encoder */
  uint64_t rtx_packets;         /* retransmissions sent (RFC 4588) */
  uint64_t dropped_handoff;     /* packets dropped because the engine fell behind */
  double capture_to_encoded_ms; /* smoothed; -1 before the first frame */
  unsigned video_kbps;          /* current encoder target */
  unsigned width, height, fps;  /* current capture/encode format (the large layer) */
  uint64_t small_frames_encoded;
  unsigned small_kbps, small_width, small_height; /* 0 without a small layer */
  bool large_on, small_on;                        /* ml_media_sender_set_layer_on */
  bool video_paused; /* ml_media_sender_set_video_paused (the rate controller) */
  bool audio_muted, camera_on;
  bool idle; /* ml_media_sender_set_idle */
} ml_media_sender_stats;

/* What one incoming RTCP packet said about our streams (per peer: the engine
 * knows which peer sent it). Feeds the rate controller. */
typedef struct ml_media_rtcp_info {
  bool have_report;           /* a report block about one of our SSRCs */
  double fraction_lost;       /* 0..1, from the latest such block (video preferred) */
  double audio_fraction_lost; /* 0..1 from the audio block; negative if none (a
                                 paused video stream reports 0 lost of 0 sent) */
  int64_t packets_lost;       /* cumulative, as reported */
  double jitter_ms;           /* interarrival jitter as reported */
  double rtt_ms;              /* from LSR/DLSR (RFC 3550 6.4.1); negative if unknown */
  double remb_kbps;           /* the receiver's delay-based estimate (REMB); negative if none */
  unsigned pli, fir, nack;
} ml_media_rtcp_info;

typedef struct ml_media_sender ml_media_sender;

/* Builds and starts the send pipeline on ctx (not owned; must outlive the
 * sender). Errors: ML_ERR_INVALID (bad config), ML_ERR_UNSUPPORTED (an
 * element is missing), ML_ERR_IO (the pipeline would not start). */
int ml_media_sender_new(ml_media_sender **out, GMainContext *ctx,
                        const ml_media_sender_config *cfg) ML_MUST_CHECK;

/* Feeds one RTCP packet opened from a peer's receive branch (receiver
 * report, PLI, FIR, NACK). PLI/FIR force a VP8 keyframe; NACK is answered
 * with RTX. info may be NULL. Errors: ML_ERR_TOO_BIG, ML_ERR_PROTOCOL (not
 * valid RTCP, or sent under one of the fixed media SSRCs: the peer's sender
 * session, ml/rtcp_origin.h; nothing happened). */
int ml_media_sender_push_rtcp(ml_media_sender *tx, const uint8_t *data, size_t len,
                              ml_media_rtcp_info *info) ML_MUST_CHECK;

/* Runtime controls. Bitrates are clamped to [30, 4000] kbps for video and
 * [6, 128] kbps for audio; VP8 drops frames rather than overshoot a target
 * its content cannot meet. Pausing video keeps audio flowing (audio-first);
 * resuming, or turning the camera on, sends a keyframe first. Camera off also
 * stops the capture element (the camera light goes out). */
void ml_media_sender_set_video_kbps(ml_media_sender *tx, unsigned kbps);
/* The small layer's target, clamped to [30, ML_MEDIA_SMALL_MAX_KBPS]. */
void ml_media_sender_set_small_kbps(ml_media_sender *tx, unsigned kbps);
/* Whether a layer is encoded (someone is sent it). The large layer starts
 * on, the small one off; turning one on sends a keyframe of it first. No
 * small layer: setting it does nothing. */
void ml_media_sender_set_layer_on(ml_media_sender *tx, ml_media_layer layer, bool on);
/* A keyframe of one layer (ml_media_sender_request_keyframe: of both). */
void ml_media_sender_request_layer_keyframe(ml_media_sender *tx, ml_media_layer layer);
/* Capture/encode format for a rate controller's ladder (e.g. 320x180 below
 * 300 kbps, 640x360 from 500 kbps, 1280x720 from 1.5 Mbps). Applied on the
 * fly; the next frame is a keyframe at the new size. Errors: ML_ERR_INVALID
 * (zero, odd or above 3840x2160 at 120 fps), ML_ERR_STATE (no video). */
int ml_media_sender_set_video_format(ml_media_sender *tx, unsigned width, unsigned height,
                                     unsigned fps) ML_MUST_CHECK;
void ml_media_sender_set_audio_kbps(ml_media_sender *tx, unsigned kbps);
void ml_media_sender_set_audio_loss_percent(ml_media_sender *tx, unsigned percent);
/* Opus frame duration: 10, 20, 40 or 60 ms (others: ML_ERR_INVALID);
 * longer frames cost less per-packet overhead on a thin link. Applied on
 * the fly. Errors: ML_ERR_INVALID, ML_ERR_STATE (no audio). */
int ml_media_sender_set_audio_frame_ms(ml_media_sender *tx, unsigned ms) ML_MUST_CHECK;
void ml_media_sender_set_video_paused(ml_media_sender *tx, bool paused);
/* Nobody to send to (e.g. alone in the room): video stops before the
 * encoder, as when paused, but the self view goes on; leaving idle sends a
 * keyframe first. Audio is unaffected (Opus is cheap). */
void ml_media_sender_set_idle(ml_media_sender *tx, bool idle);
void ml_media_sender_set_audio_muted(ml_media_sender *tx, bool muted);
void ml_media_sender_set_camera_on(ml_media_sender *tx, bool on);
void ml_media_sender_request_keyframe(ml_media_sender *tx);

void ml_media_sender_get_stats(const ml_media_sender *tx, ml_media_sender_stats *out);

/* The self view: the latest frame as captured (I420 at the capture format,
 * before the valve and the encoder, so pausing or idling video does not
 * stop it), if its seq is greater than after_seq (transfer full:
 * ml_media_frame_free). A branch of its own with a one-frame leaky queue
 * feeds it, so it never holds the encoder back. Its rtp_timestamp is 0;
 * capture_time_us and decoded_time_us are when it reached the slot. Camera
 * off drops the held frame and no new ones come until it is on again; a
 * sender without video never has one. Any thread (the sender must stay
 * alive during the call). Errors: ML_ERR_NOT_FOUND (no newer frame). */
int ml_media_sender_latest_frame(ml_media_sender *tx, uint64_t after_seq,
                                 ml_media_frame **out) ML_MUST_CHECK;

/* Stops the pipeline (joining its streaming threads) and frees everything.
 * No callback runs after it returns. NULL does nothing. */
void ml_media_sender_free(ml_media_sender *tx);

typedef struct ml_media_receiver_config {
  bool headless;              /* audio to a fake sink instead of autoaudiosink */
  unsigned latency_min_ms;    /* jitter-buffer bounds; 0 selects 20 */
  unsigned latency_max_ms;    /* 0 selects 250 */
  unsigned latency_start_ms;  /* 0 selects 50 */
  ml_media_packet_cb on_rtcp; /* required: RTCP to seal back to this peer */
  ml_media_pcm_cb on_pcm;     /* may be NULL */
  ml_media_error_cb on_error; /* may be NULL */
  void *user;
} ml_media_receiver_config;

typedef struct ml_media_receiver_stats {
  uint64_t video_frames_decoded;
  uint64_t audio_ms_decoded;
  int64_t first_frame_ms; /* branch start to first decoded frame; -1 before it */
  double jitter_ms;       /* video interarrival jitter (RFC 3550), from rtpbin */
  int64_t packets_lost;   /* audio + video, from rtpbin */
  uint64_t rtp_packets, rtp_bytes, rtcp_packets_in;
  uint64_t dropped_invalid;              /* pushed bytes that were not RTP/RTCP */
  uint64_t pli_sent, nack_sent;          /* counted in the RTCP we hand out */
  uint64_t nack_suppressed;              /* NACKs over the rate limit (60/s, bursts of 30) */
  uint64_t packets_late;                 /* video packets that came after their deadline */
  uint64_t rtx_requested, rtx_recovered; /* video retransmissions asked for / arrived */
  unsigned latency_ms;                   /* current jitter-buffer latency */
  double bitrate_kbps;                   /* received RTP, over the last second */
  double fps;                            /* decoded, over the last second */
  double e2e_latency_ms;                 /* capture to decode of the latest frame; <0 unknown */
  unsigned frame_width, frame_height;    /* the latest decoded frame; 0 before the first */
  /* Freezes (client/engine/freeze.h): gaps between decoded frames longer
   * than max(3 x the median of the last 30 intervals, 150 ms), summed, a
   * stall under way included; how many ended. From the first frame on. */
  uint64_t freeze_ms, freezes;
  /* Audio at the Opus decoder's input (client/engine/audio_conceal.h), in
   * ms: expected = from packets + rebuilt from in-band FEC + concealed
   * (PLC for packets the jitter buffer gave up on, lost or late). */
  uint64_t audio_expected_ms, audio_concealed_ms, audio_fec_ms;
} ml_media_receiver_stats;

typedef struct ml_media_receiver ml_media_receiver;

/* Builds and starts one peer's receive branch on ctx and sends a PLI at once
 * (through on_rtcp), so the first frame does not wait for the next periodic
 * keyframe. Errors as ml_media_sender_new. */
int ml_media_receiver_new(ml_media_receiver **out, GMainContext *ctx,
                          const ml_media_receiver_config *cfg) ML_MUST_CHECK;

/* Pushes one RTP or RTCP packet opened from this peer's channel (copied).
 * Errors: ML_ERR_INVALID (type is not RTP/RTCP), ML_ERR_TOO_BIG,
 * ML_ERR_PROTOCOL (not a valid RTP/RTCP packet; dropped and counted). */
int ml_media_receiver_push(ml_media_receiver *rx, ml_inner_type type, const uint8_t *data,
                           size_t len) ML_MUST_CHECK;

/* Asks the peer for a keyframe (PLI) now. */
void ml_media_receiver_request_keyframe(ml_media_receiver *rx);

/* The peer stopped its video on purpose (it announced camera off): the gap
 * until its next frame is not counted as a freeze (stats.freeze_ms); a
 * freeze under way ends now. */
void ml_media_receiver_video_stopped(ml_media_receiver *rx);

void ml_media_receiver_get_stats(const ml_media_receiver *rx, ml_media_receiver_stats *out);

/* The latest decoded frame if its seq is greater than after_seq (transfer
 * full: release with ml_media_frame_free). Any thread. Errors:
 * ML_ERR_NOT_FOUND (no newer frame). */
int ml_media_receiver_latest_frame(ml_media_receiver *rx, uint64_t after_seq,
                                   ml_media_frame **out) ML_MUST_CHECK;

void ml_media_frame_get_info(const ml_media_frame *frame, ml_media_frame_info *out);

/* Drops one reference. Any thread. NULL does nothing. */
void ml_media_frame_free(ml_media_frame *frame);

/* Stops the branch and frees it; frames still held stay valid. No callback
 * runs after it returns. NULL does nothing. */
void ml_media_receiver_free(ml_media_receiver *rx);

#endif /* ML_MEDIA_H */
