/* mentorlink — the PGP word list tables (private to ml_common).
 *
 * Index = byte value. Callers outside common/src use ml_sas_word() (ml/verify.h).
 */
#ifndef ML_PGP_WORDS_H
#define ML_PGP_WORDS_H

#define ML_PGP_WORDS_COUNT 256

/* Two-syllable words, "aardvark" (0x00) .. "Zulu" (0xFF): bytes at even positions. */
extern const char *const ml_pgp_words_even[ML_PGP_WORDS_COUNT];
/* Three-syllable words, "adroitness" (0x00) .. "Yucatan" (0xFF): bytes at odd positions. */
extern const char *const ml_pgp_words_odd[ML_PGP_WORDS_COUNT];

#endif /* ML_PGP_WORDS_H */
