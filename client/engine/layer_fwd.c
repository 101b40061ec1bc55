/* mentorlink — layer forwarding (see layer_fwd.h). */
#include "layer_fwd.h"

#include "ml/rtp_vp8.h"
#include "packet_check.h"

#define RTP_FIXED 12
#define PID_MASK 0x7fffu

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v) {
  wr16(p, (uint16_t)(v >> 16));
  wr16(p + 2, (uint16_t)v);
}

/* a before b in RFC 1982 serial order (16 bits) */
static bool seq_before(uint16_t a, uint16_t b) { return (int16_t)(uint16_t)(a - b) < 0; }

static uint32_t media_ssrc(ml_media_layer l) {
  return l == ML_MEDIA_LAYER_SMALL ? ML_MEDIA_SSRC_SMALL : ML_MEDIA_SSRC_VIDEO;
}

void ml_layer_fwd_init(ml_layer_fwd *f, ml_media_layer layer) {
  *f = (ml_layer_fwd){.current = layer, .target = layer};
}

void ml_layer_fwd_want(ml_layer_fwd *f, ml_media_layer layer) { f->target = layer; }

bool ml_layer_fwd_pending(const ml_layer_fwd *f) { return !f->started || f->target != f->current; }

/* Where the payload of an RTP packet starts and ends; false if malformed. */
static bool rtp_payload(const uint8_t *rtp, size_t len, size_t *pos, size_t *end) {
  if (len < RTP_FIXED || (rtp[0] >> 6) != 2)
    return false;
  size_t p = RTP_FIXED + 4u * (rtp[0] & 0x0fu);
  if (rtp[0] & 0x10u) {
    if (len < p + 4)
      return false;
    p += 4 + 4u * rd16(rtp + p + 2);
  }
  size_t e = len;
  if (rtp[0] & 0x20u) {
    if (len <= p || rtp[len - 1] == 0 || rtp[len - 1] > len - p)
      return false;
    e -= rtp[len - 1];
  }
  if (p > e)
    return false;
  *pos = p;
  *end = e;
  return true;
}

/* The offset of a VP8 payload descriptor's 15-bit picture ID, or 0. */
static size_t vp8_pid_at(const uint8_t *b, size_t pos, size_t end) {
  if (pos + 4 > end || !(b[pos] & 0x80u) || !(b[pos + 1] & 0x80u) || !(b[pos + 2] & 0x80u))
    return 0;
  return pos + 2;
}

static uint16_t pid_get(const uint8_t *p) { return rd16(p) & PID_MASK; }
static void pid_put(uint8_t *p, uint16_t pid) { wr16(p, (uint16_t)(0x8000u | (pid & PID_MASK))); }

static void switch_to(ml_layer_fwd *f, ml_media_layer layer, uint16_t in_seq, size_t pid_at,
                      const uint8_t *rtp) {
  uint16_t in_pid = pid_at ? pid_get(rtp + pid_at) : 0;
  if (f->started) {
    f->have_prev = true;
    f->prev = f->current;
    f->prev_seq_off = f->seq_off;
    f->prev_pid_off = f->pid_off;
    f->boundary = f->next_seq;
    f->seq_off = (uint16_t)(f->next_seq - in_seq);
    f->pid_off = (uint16_t)((f->next_pid - in_pid) & PID_MASK);
    f->switches++;
  } else { /* the first start keeps the layer's own numbers */
    f->started = true;
    f->seq_off = f->pid_off = 0;
    f->boundary = in_seq;
  }
  f->current = layer;
}

static bool forward_media(ml_layer_fwd *f, ml_media_layer layer, uint8_t *rtp, size_t len,
                          size_t pos, size_t end) {
  uint16_t in_seq = rd16(rtp + 2);
  size_t pid_at = vp8_pid_at(rtp, pos, end);
  if (layer == f->target && ml_layer_fwd_pending(f) &&
      ml_rtp_vp8_keyframe_start(rtp, len, ML_MEDIA_PT_VP8))
    switch_to(f, layer, in_seq, pid_at, rtp);
  if (!f->started || layer != f->current)
    return false;
  uint16_t out = (uint16_t)(in_seq + f->seq_off);
  wr16(rtp + 2, out);
  wr32(rtp + 8, ML_MEDIA_SSRC_VIDEO);
  f->next_seq = (uint16_t)(out + 1);
  if (pid_at) {
    uint16_t pid = (uint16_t)((pid_get(rtp + pid_at) + f->pid_off) & PID_MASK);
    pid_put(rtp + pid_at, pid);
    f->next_pid = (uint16_t)((pid + 1) & PID_MASK);
  }
  return true;
}

/* RTX payload: the original seq (OSN), then the original payload. */
static bool forward_rtx(ml_layer_fwd *f, ml_media_layer layer, uint8_t *rtp, size_t pos,
                        size_t end) {
  if (!f->started || pos + 2 > end)
    return false;
  uint16_t seq_off, pid_off;
  if (layer == f->current) {
    seq_off = f->seq_off;
    pid_off = f->pid_off;
  } else if (f->have_prev && layer == f->prev) {
    seq_off = f->prev_seq_off;
    pid_off = f->prev_pid_off;
  } else {
    return false;
  }
  uint16_t osn = (uint16_t)(rd16(rtp + pos) + seq_off);
  /* The current layer's packets from the switch on; the previous layer's before it. */
  if ((layer == f->current) == seq_before(osn, f->boundary))
    return false;
  wr16(rtp + pos, osn);
  size_t pid_at = vp8_pid_at(rtp, pos + 2, end);
  if (pid_at)
    pid_put(rtp + pid_at, (uint16_t)(pid_get(rtp + pid_at) + pid_off));
  wr16(rtp + 2, f->rtx_seq++);
  wr32(rtp + 8, ML_MEDIA_SSRC_VIDEO_RTX);
  return true;
}

