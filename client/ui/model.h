/* mentorlink UI — model: what the window shows, built from the engine's
 * events (ml/call.h) and the user's own actions. Pure state: no SDL, no
 * engine calls, so tests feed it events and check the result.
 *
 * Threads: one (the UI thread). Ownership: the model copies what it keeps
 * from an event; the caller still frees the event. Chat text is kept as
 * given (the engine guarantees valid UTF-8 from peers; local input is
 * UTF-8 from SDL). The chat log keeps the last ML_UI_MAX_CHAT messages.
 */
#ifndef ML_UI_MODEL_H
#define ML_UI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/call.h"

#define ML_UI_MAX_PEERS 7 /* remote participants shown: 8 with ourselves */
#define ML_UI_MAX_CHAT 500
#define ML_UI_MAX_BANNERS 4
#define ML_UI_BANNER_TEXT 160
#define ML_UI_PEER_LEFT_SHOW_MS 8000 /* how long "X left the call" stays */

typedef enum ml_ui_quality {
  ML_UI_QUALITY_UNKNOWN,
  ML_UI_QUALITY_POOR,
  ML_UI_QUALITY_FAIR,
  ML_UI_QUALITY_GOOD,
} ml_ui_quality;

typedef struct ml_ui_peer {
  char id[ML_CALL_MAX_PEER_ID + 1];
  char name[ML_CALL_MAX_NAME + 1];
  int link_state; /* ml_call_link_state */
  ml_call_path path;
  bool secure; /* VERIFIED event seen: sas and safety_number are valid */
  char sas[ML_SAS_TEXT_LEN];
  char safety_number[ML_SAFETY_NUMBER_TEXT_LEN];
  char fingerprint[ML_IDENTITY_FINGERPRINT_LEN];
  bool verified;         /* marked verified (now or in an earlier call) */
  bool identity_changed; /* its key differs from the pinned one, not yet verified */
  char old_fingerprint[ML_IDENTITY_FINGERPRINT_LEN];
  bool media_known; /* a PEER_MEDIA event came */
  ml_call_peer_media media;
  bool have_stats;
  ml_call_stats stats;
  ml_ui_quality quality;
  bool host;            /* a host of the room, as the server said */
  bool hand;            /* its hand is raised */
  uint64_t hand_ticket; /* hands went up in increasing tickets */
} ml_ui_peer;

/* Where one of our messages went: per peer, the id CHAT_SENT gave and
 * whether the RECEIPT came. */
#define ML_UI_MAX_RECIPIENTS ML_UI_MAX_PEERS
typedef struct ml_ui_chat_msg {
  char *text; /* owned */
  char sender[ML_CALL_MAX_NAME + 1];
  bool outgoing;
  int64_t wall_s; /* time it was sent or received (seconds since the epoch) */
  size_t n_to;
  struct {
    char peer_id[ML_CALL_MAX_PEER_ID + 1];
    uint64_t id;
    bool delivered;
  } to[ML_UI_MAX_RECIPIENTS];
} ml_ui_chat_msg;

typedef enum ml_ui_delivery {
  ML_UI_DELIVERY_SENDING,   /* not yet queued to any peer */
  ML_UI_DELIVERY_SENT,      /* queued; no receipt from everyone yet */
  ML_UI_DELIVERY_DELIVERED, /* every peer it was sent to confirmed */
} ml_ui_delivery;

typedef enum ml_ui_banner_kind {
  ML_UI_BANNER_INFO,    /* connecting, waiting */
  ML_UI_BANNER_WARNING, /* reconnecting, relayed, video paused, peer left, errors */
} ml_ui_banner_kind;

typedef struct ml_ui_banner {
  ml_ui_banner_kind kind;
  char text[ML_UI_BANNER_TEXT];
  char knock_id[ML_CALL_MAX_PEER_ID + 1]; /* a knock: clicking the banner admits this peer */
} ml_ui_banner;

#define ML_UI_MAX_KNOCKS 8
typedef struct ml_ui_knock {
  char id[ML_CALL_MAX_PEER_ID + 1];
  char name[ML_CALL_MAX_NAME + 1];
} ml_ui_knock;

