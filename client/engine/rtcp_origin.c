/* mentorlink — the origin of a peer's RTCP packet (see ml/rtcp_origin.h). */
#include "ml/rtcp_origin.h"

#include "ml/media.h"

#define RTCP_HEADER 4
#define RTCP_PT_FIRST 200 /* SR */
#define RTCP_PT_LAST 206  /* PSFB */

bool ml_rtcp_from_peer_sender(const uint8_t *rtcp, size_t len) {
  if (!rtcp || len < RTCP_HEADER + 4 || (rtcp[0] >> 6) != 2 || rtcp[1] < RTCP_PT_FIRST ||
      rtcp[1] > RTCP_PT_LAST)
    return false;
  uint32_t ssrc =
      (uint32_t)rtcp[4] << 24 | (uint32_t)rtcp[5] << 16 | (uint32_t)rtcp[6] << 8 | rtcp[7];
  return ssrc == ML_MEDIA_SSRC_VIDEO || ssrc == ML_MEDIA_SSRC_VIDEO_RTX ||
         ssrc == ML_MEDIA_SSRC_AUDIO;
}
