/* Unit tests for the checks and parse of a peer's RTP/RTCP on bytes
 * (client/engine/packet_check.h) and the gate's limits (media_internal.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include <gst/gst.h>

#include "media_internal.h"
#include "packet_check.h"

#define OTHER_SSRC 0x11223344u /* the peer's receive-side SSRC */
#define NOW_NTP32 0x12345678u

typedef struct pkt {
  uint8_t b[1600];
  size_t n;
} pkt;

static void u8(pkt *p, unsigned v) {
  assert_true(p->n < sizeof p->b);
  p->b[p->n++] = (uint8_t)v;
}
static void u16(pkt *p, unsigned v) {
  u8(p, v >> 8);
  u8(p, v);
}
static void u32(pkt *p, uint32_t v) {
  u16(p, v >> 16);
  u16(p, v & 0xffffu);
}

/* Starts an RTCP packet; end_rtcp fills in its length. */
static size_t begin_rtcp(pkt *p, unsigned count, unsigned type) {
  size_t start = p->n;
  u8(p, 0x80u | count);
  u8(p, type);
  u16(p, 0);
  return start;
}
static void end_rtcp(pkt *p, size_t start) {
  while ((p->n - start) % 4 != 0)
    u8(p, 0);
  size_t words = (p->n - start) / 4 - 1;
  p->b[start + 2] = (uint8_t)(words >> 8);
  p->b[start + 3] = (uint8_t)words;
}

static void report_block(pkt *p, uint32_t ssrc, unsigned fraction, uint32_t lost24, uint32_t jitter,
                         uint32_t lsr, uint32_t dlsr) {
  u32(p, ssrc);
  u32(p, (uint32_t)fraction << 24 | (lost24 & 0xffffffu));
  u32(p, 1000); /* extended highest sequence number */
  u32(p, jitter);
  u32(p, lsr);
  u32(p, dlsr);
}

static void rr(pkt *p, uint32_t sender, unsigned blocks) {
  size_t s = begin_rtcp(p, blocks, 201);
  u32(p, sender);
  for (unsigned i = 0; i < blocks; i++)
    report_block(p, ML_MEDIA_SSRC_VIDEO, 25, 3, 900, 0, 0);
  end_rtcp(p, s);
}

static void sr(pkt *p, uint32_t sender, unsigned blocks) {
  size_t s = begin_rtcp(p, blocks, 200);
  u32(p, sender);
  u32(p, 0xe0000000u); /* NTP seconds */
  u32(p, 0);           /* NTP fraction */
  u32(p, 90000);       /* RTP time */
  u32(p, 10);          /* packets */
  u32(p, 12000);       /* octets */
  for (unsigned i = 0; i < blocks; i++)
    report_block(p, ML_MEDIA_SSRC_AUDIO, 0, 0, 480, 0, 0);
  end_rtcp(p, s);
}

static void sdes_cname(pkt *p, uint32_t ssrc, const char *cname) {
  size_t s = begin_rtcp(p, 1, 202);
  u32(p, ssrc);
  u8(p, 1);
  u8(p, (unsigned)strlen(cname));
  for (const char *c = cname; *c; c++)
    u8(p, (unsigned char)*c);
  u8(p, 0);
  end_rtcp(p, s);
}

static void pli(pkt *p, uint32_t sender) {
  size_t s = begin_rtcp(p, 1, 206);
  u32(p, sender);
  u32(p, ML_MEDIA_SSRC_VIDEO);
  end_rtcp(p, s);
}

static void fir(pkt *p, uint32_t sender) {
  size_t s = begin_rtcp(p, 4, 206);
  u32(p, sender);
  u32(p, 0);
  u32(p, ML_MEDIA_SSRC_VIDEO); /* FCI: SSRC, seq nr + reserved */
  u32(p, 0x01000000u);
  end_rtcp(p, s);
}

static void nack(pkt *p, uint32_t sender, uint16_t pid, uint16_t blp) {
  size_t s = begin_rtcp(p, 1, 205);
  u32(p, sender);
  u32(p, ML_MEDIA_SSRC_VIDEO);
  u16(p, pid);
  u16(p, blp);
  end_rtcp(p, s);
}

static void bye(pkt *p, uint32_t ssrc, const char *reason) {
  size_t s = begin_rtcp(p, 1, 203);
  u32(p, ssrc);
  if (reason != NULL) {
    u8(p, (unsigned)strlen(reason));
    for (const char *c = reason; *c; c++)
      u8(p, (unsigned char)*c);
  }
  end_rtcp(p, s);
}

