/* mentorlink — the secure datagram channel between two peers.
 *
 * Built on the two transport keys of a finished Noise handshake. Every datagram
 * is ChaCha20-Poly1305 (IETF) under the current epoch's key with an explicit
 * 64-bit counter carried in the header (nonce = 32 zero bits || counter
 * little-endian, as in Noise), the 12-byte header as associated data, and the
 * inner type byte inside the ciphertext (see ml/datagram.h).
 *
 * Rekeying: each direction advances its epoch on its own, after
 * rekey_after_messages datagrams or rekey_after_ms with one key, or on
 * ml_channel_rekey(). The next key is Noise's Rekey() of the current one, so the
 * receiver derives it from the epoch byte alone, up to ML_CHANNEL_MAX_EPOCH_AHEAD
 * epochs ahead of its own (so a path outage of several rekey periods is
 * survived); it keeps the previous epoch's key for epoch_overlap_ms so
 * datagrams reordered across the change still open.
 * Counters never restart across epochs: one replay window covers them all.
 *
 * Keys live in sodium_malloc memory and are wiped when replaced or freed.
 * Threading: one thread at a time per channel (seal and open share no state
 * but the clock, yet the struct is not locked).
 */
#ifndef ML_CHANNEL_H
#define ML_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "ml/datagram.h"
#include "ml/error.h"
#include "ml/noise.h"

/* WireGuard's limits, a fair model (brief): rekey after 2^60 messages or 120 s. */
#define ML_CHANNEL_REKEY_AFTER_MESSAGES (UINT64_C(1) << 60)
#define ML_CHANNEL_REKEY_AFTER_MS UINT64_C(120000)
#define ML_CHANNEL_EPOCH_OVERLAP_MS UINT64_C(10000)
/* How many epochs the receiver derives ahead of its own: at 120 s an epoch,
 * an outage of up to 8 minutes needs no new handshake. */
#define ML_CHANNEL_MAX_EPOCH_AHEAD 4
/* The last counter the channel will use; past it the channel is spent. */
#define ML_CHANNEL_COUNTER_LIMIT (UINT64_MAX - (UINT64_C(1) << 13))

/* Milliseconds on a monotonic clock. */
typedef uint64_t (*ml_clock_cb)(void *user);

typedef struct ml_channel_config {
  uint64_t rekey_after_messages; /* 0 selects ML_CHANNEL_REKEY_AFTER_MESSAGES */
  uint64_t rekey_after_ms;       /* 0 selects ML_CHANNEL_REKEY_AFTER_MS */
  uint64_t epoch_overlap_ms;     /* 0 selects ML_CHANNEL_EPOCH_OVERLAP_MS */
  ml_clock_cb clock;             /* NULL selects CLOCK_MONOTONIC */
  void *clock_user;
} ml_channel_config;

typedef struct ml_channel_stats {
  uint64_t sealed;
  uint64_t opened;
  uint64_t dropped_malformed; /* framing or inner type invalid */
  uint64_t dropped_auth;      /* tag did not verify (tampered, wrong key, unknown epoch) */
  uint64_t dropped_replay;    /* duplicate or older than the window */
  uint8_t send_epoch;
  uint8_t recv_epoch;
} ml_channel_stats;

typedef struct ml_channel ml_channel;

/* Creates a channel from raw 32-byte transport keys (copied). cfg may be NULL
 * for the defaults. */
int ml_channel_new(ml_channel **out, const uint8_t send_key[ML_NOISE_KEY_LEN],
                   const uint8_t recv_key[ML_NOISE_KEY_LEN],
                   const ml_channel_config *cfg) ML_MUST_CHECK;

/* Creates a channel from the CipherStates of ml_noise_handshake_split (their
 * keys are copied; the caller still frees them). The CipherStates must not
 * have encrypted anything: the channel's counters start again at 0. */
int ml_channel_new_from_noise(ml_channel **out, const ml_noise_cipher *send,
                              const ml_noise_cipher *recv,
                              const ml_channel_config *cfg) ML_MUST_CHECK;

/* Seals payload as one transport datagram into out (cap at least
 * len + ML_DATAGRAM_TRANSPORT_OVERHEAD); payload may overlap out (e.g.
 * already sit at out + ML_DATAGRAM_TRANSPORT_HEADER_LEN + 1). Errors:
 * ML_ERR_TOO_BIG (len > ML_DATAGRAM_MAX_PAYLOAD), ML_ERR_BUFFER,
 * ML_ERR_INVALID (bad type),
 * ML_ERR_STATE (counter space spent: run a new handshake). */
int ml_channel_seal(ml_channel *ch, ml_inner_type type, const uint8_t *payload, size_t len,
                    uint8_t *out, size_t out_cap, size_t *out_len) ML_MUST_CHECK;

/* Opens one datagram from the network (untrusted, any length). On success
 * writes the inner type and payload. Errors (all leave the channel as it
 * was, and count in the stats): ML_ERR_TOO_BIG, ML_ERR_UNSUPPORTED,
 * ML_ERR_PROTOCOL (framing, a handshake datagram, or an unknown inner type
 * after decryption), ML_ERR_CRYPTO (tag, or no key for that epoch),
 * ML_ERR_REPLAY (seen, older than the window, or a counter past
 * ML_CHANNEL_COUNTER_LIMIT); ML_ERR_BUFFER when payload_cap is too small
 * (not counted; the datagram is not consumed and may be opened again).
 * The only change not caused by a successful open: once epoch_overlap_ms
 * has passed, the previous epoch's key is wiped, whatever the datagram. */
int ml_channel_open(ml_channel *ch, const uint8_t *datagram, size_t len, ml_inner_type *type,
                    uint8_t *payload, size_t payload_cap, size_t *payload_len) ML_MUST_CHECK;

/* Advances the send epoch now (e.g. on a user's request or a policy event). */
void ml_channel_rekey(ml_channel *ch);

void ml_channel_get_stats(const ml_channel *ch, ml_channel_stats *out);

void ml_channel_free(ml_channel *ch);

#endif /* ML_CHANNEL_H */
