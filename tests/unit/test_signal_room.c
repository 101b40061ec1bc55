/* Unit tests for the room state machine (signaling/src/room.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "room.h"

typedef struct rec {
  int to;
  ml_room_event_type type;
  char subject[65];
  char reason[32];
  bool detach;
  void *payload;
} rec;

typedef struct fixture {
  ml_room_registry *reg;
  rec log[256];
  unsigned n;
  int conns[32]; /* conn handles: &conns[i] identifies peer i */
  ml_room_peer *peers[32];
} fixture;

static fixture fx;

static int conn_index(void *conn) { return (int)((int *)conn - fx.conns); }

static void sink(void *user, void *conn, const ml_room_event *ev) {
  (void)user;
  assert_true(fx.n < 256);
  rec *r = &fx.log[fx.n++];
  memset(r, 0, sizeof *r);
  r->to = conn_index(conn);
  r->type = ev->type;
  strcpy(r->subject, ev->subject->id);
  if (ev->reason)
    strcpy(r->reason, ev->reason);
  r->detach = ev->detach;
  r->payload = ev->payload;
  if (ev->detach)
    fx.peers[r->to] = NULL;
}

static int setup(void **state) {
  (void)state;
  memset(&fx, 0, sizeof fx);
  assert_int_equal(ml_room_registry_new(&fx.reg, 4, sink, NULL), ML_OK);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ml_room_registry_free(fx.reg);
  return 0;
}

static const ml_room_settings waiting_room = {
    .capacity = 3, .waiting_max = 2, .auto_admit = false, .end_on_host_leave = false};
static const ml_room_settings open_door = {
    .capacity = 3, .waiting_max = 2, .auto_admit = true, .end_on_host_leave = false};

static ml_sig_error join_s(int i, const char *room, ml_sig_role role, const ml_room_settings *s,
                           const uint8_t *secret) {
  char id[8], name[8];
  snprintf(id, sizeof id, "p%d", i);
  snprintf(name, sizeof name, "N%d", i);
  ml_room_join_req req = {.room_id = room,
                          .peer_id = id,
                          .name = name,
                          .identity_key = "key",
                          .role = role,
                          .settings = s,
                          .secret_hash = secret,
                          .conn = &fx.conns[i]};
  ml_room_peer *p = NULL;
  ml_sig_error e = ml_room_join(fx.reg, &req, &p);
  if (e == ML_SIG_OK)
    fx.peers[i] = p;
  else
    assert_null(p);
  return e;
}

static ml_sig_error join(int i, const char *room, ml_sig_role role) {
  return join_s(i, room, role, &waiting_room, NULL);
}

/* Finds a logged event; returns its index or -1. */
static int find(int to, ml_room_event_type type, const char *subject) {
  for (unsigned i = 0; i < fx.n; i++)
    if (fx.log[i].to == to && fx.log[i].type == type &&
        (!subject || !strcmp(fx.log[i].subject, subject)))
      return (int)i;
  return -1;
}

static unsigned count_to(int to) {
  unsigned c = 0;
  for (unsigned i = 0; i < fx.n; i++)
    c += fx.log[i].to == to;
  return c;
}

static void test_first_join_creates_room_and_welcomes(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(ml_room_registry_room_count(fx.reg), 1);
  assert_true(ml_room_registry_has_room(fx.reg, "r"));
  assert_true(find(0, ML_ROOM_EV_WELCOME, "p0") >= 0);
  assert_int_equal(fx.peers[0]->state, ML_ROOM_PEER_ADMITTED);
  assert_string_equal(ml_room_id(fx.peers[0]->room), "r");
  assert_int_equal(ml_room_capacity(fx.peers[0]->room), 3);
}

