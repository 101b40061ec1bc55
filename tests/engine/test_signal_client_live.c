/* engine.signal_client: ml_signal_client against the real signaling server
 * code (ml_signal, embedded in this process, on 127.0.0.1).
 *
 * Checks: open-mode join with a room-secret verifier; the welcome's peers and
 * ICE servers (STUN, TURN over UDP and TLS with coturn REST credentials that
 * verify as base64(HMAC-SHA1(secret, username))); presence both ways with
 * identity keys; a relayed signal; a wrong room secret is a fatal refusal
 * with no reconnect; and a client whose server goes away reconnects with
 * backoff to a new server on the same port and is welcomed again with a new
 * peer id. Every wait is bounded. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <sodium.h>

#include "ml/identity.h"
#include "ml/signal_client.h"
#include "ml/signal_server.h"
#include "check.h"

#define WAIT_MS 5000
#define TURN_SECRET "turn-test-secret-0123456789"

typedef struct client {
  const char *label;
  ml_signal_client *sc;
  uint8_t key[32];
  unsigned welcomes, joined_events, left_events, signals, errors, fatal_errors;
  char peer_id[ML_SIGNAL_MAX_PEER_ID + 1];
  ml_signal_peer welcome_peers[4];
  size_t n_welcome_peers;
  ml_signal_ice_server ice[ML_SIGNAL_MAX_ICE_SERVERS];
  size_t n_ice;
  ml_signal_peer joined;
  char left_id[ML_SIGNAL_MAX_PEER_ID + 1], left_reason[16];
  char signal_from[ML_SIGNAL_MAX_PEER_ID + 1], signal_kind[32];
  char error_code[32];
  ml_signal_client_state state;
  bool saw_reconnecting;
} client;

static void on_state(ml_signal_client_state st, void *user) {
  client *c = user;
  c->state = st;
  if (st == ML_SIGNAL_RECONNECTING)
    c->saw_reconnecting = true;
}

static void on_welcome(const ml_signal_welcome *w, void *user) {
  client *c = user;
  c->welcomes++;
  g_strlcpy(c->peer_id, w->peer_id, sizeof c->peer_id);
  c->n_welcome_peers = MIN(w->n_peers, G_N_ELEMENTS(c->welcome_peers));
  memcpy(c->welcome_peers, w->peers, c->n_welcome_peers * sizeof *w->peers);
  c->n_ice = w->n_ice;
  memcpy(c->ice, w->ice, w->n_ice * sizeof *w->ice);
}

static void on_peer_joined(const ml_signal_peer *p, void *user) {
  client *c = user;
  c->joined_events++;
  c->joined = *p;
}

static void on_peer_left(const char *id, const char *reason, void *user) {
  client *c = user;
  c->left_events++;
  g_strlcpy(c->left_id, id, sizeof c->left_id);
  g_strlcpy(c->left_reason, reason, sizeof c->left_reason);
}

static void on_signal(const char *from, JsonObject *data, void *user) {
  client *c = user;
  c->signals++;
  g_strlcpy(c->signal_from, from, sizeof c->signal_from);
  JsonNode *k = json_object_get_member(data, "kind");
  g_strlcpy(c->signal_kind, k && JSON_NODE_HOLDS_VALUE(k) ? json_node_get_string(k) : "",
            sizeof c->signal_kind);
}

static void on_error(const char *code, const char *message, bool fatal, void *user) {
  client *c = user;
  (void)message;
  c->errors++;
  if (fatal)
    c->fatal_errors++;
  g_strlcpy(c->error_code, code, sizeof c->error_code);
}

static void client_start(client *c, const char *label, unsigned port, const char *room,
                         const char *name, const char *secret) {
  memset(c, 0, sizeof *c);
  c->label = label;
  randombytes_buf(c->key, sizeof c->key);
  char verifier[45];
  if (secret && ml_signal_room_verifier(secret, room, verifier) != ML_OK)
    exit(1);
  g_autofree char *url = g_strdup_printf("ws://127.0.0.1:%u/v1/ws", port);
  ml_signal_client_config cfg = {
      .context = g_main_context_default(),
      .url = url,
      .room = room,
      .name = name,
      .secret_verifier = secret ? verifier : NULL,
      .identity_key = c->key,
      .backoff_min_ms = 100,
      .backoff_max_ms = 400,
      .callbacks = {.on_state = on_state,
                    .on_welcome = on_welcome,
                    .on_peer_joined = on_peer_joined,
                    .on_peer_left = on_peer_left,
                    .on_signal = on_signal,
                    .on_error = on_error,
                    .user = c},
  };
  if (ml_signal_client_new(&c->sc, &cfg) != ML_OK) {
    fprintf(stderr, "FAIL: ml_signal_client_new\n");
    exit(1);
  }
  ml_signal_client_start(c->sc);
}

static gboolean expire(gpointer p) {
  *(bool *)p = true;
  return G_SOURCE_REMOVE;
}

/* Iterates the default context until *flag >= want or timeout. */
static bool wait_for(const unsigned *counter, unsigned want, unsigned timeout_ms) {
  bool expired = false;
  guint t = g_timeout_add(timeout_ms, expire, &expired);
  while (*counter < want && !expired)
    g_main_context_iteration(NULL, TRUE);
  if (!expired)
    g_source_remove(t);
  return *counter >= want;
}

