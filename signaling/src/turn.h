/* mentorlink-signal — TURN REST credentials for coturn's use-auth-secret, and
 * the "ice_servers" list a welcome carries.
 *
 * username = "<expiry unix seconds>:<user>", password = base64(HMAC-SHA1(secret,
 * username)) (draft-uberti-behave-turn-rest-00, coturn's --use-auth-secret).
 * Pure; thread-safe; the clock is passed in.
 */
#ifndef ML_SIGNAL_TURN_H
#define ML_SIGNAL_TURN_H

#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "ml/error.h"

/* Fills *username and *password (transfer full, g_free) for user, valid until
 * now + ttl seconds. ML_ERR_INVALID for an empty secret/user or ttl <= 0. */
ML_MUST_CHECK int ml_turn_credentials(const char *secret, const char *user, int64_t now,
                                      int64_t ttl, char **username, char **password);

/* The ICE servers told to user: one STUN entry with stun_urls (if any), one
 * TURN entry with turn_urls and fresh credentials (if any TURN URL and a
 * secret; left out when the credentials cannot be made). Owns the
 * credentials that servers[] points at: clear with ml_turn_ice_clear. */
typedef struct ml_turn_ice {
  ml_sig_ice_server servers[2];
  size_t n;
  char *username;
  char *password;
} ml_turn_ice;

void ml_turn_ice_servers(ml_turn_ice *out, char *const *stun_urls, char *const *turn_urls,
                         const char *secret, int64_t ttl, const char *user, int64_t now);
/* Wipes the password and frees both; *ice is then empty. */
void ml_turn_ice_clear(ml_turn_ice *ice);

#endif /* ML_SIGNAL_TURN_H */
