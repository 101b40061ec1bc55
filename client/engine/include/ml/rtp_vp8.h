/* mentorlink — what the engine needs to know of a VP8 RTP packet without
 * depayloading it: does it start a keyframe?
 *
 * The call fans one encoder's packets out to every secure peer. A peer whose
 * channel has just become secure cannot decode anything before a keyframe,
 * so video to it starts at the first packet that begins one (the call asks
 * the encoder for a keyframe at that moment).
 *
 * Parsing follows RFC 3550 §5.1 (fixed header, CSRC list, header extension)
 * and RFC 7741 §4.2-4.3 (VP8 payload descriptor and payload header). Every
 * field is bounds-checked; anything malformed is "no". Pure function, any
 * thread.
 */
#ifndef ML_RTP_VP8_H
#define ML_RTP_VP8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when rtp is a well-formed RTP packet of payload type pt that carries
 * the first bytes of a VP8 keyframe (S = 1, partition 0, P bit clear). */
bool ml_rtp_vp8_keyframe_start(const uint8_t *rtp, size_t len, unsigned pt);

#endif /* ML_RTP_VP8_H */
