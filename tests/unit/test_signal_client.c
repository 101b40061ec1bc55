/* unit.signal_client: the room-secret derivations of ml/signal_client.h
 * (docs/PROTOCOL.md, "Room secret") and the client's refusal of bad
 * settings. The verifier's expected value was computed independently with
 * Python's hashlib.blake2b; the PSK's salt too (then Argon2id is libsodium's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <sodium.h>

#include "ml/signal_client.h"
#include "signal_client_internal.h"

#define SECRET "correct horse battery staple"

static void test_verifier_vector(void **state) {
  (void)state;
  char v[45];
  assert_int_equal(ml_signal_room_verifier(SECRET, "ward-7", v), ML_OK);
  assert_string_equal(v, "POMMFjOVhHRqnDUiRXWlvOMnovCRGwvow9F6p9JBUyg=");
  char w[45];
  assert_int_equal(ml_signal_room_verifier(SECRET, "ward-8", w), ML_OK);
  assert_string_not_equal(v, w);
  assert_int_equal(ml_signal_room_verifier("", "ward-7", v), ML_ERR_INVALID);
  char long_secret[66];
  memset(long_secret, 'x', 65);
  long_secret[65] = '\0';
  assert_int_equal(ml_signal_room_verifier(long_secret, "ward-7", v), ML_ERR_INVALID);
}

static void test_psk_vector(void **state) {
  (void)state;
  /* salt = BLAKE2b-256("mentorlink room psk" || "ward-7")[0..16], from hashlib. */
  static const uint8_t salt[16] = {0xca, 0xeb, 0xa3, 0x9f, 0x5b, 0xc2, 0x33, 0xe4,
                                   0xbf, 0xb3, 0x3e, 0x4a, 0xe8, 0x13, 0x91, 0x7d};
  uint8_t want[32], got[32], other[32];
  assert_int_equal(crypto_pwhash(want, sizeof want, SECRET, strlen(SECRET), salt,
                                 crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13),
                   0);
  assert_int_equal(ml_signal_room_psk(SECRET, "ward-7", got), ML_OK);
  assert_memory_equal(got, want, 32);
  /* The documented vector (docs/PROTOCOL.md). */
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, got, sizeof got);
  assert_string_equal(hex, "fde7c79f3065b57c4a0b7f16679a74aa4c3fa42857f95b1e832d7d0136ee9d95");
  assert_int_equal(ml_signal_room_psk(SECRET, "ward-8", other), ML_OK);
  assert_memory_not_equal(got, other, 32);
}

static void test_config_refused(void **state) {
  (void)state;
  static const uint8_t key[32];
  ml_signal_client *sc = NULL;
  ml_signal_client_config base = {
      .context = g_main_context_default(),
      .url = "ws://127.0.0.1:1/v1/ws",
      .room = "ward-7",
      .name = "Dr Okafor",
      .identity_key = key,
  };
  ml_signal_client_config c = base;
  c.url = "http://127.0.0.1/v1/ws";
  assert_int_equal(ml_signal_client_new(&sc, &c), ML_ERR_INVALID);
  c = base;
  c.token = "t";
  assert_int_equal(ml_signal_client_new(&sc, &c), ML_ERR_INVALID); /* token and room */
  c = base;
  c.room = NULL;
  assert_int_equal(ml_signal_client_new(&sc, &c), ML_ERR_INVALID); /* neither */
  c = base;
  c.room = "bad room";
  assert_int_equal(ml_signal_client_new(&sc, &c), ML_ERR_INVALID);
  c = base;
  c.name = "tab\there";
  assert_int_equal(ml_signal_client_new(&sc, &c), ML_ERR_INVALID);
  c = base;
  c.name = "";
  assert_int_equal(ml_signal_client_new(&sc, &c), ML_ERR_INVALID);
  assert_null(sc);
  assert_int_equal(ml_signal_client_new(&sc, &base), ML_OK);
  assert_int_equal(ml_signal_client_get_state(sc), ML_SIGNAL_CLOSED);
  JsonObject *o = json_object_new();
  assert_int_equal(ml_signal_client_send(sc, "AAAA", o), ML_ERR_STATE); /* not joined */
  json_object_unref(o);
  ml_signal_client_free(sc);
}

