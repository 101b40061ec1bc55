/* unit.event: the `mentorlink join --json` lines (ml/event.h): the exact
 * text of the schema, a round trip of every event type, and the lines the
 * decoder refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ml/event.h"

/* An event of each type with every member it uses set. */
static ml_event sample(ml_event_type type) {
  ml_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.t_ms = 1000 + (int64_t)type;
  if (type != ML_EVENT_SIGNALING && type != ML_EVENT_ENDED) {
    g_strlcpy(ev.peer, "p-1f2e", sizeof ev.peer);
    g_strlcpy(ev.name, "mentee \"M\" \xc3\xa9", sizeof ev.name);
  }
  switch (type) {
  case ML_EVENT_SIGNALING: g_strlcpy(ev.state, "joined", sizeof ev.state); break;
  case ML_EVENT_JOINED: ev.text = "demo-room"; break;
  case ML_EVENT_PEER_JOINED:
  case ML_EVENT_KNOCK:
    g_strlcpy(ev.fingerprint, "ABCD-EFGH-IJKL-MNOP", sizeof ev.fingerprint);
    break;
  case ML_EVENT_PEER_LEFT: ev.text = "left"; break;
  case ML_EVENT_PEER_REJOINED: ev.text = "p-0a1b"; break;
  case ML_EVENT_PEER_STATE:
    g_strlcpy(ev.state, "secure", sizeof ev.state);
    g_strlcpy(ev.path, "relay", sizeof ev.path);
    break;
  case ML_EVENT_VERIFICATION:
    g_strlcpy(ev.sas, "apple river stone cloud", sizeof ev.sas);
    g_strlcpy(ev.safety_number, "12345 67890 12345 67890", sizeof ev.safety_number);
    g_strlcpy(ev.fingerprint, "ABCD-EFGH", sizeof ev.fingerprint);
    g_strlcpy(ev.pin, "match", sizeof ev.pin);
    ev.verified = true;
    break;
  case ML_EVENT_IDENTITY_CHANGED:
    g_strlcpy(ev.fingerprint, "NEW-KEY", sizeof ev.fingerprint);
    g_strlcpy(ev.pinned_fingerprint, "OLD-KEY", sizeof ev.pinned_fingerprint);
    ev.text = "the key changed";
    break;
  case ML_EVENT_CHAT:
  case ML_EVENT_CHAT_SENT:
    ev.id = 42;
    ev.text = "quote \" backslash \\ newline \n tab \t del \x7f bell \x07 \xe2\x82\xac /";
    break;
  case ML_EVENT_RECEIPT: ev.id = 7; break;
  case ML_EVENT_STATS: {
    ml_event_stats *s = &ev.stats;
    g_strlcpy(s->path, "host", sizeof s->path);
    s->rtt_ms = 1.25;
    s->loss = 0.0625;
    s->target_kbps = 800;
    s->video_paused = true;
    g_strlcpy(s->sent_layer, "small", sizeof s->sent_layer);
    s->layer_switches = 2;
    s->bitrate_kbps = 812.5;
    s->fps = 30;
    s->jitter_ms = 1.5;
    s->latency_ms = 40;
    s->e2e_latency_ms = 55.5;
    s->video_frames_decoded = 290;
    s->audio_ms_decoded = 9800;
    s->first_frame_ms = 120;
    s->first_frame_since_start_ms = 900;
    s->video_frames_sent = 300;
    s->rtp_packets_sent = 1500;
    s->packets_lost = -2; /* RTCP's cumulative loss can go below zero (duplicates) */
    s->audio_tone_hz = 440.5;
    s->estimate_kbps = 640;
    s->peer_estimate_kbps = 610;
    g_strlcpy(s->reason, "loss", sizeof s->reason);
    s->frame_width = 320;
    s->frame_height = 180;
    s->freeze_ms = 1250;
    s->freezes = 3;
    s->audio_expected_ms = 9820;
    s->audio_fec_ms = 60;
    s->audio_concealed_ms = 40;
    s->datagrams_in = 5000;
    s->datagrams_out = 5100;
    s->opened = 4990;
    s->dropped_not_ours = 1;
    s->dropped_malformed = 2;
    s->dropped_unexpected = 3;
    s->dropped_auth = 4;
    s->dropped_replay = 5;
    s->dropped_handshake = 6;
    s->pli_sent = 7;
    s->pli_received = 8;
    s->control_unknown = 9;
    s->control_malformed = 10;
    s->final = true;
    break;
  }
  case ML_EVENT_PEER_MEDIA:
    ev.muted = true;
    ev.camera_on = false;
    ev.video_paused = true;
    break;
  case ML_EVENT_MARKED_VERIFIED:
    ev.ok = true;
    g_strlcpy(ev.fingerprint, "ABCD-EFGH", sizeof ev.fingerprint);
    break;
  case ML_EVENT_ERROR:
    g_strlcpy(ev.error, "protocol error", sizeof ev.error);
    ev.text = "the handshake failed";
    ev.fatal = true;
    break;
  case ML_EVENT_SESSION:
    g_strlcpy(ev.what, "hand", sizeof ev.what);
    ev.on = true;
    ev.order = 3;
    g_strlcpy(ev.by, "h-9", sizeof ev.by);
    g_strlcpy(ev.by_name, "Dr \"O\"", sizeof ev.by_name);
    ev.text = "detail";
    break;
  case ML_EVENT_ENDED: break;
  }
  return ev;
}

