/* mentorlink — anti-replay sliding window over 64-bit counters (RFC 6479).
 *
 * The window is a ring of 64-bit blocks; it accepts any counter newer than the
 * highest seen, and any older counter within ML_REPLAY_WINDOW of it (highest -
 * counter <= ML_REPLAY_WINDOW) that has not been seen. UINT64_MAX is never
 * accepted (the channel stops far below it). Use it in two steps so a forged
 * datagram cannot move the window: ml_replay_check() before authenticating,
 * ml_replay_commit() after.
 * Plain value type: no allocation, embed it where needed.
 */
#ifndef ML_REPLAY_H
#define ML_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define ML_REPLAY_BLOCKS 32                                      /* ring size in 64-bit blocks */
#define ML_REPLAY_WINDOW ((ML_REPLAY_BLOCKS - 1) * UINT64_C(64)) /* 1984 counters guaranteed */

typedef struct ml_replay {
  uint64_t top; /* highest counter committed + 1; 0 when none yet */
  uint64_t blocks[ML_REPLAY_BLOCKS];
} ml_replay;

void ml_replay_init(ml_replay *w);
/* True if counter would be accepted now (not seen, not too old). */
bool ml_replay_check(const ml_replay *w, uint64_t counter);
/* Marks counter as seen, sliding the window forward when it is the newest.
 * Returns false (and changes nothing) if check would have failed. */
bool ml_replay_commit(ml_replay *w, uint64_t counter);

#endif /* ML_REPLAY_H */
