/* mentorlink — a call's view of one remote peer: its lifecycle and the ICE
 * restart back-off (pure; private to the engine).
 *
 * The lifecycle, as the call (call_peer.c) drives it:
 *
 *   JOINED -> CONNECTING -> SECURE <-> RESTARTING
 *                 |           |            |
 *                 +-----------+------------+--> FAILED
 *   any state but LEFT -> LEFT
 *
 * JOINED: the server announced the peer and its link exists; CONNECTING:
 * ICE and the handshake run (an ICE restart before the channel is up stays
 * here); SECURE: the secure channel is up, media, CONTROL and chat flow;
 * RESTARTING: secure, but the path was lost and ICE restarts (the channel
 * and the chat stream survive; media goes on where the old path still
 * carries it) until ICE is ready again; FAILED: the link gave up for good
 * (no media, no chat; the peer stays in the call); LEFT: the peer left or
 * the call ended, and it is being removed. FAILED and LEFT are final
 * except for FAILED -> LEFT.
 *
 * The back-off decides, from times passed in (monotonic microseconds, as
 * g_get_monotonic_time gives them), when the controlling side restarts ICE
 * after a path loss: at once the first time, then after
 * ML_RESTART_BACKOFF_MS, doubling up to ML_RESTART_BACKOFF_MAX_MS, at most
 * ML_RESTART_MAX_ATTEMPTS times in a row; the count starts over when the
 * path comes back (ICE ready, or datagrams got through since the last
 * restart). No jitter: only the controlling side restarts, so the two sides
 * never race.
 *
 * No GLib, no I/O, no allocation; the caller owns the structs and uses them
 * from one thread.
 */
#ifndef ML_PEER_STATE_H
#define ML_PEER_STATE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ml_peer_state {
  ML_PEER_JOINED, /* the initial state (0) */
  ML_PEER_CONNECTING,
  ML_PEER_SECURE,
  ML_PEER_RESTARTING,
  ML_PEER_FAILED,
  ML_PEER_LEFT,
} ml_peer_state;

/* "joined", "connecting", ... (static strings, for logs). */
const char *ml_peer_state_name(ml_peer_state state);

/* Whether the lifecycle allows from -> to (false for from == to). */
bool ml_peer_transition_ok(ml_peer_state from, ml_peer_state to);

/* Whether media and CONTROL datagrams flow to and from the peer (SECURE,
 * RESTARTING). */
bool ml_peer_state_usable(ml_peer_state state);

#define ML_RESTART_MAX_ATTEMPTS 5        /* in a row, without the path coming back */
#define ML_RESTART_BACKOFF_MS 2000u      /* before the 2nd restart in a row; doubles */
#define ML_RESTART_BACKOFF_MAX_MS 32000u /* the longest wait */

typedef struct ml_restart_backoff {
  unsigned attempts; /* restarts in a row; ML_RESTART_MAX_ATTEMPTS + 1: given up */
  uint64_t progress; /* the caller's progress counter at the last restart */
} ml_restart_backoff;

typedef enum ml_restart_verdict {
  ML_RESTART_SCHEDULE, /* restart ICE at *due_us */
  ML_RESTART_GIVE_UP,  /* the attempts did not bring the path back: say so (once) */
  ML_RESTART_NONE,     /* given up already: nothing to do */
} ml_restart_verdict;

/* The wait before restart number attempt + 1 in a row (attempt counts the
 * restarts before it): 0 for the first, then ML_RESTART_BACKOFF_MS
 * doubling, capped at ML_RESTART_BACKOFF_MAX_MS. */
uint32_t ml_restart_backoff_delay_ms(unsigned attempt);

/* The path is lost: what to do now. progress is a counter that grows while
 * the path carries the peer's datagrams (the link's authenticated
 * datagrams): if it grew since the last restart, the path came back in
 * between and the count starts over. On SCHEDULE, *due_us is when to
 * restart and *attempt its number in a row (1..ML_RESTART_MAX_ATTEMPTS);
 * both are untouched otherwise. b starts zeroed. */
ml_restart_verdict ml_restart_backoff_next(ml_restart_backoff *b, uint64_t progress, int64_t now_us,
                                           int64_t *due_us, unsigned *attempt);

/* The path is back (ICE ready): the next loss restarts at once. */
void ml_restart_backoff_reset(ml_restart_backoff *b);

#endif /* ML_PEER_STATE_H */
