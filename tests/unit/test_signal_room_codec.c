/* Unit tests for a room's state as text (signaling/src/room_codec.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>

#include "unit.h"

#include "room.h"
#include "room_codec.h"

#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static unsigned events;
static void sink(void *user, void *conn, const ml_room_event *ev) {
  (void)user;
  (void)conn;
  (void)ev;
  events++;
}
static const char *inst_of(void *user, const ml_room_peer *p) {
  (void)user;
  return p->role == ML_SIG_ROLE_HOST ? "instA" : "instB";
}
static char conn_marker;
static void *conn_for(void *user, const char *peer_id, const char *inst) {
  (void)user;
  (void)peer_id;
  return strcmp(inst, "instA") == 0 ? &conn_marker : NULL;
}

static const ml_room_settings settings = {.capacity = 4, .waiting_max = 2};

/* A room with a host (admitted, on instA) and a waiting participant. */
static char *sample(bool open_mode) {
  ml_room_registry *reg = NULL;
  assert_int_equal(ml_room_registry_new(&reg, 4, sink, NULL), ML_OK);
  uint8_t hash[32];
  memset(hash, 7, sizeof hash);
  ml_room_join_req req = {.room_id = "r1",
                          .peer_id = "host1",
                          .name = "Dr Ama",
                          .identity_key = KEY,
                          .role = ML_SIG_ROLE_HOST,
                          .settings = &settings,
                          .secret_hash = open_mode ? hash : NULL,
                          .conn = NULL};
  ml_room_peer *p = NULL;
  assert_int_equal(ml_room_join(reg, &req, &p), ML_SIG_OK);
  req.peer_id = "part1";
  req.name = "Kofi";
  req.role = ML_SIG_ROLE_PARTICIPANT;
  assert_int_equal(ml_room_join(reg, &req, &p), ML_SIG_OK);
  assert_int_equal(ml_room_set_locked(reg, ml_room_find_peer(reg, "host1"), true), ML_SIG_OK);
  char *text = ml_room_codec_encode(reg, ml_room_find(reg, "r1"), inst_of, NULL);
  ml_room_registry_free(reg);
  return text;
}

static void test_round_trip(void **state) {
  (void)state;
  for (int open_mode = 0; open_mode < 2; open_mode++) {
    char *text = sample(open_mode);
    ml_room_registry *reg = NULL;
    assert_int_equal(ml_room_registry_new(&reg, 4, sink, NULL), ML_OK);
    ml_room *room = NULL;
    events = 0;
    assert_int_equal(ml_room_codec_decode(reg, text, strlen(text), conn_for, NULL, &room), ML_OK);
    assert_int_equal(events, 0); /* restoring tells no one */
    assert_true(ml_room_locked(room));
    assert_int_equal(ml_room_capacity(room), 4);
    assert_int_equal(ml_room_peer_count(room), 2);
    const ml_room_peer *h = ml_room_peer_at(room, 0), *w = ml_room_peer_at(room, 1);
    assert_string_equal(h->id, "host1");
    assert_string_equal(h->name, "Dr Ama");
    assert_int_equal(h->role, ML_SIG_ROLE_HOST);
    assert_int_equal(h->state, ML_ROOM_PEER_ADMITTED);
    assert_ptr_equal(h->conn, &conn_marker);
    assert_int_equal(w->state, ML_ROOM_PEER_WAITING);
    assert_null(w->conn);
    assert_true((ml_room_secret_hash(room) != NULL) == (open_mode != 0));
    /* Encoding it again gives the same text: the record is canonical. */
    char *again = ml_room_codec_encode(reg, room, inst_of, NULL);
    assert_string_equal(again, text);
    /* The restored room works: the host admits the waiting peer. */
    assert_int_equal(ml_room_admit(reg, ml_room_find_peer(reg, "host1"), "part1"), ML_SIG_OK);
    assert_true(events > 0);
    /* A second copy of the same room cannot go into the same registry. */
    assert_int_equal(ml_room_codec_decode(reg, text, strlen(text), conn_for, NULL, &room),
                     ML_ERR_PROTOCOL);
    g_free(again);
    g_free(text);
    ml_room_registry_free(reg);
  }
}

/* Every truncated prefix, and a few hostile edits, are refused cleanly. */
static void test_malformed(void **state) {
  (void)state;
  char *text = sample(true);
  size_t n = strlen(text);
  for (size_t i = 0; i < n; i++) {
    ml_room_registry *reg = NULL;
    assert_int_equal(ml_room_registry_new(&reg, 4, sink, NULL), ML_OK);
    ml_room *room = NULL;
    assert_int_equal(ml_room_codec_decode(reg, text, i, conn_for, NULL, &room), ML_ERR_PROTOCOL);
    assert_int_equal(ml_room_registry_room_count(reg), 0);
    ml_room_registry_free(reg);
  }
  static const char *const bad[] = {
      "{\"v\":2}",
      "{\"v\":1,\"room\":\"r\",\"capacity\":0,\"waiting_max\":1,\"auto_admit\":false,"
      "\"end_on_host_leave\":false,\"locked\":false,\"next_seq\":0,\"peers\":[]}",
      /* seq not below next_seq */
      "{\"v\":1,\"room\":\"r\",\"capacity\":1,\"waiting_max\":1,\"auto_admit\":false,"
      "\"end_on_host_leave\":false,\"locked\":false,\"next_seq\":0,\"peers\":[{\"id\":\"a\","
      "\"name\":\"A\",\"key\":\"" KEY "\",\"role\":\"host\",\"state\":\"admitted\",\"seq\":0,"
      "\"inst\":\"i\"}]}",
      /* duplicate ids */
      "{\"v\":1,\"room\":\"r\",\"capacity\":1,\"waiting_max\":1,\"auto_admit\":false,"
      "\"end_on_host_leave\":false,\"locked\":false,\"next_seq\":5,\"peers\":[{\"id\":\"a\","
      "\"name\":\"A\",\"key\":\"" KEY "\",\"role\":\"host\",\"state\":\"admitted\",\"seq\":0,"
      "\"inst\":\"i\"},{\"id\":\"a\",\"name\":\"A\",\"key\":\"" KEY "\",\"role\":\"host\","
      "\"state\":\"admitted\",\"seq\":1,\"inst\":\"i\"}]}",
      /* unknown member */
      "{\"v\":1,\"x\":1,\"room\":\"r\",\"capacity\":1,\"waiting_max\":1,\"auto_admit\":false,"
      "\"end_on_host_leave\":false,\"locked\":false,\"next_seq\":0,\"peers\":[]}",
      /* bad secret */
      "{\"v\":1,\"room\":\"r\",\"capacity\":1,\"waiting_max\":1,\"auto_admit\":false,"
      "\"end_on_host_leave\":false,\"locked\":false,\"secret\":\"zz\",\"next_seq\":0,"
      "\"peers\":[]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ml_room_registry *reg = NULL;
    assert_int_equal(ml_room_registry_new(&reg, 4, sink, NULL), ML_OK);
    ml_room *room = NULL;
    assert_int_equal(ml_room_codec_decode(reg, bad[i], strlen(bad[i]), conn_for, NULL, &room),
                     ML_ERR_PROTOCOL);
    assert_int_equal(ml_room_registry_room_count(reg), 0);
    assert_int_equal(ml_room_registry_peer_count(reg), 0);
    ml_room_registry_free(reg);
  }
  g_free(text);
}

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, test_round_trip, test_malformed)
