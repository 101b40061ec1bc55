/* mentorlink — the handshake on a path to one peer (see ml/handshake.h and
 * docs/PROTOCOL.md, "The handshake on the ICE path"). */
#include "ml/handshake.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "handshake_internal.h"
#include "ml/bytes.h"
#include "ml/verify.h"

#define PROTO_XX "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define PROTO_XXPSK3 "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b"
#define PROLOGUE_LABEL "mentorlink/1"
#define NOISE_MSG1_LEN_XX 32     /* e, empty payload */
#define NOISE_MSG1_LEN_XXPSK3 48 /* e, empty payload with its tag (psk: e is keyed) */

struct ml_handshake {
  const ml_identity *identity;
  bool initiator, key_confirmation;
  uint8_t *psk; /* sodium_malloc, or NULL for plain XX */
  uint32_t timeout_ms, rto_ms;
  unsigned attempts;
  uint8_t prologue[ML_HANDSHAKE_PROLOGUE_MAX];
  size_t prologue_len;
  bool have_prologue;

  ml_handshake_phase phase;
  ml_noise_handshake *noise;
  uint8_t last_sent[ML_DATAGRAM_MAX]; /* our last handshake datagram, for retransmission */
  size_t last_sent_len;
  uint8_t last_recv[ML_DATAGRAM_MAX]; /* the peer's last accepted one, to spot duplicates */
  size_t last_recv_len;
  uint32_t rto_cur_ms;
  unsigned failures;     /* attempts that failed since the last DONE */
  bool pattern_mismatch; /* a message 1 of the other pattern's length arrived */
  int64_t rtx_at, deadline_at, retry_at;

  uint8_t hash[ML_NOISE_HASH_LEN];
  uint8_t peer_identity[ML_IDENTITY_PUBLIC_LEN];
  ml_handshake_stats stats;

  bool have_test_ephemeral;
  uint8_t test_ephemeral[ML_NOISE_KEY_LEN];
};

const char *ml_handshake_phase_name(ml_handshake_phase phase) {
  switch (phase) {
  case ML_HANDSHAKE_IDLE: return "idle";
  case ML_HANDSHAKE_WAIT_MSG2: return "wait-msg2";
  case ML_HANDSHAKE_CONFIRM: return "confirm";
  case ML_HANDSHAKE_WAIT_MSG3: return "wait-msg3";
  case ML_HANDSHAKE_DONE: return "done";
  case ML_HANDSHAKE_FAILED: return "failed";
  }
  return "unknown";
}

static void set_phase(ml_handshake *hs, ml_handshake_phase phase) { hs->phase = phase; }

int ml_handshake_new(ml_handshake **out, const ml_handshake_config *cfg) {
  assert(out && cfg && cfg->identity);
  ml_handshake *hs = calloc(1, sizeof *hs);
  if (!hs)
    return ML_ERR_NOMEM;
  if (cfg->psk) {
    hs->psk = sodium_malloc(ML_NOISE_KEY_LEN);
    if (!hs->psk) {
      free(hs);
      return ML_ERR_NOMEM;
    }
    memcpy(hs->psk, cfg->psk, ML_NOISE_KEY_LEN);
  }
  hs->identity = cfg->identity;
  hs->initiator = cfg->initiator;
  hs->key_confirmation = cfg->key_confirmation;
  hs->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : ML_HANDSHAKE_TIMEOUT_MS;
  hs->rto_ms = cfg->rto_ms ? cfg->rto_ms : ML_HANDSHAKE_RTO_MS;
  hs->attempts = cfg->attempts ? cfg->attempts : ML_HANDSHAKE_ATTEMPTS;
  hs->rtx_at = hs->deadline_at = hs->retry_at = ML_HANDSHAKE_NEVER;
  set_phase(hs, ML_HANDSHAKE_IDLE);
  *out = hs;
  return ML_OK;
}

void ml_handshake_free(ml_handshake *hs) {
  if (!hs)
    return;
  ml_noise_handshake_free(hs->noise);
  if (hs->psk)
    sodium_free(hs->psk);
  sodium_memzero(hs, sizeof *hs);
  free(hs);
}

