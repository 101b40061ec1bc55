/* libsoup glue: the transport. Accepting sockets and handing them to a
 * worker, the HTTP endpoints, WebSocket connections (accept, read, limits,
 * timeouts, close) and the server's lifecycle. Room logic lives in room.c,
 * parsing and message building in message.c, join authorisation in
 * join_auth.c, worker threads, deliveries and drain in workers.c, the shared
 * state and its locking rules in server_internal.h; this file only moves
 * messages between sockets and those modules.
 *
 * The main context accepts and hands each socket to a worker; a connection's
 * callbacks run on its worker's thread. Input is handled under srv->lock from
 * parse to dispatch, and what must be sent is queued (workers.h) and flushed
 * after unlocking. */
#include "ml/signal_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>

#include <libsoup/soup.h>
#include <sodium.h>

#include "backend.h"
#include "join_auth.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "ratelimit.h"
#include "room.h"
#include "server_internal.h"
#include "turn.h"
#include "workers.h"
#include "ws.h"
#include "ws_frame.h"

#define SWEEP_INTERVAL_MS 250
#define LISTEN_BACKLOG 4096
#define ACCEPT_BATCH 256
#define FLOOD_FORGET_US INT64_C(10000000) /* 10 s */

conn *ml_srv_conn_ref(conn *c) {
  g_atomic_int_inc(&c->ref);
  return c;
}

void ml_srv_conn_unref(conn *c) {
  if (!g_atomic_int_dec_and_test(&c->ref))
    return;
  ml_ws_free(c->ws);
  g_free(c->ip);
  g_free(c);
}

/* ---- output ---- */

static void queue_error(ml_signal_server *srv, conn *c, ml_sig_error code, const char *detail,
                        const char *req_id, const char *ref) {
  srv->metrics.rejects[code]++;
  ml_srv_enqueue(srv, c, ml_sig_build_error(code, detail, ref, req_id), 0);
  ML_SRV_LOG(srv, ML_LOG_DEBUG, "reject", " conn=%s code=%s", c->id, ml_sig_error_name(code));
}

void ml_srv_conn_close(conn *c, unsigned short code, const char *reason) {
  if (c->closing)
    return;
  c->closing = true;
  ml_ws_close(c->ws, code, reason);
}

static ml_sig_peer_info peer_info(const ml_room_peer *p) {
  return (ml_sig_peer_info){
      .id = p->id, .name = p->name, .identity_key = p->identity_key, .role = p->role};
}

static char *welcome_text(ml_signal_server *srv, const ml_room_peer *self) {
  const ml_room *room = self->room;
  unsigned n = ml_room_peer_count(room);
  ml_sig_peer_info *peers = g_new0(ml_sig_peer_info, n ? n : 1);
  size_t np = 0;
  for (unsigned i = 0; i < n; i++) {
    const ml_room_peer *p = ml_room_peer_at(room, i);
    if (p != self && p->state == ML_ROOM_PEER_ADMITTED)
      peers[np++] = peer_info(p);
  }
  ml_turn_ice ice;
  ml_turn_ice_servers(&ice, srv->cfg.stun_urls, srv->cfg.turn_urls, srv->cfg.turn_secret,
                      srv->cfg.turn_ttl_s, self->id, g_get_real_time() / G_USEC_PER_SEC);
  ml_sig_welcome w = {.peer_id = self->id,
                      .room = ml_room_id(room),
                      .role = self->role,
                      .name = self->name,
                      .locked = ml_room_locked(room),
                      .auto_admit = ml_room_auto_admit(room),
                      .capacity = ml_room_capacity(room),
                      .peers = peers,
                      .n_peers = np,
                      .ice = ice.servers,
                      .n_ice = ice.n};
  char *text = ml_sig_build_welcome(&w);
  ml_turn_ice_clear(&ice);
  g_free(peers);
  return text;
}

