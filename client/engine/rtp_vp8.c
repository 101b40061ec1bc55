/* mentorlink — VP8 keyframe starts in RTP packets (see ml/rtp_vp8.h). */
#include "ml/rtp_vp8.h"

#define RTP_FIXED 12

bool ml_rtp_vp8_keyframe_start(const uint8_t *rtp, size_t len, unsigned pt) {
  if (!rtp || len < RTP_FIXED || (rtp[0] >> 6) != 2 || (rtp[1] & 0x7fu) != pt)
    return false;
  size_t pos = RTP_FIXED + 4u * (rtp[0] & 0x0fu); /* CSRC list */
  if (rtp[0] & 0x10u) {                           /* header extension */
    if (len < pos + 4)
      return false;
    pos += 4 + 4u * (((size_t)rtp[pos + 2] << 8) | rtp[pos + 3]);
  }
  size_t end = len;
  if (rtp[0] & 0x20u) { /* padding: the last byte counts it */
    if (len <= pos || rtp[len - 1] == 0 || rtp[len - 1] > len - pos)
      return false;
    end -= rtp[len - 1];
  }
  /* Payload descriptor: X R N S R PID(3). */
  if (end <= pos)
    return false;
  uint8_t d = rtp[pos++];
  if (!(d & 0x10u) || (d & 0x07u) != 0)
    return false;  /* not the start of partition 0 */
  if (d & 0x80u) { /* X: I L T K RSV(4) */
    if (end <= pos)
      return false;
    uint8_t x = rtp[pos++];
    if (x & 0x80u) { /* I: PictureID, 7 or 15 bits (M) */
      if (end <= pos)
        return false;
      pos += (rtp[pos] & 0x80u) ? 2 : 1;
    }
    if (x & 0x40u) /* L: TL0PICIDX */
      pos++;
    if (x & 0x30u) /* T or K: TID Y KEYIDX */
      pos++;
  }
  /* Payload header: Size0(3) H VER(3) P; P = 0 is a keyframe. */
  return pos < end && (rtp[pos] & 0x01u) == 0;
}
