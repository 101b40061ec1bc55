/* unit.control: CONTROL messages (ml/control.h), the byte layout of
 * docs/PROTOCOL.md "Control messages". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <string.h>

#include "ml/control.h"

static void test_layout(void **state) {
  (void)state;
  ml_control_media_state st = {
      .muted = true, .camera_on = false, .video_paused = true, .seq = 0x01020304u};
  uint8_t buf[16];
  assert_int_equal(ml_control_write_media_state(&st, buf, sizeof buf), ML_CONTROL_MEDIA_STATE_LEN);
  static const uint8_t want[] = {0x01, 0x01, 0x05, 0x01, 0x02, 0x03, 0x04};
  assert_memory_equal(buf, want, sizeof want);
  st = (ml_control_media_state){.camera_on = true, .seq = 0xfffffffeu};
  assert_int_equal(ml_control_write_media_state(&st, buf, sizeof buf), 7);
  static const uint8_t want2[] = {0x01, 0x01, 0x02, 0xff, 0xff, 0xff, 0xfe};
  assert_memory_equal(buf, want2, sizeof want2);
  /* Too small a buffer writes nothing useful and says so. */
  assert_int_equal(ml_control_write_media_state(&st, buf, 6), 0);
}

static void test_round_trip(void **state) {
  (void)state;
  for (unsigned flags = 0; flags < 8; flags++) {
    ml_control_media_state st = {.muted = flags & 1,
                                 .camera_on = flags & 2,
                                 .video_paused = flags & 4,
                                 .seq = flags * 1000u + 7u};
    uint8_t buf[ML_CONTROL_MAX_LEN];
    size_t n = ml_control_write_media_state(&st, buf, sizeof buf);
    assert_int_equal(n, ML_CONTROL_MEDIA_STATE_LEN);
    ml_control_message m;
    assert_int_equal(ml_control_parse(buf, n, &m), ML_OK);
    assert_int_equal(m.type, ML_CONTROL_MEDIA_STATE);
    assert_int_equal(m.media.muted, st.muted);
    assert_int_equal(m.media.camera_on, st.camera_on);
    assert_int_equal(m.media.video_paused, st.video_paused);
    assert_int_equal(m.media.seq, st.seq);
  }
}

static void test_strict(void **state) {
  (void)state;
  const uint8_t good[] = {0x01, 0x01, 0x03, 0, 0, 0, 9};
  ml_control_message m;
  memset(&m, 0x5a, sizeof m);
  ml_control_message before = m;
  /* Every truncation, and one byte more, is malformed; out is untouched. */
  for (size_t n = 0; n < sizeof good; n++)
    assert_int_equal(ml_control_parse(good, n, &m), ML_ERR_PROTOCOL);
  uint8_t longer[8];
  memcpy(longer, good, sizeof good);
  longer[7] = 0;
  assert_int_equal(ml_control_parse(longer, sizeof longer, &m), ML_ERR_PROTOCOL);
  /* Reserved flag bits. */
  for (unsigned bit = 3; bit < 8; bit++) {
    uint8_t b[7];
    memcpy(b, good, sizeof b);
    b[2] = (uint8_t)(1u << bit);
    assert_int_equal(ml_control_parse(b, sizeof b, &m), ML_ERR_PROTOCOL);
  }
  assert_memory_equal(&m, &before, sizeof m);
  assert_int_equal(ml_control_parse(NULL, 0, &m), ML_ERR_PROTOCOL);
}

static void test_unknown_is_unsupported(void **state) {
  (void)state;
  ml_control_message m;
  /* Another version, whatever follows (even nothing): ignored, not malformed. */
  const uint8_t v2[] = {0x02, 0x01, 0x00, 0, 0, 0, 1};
  assert_int_equal(ml_control_parse(v2, sizeof v2, &m), ML_ERR_UNSUPPORTED);
  assert_int_equal(ml_control_parse(v2, 1, &m), ML_ERR_UNSUPPORTED);
  const uint8_t v0[] = {0x00};
  assert_int_equal(ml_control_parse(v0, 1, &m), ML_ERR_UNSUPPORTED);
  /* Version 1, an unknown type of any length. */
  const uint8_t t9[] = {0x01, 0x09, 0xff};
  assert_int_equal(ml_control_parse(t9, sizeof t9, &m), ML_ERR_UNSUPPORTED);
  assert_int_equal(ml_control_parse(t9, 2, &m), ML_ERR_UNSUPPORTED);
  const uint8_t t0[] = {0x01, 0x00};
  assert_int_equal(ml_control_parse(t0, sizeof t0, &m), ML_ERR_UNSUPPORTED);
}