int ml_handshake_set_prologue(ml_handshake *hs, const uint8_t *prologue, size_t len) {
  assert(hs);
  if (!prologue) {
    hs->have_prologue = false;
    hs->prologue_len = 0;
    return ML_OK;
  }
  if (len > sizeof hs->prologue)
    return ML_ERR_TOO_BIG;
  memcpy(hs->prologue, prologue, len);
  hs->prologue_len = len;
  hs->have_prologue = true;
  return ML_OK;
}

int ml_handshake_ice_prologue(const char *room_id, const char *initiator_ufrag,
                              const char *responder_ufrag, uint8_t out[ML_HANDSHAKE_PROLOGUE_MAX],
                              size_t *out_len) {
  assert(room_id && initiator_ufrag && responder_ufrag && out && out_len);
  const char *parts[3] = {room_id, initiator_ufrag, responder_ufrag};
  ml_writer w = ml_writer_init(out, ML_HANDSHAKE_PROLOGUE_MAX);
  ml_writer_bytes(&w, PROLOGUE_LABEL, strlen(PROLOGUE_LABEL));
  for (int i = 0; i < 3; i++) {
    size_t l = strnlen(parts[i], ML_HANDSHAKE_MAX_PROLOGUE_PART + 1);
    if (l > ML_HANDSHAKE_MAX_PROLOGUE_PART)
      return ML_ERR_TOO_BIG;
    ml_writer_u16(&w, (uint16_t)l);
    ml_writer_bytes(&w, parts[i], l);
  }
  assert(!w.failed);
  *out_len = w.pos;
  return ML_OK;
}

void ml_handshake_test_set_ephemeral(ml_handshake *hs,
                                     const uint8_t private_key[ML_NOISE_KEY_LEN]) {
  memcpy(hs->test_ephemeral, private_key, ML_NOISE_KEY_LEN);
  hs->have_test_ephemeral = true;
}

/* ---- one attempt ------------------------------------------------------ */

static void out_reset(ml_handshake_out *out) { memset(out, 0, sizeof *out); }

/* Ends the current attempt's Noise state and timers. */
static void stop(ml_handshake *hs) {
  hs->rtx_at = hs->deadline_at = hs->retry_at = ML_HANDSHAKE_NEVER;
  ml_noise_handshake_free(hs->noise);
  hs->noise = NULL;
}

/* A fresh Noise handshake (fresh ephemeral key) over the current prologue. */
static int begin(ml_handshake *hs) {
  if (!hs->have_prologue)
    return ML_ERR_STATE;
  uint8_t s_priv[ML_IDENTITY_X25519_LEN];
  ml_identity_noise_private(hs->identity, s_priv);
  const uint8_t(*psks)[ML_NOISE_KEY_LEN] = (const uint8_t(*)[ML_NOISE_KEY_LEN])hs->psk;
  ml_noise_config cfg = {
      .protocol_name = hs->psk ? PROTO_XXPSK3 : PROTO_XX,
      .role = hs->initiator ? ML_NOISE_INITIATOR : ML_NOISE_RESPONDER,
      .prologue = hs->prologue,
      .prologue_len = hs->prologue_len,
      .local_static_private = s_priv,
      .psks = hs->psk ? psks : NULL,
      .n_psks = hs->psk ? 1 : 0,
  };
  ml_noise_handshake_free(hs->noise);
  hs->noise = NULL;
  int err = ml_noise_handshake_new(&hs->noise, &cfg);
  sodium_memzero(s_priv, sizeof s_priv);
  if (err == ML_OK && hs->have_test_ephemeral)
    err = ml_noise_handshake_set_ephemeral(hs->noise, hs->test_ephemeral);
  return err;
}

/* (Re)sends our last handshake datagram. */
static void send_last(ml_handshake *hs, ml_handshake_out *out) {
  out->datagram = hs->last_sent;
  out->datagram_len = hs->last_sent_len;
}

/* Writes the next handshake message (messages 2 and 3 carry our Ed25519 key)
 * and sends it, keeping a copy for retransmission. */
static int write_message(ml_handshake *hs, uint8_t index, ml_handshake_out *out) {
  uint8_t msg[ML_DATAGRAM_MAX];
  size_t len;
  const uint8_t *pl = index == 0 ? NULL : ml_identity_public_key(hs->identity);
  size_t pl_len = index == 0 ? 0 : ML_IDENTITY_PUBLIC_LEN;
  int err = ml_noise_handshake_write_message(hs->noise, pl, pl_len, msg, sizeof msg, &len);
  if (err)
    return err;
  err = ml_datagram_write_handshake(hs->last_sent, sizeof hs->last_sent, index, msg, len,
                                    &hs->last_sent_len);
  if (err)
    return err;
  send_last(hs, out);
  return ML_OK;
}

