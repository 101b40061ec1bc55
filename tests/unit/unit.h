/* The main() every cmocka unit program shares (tests/unit/test_<module>.c).
 *
 * ML_UNIT_MAIN(ready, wrap, test...) defines main(): when `ready` (an
 * expression, evaluated once before any test) is false it returns 1;
 * otherwise it runs the group "tests" made of wrap(test) for every test
 * named, in order, and returns cmocka's result. `wrap` is cmocka_unit_test
 * or ml_unit_fixture (the file's setup and teardown around each test).
 * Up to 24 tests a group (ML_UNIT_EACH). Single-threaded, like cmocka. */
#ifndef ML_TESTS_UNIT_H
#define ML_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* `ready` for programs that use libsodium: sodium_init() succeeded. */
#define ML_UNIT_SODIUM (sodium_init() >= 0)
/* `ready` for programs with nothing to set up. */
#define ML_UNIT_NOTHING 1

/* `wrap` for a test run between the file's static setup() and teardown(). */
#define ml_unit_fixture(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

#define ML_UNIT_MAIN(ready, wrap, ...) ML_UNIT_MAIN_LIST(ready, ML_UNIT_EACH(wrap, __VA_ARGS__))

/* The same for a group whose tests are not all wrapped alike: each entry is
 * already a CMUnitTest (cmocka_unit_test(t), ml_unit_fixture(t)). */
#define ML_UNIT_MAIN_LIST(ready, ...)                                                              \
  int main(void) {                                                                                 \
    if (!(ready))                                                                                  \
      return 1;                                                                                    \
    const struct CMUnitTest tests[] = {__VA_ARGS__};                                               \
    return cmocka_run_group_tests(tests, NULL, NULL);                                              \
  }

/* ML_UNIT_EACH(wrap, a, b, ...) is wrap(a), wrap(b), ... */
#define ML_UNIT_EACH(wrap, ...)                                                                    \
  ML_UNIT_JOIN(ML_UNIT_EACH_, ML_UNIT_COUNT(__VA_ARGS__))(wrap, __VA_ARGS__)
#define ML_UNIT_JOIN(a, b) ML_UNIT_JOIN_(a, b)
#define ML_UNIT_JOIN_(a, b) a##b
#define ML_UNIT_COUNT(...)                                                                         \
  ML_UNIT_NTH(__VA_ARGS__, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, \
              5, 4, 3, 2, 1, 0)
#define ML_UNIT_NTH(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17,    \
                    a18, a19, a20, a21, a22, a23, a24, n, ...)                                     \
  n
#define ML_UNIT_EACH_1(w, t) w(t)
#define ML_UNIT_EACH_2(w, t, ...) w(t), ML_UNIT_EACH_1(w, __VA_ARGS__)
#define ML_UNIT_EACH_3(w, t, ...) w(t), ML_UNIT_EACH_2(w, __VA_ARGS__)
#define ML_UNIT_EACH_4(w, t, ...) w(t), ML_UNIT_EACH_3(w, __VA_ARGS__)
#define ML_UNIT_EACH_5(w, t, ...) w(t), ML_UNIT_EACH_4(w, __VA_ARGS__)
#define ML_UNIT_EACH_6(w, t, ...) w(t), ML_UNIT_EACH_5(w, __VA_ARGS__)
#define ML_UNIT_EACH_7(w, t, ...) w(t), ML_UNIT_EACH_6(w, __VA_ARGS__)
#define ML_UNIT_EACH_8(w, t, ...) w(t), ML_UNIT_EACH_7(w, __VA_ARGS__)
#define ML_UNIT_EACH_9(w, t, ...) w(t), ML_UNIT_EACH_8(w, __VA_ARGS__)
#define ML_UNIT_EACH_10(w, t, ...) w(t), ML_UNIT_EACH_9(w, __VA_ARGS__)
#define ML_UNIT_EACH_11(w, t, ...) w(t), ML_UNIT_EACH_10(w, __VA_ARGS__)
#define ML_UNIT_EACH_12(w, t, ...) w(t), ML_UNIT_EACH_11(w, __VA_ARGS__)
#define ML_UNIT_EACH_13(w, t, ...) w(t), ML_UNIT_EACH_12(w, __VA_ARGS__)
#define ML_UNIT_EACH_14(w, t, ...) w(t), ML_UNIT_EACH_13(w, __VA_ARGS__)
#define ML_UNIT_EACH_15(w, t, ...) w(t), ML_UNIT_EACH_14(w, __VA_ARGS__)
#define ML_UNIT_EACH_16(w, t, ...) w(t), ML_UNIT_EACH_15(w, __VA_ARGS__)
#define ML_UNIT_EACH_17(w, t, ...) w(t), ML_UNIT_EACH_16(w, __VA_ARGS__)
#define ML_UNIT_EACH_18(w, t, ...) w(t), ML_UNIT_EACH_17(w, __VA_ARGS__)
#define ML_UNIT_EACH_19(w, t, ...) w(t), ML_UNIT_EACH_18(w, __VA_ARGS__)
#define ML_UNIT_EACH_20(w, t, ...) w(t), ML_UNIT_EACH_19(w, __VA_ARGS__)
#define ML_UNIT_EACH_21(w, t, ...) w(t), ML_UNIT_EACH_20(w, __VA_ARGS__)
#define ML_UNIT_EACH_22(w, t, ...) w(t), ML_UNIT_EACH_21(w, __VA_ARGS__)
#define ML_UNIT_EACH_23(w, t, ...) w(t), ML_UNIT_EACH_22(w, __VA_ARGS__)
#define ML_UNIT_EACH_24(w, t, ...) w(t), ML_UNIT_EACH_23(w, __VA_ARGS__)

#endif