/* The session controls: exact bytes, round trips, and what is malformed. */
static void test_session_layout(void **state) {
  (void)state;
  uint8_t buf[ML_CONTROL_MAX_LEN];
  ml_control_message m = {.type = ML_CONTROL_HAND, .raised = true, .seq = 0x0a0b0c0du};
  assert_int_equal(ml_control_write(&m, buf, sizeof buf), ML_CONTROL_SHORT_LEN);
  static const uint8_t hand[] = {0x01, 0x02, 0x01, 0x0a, 0x0b, 0x0c, 0x0d};
  assert_memory_equal(buf, hand, sizeof hand);
  m = (ml_control_message){.type = ML_CONTROL_REACTION, .code = ML_CONTROL_REACTION_CLAP, .seq = 5};
  assert_int_equal(ml_control_write(&m, buf, sizeof buf), 7);
  static const uint8_t react[] = {0x01, 0x03, 0x02, 0, 0, 0, 5};
  assert_memory_equal(buf, react, sizeof react);
  m = (ml_control_message){
      .type = ML_CONTROL_HOST_REQUEST, .code = ML_CONTROL_REQUEST_MUTE, .seq = 1};
  assert_int_equal(ml_control_write(&m, buf, sizeof buf), 7);
  static const uint8_t req[] = {0x01, 0x04, 0x01, 0, 0, 0, 1};
  assert_memory_equal(buf, req, sizeof req);
  m = (ml_control_message){.type = ML_CONTROL_SPOTLIGHT, .seq = 2, .peer = "Ab-9"};
  assert_int_equal(ml_control_write(&m, buf, sizeof buf), 11);
  static const uint8_t spot[] = {0x01, 0x05, 0, 0, 0, 2, 4, 'A', 'b', '-', '9'};
  assert_memory_equal(buf, spot, sizeof spot);
  /* Nobody in the spotlight: n = 0. */
  m.peer[0] = '\0';
  assert_int_equal(ml_control_write(&m, buf, sizeof buf), 7);
  /* Out of range or too small: nothing. */
  m = (ml_control_message){.type = ML_CONTROL_REACTION, .code = ML_CONTROL_REACTION_COUNT};
  assert_int_equal(ml_control_write(&m, buf, sizeof buf), 0);
  m = (ml_control_message){.type = ML_CONTROL_HOST_REQUEST, .code = 0};
  assert_int_equal(ml_control_write(&m, buf, sizeof buf), 0);
  m = (ml_control_message){.type = ML_CONTROL_SPOTLIGHT, .peer = "a b"};
  assert_int_equal(ml_control_write(&m, buf, sizeof buf), 0);
  m = (ml_control_message){.type = ML_CONTROL_HAND, .raised = true};
  assert_int_equal(ml_control_write(&m, buf, 6), 0);
  /* Names. */
  assert_string_equal(ml_control_reaction_name(ML_CONTROL_REACTION_THUMBS_UP), "thumbs_up");
  assert_null(ml_control_reaction_name(0));
  assert_null(ml_control_reaction_name(ML_CONTROL_REACTION_COUNT));
  assert_int_equal(ml_control_reaction_from_name("question"), ML_CONTROL_REACTION_QUESTION);
  assert_int_equal(ml_control_reaction_from_name("boo"), 0);
}

static void test_session_round_trip(void **state) {
  (void)state;
  ml_control_message in[] = {
      {.type = ML_CONTROL_HAND, .raised = false, .seq = 9},
      {.type = ML_CONTROL_HAND, .raised = true, .seq = 0xffffffffu},
      {.type = ML_CONTROL_REACTION, .code = ML_CONTROL_REACTION_QUESTION, .seq = 3},
      {.type = ML_CONTROL_HOST_REQUEST, .code = ML_CONTROL_REQUEST_LOWER_HAND, .seq = 4},
      {.type = ML_CONTROL_SPOTLIGHT, .seq = 6, .peer = "x2Vb0c9yQ1dTr0aM"},
      {.type = ML_CONTROL_SPOTLIGHT, .seq = 7},
      {.type = ML_CONTROL_SIGNAL_ID, .seq = 8, .peer = "ZYfG6P64-VtccsQL"},
      {.type = ML_CONTROL_LAYER, .code = ML_CONTROL_LAYER_SMALL, .seq = 10},
      {.type = ML_CONTROL_LAYER, .code = ML_CONTROL_LAYER_LARGE, .seq = 11},
  };
  /* The longest spotlight id. */
  memset(in[5].peer, 'z', ML_CONTROL_MAX_PEER_ID);
  in[5].peer[ML_CONTROL_MAX_PEER_ID] = '\0';
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    uint8_t buf[ML_CONTROL_MAX_LEN + 1]; /* one byte more, for the too-long case below */
    size_t n = ml_control_write(&in[i], buf, ML_CONTROL_MAX_LEN);
    assert_true(n > 0);
    ml_control_message m;
    assert_int_equal(ml_control_parse(buf, n, &m), ML_OK);
    assert_int_equal(m.type, in[i].type);
    assert_int_equal(m.seq, in[i].seq);
    assert_int_equal(m.raised, in[i].raised);
    assert_int_equal(m.code, in[i].code);
    assert_string_equal(m.peer, in[i].peer);
    /* Every truncation and one byte more is malformed. */
    for (size_t k = 2; k < n; k++)
      assert_int_equal(ml_control_parse(buf, k, &m), ML_ERR_PROTOCOL);
    buf[n] = 'a';
    assert_int_equal(ml_control_parse(buf, n + 1, &m), ML_ERR_PROTOCOL);
  }
}

