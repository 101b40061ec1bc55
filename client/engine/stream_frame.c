/* mentorlink — the frames of the peer link's reliable stream (see
 * stream_frame.h). */
#include "stream_frame.h"

#include <assert.h>
#include <string.h>

#include "ml/bytes.h"

size_t ml_stream_frame_prefix(uint8_t out[ML_STREAM_FRAME_PREFIX_MAX], ml_stream_frame_kind kind,
                              uint64_t id, size_t payload_len) {
  assert((kind == ML_STREAM_FRAME_STREAM && payload_len >= 1 &&
          payload_len <= ML_STREAM_FRAME_STREAM_MAX) ||
         (kind == ML_STREAM_FRAME_MESSAGE && payload_len >= 1 &&
          payload_len <= ML_STREAM_FRAME_MESSAGE_MAX) ||
         (kind == ML_STREAM_FRAME_RECEIPT && payload_len == 0));
  bool has_id = kind != ML_STREAM_FRAME_STREAM;
  size_t body = (has_id ? ML_STREAM_FRAME_ID_LEN : 0) + payload_len;
  ml_writer w = ml_writer_init(out, ML_STREAM_FRAME_PREFIX_MAX);
  ml_writer_u8(&w, (uint8_t)kind);
  ml_writer_u32(&w, (uint32_t)body);
  if (has_id)
    ml_writer_u64(&w, id);
  assert(!w.failed);
  return w.pos;
}

void ml_stream_frame_decoder_init(ml_stream_frame_decoder *d) {
  d->header_len = 0;
  d->kind = 0;
  d->need = 0;
  d->body_len = 0;
  d->malformed = false;
}

static bool header_ok(uint8_t kind, uint32_t len) {
  return (kind == ML_STREAM_FRAME_STREAM && len >= 1 && len <= ML_STREAM_FRAME_STREAM_MAX) ||
         (kind == ML_STREAM_FRAME_MESSAGE && len > ML_STREAM_FRAME_ID_LEN &&
          len <= ML_STREAM_FRAME_BODY_MAX) ||
         (kind == ML_STREAM_FRAME_RECEIPT && len == ML_STREAM_FRAME_ID_LEN);
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

size_t ml_stream_frame_decode(ml_stream_frame_decoder *d, const uint8_t *p, size_t len,
                              ml_stream_frame_item *item) {
  assert(d && p && len >= 1 && item);
  memset(item, 0, sizeof *item);
  if (d->malformed) {
    item->event = ML_STREAM_FRAME_EV_MALFORMED;
    return len;
  }
  size_t used = 0;
  if (d->header_len < ML_STREAM_FRAME_HEADER_LEN) {
    size_t take = min_size(ML_STREAM_FRAME_HEADER_LEN - d->header_len, len);
    memcpy(d->header + d->header_len, p, take);
    d->header_len += take;
    used = take;
    if (d->header_len < ML_STREAM_FRAME_HEADER_LEN)
      return used;
    ml_reader r = ml_reader_init(d->header, sizeof d->header);
    uint8_t kind = 0;
    uint32_t flen = 0;
    if (!ml_reader_u8(&r, &kind) || !ml_reader_u32(&r, &flen) || !header_ok(kind, flen)) {
      d->malformed = true;
      item->event = ML_STREAM_FRAME_EV_MALFORMED;
      return len;
    }
    d->kind = kind;
    d->need = flen;
    d->body_len = 0;
    if (used == len)
      return used;
  }
  const uint8_t *q = p + used;
  size_t take = min_size((size_t)d->need - d->body_len, len - used);
  used += take;
  d->body_len += take;
  bool complete = d->body_len == d->need;
  if (complete)
    d->header_len = 0;
  if (d->kind == ML_STREAM_FRAME_STREAM) {
    item->event = ML_STREAM_FRAME_EV_STREAM;
    item->data = q;
    item->len = take;
    return used;
  }
  memcpy(d->body + d->body_len - take, q, take);
  if (!complete)
    return used;
  ml_reader r = ml_reader_init(d->body, d->body_len);
  bool have_id = ml_reader_u64(&r, &item->id); /* header_ok guarantees it */
  assert(have_id);
  (void)have_id;
  if (d->kind == ML_STREAM_FRAME_MESSAGE) {
    item->event = ML_STREAM_FRAME_EV_MESSAGE;
    item->data = d->body + ML_STREAM_FRAME_ID_LEN;
    item->len = d->body_len - ML_STREAM_FRAME_ID_LEN;
  } else {
    item->event = ML_STREAM_FRAME_EV_RECEIPT;
  }
  return used;
}
