/* The Redis backend: several mentorlink-signal instances share rooms through
 * one Redis. See backend.h and docs/ARCHITECTURE.md ("Several instances").
 *
 * Keys (every one with a TTL, so a crashed instance leaves nothing behind):
 *   ml:room:<room>     the room record (room_codec.h), PX ROOM_TTL_MS, kept
 *                      alive by every instance with a member in it
 *   ml:inst:<inst>     an instance's presence, PX [redis] presence_ttl_ms,
 *                      refreshed every TICK_MS
 *   ml:instances       the set of instance ids, PX ROOM_TTL_MS; every
 *                      instance checks each listed one's presence every
 *                      TICK_MS; one whose key is gone is remembered as dead
 *                      and taken out of the set, and its members are taken
 *                      out of their rooms by every instance with a member
 *                      there (a sweep in slices) and by any later operation
 *   ml:authfail:<ip>   refused joins from an address (INCR + PEXPIRE)
 *   ml:open_key        the key of open-mode secret hashes, shared (SET NX)
 * Channels: ml:to:<inst> carries what a room operation elsewhere must tell a
 * connection here: "<peer-id> <close-code> <detach>\n<message text>".
 *
 * An operation (join, admit, signal, ...) reads the room record, restores it
 * into a registry of its own, applies the operation through the room state
 * machine (room.c: the same rules as one process), and writes the record back
 * with a compare-and-set script that also publishes the messages for the
 * other instances; a lost race retries. Messages for connections here are
 * queued after the script succeeds.
 *
 * Connections. Room operations run under srv->lock on a blocking hiredis
 * context bounded by redis_timeout_ms (one round trip on loopback is
 * ~0.1 ms). Two asynchronous connections run on the server's main context
 * through hiredis's GLib adapter: "sub" (SUBSCRIBE ml:to:<inst>) and "ctl"
 * (PING for health and round trip, presence and TTL refreshes). Any of the
 * three lost, or a PING unanswered for STALL_MS, makes the backend
 * unavailable: healthz answers 503, joins and room operations are refused
 * with "unavailable", and each connection is re-made with back-off
 * (BACKOFF_MIN_MS doubling to BACKOFF_MAX_MS) until Redis answers again. */
#include "backend.h"

#include <string.h>

#include <hiredis/adapters/glib.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

#include "redis_tls.h"
#include "redis_url.h"
#include "room.h"
#include "room_codec.h"
#include "workers.h"

#define TICK_MS 1000
#define SWEEP_SLICE 32  /* rooms per pass of a sweep, so no pass holds the lock long */
#define DEAD_KEEP_S 600 /* how long a dead instance is remembered */
#define ROOM_TTL_MS 120000
#define STALL_US (G_USEC_PER_SEC * 2)
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
#define MAX_ATTEMPTS 8
#define AUTHFAIL_WINDOW_MS 10000
/* Refused joins per address per window, over every instance: the local
 * budget's burst plus its rate over the window (join_auth.h). */
#define AUTHFAIL_MAX                                                                               \
  ((long long)(ML_JOIN_AUTH_FAIL_BURST + ML_JOIN_AUTH_FAIL_RATE * AUTHFAIL_WINDOW_MS / 1000))
#define MAX_PUBLISH_BYTES (1024 * 1024)

static const char CAS_SCRIPT[] =
    "local cur = redis.call('GET', KEYS[1]) or ''\n"
    "if cur ~= ARGV[1] then return 0 end\n"
    "if ARGV[2] == '' then redis.call('DEL', KEYS[1])\n"
    "else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end\n"
    "for i = 4, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end\n"
    "return 1\n";

typedef enum rb_state {
  RB_CONNECTING,  /* not yet reached Redis */
  RB_READY,       /* all three connections up */
  RB_UNAVAILABLE, /* lost one; re-making it */
} rb_state;

typedef struct redis_backend redis_backend;

/* One asynchronous connection on the main context. */
typedef struct aconn {
  redis_backend *rb;
  const char *what; /* "sub", "ctl" */
  redisAsyncContext *ac;
  GSource *src;     /* the GLib adapter's source for ac */
  bool up;          /* sub: subscribed; ctl: answered a PING */
  int64_t asked_us; /* a reply awaited since (0: none) */
  int64_t retry_us; /* monotonic time of the next attempt */
  unsigned backoff_ms;
  bool ever_up;
} aconn;

struct redis_backend {
  ml_backend base;
  ml_redis_url url;
  ml_redis_tls *tls; /* rediss://: hiredis reaches Redis through it; NULL: plain TCP */
  char inst[24];     /* this instance's id */
  char *chan;        /* ml:to:<inst> */
  char *inst_key;
  aconn sub, ctl;
  GSource *tick;
  int64_t refreshed_us; /* presence last written */
  bool stopping;
  /* under srv->lock */
  rb_state state;
  redisContext *sync; /* NULL when lost */
  int64_t sync_retry_us;
  unsigned sync_backoff_ms;
  bool have_open_key;
  GHashTable *local;   /* peer id -> conn* of members connected here (borrowed) */
  GHashTable *rooms;   /* room id (owned) -> GUINT count of members here */
  GHashTable *recheck; /* room ids (owned) to tidy once Redis is back */
  GHashTable *dead;    /* ids (owned) of instances seen gone -> GSIZE monotonic s */
  GPtrArray *sweep;    /* room ids (owned) still to reap after an instance died */
  bool sweep_due;      /* an instance died: reap every room with a member here */
  bool recheck_queued; /* recheck_rooms is scheduled on worker 0 */
  uint64_t ops, conflicts, errors, reconnects, published, received;
  double rtt_s;
};

typedef struct rpeer { /* a member's conn handle in an operation's registry */
  char id[ML_SIG_MAX_ID + 1];
  char inst[ML_ROOM_CODEC_MAX_INST + 1];
  conn *local; /* NULL when connected elsewhere (or gone) */
} rpeer;

typedef struct pending_ev {
  rpeer *to;
  char *text;
  unsigned short close_code;
  bool detach;
} pending_ev;

/* One room operation's scratch state. */
typedef struct op_ctx {
  redis_backend *rb;
  GPtrArray *rpeers; /* rpeer* (owned) */
  GPtrArray *events; /* pending_ev* (owned) */
} op_ctx;

static const char *state_name(rb_state s) {
  switch (s) {
  case RB_CONNECTING: return "connecting";
  case RB_READY: return "ready";
  case RB_UNAVAILABLE: return "unavailable";
  }
  return "?";
}