bool ml_layer_fwd_rtp(ml_layer_fwd *f, uint8_t *rtp, size_t len) {
  size_t pos, end;
  if (!rtp_payload(rtp, len, &pos, &end))
    return true; /* not for us to judge: the sender made it */
  switch (rd32(rtp + 8)) {
  case ML_MEDIA_SSRC_VIDEO: return forward_media(f, ML_MEDIA_LAYER_LARGE, rtp, len, pos, end);
  case ML_MEDIA_SSRC_SMALL: return forward_media(f, ML_MEDIA_LAYER_SMALL, rtp, len, pos, end);
  case ML_MEDIA_SSRC_VIDEO_RTX: return forward_rtx(f, ML_MEDIA_LAYER_LARGE, rtp, pos, end);
  case ML_MEDIA_SSRC_SMALL_RTX: return forward_rtx(f, ML_MEDIA_LAYER_SMALL, rtp, pos, end);
  default: return true;
  }
}

/* Calls fn on each packet of a compound (header checked, inside len). */
typedef void (*rtcp_packet_fn)(const ml_layer_fwd *f, uint8_t *pkt, size_t len);

static void each_packet(const ml_layer_fwd *f, uint8_t *rtcp, size_t len, rtcp_packet_fn fn) {
  size_t pos = 0;
  while (pos + 8 <= len && (rtcp[pos] >> 6) == 2) {
    size_t n = 4u * ((size_t)rd16(rtcp + pos + 2) + 1);
    if (n > len - pos)
      return;
    fn(f, rtcp + pos, n);
    pos += n;
  }
}

static void feedback_packet(const ml_layer_fwd *f, uint8_t *pkt, size_t n) {
  unsigned count = pkt[0] & 0x1fu, pt = pkt[1];
  uint32_t large = ML_MEDIA_SSRC_VIDEO, now = media_ssrc(f->current);
  if (pt == ML_RTCP_SR || pt == ML_RTCP_RR) { /* report blocks: SSRC first */
    for (size_t b = pt == ML_RTCP_SR ? 28 : 8, i = 0; i < count && b + 24 <= n; i++, b += 24)
      if (rd32(pkt + b) == large)
        wr32(pkt + b, now);
  } else if (pt == ML_RTCP_RTPFB && count == ML_RTPFB_NACK && n >= 16 && rd32(pkt + 8) == large) {
    /* The layer the first lost packet was sent from decides for the packet. */
    uint16_t first = rd16(pkt + 12);
    bool prev = f->have_prev && seq_before(first, f->boundary);
    wr32(pkt + 8, media_ssrc(prev ? f->prev : f->current));
    uint16_t off = prev ? f->prev_seq_off : f->seq_off;
    for (size_t w = 12; w + 4 <= n; w += 4)
      wr16(pkt + w, (uint16_t)(rd16(pkt + w) - off));
  } else if (pt == ML_RTCP_PSFB && n >= 12 && (count == ML_PSFB_PLI || count == ML_PSFB_FIR)) {
    if (rd32(pkt + 8) == large)
      wr32(pkt + 8, now);
    if (count == ML_PSFB_FIR) /* FCI: SSRC, seq nr, reserved */
      for (size_t e = 12; e + 8 <= n; e += 8)
        if (rd32(pkt + e) == large)
          wr32(pkt + e, now);
  }
}

void ml_layer_fwd_feedback(const ml_layer_fwd *f, uint8_t *rtcp, size_t len) {
  each_packet(f, rtcp, len, feedback_packet);
}

/* The small layer's SSRCs as the sender field of SR, SDES (first chunk) and BYE. */
static void rename_small(const ml_layer_fwd *f, uint8_t *pkt, size_t n) {
  (void)f;
  if (n < 8 || (pkt[1] != ML_RTCP_SR && pkt[1] != ML_RTCP_RR && pkt[1] != ML_RTCP_SDES &&
                pkt[1] != ML_RTCP_BYE))
    return;
  uint32_t s = rd32(pkt + 4);
  if (s == ML_MEDIA_SSRC_SMALL)
    wr32(pkt + 4, ML_MEDIA_SSRC_VIDEO);
  else if (s == ML_MEDIA_SSRC_SMALL_RTX)
    wr32(pkt + 4, ML_MEDIA_SSRC_VIDEO_RTX);
}

bool ml_layer_fwd_rtcp_out(const ml_layer_fwd *f, uint8_t *rtcp, size_t len) {
  if (len < 8 || (rtcp[0] >> 6) != 2)
    return true;
  uint32_t s = rd32(rtcp + 4);
  bool small_now = f->started && f->current == ML_MEDIA_LAYER_SMALL;
  if (s == ML_MEDIA_SSRC_VIDEO || s == ML_MEDIA_SSRC_VIDEO_RTX)
    return !small_now;
  if (s == ML_MEDIA_SSRC_SMALL || s == ML_MEDIA_SSRC_SMALL_RTX) {
    if (!small_now)
      return false;
    each_packet(f, rtcp, len, rename_small);
  }
  return true;
}