static void test_presence_on_join_and_leave(void **state) {
  (void)state;
  assert_int_equal(join_s(0, "r", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(1, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
  assert_true(find(1, ML_ROOM_EV_WELCOME, "p1") >= 0);
  assert_true(find(0, ML_ROOM_EV_PEER_JOINED, "p1") >= 0);
  assert_int_equal(find(1, ML_ROOM_EV_PEER_JOINED, "p1"), -1); /* not told about itself */
  const ml_room *room = fx.peers[1]->room;
  assert_int_equal(ml_room_peer_count(room), 2);
  assert_string_equal(ml_room_peer_at(room, 0)->name, "N0");
  assert_null(ml_room_peer_at(room, 2));
  ml_room_leave(fx.reg, fx.peers[1]);
  int i = find(0, ML_ROOM_EV_PEER_LEFT, "p1");
  assert_true(i >= 0);
  assert_string_equal(fx.log[i].reason, "left");
  /* A lost connection is told apart from a leave. */
  assert_int_equal(join_s(2, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
  ml_room_drop(fx.reg, fx.peers[2]);
  i = find(0, ML_ROOM_EV_PEER_LEFT, "p2");
  assert_true(i >= 0);
  assert_string_equal(fx.log[i].reason, "disconnected");
  ml_room_leave(fx.reg, fx.peers[0]);
  assert_int_equal(ml_room_registry_room_count(fx.reg), 0);
  assert_int_equal(ml_room_registry_peer_count(fx.reg), 0);
}

static void test_waiting_room_knock_admit(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_true(find(1, ML_ROOM_EV_WAITING, "p1") >= 0);
  assert_true(find(0, ML_ROOM_EV_KNOCK, "p1") >= 0);
  assert_int_equal(find(0, ML_ROOM_EV_PEER_JOINED, "p1"), -1);
  /* The waiting peer cannot relay, nor be relayed to. */
  assert_int_equal(ml_room_signal(fx.reg, fx.peers[1], "p0", NULL), ML_SIG_E_NOT_ADMITTED);
  assert_int_equal(ml_room_signal(fx.reg, fx.peers[0], "p1", NULL), ML_SIG_E_NO_SUCH_PEER);
  /* Only hosts admit. */
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[1], "p1"), ML_SIG_E_NOT_ADMITTED);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[0], "p1"), ML_SIG_OK);
  assert_true(find(1, ML_ROOM_EV_WELCOME, "p1") >= 0);
  assert_true(find(0, ML_ROOM_EV_PEER_JOINED, "p1") >= 0);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[0], "p1"), ML_SIG_E_NO_SUCH_PEER);
  assert_int_equal(join(2, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[1], "p2"), ML_SIG_E_NOT_HOST);
}

static void test_deny_detaches(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(ml_room_deny(fx.reg, fx.peers[0], "p1"), ML_SIG_OK);
  int i = find(1, ML_ROOM_EV_DENIED, "p1");
  assert_true(i >= 0 && fx.log[i].detach);
  assert_null(fx.peers[1]);
  i = find(0, ML_ROOM_EV_PEER_LEFT, "p1");
  assert_true(i >= 0);
  assert_string_equal(fx.log[i].reason, "denied");
  assert_int_equal(ml_room_registry_peer_count(fx.reg), 1);
}

