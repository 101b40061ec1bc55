/* ml_rtp_vp8_keyframe_start: packets as rtpvp8pay (GStreamer 1.22) sends
 * them, and every way a packet can be cut short or lie (ml/rtp_vp8.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "ml/rtp_vp8.h"

#define PT 96

/* The first packet of a keyframe from `videotestsrc ! vp8enc ! rtpvp8pay
 * picture-id-mode=15-bit`: RTP header, descriptor 90 80 91 50 (X, S, PID 0;
 * I; 15-bit PictureID), then the VP8 frame tag 50 17 00 (P = 0) and the
 * keyframe start code 9d 01 2a. */
static const uint8_t key_start[] = {0x80, 0x60, 0x1b, 0x63, 0x2a, 0x9d, 0x09, 0x66, 0xc1,
                                    0x05, 0xec, 0x35, 0x90, 0x80, 0x91, 0x50, 0x50, 0x17,
                                    0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00};

static void test_keyframe_start(void **state) {
  (void)state;
  assert_true(ml_rtp_vp8_keyframe_start(key_start, sizeof key_start, PT));
}

static void test_continuation_and_delta(void **state) {
  (void)state;
  uint8_t p[sizeof key_start];
  memcpy(p, key_start, sizeof p);
  p[12] = 0x80; /* S = 0: a later packet of the same frame */
  assert_false(ml_rtp_vp8_keyframe_start(p, sizeof p, PT));
  memcpy(p, key_start, sizeof p);
  p[16] |= 0x01; /* P = 1: an interframe */
  assert_false(ml_rtp_vp8_keyframe_start(p, sizeof p, PT));
  memcpy(p, key_start, sizeof p);
  p[12] = 0x91; /* PID 1: not partition 0 */
  assert_false(ml_rtp_vp8_keyframe_start(p, sizeof p, PT));
}

static void test_descriptor_forms(void **state) {
  (void)state;
  /* No extension byte: 10 then the frame tag. */
  uint8_t plain[] = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x50, 0x17, 0x00};
  assert_true(ml_rtp_vp8_keyframe_start(plain, sizeof plain, PT));
  /* 7-bit PictureID, TL0PICIDX and TID/KEYIDX: 90 e0 12 34 56, frame tag. */
  uint8_t full[] = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x90, 0xf0, 0x12, 0x34, 0x56, 0x50};
  assert_true(ml_rtp_vp8_keyframe_start(full, sizeof full, PT));
  full[sizeof full - 1] = 0x51;
  assert_false(ml_rtp_vp8_keyframe_start(full, sizeof full, PT));
  /* A CSRC and a one-word header extension before the descriptor. */
  uint8_t ext[] = {0x91, 0x60, 0, 1,    0,    0, 0, 0, 0, 0, 0, 1,    9,
                   9,    9,    9, 0xbe, 0xde, 0, 1, 7, 7, 7, 7, 0x10, 0x50};
  assert_true(ml_rtp_vp8_keyframe_start(ext, sizeof ext, PT));
  /* Padding: two bytes counted by the last one. */
  uint8_t pad[] = {0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x50, 0, 2};
  assert_true(ml_rtp_vp8_keyframe_start(pad, sizeof pad, PT));
}

static void test_refused(void **state) {
  (void)state;
  assert_false(ml_rtp_vp8_keyframe_start(NULL, 0, PT));
  assert_false(ml_rtp_vp8_keyframe_start(key_start, sizeof key_start, 97)); /* other PT */
  uint8_t p[sizeof key_start];
  memcpy(p, key_start, sizeof p);
  p[0] = 0x40; /* version 1 */
  assert_false(ml_rtp_vp8_keyframe_start(p, sizeof p, PT));
  /* Every truncation of the keyframe start before its frame tag. */
  for (size_t n = 0; n <= 16; n++)
    assert_false(ml_rtp_vp8_keyframe_start(key_start, n, PT));
  /* CSRC count or extension length pointing past the end. */
  memcpy(p, key_start, sizeof p);
  p[0] = 0x8f;
  assert_false(ml_rtp_vp8_keyframe_start(p, sizeof p, PT));
  memcpy(p, key_start, sizeof p);
  p[0] = 0x90;
  p[14] = 0xff, p[15] = 0xff;
  assert_false(ml_rtp_vp8_keyframe_start(p, sizeof p, PT));
  /* Padding of zero, or longer than the payload. */
  uint8_t pad[] = {0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x50, 0, 0};
  assert_false(ml_rtp_vp8_keyframe_start(pad, sizeof pad, PT));
  pad[sizeof pad - 1] = 5;
  assert_false(ml_rtp_vp8_keyframe_start(pad, sizeof pad, PT));
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_keyframe_start, test_continuation_and_delta,
             test_descriptor_forms, test_refused)
