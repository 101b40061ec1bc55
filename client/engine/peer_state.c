/* A call's view of one remote peer: lifecycle and ICE restart back-off.
 * Contract in peer_state.h. */
#include "peer_state.h"

#define TO(s) (1u << (s))

const char *ml_peer_state_name(ml_peer_state state) {
  switch (state) {
  case ML_PEER_JOINED: return "joined";
  case ML_PEER_CONNECTING: return "connecting";
  case ML_PEER_SECURE: return "secure";
  case ML_PEER_RESTARTING: return "restarting";
  case ML_PEER_FAILED: return "failed";
  case ML_PEER_LEFT: return "left";
  }
  return "unknown";
}

bool ml_peer_transition_ok(ml_peer_state from, ml_peer_state to) {
  /* Per state, the states it may go to. */
  static const unsigned allowed[] = {
      [ML_PEER_JOINED] = TO(ML_PEER_CONNECTING) | TO(ML_PEER_LEFT),
      [ML_PEER_CONNECTING] = TO(ML_PEER_SECURE) | TO(ML_PEER_FAILED) | TO(ML_PEER_LEFT),
      [ML_PEER_SECURE] = TO(ML_PEER_RESTARTING) | TO(ML_PEER_FAILED) | TO(ML_PEER_LEFT),
      [ML_PEER_RESTARTING] = TO(ML_PEER_SECURE) | TO(ML_PEER_FAILED) | TO(ML_PEER_LEFT),
      [ML_PEER_FAILED] = TO(ML_PEER_LEFT),
      [ML_PEER_LEFT] = 0,
  };
  if ((unsigned)from > ML_PEER_LEFT || (unsigned)to > ML_PEER_LEFT)
    return false;
  return (allowed[from] & TO(to)) != 0;
}

bool ml_peer_state_usable(ml_peer_state state) {
  return state == ML_PEER_SECURE || state == ML_PEER_RESTARTING;
}