char *ml_srv_event_text(ml_signal_server *srv, const ml_room_event *ev,
                        unsigned short *close_code) {
  const ml_room_peer *s = ev->subject;
  ml_sig_peer_info info = peer_info(s);
  char *text = NULL;
  *close_code = 0;
  switch (ev->type) {
  case ML_ROOM_EV_WELCOME: text = welcome_text(srv, s); break;
  case ML_ROOM_EV_WAITING: text = ml_sig_build_waiting(s->id, ml_room_id(ev->room)); break;
  case ML_ROOM_EV_KNOCK: text = ml_sig_build_knock(&info); break;
  case ML_ROOM_EV_PEER_JOINED: text = ml_sig_build_peer_joined(&info); break;
  case ML_ROOM_EV_PEER_LEFT: text = ml_sig_build_peer_left(s->id, ev->reason); break;
  case ML_ROOM_EV_ROLE_CHANGED: text = ml_sig_build_role_changed(s->id, s->role, ev->reason); break;
  case ML_ROOM_EV_ROOM_STATE:
    text = ml_sig_build_room_state(ml_room_locked(ev->room), ml_room_auto_admit(ev->room), s->id);
    break;
  case ML_ROOM_EV_REMOVED:
    text = ml_sig_build_removed();
    *close_code = CLOSE_REMOVED;
    break;
  case ML_ROOM_EV_DENIED:
    text = ml_sig_build_denied();
    *close_code = CLOSE_DENIED;
    break;
  case ML_ROOM_EV_CLOSED:
    text = ml_sig_build_room_closed(ev->reason);
    *close_code = CLOSE_ROOM_CLOSED;
    break;
  case ML_ROOM_EV_SIGNAL:
    text = ml_sig_build_signal(s->id, ev->payload);
    srv->metrics.messages_relayed++;
    break;
  case ML_ROOM_EV_JOIN_FAILED: text = ml_sig_build_join_failed(ev->payload, ev->reason); break;
  }
  return text;
}

/* ---- input (worker threads; the lock is held from parse to dispatch) ---- */

static ml_sig_error handle_join(conn *c, const ml_sig_msg *m, const char **detail) {
  ml_signal_server *srv = c->srv;
  ml_backend *b = srv->backend;
  if (c->member || c->joined_once)
    return ML_SIG_E_ALREADY_JOINED;
  ml_join_auth auth = {0};
  ml_sig_error e = b->ops->join(b, c, m, g_get_real_time() / G_USEC_PER_SEC, &auth, detail);
  if (e == ML_SIG_E_TOKEN_EXPIRED || e == ML_SIG_E_TOKEN_NOT_YET_VALID) {
    /* When, so the user can tell a clock from an old (or early) token. */
    bool early = e == ML_SIG_E_TOKEN_NOT_YET_VALID;
    g_autoptr(GDateTime) t =
        g_date_time_new_from_unix_utc(early ? auth.claims.not_before : auth.claims.expiry);
    g_autofree char *when = t ? g_date_time_format(t, "%Y-%m-%d %H:%M UTC") : NULL;
    snprintf(c->detail, sizeof c->detail,
             early ? "the token is valid from %s: join then" : "the token expired at %s",
             when ? when : "?");
    *detail = c->detail;
  }
  if (e == ML_SIG_E_WRONG_SECRET || e == ML_SIG_E_TOKEN_EXPIRED) {
    /* The room's hosts are told (no secret, no token: the name and why). */
    const char *room = m->room ? m->room : auth.claims.room;
    const char *name = m->room ? m->name : auth.claims.name;
    if (room && ml_sig_valid_id(room))
      b->ops->join_failed(b, room, name && ml_sig_valid_name(name) ? name : "",
                          ml_sig_error_name(e));
  }
  ml_join_auth_clear(&auth);
  if (e != ML_SIG_OK)
    return e;
  c->joined_once = true;
  srv->metrics.joins++;
  ML_SRV_LOG(srv, ML_LOG_INFO, "join", " conn=%s role=%s rooms=%u peers=%u", c->id,
             ml_sig_role_name(auth.req.role), b->ops->room_count(b), b->ops->peer_count(b));
  return ML_SIG_OK;
}

/* Under lock. *close_after is set for "leave". */
static ml_sig_error dispatch(conn *c, ml_sig_msg *m, const char **detail) {
  ml_signal_server *srv = c->srv;
  switch (m->type) {
  case ML_SIG_MSG_PING: ml_srv_enqueue(srv, c, ml_sig_build_pong(m->req_id), 0); return ML_SIG_OK;
  case ML_SIG_MSG_JOIN: return handle_join(c, m, detail);
  default: break;
  }
  if (!c->member)
    return ML_SIG_E_NOT_JOINED;
  ml_backend *b = srv->backend;
  switch (m->type) {
  case ML_SIG_MSG_LEAVE:
    b->ops->leave(b, c, false);
    ml_srv_enqueue(srv, c, NULL, CLOSE_LEFT);
    return ML_SIG_OK;
  case ML_SIG_MSG_ADMIT: return b->ops->admit(b, c, m->peer);
  case ML_SIG_MSG_DENY: return b->ops->deny(b, c, m->peer);
  case ML_SIG_MSG_REMOVE: return b->ops->remove(b, c, m->peer);
  case ML_SIG_MSG_LOCK: return b->ops->set_locked(b, c, m->flag);
  case ML_SIG_MSG_AUTO_ADMIT: return b->ops->set_auto_admit(b, c, m->flag);
  case ML_SIG_MSG_END: return b->ops->end(b, c);
  case ML_SIG_MSG_MAKE_HOST: return b->ops->hand_over(b, c, m->peer);
  case ML_SIG_MSG_SIGNAL: return b->ops->signal(b, c, m->peer, m->data);
  default: return ML_SIG_E_UNKNOWN_TYPE;
  }
}

