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

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, test_verifier_vector, test_psk_vector,
             test_config_refused, test_second_shutdown_replaces_retry)
