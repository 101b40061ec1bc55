#include "noise_patterns.h"

#include <string.h>

#include "ml/error.h"

/* Each pattern as the specification writes it: pre-messages, then the
 * messages' tokens separated by spaces. */
typedef struct pattern_def {
  const char *name;
  unsigned pre_i, pre_r;
  const char *msgs[ML_NOISE_MAX_MESSAGES];
} pattern_def;

static const pattern_def patterns[] = {
    /* 7.4 one-way */
    {"N", 0, ML_NOISE_PRE_S, {"e es"}},
    {"K", ML_NOISE_PRE_S, ML_NOISE_PRE_S, {"e es ss"}},
    {"X", 0, ML_NOISE_PRE_S, {"e es s ss"}},
    /* 7.5 fundamental interactive */
    {"NN", 0, 0, {"e", "e ee"}},
    {"NK", 0, ML_NOISE_PRE_S, {"e es", "e ee"}},
    {"NX", 0, 0, {"e", "e ee s es"}},
    {"KN", ML_NOISE_PRE_S, 0, {"e", "e ee se"}},
    {"KK", ML_NOISE_PRE_S, ML_NOISE_PRE_S, {"e es ss", "e ee se"}},
    {"KX", ML_NOISE_PRE_S, 0, {"e", "e ee se s es"}},
    {"XN", 0, 0, {"e", "e ee", "s se"}},
    {"XK", 0, ML_NOISE_PRE_S, {"e es", "e ee", "s se"}},
    {"XX", 0, 0, {"e", "e ee s es", "s se"}},
    {"IN", 0, 0, {"e s", "e ee se"}},
    {"IK", 0, ML_NOISE_PRE_S, {"e es s ss", "e ee se"}},
    {"IX", 0, 0, {"e s", "e ee se s es"}},
    /* 7.6 deferred */
    {"NK1", 0, ML_NOISE_PRE_S, {"e", "e ee es"}},
    {"NX1", 0, 0, {"e", "e ee s", "es"}},
    {"X1N", 0, 0, {"e", "e ee", "s", "se"}},
    {"X1K", 0, ML_NOISE_PRE_S, {"e es", "e ee", "s", "se"}},
    {"XK1", 0, ML_NOISE_PRE_S, {"e", "e ee es", "s se"}},
    {"X1K1", 0, ML_NOISE_PRE_S, {"e", "e ee es", "s", "se"}},
    {"X1X", 0, 0, {"e", "e ee s es", "s", "se"}},
    {"XX1", 0, 0, {"e", "e ee s", "es s se"}},
    {"X1X1", 0, 0, {"e", "e ee s", "es s", "se"}},
    {"K1N", ML_NOISE_PRE_S, 0, {"e", "e ee", "se"}},
    {"K1K", ML_NOISE_PRE_S, ML_NOISE_PRE_S, {"e es", "e ee", "se"}},
    {"KK1", ML_NOISE_PRE_S, ML_NOISE_PRE_S, {"e", "e ee se es"}},
    {"K1K1", ML_NOISE_PRE_S, ML_NOISE_PRE_S, {"e", "e ee es", "se"}},
    {"K1X", ML_NOISE_PRE_S, 0, {"e", "e ee s es", "se"}},
    {"KX1", ML_NOISE_PRE_S, 0, {"e", "e ee se s", "es"}},
    {"K1X1", ML_NOISE_PRE_S, 0, {"e", "e ee s", "se es"}},
    {"I1N", 0, 0, {"e s", "e ee", "se"}},
    {"I1K", 0, ML_NOISE_PRE_S, {"e es s", "e ee", "se"}},
    {"IK1", 0, ML_NOISE_PRE_S, {"e s", "e ee se es"}},
    {"I1K1", 0, ML_NOISE_PRE_S, {"e s", "e ee es", "se"}},
    {"I1X", 0, 0, {"e s", "e ee s es", "se"}},
    {"IX1", 0, 0, {"e s", "e ee se s", "es"}},
    {"I1X1", 0, 0, {"e s", "e ee s", "se es"}},
};

