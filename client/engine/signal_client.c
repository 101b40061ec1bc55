/* The signaling client: libsoup-3 WebSocket, strict validation, reconnect.
 * Contract in ml/signal_client.h; wire format in docs/PROTOCOL.md ("Signaling"). */
#include "ml/signal_client.h"
#include "signal_client_internal.h"
#include "signal_failure.h"

#include <string.h>

#include <libsoup/soup.h>
#include <sodium.h>

#include "ml/json_input.h"

#define SERVER_MAX_MESSAGE 16384 /* the server's default max_message_bytes */
#define MAX_DEPTH 32
#define MAX_RETRY_AFTER_MS 60000

struct ml_signal_client {
  GMainContext *ctx;
  char **urls; /* the service's addresses; a lost or failed connection tries the next */
  unsigned n_urls, url_i;
  const char *url; /* urls[url_i] */
  char *token, *room, *name, *verifier;
  char identity_b64[64];
  unsigned backoff_min_ms, backoff_max_ms;
  ml_signal_client_callbacks cb;
  SoupSession *session;
  SoupWebsocketConnection *ws;
  GCancellable *cancel;
  GSource *retry;
  char *host; /* host[:port] of the URL, for messages */
  /* What the attempt in flight showed (signal_failure.h). */
  bool tcp_connected, tls_handshake;
  GTlsCertificateFlags cert_errors;
  bool ever_joined;
  unsigned attempt;        /* failed attempts since the last welcome */
  unsigned retry_after_ms; /* from a "shutdown" message; 0: backoff */
  ml_signal_client_state state;
  bool fatal; /* no reconnect after the current connection closes */
  ml_signal_client_stats stats;
  char peer_id[ML_SIGNAL_MAX_PEER_ID + 1]; /* ours, from the last welcome or waiting */
};

/* ---- validation helpers ---- */

static bool is_id_char(char c) { return g_ascii_isalnum(c) || c == '_' || c == '-' || c == '.'; }

bool ml_signal_valid_id(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_id_char(s[i]))
      return false;
  return true;
}

bool ml_signal_valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > ML_SIGNAL_MAX_NAME || !g_utf8_validate(s, (gssize)n, NULL))
    return false;
  for (const char *p = s; *p; p += g_utf8_skip[*(const guchar *)p])
    if (g_unichar_iscntrl(g_utf8_get_char(p)))
      return false;
  return true;
}

static bool get_key(JsonObject *o, const char *name, uint8_t out[ML_IDENTITY_PUBLIC_LEN]) {
  const char *s = ml_json_string(o, name, 44, 44);
  size_t n = 0;
  return s &&
         sodium_base642bin(out, ML_IDENTITY_PUBLIC_LEN, s, 44, NULL, &n, NULL,
                           sodium_base64_VARIANT_ORIGINAL) == 0 &&
         n == ML_IDENTITY_PUBLIC_LEN;
}

static bool parse_peer(JsonObject *o, ml_signal_peer *p, bool need_role) {
  memset(p, 0, sizeof *p);
  const char *id = ml_json_string(o, "id", 1, ML_SIGNAL_MAX_PEER_ID);
  const char *name = ml_json_string(o, "name", 1, ML_SIGNAL_MAX_NAME);
  const char *role = ml_json_string(o, "role", 1, 16);
  if (!id || !ml_signal_valid_id(id, ML_SIGNAL_MAX_PEER_ID) || !name ||
      !ml_signal_valid_name(name) || !get_key(o, "identity_key", p->identity_key))
    return false;
  if (need_role && (!role || (strcmp(role, "host") != 0 && strcmp(role, "participant") != 0)))
    return false;
  g_strlcpy(p->id, id, sizeof p->id);
  g_strlcpy(p->name, name, sizeof p->name);
  p->host = role && !strcmp(role, "host");
  return true;
}

/* "stun:HOST[:PORT]", "turn:HOST[:PORT][?transport=udp|tcp]",
 * "turns:HOST[:PORT][?transport=tcp]"; HOST may be "[v6]". */
