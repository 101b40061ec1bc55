/* mentorlink-signal — the signaling messages (docs/PROTOCOL.md ("Signaling")):
 * strict JSON parsing of client messages into typed structs, the builders of
 * every server message, and the protocol error codes.
 *
 * The parser handles attacker-controlled text: every field is type- and
 * length-checked, unknown fields are refused, size and nesting depth are
 * bounded before json-glib sees the text (ml/json_input.h). Not thread-safe per message; no shared
 * state.
 */
#ifndef ML_SIGNAL_MESSAGE_H
#define ML_SIGNAL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-glib/json-glib.h>

#define ML_SIG_PROTOCOL_VERSION 1
#define ML_SIG_MAX_ID 64      /* room and peer ids, request ids */
#define ML_SIG_MAX_NAME 64    /* display names, bytes of UTF-8 */
#define ML_SIG_MAX_TOKEN 1024 /* join token text */
#define ML_SIG_MAX_SECRET 256 /* open-mode room secret verifier */
#define ML_SIG_MAX_DEPTH 32   /* JSON nesting, whole message */
#define ML_SIG_IDENTITY_KEY_LEN 32

/* Protocol error codes: wire values, sent as their string name in "error"
 * replies. ML_SIG_OK is not an error. Append only; never renumber. */
typedef enum ml_sig_error {
  ML_SIG_OK = 0,
  ML_SIG_E_BAD_JSON,            /* not JSON, or not a JSON object, or nested too deep */
  ML_SIG_E_BAD_VERSION,         /* "v" missing or not 1 */
  ML_SIG_E_UNKNOWN_TYPE,        /* "type" missing or not a known client message */
  ML_SIG_E_BAD_FIELD,           /* a field is missing, unknown, of the wrong type or out of range */
  ML_SIG_E_TOO_BIG,             /* the message exceeds max_message_bytes */
  ML_SIG_E_NOT_JOINED,          /* the message needs a joined connection */
  ML_SIG_E_ALREADY_JOINED,      /* a second join on one connection */
  ML_SIG_E_UNAUTHORIZED,        /* token missing, malformed or forged; open join refused */
  ML_SIG_E_TOKEN_EXPIRED,       /* token signature good but past its expiry */
  ML_SIG_E_TOKEN_NOT_YET_VALID, /* token signature good but before its start (nbf) */
  ML_SIG_E_WRONG_SECRET,        /* open mode: room secret does not match */
  ML_SIG_E_ROOM_LOCKED,         /* the room is locked to new joins */
  ML_SIG_E_ROOM_FULL,           /* the room has reached its capacity */
  ML_SIG_E_WAITING_FULL,        /* the waiting room is full */
  ML_SIG_E_NOT_HOST,            /* only a host may do this */
  ML_SIG_E_NOT_ADMITTED,        /* the sender is still in the waiting room */
  ML_SIG_E_NO_SUCH_PEER,        /* no such peer in the sender's room (or not admitted) */
  ML_SIG_E_RATE_LIMITED,        /* too many messages; repeated floods disconnect */
  ML_SIG_E_SERVER_FULL,         /* max connections reached, or too many rooms */
  ML_SIG_E_SHUTTING_DOWN,       /* the server is draining */
  ML_SIG_E_INTERNAL,            /* a server fault; the connection is kept */
  ML_SIG_E_UNAVAILABLE,         /* the server cannot reach its room store (Redis): retry later */
  ML_SIG_E_COUNT_               /* number of codes; not a code */
} ml_sig_error;

/* The wire name of err ("bad_json", ...). Never NULL. */
const char *ml_sig_error_name(ml_sig_error err);

typedef enum ml_sig_msg_type {
  ML_SIG_MSG_JOIN,
  ML_SIG_MSG_LEAVE,
  ML_SIG_MSG_ADMIT,
  ML_SIG_MSG_DENY,
  ML_SIG_MSG_REMOVE,
  ML_SIG_MSG_LOCK,
  ML_SIG_MSG_AUTO_ADMIT,
  ML_SIG_MSG_SIGNAL,
  ML_SIG_MSG_PING,
  ML_SIG_MSG_END,       /* a host ends the session for everyone */
  ML_SIG_MSG_MAKE_HOST, /* a host hands the host role to peer */
} ml_sig_msg_type;

typedef enum ml_sig_role { ML_SIG_ROLE_HOST, ML_SIG_ROLE_PARTICIPANT } ml_sig_role;

