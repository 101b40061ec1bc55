/* mentorlink — what two people compare to trust a call.
 *
 * Safety number: 60 decimal digits for a pair of Ed25519 identity keys,
 * identical on both sides whatever the order, stable for as long as neither
 * identity changes. Derived as Signal's NumericFingerprintGenerator (version
 * 0, 5200 iterations) does, with the fixed identifier "mentorlink":
 *   for each 32-byte key K:
 *     H = SHA-512(0x00 0x00 || K || "mentorlink" || K)
 *     repeat 5199 times: H = SHA-512(H || K)        (5200 SHA-512 in all)
 *     digits(K) = for c in 0..5: BE40(H[5c .. 5c+5]) mod 100000, as %05u
 *                 (30 digits)
 *   number = min(digits(A), digits(B)) || max(...)  (ASCII order, 60 digits)
 *   text   = 12 groups of 5 digits separated by single spaces.
 *
 * Short authentication string (SAS): 5 words of the PGP word list derived from
 * the Noise handshake hash, which both ends of one handshake share and a man in
 * the middle cannot make equal on both of his handshakes. Read aloud to rule
 * out interception, including by a malicious signaling server.
 *   S = BLAKE2b-256(key = none, "mentorlink-sas-v1" || handshake_hash(64))
 *   word i (0..4) = PGP word for byte S[i]: the two-syllable ("even") list
 *   when i is even, the three-syllable ("odd") list when i is odd; joined by
 *   single spaces, capitalised as the list is.
 * Byte-exact description: docs/PROTOCOL.md, "Verification".
 *
 * All functions are pure (no allocation, no shared state) and may be called
 * from any thread.
 */
#ifndef ML_VERIFY_H
#define ML_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_SAFETY_NUMBER_DIGITS 60
/* 12 groups of 5 digits separated by spaces, NUL-terminated. */
#define ML_SAFETY_NUMBER_TEXT_LEN (ML_SAFETY_NUMBER_DIGITS + 11 + 1)
#define ML_SAS_WORDS 5
/* Room for 5 words of the list (at most 11 letters each), spaces and NUL. */
#define ML_SAS_TEXT_LEN 64

/* Writes the safety number of (key_a, key_b), grouped, into out. */
void ml_safety_number(const uint8_t key_a[32], const uint8_t key_b[32],
                      char out[ML_SAFETY_NUMBER_TEXT_LEN]);

/* The SAS bytes (S[0..4] above, 0..255 each) and their text, NUL-terminated;
 * e.g. the hash 00 01 02 .. 3f gives "tactics infancy miser microwave acme". */
void ml_sas_indices(const uint8_t handshake_hash[64], uint8_t out[ML_SAS_WORDS]);
void ml_sas_text(const uint8_t handshake_hash[64], char out[ML_SAS_TEXT_LEN]);

/* Word for byte b at position pos (even positions use the two-syllable list,
 * odd positions the three-syllable list, as the PGP word list specifies).
 * The result is a static string: never NULL, never freed. */
const char *ml_sas_word(unsigned pos, uint8_t b);

#endif /* ML_VERIFY_H */