static ml_signal_server *server_start(unsigned port) {
  ml_signal_config cfg;
  ml_signal_config_init(&cfg);
  cfg.listen_port = port;
  cfg.open_mode = true;
  cfg.auto_admit = true;
  cfg.stun_urls = g_strsplit("stun:127.0.0.1:3478", ",", -1);
  cfg.turn_urls =
      g_strsplit("turn:127.0.0.1:3478?transport=udp,turns:[::1]:5349?transport=tcp", ",", -1);
  cfg.turn_secret = g_strdup(TURN_SECRET);
  ml_signal_server *srv = NULL;
  char *err = NULL;
  if (ml_signal_server_new(&srv, &cfg) != 0 || ml_signal_server_start(srv, &err) != 0) {
    fprintf(stderr, "FAIL: signaling server on port %u: %s\n", port, err ? err : "?");
    exit(1);
  }
  ml_signal_config_clear(&cfg);
  return srv;
}

static void check_turn(const ml_signal_ice_server *s) {
  g_autoptr(GHmac) h =
      g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)TURN_SECRET, strlen(TURN_SECRET));
  g_hmac_update(h, (const guchar *)s->username, (gssize)strlen(s->username));
  guint8 digest[20];
  gsize len = sizeof digest;
  g_hmac_get_digest(h, digest, &len);
  g_autofree char *b64 = g_base64_encode(digest, len);
  CHECK(!strcmp(b64, s->credential), "TURN credential %s is HMAC-SHA1 of %s", s->credential,
        s->username);
  CHECK(strchr(s->username, ':') != NULL, "REST username expiry:user (%s)", s->username);
}

