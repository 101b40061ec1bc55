/* Unit tests for the verdicts on failed signaling connections and the
 * reconnect backoff (client/engine/signal_failure.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "signal_failure.h"

static ml_signal_failure judge(ml_signal_attempt a) {
  ml_signal_failure f;
  a.host = "signal.example.org:8443";
  ml_signal_failure_classify(&a, &f);
  return f;
}

static void http_answers(void **state) {
  (void)state;
  ml_signal_failure f = judge((ml_signal_attempt){.tcp_connected = true, .http_status = 404});
  assert_false(f.retry);
  assert_string_equal(f.code, "not_found");
  assert_non_null(strstr(f.text, "/v1/ws"));
  f = judge((ml_signal_attempt){.tcp_connected = true, .http_status = 403, .http_reason = "No"});
  assert_false(f.retry);
  assert_string_equal(f.code, "http_error");
  assert_non_null(strstr(f.text, "403 No"));
  f = judge((ml_signal_attempt){.tcp_connected = true, .http_status = 503});
  assert_true(f.retry); /* a server restarting behind a proxy */
  assert_string_equal(f.code, "server_error");
}

static void certificate_reasons(void **state) {
  (void)state;
  static const struct {
    GTlsCertificateFlags flags;
    const char *words;
  } cases[] = {
      {G_TLS_CERTIFICATE_UNKNOWN_CA, "--ca-file"},
      {G_TLS_CERTIFICATE_BAD_IDENTITY, "another host name"},
      {G_TLS_CERTIFICATE_EXPIRED, "expired"},
      {G_TLS_CERTIFICATE_NOT_ACTIVATED, "date and time"},
      {G_TLS_CERTIFICATE_REVOKED, "revoked"},
      {G_TLS_CERTIFICATE_INSECURE, "insecure"},
      /* several: the one the user can act on first */
      {G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_UNKNOWN_CA, "self-signed"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ml_signal_failure f = judge((ml_signal_attempt){
        .tls = true, .tcp_connected = true, .tls_handshake = true, .cert_errors = cases[i].flags});
    assert_false(f.retry);
    assert_string_equal(f.code, "tls_certificate");
    assert_non_null(strstr(f.text, cases[i].words));
  }
}

static void scheme_mismatch_only_before_the_first_join(void **state) {
  (void)state;
  char timed_out[] = "Socket I/O timed out", reset_by_peer[] = "Connection reset by peer";
  GError timeout = {G_IO_ERROR, G_IO_ERROR_TIMED_OUT, timed_out};
  ml_signal_failure f = judge((ml_signal_attempt){
      .tls = true, .tcp_connected = true, .tls_handshake = true, .error = &timeout});
  assert_false(f.retry);
  assert_string_equal(f.code, "tls_mismatch");
  assert_non_null(strstr(f.text, "use ws://"));
  GError reset = {G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, reset_by_peer};
  f = judge((ml_signal_attempt){.tcp_connected = true, .error = &reset});
  assert_false(f.retry);
  assert_string_equal(f.code, "tls_mismatch");
  assert_non_null(strstr(f.text, "use wss://"));
  /* The same after a welcome: the scheme was right, the server went away. */
  f = judge((ml_signal_attempt){.ever_joined = true, .tcp_connected = true, .error = &reset});
  assert_true(f.retry);
  assert_string_equal(f.code, "unreachable");
}

static void unreachable_is_retried(void **state) {
  (void)state;
  char connection_refused[] = "Connection refused";
  GError refused = {G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, connection_refused};
  ml_signal_failure f = judge((ml_signal_attempt){.tls = true, .error = &refused});
  assert_true(f.retry);
  assert_string_equal(f.code, "unreachable");
  assert_non_null(strstr(f.text, "Connection refused"));
  f = judge((ml_signal_attempt){0});
  assert_true(f.retry);
}

static void backoff_doubles_to_the_cap(void **state) {
  (void)state;
  assert_int_equal(ml_signal_backoff_ms(0, 500, 30000, 1.0), 500);
  assert_int_equal(ml_signal_backoff_ms(1, 500, 30000, 1.0), 1000);
  assert_int_equal(ml_signal_backoff_ms(5, 500, 30000, 1.0), 16000);
  assert_int_equal(ml_signal_backoff_ms(6, 500, 30000, 1.0), 30000);
  assert_int_equal(ml_signal_backoff_ms(1000, 500, 30000, 1.0), 30000);
  assert_int_equal(ml_signal_backoff_ms(0, 500, 30000, 0.75), 375);
  assert_int_equal(ml_signal_backoff_ms(0, 500, 30000, 1.25), 625);
  /* jitter outside its range is clamped */
  assert_int_equal(ml_signal_backoff_ms(0, 500, 30000, 9.0), 625);
  assert_int_equal(ml_signal_backoff_ms(0, 500, 30000, -1.0), 375);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, http_answers, certificate_reasons,
             scheme_mismatch_only_before_the_first_join, unreachable_is_retried,
             backoff_doubles_to_the_cap)
