/* Unit tests for join authorisation (signaling/src/join_auth.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"
#include <glib.h>

#include "join_auth.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define NOW INT64_C(1700000000)

static const uint8_t open_key[ML_JOIN_AUTH_KEY_LEN] = {1, 2, 3};
/* ml_sig_msg holds owned (non-const) strings. */
static char key[] = KEY, room_r[] = "r", room_r1[] = "r1", name_n[] = "n";

static void sink(void *user, void *conn, const ml_room_event *ev) {
  (void)user;
  (void)conn;
  (void)ev;
}

static void config(ml_signal_config *cfg, bool open_mode) {
  ml_signal_config_init(cfg);
  cfg->open_mode = open_mode;
  if (!open_mode)
    assert_int_equal(ml_signal_config_set_token_secret(cfg, "0123456789abcdef0123456789abcdef"),
                     ML_OK);
}

static char *issue(const ml_signal_config *cfg, ml_token_role role, int64_t expiry) {
  ml_token_claims c = {.room = "ward-7", .name = "Dr A", .role = role, .expiry = expiry};
  char *tok = NULL;
  assert_int_equal(ml_token_issue(cfg->token_secret, cfg->token_secret_len, &c, &tok), ML_OK);
  return tok;
}

static void test_token_mode(void **state) {
  (void)state;
  ml_signal_config cfg;
  config(&cfg, false);
  ml_room_registry *reg = NULL;
  assert_int_equal(ml_room_registry_new(&reg, 4, sink, NULL), ML_OK);
  ml_join_auth a;
  const char *detail = NULL;
  char *tok = issue(&cfg, ML_TOKEN_ROLE_HOST, NOW + 60);
  ml_sig_msg m = {.type = ML_SIG_MSG_JOIN, .token = tok, .identity_key = key};
  assert_int_equal(ml_join_authorise(&cfg, open_key, reg, &m, NOW, &a, &detail), ML_SIG_OK);
  assert_string_equal(a.req.room_id, "ward-7");
  assert_string_equal(a.req.name, "Dr A");
  assert_string_equal(a.req.identity_key, KEY);
  assert_int_equal(a.req.role, ML_SIG_ROLE_HOST);
  assert_null(a.req.secret_hash);
  assert_int_equal(a.req.settings->capacity, cfg.room_capacity);
  ml_join_auth_clear(&a);
  /* Expired; forged; missing; open-mode fields on a token server. */
  assert_int_equal(ml_join_authorise(&cfg, open_key, reg, &m, NOW + 61, &a, &detail),
                   ML_SIG_E_TOKEN_EXPIRED);
  ml_join_auth_clear(&a);
  tok[strlen(tok) - 2] ^= 1;
  assert_int_equal(ml_join_authorise(&cfg, open_key, reg, &m, NOW, &a, &detail),
                   ML_SIG_E_UNAUTHORIZED);
  assert_true(strlen(detail) > 0);
  ml_join_auth_clear(&a);
  ml_sig_msg open = {.type = ML_SIG_MSG_JOIN, .room = room_r, .name = name_n, .identity_key = key};
  assert_int_equal(ml_join_authorise(&cfg, open_key, reg, &open, NOW, &a, &detail),
                   ML_SIG_E_UNAUTHORIZED);
  ml_join_auth_clear(&a);
  g_free(tok);
  ml_room_registry_free(reg);
  ml_signal_config_clear(&cfg);
}

/* Open mode: the creator hosts, later joiners participate; the secret is
 * hashed with the server key ("" when absent), never passed on. */
static void test_open_mode(void **state) {
  (void)state;
  ml_signal_config cfg;
  config(&cfg, true);
  ml_room_registry *reg = NULL;
  assert_int_equal(ml_room_registry_new(&reg, 4, sink, NULL), ML_OK);
  ml_sig_msg m = {.type = ML_SIG_MSG_JOIN, .room = room_r1, .name = name_n, .identity_key = key};
  ml_join_auth a, b;
  const char *detail = NULL;
  assert_int_equal(ml_join_authorise(&cfg, open_key, reg, &m, NOW, &a, &detail), ML_SIG_OK);
  assert_int_equal(a.req.role, ML_SIG_ROLE_HOST);
  assert_string_equal(a.req.room_id, "r1");
  assert_ptr_equal(a.req.secret_hash, a.secret_hash);
  a.req.peer_id = "p1";
  ml_room_peer *p = NULL;
  assert_int_equal(ml_room_join(reg, &a.req, &p), ML_SIG_OK);
  char s[] = "secret";
  m.secret = s;
  assert_int_equal(ml_join_authorise(&cfg, open_key, reg, &m, NOW, &b, &detail), ML_SIG_OK);
  assert_int_equal(b.req.role, ML_SIG_ROLE_PARTICIPANT);
  assert_memory_not_equal(a.secret_hash, b.secret_hash, sizeof a.secret_hash);
  ml_join_auth_clear(&a);
  ml_join_auth_clear(&b);
  uint8_t zero[32] = {0};
  assert_memory_equal(b.secret_hash, zero, sizeof zero);
  ml_sig_msg tok = {.type = ML_SIG_MSG_JOIN, .token = s, .identity_key = key};
  assert_int_equal(ml_join_authorise(&cfg, open_key, reg, &tok, NOW, &a, &detail),
                   ML_SIG_E_UNAUTHORIZED);
  ml_join_auth_clear(&a);
  ml_room_leave(reg, p);
  ml_room_registry_free(reg);
  ml_signal_config_clear(&cfg);
}

static void test_refusals(void **state) {
  (void)state;
  assert_true(ml_join_auth_is_refusal(ML_SIG_E_UNAUTHORIZED));
  assert_true(ml_join_auth_is_refusal(ML_SIG_E_WRONG_SECRET));
  assert_true(ml_join_auth_is_refusal(ML_SIG_E_TOKEN_EXPIRED));
  assert_false(ml_join_auth_is_refusal(ML_SIG_E_ROOM_FULL));
  assert_false(ml_join_auth_is_refusal(ML_SIG_OK));
  /* Per connection: closed at the third refusal. */
  unsigned failed = 0;
  bool ip_over = true;
  assert_false(ml_join_auth_failed(&failed, NULL, 0, &ip_over));
  assert_false(ip_over);
  assert_false(ml_join_auth_failed(&failed, NULL, 0, &ip_over));
  assert_true(ml_join_auth_failed(&failed, NULL, 0, &ip_over));
  /* Per address: the burst, then closed until the budget refills. */
  ml_ratelimit rl;
  ml_ratelimit_init(&rl, ML_JOIN_AUTH_FAIL_RATE, ML_JOIN_AUTH_FAIL_BURST, 0);
  for (int i = 0; i < (int)ML_JOIN_AUTH_FAIL_BURST; i++) {
    failed = 0;
    assert_false(ml_join_auth_failed(&failed, &rl, 0, &ip_over));
  }
  failed = 0;
  assert_true(ml_join_auth_failed(&failed, &rl, 0, &ip_over));
  assert_true(ip_over);
  failed = 0;
  assert_false(ml_join_auth_failed(&failed, &rl, 1000000, &ip_over));
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_token_mode, test_open_mode, test_refusals)
