/* Noise Protocol Framework, revision 34: 25519 / ChaChaPoly / BLAKE2b.
 *
 * Section numbers in comments refer to the specification. Everything secret
 * (keys, chaining key, PSKs) lives inside structs allocated with sodium_malloc
 * and is wiped by sodium_free. */
#include "ml/noise.h"

#include <assert.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "noise_patterns.h"

#define BLAKE2B_BLOCK_LEN 128
#define NONCE_MAX UINT64_MAX /* reserved for Rekey (section 4.2) */

/* ---- HASH, HMAC-HASH and HKDF (sections 4.3, 5.2) ------------------------ */

static void hash2(uint8_t out[ML_NOISE_HASH_LEN], const uint8_t *a, size_t a_len, const uint8_t *b,
                  size_t b_len) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, ML_NOISE_HASH_LEN);
  crypto_generichash_update(&st, a, a_len);
  if (b_len)
    crypto_generichash_update(&st, b, b_len);
  crypto_generichash_final(&st, out, ML_NOISE_HASH_LEN);
  sodium_memzero(&st, sizeof st);
}

/* HMAC per RFC 2104 over BLAKE2b-512 with its 128-byte block. key_len <= 64. */
static void hmac_blake2b(uint8_t out[ML_NOISE_HASH_LEN], const uint8_t *key, size_t key_len,
                         const uint8_t *data, size_t data_len) {
  uint8_t pad[BLAKE2B_BLOCK_LEN];
  uint8_t inner[ML_NOISE_HASH_LEN];
  assert(key_len <= ML_NOISE_HASH_LEN);

  memset(pad, 0x36, sizeof pad);
  for (size_t i = 0; i < key_len; i++)
    pad[i] ^= key[i];
  hash2(inner, pad, sizeof pad, data, data_len);

  memset(pad, 0x5c, sizeof pad);
  for (size_t i = 0; i < key_len; i++)
    pad[i] ^= key[i];
  hash2(out, pad, sizeof pad, inner, sizeof inner);

  sodium_memzero(pad, sizeof pad);
  sodium_memzero(inner, sizeof inner);
}

/* HKDF(chaining_key, ikm, num_outputs) with num_outputs 2 or 3 (out3 NULL). */
static void hkdf(const uint8_t ck[ML_NOISE_HASH_LEN], const uint8_t *ikm, size_t ikm_len,
                 uint8_t out1[ML_NOISE_HASH_LEN], uint8_t out2[ML_NOISE_HASH_LEN],
                 uint8_t out3[ML_NOISE_HASH_LEN]) {
  uint8_t temp_key[ML_NOISE_HASH_LEN];
  uint8_t buf[ML_NOISE_HASH_LEN + 1];

  hmac_blake2b(temp_key, ck, ML_NOISE_HASH_LEN, ikm, ikm_len);
  buf[0] = 0x01;
  hmac_blake2b(out1, temp_key, sizeof temp_key, buf, 1);
  memcpy(buf, out1, ML_NOISE_HASH_LEN);
  buf[ML_NOISE_HASH_LEN] = 0x02;
  hmac_blake2b(out2, temp_key, sizeof temp_key, buf, sizeof buf);
  if (out3) {
    memcpy(buf, out2, ML_NOISE_HASH_LEN);
    buf[ML_NOISE_HASH_LEN] = 0x03;
    hmac_blake2b(out3, temp_key, sizeof temp_key, buf, sizeof buf);
  }
  sodium_memzero(temp_key, sizeof temp_key);
  sodium_memzero(buf, sizeof buf);
}

/* ---- CipherState (section 5.1) ------------------------------------------ */

struct ml_noise_cipher {
  uint8_t k[ML_NOISE_KEY_LEN];
  bool has_key;
  uint64_t n;
};

static void nonce_bytes(uint8_t out[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], uint64_t n) {
  memset(out, 0, 4);
  for (int i = 0; i < 8; i++)
    out[4 + i] = (uint8_t)(n >> (8 * i));
}