static void test_names(void **state) {
  (void)state;
  for (int t = 0; t < ML_EVENT_TYPE_COUNT; t++) {
    ml_event_type back;
    assert_int_equal(ml_event_type_from_name(ml_event_type_name((ml_event_type)t), &back), ML_OK);
    assert_int_equal(back, t);
  }
  assert_string_equal(ml_event_type_name(ML_EVENT_VERIFICATION), "verification");
  assert_string_equal(ml_event_type_name(ML_EVENT_TYPE_COUNT), "unknown");
  ml_event_type t;
  assert_int_equal(ml_event_type_from_name("ui_layout", &t), ML_ERR_NOT_FOUND);
}

/* ev's line is exactly want. */
static void assert_encodes(const ml_event *ev, const char *want) {
  char *line = ml_event_encode(ev);
  assert_string_equal(line, want);
  g_free(line);
}

/* The text of the schema, as README documents it and `join --json` has
 * always printed it. */
static void test_exact_text(void **state) {
  (void)state;
  ml_event ev = sample(ML_EVENT_STATS);
  ev.stats.rtt_ms = 1.234;
  ev.stats.loss = 0.01234;
  ev.stats.video_paused = false;
  ev.stats.bitrate_kbps = 812.34;
  ev.stats.fps = 29.96;
  ev.stats.e2e_latency_ms = -1;
  ev.stats.packets_lost = 0;
  ev.stats.audio_tone_hz = 440.04;
  g_strlcpy(ev.name, "mentee", sizeof ev.name);
  char *line = ml_event_encode(&ev);
  assert_string_equal(
      line,
      "{\"event\":\"stats\",\"t_ms\":1012,\"peer\":\"p-1f2e\",\"name\":\"mentee\",\"path\":"
      "\"host\",\"rtt_ms\":1.23,\"loss\":0.0123,\"target_kbps\":800,\"video_paused\":false,"
      "\"sent_layer\":\"small\",\"layer_switches\":2,\"bitrate_kbps\":812.3,\"fps\":30.0,\"jitter_"
      "ms\":1.50,\"latency_ms\":40,\"e2e_latency_"
      "ms\":null,\"video_frames_decoded\":290,\"audio_ms_decoded\":9800,\"first_frame_ms\":120,"
      "\"first_frame_since_start_ms\":900,\"video_frames_sent\":300,\"rtp_packets_sent\":1500,"
      "\"packets_lost\":0,\"audio_tone_hz\":440.0,\"datagrams_in\":5000,\"datagrams_out\":5100,"
      "\"opened\":4990,\"dropped_not_ours\":1,\"dropped_malformed\":2,\"dropped_unexpected\":3,"
      "\"dropped_auth\":4,\"dropped_replay\":5,\"dropped_handshake\":6,\"pli_sent\":7,\"pli_"
      "received\":8,\"control_unknown\":9,\"control_malformed\":10,\"estimate_kbps\":640,\"peer_"
      "estimate_kbps\":610,"
      "\"reason\":\"loss\",\"frame_width\":320,\"frame_height\":180,\"freeze_ms\":1250,"
      "\"freezes\":3,\"audio_expected_ms\":9820,\"audio_fec_ms\":60,\"audio_concealed_ms\":40,"
      "\"final\":true}");
  g_free(line);
  /* No tone measured: the member is absent; rtt unknown: null. */
  ev.stats.audio_tone_hz = 0;
  ev.stats.rtt_ms = -1;
  line = ml_event_encode(&ev);
  assert_null(strstr(line, "audio_tone_hz"));
  assert_non_null(strstr(line, "\"rtt_ms\":null,"));
  g_free(line);

  ml_event j = sample(ML_EVENT_JOINED);
  g_strlcpy(j.name, "mentor", sizeof j.name);
  assert_encodes(&j, "{\"event\":\"joined\",\"t_ms\":1001,\"peer_id\":\"p-1f2e\","
                     "\"name\":\"mentor\",\"room\":\"demo-room\"}");

  ml_event c = sample(ML_EVENT_CHAT);
  g_strlcpy(c.name, "n", sizeof c.name);
  c.text = "a\"b\\c\nd\x01\x7f\xc3\xa9/";
  assert_encodes(&c, "{\"event\":\"chat\",\"t_ms\":1009,\"peer\":\"p-1f2e\",\"name\":\"n\","
                     "\"id\":42,\"text\":\"a\\\"b\\\\c\\u000ad\\u0001\\u007f\xc3\xa9/\"}");

  ml_event e = sample(ML_EVENT_ERROR);
  e.peer[0] = '\0';
  e.error[0] = '\0';
  e.fatal = false;
  assert_encodes(&e, "{\"event\":\"error\",\"t_ms\":1016,\"message\":\"the handshake "
                     "failed\",\"fatal\":false}");

  ml_event m = sample(ML_EVENT_MARKED_VERIFIED);
  g_strlcpy(m.name, "n", sizeof m.name);
  m.ok = false;
  g_strlcpy(m.error, "not found", sizeof m.error);
  assert_encodes(&m, "{\"event\":\"marked_verified\",\"t_ms\":1014,\"peer\":\"p-1f2e\","
                     "\"name\":\"n\",\"ok\":false,\"error\":\"not found\"}");

  ml_event se = sample(ML_EVENT_SESSION);
  g_strlcpy(se.name, "n", sizeof se.name);
  assert_encodes(&se, "{\"event\":\"session\",\"t_ms\":1015,\"peer\":\"p-1f2e\",\"name\":"
                      "\"n\",\"what\":\"hand\",\"on\":true,\"order\":3,\"by\":\"h-9\","
                      "\"by_name\":\"Dr \\\"O\\\"\",\"detail\":\"detail\"}");

  ml_event end = sample(ML_EVENT_ENDED);
  assert_encodes(&end, "{\"event\":\"ended\",\"t_ms\":1017}");
}

