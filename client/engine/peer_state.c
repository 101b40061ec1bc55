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

uint32_t ml_restart_backoff_delay_ms(unsigned attempt) {
  if (attempt == 0)
    return 0;
  uint32_t ms = ML_RESTART_BACKOFF_MS;
  for (unsigned i = 1; i < attempt && ms < ML_RESTART_BACKOFF_MAX_MS; i++)
    ms *= 2;
  return ms < ML_RESTART_BACKOFF_MAX_MS ? ms : ML_RESTART_BACKOFF_MAX_MS;
}

ml_restart_verdict ml_restart_backoff_next(ml_restart_backoff *b, uint64_t progress, int64_t now_us,
                                           int64_t *due_us, unsigned *attempt) {
  if (progress > b->progress)
    b->attempts = 0; /* datagrams came through since the last restart */
  if (b->attempts == ML_RESTART_MAX_ATTEMPTS) {
    b->attempts++;
    return ML_RESTART_GIVE_UP;
  }
  if (b->attempts > ML_RESTART_MAX_ATTEMPTS)
    return ML_RESTART_NONE;
  *due_us = now_us + (int64_t)ml_restart_backoff_delay_ms(b->attempts) * 1000;
  *attempt = ++b->attempts;
  b->progress = progress;
  return ML_RESTART_SCHEDULE;
}

void ml_restart_backoff_reset(ml_restart_backoff *b) { b->attempts = 0; }