static void aead_encrypt(const uint8_t k[ML_NOISE_KEY_LEN], uint64_t n, const uint8_t *ad,
                         size_t ad_len, const uint8_t *pt, size_t pt_len, uint8_t *out) {
  uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
  unsigned long long clen;
  nonce_bytes(nonce, n);
  crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, pt_len, ad, ad_len, NULL, nonce, k);
}

static bool aead_decrypt(const uint8_t k[ML_NOISE_KEY_LEN], uint64_t n, const uint8_t *ad,
                         size_t ad_len, const uint8_t *ct, size_t ct_len, uint8_t *out) {
  uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
  unsigned long long plen;
  nonce_bytes(nonce, n);
  return crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL, ct, ct_len, ad, ad_len, nonce,
                                                   k) == 0;
}

void ml_noise_rekey_key(uint8_t key[ML_NOISE_KEY_LEN]) {
  static const uint8_t zeros[ML_NOISE_KEY_LEN];
  uint8_t out[ML_NOISE_KEY_LEN + ML_NOISE_TAG_LEN];
  aead_encrypt(key, NONCE_MAX, NULL, 0, zeros, sizeof zeros, out);
  memcpy(key, out, ML_NOISE_KEY_LEN);
  sodium_memzero(out, sizeof out);
}

int ml_noise_cipher_encrypt(ml_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                            const uint8_t *plaintext, size_t plaintext_len, uint8_t *out,
                            size_t out_cap, size_t *out_len) {
  assert(cs && cs->has_key && out && out_len);
  if (plaintext_len > ML_NOISE_MAX_MSG - ML_NOISE_TAG_LEN)
    return ML_ERR_TOO_BIG;
  if (out_cap < plaintext_len + ML_NOISE_TAG_LEN)
    return ML_ERR_BUFFER;
  if (cs->n == NONCE_MAX)
    return ML_ERR_STATE;
  aead_encrypt(cs->k, cs->n, ad, ad_len, plaintext, plaintext_len, out);
  cs->n++;
  *out_len = plaintext_len + ML_NOISE_TAG_LEN;
  return ML_OK;
}

int ml_noise_cipher_decrypt(ml_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                            const uint8_t *ciphertext, size_t ciphertext_len, uint8_t *out,
                            size_t out_cap, size_t *out_len) {
  assert(cs && cs->has_key && out && out_len);
  if (ciphertext_len < ML_NOISE_TAG_LEN)
    return ML_ERR_PROTOCOL;
  if (ciphertext_len > ML_NOISE_MAX_MSG)
    return ML_ERR_TOO_BIG;
  if (out_cap < ciphertext_len - ML_NOISE_TAG_LEN)
    return ML_ERR_BUFFER;
  if (cs->n == NONCE_MAX)
    return ML_ERR_STATE;
  if (!aead_decrypt(cs->k, cs->n, ad, ad_len, ciphertext, ciphertext_len, out))
    return ML_ERR_CRYPTO;
  cs->n++;
  *out_len = ciphertext_len - ML_NOISE_TAG_LEN;
  return ML_OK;
}

void ml_noise_cipher_rekey(ml_noise_cipher *cs) {
  assert(cs && cs->has_key);
  ml_noise_rekey_key(cs->k);
}

void ml_noise_cipher_export_key(const ml_noise_cipher *cs, uint8_t out[ML_NOISE_KEY_LEN]) {
  assert(cs && cs->has_key);
  memcpy(out, cs->k, ML_NOISE_KEY_LEN);
}

void ml_noise_cipher_free(ml_noise_cipher *cs) {
  if (cs)
    sodium_free(cs); /* wipes the key */
}

/* ---- SymmetricState (section 5.2) --------------------------------------- */

typedef struct symmetric_state {
  ml_noise_cipher cs;
  uint8_t ck[ML_NOISE_HASH_LEN];
  uint8_t h[ML_NOISE_HASH_LEN];
} symmetric_state;

static void ss_initialize_key(symmetric_state *ss, const uint8_t temp_k[ML_NOISE_HASH_LEN]) {
  memcpy(ss->cs.k, temp_k, ML_NOISE_KEY_LEN); /* truncate HASHLEN to 32 */
  ss->cs.has_key = true;
  ss->cs.n = 0;
}