const char *ml_sig_msg_type_name(ml_sig_msg_type t);
const char *ml_sig_role_name(ml_sig_role r);

/* A validated client message. Strings are owned (g_free); data is a reference. */
typedef struct ml_sig_msg {
  ml_sig_msg_type type;
  char *req_id; /* optional "id", echoed in error replies; NULL if absent */
  /* join */
  char *token;        /* token mode */
  char *room;         /* open mode: room code */
  char *secret;       /* open mode: optional room secret verifier */
  char *name;         /* open mode: display name */
  char *identity_key; /* base64 of 32 bytes, opaque to the server; always required */
  /* admit, deny, remove, make_host: target; signal: recipient */
  char *peer;
  /* lock, auto_admit */
  bool flag;
  /* signal: a JSON object or string, opaque */
  JsonNode *data;
} ml_sig_msg;

/* Parses one text frame of len bytes (need not be NUL-terminated) into *out.
 * On ML_SIG_OK *out must be cleared with ml_sig_msg_clear. On an error *out is
 * left cleared, and *detail (if not NULL) points at a static, content-free
 * description; *req_id_out (if not NULL) receives the request id when it could
 * be read (caller g_free). max_len: the size limit to enforce. */
ml_sig_error ml_sig_msg_parse(const char *text, size_t len, size_t max_len, ml_sig_msg *out,
                              const char **detail, char **req_id_out);
void ml_sig_msg_clear(ml_sig_msg *msg);

/* Validators shared with the token module. */
bool ml_sig_valid_id(const char *s);   /* [A-Za-z0-9_.-]{1,64} */
bool ml_sig_valid_name(const char *s); /* UTF-8, 1..64 bytes, no control chars */
bool ml_sig_valid_identity_key(const char *s);

/* ---- server-to-client messages ----
 *
 * Each builder returns one message as compact JSON text (transfer full,
 * g_free), members in the order docs/PROTOCOL.md shows. Inputs are trusted
 * (the server's own state) and are not validated again. Pure; thread-safe. */

/* A member of a room as told to others. */
typedef struct ml_sig_peer_info {
  const char *id;
  const char *name;
  const char *identity_key;
  ml_sig_role role;
} ml_sig_peer_info;

/* One "ice_servers" entry; username and credential are NULL for STUN. */
typedef struct ml_sig_ice_server {
  char *const *urls; /* NULL-terminated */
  const char *username;
  const char *credential;
} ml_sig_ice_server;

typedef struct ml_sig_welcome {
  const char *peer_id;
  const char *room;
  ml_sig_role role;
  const char *name;
  bool locked;
  bool auto_admit;
  unsigned capacity;
  const ml_sig_peer_info *peers; /* the other admitted members */
  size_t n_peers;
  const ml_sig_ice_server *ice;
  size_t n_ice;
} ml_sig_welcome;

char *ml_sig_build_welcome(const ml_sig_welcome *w);
char *ml_sig_build_waiting(const char *peer_id, const char *room);
/* "knock": p without its role (a waiting peer has none yet). */
char *ml_sig_build_knock(const ml_sig_peer_info *p);
char *ml_sig_build_peer_joined(const ml_sig_peer_info *p);
char *ml_sig_build_peer_left(const char *peer_id, const char *reason);
char *ml_sig_build_role_changed(const char *peer_id, ml_sig_role role, const char *reason);
char *ml_sig_build_room_state(bool locked, bool auto_admit, const char *by);
char *ml_sig_build_removed(void);
char *ml_sig_build_denied(void);
char *ml_sig_build_room_closed(const char *reason);
/* "join_failed" to hosts: someone (name, may be "") was refused the room
 * for reason ("wrong_secret", "token_expired"). */
char *ml_sig_build_join_failed(const char *name, const char *reason);
/* A relayed "signal": data (a JSON object or string) is copied. */
char *ml_sig_build_signal(const char *from, JsonNode *data);
char *ml_sig_build_pong(const char *req_id);
/* "error" with code; detail (omitted when NULL or ""), ref (the refused
 * message's type) and req_id are optional. */
char *ml_sig_build_error(ml_sig_error code, const char *detail, const char *ref,
                         const char *req_id);
/* "shutdown" with reconnect: true, and retry_after_ms when it is >= 0. */
char *ml_sig_build_shutdown(int64_t retry_after_ms);

#endif /* ML_SIGNAL_MESSAGE_H */
