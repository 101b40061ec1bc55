/* mentorlink — the media gate: what every RTP and RTCP packet from a peer
 * passes before the sender's or a receiver's GStreamer pipeline sees it, and
 * the parse of RTCP into ml_media_rtcp_info (see media_internal.h).
 */
#include "media_internal.h"

#include "ml/bytes.h"

#include <string.h>

#include <gst/gst.h>
#include <gst/rtp/gstrtcpbuffer.h>
#include <gst/rtp/gstrtpbuffer.h>

/* NTP (RFC 3550) helpers on the wall clock, which rtpbin's default
 * ntp-time-source also uses. */
static uint32_t ntp_middle32_now(void) {
  int64_t us = g_get_real_time();
  uint64_t secs = (uint64_t)(us / G_USEC_PER_SEC) + ML_MEDIA_NTP_UNIX_OFFSET_S;
  uint64_t frac = ((uint64_t)(us % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC;
  return (uint32_t)(((secs & 0xffffu) << 16) | (frac >> 16));
}

int64_t ml_media_ntp64_to_unix_us(uint64_t ntp) {
  uint64_t secs = ntp >> 32;
  uint64_t frac = ntp & 0xffffffffu;
  return ((int64_t)secs - (int64_t)ML_MEDIA_NTP_UNIX_OFFSET_S) * G_USEC_PER_SEC +
         (int64_t)((frac * G_USEC_PER_SEC) >> 32);
}

/* Reads one (compound or reduced-size) RTCP packet that has been validated. */
void ml_media_rtcp_parse(GstBuffer *buf, ml_media_rtcp_info *info) {
  memset(info, 0, sizeof(*info));
  info->rtt_ms = -1.0;
  info->audio_fraction_lost = -1.0;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (!gst_rtcp_buffer_map(buf, GST_MAP_READ, &rtcp))
    return;
  GstRTCPPacket pkt;
  bool more = gst_rtcp_buffer_get_first_packet(&rtcp, &pkt);
  bool have_video_block = false;
  while (more) {
    GstRTCPType type = gst_rtcp_packet_get_type(&pkt);
    if (type == GST_RTCP_TYPE_SR || type == GST_RTCP_TYPE_RR) {
      unsigned n = gst_rtcp_packet_get_rb_count(&pkt);
      for (unsigned i = 0; i < n; i++) {
        guint32 ssrc, exthighest, jitter, lsr, dlsr;
        guint8 fraction;
        gint32 lost;
        gst_rtcp_packet_get_rb(&pkt, i, &ssrc, &fraction, &lost, &exthighest, &jitter, &lsr, &dlsr);
        bool video = ssrc == ML_MEDIA_SSRC_VIDEO;
        if (!video && ssrc != ML_MEDIA_SSRC_AUDIO)
          continue;
        if (!video)
          info->audio_fraction_lost = fraction / 256.0;
        if (have_video_block && !video)
          continue;
        have_video_block = have_video_block || video;
        info->have_report = true;
        info->fraction_lost = fraction / 256.0;
        info->packets_lost = lost;
        info->jitter_ms =
            jitter * 1000.0 / (video ? ML_MEDIA_VIDEO_CLOCK_RATE : ML_MEDIA_AUDIO_CLOCK_RATE);
        if (lsr != 0) {
          uint32_t rtt = ntp_middle32_now() - lsr - dlsr; /* 1/65536 s */
          if (rtt < 0x80000000u)
            info->rtt_ms = rtt * 1000.0 / 65536.0;
        }
      }
    } else if (type == GST_RTCP_TYPE_PSFB) {
      GstRTCPFBType fb = gst_rtcp_packet_fb_get_type(&pkt);
      if (fb == GST_RTCP_PSFB_TYPE_PLI)
        info->pli++;
      else if (fb == GST_RTCP_PSFB_TYPE_FIR)
        info->fir++;
    } else if (type == GST_RTCP_TYPE_RTPFB &&
               gst_rtcp_packet_fb_get_type(&pkt) == GST_RTCP_RTPFB_TYPE_NACK) {
      /* Each FCI word: PID (16 bits) and a bitmask of the 16 following. */
      unsigned words = gst_rtcp_packet_fb_get_fci_length(&pkt);
      const guint8 *fci = gst_rtcp_packet_fb_get_fci(&pkt);
      for (unsigned i = 0; fci != NULL && i < words; i++) {
        unsigned blp = ((unsigned)fci[4 * i + 2] << 8) | fci[4 * i + 3];
        info->nack += 1u + (unsigned)__builtin_popcount(blp);
      }
    }
    more = gst_rtcp_packet_move_to_next(&pkt);
  }
  gst_rtcp_buffer_unmap(&rtcp);
}

#define RTCP_MAX_SENDERS 8

/* One SDES packet body: `chunks` chunks of SSRC, items, a null item and zero
 * padding to 32 bits, each item inside the packet. A peer may only describe
 * SSRCs it reported on in the same compound (an RTP end system describes
 * itself), with printable ASCII items of the standard types; PRIV (8) and
 * unknown items are refused: we never send them. */
static bool sdes_check(const uint8_t *body, size_t len, unsigned chunks, const uint32_t *senders,
                       unsigned n_senders) {
  ml_reader r = ml_reader_init(body, len);
  for (unsigned c = 0; c < chunks; c++) {
    size_t start = r.pos;
    uint32_t ssrc;
    if (!ml_reader_u32(&r, &ssrc))
      return false;
    bool known = false;
    for (unsigned i = 0; i < n_senders; i++)
      known = known || senders[i] == ssrc;
    if (!known)
      return false;
    for (;;) {
      uint8_t type, item_len;
      const uint8_t *item;
      if (!ml_reader_u8(&r, &type))
        return false;
      if (type == 0)
        break;
      if (type > 7 || !ml_reader_u8(&r, &item_len) || !ml_reader_bytes(&r, item_len, &item))
        return false;
      for (unsigned i = 0; i < item_len; i++)
        if (item[i] < 0x20 || item[i] > 0x7e)
          return false;
    }
    while ((r.pos - start) % 4 != 0) {
      uint8_t zero;
      if (!ml_reader_u8(&r, &zero) || zero != 0)
        return false;
    }
  }
  return true;
}

/* Strict check of an RTCP packet (compound or RFC 5506 reduced size) from a
 * peer, before GStreamer parses it: version 2, every length inside the
 * buffer, only the packet types we use (SR, RR, SDES, BYE, RTPFB, PSFB), and
 * counts and SDES items that fit their packet (see sdes_check). GStreamer's
 * own validation does not look inside SDES; the hostile case of
 * engine.media_loopback found, under ASan, a heap over-read (an item longer
 * than its packet) and a leak (random SDES chunks) in libgstrtpmanager 1.22.0
 * that way. */
static bool rtcp_check(const uint8_t *data, size_t len) {
  ml_reader r = ml_reader_init(data, len);
  uint32_t senders[RTCP_MAX_SENDERS];
  unsigned packets = 0, n_senders = 0;
  while (ml_reader_remaining(&r) > 0) {
    uint8_t b0, type;
    uint16_t words;
    const uint8_t *body;
    if (!ml_reader_u8(&r, &b0) || !ml_reader_u8(&r, &type) || !ml_reader_u16(&r, &words) ||
        (b0 >> 6) != 2 || !ml_reader_bytes(&r, (size_t)words * 4, &body))
      return false;
    size_t body_len = (size_t)words * 4;
    unsigned count = b0 & 0x1fu;
    if (b0 & 0x20u) { /* padding: the last byte says how much */
      if (body_len == 0 || body[body_len - 1] == 0 || body[body_len - 1] > body_len)
        return false;
      body_len -= body[body_len - 1];
    }
    bool ok;
    switch (type) {
    case GST_RTCP_TYPE_SR:
    case GST_RTCP_TYPE_RR:
      ok = (type == GST_RTCP_TYPE_SR ? 24u : 4u) + 24 * (size_t)count <= body_len &&
           n_senders < RTCP_MAX_SENDERS;
      if (ok)
        senders[n_senders++] = ((uint32_t)body[0] << 24) | ((uint32_t)body[1] << 16) |
                               ((uint32_t)body[2] << 8) | body[3];
      break;
    case GST_RTCP_TYPE_SDES: ok = sdes_check(body, body_len, count, senders, n_senders); break;
    case GST_RTCP_TYPE_BYE:
      ok = 4 * (size_t)count <= body_len &&
           (4 * (size_t)count == body_len ||
            4 * (size_t)count + 1 + body[4 * (size_t)count] <= body_len);
      break;
    /* Only the feedback we use: generic NACK, PLI, FIR (the count field is
     * the format). Others, such as transport-wide CC, are parsed by code we
     * never exercise. */
    case GST_RTCP_TYPE_RTPFB: ok = body_len >= 12 && count == GST_RTCP_RTPFB_TYPE_NACK; break;
    case GST_RTCP_TYPE_PSFB:
      ok = (count == GST_RTCP_PSFB_TYPE_PLI && body_len >= 8) ||
           (count == GST_RTCP_PSFB_TYPE_FIR && body_len >= 16);
      break;
    default: ok = false; break;
    }
    if (!ok)
      return false;
    packets++;
  }
  return packets > 0;
}

bool ml_media_rtcp_valid(const uint8_t *data, size_t len) {
  return rtcp_check(data, len) &&
         gst_rtcp_buffer_validate_data_reduced((guint8 *)(uintptr_t)data, (guint)len);
}

/* Checks version, padding, CSRC and extension lengths (GstRTPBuffer's map
 * validates them); refuses RTCP packet types sent as RTP. */
static bool rtp_valid(GstBuffer *buf, const uint8_t *data, size_t len) {
  if (len < 12 || (data[0] >> 6) != 2)
    return false;
  unsigned pt = data[1] & 0x7fu;
  if (pt >= 72 && pt <= 76) /* RTCP packet types 200-204 seen through the marker bit */
    return false;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
    return false;
  gst_rtp_buffer_unmap(&rtp);
  return true;
}

/* The checks every packet from a peer passes before GStreamer sees it. On
 * success *out is a new buffer holding a copy. */
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

int ml_media_check_packet_for_test(ml_inner_type type, const uint8_t *data, size_t len,
                                   ml_media_rtcp_info *info) {
  GstBuffer *buf = NULL;
  int rc = ml_media_packet_accept(type, data, len, &buf);
  if (rc == ML_OK && type == ML_INNER_RTCP)
    ml_media_rtcp_parse(buf, info);
  if (buf != NULL)
    gst_buffer_unref(buf);
  return rc;
}
