/* The room state machine. See room.h. */
#include "room.h"

#include <string.h>

#include <sodium.h>

struct ml_room {
  char *id;
  ml_room_settings settings;
  bool locked;
  bool open_mode;
  uint8_t secret_hash[32];
  GPtrArray *peers; /* ml_room_peer*, ordered by seq */
  unsigned admitted;
  unsigned waiting;
};

struct ml_room_registry {
  GHashTable *rooms; /* id -> ml_room* (owned) */
  GHashTable *peers; /* id -> ml_room_peer* (owned through their room) */
  unsigned max_rooms;
  uint64_t next_seq;
  ml_room_sink_cb sink;
  void *user;
};

static void peer_free(ml_room_peer *p) {
  if (!p)
    return;
  g_free(p->id);
  g_free(p->name);
  g_free(p->identity_key);
  g_free(p);
}

static void room_free(ml_room *room) {
  if (!room)
    return;
  g_ptr_array_free(room->peers, TRUE);
  g_free(room->id);
  sodium_memzero(room->secret_hash, sizeof room->secret_hash);
  g_free(room);
}

int ml_room_registry_new(ml_room_registry **out, unsigned max_rooms, ml_room_sink_cb sink,
                         void *user) {
  g_assert(out && sink);
  ml_room_registry *reg = g_new0(ml_room_registry, 1);
  reg->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)room_free);
  reg->peers = g_hash_table_new(g_str_hash, g_str_equal);
  reg->max_rooms = max_rooms;
  reg->sink = sink;
  reg->user = user;
  *out = reg;
  return ML_OK;
}

void ml_room_registry_free(ml_room_registry *reg) {
  if (!reg)
    return;
  g_hash_table_destroy(reg->peers);
  g_hash_table_destroy(reg->rooms);
  g_free(reg);
}

unsigned ml_room_registry_room_count(const ml_room_registry *reg) {
  return g_hash_table_size(reg->rooms);
}
unsigned ml_room_registry_peer_count(const ml_room_registry *reg) {
  return g_hash_table_size(reg->peers);
}

bool ml_room_registry_has_room(const ml_room_registry *reg, const char *room_id) {
  return g_hash_table_contains(reg->rooms, room_id);
}

const char *ml_room_id(const ml_room *room) { return room->id; }
bool ml_room_locked(const ml_room *room) { return room->locked; }
bool ml_room_auto_admit(const ml_room *room) { return room->settings.auto_admit; }
unsigned ml_room_capacity(const ml_room *room) { return room->settings.capacity; }
unsigned ml_room_peer_count(const ml_room *room) { return room->peers->len; }
const ml_room_peer *ml_room_peer_at(const ml_room *room, unsigned i) {
  return i < room->peers->len ? g_ptr_array_index(room->peers, i) : NULL;
}

static void emit(ml_room_registry *reg, ml_room_peer *to, ml_room_event_type type,
                 const ml_room_peer *subject, const char *reason, void *payload, bool detach) {
  ml_room_event ev = {.type = type,
                      .room = to->room,
                      .subject = subject,
                      .reason = reason,
                      .payload = payload,
                      .detach = detach};
  reg->sink(reg->user, to->conn, &ev);
}

/* Sends to every admitted member except `except`. */
static void broadcast(ml_room_registry *reg, ml_room *room, const ml_room_peer *except,
                      ml_room_event_type type, const ml_room_peer *subject, const char *reason) {
  for (unsigned i = 0; i < room->peers->len; i++) {
    ml_room_peer *p = g_ptr_array_index(room->peers, i);
    if (p != except && p->state == ML_ROOM_PEER_ADMITTED)
      emit(reg, p, type, subject, reason, NULL, false);
  }
}

static void knock_hosts(ml_room_registry *reg, ml_room *room, const ml_room_peer *waiting) {
  for (unsigned i = 0; i < room->peers->len; i++) {
    ml_room_peer *p = g_ptr_array_index(room->peers, i);
    if (p->state == ML_ROOM_PEER_ADMITTED && p->role == ML_SIG_ROLE_HOST)
      emit(reg, p, ML_ROOM_EV_KNOCK, waiting, NULL, NULL, false);
  }
}

