/* ml_layer_fwd (client/engine/layer_fwd.h): one peer's view of the two
 * layers: switches at keyframes, continuous numbers, RTX and feedback mapped
 * back, the sender's RTCP of the right layer only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "layer_fwd.h"

enum { PKT = 24 };

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* A VP8 packet: RTP header, descriptor X S PID=0 with a 15-bit picture ID,
 * then the payload header (P clear on a keyframe's first packet). */
static size_t vp8(uint8_t *b, uint32_t ssrc, uint16_t seq, uint16_t pid, bool key_start) {
  memset(b, 0, PKT);
  b[0] = 0x80;
  b[1] = ML_MEDIA_PT_VP8;
  b[2] = (uint8_t)(seq >> 8);
  b[3] = (uint8_t)seq;
  wr32(b + 8, ssrc);
  b[12] = key_start ? 0x90 : 0x80; /* X, S on the first packet */
  b[13] = 0x80;                    /* I */
  b[14] = (uint8_t)(0x80 | (pid >> 8));
  b[15] = (uint8_t)pid;
  b[16] = key_start ? 0x00 : 0x01;
  return PKT;
}

/* A retransmission of (seq, pid) under rtx_ssrc: the OSN, then the payload. */
static size_t rtx(uint8_t *b, uint32_t rtx_ssrc, uint16_t osn, uint16_t pid) {
  uint8_t orig[PKT];
  vp8(orig, 0, osn, pid, false);
  memset(b, 0, PKT + 2);
  memcpy(b, orig, 12);
  b[1] = ML_MEDIA_PT_RTX;
  wr32(b + 8, rtx_ssrc);
  b[12] = (uint8_t)(osn >> 8);
  b[13] = (uint8_t)osn;
  memcpy(b + 14, orig + 12, PKT - 12);
  return PKT + 2;
}

static uint16_t pid_of(const uint8_t *b, size_t at) { return rd16(b + at) & 0x7fffu; }

/* Large 100.. flowing from a keyframe, then a switch to small 5000.. */
static void start_then_switch(ml_layer_fwd *f) {
  uint8_t b[PKT];
  ml_layer_fwd_init(f, ML_MEDIA_LAYER_LARGE);
  assert_false(ml_layer_fwd_rtp(f, b, vp8(b, ML_MEDIA_SSRC_VIDEO, 99, 9, false)));
  assert_true(ml_layer_fwd_pending(f));
  assert_true(ml_layer_fwd_rtp(f, b, vp8(b, ML_MEDIA_SSRC_VIDEO, 100, 10, true)));
  assert_int_equal(rd16(b + 2), 100); /* the first start keeps its numbers */
  assert_false(ml_layer_fwd_pending(f));
  for (uint16_t s = 101; s < 110; s++)
    assert_true(ml_layer_fwd_rtp(f, b, vp8(b, ML_MEDIA_SSRC_VIDEO, s, 10 + (s - 100) / 3, false)));
  ml_layer_fwd_want(f, ML_MEDIA_LAYER_SMALL);
  assert_true(ml_layer_fwd_pending(f));
  /* Small packets before its keyframe: not yet; large ones go on. */
  assert_false(ml_layer_fwd_rtp(f, b, vp8(b, ML_MEDIA_SSRC_SMALL, 4999, 700, false)));
  assert_true(ml_layer_fwd_rtp(f, b, vp8(b, ML_MEDIA_SSRC_VIDEO, 110, 14, false)));
  assert_true(ml_layer_fwd_rtp(f, b, vp8(b, ML_MEDIA_SSRC_SMALL, 5000, 701, true)));
  assert_int_equal(rd32(b + 8), ML_MEDIA_SSRC_VIDEO);
  assert_int_equal(rd16(b + 2), 111); /* continues the large layer's numbers */
  assert_int_equal(pid_of(b, 14), 15);
  assert_int_equal(f->switches, 1);
}

