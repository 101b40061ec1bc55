/* Integration tests: the real mentorlink-signal process over real WebSockets on
 * 127.0.0.1. One scenario per run (argv[1]); ctest registers each. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "ml/signal_server.h"
#include "sigclient.h"

#define AUTO "[rooms]\nauto_admit = true\n"

static void open_join(sig_client *c, const char *room, const char *name, const char *secret);

static JsonNode *expect(sig_client *c, const char *type) {
  JsonNode *n = sig_client_wait(c, type, WAIT_MS);
  if (!n)
    fprintf(stderr, "expected a %s message\n", type);
  CHECK(n != NULL);
  return n;
}

static JsonArray *arr(JsonNode *n, const char *key) {
  return json_object_get_array_member(obj(n), key);
}

static void drop(JsonNode *n) {
  if (n)
    json_node_unref(n);
}

/* join + presence: names, roles and identity keys reach everyone; leave is seen. */
static void t_join_presence(void) {
  sig_server s;
  sig_server_start(&s,
                   "[rooms]\nauto_admit = true\n[ice]\nstun = stun:127.0.0.1:3478\n"
                   "turn = turn:127.0.0.1:3478?transport=udp\nturn_secret = t0p\n",
                   NULL);
  sig_client *h = sig_client_connect(&s), *p = sig_client_connect(&s);
  JsonNode *w = sig_client_join(h, "ward7", "host", "Dr Host", NULL);
  CHECK(!strcmp(obj_str(w, "role"), "host"));
  CHECK(!strcmp(obj_str(w, "room"), "ward7"));
  CHECK(json_array_get_length(arr(w, "peers")) == 0);
  JsonArray *ice = arr(w, "ice_servers");
  CHECK(ice && json_array_get_length(ice) == 2);
  JsonObject *turn = json_array_get_object_element(ice, 1);
  const char *user = json_object_get_string_member(turn, "username");
  CHECK(user && strchr(user, ':') && json_object_get_string_member(turn, "credential"));
  drop(w);

  w = sig_client_join(p, "ward7", "participant", "Nurse Ünal", NULL);
  CHECK(!strcmp(obj_str(w, "role"), "participant"));
  JsonArray *peers = arr(w, "peers");
  CHECK(json_array_get_length(peers) == 1);
  JsonObject *hp = json_array_get_object_element(peers, 0);
  CHECK(!strcmp(json_object_get_string_member(hp, "name"), "Dr Host"));
  CHECK(!strcmp(json_object_get_string_member(hp, "role"), "host"));
  CHECK(!strcmp(json_object_get_string_member(hp, "id"), h->peer_id));
  char *k1 = sig_identity_key(1);
  CHECK(!strcmp(json_object_get_string_member(hp, "identity_key"), k1));
  g_free(k1);
  drop(w);

  JsonNode *j = expect(h, "peer_joined");
  JsonObject *pp = json_object_get_object_member(obj(j), "peer");
  CHECK(!strcmp(json_object_get_string_member(pp, "name"), "Nurse Ünal"));
  CHECK(!strcmp(json_object_get_string_member(pp, "id"), p->peer_id));
  CHECK(!strcmp(json_object_get_string_member(pp, "role"), "participant"));
  drop(j);

  char *pid = g_strdup(p->peer_id);
  sig_client_send(p, "{\"v\":1,\"type\":\"leave\"}");
  CHECK(sig_client_wait_closed(p, WAIT_MS));
  j = expect(h, "peer_left");
  CHECK(!strcmp(obj_str(j, "peer"), pid));
  CHECK(!strcmp(obj_str(j, "reason"), "left"));
  drop(j);
  g_free(pid);
  sig_client_free(p);

  /* A dropped connection (no leave) is seen too. */
  p = sig_client_connect(&s);
  drop(sig_client_join(p, "ward7", "participant", "Again", NULL));
  drop(expect(h, "peer_joined"));
  sig_client_free(p);
  j = expect(h, "peer_left");
  CHECK(!strcmp(obj_str(j, "reason"), "disconnected"));
  drop(j);
  sig_client_free(h);
  sig_server_stop(&s);
}

