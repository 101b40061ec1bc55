/* The window's model (client/ui/model.c), fed engine events: participants,
 * states, chat with receipts and unread count, banners, identity alerts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "ml/signal_client.h"
#include "model.h"
#include "ui_event.h"

static ml_ui_model m;

static bool apply(ml_call_event e) { return ml_ui_model_apply(&m, &e, 1000, 1700000000); }

static bool has_banner(const char *needle, ml_ui_banner_kind kind) {
  ml_ui_banner b[ML_UI_MAX_BANNERS];
  size_t n = ml_ui_model_banners(&m, 1000, b, ML_UI_MAX_BANNERS);
  for (size_t i = 0; i < n; i++)
    if (strstr(b[i].text, needle) && b[i].kind == kind)
      return true;
  return false;
}

static int setup(void **state) {
  (void)state;
  ml_ui_model_init(&m, "Dr. Mentor");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ml_ui_model_clear(&m);
  return 0;
}

static void join_secure_peer(const char *id, const char *name) {
  apply(ml_test_event_of(ML_CALL_EV_PEER_JOINED, id, name));
  ml_call_event v = ml_test_event_of(ML_CALL_EV_VERIFIED, id, name);
  snprintf(v.sas, sizeof v.sas, "aardvark absurd accrue acme adrift");
  snprintf(v.safety_number, sizeof v.safety_number, "12345 67890");
  apply(v);
}

static void test_connecting_to_joined(void **state) {
  (void)state;
  assert_true(has_banner("Connecting to the server", ML_UI_BANNER_INFO));
  ml_call_event s = ml_test_event_of(ML_CALL_EV_SIGNALING, NULL, NULL);
  s.state = ML_SIGNAL_CONNECTING;
  assert_true(apply(s));
  assert_true(has_banner("Connecting to the server", ML_UI_BANNER_INFO));
  s.state = ML_SIGNAL_JOINED;
  apply(s);
  ml_call_event j = ml_test_event_of(ML_CALL_EV_JOINED, "self1", "Dr. Mentor");
  char room[] = "ward-7";
  j.text = room;
  apply(j);
  assert_true(m.joined);
  assert_string_equal(m.room, "ward-7");
  assert_true(has_banner("Waiting for others to join room ward-7", ML_UI_BANNER_INFO));
  apply(ml_test_event_of(ML_CALL_EV_PEER_JOINED, "p1", "Sam Mentee"));
  assert_int_equal(m.n_peers, 1);
  assert_true(has_banner("Connecting to Sam Mentee", ML_UI_BANNER_INFO));
  ml_call_event ps = ml_test_event_of(ML_CALL_EV_PEER_STATE, "p1", "Sam Mentee");
  ps.state = ML_CALL_LINK_HANDSHAKING;
  apply(ps);
  assert_int_equal(m.peers[0].link_state, ML_CALL_LINK_HANDSHAKING);
  join_secure_peer("p1", "Sam Mentee");
  assert_true(m.peers[0].secure);
  assert_string_equal(m.peers[0].sas, "aardvark absurd accrue acme adrift");
  assert_false(has_banner("Connecting", ML_UI_BANNER_INFO));
  s.state = ML_SIGNAL_RECONNECTING;
  apply(s);
  assert_true(has_banner("reconnecting", ML_UI_BANNER_WARNING));
}

static void test_media_quality_banners(void **state) {
  (void)state;
  join_secure_peer("p1", "Sam");
  ml_call_event st = ml_test_event_of(ML_CALL_EV_STATS, "p1", "Sam");
  st.stats.rtt_ms = 40;
  st.stats.loss = 0.0;
  st.stats.path = ML_CALL_PATH_HOST;
  assert_true(apply(st));
  assert_int_equal(m.peers[0].quality, ML_UI_QUALITY_GOOD);
  assert_false(apply(st)); /* nothing visible changed */
  st.stats.loss = 0.15;
  assert_true(apply(st));
  assert_int_equal(m.peers[0].quality, ML_UI_QUALITY_POOR);
  assert_string_equal(ml_ui_quality_name(m.peers[0].quality), "Poor");
  st.stats.loss = 0.03;
  apply(st);
  assert_int_equal(m.peers[0].quality, ML_UI_QUALITY_FAIR);
  st.stats.path = ML_CALL_PATH_RELAY;
  apply(st);
  assert_true(has_banner("Relayed through a TURN server with Sam", ML_UI_BANNER_INFO));
  ml_call_event md = ml_test_event_of(ML_CALL_EV_PEER_MEDIA, "p1", "Sam");
  md.media.muted = true;
  md.media.camera_on = false;
  md.media.video_paused = true;
  assert_true(apply(md));
  assert_true(m.peers[0].media_known && m.peers[0].media.muted && !m.peers[0].media.camera_on);
  assert_true(has_banner("Sam's video is paused", ML_UI_BANNER_WARNING));
  assert_false(has_banner("Your video is paused", ML_UI_BANNER_WARNING));
  st.stats.video_paused = true; /* our sender paused for the worst peer's path */
  assert_true(apply(st));
  assert_true(has_banner("Your video is paused", ML_UI_BANNER_WARNING));
  st.stats.video_paused = false;
  assert_true(apply(st));
  assert_false(has_banner("Your video is paused", ML_UI_BANNER_WARNING));
  /* final stats do not overwrite */
  st.stats.final = true;
  st.stats.loss = 0;
  assert_false(apply(st));
}

