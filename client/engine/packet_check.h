/* mentorlink — checks of RTP and RTCP from a peer, and the parse of RTCP
 * into ml_media_rtcp_info, on bytes (private to the engine; no GStreamer).
 *
 * Every function reads untrusted bytes of any length through ml_reader and
 * never reads outside [data, data + len). The checks are what a packet must
 * pass before the media pipelines see it (media_internal.h's gate adds
 * GStreamer's own validation and the size limit ML_MEDIA_MAX_PACKET).
 *
 * Pure: no allocation, no clock (times are passed in), no global state; any
 * thread may call them. The checks return true for an accepted packet; there
 * are no other errors.
 */
#ifndef ML_PACKET_CHECK_H
#define ML_PACKET_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/media.h"

/* RTCP packet types (RFC 3550, RFC 4585) and feedback formats. */
#define ML_RTCP_SR 200
#define ML_RTCP_RR 201
#define ML_RTCP_SDES 202
#define ML_RTCP_BYE 203
#define ML_RTCP_RTPFB 205
#define ML_RTCP_PSFB 206
#define ML_RTPFB_NACK 1
#define ML_PSFB_PLI 1
#define ML_PSFB_FIR 4
#define ML_PSFB_AFB 15 /* application layer feedback: REMB here */

/* At most this many SR/RR packets in one compound (their SSRCs are what an
 * SDES in it may describe). */
#define ML_PACKET_RTCP_MAX_SENDERS 8

/* A strict check of an RTCP packet (compound or RFC 5506 reduced size):
 * every packet version 2 with its length inside the buffer and the buffer
 * used exactly; only SR, RR, SDES, BYE, generic NACK (RTPFB 1), PLI (PSFB 1),
 * FIR (PSFB 4) and REMB (PSFB 15, "REMB", 1-8 SSRCs); report blocks, BYE reasons and feedback
 * inside their packet; SDES describing only SSRCs of an SR/RR earlier in the compound, with items
 * of types 1-7 of printable ASCII and zero padding; padding (its count non-zero, inside the packet)
 * only on the last packet, a multiple of 4 unless that packet is the first. False for empty input.
 */
bool ml_packet_rtcp_check(const uint8_t *data, size_t len);

/* A check of an RTP packet: version 2, a payload type that is not an RTCP
 * type seen through the marker bit (200-204), and the fixed header, CSRC
 * list, extension and padding count all within len. */
bool ml_packet_rtp_check(const uint8_t *data, size_t len);

/* Reads an RTCP packet (meant for one ml_packet_rtcp_check accepted, or one
 * we built) into info: from the report blocks about ML_MEDIA_SSRC_VIDEO and
 * ML_MEDIA_SSRC_AUDIO (video preferred), loss, jitter and the round-trip
 * time from LSR/DLSR against now_ntp32 (the middle 32 bits of the NTP time
 * now, see ml_packet_ntp_middle32); and the PLI, FIR and NACKed packet
 * counts; a REMB's bitrate (remb_kbps, saturating at 1e15). Stops at the first packet that does not
 * fit or has padding (the last, by the check). Unknown values stay at their defaults: rtt_ms and
 * audio_fraction_lost -1, the rest 0. */
void ml_packet_rtcp_parse(const uint8_t *data, size_t len, uint32_t now_ntp32,
                          ml_media_rtcp_info *info);

/* A lone REMB (reduced-size RTCP, RFC 5506; draft-alvestrand-rmcat-remb-03)
 * from sender_ssrc telling the bitrate estimate bps for media_ssrc. Returns
 * its length (ML_PACKET_REMB_LEN), or 0 when cap is smaller. */
#define ML_PACKET_REMB_LEN 24
size_t ml_packet_remb_write(uint32_t sender_ssrc, uint32_t media_ssrc, uint64_t bps, uint8_t *buf,
                            size_t cap);

/* RFC 3550 NTP time. The middle 32 bits (seconds mod 2^16, fraction in
 * 1/65536 s) of the NTP time of a Unix time in microseconds (not before
 * 1970), as LSR and DLSR use them. */
uint32_t ml_packet_ntp_middle32(int64_t unix_us);

/* A 64-bit NTP timestamp (as in an SR) as Unix microseconds. */
int64_t ml_packet_ntp64_to_unix_us(uint64_t ntp);

#endif /* ML_PACKET_CHECK_H */
