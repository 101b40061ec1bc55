/* mentorlink — checks and parse of a peer's RTP/RTCP on bytes (see
 * packet_check.h). */
#include "packet_check.h"

#include <string.h>

#include "ml/bytes.h"

#define REMB_MAX_SSRCS 8

#define RTP_HEADER_LEN 12
#define NTP_UNIX_OFFSET_S UINT64_C(2208988800)
#define USEC_PER_SEC 1000000

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

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

/* REMB (draft-alvestrand-rmcat-remb-03 section 2.2) after the two SSRCs:
 * "REMB", the SSRC count, a 6-bit exponent and an 18-bit mantissa, then
 * the SSRCs, all inside the packet. */
static bool remb_check(const uint8_t *body, size_t body_len) {
  if (body_len < 16 || memcmp(body + 8, "REMB", 4) != 0)
    return false;
  unsigned n = body[12];
  return n >= 1 && n <= REMB_MAX_SSRCS && 16 + 4 * (size_t)n <= body_len;
}

/* GStreamer's own validation does not look inside SDES; the hostile case of
 * engine.media_loopback found, under ASan, a heap over-read (an item longer
 * than its packet) and a leak (random SDES chunks) in libgstrtpmanager 1.22.0
 * that way. The padding rules are GStreamer's (gst_rtcp_buffer_validate_data_reduced). */
bool ml_packet_rtcp_check(const uint8_t *data, size_t len) {
  ml_reader r = ml_reader_init(data, len);
  uint32_t senders[ML_PACKET_RTCP_MAX_SENDERS];
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
    if (b0 & 0x20u) { /* padding: the last byte says how much; the last packet only */
      if (body_len == 0 || body[body_len - 1] == 0 || body[body_len - 1] > body_len ||
          ml_reader_remaining(&r) > 0 || (packets > 0 && (body[body_len - 1] & 3u) != 0))
        return false;
      body_len -= body[body_len - 1];
    }
    bool ok;
    switch (type) {
    case ML_RTCP_SR:
    case ML_RTCP_RR:
      ok = (type == ML_RTCP_SR ? 24u : 4u) + 24 * (size_t)count <= body_len &&
           n_senders < ML_PACKET_RTCP_MAX_SENDERS;
      if (ok)
        senders[n_senders++] = be32(body);
      break;
    case ML_RTCP_SDES: ok = sdes_check(body, body_len, count, senders, n_senders); break;
    case ML_RTCP_BYE:
      ok = 4 * (size_t)count <= body_len &&
           (4 * (size_t)count == body_len ||
            4 * (size_t)count + 1 + body[4 * (size_t)count] <= body_len);
      break;
    /* Only the feedback we use: generic NACK, PLI, FIR (the count field is
     * the format). Others, such as transport-wide CC, are parsed by code we
     * never exercise. */
    case ML_RTCP_RTPFB: ok = body_len >= 12 && count == ML_RTPFB_NACK; break;
    case ML_RTCP_PSFB:
      ok = (count == ML_PSFB_PLI && body_len >= 8) || (count == ML_PSFB_FIR && body_len >= 16) ||
           (count == ML_PSFB_AFB && remb_check(body, body_len));
      break;
    default: ok = false; break;
    }
    if (!ok)
      return false;
    packets++;
  }
  return packets > 0;
}

bool ml_packet_rtp_check(const uint8_t *data, size_t len) {
  ml_reader r = ml_reader_init(data, len);
  uint8_t b0, b1;
  const uint8_t *rest;
  if (!ml_reader_u8(&r, &b0) || !ml_reader_u8(&r, &b1) ||
      !ml_reader_bytes(&r, RTP_HEADER_LEN - 2, &rest) || (b0 >> 6) != 2)
    return false;
  unsigned pt = b1 & 0x7fu;
  if (pt >= 72 && pt <= 76) /* RTCP packet types 200-204 seen through the marker bit */
    return false;
  const uint8_t *csrcs;
  if (!ml_reader_bytes(&r, 4 * (size_t)(b0 & 0x0fu), &csrcs))
    return false;
  if (b0 & 0x10u) { /* extension: profile-defined id, then its length in words */
    uint16_t id, words;
    const uint8_t *ext;
    if (!ml_reader_u16(&r, &id) || !ml_reader_u16(&r, &words) ||
        !ml_reader_bytes(&r, 4 * (size_t)words, &ext))
      return false;
  }
  /* Padding: the last byte counts it; it may not reach into the header. */
  return (b0 & 0x20u) == 0 || data[len - 1] <= ml_reader_remaining(&r);
}

