#include "ml/verify.h"

#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "pgp_words.h"

/* Signal's NumericFingerprintGenerator, with a fixed identifier (we have no
 * per-user stable identifier such as a phone number). */
#define SAFETY_VERSION 0
#define SAFETY_ITERATIONS 5200
#define SAFETY_IDENTIFIER "mentorlink"
#define SAFETY_KEY_DIGITS 30
#define SAFETY_GROUP 5

#define SAS_LABEL "mentorlink-sas-v1"
#define SAS_HASH_LEN 32

/* 30 digits for one key: 6 chunks of 5 bytes of the iterated SHA-512 digest,
 * each a big-endian 40-bit integer mod 100000, zero-padded to 5 digits. */
static void key_digits(const uint8_t key[32], char out[SAFETY_KEY_DIGITS]) {
  static const uint8_t version[2] = {(SAFETY_VERSION >> 8) & 0xff, SAFETY_VERSION & 0xff};
  uint8_t hash[crypto_hash_sha512_BYTES];
  crypto_hash_sha512_state st;

  /* Round 1 hashes version || key || identifier || key; every later round
   * hashes previous digest || key. 5200 SHA-512 evaluations in all. */
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, version, sizeof version);
  crypto_hash_sha512_update(&st, key, 32);
  crypto_hash_sha512_update(&st, (const uint8_t *)SAFETY_IDENTIFIER, sizeof SAFETY_IDENTIFIER - 1);
  crypto_hash_sha512_update(&st, key, 32);
  crypto_hash_sha512_final(&st, hash);
  for (int i = 1; i < SAFETY_ITERATIONS; i++) {
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, hash, sizeof hash);
    crypto_hash_sha512_update(&st, key, 32);
    crypto_hash_sha512_final(&st, hash);
  }

  for (int c = 0; c < SAFETY_KEY_DIGITS / SAFETY_GROUP; c++) {
    uint64_t v = 0;
    for (int j = 0; j < 5; j++)
      v = (v << 8) | hash[c * 5 + j];
    v %= 100000;
    for (int d = SAFETY_GROUP - 1; d >= 0; d--) {
      out[c * SAFETY_GROUP + d] = (char)('0' + v % 10);
      v /= 10;
    }
  }
}

void ml_safety_number(const uint8_t key_a[32], const uint8_t key_b[32],
                      char out[ML_SAFETY_NUMBER_TEXT_LEN]) {
  assert(key_a && key_b && out);
  char a[SAFETY_KEY_DIGITS], b[SAFETY_KEY_DIGITS];
  key_digits(key_a, a);
  key_digits(key_b, b);

  /* Lower half first, so both ends print the same number. */
  char joined[ML_SAFETY_NUMBER_DIGITS];
  const char *lo = memcmp(a, b, sizeof a) <= 0 ? a : b;
  const char *hi = lo == a ? b : a;
  memcpy(joined, lo, SAFETY_KEY_DIGITS);
  memcpy(joined + SAFETY_KEY_DIGITS, hi, SAFETY_KEY_DIGITS);

  size_t o = 0;
  for (size_t i = 0; i < ML_SAFETY_NUMBER_DIGITS; i++) {
    if (i > 0 && i % SAFETY_GROUP == 0)
      out[o++] = ' ';
    out[o++] = joined[i];
  }
  out[o] = '\0';
  assert(o + 1 == ML_SAFETY_NUMBER_TEXT_LEN);
}

void ml_sas_indices(const uint8_t handshake_hash[64], uint8_t out[ML_SAS_WORDS]) {
  assert(handshake_hash && out);
  uint8_t sas[SAS_HASH_LEN];
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof sas);
  crypto_generichash_update(&st, (const uint8_t *)SAS_LABEL, sizeof SAS_LABEL - 1);
  crypto_generichash_update(&st, handshake_hash, 64);
  crypto_generichash_final(&st, sas, sizeof sas);
  memcpy(out, sas, ML_SAS_WORDS);
}

const char *ml_sas_word(unsigned pos, uint8_t b) {
  return (pos % 2 == 0) ? ml_pgp_words_even[b] : ml_pgp_words_odd[b];
}

void ml_sas_text(const uint8_t handshake_hash[64], char out[ML_SAS_TEXT_LEN]) {
  assert(handshake_hash && out);
  uint8_t idx[ML_SAS_WORDS];
  ml_sas_indices(handshake_hash, idx);
  size_t o = 0;
  for (unsigned i = 0; i < ML_SAS_WORDS; i++) {
    const char *w = ml_sas_word(i, idx[i]);
    size_t n = strlen(w);
    /* Longest words: 9 letters (even), 11 (odd): at most 3*9 + 2*11 + 4 + 1 = 54. */
    assert(o + (i > 0) + n < ML_SAS_TEXT_LEN);
    if (i > 0)
      out[o++] = ' ';
    memcpy(out + o, w, n);
    o += n;
  }
  out[o] = '\0';
}
