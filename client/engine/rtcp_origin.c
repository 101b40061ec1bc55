/* mentorlink — the origin of a peer's RTCP packet (see ml/rtcp_origin.h). */
#include "ml/rtcp_origin.h"

#include "ml/bytes.h"
#include "ml/media.h"

#define RTCP_PT_FIRST 200 /* SR */
#define RTCP_PT_LAST 206  /* PSFB */

bool ml_rtcp_from_peer_sender(const uint8_t *rtcp, size_t len) {
  if (!rtcp)
    return false;
  ml_reader r = ml_reader_init(rtcp, len);
  uint8_t vpc, pt;
  uint16_t length;
  uint32_t ssrc;
  if (!ml_reader_u8(&r, &vpc) || !ml_reader_u8(&r, &pt) || !ml_reader_u16(&r, &length) ||
      !ml_reader_u32(&r, &ssrc) || (vpc >> 6) != 2 || pt < RTCP_PT_FIRST || pt > RTCP_PT_LAST)
    return false;
  return ssrc == ML_MEDIA_SSRC_VIDEO || ssrc == ML_MEDIA_SSRC_VIDEO_RTX ||
         ssrc == ML_MEDIA_SSRC_AUDIO || ssrc == ML_MEDIA_SSRC_SMALL ||
         ssrc == ML_MEDIA_SSRC_SMALL_RTX;
}
