/* mentorlink-signal — TURN REST credentials for coturn's use-auth-secret.
 *
 * username = "<expiry unix seconds>:<user>", password = base64(HMAC-SHA1(secret,
 * username)) (draft-uberti-behave-turn-rest-00, coturn's --use-auth-secret).
 * Pure; thread-safe; the clock is passed in.
 */
#ifndef ML_SIGNAL_TURN_H
#define ML_SIGNAL_TURN_H

#include <stdint.h>

#include "ml/error.h"

/* Fills *username and *password (transfer full, g_free) for user, valid until
 * now + ttl seconds. ML_ERR_INVALID for an empty secret/user or ttl <= 0. */
ML_MUST_CHECK int ml_turn_credentials(const char *secret, const char *user, int64_t now,
                                      int64_t ttl, char **username, char **password);

#endif /* ML_SIGNAL_TURN_H */