void ml_packet_rtcp_parse(const uint8_t *data, size_t len, uint32_t now_ntp32,
                          ml_media_rtcp_info *info) {
  memset(info, 0, sizeof(*info));
  info->rtt_ms = -1.0;
  info->audio_fraction_lost = -1.0;
  info->remb_kbps = -1.0;
  ml_reader r = ml_reader_init(data, len);
  bool have_video_block = false;
  for (;;) {
    uint8_t b0, type;
    uint16_t words;
    const uint8_t *body;
    if (!ml_reader_u8(&r, &b0) || !ml_reader_u8(&r, &type) || !ml_reader_u16(&r, &words) ||
        (b0 >> 6) != 2 || !ml_reader_bytes(&r, (size_t)words * 4, &body))
      return;
    size_t body_len = (size_t)words * 4; /* padding included, as GStreamer reads it */
    unsigned count = b0 & 0x1fu;
    if (type == ML_RTCP_SR || type == ML_RTCP_RR) {
      ml_reader blocks = ml_reader_init(body, body_len);
      const uint8_t *skip;
      (void)ml_reader_bytes(&blocks, type == ML_RTCP_SR ? 24 : 4, &skip);
      for (unsigned i = 0; i < count; i++) {
        uint32_t ssrc, lost_word, exthighest, jitter, lsr, dlsr;
        if (!ml_reader_u32(&blocks, &ssrc) || !ml_reader_u32(&blocks, &lost_word) ||
            !ml_reader_u32(&blocks, &exthighest) || !ml_reader_u32(&blocks, &jitter) ||
            !ml_reader_u32(&blocks, &lsr) || !ml_reader_u32(&blocks, &dlsr))
          break;
        unsigned fraction = lost_word >> 24;
        /* cumulative lost: 24 bits, sign-extended */
        int32_t lost = (int32_t)((lost_word & 0x00800000u) ? (lost_word | 0xff000000u)
                                                           : (lost_word & 0x00ffffffu));
        bool video = ssrc == ML_MEDIA_SSRC_VIDEO || ssrc == ML_MEDIA_SSRC_SMALL;
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
          uint32_t rtt = now_ntp32 - lsr - dlsr; /* 1/65536 s */
          if (rtt < 0x80000000u)
            info->rtt_ms = rtt * 1000.0 / 65536.0;
        }
      }
    } else if (type == ML_RTCP_PSFB) {
      if (count == ML_PSFB_PLI)
        info->pli++;
      else if (count == ML_PSFB_FIR)
        info->fir++;
      else if (count == ML_PSFB_AFB && remb_check(body, body_len)) {
        unsigned exp = body[13] >> 2;
        uint64_t mantissa =
            ((uint64_t)(body[13] & 3u) << 16) | ((uint64_t)body[14] << 8) | body[15];
        /* 18 bits shifted by up to 63 overflows: saturate (absurd anyway). */
        double bps = exp > 45 ? 1e18 : (double)(mantissa << exp);
        info->remb_kbps = bps / 1000.0;
      }
    } else if (type == ML_RTCP_RTPFB && count == ML_RTPFB_NACK && words > 2) {
      /* After the two SSRCs, each FCI word: PID (16 bits) and a bitmask of
       * the 16 following. */
      for (size_t w = 2; w < words; w++) {
        unsigned blp = ((unsigned)body[4 * w + 2] << 8) | body[4 * w + 3];
        info->nack += 1u + (unsigned)__builtin_popcount(blp);
      }
    }
    if (b0 & 0x20u) /* a padded packet is the last one */
      return;
  }
}

uint32_t ml_packet_ntp_middle32(int64_t unix_us) {
  uint64_t secs = (uint64_t)(unix_us / USEC_PER_SEC) + NTP_UNIX_OFFSET_S;
  uint64_t frac = ((uint64_t)(unix_us % USEC_PER_SEC) << 32) / USEC_PER_SEC;
  return (uint32_t)(((secs & 0xffffu) << 16) | (frac >> 16));
}

int64_t ml_packet_ntp64_to_unix_us(uint64_t ntp) {
  uint64_t secs = ntp >> 32;
  uint64_t frac = ntp & 0xffffffffu;
  return ((int64_t)secs - (int64_t)NTP_UNIX_OFFSET_S) * USEC_PER_SEC +
         (int64_t)((frac * USEC_PER_SEC) >> 32);
}

size_t ml_packet_remb_write(uint32_t sender_ssrc, uint32_t media_ssrc, uint64_t bps, uint8_t *buf,
                            size_t cap) {
  if (cap < ML_PACKET_REMB_LEN)
    return 0;
  unsigned exp = 0;
  while ((bps >> exp) > 0x3ffffu)
    exp++;
  uint32_t mantissa = (uint32_t)(bps >> exp);
  const uint8_t out[ML_PACKET_REMB_LEN] = {0x80u | ML_PSFB_AFB,
                                           ML_RTCP_PSFB,
                                           0,
                                           ML_PACKET_REMB_LEN / 4 - 1,
                                           (uint8_t)(sender_ssrc >> 24),
                                           (uint8_t)(sender_ssrc >> 16),
                                           (uint8_t)(sender_ssrc >> 8),
                                           (uint8_t)sender_ssrc,
                                           0,
                                           0,
                                           0,
                                           0, /* media source: 0, as REMB says */
                                           'R',
                                           'E',
                                           'M',
                                           'B',
                                           1,
                                           (uint8_t)((exp << 2) | (mantissa >> 16)),
                                           (uint8_t)(mantissa >> 8),
                                           (uint8_t)mantissa,
                                           (uint8_t)(media_ssrc >> 24),
                                           (uint8_t)(media_ssrc >> 16),
                                           (uint8_t)(media_ssrc >> 8),
                                           (uint8_t)media_ssrc};
  memcpy(buf, out, sizeof out);
  return sizeof out;
}