static bool check(const pkt *p) { return ml_packet_rtcp_check(p->b, p->n); }

/* Every proper prefix of an accepted compound is refused, except those that
 * end where one of its packets ends (a shorter compound). */
static void assert_prefixes_refused(const pkt *p) {
  size_t boundary = 0;
  for (size_t n = 0; n < p->n; n++) {
    if (n == boundary && n > 0) {
      assert_true(ml_packet_rtcp_check(p->b, n));
    } else {
      assert_false(ml_packet_rtcp_check(p->b, n));
    }
    if (n == boundary)
      boundary += 4 + 4 * (((size_t)p->b[n + 2] << 8) | p->b[n + 3]);
  }
}

static void rtcp_valid_shapes_accepted(void **state) {
  (void)state;
  pkt p = {0};
  sr(&p, OTHER_SSRC, 1);
  sdes_cname(&p, OTHER_SSRC, "user@host");
  assert_true(check(&p));
  assert_prefixes_refused(&p);

  p = (pkt){0};
  rr(&p, OTHER_SSRC, 2);
  sdes_cname(&p, OTHER_SSRC, "x");
  assert_true(check(&p));
  assert_prefixes_refused(&p);

  p = (pkt){0};
  rr(&p, OTHER_SSRC, 0);
  pli(&p, OTHER_SSRC);
  assert_true(check(&p));
  assert_prefixes_refused(&p);

  p = (pkt){0};
  rr(&p, OTHER_SSRC, 0);
  nack(&p, OTHER_SSRC, 100, 0x0005);
  assert_true(check(&p));

  p = (pkt){0};
  rr(&p, OTHER_SSRC, 0);
  fir(&p, OTHER_SSRC);
  assert_true(check(&p));

  p = (pkt){0};
  rr(&p, OTHER_SSRC, 0);
  bye(&p, OTHER_SSRC, NULL);
  assert_true(check(&p));
  p = (pkt){0};
  rr(&p, OTHER_SSRC, 0);
  bye(&p, OTHER_SSRC, "left");
  assert_true(check(&p));
  assert_prefixes_refused(&p);

  /* RFC 5506 reduced size: feedback alone, or a BYE alone. */
  p = (pkt){0};
  pli(&p, OTHER_SSRC);
  assert_true(check(&p));
  p = (pkt){0};
  nack(&p, OTHER_SSRC, 7, 0);
  assert_true(check(&p));
  p = (pkt){0};
  bye(&p, OTHER_SSRC, NULL);
  assert_true(check(&p));
}

static void rtcp_framing_refused(void **state) {
  (void)state;
  assert_false(ml_packet_rtcp_check(NULL, 0));
  pkt p = {0};
  rr(&p, OTHER_SSRC, 1);
  pkt good = p;

  p.b[0] = (uint8_t)((p.b[0] & 0x3fu) | 0x40u); /* version 1 */
  assert_false(check(&p));
  p = good;
  p.b[3]++; /* length past the end */
  assert_false(check(&p));
  p = good;
  p.b[3]--; /* length short: 4 bytes left over */
  assert_false(check(&p));
  p = good;
  u8(&p, 0); /* a trailing byte */
  assert_false(check(&p));

  /* Wrong version in the second packet. */
  p = good;
  size_t second = p.n;
  pli(&p, OTHER_SSRC);
  p.b[second] = (uint8_t)(p.b[second] & 0x3fu);
  assert_false(check(&p));

  /* Types we never use: APP (204), XR (207), an SR-range oddity (199). */
  unsigned types[] = {204, 207, 199, 72};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    p = (pkt){0};
    size_t s = begin_rtcp(&p, 0, types[i]);
    u32(&p, OTHER_SSRC);
    u32(&p, 0);
    u32(&p, 0);
    end_rtcp(&p, s);
    assert_false(check(&p));
  }
}