/* Under lock: takes one message from c's source address budget. */
static bool ip_message_ok(ml_signal_server *srv, conn *c, int64_t now) {
  ip_entry *ie = g_hash_table_lookup(srv->ips, c->ip);
  return !ie || ml_ratelimit_take(&ie->messages, now);
}

/* Under lock: a refused join. Guessing open-mode room secrets (or tokens) is
 * bounded per connection and per source address. */
static void auth_failed(ml_signal_server *srv, conn *c, int64_t now) {
  ip_entry *ie = g_hash_table_lookup(srv->ips, c->ip);
  bool ip_over = false;
  bool close = ml_join_auth_failed(&c->failed_joins, ie ? &ie->auth_fail : NULL, now, &ip_over);
  ml_backend *b = srv->backend;
  if (!close && b->ops->auth_failed && b->ops->auth_failed(b, c->ip))
    close = ip_over = true; /* over the budget shared by every instance */
  if (close) {
    ML_SRV_LOG(srv, ML_LOG_WARN, "auth_failures", " conn=%s ip=%s failed=%u ip_limited=%d", c->id,
               c->ip, c->failed_joins, ip_over);
    ml_srv_enqueue(srv, c, NULL, CLOSE_AUTH_FAILURES);
  }
}

static void on_message(ml_ws *ws, bool is_text, const char *text, size_t len, void *user) {
  (void)ws;
  conn *c = user;
  ml_signal_server *srv = c->srv;
  int64_t now = g_get_monotonic_time();
  c->last_rx_us = now;
  if (c->closing)
    return;
  bool over = !ml_ratelimit_take(&c->rl, now);
  ml_srv_lock(srv, c->w);
  srv->metrics.messages_received++;
  if (over) {
    if (now - c->last_flood_us > FLOOD_FORGET_US)
      c->floods = 0;
    c->last_flood_us = now;
    if (++c->floods > srv->cfg.flood_disconnect) {
      srv->metrics.closes[ML_METRICS_CLOSE_FLOOD]++;
      ML_SRV_LOG(srv, ML_LOG_WARN, "flood_disconnect", " conn=%s ip=%s", c->id, c->ip);
      ml_srv_enqueue(srv, c, NULL, CLOSE_FLOOD);
    } else {
      queue_error(srv, c, ML_SIG_E_RATE_LIMITED, "slow down", NULL, NULL);
    }
  } else if (!ip_message_ok(srv, c, now)) {
    /* Over the per-address budget: refused, but not counted as this
     * connection's flood (its neighbours behind the same NAT share it). */
    queue_error(srv, c, ML_SIG_E_RATE_LIMITED, "address over its message rate", NULL, NULL);
  } else if (!is_text) {
    queue_error(srv, c, ML_SIG_E_BAD_JSON, "text frames only", NULL, NULL);
  } else {
    ml_sig_msg m;
    const char *detail = NULL;
    char *req_id = NULL;
    ml_sig_error e =
        ml_sig_msg_parse(text ? text : "", len, srv->cfg.max_message_bytes, &m, &detail, &req_id);
    if (e != ML_SIG_OK) {
      queue_error(srv, c, e, detail, req_id, NULL);
    } else {
      detail = NULL;
      e = dispatch(c, &m, &detail);
      if (e != ML_SIG_OK)
        queue_error(srv, c, e, detail, m.req_id, ml_sig_msg_type_name(m.type));
      if (ml_join_auth_is_refusal(e))
        auth_failed(srv, c, now);
      if (e == ML_SIG_E_UNAVAILABLE && m.type == ML_SIG_MSG_JOIN)
        ml_srv_enqueue(srv, c, NULL, CLOSE_TRY_AGAIN_LATER); /* clients reconnect with back-off */
      ml_sig_msg_clear(&m);
    }
    g_free(req_id);
  }
  ml_srv_unlock(srv);
  ml_srv_flush(c->w);
}

static void on_pong(ml_ws *ws, void *user) {
  (void)ws;
  conn *c = user;
  c->last_rx_us = g_get_monotonic_time();
}

/* Under lock: gives back c's slots in the counts. */
static void uncount(ml_signal_server *srv, conn *c) {
  if (!c->counted)
    return;
  c->counted = false;
  ip_entry *ie = g_hash_table_lookup(srv->ips, c->ip);
  if (ie && ie->conns > 0)
    ie->conns--;
  srv->n_conns--;
  if (srv->draining && srv->n_conns == 0)
    ml_srv_post_drained(srv);
}