/* Identity binding: the payload must be an Ed25519 key whose X25519 form is
 * the static key the peer proved in Noise. */
static int bind_identity(ml_handshake *hs, const uint8_t *payload, size_t len) {
  uint8_t rs[ML_NOISE_KEY_LEN], expect[ML_NOISE_KEY_LEN];
  if (len != ML_IDENTITY_PUBLIC_LEN || ml_noise_handshake_remote_static(hs->noise, rs) != ML_OK ||
      ml_identity_noise_public(payload, expect) != ML_OK ||
      sodium_memcmp(rs, expect, ML_NOISE_KEY_LEN) != 0)
    return ML_ERR_CRYPTO;
  memcpy(hs->peer_identity, payload, ML_IDENTITY_PUBLIC_LEN);
  return ML_OK;
}

/* After the last message: the channel from the split, and the hash. */
static int split(ml_handshake *hs, ml_handshake_out *out) {
  ml_noise_cipher *send = NULL, *recv = NULL;
  int err = ml_noise_handshake_split(hs->noise, &send, &recv);
  if (err)
    return err;
  err = ml_channel_new_from_noise(&out->channel, send, recv, NULL);
  ml_noise_cipher_free(send);
  ml_noise_cipher_free(recv);
  if (err)
    return err;
  memcpy(hs->hash, ml_noise_handshake_hash(hs->noise), ML_NOISE_HASH_LEN);
  return ML_OK;
}

static void done(ml_handshake *hs) {
  stop(hs);
  set_phase(hs, ML_HANDSHAKE_DONE);
  hs->failures = 0;
}

static void report(ml_handshake_out *out, ml_handshake_event event, int err, const char *what) {
  out->event = event;
  out->err = err;
  out->what = what;
}

static void fail(ml_handshake *hs, ml_handshake_out *out, int err, const char *what) {
  stop(hs);
  set_phase(hs, ML_HANDSHAKE_FAILED);
  ml_channel_free(out->channel);
  out->channel = NULL;
  report(out, ML_HANDSHAKE_EV_FAILED, err, what);
}

/* An attempt failed in a way a new attempt may cure (a timeout, a message
 * that did not authenticate, perhaps from a path session that was just
 * replaced): a new handshake with fresh ephemeral keys follows, the
 * initiator's after a backoff of 1 s, 2 s, ... After `attempts` failures
 * the handshake fails for good. */
static void attempt_failed(ml_handshake *hs, ml_handshake_out *out, int err, const char *what,
                           int64_t now_us) {
  if (++hs->failures >= hs->attempts) {
    fail(hs, out, err, what);
    return;
  }
  stop(hs);
  set_phase(hs, ML_HANDSHAKE_IDLE);
  hs->last_recv_len = 0;
  unsigned shift = hs->failures - 1 < 4u ? hs->failures - 1 : 4u;
  int64_t backoff_us = (int64_t)(ML_HANDSHAKE_BACKOFF_MS << shift) * 1000;
  if (hs->initiator)
    hs->retry_at = now_us + backoff_us;
  else /* wait for the initiator's next message 1 */
    hs->deadline_at = now_us + (int64_t)hs->timeout_ms * 1000 + 2 * backoff_us;
  report(out, ML_HANDSHAKE_EV_RETRY, err, what);
}

static const char *pattern_mismatch_text(const ml_handshake *hs) {
  return hs->psk ? "the peer has no room secret and we have one: the handshake cannot succeed"
                 : "the peer has a room secret and we have none: the handshake cannot succeed";
}

static void remember_recv(ml_handshake *hs, const uint8_t *buf, size_t len) {
  memcpy(hs->last_recv, buf, len);
  hs->last_recv_len = len;
}

static bool same_as_last_recv(const ml_handshake *hs, const uint8_t *buf, size_t len) {
  return len == hs->last_recv_len && memcmp(buf, hs->last_recv, len) == 0;
}

static void arm_rtx(ml_handshake *hs, int64_t now_us) {
  hs->rto_cur_ms = hs->rto_ms;
  hs->rtx_at = now_us + (int64_t)hs->rto_cur_ms * 1000;
}

