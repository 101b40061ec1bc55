/* Unit tests for bounded JSON input (common/json/src/json_input.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "ml/json_input.h"

static const ml_json_limits lim = {.max_bytes = 4096, .max_depth = 8};

static ml_json_err parse_err(const char *text) {
  JsonObject *o = NULL;
  ml_json_err e = ml_json_parse(text, strlen(text), &lim, &o);
  if (e == ML_JSON_OK) {
    assert_non_null(o);
    json_object_unref(o);
  } else {
    assert_null(o);
  }
  return e;
}

static JsonObject *parse_ok(const char *text) {
  JsonObject *o = NULL;
  assert_int_equal(ml_json_parse(text, strlen(text), &lim, &o), ML_JSON_OK);
  return o;
}

/* Nesting: the top-level object is depth 1; brackets inside strings (and
 * escaped quotes) do not count. */
static void test_depth_limit(void **state) {
  (void)state;
  char text[64] = "{\"a\":";
  for (unsigned i = 1; i < lim.max_depth; i++)
    strcat(text, "[");
  for (unsigned i = 1; i < lim.max_depth; i++)
    strcat(text, "]");
  strcat(text, "}");
  assert_int_equal(parse_err(text), ML_JSON_OK); /* exactly max_depth */
  char deeper[64] = "{\"a\":[";
  strcat(deeper, text + 5);
  deeper[strlen(deeper) - 1] = '\0';
  strcat(deeper, "]}");
  assert_int_equal(parse_err(deeper), ML_JSON_E_TOO_DEEP);
  assert_int_equal(parse_err("{\"a\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[[[[[[[[\"}"), ML_JSON_OK);
  /* A frame of brackets never reaches the recursive parser. */
  char *flood = malloc(4001);
  memset(flood, '[', 4000);
  flood[0] = '{';
  flood[4000] = '\0';
  assert_int_equal(parse_err(flood), ML_JSON_E_TOO_DEEP);
  free(flood);
}

static void test_size_limit(void **state) {
  (void)state;
  const char *t = "{\"a\":1}";
  JsonObject *o = NULL;
  ml_json_limits small = {.max_bytes = strlen(t) - 1, .max_depth = 8};
  assert_int_equal(ml_json_parse(t, strlen(t), &small, &o), ML_JSON_E_TOO_BIG);
  assert_null(o);
  small.max_bytes = strlen(t);
  assert_int_equal(ml_json_parse(t, strlen(t), &small, &o), ML_JSON_OK);
  json_object_unref(o);
  /* Size is checked first, before the text is looked at. */
  o = NULL;
  assert_int_equal(ml_json_parse("[[[[[[[[[[", 10, &(ml_json_limits){4, 2}, &o), ML_JSON_E_TOO_BIG);
  assert_int_equal(ml_json_parse(NULL, 0, &lim, &o), ML_JSON_E_SYNTAX);
}