static gboolean quit_loop(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

/* Two "shutdown" messages in a row schedule a reconnect twice: the first
 * timer must be cancelled, or it fires after the client is freed (a
 * use-after-free found by fuzz_signal_client; ASan fails this test then). */
static void test_second_shutdown_replaces_retry(void **state) {
  (void)state;
  static const uint8_t key[32];
  ml_signal_client_config c = {
      .context = g_main_context_default(),
      .url = "ws://127.0.0.1:1/v1/ws",
      .room = "ward-7",
      .name = "Dr Okafor",
      .identity_key = key,
  };
  ml_signal_client *sc = NULL;
  assert_int_equal(ml_signal_client_new(&sc, &c), ML_OK);
  static const char shutdown[] = "{\"v\":1,\"type\":\"shutdown\",\"reconnect\":true,"
                                 "\"retry_after_ms\":20}";
  ml_signal_client_test_receive(sc, shutdown, strlen(shutdown), true);
  ml_signal_client_test_receive(sc, shutdown, strlen(shutdown), true);
  assert_int_equal(ml_signal_client_get_state(sc), ML_SIGNAL_RECONNECTING);
  ml_signal_client_free(sc);
  /* Run the context well past the retry delay: no timer of the freed client may fire. */
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  g_timeout_add(200, quit_loop, loop);
  g_main_loop_run(loop);
  g_main_loop_unref(loop);
}

/* What the host controls hear from the server: role_changed, room_state,
 * join_failed, each checked (bad ones dropped), and the end of our place
 * (room_closed "ended" as room_ended, fatal). */
typedef struct heard {
  char role_peer[65], role_reason[17], failed_name[65], failed_reason[33], error[33];
  int role_host, locked;
  bool error_fatal;
} heard;

static void h_role(const char *peer, bool host, const char *reason, void *user) {
  heard *h = user;
  snprintf(h->role_peer, sizeof h->role_peer, "%s", peer);
  snprintf(h->role_reason, sizeof h->role_reason, "%s", reason);
  h->role_host = host;
}
static void h_room(bool locked, const char *by, void *user) {
  (void)by;
  ((heard *)user)->locked = locked;
}
static void h_failed(const char *name, const char *reason, void *user) {
  heard *h = user;
  snprintf(h->failed_name, sizeof h->failed_name, "%s", name);
  snprintf(h->failed_reason, sizeof h->failed_reason, "%s", reason);
}
static void h_error(const char *code, const char *message, bool fatal, void *user) {
  (void)message;
  heard *h = user;
  snprintf(h->error, sizeof h->error, "%s", code);
  h->error_fatal = fatal;
}

static void test_host_control_messages(void **state) {
  (void)state;
  static const uint8_t key[32];
  heard h = {.role_host = -1, .locked = -1};
  ml_signal_client_config c = {
      .context = g_main_context_default(),
      .url = "ws://127.0.0.1:1/v1/ws",
      .room = "ward-7",
      .name = "Dr Okafor",
      .identity_key = key,
      .callbacks = {.on_role_changed = h_role,
                    .on_room_state = h_room,
                    .on_join_failed = h_failed,
                    .on_error = h_error,
                    .user = &h},
  };
  ml_signal_client *sc = NULL;
  assert_int_equal(ml_signal_client_new(&sc, &c), ML_OK);
#define RX(text) ml_signal_client_test_receive(sc, text, strlen(text), true)
  /* Before a welcome: not for us. */
  RX("{\"v\":1,\"type\":\"room_state\",\"locked\":true,\"auto_admit\":false,\"by\":\"h1\"}");
  assert_int_equal(h.locked, -1);
  RX("{\"v\":1,\"type\":\"welcome\",\"peer_id\":\"me\",\"room\":\"ward-7\",\"role\":"
     "\"participant\",\"name\":\"Dr Okafor\",\"peers\":[]}");
  assert_int_equal(ml_signal_client_get_state(sc), ML_SIGNAL_JOINED);
  RX("{\"v\":1,\"type\":\"room_state\",\"locked\":true,\"auto_admit\":false,\"by\":\"h1\"}");
  assert_int_equal(h.locked, 1);
  RX("{\"v\":1,\"type\":\"role_changed\",\"peer\":\"me\",\"role\":\"host\",\"reason\":"
     "\"handover\"}");
  assert_string_equal(h.role_peer, "me");
  assert_int_equal(h.role_host, 1);
  assert_string_equal(h.role_reason, "handover");
  RX("{\"v\":1,\"type\":\"join_failed\",\"name\":\"Eve\",\"reason\":\"wrong_secret\"}");
  assert_string_equal(h.failed_name, "Eve");
  assert_string_equal(h.failed_reason, "wrong_secret");
  /* Bad ones are dropped and counted. */
  ml_signal_client_stats st0, st1;
  ml_signal_client_get_stats(sc, &st0);
  RX("{\"v\":1,\"type\":\"role_changed\",\"peer\":\"me\",\"role\":\"king\"}");
  RX("{\"v\":1,\"type\":\"role_changed\",\"peer\":\"a b\",\"role\":\"host\"}");
  RX("{\"v\":1,\"type\":\"room_state\",\"locked\":\"yes\"}");
  RX("{\"v\":1,\"type\":\"join_failed\",\"name\":\"Eve\"}");
  RX("{\"v\":1,\"type\":\"join_failed\",\"name\":\"\\u0007\",\"reason\":\"wrong_secret\"}");
  ml_signal_client_get_stats(sc, &st1);
  assert_int_equal(st1.dropped_invalid - st0.dropped_invalid, 5);
  assert_string_equal(h.failed_name, "Eve");
  assert_int_equal(h.role_host, 1);
  /* A host ended the session. */
  RX("{\"v\":1,\"type\":\"room_closed\",\"reason\":\"ended\"}");
  assert_string_equal(h.error, "room_ended");
  assert_true(h.error_fatal);
#undef RX
  ml_signal_client_free(sc);
}

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, test_verifier_vector, test_psk_vector,
             test_config_refused, test_second_shutdown_replaces_retry, test_host_control_messages)
