/* mentorlink join: who is in the room, as the events tell it (/who, and
 * the names the stdin commands take). Pure: the owner feeds it every
 * event of the call (ml_join_roster_apply) on the CLI thread.
 *
 * A member: display name, host or not (the server's word), microphone and
 * camera (the peer's own announcement), verified (the user marked its key),
 * secure, connection quality from its last stats (rtt and loss), hand and
 * its ticket (the order hands went up in). Waiting people (knocks) are
 * listed for a host until admitted, denied or gone. We are a member too
 * (self). */
#ifndef ML_CLI_JOIN_ROSTER_H
#define ML_CLI_JOIN_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "ml/call.h"

typedef struct ml_join_member {
  char id[ML_CALL_MAX_PEER_ID + 1];
  char name[ML_CALL_MAX_NAME + 1];
  bool self, waiting, host, secure, verified, have_media, muted, camera_on, hand, have_stats;
  uint64_t hand_ticket;
  double rtt_ms, loss;
} ml_join_member;

typedef struct ml_join_roster {
  GHashTable *members; /* id -> ml_join_member (both owned) */
  char self_id[ML_CALL_MAX_PEER_ID + 1];
  bool locked;
  char spotlight[ML_CALL_MAX_PEER_ID + 1];
  bool own_muted; /* our microphone as we last set it or the host did */
} ml_join_roster;

void ml_join_roster_init(ml_join_roster *r);
void ml_join_roster_clear(ml_join_roster *r);
void ml_join_roster_apply(ml_join_roster *r, const ml_call_event *ev);

/* Whether we are a host of the room (as the server said). */
bool ml_join_roster_self_host(const ml_join_roster *r);

/* The member that arg names: its peer id, or the display name of exactly
 * one member (waiting ones only when waiting is true, else only admitted
 * ones; never ourselves unless self_ok). NULL when none; *ambiguous says
 * several had that name. */
const ml_join_member *ml_join_roster_find(const ml_join_roster *r, const char *arg, bool waiting,
                                          bool self_ok, bool *ambiguous);

/* The call's clock for /who: "Session: 3:02 elapsed" and with a scheduled
 * end ", 1:58 left" (left_ms < 0: none; rounded up); M:SS, H:MM:SS from an
 * hour. */
void ml_join_clock_text(int64_t elapsed_ms, int64_t left_ms, char *out, size_t cap);

/* "good" (rtt < 150 ms and loss < 2 %), "fair" (< 400 ms, < 10 %), "poor",
 * or "unknown" before any figures. */
const char *ml_join_quality(const ml_join_member *m);

/* The /who text: one line per member (us first, then by name), hands in
 * the order they went up, and for a host the people waiting (transfer
 * full: g_free). */
char *ml_join_roster_format(const ml_join_roster *r);

#endif /* ML_CLI_JOIN_ROSTER_H */
