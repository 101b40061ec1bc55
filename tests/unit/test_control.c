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

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_layout, test_round_trip, test_strict,
             test_unknown_is_unsupported)