static void on_closed(ml_ws *ws, unsigned short code, void *user) {
  (void)ws;
  conn *c = user;
  ml_signal_server *srv = c->srv;
  worker *w = c->w;
  c->closing = true;
  ml_srv_lock(srv, w);
  if (c->member)
    srv->backend->ops->leave(srv->backend, c, true);
  uncount(srv, c);
  ml_srv_unlock(srv);
  ML_SRV_LOG(srv, ML_LOG_DEBUG, "conn_close", " conn=%s code=%u", c->id, (unsigned)code);
  g_hash_table_remove(w->conns, c); /* drops the table's reference */
  ml_srv_flush(w);
}

static const ml_ws_callbacks conn_callbacks = {
    .message = on_message, .pong = on_pong, .closed = on_closed};

/* Connections refused before they count: one message, a close, and gone. */
static const ml_ws_callbacks refused_callbacks = {0};

static void reject_new(worker *w, GIOStream *io, GSocket *sock, const char *text,
                       unsigned short close_code, const char *reason) {
  ml_ws *ws = ml_ws_new(w->wsl, io, sock, ML_WS_MAX_CONTROL, 0, &refused_callbacks, NULL);
  if (text)
    ml_ws_send_text(ws, text, strlen(text));
  ml_ws_close(ws, close_code, reason);
  ml_ws_release(ws);
}

/* What a connection refused at accept is told before it is closed. */
static char *refusal_text(ml_sig_error code) {
  return code == ML_SIG_E_SHUTTING_DOWN ? ml_sig_build_shutdown(-1)
                                        : ml_sig_build_error(code, NULL, NULL, NULL);
}

