/* mentorlink — framing of every datagram that crosses the ICE path.
 *
 * Byte layout (docs/PROTOCOL.md has the full description):
 *
 *   byte 0: 0b11 vvv ttt  marker (top two bits set: never STUN, DTLS, TURN
 *           channel data or RTP, per RFC 7983), protocol version vvv (1),
 *           datagram type ttt (ml_datagram_type).
 *
 *   HANDSHAKE (4-byte header): byte 1 handshake message index, bytes 2-3
 *           reserved (zero), then the Noise handshake message.
 *   TRANSPORT (12-byte header): byte 1 epoch, bytes 2-3 key id (zero in
 *           per-peer mode; reserved for per-sender keys of a later relay mode),
 *           bytes 4-11 counter (big-endian), then the AEAD ciphertext of
 *           (inner type byte || payload) followed by the 16-byte tag. The whole
 *           12-byte header is the associated data.
 *
 * The parser only checks framing; it never decrypts. It takes untrusted bytes
 * of any length and never reads outside them. No allocation, no GLib.
 */
#ifndef ML_DATAGRAM_H
#define ML_DATAGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_DATAGRAM_VERSION 1
#define ML_DATAGRAM_MAX 1400 /* largest datagram we send or accept, header and tag included */
#define ML_DATAGRAM_HANDSHAKE_HEADER_LEN 4
#define ML_DATAGRAM_TRANSPORT_HEADER_LEN 12
#define ML_DATAGRAM_TAG_LEN 16
/* Header + inner type byte + tag. */
#define ML_DATAGRAM_TRANSPORT_OVERHEAD (ML_DATAGRAM_TRANSPORT_HEADER_LEN + 1 + ML_DATAGRAM_TAG_LEN)
/* Largest payload one transport datagram carries. */
#define ML_DATAGRAM_MAX_PAYLOAD (ML_DATAGRAM_MAX - ML_DATAGRAM_TRANSPORT_OVERHEAD)

typedef enum ml_datagram_type {
  ML_DATAGRAM_HANDSHAKE = 1,
  ML_DATAGRAM_TRANSPORT = 2,
} ml_datagram_type;

/* The first byte of the decrypted plaintext: what the payload is. */
typedef enum ml_inner_type {
  ML_INNER_RTP = 1,       /* one RTP packet (audio or video) */
  ML_INNER_RTCP = 2,      /* one (compound) RTCP packet */
  ML_INNER_RELIABLE = 3,  /* one pseudo-TCP segment (chat, files, control stream) */
  ML_INNER_CONTROL = 4,   /* unreliable control message */
  ML_INNER_KEEPALIVE = 5, /* empty payload; keeps the path and the NAT binding alive */
} ml_inner_type;

/* True when v is one of ml_inner_type. */
bool ml_inner_type_valid(unsigned v);

typedef struct ml_datagram {
  ml_datagram_type type;
  uint8_t version;
  uint8_t handshake_index; /* HANDSHAKE only */
  uint8_t epoch;           /* TRANSPORT only */
  uint16_t key_id;         /* TRANSPORT only */
  uint64_t counter;        /* TRANSPORT only */
  const uint8_t *header;   /* points into the parsed buffer; the AEAD associated data */
  size_t header_len;
  const uint8_t *body; /* Noise message, or ciphertext + tag */
  size_t body_len;
} ml_datagram;

/* Parses the framing of buf. On success out's pointers refer into buf.
 * Errors: ML_ERR_TOO_BIG (len > ML_DATAGRAM_MAX), ML_ERR_UNSUPPORTED (a
 * version other than ML_DATAGRAM_VERSION), ML_ERR_PROTOCOL (not ours, unknown
 * type, truncated, non-zero reserved bits, empty handshake body, transport
 * body shorter than inner byte + tag, non-zero key id). */
int ml_datagram_parse(const uint8_t *buf, size_t len, ml_datagram *out) ML_MUST_CHECK;

/* Quick demultiplexing test on the first byte: could this be one of ours? */
bool ml_datagram_is_ours(const uint8_t *buf, size_t len);

/* Writes a 12-byte transport header. ML_ERR_BUFFER if cap < 12. */
int ml_datagram_write_transport_header(uint8_t *out, size_t cap, uint8_t epoch, uint16_t key_id,
                                       uint64_t counter) ML_MUST_CHECK;

/* Frames a Noise handshake message. msg may already sit at
 * out + ML_DATAGRAM_HANDSHAKE_HEADER_LEN (framing in place). ML_ERR_TOO_BIG if
 * the result would exceed ML_DATAGRAM_MAX, ML_ERR_BUFFER if out_cap is too
 * small, ML_ERR_INVALID for an empty message (the parser rejects it). */
int ml_datagram_write_handshake(uint8_t *out, size_t out_cap, uint8_t index, const uint8_t *msg,
                                size_t msg_len, size_t *out_len) ML_MUST_CHECK;

#endif /* ML_DATAGRAM_H */
