/* Unit tests for the bounded reader/writer (common/src/bytes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include "ml/bytes.h"

static void test_reads_big_endian_integers(void **state) {
  (void)state;
  const uint8_t buf[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                         0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  ml_reader r = ml_reader_init(buf, sizeof buf);
  uint8_t a = 0;
  uint16_t b = 0;
  uint32_t c = 0;
  uint64_t d = 0;
  assert_true(ml_reader_u8(&r, &a));
  assert_true(ml_reader_u16(&r, &b));
  assert_true(ml_reader_u32(&r, &c));
  assert_true(ml_reader_u64(&r, &d));
  assert_int_equal(a, 0x01);
  assert_int_equal(b, 0x0203);
  assert_int_equal(c, 0x04050607);
  assert_true(d == UINT64_C(0x08090a0b0c0d0e0f));
  assert_int_equal(ml_reader_remaining(&r), 0);
  assert_false(r.failed);
}

static void test_read_past_end_fails_and_sticks(void **state) {
  (void)state;
  const uint8_t buf[] = {1, 2, 3};
  ml_reader r = ml_reader_init(buf, sizeof buf);
  uint32_t v = 0xdeadbeef;
  assert_false(ml_reader_u32(&r, &v));
  assert_true(v == 0xdeadbeef); /* output untouched */
  assert_true(r.failed);
  uint8_t b;
  assert_false(ml_reader_u8(&r, &b)); /* failure is sticky */
  const uint8_t *p;
  ml_reader r2 = ml_reader_init(buf, sizeof buf);
  assert_false(ml_reader_bytes(&r2, SIZE_MAX, &p)); /* no overflow in the bound check */
}

static void test_every_truncation_fails(void **state) {
  (void)state;
  const uint8_t buf[15] = {0};
  for (size_t n = 0; n < sizeof buf; n++) {
    ml_reader r = ml_reader_init(buf, n);
    uint8_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0;
    uint64_t d = 0;
    bool ok = ml_reader_u8(&r, &a) && ml_reader_u16(&r, &b) && ml_reader_u32(&r, &c) &&
              ml_reader_u64(&r, &d);
    assert_false(ok);
    assert_true(r.failed);
  }
}

static void test_writer_round_trip_and_bound(void **state) {
  (void)state;
  uint8_t buf[15];
  ml_writer w = ml_writer_init(buf, sizeof buf);
  assert_true(ml_writer_u8(&w, 0xab));
  assert_true(ml_writer_u16(&w, 0xcdef));
  assert_true(ml_writer_u32(&w, 0x01234567));
  assert_true(ml_writer_u64(&w, UINT64_C(0x89abcdef01234567)));
  assert_false(ml_writer_u8(&w, 0)); /* full */
  assert_true(w.failed);
  ml_reader r = ml_reader_init(buf, sizeof buf);
  uint8_t a = 0;
  uint16_t b = 0;
  uint32_t c = 0;
  uint64_t d = 0;
  assert_true(ml_reader_u8(&r, &a) && ml_reader_u16(&r, &b) && ml_reader_u32(&r, &c) &&
              ml_reader_u64(&r, &d));
  assert_int_equal(a, 0xab);
  assert_int_equal(b, 0xcdef);
  assert_int_equal(c, 0x01234567);
  assert_true(d == UINT64_C(0x89abcdef01234567));
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_reads_big_endian_integers,
             test_read_past_end_fails_and_sticks, test_every_truncation_fails,
             test_writer_round_trip_and_bound)
