/* mentorlink — one call: the engine's interface to the UI and the CLI.
 *
 * An ml_call joins a room through the signaling server (ml/signal_client.h),
 * keeps one secure peer link (ml/peer_link.h) per remote peer, one media send
 * pipeline for the whole call whose packets are sealed to every secure peer
 * (encode once, fan out), and one receive branch per peer (ml/media.h).
 * The send pipeline starts when the server welcomes us (it feeds the self
 * view: ml_call_latest_frame with peer_id NULL), a peer's receive branch
 * when the peer joins; the sender encodes no video while no peer is secure.
 * Media flows to and from a peer only once its secure channel is up, when a
 * keyframe is made and one is asked for (PLI). Peer identities are pinned
 * on first use (ml/pins.h); a changed key produces ML_CALL_EV_IDENTITY_CHANGED.
 * Each side announces its own media state (muted, camera, video paused) to
 * every secure peer in CONTROL datagrams (ml/control.h), on change and once
 * per second; the other side reports a change as ML_CALL_EV_PEER_MEDIA.
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
#include "ml/pins.h"
#include "ml/verify.h"

#define ML_CALL_MAX_PEER_ID 64
#define ML_CALL_MAX_NAME 64
#define ML_CALL_MAX_EVENTS 4096 /* queued events; beyond it stats and peer_media are dropped */
#define ML_CALL_MAX_PEERS 16    /* remote peers with a link; more are refused (error event) */
/* A secure peer whose signaling connection was lost keeps its link this long
 * (or until its path is lost too) for it to rejoin: ML_CALL_EV_PEER_REJOINED. */
#define ML_CALL_REJOIN_GRACE_MS 30000
#define ML_CALL_STATS_INTERVAL_MS 1000

typedef struct ml_call ml_call;

/* A peer link's state and path as the events report them: the values of
 * ml_peer_link_state and ml_peer_link_path (ml/peer_link.h, which this
 * header does not include: it brings libnice along). The event fields hold
 * them as integers, so code that keeps ml_peer_link_* values compares and
 * assigns them without conversions. */
typedef enum ml_call_link_state {
  ML_CALL_LINK_NEW,         /* created, not gathering yet */
  ML_CALL_LINK_CONNECTING,  /* ICE gathering / checking */
  ML_CALL_LINK_HANDSHAKING, /* ICE ready, Noise in progress */
  ML_CALL_LINK_SECURE,      /* channel up: data flows */
  ML_CALL_LINK_FAILED,      /* given up for good */
} ml_call_link_state;

typedef enum ml_call_path {
  ML_CALL_PATH_NONE,
  ML_CALL_PATH_HOST,
  ML_CALL_PATH_SRFLX,
  ML_CALL_PATH_RELAY,
} ml_call_path;

