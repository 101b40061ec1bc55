/* mentorlink — the secure path to one remote peer.
 *
 * A peer link owns, for one remote peer: one ICE stream with one component
 * (libnice, RFC 5245 mode, UDP; ICE-TCP only on request), the Noise handshake
 * run over that path once ICE is ready, the secure datagram channel that
 * follows it, and a reliable ordered byte stream (libnice's PseudoTcpSocket)
 * carried inside that channel. docs/PROTOCOL.md ("The handshake on the ICE
 * path") describes what crosses the wire, byte by byte; the handshake itself
 * is ml/handshake.h, the reliable stream's frames client/engine/stream_frame.h.
 *
 * Life of a link:
 *   1. ml_peer_link_new: creates the stream (on its own agent, or on one the
 *      engine shares between links) and attaches it to the caller's context.
 *   2. The caller sends the local credentials (ml_peer_link_local_credentials)
 *      through signaling, calls ml_peer_link_start, and forwards every local
 *      candidate the candidate callback reports (trickle ICE). What the peer
 *      sends back goes into ml_peer_link_set_remote_credentials,
 *      ml_peer_link_add_remote_candidate and
 *      ml_peer_link_remote_gathering_done.
 *   3. When the component is CONNECTED (or READY) the Noise initiator starts
 *      the handshake, retransmitting on a timer. On success the secure
 *      callback reports the SAS, the safety number and the peer's identity
 *      key. A failed attempt (timeout, a message that did not authenticate)
 *      is reported through the error callback and followed by a new
 *      handshake (fresh ephemeral keys; the initiator backs off 1 s, 2 s, ...)
 *      up to handshake_attempts; then, or when the failure cannot be cured by
 *      trying again (the peer's room secret differs, its identity key does not
 *      match its handshake), the link is FAILED for good.
 *   4. Secure: ml_peer_link_send (one datagram, unreliable) and
 *      ml_peer_link_send_reliable / ml_peer_link_send_message (reliable,
 *      ordered) work; received data arrives through the callbacks. The link
 *      sends a KEEPALIVE whenever it sent nothing for keepalive_ms, so a peer
 *      that hears nothing for longer has lost the path: after silence_ms the
 *      path-lost callback says so (the owner's cue for an ICE restart), and
 *      after path_timeout_ms the link fails.
 *   5. ml_peer_link_restart performs an ICE restart (new local credentials,
 *      candidates reported again); an established secure channel survives it.
 *   A link that is not secure within connect_timeout_ms of
 *   ml_peer_link_start fails (ICE found no path, or no handshake succeeded).
 *
 * Roles: the peer whose peer id (a string both sides learn from signaling)
 * sorts first (strcmp) is the ICE controlling agent and the Noise initiator.
 * With an agent shared between several links the agent's controlling mode is
 * the engine's business (libnice has one role per agent); the Noise role still
 * follows the peer ids, so both ends always agree.
 *
 * Threading: everything (calls and callbacks) happens on the GMainContext
 * given in the configuration, which the caller iterates; no thread is
 * created. Callbacks must not free the link; schedule the free on the context
 * instead.
 *
 * Ownership: ml_peer_link_new copies every string and key of the
 * configuration, except the identity and the shared agent, which are borrowed
 * and must outlive the link.
 */
#ifndef ML_PEER_LINK_H
#define ML_PEER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <nice/agent.h>

#include "ml/channel.h"
#include "ml/datagram.h"
#include "ml/error.h"
#include "ml/identity.h"
#include "ml/noise.h"
#include "ml/verify.h"

#define ML_PEER_LINK_MAX_ROOM_ID 256   /* bytes of the room id in the prologue */
#define ML_PEER_LINK_MAX_UFRAG 256     /* RFC 5245: ufrag is 4..256 characters */
#define ML_PEER_LINK_MAX_PWD 256       /* RFC 5245: pwd is 22..256 characters */
#define ML_PEER_LINK_MAX_MESSAGE 65536 /* largest chat message, bytes */
#define ML_PEER_LINK_MAX_TURN 4        /* TURN servers per link */
/* Defaults for the fields of ml_peer_link_config left at 0. */
#define ML_PEER_LINK_HANDSHAKE_TIMEOUT_MS 10000
#define ML_PEER_LINK_HANDSHAKE_RTO_MS 250 /* first retransmission; doubles, capped at 2 s */
#define ML_PEER_LINK_HANDSHAKE_ATTEMPTS 3
#define ML_PEER_LINK_KEEPALIVE_MS 2000
#define ML_PEER_LINK_SILENCE_MS 6000          /* > keepalive_ms plus the path's jitter */
#define ML_PEER_LINK_PATH_TIMEOUT_MS 60000    /* secure, silent this long: failed */
#define ML_PEER_LINK_CONNECT_TIMEOUT_MS 60000 /* start to secure at most */
#define ML_PEER_LINK_RELIABLE_QUEUE_MAX (4u * 1024 * 1024)