static void test_switch_continues_numbers(void **state) {
  (void)state;
  ml_layer_fwd f;
  start_then_switch(&f);
  uint8_t b[PKT];
  assert_false(ml_layer_fwd_rtp(&f, b, vp8(b, ML_MEDIA_SSRC_VIDEO, 111, 15, false)));
  assert_true(ml_layer_fwd_rtp(&f, b, vp8(b, ML_MEDIA_SSRC_SMALL, 5001, 702, false)));
  assert_int_equal(rd16(b + 2), 112);
  assert_int_equal(pid_of(b, 14), 16);
  /* Audio passes untouched whatever the layer. */
  uint8_t a[PKT];
  vp8(a, ML_MEDIA_SSRC_AUDIO, 7, 0, false);
  a[1] = ML_MEDIA_PT_OPUS;
  uint8_t copy[PKT];
  memcpy(copy, a, PKT);
  assert_true(ml_layer_fwd_rtp(&f, a, PKT));
  assert_memory_equal(a, copy, PKT);
  /* Back to large, across the 16-bit and 15-bit wraps. */
  ml_layer_fwd_want(&f, ML_MEDIA_LAYER_LARGE);
  assert_true(ml_layer_fwd_rtp(&f, b, vp8(b, ML_MEDIA_SSRC_SMALL, 5002, 703, false)));
  assert_true(ml_layer_fwd_rtp(&f, b, vp8(b, ML_MEDIA_SSRC_VIDEO, 65535, 0x7fff, true)));
  assert_int_equal(rd16(b + 2), 114);
  assert_int_equal(pid_of(b, 14), 18);
  assert_true(ml_layer_fwd_rtp(&f, b, vp8(b, ML_MEDIA_SSRC_VIDEO, 0, 0, false)));
  assert_int_equal(rd16(b + 2), 115);
  assert_int_equal(pid_of(b, 14), 19);
  assert_int_equal(f.switches, 2);
}

static void test_rtx_mapped(void **state) {
  (void)state;
  ml_layer_fwd f;
  start_then_switch(&f); /* boundary 111: small 5000 is out 111 */
  uint8_t b[PKT + 2];
  /* A small packet resent: the out-stream's numbers, the one RTX SSRC. */
  assert_true(ml_layer_fwd_rtp(&f, b, rtx(b, ML_MEDIA_SSRC_SMALL_RTX, 5000, 701)));
  assert_int_equal(rd32(b + 8), ML_MEDIA_SSRC_VIDEO_RTX);
  assert_int_equal(rd16(b + 12), 111);
  assert_int_equal(pid_of(b, 16), 15);
  uint16_t first_rtx = rd16(b + 2);
  /* A large packet from before the switch still maps; one after it does not. */
  assert_true(ml_layer_fwd_rtp(&f, b, rtx(b, ML_MEDIA_SSRC_VIDEO_RTX, 105, 11)));
  assert_int_equal(rd16(b + 12), 105);
  assert_int_equal(rd16(b + 2), (uint16_t)(first_rtx + 1));
  assert_false(ml_layer_fwd_rtp(&f, b, rtx(b, ML_MEDIA_SSRC_VIDEO_RTX, 111, 15)));
  /* Nor a small one from before it. */
  assert_false(ml_layer_fwd_rtp(&f, b, rtx(b, ML_MEDIA_SSRC_SMALL_RTX, 4999, 700)));
  /* Nothing before the start. */
  ml_layer_fwd g;
  ml_layer_fwd_init(&g, ML_MEDIA_LAYER_LARGE);
  assert_false(ml_layer_fwd_rtp(&g, b, rtx(b, ML_MEDIA_SSRC_VIDEO_RTX, 5, 1)));
}

