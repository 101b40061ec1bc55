/* mentorlink — what two people compare to trust a call.
 *
 * Safety number: 60 decimal digits for a pair of identity keys, identical on
 * both sides whatever the order (each key gives 30 digits from 5200 iterations
 * of SHA-512, as Signal does; the two halves are sorted and joined). It is
 * stable for as long as neither identity changes.
 *
 * Short authentication string (SAS): 5 words of the PGP word list derived from
 * the Noise handshake hash, which both ends of one handshake share and a man in
 * the middle cannot make equal on both of his handshakes. Read aloud to rule
 * out interception, including by a malicious signaling server.
 * Derivation: docs/PROTOCOL.md, "Verification".
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

/* The SAS word indices (0..255 each) and their text, e.g.
 * "tactics Galveston rebirth hazardous snapline". */
void ml_sas_indices(const uint8_t handshake_hash[64], uint8_t out[ML_SAS_WORDS]);
void ml_sas_text(const uint8_t handshake_hash[64], char out[ML_SAS_TEXT_LEN]);

/* Word for byte b at position pos (even positions use the two-syllable list,
 * odd positions the three-syllable list, as the PGP word list specifies). */
const char *ml_sas_word(unsigned pos, uint8_t b);

#endif /* ML_VERIFY_H */
