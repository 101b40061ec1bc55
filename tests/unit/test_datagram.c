/* Unit tests for datagram framing (common/src/datagram.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "ml/datagram.h"

#define TRANSPORT_BYTE0 0xca /* 0b11 001 010 */
#define HANDSHAKE_BYTE0 0xc9 /* 0b11 001 001 */

/* Parses a copy of exactly len bytes, so ASan flags any read past the end. */
static int parse_exact(const uint8_t *buf, size_t len, ml_datagram *out) {
  uint8_t *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  if (len)
    memcpy(copy, buf, len);
  int err = ml_datagram_parse(len ? copy : NULL, len, out);
  free(copy);
  return err;
}

/* A transport datagram: header + body_len body bytes (fake ciphertext + tag). */
static size_t make_transport(uint8_t *buf, size_t cap, uint8_t epoch, uint64_t counter,
                             size_t body_len) {
  assert_int_equal(ml_datagram_write_transport_header(buf, cap, epoch, 0, counter), ML_OK);
  for (size_t i = 0; i < body_len; i++)
    buf[ML_DATAGRAM_TRANSPORT_HEADER_LEN + i] = (uint8_t)(i * 7 + 1);
  return ML_DATAGRAM_TRANSPORT_HEADER_LEN + body_len;
}

static void test_transport_header_bytes(void **state) {
  (void)state;
  uint8_t buf[ML_DATAGRAM_TRANSPORT_HEADER_LEN];
  assert_int_equal(
      ml_datagram_write_transport_header(buf, sizeof buf, 0x7f, 0, UINT64_C(0x0102030405060708)),
      ML_OK);
  const uint8_t want[] = {
      TRANSPORT_BYTE0, 0x7f, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  assert_memory_equal(buf, want, sizeof want);
  assert_int_equal(ml_datagram_write_transport_header(buf, sizeof buf - 1, 0, 0, 0), ML_ERR_BUFFER);
}

static void test_transport_round_trip(void **state) {
  (void)state;
  uint8_t buf[ML_DATAGRAM_MAX];
  size_t len = make_transport(buf, sizeof buf, 200, UINT64_C(0xfedcba9876543210), 40);
  ml_datagram d;
  assert_int_equal(parse_exact(buf, len, &d), ML_OK);
  assert_int_equal(d.type, ML_DATAGRAM_TRANSPORT);
  assert_int_equal(d.version, ML_DATAGRAM_VERSION);
  assert_int_equal(d.epoch, 200);
  assert_int_equal(d.key_id, 0);
  assert_true(d.counter == UINT64_C(0xfedcba9876543210));
  assert_int_equal(d.header_len, ML_DATAGRAM_TRANSPORT_HEADER_LEN);
  assert_int_equal(d.body_len, 40);

  /* Pointers refer into the parsed buffer itself. */
  assert_int_equal(ml_datagram_parse(buf, len, &d), ML_OK);
  assert_ptr_equal(d.header, buf);
  assert_ptr_equal(d.body, buf + ML_DATAGRAM_TRANSPORT_HEADER_LEN);
}

static void test_handshake_round_trip(void **state) {
  (void)state;
  const uint8_t msg[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  uint8_t buf[64];
  size_t len = 0;
  assert_int_equal(ml_datagram_write_handshake(buf, sizeof buf, 2, msg, sizeof msg, &len), ML_OK);
  assert_int_equal(len, ML_DATAGRAM_HANDSHAKE_HEADER_LEN + sizeof msg);
  const uint8_t want_header[] = {HANDSHAKE_BYTE0, 2, 0, 0};
  assert_memory_equal(buf, want_header, sizeof want_header);

  ml_datagram d;
  assert_int_equal(ml_datagram_parse(buf, len, &d), ML_OK);
  assert_int_equal(d.type, ML_DATAGRAM_HANDSHAKE);
  assert_int_equal(d.handshake_index, 2);
  assert_ptr_equal(d.header, buf);
  assert_int_equal(d.header_len, ML_DATAGRAM_HANDSHAKE_HEADER_LEN);
  assert_int_equal(d.body_len, sizeof msg);
  assert_memory_equal(d.body, msg, sizeof msg);
}

static void test_handshake_write_limits(void **state) {
  (void)state;
  static uint8_t msg[ML_DATAGRAM_MAX];
  static uint8_t buf[ML_DATAGRAM_MAX + 8];
  size_t len = 12345;
  const size_t max_msg = ML_DATAGRAM_MAX - ML_DATAGRAM_HANDSHAKE_HEADER_LEN;
  assert_int_equal(ml_datagram_write_handshake(buf, sizeof buf, 0, msg, max_msg, &len), ML_OK);
  assert_int_equal(len, ML_DATAGRAM_MAX);
  len = 12345;
  assert_int_equal(ml_datagram_write_handshake(buf, sizeof buf, 0, msg, max_msg + 1, &len),
                   ML_ERR_TOO_BIG);
  assert_int_equal(ml_datagram_write_handshake(buf, 10, 0, msg, 7, &len), ML_ERR_BUFFER);
  assert_int_equal(ml_datagram_write_handshake(buf, sizeof buf, 0, msg, 0, &len), ML_ERR_INVALID);
  assert_int_equal(len, 12345); /* untouched on error */
  assert_int_equal(ml_datagram_write_handshake(buf, 11, 0, msg, 7, &len), ML_OK);
  assert_int_equal(len, 11);
}

static void test_handshake_framed_in_place(void **state) {
  (void)state;
  uint8_t buf[32];
  for (size_t i = 0; i < 8; i++)
    buf[ML_DATAGRAM_HANDSHAKE_HEADER_LEN + i] = (uint8_t)(0xa0 + i);
  size_t len;
  assert_int_equal(ml_datagram_write_handshake(buf, sizeof buf, 1,
                                               buf + ML_DATAGRAM_HANDSHAKE_HEADER_LEN, 8, &len),
                   ML_OK);
  const uint8_t want[] = {HANDSHAKE_BYTE0, 1, 0, 0, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7};
  assert_int_equal(len, sizeof want);
  assert_memory_equal(buf, want, sizeof want);
}

static void test_is_ours(void **state) {
  (void)state;
  for (unsigned b = 0; b < 256; b++) {
    uint8_t byte = (uint8_t)b;
    assert_int_equal(ml_datagram_is_ours(&byte, 1), b >= 192);
  }
  assert_false(ml_datagram_is_ours(NULL, 0));
  /* RFC 7983 ranges: STUN, DTLS, TURN channel data, RTP/RTCP. */
  const uint8_t stun = 0x00, dtls = 22, turn = 0x40, rtp = 0x80;
  assert_false(ml_datagram_is_ours(&stun, 1));
  assert_false(ml_datagram_is_ours(&dtls, 1));
  assert_false(ml_datagram_is_ours(&turn, 1));
  assert_false(ml_datagram_is_ours(&rtp, 1));
  uint8_t buf[64];
  size_t len = make_transport(buf, sizeof buf, 0, 0, 20);
  assert_true(ml_datagram_is_ours(buf, len));
}

static void test_inner_type_valid(void **state) {
  (void)state;
  assert_false(ml_inner_type_valid(0));
  for (unsigned t = ML_INNER_RTP; t <= ML_INNER_KEEPALIVE; t++)
    assert_true(ml_inner_type_valid(t));
  assert_false(ml_inner_type_valid(6));
  assert_false(ml_inner_type_valid(255));
  assert_false(ml_inner_type_valid(0x101)); /* not truncated to a byte */
}

static void test_size_limits(void **state) {
  (void)state;
  static uint8_t buf[ML_DATAGRAM_MAX + 1];
  size_t len = make_transport(buf, sizeof buf, 0, 1, ML_DATAGRAM_MAX - 12);
  assert_int_equal(len, ML_DATAGRAM_MAX);
  ml_datagram d;
  assert_int_equal(parse_exact(buf, len, &d), ML_OK);
  assert_int_equal(d.body_len, ML_DATAGRAM_MAX - 12);
  assert_int_equal(parse_exact(buf, ML_DATAGRAM_MAX + 1, &d), ML_ERR_TOO_BIG);
  assert_int_equal(ml_datagram_parse(buf, SIZE_MAX, &d), ML_ERR_TOO_BIG);
}

static void test_minimum_bodies(void **state) {
  (void)state;
  uint8_t buf[64];
  ml_datagram d;
  /* Transport: inner type byte + tag is the least a body can be. */
  size_t len = make_transport(buf, sizeof buf, 0, 0, 1 + ML_DATAGRAM_TAG_LEN);
  assert_int_equal(parse_exact(buf, len, &d), ML_OK);
  assert_int_equal(parse_exact(buf, len - 1, &d), ML_ERR_PROTOCOL);
  /* Handshake: one body byte at least. */
  const uint8_t hs[] = {HANDSHAKE_BYTE0, 0, 0, 0, 0x55};
  assert_int_equal(parse_exact(hs, sizeof hs, &d), ML_OK);
  assert_int_equal(d.body_len, 1);
  assert_int_equal(parse_exact(hs, sizeof hs - 1, &d), ML_ERR_PROTOCOL);
}

static void test_every_truncation(void **state) {
  (void)state;
  uint8_t buf[128];
  ml_datagram d;
  size_t len = make_transport(buf, sizeof buf, 3, 77, 50);
  const size_t min_transport = ML_DATAGRAM_TRANSPORT_OVERHEAD;
  for (size_t n = 0; n < len; n++) {
    int err = parse_exact(buf, n, &d);
    if (n < min_transport) {
      assert_int_equal(err, ML_ERR_PROTOCOL);
    } else {
      /* Framing alone cannot tell a shorter ciphertext: the tag will. */
      assert_int_equal(err, ML_OK);
      assert_int_equal(d.body_len, n - ML_DATAGRAM_TRANSPORT_HEADER_LEN);
    }
  }
  const uint8_t msg[40] = {1};
  size_t hlen;
  assert_int_equal(ml_datagram_write_handshake(buf, sizeof buf, 0, msg, sizeof msg, &hlen), ML_OK);
  for (size_t n = 0; n <= ML_DATAGRAM_HANDSHAKE_HEADER_LEN; n++)
    assert_int_equal(parse_exact(buf, n, &d), ML_ERR_PROTOCOL);
  for (size_t n = ML_DATAGRAM_HANDSHAKE_HEADER_LEN + 1; n <= hlen; n++) {
    assert_int_equal(parse_exact(buf, n, &d), ML_OK);
    assert_int_equal(d.body_len, n - ML_DATAGRAM_HANDSHAKE_HEADER_LEN);
  }
}

static void test_wrong_version_unsupported(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t len = make_transport(buf, sizeof buf, 0, 0, 20);
  ml_datagram d;
  for (unsigned v = 0; v < 8; v++) {
    if (v == ML_DATAGRAM_VERSION)
      continue;
    for (unsigned t = 0; t < 8; t++) {
      buf[0] = (uint8_t)(0xc0 | (v << 3) | t);
      assert_int_equal(parse_exact(buf, len, &d), ML_ERR_UNSUPPORTED);
    }
  }
}

static void test_not_ours_or_unknown_type(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t len = make_transport(buf, sizeof buf, 0, 0, 20);
  ml_datagram d;
  const uint8_t foreign[] = {0x00, 0x01, 0x16, 0x40, 0x4a, 0x80, 0x90, 0xbf};
  for (size_t i = 0; i < sizeof foreign; i++) {
    buf[0] = foreign[i];
    assert_int_equal(parse_exact(buf, len, &d), ML_ERR_PROTOCOL);
  }
  const unsigned unknown_types[] = {0, 3, 4, 5, 6, 7};
  for (size_t i = 0; i < sizeof unknown_types / sizeof unknown_types[0]; i++) {
    buf[0] = (uint8_t)(0xc0 | (ML_DATAGRAM_VERSION << 3) | unknown_types[i]);
    assert_int_equal(parse_exact(buf, len, &d), ML_ERR_PROTOCOL);
  }
}

static void test_nonzero_key_id_and_reserved(void **state) {
  (void)state;
  uint8_t buf[64];
  ml_datagram d;
  size_t len = make_transport(buf, sizeof buf, 0, 0, 20);
  buf[2] = 0x01;
  assert_int_equal(parse_exact(buf, len, &d), ML_ERR_PROTOCOL);
  buf[2] = 0;
  buf[3] = 0x80;
  assert_int_equal(parse_exact(buf, len, &d), ML_ERR_PROTOCOL);
  assert_int_equal(ml_datagram_write_transport_header(buf, sizeof buf, 0, 7, 0), ML_OK);
  assert_int_equal(parse_exact(buf, len, &d), ML_ERR_PROTOCOL);

  uint8_t hs[] = {HANDSHAKE_BYTE0, 0, 0, 0, 0x55, 0x66};
  assert_int_equal(parse_exact(hs, sizeof hs, &d), ML_OK);
  hs[2] = 1;
  assert_int_equal(parse_exact(hs, sizeof hs, &d), ML_ERR_PROTOCOL);
  hs[2] = 0;
  hs[3] = 1;
  assert_int_equal(parse_exact(hs, sizeof hs, &d), ML_ERR_PROTOCOL);
}

static void test_output_untouched_on_error(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t len = make_transport(buf, sizeof buf, 0, 0, 20);
  buf[3] = 1; /* key id */
  ml_datagram d, before;
  memset(&d, 0xa5, sizeof d);
  before = d;
  assert_int_equal(ml_datagram_parse(buf, len, &d), ML_ERR_PROTOCOL);
  assert_memory_equal(&d, &before, sizeof d);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_transport_header_bytes,
             test_transport_round_trip, test_handshake_round_trip, test_handshake_write_limits,
             test_handshake_framed_in_place, test_is_ours, test_inner_type_valid, test_size_limits,
             test_minimum_bodies, test_every_truncation, test_wrong_version_unsupported,
             test_not_ours_or_unknown_type, test_nonzero_key_id_and_reserved,
             test_output_untouched_on_error)