static void assert_same_members(const ml_event *a, const ml_event *b) {
  assert_int_equal(a->type, b->type);
  assert_int_equal(a->t_ms, b->t_ms);
  assert_string_equal(a->peer, b->peer);
  assert_string_equal(a->name, b->name);
  assert_string_equal(a->state, b->state);
  assert_string_equal(a->path, b->path);
  assert_string_equal(a->sas, b->sas);
  assert_string_equal(a->safety_number, b->safety_number);
  assert_string_equal(a->fingerprint, b->fingerprint);
  assert_string_equal(a->pinned_fingerprint, b->pinned_fingerprint);
  assert_string_equal(a->pin, b->pin);
  assert_string_equal(a->error, b->error);
  assert_int_equal(a->verified, b->verified);
  assert_int_equal(a->fatal, b->fatal);
  assert_int_equal(a->ok, b->ok);
  assert_int_equal(a->muted, b->muted);
  assert_int_equal(a->camera_on, b->camera_on);
  assert_int_equal(a->video_paused, b->video_paused);
  assert_int_equal(a->id, b->id);
  assert_string_equal(a->what, b->what);
  assert_int_equal(a->on, b->on);
  assert_int_equal(a->order, b->order);
  assert_string_equal(a->by, b->by);
  assert_string_equal(a->by_name, b->by_name);
  assert_string_equal(a->text ? a->text : "", b->text ? b->text : "");
  const ml_event_stats *x = &a->stats, *y = &b->stats;
  assert_string_equal(x->path, y->path);
  assert_true(x->rtt_ms == y->rtt_ms && x->loss == y->loss && x->fps == y->fps);
  assert_true(x->bitrate_kbps == y->bitrate_kbps && x->jitter_ms == y->jitter_ms);
  assert_true(x->e2e_latency_ms == y->e2e_latency_ms && x->audio_tone_hz == y->audio_tone_hz);
  assert_int_equal(x->target_kbps, y->target_kbps);
  assert_int_equal(x->estimate_kbps, y->estimate_kbps);
  assert_int_equal(x->peer_estimate_kbps, y->peer_estimate_kbps);
  assert_string_equal(x->reason, y->reason);
  assert_int_equal(x->latency_ms, y->latency_ms);
  assert_int_equal(x->packets_lost, y->packets_lost);
  assert_int_equal(x->first_frame_ms, y->first_frame_ms);
  assert_int_equal(x->first_frame_since_start_ms, y->first_frame_since_start_ms);
  const uint64_t xs[] = {x->video_frames_decoded,
                         x->audio_ms_decoded,
                         x->video_frames_sent,
                         x->rtp_packets_sent,
                         x->datagrams_in,
                         x->datagrams_out,
                         x->opened,
                         x->dropped_not_ours,
                         x->dropped_malformed,
                         x->dropped_unexpected,
                         x->dropped_auth,
                         x->dropped_replay,
                         x->dropped_handshake,
                         x->pli_sent,
                         x->pli_received,
                         x->control_unknown,
                         x->control_malformed,
                         x->frame_width,
                         x->frame_height,
                         x->freeze_ms,
                         x->freezes,
                         x->audio_expected_ms,
                         x->audio_fec_ms,
                         x->audio_concealed_ms};
  const uint64_t ys[] = {y->video_frames_decoded,
                         y->audio_ms_decoded,
                         y->video_frames_sent,
                         y->rtp_packets_sent,
                         y->datagrams_in,
                         y->datagrams_out,
                         y->opened,
                         y->dropped_not_ours,
                         y->dropped_malformed,
                         y->dropped_unexpected,
                         y->dropped_auth,
                         y->dropped_replay,
                         y->dropped_handshake,
                         y->pli_sent,
                         y->pli_received,
                         y->control_unknown,
                         y->control_malformed,
                         y->frame_width,
                         y->frame_height,
                         y->freeze_ms,
                         y->freezes,
                         y->audio_expected_ms,
                         y->audio_fec_ms,
                         y->audio_concealed_ms};
  assert_memory_equal(xs, ys, sizeof xs);
  assert_int_equal(x->video_paused, y->video_paused);
  assert_string_equal(x->sent_layer, y->sent_layer);
  assert_int_equal(x->layer_switches, y->layer_switches);
  assert_int_equal(x->final, y->final);
}