static void test_chat_receipts_unread(void **state) {
  (void)state;
  join_secure_peer("p1", "Sam");
  join_secure_peer("p2", "Alex");
  char hi[] = "Hello ✓";
  ml_call_event c = ml_test_event_of(ML_CALL_EV_CHAT, "p1", "Sam");
  c.text = hi;
  apply(c);
  apply(c);
  assert_int_equal(m.unread, 2);
  assert_string_equal(m.chat[0].sender, "Sam");
  assert_false(m.chat[0].outgoing);
  assert_int_equal(m.chat[0].wall_s, 1700000000);
  ml_ui_model_set_chat_open(&m, true);
  assert_int_equal(m.unread, 0);
  apply(c);
  assert_int_equal(m.unread, 0); /* open: read */

  ml_ui_model_add_outgoing(&m, "Go ahead", 1700000001);
  ml_ui_chat_msg *mine = &m.chat[m.n_chat - 1];
  assert_true(mine->outgoing);
  assert_int_equal(ml_ui_model_delivery(mine), ML_UI_DELIVERY_SENDING);
  char go[] = "Go ahead";
  ml_call_event sent = ml_test_event_of(ML_CALL_EV_CHAT_SENT, "p1", "Sam");
  sent.text = go;
  sent.id = 7;
  apply(sent);
  sent = ml_test_event_of(ML_CALL_EV_CHAT_SENT, "p2", "Alex");
  sent.text = go;
  sent.id = 3;
  apply(sent);
  assert_int_equal(m.chat[m.n_chat - 1].n_to, 2);
  assert_int_equal(ml_ui_model_delivery(&m.chat[m.n_chat - 1]), ML_UI_DELIVERY_SENT);
  ml_call_event r = ml_test_event_of(ML_CALL_EV_RECEIPT, "p1", "Sam");
  r.id = 7;
  assert_true(apply(r));
  assert_int_equal(ml_ui_model_delivery(&m.chat[m.n_chat - 1]), ML_UI_DELIVERY_SENT);
  r = ml_test_event_of(ML_CALL_EV_RECEIPT, "p2", "Alex");
  r.id = 7; /* not the id Alex got */
  assert_false(apply(r));
  r.id = 3;
  assert_true(apply(r));
  assert_int_equal(ml_ui_model_delivery(&m.chat[m.n_chat - 1]), ML_UI_DELIVERY_DELIVERED);
  /* A line sent without typing (e.g. --chat) appears as ours. */
  char auto_line[] = "from the command line";
  sent = ml_test_event_of(ML_CALL_EV_CHAT_SENT, "p1", "Sam");
  sent.text = auto_line;
  sent.id = 8;
  size_t before = m.n_chat;
  apply(sent);
  assert_int_equal(m.n_chat, before + 1);
  assert_true(m.chat[m.n_chat - 1].outgoing);
}

static void test_chat_log_bounded(void **state) {
  (void)state;
  join_secure_peer("p1", "Sam");
  char text[32];
  ml_call_event c = ml_test_event_of(ML_CALL_EV_CHAT, "p1", "Sam");
  c.text = text;
  for (int i = 0; i < ML_UI_MAX_CHAT + 100; i++) {
    snprintf(text, sizeof text, "line %d", i);
    apply(c);
  }
  assert_int_equal(m.n_chat, ML_UI_MAX_CHAT);
  assert_string_equal(m.chat[0].text, "line 100");
  assert_int_equal(m.chat_serial, ML_UI_MAX_CHAT + 100);
}