/* Under lock: the one place the state changes. */
static void set_state(redis_backend *rb, rb_state next, const char *why) {
  if (rb->state == next)
    return;
  ml_signal_server *srv = rb->base.srv;
  if (next == RB_READY)
    ML_SRV_LOG(srv, ML_LOG_INFO, "backend_ready", " backend=redis inst=%s", rb->inst);
  else
    ML_SRV_LOG(srv, ML_LOG_WARN, "backend_unavailable",
               " backend=redis from=%s reason=\"%s\" note=\"joins refused until Redis answers\"",
               state_name(rb->state), why);
  rb->state = next;
}

/* Under lock: recomputes the state from the three connections. */
static void update_state(redis_backend *rb, const char *why) {
  bool all = rb->sync && rb->have_open_key && rb->sub.up && rb->ctl.up;
  if (all)
    set_state(rb, RB_READY, why);
  else if (rb->state == RB_READY)
    set_state(rb, RB_UNAVAILABLE, why);
}

static void lock(redis_backend *rb) { pthread_mutex_lock(&rb->base.srv->lock); }
static void unlock(redis_backend *rb) { pthread_mutex_unlock(&rb->base.srv->lock); }

static unsigned next_backoff(unsigned ms) {
  ms = ms ? ms * 2 : BACKOFF_MIN_MS;
  return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}

/* ---- the blocking context (under lock) ---- */

static void sync_lost(redis_backend *rb, const char *why) {
  if (rb->sync) {
    redisFree(rb->sync);
    rb->sync = NULL;
    rb->errors++;
  }
  rb->sync_backoff_ms = next_backoff(rb->sync_backoff_ms);
  rb->sync_retry_us = g_get_monotonic_time() + (int64_t)rb->sync_backoff_ms * 1000;
  update_state(rb, why);
}

/* A command on the blocking context; NULL on any failure (the context is
 * dropped when the failure is the connection's). */
static redisReply *sync_cmd(redis_backend *rb, int argc, const char **argv, const size_t *lens) {
  if (!rb->sync)
    return NULL;
  redisReply *r = redisCommandArgv(rb->sync, argc, argv, lens);
  if (!r || rb->sync->err) {
    ML_SRV_LOG(rb->base.srv, ML_LOG_WARN, "redis_error", " conn=sync error=\"%s\"",
               rb->sync->errstr[0] ? rb->sync->errstr : "no reply");
    if (r)
      freeReplyObject(r);
    sync_lost(rb, "command failed");
    return NULL;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    ML_SRV_LOG(rb->base.srv, ML_LOG_WARN, "redis_error", " conn=sync reply=\"%.80s\"", r->str);
    rb->errors++;
    freeReplyObject(r);
    return NULL;
  }
  return r;
}

static redisReply *sync_cmd2(redis_backend *rb, const char *a, const char *b) {
  const char *argv[] = {a, b};
  return sync_cmd(rb, 2, argv, NULL);
}

/* Not under lock (it blocks up to the timeout): a fresh blocking context,
 * authenticated, on the configured database, with the shared open key read.
 * NULL on failure. */
static redisContext *sync_connect(redis_backend *rb, uint8_t open_key[ML_JOIN_AUTH_KEY_LEN]) {
  unsigned ms = rb->base.srv->cfg.redis_timeout_ms;
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  redisContext *c = rb->tls ? redisConnectUnixWithTimeout(ml_redis_tls_path(rb->tls), tv)
                            : redisConnectWithTimeout(rb->url.host, (int)rb->url.port, tv);
  if (!c || c->err) {
    if (c)
      redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  if (!rb->tls) /* TCP only: on the bridge's Unix socket it fails (and marks c failed) */
    redisEnableKeepAlive(c);
  bool ok = true;
  redisReply *r = NULL;
  if (rb->url.password) {
    r = rb->url.user ? redisCommand(c, "AUTH %s %s", rb->url.user, rb->url.password)
                     : redisCommand(c, "AUTH %s", rb->url.password);
    ok = r && r->type != REDIS_REPLY_ERROR;
    if (r && r->type == REDIS_REPLY_ERROR)
      ML_SRV_LOG(rb->base.srv, ML_LOG_ERROR, "redis_auth_failed", " reply=\"%.80s\"", r->str);
    if (r)
      freeReplyObject(r);
  }
  if (ok && rb->url.db) {
    r = redisCommand(c, "SELECT %u", rb->url.db);
    ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
      freeReplyObject(r);
  }
  if (ok) { /* the first instance to come sets the key; everyone uses it */
    uint8_t mine[ML_JOIN_AUTH_KEY_LEN];
    randombytes_buf(mine, sizeof mine);
    r = redisCommand(c, "SET ml:open_key %b NX", mine, sizeof mine);
    sodium_memzero(mine, sizeof mine);
    ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
      freeReplyObject(r);
  }
  if (ok) { /* present and listed at once, before another instance looks */
    r = redisCommand(c, "SET %s 1 PX %d", rb->inst_key,
                     (int)rb->base.srv->cfg.redis_presence_ttl_ms);
    ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
      freeReplyObject(r);
  }
  if (ok) {
    r = redisCommand(c, "SADD ml:instances %s", rb->inst);
    ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
      freeReplyObject(r);
  }
  if (ok) {
    r = redisCommand(c, "GET ml:open_key");
    ok = r && r->type == REDIS_REPLY_STRING && r->len == ML_JOIN_AUTH_KEY_LEN;
    if (ok)
      memcpy(open_key, r->str, ML_JOIN_AUTH_KEY_LEN);
    if (r)
      freeReplyObject(r);
  }
  if (!ok || c->err) {
    redisFree(c);
    return NULL;
  }
  return c;
}

/* Main context: makes the blocking context again when it is due. */
static void sync_maybe_reconnect(redis_backend *rb, int64_t now) {
  lock(rb);
  bool due = !rb->sync && now >= rb->sync_retry_us && rb->ctl.up;
  unlock(rb);
  if (!due)
    return;
  uint8_t key[ML_JOIN_AUTH_KEY_LEN];
  redisContext *c = sync_connect(rb, key);
  lock(rb);
  if (c && !rb->sync) {
    rb->sync = c;
    memcpy(rb->base.srv->open_key, key, sizeof key);
    rb->have_open_key = true;
    rb->sync_backoff_ms = 0;
    ML_SRV_LOG(rb->base.srv, ML_LOG_INFO, "redis_connected", " conn=sync host=%s port=%u",
               rb->url.host, rb->url.port);
    update_state(rb, "connected");
  } else {
    if (c)
      redisFree(c);
    rb->sync_backoff_ms = next_backoff(rb->sync_backoff_ms);
    rb->sync_retry_us = now + (int64_t)rb->sync_backoff_ms * 1000;
  }
  unlock(rb);
  sodium_memzero(key, sizeof key);
}

/* ---- members connected here (under lock) ---- */

static void member_add(redis_backend *rb, conn *c, const char *room_id) {
  g_assert(!c->member);
  c->member = g_strdup(room_id);
  g_hash_table_insert(rb->local, c->id, c);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(rb->rooms, room_id));
  g_hash_table_insert(rb->rooms, g_strdup(room_id), GUINT_TO_POINTER(n + 1));
}

