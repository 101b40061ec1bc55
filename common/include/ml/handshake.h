/* mentorlink — the handshake that turns a path to one peer into a secure
 * channel, without the path (docs/PROTOCOL.md, "The handshake on the ICE
 * path", byte by byte).
 *
 * Noise XX (XXpsk3 with a room secret) over handshake datagrams, the identity
 * binding (messages 2 and 3 carry the sender's Ed25519 key, which must map to
 * the static key Noise proved), the key split into an ml_channel, the key
 * confirmation, retransmission (same bytes, never re-encrypted), the
 * deadline and the bounded retries with fresh ephemeral keys.
 *
 * Transport-free: no sockets, no libnice, no GLib. The owner feeds it the
 * handshake datagrams that arrive (ml_handshake_receive) and calls
 * ml_handshake_tick at ml_handshake_next_tick; times are monotonic
 * microseconds passed in (g_get_monotonic_time's clock in the client). Every
 * call fills an ml_handshake_out: first send its datagram (if any), then act
 * on its event.
 *
 * Threading: an ml_handshake belongs to one thread; nothing is global.
 * Ownership: the configuration's identity is borrowed and must outlive the
 * handshake; the PSK and prologue are copied (the PSK into sodium_malloc
 * memory, wiped on free).
 */
#ifndef ML_HANDSHAKE_H
#define ML_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/channel.h"
#include "ml/datagram.h"
#include "ml/error.h"
#include "ml/identity.h"
#include "ml/noise.h"

/* Defaults for the configuration fields left at 0. */
#define ML_HANDSHAKE_TIMEOUT_MS 10000 /* deadline of one attempt */
#define ML_HANDSHAKE_RTO_MS 250       /* first retransmission; doubles, capped at 2 s */
#define ML_HANDSHAKE_ATTEMPTS 3
#define ML_HANDSHAKE_RTO_CAP_MS 2000
#define ML_HANDSHAKE_BACKOFF_MS 1000 /* before the 2nd attempt; doubles */
#define ML_HANDSHAKE_MAX_PROLOGUE_PART 256
/* "mentorlink/1" and three u16-prefixed parts. */
#define ML_HANDSHAKE_PROLOGUE_MAX (12 + 3 * (2 + ML_HANDSHAKE_MAX_PROLOGUE_PART))
/* ml_handshake_next_tick when no timer runs. */
#define ML_HANDSHAKE_NEVER INT64_MAX

typedef struct ml_handshake ml_handshake;

/* Where the handshake is. FAILED is final; DONE stays (it still answers a
 * duplicate of message 3). */
typedef enum ml_handshake_phase {
  ML_HANDSHAKE_IDLE,      /* no attempt running (not started, or between attempts) */
  ML_HANDSHAKE_WAIT_MSG2, /* initiator sent message 1 */
  ML_HANDSHAKE_CONFIRM,   /* initiator sent message 3, has the keys, awaits confirmation */
  ML_HANDSHAKE_WAIT_MSG3, /* responder sent message 2 */
  ML_HANDSHAKE_DONE,      /* secure */
  ML_HANDSHAKE_FAILED,    /* given up for good, or aborted by the owner */
} ml_handshake_phase;

/* "idle", "wait-msg2", ...; never NULL. */
const char *ml_handshake_phase_name(ml_handshake_phase phase);

typedef enum ml_handshake_event {
  ML_HANDSHAKE_EV_PENDING, /* nothing decided */
  /* Initiator with key confirmation: message 3 is out, channel holds the
   * keys. Open transport datagrams with it; call ml_handshake_confirm on the
   * first that authenticates. Send nothing of our own on it until then. */
  ML_HANDSHAKE_EV_KEYS,
  /* Finished: channel holds the keys (responder; initiator without key
   * confirmation). The peer's identity and the hash are available. */
  ML_HANDSHAKE_EV_DONE,
  /* This attempt failed (err, what); a new one follows by itself. A channel
   * handed out with EV_KEYS belongs to the failed attempt: free it. */
  ML_HANDSHAKE_EV_RETRY,
  /* Failed for good (err, what): trying again cannot help, or the attempts
   * are spent. As for EV_RETRY, a channel from EV_KEYS is void. */
  ML_HANDSHAKE_EV_FAILED,
  /* Not a failure, something the owner should hear (err, what): a message 1
   * of the other pattern's length (one side has a room secret, the other
   * none). Unauthenticated, so said once; the attempt runs to its deadline. */
  ML_HANDSHAKE_EV_HINT,
} ml_handshake_event;

typedef struct ml_handshake_out {
  /* A handshake datagram to send now, or NULL. Owned by the handshake, valid
   * until its next call. */
  const uint8_t *datagram;
  size_t datagram_len;
  /* Key confirmation: send one transport datagram (a KEEPALIVE) under the
   * channel's keys now (responder, on DONE and on a duplicate of message 3). */
  bool send_confirmation;
  ml_handshake_event event;
  int err;             /* EV_RETRY, EV_FAILED, EV_HINT: an ml_err */
  const char *what;    /* EV_RETRY, EV_FAILED, EV_HINT: a static English sentence */
  ml_channel *channel; /* EV_KEYS, EV_DONE: (transfer full) ml_channel_free */
} ml_handshake_out;

