/* mentorlink-signal — TLS to Redis (rediss://) for a hiredis without it.
 *
 * Debian 12's hiredis (0.14) speaks plain TCP or Unix sockets only. The
 * bridge is a thread of its own (its own GMainContext, so that a worker
 * blocked on a Redis reply under the server lock never blocks it) that
 * listens on a Unix socket in a private directory (mode 0700, only this
 * user can connect) and splices each connection hiredis makes there to a
 * TLS connection (GIO, GnuTLS) to the Redis host: the server certificate is
 * checked against ca_file (or the system store) and the host name; a client
 * certificate is presented when cert_file is given (Redis's default
 * tls-auth-clients yes wants one).
 *
 * A TLS failure closes hiredis's side: hiredis sees the connection lost and
 * the backend is unavailable until a later attempt succeeds; the reason is
 * given to log_cb (on the bridge's thread) at most once per distinct reason
 * in a row.
 *
 * Threading: new/free on one thread (the server's main thread); path may be
 * read from any thread between them. */
#ifndef ML_SIGNAL_REDIS_TLS_H
#define ML_SIGNAL_REDIS_TLS_H

#include "ml/error.h"

typedef struct ml_redis_tls ml_redis_tls;

typedef struct ml_redis_tls_config {
  const char *host; /* Redis host name or address: connected to, and checked in the certificate */
  unsigned port;
  const char *ca_file;   /* PEM; NULL: the system store */
  const char *cert_file; /* PEM client certificate (with key_file); NULL: none */
  const char *key_file;  /* PEM key of cert_file; NULL: in cert_file */
  void (*log_cb)(void *user, const char *reason);
  void *user;
} ml_redis_tls_config;

/* ML_ERR_IO with *errmsg (g_free) when a file cannot be used or the socket
 * cannot be made. */
ML_MUST_CHECK int ml_redis_tls_new(ml_redis_tls **out, const ml_redis_tls_config *cfg,
                                   char **errmsg);
/* The Unix socket hiredis connects to (owned by the bridge). */
const char *ml_redis_tls_path(const ml_redis_tls *t);
/* Stops the thread, closes every spliced connection, removes the socket. */
void ml_redis_tls_free(ml_redis_tls *t);

#endif /* ML_SIGNAL_REDIS_TLS_H */