static void member_forget(redis_backend *rb, conn *c) {
  char *room_id = c->member;
  if (!room_id)
    return;
  c->member = NULL;
  g_hash_table_remove(rb->local, c->id);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(rb->rooms, room_id));
  if (n <= 1)
    g_hash_table_remove(rb->rooms, room_id);
  else
    g_hash_table_insert(rb->rooms, g_strdup(room_id), GUINT_TO_POINTER(n - 1));
  g_free(room_id);
}

/* ---- one room operation (under lock) ---- */

static void pending_free(gpointer p) {
  pending_ev *e = p;
  g_free(e->text);
  g_free(e);
}

static void op_sink(void *user, void *connp, const ml_room_event *ev) {
  op_ctx *op = user;
  pending_ev *e = g_new0(pending_ev, 1);
  e->to = connp;
  e->text = ml_srv_event_text(op->rb->base.srv, ev, &e->close_code);
  e->detach = ev->detach;
  g_ptr_array_add(op->events, e);
}

static rpeer *new_rpeer(op_ctx *op, const char *id, const char *inst, conn *local) {
  rpeer *r = g_new0(rpeer, 1);
  g_strlcpy(r->id, id, sizeof r->id);
  g_strlcpy(r->inst, inst, sizeof r->inst);
  r->local = local;
  g_ptr_array_add(op->rpeers, r);
  return r;
}

static void *conn_for(void *user, const char *peer_id, const char *inst) {
  op_ctx *op = user;
  conn *local = NULL;
  if (strcmp(inst, op->rb->inst) == 0)
    local = g_hash_table_lookup(op->rb->local, peer_id);
  return new_rpeer(op, peer_id, inst, local);
}

static const char *inst_of(void *user, const ml_room_peer *p) {
  (void)user;
  return ((const rpeer *)p->conn)->inst;
}

/* What an operation does to the restored registry. self is the caller's
 * member (NULL for a join, or when it is no longer in the room). */
typedef ml_sig_error (*op_fn)(op_ctx *op, ml_room_registry *reg, conn *c, ml_room_peer *self,
                              void *arg);

/* Takes out of the room the members no instance holds any more: those of
 * instances seen gone (on_instance_exists: their presence key expired), and
 * those said to be here that this instance does not have. No round trip. */
static void reap(op_ctx *op, ml_room_registry *reg, ml_room *room, const conn *c) {
  redis_backend *rb = op->rb;
  GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
  for (unsigned i = 0; i < ml_room_peer_count(room); i++) {
    const ml_room_peer *p = ml_room_peer_at(room, i);
    rpeer *r = p->conn;
    if (c && strcmp(p->id, c->id) == 0)
      continue; /* the caller's own member: its operation decides */
    bool here = strcmp(r->inst, rb->inst) == 0;
    if (here ? !r->local : g_hash_table_contains(rb->dead, r->inst))
      g_ptr_array_add(gone, g_strdup(p->id));
  }
  for (unsigned i = 0; i < gone->len; i++) {
    ml_room_peer *p = ml_room_find_peer(reg, g_ptr_array_index(gone, i));
    if (p) {
      ML_SRV_LOG(rb->base.srv, ML_LOG_INFO, "reap", " peer=%s inst=%s", p->id,
                 ((rpeer *)p->conn)->inst);
      ml_room_drop(reg, p);
    }
  }
  g_ptr_array_free(gone, TRUE);
}

/* The channel message for one remote event. */
static char *remote_text(const pending_ev *e) {
  return g_strdup_printf("%s %u %d\n%s", e->to->id, (unsigned)e->close_code, e->detach ? 1 : 0,
                         e->text ? e->text : "");
}

/* Runs fn on room_id's record with compare-and-set, retrying lost races.
 * ML_SIG_E_UNAVAILABLE when Redis cannot be used. */
static ml_sig_error room_op(redis_backend *rb, const char *room_id, conn *c, op_fn fn, void *arg) {
  ml_signal_server *srv = rb->base.srv;
  if (rb->state != RB_READY || !rb->sync)
    return ML_SIG_E_UNAVAILABLE;
  g_autofree char *key = g_strdup_printf("ml:room:%s", room_id);
  for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    rb->ops++;
    redisReply *old = sync_cmd2(rb, "GET", key);
    if (!old)
      return ML_SIG_E_UNAVAILABLE;
    op_ctx op = {.rb = rb,
                 .rpeers = g_ptr_array_new_with_free_func(g_free),
                 .events = g_ptr_array_new_with_free_func(pending_free)};
    ml_room_registry *reg = NULL;
    ml_sig_error e = ML_SIG_OK;
    if (ml_room_registry_new(&reg, 1, op_sink, &op) != ML_OK) {
      e = ML_SIG_E_INTERNAL;
      goto done;
    }
    ml_room *room = NULL;
    const char *old_text = old->type == REDIS_REPLY_STRING ? old->str : "";
    size_t old_len = old->type == REDIS_REPLY_STRING ? old->len : 0;
    if (old_len > 0) {
      if (ml_room_codec_decode(reg, old_text, old_len, conn_for, &op, &room) != ML_OK) {
        ML_SRV_LOG(srv, ML_LOG_ERROR, "room_record_bad", " room=%s note=\"replaced\"", room_id);
        ml_room_registry_free(reg);
        if (ml_room_registry_new(&reg, 1, op_sink, &op) != ML_OK) {
          e = ML_SIG_E_INTERNAL;
          goto done;
        }
        room = NULL;
        /* the empty record is written back below */
      } else {
        reap(&op, reg, room, c);
      }
    }
    ml_room_peer *self = c ? ml_room_find_peer(reg, c->id) : NULL;
    e = fn ? fn(&op, reg, c, self, arg) : ML_SIG_OK;
    room = ml_room_find(reg, room_id);
    char *next = room ? ml_room_codec_encode(reg, room, inst_of, &op) : g_strdup("");
    bool changed = strlen(next) != old_len || memcmp(next, old_text, old_len) != 0;
    if (!changed && op.events->len == 0) {
      g_free(next);
      goto done;
    }
    /* EVAL script 1 key old new ttl [channel message]... */
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup("EVAL"));
    g_ptr_array_add(argv, g_strdup(CAS_SCRIPT));
    g_ptr_array_add(argv, g_strdup("1"));
    g_ptr_array_add(argv, g_strdup(key));
    g_ptr_array_add(argv, g_strndup(old_text, old_len));
    g_ptr_array_add(argv, next);
    g_ptr_array_add(argv, g_strdup_printf("%d", ROOM_TTL_MS));
    unsigned remote = 0;
    for (unsigned i = 0; i < op.events->len; i++) {
      pending_ev *pe = g_ptr_array_index(op.events, i);
      if (strcmp(pe->to->inst, rb->inst) == 0)
        continue;
      char *m = remote_text(pe);
      g_ptr_array_add(argv, g_strdup_printf("ml:to:%s", pe->to->inst));
      g_ptr_array_add(argv, m);
      remote++;
    }
    redisReply *r = sync_cmd(rb, (int)argv->len, (const char **)(void *)argv->pdata, NULL);
    g_ptr_array_free(argv, TRUE);
    if (!r) {
      e = ML_SIG_E_UNAVAILABLE;
      goto done;
    }
    bool won = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    if (!won) {
      rb->conflicts++;
      ml_room_registry_free(reg);
      g_ptr_array_free(op.events, TRUE);
      g_ptr_array_free(op.rpeers, TRUE);
      freeReplyObject(old);
      continue;
    }
    rb->published += remote;
    /* Committed: tell the connections here. */
    for (unsigned i = 0; i < op.events->len; i++) {
      pending_ev *pe = g_ptr_array_index(op.events, i);
      conn *to = pe->to->local;
      if (strcmp(pe->to->inst, rb->inst) != 0 || !to)
        continue;
      if (pe->detach)
        member_forget(rb, to);
      ml_srv_enqueue(srv, to, pe->text, pe->close_code);
      pe->text = NULL;
    }
  done:
    ml_room_registry_free(reg);
    g_ptr_array_free(op.events, TRUE);
    g_ptr_array_free(op.rpeers, TRUE);
    freeReplyObject(old);
    return e;
  }
  ML_SRV_LOG(srv, ML_LOG_WARN, "room_contended", " room=%s attempts=%d", room_id, MAX_ATTEMPTS);
  return ML_SIG_E_UNAVAILABLE;
}

