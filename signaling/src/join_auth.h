/* mentorlink-signal — join authorisation: whether a "join" may enter which
 * room with which role, and when refused joins close a connection.
 *
 * Token mode: the token's signature and expiry decide, its claims give room,
 * name and role. Open mode: the room code and name come from the message,
 * whoever creates the room hosts it, and the room secret is hashed (keyed
 * with the server's open_key) for the registry to compare. The room module
 * then admits or queues the peer (room.h).
 *
 * Pure: the configuration, the registry (read only) and the clock are passed
 * in. Called under the server lock, like every registry call.
 */
#ifndef ML_SIGNAL_JOIN_AUTH_H
#define ML_SIGNAL_JOIN_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "message.h"
#include "ml/signal_server.h"
#include "ml/signal_token.h"
#include "ratelimit.h"
#include "room.h"

/* Refused joins (bad token, wrong secret): per connection before it is
 * closed, and per source address (rate/s, burst) before its connections are. */
#define ML_JOIN_AUTH_MAX_FAILED 3
#define ML_JOIN_AUTH_FAIL_RATE 1.0
#define ML_JOIN_AUTH_FAIL_BURST 10.0
#define ML_JOIN_AUTH_KEY_LEN crypto_generichash_KEYBYTES

/* An authorised join. req points into this struct (claims, secret_hash,
 * settings): use it in place, never copy it. */
typedef struct ml_join_auth {
  ml_room_join_req req; /* room_id, name, identity_key, role, settings, secret_hash */
  ml_token_claims claims;
  uint8_t secret_hash[32];
  ml_room_settings settings;
} ml_join_auth;

/* Decides m (a parsed "join") against cfg at now (unix seconds). On ML_SIG_OK
 * out->req is filled but for peer_id and conn (the caller's). Else the error
 * to send, with *detail a static description. Either way, call
 * ml_join_auth_clear(out) when done (it wipes the secret hash). */
ml_sig_error ml_join_authorise(const ml_signal_config *cfg,
                               const uint8_t open_key[ML_JOIN_AUTH_KEY_LEN],
                               const ml_room_registry *rooms, const ml_sig_msg *m, int64_t now,
                               ml_join_auth *out, const char **detail);
void ml_join_auth_clear(ml_join_auth *auth);

/* True for the errors that count as a refused join (guessing). */
bool ml_join_auth_is_refusal(ml_sig_error err);

/* Counts one refused join against the connection (*failed_joins) and its
 * source address's budget (ip_budget, NULL if none) at now_us. True when the
 * connection must be closed; *ip_over says whether the address is over. */
bool ml_join_auth_failed(unsigned *failed_joins, ml_ratelimit *ip_budget, int64_t now_us,
                         bool *ip_over);

#endif /* ML_SIGNAL_JOIN_AUTH_H */
