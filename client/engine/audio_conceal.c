/* mentorlink — audio concealment counter and Opus packet header (see
 * audio_conceal.h). */
#include "audio_conceal.h"

#include <string.h>

#include "ml/bytes.h"

/* Samples at 48 kHz of one frame, from the TOC's config (RFC 6716 table 2). */
static unsigned frame_samples(unsigned config) {
  static const unsigned silk[4] = {480, 960, 1920, 2880};
  static const unsigned hybrid[2] = {480, 960};
  static const unsigned celt[4] = {120, 240, 480, 960};
  if (config < 12)
    return silk[config % 4];
  if (config < 16)
    return hybrid[config % 2];
  return celt[config % 4];
}

/* A frame length of code 2 or 3 (RFC 6716 section 3.2.1): 1 or 2 bytes. */
static bool read_length(ml_reader *r, size_t *out) {
  uint8_t a, b;
  if (!ml_reader_u8(r, &a))
    return false;
  if (a < 252) {
    *out = a;
    return true;
  }
  if (!ml_reader_u8(r, &b))
    return false;
  *out = (size_t)b * 4 + a;
  return true;
}

int ml_opus_packet_parse(const uint8_t *data, size_t len, ml_opus_packet *out) {
  memset(out, 0, sizeof *out);
  ml_reader r = ml_reader_init(data, len);
  uint8_t toc;
  if (!ml_reader_u8(&r, &toc))
    return ML_ERR_PROTOCOL;
  unsigned config = toc >> 3;
  bool stereo = (toc >> 2) & 1;
  unsigned code = toc & 3;
  unsigned fs = frame_samples(config);
  unsigned frames = 1;
  size_t first_len = 0; /* bytes of the first frame */
  size_t rest = 0;
  switch (code) {
  case 0: first_len = ml_reader_remaining(&r); break;
  case 1:
    frames = 2;
    rest = ml_reader_remaining(&r);
    if (rest % 2)
      return ML_ERR_PROTOCOL;
    first_len = rest / 2;
    break;
  case 2:
    frames = 2;
    if (!read_length(&r, &first_len) || first_len > ml_reader_remaining(&r))
      return ML_ERR_PROTOCOL;
    break;
  default: {
    uint8_t fc;
    if (!ml_reader_u8(&r, &fc))
      return ML_ERR_PROTOCOL;
    frames = fc & 0x3f;
    bool vbr = fc & 0x80, padded = fc & 0x40;
    if (frames == 0 || (size_t)frames * fs > ML_OPUS_MAX_SAMPLES)
      return ML_ERR_PROTOCOL;
    size_t pad = 0;
    while (padded) { /* each 255 adds 254 and another byte; bounded by len */
      uint8_t p;
      if (!ml_reader_u8(&r, &p))
        return ML_ERR_PROTOCOL;
      pad += p == 255 ? 254 : p;
      padded = p == 255;
    }
    if (pad > ml_reader_remaining(&r))
      return ML_ERR_PROTOCOL;
    size_t data_len = ml_reader_remaining(&r) - pad;
    if (vbr) {
      size_t sum = 0;
      for (unsigned i = 0; i + 1 < frames; i++) {
        size_t l;
        if (!read_length(&r, &l))
          return ML_ERR_PROTOCOL;
        if (i == 0)
          first_len = l;
        sum += l;
      }
      size_t left = ml_reader_remaining(&r);
      if (left < pad || sum > left - pad)
        return ML_ERR_PROTOCOL;
      if (frames == 1)
        first_len = left - pad;
    } else {
      if (data_len % frames)
        return ML_ERR_PROTOCOL;
      first_len = data_len / frames;
    }
    break;
  }
  }
  if ((size_t)frames * fs > ML_OPUS_MAX_SAMPLES)
    return ML_ERR_PROTOCOL;
  out->frame_samples = fs;
  out->frames = frames;
  out->samples = frames * fs;
  out->silk = config < 16;
  out->empty = first_len == 0;
  if (out->silk && first_len > 0) {
    const uint8_t *f0;
    if (!ml_reader_bytes(&r, first_len, &f0))
      return ML_ERR_PROTOCOL;
    /* The range coder's first symbols are one VAD flag per 20 ms SILK frame
     * and then the LBRR flag, each of probability 1/2: bits of the first
     * byte, per channel (libopus' opus_packet_has_lbrr reads the same). */
    unsigned silk_frames = fs > 960 ? fs / 960 : 1;
    bool lbrr = (f0[0] >> (7 - silk_frames)) & 1;
    if (stereo)
      lbrr = lbrr || ((f0[0] >> (6 - 2 * silk_frames)) & 1);
    out->lbrr = lbrr;
  }
  return ML_OK;
}

void ml_conceal_init(ml_conceal *c) {
  memset(c, 0, sizeof *c);
  c->last_samples = 960;
}

void ml_conceal_on_gap(ml_conceal *c, uint64_t samples) {
  c->concealed += c->pending; /* two gaps in a row: the first has no FEC */
  c->pending = samples;
}

void ml_conceal_on_packet(ml_conceal *c, const uint8_t *data, size_t len) {
  ml_opus_packet p;
  if (ml_opus_packet_parse(data, len, &p) != ML_OK) {
    c->invalid++;
    ml_conceal_on_gap(c, c->last_samples);
    return;
  }
  if (c->pending > 0) {
    uint64_t fec = p.lbrr ? (c->pending < p.frame_samples ? c->pending : p.frame_samples) : 0;
    c->fec += fec;
    c->concealed += c->pending - fec;
    c->pending = 0;
  }
  c->decoded += p.samples;
  c->last_samples = p.samples;
}

uint64_t ml_conceal_expected(const ml_conceal *c) { return c->decoded + c->fec + c->concealed; }

double ml_conceal_share(const ml_conceal *c) {
  uint64_t e = ml_conceal_expected(c);
  return e ? (double)c->concealed / (double)e : 0.0;
}