/* ---- the operations ---- */

typedef struct join_arg {
  const ml_sig_msg *m;
  int64_t now_s;
  ml_join_auth *auth;
  const char **detail;
} join_arg;

static ml_sig_error do_join(op_ctx *op, ml_room_registry *reg, conn *c, ml_room_peer *self,
                            void *argp) {
  join_arg *a = argp;
  ml_signal_server *srv = op->rb->base.srv;
  if (self)
    return ML_SIG_E_ALREADY_JOINED;
  ml_sig_error e =
      ml_join_authorise(&srv->cfg, srv->open_key, reg, a->m, a->now_s, a->auth, a->detail);
  if (e != ML_SIG_OK)
    return e;
  a->auth->req.peer_id = c->id;
  a->auth->req.conn = new_rpeer(op, c->id, op->rb->inst, c);
  ml_room_peer *peer = NULL;
  return ml_room_join(reg, &a->auth->req, &peer);
}

/* The room a join goes to, before authorising it (tokens name it inside). */
static bool join_room_id(ml_signal_server *srv, const ml_sig_msg *m, int64_t now_s, char *out,
                         size_t n, ml_join_auth *auth, const char **detail, ml_sig_error *err) {
  /* Authorise against an empty registry first: it checks the token or the
   * room code and yields the room id, without the room's state. */
  ml_room_registry *empty = NULL;
  if (ml_room_registry_new(&empty, 1, op_sink, NULL) != ML_OK) {
    *err = ML_SIG_E_INTERNAL;
    return false;
  }
  *err = ml_join_authorise(&srv->cfg, srv->open_key, empty, m, now_s, auth, detail);
  if (*err == ML_SIG_OK)
    g_strlcpy(out, auth->req.room_id, n);
  ml_room_registry_free(empty);
  return *err == ML_SIG_OK;
}

static ml_sig_error rb_join(ml_backend *b, conn *c, const ml_sig_msg *m, int64_t now_s,
                            ml_join_auth *auth, const char **detail) {
  redis_backend *rb = (redis_backend *)b;
  ml_signal_server *srv = b->srv;
  if (rb->state != RB_READY) {
    *detail = "the room service (Redis) is unavailable; retry in a few seconds";
    return ML_SIG_E_UNAVAILABLE;
  }
  char room_id[ML_SIG_MAX_ID + 1];
  ml_sig_error e;
  if (!join_room_id(srv, m, now_s, room_id, sizeof room_id, auth, detail, &e))
    return e;
  ml_join_auth_clear(auth);
  if (!g_hash_table_contains(rb->rooms, room_id) &&
      g_hash_table_size(rb->rooms) >= srv->cfg.max_rooms)
    return ML_SIG_E_SERVER_FULL;
  join_arg a = {.m = m, .now_s = now_s, .auth = auth, .detail = detail};
  e = room_op(rb, room_id, c, do_join, &a);
  if (e == ML_SIG_OK)
    member_add(rb, c, room_id);
  else if (e == ML_SIG_E_UNAVAILABLE)
    *detail = "the room service (Redis) is unavailable; retry in a few seconds";
  return e;
}

static ml_sig_error do_leave(op_ctx *op, ml_room_registry *reg, conn *c, ml_room_peer *self,
                             void *arg) {
  (void)op;
  (void)c;
  if (self)
    (*(const bool *)arg ? ml_room_drop : ml_room_leave)(reg, self);
  return ML_SIG_OK;
}

static void rb_leave(ml_backend *b, conn *c, bool lost) {
  redis_backend *rb = (redis_backend *)b;
  char *room_id = g_strdup(c->member);
  /* Forgotten here first: the record then no longer maps it to c. */
  member_forget(rb, c);
  if (room_op(rb, room_id, c, do_leave, &lost) != ML_SIG_OK)
    g_hash_table_add(rb->recheck, g_strdup(room_id)); /* the next tick tidies it */
  g_free(room_id);
}

typedef enum host_act {
  ACT_ADMIT,
  ACT_DENY,
  ACT_REMOVE,
  ACT_LOCK,
  ACT_AUTO,
  ACT_SIGNAL,
  ACT_END,
  ACT_HAND_OVER
} host_act;

typedef struct act_arg {
  host_act act;
  const char *peer_id;
  bool flag;
  JsonNode *data;
} act_arg;

static ml_sig_error do_act(op_ctx *op, ml_room_registry *reg, conn *c, ml_room_peer *self,
                           void *argp) {
  (void)op;
  (void)c;
  act_arg *a = argp;
  if (!self)
    return ML_SIG_E_NOT_JOINED;
  switch (a->act) {
  case ACT_ADMIT: return ml_room_admit(reg, self, a->peer_id);
  case ACT_DENY: return ml_room_deny(reg, self, a->peer_id);
  case ACT_REMOVE: return ml_room_remove(reg, self, a->peer_id);
  case ACT_LOCK: return ml_room_set_locked(reg, self, a->flag);
  case ACT_AUTO: return ml_room_set_auto_admit(reg, self, a->flag);
  case ACT_SIGNAL: return ml_room_signal(reg, self, a->peer_id, a->data);
  case ACT_END: return ml_room_end(reg, self);
  case ACT_HAND_OVER: return ml_room_hand_over(reg, self, a->peer_id);
  }
  return ML_SIG_E_INTERNAL;
}

