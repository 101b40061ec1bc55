/* mentorlink-signal — the Redis URL of the redis backend:
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]      HOST a name, IPv4 or [IPv6]
 *   rediss://...                                    the same over TLS (tls true;
 *                                                   redis_tls.h carries it)
 * A user name (Redis 6 ACL) is used with AUTH USER PASSWORD.
 *
 * Pure; the URL comes from the configuration (trusted) but is checked
 * strictly all the same. */
#ifndef ML_SIGNAL_REDIS_URL_H
#define ML_SIGNAL_REDIS_URL_H

#include <stdbool.h>

#include "ml/error.h"

typedef struct ml_redis_url {
  char *host;     /* g_free */
  unsigned port;  /* default 6379 */
  unsigned db;    /* default 0 */
  char *user;     /* NULL: none */
  char *password; /* NULL: none; wipe with ml_redis_url_clear */
  bool tls;
} ml_redis_url;

/* On ML_OK *out is filled (ml_redis_url_clear it). Else ML_ERR_INVALID and
 * *errmsg (g_free) says what is wrong, never quoting a password. */
ML_MUST_CHECK int ml_redis_url_parse(const char *url, ml_redis_url *out, char **errmsg);
void ml_redis_url_clear(ml_redis_url *u);

#endif /* ML_SIGNAL_REDIS_URL_H */
