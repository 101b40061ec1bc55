/* Unit tests for signed join tokens (signaling/src/token.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"
#include <sodium.h>

#include "ml/signal_token.h"

static const uint8_t secret[] = "0123456789abcdef0123456789abcdef-unit";
#define SECRET_LEN (sizeof secret - 1)
#define NOW 1700000000

static char *issue(const char *room, ml_token_role role, const char *name, int64_t exp) {
  ml_token_claims c = {0};
  strcpy(c.room, room);
  strcpy(c.name, name);
  c.role = role;
  c.expiry = exp;
  char *tok = NULL;
  assert_int_equal(ml_token_issue(secret, SECRET_LEN, &c, &tok), ML_OK);
  return tok;
}

static void test_roundtrip(void **state) {
  (void)state;
  char *tok = issue("ward-7", ML_TOKEN_ROLE_HOST, "Dr Ünal", NOW + 60);
  ml_token_claims c;
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, tok, NOW, &c), ML_OK);
  assert_string_equal(c.room, "ward-7");
  assert_string_equal(c.name, "Dr Ünal");
  assert_int_equal(c.role, ML_TOKEN_ROLE_HOST);
  assert_int_equal(c.expiry, NOW + 60);
  assert_non_null(strchr(tok, '.'));
  assert_null(strchr(tok, '=')); /* base64url without padding */
  assert_null(strchr(tok, '+'));
  free(tok);
}

static void test_expired(void **state) {
  (void)state;
  char *tok = issue("r", ML_TOKEN_ROLE_PARTICIPANT, "n", NOW);
  ml_token_claims c;
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, tok, NOW, &c), ML_ERR_STATE);
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, tok, NOW - 1, &c), ML_OK);
  free(tok);
}

/* A token with a start time: refused before it (ML_ERR_STATE, the claims
 * filled so the server can say from when), good from it until its expiry. */
static void test_not_before(void **state) {
  (void)state;
  ml_token_claims in = {
      .role = ML_TOKEN_ROLE_PARTICIPANT, .expiry = NOW + 3600, .not_before = NOW + 600};
  strcpy(in.room, "ward-7");
  strcpy(in.name, "Nurse");
  char *tok = NULL;
  assert_int_equal(ml_token_issue(secret, SECRET_LEN, &in, &tok), ML_OK);
  ml_token_claims c;
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, tok, NOW, &c), ML_ERR_STATE);
  assert_int_equal(c.not_before, NOW + 600);
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, tok, NOW + 599, &c), ML_ERR_STATE);
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, tok, NOW + 600, &c), ML_OK);
  assert_int_equal(c.not_before, NOW + 600);
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, tok, NOW + 3600, &c), ML_ERR_STATE);
  /* The client reads the scheduled window without the secret. */
  assert_int_equal(ml_token_read_claims(tok, &c), ML_OK);
  assert_int_equal(c.not_before, NOW + 600);
  assert_int_equal(c.expiry, NOW + 3600);
  assert_string_equal(c.room, "ward-7");
  free(tok);
  assert_int_equal(ml_token_read_claims("", &c), ML_ERR_PROTOCOL);
  assert_int_equal(ml_token_read_claims("not a token", &c), ML_ERR_PROTOCOL);
  assert_int_equal(ml_token_read_claims(".abc", &c), ML_ERR_PROTOCOL);
  assert_int_equal(ml_token_read_claims("e30.abc", &c), ML_ERR_PROTOCOL); /* {} */
  /* A start at or after the end is refused at issue. */
  in.not_before = in.expiry;
  tok = NULL;
  assert_int_equal(ml_token_issue(secret, SECRET_LEN, &in, &tok), ML_ERR_INVALID);
  assert_null(tok);
}

static void test_wrong_secret(void **state) {
  (void)state;
  char *tok = issue("r", ML_TOKEN_ROLE_HOST, "n", NOW + 60);
  uint8_t other[SECRET_LEN];
  memcpy(other, secret, SECRET_LEN);
  other[0] ^= 1;
  ml_token_claims c;
  assert_int_equal(ml_token_verify(other, SECRET_LEN, tok, NOW, &c), ML_ERR_CRYPTO);
  free(tok);
}

/* Flipping any character of the token must never yield a valid token. */
static void test_every_tamper_rejected(void **state) {
  (void)state;
  char *tok = issue("r", ML_TOKEN_ROLE_PARTICIPANT, "n", NOW + 60);
  size_t n = strlen(tok);
  for (size_t i = 0; i < n; i++) {
    char saved = tok[i];
    tok[i] = saved == 'A' ? 'B' : 'A';
    ml_token_claims c;
    int rc = ml_token_verify(secret, SECRET_LEN, tok, NOW, &c);
    /* The last character of the tag may carry only padding bits: flipping
     * them can decode to the same bytes, which libsodium rejects as non-canonical
     * or accepts as identical. Either way never a *different* valid token. */
    if (rc == ML_OK)
      assert_int_equal(c.role, ML_TOKEN_ROLE_PARTICIPANT);
    else
      assert_true(rc == ML_ERR_CRYPTO || rc == ML_ERR_PROTOCOL);
    tok[i] = saved;
  }
  free(tok);
}