/* Relay within a room: every pair, object and string data arrive intact. */
static void relay_cfg(unsigned n, const char *config) {
  sig_server s;
  sig_server_start(&s, config, NULL);
  sig_client **c = g_new0(sig_client *, n);
  for (unsigned i = 0; i < n; i++) {
    c[i] = sig_client_connect(&s);
    char name[16];
    snprintf(name, sizeof name, "peer%u", i);
    drop(sig_client_join(c[i], "relay", i == 0 ? "host" : "participant", name, NULL));
  }
  for (unsigned i = 0; i < n; i++)
    for (unsigned j = 0; j < n; j++)
      if (i != j) {
        if ((i + j) % 2)
          sig_client_send(c[i],
                          "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":{\"kind\":\"cand\","
                          "\"i\":%u,\"j\":%u,\"s\":\"a\\\"b\"}}",
                          c[j]->peer_id, i, j);
        else
          sig_client_send(c[i], "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"s-%u-%u\"}",
                          c[j]->peer_id, i, j);
      }
  for (unsigned j = 0; j < n; j++) {
    for (unsigned k = 0; k < n - 1; k++) {
      JsonNode *m = expect(c[j], "signal");
      const char *from = obj_str(m, "from");
      unsigned i = n;
      for (unsigned x = 0; x < n; x++)
        if (!strcmp(c[x]->peer_id, from))
          i = x;
      CHECK(i < n && i != j);
      JsonNode *d = json_object_get_member(obj(m), "data");
      if ((i + j) % 2) {
        JsonObject *o = json_node_get_object(d);
        CHECK(json_object_get_int_member(o, "i") == i && json_object_get_int_member(o, "j") == j);
        CHECK(!strcmp(json_object_get_string_member(o, "s"), "a\"b"));
      } else {
        char want[32];
        snprintf(want, sizeof want, "s-%u-%u", i, j);
        CHECK(!strcmp(json_node_get_string(d), want));
      }
      drop(m);
    }
    CHECK(sig_client_count(c[j], "error") == 0);
  }
  unsigned status;
  char *metrics = sig_http_get(&s, "/metrics", &status);
  CHECK(status == 200 && metrics);
  char want[64];
  snprintf(want, sizeof want, "mentorlink_signal_messages_relayed_total %u", n * (n - 1));
  CHECK(strstr(metrics, want));
  snprintf(want, sizeof want, "mentorlink_signal_peers %u", n);
  CHECK(strstr(metrics, want));
  CHECK(strstr(metrics, "mentorlink_signal_rooms 1\n"));
  g_free(metrics);
  char *health = sig_http_get(&s, "/healthz", &status);
  CHECK(status == 200 && !strcmp(health, "ok\n"));
  g_free(health);
  for (unsigned i = 0; i < n; i++)
    sig_client_free(c[i]);
  g_free(c);
  sig_server_stop(&s);
}

static void relay_n(unsigned n) { relay_cfg(n, AUTO); }
static void t_relay2(void) { relay_n(2); }
static void t_relay8(void) { relay_n(8); }
/* The same with three worker threads (cross-thread relays) and with none
 * (everything on one main context, as when embedded). */
static void t_relay8_workers3(void) { relay_cfg(8, "workers = 3\n" AUTO); }
static void t_relay8_workers0(void) { relay_cfg(8, "workers = 0\n" AUTO); }

static void on_drained_flag(void *user) { *(bool *)user = true; }
static bool flag_set(void *p) { return *(bool *)p; }

/* The embeddable API: a server in this process, on this thread's context. */
static void t_in_process(void) {
  ml_signal_config cfg;
  ml_signal_config_init(&cfg);
  CHECK(ml_signal_config_set_listen(&cfg, "127.0.0.1:0") == ML_OK);
  CHECK(ml_signal_config_set_token_secret(&cfg, TEST_SECRET) == ML_OK);
  cfg.auto_admit = true;
  ml_signal_server *srv = NULL;
  CHECK(ml_signal_server_new(&srv, &cfg) == ML_OK);
  char *err = NULL;
  CHECK(ml_signal_server_start(srv, &err) == ML_OK);
  sig_server s = {.port = ml_signal_server_port(srv)};
  CHECK(s.port > 0);
  sig_client *a = sig_client_connect(&s), *b = sig_client_connect(&s);
  drop(sig_client_join(a, "lan", "host", "A", NULL));
  drop(sig_client_join(b, "lan", "participant", "B", NULL));
  sig_client_send(a, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"hi\"}", b->peer_id);
  JsonNode *m = expect(b, "signal");
  CHECK(!strcmp(obj_str(m, "from"), a->peer_id));
  drop(m);
  bool drained = false;
  ml_signal_server_drain(srv, on_drained_flag, &drained);
  drop(expect(a, "shutdown"));
  drop(expect(b, "shutdown"));
  CHECK(sig_wait_until(flag_set, &drained, WAIT_MS));
  sig_client_free(a);
  sig_client_free(b);
  ml_signal_server_free(srv);
  ml_signal_config_clear(&cfg);
}

/* Waiting room: knock, not_admitted, admit, deny, not_host. */
static void t_waiting_admit(void) {
  sig_server s;
  sig_server_start(&s, NULL, NULL);
  sig_client *h = sig_client_connect(&s), *p = sig_client_connect(&s), *q = sig_client_connect(&s);
  drop(sig_client_join(h, "clinic", "host", "Host", NULL));
  JsonNode *w = sig_client_join(p, "clinic", "participant", "P", "waiting");
  drop(w);
  JsonNode *k = expect(h, "knock");
  JsonObject *kp = json_object_get_object_member(obj(k), "peer");
  CHECK(!strcmp(json_object_get_string_member(kp, "id"), p->peer_id));
  CHECK(!strcmp(json_object_get_string_member(kp, "name"), "P"));
  drop(k);
  /* A waiting peer may not relay or see others. */
  sig_client_send(p, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"x\"}", h->peer_id);
  drop(sig_client_expect_error(p, "not_admitted"));
  sig_client_send(h, "{\"v\":1,\"type\":\"admit\",\"peer\":\"%s\"}", p->peer_id);
  w = expect(p, "welcome");
  CHECK(json_array_get_length(arr(w, "peers")) == 1);
  drop(w);
  drop(expect(h, "peer_joined"));
  /* A participant may not admit. */
  drop(sig_client_join(q, "clinic", "participant", "Q", "waiting"));
  drop(expect(h, "knock"));
  sig_client_send(p, "{\"v\":1,\"type\":\"admit\",\"peer\":\"%s\"}", q->peer_id);
  drop(sig_client_expect_error(p, "not_host"));
  sig_client_send(h, "{\"v\":1,\"type\":\"deny\",\"peer\":\"%s\"}", q->peer_id);
  drop(expect(q, "denied"));
  CHECK(sig_client_wait_closed(q, WAIT_MS));
  CHECK(q->close_code == 4002);
  JsonNode *l = expect(h, "peer_left");
  CHECK(!strcmp(obj_str(l, "reason"), "denied"));
  drop(l);
  /* Admitting someone who is not waiting. */
  sig_client_send(h, "{\"v\":1,\"type\":\"admit\",\"peer\":\"nobody\",\"id\":\"r1\"}");
  JsonNode *e = sig_client_expect_error(h, "no_such_peer");
  CHECK(!strcmp(obj_str(e, "id"), "r1") && !strcmp(obj_str(e, "ref"), "admit"));
  drop(e);
  /* auto_admit on: a waiting peer is admitted at once. */
  sig_client *r = sig_client_connect(&s);
  drop(sig_client_join(r, "clinic", "participant", "R", "waiting"));
  sig_client_send(h, "{\"v\":1,\"type\":\"auto_admit\",\"enabled\":true}");
  drop(expect(r, "welcome"));
  sig_client_free(r);
  sig_client_free(q);
  sig_client_free(p);
  sig_client_free(h);
  sig_server_stop(&s);
}

static void t_lock(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  sig_client *h = sig_client_connect(&s), *p = sig_client_connect(&s), *q = sig_client_connect(&s);
  drop(sig_client_join(h, "locked", "host", "Host", NULL));
  drop(sig_client_join(p, "locked", "participant", "P", NULL));
  sig_client_send(p, "{\"v\":1,\"type\":\"lock\",\"locked\":true}");
  drop(sig_client_expect_error(p, "not_host"));
  sig_client_send(h, "{\"v\":1,\"type\":\"lock\",\"locked\":true}");
  JsonNode *st = expect(p, "room_state");
  CHECK(json_object_get_boolean_member(obj(st), "locked"));
  drop(st);
  drop(expect(h, "room_state"));
  char *tok = sig_token("locked", "participant", "Q", 600, TEST_SECRET);
  char *key = sig_identity_key(9);
  sig_client_send(q, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", tok,
                  key);
  drop(sig_client_expect_error(q, "room_locked"));
  sig_client_send(h, "{\"v\":1,\"type\":\"lock\",\"locked\":false}");
  drop(expect(h, "room_state"));
  sig_client_send(q, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", tok,
                  key);
  drop(expect(q, "welcome"));
  g_free(tok);
  g_free(key);
  sig_client_free(q);
  sig_client_free(p);
  sig_client_free(h);
  sig_server_stop(&s);
}

static void t_remove(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  sig_client *h = sig_client_connect(&s), *p = sig_client_connect(&s), *q = sig_client_connect(&s);
  drop(sig_client_join(h, "rm", "host", "Host", NULL));
  drop(sig_client_join(p, "rm", "participant", "P", NULL));
  drop(sig_client_join(q, "rm", "participant", "Q", NULL));
  sig_client_send(p, "{\"v\":1,\"type\":\"remove\",\"peer\":\"%s\"}", q->peer_id);
  drop(sig_client_expect_error(p, "not_host"));
  sig_client_send(h, "{\"v\":1,\"type\":\"remove\",\"peer\":\"%s\"}", p->peer_id);
  drop(expect(p, "removed"));
  CHECK(sig_client_wait_closed(p, WAIT_MS));
  CHECK(p->close_code == 4001);
  JsonNode *l = expect(q, "peer_left");
  CHECK(!strcmp(obj_str(l, "peer"), p->peer_id) && !strcmp(obj_str(l, "reason"), "removed"));
  drop(l);
  drop(expect(h, "peer_left"));
  /* The removed peer's id is gone: relaying to it fails. */
  sig_client_send(q, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"x\"}", p->peer_id);
  drop(sig_client_expect_error(q, "no_such_peer"));
  sig_client_free(q);
  sig_client_free(p);
  sig_client_free(h);
  sig_server_stop(&s);
}

static void t_capacity(void) {
  sig_server s;
  sig_server_start(&s, "[rooms]\nauto_admit = true\ncapacity = 3\n", NULL);
  sig_client *c[4];
  for (int i = 0; i < 4; i++)
    c[i] = sig_client_connect(&s);
  JsonNode *w = sig_client_join(c[0], "small", "host", "H", NULL);
  CHECK(json_object_get_int_member(obj(w), "capacity") == 3);
  drop(w);
  drop(sig_client_join(c[1], "small", "participant", "A", NULL));
  drop(sig_client_join(c[2], "small", "participant", "B", NULL));
  char *tok = sig_token("small", "participant", "C", 600, TEST_SECRET);
  char *key = sig_identity_key(4);
  sig_client_send(c[3], "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", tok,
                  key);
  drop(sig_client_expect_error(c[3], "room_full"));
  /* Someone leaves: there is room again. */
  sig_client_free(c[2]);
  drop(expect(c[0], "peer_left"));
  sig_client_send(c[3], "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", tok,
                  key);
  drop(expect(c[3], "welcome"));
  g_free(tok);
  g_free(key);
  sig_client_free(c[0]);
  sig_client_free(c[1]);
  sig_client_free(c[3]);
  sig_server_stop(&s);
}

/* Joins with tok, which must be refused with code; the error (transfer full). */
static JsonNode *refused_join(sig_client *c, const char *tok, const char *code) {
  char *key = sig_identity_key(3);
  sig_client_send(c, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", tok,
                  key);
  g_free(key);
  return sig_client_expect_error(c, code);
}

static void join_with(sig_client *c, const char *tok, const char *code) {
  drop(refused_join(c, tok, code));
}

static void t_tokens(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  sig_client *c = sig_client_connect(&s);
  /* An expired token is refused with when it expired (a wrong clock or an
   * old invitation). */
  char *expired = sig_token("r", "host", "H", -5, TEST_SECRET);
  JsonNode *e = refused_join(c, expired, "token_expired");
  const char *why = obj_str(e, "message");
  CHECK(g_str_has_prefix(why, "the token expired at 20") && g_str_has_suffix(why, " UTC"));
  drop(e);
  char *forged = sig_token("r", "host", "H", 600, "another-secret-0123456789abcdefghijkl");
  join_with(c, forged, "unauthorized");
  /* The third refused join on one connection closes it. */
  join_with(c, "garbage", "unauthorized");
  CHECK(sig_client_wait_closed(c, WAIT_MS));
  CHECK(c->close_code == 4010);
  sig_client *c2 = sig_client_connect(&s);
  join_with(c2, "a.b", "unauthorized");
  /* Take a participant token's signature and graft it on a host payload. */
  char *part = sig_token("r", "participant", "H", 600, TEST_SECRET);
  char *host = sig_token("r", "host", "H", 600, TEST_SECRET);
  char *graft = g_strdup_printf("%.*s%s", (int)(strchr(host, '.') - host), host, strchr(part, '.'));
  join_with(c2, graft, "unauthorized");
  /* An open-mode join on a token server. */
  char *key = sig_identity_key(3);
  sig_client_send(c2,
                  "{\"v\":1,\"type\":\"join\",\"room\":\"r\",\"name\":\"x\",\"identity_key\":"
                  "\"%s\"}",
                  key);
  drop(sig_client_expect_error(c2, "unauthorized"));
  CHECK(sig_client_wait_closed(c2, WAIT_MS));
  g_free(key);
  /* A good token works; a second join does not. */
  sig_client *c3 = sig_client_connect(&s);
  CHECK(sig_client_roundtrip(c3, WAIT_MS));
  drop(sig_client_join(c3, "r", "host", "H", NULL));
  sig_client_send(c3, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", host,
                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  drop(sig_client_expect_error(c3, "already_joined"));
  unsigned status;
  char *metrics = sig_http_get(&s, "/metrics", &status);
  CHECK(strstr(metrics, "mentorlink_signal_rejects_total{reason=\"unauthorized\"} 5"));
  CHECK(strstr(metrics, "mentorlink_signal_rejects_total{reason=\"token_expired\"} 1"));
  g_free(metrics);
  g_free(expired);
  g_free(forged);
  g_free(part);
  g_free(host);
  g_free(graft);
  sig_client_free(c);
  sig_client_free(c2);
  sig_client_free(c3);
  sig_server_stop(&s);
}

/* Guessing an open-mode room secret: refused joins are limited per source
 * address (burst 10, then 1/s), so one address soon gets every connection
 * closed at its first wrong guess; the right secret still works. */
static void t_secret_guessing(void) {
  sig_server s;
  const char *args[] = {"--open", NULL};
  sig_server_start(&s, NULL, args);
  sig_client *h = sig_client_connect(&s);
  open_join(h, "guarded", "Host", "the-verifier");
  drop(expect(h, "welcome"));
  unsigned failures = 0;
  bool limited = false;
  for (int i = 0; i < 12 && !limited; i++) {
    sig_client *g = sig_client_connect(&s);
    unsigned here = 0;
    while (!g->closed && here < 3) {
      char guess[32];
      snprintf(guess, sizeof guess, "guess-%u", failures);
      open_join(g, "guarded", "G", guess);
      drop(sig_client_expect_error(g, "wrong_secret"));
      failures++;
      here++;
      if (sig_client_wait_closed(g, here == 3 ? WAIT_MS : 100) && here == 1)
        limited = true; /* closed at its first guess: the address is limited */
    }
    CHECK(g->closed);
    CHECK(g->close_code == 4010);
    sig_client_free(g);
  }
  CHECK(limited);
  CHECK(failures <= 14);
  sig_client *ok = sig_client_connect(&s);
  open_join(ok, "guarded", "P", "the-verifier");
  drop(expect(ok, "waiting"));
  sig_client_free(ok);
  sig_client_free(h);
  sig_server_stop(&s);
}

/* The token subcommand issues what the server accepts; a UTF-8 name works in
 * the C locale (as under systemd or cron). */
static void t_token_cli(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  char **argv = sig_argv(SIGNAL_BIN, "token", "--room", "cli-room", "--role", "host", "--name",
                         "Nurse Ünal", "--ttl", "120", "--config", s.config_path, NULL);
  char **c_locale =
      g_environ_setenv(g_environ_unsetenv(g_get_environ(), "LANG"), "LC_ALL", "C", TRUE);
  char *out = NULL;
  int wstatus = -1;
  CHECK(
      g_spawn_sync(NULL, argv, c_locale, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &wstatus, NULL));
  g_strfreev(argv);
  CHECK(wstatus == 0 && out && strchr(out, '.'));
  g_strstrip(out);
  sig_client *c = sig_client_connect(&s);
  char *key = sig_identity_key(1);
  sig_client_send(c, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", out,
                  key);
  JsonNode *w = expect(c, "welcome");
  CHECK(!strcmp(obj_str(w, "room"), "cli-room") && !strcmp(obj_str(w, "role"), "host") &&
        !strcmp(obj_str(w, "name"), "Nurse Ünal"));
  drop(w);
  g_free(key);
  g_free(out);
  /* A name that is not UTF-8 is refused with a reason. */
  char **latin1 = sig_argv(SIGNAL_BIN, "token", "--room", "x", "--role", "host", "--name",
                           "Nurse \xdcnal", "--config", s.config_path, NULL);
  char *err = NULL;
  CHECK(g_spawn_sync(NULL, latin1, c_locale, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                     &wstatus, NULL));
  g_strfreev(latin1);
  CHECK(wstatus != 0 && err && strstr(err, "--name is not UTF-8"));
  g_free(err);
  g_strfreev(c_locale);
  /* Bad arguments are refused. */
  char **bad = sig_argv(SIGNAL_BIN, "token", "--room", "x", "--role", "admin", "--name", "n",
                        "--config", s.config_path, NULL);
  CHECK(g_spawn_sync(NULL, bad, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                     NULL, NULL, NULL, &wstatus, NULL));
  g_strfreev(bad);
  CHECK(wstatus != 0);
  sig_client_free(c);
  sig_server_stop(&s);
}

static void t_cross_room(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  sig_client *a = sig_client_connect(&s), *b = sig_client_connect(&s);
  drop(sig_client_join(a, "room-a", "host", "A", NULL));
  drop(sig_client_join(b, "room-b", "host", "B", NULL));
  sig_client_send(a, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"secret\"}", b->peer_id);
  drop(sig_client_expect_error(a, "no_such_peer"));
  /* B's round trip completes after A's message was handled: nothing came. */
  CHECK(sig_client_roundtrip(b, WAIT_MS));
  CHECK(sig_client_count(b, "signal") == 0);
  /* Nor can A address itself. */
  sig_client_send(a, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"x\"}", a->peer_id);
  drop(sig_client_expect_error(a, "no_such_peer"));
  sig_client_free(a);
  sig_client_free(b);
  sig_server_stop(&s);
}

static void t_malformed(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  sig_client *c = sig_client_connect(&s);
  static const struct {
    const char *text, *code;
  } cases[] = {
      {"not json", "bad_json"},
      {"{\"v\":1,\"type\":\"ping\"", "bad_json"},
      {"[1,2,3]", "bad_json"},
      {"\"ping\"", "bad_json"},
      {"{}", "bad_version"},
      {"{\"type\":\"ping\"}", "bad_version"},
      {"{\"v\":2,\"type\":\"ping\"}", "bad_version"},
      {"{\"v\":\"1\",\"type\":\"ping\"}", "bad_version"},
      {"{\"v\":1.5,\"type\":\"ping\"}", "bad_version"},
      {"{\"v\":1}", "unknown_type"},
      {"{\"v\":1,\"type\":7}", "unknown_type"},
      {"{\"v\":1,\"type\":\"launch_missiles\"}", "unknown_type"},
      {"{\"v\":1,\"type\":\"ping\",\"extra\":1}", "bad_field"},
      {"{\"v\":1,\"type\":\"ping\",\"id\":5}", "bad_field"},
      {"{\"v\":1,\"type\":\"join\"}", "bad_field"},
      {"{\"v\":1,\"type\":\"join\",\"token\":5,\"identity_key\":\"x\"}", "bad_field"},
      {"{\"v\":1,\"type\":\"join\",\"token\":\"t\",\"identity_key\":\"short\"}", "bad_field"},
      {"{\"v\":1,\"type\":\"lock\",\"locked\":\"yes\"}", "bad_field"},
      {"{\"v\":1,\"type\":\"signal\",\"to\":5,\"data\":{}}", "bad_field"},
      {"{\"v\":1,\"type\":\"signal\",\"to\":\"a b\",\"data\":{}}", "bad_field"},
      {"{\"v\":1,\"type\":\"signal\",\"to\":\"abc\",\"data\":[1]}", "bad_field"},
      {"{\"v\":1,\"type\":\"signal\",\"to\":\"abc\"}", "bad_field"},
      {"{\"v\":1,\"type\":\"signal\",\"to\":\"abc\",\"data\":{}}", "not_joined"},
      {"{\"v\":1,\"type\":\"lock\",\"locked\":true}", "not_joined"},
      {"{\"v\":1,\"type\":\"leave\"}", "not_joined"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    sig_client_send_raw(c, cases[i].text, strlen(cases[i].text));
    drop(sig_client_expect_error(c, cases[i].code));
  }
  /* Deep nesting, invalid UTF-8, NUL inside, binary frames. */
  GString *deep = g_string_new("{\"v\":1,\"type\":\"signal\",\"to\":\"x\",\"data\":");
  for (int i = 0; i < 100; i++)
    g_string_append(deep, "{\"a\":");
  g_string_append(deep, "1");
  for (int i = 0; i < 100; i++)
    g_string_append_c(deep, '}');
  g_string_append_c(deep, '}');
  sig_client_send_raw(c, deep->str, deep->len);
  drop(sig_client_expect_error(c, "bad_json"));
  g_string_free(deep, TRUE);
  /* (Invalid UTF-8 cannot be sent as text by libsoup, and libsoup's server
   * closes such connections with 1007 itself; test_signal_message covers it.) */
  sig_client_send_raw(c, "{\"v\":1,\0\"type\":\"ping\"}", 22);
  drop(sig_client_expect_error(c, "bad_json"));
  sig_client_send_binary(c, "\x01\x02", 2);
  drop(sig_client_expect_error(c, "bad_json"));
  /* The connection survived all of it. */
  CHECK(sig_client_roundtrip(c, WAIT_MS));
  CHECK(!c->closed);
  sig_client_free(c);
  sig_server_stop(&s);
}

static void t_oversized(void) {
  sig_server s;
  sig_server_start(&s, "max_message_bytes = 16384\n[rooms]\nauto_admit = true\n", NULL);
  sig_client *a = sig_client_connect(&s), *b = sig_client_connect(&s);
  drop(sig_client_join(a, "big", "host", "A", NULL));
  drop(sig_client_join(b, "big", "participant", "B", NULL));
  /* Just under the limit relays; just over gets too_big and the link stays. */
  GString *m = g_string_new(NULL);
  g_string_printf(m, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"", b->peer_id);
  while (m->len < 16384 - 2)
    g_string_append_c(m, 'x');
  g_string_append(m, "\"}");
  CHECK(m->len == 16384);
  sig_client_send_raw(a, m->str, m->len);
  drop(expect(b, "signal"));
  g_string_insert_c(m, m->len - 2, 'y');
  sig_client_send_raw(a, m->str, m->len);
  drop(sig_client_expect_error(a, "too_big"));
  CHECK(sig_client_roundtrip(a, WAIT_MS));
  CHECK(sig_client_count(b, "signal") == 0);
  /* Far over (beyond 4x): the server drops the connection (1009) without
   * buffering it all. */
  GString *huge = g_string_sized_new(100000);
  while (huge->len < 100000)
    g_string_append_c(huge, ' ');
  sig_client_send_raw(a, huge->str, huge->len);
  CHECK(sig_client_wait_closed(a, WAIT_MS));
  /* 1009 when the close frame reaches us; 0 (abnormal) when the server's
   * close races our still-writing socket and the reset wins. */
  CHECK(a->close_code == 1009 || a->close_code == 0);
  drop(expect(b, "peer_left"));
  CHECK(sig_client_roundtrip(b, WAIT_MS));
  g_string_free(huge, TRUE);
  g_string_free(m, TRUE);
  sig_client_free(a);
  sig_client_free(b);
  sig_server_stop(&s);
}

typedef struct flood_state {
  sig_client *f;
} flood_state;

static bool flooder_closed(void *p) { return ((flood_state *)p)->f->closed; }

/* A flooder is rate-limited then disconnected; its neighbour relays on. */
static void t_flood(void) {
  sig_server s;
  sig_server_start(&s,
                   "[rooms]\nauto_admit = true\n[limits]\nmessage_rate = 50\n"
                   "message_burst = 50\nflood_disconnect = 30\n",
                   NULL);
  sig_client *h = sig_client_connect(&s), *n = sig_client_connect(&s), *f = sig_client_connect(&s);
  drop(sig_client_join(h, "flood", "host", "H", NULL));
  drop(sig_client_join(n, "flood", "participant", "N", NULL));
  drop(sig_client_join(f, "flood", "participant", "F", NULL));
  /* 400 messages as fast as the socket takes them: far over 50/s. */
  for (int i = 0; i < 400 && !f->closed; i++)
    sig_client_send(f, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"spam\"}", h->peer_id);
  flood_state fs = {f};
  CHECK(sig_wait_until(flooder_closed, &fs, WAIT_MS));
  CHECK(f->close_code == 4029);
  CHECK(sig_client_count(f, "error") >= 1);
  JsonNode *e = sig_client_wait(f, "error", 0);
  CHECK(e && !strcmp(obj_str(e, "code"), "rate_limited"));
  drop(e);
  /* The neighbour's round trips and relays still work, promptly. */
  for (int i = 0; i < 10; i++) {
    sig_client_send(n, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":{\"i\":%d}}",
                    h->peer_id, i);
    CHECK(sig_client_roundtrip(n, 1000));
  }
  CHECK(sig_client_count(n, "error") == 0);
  unsigned got = 0;
  JsonNode *m;
  while ((m = sig_client_wait(h, "signal", 2000))) {
    if (!strcmp(obj_str(m, "from"), n->peer_id))
      got++;
    drop(m);
    if (got == 10)
      break;
  }
  CHECK(got == 10);
  unsigned status;
  char *metrics = sig_http_get(&s, "/metrics", &status);
  CHECK(strstr(metrics, "mentorlink_signal_closes_total{reason=\"flood\"} 1"));
  CHECK(!strstr(metrics, "mentorlink_signal_rejects_total{reason=\"rate_limited\"} 0"));
  g_free(metrics);
  sig_client_free(f);
  sig_client_free(n);
  sig_client_free(h);
  sig_server_stop(&s);
}

static void t_shutdown(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  sig_client *c[3];
  for (int i = 0; i < 3; i++) {
    c[i] = sig_client_connect(&s);
    drop(sig_client_join(c[i], "bye", i ? "participant" : "host", "X", NULL));
  }
  sig_server_signal(&s, SIGTERM);
  for (int i = 0; i < 3; i++) {
    JsonNode *m = expect(c[i], "shutdown");
    CHECK(json_object_get_boolean_member(obj(m), "reconnect"));
    CHECK(json_object_get_int_member(obj(m), "retry_after_ms") >= 1000);
    drop(m);
    CHECK(sig_client_wait_closed(c[i], WAIT_MS));
    CHECK(c[i]->close_code == 1001);
  }
  CHECK(sig_server_wait_exit(&s, WAIT_MS) == 0);
  for (int i = 0; i < 3; i++)
    sig_client_free(c[i]);
  sig_server_stop(&s);
}

static void open_join(sig_client *c, const char *room, const char *name, const char *secret) {
  char *key = sig_identity_key(7);
  if (secret)
    sig_client_send(c,
                    "{\"v\":1,\"type\":\"join\",\"room\":\"%s\",\"name\":\"%s\",\"secret\":\"%s\","
                    "\"identity_key\":\"%s\"}",
                    room, name, secret, key);
  else
    sig_client_send(c,
                    "{\"v\":1,\"type\":\"join\",\"room\":\"%s\",\"name\":\"%s\","
                    "\"identity_key\":\"%s\"}",
                    room, name, key);
  g_free(key);
}

static void t_open_mode(void) {
  sig_server s;
  const char *args[] = {"--open", NULL};
  sig_server_start(&s, NULL, args);
  sig_client *h = sig_client_connect(&s), *p = sig_client_connect(&s), *q = sig_client_connect(&s);
  open_join(h, "lan-room", "Host", "verifier-1");
  JsonNode *w = expect(h, "welcome");
  CHECK(!strcmp(obj_str(w, "role"), "host"));
  drop(w);
  open_join(p, "lan-room", "P", "wrong");
  drop(sig_client_expect_error(p, "wrong_secret"));
  open_join(p, "lan-room", "P", NULL);
  drop(sig_client_expect_error(p, "wrong_secret"));
  open_join(p, "lan-room", "P", "verifier-1");
  drop(expect(p, "waiting"));
  drop(expect(h, "knock"));
  /* Tokens are not accepted in open mode. */
  char *tok = sig_token("lan-room", "host", "T", 600, TEST_SECRET);
  char *key = sig_identity_key(8);
  sig_client_send(q, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", tok,
                  key);
  drop(sig_client_expect_error(q, "unauthorized"));
  g_free(tok);
  g_free(key);
  /* A room without a secret. */
  open_join(q, "plain", "Q", NULL);
  drop(expect(q, "welcome"));
  sig_client_free(q);
  sig_client_free(p);
  sig_client_free(h);
  sig_server_stop(&s);
}

static void t_host_handover(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  sig_client *h = sig_client_connect(&s), *a = sig_client_connect(&s), *b = sig_client_connect(&s);
  drop(sig_client_join(h, "ho", "host", "H", NULL));
  drop(sig_client_join(a, "ho", "participant", "A", NULL));
  drop(sig_client_join(b, "ho", "participant", "B", NULL));
  sig_client_free(h);
  JsonNode *r = expect(b, "role_changed");
  CHECK(!strcmp(obj_str(r, "peer"), a->peer_id) && !strcmp(obj_str(r, "role"), "host"));
  drop(r);
  drop(expect(a, "role_changed"));
  /* The new host can act as one. */
  sig_client_send(a, "{\"v\":1,\"type\":\"lock\",\"locked\":true}");
  drop(expect(b, "room_state"));
  sig_client_free(a);
  sig_client_free(b);
  sig_server_stop(&s);
}

static void t_host_end(void) {
  sig_server s;
  sig_server_start(&s, "[rooms]\nauto_admit = true\nhost_leave = end\n", NULL);
  sig_client *h = sig_client_connect(&s), *a = sig_client_connect(&s);
  drop(sig_client_join(h, "end", "host", "H", NULL));
  drop(sig_client_join(a, "end", "participant", "A", NULL));
  sig_client_free(h);
  JsonNode *m = expect(a, "room_closed");
  CHECK(!strcmp(obj_str(m, "reason"), "host_left"));
  drop(m);
  CHECK(sig_client_wait_closed(a, WAIT_MS));
  CHECK(a->close_code == 4003);
  sig_client_free(a);
  sig_server_stop(&s);
}

/* Plain ws on a non-loopback address is refused without --insecure-listen. */
static void t_insecure_refused(void) {
  char **argv = sig_argv(SIGNAL_BIN, "--listen", "0.0.0.0:0", "--open", NULL);
  char *err = NULL;
  int wstatus = 0;
  CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &wstatus,
                     NULL));
  g_strfreev(argv);
  CHECK(wstatus != 0);
  CHECK(err && strstr(err, "insecure-listen"));
  g_free(err);
}

/* Runs the daemon with args, which must make it refuse to start: exit 1 and
 * a message holding needle. */
static void refused_to_start(char **argv, const char *needle) {
  char *err = NULL;
  int wstatus = 0;
  CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &wstatus,
                     NULL));
  g_strfreev(argv);
  CHECK(g_spawn_check_wait_status(wstatus, NULL) == FALSE && WIFEXITED(wstatus) &&
        WEXITSTATUS(wstatus) == 1);
  CHECK(err && strstr(err, needle));
  if (err && !strstr(err, needle))
    fprintf(stderr, "  stderr was: %s\n", err);
  g_free(err);
}