/* Every type: decode(encode(ev)) has ev's members, and encodes to the same
 * line; so do the variants with optional members left out. */
static void round_trip(const ml_event *ev) {
  char *line = ml_event_encode(ev);
  ml_event back;
  assert_int_equal(ml_event_decode(line, &back), ML_OK);
  assert_same_members(ev, &back);
  char *again = ml_event_encode(&back);
  assert_string_equal(line, again);
  g_free(again);
  g_free(line);
  ml_event_clear(&back);
}

static void test_round_trip(void **state) {
  (void)state;
  for (int t = 0; t < ML_EVENT_TYPE_COUNT; t++) {
    ml_event ev = sample((ml_event_type)t);
    round_trip(&ev);
    if (t != ML_EVENT_JOINED) { /* an event about no peer */
      ev.peer[0] = ev.name[0] = '\0';
      round_trip(&ev);
    }
  }
  ml_event s = sample(ML_EVENT_STATS);
  s.stats.rtt_ms = s.stats.e2e_latency_ms = -1;
  s.stats.audio_tone_hz = 0;
  s.stats.first_frame_ms = s.stats.first_frame_since_start_ms = -1;
  round_trip(&s);
  ml_event e = sample(ML_EVENT_ERROR);
  e.error[0] = '\0';
  round_trip(&e);
  ml_event m = sample(ML_EVENT_MARKED_VERIFIED);
  m.ok = false;
  m.fingerprint[0] = '\0';
  g_strlcpy(m.error, "permission denied", sizeof m.error);
  round_trip(&m);
  ml_event j = sample(ML_EVENT_JOINED);
  j.text = NULL; /* encodes as "" */
  char *line = ml_event_encode(&j);
  ml_event back;
  assert_int_equal(ml_event_decode(line, &back), ML_OK);
  assert_string_equal(back.text, "");
  ml_event_clear(&back);
  g_free(line);
}

