/* Verdicts on failed signaling connections (see signal_failure.h). */
#include "signal_failure.h"

#include <stdio.h>

#include <libsoup/soup.h>

/* The first reason a certificate was refused, in words, with the fix. */
static const char *cert_reason(GTlsCertificateFlags f) {
  if (f & G_TLS_CERTIFICATE_UNKNOWN_CA)
    return "it is self-signed or signed by an authority this machine does not trust; if the "
           "hospital has its own CA, give it with --ca-file FILE";
  if (f & G_TLS_CERTIFICATE_BAD_IDENTITY)
    return "it was issued for another host name; use the name the certificate was made for";
  if (f & G_TLS_CERTIFICATE_EXPIRED)
    return "it has expired; the server's administrator must renew it";
  if (f & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    return "it is not valid yet; check this machine's date and time";
  if (f & G_TLS_CERTIFICATE_REVOKED)
    return "it has been revoked; the server's administrator must replace it";
  if (f & G_TLS_CERTIFICATE_INSECURE)
    return "it uses an insecure algorithm; the server's administrator must replace it";
  return "it did not verify";
}

static void verdict(ml_signal_failure *out, bool retry, const char *code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static void verdict(ml_signal_failure *out, bool retry, const char *code, const char *fmt, ...) {
  out->retry = retry;
  out->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->text, sizeof out->text, fmt, ap);
  va_end(ap);
}

void ml_signal_failure_classify(const ml_signal_attempt *a, ml_signal_failure *out) {
  const char *host = a->host ? a->host : "the server";
  const char *why = a->error ? a->error->message : "the connection failed";
  const char *phrase = a->http_reason ? a->http_reason : "";
  if (a->cert_errors) {
    verdict(out, false, "tls_certificate", "the certificate of %s was refused: %s", host,
            cert_reason(a->cert_errors));
  } else if (a->http_status == SOUP_STATUS_NOT_FOUND) {
    verdict(out, false, "not_found",
            "%s answered 404 Not Found: the signaling address ends in /v1/ws (for example "
            "wss://%s/v1/ws)",
            host, host);
  } else if (a->http_status >= 500) {
    verdict(out, true, "server_error", "%s answered HTTP %u %s", host, a->http_status, phrase);
  } else if (a->http_status >= 300 && a->http_status != SOUP_STATUS_SWITCHING_PROTOCOLS) {
    verdict(out, false, "http_error",
            "%s answered HTTP %u %s instead of opening a WebSocket: check the address (it "
            "ends in /v1/ws)",
            host, a->http_status, phrase);
  } else if (!a->ever_joined && a->tls && a->tls_handshake && !a->http_status) {
    /* A plain server reads the TLS hello as a request that never ends. */
    verdict(out, false, "tls_mismatch",
            "%s did not complete a TLS handshake (%s): if it runs without TLS (a clinic LAN), "
            "use ws:// instead of wss://",
            host, why);
  } else if (!a->ever_joined && !a->tls && a->tcp_connected && !a->http_status) {
    /* A TLS server drops a plain HTTP request. */
    verdict(out, false, "tls_mismatch",
            "%s closed the connection without answering (%s): if it uses TLS, use wss:// "
            "instead of ws://",
            host, why);
  } else {
    verdict(out, true, "unreachable", "cannot reach %s: %s", host, why);
  }
}

unsigned ml_signal_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms, double jitter) {
  guint64 delay = min_ms;
  for (unsigned i = 0; i < attempt && delay < max_ms; i++)
    delay *= 2;
  if (delay > max_ms)
    delay = max_ms;
  if (jitter < 0.75)
    jitter = 0.75;
  if (jitter > 1.25)
    jitter = 1.25;
  return (unsigned)((double)delay * jitter);
}