static void test_session_strict(void **state) {
  (void)state;
  ml_control_message m;
  const uint8_t hand_bits[] = {0x01, 0x02, 0x02, 0, 0, 0, 1};
  assert_int_equal(ml_control_parse(hand_bits, sizeof hand_bits, &m), ML_ERR_PROTOCOL);
  const uint8_t react0[] = {0x01, 0x03, 0x00, 0, 0, 0, 1};
  assert_int_equal(ml_control_parse(react0, sizeof react0, &m), ML_ERR_PROTOCOL);
  const uint8_t react_hi[] = {0x01, 0x03, ML_CONTROL_REACTION_COUNT, 0, 0, 0, 1};
  assert_int_equal(ml_control_parse(react_hi, sizeof react_hi, &m), ML_ERR_PROTOCOL);
  const uint8_t req3[] = {0x01, 0x04, 0x03, 0, 0, 0, 1};
  assert_int_equal(ml_control_parse(req3, sizeof req3, &m), ML_ERR_PROTOCOL);
  /* A spotlight whose n disagrees with the length, or is over 64, or whose
   * id holds a character outside the id set. */
  const uint8_t spot_n[] = {0x01, 0x05, 0, 0, 0, 1, 3, 'a', 'b'};
  assert_int_equal(ml_control_parse(spot_n, sizeof spot_n, &m), ML_ERR_PROTOCOL);
  uint8_t spot_big[7 + 65];
  memset(spot_big, 'a', sizeof spot_big);
  spot_big[0] = 1;
  spot_big[1] = 5;
  spot_big[6] = 65;
  assert_int_equal(ml_control_parse(spot_big, sizeof spot_big, &m), ML_ERR_PROTOCOL);
  const uint8_t spot_sp[] = {0x01, 0x05, 0, 0, 0, 1, 2, 'a', ' '};
  assert_int_equal(ml_control_parse(spot_sp, sizeof spot_sp, &m), ML_ERR_PROTOCOL);
  const uint8_t spot_nul[] = {0x01, 0x05, 0, 0, 0, 1, 2, 'a', 0};
  assert_int_equal(ml_control_parse(spot_nul, sizeof spot_nul, &m), ML_ERR_PROTOCOL);
  /* SIGNAL_ID: an id of 1..64 id characters, never empty. */
  const uint8_t sid[] = {0x01, 0x06, 0, 0, 0, 3, 2, 'Q', '9'};
  assert_int_equal(ml_control_parse(sid, sizeof sid, &m), ML_OK);
  assert_int_equal(m.type, ML_CONTROL_SIGNAL_ID);
  assert_string_equal(m.peer, "Q9");
  const uint8_t sid_empty[] = {0x01, 0x06, 0, 0, 0, 1, 0};
  assert_int_equal(ml_control_parse(sid_empty, sizeof sid_empty, &m), ML_ERR_PROTOCOL);
  uint8_t buf[ML_CONTROL_MAX_LEN];
  ml_control_message empty = {.type = ML_CONTROL_SIGNAL_ID, .seq = 1};
  assert_int_equal(ml_control_write(&empty, buf, sizeof buf), 0);
  /* LAYER: 0 (small) or 1 (large), nothing else. */
  const uint8_t layer[] = {0x01, 0x07, 1, 0, 0, 0, 1};
  assert_int_equal(ml_control_parse(layer, sizeof layer, &m), ML_OK);
  assert_int_equal(m.type, ML_CONTROL_LAYER);
  assert_int_equal(m.code, ML_CONTROL_LAYER_LARGE);
  const uint8_t layer2[] = {0x01, 0x07, 2, 0, 0, 0, 1};
  assert_int_equal(ml_control_parse(layer2, sizeof layer2, &m), ML_ERR_PROTOCOL);
  ml_control_message bad_layer = {.type = ML_CONTROL_LAYER, .code = 2, .seq = 1};
  assert_int_equal(ml_control_write(&bad_layer, buf, sizeof buf), 0);
  /* Type 8 and above: a later version's. */
  const uint8_t t8[] = {0x01, 0x08, 0, 0, 0, 0, 1};
  assert_int_equal(ml_control_parse(t8, sizeof t8, &m), ML_ERR_UNSUPPORTED);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_layout, test_round_trip, test_strict,
             test_unknown_is_unsupported, test_session_layout, test_session_round_trip,
             test_session_strict)
