/* mentorlink — one call: the engine's interface to the UI and the CLI.
 *
 * An ml_call joins a room through the signaling server (ml/signal_client.h),
 * keeps one secure peer link (ml/peer_link.h) per remote peer, one media send
 * pipeline for the whole call whose packets are sealed to every secure peer
 * (encode once, fan out), and one receive branch per peer (ml/media.h).
 * Media starts for a peer only once its secure channel is up; its receive
 * branch asks for a keyframe (PLI) as it starts. Peer identities are pinned
 * on first use (ml/pins.h); a changed key produces ML_CALL_EV_IDENTITY_CHANGED.
 *
 * Threads. ml_call_new starts the engine thread, which owns a GMainContext
 * of its own: libnice, the libsoup client, GStreamer's bus watches and every
 * timer of the call attach there, and every engine object lives on it. The
 * other functions of this header may be called from any one thread (the UI or
 * CLI thread, "the owner"): commands are copied and handed to the engine
 * thread with g_main_context_invoke; events come back through a thread-safe
 * queue (GAsyncQueue) that the owner drains with ml_call_next_event. An
 * eventfd (ml_call_event_fd) becomes readable when events are waiting, so a
 * poll()-based UI loop can wait on it alongside its own descriptors.
 *
 * Ownership. The configuration's strings are copied; the identity is copied
 * by reference (ml_identity is immutable): it must outlive the call. Events
 * are transfer full: free each with ml_call_event_free.
 *
 * Errors: ml_call_new returns ml_err codes for a configuration it refuses;
 * everything that goes wrong later (signaling refused, a handshake failed, a
 * pipeline error) arrives as an ML_CALL_EV_ERROR event, and the call goes on
 * where it can. A fatal signaling error ends the call (ML_CALL_EV_ENDED).
 *
 * Path loss. When nothing arrives from a secure peer for a while, or ICE
 * fails, the side whose peer id sorts first restarts ICE through signaling
 * (bounded, backing off; a non-fatal ERROR event says so each time) and the
 * other follows; the secure channel and the chat stream survive, and what was
 * sent meanwhile arrives once the path is back. A peer whose link gives up
 * for good (no path or no handshake within its bounds, silent for a minute)
 * gets PEER_STATE failed and stays in the call without media or chat.
 */
#ifndef ML_CALL_H
#define ML_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"
#include "ml/identity.h"
#include "ml/media.h"
#include "ml/peer_link.h"
#include "ml/pins.h"
#include "ml/verify.h"

#define ML_CALL_MAX_PEER_ID 64
#define ML_CALL_MAX_NAME 64
#define ML_CALL_MAX_EVENTS 4096 /* queued events; beyond it stats events are dropped */
#define ML_CALL_MAX_PEERS 16    /* remote peers with a link; more are refused (error event) */
#define ML_CALL_STATS_INTERVAL_MS 1000

typedef struct ml_call ml_call;

typedef struct ml_call_config {
  const char *server_url; /* required: ws:// or wss:// .../v1/ws */
  const char *token;      /* token mode; or room + name (open mode) */
  const char *room;
  const char *name;
  const char *room_secret;     /* open mode, optional: PSK (Argon2id) + server verifier */
  const ml_identity *identity; /* required, borrowed */
  const char *pins_path;       /* NULL: ml_pins_default_path; "" : no pinning */
  ml_media_video_source video;
  ml_media_audio_source audio;
  bool headless;  /* audio to a fake sink */
  bool admit_all; /* as a host, admit every peer that knocks (else: KNOCK events) */
  /* Tests and bots: measure the dominant frequency of each peer's decoded
   * audio (stats.audio_tone_hz; costs some CPU once per second). */
  bool measure_tone;
  /* Host candidates only from these IP literals (NULL: every interface). */
  const char *const *local_addresses;
  size_t n_local_addresses;
  /* Tests: a secure peer that sends nothing for this long is given up
   * (PEER_STATE failed); 0 selects ML_PEER_LINK_PATH_TIMEOUT_MS. */
  uint32_t path_timeout_ms;
} ml_call_config;

