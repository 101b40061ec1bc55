/* Anti-replay window of RFC 6479: a ring of ML_REPLAY_BLOCKS 64-bit blocks.
 * Counter c lives in bit (c % 64) of block (c / 64) % ML_REPLAY_BLOCKS. Sliding
 * forward clears whole blocks instead of shifting a bitmap, so a jump costs at
 * most one pass over the ring. The block holding the highest counter is always
 * current, so the ML_REPLAY_BLOCKS - 1 blocks before it keep at least
 * ML_REPLAY_WINDOW older counters. */
#include "ml/replay.h"

#include <assert.h>
#include <string.h>

#define BLOCK_BITS 64u
#define BLOCK_SHIFT 6u

static size_t block_index(uint64_t counter) {
  return (size_t)((counter >> BLOCK_SHIFT) % ML_REPLAY_BLOCKS);
}

static uint64_t bit_mask(uint64_t counter) { return UINT64_C(1) << (counter & (BLOCK_BITS - 1)); }

void ml_replay_init(ml_replay *w) {
  assert(w);
  memset(w, 0, sizeof *w);
}

bool ml_replay_check(const ml_replay *w, uint64_t counter) {
  assert(w);
  if (counter == UINT64_MAX)
    return false; /* top (= counter + 1) would wrap to "nothing seen" */
  if (counter >= w->top)
    return true; /* newer than anything seen */
  if (w->top - 1 - counter > ML_REPLAY_WINDOW)
    return false; /* too old: its bit may already belong to a newer block */
  return (w->blocks[block_index(counter)] & bit_mask(counter)) == 0;
}

bool ml_replay_commit(ml_replay *w, uint64_t counter) {
  if (!ml_replay_check(w, counter))
    return false;
  if (counter >= w->top) {
    uint64_t new_block = counter >> BLOCK_SHIFT;
    /* With nothing seen yet every block is already clear (init). */
    if (w->top != 0) {
      uint64_t cur_block = (w->top - 1) >> BLOCK_SHIFT;
      uint64_t diff = new_block - cur_block;
      if (diff >= ML_REPLAY_BLOCKS) {
        memset(w->blocks, 0, sizeof w->blocks);
      } else {
        for (uint64_t i = 1; i <= diff; i++)
          w->blocks[(cur_block + i) % ML_REPLAY_BLOCKS] = 0;
      }
    }
    w->top = counter + 1;
  }
  w->blocks[block_index(counter)] |= bit_mask(counter);
  return true;
}
