/* mentorlink — reading JSON text that came from the network.
 *
 * ml_json_parse checks the raw text before json-glib's recursive parser sees
 * it: a size limit, exactly one top-level value which is an object (json-glib
 * 1.6 also leaks the first value's tree when another follows it: "1 {}",
 * "{}{}"), nesting no deeper than a limit (outside strings), no NUL bytes
 * (they would truncate strings), valid UTF-8. The typed getters then read one
 * member each, checking its type and bounds.
 *
 * Pure functions, no shared state; any thread (a parsed object belongs to
 * the caller). Results are ml_json_err codes; ML_JSON_OK is 0.
 */
#ifndef ML_JSON_INPUT_H
#define ML_JSON_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-glib/json-glib.h>

#include "ml/error.h"

typedef enum ml_json_err {
  ML_JSON_OK = 0,
  ML_JSON_E_TOO_BIG,  /* the text is longer than max_bytes */
  ML_JSON_E_TOO_DEEP, /* nesting deeper than max_depth */
  ML_JSON_E_SYNTAX,   /* empty, not exactly one JSON object, NUL byte, not UTF-8, or not JSON */
  ML_JSON_E_MISSING,  /* the member is absent */
  ML_JSON_E_TYPE,     /* the member has another type (null included) */
  ML_JSON_E_RANGE,    /* a string's length or an integer is outside its bounds */
  ML_JSON_E_COUNT_    /* number of codes; not a code */
} ml_json_err;

/* A short static name ("too_big", ...); never NULL. */
const char *ml_json_err_name(ml_json_err err);

typedef struct ml_json_limits {
  size_t max_bytes;   /* longest accepted text */
  unsigned max_depth; /* deepest nesting; the top-level object is depth 1 */
} ml_json_limits;

/* Parses len bytes of text (need not be NUL-terminated) into *out, a JSON
 * object (transfer full: json_object_unref). *out is set only on ML_JSON_OK.
 * text may be NULL when len is 0.
 * Checks in this order: size, then shape and depth, then UTF-8 and syntax. */
ML_MUST_CHECK ml_json_err ml_json_parse(const char *text, size_t len, const ml_json_limits *limits,
                                        JsonObject **out);

/* Getters: on ML_JSON_OK *out is set (borrowed from o: valid while o lives);
 * on an error *out is left alone. Lengths are in bytes. */
ML_MUST_CHECK ml_json_err ml_json_get_string(JsonObject *o, const char *key, size_t min_len,
                                             size_t max_len, const char **out);
/* An integer literal (not 1.0, not true) within [min, max]. */
ML_MUST_CHECK ml_json_err ml_json_get_int(JsonObject *o, const char *key, int64_t min, int64_t max,
                                          int64_t *out);
ML_MUST_CHECK ml_json_err ml_json_get_bool(JsonObject *o, const char *key, bool *out);
ML_MUST_CHECK ml_json_err ml_json_get_object(JsonObject *o, const char *key, JsonObject **out);
/* An array of at most max_len elements. */
ML_MUST_CHECK ml_json_err ml_json_get_array(JsonObject *o, const char *key, size_t max_len,
                                            JsonArray **out);

/* The string member key within [min_len, max_len] bytes, or NULL (absent,
 * another type, or out of bounds): for optional fields. Borrowed from o. */
const char *ml_json_string(JsonObject *o, const char *key, size_t min_len, size_t max_len);

#endif /* ML_JSON_INPUT_H */
