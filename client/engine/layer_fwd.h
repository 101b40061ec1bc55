/* mentorlink — layer forwarding: what one peer is sent of the sender's two
 * video layers (ml/media.h, "Layers").
 *
 * The sender encodes a large and a small layer under their own SSRCs; each
 * peer gets one of them, chosen by the call (what the peer asked for and what
 * its link carries), and sees it as one stream under the large layer's SSRCs
 * (ML_MEDIA_SSRC_VIDEO, _VIDEO_RTX), as a selective forwarding unit rewrites
 * simulcast (mediasoup's and Janus's practice). Receivers need no change: the
 * stream changes size at a keyframe, as it does when the ladder moves.
 *
 * A switch happens at the first packet that starts a keyframe of the wanted
 * layer (the caller asks that layer for one): from that packet on, packets
 * of the old layer are dropped and the new layer's sequence numbers and
 * 15-bit VP8 picture IDs are offset to continue the old ones, so the
 * receiver's jitter buffer and depayloader see no gap. Before the first
 * keyframe start nothing of the video goes out (nothing before it is
 * decodable). Audio and packets of no known SSRC pass unchanged.
 *
 * Retransmissions (RFC 4588) of the forwarded layer get the out-stream's
 * original sequence number and a sequence number of their own (one RTX
 * stream whatever the layer); those of the layer before the last switch
 * still map, for packets sent before it. Feedback from the peer (RR report
 * blocks, generic NACK, PLI, FIR) about ML_MEDIA_SSRC_VIDEO is rewritten
 * back to the layer and sequence numbers it concerns, before the sender's
 * session sees it. The sender's own RTCP goes to the peer only for the layer
 * it is sent (an SR of the small layer rewritten to the large SSRCs).
 *
 * Pure code on caller-owned state: no GLib, no clock; packets are rewritten
 * in place. Lengths and headers are checked; a malformed packet is left as
 * it is (the peer's own checks refuse it). One object per peer, one thread
 * at a time.
 */
#ifndef ML_LAYER_FWD_H
#define ML_LAYER_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/media.h"

typedef struct ml_layer_fwd {
  ml_media_layer current; /* the layer forwarded (once started) */
  ml_media_layer target;  /* the layer wanted: switched to at its next keyframe start */
  bool started;           /* a keyframe start went out: video flows */
  bool have_prev;         /* a switch happened: the layer before it still maps RTX */
  ml_media_layer prev;
  uint16_t seq_off, prev_seq_off; /* out seq = in seq + off */
  uint16_t pid_off, prev_pid_off; /* out picture ID = in + off (15 bits) */
  uint16_t boundary;              /* the first out seq of the current layer */
  uint16_t next_seq, next_pid;    /* after the last packet forwarded */
  uint16_t rtx_seq;               /* the next retransmission's own seq */
  uint64_t switches;              /* layer changes (the first start not counted) */
} ml_layer_fwd;

void ml_layer_fwd_init(ml_layer_fwd *f, ml_media_layer layer);

/* The layer to switch to (at its next keyframe start). */
void ml_layer_fwd_want(ml_layer_fwd *f, ml_media_layer layer);

/* True while the wanted layer is not yet flowing (the caller has asked it
 * for a keyframe). */
bool ml_layer_fwd_pending(const ml_layer_fwd *f);

/* One RTP packet of the sender: true when it goes to the peer, rewritten in
 * place; false when it does not. */
bool ml_layer_fwd_rtp(ml_layer_fwd *f, uint8_t *rtp, size_t len);

/* One RTCP packet from the peer's receive branch, before the sender sees it:
 * report blocks, NACKs, PLIs and FIRs about ML_MEDIA_SSRC_VIDEO are pointed
 * at the layer (and sequence numbers) they concern. */
void ml_layer_fwd_feedback(const ml_layer_fwd *f, uint8_t *rtcp, size_t len);

/* One RTCP packet of the sender's session: true when it goes to the peer
 * (rewritten in place), false for the layer the peer is not sent. */
bool ml_layer_fwd_rtcp_out(const ml_layer_fwd *f, uint8_t *rtcp, size_t len);

#endif /* ML_LAYER_FWD_H */