static void ss_mix_hash(symmetric_state *ss, const uint8_t *data, size_t len) {
  hash2(ss->h, ss->h, sizeof ss->h, data, len);
}

static void ss_mix_key(symmetric_state *ss, const uint8_t *ikm, size_t len) {
  uint8_t temp_k[ML_NOISE_HASH_LEN];
  hkdf(ss->ck, ikm, len, ss->ck, temp_k, NULL);
  ss_initialize_key(ss, temp_k);
  sodium_memzero(temp_k, sizeof temp_k);
}

static void ss_mix_key_and_hash(symmetric_state *ss, const uint8_t *ikm, size_t len) {
  uint8_t temp_h[ML_NOISE_HASH_LEN];
  uint8_t temp_k[ML_NOISE_HASH_LEN];
  hkdf(ss->ck, ikm, len, ss->ck, temp_h, temp_k);
  ss_mix_hash(ss, temp_h, sizeof temp_h);
  ss_initialize_key(ss, temp_k);
  sodium_memzero(temp_h, sizeof temp_h);
  sodium_memzero(temp_k, sizeof temp_k);
}

/* Appends EncryptAndHash(pt) at out; returns the bytes written. The caller
 * has checked the room and that the nonce is not exhausted. */
static size_t ss_encrypt_and_hash(symmetric_state *ss, const uint8_t *pt, size_t len,
                                  uint8_t *out) {
  size_t n = len;
  if (ss->cs.has_key) {
    aead_encrypt(ss->cs.k, ss->cs.n, ss->h, sizeof ss->h, pt, len, out);
    ss->cs.n++;
    n = len + ML_NOISE_TAG_LEN;
  } else if (len) {
    memmove(out, pt, len);
  }
  ss_mix_hash(ss, out, n);
  return n;
}

static bool ss_decrypt_and_hash(symmetric_state *ss, const uint8_t *ct, size_t len, uint8_t *out) {
  if (ss->cs.has_key) {
    if (len < ML_NOISE_TAG_LEN ||
        !aead_decrypt(ss->cs.k, ss->cs.n, ss->h, sizeof ss->h, ct, len, out))
      return false;
    ss->cs.n++;
  } else if (len) {
    memmove(out, ct, len);
  }
  ss_mix_hash(ss, ct, len);
  return true;
}

/* ---- HandshakeState (section 5.3) --------------------------------------- */

struct ml_noise_handshake {
  symmetric_state ss;
  ml_noise_pattern pattern;
  ml_noise_role role;
  ml_noise_action action;
  size_t msg_index; /* next message of the pattern */
  uint8_t s_priv[ML_NOISE_KEY_LEN], s_pub[ML_NOISE_KEY_LEN];
  uint8_t e_priv[ML_NOISE_KEY_LEN], e_pub[ML_NOISE_KEY_LEN];
  uint8_t rs[ML_NOISE_KEY_LEN], re[ML_NOISE_KEY_LEN];
  bool has_s, has_e, has_rs, has_re, fixed_e, split_done;
  uint8_t psks[ML_NOISE_MAX_PSKS][ML_NOISE_KEY_LEN];
  size_t n_psks, next_psk;
};

static const char suite_suffix[] = "_25519_ChaChaPoly_BLAKE2b";

void ml_noise_keypair(uint8_t private_key[ML_NOISE_KEY_LEN], uint8_t public_key[ML_NOISE_KEY_LEN]) {
  randombytes_buf(private_key, ML_NOISE_KEY_LEN);
  crypto_scalarmult_base(public_key, private_key);
}

/* Parses "Noise_<pattern>_25519_ChaChaPoly_BLAKE2b" into pattern. */
static int parse_protocol_name(const char *name, ml_noise_pattern *pattern) {
  static const char prefix[] = "Noise_";
  size_t len = strlen(name);
  if (len > 255 || strncmp(name, prefix, sizeof prefix - 1) != 0)
    return ML_ERR_UNSUPPORTED;
  const char *pat = name + sizeof prefix - 1;
  const char *end = strchr(pat, '_');
  if (!end || strcmp(end, suite_suffix) != 0)
    return ML_ERR_UNSUPPORTED;
  return ml_noise_pattern_parse(pat, (size_t)(end - pat), pattern);
}

