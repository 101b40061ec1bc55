/* libFuzzer target: the checks a packet from a peer passes before the media
 * pipelines see it (client/engine/packet_check.c on bytes, then the gate in
 * client/engine/media.c that adds GStreamer's own validation: the two must
 * agree), the RTCP parse that feeds the rate controller (on checked and on
 * unchecked bytes), the VP8 keyframe test of the fan-out (ml/rtp_vp8.h) and
 * the RTCP routing between sender and receive branch (ml/rtcp_origin.h).
 *
 * Input: one byte selecting the inner type (even: RTP, odd: RTCP), then the
 * packet. Seeds in corpus/media_packet/ are real shapes: SR + SDES, RR +
 * SDES, RR + PLI, RR + NACK, BYE, and a VP8 RTP packet. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <gst/gst.h>

#include "media_internal.h"
#include "packet_check.h"
#include "ml/media.h"
#include "ml/rtcp_origin.h"
#include "ml/rtp_vp8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool initialised;
  if (!initialised) {
    gst_init(NULL, NULL);
    initialised = true;
  }
  if (size < 1)
    return 0;
  ml_inner_type type = (data[0] & 1u) ? ML_INNER_RTCP : ML_INNER_RTP;
  if (type == ML_INNER_RTP)
    (void)ml_rtp_vp8_keyframe_start(data + 1, size - 1, ML_MEDIA_PT_VP8);
  else
    (void)ml_rtcp_from_peer_sender(data + 1, size - 1);
  ml_media_rtcp_info info = {0};
  int rc = ml_media_check_packet_for_test(type, data + 1, size - 1, &info);
  /* GStreamer's validation never refuses what the byte checks accept. */
  bool pure = type == ML_INNER_RTP ? ml_packet_rtp_check(data + 1, size - 1)
                                   : ml_packet_rtcp_check(data + 1, size - 1);
  if (size - 1 <= ML_MEDIA_MAX_PACKET && pure != (rc == ML_OK))
    abort();
  if (type == ML_INNER_RTCP) { /* as for our own RTCP, which is not checked */
    ml_media_rtcp_info raw;
    ml_packet_rtcp_parse(data + 1, size - 1, 0x12345678u, &raw);
  }
  if (rc == ML_OK && type == ML_INNER_RTCP) {
    /* What the parse reports must be self-consistent. */
    if (info.fraction_lost < 0.0 || info.fraction_lost > 1.0)
      abort();
    if (info.audio_fraction_lost > 1.0 ||
        (info.audio_fraction_lost < 0.0 && info.audio_fraction_lost != -1.0))
      abort();
    if (!info.have_report && info.rtt_ms >= 0.0)
      abort();
  }
  return 0;
}
