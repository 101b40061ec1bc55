/* mentorlink-signal — the room state machine.
 *
 * Pure state: no sockets, no libsoup, no clock. The server feeds it decisions
 * already authorised (who may join with which role) and it decides everything
 * about rooms: creation on first join, the waiting room, admit/deny, lock,
 * remove, capacity, host handover, relay between members of one room. What
 * peers must be told comes out through one sink callback, called synchronously
 * from inside the call that caused it.
 *
 * Threading: a registry belongs to one thread; no call is thread-safe.
 */
#ifndef ML_SIGNAL_ROOM_H
#define ML_SIGNAL_ROOM_H

#include <stdbool.h>
#include <stdint.h>

#include "ml/error.h"
#include "message.h"

typedef struct ml_room ml_room;
typedef struct ml_room_registry ml_room_registry;

typedef enum ml_room_peer_state { ML_ROOM_PEER_WAITING, ML_ROOM_PEER_ADMITTED } ml_room_peer_state;

/* A member of a room. Read-only for callers; owned by the registry. */
typedef struct ml_room_peer {
  char *id;
  char *name;
  char *identity_key;
  ml_sig_role role;
  ml_room_peer_state state;
  uint64_t seq; /* join order in the registry: smaller = present longer */
  ml_room *room;
  void *conn; /* the caller's connection handle, passed back to the sink */
} ml_room_peer;

/* Per-room policy, fixed when the room is created. */
typedef struct ml_room_settings {
  unsigned capacity;      /* admitted members; >= 1 */
  unsigned waiting_max;   /* peers in the waiting room */
  bool auto_admit;        /* participants skip the waiting room */
  bool end_on_host_leave; /* else: hand over to the longest-present participant */
} ml_room_settings;

typedef enum ml_room_event_type {
  ML_ROOM_EV_WELCOME,      /* to the subject: admitted; list members with ml_room_peer_at */
  ML_ROOM_EV_WAITING,      /* to the subject: placed in the waiting room */
  ML_ROOM_EV_KNOCK,        /* to each host: the subject waits for admission */
  ML_ROOM_EV_PEER_JOINED,  /* to each admitted member: the subject was admitted */
  ML_ROOM_EV_PEER_LEFT,    /* to each admitted member (and hosts, for waiting peers) */
  ML_ROOM_EV_ROLE_CHANGED, /* to each admitted member: the subject's role changed */
  ML_ROOM_EV_ROOM_STATE,   /* to each admitted member: locked / auto_admit changed */
  ML_ROOM_EV_REMOVED,      /* to the subject: removed by a host (detach) */
  ML_ROOM_EV_DENIED,       /* to the subject: refused from the waiting room (detach) */
  ML_ROOM_EV_CLOSED,       /* to the subject: the room ended (detach) */
  ML_ROOM_EV_SIGNAL,       /* to the recipient: payload relayed from the subject */
  ML_ROOM_EV_JOIN_FAILED,  /* to each host (the subject): a join was refused; reason: why,
                              payload: the name given (const char *, may be "") */
} ml_room_event_type;

typedef struct ml_room_event {
  ml_room_event_type type;
  const ml_room *room;
  const ml_room_peer *subject;
  const char *reason; /* PEER_LEFT: "left", "disconnected", "removed", "denied", "closed";
                         CLOSED: "host_left",
                         "ended"; ROLE_CHANGED: "host_left", "handover" */
  void *payload;      /* SIGNAL: the caller's opaque payload */
  /* When true the recipient's peer is freed right after the callback returns:
   * the connection must forget its ml_room_peer pointer. */
  bool detach;
} ml_room_event;

typedef void (*ml_room_sink_cb)(void *user, void *conn, const ml_room_event *ev);

typedef struct ml_room_join_req {
  const char *room_id;              /* valid id */
  const char *peer_id;              /* unique in the registry, chosen by the caller */
  const char *name;                 /* display name */
  const char *identity_key;         /* opaque */
  ml_sig_role role;                 /* already authorised */
  const ml_room_settings *settings; /* used when this join creates the room */
  /* Open mode: a 32-byte hash of the room secret ("" hashes too), or NULL in
   * token mode. The first joiner sets it; later joiners must match. */
  const uint8_t *secret_hash;
  void *conn;
} ml_room_join_req;

/* max_rooms bounds memory; joins that would create more rooms fail. */
ML_MUST_CHECK int ml_room_registry_new(ml_room_registry **out, unsigned max_rooms,
                                       ml_room_sink_cb sink, void *user);
void ml_room_registry_free(ml_room_registry *reg);

