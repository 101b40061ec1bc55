/* ml_rtcp_from_peer_sender: RTCP as the two rtpbin sessions of a peer send it
 * (GStreamer 1.22), and what is too short or not RTCP (ml/rtcp_origin.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "ml/media.h"
#include "ml/rtcp_origin.h"

static void put_ssrc(uint8_t *p, uint32_t ssrc) {
  p[4] = (uint8_t)(ssrc >> 24);
  p[5] = (uint8_t)(ssrc >> 16);
  p[6] = (uint8_t)(ssrc >> 8);
  p[7] = (uint8_t)ssrc;
}

/* The first 8 bytes of an RTCP packet of type pt under ssrc (the rest of a
 * compound does not matter here). */
static void header(uint8_t p[8], uint8_t pt, uint32_t ssrc) {
  p[0] = 0x80;
  p[1] = pt;
  p[2] = 0;
  p[3] = 1;
  put_ssrc(p, ssrc);
}

static void test_peer_sender_session(void **state) {
  (void)state;
  uint8_t p[8];
  /* SR while it sends, RR while paused (also its RTX SSRC, which only
   * sends on NACK), a BYE compound (starts with RR) when a stream timed out. */
  const uint32_t ours[] = {ML_MEDIA_SSRC_VIDEO, ML_MEDIA_SSRC_VIDEO_RTX, ML_MEDIA_SSRC_AUDIO};
  for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
    header(p, 200, ours[i]);
    assert_true(ml_rtcp_from_peer_sender(p, sizeof p));
    header(p, 201, ours[i]);
    assert_true(ml_rtcp_from_peer_sender(p, sizeof p));
  }
}

static void test_peer_receive_branch(void **state) {
  (void)state;
  uint8_t p[8];
  /* Its session's random SSRC: RR, and a reduced-size PLI or NACK (RFC
   * 5506) whose packet sender SSRC is that same random one. */
  header(p, 201, 0x1ab12623u);
  assert_false(ml_rtcp_from_peer_sender(p, sizeof p));
  header(p, 206, 0x1ab12623u);
  assert_false(ml_rtcp_from_peer_sender(p, sizeof p));
  header(p, 205, 0x1ab12623u);
  assert_false(ml_rtcp_from_peer_sender(p, sizeof p));
}

static void test_not_rtcp(void **state) {
  (void)state;
  uint8_t p[8];
  header(p, 201, ML_MEDIA_SSRC_VIDEO);
  assert_false(ml_rtcp_from_peer_sender(NULL, 0));
  for (size_t n = 0; n < sizeof p; n++)
    assert_false(ml_rtcp_from_peer_sender(p, n)); /* cut short */
  p[0] = 0x40;                                    /* version 1 */
  assert_false(ml_rtcp_from_peer_sender(p, sizeof p));
  header(p, 199, ML_MEDIA_SSRC_VIDEO);
  assert_false(ml_rtcp_from_peer_sender(p, sizeof p));
  header(p, 207, ML_MEDIA_SSRC_VIDEO); /* XR: we never send it */
  assert_false(ml_rtcp_from_peer_sender(p, sizeof p));
  header(p, 96, ML_MEDIA_SSRC_VIDEO); /* an RTP packet's PT byte */
  assert_false(ml_rtcp_from_peer_sender(p, sizeof p));
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_peer_sender_session, test_peer_receive_branch,
             test_not_rtcp)
