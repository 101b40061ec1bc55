/* unit.join_roster: the room as `mentorlink join` keeps it from the
 * events (client/cli/join_roster.h): members, roles, media, hands in
 * order, waiting people, names to ids, the /who text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <string.h>

#include <glib.h>

#include "join_roster.h"
#include "ui_event.h"

static ml_join_roster r;

static void apply(ml_call_event e) { ml_join_roster_apply(&r, &e); }

static void session(ml_call_session what, const char *peer, bool on, uint64_t order) {
  ml_call_event e = ml_test_event_of(ML_CALL_EV_SESSION, peer, NULL);
  e.session = what;
  e.on = on;
  e.order = order;
  apply(e);
}

static void room(void) {
  ml_join_roster_init(&r);
  apply(ml_test_event_of(ML_CALL_EV_JOINED, "me", "Dr O"));
  session(ML_CALL_SESSION_ROLE, "me", true, 0);
  apply(ml_test_event_of(ML_CALL_EV_KNOCK, "p1", "Sam"));
  apply(ml_test_event_of(ML_CALL_EV_PEER_JOINED, "p1", "Sam"));
  apply(ml_test_event_of(ML_CALL_EV_PEER_JOINED, "p2", "Ana"));
  apply(ml_test_event_of(ML_CALL_EV_KNOCK, "w1", "Lee"));
}

static void test_members_and_who(void **state) {
  (void)state;
  room();
  assert_true(ml_join_roster_self_host(&r));
  ml_call_event v = ml_test_event_of(ML_CALL_EV_VERIFIED, "p1", NULL);
  v.verified = true;
  apply(v);
  ml_call_event m = ml_test_event_of(ML_CALL_EV_PEER_MEDIA, "p1", NULL);
  m.media.muted = true;
  m.media.camera_on = true;
  apply(m);
  ml_call_event s = ml_test_event_of(ML_CALL_EV_STATS, "p1", NULL);
  s.stats.rtt_ms = 20;
  s.stats.loss = 0.01;
  apply(s);
  s = ml_test_event_of(ML_CALL_EV_STATS, "p2", NULL);
  s.stats.rtt_ms = 500;
  apply(s);
  /* Hands: Ana first, then Sam, then us; Ana lowers hers. */
  session(ML_CALL_SESSION_HAND, "p2", true, 1);
  session(ML_CALL_SESSION_HAND, "p1", true, 2);
  session(ML_CALL_SESSION_HAND, "me", true, 3);
  session(ML_CALL_SESSION_HAND, "p2", false, 0);
  session(ML_CALL_SESSION_LOCKED, "", true, 0);
  char *who = ml_join_roster_format(&r);
  assert_string_equal(who, "In the room (3), locked:\n"
                           "  Dr O (you)  [host]  hand raised (#2)  id me\n"
                           "  Ana  [participant]  mic ?, camera ?, not verified, connecting, "
                           "connection poor  id p2\n"
                           "  Sam  [participant]  mic muted, camera on, verified, encrypted, "
                           "connection good  hand raised (#1)  id p1\n"
                           "Waiting (1): /admit NAME or /deny NAME\n"
                           "  Lee  id w1\n");
  g_free(who);
  /* Not a host: nobody waiting is shown. */
  session(ML_CALL_SESSION_ROLE, "me", false, 0);
  assert_false(ml_join_roster_self_host(&r));
  who = ml_join_roster_format(&r);
  assert_null(strstr(who, "Waiting"));
  g_free(who);
  ml_join_roster_clear(&r);
}

static void test_find(void **state) {
  (void)state;
  room();
  bool amb;
  const ml_join_member *m = ml_join_roster_find(&r, "Sam", false, false, &amb);
  assert_non_null(m);
  assert_string_equal(m->id, "p1");
  assert_non_null(ml_join_roster_find(&r, "p2", false, false, &amb));
  /* A waiting one only when asked for; us only when allowed. */
  assert_null(ml_join_roster_find(&r, "Lee", false, false, &amb));
  assert_non_null(ml_join_roster_find(&r, "Lee", true, false, &amb));
  assert_null(ml_join_roster_find(&r, "Dr O", false, false, &amb));
  assert_non_null(ml_join_roster_find(&r, "Dr O", false, true, &amb));
  /* Two of one name: ambiguous; the id still works. */
  apply(ml_test_event_of(ML_CALL_EV_PEER_JOINED, "p3", "Sam"));
  assert_null(ml_join_roster_find(&r, "Sam", false, false, &amb));
  assert_true(amb);
  assert_non_null(ml_join_roster_find(&r, "p3", false, false, &amb));
  /* Gone: a denied knock, a member who left. */
  apply(ml_test_event_of(ML_CALL_EV_PEER_LEFT, "w1", NULL));
  apply(ml_test_event_of(ML_CALL_EV_PEER_LEFT, "p3", "Sam"));
  assert_null(ml_join_roster_find(&r, "Lee", true, false, &amb));
  assert_non_null(ml_join_roster_find(&r, "Sam", false, false, &amb));
  ml_join_roster_clear(&r);
}

static void test_clock(void **state) {
  (void)state;
  char out[96];
  ml_join_clock_text(0, -1, out, sizeof out);
  assert_string_equal(out, "Session: 0:00 elapsed");
  ml_join_clock_text(182999, 118001, out, sizeof out);
  assert_string_equal(out, "Session: 3:02 elapsed, 1:59 left");
  ml_join_clock_text(3723000, 0, out, sizeof out);
  assert_string_equal(out, "Session: 1:02:03 elapsed, 0:00 left");
  ml_join_clock_text(-5, 1, out, sizeof out);
  assert_string_equal(out, "Session: 0:00 elapsed, 0:01 left");
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_members_and_who, test_find, test_clock)
