/* Unit tests for the audio concealment counter and the Opus packet header
 * (client/engine/audio_conceal.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "audio_conceal.h"
#include "ml/error.h"

/* TOC bytes: config << 3 | stereo << 2 | code. */
#define SILK_20 (9u << 3)    /* SILK wideband 20 ms */
#define HYBRID_20 (13u << 3) /* hybrid fullband 20 ms */
#define CELT_20 (31u << 3)   /* CELT fullband 20 ms */
#define SILK_60 (11u << 3)   /* SILK wideband 60 ms: three 20 ms SILK frames */
#define LBRR_1 0x40          /* first byte of a 20 ms mono SILK frame: VAD 0, LBRR 1 */

static void toc_durations_and_codes(void **state) {
  (void)state;
  ml_opus_packet p;
  const uint8_t silk[] = {SILK_20, 0x00, 0x11};
  assert_int_equal(ml_opus_packet_parse(silk, sizeof silk, &p), ML_OK);
  assert_int_equal(p.samples, 960);
  assert_int_equal(p.frames, 1);
  assert_true(p.silk);
  assert_false(p.lbrr);
  assert_false(p.empty);
  const uint8_t celt[] = {CELT_20 | 1, 1, 2, 3, 4}; /* code 1: two equal frames */
  assert_int_equal(ml_opus_packet_parse(celt, sizeof celt, &p), ML_OK);
  assert_int_equal(p.samples, 1920);
  assert_false(p.silk);
  const uint8_t odd[] = {CELT_20 | 1, 1, 2, 3};
  assert_int_equal(ml_opus_packet_parse(odd, sizeof odd, &p), ML_ERR_PROTOCOL);
  const uint8_t code2[] = {SILK_20 | 2, 1, LBRR_1, 9, 9}; /* first frame 1 byte */
  assert_int_equal(ml_opus_packet_parse(code2, sizeof code2, &p), ML_OK);
  assert_int_equal(p.samples, 1920);
  assert_true(p.lbrr);
  const uint8_t code2_long[] = {SILK_20 | 2, 252, 0}; /* 252 + 4 x 0 bytes: more than there */
  assert_int_equal(ml_opus_packet_parse(code2_long, 2, &p), ML_ERR_PROTOCOL);
  assert_int_equal(ml_opus_packet_parse(code2_long, sizeof code2_long, &p), ML_ERR_PROTOCOL);
  const uint8_t sixty[] = {SILK_60, 0x10}; /* VAD x3, then LBRR: bit 4 */
  assert_int_equal(ml_opus_packet_parse(sixty, sizeof sixty, &p), ML_OK);
  assert_int_equal(p.samples, 2880);
  assert_true(p.lbrr);
  const uint8_t stereo[] = {HYBRID_20 | 4, 0x10}; /* mid VAD, mid LBRR 0, side VAD, side LBRR 1 */
  assert_int_equal(ml_opus_packet_parse(stereo, sizeof stereo, &p), ML_OK);
  assert_true(p.lbrr);
  const uint8_t dtx[] = {SILK_20};
  assert_int_equal(ml_opus_packet_parse(dtx, sizeof dtx, &p), ML_OK);
  assert_true(p.empty);
  assert_false(p.lbrr);
  assert_int_equal(ml_opus_packet_parse(dtx, 0, &p), ML_ERR_PROTOCOL);
}