static void knock_all_waiting(ml_room_registry *reg, ml_room *room, ml_room_peer *host) {
  for (unsigned i = 0; i < room->peers->len; i++) {
    ml_room_peer *p = g_ptr_array_index(room->peers, i);
    if (p->state == ML_ROOM_PEER_WAITING)
      emit(reg, host, ML_ROOM_EV_KNOCK, p, NULL, NULL, false);
  }
}

static void admit_peer(ml_room_registry *reg, ml_room *room, ml_room_peer *p) {
  if (p->state == ML_ROOM_PEER_WAITING) {
    room->waiting--;
    room->admitted++;
    p->state = ML_ROOM_PEER_ADMITTED;
  }
  emit(reg, p, ML_ROOM_EV_WELCOME, p, NULL, NULL, false);
  broadcast(reg, room, p, ML_ROOM_EV_PEER_JOINED, p, NULL);
  if (p->role == ML_SIG_ROLE_HOST)
    knock_all_waiting(reg, room, p);
}

ml_sig_error ml_room_join(ml_room_registry *reg, const ml_room_join_req *req, ml_room_peer **out) {
  g_assert(reg && req && out && req->room_id && req->peer_id && req->settings);
  g_assert(!g_hash_table_contains(reg->peers, req->peer_id));
  g_assert(req->settings->capacity >= 1);

  ml_room *room = g_hash_table_lookup(reg->rooms, req->room_id);
  const ml_room_settings *s = room ? &room->settings : req->settings;
  unsigned admitted = room ? room->admitted : 0, waiting = room ? room->waiting : 0;
  if (!room && g_hash_table_size(reg->rooms) >= reg->max_rooms)
    return ML_SIG_E_SERVER_FULL;
  if (room) {
    if (room->open_mode != (req->secret_hash != NULL))
      return ML_SIG_E_UNAUTHORIZED;
    if (room->open_mode && sodium_memcmp(room->secret_hash, req->secret_hash, 32) != 0)
      return ML_SIG_E_WRONG_SECRET;
    if (room->locked && req->role != ML_SIG_ROLE_HOST)
      return ML_SIG_E_ROOM_LOCKED;
  }
  bool admit = req->role == ML_SIG_ROLE_HOST || s->auto_admit;
  if (admit && admitted >= s->capacity)
    return ML_SIG_E_ROOM_FULL;
  if (!admit && admitted >= s->capacity)
    return ML_SIG_E_ROOM_FULL;
  if (!admit && waiting >= s->waiting_max)
    return ML_SIG_E_WAITING_FULL;

  if (!room) {
    room = g_new0(ml_room, 1);
    room->id = g_strdup(req->room_id);
    room->settings = *req->settings;
    room->peers = g_ptr_array_new_with_free_func((GDestroyNotify)peer_free);
    room->open_mode = req->secret_hash != NULL;
    if (room->open_mode)
      memcpy(room->secret_hash, req->secret_hash, 32);
    g_hash_table_insert(reg->rooms, room->id, room);
  }
  ml_room_peer *p = g_new0(ml_room_peer, 1);
  p->id = g_strdup(req->peer_id);
  p->name = g_strdup(req->name);
  p->identity_key = g_strdup(req->identity_key);
  p->role = req->role;
  p->state = ML_ROOM_PEER_WAITING;
  p->seq = reg->next_seq++;
  p->room = room;
  p->conn = req->conn;
  g_ptr_array_add(room->peers, p);
  g_hash_table_insert(reg->peers, p->id, p);
  room->waiting++;
  *out = p;
  if (admit) {
    admit_peer(reg, room, p);
  } else {
    emit(reg, p, ML_ROOM_EV_WAITING, p, NULL, NULL, false);
    knock_hosts(reg, room, p);
  }
  return ML_SIG_OK;
}

static bool has_admitted_host(const ml_room *room) {
  for (unsigned i = 0; i < room->peers->len; i++) {
    const ml_room_peer *p = g_ptr_array_index(room->peers, i);
    if (p->state == ML_ROOM_PEER_ADMITTED && p->role == ML_SIG_ROLE_HOST)
      return true;
  }
  return false;
}

