/* Signed join tokens. See ml/signal_token.h. */
#include "ml/signal_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <sodium.h>

#include "message.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static void mac(const uint8_t *secret, size_t secret_len, const char *msg, size_t len,
                uint8_t out[crypto_auth_hmacsha256_BYTES]) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, secret, secret_len);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

static bool claims_valid(const ml_token_claims *c) {
  return memchr(c->room, '\0', sizeof c->room) && memchr(c->name, '\0', sizeof c->name) &&
         ml_sig_valid_id(c->room) && ml_sig_valid_name(c->name) &&
         (c->role == ML_TOKEN_ROLE_HOST || c->role == ML_TOKEN_ROLE_PARTICIPANT) &&
         c->not_before >= 0 && (c->not_before == 0 || c->not_before < c->expiry);
}

int ml_token_issue(const uint8_t *secret, size_t secret_len, const ml_token_claims *claims,
                   char **out) {
  g_assert(secret && claims && out);
  if (secret_len < ML_TOKEN_MIN_SECRET || !claims_valid(claims))
    return ML_ERR_INVALID;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "v");
  json_builder_add_int_value(b, 1);
  json_builder_set_member_name(b, "room");
  json_builder_add_string_value(b, claims->room);
  json_builder_set_member_name(b, "role");
  json_builder_add_string_value(b, claims->role == ML_TOKEN_ROLE_HOST ? "host" : "participant");
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, claims->name);
  json_builder_set_member_name(b, "exp");
  json_builder_add_int_value(b, claims->expiry);
  if (claims->not_before) {
    json_builder_set_member_name(b, "nbf");
    json_builder_add_int_value(b, claims->not_before);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *payload = json_to_string(root, FALSE);
  size_t plen = strlen(payload);

  size_t b64cap = sodium_base64_ENCODED_LEN(plen, B64);
  size_t maccap = sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, B64);
  char *tok = malloc(b64cap + maccap + 1);
  if (!tok)
    return ML_ERR_NOMEM;
  sodium_bin2base64(tok, b64cap, (const unsigned char *)payload, plen, B64);
  size_t head = strlen(tok);
  uint8_t tag[crypto_auth_hmacsha256_BYTES];
  mac(secret, secret_len, tok, head, tag);
  tok[head] = '.';
  sodium_bin2base64(tok + head + 1, maccap, tag, sizeof tag, B64);
  if (strlen(tok) > ML_TOKEN_MAX_LEN) {
    free(tok);
    return ML_ERR_INVALID;
  }
  *out = tok;
  return ML_OK;
}

static bool str_member(JsonObject *o, const char *k, char *dst, size_t cap) {
  JsonNode *n = json_object_get_member(o, k);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return false;
  const char *s = json_node_get_string(n);
  if (strlen(s) >= cap)
    return false;
  memcpy(dst, s, strlen(s) + 1);
  return true;
}

/* The integer member k, or false. */
static bool int_member(JsonObject *o, const char *k, int64_t *out) {
  JsonNode *n = json_object_get_member(o, k);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
    return false;
  *out = json_node_get_int(n);
  return true;
}

static int parse_payload(const char *json, size_t len, ml_token_claims *c) {
  int rc = ML_ERR_PROTOCOL;
  JsonParser *p = json_parser_new_immutable();
  if (!g_utf8_validate(json, (gssize)len, NULL) || memchr(json, '\0', len) ||
      !json_parser_load_from_data(p, json, (gssize)len, NULL))
    goto out;
  JsonNode *root = json_parser_get_root(p);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    goto out;
  JsonObject *o = json_node_get_object(root);
  /* v, room, role, name, exp; nbf only when given (tokens without it stay
   * byte-for-byte what they were). */
  bool has_nbf = json_object_has_member(o, "nbf");
  int64_t v = 0;
  char role[16];
  if (json_object_get_size(o) != (has_nbf ? 6u : 5u) || !int_member(o, "v", &v) || v != 1 ||
      !int_member(o, "exp", &c->expiry) || (has_nbf && !int_member(o, "nbf", &c->not_before)) ||
      (has_nbf && c->not_before <= 0) || !str_member(o, "room", c->room, sizeof c->room) ||
      !str_member(o, "name", c->name, sizeof c->name) || !str_member(o, "role", role, sizeof role))
    goto out;
  if (!strcmp(role, "host"))
    c->role = ML_TOKEN_ROLE_HOST;
  else if (!strcmp(role, "participant"))
    c->role = ML_TOKEN_ROLE_PARTICIPANT;
  else
    goto out;
  if (claims_valid(c))
    rc = ML_OK;
out:
  g_object_unref(p);
  return rc;
}

/* The claims in the first head bytes of token (base64url of the payload). */
static int decode_payload(const char *token, size_t head, ml_token_claims *claims) {
  char payload[ML_TOKEN_MAX_LEN];
  size_t n = 0;
  const char *end = NULL;
  if (sodium_base642bin((unsigned char *)payload, sizeof payload, token, head, NULL, &n, &end,
                        B64) != 0 ||
      end != token + head)
    return ML_ERR_PROTOCOL;
  return parse_payload(payload, n, claims);
}

int ml_token_verify(const uint8_t *secret, size_t secret_len, const char *token, int64_t now,
                    ml_token_claims *claims) {
  g_assert(secret && token && claims);
  memset(claims, 0, sizeof *claims);
  size_t len = strnlen(token, ML_TOKEN_MAX_LEN + 1);
  if (len > ML_TOKEN_MAX_LEN || secret_len < ML_TOKEN_MIN_SECRET)
    return ML_ERR_PROTOCOL;
  const char *dot = memchr(token, '.', len);
  if (!dot || dot == token)
    return ML_ERR_PROTOCOL;
  size_t head = (size_t)(dot - token);
  const char *tagtxt = dot + 1;
  size_t taglen = len - head - 1;

  uint8_t tag[crypto_auth_hmacsha256_BYTES + 1];
  size_t n = 0;
  const char *end = NULL;
  if (sodium_base642bin(tag, sizeof tag, tagtxt, taglen, NULL, &n, &end, B64) != 0 ||
      end != tagtxt + taglen || n != crypto_auth_hmacsha256_BYTES)
    return ML_ERR_PROTOCOL;
  uint8_t want[crypto_auth_hmacsha256_BYTES];
  mac(secret, secret_len, token, head, want);
  if (sodium_memcmp(want, tag, sizeof want) != 0)
    return ML_ERR_CRYPTO;

  /* Authenticated from here on; still parse strictly. */
  int rc = decode_payload(token, head, claims);
  if (rc != ML_OK)
    return rc;
  if (claims->expiry <= now || claims->not_before > now)
    return ML_ERR_STATE;
  return ML_OK;
}

int ml_token_read_claims(const char *token, ml_token_claims *claims) {
  g_assert(token && claims);
  memset(claims, 0, sizeof *claims);
  size_t len = strnlen(token, ML_TOKEN_MAX_LEN + 1);
  const char *dot = len <= ML_TOKEN_MAX_LEN ? memchr(token, '.', len) : NULL;
  if (!dot || dot == token)
    return ML_ERR_PROTOCOL;
  return decode_payload(token, (size_t)(dot - token), claims);
}