int main(void) {
  if (sodium_init() < 0)
    return 1;
  ml_signal_server *srv = server_start(0);
  unsigned port = ml_signal_server_port(srv);

  client a, b, c;
  client_start(&a, "a", port, "ward-7", "Dr Okafor", "room secret");
  CHECK(wait_for(&a.welcomes, 1, WAIT_MS), "a welcomed");
  CHECK(a.n_welcome_peers == 0, "a is alone (%zu)", a.n_welcome_peers);
  CHECK(a.n_ice == 3, "three ICE URLs (%zu)", a.n_ice);
  if (a.n_ice == 3) {
    CHECK(a.ice[0].kind == ML_SIGNAL_ICE_STUN && !strcmp(a.ice[0].host, "127.0.0.1") &&
              a.ice[0].port == 3478,
          "STUN parsed");
    CHECK(a.ice[1].kind == ML_SIGNAL_ICE_TURN_UDP && a.ice[1].port == 3478, "TURN/UDP parsed");
    CHECK(a.ice[2].kind == ML_SIGNAL_ICE_TURN_TLS && !strcmp(a.ice[2].host, "::1") &&
              a.ice[2].port == 5349,
          "TURN/TLS parsed (%s)", a.ice[2].host);
    check_turn(&a.ice[1]);
    check_turn(&a.ice[2]);
    CHECK(g_str_has_suffix(a.ice[1].username, a.peer_id), "TURN user is the peer id");
  }

  client_start(&b, "b", port, "ward-7", "Nurse Ünal", "room secret");
  CHECK(wait_for(&b.welcomes, 1, WAIT_MS), "b welcomed");
  CHECK(b.n_welcome_peers == 1 && !strcmp(b.welcome_peers[0].id, a.peer_id) &&
            b.welcome_peers[0].host && !memcmp(b.welcome_peers[0].identity_key, a.key, 32) &&
            !strcmp(b.welcome_peers[0].name, "Dr Okafor"),
        "b's welcome lists a with its key and name");
  CHECK(wait_for(&a.joined_events, 1, WAIT_MS), "a hears b join");
  CHECK(!strcmp(a.joined.id, b.peer_id) && !memcmp(a.joined.identity_key, b.key, 32) &&
            !a.joined.host && !strcmp(a.joined.name, "Nurse Ünal"),
        "a sees b's id, key and name");

  JsonObject *data = json_object_new();
  json_object_set_string_member(data, "kind", "offer");
  CHECK(ml_signal_client_send(a.sc, b.peer_id, data) == ML_OK, "a relays to b");
  CHECK(ml_signal_client_send(a.sc, "bad id!", data) == ML_ERR_INVALID, "bad peer id refused");
  json_object_unref(data);
  CHECK(wait_for(&b.signals, 1, WAIT_MS), "b receives the signal");
  CHECK(!strcmp(b.signal_from, a.peer_id) && !strcmp(b.signal_kind, "offer"), "from a, as sent");

  /* A wrong room secret: refused for good, no reconnect. */
  client_start(&c, "c", port, "ward-7", "Intruder", "wrong secret");
  CHECK(wait_for(&c.fatal_errors, 1, WAIT_MS), "c refused");
  CHECK(!strcmp(c.error_code, "wrong_secret"), "code %s", c.error_code);
  CHECK(c.state == ML_SIGNAL_CLOSED, "c closed (state %d)", (int)c.state);
  unsigned never = 0;
  (void)wait_for(&never, 1, 600); /* longer than c's backoff: no retry may happen */
  ml_signal_client_stats st;
  ml_signal_client_get_stats(c.sc, &st);
  CHECK(st.connects == 1 && st.reconnects == 0, "no reconnect after a refusal (%llu, %llu)",
        (unsigned long long)st.connects, (unsigned long long)st.reconnects);
  ml_signal_client_free(c.sc);

  /* b leaves: a hears it. */
  ml_signal_client_leave(b.sc);
  CHECK(wait_for(&a.left_events, 1, WAIT_MS), "a hears b leave");
  CHECK(!strcmp(a.left_id, b.peer_id) && !strcmp(a.left_reason, "left"), "b left (%s)",
        a.left_reason);
  ml_signal_client_free(b.sc);

  /* The server goes; a new one comes up on the same port; a reconnects. */
  char old_id[ML_SIGNAL_MAX_PEER_ID + 1];
  g_strlcpy(old_id, a.peer_id, sizeof old_id);
  ml_signal_server_free(srv);
  srv = server_start(port);
  CHECK(wait_for(&a.welcomes, 2, WAIT_MS), "a welcomed again after the server came back");
  CHECK(a.saw_reconnecting, "a reported reconnecting");
  CHECK(strcmp(a.peer_id, old_id) != 0, "a new peer id after the reconnect");
  ml_signal_client_get_stats(a.sc, &st);
  CHECK(st.connects == 2 && st.reconnects >= 1, "connects %llu, reconnects %llu",
        (unsigned long long)st.connects, (unsigned long long)st.reconnects);
  printf("signal client: reconnected after %llu attempt(s); dropped invalid %llu\n",
         (unsigned long long)st.reconnects, (unsigned long long)st.dropped_invalid);
  CHECK(st.dropped_invalid == 0, "the real server sent nothing invalid");

  ml_signal_client_free(a.sc);
  ml_signal_server_free(srv);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("engine.signal_client: all checks passed\n");
  return 0;
}