/* Admits the upgraded connection, or tells it why not and closes it. */
static void accept_ws(worker *w, GIOStream *io, GSocket *sock, const char *ip) {
  ml_signal_server *srv = w->srv;
  int64_t now = g_get_monotonic_time();

  ml_sig_error refuse = ML_SIG_OK;
  ml_metrics_close why = ML_METRICS_CLOSE_COUNT_;
  unsigned short close_code = CLOSE_TRY_AGAIN_LATER;
  conn *c = NULL;
  ml_srv_lock(srv, w);
  ip_entry *ie = g_hash_table_lookup(srv->ips, ip);
  if (srv->draining) {
    refuse = ML_SIG_E_SHUTTING_DOWN;
    why = ML_METRICS_CLOSE_DRAINING;
    close_code = ML_WS_CLOSE_GOING_AWAY;
  } else if (srv->n_conns >= srv->cfg.max_connections) {
    refuse = ML_SIG_E_SERVER_FULL;
    why = ML_METRICS_CLOSE_SERVER_FULL;
  } else {
    if (!ie) {
      ie = g_new0(ip_entry, 1);
      ml_ratelimit_init(&ie->connect, srv->cfg.connect_rate, srv->cfg.connect_burst, now);
      ml_ratelimit_init(&ie->auth_fail, ML_JOIN_AUTH_FAIL_RATE, ML_JOIN_AUTH_FAIL_BURST, now);
      ml_ratelimit_init(&ie->messages, srv->cfg.ip_message_rate, srv->cfg.ip_message_burst, now);
      g_hash_table_insert(srv->ips, g_strdup(ip), ie);
    }
    if (ie->conns >= srv->cfg.max_connections_per_ip) {
      refuse = ML_SIG_E_SERVER_FULL;
      why = ML_METRICS_CLOSE_IP_FULL;
    } else if (!ml_ratelimit_take(&ie->connect, now)) {
      refuse = ML_SIG_E_RATE_LIMITED;
      why = ML_METRICS_CLOSE_CONNECT_RATE;
    }
  }
  if (refuse != ML_SIG_OK) {
    srv->metrics.closes[why]++;
    srv->metrics.rejects[refuse]++;
  } else {
    ie->conns++;
    srv->n_conns++;
    srv->metrics.connections_accepted++;
    c = g_new0(conn, 1);
    c->ref = 1;
    c->srv = srv;
    c->w = w;
    c->counted = true;
    c->ip = g_strdup(ip);
    uint8_t rnd[12];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(c->id, sizeof c->id, rnd, sizeof rnd,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    c->created_us = c->last_rx_us = now;
    ml_ratelimit_init(&c->rl, srv->cfg.message_rate, srv->cfg.message_burst, now);
  }
  unsigned total = srv->n_conns;
  uint64_t max_message = (uint64_t)srv->cfg.max_message_bytes * HARD_FRAME_FACTOR;
  unsigned keepalive = srv->cfg.keepalive_interval_s;
  ml_srv_unlock(srv);

  if (!c) {
    char *text = refusal_text(refuse);
    reject_new(w, io, sock, text, close_code, ml_sig_error_name(refuse));
    g_free(text);
    return;
  }
  c->ws = ml_ws_new(w->wsl, io, sock, max_message, keepalive, &conn_callbacks, c);
  g_hash_table_add(w->conns, c);
  ML_SRV_LOG(srv, ML_LOG_DEBUG, "conn_open", " conn=%s ip=%s conns=%u", c->id, ip, total);
}

/* The socket under a stolen stream: libsoup's wrapper ("base-iostream"), then
 * TLS ("base-io-stream"), then our GSocketConnection. We accept connections
 * ourselves (on_listen_ready), so libsoup has no GSocket to give. */
static GSocket *socket_of(GIOStream *io) {
  for (int depth = 0; io && depth < 4; depth++) {
    if (G_IS_SOCKET_CONNECTION(io))
      return g_socket_connection_get_socket(G_SOCKET_CONNECTION(io));
    const char *prop = G_IS_TLS_CONNECTION(io) ? "base-io-stream" : "base-iostream";
    if (!g_object_class_find_property(G_OBJECT_GET_CLASS(io), prop))
      return NULL;
    GIOStream *base = NULL;
    g_object_get(io, prop, &base, NULL);
    g_object_unref(base); /* io holds it */
    io = base;
  }
  return NULL;
}

/* The 101 response is written: the connection is ours from here (ws.h). */
static void on_upgraded(SoupServerMessage *msg, gpointer user) {
  worker *w = user;
  ml_signal_server *srv = w->srv;
  char *ip = g_strdup(soup_server_message_get_remote_host(msg));
  GIOStream *io = soup_server_message_steal_connection(msg);
  GSocket *sock = io ? socket_of(io) : NULL;
  sock = sock ? g_object_ref(sock) : NULL;
  if (!io || !sock) {
    if (io)
      g_io_stream_close(io, NULL, NULL);
    g_clear_object(&io);
    g_clear_object(&sock);
    g_free(ip);
    return;
  }
  if (g_atomic_int_get(&srv->stopping)) {
    reject_new(w, io, sock, NULL, ML_WS_CLOSE_GOING_AWAY, NULL);
    goto out;
  }
  accept_ws(w, io, sock, ip ? ip : "unknown");
out:
  g_object_unref(io);
  g_object_unref(sock);
  g_free(ip);
}

static void on_ws_request(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user) {
  (void)server;
  (void)path;
  (void)query;
  /* libsoup checks the handshake and answers errors itself (400, 405...). */
  if (soup_websocket_server_process_handshake(msg, NULL, NULL, NULL, NULL))
    g_signal_connect(msg, "wrote-informational", G_CALLBACK(on_upgraded), user);
}

/* ---- timers (worker threads) ---- */

static gboolean sweep(gpointer user) {
  worker *w = user;
  ml_signal_server *srv = w->srv;
  int64_t now = g_get_monotonic_time();
  pthread_mutex_lock(&srv->lock);
  int64_t idle = (int64_t)srv->cfg.idle_timeout_s * G_USEC_PER_SEC;
  int64_t join = (int64_t)srv->cfg.join_timeout_s * G_USEC_PER_SEC;
  pthread_mutex_unlock(&srv->lock);
  /* Candidates from the owner's fields; joined_once is read under the lock. */
  GPtrArray *cand = g_ptr_array_new();
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, w->conns);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    conn *c = key;
    if (!c->closing && (now - c->last_rx_us > idle || now - c->created_us > join))
      g_ptr_array_add(cand, c);
  }
  GPtrArray *to_close = g_ptr_array_new();
  if (cand->len > 0) {
    pthread_mutex_lock(&srv->lock);
    for (unsigned i = 0; i < cand->len; i++) {
      conn *c = g_ptr_array_index(cand, i);
      if (now - c->last_rx_us > idle) {
        srv->metrics.closes[ML_METRICS_CLOSE_IDLE]++;
        g_ptr_array_add(to_close, c);
      } else if (!c->joined_once) {
        srv->metrics.closes[ML_METRICS_CLOSE_JOIN_TIMEOUT]++;
        g_ptr_array_add(to_close, c);
      }
    }
    pthread_mutex_unlock(&srv->lock);
  }
  g_ptr_array_free(cand, TRUE);
  /* Closing may run on_closed at once, which removes c from w->conns: hold a
   * reference across it. */
  for (unsigned i = 0; i < to_close->len; i++) {
    conn *c = ml_srv_conn_ref(g_ptr_array_index(to_close, i));
    ML_SRV_LOG(srv, ML_LOG_INFO, "timeout_close", " conn=%s", c->id);
    ml_srv_conn_close(c, CLOSE_IDLE, "idle");
    ml_srv_conn_unref(c);
  }
  g_ptr_array_free(to_close, TRUE);
  if (w == &srv->workers[0]) {
    /* Forget idle per-address entries so the table cannot grow without bound. */
    gpointer v;
    pthread_mutex_lock(&srv->lock);
    g_hash_table_iter_init(&it, srv->ips);
    while (g_hash_table_iter_next(&it, &key, &v)) {
      ip_entry *ie = v;
      if (ie->conns == 0 && ml_ratelimit_idle(&ie->connect, now) &&
          ml_ratelimit_idle(&ie->auth_fail, now) && ml_ratelimit_idle(&ie->messages, now))
        g_hash_table_iter_remove(&it);
    }
    pthread_mutex_unlock(&srv->lock);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- HTTP (worker threads) ---- */

/* libsoup 3.2.x (Debian 12) leaks idle keep-alive connections that the client
 * closes (CLOSE_WAIT, one fd each; fixed upstream in 3.3 by d20c6601). Our
 * HTTP endpoints are tiny and polled rarely: close after every response. */
static void no_keepalive(SoupServerMessage *msg) {
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                               "close");
}

