/* The secure datagram channel (contract in ml/channel.h, wire format in
 * docs/PROTOCOL.md).
 *
 * The whole channel lives in one sodium_malloc block: the keys, and the
 * scratch buffer that briefly holds decrypted plaintext. Keys are overwritten
 * in place when they advance and wiped when dropped; sodium_free wipes the
 * rest. */
#include "ml/channel.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "channel_internal.h"
#include "ml/replay.h"

#define NONCE_LEN crypto_aead_chacha20poly1305_ietf_NPUBBYTES

struct ml_channel {
  uint8_t send_key[ML_NOISE_KEY_LEN];
  uint8_t recv_key[ML_NOISE_KEY_LEN];
  uint8_t prev_key[ML_NOISE_KEY_LEN]; /* recv key of epoch recv_epoch - 1, during the overlap */
  uint8_t next_key[ML_NOISE_KEY_LEN]; /* candidate recv key of a later epoch, during one open */
  uint8_t next_prev_key[ML_NOISE_KEY_LEN]; /* the key of the epoch just before the candidate */
  uint8_t scratch[ML_DATAGRAM_MAX];        /* decrypted inner type byte + payload */

  uint64_t rekey_after_messages;
  uint64_t rekey_after_ms;
  uint64_t epoch_overlap_ms;
  ml_clock_cb clock;
  void *clock_user;

  /* Send direction. */
  uint64_t send_counter;      /* the next counter to use */
  uint64_t send_key_messages; /* datagrams sealed with send_key */
  uint64_t send_key_since_ms; /* when send_key came into use */
  uint8_t send_epoch;

  /* Receive direction. */
  uint8_t recv_epoch;
  bool prev_valid;
  uint64_t prev_until_ms; /* prev_key is dropped at this time */
  ml_replay replay;       /* one window across all epochs: counters never restart */

  ml_channel_stats stats;
};