static void unlink_peer(ml_room_registry *reg, ml_room *room, ml_room_peer *p) {
  g_hash_table_remove(reg->peers, p->id);
  if (p->state == ML_ROOM_PEER_ADMITTED)
    room->admitted--;
  else
    room->waiting--;
  g_ptr_array_remove(room->peers, p); /* frees p */
}

static void destroy_room(ml_room_registry *reg, ml_room *room) {
  g_hash_table_remove(reg->rooms, room->id); /* frees room */
}

/* Takes p out of its room, tells the others why, hands over or ends the room
 * when the last host goes, and frees p. */
static void depart(ml_room_registry *reg, ml_room_peer *p, const char *reason) {
  ml_room *room = p->room;
  bool was_admitted = p->state == ML_ROOM_PEER_ADMITTED;
  bool was_host = was_admitted && p->role == ML_SIG_ROLE_HOST;

  if (was_admitted) {
    broadcast(reg, room, p, ML_ROOM_EV_PEER_LEFT, p, reason);
  } else {
    for (unsigned i = 0; i < room->peers->len; i++) {
      ml_room_peer *h = g_ptr_array_index(room->peers, i);
      if (h != p && h->state == ML_ROOM_PEER_ADMITTED && h->role == ML_SIG_ROLE_HOST)
        emit(reg, h, ML_ROOM_EV_PEER_LEFT, p, reason, NULL, false);
    }
  }
  unlink_peer(reg, room, p);

  if (was_host && !has_admitted_host(room)) {
    if (room->settings.end_on_host_leave) {
      while (room->peers->len > 0) {
        ml_room_peer *q = g_ptr_array_index(room->peers, room->peers->len - 1);
        emit(reg, q, ML_ROOM_EV_CLOSED, q, "host_left", NULL, true);
        unlink_peer(reg, room, q);
      }
    } else {
      for (unsigned i = 0; i < room->peers->len; i++) {
        ml_room_peer *q = g_ptr_array_index(room->peers, i);
        if (q->state == ML_ROOM_PEER_ADMITTED) { /* first admitted = longest present */
          q->role = ML_SIG_ROLE_HOST;
          broadcast(reg, room, NULL, ML_ROOM_EV_ROLE_CHANGED, q, "host_left");
          knock_all_waiting(reg, room, q);
          break;
        }
      }
    }
  }
  if (room->peers->len == 0)
    destroy_room(reg, room);
}

void ml_room_leave(ml_room_registry *reg, ml_room_peer *peer) {
  g_assert(reg && peer);
  depart(reg, peer, "left");
}

void ml_room_drop(ml_room_registry *reg, ml_room_peer *peer) {
  g_assert(reg && peer);
  depart(reg, peer, "disconnected");
}

/* Looks up a host's target in the same room. */
static ml_sig_error host_target(ml_room_registry *reg, ml_room_peer *host, const char *peer_id,
                                ml_room_peer **target) {
  if (host->state != ML_ROOM_PEER_ADMITTED)
    return ML_SIG_E_NOT_ADMITTED;
  if (host->role != ML_SIG_ROLE_HOST)
    return ML_SIG_E_NOT_HOST;
  if (!peer_id)
    return ML_SIG_OK;
  ml_room_peer *t = g_hash_table_lookup(reg->peers, peer_id);
  if (!t || t->room != host->room || t == host)
    return ML_SIG_E_NO_SUCH_PEER;
  *target = t;
  return ML_SIG_OK;
}

/* The peer a host admits or denies: in the host's room and waiting. */
static ml_sig_error waiting_target(ml_room_registry *reg, ml_room_peer *host, const char *peer_id,
                                   ml_room_peer **target) {
  ml_sig_error e = host_target(reg, host, peer_id, target);
  if (e == ML_SIG_OK && (*target)->state != ML_ROOM_PEER_WAITING)
    e = ML_SIG_E_NO_SUCH_PEER;
  return e;
}

ml_sig_error ml_room_admit(ml_room_registry *reg, ml_room_peer *host, const char *peer_id) {
  g_assert(reg && host && peer_id);
  ml_room_peer *t = NULL;
  ml_sig_error e = waiting_target(reg, host, peer_id, &t);
  if (e != ML_SIG_OK)
    return e;
  if (host->room->admitted >= host->room->settings.capacity)
    return ML_SIG_E_ROOM_FULL;
  admit_peer(reg, host->room, t);
  return ML_SIG_OK;
}

