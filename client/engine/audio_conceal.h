/* mentorlink — audio_conceal: how much of a peer's audio the decoder had to
 * make up (pure; private to the engine).
 *
 * The receiver watches what reaches its Opus decoder: each Opus packet the
 * jitter buffer let through, and each GAP (a packet the jitter buffer gave
 * up on, lost or too late, turned into a GAP by the depayloader). It mirrors
 * what GStreamer's opusdec does with in-band FEC on: the decoder runs one
 * packet behind, and a gap right before a packet is rebuilt from that
 * packet's LBRR data (RFC 6716 section 4.2.4) when it carries some, for at
 * most one frame of that packet's duration; every other gapped sample is
 * packet-loss concealment (PLC). So, at 48 kHz:
 *
 *   decoded    samples of the packets that arrived (a DTX packet, a frame of
 *              0 bytes, counts: silence the sender chose, not a loss)
 *   fec        gap samples rebuilt from the next packet's LBRR
 *   concealed  gap samples left to PLC
 *   expected = decoded + fec + concealed; concealed share = concealed / expected
 *
 * A gap still waiting for the next packet counts in none of them yet. A
 * packet that is not valid Opus counts as a gap of the previous packet's
 * duration (the decoder cannot use it). Counting at the decoder's input, not
 * at its output, keeps the figure independent of the decoder's version.
 *
 * ml_opus_packet_parse reads untrusted bytes (a peer's payload): bounds-
 * checked, no allocation. No GLib; the caller serialises calls on one
 * counter.
 */
#ifndef ML_AUDIO_CONCEAL_H
#define ML_AUDIO_CONCEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_OPUS_MAX_SAMPLES 5760 /* 120 ms at 48 kHz: the longest packet */

typedef struct ml_opus_packet {
  unsigned samples;       /* all its frames, at 48 kHz (120..5760) */
  unsigned frame_samples; /* one frame */
  unsigned frames;        /* 1..48 */
  bool silk;              /* SILK or hybrid mode (CELT-only has no LBRR) */
  bool lbrr;              /* its first frame carries FEC for the previous packet */
  bool empty;             /* its first frame has 0 bytes (DTX) */
} ml_opus_packet;

/* The TOC byte, frame count and the LBRR flag of one Opus packet (RFC 6716
 * section 3). Errors: ML_ERR_PROTOCOL (empty, a frame count or length that
 * does not fit, more than 120 ms). */
int ml_opus_packet_parse(const uint8_t *data, size_t len, ml_opus_packet *out) ML_MUST_CHECK;

typedef struct ml_conceal {
  uint64_t decoded, fec, concealed; /* samples at 48 kHz */
  uint64_t pending;                 /* gap samples waiting for the next packet */
  unsigned last_samples;            /* the latest valid packet's duration (960 before one) */
  uint64_t invalid;                 /* packets that were not valid Opus */
} ml_conceal;

void ml_conceal_init(ml_conceal *c);
/* A gap of `samples` (48 kHz) before the decoder. */
void ml_conceal_on_gap(ml_conceal *c, uint64_t samples);
/* An Opus packet (the RTP payload) reaches the decoder. */
void ml_conceal_on_packet(ml_conceal *c, const uint8_t *data, size_t len);
/* decoded + fec + concealed. */
uint64_t ml_conceal_expected(const ml_conceal *c);
/* concealed / expected, 0 when nothing was expected. */
double ml_conceal_share(const ml_conceal *c);

#endif /* ML_AUDIO_CONCEAL_H */