static void initiator_begin(ml_handshake *hs, int64_t now_us, ml_handshake_out *out) {
  int err = begin(hs);
  if (err == ML_OK)
    err = write_message(hs, 0, out);
  if (err) {
    out->datagram = NULL;
    fail(hs, out, err, "cannot start the handshake");
    return;
  }
  set_phase(hs, ML_HANDSHAKE_WAIT_MSG2);
  arm_rtx(hs, now_us);
  hs->deadline_at = now_us + (int64_t)hs->timeout_ms * 1000;
}

void ml_handshake_start(ml_handshake *hs, int64_t now_us, ml_handshake_out *out) {
  assert(hs && out);
  out_reset(out);
  if (hs->initiator)
    initiator_begin(hs, now_us, out);
  else if (hs->phase == ML_HANDSHAKE_IDLE)
    hs->deadline_at = now_us + (int64_t)hs->timeout_ms * 1000; /* wait for message 1 */
}

/* ---- the messages ----------------------------------------------------- */

static void responder_on_msg1(ml_handshake *hs, const uint8_t *dgram, size_t dlen,
                              const ml_datagram *d, int64_t now_us, ml_handshake_out *out) {
  if (hs->phase == ML_HANDSHAKE_WAIT_MSG3 && same_as_last_recv(hs, dgram, dlen)) {
    /* Our message 2 was lost: send it again. */
    hs->stats.retransmits++;
    send_last(hs, out);
    return;
  }
  if (hs->phase != ML_HANDSHAKE_IDLE && hs->phase != ML_HANDSHAKE_WAIT_MSG3) {
    hs->stats.dropped++;
    return;
  }
  if (d->body_len == (hs->psk ? NOISE_MSG1_LEN_XX : NOISE_MSG1_LEN_XXPSK3)) {
    /* The length of the other pattern's message 1: one side has a room
     * secret, the other has none. Unauthenticated, so only a hint (said
     * once; the attempt times out as it would). */
    hs->stats.dropped++;
    if (!hs->pattern_mismatch)
      report(out, ML_HANDSHAKE_EV_HINT, ML_ERR_CRYPTO, pattern_mismatch_text(hs));
    hs->pattern_mismatch = true;
    return;
  }
  /* A first message, or a different one (the initiator started over, e.g.
   * after an ICE restart): (re)start the responder's side. Message 1 is not
   * authenticated, so a bad one is dropped and the current state kept. */
  size_t plen = 0;
  ml_noise_handshake *previous = hs->noise;
  hs->noise = NULL;
  int err = begin(hs);
  if (err == ML_OK) {
    uint8_t payload[ML_DATAGRAM_MAX];
    err = ml_noise_handshake_read_message(hs->noise, d->body, d->body_len, payload, sizeof payload,
                                          &plen);
  }
  if (err || plen != 0) {
    ml_noise_handshake_free(hs->noise);
    hs->noise = previous;
    hs->stats.dropped++; /* malformed, or no prologue yet (it is retransmitted) */
    return;
  }
  if ((err = write_message(hs, 1, out)) == ML_ERR_CRYPTO) {
    /* An ephemeral key no DH can use (e.g. all zeros): as malformed. */
    ml_noise_handshake_free(hs->noise);
    hs->noise = previous;
    hs->stats.dropped++;
    return;
  }
  ml_noise_handshake_free(previous);
  if (err != ML_OK) {
    fail(hs, out, err, "cannot write handshake message 2");
    return;
  }
  remember_recv(hs, dgram, dlen);
  set_phase(hs, ML_HANDSHAKE_WAIT_MSG3);
  hs->deadline_at = now_us + (int64_t)hs->timeout_ms * 1000;
}

