/* mentorlink — which of a peer's two RTP sessions an RTCP packet comes from.
 *
 * Each peer runs a sender (its one encoder, fanned out) and one receive
 * branch per peer, each its own rtpbin session, and both ends use the same
 * fixed SSRCs (ml/media.h). So RTCP from a peer has two destinations here:
 *
 * - from its sender session (reporting under ML_MEDIA_SSRC_VIDEO, _VIDEO_RTX,
 *   _AUDIO, or _SMALL and _SMALL_RTX, which our layer forwarding never sends but
 *   a peer might: an SR while it sends, an RR while its video is paused, a BYE
 *   when its session timed a stream out): about the media it sends us, for
 *   our receive branch of that peer;
 * - from its receive branch (reporting under the random SSRC of that
 *   session: RR, PLI, FIR, NACK): about our media, for our sender.
 *
 * Our sender's session must never see the first kind: a packet under one of
 * its own SSRCs makes rtpsession create a remote source with that SSRC once
 * the local one has timed out (a long pause), and from then on it drops our
 * own packets as an SSRC collision.
 *
 * The origin is the packet sender's SSRC, the 32 bits after the first
 * header of a compound (or reduced-size) packet: the same place in SR, RR,
 * SDES, BYE, APP and feedback packets (RFC 3550 §6.4-6.7, RFC 4585 §6.1).
 * Pure function, any thread; the full validation of the packet is
 * ml_media_receiver_push's and ml_media_sender_push_rtcp's.
 */
#ifndef ML_RTCP_ORIGIN_H
#define ML_RTCP_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when rtcp (len bytes) starts with an RTCP header (version 2, packet
 * type 200-206) whose sender SSRC is one of the fixed media SSRCs: a packet
 * of the peer's sender session. False for anything else, malformed included
 * (those go to the sender's path, which refuses them). */
bool ml_rtcp_from_peer_sender(const uint8_t *rtcp, size_t len);

#endif /* ML_RTCP_ORIGIN_H */