static ml_sig_error act(ml_backend *b, conn *c, act_arg *a) {
  redis_backend *rb = (redis_backend *)b;
  ml_sig_error e = room_op(rb, c->member, c, do_act, a);
  if (e == ML_SIG_E_NOT_JOINED) /* taken out of the room meanwhile */
    member_forget(rb, c);
  return e;
}

static ml_sig_error rb_admit(ml_backend *b, conn *c, const char *peer_id) {
  return act(b, c, &(act_arg){.act = ACT_ADMIT, .peer_id = peer_id});
}
static ml_sig_error rb_deny(ml_backend *b, conn *c, const char *peer_id) {
  return act(b, c, &(act_arg){.act = ACT_DENY, .peer_id = peer_id});
}
static ml_sig_error rb_remove(ml_backend *b, conn *c, const char *peer_id) {
  return act(b, c, &(act_arg){.act = ACT_REMOVE, .peer_id = peer_id});
}
static ml_sig_error rb_set_locked(ml_backend *b, conn *c, bool locked) {
  return act(b, c, &(act_arg){.act = ACT_LOCK, .flag = locked});
}
static ml_sig_error rb_set_auto_admit(ml_backend *b, conn *c, bool enabled) {
  return act(b, c, &(act_arg){.act = ACT_AUTO, .flag = enabled});
}
static ml_sig_error rb_signal(ml_backend *b, conn *c, const char *to_id, JsonNode *data) {
  return act(b, c, &(act_arg){.act = ACT_SIGNAL, .peer_id = to_id, .data = data});
}

static ml_sig_error rb_end(ml_backend *b, conn *c) { return act(b, c, &(act_arg){.act = ACT_END}); }
static ml_sig_error rb_hand_over(ml_backend *b, conn *c, const char *peer_id) {
  return act(b, c, &(act_arg){.act = ACT_HAND_OVER, .peer_id = peer_id});
}

typedef struct join_failed_arg {
  const char *room_id, *name, *reason;
} join_failed_arg;

static ml_sig_error do_join_failed(op_ctx *op, ml_room_registry *reg, conn *c, ml_room_peer *self,
                                   void *argp) {
  (void)op, (void)c, (void)self;
  join_failed_arg *a = argp;
  ml_room_notify_join_failed(reg, a->room_id, a->name, a->reason);
  return ML_SIG_OK;
}

static void rb_join_failed(ml_backend *b, const char *room_id, const char *name,
                           const char *reason) {
  join_failed_arg a = {room_id, name, reason};
  (void)room_op((redis_backend *)b, room_id, NULL, do_join_failed, &a); /* best effort */
}

static unsigned rb_room_count(ml_backend *b) {
  return g_hash_table_size(((redis_backend *)b)->rooms);
}
static unsigned rb_peer_count(ml_backend *b) {
  return g_hash_table_size(((redis_backend *)b)->local);
}
static bool rb_ready(ml_backend *b) { return ((redis_backend *)b)->state == RB_READY; }

static bool rb_auth_failed(ml_backend *b, const char *ip) {
  redis_backend *rb = (redis_backend *)b;
  if (rb->state != RB_READY)
    return false;
  g_autofree char *key = g_strdup_printf("ml:authfail:%s", ip);
  redisReply *r = sync_cmd2(rb, "INCR", key);
  long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
  if (r)
    freeReplyObject(r);
  if (n == 1) {
    const char *argv[] = {"PEXPIRE", key, G_STRINGIFY(AUTHFAIL_WINDOW_MS)};
    r = sync_cmd(rb, 3, argv, NULL);
    if (r)
      freeReplyObject(r);
  }
  return n > AUTHFAIL_MAX;
}

static void rb_render_metrics(ml_backend *b, GString *out) {
  redis_backend *rb = (redis_backend *)b;
  g_string_append_printf(
      out,
      "# HELP mentorlink_signal_backend_ready Whether the room backend (Redis) is usable.\n"
      "# TYPE mentorlink_signal_backend_ready gauge\n"
      "mentorlink_signal_backend_ready{backend=\"redis\"} %d\n"
      "# HELP mentorlink_signal_redis_rtt_seconds Round trip of the last PING to Redis.\n"
      "# TYPE mentorlink_signal_redis_rtt_seconds gauge\n"
      "mentorlink_signal_redis_rtt_seconds %.6f\n"
      "# HELP mentorlink_signal_redis_reconnects_total Connections to Redis made again after a "
      "loss.\n"
      "# TYPE mentorlink_signal_redis_reconnects_total counter\n"
      "mentorlink_signal_redis_reconnects_total %" G_GUINT64_FORMAT "\n"
      "# HELP mentorlink_signal_redis_errors_total Failed Redis commands.\n"
      "# TYPE mentorlink_signal_redis_errors_total counter\n"
      "mentorlink_signal_redis_errors_total %" G_GUINT64_FORMAT "\n"
      "# HELP mentorlink_signal_redis_room_ops_total Room record reads-modify-writes tried.\n"
      "# TYPE mentorlink_signal_redis_room_ops_total counter\n"
      "mentorlink_signal_redis_room_ops_total %" G_GUINT64_FORMAT "\n"
      "# HELP mentorlink_signal_redis_room_conflicts_total Room writes lost to another instance "
      "(retried).\n"
      "# TYPE mentorlink_signal_redis_room_conflicts_total counter\n"
      "mentorlink_signal_redis_room_conflicts_total %" G_GUINT64_FORMAT "\n"
      "# HELP mentorlink_signal_redis_published_total Messages published to other instances.\n"
      "# TYPE mentorlink_signal_redis_published_total counter\n"
      "mentorlink_signal_redis_published_total %" G_GUINT64_FORMAT "\n"
      "# HELP mentorlink_signal_redis_received_total Messages received from other instances.\n"
      "# TYPE mentorlink_signal_redis_received_total counter\n"
      "mentorlink_signal_redis_received_total %" G_GUINT64_FORMAT "\n",
      rb->state == RB_READY, rb->rtt_s, rb->reconnects, rb->errors, rb->ops, rb->conflicts,
      rb->published, rb->received);
}

/* ---- messages from other instances (main context) ---- */

typedef struct inbound {
  conn *to; /* a reference */
  char *text;
  unsigned short close_code;
  bool detach;
} inbound;

static void inbound_free(gpointer p) {
  inbound *in = p;
  ml_srv_conn_unref(in->to);
  g_free(in->text);
  g_free(in);
}

