/* The engine tests' soft assertion: CHECK reports a failed condition with
 * its location and a message, counts it in `failures` and carries on, so one
 * run shows every broken check; main returns failures ? 1 : 0. One test
 * program per translation unit, so the counter is file-local. */
#ifndef ML_TESTS_ENGINE_CHECK_H
#define ML_TESTS_ENGINE_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                              \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

#endif /* ML_TESTS_ENGINE_CHECK_H */