static void test_identity_and_verification(void **state) {
  (void)state;
  join_secure_peer("p1", "Sam");
  assert_null(ml_ui_model_identity_alert(&m));
  ml_call_event ic = ml_test_event_of(ML_CALL_EV_IDENTITY_CHANGED, "p1", "Sam");
  snprintf(ic.old_fingerprint, sizeof ic.old_fingerprint, "aaaa");
  snprintf(ic.fingerprint, sizeof ic.fingerprint, "bbbb");
  apply(ic);
  const ml_ui_peer *alert = ml_ui_model_identity_alert(&m);
  assert_non_null(alert);
  assert_string_equal(alert->old_fingerprint, "aaaa");
  ml_call_event mv = ml_test_event_of(ML_CALL_EV_MARKED_VERIFIED, "p1", "Sam");
  mv.err = ML_ERR_IO; /* storing failed: still an alert */
  assert_false(apply(mv));
  assert_non_null(ml_ui_model_identity_alert(&m));
  mv.err = 0;
  assert_true(apply(mv));
  assert_null(ml_ui_model_identity_alert(&m));
  assert_true(m.peers[0].verified);
  /* A later call: the VERIFIED event says the pin was verified before. */
  ml_call_event v = ml_test_event_of(ML_CALL_EV_VERIFIED, "p1", "Sam");
  v.verified = true;
  apply(v);
  assert_true(m.peers[0].verified);
}

static void test_peer_left_and_knock(void **state) {
  (void)state;
  ml_call_event k = ml_test_event_of(ML_CALL_EV_KNOCK, "p9", "Visitor");
  assert_true(apply(k));
  assert_false(apply(k)); /* once */
  ml_ui_banner b[ML_UI_MAX_BANNERS];
  size_t n = ml_ui_model_banners(&m, 0, b, ML_UI_MAX_BANNERS);
  bool knock = false;
  for (size_t i = 0; i < n; i++)
    knock = knock || (!strcmp(b[i].knock_id, "p9") && strstr(b[i].text, "Visitor"));
  assert_true(knock);
  apply(ml_test_event_of(ML_CALL_EV_PEER_JOINED, "p9", "Visitor")); /* admitted */
  assert_int_equal(m.n_knocks, 0);
  join_secure_peer("p1", "Sam");
  assert_int_equal(m.n_peers, 2);
  ml_call_event left = ml_test_event_of(ML_CALL_EV_PEER_LEFT, "p1", "Sam");
  assert_true(ml_ui_model_apply(&m, &left, 5000, 0));
  assert_int_equal(m.n_peers, 1);
  assert_string_equal(m.peers[0].id, "p9");
  n = ml_ui_model_banners(&m, 6000, b, ML_UI_MAX_BANNERS);
  bool shown = false;
  for (size_t i = 0; i < n; i++)
    shown = shown || strstr(b[i].text, "Sam left the call");
  assert_true(shown);
  n = ml_ui_model_banners(&m, 5000 + ML_UI_PEER_LEFT_SHOW_MS, b, ML_UI_MAX_BANNERS);
  for (size_t i = 0; i < n; i++)
    assert_null(strstr(b[i].text, "left the call"));
  /* At most ML_UI_MAX_PEERS remote participants. */
  char id[8];
  for (int i = 0; i < 20; i++) {
    snprintf(id, sizeof id, "x%d", i);
    apply(ml_test_event_of(ML_CALL_EV_PEER_JOINED, id, "X"));
  }
  assert_int_equal(m.n_peers, ML_UI_MAX_PEERS);
}

static void test_ended_and_fatal(void **state) {
  (void)state;
  ml_call_event e = ml_test_event_of(ML_CALL_EV_ERROR, NULL, NULL);
  char msg[] = "the server refused the join";
  e.text = msg;
  e.fatal = true;
  apply(e);
  assert_true(has_banner("refused", ML_UI_BANNER_WARNING));
  apply(ml_test_event_of(ML_CALL_EV_ENDED, NULL, NULL));
  assert_true(has_banner("The call has ended", ML_UI_BANNER_WARNING));
}

static ml_call_event session_of(ml_call_session what, const char *peer, bool on, uint64_t order) {
  ml_call_event e = ml_test_event_of(ML_CALL_EV_SESSION, peer, NULL);
  e.session = what;
  e.on = on;
  e.order = order;
  return e;
}

/* The session: roles, hands in order, muted by the host, lock, spotlight,
 * why the call ended. */
