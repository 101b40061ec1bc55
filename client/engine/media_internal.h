/* mentorlink — declarations shared by the media module's files (private to
 * the engine and its tests).
 *
 *   media_send.c   the sender (ml_media_sender_*)
 *   media_recv.c   the receiver, one per peer (ml_media_receiver_*)
 *   media.c        the gate: the checks every packet from a peer passes
 *                  before GStreamer (packet_check.h, then GStreamer's own),
 *                  and the parse of RTCP on the wall clock
 *   handoff.h, frame_slot.h, gst_util.h, packet_check.h: their own parts
 *
 * Threads: the gate functions are pure apart from the wall clock read by
 * ml_media_rtcp_parse; any thread may call them. The counter helpers are
 * relaxed atomics, for counters written by streaming threads and read on
 * any thread.
 */
#ifndef ML_MEDIA_INTERNAL_H
#define ML_MEDIA_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gst/gst.h>

#include "ml/media.h"

static inline void ml_media_count(atomic_uint_fast64_t *c, uint64_t n) {
  atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t ml_media_load(const atomic_uint_fast64_t *c) {
  return atomic_load_explicit(c, memory_order_relaxed);
}

static inline unsigned ml_media_clampu(unsigned v, unsigned lo, unsigned hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* True when data is RTCP we accept from a peer (see ml/media.h, "Untrusted
 * input"): the strict byte check, then GStreamer's own validation. */
bool ml_media_rtcp_valid(const uint8_t *data, size_t len);

/* The checks every packet from a peer passes before GStreamer sees it. On
 * ML_OK *out is a new buffer (transfer full) holding a copy of data.
 * Errors: ML_ERR_INVALID (type is neither RTP nor RTCP), ML_ERR_TOO_BIG
 * (above ML_MEDIA_MAX_PACKET), ML_ERR_PROTOCOL (refused by the checks). */
int ml_media_packet_accept(ml_inner_type type, const uint8_t *data, size_t len,
                           GstBuffer **out) ML_MUST_CHECK;

/* ml_packet_rtcp_parse (packet_check.h) with the RTT against the wall clock
 * now. */
void ml_media_rtcp_parse(const uint8_t *data, size_t len, ml_media_rtcp_info *info);

/* Test hook: runs the checks ml_media_receiver_push and
 * ml_media_sender_push_rtcp apply to a packet from a peer (untrusted bytes,
 * any length) and, for accepted RTCP, the parse that fills info. No pipeline
 * is needed; GStreamer must be initialised. Returns what the push functions
 * would. Never used by production code. */
int ml_media_check_packet_for_test(ml_inner_type type, const uint8_t *data, size_t len,
                                   ml_media_rtcp_info *info) ML_MUST_CHECK;

#endif /* ML_MEDIA_INTERNAL_H */
