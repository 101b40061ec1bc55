/* Noise handshake patterns (revision 34, sections 7 and 9): the table of
 * one-way, fundamental and deferred patterns, and the parser of a pattern
 * name with its psk modifiers ("XXpsk3", "NNpsk0+psk2"). Private to common/. */
#ifndef ML_NOISE_PATTERNS_H
#define ML_NOISE_PATTERNS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ml_noise_token {
  ML_NOISE_TOKEN_E,
  ML_NOISE_TOKEN_S,
  ML_NOISE_TOKEN_EE,
  ML_NOISE_TOKEN_ES,
  ML_NOISE_TOKEN_SE,
  ML_NOISE_TOKEN_SS,
  ML_NOISE_TOKEN_PSK,
} ml_noise_token;

/* Pre-message contents, as a bit set. */
#define ML_NOISE_PRE_E 1u
#define ML_NOISE_PRE_S 2u

#define ML_NOISE_MAX_MESSAGES 4
#define ML_NOISE_MAX_TOKENS 8

typedef struct ml_noise_message {
  ml_noise_token tokens[ML_NOISE_MAX_TOKENS];
  size_t n_tokens;
} ml_noise_message;

/* Messages alternate: index 0, 2, ... are sent by the initiator. */
typedef struct ml_noise_pattern {
  unsigned pre_initiator, pre_responder;
  ml_noise_message messages[ML_NOISE_MAX_MESSAGES];
  size_t n_messages;
  bool one_way;
  bool has_psk;
  size_t n_psk_tokens;
} ml_noise_pattern;

/* Parses the pattern part of a protocol name (name[0..len), not terminated).
 * ML_ERR_UNSUPPORTED for unknown patterns or modifiers (e.g. "fallback"),
 * ML_ERR_INVALID for a psk modifier that names no message or repeats. */
int ml_noise_pattern_parse(const char *name, size_t len, ml_noise_pattern *out);

#endif /* ML_NOISE_PATTERNS_H */