typedef struct ml_peer_link ml_peer_link;

typedef enum ml_peer_link_relay_transport {
  ML_PEER_LINK_TURN_UDP,
  ML_PEER_LINK_TURN_TCP,
  ML_PEER_LINK_TURN_TLS,
} ml_peer_link_relay_transport;

typedef struct ml_peer_link_turn {
  const char *server; /* IP address literal (libnice does not resolve names) */
  uint16_t port;
  const char *username; /* e.g. coturn REST "expiry:user" */
  const char *password;
  ml_peer_link_relay_transport transport;
} ml_peer_link_turn;

/* Where the link is. FAILED is final. */
typedef enum ml_peer_link_state {
  ML_PEER_LINK_NEW,         /* created, not gathering yet */
  ML_PEER_LINK_CONNECTING,  /* ICE gathering / checking */
  ML_PEER_LINK_HANDSHAKING, /* ICE ready, Noise in progress */
  ML_PEER_LINK_SECURE,      /* channel up: data flows */
  ML_PEER_LINK_FAILED,      /* given up for good (handshake attempts exhausted, no path in
                               connect_timeout_ms, path lost for path_timeout_ms); see the
                               error callback */
} ml_peer_link_state;

/* The kind of the selected ICE path: relay if either end of the pair is a
 * relayed candidate, srflx if either is server- or peer-reflexive, else host. */
typedef enum ml_peer_link_path {
  ML_PEER_LINK_PATH_NONE,
  ML_PEER_LINK_PATH_HOST,
  ML_PEER_LINK_PATH_SRFLX,
  ML_PEER_LINK_PATH_RELAY,
} ml_peer_link_path;

/* What the secure callback reports (valid during the callback only). */
typedef struct ml_peer_link_verification {
  uint8_t handshake_hash[ML_NOISE_HASH_LEN];
  uint8_t peer_identity[ML_IDENTITY_PUBLIC_LEN]; /* the peer's Ed25519 key, bound to Noise */
  char sas[ML_SAS_TEXT_LEN];
  char safety_number[ML_SAFETY_NUMBER_TEXT_LEN];
  bool initiator;
} ml_peer_link_verification;

typedef struct ml_peer_link_stats {
  ml_channel_stats channel;    /* zero until secure */
  uint64_t datagrams_in;       /* everything the component delivered to us */
  uint64_t datagrams_out;      /* everything we handed to nice_agent_send successfully */
  uint64_t send_failures;      /* nice_agent_send refused or sent short */
  uint64_t dropped_not_ours;   /* first byte not ours (RFC 7983 demux) or too long */
  uint64_t dropped_malformed;  /* our marker, but framing invalid */
  uint64_t dropped_unexpected; /* valid framing at the wrong time (e.g. transport before keys) */
  uint64_t dropped_handshake;  /* handshake datagrams ignored (duplicates, stale, wrong index) */
  uint64_t dropped_reliable;   /* authenticated RELIABLE segments PseudoTCP refused */
  uint64_t handshake_retransmits;
  uint64_t keepalives_in, keepalives_out;
  uint64_t delivered; /* datagrams given to the datagram callback */
  uint64_t reliable_bytes_in;
  uint64_t reliable_bytes_out; /* accepted by PseudoTCP */
  uint64_t reliable_queued;    /* bytes waiting for PseudoTCP's send window */
  uint64_t silent_ms;          /* secure: since the last authenticated datagram; else 0 */
  ml_peer_link_path path;
  ml_peer_link_state state;
} ml_peer_link_stats;

/* Callbacks (all optional; user is the configuration's callbacks.user). */
/* A local candidate as an SDP attribute ("a=candidate:..."), for signaling. */
typedef void (*ml_peer_link_candidate_cb)(ml_peer_link *link, const char *sdp_attribute,
                                          void *user);
typedef void (*ml_peer_link_gathering_done_cb)(ml_peer_link *link, void *user);
/* The component's ICE state (NiceComponentState). */
typedef void (*ml_peer_link_ice_state_cb)(ml_peer_link *link, NiceComponentState state, void *user);
typedef void (*ml_peer_link_secure_cb)(ml_peer_link *link, const ml_peer_link_verification *v,
                                       void *user);
/* An authenticated datagram (RTP, RTCP or CONTROL; never KEEPALIVE or RELIABLE). */
typedef void (*ml_peer_link_datagram_cb)(ml_peer_link *link, ml_inner_type type,
                                         const uint8_t *payload, size_t len, void *user);
