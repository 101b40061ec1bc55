/* mentorlink — test hook of the media module (private to the engine and its
 * tests; never used by production code). */
#ifndef ML_MEDIA_INTERNAL_H
#define ML_MEDIA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ml/media.h"

/* Runs the checks ml_media_receiver_push and ml_media_sender_push_rtcp apply
 * to a packet from a peer (untrusted bytes, any length) and, for accepted
 * RTCP, the parse that fills info. No pipeline is needed; GStreamer must be
 * initialised. Returns what the push functions would. */
int ml_media_check_packet_for_test(ml_inner_type type, const uint8_t *data, size_t len,
                                   ml_media_rtcp_info *info) ML_MUST_CHECK;

#endif /* ML_MEDIA_INTERNAL_H */