static uint64_t monotonic_ms(void *user) {
  (void)user;
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_ms(const ml_channel *ch) { return ch->clock(ch->clock_user); }

/* Noise's nonce encoding: 32 zero bits, then the counter little-endian. */
static void make_nonce(uint8_t nonce[NONCE_LEN], uint64_t counter) {
  memset(nonce, 0, 4);
  for (size_t i = 0; i < 8; i++)
    nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static int channel_alloc(ml_channel **out, const ml_channel_config *cfg) {
  if (sodium_init() < 0)
    return ML_ERR_CRYPTO;
  ml_channel *ch = sodium_malloc(sizeof *ch);
  if (!ch)
    return ML_ERR_NOMEM;
  memset(ch, 0, sizeof *ch);
  ml_channel_config def = {0};
  if (!cfg)
    cfg = &def;
  ch->rekey_after_messages =
      cfg->rekey_after_messages ? cfg->rekey_after_messages : ML_CHANNEL_REKEY_AFTER_MESSAGES;
  ch->rekey_after_ms = cfg->rekey_after_ms ? cfg->rekey_after_ms : ML_CHANNEL_REKEY_AFTER_MS;
  ch->epoch_overlap_ms =
      cfg->epoch_overlap_ms ? cfg->epoch_overlap_ms : ML_CHANNEL_EPOCH_OVERLAP_MS;
  ch->clock = cfg->clock ? cfg->clock : monotonic_ms;
  ch->clock_user = cfg->clock ? cfg->clock_user : NULL;
  ch->send_key_since_ms = now_ms(ch);
  ml_replay_init(&ch->replay);
  *out = ch;
  return ML_OK;
}

int ml_channel_new(ml_channel **out, const uint8_t send_key[ML_NOISE_KEY_LEN],
                   const uint8_t recv_key[ML_NOISE_KEY_LEN], const ml_channel_config *cfg) {
  assert(out && send_key && recv_key);
  ml_channel *ch;
  int err = channel_alloc(&ch, cfg);
  if (err != ML_OK)
    return err;
  memcpy(ch->send_key, send_key, ML_NOISE_KEY_LEN);
  memcpy(ch->recv_key, recv_key, ML_NOISE_KEY_LEN);
  *out = ch;
  return ML_OK;
}

int ml_channel_new_from_noise(ml_channel **out, const ml_noise_cipher *send,
                              const ml_noise_cipher *recv, const ml_channel_config *cfg) {
  assert(out && send && recv);
  ml_channel *ch;
  int err = channel_alloc(&ch, cfg);
  if (err != ML_OK)
    return err;
  /* Straight into guarded memory: no copy of a key on the stack. */
  ml_noise_cipher_export_key(send, ch->send_key);
  ml_noise_cipher_export_key(recv, ch->recv_key);
  *out = ch;
  return ML_OK;
}

static void advance_send_epoch(ml_channel *ch, uint64_t now) {
  ml_noise_rekey_key(ch->send_key); /* in place: the old key is gone */
  ch->send_epoch++;                 /* wraps 255 -> 0; the receiver compares mod 256 */
  ch->send_key_messages = 0;
  ch->send_key_since_ms = now;
}

void ml_channel_rekey(ml_channel *ch) {
  assert(ch);
  advance_send_epoch(ch, now_ms(ch));
}

static bool send_key_expired(const ml_channel *ch, uint64_t now) {
  if (ch->send_key_messages >= ch->rekey_after_messages)
    return true;
  /* A clock that steps backwards only delays the rekey. */
  return now >= ch->send_key_since_ms && now - ch->send_key_since_ms >= ch->rekey_after_ms;
}

int ml_channel_seal(ml_channel *ch, ml_inner_type type, const uint8_t *payload, size_t len,
                    uint8_t *out, size_t out_cap, size_t *out_len) {
  assert(ch && out && out_len && (payload || len == 0));
  if (!ml_inner_type_valid((unsigned)type))
    return ML_ERR_INVALID;
  if (len > ML_DATAGRAM_MAX_PAYLOAD)
    return ML_ERR_TOO_BIG;
  if (out_cap < len + ML_DATAGRAM_TRANSPORT_OVERHEAD)
    return ML_ERR_BUFFER;
  if (ch->send_counter > ML_CHANNEL_COUNTER_LIMIT)
    return ML_ERR_STATE;

  uint64_t now = now_ms(ch);
  if (send_key_expired(ch, now))
    advance_send_epoch(ch, now);

  uint8_t *inner = out + ML_DATAGRAM_TRANSPORT_HEADER_LEN;
  if (len)
    memmove(inner + 1, payload, len); /* payload may already sit in out */
  inner[0] = (uint8_t)type;
  int err = ml_datagram_write_transport_header(out, out_cap, ch->send_epoch, 0, ch->send_counter);
  assert(err == ML_OK);
  (void)err;

  uint8_t nonce[NONCE_LEN];
  make_nonce(nonce, ch->send_counter);
  unsigned long long clen;
  crypto_aead_chacha20poly1305_ietf_encrypt(inner, &clen, inner, 1 + len, out,
                                            ML_DATAGRAM_TRANSPORT_HEADER_LEN, NULL, nonce,
                                            ch->send_key);
  assert(clen == 1 + len + ML_DATAGRAM_TAG_LEN);

  ch->send_counter++;
  ch->send_key_messages++;
  ch->stats.sealed++;
  *out_len = len + ML_DATAGRAM_TRANSPORT_OVERHEAD;
  return ML_OK;
}

/* Drops the previous epoch's key once its overlap is over. Driven by the
 * clock, not by the datagram, so it may happen during an open that fails. */
static void expire_prev_key(ml_channel *ch, uint64_t now) {
  if (ch->prev_valid && now >= ch->prev_until_ms) {
    sodium_memzero(ch->prev_key, sizeof ch->prev_key);
    ch->prev_valid = false;
  }
}

static void wipe_candidate(ml_channel *ch) {
  sodium_memzero(ch->next_key, sizeof ch->next_key);
  sodium_memzero(ch->next_prev_key, sizeof ch->next_prev_key);
}

static uint64_t add_saturating(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int ml_channel_open(ml_channel *ch, const uint8_t *datagram, size_t len, ml_inner_type *type,
                    uint8_t *payload, size_t payload_cap, size_t *payload_len) {
  assert(ch && (datagram || len == 0) && type && payload_len && (payload || payload_cap == 0));
  uint64_t now = now_ms(ch);
  expire_prev_key(ch, now);

  ml_datagram d;
  int err = ml_datagram_parse(datagram, len, &d);
  if (err == ML_OK && d.type != ML_DATAGRAM_TRANSPORT)
    err = ML_ERR_PROTOCOL; /* handshake datagrams go to the handshake, not here */
  if (err != ML_OK) {
    ch->stats.dropped_malformed++;
    return err;
  }
  /* A counter past the limit is never sent; refuse it as out of the window. */
  if (d.counter > ML_CHANNEL_COUNTER_LIMIT || !ml_replay_check(&ch->replay, d.counter)) {
    ch->stats.dropped_replay++;
    return ML_ERR_REPLAY;
  }
  size_t inner_len = d.body_len - ML_DATAGRAM_TAG_LEN; /* >= 1: the parser checked */
  if (inner_len - 1 > payload_cap)
    return ML_ERR_BUFFER; /* the caller's fault: not counted, not consumed */

  const uint8_t *key = NULL;
  bool next_epoch = false;
  uint8_t ahead = (uint8_t)(d.epoch - ch->recv_epoch);
  if (ahead == 0) {
    key = ch->recv_key;
  } else if (ahead == 0xff) {
    if (ch->prev_valid)
      key = ch->prev_key;
  } else if (ahead <= ML_CHANNEL_MAX_EPOCH_AHEAD) {
    /* The sender moved on, perhaps across epochs we never saw (a path outage
     * longer than a rekey period): derive its key, keep it only if the tag
     * verifies. */
    memcpy(ch->next_key, ch->recv_key, ML_NOISE_KEY_LEN);
    for (uint8_t i = 0; i < ahead; i++) {
      memcpy(ch->next_prev_key, ch->next_key, ML_NOISE_KEY_LEN);
      ml_noise_rekey_key(ch->next_key);
    }
    key = ch->next_key;
    next_epoch = true;
  }

  uint8_t nonce[NONCE_LEN];
  make_nonce(nonce, d.counter);
  unsigned long long mlen = 0;
  if (!key ||
      crypto_aead_chacha20poly1305_ietf_decrypt(ch->scratch, &mlen, NULL, d.body, d.body_len,
                                                d.header, d.header_len, nonce, key) != 0) {
    if (next_epoch)
      wipe_candidate(ch);
    ch->stats.dropped_auth++;
    return ML_ERR_CRYPTO;
  }
  assert(mlen == inner_len);
  if (!ml_inner_type_valid(ch->scratch[0])) {
    sodium_memzero(ch->scratch, inner_len);
    if (next_epoch)
      wipe_candidate(ch);
    ch->stats.dropped_malformed++;
    return ML_ERR_PROTOCOL;
  }

  /* Authentic and well formed: now, and only now, change state. */
  bool committed = ml_replay_commit(&ch->replay, d.counter);
  assert(committed);
  (void)committed;
  if (next_epoch) {
    memcpy(ch->prev_key, ch->next_prev_key, ML_NOISE_KEY_LEN);
    memcpy(ch->recv_key, ch->next_key, ML_NOISE_KEY_LEN);
    wipe_candidate(ch);
    ch->recv_epoch = d.epoch;
    ch->prev_valid = true;
    ch->prev_until_ms = add_saturating(now, ch->epoch_overlap_ms);
  }
  *type = (ml_inner_type)ch->scratch[0];
  *payload_len = inner_len - 1;
  if (inner_len > 1)
    memcpy(payload, ch->scratch + 1, inner_len - 1);
  sodium_memzero(ch->scratch, inner_len);
  ch->stats.opened++;
  return ML_OK;
}

void ml_channel_get_stats(const ml_channel *ch, ml_channel_stats *out) {
  assert(ch && out);
  *out = ch->stats;
  out->send_epoch = ch->send_epoch;
  out->recv_epoch = ch->recv_epoch;
}

void ml_channel_free(ml_channel *ch) {
  if (ch)
    sodium_free(ch); /* wipes keys, scratch and all */
}

void ml_channel_set_send_counter(ml_channel *ch, uint64_t counter) {
  assert(ch);
  ch->send_counter = counter;
}
