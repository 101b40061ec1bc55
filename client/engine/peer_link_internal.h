/* mentorlink — test hooks of the peer link (private to the engine and its
 * tests; never used by production code). */
#ifndef ML_PEER_LINK_INTERNAL_H
#define ML_PEER_LINK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ml/peer_link.h"

/* Where a test link's outgoing datagrams go instead of libnice. */
typedef void (*ml_peer_link_output_cb)(const uint8_t *datagram, size_t len, void *user);

/* Creates a link that is already SECURE, without ICE: its channel uses the
 * given raw transport keys, its peer identity is peer_identity, its reliable
 * stream is a PseudoTCP socket (connecting when the configuration makes us
 * the initiator, listening otherwise). cfg needs context, identity, the two
 * peer ids and room_id; the ICE fields are ignored. Outgoing datagrams go to
 * output (may be NULL: dropped). The secure callback is not called. */
int ml_peer_link_new_secure_for_test(ml_peer_link **out, const ml_peer_link_config *cfg,
                                     const uint8_t send_key[ML_NOISE_KEY_LEN],
                                     const uint8_t recv_key[ML_NOISE_KEY_LEN],
                                     const uint8_t peer_identity[ML_IDENTITY_PUBLIC_LEN],
                                     ml_peer_link_output_cb output,
                                     void *output_user) ML_MUST_CHECK;

/* The link's receive path: one datagram as the ICE component delivered it
 * (untrusted bytes, any length). libnice's receive callback calls this. */
void ml_peer_link_receive(ml_peer_link *link, const uint8_t *datagram, size_t len);

/* Loses outgoing handshake datagrams as a lossy path would: bit i of mask
 * drops the i-th handshake datagram this link sends (first send is bit 0,
 * retransmissions count). Call before ml_peer_link_start. */
void ml_peer_link_test_drop_handshake(ml_peer_link *link, uint32_t mask);

#endif /* ML_PEER_LINK_INTERNAL_H */