typedef struct ml_handshake_config {
  const ml_identity *identity; /* required, borrowed */
  bool initiator;              /* Noise initiator (sends message 1) */
  /* Room secret after Argon2id (ML_NOISE_KEY_LEN bytes, copied) for
   * Noise_XXpsk3; NULL for Noise_XX. */
  const uint8_t *psk;
  /* true: the initiator is DONE only on ml_handshake_confirm and the
   * responder asks for a confirmation (the ICE path's rule). false: both are
   * DONE as soon as they hold the keys, and nothing confirms. */
  bool key_confirmation;
  uint32_t timeout_ms; /* 0 selects ML_HANDSHAKE_TIMEOUT_MS */
  uint32_t rto_ms;     /* 0 selects ML_HANDSHAKE_RTO_MS */
  unsigned attempts;   /* 0 selects ML_HANDSHAKE_ATTEMPTS */
} ml_handshake_config;

typedef struct ml_handshake_stats {
  uint64_t retransmits; /* handshake datagrams sent again (timer or duplicate) */
  uint64_t dropped;     /* handshake datagrams ignored (duplicates, stale, wrong index, bad) */
} ml_handshake_stats;

/* Creates an idle handshake (transfer full: ml_handshake_free). Errors:
 * ML_ERR_NOMEM. */
int ml_handshake_new(ml_handshake **out, const ml_handshake_config *cfg) ML_MUST_CHECK;

/* Wipes and frees; NULL does nothing. */
void ml_handshake_free(ml_handshake *hs);

/* The prologue both sides bind (copied). An attempt begins only once one is
 * set; NULL forgets it. ML_ERR_TOO_BIG beyond ML_HANDSHAKE_PROLOGUE_MAX. */
int ml_handshake_set_prologue(ml_handshake *hs, const uint8_t *prologue, size_t len) ML_MUST_CHECK;

/* The ICE path's prologue: "mentorlink/1" || u16 len || room_id ||
 * u16 len || initiator_ufrag || u16 len || responder_ufrag. out must hold
 * ML_HANDSHAKE_PROLOGUE_MAX bytes. ML_ERR_TOO_BIG when a part is longer than
 * ML_HANDSHAKE_MAX_PROLOGUE_PART. */
int ml_handshake_ice_prologue(const char *room_id, const char *initiator_ufrag,
                              const char *responder_ufrag, uint8_t out[ML_HANDSHAKE_PROLOGUE_MAX],
                              size_t *out_len) ML_MUST_CHECK;

/* The path is up. Initiator: begins the first attempt (sends message 1;
 * FAILED "cannot start the handshake" without a prologue). Responder: the
 * deadline for message 1 starts, if no attempt runs. */
void ml_handshake_start(ml_handshake *hs, int64_t now_us, ml_handshake_out *out);

/* One datagram from the peer (untrusted bytes, any length). Only handshake
 * datagrams mean anything; everything else is dropped and counted. The
 * responder needs no ml_handshake_start to answer a message 1. */
void ml_handshake_receive(ml_handshake *hs, const uint8_t *datagram, size_t len, int64_t now_us,
                          ml_handshake_out *out);

/* Runs the timers due at now_us (the deadline wins a tie with a
 * retransmission). Calling it early does nothing. */
void ml_handshake_tick(ml_handshake *hs, int64_t now_us, ml_handshake_out *out);

/* When ml_handshake_tick is next due; ML_HANDSHAKE_NEVER for no timer. */
int64_t ml_handshake_next_tick(const ml_handshake *hs);

/* Initiator in CONFIRM: a transport datagram authenticated under the keys of
 * EV_KEYS; the handshake is DONE. Does nothing in any other phase. */
void ml_handshake_confirm(ml_handshake *hs);

/* A new path session (ICE restart): forgets the prologue and abandons an
 * attempt in progress (not counted as a failure); a DONE handshake stays
 * DONE. Set the new session's prologue before the next attempt. */
void ml_handshake_new_session(ml_handshake *hs);

/* The owner gave up for a reason of its own: FAILED, timers stopped. */
void ml_handshake_abort(ml_handshake *hs);

ml_handshake_phase ml_handshake_get_phase(const ml_handshake *hs);

/* Our last handshake datagram (to send again after the path refused it);
 * NULL with *len 0 when there is none. Owned by the handshake. */
const uint8_t *ml_handshake_last_sent(const ml_handshake *hs, size_t *len);

/* From EV_KEYS or EV_DONE on: the handshake hash (ML_NOISE_HASH_LEN bytes) and the
 * peer's Ed25519 key (ML_IDENTITY_PUBLIC_LEN bytes), owned by hs. */
const uint8_t *ml_handshake_hash(const ml_handshake *hs);
const uint8_t *ml_handshake_peer_identity(const ml_handshake *hs);

void ml_handshake_get_stats(const ml_handshake *hs, ml_handshake_stats *out);

#endif /* ML_HANDSHAKE_H */
