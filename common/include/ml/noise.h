/* mentorlink — the Noise Protocol Framework (revision 34), suite
 * 25519 / ChaChaPoly / BLAKE2b, on libsodium.
 *
 * Supports the fundamental, deferred and one-way handshake patterns of the
 * specification with any "pskN" modifiers (XX, IK, XXpsk3, IKpsk2, NN, KK, ...).
 * HASH is BLAKE2b-512 (crypto_generichash), HMAC is built on it per RFC 2104
 * with a 128-byte block, DH is X25519, the AEAD is ChaCha20-Poly1305 (IETF) with
 * the nonce encoded as 32 zero bits followed by the little-endian counter.
 *
 * Ownership: every object is created by its _new function and released by its
 * _free function (NULL is ignored). Key material lives in sodium_malloc memory
 * and is wiped on free. Threading: an object is used by one thread at a time.
 */
#ifndef ML_NOISE_H
#define ML_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_NOISE_KEY_LEN 32    /* X25519 keys, cipher keys, PSKs */
#define ML_NOISE_HASH_LEN 64   /* BLAKE2b-512: handshake hash, chaining key */
#define ML_NOISE_TAG_LEN 16    /* Poly1305 tag */
#define ML_NOISE_MAX_MSG 65535 /* the specification's maximum message length */
#define ML_NOISE_MAX_PSKS 4    /* psk0 .. psk3 used by the same pattern at most */
#define ML_NOISE_MAX_PROLOGUE 4096

typedef enum ml_noise_role { ML_NOISE_INITIATOR = 0, ML_NOISE_RESPONDER = 1 } ml_noise_role;

/* What the handshake expects next. */
typedef enum ml_noise_action {
  ML_NOISE_WRITE, /* call ml_noise_handshake_write_message */
  ML_NOISE_READ,  /* call ml_noise_handshake_read_message */
  ML_NOISE_SPLIT, /* finished: call ml_noise_handshake_split */
  ML_NOISE_FAILED /* a message failed; the handshake cannot continue */
} ml_noise_action;

typedef struct ml_noise_config {
  /* Full protocol name, e.g. "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b". */
  const char *protocol_name;
  ml_noise_role role;
  const uint8_t *prologue; /* may be NULL when prologue_len is 0 */
  size_t prologue_len;     /* at most ML_NOISE_MAX_PROLOGUE */
  /* Our static X25519 private key (32 bytes), when the pattern uses one. */
  const uint8_t *local_static_private;
  /* The peer's static X25519 public key (32 bytes), when known in advance
   * (IK, KK, NK, ... pre-messages). */
  const uint8_t *remote_static_public;
  /* Pre-shared keys, consumed in the order the pattern's psk tokens appear. */
  const uint8_t (*psks)[ML_NOISE_KEY_LEN];
  size_t n_psks;
} ml_noise_config;

/* ---- CipherState ------------------------------------------------------ */

typedef struct ml_noise_cipher ml_noise_cipher;

/* Encrypts plaintext with associated data under the next nonce (the internal
 * counter, which then advances). out must hold plaintext_len + 16 bytes; out
 * may equal plaintext. ML_ERR_STATE when the nonce space is exhausted. */
int ml_noise_cipher_encrypt(ml_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                            const uint8_t *plaintext, size_t plaintext_len, uint8_t *out,
                            size_t out_cap, size_t *out_len) ML_MUST_CHECK;
/* Decrypts under the next nonce; the counter advances only on success.
 * ML_ERR_CRYPTO when the tag does not verify. */
int ml_noise_cipher_decrypt(ml_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                            const uint8_t *ciphertext, size_t ciphertext_len, uint8_t *out,
                            size_t out_cap, size_t *out_len) ML_MUST_CHECK;
/* The specification's Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros). */
void ml_noise_cipher_rekey(ml_noise_cipher *cs);
/* Copies the 32-byte key into out (for layers that manage nonces themselves,
 * such as the datagram channel). The caller wipes out after use. */
