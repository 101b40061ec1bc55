/* mentorlink — the user's long-term identity.
 *
 * An Ed25519 key pair. Its X25519 form (libsodium's conversion) is the Noise
 * static key, so one key both signs and authenticates handshakes. The file is
 * written atomically (temporary file in the same directory, fsync, rename,
 * fsync of the directory) with mode 0600, creating missing parent directories
 * with mode 0700, optionally sealed with a passphrase (Argon2id +
 * XSalsa20-Poly1305 secretbox). The secret half lives in sodium_malloc memory
 * (read-only once built), wiped when the identity is freed.
 *
 * File format, version 1 (all integers big-endian; docs/PROTOCOL.md,
 * "Identity file"):
 *   offset  size
 *        0     4  magic "MLID" (0x4d 0x4c 0x49 0x44)
 *        4     1  version = 1
 *        5     1  flags: bit 0 = sealed; every other bit must be 0
 *   unsealed (flags = 0), 70 bytes in all:
 *        6    32  Ed25519 seed
 *       38    32  Ed25519 public key
 *   sealed (flags = 1), 142 bytes in all:
 *        6    16  salt
 *       22     8  Argon2id opslimit (u64)
 *       30     8  Argon2id memlimit in bytes (u64)
 *       38    24  nonce
 *       62    48  crypto_secretbox_easy(seed): Poly1305 tag (16) || ciphertext (32),
 *                 key = crypto_pwhash(32 bytes, passphrase without its NUL, salt,
 *                 opslimit, memlimit, Argon2id v1.3)
 *      110    32  Ed25519 public key
 * The public key is checked against the seed on load. A file of any other
 * length, bad magic, version 0, unknown flag bits, or Argon2id limits outside
 * [crypto_pwhash_OPSLIMIT_MIN, _SENSITIVE] x [crypto_pwhash_MEMLIMIT_MIN,
 * _SENSITIVE] (so a tampered file cannot make load allocate without bound) is
 * corrupt. The header and public key are not covered by the secretbox: a
 * changed salt, limit or nonce shows up as a wrong passphrase, a changed
 * public key as corruption.
 *
 * Threading: an ml_identity is immutable once made, so the const functions may
 * be called from any thread at once. ml_identity_default_path reads the
 * environment (getenv). The functions that create identities or touch files
 * call sodium_init themselves; the others are pure computations.
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

/* A fresh identity from libsodium's RNG. (transfer full: ml_identity_free) */
int ml_identity_generate(ml_identity **out) ML_MUST_CHECK;

/* Writes the identity to path atomically with mode 0600, replacing any file
 * there, creating missing parent directories with mode 0700 (existing ones are
 * left as they are). With a non-NULL, non-empty passphrase the seed is sealed
 * (Argon2id with libsodium's "moderate" limits: about a second and 256 MiB).
 * ML_ERR_IO on any file system failure (nothing half-written is left at path
 * and the temporary file is removed), ML_ERR_NOMEM if Argon2id cannot get its
 * memory. */
int ml_identity_save(const ml_identity *id, const char *path, const char *passphrase) ML_MUST_CHECK;

/* Loads an identity (transfer full: ml_identity_free). passphrase is ignored
 * for an unsealed file. The permission check is made on the opened file
 * (fstat), not on the name. Errors: ML_ERR_NOT_FOUND (no file),
 * ML_ERR_PERMISSION (any permission bit for group or others, i.e. mode & 077,
 * or owned by another user), ML_ERR_PASSPHRASE (sealed and no or an empty
 * passphrase given, or a wrong one, or a damaged sealed part: the secretbox
 * cannot tell these apart), ML_ERR_PROTOCOL (corrupt or truncated file, or
 * larger than 4 KiB), ML_ERR_UNSUPPORTED (newer format version), ML_ERR_NOMEM,
 * ML_ERR_IO (e.g. not a regular file, or a read error). */
int ml_identity_load(ml_identity **out, const char *path, const char *passphrase) ML_MUST_CHECK;

/* Loads path, or generates and saves a new identity if there is none
 * (ML_ERR_NOT_FOUND from ml_identity_load). *created (may be NULL) is set to 1
 * if a new identity was made, 0 if one was loaded. A new file is linked into
 * place without replacing: if another process created one in the meantime,
 * that one is loaded instead, so two first runs agree on one key. Errors: as
 * ml_identity_load and ml_identity_save. */
int ml_identity_load_or_create(ml_identity **out, const char *path, const char *passphrase,
                               int *created) ML_MUST_CHECK;

/* "$XDG_DATA_HOME/mentorlink/identity.key" if XDG_DATA_HOME is an absolute
 * path (the XDG spec says to ignore a relative one), else
 * "$HOME/.local/share/mentorlink/identity.key" if HOME is non-empty.
 * ML_ERR_BUFFER if cap is too small, ML_ERR_NOT_FOUND if neither applies. */
int ml_identity_default_path(char *out, size_t cap) ML_MUST_CHECK;

/* The Ed25519 public key (32 bytes), owned by id. */
const uint8_t *ml_identity_public_key(const ml_identity *id);

/* The X25519 private key for Noise (crypto_sign_ed25519_sk_to_curve25519;
 * the caller wipes out after use, e.g. with sodium_memzero). */
void ml_identity_noise_private(const ml_identity *id, uint8_t out[ML_IDENTITY_X25519_LEN]);

/* The X25519 public key that corresponds to an Ed25519 public key
 * (crypto_sign_ed25519_pk_to_curve25519). ML_ERR_CRYPTO for a key that is not
 * a valid curve point, has small order or lies outside the prime-order group. */
int ml_identity_noise_public(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN],
                             uint8_t out[ML_IDENTITY_X25519_LEN]) ML_MUST_CHECK;

/* Printable fingerprint of an Ed25519 public key (NUL-terminated): the 16-byte
 * BLAKE2b (crypto_generichash, no key) of the 32-byte key, as lowercase hex in
 * 8 groups of 4 digits separated by single spaces. */
void ml_identity_fingerprint(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN],
                             char out[ML_IDENTITY_FINGERPRINT_LEN]);

/* Detached Ed25519 signature (64 bytes) over msg; verify returns ML_OK or
 * ML_ERR_CRYPTO. */
void ml_identity_sign(const ml_identity *id, const uint8_t *msg, size_t len, uint8_t sig[64]);
int ml_identity_verify(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN], const uint8_t *msg,
                       size_t len, const uint8_t sig[64]) ML_MUST_CHECK;

/* Wipes and frees the identity; NULL does nothing. */
void ml_identity_free(ml_identity *id);

#endif /* ML_IDENTITY_H */