ml_sig_error ml_room_deny(ml_room_registry *reg, ml_room_peer *host, const char *peer_id) {
  g_assert(reg && host && peer_id);
  ml_room_peer *t = NULL;
  ml_sig_error e = waiting_target(reg, host, peer_id, &t);
  if (e != ML_SIG_OK)
    return e;
  emit(reg, t, ML_ROOM_EV_DENIED, t, "denied", NULL, true);
  depart(reg, t, "denied");
  return ML_SIG_OK;
}

ml_sig_error ml_room_remove(ml_room_registry *reg, ml_room_peer *host, const char *peer_id) {
  g_assert(reg && host && peer_id);
  ml_room_peer *t = NULL;
  ml_sig_error e = host_target(reg, host, peer_id, &t);
  if (e != ML_SIG_OK)
    return e;
  emit(reg, t, ML_ROOM_EV_REMOVED, t, "removed", NULL, true);
  depart(reg, t, "removed");
  return ML_SIG_OK;
}

ml_sig_error ml_room_set_locked(ml_room_registry *reg, ml_room_peer *host, bool locked) {
  ml_sig_error e = host_target(reg, host, NULL, NULL);
  if (e != ML_SIG_OK)
    return e;
  host->room->locked = locked;
  broadcast(reg, host->room, NULL, ML_ROOM_EV_ROOM_STATE, host, NULL);
  return ML_SIG_OK;
}

ml_sig_error ml_room_set_auto_admit(ml_room_registry *reg, ml_room_peer *host, bool enabled) {
  ml_sig_error e = host_target(reg, host, NULL, NULL);
  if (e != ML_SIG_OK)
    return e;
  ml_room *room = host->room;
  room->settings.auto_admit = enabled;
  broadcast(reg, room, NULL, ML_ROOM_EV_ROOM_STATE, host, NULL);
  if (enabled) {
    for (unsigned i = 0; i < room->peers->len && room->admitted < room->settings.capacity; i++) {
      ml_room_peer *p = g_ptr_array_index(room->peers, i);
      if (p->state == ML_ROOM_PEER_WAITING)
        admit_peer(reg, room, p);
    }
  }
  return ML_SIG_OK;
}

ml_sig_error ml_room_end(ml_room_registry *reg, ml_room_peer *host) {
  g_assert(reg && host);
  ml_sig_error e = host_target(reg, host, NULL, NULL);
  if (e != ML_SIG_OK)
    return e;
  ml_room *room = host->room;
  while (room->peers->len > 0) {
    ml_room_peer *q = g_ptr_array_index(room->peers, room->peers->len - 1);
    emit(reg, q, ML_ROOM_EV_CLOSED, q, "ended", NULL, true);
    unlink_peer(reg, room, q);
  }
  destroy_room(reg, room);
  return ML_SIG_OK;
}

ml_sig_error ml_room_hand_over(ml_room_registry *reg, ml_room_peer *host, const char *peer_id) {
  g_assert(reg && host && peer_id);
  ml_room_peer *t = NULL;
  ml_sig_error e = host_target(reg, host, peer_id, &t);
  if (e == ML_SIG_OK && t->state != ML_ROOM_PEER_ADMITTED)
    e = ML_SIG_E_NO_SUCH_PEER;
  if (e != ML_SIG_OK)
    return e;
  ml_room *room = host->room;
  if (t->role != ML_SIG_ROLE_HOST) {
    t->role = ML_SIG_ROLE_HOST;
    broadcast(reg, room, NULL, ML_ROOM_EV_ROLE_CHANGED, t, "handover");
    knock_all_waiting(reg, room, t);
  }
  host->role = ML_SIG_ROLE_PARTICIPANT;
  broadcast(reg, room, NULL, ML_ROOM_EV_ROLE_CHANGED, host, "handover");
  return ML_SIG_OK;
}