static void rtcp_counts_refused(void **state) {
  (void)state;
  pkt p = {0};
  rr(&p, OTHER_SSRC, 1);
  p.b[0] = (uint8_t)(p.b[0] + 1); /* two blocks claimed, one present */
  assert_false(check(&p));

  p = (pkt){0};
  sr(&p, OTHER_SSRC, 0);
  p.n -= 4; /* sender info cut short */
  p.b[3]--;
  assert_false(check(&p));

  /* More SR/RR packets than an SDES could need. */
  p = (pkt){0};
  for (unsigned i = 0; i < ML_PACKET_RTCP_MAX_SENDERS; i++)
    rr(&p, OTHER_SSRC + i, 0);
  assert_true(check(&p));
  rr(&p, OTHER_SSRC, 0);
  assert_false(check(&p));

  /* BYE: SSRCs past the packet; a reason longer than the packet. */
  p = (pkt){0};
  bye(&p, OTHER_SSRC, NULL);
  p.b[0] = (uint8_t)(p.b[0] + 1);
  assert_false(check(&p));
  p = (pkt){0};
  bye(&p, OTHER_SSRC, "abc");
  p.b[8] = 9;
  assert_false(check(&p));
}

static void rtcp_feedback_refused(void **state) {
  (void)state;
  pkt p = {0};
  nack(&p, OTHER_SSRC, 1, 0);
  p.b[0] = (uint8_t)((p.b[0] & ~0x1fu) | 15u); /* transport-wide CC, not NACK */
  assert_false(check(&p));

  p = (pkt){0};
  pli(&p, OTHER_SSRC);
  p.b[0] = (uint8_t)((p.b[0] & ~0x1fu) | 15u); /* application layer (REMB) */
  assert_false(check(&p));

  p = (pkt){0}; /* NACK without its FCI */
  size_t s = begin_rtcp(&p, 1, 205);
  u32(&p, OTHER_SSRC);
  u32(&p, ML_MEDIA_SSRC_VIDEO);
  end_rtcp(&p, s);
  assert_false(check(&p));

  p = (pkt){0}; /* FIR without its FCI */
  s = begin_rtcp(&p, 4, 206);
  u32(&p, OTHER_SSRC);
  u32(&p, 0);
  end_rtcp(&p, s);
  assert_false(check(&p));

  p = (pkt){0}; /* PLI without the media SSRC */
  s = begin_rtcp(&p, 1, 206);
  u32(&p, OTHER_SSRC);
  end_rtcp(&p, s);
  assert_false(check(&p));
}

static void rtcp_sdes_refused(void **state) {
  (void)state;
  pkt p = {0};
  /* Describing an SSRC not reported on in the compound. */
  rr(&p, OTHER_SSRC, 0);
  sdes_cname(&p, OTHER_SSRC + 1, "x");
  assert_false(check(&p));
  p = (pkt){0}; /* an SDES with no SR/RR before it */
  sdes_cname(&p, OTHER_SSRC, "x");
  assert_false(check(&p));

  pkt base = {0};
  rr(&base, OTHER_SSRC, 0);
  size_t at = base.n;
  sdes_cname(&base, OTHER_SSRC, "abc");
  assert_true(check(&base));

  p = base;
  p.b[at + 8] = 8; /* PRIV */
  assert_false(check(&p));
  p = base;
  p.b[at + 8] = 9; /* unknown */
  assert_false(check(&p));
  p = base;
  p.b[at + 10] = 0x07; /* not printable */
  assert_false(check(&p));
  p = base;
  p.b[at + 9] = 40; /* item longer than the packet */
  assert_false(check(&p));
  p = base;
  p.b[p.n - 1] = 1; /* non-zero chunk padding */
  assert_false(check(&p));
  p = base;
  p.b[at] = (uint8_t)(p.b[at] + 1); /* two chunks claimed */
  assert_false(check(&p));
}

/* Adds padding of pad bytes (count in the last) to the packet at start. */
static void pad_packet(pkt *p, size_t start, unsigned pad) {
  p->b[start] |= 0x20u;
  for (unsigned i = 1; i < pad; i++)
    u8(p, 0);
  u8(p, pad);
  end_rtcp(p, start);
}