/* On the recipient's worker thread. */
static gboolean deliver_inbound(gpointer p) {
  inbound *in = p;
  conn *c = in->to;
  ml_signal_server *srv = c->srv;
  if (g_atomic_int_get(&srv->stopping))
    return G_SOURCE_REMOVE;
  ml_srv_lock(srv, c->w);
  if (in->detach)
    member_forget((redis_backend *)srv->backend, c);
  ml_srv_enqueue(srv, c, in->text, in->close_code);
  in->text = NULL;
  ml_srv_unlock(srv);
  ml_srv_flush(c->w);
  return G_SOURCE_REMOVE;
}

/* "<peer-id> <close> <detach>\n<text>" from ml:to:<inst>. */
static void handle_inbound(redis_backend *rb, const char *msg, size_t len) {
  const char *nl = memchr(msg, '\n', len);
  if (!nl || nl - msg > ML_SIG_MAX_ID + 16)
    return;
  char head[ML_SIG_MAX_ID + 17];
  memcpy(head, msg, (size_t)(nl - msg));
  head[nl - msg] = '\0';
  char id[ML_SIG_MAX_ID + 1];
  unsigned close_code = 0;
  int detach = 0;
  if (sscanf(head, "%64s %u %d", id, &close_code, &detach) != 3 || close_code > 4999)
    return;
  lock(rb);
  rb->received++;
  conn *c = g_hash_table_lookup(rb->local, id);
  if (c)
    ml_srv_conn_ref(c);
  unlock(rb);
  if (!c)
    return; /* gone meanwhile */
  inbound *in = g_new0(inbound, 1);
  in->to = c;
  size_t tl = len - (size_t)(nl + 1 - msg);
  in->text = tl ? g_strndup(nl + 1, tl) : NULL;
  in->close_code = (unsigned short)close_code;
  in->detach = detach != 0;
  g_main_context_invoke_full(c->w->ctx, G_PRIORITY_DEFAULT, deliver_inbound, in, inbound_free);
}

/* ---- the asynchronous connections (main context) ---- */

static void aconn_connect(aconn *a);

static gboolean nothing(gpointer p) {
  (void)p;
  return G_SOURCE_REMOVE;
}

static void source_discard(gpointer p) {
  g_source_destroy(p);
  g_source_unref(p);
}

static void aconn_dropped(aconn *a, const char *why) {
  redis_backend *rb = a->rb;
  if (a->src) {
    /* hiredis frees the context (and calls the adapter's cleanup on this
     * source) after our callback returns: the source goes on a later pass,
     * or when the context is finalised. */
    RedisSource *rs = (RedisSource *)a->src;
    rs->poll_fd.revents = 0; /* the adapter must not touch the freed context again */
    GSource *later = g_idle_source_new();
    g_source_set_callback(later, nothing, a->src, source_discard);
    g_source_attach(later, rb->base.srv->main_ctx);
    g_source_unref(later);
    a->src = NULL;
  }
  a->ac = NULL;
  a->asked_us = 0;
  if (rb->stopping)
    return;
  bool was = a->up;
  a->backoff_ms = next_backoff(a->backoff_ms);
  a->retry_us = g_get_monotonic_time() + (int64_t)a->backoff_ms * 1000;
  lock(rb);
  a->up = false;
  if (was || rb->state == RB_READY)
    ML_SRV_LOG(rb->base.srv, ML_LOG_WARN, "redis_lost", " conn=%s reason=\"%s\"", a->what, why);
  update_state(rb, why);
  unlock(rb);
}

static void aconn_up(aconn *a) {
  redis_backend *rb = a->rb;
  a->asked_us = 0;
  a->backoff_ms = 0;
  lock(rb);
  if (!a->up) {
    if (a->ever_up)
      rb->reconnects++;
    a->ever_up = true;
    a->up = true;
    ML_SRV_LOG(rb->base.srv, ML_LOG_INFO, "redis_connected", " conn=%s host=%s port=%u", a->what,
               rb->url.host, rb->url.port);
  }
  update_state(rb, "connected");
  unlock(rb);
}

static void on_sub_message(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  aconn *a = priv;
  redisReply *r = reply;
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
    return;
  redisReply *kind = r->element[0];
  if (kind->type != REDIS_REPLY_STRING)
    return;
  if (strcmp(kind->str, "subscribe") == 0) {
    aconn_up(a);
  } else if (strcmp(kind->str, "message") == 0 && r->element[2]->type == REDIS_REPLY_STRING) {
    handle_inbound(a->rb, r->element[2]->str, r->element[2]->len);
  }
}

static void on_ping(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  aconn *a = priv;
  redisReply *r = reply;
  if (!r || a->asked_us == 0)
    return;
  if (r->type == REDIS_REPLY_ERROR) {
    ML_SRV_LOG(a->rb->base.srv, ML_LOG_WARN, "redis_error", " conn=ctl reply=\"%.80s\"", r->str);
    return;
  }
  double rtt = (double)(g_get_monotonic_time() - a->asked_us) / G_USEC_PER_SEC;
  lock(a->rb);
  a->rb->rtt_s = rtt;
  unlock(a->rb);
  aconn_up(a);
}

static void on_reply_ignored(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  (void)priv;
  redisReply *r = reply;
  if (r && r->type == REDIS_REPLY_ERROR)
    ML_SRV_LOG(((aconn *)priv)->rb->base.srv, ML_LOG_WARN, "redis_error", " reply=\"%.80s\"",
               r->str);
}

static void on_connect(const redisAsyncContext *ac, int status) {
  aconn *a = ac->data;
  if (status != REDIS_OK) {
    aconn_dropped(a, ac->errstr[0] ? ac->errstr : "connect failed");
    return;
  }
  redis_backend *rb = a->rb;
  redisAsyncContext *c = a->ac;
  if (rb->url.password) {
    if (rb->url.user)
      redisAsyncCommand(c, on_reply_ignored, a, "AUTH %s %s", rb->url.user, rb->url.password);
    else
      redisAsyncCommand(c, on_reply_ignored, a, "AUTH %s", rb->url.password);
  }
  a->asked_us = g_get_monotonic_time();
  if (a == &rb->sub) {
    redisAsyncCommand(c, on_sub_message, a, "SUBSCRIBE %s", rb->chan);
  } else {
    if (rb->url.db)
      redisAsyncCommand(c, on_reply_ignored, a, "SELECT %u", rb->url.db);
    redisAsyncCommand(c, on_ping, a, "PING");
  }
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  aconn *a = ac->data;
  aconn_dropped(a, status == REDIS_OK ? "closed" : (ac->errstr[0] ? ac->errstr : "lost"));
}