static void test_feedback_mapped_back(void **state) {
  (void)state;
  ml_layer_fwd f;
  start_then_switch(&f);
  /* RR with one block about the video, NACK of out 112 (+ 113), PLI. */
  uint8_t c[8 + 24 + 16 + 12];
  memset(c, 0, sizeof c);
  c[0] = 0x81, c[1] = 201, c[3] = 7;
  wr32(c + 4, 0x1234);
  wr32(c + 8, ML_MEDIA_SSRC_VIDEO);
  uint8_t *n = c + 32;
  n[0] = 0x81, n[1] = 205, n[3] = 3;
  wr32(n + 4, 0x1234);
  wr32(n + 8, ML_MEDIA_SSRC_VIDEO);
  n[12] = 0, n[13] = 112, n[15] = 0x01;
  uint8_t *p = c + 48;
  p[0] = 0x81, p[1] = 206, p[3] = 2;
  wr32(p + 4, 0x1234);
  wr32(p + 8, ML_MEDIA_SSRC_VIDEO);
  ml_layer_fwd_feedback(&f, c, sizeof c);
  assert_int_equal(rd32(c + 8), ML_MEDIA_SSRC_SMALL);
  assert_int_equal(rd32(n + 8), ML_MEDIA_SSRC_SMALL);
  assert_int_equal(rd16(n + 12), 5001);
  assert_int_equal(n[15], 0x01); /* the bitmask is relative: kept */
  assert_int_equal(rd32(p + 8), ML_MEDIA_SSRC_SMALL);
  /* A NACK of a packet sent before the switch is the large layer's. */
  uint8_t old[16];
  memcpy(old, n, 16);
  wr32(old + 8, ML_MEDIA_SSRC_VIDEO);
  old[12] = 0, old[13] = 108;
  ml_layer_fwd_feedback(&f, old, sizeof old);
  assert_int_equal(rd32(old + 8), ML_MEDIA_SSRC_VIDEO);
  assert_int_equal(rd16(old + 12), 108);
  /* A length past the buffer: left alone. */
  uint8_t bad[12];
  memcpy(bad, p, 12);
  wr32(bad + 8, ML_MEDIA_SSRC_VIDEO);
  bad[3] = 9;
  ml_layer_fwd_feedback(&f, bad, sizeof bad);
  assert_int_equal(rd32(bad + 8), ML_MEDIA_SSRC_VIDEO);
}

static size_t sr(uint8_t *b, uint32_t ssrc) {
  memset(b, 0, 28 + 12);
  b[0] = 0x80, b[1] = 200, b[3] = 6;
  wr32(b + 4, ssrc);
  b[28] = 0x81, b[29] = 202, b[31] = 2; /* SDES, one chunk */
  wr32(b + 32, ssrc);
  return 28 + 12;
}

static void test_sender_rtcp_of_its_layer(void **state) {
  (void)state;
  uint8_t b[40];
  ml_layer_fwd f;
  ml_layer_fwd_init(&f, ML_MEDIA_LAYER_LARGE);
  assert_true(ml_layer_fwd_rtcp_out(&f, b, sr(b, ML_MEDIA_SSRC_VIDEO)));
  assert_false(ml_layer_fwd_rtcp_out(&f, b, sr(b, ML_MEDIA_SSRC_SMALL)));
  start_then_switch(&f);
  assert_false(ml_layer_fwd_rtcp_out(&f, b, sr(b, ML_MEDIA_SSRC_VIDEO)));
  assert_false(ml_layer_fwd_rtcp_out(&f, b, sr(b, ML_MEDIA_SSRC_VIDEO_RTX)));
  assert_true(ml_layer_fwd_rtcp_out(&f, b, sr(b, ML_MEDIA_SSRC_SMALL)));
  assert_int_equal(rd32(b + 4), ML_MEDIA_SSRC_VIDEO);
  assert_int_equal(rd32(b + 32), ML_MEDIA_SSRC_VIDEO);
  assert_true(ml_layer_fwd_rtcp_out(&f, b, sr(b, ML_MEDIA_SSRC_SMALL_RTX)));
  assert_int_equal(rd32(b + 4), ML_MEDIA_SSRC_VIDEO_RTX);
  assert_true(ml_layer_fwd_rtcp_out(&f, b, sr(b, ML_MEDIA_SSRC_AUDIO)));
  assert_int_equal(rd32(b + 4), ML_MEDIA_SSRC_AUDIO);
}

/* Every prefix of every kind of packet: no read outside it. */
static void test_truncated(void **state) {
  (void)state;
  ml_layer_fwd f;
  start_then_switch(&f);
  uint8_t full[PKT + 2], b[PKT + 2];
  size_t n = rtx(full, ML_MEDIA_SSRC_SMALL_RTX, 5000, 1);
  for (size_t k = 0; k <= n; k++) {
    memcpy(b, full, k);
    (void)ml_layer_fwd_rtp(&f, b, k);
    ml_layer_fwd_feedback(&f, b, k);
    (void)ml_layer_fwd_rtcp_out(&f, b, k);
  }
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_switch_continues_numbers, test_rtx_mapped,
             test_feedback_mapped_back, test_sender_rtcp_of_its_layer, test_truncated)