void ml_room_notify_join_failed(ml_room_registry *reg, const char *room_id, const char *name,
                                const char *reason) {
  g_assert(reg && room_id && reason);
  ml_room *room = g_hash_table_lookup(reg->rooms, room_id);
  char copy[ML_SIG_MAX_NAME + 1]; /* the sink reads it during the call only */
  g_strlcpy(copy, name ? name : "", sizeof copy);
  for (unsigned i = 0; room && i < room->peers->len; i++) {
    ml_room_peer *h = g_ptr_array_index(room->peers, i);
    if (h->state == ML_ROOM_PEER_ADMITTED && h->role == ML_SIG_ROLE_HOST)
      emit(reg, h, ML_ROOM_EV_JOIN_FAILED, h, reason, copy, false);
  }
}

ml_sig_error ml_room_signal(ml_room_registry *reg, ml_room_peer *from, const char *to_id,
                            void *payload) {
  g_assert(reg && from && to_id);
  if (from->state != ML_ROOM_PEER_ADMITTED)
    return ML_SIG_E_NOT_ADMITTED;
  ml_room_peer *to = g_hash_table_lookup(reg->peers, to_id);
  if (!to || to == from || to->room != from->room || to->state != ML_ROOM_PEER_ADMITTED)
    return ML_SIG_E_NO_SUCH_PEER;
  emit(reg, to, ML_ROOM_EV_SIGNAL, from, NULL, payload, false);
  return ML_SIG_OK;
}

/* ---- restoring ---- */

const ml_room_settings *ml_room_settings_of(const ml_room *room) { return &room->settings; }
const uint8_t *ml_room_secret_hash(const ml_room *room) {
  return room->open_mode ? room->secret_hash : NULL;
}
uint64_t ml_room_next_seq(const ml_room_registry *reg) { return reg->next_seq; }
ml_room *ml_room_find(ml_room_registry *reg, const char *room_id) {
  return g_hash_table_lookup(reg->rooms, room_id);
}
ml_room_peer *ml_room_find_peer(ml_room_registry *reg, const char *peer_id) {
  return g_hash_table_lookup(reg->peers, peer_id);
}

int ml_room_restore(ml_room_registry *reg, const char *room_id, const ml_room_settings *settings,
                    bool locked, const uint8_t *secret_hash, uint64_t next_seq, ml_room **out) {
  g_assert(reg && room_id && settings && out);
  if (g_hash_table_contains(reg->rooms, room_id) || settings->capacity < 1 ||
      g_hash_table_size(reg->rooms) >= reg->max_rooms)
    return ML_ERR_INVALID;
  ml_room *room = g_new0(ml_room, 1);
  room->id = g_strdup(room_id);
  room->settings = *settings;
  room->locked = locked;
  room->peers = g_ptr_array_new_with_free_func((GDestroyNotify)peer_free);
  room->open_mode = secret_hash != NULL;
  if (room->open_mode)
    memcpy(room->secret_hash, secret_hash, 32);
  g_hash_table_insert(reg->rooms, room->id, room);
  if (next_seq > reg->next_seq)
    reg->next_seq = next_seq;
  *out = room;
  return ML_OK;
}

int ml_room_restore_peer(ml_room_registry *reg, ml_room *room, const ml_room_peer_record *as,
                         void *conn, ml_room_peer **out) {
  g_assert(reg && room && as && as->id && as->name && as->identity_key);
  if (g_hash_table_contains(reg->peers, as->id) || as->seq >= reg->next_seq)
    return ML_ERR_INVALID;
  if (room->peers->len > 0) {
    const ml_room_peer *last = g_ptr_array_index(room->peers, room->peers->len - 1);
    if (as->seq <= last->seq)
      return ML_ERR_INVALID;
  }
  ml_room_peer *p = g_new0(ml_room_peer, 1);
  p->id = g_strdup(as->id);
  p->name = g_strdup(as->name);
  p->identity_key = g_strdup(as->identity_key);
  p->role = as->role;
  p->state = as->state;
  p->seq = as->seq;
  p->room = room;
  p->conn = conn;
  g_ptr_array_add(room->peers, p);
  g_hash_table_insert(reg->peers, p->id, p);
  if (p->state == ML_ROOM_PEER_ADMITTED)
    room->admitted++;
  else
    room->waiting++;
  if (out)
    *out = p;
  return ML_OK;
}