static void test_role_escalation_by_grafting(void **state) {
  (void)state;
  char *p = issue("r", ML_TOKEN_ROLE_PARTICIPANT, "n", NOW + 60);
  char *h = issue("r", ML_TOKEN_ROLE_HOST, "n", NOW + 60);
  char graft[2048];
  snprintf(graft, sizeof graft, "%.*s%s", (int)(strchr(h, '.') - h), h, strchr(p, '.'));
  ml_token_claims c;
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, graft, NOW, &c), ML_ERR_CRYPTO);
  free(p);
  free(h);
}

static void test_truncated_prefixes(void **state) {
  (void)state;
  char *tok = issue("r", ML_TOKEN_ROLE_HOST, "n", NOW + 60);
  size_t n = strlen(tok);
  for (size_t k = 0; k < n; k++) {
    char *pre = strndup(tok, k);
    ml_token_claims c;
    assert_int_not_equal(ml_token_verify(secret, SECRET_LEN, pre, NOW, &c), ML_OK);
    free(pre);
  }
  free(tok);
}

static void test_malformed(void **state) {
  (void)state;
  ml_token_claims c;
  const char *bad[] = {"", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???", "a b.c"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_not_equal(ml_token_verify(secret, SECRET_LEN, bad[i], NOW, &c), ML_OK);
  char big[ML_TOKEN_MAX_LEN + 10];
  memset(big, 'A', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(ml_token_verify(secret, SECRET_LEN, big, NOW, &c), ML_ERR_PROTOCOL);
}

/* A correctly signed payload with the wrong shape is still refused. */
static void test_signed_but_bad_payload(void **state) {
  (void)state;
  const char *payloads[] = {
      "{\"v\":2,\"room\":\"r\",\"role\":\"host\",\"name\":\"n\",\"exp\":1800000000}",
      "{\"v\":1,\"room\":\"r r\",\"role\":\"host\",\"name\":\"n\",\"exp\":1800000000}",
      "{\"v\":1,\"room\":\"r\",\"role\":\"admin\",\"name\":\"n\",\"exp\":1800000000}",
      "{\"v\":1,\"room\":\"r\",\"role\":\"host\",\"name\":\"n\",\"exp\":\"soon\"}",
      "{\"v\":1,\"room\":\"r\",\"role\":\"host\",\"name\":\"n\",\"exp\":1800000000,\"x\":1}",
      "{\"v\":1,\"room\":\"r\",\"role\":\"host\",\"name\":\"n\",\"exp\":1800000000,\"nbf\":0}",
      "{\"v\":1,\"room\":\"r\",\"role\":\"host\",\"name\":\"n\",\"exp\":1800000000,"
      "\"nbf\":1800000000}",
      "{\"v\":1,\"room\":\"r\",\"role\":\"host\",\"name\":\"n\",\"exp\":1800000000,"
      "\"nbf\":\"x\"}",
      "[1]",
      "not json",
  };
  for (size_t i = 0; i < sizeof payloads / sizeof *payloads; i++) {
    char head[512], tagtxt[128], tok[1024];
    sodium_bin2base64(head, sizeof head, (const unsigned char *)payloads[i], strlen(payloads[i]),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    uint8_t tag[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, SECRET_LEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)head, strlen(head));
    crypto_auth_hmacsha256_final(&st, tag);
    sodium_bin2base64(tagtxt, sizeof tagtxt, tag, sizeof tag,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(tok, sizeof tok, "%s.%s", head, tagtxt);
    ml_token_claims c;
    assert_int_equal(ml_token_verify(secret, SECRET_LEN, tok, NOW, &c), ML_ERR_PROTOCOL);
  }
}

static void test_issue_refuses_bad_input(void **state) {
  (void)state;
  ml_token_claims c = {.role = ML_TOKEN_ROLE_HOST, .expiry = NOW};
  strcpy(c.room, "r");
  strcpy(c.name, "n");
  char *tok = NULL;
  assert_int_equal(ml_token_issue(secret, 16, &c, &tok), ML_ERR_INVALID);
  strcpy(c.room, "bad room");
  assert_int_equal(ml_token_issue(secret, SECRET_LEN, &c, &tok), ML_ERR_INVALID);
  strcpy(c.room, "r");
  strcpy(c.name, "tab\t");
  assert_int_equal(ml_token_issue(secret, SECRET_LEN, &c, &tok), ML_ERR_INVALID);
  assert_null(tok);
}

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, test_roundtrip, test_expired, test_not_before,
             test_wrong_secret, test_every_tamper_rejected, test_role_escalation_by_grafting,
             test_truncated_prefixes, test_malformed, test_signed_but_bad_payload,
             test_issue_refuses_bad_input)