static void test_shape(void **state) {
  (void)state;
  assert_int_equal(parse_err(""), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("  \n"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("[]"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("1"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("\"s\""), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("nope"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("1 {}"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("{}{}"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("{} x"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("{\"a\":}"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("{\"a\":1"), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err("{\"a\":\"\xc3\"}"), ML_JSON_E_SYNTAX); /* not UTF-8 */
  const char nul[] = "{\"a\":\0\"b\"}";
  JsonObject *o = NULL;
  assert_int_equal(ml_json_parse(nul, sizeof nul - 1, &lim, &o), ML_JSON_E_SYNTAX);
  assert_int_equal(parse_err(" \r\n\t{} \n"), ML_JSON_OK);
  /* Not NUL-terminated: only len bytes are read. */
  const char buf[] = {'{', '}', '{'};
  assert_int_equal(ml_json_parse(buf, 2, &lim, &o), ML_JSON_OK);
  json_object_unref(o);
}

static void test_strings(void **state) {
  (void)state;
  JsonObject *o = parse_ok("{\"s\":\"abc\",\"e\":\"\",\"n\":null,\"i\":3,\"u\":\"Ünal\"}");
  const char *s = "untouched";
  assert_int_equal(ml_json_get_string(o, "s", 1, 3, &s), ML_JSON_OK);
  assert_string_equal(s, "abc");
  s = "untouched";
  assert_int_equal(ml_json_get_string(o, "s", 4, 10, &s), ML_JSON_E_RANGE);
  assert_int_equal(ml_json_get_string(o, "s", 0, 2, &s), ML_JSON_E_RANGE);
  assert_int_equal(ml_json_get_string(o, "n", 0, 10, &s), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_string(o, "i", 0, 10, &s), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_string(o, "x", 0, 10, &s), ML_JSON_E_MISSING);
  assert_string_equal(s, "untouched");
  assert_int_equal(ml_json_get_string(o, "e", 0, 0, &s), ML_JSON_OK);
  assert_string_equal(s, "");
  assert_int_equal(ml_json_get_string(o, "e", 1, 10, &s), ML_JSON_E_RANGE);
  /* Bounds are bytes, not characters. */
  assert_int_equal(ml_json_get_string(o, "u", 5, 5, &s), ML_JSON_OK);
  assert_int_equal(ml_json_get_string(o, "u", 0, 4, &s), ML_JSON_E_RANGE);
  assert_string_equal(ml_json_string(o, "s", 1, 3), "abc");
  assert_null(ml_json_string(o, "s", 1, 2));
  assert_null(ml_json_string(o, "n", 0, 10));
  assert_null(ml_json_string(o, "x", 0, 10));
  json_object_unref(o);
}

static void test_integers_and_bools(void **state) {
  (void)state;
  JsonObject *o = parse_ok("{\"one\":1,\"neg\":-5,\"big\":9223372036854775807,\"f\":1.0,"
                           "\"t\":true,\"s\":\"1\",\"z\":false}");
  int64_t v = 42;
  assert_int_equal(ml_json_get_int(o, "one", 1, 1, &v), ML_JSON_OK);
  assert_int_equal(v, 1);
  assert_int_equal(ml_json_get_int(o, "neg", -5, 0, &v), ML_JSON_OK);
  assert_int_equal(v, -5);
  v = 42;
  assert_int_equal(ml_json_get_int(o, "neg", 0, 10, &v), ML_JSON_E_RANGE);
  assert_int_equal(ml_json_get_int(o, "one", 2, 10, &v), ML_JSON_E_RANGE);
  assert_int_equal(ml_json_get_int(o, "f", 0, 10, &v), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_int(o, "t", 0, 10, &v), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_int(o, "s", 0, 10, &v), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_int(o, "x", 0, 10, &v), ML_JSON_E_MISSING);
  assert_int_equal(v, 42);
  assert_int_equal(ml_json_get_int(o, "big", INT64_MIN, INT64_MAX, &v), ML_JSON_OK);
  assert_true(v == INT64_MAX);
  bool b = false;
  assert_int_equal(ml_json_get_bool(o, "t", &b), ML_JSON_OK);
  assert_true(b);
  assert_int_equal(ml_json_get_bool(o, "z", &b), ML_JSON_OK);
  assert_false(b);
  b = true;
  assert_int_equal(ml_json_get_bool(o, "one", &b), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_bool(o, "x", &b), ML_JSON_E_MISSING);
  assert_true(b);
  json_object_unref(o);
}

static void test_objects_and_arrays(void **state) {
  (void)state;
  JsonObject *o = parse_ok("{\"o\":{\"k\":\"v\"},\"a\":[1,2,3],\"e\":[],\"n\":null,\"s\":\"x\"}");
  JsonObject *sub = NULL;
  assert_int_equal(ml_json_get_object(o, "o", &sub), ML_JSON_OK);
  assert_string_equal(ml_json_string(sub, "k", 1, 1), "v");
  sub = NULL;
  assert_int_equal(ml_json_get_object(o, "a", &sub), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_object(o, "n", &sub), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_object(o, "s", &sub), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_object(o, "x", &sub), ML_JSON_E_MISSING);
  assert_null(sub);
  JsonArray *a = NULL;
  assert_int_equal(ml_json_get_array(o, "a", 3, &a), ML_JSON_OK);
  assert_int_equal(json_array_get_length(a), 3);
  a = NULL;
  assert_int_equal(ml_json_get_array(o, "a", 2, &a), ML_JSON_E_RANGE);
  assert_int_equal(ml_json_get_array(o, "o", 10, &a), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_array(o, "n", 10, &a), ML_JSON_E_TYPE);
  assert_int_equal(ml_json_get_array(o, "x", 10, &a), ML_JSON_E_MISSING);
  assert_null(a);
  assert_int_equal(ml_json_get_array(o, "e", 0, &a), ML_JSON_OK);
  assert_int_equal(json_array_get_length(a), 0);
  json_object_unref(o);
}

static void test_err_names(void **state) {
  (void)state;
  for (int i = 0; i < ML_JSON_E_COUNT_; i++) {
    const char *n = ml_json_err_name((ml_json_err)i);
    assert_non_null(n);
    for (int j = 0; j < i; j++)
      assert_string_not_equal(n, ml_json_err_name((ml_json_err)j));
  }
  assert_string_equal(ml_json_err_name(ML_JSON_E_COUNT_), "unknown");
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_depth_limit, test_size_limit, test_shape,
             test_strings, test_integers_and_bools, test_objects_and_arrays, test_err_names)