/* DH between one of our private keys and one of the peer's public keys. */
static bool mix_dh(ml_noise_handshake *hs, const uint8_t *priv, bool have_priv, const uint8_t *pub,
                   bool have_pub) {
  uint8_t shared[crypto_scalarmult_BYTES];
  if (!have_priv || !have_pub)
    return false;
  /* libsodium refuses an all-zero result (a low-order point); so do we. */
  if (crypto_scalarmult(shared, priv, pub) != 0)
    return false;
  ss_mix_key(&hs->ss, shared, sizeof shared);
  sodium_memzero(shared, sizeof shared);
  return true;
}

static bool process_dh(ml_noise_handshake *hs, ml_noise_token t) {
  bool init = hs->role == ML_NOISE_INITIATOR;
  switch (t) {
  case ML_NOISE_TOKEN_EE: return mix_dh(hs, hs->e_priv, hs->has_e, hs->re, hs->has_re);
  case ML_NOISE_TOKEN_ES:
    return init ? mix_dh(hs, hs->e_priv, hs->has_e, hs->rs, hs->has_rs)
                : mix_dh(hs, hs->s_priv, hs->has_s, hs->re, hs->has_re);
  case ML_NOISE_TOKEN_SE:
    return init ? mix_dh(hs, hs->s_priv, hs->has_s, hs->re, hs->has_re)
                : mix_dh(hs, hs->e_priv, hs->has_e, hs->rs, hs->has_rs);
  case ML_NOISE_TOKEN_SS: return mix_dh(hs, hs->s_priv, hs->has_s, hs->rs, hs->has_rs);
  case ML_NOISE_TOKEN_PSK:
    if (hs->next_psk >= hs->n_psks)
      return false;
    ss_mix_key_and_hash(&hs->ss, hs->psks[hs->next_psk], ML_NOISE_KEY_LEN);
    hs->next_psk++;
    return true;
  default: return false;
  }
}

static void mix_ephemeral(ml_noise_handshake *hs, const uint8_t pub[ML_NOISE_KEY_LEN]) {
  ss_mix_hash(&hs->ss, pub, ML_NOISE_KEY_LEN);
  if (hs->pattern.has_psk) /* section 9.2 */
    ss_mix_key(&hs->ss, pub, ML_NOISE_KEY_LEN);
}

/* Mixes one party's pre-message public keys ("e", "s", "e, s"). */
static int mix_premessage(ml_noise_handshake *hs, unsigned tokens, bool ours) {
  if (tokens & ML_NOISE_PRE_E) {
    if (!(ours ? hs->has_e : hs->has_re))
      return ML_ERR_INVALID; /* fallback patterns: not supported by the API */
    mix_ephemeral(hs, ours ? hs->e_pub : hs->re);
  }
  if (tokens & ML_NOISE_PRE_S) {
    if (!(ours ? hs->has_s : hs->has_rs))
      return ML_ERR_INVALID;
    ss_mix_hash(&hs->ss, ours ? hs->s_pub : hs->rs, ML_NOISE_KEY_LEN);
  }
  return ML_OK;
}

/* Whether this party needs a static key pair / the peer's static key up front. */
static bool pattern_uses_local_static(const ml_noise_pattern *p, ml_noise_role role) {
  unsigned pre = role == ML_NOISE_INITIATOR ? p->pre_initiator : p->pre_responder;
  if (pre & ML_NOISE_PRE_S)
    return true;
  for (size_t m = 0; m < p->n_messages; m++) {
    bool sender_is_initiator = (m % 2) == 0;
    if (sender_is_initiator != (role == ML_NOISE_INITIATOR))
      continue;
    for (size_t i = 0; i < p->messages[m].n_tokens; i++)
      if (p->messages[m].tokens[i] == ML_NOISE_TOKEN_S)
        return true;
  }
  return false;
}