static bool parse_ice_url(const char *url, ml_signal_ice_server *s) {
  const char *rest;
  bool turns = false;
  if (g_str_has_prefix(url, "stun:")) {
    s->kind = ML_SIGNAL_ICE_STUN;
    rest = url + 5;
  } else if (g_str_has_prefix(url, "turn:")) {
    s->kind = ML_SIGNAL_ICE_TURN_UDP;
    rest = url + 5;
  } else if (g_str_has_prefix(url, "turns:")) {
    s->kind = ML_SIGNAL_ICE_TURN_TLS;
    rest = url + 6;
    turns = true;
  } else {
    return false;
  }
  const char *q = strchr(rest, '?');
  size_t hp_len = q ? (size_t)(q - rest) : strlen(rest);
  if (q) {
    if (s->kind == ML_SIGNAL_ICE_STUN)
      return false;
    if (!strcmp(q, "?transport=tcp"))
      s->kind = turns ? ML_SIGNAL_ICE_TURN_TLS : ML_SIGNAL_ICE_TURN_TCP;
    else if (!strcmp(q, "?transport=udp") && !turns)
      s->kind = ML_SIGNAL_ICE_TURN_UDP;
    else
      return false;
  }
  const char *host = rest, *port = NULL;
  size_t host_len;
  if (hp_len > 0 && rest[0] == '[') {
    const char *close = memchr(rest, ']', hp_len);
    if (!close)
      return false;
    host = rest + 1;
    host_len = (size_t)(close - host);
    if ((size_t)(close + 1 - rest) < hp_len) {
      if (close[1] != ':')
        return false;
      port = close + 2;
    }
  } else {
    const char *colon = memchr(rest, ':', hp_len);
    host_len = colon ? (size_t)(colon - rest) : hp_len;
    if (colon)
      port = colon + 1;
  }
  if (host_len == 0 || host_len > ML_SIGNAL_MAX_HOST)
    return false;
  for (size_t i = 0; i < host_len; i++)
    if (!(g_ascii_isalnum(host[i]) || host[i] == '.' || host[i] == '-' || host[i] == ':'))
      return false;
  memcpy(s->host, host, host_len);
  s->host[host_len] = '\0';
  s->port = turns ? 5349 : 3478;
  if (port) {
    size_t plen = (size_t)(rest + hp_len - port);
    unsigned v = 0;
    if (plen == 0 || plen > 5)
      return false;
    for (size_t i = 0; i < plen; i++) {
      if (!g_ascii_isdigit(port[i]))
        return false;
      v = v * 10 + (unsigned)(port[i] - '0');
    }
    if (v == 0 || v > 65535)
      return false;
    s->port = (uint16_t)v;
  }
  return true;
}

/* ---- sending ---- */

static int send_node(ml_signal_client *sc, JsonNode *root) {
  if (sc->ws == NULL || soup_websocket_connection_get_state(sc->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return ML_ERR_STATE;
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  gsize len = 0;
  g_autofree char *text = json_generator_to_data(gen, &len);
  if (len > SERVER_MAX_MESSAGE)
    return ML_ERR_TOO_BIG;
  soup_websocket_connection_send_text(sc->ws, text);
  sc->stats.messages_out++;
  return ML_OK;
}

static void send_join(ml_signal_client *sc) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "v");
  json_builder_add_int_value(b, 1);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "join");
  if (sc->token) {
    json_builder_set_member_name(b, "token");
    json_builder_add_string_value(b, sc->token);
  } else {
    json_builder_set_member_name(b, "room");
    json_builder_add_string_value(b, sc->room);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, sc->name);
    if (sc->verifier) {
      json_builder_set_member_name(b, "secret");
      json_builder_add_string_value(b, sc->verifier);
    }
  }
  json_builder_set_member_name(b, "identity_key");
  json_builder_add_string_value(b, sc->identity_b64);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  (void)send_node(sc, root); /* only fails if the socket closed: on_closed follows */
}

int ml_signal_client_send(ml_signal_client *sc, const char *to, JsonObject *data) {
  g_assert(sc != NULL && to != NULL && data != NULL);
  if (sc->state != ML_SIGNAL_JOINED)
    return ML_ERR_STATE;
  if (!ml_signal_valid_id(to, ML_SIGNAL_MAX_PEER_ID))
    return ML_ERR_INVALID;
  g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "v", 1);
  json_object_set_string_member(o, "type", "signal");
  json_object_set_string_member(o, "to", to);
  json_object_set_object_member(o, "data", json_object_ref(data));
  json_node_take_object(root, o);
  return send_node(sc, root);
}

int ml_signal_client_host_action(ml_signal_client *sc, const char *type, const char *peer_id,
                                 bool flag) {
  g_assert(sc != NULL && type != NULL);
  bool with_peer = !strcmp(type, "admit") || !strcmp(type, "deny") || !strcmp(type, "remove") ||
                   !strcmp(type, "make_host");
  bool is_lock = !strcmp(type, "lock");
  if (!with_peer && !is_lock && strcmp(type, "end") != 0)
    return ML_ERR_INVALID;
  if (sc->state != ML_SIGNAL_JOINED)
    return ML_ERR_STATE;
  if (with_peer && (!peer_id || !ml_signal_valid_id(peer_id, ML_SIGNAL_MAX_PEER_ID)))
    return ML_ERR_INVALID;
  g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "v", 1);
  json_object_set_string_member(o, "type", type);
  if (with_peer)
    json_object_set_string_member(o, "peer", peer_id);
  if (is_lock)
    json_object_set_boolean_member(o, "locked", flag);
  json_node_take_object(root, o);
  return send_node(sc, root);
}

