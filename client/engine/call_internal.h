/* mentorlink — the inside of one call (ml/call.h), shared by call.c (the
 * public API, the engine thread, room and peer bookkeeping from signaling),
 * call_peer.c (each peer's lifecycle, its link, ICE relay and restarts) and
 * call_media.c (the media pipelines, media announcements, stats and the rate
 * controller). Private to those files.
 *
 * Threads: everything here runs on the engine thread, except what
 * ml_call.shared_lock guards (see there). The ml_call_* functions below are
 * not API: their names only keep them apart from other modules' symbols.
 */
#ifndef ML_CALL_INTERNAL_H
#define ML_CALL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ml/call.h"
#include "ml/control.h"
#include "ml/media.h"
#include "ml/peer_link.h"
#include "ladder.h"
#include "layer_fwd.h"
#include "layer_policy.h"
#include "ml/rate.h"
#include "ml/signal_client.h"
#include "peer_state.h"

#define LEVEL_FLOOR_DBFS -127.0 /* the audio level of silence */

/* What other threads may read of a peer (ml_call_latest_frame,
 * ml_call_audio_level): an entry of ml_call.shared, created when the peer's
 * receive branch starts and removed before it is freed, both on the engine
 * thread and under ml_call.shared_lock, which readers hold while they use
 * it. */
typedef struct peer_shared {
  ml_media_receiver *rx;
  double dbfs;      /* the last complete window */
  int64_t level_us; /* monotonic time of that window; 0 before the first */
} peer_shared;

typedef struct call_peer {
  ml_call *call;
  char id[ML_CALL_MAX_PEER_ID + 1];
  char name[ML_CALL_MAX_NAME + 1];
  uint8_t announced_key[ML_IDENTITY_PUBLIC_LEN]; /* what the server said */
  ml_peer_link *link;
  ml_media_receiver *rx;
  char remote_ufrag[ML_PEER_LINK_MAX_UFRAG + 1];
  char offered_ufrag[ML_PEER_LINK_MAX_UFRAG + 1]; /* of our last offer */
  bool gathered;              /* our candidates are all reported (end-of-candidates sent) */
  ml_restart_backoff restart; /* progress: the link's authenticated datagrams */
  GSource *restart_timer;     /* a pending ICE restart (we are controlling) */
  ml_peer_state state;        /* changed by peer_set_state only */
  bool controlling;           /* our ICE role, fixed by the ids when the link was made */
  GSource *grace_timer;       /* it lost its signaling connection: the link waits for it */
  /* Its signaling id as its link says (CONTROL SIGNAL_ID), and a member the
   * server announced with its identity key under another id, held until
   * the link names that id (then the same peer, back) or the link goes
   * (then someone else: added); and such a knock, admitted once named. */
  char said_id[ML_CALL_MAX_PEER_ID + 1];
  uint32_t said_seq;
  bool have_said;
  ml_signal_peer *pending;
  char pending_knock[ML_CALL_MAX_PEER_ID + 1];
  /* Layers (call_layers.c): what it is sent of our video, and what we ask of its. */
  ml_layer_fwd fwd;     /* rewrites the layer it is sent (layer_fwd.h) */
  ml_media_layer wants; /* its LAYER request (large until it asks) */
  uint32_t wants_seq;
  bool have_wants;
  ml_layer_policy policy; /* small while its link is weak (layer_policy.h) */
  ml_media_layer sent;    /* wants, or small while demoted: its rate group */
  ml_media_layer ask;     /* what we ask its sender for */
  int64_t rx_started_ms;  /* since the call started */
  ml_peer_link_state reported_state;
  ml_peer_link_path reported_path;
  uint64_t frames_sent, rtp_sent, pli_received;
  ml_media_rtcp_info rtcp; /* latest report about our media */
  double remb_kbps;        /* its latest delay-based estimate; < 0 none */
  bool have_rtcp;
  int16_t *pcm; /* measure_tone: the last TONE_SAMPLES (call_media.c) decoded, a ring */
  size_t pcm_pos, pcm_total;
  double level_sum; /* the audio level window being summed */
  size_t level_n;
  peer_shared *shared;                        /* in call->shared while rx runs */
  uint8_t proven_key[ML_IDENTITY_PUBLIC_LEN]; /* from the handshake, once secure */
  bool have_proven_key;                       /* proven_key is set (the channel was up) */
  bool have_media;                            /* a MEDIA_STATE came: media, media_seq */
  ml_call_peer_media media;
  uint32_t media_seq;
  uint64_t control_unknown, control_malformed;
  /* Session controls (call_session.c). */
  bool host; /* a host of the room, as the server announced it */
  bool hand;
  uint64_t hand_ticket;
  uint32_t hand_seq, reaction_seq, request_seq, spot_seq; /* the last taken of each */
  bool have_hand, have_reaction, have_request, have_spot;
  uint8_t req_code; /* our pending request to this peer, sent req_left more times */
  uint32_t req_seq;
  unsigned req_left;
} call_peer;