static void set_action(ml_noise_handshake *hs) {
  if (hs->msg_index >= hs->pattern.n_messages) {
    hs->action = ML_NOISE_SPLIT;
    return;
  }
  bool initiator_sends = (hs->msg_index % 2) == 0;
  hs->action =
      (initiator_sends == (hs->role == ML_NOISE_INITIATOR)) ? ML_NOISE_WRITE : ML_NOISE_READ;
}

int ml_noise_handshake_new(ml_noise_handshake **out, const ml_noise_config *cfg) {
  assert(out && cfg && cfg->protocol_name);
  ml_noise_pattern pattern;
  int err = parse_protocol_name(cfg->protocol_name, &pattern);
  if (err)
    return err;
  if (cfg->prologue_len > ML_NOISE_MAX_PROLOGUE || (cfg->prologue_len && !cfg->prologue))
    return ML_ERR_INVALID;
  if (cfg->n_psks != pattern.n_psk_tokens || cfg->n_psks > ML_NOISE_MAX_PSKS)
    return ML_ERR_INVALID;
  if (pattern_uses_local_static(&pattern, cfg->role) && !cfg->local_static_private)
    return ML_ERR_INVALID;
  unsigned remote_pre =
      cfg->role == ML_NOISE_INITIATOR ? pattern.pre_responder : pattern.pre_initiator;
  if ((remote_pre & ML_NOISE_PRE_S) && !cfg->remote_static_public)
    return ML_ERR_INVALID;
  if ((pattern.pre_initiator | pattern.pre_responder) & ML_NOISE_PRE_E)
    return ML_ERR_UNSUPPORTED;

  if (sodium_init() < 0)
    return ML_ERR_CRYPTO;
  ml_noise_handshake *hs = sodium_malloc(sizeof *hs);
  if (!hs)
    return ML_ERR_NOMEM;
  memset(hs, 0, sizeof *hs);
  hs->pattern = pattern;
  hs->role = cfg->role;
  if (cfg->local_static_private) {
    memcpy(hs->s_priv, cfg->local_static_private, ML_NOISE_KEY_LEN);
    crypto_scalarmult_base(hs->s_pub, hs->s_priv);
    hs->has_s = true;
  }
  if (cfg->remote_static_public) {
    memcpy(hs->rs, cfg->remote_static_public, ML_NOISE_KEY_LEN);
    hs->has_rs = true;
  }
  for (size_t i = 0; i < cfg->n_psks; i++)
    memcpy(hs->psks[i], cfg->psks[i], ML_NOISE_KEY_LEN);
  hs->n_psks = cfg->n_psks;

  /* InitializeSymmetric(protocol_name) */
  size_t name_len = strlen(cfg->protocol_name);
  if (name_len <= ML_NOISE_HASH_LEN)
    memcpy(hs->ss.h, cfg->protocol_name, name_len); /* zero padded by the memset */
  else
    hash2(hs->ss.h, (const uint8_t *)cfg->protocol_name, name_len, NULL, 0);
  memcpy(hs->ss.ck, hs->ss.h, ML_NOISE_HASH_LEN);

  ss_mix_hash(&hs->ss, cfg->prologue, cfg->prologue_len);
  bool init = cfg->role == ML_NOISE_INITIATOR;
  err = mix_premessage(hs, pattern.pre_initiator, init);
  if (!err)
    err = mix_premessage(hs, pattern.pre_responder, !init);
  if (err) {
    sodium_free(hs);
    return err;
  }
  set_action(hs);
  *out = hs;
  return ML_OK;
}

int ml_noise_handshake_set_ephemeral(ml_noise_handshake *hs,
                                     const uint8_t private_key[ML_NOISE_KEY_LEN]) {
  assert(hs && private_key);
  if (hs->msg_index != 0)
    return ML_ERR_STATE;
  memcpy(hs->e_priv, private_key, ML_NOISE_KEY_LEN);
  crypto_scalarmult_base(hs->e_pub, hs->e_priv);
  hs->fixed_e = true;
  return ML_OK;
}