typedef enum ml_call_event_type {
  ML_CALL_EV_SIGNALING,        /* state: signaling client state (ml_signal_client_state) */
  ML_CALL_EV_JOINED,           /* peer_id/peer_name: our own id and name in the room */
  ML_CALL_EV_PEER_JOINED,      /* a peer is in the room */
  ML_CALL_EV_PEER_LEFT,        /* text: reason; a last STATS event (final) precedes it */
  ML_CALL_EV_KNOCK,            /* we host; the peer waits to be admitted (ml_call_admit) */
  ML_CALL_EV_PEER_STATE,       /* state: ml_peer_link_state (FAILED: given up); path */
  ML_CALL_EV_VERIFIED,         /* secure: sas, safety_number, fingerprint, pin */
  ML_CALL_EV_IDENTITY_CHANGED, /* WARNING: fingerprint (now), old_fingerprint (pinned) */
  ML_CALL_EV_CHAT,             /* id, text (valid UTF-8) from the peer */
  ML_CALL_EV_CHAT_SENT,        /* id: our message queued to that peer */
  ML_CALL_EV_RECEIPT,          /* id: the peer received our message */
  ML_CALL_EV_STATS,            /* stats, once per second per secure peer */
  ML_CALL_EV_PEER_MEDIA,       /* media: what the peer says of its own media; on change */
  ML_CALL_EV_MARKED_VERIFIED,  /* ml_call_mark_verified stored (err 0) or failed (err) */
  ML_CALL_EV_ERROR,            /* err, text, fatal; peer set when it concerns one peer */
  ML_CALL_EV_ENDED,            /* the engine stopped; no event follows */
} ml_call_event_type;

/* Per peer, what the stats event reports. */
typedef struct ml_call_stats {
  ml_peer_link_path path;
  double rtt_ms;          /* from the peer's RTCP reports; < 0 unknown */
  double loss;            /* 0..1, fraction of our packets the peer reported lost */
  double bitrate_kbps;    /* RTP received from the peer, last second */
  double fps;             /* video frames decoded, last second */
  double jitter_ms;       /* interarrival jitter of the peer's video */
  unsigned latency_ms;    /* jitter-buffer latency */
  double e2e_latency_ms;  /* the peer's capture to our decode, latest frame; < 0 unknown */
  int64_t first_frame_ms; /* receive branch start to first decoded frame; -1 before */
  int64_t first_frame_since_start_ms; /* ml_call_new to that frame (join to first frame) */
  uint64_t video_frames_decoded, audio_ms_decoded;
  uint64_t video_frames_sent; /* VP8 frames whose last packet we sealed to this peer */
  uint64_t rtp_packets_sent;
  int64_t packets_lost; /* of the peer's media, from our receive branch */
  double audio_tone_hz; /* dominant 50-2000 Hz of the last 0.2 s decoded; 0 unknown/off */
  /* The peer link's receive path: every datagram the ICE component gave us,
   * how many opened as our authenticated ciphertext, and why the rest were
   * dropped. */
  uint64_t datagrams_in, datagrams_out, opened;
  uint64_t dropped_not_ours, dropped_malformed, dropped_unexpected, dropped_auth, dropped_replay,
      dropped_handshake;
  uint64_t pli_sent, pli_received;
  bool final; /* the last stats of this peer (it left or the call ended) */
} ml_call_stats;

/* What a peer announces of its own media (CONTROL messages inside the
 * secure channel, sent on change and repeated once per second). */
typedef struct ml_call_peer_media {
  bool muted;        /* its microphone is muted */
  bool camera_on;    /* its camera is on (false: camera off or no video source) */
  bool video_paused; /* its sender paused video because the path is too poor */
} ml_call_peer_media;

