/* Unit tests for client message parsing (signaling/src/message.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

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
    "{\"v\":1,\"type\":\"end\"}",
    "{\"v\":1,\"type\":\"make_host\",\"peer\":\"p1\"}",
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
  assert_int_equal(parse(valid[11], &m), ML_SIG_OK);
  assert_int_equal(m.type, ML_SIG_MSG_END);
  ml_sig_msg_clear(&m);
  assert_int_equal(parse(valid[12], &m), ML_SIG_OK);
  assert_int_equal(m.type, ML_SIG_MSG_MAKE_HOST);
  assert_string_equal(m.peer, "p1");
  ml_sig_msg_clear(&m);
  /* end takes no fields; make_host needs a peer id. */
  assert_int_equal(code_of("{\"v\":1,\"type\":\"end\",\"peer\":\"p1\"}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"make_host\"}"), ML_SIG_E_BAD_FIELD);
  assert_int_equal(code_of("{\"v\":1,\"type\":\"make_host\",\"peer\":\"a b\"}"),
                   ML_SIG_E_BAD_FIELD);
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

/* ---- server messages: build -> parse -> same fields ---- */

/* Parses a built message; checks v, type and the member count. */
static JsonNode *reparse(char *text, const char *type, guint members) {
  assert_non_null(text);
  GError *err = NULL;
  JsonNode *root = json_from_string(text, &err);
  assert_null(err);
  assert_non_null(root);
  assert_true(JSON_NODE_HOLDS_OBJECT(root));
  JsonObject *o = json_node_get_object(root);
  assert_int_equal(json_object_get_int_member(o, "v"), ML_SIG_PROTOCOL_VERSION);
  assert_string_equal(json_object_get_string_member(o, "type"), type);
  assert_int_equal(json_object_get_size(o), members);
  g_free(text);
  return root;
}

static const char *str_of(JsonObject *o, const char *k) {
  JsonNode *n = json_object_get_member(o, k);
  assert_non_null(n);
  assert_true(JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING);
  return json_node_get_string(n);
}

static bool bool_of(JsonObject *o, const char *k) {
  JsonNode *n = json_object_get_member(o, k);
  assert_non_null(n);
  assert_true(JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN);
  return json_node_get_boolean(n);
}

static gint64 int_of(JsonObject *o, const char *k) {
  JsonNode *n = json_object_get_member(o, k);
  assert_non_null(n);
  assert_true(JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64);
  return json_node_get_int(n);
}

static void assert_peer(JsonObject *o, const ml_sig_peer_info *p, bool with_role) {
  assert_int_equal(json_object_get_size(o), with_role ? 4 : 3);
  assert_string_equal(str_of(o, "id"), p->id);
  assert_string_equal(str_of(o, "name"), p->name);
  assert_string_equal(str_of(o, "identity_key"), p->identity_key);
  if (with_role)
    assert_string_equal(str_of(o, "role"), ml_sig_role_name(p->role));
}

static const ml_sig_peer_info peer_a = {"pa", "Dr Ünal", KEY, ML_SIG_ROLE_HOST};
static const ml_sig_peer_info peer_b = {"pb", "Nurse \"B\"", KEY, ML_SIG_ROLE_PARTICIPANT};

static void test_build_welcome(void **state) {
  (void)state;
  static char stun0[] = "stun:a.example:3478", turn0[] = "turn:a.example:3478?transport=udp",
              turn1[] = "turns:a.example:5349";
  char *stun[] = {stun0, NULL};
  char *turn[] = {turn0, turn1, NULL};
  ml_sig_ice_server ice[] = {{.urls = stun},
                             {.urls = turn, .username = "1700:pz", .credential = "c2VjcmV0"}};
  ml_sig_peer_info peers[] = {peer_a, peer_b};
  ml_sig_welcome w = {.peer_id = "pz",
                      .room = "ward-7",
                      .role = ML_SIG_ROLE_PARTICIPANT,
                      .name = "Me",
                      .locked = true,
                      .auto_admit = false,
                      .capacity = 8,
                      .peers = peers,
                      .n_peers = 2,
                      .ice = ice,
                      .n_ice = 2};
  JsonNode *root = reparse(ml_sig_build_welcome(&w), "welcome", 11);
  JsonObject *o = json_node_get_object(root);
  assert_string_equal(str_of(o, "peer_id"), "pz");
  assert_string_equal(str_of(o, "room"), "ward-7");
  assert_string_equal(str_of(o, "role"), "participant");
  assert_string_equal(str_of(o, "name"), "Me");
  assert_true(bool_of(o, "locked"));
  assert_false(bool_of(o, "auto_admit"));
  assert_int_equal(int_of(o, "capacity"), 8);
  JsonArray *pa = json_object_get_array_member(o, "peers");
  assert_int_equal(json_array_get_length(pa), 2);
  assert_peer(json_array_get_object_element(pa, 0), &peer_a, true);
  assert_peer(json_array_get_object_element(pa, 1), &peer_b, true);
  JsonArray *ia = json_object_get_array_member(o, "ice_servers");
  assert_int_equal(json_array_get_length(ia), 2);
  JsonObject *s0 = json_array_get_object_element(ia, 0);
  assert_int_equal(json_object_get_size(s0), 1);
  JsonArray *u0 = json_object_get_array_member(s0, "urls");
  assert_int_equal(json_array_get_length(u0), 1);
  assert_string_equal(json_array_get_string_element(u0, 0), stun[0]);
  JsonObject *s1 = json_array_get_object_element(ia, 1);
  assert_int_equal(json_object_get_size(s1), 3);
  JsonArray *u1 = json_object_get_array_member(s1, "urls");
  assert_int_equal(json_array_get_length(u1), 2);
  assert_string_equal(json_array_get_string_element(u1, 0), turn[0]);
  assert_string_equal(json_array_get_string_element(u1, 1), turn[1]);
  assert_string_equal(str_of(s1, "username"), "1700:pz");
  assert_string_equal(str_of(s1, "credential"), "c2VjcmV0");
  json_node_unref(root);
  /* Alone in the room, no ICE servers configured: empty arrays. */
  w.n_peers = w.n_ice = 0;
  root = reparse(ml_sig_build_welcome(&w), "welcome", 11);
  o = json_node_get_object(root);
  assert_int_equal(json_array_get_length(json_object_get_array_member(o, "peers")), 0);
  assert_int_equal(json_array_get_length(json_object_get_array_member(o, "ice_servers")), 0);
  json_node_unref(root);
}

