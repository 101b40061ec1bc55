/* Unit tests for the safety number and SAS (common/src/verify.c, pgp_words.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ml/verify.h"

/* RFC 8032, section 7.1, TEST 1 and TEST 2 public keys. */
static const uint8_t key_1[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                  0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                  0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
static const uint8_t key_2[32] = {0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a,
                                  0xa7, 0x4d, 0x1b, 0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4,
                                  0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c};

static int setup(void **state) {
  (void)state;
  return sodium_init() < 0 ? -1 : 0;
}

static void assert_safety_number_shape(const char *s) {
  assert_int_equal(strlen(s), ML_SAFETY_NUMBER_TEXT_LEN - 1);
  for (size_t i = 0; i < ML_SAFETY_NUMBER_TEXT_LEN - 1; i++) {
    if (i % 6 == 5)
      assert_true(s[i] == ' ');
    else
      assert_true(s[i] >= '0' && s[i] <= '9');
  }
}

static void test_safety_number_known_answer(void **state) {
  (void)state;
  /* Computed independently with Python's hashlib (not with libsodium):
   *   def digits(k):
   *     h = b"\x00\x00" + k + b"mentorlink"
   *     for _ in range(5200): h = hashlib.sha512(h + k).digest()
   *     return "".join("%05d" % (int.from_bytes(h[i:i+5], "big") % 100000)
   *                    for i in range(0, 30, 5))
   *   s = "".join(sorted([digits(key_1), digits(key_2)]))
   *   " ".join(s[i:i+5] for i in range(0, 60, 5))
   * digits(key_1) = 268920353999178892085495865099
   * digits(key_2) = 050149345676148059297663147162 (the lower, so it comes first) */
  static const char expected[] =
      "05014 93456 76148 05929 76631 47162 26892 03539 99178 89208 54958 65099";
  char s[ML_SAFETY_NUMBER_TEXT_LEN];
  ml_safety_number(key_1, key_2, s);
  assert_string_equal(s, expected);
  assert_safety_number_shape(s);
}

static void test_safety_number_is_symmetric(void **state) {
  (void)state;
  char ab[ML_SAFETY_NUMBER_TEXT_LEN], ba[ML_SAFETY_NUMBER_TEXT_LEN];
  ml_safety_number(key_1, key_2, ab);
  ml_safety_number(key_2, key_1, ba);
  assert_string_equal(ab, ba);

  uint8_t a[32], b[32];
  for (int round = 0; round < 8; round++) {
    randombytes_buf(a, sizeof a);
    randombytes_buf(b, sizeof b);
    ml_safety_number(a, b, ab);
    ml_safety_number(b, a, ba);
    assert_string_equal(ab, ba);
    assert_safety_number_shape(ab);
  }
}

static void test_safety_number_changes_with_either_key(void **state) {
  (void)state;
  char base[ML_SAFETY_NUMBER_TEXT_LEN], s[ML_SAFETY_NUMBER_TEXT_LEN];
  ml_safety_number(key_1, key_2, base);

  uint8_t k[32];
  memcpy(k, key_1, sizeof k);
  k[31] ^= 0x01;
  ml_safety_number(k, key_2, s);
  assert_string_not_equal(s, base);

  memcpy(k, key_2, sizeof k);
  k[0] ^= 0x80;
  ml_safety_number(key_1, k, s);
  assert_string_not_equal(s, base);

  /* Same key twice: defined, and different from the pair. */
  ml_safety_number(key_1, key_1, s);
  assert_string_not_equal(s, base);
  assert_safety_number_shape(s);
}

static void test_sas_known_answer(void **state) {
  (void)state;
  /* Computed independently with Python's hashlib:
   *   s = hashlib.blake2b(b"mentorlink-sas-v1" + hh, digest_size=32).digest()[:5]
   * then word i = (even if i % 2 == 0 else odd)[s[i]].
   *   hh = bytes(range(64)): s = de 7a 82 8e 03
   *   hh = bytes(64):        s = d3 b4 aa 9f fc */
  uint8_t hh[64];
  for (int i = 0; i < 64; i++)
    hh[i] = (uint8_t)i;
  uint8_t idx[ML_SAS_WORDS];
  char text[ML_SAS_TEXT_LEN];
  ml_sas_indices(hh, idx);
  static const uint8_t expected_idx[ML_SAS_WORDS] = {0xde, 0x7a, 0x82, 0x8e, 0x03};
  assert_memory_equal(idx, expected_idx, ML_SAS_WORDS);
  ml_sas_text(hh, text);
  assert_string_equal(text, "tactics infancy miser microwave acme");

  memset(hh, 0, sizeof hh);
  static const uint8_t expected_zero[ML_SAS_WORDS] = {0xd3, 0xb4, 0xaa, 0x9f, 0xfc};
  ml_sas_indices(hh, idx);
  assert_memory_equal(idx, expected_zero, ML_SAS_WORDS);
  ml_sas_text(hh, text);
  assert_string_equal(text, "stapler politeness reward opulent wayside");
}

static size_t count_words(const char *s) {
  size_t n = 1;
  for (; *s; s++)
    if (*s == ' ')
      n++;
  return n;
}

static void test_sas_deterministic_and_hash_dependent(void **state) {
  (void)state;
  uint8_t hh[64];
  char a[ML_SAS_TEXT_LEN], b[ML_SAS_TEXT_LEN];
  int differ = 0;
  for (int round = 0; round < 32; round++) {
    randombytes_buf(hh, sizeof hh);
    ml_sas_text(hh, a);
    ml_sas_text(hh, b);
    assert_string_equal(a, b);
    assert_int_equal(count_words(a), ML_SAS_WORDS);

    uint8_t idx[ML_SAS_WORDS];
    ml_sas_indices(hh, idx);
    char rebuilt[ML_SAS_TEXT_LEN];
    int n = snprintf(rebuilt, sizeof rebuilt, "%s %s %s %s %s", ml_sas_word(0, idx[0]),
                     ml_sas_word(1, idx[1]), ml_sas_word(2, idx[2]), ml_sas_word(3, idx[3]),
                     ml_sas_word(4, idx[4]));
    assert_true(n > 0 && (size_t)n < sizeof rebuilt);
    assert_string_equal(a, rebuilt);

    hh[round % 64] ^= 0x01; /* any change to the hash changes the words (w.p. 1 - 2^-40) */
    ml_sas_text(hh, b);
    differ += strcmp(a, b) != 0;
  }
  assert_int_equal(differ, 32);
}

static void test_word_tables(void **state) {
  (void)state;
  /* Spot checks against the published list. */
  assert_string_equal(ml_sas_word(0, 0x00), "aardvark");
  assert_string_equal(ml_sas_word(1, 0x00), "adroitness");
  assert_string_equal(ml_sas_word(0, 0xff), "Zulu");
  assert_string_equal(ml_sas_word(1, 0xff), "Yucatan");
  assert_string_equal(ml_sas_word(0, 0x17), "banjo");
  assert_string_equal(ml_sas_word(0, 0x09), "Algol");
  assert_string_equal(ml_sas_word(1, 0x0a), "Apollo");
  assert_string_equal(ml_sas_word(1, 0x63), "Galveston");
  assert_string_equal(ml_sas_word(0, 0xde), "tactics");
  assert_string_equal(ml_sas_word(2, 0xa2), "rebirth"); /* positions alternate */
  assert_string_equal(ml_sas_word(3, 0x6d), "hazardous");
  assert_string_equal(ml_sas_word(4, 0xc1), "snapline");

  /* 256 distinct entries per list, none empty; no word in both lists. */
  for (unsigned list = 0; list < 2; list++) {
    for (unsigned i = 0; i < 256; i++) {
      const char *w = ml_sas_word(list, (uint8_t)i);
      assert_non_null(w);
      assert_true(strlen(w) >= 4 && strlen(w) <= 11);
      for (unsigned j = 0; j < i; j++)
        assert_string_not_equal(w, ml_sas_word(list, (uint8_t)j));
      for (unsigned j = 0; j < 256; j++)
        assert_string_not_equal(w, ml_sas_word(1 - list, (uint8_t)j));
    }
  }

  /* The whole list, pinned: SHA-256 over even[0..255] then odd[0..255], joined
   * by "\n" (no trailing newline). The same value is published with an
   * independently cross-checked copy of the list; see common/src/pgp_words.c. */
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  for (unsigned n = 0; n < 512; n++) {
    if (n > 0)
      crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
    const char *w = ml_sas_word(n / 256, (uint8_t)(n % 256));
    crypto_hash_sha256_update(&st, (const uint8_t *)w, strlen(w));
  }
  uint8_t digest[crypto_hash_sha256_BYTES];
  char hex[2 * sizeof digest + 1];
  crypto_hash_sha256_final(&st, digest);
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  assert_string_equal(hex, "e9b7b0052233a74aa56724ed3f79c272036aed68d8f4c0856e833c8043b9ac62");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_safety_number_known_answer),
      cmocka_unit_test(test_safety_number_is_symmetric),
      cmocka_unit_test(test_safety_number_changes_with_either_key),
      cmocka_unit_test(test_sas_known_answer),
      cmocka_unit_test(test_sas_deterministic_and_hash_dependent),
      cmocka_unit_test(test_word_tables),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
