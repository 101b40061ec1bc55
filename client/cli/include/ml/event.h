/* mentorlink — the events of `mentorlink join --json`: one JSON object per
 * line, the schema documented in README ("Command line"). The one place that
 * writes it (join, through ml_event_encode) and reads it back (the demo, the
 * test harness, the call tests and bench_call, through ml_event_decode).
 *
 * Every line holds "event" (ml_event_type_name) and "t_ms"; events about one
 * peer add "peer" and "name"; the rest depends on the type (see ml_event).
 * Numbers print as people read them (fixed decimals per field), which is why
 * the encoder writes the text itself; the decoder parses with json-glib and
 * reads each member with its type checked and its length bounded.
 *
 * Threads: no state; any thread. Ownership: ml_event_encode returns a string
 * the caller frees with g_free; a decoded event owns its text until
 * ml_event_clear. Errors (ml_err): see ml_event_decode. */
#ifndef ML_EVENT_H
#define ML_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_EVENT_MAX_LINE 65536 /* bytes of one line, newline excluded; longer: refused */
#define ML_EVENT_MAX_ID 64      /* bytes of a peer id */
#define ML_EVENT_MAX_NAME 64    /* bytes of a display name */
#define ML_EVENT_MAX_WORD 63    /* bytes of a state, path, pin or error name */
#define ML_EVENT_MAX_SAS 63     /* bytes of the SAS words */
#define ML_EVENT_MAX_SAFETY 79  /* bytes of the safety number */
#define ML_EVENT_MAX_FINGERPRINT 63

/* In the order of the engine's ml_call_event_type. */
typedef enum ml_event_type {
  ML_EVENT_SIGNALING,        /* state */
  ML_EVENT_JOINED,           /* peer (our own id, "peer_id"), name, text ("room") */
  ML_EVENT_PEER_JOINED,      /* fingerprint ("announced_fingerprint") */
  ML_EVENT_PEER_LEFT,        /* text ("reason") */
  ML_EVENT_PEER_REJOINED,    /* text ("previous": the id it had; "peer" is the new one) */
  ML_EVENT_KNOCK,            /* fingerprint ("announced_fingerprint") */
  ML_EVENT_PEER_STATE,       /* state, path */
  ML_EVENT_VERIFICATION,     /* sas, safety_number, fingerprint, pin, verified */
  ML_EVENT_IDENTITY_CHANGED, /* fingerprint, pinned_fingerprint, text ("warning") */
  ML_EVENT_CHAT,             /* id, text */
  ML_EVENT_CHAT_SENT,        /* id, text */
  ML_EVENT_RECEIPT,          /* id */
  ML_EVENT_STATS,            /* stats */
  ML_EVENT_PEER_MEDIA,       /* muted, camera_on, video_paused */
  ML_EVENT_MARKED_VERIFIED,  /* ok; then fingerprint, else error */
  ML_EVENT_SESSION,          /* what, on, order, by, by_name, text ("detail") */
  ML_EVENT_ERROR,            /* error (may be ""), text ("message"), fatal */
  ML_EVENT_ENDED,            /* nothing more */
} ml_event_type;
#define ML_EVENT_TYPE_COUNT (ML_EVENT_ENDED + 1)

/* The "event" member of a type ("verification" for ML_EVENT_VERIFICATION;
 * "unknown" out of range). */
const char *ml_event_type_name(ml_event_type type);
/* The type of an "event" member; ML_ERR_NOT_FOUND when none has that name. */
int ml_event_type_from_name(const char *name, ml_event_type *out) ML_MUST_CHECK;

