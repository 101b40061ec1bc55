/* Unit tests for client message parsing (signaling/src/message.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "message.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define LIMIT 16384

static ml_sig_error parse(const char *text, ml_sig_msg *m) {
  return ml_sig_msg_parse(text, strlen(text), LIMIT, m, NULL, NULL);
}

static ml_sig_error code_of(const char *text) {
  ml_sig_msg m;
  ml_sig_error e = parse(text, &m);
  if (e == ML_SIG_OK)
    ml_sig_msg_clear(&m);
  return e;
}

static const char *const valid[] = {
    "{\"v\":1,\"type\":\"join\",\"token\":\"abc.def\",\"identity_key\":\"" KEY "\"}",
    "{\"v\":1,\"type\":\"join\",\"room\":\"ward-7\",\"name\":\"Dr Ünal\",\"secret\":\"s\","
    "\"identity_key\":\"" KEY "\",\"id\":\"r1\"}",
    "{\"v\":1,\"type\":\"leave\"}",
    "{\"v\":1,\"type\":\"ping\",\"id\":\"x\"}",
    "{\"v\":1,\"type\":\"admit\",\"peer\":\"p1\"}",
    "{\"v\":1,\"type\":\"deny\",\"peer\":\"p1\"}",
    "{\"v\":1,\"type\":\"remove\",\"peer\":\"p1\"}",
    "{\"v\":1,\"type\":\"lock\",\"locked\":true}",
    "{\"v\":1,\"type\":\"auto_admit\",\"enabled\":false}",
    "{\"v\":1,\"type\":\"signal\",\"to\":\"p1\",\"data\":{\"sdp\":\"x\",\"n\":[1,2]}}",
    "{\"v\":1,\"type\":\"signal\",\"to\":\"p1\",\"data\":\"opaque\"}",
};

static void test_valid_messages_parse(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
    ml_sig_msg m;
    assert_int_equal(parse(valid[i], &m), ML_SIG_OK);
    ml_sig_msg_clear(&m);
  }
}

static void test_fields_are_typed(void **state) {
  (void)state;
  ml_sig_msg m;
  assert_int_equal(parse(valid[1], &m), ML_SIG_OK);
  assert_int_equal(m.type, ML_SIG_MSG_JOIN);
  assert_string_equal(m.room, "ward-7");
  assert_string_equal(m.name, "Dr Ünal");
  assert_string_equal(m.secret, "s");
  assert_string_equal(m.identity_key, KEY);
  assert_string_equal(m.req_id, "r1");
  assert_null(m.token);
  ml_sig_msg_clear(&m);
  assert_int_equal(parse(valid[7], &m), ML_SIG_OK);
  assert_int_equal(m.type, ML_SIG_MSG_LOCK);
  assert_true(m.flag);
  ml_sig_msg_clear(&m);
  assert_int_equal(parse(valid[9], &m), ML_SIG_OK);
  assert_int_equal(m.type, ML_SIG_MSG_SIGNAL);
  assert_string_equal(m.peer, "p1");
  assert_true(JSON_NODE_HOLDS_OBJECT(m.data));
  ml_sig_msg_clear(&m);
  ml_sig_msg_clear(NULL);
}

/* Every truncated prefix of every valid message is refused, never crashes. */
static void test_truncated_prefixes_rejected(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
    size_t n = strlen(valid[i]);
    for (size_t k = 0; k < n; k++) {
      char *copy = malloc(k ? k : 1);
      memcpy(copy, valid[i], k);
      ml_sig_msg m;
      assert_int_not_equal(ml_sig_msg_parse(copy, k, LIMIT, &m, NULL, NULL), ML_SIG_OK);
      free(copy);
    }
  }
}

