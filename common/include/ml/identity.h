/* mentorlink — the user's long-term identity.
 *
 * An Ed25519 key pair. Its X25519 form (libsodium's conversion) is the Noise
 * static key, so one key both signs and authenticates handshakes. The file is
 * written atomically (temporary file, fsync, rename) with mode 0600 in a 0700
 * directory, optionally sealed with a passphrase (Argon2id + XSalsa20-Poly1305
 * secretbox). The secret half lives in sodium_malloc memory.
 *
 * File format (all integers big-endian) — docs/PROTOCOL.md, "Identity file":
 *   "MLID" | version (1) | flags (bit 0: sealed) |
 *   unsealed: ed25519 seed (32)
 *   sealed:   salt (16) | opslimit (u64) | memlimit (u64) | nonce (24) |
 *             secretbox(seed) (32 + 16)
 *   then, in both: ed25519 public key (32), checked against the seed on load.
 */
#ifndef ML_IDENTITY_H
#define ML_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_IDENTITY_PUBLIC_LEN 32
#define ML_IDENTITY_X25519_LEN 32
/* "xxxx xxxx xxxx xxxx xxxx xxxx xxxx xxxx" + NUL: 128 bits of BLAKE2b of the key. */
#define ML_IDENTITY_FINGERPRINT_LEN 40

typedef struct ml_identity ml_identity;

/* A fresh identity from libsodium's RNG. */
int ml_identity_generate(ml_identity **out) ML_MUST_CHECK;

/* Writes the identity to path atomically with mode 0600, creating missing
 * parent directories with mode 0700. With a non-NULL, non-empty passphrase the
 * seed is sealed (Argon2id, libsodium's "moderate" limits). ML_ERR_IO on any
 * file system failure (nothing half-written is left at path). */
int ml_identity_save(const ml_identity *id, const char *path, const char *passphrase) ML_MUST_CHECK;

/* Loads an identity. Errors: ML_ERR_NOT_FOUND (no file), ML_ERR_PERMISSION
 * (readable or writable by group or others), ML_ERR_PASSPHRASE (sealed and no
 * passphrase given, or a wrong one), ML_ERR_PROTOCOL (corrupt or truncated
 * file), ML_ERR_UNSUPPORTED (newer format version), ML_ERR_IO. */
int ml_identity_load(ml_identity **out, const char *path, const char *passphrase) ML_MUST_CHECK;

/* Loads path, or generates and saves a new identity if there is none.
 * *created (may be NULL) says which happened. */
int ml_identity_load_or_create(ml_identity **out, const char *path, const char *passphrase,
                               int *created) ML_MUST_CHECK;

/* "$XDG_DATA_HOME/mentorlink/identity.key", or
 * "$HOME/.local/share/mentorlink/identity.key". ML_ERR_BUFFER if cap is too
 * small, ML_ERR_NOT_FOUND if neither variable is set. */
int ml_identity_default_path(char *out, size_t cap) ML_MUST_CHECK;

/* The Ed25519 public key (32 bytes), owned by id. */
const uint8_t *ml_identity_public_key(const ml_identity *id);

/* The X25519 private key for Noise (the caller wipes out after use). */
void ml_identity_noise_private(const ml_identity *id, uint8_t out[ML_IDENTITY_X25519_LEN]);

/* The X25519 public key that corresponds to an Ed25519 public key.
 * ML_ERR_CRYPTO for a key that is not a valid curve point. */
int ml_identity_noise_public(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN],
                             uint8_t out[ML_IDENTITY_X25519_LEN]) ML_MUST_CHECK;

/* Printable fingerprint of an Ed25519 public key (NUL-terminated). */
void ml_identity_fingerprint(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN],
                             char out[ML_IDENTITY_FINGERPRINT_LEN]);

/* Detached Ed25519 signature (64 bytes) over msg. */
void ml_identity_sign(const ml_identity *id, const uint8_t *msg, size_t len, uint8_t sig[64]);
int ml_identity_verify(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN], const uint8_t *msg,
                       size_t len, const uint8_t sig[64]) ML_MUST_CHECK;

void ml_identity_free(ml_identity *id);

#endif /* ML_IDENTITY_H */