static void rtcp_padding(void **state) {
  (void)state;
  pkt p = {0};
  size_t s = p.n;
  rr(&p, OTHER_SSRC, 0);
  pad_packet(&p, s, 4);
  assert_true(check(&p)); /* padded last (and first) packet */

  p = (pkt){0};
  rr(&p, OTHER_SSRC, 0);
  s = p.n;
  pli(&p, OTHER_SSRC);
  pad_packet(&p, s, 4);
  assert_true(check(&p));
  p.b[p.n - 1] = 0; /* count 0 */
  assert_false(check(&p));
  p.b[p.n - 1] = 3; /* not a multiple of 4 after the first packet */
  assert_false(check(&p));
  p.b[p.n - 1] = 13; /* more than the packet */
  assert_false(check(&p));

  /* Padding on a packet that is not the last. */
  p = (pkt){0};
  s = p.n;
  rr(&p, OTHER_SSRC, 0);
  pad_packet(&p, s, 4);
  pli(&p, OTHER_SSRC);
  assert_false(check(&p));

  /* Padding that eats into a report block. */
  p = (pkt){0};
  s = p.n;
  rr(&p, OTHER_SSRC, 1);
  p.b[s] |= 0x20u;
  p.b[p.n - 1] = 4;
  assert_false(check(&p));
}

static void rtp_checks(void **state) {
  (void)state;
  pkt p = {0};
  u8(&p, 0x80);
  u8(&p, ML_MEDIA_PT_VP8);
  u16(&p, 1);
  u32(&p, 3000);
  u32(&p, ML_MEDIA_SSRC_VIDEO);
  assert_true(ml_packet_rtp_check(p.b, p.n));
  for (size_t n = 0; n < 12; n++)
    assert_false(ml_packet_rtp_check(p.b, n));
  pkt base = p;

  p.b[0] = 0x40; /* version 1 */
  assert_false(ml_packet_rtp_check(p.b, p.n));
  for (unsigned pt = 72; pt <= 76; pt++) { /* RTCP 200-204 with the marker bit */
    p = base;
    p.b[1] = (uint8_t)(0x80u | pt);
    assert_false(ml_packet_rtp_check(p.b, p.n));
  }
  p = base;
  p.b[1] = 0x80u | 71u;
  assert_true(ml_packet_rtp_check(p.b, p.n));
  p.b[1] = 77u;
  assert_true(ml_packet_rtp_check(p.b, p.n));

  /* Two CSRCs, an extension of one word, a payload and 3 bytes of padding. */
  p = base;
  p.b[0] = 0x80u | 0x20u | 0x10u | 2u;
  u32(&p, 1);
  u32(&p, 2);
  u16(&p, 0xbede);
  u16(&p, 1);
  u32(&p, 0x10ff0000u);
  u32(&p, 0xaabbccddu);
  u8(&p, 0);
  u8(&p, 0);
  u8(&p, 3);
  assert_true(ml_packet_rtp_check(p.b, p.n));
  for (size_t n = 12; n < 28; n++) /* every prefix of the header (12 + 8 + 4 + 4) */
    assert_false(ml_packet_rtp_check(p.b, n));
  assert_false(ml_packet_rtp_check(p.b, 29)); /* its last byte, 0xaa, counts as padding */
  pkt full = p;
  p.b[p.n - 1] = 7; /* padding through the payload (7 bytes after the header) */
  assert_true(ml_packet_rtp_check(p.b, p.n));
  p.b[p.n - 1] = 8; /* into the header */
  assert_false(ml_packet_rtp_check(p.b, p.n));
  p = full;
  p.b[23] = 3; /* extension longer than the packet */
  assert_false(ml_packet_rtp_check(p.b, p.n));
  p = full;
  p.b[0] = (uint8_t)((p.b[0] & 0xf0u) | 15u); /* 15 CSRCs */
  assert_false(ml_packet_rtp_check(p.b, p.n));
}

