/* What every libFuzzer target here (fuzz_<name>.c) shares: the entry point
 * libFuzzer and the replay driver (replay_main.c) call, CHECK for the
 * target's invariants, and the reading of inputs made of records. */
#ifndef ML_TESTS_FUZZ_H
#define ML_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* One input: the target returns 0, or crashes when an invariant breaks. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Invariant broken: crash loudly so libFuzzer (or the replay driver) reports it. */
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      abort();                                                                                     \
  } while (0)

/* Targets that replay a sequence of records read their input as records:
 * one op byte, a 16-bit big-endian length, then that many bytes (fewer when
 * the input ends first). Reads the record at *pos into *op, *rec and *len and
 * moves *pos past it; false, with nothing read, when fewer than 3 bytes are
 * left. */
static inline bool ml_fuzz_next_record(const uint8_t *data, size_t size, size_t *pos, uint8_t *op,
                                       const uint8_t **rec, size_t *len) {
  if (*pos + 3 > size)
    return false;
  *op = data[*pos];
  *len = (size_t)data[*pos + 1] << 8 | data[*pos + 2];
  *pos += 3;
  if (*len > size - *pos)
    *len = size - *pos;
  *rec = data + *pos;
  *pos += *len;
  return true;
}

#endif