typedef struct ml_call_config {
  /* required: ws:// or wss:// .../v1/ws, or several comma-separated
   * (ml_signal_client_config.url) */
  const char *server_url;
  const char *token; /* token mode; or room + name (open mode) */
  const char *room;
  const char *name;
  const char *room_secret;     /* open mode, optional: PSK (Argon2id) + server verifier */
  const ml_identity *identity; /* required, borrowed */
  const char *pins_path;       /* NULL: ml_pins_default_path; "" : no pinning */
  /* PEM certificate authorities to trust for wss:// instead of the system
   * store (a hospital's own CA); NULL: the system store. */
  const char *ca_file;
  ml_media_video_source video;
  ml_media_audio_source audio;
  /* Capture size, and the top of the sender's resolution ladder; 0 x 0:
   * 640x360. */
  unsigned video_width, video_height;
  /* With video CAMERA / audio MIC: the device by name or id (ml/devices.h);
   * NULL: the default. A device that is not there is said (a non-fatal
   * ERROR event) and the call goes on without it. */
  const char *camera;
  const char *microphone;
  bool headless;  /* audio to a fake sink */
  bool admit_all; /* as a host, admit every peer that knocks (else: KNOCK events) */
  /* Tests and bots: measure the dominant frequency of each peer's decoded
   * audio (stats.audio_tone_hz; costs some CPU once per second). */
  bool measure_tone;
  /* Ask every sender for its small layer (a bot, a view of thumbnails);
   * the window asks per peer by tile size (ml_call_receive_layer). */
  bool receive_small;
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
  ML_CALL_EV_PEER_LEFT,        /* text: reason; a last STATS event (final) precedes it; also
                                  for a peer that waited (we host; no name then) */
  ML_CALL_EV_PEER_REJOINED,    /* peer_id: its new id; text: the id it had. The same peer
                                  (identity key) is in the room again after a signaling
                                  reconnect, its or ours; its link and media went on */
  ML_CALL_EV_KNOCK,            /* we host; the peer waits to be admitted (ml_call_admit) */
  ML_CALL_EV_PEER_STATE,       /* state: ml_call_link_state (FAILED: given up); path */
  ML_CALL_EV_VERIFIED,         /* secure: sas, safety_number, fingerprint, pin, verified */
  ML_CALL_EV_IDENTITY_CHANGED, /* WARNING: fingerprint (now), old_fingerprint (pinned) */
  ML_CALL_EV_CHAT,             /* id, text (valid UTF-8) from the peer */
  ML_CALL_EV_CHAT_SENT,        /* id: our message queued to that peer */
  ML_CALL_EV_RECEIPT,          /* id: the peer received our message */
  ML_CALL_EV_STATS,            /* stats, once per second per secure peer */
  ML_CALL_EV_PEER_MEDIA,       /* media: what the peer says of its own media; the first
                                  announcement, then on change */
  ML_CALL_EV_MARKED_VERIFIED,  /* ml_call_mark_verified stored (err 0; fingerprint: the key
                                  marked, verified true) or failed (err) */
  ML_CALL_EV_SESSION,          /* session: what happened in the room (ml_call_session) */
  ML_CALL_EV_ERROR,            /* err, text, fatal; peer set when it concerns one peer */
  ML_CALL_EV_ENDED,            /* the engine stopped; no event follows */
} ml_call_event_type;

/* What a SESSION event says. peer_id/peer_name name its subject (which
 * may be us: our own id from JOINED); by_id/by_name who did it when
 * another did (a host). */
typedef enum ml_call_session {
  ML_CALL_SESSION_ROLE,          /* on: the subject is a host now (the server said so), else not */
  ML_CALL_SESSION_LOCKED,        /* on: the room is locked to new participants (by: the host) */
  ML_CALL_SESSION_HAND,          /* on: the subject's hand is up; order: its ticket (hands went
                                    up in increasing order; 0 when down); by: a host lowered it */
  ML_CALL_SESSION_REACTION,      /* text: the reaction's name (ml_control_reaction_name) */
  ML_CALL_SESSION_MUTED_BY_HOST, /* by: the host; our microphone is now muted (only we unmute) */
  ML_CALL_SESSION_SPOTLIGHT,     /* the subject is in the spotlight (peer_id "": nobody); by */
  ML_CALL_SESSION_ASKED,         /* our request went to the subject; text: "mute", "lower_hand" */
  ML_CALL_SESSION_JOIN_FAILED,   /* we host; by_name (what they gave, may be "") failed to
                                    join; text: "wrong_secret", "token_expired" */
  ML_CALL_SESSION_CLOSED,        /* our place in the room ended; text: "denied", "removed",
                                    "room_ended" (a host ended it for all), "room_closed" */
  ML_CALL_SESSION_REFUSED,       /* a host-only control from the subject, which is not a host of
                                    the room, was ignored; text: "host_request", "spotlight" */
} ml_call_session;

/* Why the rate controller's latest update did what it did
 * (ml_call_stats.rate_reason): ml_rate_reason_name's words ("start",
 * "probe", "random-loss", "loss", "delay", "feedback-timeout", "paused",
 * "resume"), or "none" without a controller (no video, or it failed). */
#define ML_CALL_MAX_REASON 23
#define ML_CALL_RATE_REASON_NONE "none"

