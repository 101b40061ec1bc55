/* mentorlink — test hook of the handshake (private to common and its tests;
 * never used by production code). */
#ifndef ML_HANDSHAKE_INTERNAL_H
#define ML_HANDSHAKE_INTERNAL_H

#include <stdint.h>

#include "ml/handshake.h"

/* Every attempt from now on uses this X25519 private key as its ephemeral
 * instead of a random one, so a fuzzer or test runs deterministically. */
void ml_handshake_test_set_ephemeral(ml_handshake *hs, const uint8_t private_key[ML_NOISE_KEY_LEN]);

#endif /* ML_HANDSHAKE_INTERNAL_H */
