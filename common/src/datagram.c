/* Framing of the datagrams on the ICE path (layout in ml/datagram.h and
 * docs/PROTOCOL.md). Reads only through ml_reader: no struct overlays, no
 * read outside the caller's buffer whatever its length. */
#include "ml/datagram.h"

#include <assert.h>
#include <string.h>

#include "ml/bytes.h"

#define MARKER_MASK 0xc0u /* 0b11000000: RFC 7983 leaves 192..255 unassigned */
#define VERSION_SHIFT 3
#define VERSION_MASK 0x07u
#define TYPE_MASK 0x07u

static uint8_t first_byte(unsigned type) {
  return (uint8_t)(MARKER_MASK | (ML_DATAGRAM_VERSION << VERSION_SHIFT) | type);
}

bool ml_inner_type_valid(unsigned v) { return v >= ML_INNER_RTP && v <= ML_INNER_KEEPALIVE; }

bool ml_datagram_is_ours(const uint8_t *buf, size_t len) {
  return len >= 1 && (buf[0] & MARKER_MASK) == MARKER_MASK;
}

static int parse_handshake(ml_reader *r, ml_datagram *d) {
  uint16_t reserved;
  if (!ml_reader_u8(r, &d->handshake_index) || !ml_reader_u16(r, &reserved))
    return ML_ERR_PROTOCOL;
  if (reserved != 0)
    return ML_ERR_PROTOCOL;
  if (ml_reader_remaining(r) == 0)
    return ML_ERR_PROTOCOL; /* every Noise handshake message carries at least "e" */
  return ML_OK;
}

static int parse_transport(ml_reader *r, ml_datagram *d) {
  if (!ml_reader_u8(r, &d->epoch) || !ml_reader_u16(r, &d->key_id) ||
      !ml_reader_u64(r, &d->counter))
    return ML_ERR_PROTOCOL;
  if (d->key_id != 0)
    return ML_ERR_PROTOCOL; /* per-sender keys (relay mode) are not defined yet */
  if (ml_reader_remaining(r) < 1 + ML_DATAGRAM_TAG_LEN)
    return ML_ERR_PROTOCOL;
  return ML_OK;
}

int ml_datagram_parse(const uint8_t *buf, size_t len, ml_datagram *out) {
  assert(out && (buf || len == 0));
  if (len > ML_DATAGRAM_MAX)
    return ML_ERR_TOO_BIG;

  ml_reader r = ml_reader_init(buf, len);
  uint8_t b0;
  if (!ml_reader_u8(&r, &b0) || (b0 & MARKER_MASK) != MARKER_MASK)
    return ML_ERR_PROTOCOL;
  /* The version decides what the rest means, so it is checked before the type. */
  if (((b0 >> VERSION_SHIFT) & VERSION_MASK) != ML_DATAGRAM_VERSION)
    return ML_ERR_UNSUPPORTED;

  ml_datagram d;
  memset(&d, 0, sizeof d);
  d.version = ML_DATAGRAM_VERSION;
  int err;
  switch (b0 & TYPE_MASK) {
  case ML_DATAGRAM_HANDSHAKE:
    d.type = ML_DATAGRAM_HANDSHAKE;
    err = parse_handshake(&r, &d);
    break;
  case ML_DATAGRAM_TRANSPORT:
    d.type = ML_DATAGRAM_TRANSPORT;
    err = parse_transport(&r, &d);
    break;
  default: return ML_ERR_PROTOCOL;
  }
  if (err != ML_OK)
    return err;

  d.header = buf;
  d.header_len = r.pos;
  d.body_len = ml_reader_remaining(&r);
  if (!ml_reader_bytes(&r, d.body_len, &d.body))
    return ML_ERR_PROTOCOL; /* cannot happen: reading exactly what remains */
  *out = d;
  return ML_OK;
}

int ml_datagram_write_transport_header(uint8_t *out, size_t cap, uint8_t epoch, uint16_t key_id,
                                       uint64_t counter) {
  assert(out);
  ml_writer w = ml_writer_init(out, cap);
  if (cap < ML_DATAGRAM_TRANSPORT_HEADER_LEN)
    return ML_ERR_BUFFER;
  bool ok = ml_writer_u8(&w, first_byte(ML_DATAGRAM_TRANSPORT)) && ml_writer_u8(&w, epoch) &&
            ml_writer_u16(&w, key_id) && ml_writer_u64(&w, counter);
  assert(ok && w.pos == ML_DATAGRAM_TRANSPORT_HEADER_LEN);
  (void)ok;
  return ML_OK;
}

int ml_datagram_write_handshake(uint8_t *out, size_t out_cap, uint8_t index, const uint8_t *msg,
                                size_t msg_len, size_t *out_len) {
  assert(out && out_len && (msg || msg_len == 0));
  if (msg_len == 0)
    return ML_ERR_INVALID; /* the parser rejects an empty handshake body */
  if (msg_len > ML_DATAGRAM_MAX - ML_DATAGRAM_HANDSHAKE_HEADER_LEN)
    return ML_ERR_TOO_BIG;
  size_t total = ML_DATAGRAM_HANDSHAKE_HEADER_LEN + msg_len;
  if (out_cap < total)
    return ML_ERR_BUFFER;
  /* memmove first: msg may already sit at out + header (framing in place). */
  memmove(out + ML_DATAGRAM_HANDSHAKE_HEADER_LEN, msg, msg_len);
  ml_writer w = ml_writer_init(out, ML_DATAGRAM_HANDSHAKE_HEADER_LEN);
  bool ok = ml_writer_u8(&w, first_byte(ML_DATAGRAM_HANDSHAKE)) && ml_writer_u8(&w, index) &&
            ml_writer_u16(&w, 0);
  assert(ok && w.pos == ML_DATAGRAM_HANDSHAKE_HEADER_LEN);
  (void)ok;
  *out_len = total;
  return ML_OK;
}