/* The longest line is read, one byte more is not. */
static void test_line_bound(void **state) {
  (void)state;
  ml_event ev = sample(ML_EVENT_CHAT);
  ev.text = "";
  char *empty = ml_event_encode(&ev);
  size_t room = ML_EVENT_MAX_LINE - strlen(empty);
  g_free(empty);
  char *text = g_malloc(room + 2);
  memset(text, 'a', room + 1);
  text[room] = '\0';
  ev.text = text;
  char *line = ml_event_encode(&ev);
  assert_int_equal(strlen(line), ML_EVENT_MAX_LINE);
  ml_event back;
  assert_int_equal(ml_event_decode(line, &back), ML_OK);
  assert_int_equal(strlen(back.text), room);
  ml_event_clear(&back);
  g_free(line);
  text[room] = 'a';
  text[room + 1] = '\0';
  line = ml_event_encode(&ev);
  assert_int_equal(ml_event_decode(line, &back), ML_ERR_TOO_BIG);
  ml_event_clear(&back);
  g_free(line);
  g_free(text);
}

/* No proper prefix of a line is an event. */
static void test_truncated(void **state) {
  (void)state;
  for (int t = 0; t < ML_EVENT_TYPE_COUNT; t++) {
    ml_event ev = sample((ml_event_type)t);
    char *line = ml_event_encode(&ev);
    size_t n = strlen(line);
    for (size_t len = 0; len < n; len++) {
      char *prefix = g_strndup(line, len);
      ml_event back;
      assert_int_not_equal(ml_event_decode(prefix, &back), ML_OK);
      ml_event_clear(&back);
      g_free(prefix);
    }
    g_free(line);
  }
}

static void expect(const char *line, int err) {
  ml_event ev;
  int got = ml_event_decode(line, &ev);
  if (got != err)
    fprintf(stderr, "line %s: %d, wanted %d\n", line, got, err);
  assert_int_equal(got, err);
  ml_event_clear(&ev);
}

