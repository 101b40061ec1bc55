/* mentorlink — the frames of the peer link's reliable stream (pure; private
 * to the engine). docs/PROTOCOL.md, "Reliable stream", byte by byte:
 *
 *   frame = u8 kind || u32 length (big-endian) || body (length bytes)
 *   kind 1 STREAM   body: application stream bytes, 1..16384
 *   kind 2 MESSAGE  body: u64 id || chat message (1..65536 bytes)
 *   kind 3 RECEIPT  body: u64 id of a MESSAGE the receipt's sender received
 *
 * Encoding writes the bytes that precede a frame's payload; decoding is a
 * push parser over the byte stream as PseudoTCP hands it over, in pieces of
 * any size: it reads through ml_reader, buffers MESSAGE and RECEIPT bodies
 * (at most ML_STREAM_FRAME_BODY_MAX bytes) and passes STREAM bodies through
 * as they arrive. Any other kind, or a length outside the ranges above,
 * breaks the stream for good (the decoder stays MALFORMED).
 *
 * No GLib, no I/O, no allocation; the caller owns the decoder (about 64 KiB)
 * and uses it from one thread.
 */
#ifndef ML_STREAM_FRAME_H
#define ML_STREAM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ML_STREAM_FRAME_HEADER_LEN 5
#define ML_STREAM_FRAME_ID_LEN 8
#define ML_STREAM_FRAME_STREAM_MAX 16384
#define ML_STREAM_FRAME_MESSAGE_MAX 65536
#define ML_STREAM_FRAME_BODY_MAX (ML_STREAM_FRAME_ID_LEN + ML_STREAM_FRAME_MESSAGE_MAX)
/* What ml_stream_frame_prefix writes at most: header and id. */
#define ML_STREAM_FRAME_PREFIX_MAX (ML_STREAM_FRAME_HEADER_LEN + ML_STREAM_FRAME_ID_LEN)

typedef enum ml_stream_frame_kind {
  ML_STREAM_FRAME_STREAM = 1,
  ML_STREAM_FRAME_MESSAGE = 2,
  ML_STREAM_FRAME_RECEIPT = 3,
} ml_stream_frame_kind;

/* Writes the start of one frame into out: the header, then for MESSAGE and
 * RECEIPT the id; the caller appends the payload (STREAM and MESSAGE) right
 * after. Returns the bytes written. payload_len must be 1..STREAM_MAX for
 * STREAM, 1..MESSAGE_MAX for MESSAGE and 0 for RECEIPT (asserted); id is
 * ignored for STREAM. */
size_t ml_stream_frame_prefix(uint8_t out[ML_STREAM_FRAME_PREFIX_MAX], ml_stream_frame_kind kind,
                              uint64_t id, size_t payload_len);

typedef enum ml_stream_frame_event {
  ML_STREAM_FRAME_EV_NONE,      /* the bytes went into an incomplete frame */
  ML_STREAM_FRAME_EV_STREAM,    /* data/len: the next STREAM bytes (into the input) */
  ML_STREAM_FRAME_EV_MESSAGE,   /* id, data/len: a whole MESSAGE (into the decoder) */
  ML_STREAM_FRAME_EV_RECEIPT,   /* id */
  ML_STREAM_FRAME_EV_MALFORMED, /* the stream is broken; it stays so */
} ml_stream_frame_event;

typedef struct ml_stream_frame_item {
  ml_stream_frame_event event;
  uint64_t id;
  /* Valid until the next call with the same decoder (and, for STREAM, as
   * long as the input). */
  const uint8_t *data;
  size_t len;
} ml_stream_frame_item;

typedef struct ml_stream_frame_decoder {
  uint8_t header[ML_STREAM_FRAME_HEADER_LEN];
  size_t header_len;
  uint8_t kind;
  uint32_t need; /* the current frame's body length */
  size_t body_len;
  bool malformed;
  uint8_t body[ML_STREAM_FRAME_BODY_MAX];
} ml_stream_frame_decoder;

void ml_stream_frame_decoder_init(ml_stream_frame_decoder *d);

/* Consumes the stream bytes at p (untrusted, len >= 1) up to the end of the
 * next item or of the input, whichever comes first, and returns how many it
 * consumed (at least 1); *item says what they completed. Call again with
 * the rest. Once MALFORMED, it consumes everything and says MALFORMED. */
size_t ml_stream_frame_decode(ml_stream_frame_decoder *d, const uint8_t *p, size_t len,
                              ml_stream_frame_item *item);

#endif /* ML_STREAM_FRAME_H */