static int parse_tokens(const char *text, ml_noise_message *m) {
  static const struct {
    const char *word;
    ml_noise_token token;
  } words[] = {{"e", ML_NOISE_TOKEN_E},   {"s", ML_NOISE_TOKEN_S},   {"ee", ML_NOISE_TOKEN_EE},
               {"es", ML_NOISE_TOKEN_ES}, {"se", ML_NOISE_TOKEN_SE}, {"ss", ML_NOISE_TOKEN_SS}};
  m->n_tokens = 0;
  while (*text) {
    size_t n = strcspn(text, " ");
    size_t i;
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
      if (strlen(words[i].word) == n && strncmp(words[i].word, text, n) == 0)
        break;
    if (i == sizeof words / sizeof words[0] || m->n_tokens == ML_NOISE_MAX_TOKENS)
      return ML_ERR_INVALID; /* a mistake in the table above */
    m->tokens[m->n_tokens++] = words[i].token;
    text += n;
    text += strspn(text, " ");
  }
  return ML_OK;
}

/* Applies one "pskN" modifier (section 9.3): psk0 at the start of the first
 * message, pskN at the end of message N. */
static int apply_psk(ml_noise_pattern *p, unsigned n, unsigned *seen) {
  if (n >= 8 || (*seen & (1u << n)))
    return ML_ERR_INVALID;
  *seen |= 1u << n;
  size_t idx = n == 0 ? 0 : n - 1;
  if (idx >= p->n_messages)
    return ML_ERR_INVALID;
  ml_noise_message *m = &p->messages[idx];
  if (m->n_tokens == ML_NOISE_MAX_TOKENS)
    return ML_ERR_INVALID;
  if (n == 0) {
    memmove(m->tokens + 1, m->tokens, m->n_tokens * sizeof m->tokens[0]);
    m->tokens[0] = ML_NOISE_TOKEN_PSK;
  } else {
    m->tokens[m->n_tokens] = ML_NOISE_TOKEN_PSK;
  }
  m->n_tokens++;
  p->has_psk = true;
  p->n_psk_tokens++;
  return ML_OK;
}

static int parse_modifiers(const char *s, size_t len, ml_noise_pattern *p) {
  unsigned seen = 0;
  size_t pos = 0;
  while (pos < len) {
    size_t end = pos;
    while (end < len && s[end] != '+')
      end++;
    /* Only "psk" followed by one digit is a modifier we implement. */
    if (end - pos != 4 || strncmp(s + pos, "psk", 3) != 0 || s[pos + 3] < '0' || s[pos + 3] > '9')
      return ML_ERR_UNSUPPORTED;
    int err = apply_psk(p, (unsigned)(s[pos + 3] - '0'), &seen);
    if (err)
      return err;
    if (end < len && end + 1 == len)
      return ML_ERR_INVALID; /* trailing '+' */
    pos = end + 1;
  }
  return ML_OK;
}

int ml_noise_pattern_parse(const char *name, size_t len, ml_noise_pattern *out) {
  /* The base name is the longest run of pattern letters; the rest modifies it. */
  size_t base = 0;
  while (base < len && strchr("NKXI1", name[base]) && name[base] != '\0')
    base++;
  for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
    const pattern_def *d = &patterns[i];
    if (strlen(d->name) != base || strncmp(d->name, name, base) != 0)
      continue;
    memset(out, 0, sizeof *out);
    out->pre_initiator = d->pre_i;
    out->pre_responder = d->pre_r;
    for (size_t m = 0; m < ML_NOISE_MAX_MESSAGES && d->msgs[m]; m++) {
      int err = parse_tokens(d->msgs[m], &out->messages[m]);
      if (err)
        return err;
      out->n_messages++;
    }
    out->one_way = out->n_messages == 1;
    return parse_modifiers(name + base, len - base, out);
  }
  return ML_ERR_UNSUPPORTED;
}