static void responder_on_msg3(ml_handshake *hs, const uint8_t *dgram, size_t dlen,
                              const ml_datagram *d, int64_t now_us, ml_handshake_out *out) {
  if (hs->phase == ML_HANDSHAKE_DONE && hs->key_confirmation &&
      same_as_last_recv(hs, dgram, dlen)) {
    /* Our confirmation was lost: confirm again. */
    out->send_confirmation = true;
    return;
  }
  if (hs->phase != ML_HANDSHAKE_WAIT_MSG3) {
    hs->stats.dropped++;
    return;
  }
  uint8_t payload[ML_DATAGRAM_MAX];
  size_t plen;
  int err = ml_noise_handshake_read_message(hs->noise, d->body, d->body_len, payload,
                                            sizeof payload, &plen);
  if (err) {
    /* With XXpsk3 the PSK is mixed in after the peer's static key: when that
     * key decrypted and only the payload did not, the peer holds a different
     * room secret (or the message was altered on the way). That cannot be
     * cured by trying again. */
    uint8_t rs[ML_NOISE_KEY_LEN];
    if (err == ML_ERR_CRYPTO && hs->psk && ml_noise_handshake_remote_static(hs->noise, rs) == ML_OK)
      fail(hs, out, err,
           "the peer's room secret differs from ours (handshake message 3 did not "
           "authenticate after the peer's key did)");
    else
      attempt_failed(hs, out, err,
                     "handshake message 3 did not authenticate: the peer is not the peer it "
                     "claims to be, or uses a room secret we do not",
                     now_us);
    return;
  }
  if (bind_identity(hs, payload, plen) != ML_OK) {
    fail(hs, out, ML_ERR_CRYPTO, "the peer's identity key does not match its handshake key");
    return;
  }
  if ((err = split(hs, out)) != ML_OK) {
    fail(hs, out, err, "cannot derive the channel keys");
    return;
  }
  remember_recv(hs, dgram, dlen);
  done(hs);
  report(out, ML_HANDSHAKE_EV_DONE, ML_OK, NULL);
  /* The confirmation the initiator waits for (any authenticated datagram). */
  out->send_confirmation = hs->key_confirmation;
}

static void initiator_on_msg2(ml_handshake *hs, const uint8_t *dgram, size_t dlen,
                              const ml_datagram *d, int64_t now_us, ml_handshake_out *out) {
  if (hs->phase == ML_HANDSHAKE_CONFIRM && same_as_last_recv(hs, dgram, dlen)) {
    hs->stats.retransmits++;
    send_last(hs, out);
    return;
  }
  if (hs->phase != ML_HANDSHAKE_WAIT_MSG2) {
    hs->stats.dropped++;
    return;
  }
  uint8_t payload[ML_DATAGRAM_MAX];
  size_t plen;
  int err = ml_noise_handshake_read_message(hs->noise, d->body, d->body_len, payload,
                                            sizeof payload, &plen);
  if (err) {
    attempt_failed(hs, out, err,
                   "handshake message 2 did not authenticate: the peer is in a different room or "
                   "ICE session (prologue mismatch), one side has a room secret and the other "
                   "has none, or the message was tampered with",
                   now_us);
    return;
  }
  if (bind_identity(hs, payload, plen) != ML_OK) {
    fail(hs, out, ML_ERR_CRYPTO, "the peer's identity key does not match its handshake key");
    return;
  }
  if ((err = write_message(hs, 2, out)) != ML_OK || (err = split(hs, out)) != ML_OK) {
    fail(hs, out, err, "cannot finish the handshake");
    return;
  }
  remember_recv(hs, dgram, dlen);
  if (!hs->key_confirmation) {
    done(hs);
    report(out, ML_HANDSHAKE_EV_DONE, ML_OK, NULL);
    return;
  }
  set_phase(hs, ML_HANDSHAKE_CONFIRM); /* keys ready; done once the responder answers */
  arm_rtx(hs, now_us);
  report(out, ML_HANDSHAKE_EV_KEYS, ML_OK, NULL);
}

void ml_handshake_receive(ml_handshake *hs, const uint8_t *datagram, size_t len, int64_t now_us,
                          ml_handshake_out *out) {
  assert(hs && out && (datagram || len == 0));
  out_reset(out);
  ml_datagram d;
  if (hs->phase == ML_HANDSHAKE_FAILED || len > ML_DATAGRAM_MAX ||
      ml_datagram_parse(datagram, len, &d) != ML_OK || d.type != ML_DATAGRAM_HANDSHAKE) {
    hs->stats.dropped++;
    return;
  }
  if (hs->initiator && d.handshake_index == 1)
    initiator_on_msg2(hs, datagram, len, &d, now_us, out);
  else if (!hs->initiator && d.handshake_index == 0)
    responder_on_msg1(hs, datagram, len, &d, now_us, out);
  else if (!hs->initiator && d.handshake_index == 2)
    responder_on_msg3(hs, datagram, len, &d, now_us, out);
  else
    hs->stats.dropped++;
}