typedef struct ml_call_event {
  ml_call_event_type type;
  int64_t t_ms; /* milliseconds since ml_call_new */
  char peer_id[ML_CALL_MAX_PEER_ID + 1];
  char peer_name[ML_CALL_MAX_NAME + 1];
  int state;
  ml_peer_link_path path;
  char sas[ML_SAS_TEXT_LEN];
  char safety_number[ML_SAFETY_NUMBER_TEXT_LEN];
  char fingerprint[ML_IDENTITY_FINGERPRINT_LEN];
  char old_fingerprint[ML_IDENTITY_FINGERPRINT_LEN];
  int pin;                  /* ml_pin_status, or -1 when pinning is off or failed */
  bool verified;            /* VERIFIED: the user marked this peer's current key verified
                               earlier (persisted with the pin) */
  ml_call_peer_media media; /* PEER_MEDIA */
  uint64_t id;
  char *text; /* owned by the event; NULL when unused */
  int err;    /* ERROR: an ml_err, or 0 when text alone says it (signaling errors) */
  bool fatal; /* ERROR: the call ends because of it (e.g. the server refused the join) */
  ml_call_stats stats;
} ml_call_event;

/* Validates cfg, starts the engine thread, which connects and joins
 * (transfer full: ml_call_free). Errors: ML_ERR_INVALID (missing or
 * malformed field; both or neither of token and room), ML_ERR_NOMEM. */
int ml_call_new(ml_call **out, const ml_call_config *cfg) ML_MUST_CHECK;

/* A descriptor that is readable while events are queued (an eventfd; do not
 * close it, do not read it: ml_call_next_event does). */
int ml_call_event_fd(const ml_call *call);

/* The next event (transfer full), waiting up to timeout_ms (0: do not wait,
 * negative: wait forever). NULL when none came. */
ml_call_event *ml_call_next_event(ml_call *call, int timeout_ms);
void ml_call_event_free(ml_call_event *ev);

/* Commands (any thread; asynchronous). send_chat sends text (1..65536 bytes
 * of UTF-8) to every peer with a link; a CHAT_SENT event per peer gives the
 * id the RECEIPT will carry. Errors: ML_ERR_INVALID (length, not UTF-8). */
int ml_call_send_chat(ml_call *call, const char *text) ML_MUST_CHECK;
void ml_call_set_muted(ml_call *call, bool muted);
void ml_call_set_camera_on(ml_call *call, bool on);
/* As a host: admits a peer that knocked (peer_id from a KNOCK event). */
void ml_call_admit(ml_call *call, const char *peer_id);

/* The latest decoded video frame of a peer (peer_id from PEER_JOINED), or of
 * our own camera as captured (peer_id NULL: the self view), if its seq is
 * greater than after_seq (transfer full: ml_media_frame_free). Any thread;
 * never blocks on the engine. Errors: ML_ERR_NOT_FOUND (no such peer, no
 * frame yet, or none newer than after_seq). */
int ml_call_latest_frame(ml_call *call, const char *peer_id, uint64_t after_seq,
                         ml_media_frame **out) ML_MUST_CHECK;

/* The level of a peer's decoded audio over the last 100 ms in dBFS (-127:
 * silence or unknown), for an active-speaker display. Any thread. Errors:
 * ML_ERR_NOT_FOUND (no such peer or no audio yet). */
int ml_call_audio_level(ml_call *call, const char *peer_id, double *dbfs) ML_MUST_CHECK;

/* The user compared the SAS (or safety number) with this peer: its current
 * key is stored as verified with its pin (replacing a changed pin). The
 * result comes as ML_CALL_EV_MARKED_VERIFIED (err 0, or the ml_err). */
void ml_call_mark_verified(ml_call *call, const char *peer_id);

/* Leaves the room: a final STATS per peer, then ENDED. */
void ml_call_leave(ml_call *call);

/* Names for JSON and logs (static strings). */
const char *ml_call_event_name(ml_call_event_type type);
const char *ml_call_path_name(ml_peer_link_path path);
const char *ml_call_peer_state_name(ml_peer_link_state state);

/* Leaves if needed, joins the engine thread, frees everything, including
 * events still queued. NULL does nothing. */
void ml_call_free(ml_call *call);

#endif /* ML_CALL_H */
