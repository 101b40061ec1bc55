/* mentorlink — the peer link's keepalive and liveness policy (pure; private
 * to the engine).
 *
 * Decides, from times passed in (monotonic microseconds, as
 * g_get_monotonic_time gives them), when the link must send a KEEPALIVE (it
 * sent nothing for keepalive_ms, so the peer hears from us at least that
 * often) and whether the path is lost: silent for silence_ms (reported once
 * per silence, again silence_ms after each ICE restart) or for
 * path_timeout_ms (the link fails). No GLib, no I/O, no allocation; the
 * caller owns the struct and uses it from one thread.
 */
#ifndef ML_KEEPALIVE_H
#define ML_KEEPALIVE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ml_keepalive_verdict {
  ML_KEEPALIVE_ALIVE,        /* nothing to do */
  ML_KEEPALIVE_PATH_LOST,    /* silent for silence_ms: tell the owner (once per silence) */
  ML_KEEPALIVE_PATH_TIMEOUT, /* silent for path_timeout_ms: the link fails */
} ml_keepalive_verdict;

typedef struct ml_keepalive {
  uint32_t keepalive_ms, silence_ms, path_timeout_ms;
  int64_t last_send_us;    /* last datagram we sent (any kind) */
  int64_t last_recv_us;    /* last authenticated datagram from the peer */
  int64_t silence_from_us; /* silence counts from here (last datagram or ICE restart) */
  bool path_lost_reported;
} ml_keepalive;

/* Sets the periods (all non-zero) and counts the last send from now. */
void ml_keepalive_init(ml_keepalive *k, uint32_t keepalive_ms, uint32_t silence_ms,
                       uint32_t path_timeout_ms, int64_t now_us);

/* We sent a datagram (any kind). */
void ml_keepalive_sent(ml_keepalive *k, int64_t now_us);

/* True when a KEEPALIVE is due now (nothing sent for keepalive_ms); the
 * caller sends it (ml_keepalive_sent). *next_ms: when to ask again. */
bool ml_keepalive_send_due(const ml_keepalive *k, int64_t now_us, uint32_t *next_ms);

/* The link became secure: the peer counts as heard from now. */
void ml_keepalive_secure(ml_keepalive *k, int64_t now_us);

/* An authenticated datagram arrived. Returns true when it ends an outage
 * (secure, and longer than the peer's keepalive period plus 1 s since the
 * previous one). */
bool ml_keepalive_received(ml_keepalive *k, bool secure, int64_t now_us);

/* ICE restart while secure: the new session gets silence_ms again. */
void ml_keepalive_restarted(ml_keepalive *k, int64_t now_us);

/* The liveness decision while secure; PATH_LOST is returned once per
 * silence (ml_keepalive_received and ml_keepalive_restarted re-arm it). */
ml_keepalive_verdict ml_keepalive_check(ml_keepalive *k, int64_t now_us);

/* How often to call ml_keepalive_check, ms. */
uint32_t ml_keepalive_check_interval_ms(const ml_keepalive *k);

/* Milliseconds since the last authenticated datagram. */
uint64_t ml_keepalive_silent_ms(const ml_keepalive *k, int64_t now_us);

#endif /* ML_KEEPALIVE_H */