static void code3_counts_padding_and_vbr(void **state) {
  (void)state;
  ml_opus_packet p;
  /* CBR, 3 frames of 2 bytes, 2 bytes of padding. */
  const uint8_t cbr[] = {SILK_20 | 3, 0x40 | 3, 2, LBRR_1, 0, 0, 0, 0, 0, 0xee, 0xee};
  assert_int_equal(ml_opus_packet_parse(cbr, sizeof cbr, &p), ML_OK);
  assert_int_equal(p.samples, 2880);
  assert_true(p.lbrr);
  const uint8_t cbr_bad[] = {SILK_20 | 3, 3, 1, 2, 3, 4}; /* 4 bytes in 3 frames */
  assert_int_equal(ml_opus_packet_parse(cbr_bad, sizeof cbr_bad, &p), ML_ERR_PROTOCOL);
  /* VBR, 2 frames: the first 1 byte, the second the rest. */
  const uint8_t vbr[] = {SILK_20 | 3, 0x80 | 2, 1, LBRR_1, 1, 2, 3};
  assert_int_equal(ml_opus_packet_parse(vbr, sizeof vbr, &p), ML_OK);
  assert_int_equal(p.samples, 1920);
  assert_true(p.lbrr);
  const uint8_t vbr_bad[] = {SILK_20 | 3, 0x80 | 2, 9, 1};
  assert_int_equal(ml_opus_packet_parse(vbr_bad, sizeof vbr_bad, &p), ML_ERR_PROTOCOL);
  /* Padding of 254 + 1 announced, 3 bytes there. */
  const uint8_t pad_bad[] = {SILK_20 | 3, 0x40 | 1, 255, 1, 0, 0, 0};
  assert_int_equal(ml_opus_packet_parse(pad_bad, sizeof pad_bad, &p), ML_ERR_PROTOCOL);
  /* More than 120 ms, or no frame. */
  const uint8_t too_long[] = {SILK_20 | 3, 7, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(ml_opus_packet_parse(too_long, sizeof too_long, &p), ML_ERR_PROTOCOL);
  const uint8_t none[] = {SILK_20 | 3, 0};
  assert_int_equal(ml_opus_packet_parse(none, sizeof none, &p), ML_ERR_PROTOCOL);
  /* Every truncation of a valid packet is refused or parsed, never read past. */
  for (size_t n = 0; n <= sizeof cbr; n++)
    (void)!ml_opus_packet_parse(cbr, n, &p);
}

static void clean_stream_conceals_nothing(void **state) {
  (void)state;
  ml_conceal c;
  ml_conceal_init(&c);
  assert_true(ml_conceal_share(&c) == 0.0);
  const uint8_t pkt[] = {SILK_20, 0x00, 1, 2};
  for (int i = 0; i < 50; i++)
    ml_conceal_on_packet(&c, pkt, sizeof pkt);
  assert_int_equal(c.decoded, 50 * 960);
  assert_int_equal(ml_conceal_expected(&c), 50 * 960);
  assert_true(ml_conceal_share(&c) == 0.0);
}

static void single_losses_with_fec_are_rebuilt(void **state) {
  (void)state;
  ml_conceal c;
  ml_conceal_init(&c);
  const uint8_t fec[] = {SILK_20, LBRR_1, 1};
  const uint8_t plain[] = {SILK_20, 0x00, 1};
  /* 10 % loss, one packet at a time, every packet with LBRR. */
  for (int i = 0; i < 100; i++) {
    if (i % 10 == 5)
      ml_conceal_on_gap(&c, 960);
    else
      ml_conceal_on_packet(&c, fec, sizeof fec);
  }
  assert_int_equal(c.fec, 10 * 960);
  assert_int_equal(c.concealed, 0);
  assert_int_equal(ml_conceal_expected(&c), 100 * 960);
  /* Without LBRR the same losses are all PLC. */
  ml_conceal_init(&c);
  for (int i = 0; i < 100; i++) {
    if (i % 10 == 5)
      ml_conceal_on_gap(&c, 960);
    else
      ml_conceal_on_packet(&c, plain, sizeof plain);
  }
  assert_int_equal(c.fec, 0);
  assert_int_equal(c.concealed, 10 * 960);
  assert_true(ml_conceal_share(&c) > 0.0999 && ml_conceal_share(&c) < 0.1001);
}

static void bursts_rebuild_only_their_last_frame(void **state) {
  (void)state;
  ml_conceal c;
  ml_conceal_init(&c);
  const uint8_t fec[] = {SILK_20, LBRR_1, 1};
  ml_conceal_on_packet(&c, fec, sizeof fec);
  ml_conceal_on_gap(&c, 960);
  ml_conceal_on_gap(&c, 960);
  ml_conceal_on_gap(&c, 960);
  assert_int_equal(c.concealed, 2 * 960); /* the last gap waits */
  assert_int_equal(c.pending, 960);
  ml_conceal_on_packet(&c, fec, sizeof fec);
  assert_int_equal(c.fec, 960);
  assert_int_equal(c.concealed, 2 * 960);
  /* One merged gap of 100 ms (a late burst), then a packet with LBRR. */
  ml_conceal_on_gap(&c, 4800);
  ml_conceal_on_packet(&c, fec, sizeof fec);
  assert_int_equal(c.fec, 2 * 960);
  assert_int_equal(c.concealed, 2 * 960 + 3840);
  assert_int_equal(ml_conceal_expected(&c), 3 * 960 + 3 * 960 + 4800); /* all of it, once */
}

static void invalid_and_dtx_packets(void **state) {
  (void)state;
  ml_conceal c;
  ml_conceal_init(&c);
  const uint8_t sixty[] = {SILK_60, 0x00, 1};
  const uint8_t bad[] = {SILK_20 | 3, 0};
  const uint8_t dtx[] = {SILK_20};
  ml_conceal_on_packet(&c, sixty, sizeof sixty);
  ml_conceal_on_packet(&c, bad, sizeof bad); /* a gap of the last duration */
  assert_int_equal(c.invalid, 1);
  assert_int_equal(c.pending, 2880);
  ml_conceal_on_packet(&c, dtx, sizeof dtx); /* silence the sender chose: decoded */
  assert_int_equal(c.concealed, 2880);
  assert_int_equal(c.decoded, 2880 + 960);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, toc_durations_and_codes,
             code3_counts_padding_and_vbr, clean_stream_conceals_nothing,
             single_losses_with_fec_are_rebuilt, bursts_rebuild_only_their_last_frame,
             invalid_and_dtx_packets)