int ml_signal_client_admit(ml_signal_client *sc, const char *peer_id) {
  g_assert(sc != NULL && peer_id != NULL);
  return ml_signal_client_host_action(sc, "admit", peer_id, false);
}

/* ---- state ---- */

static void set_state(ml_signal_client *sc, ml_signal_client_state st) {
  if (sc->state == st)
    return;
  sc->state = st;
  if (sc->cb.on_state)
    sc->cb.on_state(st, sc->cb.user);
}

static void report_error(ml_signal_client *sc, const char *code, const char *msg, bool fatal) {
  if (sc->cb.on_error)
    sc->cb.on_error(code, msg, fatal, sc->cb.user);
}

static gboolean unref_later(gpointer ws) {
  g_object_unref(ws);
  return G_SOURCE_REMOVE;
}

/* Forgets the connection. The last reference goes from an idle source: this
 * may run inside one of the connection's own signal handlers. */
static void drop_ws(ml_signal_client *sc) {
  if (sc->ws == NULL)
    return;
  g_signal_handlers_disconnect_by_data(sc->ws, sc);
  if (soup_websocket_connection_get_state(sc->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(sc->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  GSource *s = g_idle_source_new();
  g_source_set_callback(s, unref_later, sc->ws, NULL);
  g_source_attach(s, sc->ctx);
  g_source_unref(s);
  sc->ws = NULL;
}

static void connect_now(ml_signal_client *sc);

/* The address the next attempt goes to, and its host[:port] for messages. */
static void use_url(ml_signal_client *sc, unsigned i) {
  sc->url_i = i;
  sc->url = sc->urls[i];
  g_free(sc->host);
  g_autoptr(GUri) uri = g_uri_parse(sc->url, G_URI_FLAGS_NONE, NULL);
  sc->host = uri && g_uri_get_host(uri)
                 ? (g_uri_get_port(uri) > 0
                        ? g_strdup_printf("%s:%d", g_uri_get_host(uri), g_uri_get_port(uri))
                        : g_strdup(g_uri_get_host(uri)))
                 : g_strdup("the server");
}

/* Drops a pending reconnect timer, if any. */
static void cancel_retry(ml_signal_client *sc) {
  if (sc->retry) {
    g_source_destroy(sc->retry);
    g_source_unref(sc->retry);
    sc->retry = NULL;
  }
}

static gboolean on_retry(gpointer user) {
  ml_signal_client *sc = user;
  g_source_unref(sc->retry);
  sc->retry = NULL;
  sc->stats.reconnects++;
  connect_now(sc);
  return G_SOURCE_REMOVE;
}

/* The wait before the next attempt: the server's retry_after_ms after a
 * "shutdown", else the backoff of signal_failure.h. */
static unsigned next_delay_ms(ml_signal_client *sc) {
  unsigned delay = sc->retry_after_ms;
  sc->retry_after_ms = 0;
  if (!delay)
    delay = ml_signal_backoff_ms(sc->attempt, sc->backoff_min_ms, sc->backoff_max_ms,
                                 g_random_double_range(0.75, 1.25));
  return delay;
}

/* Closes for good after an error that another attempt cannot mend. */
static void give_up(ml_signal_client *sc, const char *code, const char *text) {
  drop_ws(sc);
  sc->fatal = true;
  cancel_retry(sc);
  report_error(sc, code, text, true);
  set_state(sc, ML_SIGNAL_CLOSED);
}

/* After a lost connection or a failed attempt (what, NULL for a close we
 * asked for): says so with the wait and the attempt count, then tries again
 * after the wait; before the first welcome, gives up after
 * ML_SIGNAL_MAX_ATTEMPTS. */
static void schedule_reconnect(ml_signal_client *sc, const char *code, const char *what) {
  drop_ws(sc);
  if (sc->fatal) {
    set_state(sc, ML_SIGNAL_CLOSED);
    return;
  }
  unsigned delay = next_delay_ms(sc); /* 0.5 s after the first failure, then doubling */
  sc->attempt++;
  if (!sc->ever_joined && sc->attempt >= ML_SIGNAL_MAX_ATTEMPTS) {
    g_autofree char *text =
        g_strdup_printf("%s; gave up after %u attempts", what ? what : code, sc->attempt);
    give_up(sc, code, text);
    return;
  }
  if (what) {
    g_autofree char *limit =
        sc->ever_joined ? g_strdup("") : g_strdup_printf(" of %u", ML_SIGNAL_MAX_ATTEMPTS);
    g_autofree char *text = g_strdup_printf("%s; retrying in %.1f s (attempt %u%s)", what,
                                            delay / 1000.0, sc->attempt + 1, limit);
    report_error(sc, code, text, false);
  }
  set_state(sc, ML_SIGNAL_RECONNECTING);
  use_url(sc, (sc->url_i + 1) % sc->n_urls);
  cancel_retry(sc); /* a second "shutdown" replaces the first one's timer */
  sc->retry = g_timeout_source_new(delay);
  g_source_set_callback(sc->retry, on_retry, sc, NULL);
  g_source_attach(sc->retry, sc->ctx);
}

/* ---- receiving ---- */

static void handle_welcome(ml_signal_client *sc, JsonObject *o) {
  ml_signal_welcome w;
  memset(&w, 0, sizeof w);
  const char *peer_id = ml_json_string(o, "peer_id", 1, ML_SIGNAL_MAX_PEER_ID);
  const char *room = ml_json_string(o, "room", 1, ML_SIGNAL_MAX_ROOM);
  const char *role = ml_json_string(o, "role", 1, 16);
  const char *name = ml_json_string(o, "name", 1, ML_SIGNAL_MAX_NAME);
  JsonArray *pa = NULL, *ia = NULL;
  ml_json_err ice = ml_json_get_array(o, "ice_servers", G_MAXUINT, &ia); /* optional */
  if (!peer_id || !ml_signal_valid_id(peer_id, ML_SIGNAL_MAX_PEER_ID) || !room ||
      !ml_signal_valid_id(room, ML_SIGNAL_MAX_ROOM) || !role ||
      (strcmp(role, "host") != 0 && strcmp(role, "participant") != 0) || !name ||
      !ml_signal_valid_name(name) ||
      ml_json_get_array(o, "peers", ML_SIGNAL_MAX_PEERS, &pa) != ML_JSON_OK ||
      (ice != ML_JSON_OK && ice != ML_JSON_E_MISSING)) {
    sc->stats.dropped_invalid++;
    return;
  }
  g_strlcpy(w.peer_id, peer_id, sizeof w.peer_id);
  g_strlcpy(sc->peer_id, peer_id, sizeof sc->peer_id);
  g_strlcpy(w.room, room, sizeof w.room);
  g_strlcpy(w.name, name, sizeof w.name);
  w.host = !strcmp(role, "host");
  guint np = json_array_get_length(pa);
  g_autofree ml_signal_peer *plist = g_new0(ml_signal_peer, np ? np : 1);
  for (guint i = 0; i < np; i++) {
    JsonNode *e = json_array_get_element(pa, i);
    if (!JSON_NODE_HOLDS_OBJECT(e) || !parse_peer(json_node_get_object(e), &plist[i], true) ||
        !strcmp(plist[i].id, peer_id)) {
      sc->stats.dropped_invalid++;
      return;
    }
  }
  /* ICE servers: keep what parses, at most ML_SIGNAL_MAX_ICE_SERVERS URLs. */
  g_autofree ml_signal_ice_server *servers =
      g_new0(ml_signal_ice_server, ML_SIGNAL_MAX_ICE_SERVERS);
  size_t ns = 0;
  for (guint i = 0; ia && i < json_array_get_length(ia) && i < ML_SIGNAL_MAX_ICE_SERVERS; i++) {
    JsonNode *e = json_array_get_element(ia, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *so = json_node_get_object(e);
    JsonArray *ua = NULL;
    if (ml_json_get_array(so, "urls", G_MAXUINT, &ua) != ML_JSON_OK)
      continue;
    const char *user = ml_json_string(so, "username", 1, ML_SIGNAL_MAX_CREDENTIAL);
    const char *cred = ml_json_string(so, "credential", 1, ML_SIGNAL_MAX_CREDENTIAL);
    for (guint u = 0; u < json_array_get_length(ua) && ns < ML_SIGNAL_MAX_ICE_SERVERS; u++) {
      JsonNode *un = json_array_get_element(ua, u);
      if (JSON_NODE_TYPE(un) != JSON_NODE_VALUE || json_node_get_value_type(un) != G_TYPE_STRING)
        continue;
      const char *url = json_node_get_string(un);
      ml_signal_ice_server *s = &servers[ns];
      memset(s, 0, sizeof *s);
      if (strlen(url) > 300 || !parse_ice_url(url, s))
        continue;
      if (s->kind != ML_SIGNAL_ICE_STUN) {
        if (!user || !cred)
          continue; /* TURN needs credentials */
        g_strlcpy(s->username, user, sizeof s->username);
        g_strlcpy(s->credential, cred, sizeof s->credential);
      }
      ns++;
    }
  }
  w.peers = plist;
  w.n_peers = np;
  w.ice = servers;
  w.n_ice = ns;
  sc->attempt = 0;
  sc->ever_joined = true;
  set_state(sc, ML_SIGNAL_JOINED);
  if (sc->cb.on_welcome)
    sc->cb.on_welcome(&w, sc->cb.user);
  sodium_memzero(servers, sizeof *servers * ML_SIGNAL_MAX_ICE_SERVERS);
}

static bool join_refusal(const char *code) {
  static const char *const fatal[] = {"unauthorized", "token_expired", "token_not_yet_valid",
                                      "wrong_secret", "room_locked",   "room_full",
                                      "waiting_full", "bad_field",     "already_joined"};
  for (size_t i = 0; i < G_N_ELEMENTS(fatal); i++)
    if (!strcmp(code, fatal[i]))
      return true;
  return false;
}

static void handle_error(ml_signal_client *sc, JsonObject *o) {
  const char *code = ml_json_string(o, "code", 1, 32);
  const char *msg = ml_json_string(o, "message", 0, 256);
  const char *ref = ml_json_string(o, "ref", 0, 32);
  if (!code || !ml_signal_valid_id(code, 32)) {
    sc->stats.dropped_invalid++;
    return;
  }
  g_autofree char *clean = g_strdup(msg ? msg : "");
  if (!g_utf8_validate(clean, -1, NULL))
    clean[0] = '\0';
  for (char *p = clean; *p; p++)
    if ((unsigned char)*p < 0x20)
      *p = ' ';
  bool fatal = ref && !strcmp(ref, "join") && join_refusal(code) && sc->state != ML_SIGNAL_JOINED;
  if (fatal) { /* the join was refused: close for good, no reconnect */
    sc->fatal = true;
    drop_ws(sc);
    set_state(sc, ML_SIGNAL_CLOSED);
  }
  /* The server cannot tell a missing room secret from a wrong one; we can. */
  if (!strcmp(code, "wrong_secret"))
    report_error(sc, code,
                 sc->verifier ? "the room secret is not this room's: check it with the host"
                              : "this room has a room secret: give it with --room-secret or "
                                "MENTORLINK_ROOM_SECRET",
                 fatal);
  else
    report_error(sc, code, clean, fatal);
}

static void dispatch(ml_signal_client *sc, JsonObject *o) {
  int64_t v = 0;
  const char *type = ml_json_string(o, "type", 1, 32);
  if (ml_json_get_int(o, "v", 1, 1, &v) != ML_JSON_OK || !type) {
    sc->stats.dropped_invalid++;
    return;
  }
  if (!strcmp(type, "welcome")) {
    handle_welcome(sc, o);
  } else if (!strcmp(type, "waiting")) {
    const char *id = ml_json_string(o, "peer_id", 1, ML_SIGNAL_MAX_PEER_ID);
    g_strlcpy(sc->peer_id, id && ml_signal_valid_id(id, ML_SIGNAL_MAX_PEER_ID) ? id : "",
              sizeof sc->peer_id);
    set_state(sc, ML_SIGNAL_WAITING);
  } else if (!strcmp(type, "peer_joined")) {
    JsonObject *po = NULL;
    ml_signal_peer p;
    if (sc->state != ML_SIGNAL_JOINED || ml_json_get_object(o, "peer", &po) != ML_JSON_OK ||
        !parse_peer(po, &p, true)) {
      sc->stats.dropped_invalid++;
      return;
    }
    if (sc->cb.on_peer_joined)
      sc->cb.on_peer_joined(&p, sc->cb.user);
  } else if (!strcmp(type, "knock")) {
    JsonObject *po = NULL;
    ml_signal_peer p;
    if (sc->state != ML_SIGNAL_JOINED || ml_json_get_object(o, "peer", &po) != ML_JSON_OK ||
        !parse_peer(po, &p, false)) {
      sc->stats.dropped_invalid++;
      return;
    }
    p.host = false;
    if (sc->cb.on_knock)
      sc->cb.on_knock(&p, sc->cb.user);
  } else if (!strcmp(type, "peer_left")) {
    const char *id = ml_json_string(o, "peer", 1, ML_SIGNAL_MAX_PEER_ID);
    const char *reason = ml_json_string(o, "reason", 1, 16);
    if (!id || !ml_signal_valid_id(id, ML_SIGNAL_MAX_PEER_ID) || !reason ||
        (strcmp(reason, "left") != 0 && strcmp(reason, "disconnected") != 0 &&
         strcmp(reason, "removed") != 0 && strcmp(reason, "denied") != 0)) {
      sc->stats.dropped_invalid++;
      return;
    }
    if (sc->cb.on_peer_left)
      sc->cb.on_peer_left(id, reason, sc->cb.user);
  } else if (!strcmp(type, "signal")) {
    const char *from = ml_json_string(o, "from", 1, ML_SIGNAL_MAX_PEER_ID);
    JsonObject *data = NULL;
    if (sc->state != ML_SIGNAL_JOINED || !from ||
        !ml_signal_valid_id(from, ML_SIGNAL_MAX_PEER_ID) ||
        ml_json_get_object(o, "data", &data) != ML_JSON_OK) {
      sc->stats.dropped_invalid++;
      return;
    }
    if (sc->cb.on_signal)
      sc->cb.on_signal(from, data, sc->cb.user);
  } else if (!strcmp(type, "error")) {
    handle_error(sc, o);
  } else if (!strcmp(type, "shutdown")) {
    int64_t after = 0;
    if (ml_json_get_int(o, "retry_after_ms", 0, MAX_RETRY_AFTER_MS, &after) == ML_JSON_OK)
      sc->retry_after_ms = (unsigned)after;
    else
      sc->retry_after_ms = sc->backoff_min_ms;
    /* The server is draining: go now rather than wait for its close, and
     * come back after the delay it asked for (another instance, or it). */
    if (!sc->fatal)
      schedule_reconnect(sc, "shutdown", "the signaling server is shutting down");
  } else if (!strcmp(type, "removed")) {
    sc->fatal = true;
    report_error(sc, "removed", "a host removed you from the room", true);
  } else if (!strcmp(type, "denied")) {
    sc->fatal = true;
    report_error(sc, "denied", "a host did not let you in", true);
  } else if (!strcmp(type, "room_closed")) {
    const char *reason = ml_json_string(o, "reason", 1, 16);
    bool ended = reason && !strcmp(reason, "ended");
    sc->fatal = true;
    report_error(sc, ended ? "room_ended" : "room_closed",
                 ended ? "the host ended the session for everyone"
                       : "the host left and the room closed",
                 true);
  } else if (!strcmp(type, "room_state")) {
    bool locked = false;
    const char *by = ml_json_string(o, "by", 0, ML_SIGNAL_MAX_PEER_ID);
    if (sc->state != ML_SIGNAL_JOINED || ml_json_get_bool(o, "locked", &locked) != ML_JSON_OK) {
      sc->stats.dropped_invalid++;
      return;
    }
    if (sc->cb.on_room_state)
      sc->cb.on_room_state(locked, by && ml_signal_valid_id(by, ML_SIGNAL_MAX_PEER_ID) ? by : "",
                           sc->cb.user);
  } else if (!strcmp(type, "role_changed")) {
    const char *id = ml_json_string(o, "peer", 1, ML_SIGNAL_MAX_PEER_ID);
    const char *role = ml_json_string(o, "role", 1, 16);
    const char *reason = ml_json_string(o, "reason", 0, 16);
    if (sc->state != ML_SIGNAL_JOINED || !id || !ml_signal_valid_id(id, ML_SIGNAL_MAX_PEER_ID) ||
        !role || (strcmp(role, "host") != 0 && strcmp(role, "participant") != 0)) {
      sc->stats.dropped_invalid++;
      return;
    }
    if (sc->cb.on_role_changed)
      sc->cb.on_role_changed(id, !strcmp(role, "host"),
                             reason && ml_signal_valid_id(reason, 16) ? reason : "", sc->cb.user);
  } else if (!strcmp(type, "join_failed")) {
    const char *name = ml_json_string(o, "name", 0, ML_SIGNAL_MAX_NAME);
    const char *reason = ml_json_string(o, "reason", 1, 32);
    if (sc->state != ML_SIGNAL_JOINED || !reason || !ml_signal_valid_id(reason, 32) ||
        (name && name[0] && !ml_signal_valid_name(name))) {
      sc->stats.dropped_invalid++;
      return;
    }
    if (sc->cb.on_join_failed)
      sc->cb.on_join_failed(name ? name : "", reason, sc->cb.user);
  } else if (!strcmp(type, "pong")) {
  } else {
    sc->stats.dropped_invalid++;
  }
}

static void on_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user) {
  (void)ws;
  ml_signal_client *sc = user;
  gsize len = 0;
  const char *data = g_bytes_get_data(message, &len);
  sc->stats.messages_in++;
  static const ml_json_limits limits = {.max_bytes = ML_SIGNAL_CLIENT_MAX_MESSAGE,
                                        .max_depth = MAX_DEPTH};
  JsonObject *o = NULL;
  if (type != SOUP_WEBSOCKET_DATA_TEXT || ml_json_parse(data, len, &limits, &o) != ML_JSON_OK) {
    sc->stats.dropped_invalid++;
    return;
  }
  dispatch(sc, o);
  json_object_unref(o);
}

void ml_signal_client_test_receive(ml_signal_client *sc, const char *data, size_t len, bool text) {
  if (sc->state == ML_SIGNAL_CLOSED && !sc->fatal)
    sc->state = ML_SIGNAL_JOINING;
  GBytes *b = g_bytes_new(data, len);
  on_ws_message(NULL, text ? SOUP_WEBSOCKET_DATA_TEXT : SOUP_WEBSOCKET_DATA_BINARY, b, sc);
  g_bytes_unref(b);
}

static void on_ws_closed(SoupWebsocketConnection *ws, gpointer user) {
  ml_signal_client *sc = user;
  gushort code = soup_websocket_connection_get_close_code(ws);
  /* 4001 removed, 4002 denied, 4003 room closed, 4004 left: final. */
  if (code >= 4001 && code <= 4004)
    sc->fatal = true;
  schedule_reconnect(sc, "closed", sc->fatal ? NULL : "the signaling connection closed");
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer user) {
  g_autoptr(GError) err = NULL;
  SoupWebsocketConnection *ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &err);
  if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the client is being freed: user is gone */
  ml_signal_client *sc = user;
  SoupMessage *msg = g_object_get_data(src, "ml-attempt");
  if (ws == NULL) {
    ml_signal_attempt a = {
        .tls = g_str_has_prefix(sc->url, "wss://"),
        .ever_joined = sc->ever_joined,
        .tcp_connected = sc->tcp_connected,
        .tls_handshake = sc->tls_handshake,
        .http_status = msg ? soup_message_get_status(msg) : 0,
        .http_reason = msg ? soup_message_get_reason_phrase(msg) : NULL,
        .cert_errors = sc->cert_errors,
        .error = err,
        .host = sc->host,
    };
    ml_signal_failure f;
    ml_signal_failure_classify(&a, &f);
    g_object_set_data(src, "ml-attempt", NULL);
    if (f.retry)
      schedule_reconnect(sc, f.code, f.text);
    else
      give_up(sc, f.code, f.text);
    return;
  }
  g_object_set_data(src, "ml-attempt", NULL);
  sc->ws = ws;
  sc->stats.connects++;
  soup_websocket_connection_set_max_incoming_payload_size(ws, ML_SIGNAL_CLIENT_MAX_MESSAGE);
  g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), sc);
  g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), sc);
  set_state(sc, ML_SIGNAL_JOINING);
  send_join(sc);
}

