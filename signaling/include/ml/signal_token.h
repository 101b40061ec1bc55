/* mentorlink-signal — signed join tokens.
 *
 * A token is  base64url(payload) "." base64url(HMAC-SHA256(secret, base64url(payload)))
 * with payload the compact JSON object
 *   {"v":1,"room":ROOM,"role":"host"|"participant","name":NAME,"exp":UNIX_SECONDS}
 * (base64url without padding). The secret is the server's [tokens] secret,
 * at least ML_TOKEN_MIN_SECRET bytes. Issued by `mentorlink-signal token`, checked by the
 * server on join. Pure functions; thread-safe; the clock is passed in.
 */
#ifndef ML_SIGNAL_TOKEN_H
#define ML_SIGNAL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_TOKEN_MIN_SECRET 32
#define ML_TOKEN_MAX_LEN 1024

typedef enum ml_token_role { ML_TOKEN_ROLE_HOST, ML_TOKEN_ROLE_PARTICIPANT } ml_token_role;

typedef struct ml_token_claims {
  char room[65]; /* [A-Za-z0-9_.-]{1,64} */
  char name[65]; /* display name, printable UTF-8, 1..64 bytes */
  ml_token_role role;
  int64_t expiry;     /* unix seconds: not valid from then on */
  int64_t not_before; /* unix seconds: not valid before then; 0: from issue ("nbf") */
} ml_token_claims;

/* Issues a token for claims, signed with secret. *out (transfer full, free
 * with free()) is a NUL-terminated string. ML_ERR_INVALID for bad claims or
 * a short secret. */
ML_MUST_CHECK int ml_token_issue(const uint8_t *secret, size_t secret_len,
                                 const ml_token_claims *claims, char **out);

/* Verifies token against secret at time now (unix seconds) and fills *claims.
 * ML_ERR_PROTOCOL: malformed; ML_ERR_CRYPTO: signature does not verify (forged or
 * another secret); ML_ERR_STATE: signature good but now is outside
 * [not_before, expiry) (the claims are filled: compare them with now to tell
 * "expired" from "not yet valid"). *claims is only meaningful on ML_OK and
 * ML_ERR_STATE. Comparison is constant-time. */
ML_MUST_CHECK int ml_token_verify(const uint8_t *secret, size_t secret_len, const char *token,
                                  int64_t now, ml_token_claims *claims);

/* What token says, NOT verified (the client has no secret): for showing
 * its scheduled end only; the server decides what the token allows.
 * ML_ERR_PROTOCOL when malformed. */
ML_MUST_CHECK int ml_token_read_claims(const char *token, ml_token_claims *claims);

#endif /* ML_SIGNAL_TOKEN_H */