/* The next bytes of the peer's reliable stream, in order (chunking is not kept). */
typedef void (*ml_peer_link_reliable_cb)(ml_peer_link *link, const uint8_t *bytes, size_t len,
                                         void *user);
/* A whole chat message (ml_peer_link_send_message on the other side). */
typedef void (*ml_peer_link_message_cb)(ml_peer_link *link, uint64_t id, const uint8_t *bytes,
                                        size_t len, void *user);
/* The peer received the message with this id (delivery receipt). */
typedef void (*ml_peer_link_receipt_cb)(ml_peer_link *link, uint64_t id, void *user);
/* Something went wrong (err is an ml_err; what is a static English
 * sentence). The link failed for good if ml_peer_link_get_state says
 * FAILED; otherwise it goes on (a handshake attempt failed and another
 * follows, the reliable stream broke but datagrams still flow, a hint). */
typedef void (*ml_peer_link_error_cb)(ml_peer_link *link, int err, const char *what, void *user);
/* Secure, but nothing authenticated arrived from the peer for silence_ms
 * (once per silence; again silence_ms after each ml_peer_link_restart while
 * it lasts): the path is probably gone, an ICE restart may find another. */
typedef void (*ml_peer_link_path_lost_cb)(ml_peer_link *link, void *user);

typedef struct ml_peer_link_callbacks {
  ml_peer_link_candidate_cb on_candidate;
  ml_peer_link_gathering_done_cb on_gathering_done;
  ml_peer_link_ice_state_cb on_ice_state;
  ml_peer_link_secure_cb on_secure;
  ml_peer_link_datagram_cb on_datagram;
  ml_peer_link_reliable_cb on_reliable;
  ml_peer_link_message_cb on_message;
  ml_peer_link_receipt_cb on_receipt;
  ml_peer_link_error_cb on_error;
  ml_peer_link_path_lost_cb on_path_lost;
  void *user;
} ml_peer_link_callbacks;

typedef struct ml_peer_link_config {
  GMainContext *context;       /* required: where everything runs */
  NiceAgent *shared_agent;     /* NULL: the link makes and owns its own agent */
  const ml_identity *identity; /* required, borrowed */
  const char *local_peer_id;   /* required; decide the roles (see "Roles") */
  const char *remote_peer_id;  /* required, different from local_peer_id */
  const char *room_id;         /* required, at most ML_PEER_LINK_MAX_ROOM_ID bytes */
  /* Room secret after Argon2id (32 bytes) for Noise_XXpsk3; NULL for plain XX. */
  const uint8_t *psk;
  const char *stun_server; /* IP literal or NULL (own agent only) */
  uint16_t stun_port;      /* 0 selects 3478 */
  const ml_peer_link_turn *turn;
  size_t n_turn; /* at most ML_PEER_LINK_MAX_TURN */
  /* Restrict host candidates to these IP literals (own agent only); none: all. */
  const char *const *local_addresses;
  size_t n_local_addresses;
  bool ice_tcp;                  /* also gather ICE-TCP candidates (own agent only) */
  uint32_t handshake_timeout_ms; /* 0 selects ML_PEER_LINK_HANDSHAKE_TIMEOUT_MS */
  uint32_t handshake_rto_ms;     /* 0 selects ML_PEER_LINK_HANDSHAKE_RTO_MS */
  unsigned handshake_attempts;   /* 0 selects ML_PEER_LINK_HANDSHAKE_ATTEMPTS */
  uint32_t keepalive_ms;         /* 0 selects ML_PEER_LINK_KEEPALIVE_MS */
  uint32_t silence_ms;           /* 0 selects ML_PEER_LINK_SILENCE_MS */
  uint32_t path_timeout_ms;      /* 0 selects ML_PEER_LINK_PATH_TIMEOUT_MS */
  uint32_t connect_timeout_ms;   /* 0 selects ML_PEER_LINK_CONNECT_TIMEOUT_MS */
  size_t reliable_queue_max;     /* 0 selects ML_PEER_LINK_RELIABLE_QUEUE_MAX */
  ml_peer_link_callbacks callbacks;
} ml_peer_link_config;

/* True when the local side is ICE controlling and Noise initiator: local_id
 * sorts before remote_id (strcmp). The ids must differ. */
bool ml_peer_link_is_controlling(const char *local_peer_id, const char *remote_peer_id);

/* Creates the link and its stream (transfer full: ml_peer_link_free).
 * Errors: ML_ERR_INVALID (missing field, equal peer ids, room id too long, a
 * STUN/TURN/local address libnice refuses), ML_ERR_NOMEM, ML_ERR_IO (libnice
 * cannot add the stream). */
int ml_peer_link_new(ml_peer_link **out, const ml_peer_link_config *cfg) ML_MUST_CHECK;

/* Starts gathering local candidates; each one is reported through
 * on_candidate, then on_gathering_done. ML_ERR_IO if libnice refuses. */