/* The "stats" event: one per secure peer per second. */
typedef struct ml_event_stats {
  char path[ML_EVENT_MAX_WORD + 1];
  double rtt_ms; /* < 0: unknown (null) */
  double loss;
  int64_t target_kbps;
  bool video_paused;
  char sent_layer[ML_EVENT_MAX_WORD + 1]; /* "small" or "large": of our video, to this peer */
  int64_t layer_switches;
  double bitrate_kbps, fps, jitter_ms;
  int64_t latency_ms;
  double e2e_latency_ms; /* < 0: unknown (null) */
  uint64_t video_frames_decoded, audio_ms_decoded;
  int64_t first_frame_ms, first_frame_since_start_ms; /* -1 before the first frame */
  uint64_t video_frames_sent, rtp_packets_sent;
  int64_t packets_lost;
  double audio_tone_hz; /* <= 0: not measured (the member is absent) */
  uint64_t datagrams_in, datagrams_out, opened;
  uint64_t dropped_not_ours, dropped_malformed, dropped_unexpected, dropped_auth, dropped_replay,
      dropped_handshake;
  uint64_t pli_sent, pli_received;
  uint64_t control_unknown, control_malformed;
  int64_t estimate_kbps;
  int64_t peer_estimate_kbps;         /* -1: none yet */
  char reason[ML_EVENT_MAX_WORD + 1]; /* the rate controller's (ml/call.h) */
  uint64_t frame_width, frame_height;
  uint64_t freeze_ms, freezes;
  uint64_t audio_expected_ms, audio_fec_ms, audio_concealed_ms;
  bool final;
} ml_event_stats;

/* One event; which members a type uses is listed at ml_event_type, the
 * others are zero after decoding and ignored by the encoder. */
typedef struct ml_event {
  ml_event_type type;
  int64_t t_ms;
  /* "peer" and "name": present when peer is not empty; JOINED: our own id
   * ("peer_id") and name, always present. */
  char peer[ML_EVENT_MAX_ID + 1];
  char name[ML_EVENT_MAX_NAME + 1];
  char state[ML_EVENT_MAX_WORD + 1];
  char path[ML_EVENT_MAX_WORD + 1];
  char sas[ML_EVENT_MAX_SAS + 1];
  char safety_number[ML_EVENT_MAX_SAFETY + 1];
  char fingerprint[ML_EVENT_MAX_FINGERPRINT + 1];
  char pinned_fingerprint[ML_EVENT_MAX_FINGERPRINT + 1];
  char pin[ML_EVENT_MAX_WORD + 1];
  char error[ML_EVENT_MAX_WORD + 1]; /* an ml_strerror text; "": none */
  bool verified, fatal, ok;
  bool muted, camera_on, video_paused; /* PEER_MEDIA */
  /* SESSION: what (role, locked, hand, reaction, muted_by_host, spotlight,
   * asked, join_failed, closed, refused), on, order (a raised hand's
   * ticket), by / by_name (who did it; "" when nobody else). */
  char what[ML_EVENT_MAX_WORD + 1];
  bool on;
  uint64_t order;
  char by[ML_EVENT_MAX_ID + 1];
  char by_name[ML_EVENT_MAX_NAME + 1];
  uint64_t id;
  /* room, reason, warning, chat text, session detail or error message: valid UTF-8. When
   * encoding, the caller's string (NULL: ""); when decoding, owned_text. */
  const char *text;
  ml_event_stats stats;
  char *owned_text; /* decoding only: freed by ml_event_clear */
} ml_event;

/* The line of ev, without a newline (transfer full: g_free). The strings of
 * ev must be valid UTF-8 (RFC 8259 escaping is applied). */
char *ml_event_encode(const ml_event *ev);

/* Parses one line (its newline removed) into *ev, which the caller clears
 * with ml_event_clear afterwards whatever the result. Errors:
 * ML_ERR_TOO_BIG (longer than ML_EVENT_MAX_LINE, or a string longer than
 * its member above), ML_ERR_PROTOCOL (not UTF-8, not a JSON object, no
 * "event" string, a member of the type missing or of another type, a
 * negative count), ML_ERR_UNSUPPORTED (an "event" this codec does not
 * know, such as the window's test-control answers "ui_layout"). */
int ml_event_decode(const char *line, ml_event *ev) ML_MUST_CHECK;

/* Frees what ml_event_decode allocated and zeroes ev. NULL is a no-op. */
void ml_event_clear(ml_event *ev);

#endif /* ML_EVENT_H */