unsigned ml_room_registry_room_count(const ml_room_registry *reg);
unsigned ml_room_registry_peer_count(const ml_room_registry *reg);
bool ml_room_registry_has_room(const ml_room_registry *reg, const char *room_id);

/* Joins (or creates) a room. On ML_SIG_OK *out is the new peer, already
 * admitted (WELCOME sent) or waiting (WAITING sent, hosts KNOCKed). */
ml_sig_error ml_room_join(ml_room_registry *reg, const ml_room_join_req *req, ml_room_peer **out);
/* Removes peer from its room and frees it; tells the others (PEER_LEFT
 * "left"). Never fails. */
void ml_room_leave(ml_room_registry *reg, ml_room_peer *peer);
/* The same for a member whose connection was lost without a leave (its
 * socket closed, or its instance died): PEER_LEFT "disconnected", so that its
 * peers may keep their links while it comes back (docs/PROTOCOL.md). */
void ml_room_drop(ml_room_registry *reg, ml_room_peer *peer);

ml_sig_error ml_room_admit(ml_room_registry *reg, ml_room_peer *host, const char *peer_id);
ml_sig_error ml_room_deny(ml_room_registry *reg, ml_room_peer *host, const char *peer_id);
ml_sig_error ml_room_remove(ml_room_registry *reg, ml_room_peer *host, const char *peer_id);
ml_sig_error ml_room_set_locked(ml_room_registry *reg, ml_room_peer *host, bool locked);
ml_sig_error ml_room_set_auto_admit(ml_room_registry *reg, ml_room_peer *host, bool enabled);
/* A host ends the session: every member and waiting peer gets CLOSED
 * ("ended") and the room goes. */
ml_sig_error ml_room_end(ml_room_registry *reg, ml_room_peer *host);
/* A host hands its role to an admitted member: ROLE_CHANGED ("handover")
 * for the new host (which gets a KNOCK per waiting peer), then for the old
 * one, now a participant. */
ml_sig_error ml_room_hand_over(ml_room_registry *reg, ml_room_peer *host, const char *peer_id);
/* A join into room_id was refused (reason: the error's wire name): each
 * admitted host of the room, if it exists, gets JOIN_FAILED. */
void ml_room_notify_join_failed(ml_room_registry *reg, const char *room_id, const char *name,
                                const char *reason);
/* Relays payload from an admitted peer to an admitted member of the same room. */
ml_sig_error ml_room_signal(ml_room_registry *reg, ml_room_peer *from, const char *to_id,
                            void *payload);

/* Room accessors. Members are ordered by seq (longest present first). */
const char *ml_room_id(const ml_room *room);
bool ml_room_locked(const ml_room *room);
bool ml_room_auto_admit(const ml_room *room);
unsigned ml_room_capacity(const ml_room *room);
unsigned ml_room_peer_count(const ml_room *room);
const ml_room_peer *ml_room_peer_at(const ml_room *room, unsigned i);

/* ---- restoring a room kept elsewhere (the Redis backend, backend_redis.c) ----
 * A room's state can be written out (the accessors above and below) and
 * restored into a registry, member by member, without any event. */

/* The room's settings, its open-mode secret hash (NULL in token mode), and
 * the seq the next member will get. */
const ml_room_settings *ml_room_settings_of(const ml_room *room);
const uint8_t *ml_room_secret_hash(const ml_room *room);
uint64_t ml_room_next_seq(const ml_room_registry *reg);
ml_room *ml_room_find(ml_room_registry *reg, const char *room_id);

/* Creates room_id with no members. ML_ERR_INVALID if it exists. */
ML_MUST_CHECK int ml_room_restore(ml_room_registry *reg, const char *room_id,
                                  const ml_room_settings *settings, bool locked,
                                  const uint8_t *secret_hash, uint64_t next_seq, ml_room **out);
/* A member as it was, for ml_room_restore_peer. */
typedef struct ml_room_peer_record {
  const char *id;
  const char *name;
  const char *identity_key;
  ml_sig_role role;
  ml_room_peer_state state;
  uint64_t seq;
} ml_room_peer_record;

/* Adds a member as it was. Members must come in increasing seq below the
 * room's next_seq, with ids new to the registry; else ML_ERR_INVALID. */
ML_MUST_CHECK int ml_room_restore_peer(ml_room_registry *reg, ml_room *room,
                                       const ml_room_peer_record *as, void *conn,
                                       ml_room_peer **out);
/* The member with that id, in any room; NULL if none. */
ml_room_peer *ml_room_find_peer(ml_room_registry *reg, const char *peer_id);

#endif /* ML_SIGNAL_ROOM_H */