/* What the attempt reached, for the verdict if it fails. */
static void on_network_event(SoupMessage *msg, GSocketClientEvent event, GIOStream *conn,
                             gpointer user) {
  (void)msg;
  (void)conn;
  ml_signal_client *sc = user;
  if (event == G_SOCKET_CLIENT_CONNECTED)
    sc->tcp_connected = true;
  else if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    sc->tls_handshake = true;
}

/* Only certificates the system store (or ca_file) vouches for are taken;
 * this records why one was not. */
static gboolean on_accept_certificate(SoupMessage *msg, GTlsCertificate *cert,
                                      GTlsCertificateFlags errors, gpointer user) {
  (void)msg;
  (void)cert;
  ml_signal_client *sc = user;
  sc->cert_errors = errors;
  return FALSE;
}

static void connect_now(ml_signal_client *sc) {
  SoupMessage *msg = soup_message_new("GET", sc->url);
  if (msg == NULL) {
    give_up(sc, "bad_url", "the server URL does not parse");
    return;
  }
  sc->tcp_connected = sc->tls_handshake = false;
  sc->cert_errors = 0;
  g_signal_connect(msg, "network-event", G_CALLBACK(on_network_event), sc);
  g_signal_connect(msg, "accept-certificate", G_CALLBACK(on_accept_certificate), sc);
  /* The session holds the attempt's message until on_connected reads its status. */
  g_object_set_data_full(G_OBJECT(sc->session), "ml-attempt", g_object_ref(msg), g_object_unref);
  set_state(sc, ML_SIGNAL_CONNECTING);
  soup_session_websocket_connect_async(sc->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, sc->cancel,
                                       on_connected, sc);
  g_object_unref(msg);
}