struct ml_call {
  /* Configuration (immutable after ml_call_new). */
  char *url, *token, *room_cfg, *name, *secret, *pins_path, *ca_file, *camera, *microphone;
  const ml_identity *identity;
  ml_media_video_source video;
  unsigned video_width, video_height; /* 0: the sender's default */
  ml_media_audio_source audio;
  bool headless, admit_all, measure_tone;
  uint32_t path_timeout_ms;
  char **local_addresses;
  size_t n_local_addresses;
  gint64 t0;

  /* Shared with the owner thread. */
  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  GAsyncQueue *events;
  int efd;
  gint leave_requested;
  gint self_view_requested;
  /* Written by the engine thread under shared_lock, read by any thread under
   * it (the engine thread reads without it): `tx` below and this table. */
  GMutex shared_lock;
  GHashTable *shared; /* peer id (owned) -> peer_shared (owned) */

  /* Engine thread only. */
  uint8_t *psk; /* sodium_malloc, NULL without a room secret */
  char verifier[45];
  ml_signal_client *sig;
  char self_id[ML_CALL_MAX_PEER_ID + 1];
  char room_id[ML_CALL_MAX_PEER_ID + 1];
  GHashTable *peers;         /* id -> call_peer */
  GHashTable *retired_ids;   /* ids peers had before they rejoined: their peer_left is old news */
  ml_media_sender *tx;       /* see shared_lock */
  ml_rate *rate;             /* with tx: the large layer's congestion control (its peers) */
  ml_rate_decision rate_set; /* what was last applied to tx */
  ml_rate *rate_small;       /* with tx and video: the small layer's (the peers sent it) */
  ml_rate_decision small_set;
  unsigned opus_loss_set;      /* the expected loss last told to Opus */
  bool announced_small_paused; /* in the last MEDIA_STATE to the small layer's peers */
  ml_media_layer ask_default;  /* what we ask every sender for (the owner may change it) */
  uint32_t ask_seq;            /* of our LAYER requests */
  ml_ladder ladder;            /* with rate and video: the format for the target (ladder.h) */
  bool have_ladder;
  bool thin_audio; /* Opus set for a thin link (ladder.h) */
  bool muted, camera_off;
  bool devices_checked;         /* the camera and microphone asked for were looked for */
  ml_call_peer_media announced; /* our media state as last announced, with its seq */
  uint32_t media_seq;           /* 0 before the first announcement */
  GSource *stats_timer;
  char *stun_host;
  uint16_t stun_port;
  ml_peer_link_turn turn[ML_PEER_LINK_MAX_TURN];
  char *turn_strings[ML_PEER_LINK_MAX_TURN][3]; /* owned: server, username, password */
  size_t n_turn;
  unsigned closing; /* links whose agent close (TURN release) is pending */
  /* Session controls (call_session.c). */
  bool self_host;
  bool hand_raised;
  uint64_t hand_ticket, tickets; /* ours; the last ticket given out */
  uint32_t hand_seq, ctl_seq, spot_seq, self_id_seq;
  uint8_t reaction;
  uint32_t reaction_seq;
  unsigned reaction_left;
  char spotlight[ML_CALL_MAX_PEER_ID + 1]; /* who is in the spotlight ("" nobody) */
  bool spot_ours;                          /* we set it as a host: we repeat it */
  bool ended;
};

/* ---- events (call.c) ---- */

/* A new event of this type, about p (NULL: about the call). */
ml_call_event *ml_call_event_new(ml_call *call, ml_call_event_type type, const call_peer *p);
/* Queues ev (taken). False when it was dropped: a full queue (nobody is
 * draining) drops what a peer repeats anyway, non-final stats and media
 * states (the caller keeps the old state so the next repeat tries again). */
bool ml_call_emit(ml_call *call, ml_call_event *ev);
void ml_call_emit_error_full(ml_call *call, const call_peer *p, int err, const char *text,
                             bool fatal);
void ml_call_emit_error(ml_call *call, const call_peer *p, int err, const char *text);

/* ---- peers (call_peer.c) ---- */

/* A peer the server announced: its link, ICE start and receive branch
 * (nothing if we know it, it is us, or the room is full). */
void ml_call_peer_add(ml_call *call, const ml_signal_peer *sp);
/* The peer leaves (final stats, PEER_LEFT) and is freed. */
void ml_call_peer_remove(ml_call *call, call_peer *p, const char *reason);
/* The peer whose identity key its handshake proved is key; NULL if none. */
call_peer *ml_call_peer_by_key(ml_call *call, const uint8_t key[ML_IDENTITY_PUBLIC_LEN]);
/* sp, announced with p's proven key under another id: p again if p's link
 * names that id (now, or later: ml_call_peer_said_id), else held. */