/* Per peer, what the stats event reports. */
typedef struct ml_call_stats {
  unsigned path;          /* ml_call_path */
  double rtt_ms;          /* from the peer's RTCP reports; < 0 unknown */
  double loss;            /* 0..1, fraction of our video the peer reported lost (of
                             our audio when we send no video or the rate
                             controller paused it) */
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
  /* Our sender as this peer gets it: the layer it is sent (ml/media.h,
   * "Layers": what it asked for, or the small one while its link would
   * hold the others back), the rate controller's video target of that
   * layer (ml/rate.h; 0 before media starts), and whether that controller
   * paused the layer because the worst path it serves is too poor (audio
   * goes on). layer_switches counts the changes of layer. */
  ml_media_layer sent_layer;
  uint64_t layer_switches;
  unsigned target_kbps;
  bool video_paused;
  /* That controller's estimate of what the worst path it serves carries (kbps;
   * today its video target: ml/rate.h keeps one number) and what its
   * latest update did and why: ML_CALL_RATE_REASON_* ("none" without a
   * controller). */
  unsigned estimate_kbps;
  /* This peer's own delay-based estimate of its path (REMB from its
   * receiver, kbps, ml/rate.h); -1 before one came. */
  int peer_estimate_kbps;
  char rate_reason[ML_CALL_MAX_REASON + 1];
  /* What we receive from the peer, for the quality figures (README,
   * "stats"): the latest decoded frame's size (0 before one), freeze time
   * and count, and its audio at our decoder's input in ms: expected, of it
   * rebuilt from in-band FEC, and concealed (lost or late: PLC). */
  unsigned frame_width, frame_height;
  uint64_t freeze_ms, freezes;
  uint64_t audio_expected_ms, audio_fec_ms, audio_concealed_ms;
  /* CONTROL datagrams from the peer that were ignored: an unknown version
   * or type (a later version's), or malformed. */
  uint64_t control_unknown, control_malformed;
  bool final; /* the last stats of this peer (it left or the call ended) */
} ml_call_stats;

/* What a peer announces of its own media (CONTROL messages inside the
 * secure channel, sent on change and repeated once per second). The peer's
 * word: its media may say otherwise. */
typedef struct ml_call_peer_media {
  bool muted;        /* its microphone is muted (or it has none) */
  bool camera_on;    /* its camera is on (false: camera off or no video source) */
  bool video_paused; /* its sender paused video because the path is too poor */
} ml_call_peer_media;

