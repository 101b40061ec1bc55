/* The memory backend: rooms in this process's room registry (room.h). The
 * embedded default. c->member is the connection's ml_room_peer. See
 * backend.h. */
#include "backend.h"

#include "room.h"
#include "workers.h"

typedef struct mem_backend {
  ml_backend base;
  ml_room_registry *rooms;
} mem_backend;

/* The registry's sink, called under the lock from inside a registry call:
 * turns the event into a queued message. */
static void mem_sink(void *user, void *connp, const ml_room_event *ev) {
  mem_backend *mb = user;
  conn *c = connp;
  unsigned short close_code = 0;
  char *text = ml_srv_event_text(mb->base.srv, ev, &close_code);
  if (ev->detach)
    c->member = NULL;
  ml_srv_enqueue(mb->base.srv, c, text, close_code);
}

static int mem_start(ml_backend *b, char **errmsg) {
  (void)b;
  *errmsg = NULL;
  return ML_OK;
}

static void mem_free(ml_backend *b) {
  mem_backend *mb = (mem_backend *)b;
  ml_room_registry_free(mb->rooms);
  g_free(mb);
}

static ml_sig_error mem_join(ml_backend *b, conn *c, const ml_sig_msg *m, int64_t now_s,
                             ml_join_auth *auth, const char **detail) {
  mem_backend *mb = (mem_backend *)b;
  ml_signal_server *srv = b->srv;
  ml_sig_error e = ml_join_authorise(&srv->cfg, srv->open_key, mb->rooms, m, now_s, auth, detail);
  if (e != ML_SIG_OK)
    return e;
  auth->req.peer_id = c->id;
  auth->req.conn = c;
  ml_room_peer *peer = NULL;
  e = ml_room_join(mb->rooms, &auth->req, &peer);
  if (e == ML_SIG_OK)
    c->member = peer;
  return e;
}

static void mem_leave(ml_backend *b, conn *c, bool lost) {
  mem_backend *mb = (mem_backend *)b;
  ml_room_peer *p = c->member;
  c->member = NULL;
  if (p)
    (lost ? ml_room_drop : ml_room_leave)(mb->rooms, p);
}

static ml_sig_error mem_admit(ml_backend *b, conn *c, const char *peer_id) {
  return ml_room_admit(((mem_backend *)b)->rooms, c->member, peer_id);
}
static ml_sig_error mem_deny(ml_backend *b, conn *c, const char *peer_id) {
  return ml_room_deny(((mem_backend *)b)->rooms, c->member, peer_id);
}
static ml_sig_error mem_remove(ml_backend *b, conn *c, const char *peer_id) {
  return ml_room_remove(((mem_backend *)b)->rooms, c->member, peer_id);
}
static ml_sig_error mem_set_locked(ml_backend *b, conn *c, bool locked) {
  return ml_room_set_locked(((mem_backend *)b)->rooms, c->member, locked);
}
static ml_sig_error mem_set_auto_admit(ml_backend *b, conn *c, bool enabled) {
  return ml_room_set_auto_admit(((mem_backend *)b)->rooms, c->member, enabled);
}
static ml_sig_error mem_signal(ml_backend *b, conn *c, const char *to_id, JsonNode *data) {
  return ml_room_signal(((mem_backend *)b)->rooms, c->member, to_id, data);
}
static ml_sig_error mem_end(ml_backend *b, conn *c) {
  return ml_room_end(((mem_backend *)b)->rooms, c->member);
}
static ml_sig_error mem_hand_over(ml_backend *b, conn *c, const char *peer_id) {
  return ml_room_hand_over(((mem_backend *)b)->rooms, c->member, peer_id);
}
static void mem_join_failed(ml_backend *b, const char *room_id, const char *name,
                            const char *reason) {
  ml_room_notify_join_failed(((mem_backend *)b)->rooms, room_id, name, reason);
}
static unsigned mem_room_count(ml_backend *b) {
  return ml_room_registry_room_count(((mem_backend *)b)->rooms);
}
static unsigned mem_peer_count(ml_backend *b) {
  return ml_room_registry_peer_count(((mem_backend *)b)->rooms);
}

static const ml_backend_ops mem_ops = {
    .name = "memory",
    .start = mem_start,
    .free = mem_free,
    .join = mem_join,
    .leave = mem_leave,
    .admit = mem_admit,
    .deny = mem_deny,
    .remove = mem_remove,
    .set_locked = mem_set_locked,
    .set_auto_admit = mem_set_auto_admit,
    .signal = mem_signal,
    .end = mem_end,
    .hand_over = mem_hand_over,
    .join_failed = mem_join_failed,
    .room_count = mem_room_count,
    .peer_count = mem_peer_count,
};

int ml_backend_memory_new(ml_backend **out, ml_signal_server *srv) {
  mem_backend *mb = g_new0(mem_backend, 1);
  mb->base.ops = &mem_ops;
  mb->base.srv = srv;
  int rc = ml_room_registry_new(&mb->rooms, srv->cfg.max_rooms, mem_sink, mb);
  if (rc != ML_OK) {
    g_free(mb);
    return rc;
  }
  *out = &mb->base;
  return ML_OK;
}
