/* mentorlink — the client side of the signaling protocol (/v1/ws).
 *
 * A WebSocket client (libsoup-3) of mentorlink-signal as docs/PROTOCOL.md ("Signaling")
 * describes it: connects, joins (token, or room code + optional room-secret
 * verifier), reports the welcome (our peer id, the peers already there, the
 * ICE servers with TURN REST credentials), presence (peer joined / left),
 * the opaque "signal" messages peers relay to each other, and errors; sends
 * "signal" messages to a peer id. When the connection drops it reconnects
 * with exponential backoff (with jitter) and joins again; the server gives a
 * new peer id then, and the welcome callback runs again.
 *
 * A failed attempt is reported through the error callback in words, with
 * what to do: a wrong address (the server answers 404 or another HTTP
 * error), a TLS mismatch (wss:// to a plain server, ws:// to a TLS one) or a
 * refused certificate (why: self-signed or unknown CA, wrong name, expired)
 * are fatal at once; a server that cannot be reached is retried, each
 * message saying "retrying in N s (attempt k of M)", and before the first
 * welcome the client gives up after ML_SIGNAL_MAX_ATTEMPTS (8, about a
 * minute). Once joined, a lost server is retried without a bound: the call's
 * media does not need it.
 *
 * The server is untrusted too: every message is checked (one JSON object in a
 * text frame of at most ML_SIGNAL_CLIENT_MAX_MESSAGE bytes, v = 1, known type,
 * every field we read of the right JSON type and within the bounds of the
 * protocol). A message that fails is dropped and counted; it never reaches a
 * callback. Fields we do not read are ignored (forward compatibility within
 * version 1).
 *
 * Threading: everything happens on the GMainContext given in the
 * configuration, which must be the thread-default context of the thread that
 * calls ml_signal_client_new (libsoup attaches its sources to it); call every
 * function on that thread. Callbacks run there; they must not free the client.
 *
 * Ownership: the configuration's strings are copied. Pointers handed to
 * callbacks are valid during the callback only.
 */
#ifndef ML_SIGNAL_CLIENT_H
#define ML_SIGNAL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ml/error.h"
#include "ml/identity.h"

#define ML_SIGNAL_CLIENT_MAX_MESSAGE 65536 /* largest frame we accept from the server */
#define ML_SIGNAL_MAX_PEER_ID 64
#define ML_SIGNAL_MAX_NAME 64 /* display name, bytes of UTF-8 */
#define ML_SIGNAL_MAX_ROOM 64
#define ML_SIGNAL_MAX_PEERS 64       /* peers listed in one welcome */
#define ML_SIGNAL_MAX_ICE_SERVERS 8  /* ice server URLs kept from one welcome */
#define ML_SIGNAL_MAX_CREDENTIAL 512 /* TURN username / credential, bytes */
#define ML_SIGNAL_MAX_HOST 255
#define ML_SIGNAL_MAX_URLS 8 /* addresses of one service (ml_signal_client_config.url) */
#define ML_SIGNAL_BACKOFF_MIN_MS 500
#define ML_SIGNAL_BACKOFF_MAX_MS 30000
/* Attempts before the first welcome after which the client gives up: about a
 * minute with the default backoff (0.5, 1, 2, 4, 8, 16, 30 s, +-25 %). */
#define ML_SIGNAL_MAX_ATTEMPTS 8

typedef struct ml_signal_client ml_signal_client;

/* A peer as the server introduced it (its identity key is what the server
 * said: unverified until the handshake binds it). */
typedef struct ml_signal_peer {
  char id[ML_SIGNAL_MAX_PEER_ID + 1];
  char name[ML_SIGNAL_MAX_NAME + 1];
  bool host;
  uint8_t identity_key[ML_IDENTITY_PUBLIC_LEN];
} ml_signal_peer;

typedef enum ml_signal_ice_kind {
  ML_SIGNAL_ICE_STUN,
  ML_SIGNAL_ICE_TURN_UDP,
  ML_SIGNAL_ICE_TURN_TCP,
  ML_SIGNAL_ICE_TURN_TLS,
} ml_signal_ice_kind;

/* One STUN or TURN URL of the welcome's ice_servers, parsed. host is as the
 * URL gave it (an IP literal or a name; brackets of IPv6 removed). */
typedef struct ml_signal_ice_server {
  ml_signal_ice_kind kind;
  char host[ML_SIGNAL_MAX_HOST + 1];
  uint16_t port;
  char username[ML_SIGNAL_MAX_CREDENTIAL + 1]; /* TURN only */
  char credential[ML_SIGNAL_MAX_CREDENTIAL + 1];
} ml_signal_ice_server;