static void parse_reports(void **state) {
  (void)state;
  ml_media_rtcp_info info;
  pkt p = {0};
  size_t s = begin_rtcp(&p, 2, 201);
  u32(&p, OTHER_SSRC);
  /* RTT 0.5 s: now - lsr - dlsr = 0x8000 in 1/65536 s. */
  report_block(&p, ML_MEDIA_SSRC_VIDEO, 64, 0xfffffeu /* -2 */, 9000, NOW_NTP32 - 0x18000u,
               0x10000u);
  report_block(&p, ML_MEDIA_SSRC_AUDIO, 128, 5, 4800, 0, 0);
  end_rtcp(&p, s);
  assert_true(check(&p));
  ml_packet_rtcp_parse(p.b, p.n, NOW_NTP32, &info);
  assert_true(info.have_report);
  assert_true(info.fraction_lost == 0.25); /* video preferred */
  assert_true(info.audio_fraction_lost == 0.5);
  assert_int_equal(info.packets_lost, -2);
  assert_true(info.jitter_ms == 100.0);
  assert_true(info.rtt_ms == 500.0);
  assert_int_equal(info.pli + info.fir + info.nack, 0);

  /* Audio alone; LSR 0: no RTT; a foreign block ignored. */
  p = (pkt){0};
  s = begin_rtcp(&p, 2, 201);
  u32(&p, OTHER_SSRC);
  report_block(&p, 0xdeadbeefu, 200, 50, 1, 1, 1);
  report_block(&p, ML_MEDIA_SSRC_AUDIO, 32, 7, 4800, 0, 0);
  end_rtcp(&p, s);
  ml_packet_rtcp_parse(p.b, p.n, NOW_NTP32, &info);
  assert_true(info.have_report);
  assert_true(info.fraction_lost == 0.125);
  assert_true(info.audio_fraction_lost == 0.125);
  assert_int_equal(info.packets_lost, 7);
  assert_true(info.jitter_ms == 100.0);
  assert_true(info.rtt_ms < 0);

  /* An LSR from the future (negative RTT): unknown. */
  p = (pkt){0};
  s = begin_rtcp(&p, 1, 201);
  u32(&p, OTHER_SSRC);
  report_block(&p, ML_MEDIA_SSRC_VIDEO, 0, 0, 0, NOW_NTP32 + 10, 0);
  end_rtcp(&p, s);
  ml_packet_rtcp_parse(p.b, p.n, NOW_NTP32, &info);
  assert_true(info.have_report);
  assert_true(info.rtt_ms < 0);

  /* No block about us: defaults. */
  p = (pkt){0};
  sr(&p, OTHER_SSRC, 0);
  ml_packet_rtcp_parse(p.b, p.n, NOW_NTP32, &info);
  assert_false(info.have_report);
  assert_true(info.rtt_ms == -1.0);
  assert_true(info.audio_fraction_lost == -1.0);
}

static void parse_feedback(void **state) {
  (void)state;
  ml_media_rtcp_info info;
  pkt p = {0};
  rr(&p, OTHER_SSRC, 0);
  pli(&p, OTHER_SSRC);
  fir(&p, OTHER_SSRC);
  nack(&p, OTHER_SSRC, 10, 0x8001); /* 10, 11 and 26 */
  pli(&p, OTHER_SSRC);
  assert_true(check(&p));
  ml_packet_rtcp_parse(p.b, p.n, NOW_NTP32, &info);
  assert_int_equal(info.pli, 2);
  assert_int_equal(info.fir, 1);
  assert_int_equal(info.nack, 3);

  /* Two FCI words in one NACK. */
  p = (pkt){0};
  size_t s = begin_rtcp(&p, 1, 205);
  u32(&p, OTHER_SSRC);
  u32(&p, ML_MEDIA_SSRC_VIDEO);
  u32(&p, 0x00010000u);
  u32(&p, 0x0002ffffu);
  end_rtcp(&p, s);
  ml_packet_rtcp_parse(p.b, p.n, NOW_NTP32, &info);
  assert_int_equal(info.nack, 1 + 17);

  /* A padded packet ends the compound, as GStreamer reads it. */
  p = (pkt){0};
  s = p.n;
  pli(&p, OTHER_SSRC);
  p.b[s] |= 0x20u;
  pli(&p, OTHER_SSRC);
  ml_packet_rtcp_parse(p.b, p.n, NOW_NTP32, &info);
  assert_int_equal(info.pli, 1);

  /* Unchecked bytes: truncated packets are read only as far as they go. */
  p = (pkt){0};
  rr(&p, OTHER_SSRC, 1);
  nack(&p, OTHER_SSRC, 1, 0);
  for (size_t n = 0; n < p.n; n++) {
    ml_packet_rtcp_parse(p.b, n, NOW_NTP32, &info);
    assert_int_equal(info.nack, 0);
  }
}

static void ntp_time(void **state) {
  (void)state;
  /* 1970-01-01 is NTP second 2208988800 = 0x83aa7e80. */
  assert_int_equal(ml_packet_ntp_middle32(0), 0x7e800000u);
  assert_int_equal(ml_packet_ntp_middle32(500000), 0x7e808000u);
  uint64_t ntp = (UINT64_C(2208988800) + 1000) << 32 | 0x80000000u;
  assert_int_equal(ml_packet_ntp64_to_unix_us(ntp), INT64_C(1000500000));
}