static void aconn_connect(aconn *a) {
  redis_backend *rb = a->rb;
  redisAsyncContext *ac = rb->tls ? redisAsyncConnectUnix(ml_redis_tls_path(rb->tls))
                                  : redisAsyncConnect(rb->url.host, (int)rb->url.port);
  if (!ac || ac->err) {
    const char *why = ac && ac->errstr[0] ? ac->errstr : "connect failed";
    a->backoff_ms = next_backoff(a->backoff_ms);
    a->retry_us = g_get_monotonic_time() + (int64_t)a->backoff_ms * 1000;
    ML_SRV_LOG(rb->base.srv, ML_LOG_DEBUG, "redis_connect_failed", " conn=%s reason=\"%s\"",
               a->what, why);
    if (ac)
      redisAsyncFree(ac);
    return;
  }
  ac->data = a;
  a->ac = ac;
  a->src = redis_source_new(ac);
  g_source_attach(a->src, rb->base.srv->main_ctx);
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  a->asked_us = g_get_monotonic_time(); /* the connect itself must finish in time */
}

/* Forces a stalled connection closed (Redis stopped, or a black hole). */
static void aconn_kill(aconn *a, const char *why) {
  if (!a->ac)
    return;
  /* Pending callbacks get NULL; on_disconnect runs if it was connected. */
  redisAsyncFree(a->ac);
  aconn_dropped(a, why); /* again is harmless: the source is gone */
}

static void aconn_tick(aconn *a, int64_t now) {
  if (!a->ac) {
    if (now >= a->retry_us)
      aconn_connect(a);
    return;
  }
  if (a->asked_us && now - a->asked_us > STALL_US) {
    ML_SRV_LOG(a->rb->base.srv, ML_LOG_WARN, "redis_stalled", " conn=%s note=\"no answer for 2 s\"",
               a->what);
    aconn_kill(a, "no answer");
  }
}

/* On worker 0's thread: tidies rooms whose leave could not be written
 * while Redis was away, and after an instance died reaps its members from
 * every room with a member here, SWEEP_SLICE rooms per pass (each room is a
 * round trip or two under the lock: 2,000 rooms at once held it ~0.4 s). */
static gboolean recheck_rooms(gpointer user) {
  redis_backend *rb = user;
  ml_signal_server *srv = rb->base.srv;
  worker *w = &srv->workers[0];
  ml_srv_lock(srv, w);
  bool more = false;
  if (rb->state == RB_READY && !g_atomic_int_get(&srv->stopping)) {
    GList *ids = g_hash_table_get_keys(rb->recheck);
    for (GList *l = ids; l; l = l->next)
      if (room_op(rb, l->data, NULL, NULL, NULL) == ML_SIG_OK)
        g_hash_table_remove(rb->recheck, l->data);
    g_list_free(ids);
    if (rb->sweep_due && rb->sweep->len == 0) {
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init(&it, rb->rooms);
      while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(rb->sweep, g_strdup(key));
    }
    rb->sweep_due = false;
    for (unsigned n = 0; n < SWEEP_SLICE && rb->sweep->len > 0 && rb->state == RB_READY; n++) {
      char *id = g_ptr_array_steal_index_fast(rb->sweep, rb->sweep->len - 1);
      (void)room_op(rb, id, NULL, NULL, NULL);
      g_free(id);
    }
    more = rb->sweep->len > 0 && rb->state == RB_READY;
  }
  rb->recheck_queued = more;
  ml_srv_unlock(srv);
  ml_srv_flush(w);
  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

typedef struct inst_check {
  aconn *a;
  char id[];
} inst_check;

/* Main context: whether an instance listed in ml:instances is still there. */
static void on_instance_exists(redisAsyncContext *ac, void *reply, void *priv) {
  inst_check *ic = priv;
  redisReply *r = reply;
  redis_backend *rb = ic->a->rb;
  if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
    lock(rb);
    if (!g_hash_table_contains(rb->dead, ic->id)) {
      g_hash_table_insert(rb->dead, g_strdup(ic->id),
                          GSIZE_TO_POINTER((gsize)(g_get_monotonic_time() / G_USEC_PER_SEC)));
      rb->sweep_due = g_hash_table_size(rb->rooms) > 0;
      ML_SRV_LOG(rb->base.srv, ML_LOG_INFO, "instance_gone", " inst=%s", ic->id);
    }
    unlock(rb);
    redisAsyncCommand(ac, on_reply_ignored, ic->a, "SREM ml:instances %s", ic->id);
  }
  g_free(ic);
}

/* Main context: the instances that said they are there; each is checked. */
static void on_instances(redisAsyncContext *ac, void *reply, void *priv) {
  aconn *a = priv;
  redisReply *r = reply;
  if (!r || r->type != REDIS_REPLY_ARRAY)
    return;
  for (size_t i = 0; i < r->elements && i < 4096; i++) {
    redisReply *e = r->element[i];
    if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > ML_ROOM_CODEC_MAX_INST ||
        strcmp(e->str, a->rb->inst) == 0)
      continue;
    inst_check *ic = g_malloc(sizeof *ic + e->len + 1);
    ic->a = a;
    memcpy(ic->id, e->str, e->len + 1);
    redisAsyncCommand(ac, on_instance_exists, ic, "EXISTS ml:inst:%s", ic->id);
  }
}

static gboolean on_tick(gpointer user) {
  redis_backend *rb = user;
  int64_t now = g_get_monotonic_time();
  aconn_tick(&rb->sub, now);
  aconn_tick(&rb->ctl, now);
  sync_maybe_reconnect(rb, now);
  aconn *ctl = &rb->ctl;
  if (ctl->ac && ctl->up && ctl->asked_us == 0 && now - rb->refreshed_us >= TICK_MS * 1000) {
    rb->refreshed_us = now;
    /* Presence, the list of instances (each checked: on_instances), TTLs
     * of the rooms with members here, and a PING. */
    redisAsyncCommand(ctl->ac, on_reply_ignored, ctl, "SET %s 1 PX %d", rb->inst_key,
                      (int)rb->base.srv->cfg.redis_presence_ttl_ms);
    redisAsyncCommand(ctl->ac, on_reply_ignored, ctl, "SADD ml:instances %s", rb->inst);
    redisAsyncCommand(ctl->ac, on_reply_ignored, ctl, "PEXPIRE ml:instances %d", ROOM_TTL_MS);
    redisAsyncCommand(ctl->ac, on_instances, ctl, "SMEMBERS ml:instances");
    lock(rb);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, rb->rooms);
    while (g_hash_table_iter_next(&it, &key, NULL))
      redisAsyncCommand(ctl->ac, on_reply_ignored, ctl, "PEXPIRE ml:room:%s %d", (char *)key,
                        ROOM_TTL_MS);
    unlock(rb);
    ctl->asked_us = now;
    redisAsyncCommand(ctl->ac, on_ping, ctl, "PING");
  }
  lock(rb);
  GHashTableIter it;
  gpointer since;
  g_hash_table_iter_init(&it, rb->dead);
  while (g_hash_table_iter_next(&it, NULL, &since))
    if (now / G_USEC_PER_SEC - (int64_t)GPOINTER_TO_SIZE(since) > DEAD_KEEP_S)
      g_hash_table_iter_remove(&it);
  bool recheck = rb->state == RB_READY && !rb->recheck_queued &&
                 (g_hash_table_size(rb->recheck) > 0 || rb->sweep_due || rb->sweep->len > 0);
  rb->recheck_queued = rb->recheck_queued || recheck;
  unlock(rb);
  if (recheck && rb->base.srv->workers)
    g_main_context_invoke(rb->base.srv->workers[0].ctx, recheck_rooms, rb);
  return G_SOURCE_CONTINUE;
}

