/* mentorlink — bounded cursor reader and writer for wire formats.
 *
 * Every parser of bytes from the network reads through ml_reader: a read past
 * the end fails (returns false) and leaves the reader marked as failed, so a
 * parser can do a run of reads and check once. Big-endian (network order)
 * integers. No allocation, no GLib.
 */
#ifndef ML_BYTES_H
#define ML_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ml_reader {
  const uint8_t *data;
  size_t len;
  size_t pos;
  bool failed;
} ml_reader;

static inline ml_reader ml_reader_init(const uint8_t *data, size_t len) {
  ml_reader r = {data, len, 0, false};
  return r;
}
static inline size_t ml_reader_remaining(const ml_reader *r) { return r->len - r->pos; }

bool ml_reader_u8(ml_reader *r, uint8_t *out);
bool ml_reader_u16(ml_reader *r, uint16_t *out);
bool ml_reader_u32(ml_reader *r, uint32_t *out);
bool ml_reader_u64(ml_reader *r, uint64_t *out);
/* Points *out at the next n bytes (no copy) and advances. */
bool ml_reader_bytes(ml_reader *r, size_t n, const uint8_t **out);
/* Copies the next n bytes into out and advances. */
bool ml_reader_copy(ml_reader *r, void *out, size_t n);

typedef struct ml_writer {
  uint8_t *data;
  size_t cap;
  size_t pos;
  bool failed;
} ml_writer;

static inline ml_writer ml_writer_init(uint8_t *data, size_t cap) {
  ml_writer w = {data, cap, 0, false};
  return w;
}

bool ml_writer_u8(ml_writer *w, uint8_t v);
bool ml_writer_u16(ml_writer *w, uint16_t v);
bool ml_writer_u32(ml_writer *w, uint32_t v);
bool ml_writer_u64(ml_writer *w, uint64_t v);
bool ml_writer_bytes(ml_writer *w, const void *src, size_t n);

#endif /* ML_BYTES_H */
