/* mentorlink — the media gate: what every RTP and RTCP packet from a peer
 * passes before the sender's or a receiver's GStreamer pipeline sees it, and
 * the parse of RTCP on the wall clock (see media_internal.h). The checks
 * themselves are packet_check.c's, on bytes; GStreamer's own validation runs
 * after them, on what its parsers will be given.
 */
#include "media_internal.h"

#include "packet_check.h"

#include <gst/gst.h>
#include <gst/rtp/gstrtcpbuffer.h>
#include <gst/rtp/gstrtpbuffer.h>

bool ml_media_rtcp_valid(const uint8_t *data, size_t len) {
  return ml_packet_rtcp_check(data, len) &&
         gst_rtcp_buffer_validate_data_reduced((guint8 *)(uintptr_t)data, (guint)len);
}

/* GstRTPBuffer's map validates version, padding, CSRC and extension lengths. */
static bool rtp_valid(GstBuffer *buf, const uint8_t *data, size_t len) {
  if (!ml_packet_rtp_check(data, len))
    return false;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
    return false;
  gst_rtp_buffer_unmap(&rtp);
  return true;
}

int ml_media_packet_accept(ml_inner_type type, const uint8_t *data, size_t len, GstBuffer **out) {
  if (type != ML_INNER_RTP && type != ML_INNER_RTCP)
    return ML_ERR_INVALID;
  if (len > ML_MEDIA_MAX_PACKET)
    return ML_ERR_TOO_BIG;
  /* rtcp_valid refuses empty input; rtp_valid wants at least a header. */
  bool ok = type == ML_INNER_RTP ? len >= 12 : ml_media_rtcp_valid(data, len);
  GstBuffer *buf = ok ? gst_buffer_new_memdup(data, len) : NULL;
  if (ok && type == ML_INNER_RTP)
    ok = rtp_valid(buf, data, len);
  if (!ok) {
    if (buf != NULL)
      gst_buffer_unref(buf);
    return ML_ERR_PROTOCOL;
  }
  *out = buf;
  return ML_OK;
}

/* The wall clock, which rtpbin's default ntp-time-source also uses (LSR is
 * in its terms). */
void ml_media_rtcp_parse(const uint8_t *data, size_t len, ml_media_rtcp_info *info) {
  ml_packet_rtcp_parse(data, len, ml_packet_ntp_middle32(g_get_real_time()), info);
}

int ml_media_check_packet_for_test(ml_inner_type type, const uint8_t *data, size_t len,
                                   ml_media_rtcp_info *info) {
  GstBuffer *buf = NULL;
  int rc = ml_media_packet_accept(type, data, len, &buf);
  if (rc == ML_OK && type == ML_INNER_RTCP)
    ml_media_rtcp_parse(data, len, info);
  if (buf != NULL)
    gst_buffer_unref(buf);
  return rc;
}