/* ---- lifecycle ---- */

int ml_signal_client_new(ml_signal_client **out, const ml_signal_client_config *cfg) {
  g_assert(out != NULL && cfg != NULL && cfg->context != NULL);
  if (!cfg->url || !cfg->identity_key)
    return ML_ERR_INVALID;
  g_auto(GStrv) urls = g_strsplit(cfg->url, ",", ML_SIGNAL_MAX_URLS + 1);
  unsigned n_urls = g_strv_length(urls);
  if (n_urls == 0 || n_urls > ML_SIGNAL_MAX_URLS)
    return ML_ERR_INVALID;
  for (unsigned i = 0; i < n_urls; i++) {
    g_strstrip(urls[i]);
    if (!(g_str_has_prefix(urls[i], "ws://") || g_str_has_prefix(urls[i], "wss://")))
      return ML_ERR_INVALID;
  }
  if ((cfg->token != NULL) == (cfg->room != NULL))
    return ML_ERR_INVALID;
  if (cfg->token && (strlen(cfg->token) == 0 || strlen(cfg->token) > 1024))
    return ML_ERR_INVALID;
  if (cfg->room && (!ml_signal_valid_id(cfg->room, ML_SIGNAL_MAX_ROOM) || !cfg->name ||
                    !ml_signal_valid_name(cfg->name)))
    return ML_ERR_INVALID;
  if (cfg->secret_verifier &&
      (strlen(cfg->secret_verifier) == 0 || strlen(cfg->secret_verifier) > 256))
    return ML_ERR_INVALID;
  g_autoptr(GTlsDatabase) ca = NULL;
  if (cfg->ca_file && !(ca = g_tls_file_database_new(cfg->ca_file, NULL)))
    return ML_ERR_IO;
  ml_signal_client *sc = g_new0(ml_signal_client, 1);
  sc->ctx = g_main_context_ref(cfg->context);
  sc->urls = g_steal_pointer(&urls);
  sc->n_urls = n_urls;
  use_url(sc, 0);
  sc->token = g_strdup(cfg->token);
  sc->room = g_strdup(cfg->room);
  sc->name = g_strdup(cfg->name);
  sc->verifier = g_strdup(cfg->secret_verifier);
  sodium_bin2base64(sc->identity_b64, sizeof sc->identity_b64, cfg->identity_key,
                    ML_IDENTITY_PUBLIC_LEN, sodium_base64_VARIANT_ORIGINAL);
  sc->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : ML_SIGNAL_BACKOFF_MIN_MS;
  sc->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : ML_SIGNAL_BACKOFF_MAX_MS;
  if (sc->backoff_max_ms < sc->backoff_min_ms)
    sc->backoff_max_ms = sc->backoff_min_ms;
  sc->cb = cfg->callbacks;
  sc->session = soup_session_new_with_options("timeout", 15, "idle-timeout", 60, NULL);
  if (ca)
    soup_session_set_tls_database(sc->session, ca);
  sc->cancel = g_cancellable_new();
  sc->state = ML_SIGNAL_CLOSED; /* until started */
  *out = sc;
  return ML_OK;
}