int ml_peer_link_start(ml_peer_link *link) ML_MUST_CHECK;

/* The current local ICE credentials (they change on ml_peer_link_restart),
 * NUL-terminated. ML_ERR_BUFFER if a buffer is too small (caps of
 * ML_PEER_LINK_MAX_UFRAG + 1 and ML_PEER_LINK_MAX_PWD + 1 always suffice). */
int ml_peer_link_local_credentials(const ml_peer_link *link, char *ufrag, size_t ufrag_cap,
                                   char *pwd, size_t pwd_cap) ML_MUST_CHECK;

/* The peer's credentials, from signaling (untrusted: checked for length and
 * ICE characters). ML_ERR_INVALID if refused. A new ufrag after the secure
 * channel is up is accepted (the peer restarted ICE); before it, the
 * handshake uses the latest one. */
int ml_peer_link_set_remote_credentials(ml_peer_link *link, const char *ufrag,
                                        const char *pwd) ML_MUST_CHECK;

/* One remote candidate as an SDP attribute, from signaling (untrusted).
 * ML_ERR_PROTOCOL if libnice cannot parse it or it is not for component 1. */
int ml_peer_link_add_remote_candidate(ml_peer_link *link, const char *sdp_attribute) ML_MUST_CHECK;

/* The peer has sent all its candidates (end-of-candidates). */
void ml_peer_link_remote_gathering_done(ml_peer_link *link);

/* ICE restart (e.g. after the component FAILED, or the path-lost
 * callback): new local credentials, remote candidates dropped, local
 * candidates reported again through on_candidate (before this returns). The
 * caller signals the new credentials and candidates; the peer restarts too
 * (RFC 8445 9: an agent that sees new remote credentials restarts) and does
 * the same. Datagrams keep using the old pair until a new one is selected.
 * ML_ERR_STATE before ml_peer_link_start or once FAILED, ML_ERR_IO if
 * libnice refuses. */
int ml_peer_link_restart(ml_peer_link *link) ML_MUST_CHECK;

/* Seals payload (at most ML_DATAGRAM_MAX_PAYLOAD bytes) as one datagram of
 * type (RTP, RTCP or CONTROL) and sends it. Errors: ML_ERR_STATE (not
 * secure), ML_ERR_INVALID (type), ML_ERR_TOO_BIG, ML_ERR_IO (libnice could not
 * send it now: the datagram is lost, as UDP would lose it). */
int ml_peer_link_send(ml_peer_link *link, ml_inner_type type, const uint8_t *payload,
                      size_t len) ML_MUST_CHECK;

/* Appends bytes to the reliable stream. Bytes may be queued before the link
 * is secure; they leave once the PseudoTCP connection is open. ML_ERR_TOO_BIG
 * when the queue would exceed reliable_queue_max (nothing is queued then),
 * ML_ERR_STATE once the link failed. */
int ml_peer_link_send_reliable(ml_peer_link *link, const uint8_t *bytes, size_t len) ML_MUST_CHECK;

/* Sends one chat message (1..ML_PEER_LINK_MAX_MESSAGE bytes) on the reliable
 * stream; *id (may be NULL) receives the id the receipt callback will report.
 * Errors as ml_peer_link_send_reliable, plus ML_ERR_INVALID for a bad length. */
int ml_peer_link_send_message(ml_peer_link *link, const uint8_t *bytes, size_t len,
                              uint64_t *id) ML_MUST_CHECK;

ml_peer_link_state ml_peer_link_get_state(const ml_peer_link *link);

/* Counters and the current path; also queries libnice's selected pair. */
void ml_peer_link_get_stats(ml_peer_link *link, ml_peer_link_stats *out);

/* The libnice stream id (for an engine that shares one agent). */
guint ml_peer_link_stream_id(const ml_peer_link *link);

/* Removes the stream, releases the agent if the link owns it, destroys its
 * timers and wipes its keys. NULL does nothing. Not from inside a callback.
 * An agent of its own is closed first (nice_agent_close_async): its TURN
 * allocations are released on the server rather than left to expire. That
 * completes on the context (the TURN server answers, or libnice's STUN
 * retransmissions give up: seconds); keep iterating the context meanwhile,
 * or the agent is only freed with the context. */
void ml_peer_link_free(ml_peer_link *link);

typedef void (*ml_peer_link_closed_cb)(void *user);

/* ml_peer_link_free, and closed(user) once the agent's close completed (from
 * the context), or before this returns when the link has no agent of its own
 * (or link is NULL). For an owner that must know when to stop iterating. */
void ml_peer_link_close(ml_peer_link *link, ml_peer_link_closed_cb closed, void *user);

#endif /* ML_PEER_LINK_H */