/* ---- lifecycle ---- */

/* The TLS bridge's thread: why a TLS connection to Redis failed. */
static void on_tls_failed(void *user, const char *reason) {
  redis_backend *rb = user;
  ML_SRV_LOG(rb->base.srv, ML_LOG_WARN, "redis_tls_failed", " host=%s port=%u reason=\"%s\"",
             rb->url.host, rb->url.port, reason);
}

static int rb_start(ml_backend *b, char **errmsg) {
  redis_backend *rb = (redis_backend *)b;
  *errmsg = NULL;
  const ml_signal_config *cfg = &b->srv->cfg;
  if (rb->url.tls) {
    ml_redis_tls_config tc = {.host = rb->url.host,
                              .port = rb->url.port,
                              .ca_file = cfg->redis_tls_ca_file,
                              .cert_file = cfg->redis_tls_cert_file,
                              .key_file = cfg->redis_tls_key_file,
                              .log_cb = on_tls_failed,
                              .user = rb};
    if (ml_redis_tls_new(&rb->tls, &tc, errmsg) != ML_OK)
      return ML_ERR_IO;
  }
  aconn_connect(&rb->sub);
  aconn_connect(&rb->ctl);
  /* A first blocking connection now, so that an instance started with Redis
   * up is ready at once; with Redis down it starts unavailable. */
  uint8_t key[ML_JOIN_AUTH_KEY_LEN];
  redisContext *c = sync_connect(rb, key);
  lock(rb);
  if (c) {
    rb->sync = c;
    memcpy(b->srv->open_key, key, sizeof key);
    rb->have_open_key = true;
  } else {
    rb->sync_backoff_ms = BACKOFF_MIN_MS;
    rb->sync_retry_us = g_get_monotonic_time() + BACKOFF_MIN_MS * 1000;
    ML_SRV_LOG(b->srv, ML_LOG_WARN, "backend_unavailable",
               " backend=redis host=%s port=%u reason=\"cannot connect\" note=\"retrying\"",
               rb->url.host, rb->url.port);
  }
  unlock(rb);
  sodium_memzero(key, sizeof key);
  ML_SRV_LOG(b->srv, ML_LOG_INFO, "backend", " backend=redis inst=%s host=%s port=%u db=%u tls=%d",
             rb->inst, rb->url.host, rb->url.port, rb->url.db, rb->url.tls);
  rb->tick = g_timeout_source_new(TICK_MS / 4);
  g_source_set_callback(rb->tick, on_tick, rb, NULL);
  g_source_attach(rb->tick, b->srv->main_ctx);
  return ML_OK;
}

static void rb_free(ml_backend *b) {
  redis_backend *rb = (redis_backend *)b;
  rb->stopping = true;
  if (rb->tick) {
    g_source_destroy(rb->tick);
    g_source_unref(rb->tick);
  }
  if (rb->sync && rb->inst_key) { /* leave no presence behind */
    redisReply *r = sync_cmd2(rb, "DEL", rb->inst_key);
    if (r)
      freeReplyObject(r);
  }
  aconn *as[] = {&rb->sub, &rb->ctl};
  for (unsigned i = 0; i < 2; i++) {
    if (as[i]->ac) {
      redisAsyncContext *ac = as[i]->ac;
      redisAsyncFree(ac);
      aconn_dropped(as[i], "stopping");
    }
  }
  if (rb->sync)
    redisFree(rb->sync);
  ml_redis_tls_free(rb->tls); /* after every connection through it */
  g_hash_table_destroy(rb->local);
  g_hash_table_destroy(rb->rooms);
  g_hash_table_destroy(rb->recheck);
  g_hash_table_destroy(rb->dead);
  g_ptr_array_free(rb->sweep, TRUE);
  g_free(rb->chan);
  g_free(rb->inst_key);
  ml_redis_url_clear(&rb->url);
  g_free(rb);
}

static const ml_backend_ops redis_ops = {
    .name = "redis",
    .start = rb_start,
    .free = rb_free,
    .join = rb_join,
    .leave = rb_leave,
    .admit = rb_admit,
    .deny = rb_deny,
    .remove = rb_remove,
    .set_locked = rb_set_locked,
    .set_auto_admit = rb_set_auto_admit,
    .signal = rb_signal,
    .end = rb_end,
    .hand_over = rb_hand_over,
    .join_failed = rb_join_failed,
    .room_count = rb_room_count,
    .peer_count = rb_peer_count,
    .ready = rb_ready,
    .auth_failed = rb_auth_failed,
    .render_metrics = rb_render_metrics,
};

int ml_backend_redis_new(ml_backend **out, ml_signal_server *srv, char **errmsg) {
  *errmsg = NULL;
  ml_redis_url url;
  if (ml_redis_url_parse(srv->cfg.redis_url ? srv->cfg.redis_url : "", &url, errmsg) != ML_OK)
    return ML_ERR_INVALID;
  redis_backend *rb = g_new0(redis_backend, 1);
  rb->base.ops = &redis_ops;
  rb->base.srv = srv;
  rb->url = url;
  if (srv->cfg.redis_password) {
    if (rb->url.password)
      sodium_memzero(rb->url.password, strlen(rb->url.password));
    g_free(rb->url.password);
    rb->url.password = g_strdup(srv->cfg.redis_password);
  }
  uint8_t rnd[9];
  randombytes_buf(rnd, sizeof rnd);
  sodium_bin2base64(rb->inst, sizeof rb->inst, rnd, sizeof rnd,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  rb->chan = g_strdup_printf("ml:to:%s", rb->inst);
  rb->inst_key = g_strdup_printf("ml:inst:%s", rb->inst);
  rb->sub = (aconn){.rb = rb, .what = "sub"};
  rb->ctl = (aconn){.rb = rb, .what = "ctl"};
  rb->state = RB_CONNECTING;
  rb->local = g_hash_table_new(g_str_hash, g_str_equal);
  rb->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  rb->recheck = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  rb->dead = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  rb->sweep = g_ptr_array_new_with_free_func(g_free);
  *out = &rb->base;
  return ML_OK;
}