typedef struct ml_signal_welcome {
  char peer_id[ML_SIGNAL_MAX_PEER_ID + 1];
  char room[ML_SIGNAL_MAX_ROOM + 1];
  char name[ML_SIGNAL_MAX_NAME + 1];
  bool host;
  const ml_signal_peer *peers;
  size_t n_peers;
  const ml_signal_ice_server *ice;
  size_t n_ice;
} ml_signal_welcome;

typedef enum ml_signal_client_state {
  ML_SIGNAL_CONNECTING,   /* WebSocket handshake in progress */
  ML_SIGNAL_JOINING,      /* join sent */
  ML_SIGNAL_WAITING,      /* in the room's waiting room */
  ML_SIGNAL_JOINED,       /* welcome received */
  ML_SIGNAL_RECONNECTING, /* connection lost; next attempt after a backoff */
  ML_SIGNAL_CLOSED,       /* final: left, removed, denied, room closed or refused */
} ml_signal_client_state;

typedef void (*ml_signal_state_cb)(ml_signal_client_state state, void *user);
typedef void (*ml_signal_welcome_cb)(const ml_signal_welcome *w, void *user);
typedef void (*ml_signal_peer_joined_cb)(const ml_signal_peer *p, void *user);
/* We are a host and p waits in the waiting room (p->host is false). */
typedef void (*ml_signal_knock_cb)(const ml_signal_peer *p, void *user);
/* reason: "left", "removed", "denied" (or "gone" when the connection to the
 * server was lost and the peer list is stale). */
typedef void (*ml_signal_peer_left_cb)(const char *peer_id, const char *reason, void *user);
/* A relayed message from a peer of the room. data is the object the peer sent
 * (borrowed; untrusted: the peer chose it). Non-object data is dropped. */
typedef void (*ml_signal_message_cb)(const char *from, JsonObject *data, void *user);
/* An error: code is the server's error code ("wrong_secret", ...), the end
 * of our place in the room ("denied", "removed", "room_ended": a host ended
 * the session, "room_closed": the last host left; all fatal) or a local
 * one ("not_found", "http_error", "tls_certificate", "tls_mismatch",
 * "unreachable", "server_error", "closed", "shutdown", "bad_url"); message
 * says what happened and what to do; fatal when no reconnect will follow. */
typedef void (*ml_signal_error_cb)(const char *code, const char *message, bool fatal, void *user);
/* A host locked or unlocked the room (by: its peer id, may be ours). */
typedef void (*ml_signal_room_state_cb)(bool locked, const char *by, void *user);
/* peer (may be ours) is now a host (host) or a participant; reason:
 * "host_left" or "handover". */
typedef void (*ml_signal_role_cb)(const char *peer_id, bool host, const char *reason, void *user);
/* We host: someone failed to join the room (reason: "wrong_secret",
 * "token_expired"; name: what they gave, may be ""). */
typedef void (*ml_signal_join_failed_cb)(const char *name, const char *reason, void *user);

typedef struct ml_signal_client_callbacks {
  ml_signal_state_cb on_state;
  ml_signal_welcome_cb on_welcome;
  ml_signal_peer_joined_cb on_peer_joined;
  ml_signal_knock_cb on_knock;
  ml_signal_peer_left_cb on_peer_left;
  ml_signal_message_cb on_signal;
  ml_signal_error_cb on_error;
  ml_signal_room_state_cb on_room_state;   /* optional */
  ml_signal_role_cb on_role_changed;       /* optional */
  ml_signal_join_failed_cb on_join_failed; /* optional */
  void *user;
} ml_signal_client_callbacks;

typedef struct ml_signal_client_config {
  GMainContext *context; /* required; thread-default on the calling thread */
  /* required: the ws:// or wss:// URL of /v1/ws; or up to ML_SIGNAL_MAX_URLS
   * of them separated by commas, instances of one service (backend = redis):
   * each lost connection or failed attempt goes to the next in turn. */
  const char *url;
  const char *token; /* token mode; or: */
  const char *room;  /* open mode: room id */
  const char *name;  /* open mode: display name */
  /* Open mode: the room-secret verifier (never the secret itself, see
   * ml_signal_room_verifier); NULL for a room without a secret. */
  const char *secret_verifier;
  const uint8_t *identity_key; /* required: our Ed25519 public key (32 bytes) */
  unsigned backoff_min_ms;     /* 0 selects ML_SIGNAL_BACKOFF_MIN_MS */
  unsigned backoff_max_ms;     /* 0 selects ML_SIGNAL_BACKOFF_MAX_MS */
  /* PEM file of the certificate authorities to trust for wss:// instead of
   * the system store (a hospital's own CA); NULL: the system store. */
  const char *ca_file;
  ml_signal_client_callbacks callbacks;
} ml_signal_client_config;