void ml_noise_cipher_export_key(const ml_noise_cipher *cs, uint8_t out[ML_NOISE_KEY_LEN]);
void ml_noise_cipher_free(ml_noise_cipher *cs);

/* Rekey() on a raw 32-byte key, in place (what ml_noise_cipher_rekey does to
 * its own key), for layers that hold keys themselves. */
void ml_noise_rekey_key(uint8_t key[ML_NOISE_KEY_LEN]);

/* ---- HandshakeState --------------------------------------------------- */

typedef struct ml_noise_handshake ml_noise_handshake;

/* Creates a handshake for cfg. Errors: ML_ERR_UNSUPPORTED for a protocol name
 * or pattern this library does not implement; ML_ERR_INVALID when a key the
 * pattern needs is missing, the PSK count does not match, or the prologue is
 * too long; ML_ERR_NOMEM. */
int ml_noise_handshake_new(ml_noise_handshake **out, const ml_noise_config *cfg) ML_MUST_CHECK;

/* Test hook: use this X25519 private key as our ephemeral instead of a random
 * one. Only before the first message. Never call it in production code. */
int ml_noise_handshake_set_ephemeral(ml_noise_handshake *hs,
                                     const uint8_t private_key[ML_NOISE_KEY_LEN]) ML_MUST_CHECK;

ml_noise_action ml_noise_handshake_action(const ml_noise_handshake *hs);

/* Writes the next handshake message carrying payload into out.
 * ML_ERR_BUFFER if out_cap is too small, ML_ERR_TOO_BIG if the message would
 * exceed ML_NOISE_MAX_MSG. Any other failure moves the handshake to FAILED. */
int ml_noise_handshake_write_message(ml_noise_handshake *hs, const uint8_t *payload,
                                     size_t payload_len, uint8_t *out, size_t out_cap,
                                     size_t *out_len) ML_MUST_CHECK;

/* Reads the peer's next handshake message (untrusted bytes, any length) and
 * writes its payload into payload_out. ML_ERR_PROTOCOL for a message of the
 * wrong length, ML_ERR_CRYPTO when authentication or a DH fails; either moves
 * the handshake to FAILED (a fresh handshake is needed). ML_ERR_BUFFER leaves
 * the state unchanged. */
int ml_noise_handshake_read_message(ml_noise_handshake *hs, const uint8_t *message,
                                    size_t message_len, uint8_t *payload_out, size_t payload_cap,
                                    size_t *payload_len) ML_MUST_CHECK;

/* The handshake hash h (64 bytes): valid at any time, final once the
 * handshake is finished; channel binding for SAS and session identity. */
const uint8_t *ml_noise_handshake_hash(const ml_noise_handshake *hs);

/* The peer's static public key, once received or if given in advance; also
 * after a read that failed later in the same message (the key decrypted,
 * something after it did not). ML_ERR_STATE when not known (yet). */
int ml_noise_handshake_remote_static(const ml_noise_handshake *hs,
                                     uint8_t out[ML_NOISE_KEY_LEN]) ML_MUST_CHECK;

/* After the last message: the two transport CipherStates, already oriented:
 * *send encrypts what we send, *recv decrypts what we receive (for one-way
 * patterns the responder's *send is NULL and the initiator's *recv is NULL).
 * The caller owns both. The handshake itself may then only be freed or asked
 * for its hash. */
int ml_noise_handshake_split(ml_noise_handshake *hs, ml_noise_cipher **send,
                             ml_noise_cipher **recv) ML_MUST_CHECK;

void ml_noise_handshake_free(ml_noise_handshake *hs);

/* A fresh X25519 key pair from libsodium's RNG. */
void ml_noise_keypair(uint8_t private_key[ML_NOISE_KEY_LEN], uint8_t public_key[ML_NOISE_KEY_LEN]);

#endif /* ML_NOISE_H */
