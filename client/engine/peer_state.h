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

#endif /* ML_PEER_STATE_H */