static void on_healthz(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user) {
  (void)server;
  (void)path;
  (void)query;
  worker *w = user;
  no_keepalive(msg);
  if (strcmp(soup_server_message_get_method(msg), "GET") != 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  ml_signal_server *srv = w->srv;
  pthread_mutex_lock(&srv->lock);
  bool draining = srv->draining;
  bool ready = !srv->backend->ops->ready || srv->backend->ops->ready(srv->backend);
  pthread_mutex_unlock(&srv->lock);
  const char *body = draining ? "draining\n" : ready ? "ok\n" : "backend unavailable\n";
  soup_server_message_set_status(msg, draining || !ready ? 503 : 200, NULL);
  soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, body, strlen(body));
}

static void on_metrics(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user) {
  (void)server;
  (void)path;
  (void)query;
  worker *w = user;
  ml_signal_server *srv = w->srv;
  no_keepalive(msg);
  if (strcmp(soup_server_message_get_method(msg), "GET") != 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  GString *out = g_string_new(NULL);
  pthread_mutex_lock(&srv->lock);
  ml_metrics_gauges g = {.connections = srv->n_conns,
                         .rooms = srv->backend->ops->room_count(srv->backend),
                         .peers = srv->backend->ops->peer_count(srv->backend),
                         .draining = srv->draining};
  ml_metrics_render(&srv->metrics, &g, out);
  if (srv->backend->ops->render_metrics)
    srv->backend->ops->render_metrics(srv->backend, out);
  pthread_mutex_unlock(&srv->lock);
  soup_server_message_set_status(msg, 200, NULL);
  gsize len = out->len;
  soup_server_message_set_response(msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE,
                                   g_string_free(out, FALSE), len);
}

/* ---- accepting (main context) ---- */

/* We accept connections ourselves and hand them to libsoup, instead of
 * soup_server_listen: libsoup 3.2.x (Debian 12) leaks one GSocket reference
 * per accepted connection in its listener (336 bytes each, forever), listens
 * with a backlog of 10, and accepts one connection per main-loop pass. */
typedef struct handoff {
  worker *w;
  GSocketConnection *connection;
} handoff;

static void handoff_free(gpointer p) {
  handoff *h = p;
  g_object_unref(h->connection);
  g_free(h);
}

/* Worker thread: gives the connection to this worker's SoupServer, so that
 * all of its sources attach to the worker's context. */
static gboolean serve_connection(gpointer p) {
  handoff *h = p;
  ml_signal_server *srv = h->w->srv;
  GError *err = NULL;
  GSocketConnection *connection = h->connection;
  if (g_atomic_int_get(&srv->stopping)) {
    g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
    return G_SOURCE_REMOVE;
  }
  GSocketAddress *local = g_socket_connection_get_local_address(connection, NULL);
  GSocketAddress *remote = g_socket_connection_get_remote_address(connection, NULL);
  GIOStream *stream = G_IO_STREAM(connection);
  GIOStream *tls = NULL;
  if (srv->tls_cert) {
    tls = g_tls_server_connection_new(stream, srv->tls_cert, &err);
    if (!tls) {
      ML_SRV_LOG(srv, ML_LOG_ERROR, "tls_error", " error=\"%s\"", err->message);
      g_clear_error(&err);
      g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
      goto out;
    }
    stream = tls;
  }
  if (!local || !remote || !soup_server_accept_iostream(h->w->soup, stream, local, remote, &err)) {
    ML_SRV_LOG(srv, ML_LOG_WARN, "accept_failed", " error=\"%s\"",
               err ? err->message : "no address");
    g_clear_error(&err);
    g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  }
out:
  g_clear_object(&tls);
  g_clear_object(&local);
  g_clear_object(&remote);
  return G_SOURCE_REMOVE;
}

static gboolean on_listen_ready(GSocket *sock, GIOCondition cond, gpointer user) {
  (void)cond;
  ml_signal_server *srv = user;
  for (int i = 0; i < ACCEPT_BATCH; i++) {
    GError *err = NULL;
    GSocket *s = g_socket_accept(sock, NULL, &err);
    if (!s) {
      if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        ML_SRV_LOG(srv, ML_LOG_WARN, "accept_error", " error=\"%s\"", err->message);
      g_error_free(err);
      break;
    }
    g_socket_set_option(s, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
    handoff *h = g_new(handoff, 1);
    h->w = &srv->workers[srv->next_worker++ % srv->n_workers];
    h->connection = g_socket_connection_factory_create_connection(s);
    g_object_unref(s);
    g_main_context_invoke_full(h->w->ctx, G_PRIORITY_DEFAULT, serve_connection, h, handoff_free);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- lifecycle ---- */

/* Sets up w's SoupServer and sweep timer on w->ctx. */
static void serve_on_worker(worker *w) {
  g_main_context_push_thread_default(w->ctx);
  w->soup = soup_server_new("server-header", "mentorlink-signal", NULL);
  soup_server_add_handler(w->soup, "/healthz", on_healthz, w, NULL);
  soup_server_add_handler(w->soup, "/metrics", on_metrics, w, NULL);
  soup_server_add_handler(w->soup, "/v1/ws", on_ws_request, w, NULL);
  g_main_context_pop_thread_default(w->ctx);
  w->wsl = ml_ws_loop_new(w->ctx);
  w->sweep = g_timeout_source_new(SWEEP_INTERVAL_MS);
  g_source_set_callback(w->sweep, sweep, w, NULL);
  g_source_attach(w->sweep, w->ctx);
}

int ml_signal_server_new(ml_signal_server **out, const ml_signal_config *cfg) {
  g_assert(out && cfg);
  if (sodium_init() < 0)
    return ML_ERR_CRYPTO;
  if (cfg->workers > MAX_WORKERS)
    return ML_ERR_INVALID;
  ml_signal_server *srv = g_new0(ml_signal_server, 1);
  pthread_mutex_init(&srv->lock, NULL);
  ml_signal_config_copy(&srv->cfg, cfg);
  srv->main_ctx = g_main_context_ref_thread_default();
  srv->ips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  randombytes_buf(srv->open_key, sizeof srv->open_key);
  char *why = NULL;
  int rc = cfg->backend == ML_SIGNAL_BACKEND_REDIS ? ml_backend_redis_new(&srv->backend, srv, &why)
                                                   : ml_backend_memory_new(&srv->backend, srv);
  if (rc != ML_OK) {
    ML_SRV_LOG(srv, ML_LOG_ERROR, "backend_error", " error=\"%s\"", why ? why : "?");
    g_free(why);
    ml_signal_server_free(srv);
    return rc;
  }
  *out = srv;
  return ML_OK;
}

int ml_signal_server_start(ml_signal_server *srv, char **errmsg) {
  g_assert(srv && errmsg && !srv->workers);
  *errmsg = NULL;
  GError *err = NULL;
  const ml_signal_config *cfg = &srv->cfg;
  GInetAddress *addr = g_inet_address_new_from_string(cfg->listen_host);
  if (!addr) {
    *errmsg = g_strdup_printf("listen address %s is not an IP address", cfg->listen_host);
    return ML_ERR_INVALID;
  }
  bool tls = cfg->tls_cert_file && cfg->tls_key_file;
  bool loopback = g_inet_address_get_is_loopback(addr);
  if (!tls && !loopback && !cfg->insecure_listen) {
    g_object_unref(addr);
    *errmsg = g_strdup_printf("refusing plain ws on non-loopback %s without TLS; configure "
                              "tls_cert/tls_key or pass --insecure-listen",
                              cfg->listen_host);
    return ML_ERR_PERMISSION;
  }
  if (tls) {
    srv->tls_cert = g_tls_certificate_new_from_files(cfg->tls_cert_file, cfg->tls_key_file, &err);
    if (!srv->tls_cert) {
      *errmsg = g_strdup_printf("TLS certificate: %s", err->message);
      g_error_free(err);
      g_object_unref(addr);
      return ML_ERR_IO;
    }
  }
  GSocketAddress *sa = g_inet_socket_address_new(addr, (guint16)cfg->listen_port);
  srv->listen_sock = g_socket_new(g_inet_address_get_family(addr), G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &err);
  g_object_unref(addr);
  if (srv->listen_sock) {
    g_socket_set_blocking(srv->listen_sock, FALSE);
    g_socket_set_listen_backlog(srv->listen_sock, LISTEN_BACKLOG);
  }
  if (!srv->listen_sock || !g_socket_bind(srv->listen_sock, sa, TRUE, &err) ||
      !g_socket_listen(srv->listen_sock, &err)) {
    *errmsg =
        g_strdup_printf("listen on %s:%u: %s", cfg->listen_host, cfg->listen_port, err->message);
    g_error_free(err);
    g_object_unref(sa);
    g_clear_object(&srv->listen_sock);
    g_clear_object(&srv->tls_cert);
    return ML_ERR_IO;
  }
  g_object_unref(sa);
  GSocketAddress *effective = g_socket_get_local_address(srv->listen_sock, NULL);
  if (effective) {
    srv->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
    g_object_unref(effective);
  }

  int brc = srv->backend->ops->start(srv->backend, errmsg);
  if (brc != ML_OK) {
    g_clear_object(&srv->listen_sock);
    g_clear_object(&srv->tls_cert);
    return brc;
  }
  /* Workers: threads with their own contexts, or one on the caller's. */
  ml_srv_workers_start(srv, cfg->workers, serve_on_worker);
  srv->listen_src = g_socket_create_source(srv->listen_sock, G_IO_IN, NULL);
  g_source_set_callback(srv->listen_src, (GSourceFunc)(void (*)(void))on_listen_ready, srv, NULL);
  g_source_attach(srv->listen_src, srv->main_ctx);
  ML_SRV_LOG(srv, ML_LOG_INFO, "listen", " addr=%s port=%u tls=%d open=%d workers=%u backend=%s",
             cfg->listen_host, srv->port, tls, cfg->open_mode, cfg->workers,
             srv->backend->ops->name);
  if (!tls && !loopback)
    ML_SRV_LOG(srv, ML_LOG_WARN, "insecure_listen",
               " addr=%s note=\"plain ws on a non-loopback address: tokens and signaling are "
               "readable on the network\"",
               cfg->listen_host);
  return ML_OK;
}

unsigned ml_signal_server_port(const ml_signal_server *srv) { return srv->port; }

int ml_signal_server_reload(ml_signal_server *srv, const ml_signal_config *cfg) {
  g_assert(srv && cfg);
  ml_signal_config next;
  ml_signal_config_copy(&next, cfg);
  pthread_mutex_lock(&srv->lock);
  /* Not reloadable: keep what we listen with. */
  g_free(next.listen_host);
  next.listen_host = g_strdup(srv->cfg.listen_host);
  next.listen_port = srv->cfg.listen_port;
  g_free(next.tls_cert_file);
  g_free(next.tls_key_file);
  next.tls_cert_file = g_strdup(srv->cfg.tls_cert_file);
  next.tls_key_file = g_strdup(srv->cfg.tls_key_file);
  next.insecure_listen = srv->cfg.insecure_listen;
  next.open_mode = srv->cfg.open_mode;
  next.max_rooms = srv->cfg.max_rooms;
  next.workers = srv->cfg.workers;
  next.backend = srv->cfg.backend;
  g_free(next.redis_url);
  g_free(next.redis_password);
  next.redis_url = g_strdup(srv->cfg.redis_url);
  next.redis_password = g_strdup(srv->cfg.redis_password);
  next.redis_timeout_ms = srv->cfg.redis_timeout_ms;
  next.redis_presence_ttl_ms = srv->cfg.redis_presence_ttl_ms;
  next.log_level = srv->cfg.log_level; /* a flag, not in the file */
  ml_signal_config_clear(&srv->cfg);
  srv->cfg = next;
  GHashTableIter it;
  gpointer key, v;
  g_hash_table_iter_init(&it, srv->ips);
  while (g_hash_table_iter_next(&it, &key, &v)) {
    ml_ratelimit_configure(&((ip_entry *)v)->connect, next.connect_rate, next.connect_burst);
    ml_ratelimit_configure(&((ip_entry *)v)->messages, next.ip_message_rate, next.ip_message_burst);
  }
  unsigned conns = srv->n_conns;
  pthread_mutex_unlock(&srv->lock);
  ml_srv_workers_reconfigure(srv, &next);
  ML_SRV_LOG(srv, ML_LOG_INFO, "reload", " conns=%u", conns);
  return ML_OK;
}

void ml_signal_server_free(ml_signal_server *srv) {
  if (!srv)
    return;
  g_atomic_int_set(&srv->stopping, 1);
  if (srv->listen_src) {
    g_source_destroy(srv->listen_src);
    g_source_unref(srv->listen_src);
  }
  if (srv->listen_sock) {
    g_socket_close(srv->listen_sock, NULL);
    g_clear_object(&srv->listen_sock);
  }
  if (srv->drain_timer) {
    g_source_destroy(srv->drain_timer);
    g_source_unref(srv->drain_timer);
  }
  ml_srv_workers_stop(srv);
  if (srv->drained_src) {
    g_source_destroy(srv->drained_src);
    g_source_unref(srv->drained_src);
  }
  g_hash_table_destroy(srv->ips);
  if (srv->backend)
    srv->backend->ops->free(srv->backend);
  g_clear_object(&srv->tls_cert);
  g_main_context_unref(srv->main_ctx);
  sodium_memzero(srv->open_key, sizeof srv->open_key);
  ml_signal_config_clear(&srv->cfg);
  pthread_mutex_destroy(&srv->lock);
  g_free(srv);
}