/* The gate adds the size limit and the inner-type check to the byte checks. */
static void gate_limits(void **state) {
  (void)state;
  gst_init(NULL, NULL);
  static uint8_t big[ML_MEDIA_MAX_PACKET + 1];
  ml_media_rtcp_info info;
  pkt p = {0};
  rr(&p, OTHER_SSRC, 1);
  assert_int_equal(ml_media_check_packet_for_test(ML_INNER_RTCP, p.b, p.n, &info), ML_OK);
  assert_true(info.have_report);
  p.b[0] = 0x40;
  assert_int_equal(ml_media_check_packet_for_test(ML_INNER_RTCP, p.b, p.n, &info), ML_ERR_PROTOCOL);
  memcpy(big, (uint8_t[]){0x80, ML_MEDIA_PT_VP8}, 2);
  assert_int_equal(ml_media_check_packet_for_test(ML_INNER_RTP, big, sizeof big, &info),
                   ML_ERR_TOO_BIG);
  assert_int_equal(ml_media_check_packet_for_test(ML_INNER_RTP, big, sizeof big - 1, &info), ML_OK);
  assert_int_equal(ml_media_check_packet_for_test(ML_INNER_RTP, big, 11, &info), ML_ERR_PROTOCOL);
  assert_int_equal(ml_media_check_packet_for_test(ML_INNER_CONTROL, big, 12, &info),
                   ML_ERR_INVALID);
}

/* REMB: what ml_packet_remb_write builds passes the check and parses back
 * (to the mantissa's precision); every truncation and a wrong identifier or
 * SSRC count is refused. */
static void remb_roundtrip(void **state) {
  (void)state;
  const uint64_t rates[] = {0, 1, 262143, 262144, 123456789, 5000000000ull};
  for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
    uint8_t b[ML_PACKET_REMB_LEN];
    assert_int_equal(ml_packet_remb_write(OTHER_SSRC, ML_MEDIA_SSRC_VIDEO, rates[i], b, sizeof b),
                     ML_PACKET_REMB_LEN);
    assert_true(ml_packet_rtcp_check(b, sizeof b));
    ml_media_rtcp_info info;
    ml_packet_rtcp_parse(b, sizeof b, NOW_NTP32, &info);
    assert_false(info.have_report);
    double want = (double)rates[i] / 1000.0;
    assert_true(info.remb_kbps >= 0 && info.remb_kbps <= want && info.remb_kbps >= want * 0.9999);
    for (size_t n = 0; n < sizeof b; n++)
      assert_false(ml_packet_rtcp_check(b, n));
    gst_init(NULL, NULL); /* GStreamer's validation (reduced size) takes it too */
    assert_int_equal(ml_media_check_packet_for_test(ML_INNER_RTCP, b, sizeof b, &info), ML_OK);
    assert_true(info.remb_kbps >= 0);
  }
  uint8_t b[ML_PACKET_REMB_LEN];
  assert_int_equal(ml_packet_remb_write(OTHER_SSRC, ML_MEDIA_SSRC_VIDEO, 1000, b, 10), 0);
  (void)!ml_packet_remb_write(OTHER_SSRC, ML_MEDIA_SSRC_VIDEO, 1000, b, sizeof b);
  b[12] = 'X'; /* not "REMB" */
  assert_false(ml_packet_rtcp_check(b, sizeof b));
  b[12] = 'R';
  b[16] = 2; /* two SSRCs, room for one */
  assert_false(ml_packet_rtcp_check(b, sizeof b));
  b[16] = 0;
  assert_false(ml_packet_rtcp_check(b, sizeof b));
  /* Not a REMB: the parse leaves remb_kbps unknown. */
  ml_media_rtcp_info info;
  ml_packet_rtcp_parse(b, sizeof b, NOW_NTP32, &info);
  assert_true(info.remb_kbps < 0);
  /* The largest exponent saturates rather than overflow. */
  b[16] = 1;
  b[17] = 0xff;
  b[18] = b[19] = 0xff;
  assert_true(ml_packet_rtcp_check(b, sizeof b));
  ml_packet_rtcp_parse(b, sizeof b, NOW_NTP32, &info);
  assert_true(info.remb_kbps > 1e12);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, remb_roundtrip, rtcp_valid_shapes_accepted,
             rtcp_framing_refused, rtcp_counts_refused, rtcp_feedback_refused, rtcp_sdes_refused,
             rtcp_padding, rtp_checks, parse_reports, parse_feedback, ntp_time, gate_limits)