static void test_build_presence(void **state) {
  (void)state;
  JsonNode *root = reparse(ml_sig_build_waiting("pz", "ward-7"), "waiting", 4);
  assert_string_equal(str_of(json_node_get_object(root), "peer_id"), "pz");
  assert_string_equal(str_of(json_node_get_object(root), "room"), "ward-7");
  json_node_unref(root);
  root = reparse(ml_sig_build_knock(&peer_b), "knock", 3);
  assert_peer(json_object_get_object_member(json_node_get_object(root), "peer"), &peer_b, false);
  json_node_unref(root);
  root = reparse(ml_sig_build_peer_joined(&peer_a), "peer_joined", 3);
  assert_peer(json_object_get_object_member(json_node_get_object(root), "peer"), &peer_a, true);
  json_node_unref(root);
  root = reparse(ml_sig_build_peer_left("pb", "removed"), "peer_left", 4);
  assert_string_equal(str_of(json_node_get_object(root), "peer"), "pb");
  assert_string_equal(str_of(json_node_get_object(root), "reason"), "removed");
  json_node_unref(root);
  root = reparse(ml_sig_build_role_changed("pb", ML_SIG_ROLE_HOST, "handover"), "role_changed", 5);
  assert_string_equal(str_of(json_node_get_object(root), "peer"), "pb");
  assert_string_equal(str_of(json_node_get_object(root), "role"), "host");
  assert_string_equal(str_of(json_node_get_object(root), "reason"), "handover");
  json_node_unref(root);
  root = reparse(ml_sig_build_room_state(false, true, "pa"), "room_state", 5);
  assert_false(bool_of(json_node_get_object(root), "locked"));
  assert_true(bool_of(json_node_get_object(root), "auto_admit"));
  assert_string_equal(str_of(json_node_get_object(root), "by"), "pa");
  json_node_unref(root);
  json_node_unref(reparse(ml_sig_build_removed(), "removed", 2));
  json_node_unref(reparse(ml_sig_build_denied(), "denied", 2));
  root = reparse(ml_sig_build_room_closed("host_left"), "room_closed", 3);
  assert_string_equal(str_of(json_node_get_object(root), "reason"), "host_left");
  json_node_unref(root);
  root = reparse(ml_sig_build_join_failed("Eve", "wrong_secret"), "join_failed", 4);
  assert_string_equal(str_of(json_node_get_object(root), "name"), "Eve");
  assert_string_equal(str_of(json_node_get_object(root), "reason"), "wrong_secret");
  json_node_unref(root);
}

/* A relayed signal carries exactly what the sender's (parsed) signal held. */
static void test_build_signal(void **state) {
  (void)state;
  for (size_t i = 9; i <= 10; i++) {
    ml_sig_msg m;
    assert_int_equal(parse(valid[i], &m), ML_SIG_OK);
    JsonNode *root = reparse(ml_sig_build_signal("pa", m.data), "signal", 4);
    JsonObject *o = json_node_get_object(root);
    assert_string_equal(str_of(o, "from"), "pa");
    assert_true(json_node_equal(json_object_get_member(o, "data"), m.data));
    json_node_unref(root);
    ml_sig_msg_clear(&m);
  }
}

static void test_build_replies(void **state) {
  (void)state;
  JsonNode *root = reparse(ml_sig_build_pong("r1"), "pong", 3);
  assert_string_equal(str_of(json_node_get_object(root), "id"), "r1");
  json_node_unref(root);
  json_node_unref(reparse(ml_sig_build_pong(NULL), "pong", 2));
  root = reparse(ml_sig_build_error(ML_SIG_E_ROOM_FULL, "room is full", "join", "r2"), "error", 6);
  JsonObject *o = json_node_get_object(root);
  assert_string_equal(str_of(o, "code"), "room_full");
  assert_string_equal(str_of(o, "message"), "room is full");
  assert_string_equal(str_of(o, "ref"), "join");
  assert_string_equal(str_of(o, "id"), "r2");
  json_node_unref(root);
  /* Optional members are left out, an empty detail too. */
  root = reparse(ml_sig_build_error(ML_SIG_E_SERVER_FULL, "", NULL, NULL), "error", 3);
  assert_string_equal(str_of(json_node_get_object(root), "code"), "server_full");
  json_node_unref(root);
  root = reparse(ml_sig_build_shutdown(2500), "shutdown", 4);
  assert_true(bool_of(json_node_get_object(root), "reconnect"));
  assert_int_equal(int_of(json_node_get_object(root), "retry_after_ms"), 2500);
  json_node_unref(root);
  root = reparse(ml_sig_build_shutdown(-1), "shutdown", 3);
  assert_true(bool_of(json_node_get_object(root), "reconnect"));
  json_node_unref(root);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_valid_messages_parse, test_fields_are_typed,
             test_truncated_prefixes_rejected, test_codes, test_join_rules, test_limits,
             test_request_id_and_detail_on_error, test_error_names_complete, test_validators,
             test_build_welcome, test_build_presence, test_build_signal, test_build_replies)