static void test_session(void **state) {
  (void)state;
  apply(ml_test_event_of(ML_CALL_EV_JOINED, "me", "Dr. Mentor"));
  join_secure_peer("p1", "Sam");
  join_secure_peer("p2", "Ana");
  assert_true(apply(session_of(ML_CALL_SESSION_ROLE, "me", true, 0)));
  assert_true(m.self_host);
  apply(session_of(ML_CALL_SESSION_ROLE, "p2", true, 0));
  assert_true(m.peers[1].host && !m.peers[0].host);
  /* Hands: Ana, us, Sam; then Ana lowers hers. */
  apply(session_of(ML_CALL_SESSION_HAND, "p2", true, 4));
  apply(session_of(ML_CALL_SESSION_HAND, "me", true, 5));
  apply(session_of(ML_CALL_SESSION_HAND, "p1", true, 9));
  assert_int_equal(ml_ui_model_hand_place(&m, false, 1), 1);
  assert_int_equal(ml_ui_model_hand_place(&m, true, 0), 2);
  assert_int_equal(ml_ui_model_hand_place(&m, false, 0), 3);
  apply(session_of(ML_CALL_SESSION_HAND, "p2", false, 0));
  assert_int_equal(ml_ui_model_hand_place(&m, false, 1), 0);
  assert_int_equal(ml_ui_model_hand_place(&m, true, 0), 1);
  assert_int_equal(ml_ui_model_hand_place(&m, false, 0), 2);
  /* Muted by the host: a banner while muted. */
  ml_call_event mb = session_of(ML_CALL_SESSION_MUTED_BY_HOST, "me", false, 0);
  snprintf(mb.by_name, sizeof mb.by_name, "Ana");
  apply(mb);
  assert_true(m.muted && m.muted_by_host);
  assert_true(has_banner("Muted by the host", ML_UI_BANNER_WARNING));
  m.muted = false; /* the user unmuted */
  assert_false(has_banner("Muted by the host", ML_UI_BANNER_WARNING));
  apply(session_of(ML_CALL_SESSION_LOCKED, NULL, true, 0));
  assert_true(m.locked);
  apply(session_of(ML_CALL_SESSION_SPOTLIGHT, "p1", false, 0));
  assert_string_equal(m.spotlight, "p1");
  /* Unknown subjects change nothing. */
  assert_false(apply(session_of(ML_CALL_SESSION_HAND, "nobody", true, 1)));
  /* Removed: the end says so. */
  ml_call_event c = session_of(ML_CALL_SESSION_CLOSED, "me", false, 0);
  char why[] = "removed";
  c.text = why;
  apply(c);
  apply(ml_test_event_of(ML_CALL_EV_ENDED, NULL, NULL));
  assert_true(has_banner("The host removed you from the room", ML_UI_BANNER_WARNING));
}

/* The call's clock: elapsed from JOINED, time left before a scheduled end
 * and its last-minute warning. */
static void test_clock(void **state) {
  (void)state;
  char out[64];
  bool warn = true;
  ml_ui_model_clock(&m, 5000, out, sizeof out, &warn);
  assert_string_equal(out, "");
  assert_false(warn);
  ml_call_event j = ml_test_event_of(ML_CALL_EV_JOINED, "me", "Dr. Mentor");
  ml_ui_model_apply(&m, &j, 10000, 0); /* joined at 10 s */
  ml_ui_model_clock(&m, 10000 + 754000, out, sizeof out, &warn);
  assert_string_equal(out, "12:34");
  assert_false(warn);
  m.end_at_ms = 10000 + 300000; /* a five-minute session */
  ml_ui_model_clock(&m, 10000 + 100000, out, sizeof out, &warn);
  assert_string_equal(out, "1:40 · 3:20 left");
  assert_false(warn);
  assert_false(has_banner("Less than a minute left", ML_UI_BANNER_WARNING));
  ml_ui_model_clock(&m, 10000 + 240500, out, sizeof out, &warn);
  assert_string_equal(out, "4:00 · 1:00 left");
  assert_true(warn);
  ml_ui_banner b[ML_UI_MAX_BANNERS];
  size_t n = ml_ui_model_banners(&m, 10000 + 250000, b, ML_UI_MAX_BANNERS);
  bool shown = false;
  for (size_t i = 0; i < n; i++)
    shown = shown || strstr(b[i].text, "Less than a minute left");
  assert_true(shown);
  ml_ui_model_clock(&m, 10000 + 400000, out, sizeof out, &warn);
  assert_string_equal(out, "6:40 · 0:00 left");
  char d[32];
  ml_ui_format_duration(3723999, d, sizeof d);
  assert_string_equal(d, "1:02:03");
}

static void test_initials(void **state) {
  (void)state;
  char out[16];
  ml_ui_initials("dr. mentor", out);
  assert_string_equal(out, "DM");
  ml_ui_initials("Élodie Martin-Roy", out);
  assert_string_equal(out, "ÉM");
  ml_ui_initials("  solo  ", out);
  assert_string_equal(out, "S");
  ml_ui_initials("", out);
  assert_string_equal(out, "?");
  ml_ui_initials("张 伟", out);
  assert_string_equal(out, "张伟");
}

ML_UNIT_MAIN_LIST(ML_UNIT_NOTHING, ml_unit_fixture(test_connecting_to_joined),
                  ml_unit_fixture(test_media_quality_banners),
                  ml_unit_fixture(test_chat_receipts_unread),
                  ml_unit_fixture(test_chat_log_bounded),
                  ml_unit_fixture(test_identity_and_verification),
                  ml_unit_fixture(test_peer_left_and_knock), ml_unit_fixture(test_ended_and_fatal),
                  ml_unit_fixture(test_session), ml_unit_fixture(test_clock),
                  cmocka_unit_test(test_initials))