ml_noise_action ml_noise_handshake_action(const ml_noise_handshake *hs) {
  assert(hs);
  return hs->action;
}

/* Bytes the tokens of message m add before the payload, and whether a cipher
 * key exists when the payload is encrypted; derived from the pattern alone,
 * so size checks happen before any state changes. */
static void message_layout(const ml_noise_handshake *hs, size_t *token_bytes, bool *payload_keyed) {
  const ml_noise_message *m = &hs->pattern.messages[hs->msg_index];
  bool keyed = hs->ss.cs.has_key;
  size_t n = 0;
  for (size_t i = 0; i < m->n_tokens; i++) {
    switch (m->tokens[i]) {
    case ML_NOISE_TOKEN_E:
      n += ML_NOISE_KEY_LEN;
      keyed = keyed || hs->pattern.has_psk;
      break;
    case ML_NOISE_TOKEN_S: n += ML_NOISE_KEY_LEN + (keyed ? ML_NOISE_TAG_LEN : 0); break;
    default: /* every DH and psk token leaves a key */ keyed = true; break;
    }
  }
  *token_bytes = n;
  *payload_keyed = keyed;
}

static void finish_message(ml_noise_handshake *hs) {
  hs->msg_index++;
  set_action(hs);
}

static int fail(ml_noise_handshake *hs, int err) {
  hs->action = ML_NOISE_FAILED;
  return err;
}

int ml_noise_handshake_write_message(ml_noise_handshake *hs, const uint8_t *payload,
                                     size_t payload_len, uint8_t *out, size_t out_cap,
                                     size_t *out_len) {
  assert(hs && out && out_len && (payload || !payload_len));
  if (hs->action != ML_NOISE_WRITE)
    return ML_ERR_STATE;
  size_t token_bytes;
  bool keyed;
  message_layout(hs, &token_bytes, &keyed);
  size_t total = token_bytes + payload_len + (keyed ? ML_NOISE_TAG_LEN : 0);
  if (total > ML_NOISE_MAX_MSG)
    return ML_ERR_TOO_BIG;
  if (total > out_cap)
    return ML_ERR_BUFFER;

  const ml_noise_message *m = &hs->pattern.messages[hs->msg_index];
  size_t pos = 0;
  for (size_t i = 0; i < m->n_tokens; i++) {
    ml_noise_token t = m->tokens[i];
    if (t == ML_NOISE_TOKEN_E) {
      if (!hs->fixed_e)
        ml_noise_keypair(hs->e_priv, hs->e_pub);
      hs->has_e = true;
      memcpy(out + pos, hs->e_pub, ML_NOISE_KEY_LEN);
      pos += ML_NOISE_KEY_LEN;
      mix_ephemeral(hs, hs->e_pub);
    } else if (t == ML_NOISE_TOKEN_S) {
      pos += ss_encrypt_and_hash(&hs->ss, hs->s_pub, ML_NOISE_KEY_LEN, out + pos);
    } else if (!process_dh(hs, t)) {
      return fail(hs, ML_ERR_CRYPTO);
    }
  }
  pos += ss_encrypt_and_hash(&hs->ss, payload, payload_len, out + pos);
  assert(pos == total);
  *out_len = pos;
  finish_message(hs);
  return ML_OK;
}

