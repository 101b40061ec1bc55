/* Bounded JSON input. See ml/json_input.h. */
#include "ml/json_input.h"

#include <string.h>

static const char *const err_names[ML_JSON_E_COUNT_] = {
    [ML_JSON_OK] = "ok",
    [ML_JSON_E_TOO_BIG] = "too_big",
    [ML_JSON_E_TOO_DEEP] = "too_deep",
    [ML_JSON_E_SYNTAX] = "syntax",
    [ML_JSON_E_MISSING] = "missing",
    [ML_JSON_E_TYPE] = "type",
    [ML_JSON_E_RANGE] = "range",
};

const char *ml_json_err_name(ml_json_err err) {
  if ((int)err < 0 || err >= ML_JSON_E_COUNT_)
    return "unknown";
  return err_names[err];
}

/* The raw-text checks: one top-level object, surrounded by JSON whitespace
 * only; nesting within max_depth outside strings; no NUL. */
static ml_json_err shape(const char *text, size_t len, unsigned max_depth) {
  unsigned depth = 0;
  bool in_str = false, esc = false, started = false;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (c == '\0')
      return ML_JSON_E_SYNTAX;
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (!started) {
      if (space)
        continue;
      if (c != '{')
        return ML_JSON_E_SYNTAX;
      started = true;
    } else if (depth == 0 && !space) {
      return ML_JSON_E_SYNTAX; /* something after the top-level object */
    }
    if (c == '"') {
      in_str = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return ML_JSON_E_TOO_DEEP;
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    }
  }
  return started ? ML_JSON_OK : ML_JSON_E_SYNTAX;
}

ml_json_err ml_json_parse(const char *text, size_t len, const ml_json_limits *limits,
                          JsonObject **out) {
  g_assert((text || len == 0) && limits && out);
  if (len > limits->max_bytes)
    return ML_JSON_E_TOO_BIG;
  if (len == 0)
    return ML_JSON_E_SYNTAX;
  ml_json_err err = shape(text, len, limits->max_depth);
  if (err != ML_JSON_OK)
    return err;
  if (!g_utf8_validate(text, (gssize)len, NULL))
    return ML_JSON_E_SYNTAX;
  JsonParser *parser = json_parser_new_immutable();
  err = ML_JSON_E_SYNTAX;
  if (json_parser_load_from_data(parser, text, (gssize)len, NULL)) {
    JsonNode *root = json_parser_get_root(parser);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
      *out = json_object_ref(json_node_get_object(root));
      err = ML_JSON_OK;
    }
  }
  g_object_unref(parser);
  return err;
}

/* The member's value node of the given GType, or the error. */
static ml_json_err value(JsonObject *o, const char *key, GType type, JsonNode **out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n)
    return ML_JSON_E_MISSING;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != type)
    return ML_JSON_E_TYPE;
  *out = n;
  return ML_JSON_OK;
}

ml_json_err ml_json_get_string(JsonObject *o, const char *key, size_t min_len, size_t max_len,
                               const char **out) {
  JsonNode *n = NULL;
  ml_json_err err = value(o, key, G_TYPE_STRING, &n);
  if (err != ML_JSON_OK)
    return err;
  const char *s = json_node_get_string(n);
  size_t len = s ? strlen(s) : 0;
  if (!s || len < min_len || len > max_len)
    return ML_JSON_E_RANGE;
  *out = s;
  return ML_JSON_OK;
}

ml_json_err ml_json_get_int(JsonObject *o, const char *key, int64_t min, int64_t max,
                            int64_t *out) {
  JsonNode *n = NULL;
  ml_json_err err = value(o, key, G_TYPE_INT64, &n);
  if (err != ML_JSON_OK)
    return err;
  int64_t v = json_node_get_int(n);
  if (v < min || v > max)
    return ML_JSON_E_RANGE;
  *out = v;
  return ML_JSON_OK;
}

ml_json_err ml_json_get_bool(JsonObject *o, const char *key, bool *out) {
  JsonNode *n = NULL;
  ml_json_err err = value(o, key, G_TYPE_BOOLEAN, &n);
  if (err != ML_JSON_OK)
    return err;
  *out = json_node_get_boolean(n);
  return ML_JSON_OK;
}

ml_json_err ml_json_get_object(JsonObject *o, const char *key, JsonObject **out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n)
    return ML_JSON_E_MISSING;
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return ML_JSON_E_TYPE;
  *out = json_node_get_object(n);
  return ML_JSON_OK;
}

ml_json_err ml_json_get_array(JsonObject *o, const char *key, size_t max_len, JsonArray **out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n)
    return ML_JSON_E_MISSING;
  if (!JSON_NODE_HOLDS_ARRAY(n))
    return ML_JSON_E_TYPE;
  JsonArray *a = json_node_get_array(n);
  if (json_array_get_length(a) > max_len)
    return ML_JSON_E_RANGE;
  *out = a;
  return ML_JSON_OK;
}

const char *ml_json_string(JsonObject *o, const char *key, size_t min_len, size_t max_len) {
  const char *s = NULL;
  return ml_json_get_string(o, key, min_len, max_len, &s) == ML_JSON_OK ? s : NULL;
}
