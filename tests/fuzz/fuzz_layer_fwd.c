/* libFuzzer target: layer forwarding (client/engine/layer_fwd.h) on what a
 * peer sends: its RTCP feedback about our video, rewritten in place before
 * the sender's session sees it (and, for coverage, the same bytes as an RTP
 * or RTCP packet of our sender).
 *
 * Byte 0 picks the forwarder's state: bit 0 the layer wanted, bit 1 whether
 * a keyframe start of each layer has gone through first (a switch, so the
 * previous layer's mapping is live too). The rest is the packet, copied to a
 * buffer of exactly its size so ASan sees any access outside it. The
 * rewriting must keep within the packet and leave a packet that is not a
 * well-formed RTCP header as it was. Seeds in corpus/layer_fwd/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layer_fwd.h"

#include "fuzz.h"

/* A keyframe start of the layer under ssrc, seq, picture ID 5. */
static void keyframe(ml_layer_fwd *f, uint32_t ssrc, uint16_t seq) {
  uint8_t p[20] = {0x80,
                   ML_MEDIA_PT_VP8,
                   (uint8_t)(seq >> 8),
                   (uint8_t)seq,
                   0,
                   0,
                   0,
                   0,
                   (uint8_t)(ssrc >> 24),
                   (uint8_t)(ssrc >> 16),
                   (uint8_t)(ssrc >> 8),
                   (uint8_t)ssrc,
                   0x90,
                   0x80,
                   0x80,
                   0x05,
                   0x00};
  (void)ml_layer_fwd_rtp(f, p, sizeof p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  ml_layer_fwd f;
  ml_layer_fwd_init(&f, ML_MEDIA_LAYER_LARGE);
  if (data[0] & 2) {
    keyframe(&f, ML_MEDIA_SSRC_VIDEO, 1000);
    ml_layer_fwd_want(&f, ML_MEDIA_LAYER_SMALL);
    keyframe(&f, ML_MEDIA_SSRC_SMALL, 40000);
  }
  ml_layer_fwd_want(&f, (data[0] & 1) ? ML_MEDIA_LAYER_SMALL : ML_MEDIA_LAYER_LARGE);
  size_t n = size - 1;
  uint8_t *p = malloc(n ? n : 1);
  if (!p)
    return 0;
  memcpy(p, data + 1, n);
  ml_layer_fwd_feedback(&f, p, n);
  /* Only RTCP packets (version 2, length inside) are touched. */
  CHECK(n >= 8 || n == 0 || memcmp(p, data + 1, n) == 0);
  CHECK(n == 0 || (p[0] >> 6) == 2 || memcmp(p, data + 1, n) == 0);
  (void)ml_layer_fwd_rtcp_out(&f, p, n);
  (void)ml_layer_fwd_rtp(&f, p, n);
  free(p);
  return 0;
}
