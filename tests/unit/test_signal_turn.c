/* Unit tests for TURN REST credentials (signaling/src/turn.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"
#include <glib.h>

#include "turn.h"

/* Expected values computed independently:
 * python3: base64(hmac.new(b'north-wing-secret', b'1700003600:alice', sha1)). */
static void test_turn_known_answer(void **state) {
  (void)state;
  char *u = NULL, *p = NULL;
  assert_int_equal(ml_turn_credentials("north-wing-secret", "alice", 1700000000, 3600, &u, &p),
                   ML_OK);
  assert_string_equal(u, "1700003600:alice");
  assert_string_equal(p, "nToMrymG2kblkPfdN7PuQJZ9JVU=");
  g_free(u);
  g_free(p);
}

static void test_turn_refuses_bad_input(void **state) {
  (void)state;
  char *u = NULL, *p = NULL;
  assert_int_equal(ml_turn_credentials("", "a", 1, 1, &u, &p), ML_ERR_INVALID);
  assert_int_equal(ml_turn_credentials("s", "", 1, 1, &u, &p), ML_ERR_INVALID);
  assert_int_equal(ml_turn_credentials("s", "a:b", 1, 1, &u, &p), ML_ERR_INVALID);
  assert_int_equal(ml_turn_credentials("s", "a", 1, 0, &u, &p), ML_ERR_INVALID);
  assert_null(u);
  assert_null(p);
}

/* The welcome's ICE list: STUN alone, TURN with credentials, neither. */
static void test_turn_ice_servers(void **state) {
  (void)state;
  static char s0[] = "stun:a:3478", t0[] = "turn:a:3478", t1[] = "turns:a:5349";
  char *stun[] = {s0, NULL}, *turn[] = {t0, t1, NULL}, *none[] = {NULL};
  ml_turn_ice ice;
  ml_turn_ice_servers(&ice, stun, turn, "north-wing-secret", 3600, "alice", 1700000000);
  assert_int_equal(ice.n, 2);
  assert_ptr_equal(ice.servers[0].urls, stun);
  assert_null(ice.servers[0].username);
  assert_null(ice.servers[0].credential);
  assert_ptr_equal(ice.servers[1].urls, turn);
  assert_string_equal(ice.servers[1].username, "1700003600:alice");
  assert_string_equal(ice.servers[1].credential, "nToMrymG2kblkPfdN7PuQJZ9JVU=");
  ml_turn_ice_clear(&ice);
  assert_int_equal(ice.n, 0);
  assert_null(ice.password);
  /* TURN without a secret, or with a user it cannot name, is left out. */
  ml_turn_ice_servers(&ice, NULL, turn, NULL, 3600, "alice", 1);
  assert_int_equal(ice.n, 0);
  ml_turn_ice_clear(&ice);
  ml_turn_ice_servers(&ice, none, turn, "s", 3600, "a:b", 1);
  assert_int_equal(ice.n, 0);
  ml_turn_ice_clear(&ice);
  ml_turn_ice_servers(&ice, stun, NULL, "s", 3600, "alice", 1);
  assert_int_equal(ice.n, 1);
  ml_turn_ice_clear(&ice);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_turn_known_answer, test_turn_refuses_bad_input,
             test_turn_ice_servers)