void ml_signal_client_start(ml_signal_client *sc) {
  g_assert(sc != NULL && !sc->fatal);
  connect_now(sc);
}

void ml_signal_client_leave(ml_signal_client *sc) {
  g_assert(sc != NULL);
  sc->fatal = true;
  cancel_retry(sc);
  g_cancellable_cancel(sc->cancel);
  if (sc->ws && soup_websocket_connection_get_state(sc->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "v", 1);
    json_object_set_string_member(o, "type", "leave");
    json_node_take_object(root, o);
    (void)send_node(sc, root);
  }
  drop_ws(sc);
  set_state(sc, ML_SIGNAL_CLOSED);
}

ml_signal_client_state ml_signal_client_get_state(const ml_signal_client *sc) { return sc->state; }

const char *ml_signal_client_peer_id(const ml_signal_client *sc) { return sc->peer_id; }

void ml_signal_client_get_stats(const ml_signal_client *sc, ml_signal_client_stats *out) {
  *out = sc->stats;
}

int ml_signal_room_verifier(const char *secret, const char *room, char out[45]) {
  static const char label[] = "mentorlink room verifier";
  size_t n = strlen(secret);
  if (n == 0 || n > crypto_generichash_KEYBYTES_MAX)
    return ML_ERR_INVALID;
  uint8_t h[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, (const uint8_t *)secret, n, sizeof h);
  crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
  crypto_generichash_update(&st, (const uint8_t *)room, strlen(room));
  crypto_generichash_final(&st, h, sizeof h);
  sodium_bin2base64(out, 45, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(&st, sizeof st);
  return ML_OK;
}

int ml_signal_room_psk(const char *secret, const char *room, uint8_t out[32]) {
  static const char label[] = "mentorlink room psk";
  uint8_t salt[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof salt);
  crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
  crypto_generichash_update(&st, (const uint8_t *)room, strlen(room));
  crypto_generichash_final(&st, salt, sizeof salt);
  G_STATIC_ASSERT(crypto_pwhash_SALTBYTES == 16);
  if (crypto_pwhash(out, 32, secret, strlen(secret), salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                    crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return ML_ERR_NOMEM;
  return ML_OK;
}

void ml_signal_client_free(ml_signal_client *sc) {
  if (sc == NULL)
    return;
  cancel_retry(sc);
  g_cancellable_cancel(sc->cancel);
  drop_ws(sc);
  /* Let the cancelled connect finish (its callback sees CANCELLED). */
  while (g_main_context_iteration(sc->ctx, FALSE))
    ;
  g_object_unref(sc->cancel);
  g_object_unref(sc->session);
  g_main_context_unref(sc->ctx);
  g_strfreev(sc->urls);
  if (sc->token)
    sodium_memzero(sc->token, strlen(sc->token));
  g_free(sc->token);
  g_free(sc->room);
  g_free(sc->name);
  g_free(sc->verifier);
  g_free(sc->host);
  g_free(sc);
}