typedef struct ml_call_event {
  ml_call_event_type type;
  int64_t t_ms; /* milliseconds since ml_call_new */
  char peer_id[ML_CALL_MAX_PEER_ID + 1];
  char peer_name[ML_CALL_MAX_NAME + 1];
  int state;     /* SIGNALING: ml_signal_client_state; PEER_STATE: ml_call_link_state */
  unsigned path; /* ml_call_path */
  char sas[ML_SAS_TEXT_LEN];
  char safety_number[ML_SAFETY_NUMBER_TEXT_LEN];
  char fingerprint[ML_IDENTITY_FINGERPRINT_LEN];
  char old_fingerprint[ML_IDENTITY_FINGERPRINT_LEN];
  int pin;                  /* ml_pin_status, or -1 when pinning is off or failed */
  bool verified;            /* VERIFIED: the user marked this peer's current key verified
                               earlier (persisted with the pin) */
  ml_call_peer_media media; /* PEER_MEDIA */
  ml_call_session session;  /* SESSION */
  bool on;                  /* SESSION: ROLE, LOCKED, HAND */
  uint64_t order;           /* SESSION HAND */
  char by_id[ML_CALL_MAX_PEER_ID + 1];
  char by_name[ML_CALL_MAX_NAME + 1];
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

/* Host actions through the server (docs/PROTOCOL.md, "Host actions"): deny
 * a knocking peer, remove a member or a waiting peer, lock or unlock the
 * room, end the session for everyone, hand the host role to a member (we
 * become a participant). What the server did comes back as events
 * (PEER_LEFT denied/removed, SESSION LOCKED/ROLE/CLOSED); a refusal as an
 * ERROR event ("signaling: not_host", "no_such_peer"). */
void ml_call_deny(ml_call *call, const char *peer_id);
void ml_call_remove(ml_call *call, const char *peer_id);
void ml_call_set_locked(ml_call *call, bool locked);
void ml_call_end_for_all(ml_call *call);
void ml_call_hand_over(ml_call *call, const char *peer_id);

/* Session controls, end to end in the secure channels (ml/control.h).
 * Everyone: raise or lower our hand (SESSION HAND about us follows), send a
 * reaction by name (ml_control_reaction_name; ML_ERR_INVALID otherwise;
 * SESSION REACTION about us follows). A host of the room: ask a peer to mute
 * (peer_id NULL: every peer), lower a peer's hand (SESSION ASKED follows
 * each), put a peer (or us: our own id) in the spotlight for everyone
 * (NULL or "": nobody; SESSION SPOTLIGHT follows). From a non-host these
 * are refused with an ERROR event (ML_ERR_STATE), and peers would ignore
 * them anyway. */
void ml_call_raise_hand(ml_call *call, bool raised);
int ml_call_react(ml_call *call, const char *reaction) ML_MUST_CHECK;
void ml_call_ask_mute(ml_call *call, const char *peer_id);
/* A host: ask every peer but speaker_id (the one who speaks) to mute;
 * ML_ERR_NOT_FOUND as an ERROR event when there is no such peer. */
void ml_call_ask_mute_all_but(ml_call *call, const char *speaker_id);
void ml_call_lower_hand(ml_call *call, const char *peer_id);
void ml_call_spotlight(ml_call *call, const char *peer_id);

/* Which of a peer's video layers to receive (peer_id NULL: every peer's,
 * and the default for peers to come): the large one for a big tile or the
 * spotlight, the small one for a thumbnail. Sent to the peer in a CONTROL
 * LAYER message on change and once a second; it may still send the small
 * one while our link is weak. Any thread; asynchronous. */
void ml_call_receive_layer(ml_call *call, const char *peer_id, ml_media_layer layer);

/* Tests only: sends len bytes (1..ML_CONTROL_MAX_LEN) as one CONTROL
 * datagram to a secure peer, as a forger would, with no check of ours. */
void ml_call_test_send_control(ml_call *call, const char *peer_id, const uint8_t *data, size_t len);

/* The latest decoded video frame of a peer (peer_id from PEER_JOINED), or of
 * our own camera as captured (peer_id NULL: the self view), if its seq is
 * greater than after_seq (transfer full: ml_media_frame_free; the frame
 * stays valid after the peer leaves). Seqs count per peer and per receive
 * branch: a peer that leaves and joins again comes back with a new peer id.
 * Any thread, until ml_call_free; never blocks on the engine (a short lock
 * the engine holds only to add or remove a peer or to publish a level).
 * The first request for the self view starts the send pipeline (the
 * camera) if no peer has yet: frames follow a moment later. The self view
 * has no new frames while the camera is off or without a video source.
 * Errors: ML_ERR_NOT_FOUND (no such peer or receive branch yet, no frame
 * yet, or none newer than after_seq). */
int ml_call_latest_frame(ml_call *call, const char *peer_id, uint64_t after_seq,
                         ml_media_frame **out) ML_MUST_CHECK;

/* The level of a peer's decoded audio over the last 100 ms in dBFS (RMS
 * relative to a full-scale square wave: a full-scale sine is -3; -127:
 * silence, or no audio decoded for 0.5 s), for an active-speaker display.
 * Updated every 100 ms of decoded audio. Any thread, until ml_call_free;
 * never blocks on the engine. Errors: ML_ERR_NOT_FOUND (no such peer or no
 * audio yet; *dbfs is -127). */
int ml_call_audio_level(ml_call *call, const char *peer_id, double *dbfs) ML_MUST_CHECK;

/* The user compared the SAS (or safety number) with this peer: the key it
 * proved in this call's handshake is stored as verified with its pin
 * (ml_pins_mark_verified: replacing a changed pin), so later calls report
 * VERIFIED with verified true. The result comes as
 * ML_CALL_EV_MARKED_VERIFIED: err 0, or ML_ERR_NOT_FOUND (no such peer),
 * ML_ERR_STATE (not secure yet, or pinning is off), or the pins file's
 * error. */
void ml_call_mark_verified(ml_call *call, const char *peer_id);

/* Leaves the room: a final STATS per peer, then ENDED. */
void ml_call_leave(ml_call *call);

/* Names for JSON and logs (static strings). */
const char *ml_call_event_name(ml_call_event_type type);
const char *ml_call_path_name(unsigned path);   /* ml_call_path */
const char *ml_call_peer_state_name(int state); /* ml_call_link_state */
const char *ml_call_session_name(int session);  /* ml_call_session: "role", "hand", ... */

/* Leaves if needed, joins the engine thread, frees everything, including
 * events still queued. NULL does nothing. */
void ml_call_free(ml_call *call);

#endif /* ML_CALL_H */