static void test_waiting_room_bounded(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(join(2, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(join(3, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_E_WAITING_FULL);
  /* A waiting peer leaving is told to hosts. */
  ml_room_leave(fx.reg, fx.peers[2]);
  assert_true(find(0, ML_ROOM_EV_PEER_LEFT, "p2") >= 0);
  assert_int_equal(find(1, ML_ROOM_EV_PEER_LEFT, "p2"), -1);
  assert_int_equal(join(3, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
}

static void test_capacity(void **state) {
  (void)state;
  for (int i = 0; i < 3; i++)
    assert_int_equal(
        join_s(i, "r", i ? ML_SIG_ROLE_PARTICIPANT : ML_SIG_ROLE_HOST, &open_door, NULL),
        ML_SIG_OK);
  assert_int_equal(join_s(3, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_E_ROOM_FULL);
  assert_int_equal(join_s(3, "r", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_E_ROOM_FULL);
  ml_room_leave(fx.reg, fx.peers[2]);
  assert_int_equal(join_s(3, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
}

static void test_admit_respects_capacity(void **state) {
  (void)state;
  ml_room_settings s = waiting_room;
  s.capacity = 1;
  assert_int_equal(join_s(0, "r", ML_SIG_ROLE_HOST, &s, NULL), ML_SIG_OK);
  assert_int_equal(join_s(1, "r", ML_SIG_ROLE_PARTICIPANT, &s, NULL), ML_SIG_E_ROOM_FULL);
}

static void test_lock(void **state) {
  (void)state;
  assert_int_equal(join_s(0, "r", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(1, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(ml_room_set_locked(fx.reg, fx.peers[1], true), ML_SIG_E_NOT_HOST);
  assert_int_equal(ml_room_set_locked(fx.reg, fx.peers[0], true), ML_SIG_OK);
  assert_true(ml_room_locked(fx.peers[0]->room));
  assert_true(find(1, ML_ROOM_EV_ROOM_STATE, "p0") >= 0);
  assert_true(find(0, ML_ROOM_EV_ROOM_STATE, "p0") >= 0);
  assert_int_equal(join_s(2, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_E_ROOM_LOCKED);
  /* A host (e.g. reconnecting) may still enter. */
  assert_int_equal(join_s(2, "r", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  ml_room_leave(fx.reg, fx.peers[2]);
  assert_int_equal(ml_room_set_locked(fx.reg, fx.peers[0], false), ML_SIG_OK);
  assert_int_equal(join_s(3, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
}

static void test_remove(void **state) {
  (void)state;
  assert_int_equal(join_s(0, "r", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(1, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(2, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(ml_room_remove(fx.reg, fx.peers[1], "p2"), ML_SIG_E_NOT_HOST);
  assert_int_equal(ml_room_remove(fx.reg, fx.peers[0], "p0"), ML_SIG_E_NO_SUCH_PEER);
  assert_int_equal(ml_room_remove(fx.reg, fx.peers[0], "nobody"), ML_SIG_E_NO_SUCH_PEER);
  assert_int_equal(ml_room_remove(fx.reg, fx.peers[0], "p1"), ML_SIG_OK);
  int i = find(1, ML_ROOM_EV_REMOVED, "p1");
  assert_true(i >= 0 && fx.log[i].detach);
  i = find(2, ML_ROOM_EV_PEER_LEFT, "p1");
  assert_true(i >= 0);
  assert_string_equal(fx.log[i].reason, "removed");
  assert_null(fx.peers[1]);
}

static void test_remove_other_room_refused(void **state) {
  (void)state;
  assert_int_equal(join_s(0, "a", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(1, "b", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(ml_room_remove(fx.reg, fx.peers[0], "p1"), ML_SIG_E_NO_SUCH_PEER);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[0], "p1"), ML_SIG_E_NO_SUCH_PEER);
}

static void test_relay_same_room_only(void **state) {
  (void)state;
  int payload = 42;
  assert_int_equal(join_s(0, "a", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(1, "a", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(2, "b", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(ml_room_signal(fx.reg, fx.peers[0], "p1", &payload), ML_SIG_OK);
  int i = find(1, ML_ROOM_EV_SIGNAL, "p0");
  assert_true(i >= 0);
  assert_ptr_equal(fx.log[i].payload, &payload);
  unsigned before = count_to(2);
  assert_int_equal(ml_room_signal(fx.reg, fx.peers[0], "p2", &payload), ML_SIG_E_NO_SUCH_PEER);
  assert_int_equal(ml_room_signal(fx.reg, fx.peers[0], "p0", &payload), ML_SIG_E_NO_SUCH_PEER);
  assert_int_equal(ml_room_signal(fx.reg, fx.peers[0], "zz", &payload), ML_SIG_E_NO_SUCH_PEER);
  assert_int_equal(count_to(2), before);
}

static void test_host_handover_to_longest_present(void **state) {
  (void)state;
  for (int i = 0; i < 3; i++)
    assert_int_equal(
        join_s(i, "r", i ? ML_SIG_ROLE_PARTICIPANT : ML_SIG_ROLE_HOST, &open_door, NULL),
        ML_SIG_OK);
  ml_room_leave(fx.reg, fx.peers[0]);
  assert_int_equal(fx.peers[1]->role, ML_SIG_ROLE_HOST);
  assert_int_equal(fx.peers[2]->role, ML_SIG_ROLE_PARTICIPANT);
  assert_true(find(2, ML_ROOM_EV_ROLE_CHANGED, "p1") >= 0);
  assert_true(find(1, ML_ROOM_EV_ROLE_CHANGED, "p1") >= 0);
  assert_int_equal(ml_room_set_locked(fx.reg, fx.peers[1], true), ML_SIG_OK);
}

static void test_host_handover_knocks_waiting(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[0], "p1"), ML_SIG_OK);
  assert_int_equal(join(2, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  ml_room_leave(fx.reg, fx.peers[0]);
  assert_true(find(1, ML_ROOM_EV_KNOCK, "p2") >= 0); /* the new host learns the queue */
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[1], "p2"), ML_SIG_OK);
}

static void test_cohost_leaving_keeps_host(void **state) {
  (void)state;
  assert_int_equal(join_s(0, "r", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(1, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL), ML_SIG_OK);
  assert_int_equal(join_s(2, "r", ML_SIG_ROLE_HOST, &open_door, NULL), ML_SIG_OK);
  ml_room_leave(fx.reg, fx.peers[0]);
  assert_int_equal(fx.peers[1]->role, ML_SIG_ROLE_PARTICIPANT);
  assert_int_equal(find(1, ML_ROOM_EV_ROLE_CHANGED, NULL), -1);
}

static void test_host_leave_ends_room(void **state) {
  (void)state;
  ml_room_settings s = open_door;
  s.end_on_host_leave = true;
  for (int i = 0; i < 3; i++)
    assert_int_equal(join_s(i, "r", i ? ML_SIG_ROLE_PARTICIPANT : ML_SIG_ROLE_HOST, &s, NULL),
                     ML_SIG_OK);
  ml_room_leave(fx.reg, fx.peers[0]);
  for (int i = 1; i < 3; i++) {
    int k = find(i, ML_ROOM_EV_CLOSED, NULL);
    assert_true(k >= 0 && fx.log[k].detach);
    assert_null(fx.peers[i]);
  }
  assert_int_equal(ml_room_registry_room_count(fx.reg), 0);
  assert_int_equal(ml_room_registry_peer_count(fx.reg), 0);
}

static void test_auto_admit_toggle_admits_queue(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(join(2, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(ml_room_set_auto_admit(fx.reg, fx.peers[1], true), ML_SIG_E_NOT_ADMITTED);
  assert_int_equal(ml_room_set_auto_admit(fx.reg, fx.peers[0], true), ML_SIG_OK);
  assert_true(ml_room_auto_admit(fx.peers[0]->room));
  assert_int_equal(fx.peers[1]->state, ML_ROOM_PEER_ADMITTED);
  assert_int_equal(fx.peers[2]->state, ML_ROOM_PEER_ADMITTED);
  assert_true(find(2, ML_ROOM_EV_PEER_JOINED, "p1") >= 0 ||
              find(1, ML_ROOM_EV_PEER_JOINED, "p2") >= 0);
}

static void test_participant_first_waits_for_host(void **state) {
  (void)state;
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_true(find(1, ML_ROOM_EV_WAITING, "p1") >= 0);
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_true(find(0, ML_ROOM_EV_KNOCK, "p1") >= 0);
}

static void test_open_mode_secret(void **state) {
  (void)state;
  uint8_t a[32], b[32];
  memset(a, 1, sizeof a);
  memset(b, 2, sizeof b);
  assert_int_equal(join_s(0, "r", ML_SIG_ROLE_HOST, &open_door, a), ML_SIG_OK);
  assert_int_equal(join_s(1, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, b), ML_SIG_E_WRONG_SECRET);
  assert_int_equal(join_s(1, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, NULL),
                   ML_SIG_E_UNAUTHORIZED);
  assert_int_equal(join_s(1, "r", ML_SIG_ROLE_PARTICIPANT, &open_door, a), ML_SIG_OK);
}

static void test_max_rooms(void **state) {
  (void)state;
  const char *rooms[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; i++)
    assert_int_equal(join(i, rooms[i], ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(4, "e", ML_SIG_ROLE_HOST), ML_SIG_E_SERVER_FULL);
  assert_int_equal(join(4, "a", ML_SIG_ROLE_HOST), ML_SIG_OK); /* existing room: fine */
  assert_int_equal(ml_room_registry_room_count(fx.reg), 4);
}

/* A host ends the session: everyone, waiting ones too, gets CLOSED "ended"
 * (detached) and the room goes; a participant cannot. */
static void test_end_for_all(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[0], "p1"), ML_SIG_OK);
  assert_int_equal(join(2, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK); /* waits */
  assert_int_equal(ml_room_end(fx.reg, fx.peers[1]), ML_SIG_E_NOT_HOST);
  assert_int_equal(ml_room_end(fx.reg, fx.peers[0]), ML_SIG_OK);
  for (int i = 0; i < 3; i++) {
    int k = find(i, ML_ROOM_EV_CLOSED, NULL);
    assert_true(k >= 0);
    assert_string_equal(fx.log[k].reason, "ended");
    assert_true(fx.log[k].detach);
    assert_null(fx.peers[i]);
  }
  assert_false(ml_room_registry_has_room(fx.reg, "r"));
  assert_int_equal(ml_room_registry_peer_count(fx.reg), 0);
}

/* A host hands over to a member: both roles change, told to everyone, and
 * the new host is knocked for the waiting peer. Not to a waiting peer, not
 * by a participant. */
static void test_hand_over(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[0], "p1"), ML_SIG_OK);
  assert_int_equal(join(2, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK); /* waits */
  assert_int_equal(ml_room_hand_over(fx.reg, fx.peers[1], "p0"), ML_SIG_E_NOT_HOST);
  assert_int_equal(ml_room_hand_over(fx.reg, fx.peers[0], "p2"), ML_SIG_E_NO_SUCH_PEER);
  assert_int_equal(ml_room_hand_over(fx.reg, fx.peers[0], "nobody"), ML_SIG_E_NO_SUCH_PEER);
  fx.n = 0;
  assert_int_equal(ml_room_hand_over(fx.reg, fx.peers[0], "p1"), ML_SIG_OK);
  assert_int_equal(fx.peers[1]->role, ML_SIG_ROLE_HOST);
  assert_int_equal(fx.peers[0]->role, ML_SIG_ROLE_PARTICIPANT);
  for (int i = 0; i < 2; i++) {
    int a = find(i, ML_ROOM_EV_ROLE_CHANGED, "p1"), b = find(i, ML_ROOM_EV_ROLE_CHANGED, "p0");
    assert_true(a >= 0 && b > a);
    assert_string_equal(fx.log[a].reason, "handover");
  }
  assert_true(find(1, ML_ROOM_EV_KNOCK, "p2") >= 0);
  assert_int_equal(find(2, ML_ROOM_EV_ROLE_CHANGED, NULL), -1);
  /* The old host is a participant now. */
  assert_int_equal(ml_room_set_locked(fx.reg, fx.peers[0], true), ML_SIG_E_NOT_HOST);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[1], "p2"), ML_SIG_OK);
}

/* A refused join is told to the room's admitted hosts only. */
static void test_join_failed_to_hosts(void **state) {
  (void)state;
  assert_int_equal(join(0, "r", ML_SIG_ROLE_HOST), ML_SIG_OK);
  assert_int_equal(join(1, "r", ML_SIG_ROLE_PARTICIPANT), ML_SIG_OK);
  assert_int_equal(ml_room_admit(fx.reg, fx.peers[0], "p1"), ML_SIG_OK);
  fx.n = 0;
  ml_room_notify_join_failed(fx.reg, "r", "Eve", "wrong_secret");
  ml_room_notify_join_failed(fx.reg, "no-such-room", "Eve", "wrong_secret");
  assert_int_equal(fx.n, 1);
  assert_int_equal(fx.log[0].to, 0);
  assert_int_equal(fx.log[0].type, ML_ROOM_EV_JOIN_FAILED);
  assert_string_equal(fx.log[0].reason, "wrong_secret");
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, ml_unit_fixture, test_first_join_creates_room_and_welcomes,
             test_presence_on_join_and_leave, test_waiting_room_knock_admit, test_deny_detaches,
             test_waiting_room_bounded, test_capacity, test_admit_respects_capacity, test_lock,
             test_remove, test_remove_other_room_refused, test_relay_same_room_only,
             test_host_handover_to_longest_present, test_host_handover_knocks_waiting,
             test_cohost_leaving_keeps_host, test_host_leave_ends_room,
             test_auto_admit_toggle_admits_queue, test_participant_first_waits_for_host,
             test_open_mode_secret, test_max_rooms, test_end_for_all, test_hand_over,
             test_join_failed_to_hosts)