typedef struct ml_ui_model {
  char self_id[ML_CALL_MAX_PEER_ID + 1];
  char self_name[ML_CALL_MAX_NAME + 1];
  char room[ML_CALL_MAX_NAME + 1];
  int signaling; /* ml_signal_client_state; -1 before the first event */
  bool joined, ended;
  bool muted, camera_on; /* our own microphone and camera */
  ml_ui_peer peers[ML_UI_MAX_PEERS];
  size_t n_peers;
  ml_ui_chat_msg chat[ML_UI_MAX_CHAT];
  size_t n_chat;
  uint64_t chat_serial; /* counts every message ever added (scrolling follows it) */
  bool chat_open;
  unsigned unread;                      /* messages received while the chat panel was closed */
  ml_ui_knock knocks[ML_UI_MAX_KNOCKS]; /* we host: who waits to be admitted */
  size_t n_knocks;
  char left_name[ML_CALL_MAX_NAME + 1];
  int64_t left_at_ms; /* model time the last peer left; -1 none */
  char error[ML_UI_BANNER_TEXT];
  bool error_fatal;
  /* The session (SESSION events). */
  bool self_host, self_hand;
  uint64_t self_hand_ticket;
  bool muted_by_host; /* a host muted us; cleared when we unmute */
  bool locked;
  char spotlight[ML_CALL_MAX_PEER_ID + 1]; /* "" nobody */
  char closed[32];                         /* SESSION closed: why our place ended */
  bool people_open;                        /* the participant panel (in the chat's place) */
  int64_t joined_at_ms;                    /* model time of JOINED; -1 before */
  int64_t end_at_ms; /* model time the call ends by (--duration); -1 none (the owner sets it) */
} ml_ui_model;

#define ML_UI_END_WARNING_MS 60000 /* the last minute of a scheduled end is a warning */

void ml_ui_model_init(ml_ui_model *m, const char *self_name);
void ml_ui_model_clear(ml_ui_model *m);

/* Applies one engine event at model time now_ms (monotonic) and wall clock
 * wall_s. Returns true when something visible changed. */
bool ml_ui_model_apply(ml_ui_model *m, const ml_call_event *ev, int64_t now_ms, int64_t wall_s);

/* Our own message, as the user sent it (before CHAT_SENT events arrive;
 * they attach to it by text). */
void ml_ui_model_add_outgoing(ml_ui_model *m, const char *text, int64_t wall_s);

/* We admitted (or gave up on) a waiting peer: its knock goes. */
void ml_ui_model_remove_knock(ml_ui_model *m, const char *peer_id);

/* Opens or closes the chat panel; opening clears the unread count. */
void ml_ui_model_set_chat_open(ml_ui_model *m, bool open);

ml_ui_peer *ml_ui_model_peer(ml_ui_model *m, const char *peer_id);
ml_ui_delivery ml_ui_model_delivery(const ml_ui_chat_msg *msg);

/* The connection quality from stats: loss and round-trip time. */
ml_ui_quality ml_ui_quality_from_stats(const ml_call_stats *s);
const char *ml_ui_quality_name(ml_ui_quality q);

/* The banners to show now, most important first; returns how many. */
size_t ml_ui_model_banners(const ml_ui_model *m, int64_t now_ms, ml_ui_banner *out, size_t max);

/* Initials for an avatar card: the first letters (UTF-8 code points,
 * upper-cased when ASCII) of the first two words; "?" for an empty name. */
void ml_ui_initials(const char *name, char out[16]);

/* "M:SS" (or "H:MM:SS" from an hour) of ms, >= 0 (negative counts as 0). */
void ml_ui_format_duration(int64_t ms, char *out, size_t cap);

/* The call's clock at now_ms: elapsed since JOINED, and with a scheduled
 * end the time left ("12:34 · 2:26 left"); "" before JOINED. *warn: in the
 * last ML_UI_END_WARNING_MS. */
void ml_ui_model_clock(const ml_ui_model *m, int64_t now_ms, char *out, size_t cap, bool *warn);

/* The place of a raised hand in the order hands went up (1 = first), 0
 * when it is down; ticket 0 is ours (self), else a peer's. */
unsigned ml_ui_model_hand_place(const ml_ui_model *m, bool self, size_t peer);

/* The first peer whose changed identity is not yet verified, or NULL. */
const ml_ui_peer *ml_ui_model_identity_alert(const ml_ui_model *m);

#endif /* ML_UI_MODEL_H */