typedef struct ml_signal_client_stats {
  uint64_t messages_in, messages_out;
  uint64_t dropped_invalid; /* frames from the server that failed validation */
  uint64_t connects;        /* successful WebSocket connections */
  uint64_t reconnects;      /* attempts after the first */
} ml_signal_client_stats;

/* Whether s is an id of the protocol (a room code, a peer id):
 * [A-Za-z0-9_.-], 1 to max bytes. */
bool ml_signal_valid_id(const char *s, size_t max);
/* Whether s is a display name of the protocol: 1 to ML_SIGNAL_MAX_NAME bytes
 * of UTF-8 without control characters. */
bool ml_signal_valid_name(const char *s);

/* Creates the client (transfer full: ml_signal_client_free). Nothing happens
 * until ml_signal_client_start. Errors: ML_ERR_INVALID (URL not ws/wss, both
 * or neither of token and room, room or name out of bounds), ML_ERR_IO
 * (ca_file does not read as PEM certificates). */
int ml_signal_client_new(ml_signal_client **out, const ml_signal_client_config *cfg) ML_MUST_CHECK;

/* Connects (asynchronously) and joins. */
void ml_signal_client_start(ml_signal_client *sc);

/* Relays data (an object; borrowed, serialised now) to peer to. Errors:
 * ML_ERR_STATE (not joined), ML_ERR_TOO_BIG (the message would exceed the
 * server's default 16384-byte limit), ML_ERR_INVALID (bad peer id). */
int ml_signal_client_send(ml_signal_client *sc, const char *to, JsonObject *data) ML_MUST_CHECK;

/* Host action: admits a waiting peer. Errors: ML_ERR_STATE (not joined),
 * ML_ERR_INVALID (bad peer id). The server answers not_host or no_such_peer
 * through the error callback when it refuses. */
int ml_signal_client_admit(ml_signal_client *sc, const char *peer_id) ML_MUST_CHECK;

/* Host actions (docs/PROTOCOL.md, "Host actions"): type is "admit",
 * "deny", "remove" or "make_host" (peer: the target), "lock" (flag: locked)
 * or "end" (the session for everyone; peer NULL). Errors: ML_ERR_STATE (not
 * joined), ML_ERR_INVALID (unknown type, bad peer id). The server answers
 * not_host or no_such_peer through the error callback when it refuses. */
int ml_signal_client_host_action(ml_signal_client *sc, const char *type, const char *peer_id,
                                 bool flag) ML_MUST_CHECK;

/* Sends "leave" and closes; no reconnect follows (state CLOSED). */
void ml_signal_client_leave(ml_signal_client *sc);

ml_signal_client_state ml_signal_client_get_state(const ml_signal_client *sc);
/* Our peer id from the last welcome or waiting ("" before one). */
const char *ml_signal_client_peer_id(const ml_signal_client *sc);
void ml_signal_client_get_stats(const ml_signal_client *sc, ml_signal_client_stats *out);

/* The open-mode room-secret verifier the server compares (never the secret):
 * standard base64 of BLAKE2b-256 keyed by the room secret (UTF-8 bytes) over
 * "mentorlink room verifier" || room id. out needs 45 bytes. Errors:
 * ML_ERR_INVALID (empty secret, or longer than 64 bytes: the BLAKE2b key
 * limit, and the limit of --room-secret). */
int ml_signal_room_verifier(const char *secret, const char *room, char out[45]) ML_MUST_CHECK;

/* The Noise PSK of a room secret: Argon2id (libsodium crypto_pwhash,
 * interactive limits) of the secret with salt = the first 16 bytes of
 * BLAKE2b-256("mentorlink room psk" || room id). ML_ERR_NOMEM if Argon2id
 * cannot get its memory. */
int ml_signal_room_psk(const char *secret, const char *room, uint8_t out[32]) ML_MUST_CHECK;

/* Closes the connection (no leave message: the server sees a close) and
 * frees. NULL does nothing. Not from inside a callback. */
void ml_signal_client_free(ml_signal_client *sc);

#endif /* ML_SIGNAL_CLIENT_H */