static void test_refused(void **state) {
  (void)state;
  /* Not an event line at all. */
  expect("", ML_ERR_PROTOCOL);
  expect("not json", ML_ERR_PROTOCOL);
  expect("[1,2]", ML_ERR_PROTOCOL);
  expect("\"ended\"", ML_ERR_PROTOCOL);
  expect("{\"t_ms\":1}", ML_ERR_PROTOCOL);
  expect("{\"event\":5,\"t_ms\":1}", ML_ERR_PROTOCOL);
  expect("{\"event\":null,\"t_ms\":1}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"ended\",\"t_ms\":1}{}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"ended\",\"t_ms\":1,\"x\":\"\xff\"}", ML_ERR_PROTOCOL);
  /* Another program's objects (the window's test control). */
  expect("{\"event\":\"ui_layout\",\"width\":640}", ML_ERR_UNSUPPORTED);
  expect("{\"event\":\"Ended\",\"t_ms\":1}", ML_ERR_UNSUPPORTED);
  /* Members missing or of another type. */
  expect("{\"event\":\"ended\"}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"ended\",\"t_ms\":\"1\"}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"ended\",\"t_ms\":1.5}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"receipt\",\"t_ms\":1,\"peer\":\"p\",\"name\":\"n\"}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"receipt\",\"t_ms\":1,\"peer\":\"p\",\"name\":\"n\",\"id\":-1}",
         ML_ERR_PROTOCOL);
  expect("{\"event\":\"receipt\",\"t_ms\":1,\"peer\":\"p\",\"name\":\"n\",\"id\":\"1\"}",
         ML_ERR_PROTOCOL);
  expect("{\"event\":\"receipt\",\"t_ms\":1,\"peer\":\"p\",\"id\":1}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"receipt\",\"t_ms\":1,\"peer\":7,\"name\":\"n\",\"id\":1}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"peer_media\",\"t_ms\":1,\"muted\":1,\"camera_on\":true,"
         "\"video_paused\":false}",
         ML_ERR_PROTOCOL);
  expect("{\"event\":\"chat\",\"t_ms\":1,\"id\":1,\"text\":null}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"chat\",\"t_ms\":1,\"id\":1,\"text\":[\"a\"]}", ML_ERR_PROTOCOL);
  expect("{\"event\":\"error\",\"t_ms\":1,\"error\":false,\"message\":\"m\",\"fatal\":true}",
         ML_ERR_PROTOCOL);
  /* A stats line with one member wrong: rtt may be null, loss may not. */
  ml_event s = sample(ML_EVENT_STATS);
  char *line = ml_event_encode(&s);
  const char *bad[][2] = {
      {"\"loss\":0.0625", "\"loss\":null"},
      {"\"rtt_ms\":1.25", "\"rtt_ms\":\"1.25\""},
      {"\"opened\":4990", "\"opened\":-4990"},
      {"\"opened\":4990", "\"opened\":4990.0"},
      {"\"final\":true", "\"final\":\"yes\""},
      {"\"path\":\"host\"", "\"path\":{}"},
      {"\"audio_tone_hz\":440.5", "\"audio_tone_hz\":null"},
      {"\"pli_sent\":7,", ""},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char *at = strstr(line, bad[i][0]);
    assert_non_null(at);
    char *wrong =
        g_strdup_printf("%.*s%s%s", (int)(at - line), line, bad[i][1], at + strlen(bad[i][0]));
    expect(wrong, ML_ERR_PROTOCOL);
    g_free(wrong);
  }
  /* ...and the members it reads as numbers may be integers. */
  char *at = strstr(line, "\"rtt_ms\":1.25");
  char *whole = g_strdup_printf("%.*s\"rtt_ms\":3%s", (int)(at - line), line, at + 13);
  expect(whole, ML_OK);
  g_free(whole);
  g_free(line);
  /* Strings longer than their member. */
  char name[ML_EVENT_MAX_NAME + 2];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  char *long_name = g_strdup_printf(
      "{\"event\":\"receipt\",\"t_ms\":1,\"peer\":\"p\",\"name\":\"%s\",\"id\":1}", name);
  expect(long_name, ML_ERR_TOO_BIG);
  name[sizeof name - 2] = '\0'; /* exactly ML_EVENT_MAX_NAME bytes */
  g_free(long_name);
  long_name = g_strdup_printf(
      "{\"event\":\"receipt\",\"t_ms\":1,\"peer\":\"p\",\"name\":\"%s\",\"id\":1}", name);
  expect(long_name, ML_OK);
  g_free(long_name);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_names, test_exact_text, test_round_trip,
             test_line_bound, test_truncated, test_refused)