void ml_call_peer_claimed(ml_call *call, call_peer *p, const ml_signal_peer *sp);
/* p's link named its signaling id (CONTROL SIGNAL_ID, newer seq). */
void ml_call_peer_said_id(call_peer *p, const ml_control_message *m);
/* sp is p again, under a new id after a signaling reconnect (its or ours):
 * the link carries on; PEER_REJOINED when the id changed. */
void ml_call_peer_rejoined(ml_call *call, call_peer *p, const ml_signal_peer *sp);
/* p's signaling connection was lost ("disconnected"), or is not in the room
 * we rejoined: a secure link is kept ML_CALL_REJOIN_GRACE_MS for it to come
 * back (ml_call_peer_rejoined), then removed; any other is removed now. */
void ml_call_peer_away(ml_call *call, call_peer *p, const char *reason);
/* The destructor of ml_call.peers' values. */
void ml_call_peer_free(call_peer *p);
/* A PEER_STATE event if the link's state or path changed since the last. */
void ml_call_report_peer_state(call_peer *p);
/* The signaling client's on_signal: an ICE message relayed from a peer. */
void ml_call_on_sig_signal(const char *from, JsonObject *data, void *user);

/* ---- media (call_media.c) ---- */

/* The send pipeline, started once (the self view, then every secure peer). */
void ml_call_ensure_sender(ml_call *call);
void ml_call_free_sender(ml_call *call);
/* p's receive branch, started when it joins (warm before the channel is up). */
void ml_call_start_receiver(call_peer *p);
/* p's channel is up: keyframes both ways, our media state to it. */
void ml_call_start_media(call_peer *p);
/* Video is encoded only while a peer is usable (the self view goes on). */
void ml_call_update_idle(ml_call *call);
/* Announces our media state if it changed. True when sent. */
bool ml_call_media_state_update(ml_call *call);
void ml_call_emit_stats(call_peer *p, bool final);
/* The link's on_datagram: media, RTCP and CONTROL from the peer. */
void ml_call_on_datagram(ml_peer_link *link, ml_inner_type type, const uint8_t *data, size_t len,
                         void *user);
/* Once a second (ML_CALL_STATS_INTERVAL_MS): the rate controller, every
 * peer's state and stats, the repeat of our media state. */
gboolean ml_call_on_stats_tick(gpointer user);

/* ---- layers (call_layers.c) ---- */

/* A new peer: sent the large layer once a keyframe starts; asked for ask_default. */
void ml_call_layers_peer_init(call_peer *p);
/* The rate controller that hears p's reports: the one of the layer it is sent. */
ml_rate *ml_call_layers_rate_of(const call_peer *p);
/* One packet of the sender for p: false if it is not for p; else *out is
 * what to send (buf, rewritten, or data itself). */
bool ml_call_layers_out(call_peer *p, ml_inner_type type, const uint8_t *data, size_t len,
                        uint8_t *buf, const uint8_t **out);
/* p's feedback about our video, pointed at the layer it concerns (in buf). */
const uint8_t *ml_call_layers_feedback(const call_peer *p, const uint8_t *data, size_t len,
                                       uint8_t *buf);
/* p's LAYER request. */
void ml_call_layers_on_request(call_peer *p, const ml_control_message *m);
/* Which layers are encoded: those some usable peer is sent (or is still
 * sent until its switch), the small one unless its controller paused it. */
void ml_call_layers_apply(ml_call *call);
/* Once a second: each peer's layer (layer_policy.h), our requests repeated. */
void ml_call_layers_tick(ml_call *call, int64_t now_ms);
/* Our request to p (or, NULL, to every usable peer). */
void ml_call_layers_send_request(ml_call *call, const call_peer *only);

/* ---- session controls (call_session.c) ---- */

/* A CONTROL message other than MEDIA_STATE from p (parsed). */
void ml_call_session_on_control(call_peer *p, const ml_control_message *m);
/* Once a second: the repeats of our hand, spotlight, signaling id and
 * pending one-shots. */
void ml_call_session_tick(ml_call *call);
/* Our signaling id changed (a welcome or waiting after a reconnect): every
 * link is told at once (SIGNAL_ID). */
void ml_call_session_self_id_changed(ml_call *call);
/* A peer the server announced (welcome or peer_joined) is in call->peers. */
void ml_call_session_peer_added(ml_call *call, const ml_signal_peer *sp);
/* We were welcomed (role from the welcome). */
void ml_call_session_welcome(ml_call *call, bool host);
/* The signaling callbacks of the room's state. */
void ml_call_session_on_room_state(bool locked, const char *by, void *user);
void ml_call_session_on_role_changed(const char *peer_id, bool host, const char *reason,
                                     void *user);
void ml_call_session_on_join_failed(const char *name, const char *reason, void *user);
/* A fatal signaling error: SESSION CLOSED first when code ends our place. */
void ml_call_session_on_sig_error(ml_call *call, const char *code);

#endif /* ML_CALL_INTERNAL_H */