/* ---- timers ----------------------------------------------------------- */

static void deadline_passed(ml_handshake *hs, int64_t now_us, ml_handshake_out *out) {
  switch (hs->phase) {
  case ML_HANDSHAKE_WAIT_MSG2:
    attempt_failed(hs, out, ML_ERR_IO,
                   "handshake timed out: the peer never answered message 1 (or one side has a "
                   "room secret and the other has none)",
                   now_us);
    break;
  case ML_HANDSHAKE_CONFIRM:
    attempt_failed(hs, out, ML_ERR_CRYPTO,
                   "handshake timed out: the peer never confirmed message 3 (a different room "
                   "secret, or it refused our identity)",
                   now_us);
    break;
  case ML_HANDSHAKE_IDLE:
    attempt_failed(hs, out, hs->pattern_mismatch ? ML_ERR_CRYPTO : ML_ERR_IO,
                   hs->pattern_mismatch ? pattern_mismatch_text(hs)
                                        : "handshake timed out: the peer never sent message 1",
                   now_us);
    break;
  case ML_HANDSHAKE_WAIT_MSG3:
    attempt_failed(hs, out, ML_ERR_IO,
                   "handshake timed out: the peer never sent message 3 (it may have refused our "
                   "message 2: a different room or ICE session)",
                   now_us);
    break;
  case ML_HANDSHAKE_DONE:
  case ML_HANDSHAKE_FAILED: break;
  }
}

void ml_handshake_tick(ml_handshake *hs, int64_t now_us, ml_handshake_out *out) {
  assert(hs && out);
  out_reset(out);
  if (hs->deadline_at <= now_us) {
    hs->deadline_at = ML_HANDSHAKE_NEVER;
    deadline_passed(hs, now_us, out);
  } else if (hs->retry_at <= now_us) {
    hs->retry_at = ML_HANDSHAKE_NEVER;
    if (hs->initiator && hs->phase == ML_HANDSHAKE_IDLE)
      initiator_begin(hs, now_us, out);
  } else if (hs->rtx_at <= now_us) {
    hs->rtx_at = ML_HANDSHAKE_NEVER;
    if (hs->phase == ML_HANDSHAKE_WAIT_MSG2 || hs->phase == ML_HANDSHAKE_CONFIRM) {
      hs->stats.retransmits++;
      send_last(hs, out);
      uint32_t next = hs->rto_cur_ms * 2;
      hs->rto_cur_ms = next < ML_HANDSHAKE_RTO_CAP_MS ? next : ML_HANDSHAKE_RTO_CAP_MS;
      hs->rtx_at = now_us + (int64_t)hs->rto_cur_ms * 1000;
    }
  }
}

int64_t ml_handshake_next_tick(const ml_handshake *hs) {
  int64_t t = hs->rtx_at;
  if (hs->deadline_at < t)
    t = hs->deadline_at;
  if (hs->retry_at < t)
    t = hs->retry_at;
  return t;
}

/* ---- owner's events and queries --------------------------------------- */

void ml_handshake_confirm(ml_handshake *hs) {
  if (hs->phase == ML_HANDSHAKE_CONFIRM)
    done(hs);
}

void ml_handshake_new_session(ml_handshake *hs) {
  hs->have_prologue = false;
  hs->prologue_len = 0;
  if (hs->phase == ML_HANDSHAKE_DONE || hs->phase == ML_HANDSHAKE_FAILED)
    return;
  stop(hs);
  set_phase(hs, ML_HANDSHAKE_IDLE);
  hs->last_recv_len = 0;
}

void ml_handshake_abort(ml_handshake *hs) {
  stop(hs);
  set_phase(hs, ML_HANDSHAKE_FAILED);
}

ml_handshake_phase ml_handshake_get_phase(const ml_handshake *hs) { return hs->phase; }

const uint8_t *ml_handshake_last_sent(const ml_handshake *hs, size_t *len) {
  *len = hs->last_sent_len;
  return hs->last_sent_len ? hs->last_sent : NULL;
}

const uint8_t *ml_handshake_hash(const ml_handshake *hs) { return hs->hash; }

const uint8_t *ml_handshake_peer_identity(const ml_handshake *hs) { return hs->peer_identity; }

void ml_handshake_get_stats(const ml_handshake *hs, ml_handshake_stats *out) { *out = hs->stats; }