static void test_codes(void **state) {
  (void)state;
  assert_int_equal(code_of("nope"), ML_SIG_E_BAD_JSON);
  assert_int_equal(code_of("[]"), ML_SIG_E_BAD_JSON);
  assert_int_equal(code_of("1"), ML_SIG_E_BAD_JSON);
  assert_int_equal(code_of("{}"), ML_SIG_E_BAD_VERSION);
  assert_int_equal(code_of("{\"v\":2,\"type\":\"ping\"}"), ML_SIG_E_BAD_VERSION);
  assert_int_equal(code_of("{\"v\":true,\"type\":\"ping\"}"), ML_SIG_E_BAD_VERSION);
  assert_int_equal(code_of("{\"v\":1.0,\"type\":\"ping\"}"), ML_SIG_E_BAD_VERSION);
  assert_int_equal(code_of("{\"v\":1}"), ML_SIG_E_UNKNOWN_TYPE);
  assert_int_equal(code_of("{\"v\":1,\"type\":null}"), ML_SIG_E_UNKNOWN_TYPE);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"welcome\"}"), ML_SIG_E_UNKNOWN_TYPE);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"ping\",\"x\":1}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"ping\",\"id\":\"\"}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"admit\"}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"admit\",\"peer\":null}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"admit\",\"peer\":\"a/b\"}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"lock\",\"locked\":1}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"auto_admit\"}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"signal\",\"to\":\"p\",\"data\":5}"),
                   ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"signal\",\"to\":\"p\",\"data\":null}"),
                   ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"signal\",\"data\":{}}"), ML_SIG_E_BAD_FIELD);
}

static void test_join_rules(void **state) {
  (void)state;
  /* identity key: base64 of exactly 32 bytes. */
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"token\":\"t\"}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"token\":\"t\",\"identity_key\":"
                           "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\"}"),
                   ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"token\":\"t\",\"identity_key\":"
                           "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=\"}"),
                   ML_SIG_E_BAD_FIELD);
  /* token excludes open-mode fields; open mode needs room and name. */
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"token\":\"t\",\"room\":\"r\","
                           "\"identity_key\":\"" KEY "\"}"),
                   ML_SIG_E_BAD_FIELD);
  assert_int_equal(
      code_of("{\"v\":1,\"type\":\"join\",\"room\":\"r\",\"identity_key\":\"" KEY "\"}"),
      ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"room\":\"r r\",\"name\":\"n\","
                           "\"identity_key\":\"" KEY "\"}"),
                   ML_SIG_E_BAD_FIELD);
  /* Control characters in names. */
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"room\":\"r\",\"name\":\"a\\nb\","
                           "\"identity_key\":\"" KEY "\"}"),
                   ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"room\":\"r\",\"name\":\"\","
                           "\"identity_key\":\"" KEY "\"}"),
                   ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"room\":\"r\",\"name\":\"n\",\"secret\":"
                           "\"\",\"identity_key\":\"" KEY "\"}"),
                   ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"join\",\"role\":\"host\",\"room\":\"r\","
                           "\"name\":\"n\",\"identity_key\":\"" KEY "\"}"),
                   ML_SIG_E_BAD_FIELD);
}

