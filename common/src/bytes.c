#include "ml/bytes.h"

#include <string.h>

static bool reader_take(ml_reader *r, size_t n, const uint8_t **out) {
  if (r->failed || n > r->len - r->pos) {
    r->failed = true;
    return false;
  }
  *out = r->data + r->pos;
  r->pos += n;
  return true;
}

static bool reader_uint(ml_reader *r, size_t n, uint64_t *out) {
  const uint8_t *p;
  if (!reader_take(r, n, &p))
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++)
    v = (v << 8) | p[i];
  *out = v;
  return true;
}

bool ml_reader_u8(ml_reader *r, uint8_t *out) {
  uint64_t v;
  if (!reader_uint(r, 1, &v))
    return false;
  *out = (uint8_t)v;
  return true;
}

bool ml_reader_u16(ml_reader *r, uint16_t *out) {
  uint64_t v;
  if (!reader_uint(r, 2, &v))
    return false;
  *out = (uint16_t)v;
  return true;
}

bool ml_reader_u32(ml_reader *r, uint32_t *out) {
  uint64_t v;
  if (!reader_uint(r, 4, &v))
    return false;
  *out = (uint32_t)v;
  return true;
}

bool ml_reader_u64(ml_reader *r, uint64_t *out) { return reader_uint(r, 8, out); }

bool ml_reader_bytes(ml_reader *r, size_t n, const uint8_t **out) { return reader_take(r, n, out); }

bool ml_reader_copy(ml_reader *r, void *out, size_t n) {
  const uint8_t *p;
  if (!reader_take(r, n, &p))
    return false;
  if (n)
    memcpy(out, p, n);
  return true;
}

static bool writer_uint(ml_writer *w, size_t n, uint64_t v) {
  if (w->failed || n > w->cap - w->pos) {
    w->failed = true;
    return false;
  }
  for (size_t i = 0; i < n; i++)
    w->data[w->pos + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  w->pos += n;
  return true;
}

bool ml_writer_u8(ml_writer *w, uint8_t v) { return writer_uint(w, 1, v); }
bool ml_writer_u16(ml_writer *w, uint16_t v) { return writer_uint(w, 2, v); }
bool ml_writer_u32(ml_writer *w, uint32_t v) { return writer_uint(w, 4, v); }
bool ml_writer_u64(ml_writer *w, uint64_t v) { return writer_uint(w, 8, v); }

bool ml_writer_bytes(ml_writer *w, const void *src, size_t n) {
  if (w->failed || n > w->cap - w->pos) {
    w->failed = true;
    return false;
  }
  if (n)
    memcpy(w->data + w->pos, src, n);
  w->pos += n;
  return true;
}
