/* Why a connection to the signaling server failed, and what to do next:
 * pure policy of signal_client.c (no I/O, time and randomness passed in).
 *
 * signal_client.c gathers what libsoup and GIO reported about one attempt
 * (ml_signal_attempt) and asks ml_signal_failure_classify for a verdict:
 * whether another attempt can help (a server that is down or restarting)
 * or not (a wrong address, a TLS mismatch, a refused certificate), with a
 * code and a sentence for the user that says what happened and what to do.
 * ml_signal_backoff_ms gives the wait before the next attempt.
 *
 * Threading: none; every function is pure. */
#ifndef ML_SIGNAL_FAILURE_H
#define ML_SIGNAL_FAILURE_H

#include <stdbool.h>
#include <stddef.h>

#include <gio/gio.h>

/* What one failed attempt showed. */
typedef struct ml_signal_attempt {
  bool tls;                         /* the URL was wss:// */
  bool ever_joined;                 /* an earlier attempt of this client was welcomed */
  bool tcp_connected;               /* the TCP connection was made */
  bool tls_handshake;               /* a TLS handshake began on it */
  unsigned http_status;             /* the server's HTTP answer to the upgrade; 0 none */
  const char *http_reason;          /* its reason phrase; may be NULL */
  GTlsCertificateFlags cert_errors; /* why the certificate was refused; 0 none */
  const GError *error;              /* what GIO or libsoup said; may be NULL */
  const char *host;                 /* host[:port] of the URL, for messages */
} ml_signal_attempt;

typedef struct ml_signal_failure {
  bool retry;       /* another attempt may succeed */
  const char *code; /* "not_found", "http_error", "tls_certificate",
                       "tls_mismatch", "unreachable", "server_error" */
  char text[320];   /* what happened and what to do, one sentence */
} ml_signal_failure;

void ml_signal_failure_classify(const ml_signal_attempt *a, ml_signal_failure *out);

/* The wait before attempt number attempt + 1 (attempt 0: the first retry):
 * min_ms * 2^attempt, capped at max_ms, times jitter (0.75 to 1.25, drawn by
 * the caller, so a restarted server is not met by every client at once). */
unsigned ml_signal_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms, double jitter);

#endif /* ML_SIGNAL_FAILURE_H */