int ml_noise_handshake_read_message(ml_noise_handshake *hs, const uint8_t *message,
                                    size_t message_len, uint8_t *payload_out, size_t payload_cap,
                                    size_t *payload_len) {
  assert(hs && (message || !message_len) && payload_len && (payload_out || !payload_cap));
  if (hs->action != ML_NOISE_READ)
    return ML_ERR_STATE;
  if (message_len > ML_NOISE_MAX_MSG)
    return fail(hs, ML_ERR_PROTOCOL);
  size_t token_bytes;
  bool keyed;
  message_layout(hs, &token_bytes, &keyed);
  size_t min_len = token_bytes + (keyed ? ML_NOISE_TAG_LEN : 0);
  if (message_len < min_len)
    return fail(hs, ML_ERR_PROTOCOL);
  if (message_len - min_len > payload_cap)
    return ML_ERR_BUFFER;

  const ml_noise_message *m = &hs->pattern.messages[hs->msg_index];
  size_t pos = 0;
  for (size_t i = 0; i < m->n_tokens; i++) {
    ml_noise_token t = m->tokens[i];
    if (t == ML_NOISE_TOKEN_E) {
      memcpy(hs->re, message + pos, ML_NOISE_KEY_LEN);
      hs->has_re = true;
      pos += ML_NOISE_KEY_LEN;
      mix_ephemeral(hs, hs->re);
    } else if (t == ML_NOISE_TOKEN_S) {
      size_t n = ML_NOISE_KEY_LEN + (hs->ss.cs.has_key ? ML_NOISE_TAG_LEN : 0);
      if (!ss_decrypt_and_hash(&hs->ss, message + pos, n, hs->rs))
        return fail(hs, ML_ERR_CRYPTO);
      hs->has_rs = true;
      pos += n;
    } else if (!process_dh(hs, t)) {
      return fail(hs, ML_ERR_CRYPTO);
    }
  }
  size_t rest = message_len - pos;
  uint8_t empty;
  if (!ss_decrypt_and_hash(&hs->ss, message + pos, rest, payload_out ? payload_out : &empty))
    return fail(hs, ML_ERR_CRYPTO);
  *payload_len = rest - (keyed ? ML_NOISE_TAG_LEN : 0);
  finish_message(hs);
  return ML_OK;
}

const uint8_t *ml_noise_handshake_hash(const ml_noise_handshake *hs) {
  assert(hs);
  return hs->ss.h;
}

int ml_noise_handshake_remote_static(const ml_noise_handshake *hs, uint8_t out[ML_NOISE_KEY_LEN]) {
  assert(hs && out);
  if (!hs->has_rs)
    return ML_ERR_STATE;
  memcpy(out, hs->rs, ML_NOISE_KEY_LEN);
  return ML_OK;
}

static ml_noise_cipher *cipher_new(const uint8_t k[ML_NOISE_HASH_LEN]) {
  ml_noise_cipher *cs = sodium_malloc(sizeof *cs);
  if (!cs)
    return NULL;
  memcpy(cs->k, k, ML_NOISE_KEY_LEN);
  cs->has_key = true;
  cs->n = 0;
  return cs;
}

int ml_noise_handshake_split(ml_noise_handshake *hs, ml_noise_cipher **send,
                             ml_noise_cipher **recv) {
  assert(hs && send && recv);
  if (hs->action != ML_NOISE_SPLIT || hs->split_done)
    return ML_ERR_STATE;
  uint8_t k1[ML_NOISE_HASH_LEN], k2[ML_NOISE_HASH_LEN];
  hkdf(hs->ss.ck, NULL, 0, k1, k2, NULL);
  ml_noise_cipher *c1 = cipher_new(k1);
  ml_noise_cipher *c2 = cipher_new(k2);
  sodium_memzero(k1, sizeof k1);
  sodium_memzero(k2, sizeof k2);
  if (!c1 || !c2) {
    ml_noise_cipher_free(c1);
    ml_noise_cipher_free(c2);
    return ML_ERR_NOMEM;
  }
  if (hs->pattern.one_way) { /* only the initiator ever sends, with k1 */
    ml_noise_cipher_free(c2);
    c2 = NULL;
  }
  if (hs->role == ML_NOISE_INITIATOR) {
    *send = c1;
    *recv = c2;
  } else if (hs->pattern.one_way) {
    *send = NULL;
    *recv = c1;
  } else {
    *send = c2;
    *recv = c1;
  }
  /* The chaining key is no longer needed: wipe it, keep h for the caller. */
  sodium_memzero(hs->ss.ck, sizeof hs->ss.ck);
  sodium_memzero(&hs->ss.cs, sizeof hs->ss.cs);
  hs->split_done = true;
  return ML_OK;
}

void ml_noise_handshake_free(ml_noise_handshake *hs) {
  if (hs)
    sodium_free(hs);
}