static void test_limits(void **state) {
  (void)state;
  ml_sig_msg m;
  const char *t = "{\"v\":1,\"type\":\"ping\"}";
  assert_int_equal(ml_sig_msg_parse(t, strlen(t), strlen(t) - 1, &m, NULL, NULL), ML_SIG_E_TOO_BIG);
  assert_int_equal(ml_sig_msg_parse(t, strlen(t), strlen(t), &m, NULL, NULL), ML_SIG_OK);
  ml_sig_msg_clear(&m);
  assert_int_equal(ml_sig_msg_parse("", 0, LIMIT, &m, NULL, NULL), ML_SIG_E_BAD_JSON);
  /* Nesting beyond ML_SIG_MAX_DEPTH, and inside strings (which does not count). */
  char deep[512] = "{\"v\":1,\"type\":\"signal\",\"to\":\"p\",\"data\":";
  for (int i = 0; i < ML_SIG_MAX_DEPTH; i++)
    strcat(deep, "[");
  for (int i = 0; i < ML_SIG_MAX_DEPTH; i++)
    strcat(deep, "]");
  strcat(deep, "}");
  assert_int_equal(code_of(deep), ML_SIG_E_BAD_JSON);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"signal\",\"to\":\"p\",\"data\":\"[[[[[[[[[[[[[[[["
                           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"\"}"),
                   ML_SIG_OK);
  /* Strings over their bounds. */
  char longname[200];
  snprintf(longname, sizeof longname, "{\"v\":1,\"type\":\"admit\",\"peer\":\"%065d\"}", 0);
  assert_int_equal(code_of(longname), ML_SIG_E_BAD_FIELD);
  /* Exactly one top-level object (json-glib 1.6 leaks on "1 {}" and "{}{}"). */
  assert_int_equal(code_of("2{\"v\":1,\"type\":\"ping\"}"), ML_SIG_E_BAD_JSON);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"ping\"}{\"v\":1,\"type\":\"ping\"}"),
                   ML_SIG_E_BAD_JSON);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"ping\"} x"), ML_SIG_E_BAD_JSON);
  assert_int_equal(code_of(" \r\n\t{\"v\":1,\"type\":\"ping\"} \n"), ML_SIG_OK);
  assert_int_equal(code_of("   "), ML_SIG_E_BAD_JSON);
  /* Embedded NUL and invalid UTF-8. */
  const char nul[] = "{\"v\":1,\0\"type\":\"ping\"}";
  assert_int_equal(ml_sig_msg_parse(nul, sizeof nul - 1, LIMIT, &m, NULL, NULL), ML_SIG_E_BAD_JSON);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"pi\xc3ng\"}"), ML_SIG_E_BAD_JSON);
}

static void test_request_id_and_detail_on_error(void **state) {
  (void)state;
  ml_sig_msg m;
  const char *detail = NULL;
  char *id = NULL;
  const char *t = "{\"v\":1,\"type\":\"lock\",\"id\":\"req-9\"}";
  assert_int_equal(ml_sig_msg_parse(t, strlen(t), LIMIT, &m, &detail, &id), ML_SIG_E_BAD_FIELD);
  assert_string_equal(id, "req-9");
  assert_non_null(detail);
  assert_true(strlen(detail) > 0);
  g_free(id);
  /* Cleared on error: nothing to free. */
  assert_null(m.req_id);
  assert_null(m.data);
}

static void test_error_names_complete(void **state) {
  (void)state;
  for (int i = 0; i < ML_SIG_E_COUNT_; i++) {
    const char *n = ml_sig_error_name((ml_sig_error)i);
    assert_non_null(n);
    assert_true(strlen(n) > 1);
    for (int j = 0; j < i; j++)
      assert_string_not_equal(n, ml_sig_error_name((ml_sig_error)j));
  }
  assert_string_equal(ml_sig_error_name(ML_SIG_E_COUNT_), "internal");
  assert_string_equal(ml_sig_msg_type_name(ML_SIG_MSG_AUTO_ADMIT), "auto_admit");
}

static void test_validators(void **state) {
  (void)state;
  assert_true(ml_sig_valid_id("a.B-c_9"));
  assert_false(ml_sig_valid_id(""));
  assert_false(ml_sig_valid_id("a b"));
  assert_false(ml_sig_valid_id("é"));
  assert_true(ml_sig_valid_name("Dr José Ünal"));
  assert_false(ml_sig_valid_name("tab\there"));
  assert_false(ml_sig_valid_name("\xe2\x80\xa8"));
  assert_true(ml_sig_valid_identity_key(KEY));
  assert_false(ml_sig_valid_identity_key("AAAA"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_messages_parse),
      cmocka_unit_test(test_fields_are_typed),
      cmocka_unit_test(test_truncated_prefixes_rejected),
      cmocka_unit_test(test_codes),
      cmocka_unit_test(test_join_rules),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_request_id_and_detail_on_error),
      cmocka_unit_test(test_error_names_complete),
      cmocka_unit_test(test_validators),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
