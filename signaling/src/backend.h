/* mentorlink-signal — where rooms live: the seam between the transport
 * (server.c) and room state.
 *
 * Two backends implement it:
 *  - memory (backend_memory.c): one process, the room registry (room.h) in
 *    memory; the embedded default, nothing else to run.
 *  - redis (backend_redis.c): several instances share rooms through Redis;
 *    see docs/ARCHITECTURE.md ("Several instances: the Redis backend").
 *
 * Contract. Every call but new/start/free is made under srv->lock, on the
 * thread of the worker that holds it (ml_srv_lock), so what the backend
 * queues with ml_srv_enqueue goes out after the caller unlocks. A
 * connection's room membership is c->member (backend-owned; NULL when not in
 * a room); the backend sets and clears it. Room events become messages
 * through ml_srv_event_text (server_internal.h), the same for every backend.
 * Errors are protocol errors (message.h) for the caller to send back.
 */
#ifndef ML_SIGNAL_BACKEND_H
#define ML_SIGNAL_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "join_auth.h"
#include "message.h"
#include "server_internal.h"

typedef struct ml_backend ml_backend;

typedef struct ml_backend_ops {
  const char *name; /* "memory", "redis" */
  /* Main context, before listening: connects what must be connected. On
   * failure *errmsg (g_free). The memory backend cannot fail. */
  int (*start)(ml_backend *b, char **errmsg);
  /* Main context, after the workers stopped. */
  void (*free)(ml_backend *b);
  /* Authorises m (ml_join_authorise, against the room as the backend knows
   * it) and joins c. auth is the caller's (it reads auth->claims for the
   * expired-token detail and clears it). */
  ml_sig_error (*join)(ml_backend *b, conn *c, const ml_sig_msg *m, int64_t now_s,
                       ml_join_auth *auth, const char **detail);
  /* c->member is set: c leaves its room, after a "leave" (lost false) or
   * with its socket closed (lost true: ml_room_drop). Never fails; c->member
   * is NULL afterwards. */
  void (*leave)(ml_backend *b, conn *c, bool lost);
  ml_sig_error (*admit)(ml_backend *b, conn *c, const char *peer_id);
  ml_sig_error (*deny)(ml_backend *b, conn *c, const char *peer_id);
  ml_sig_error (*remove)(ml_backend *b, conn *c, const char *peer_id);
  ml_sig_error (*set_locked)(ml_backend *b, conn *c, bool locked);
  ml_sig_error (*set_auto_admit)(ml_backend *b, conn *c, bool enabled);
  ml_sig_error (*signal)(ml_backend *b, conn *c, const char *to_id, JsonNode *data);
  /* A host ends the session for all, or hands its role to peer_id. */
  ml_sig_error (*end)(ml_backend *b, conn *c);
  ml_sig_error (*hand_over)(ml_backend *b, conn *c, const char *peer_id);
  /* A join into room_id was refused (reason: the error's wire name, name:
   * the name given or ""): the room's hosts, wherever connected, are told. */
  void (*join_failed)(ml_backend *b, const char *room_id, const char *name, const char *reason);
  /* Rooms with a member connected here, and those members. */
  unsigned (*room_count)(ml_backend *b);
  unsigned (*peer_count)(ml_backend *b);
  /* Whether new joins can be served (healthz "ready"). NULL: always. */
  bool (*ready)(ml_backend *b);
  /* One refused join from ip, counted where every instance sees it. True
   * when ip is over the shared budget (the connection is then closed).
   * NULL: the per-process budget alone decides. */
  bool (*auth_failed)(ml_backend *b, const char *ip);
  /* Appends the backend's own /metrics lines. NULL: none. */
  void (*render_metrics)(ml_backend *b, GString *out);
} ml_backend_ops;

struct ml_backend {
  const ml_backend_ops *ops;
  ml_signal_server *srv;
};

/* Main context. *out on ML_OK. */
ML_MUST_CHECK int ml_backend_memory_new(ml_backend **out, ml_signal_server *srv);
/* ML_ERR_INVALID with *errmsg when the configuration cannot work (a bad
 * URL). */
ML_MUST_CHECK int ml_backend_redis_new(ml_backend **out, ml_signal_server *srv, char **errmsg);

#endif /* ML_SIGNAL_BACKEND_H */