/* Token mode without a token secret would refuse every join: the daemon
 * refuses to start instead, and says what to set. */
static void t_token_mode_needs_secret(void) {
  refused_to_start(sig_argv(SIGNAL_BIN, "--listen", "127.0.0.1:0", NULL),
                   "token mode needs a [tokens] secret");
}

/* A config that holds a secret and every user may read is refused, with the
 * chmod that mends it. */
static void t_config_readable(void) {
  g_autofree char *dir = g_dir_make_tmp("mlsigperm-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename(dir, "signal.conf", NULL);
  CHECK(g_file_set_contents_full(conf, "[tokens]\nsecret = " TEST_SECRET "\n", -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL));
  g_autofree char *fix = g_strdup_printf("chmod o-rwx %s", conf);
  refused_to_start(sig_argv(SIGNAL_BIN, "--config", conf, "--listen", "127.0.0.1:0", NULL), fix);
  g_unlink(conf);
  g_rmdir(dir);
}

typedef struct limits_state {
  sig_client *c;
} limits_state;

/* Max connections, join timeout. */
static void t_limits(void) {
  sig_server s;
  sig_server_start(&s, "max_connections = 3\njoin_timeout = 1\n[rooms]\nauto_admit = true\n", NULL);
  sig_client *c[4];
  for (int i = 0; i < 3; i++)
    c[i] = sig_client_connect(&s);
  drop(sig_client_join(c[0], "lim", "host", "H", NULL));
  c[3] = sig_client_connect(&s);
  drop(sig_client_expect_error(c[3], "server_full"));
  CHECK(sig_client_wait_closed(c[3], WAIT_MS));
  /* c[1], c[2] never join: closed after join_timeout; c[0] stays. */
  CHECK(sig_client_wait_closed(c[1], 4000));
  CHECK(sig_client_wait_closed(c[2], 4000));
  CHECK(c[1]->close_code == 4008);
  CHECK(sig_client_roundtrip(c[0], WAIT_MS));
  for (int i = 0; i < 4; i++)
    sig_client_free(c[i]);
  sig_server_stop(&s);
}

/* Idle timeout: a silent joined peer is closed (4008); an active one is not. */
static void t_idle(void) {
  sig_server s;
  sig_server_start(&s, "keepalive_interval = 0\nidle_timeout = 1\n[rooms]\nauto_admit = true\n",
                   NULL);
  sig_client *quiet = sig_client_connect(&s), *busy = sig_client_connect(&s);
  drop(sig_client_join(quiet, "idle", "host", "Q", NULL));
  drop(sig_client_join(busy, "idle", "participant", "B", NULL));
  /* The busy peer keeps talking, a round trip per 200 ms of waiting for the
   * quiet one to be closed (bounded: 20 turns). */
  for (int i = 0; i < 20 && !quiet->closed; i++) {
    CHECK(sig_client_roundtrip(busy, WAIT_MS));
    sig_client_wait_closed(quiet, 200);
  }
  CHECK(quiet->closed);
  CHECK(quiet->close_code == 4008);
  CHECK(!busy->closed);
  JsonNode *l = expect(busy, "peer_left");
  drop(l);
  /* The survivor became host. */
  drop(expect(busy, "role_changed"));
  sig_client_free(quiet);
  sig_client_free(busy);
  sig_server_stop(&s);
}

/* TLS: with a certificate the server speaks wss/https only. The certificate
 * is a throwaway made with openssl (sig_make_cert). */
static void t_tls(void) {
  char *dir = g_dir_make_tmp("mlsigtls-XXXXXX", NULL);
  char *cert = NULL, *key = NULL;
  sig_make_cert(dir, "IP:127.0.0.1", &cert, &key);
  char *conf = g_strdup_printf("tls_cert = %s\ntls_key = %s\n" AUTO, cert, key);
  sig_server s;
  sig_server_start(&s, conf, NULL);
  s.tls = true;
  sig_client *a = sig_client_connect(&s), *b = sig_client_connect(&s);
  drop(sig_client_join(a, "secure", "host", "A", NULL));
  drop(sig_client_join(b, "secure", "participant", "B", NULL));
  sig_client_send(a, "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":\"over tls\"}",
                  b->peer_id);
  JsonNode *m = expect(b, "signal");
  CHECK(!strcmp(json_node_get_string(json_object_get_member(obj(m), "data")), "over tls"));
  drop(m);
  unsigned status = 0;
  char *health = sig_http_get(&s, "/healthz", &status);
  CHECK(status == 200 && health && !strcmp(health, "ok\n"));
  g_free(health);
  /* Plain http on the TLS port gets nothing useful. */
  s.tls = false;
  char *plain = sig_http_get(&s, "/healthz", &status);
  CHECK(status != 200);
  g_free(plain);
  s.tls = true;
  sig_client_free(a);
  sig_client_free(b);
  sig_server_stop(&s);
  g_unlink(cert);
  g_unlink(key);
  g_rmdir(dir);
  g_free(cert);
  g_free(key);
  g_free(dir);
  g_free(conf);
}

/* The optional per-address message budget: shared by every connection from
 * the address, answered with rate_limited, never a disconnect. */
static void t_ip_rate(void) {
  sig_server s;
  sig_server_start(&s,
                   "[rooms]\nauto_admit = true\n[limits]\nip_message_rate = 1\n"
                   "ip_message_burst = 6\n",
                   NULL);
  sig_client *a = sig_client_connect(&s), *b = sig_client_connect(&s);
  drop(sig_client_join(a, "nat", "host", "A", NULL));
  drop(sig_client_join(b, "nat", "participant", "B", NULL));
  /* 4 of the 6 left: a's pings use them up, then a and b are both refused. */
  unsigned pongs = 0, limited = 0;
  for (int i = 0; i < 30; i++)
    sig_client_send(a, "{\"v\":1,\"type\":\"ping\",\"id\":\"a%d\"}", i);
  for (int i = 0; i < 30; i++) {
    JsonNode *m = NULL;
    CHECK((m = sig_client_wait(a, "pong", 0)) || (m = sig_client_wait(a, "error", WAIT_MS)));
    if (!strcmp(obj_str(m, "type"), "pong"))
      pongs++;
    else if (!strcmp(obj_str(m, "code"), "rate_limited"))
      limited++;
    drop(m);
  }
  CHECK(pongs >= 4 && pongs <= 6);
  CHECK(limited >= 24);
  sig_client_send(b, "{\"v\":1,\"type\":\"ping\"}");
  drop(sig_client_expect_error(b, "rate_limited"));
  CHECK(!a->closed && !b->closed);
  sig_client_free(a);
  sig_client_free(b);
  sig_server_stop(&s);
}

/* SIGHUP reload: new rooms get the new capacity. */
static void t_reload(void) {
  sig_server s;
  sig_server_start(&s, AUTO, NULL);
  sig_server_write_config(&s, "[rooms]\nauto_admit = true\ncapacity = 2\n");
  sig_server_signal(&s, SIGHUP);
  /* The reload is asynchronous: probe with joins into fresh rooms, bounded. */
  bool seen = false;
  for (int i = 0; i < 50 && !seen; i++) {
    sig_client *c = sig_client_connect(&s);
    char room[16];
    snprintf(room, sizeof room, "reload%d", i);
    JsonNode *w = sig_client_join(c, room, "host", "H", NULL);
    seen = json_object_get_int_member(obj(w), "capacity") == 2;
    drop(w);
    sig_client_free(c);
  }
  CHECK(seen);
  sig_server_stop(&s);
}

/* LeakSanitizer asks this (weak in its runtime) at exit. This process is the
 * test client: its leak check is kept only where the product runs inside it
 * (in_process). Elsewhere the product is the server process, whose clean,
 * leak-free exit every scenario checks. Reason: LSan's tracer thread
 * occasionally segfaults ("Tracer caught signal 11") while stopping this
 * process's GLib threads, failing a run that leaked nothing. */
static bool lsan_wanted;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) { return !lsan_wanted; }

static const struct {
  const char *name;
  void (*fn)(void);
} tests[] = {
    {"join_presence", t_join_presence},
    {"relay2", t_relay2},
    {"relay8", t_relay8},
    {"waiting_admit", t_waiting_admit},
    {"lock", t_lock},
    {"remove", t_remove},
    {"capacity", t_capacity},
    {"tokens", t_tokens},
    {"token_cli", t_token_cli},
    {"cross_room", t_cross_room},
    {"malformed", t_malformed},
    {"oversized", t_oversized},
    {"flood", t_flood},
    {"shutdown", t_shutdown},
    {"open_mode", t_open_mode},
    {"host_handover", t_host_handover},
    {"host_end", t_host_end},
    {"insecure_refused", t_insecure_refused},
    {"token_mode_needs_secret", t_token_mode_needs_secret},
    {"config_readable", t_config_readable},
    {"limits", t_limits},
    {"reload", t_reload},
    {"idle", t_idle},
    {"relay8_workers3", t_relay8_workers3},
    {"relay8_workers0", t_relay8_workers0},
    {"in_process", t_in_process},
    {"tls", t_tls},
    {"secret_guessing", t_secret_guessing},
    {"ip_rate", t_ip_rate},
};

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  lsan_wanted = argc < 2 || !strcmp(argv[1], "in_process");
  for (size_t i = 0; i < G_N_ELEMENTS(tests); i++) {
    if (argc < 2 || !strcmp(argv[1], tests[i].name)) {
      fprintf(stderr, "-- %s\n", tests[i].name);
      tests[i].fn();
      if (argc >= 2)
        return 0;
    }
  }
  if (argc >= 2) {
    fprintf(stderr, "no such scenario: %s\n", argv[1]);
    return 2;
  }
  return 0;
}
