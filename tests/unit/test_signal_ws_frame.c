/* Unit tests for the server's WebSocket frame reader (signaling/src/ws_frame.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <sodium.h>

#include "unit.h"

#include "ws_frame.h"

/* A client frame: masked with a fixed key. */
static size_t client_frame(uint8_t *out, bool fin, unsigned op, const void *payload, size_t len) {
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  size_t h = ml_ws_frame_header(out, (ml_ws_opcode)op, len);
  if (!fin)
    out[0] &= 0x7f;
  out[1] |= 0x80;
  memcpy(out + h, key, 4);
  for (size_t i = 0; i < len; i++)
    out[h + 4 + i] = ((const uint8_t *)payload)[i] ^ key[i & 3];
  return h + 4 + len;
}

static void test_text_byte_by_byte(void **state) {
  (void)state;
  uint8_t f[64];
  size_t n = client_frame(f, true, ML_WS_OP_TEXT, "hello", 5);
  ml_ws_reader r;
  ml_ws_reader_init(&r, 100);
  ml_ws_event ev;
  for (size_t i = 0; i < n - 1; i++) {
    ml_ws_reader_feed(&r, f + i, 1);
    assert_false(ml_ws_reader_next(&r, &ev));
  }
  ml_ws_reader_feed(&r, f + n - 1, 1);
  assert_true(ml_ws_reader_next(&r, &ev));
  assert_int_equal(ev.kind, ML_WS_EV_TEXT);
  assert_int_equal(ev.len, 5);
  assert_memory_equal(ev.data, "hello", 5);
  assert_false(ml_ws_reader_next(&r, &ev));
  ml_ws_reader_clear(&r);
}

static void test_fragments_with_ping_between(void **state) {
  (void)state;
  uint8_t f[256];
  size_t n = client_frame(f, false, ML_WS_OP_TEXT, "ab", 2);
  n += client_frame(f + n, true, ML_WS_OP_PING, "p", 1);
  n += client_frame(f + n, false, ML_WS_OP_CONTINUATION, "c\0d", 3);
  n += client_frame(f + n, true, ML_WS_OP_CONTINUATION, "e", 1);
  n += client_frame(f + n, true, ML_WS_OP_BINARY, "\xff", 1);
  ml_ws_reader r;
  ml_ws_reader_init(&r, 100);
  ml_ws_reader_feed(&r, f, n);
  ml_ws_event ev;
  assert_true(ml_ws_reader_next(&r, &ev));
  assert_int_equal(ev.kind, ML_WS_EV_PING);
  assert_memory_equal(ev.data, "p", 1);
  assert_true(ml_ws_reader_next(&r, &ev));
  assert_int_equal(ev.kind, ML_WS_EV_TEXT); /* U+0000 is valid UTF-8 */
  assert_int_equal(ev.len, 6);
  assert_memory_equal(ev.data, "abc\0de", 6);
  assert_true(ml_ws_reader_next(&r, &ev));
  assert_int_equal(ev.kind, ML_WS_EV_BINARY);
  assert_false(ml_ws_reader_next(&r, &ev));
  ml_ws_reader_clear(&r);
}

static unsigned short error_of(const uint8_t *f, size_t n, uint64_t max) {
  ml_ws_reader r;
  ml_ws_reader_init(&r, max);
  ml_ws_reader_feed(&r, f, n);
  ml_ws_event ev;
  unsigned short code = 0;
  while (ml_ws_reader_next(&r, &ev))
    if (ev.kind == ML_WS_EV_ERROR)
      code = ev.code;
  assert_false(ml_ws_reader_next(&r, &ev)); /* done after an error */
  ml_ws_reader_clear(&r);
  return code;
}

static void test_protocol_errors(void **state) {
  (void)state;
  uint8_t f[512];
  size_t n = client_frame(f, true, ML_WS_OP_TEXT, "x", 1);
  f[1] &= 0x7f; /* unmasked */
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_PROTOCOL_ERROR);
  n = client_frame(f, true, ML_WS_OP_TEXT, "x", 1);
  f[0] |= 0x40; /* RSV1 without an extension */
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_PROTOCOL_ERROR);
  n = client_frame(f, true, 0x3, "x", 1); /* reserved opcode */
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_PROTOCOL_ERROR);
  n = client_frame(f, true, ML_WS_OP_CONTINUATION, "x", 1); /* nothing to continue */
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_PROTOCOL_ERROR);
  n = client_frame(f, false, ML_WS_OP_PING, "x", 1); /* fragmented control */
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_PROTOCOL_ERROR);
  uint8_t big[200] = {0};
  n = client_frame(f, true, ML_WS_OP_PING, big, 126); /* control over 125 */
  assert_int_equal(error_of(f, n, 1000), ML_WS_CLOSE_PROTOCOL_ERROR);
  n = client_frame(f, false, ML_WS_OP_TEXT, "a", 1);
  n += client_frame(f + n, true, ML_WS_OP_TEXT, "b", 1); /* new message inside one */
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_PROTOCOL_ERROR);
  n = client_frame(f, true, ML_WS_OP_TEXT, "\xc3\x28", 2);
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_BAD_DATA);
  n = client_frame(f, true, ML_WS_OP_CLOSE, "\x03\xe7", 2); /* 999: not a close code */
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_PROTOCOL_ERROR);
}

static void test_too_big_before_payload(void **state) {
  (void)state;
  /* Only the header of a 1 GiB frame: refused at once, nothing buffered. */
  uint8_t h[ML_WS_MAX_HEADER];
  size_t n = ml_ws_frame_header(h, ML_WS_OP_TEXT, UINT64_C(1) << 30);
  h[1] |= 0x80;
  assert_int_equal(error_of(h, n, 4096), ML_WS_CLOSE_TOO_BIG);
  /* Fragments that add up past the limit. */
  uint8_t f[256], a[60] = {0};
  n = client_frame(f, false, ML_WS_OP_BINARY, a, 60);
  n += client_frame(f + n, true, ML_WS_OP_CONTINUATION, a, 60);
  assert_int_equal(error_of(f, n, 100), ML_WS_CLOSE_TOO_BIG);
  /* A 64-bit length with the top bit set. */
  memset(h, 0, sizeof h);
  h[0] = 0x81;
  h[1] = 0xff;
  h[2] = 0x80;
  assert_int_equal(error_of(h, 14, 4096), ML_WS_CLOSE_PROTOCOL_ERROR);
}

static void test_close(void **state) {
  (void)state;
  uint8_t f[64];
  size_t n = client_frame(f, true, ML_WS_OP_CLOSE,
                          "\x03\xe8"
                          "bye",
                          5);
  n += client_frame(f + n, true, ML_WS_OP_TEXT, "late", 4);
  ml_ws_reader r;
  ml_ws_reader_init(&r, 100);
  ml_ws_reader_feed(&r, f, n);
  ml_ws_event ev;
  assert_true(ml_ws_reader_next(&r, &ev));
  assert_int_equal(ev.kind, ML_WS_EV_CLOSE);
  assert_int_equal(ev.code, 1000);
  assert_int_equal(ev.len, 3);
  assert_memory_equal(ev.data, "bye", 3);
  assert_false(ml_ws_reader_next(&r, &ev)); /* nothing after a close */
  ml_ws_reader_clear(&r);
  n = client_frame(f, true, ML_WS_OP_CLOSE, "", 0);
  ml_ws_reader_init(&r, 100);
  ml_ws_reader_feed(&r, f, n);
  assert_true(ml_ws_reader_next(&r, &ev));
  assert_int_equal(ev.code, ML_WS_CLOSE_NO_STATUS);
  ml_ws_reader_clear(&r);
}

static void test_server_header(void **state) {
  (void)state;
  uint8_t h[ML_WS_MAX_HEADER];
  assert_int_equal(ml_ws_frame_header(h, ML_WS_OP_TEXT, 125), 2);
  assert_int_equal(h[0], 0x81);
  assert_int_equal(h[1], 125);
  assert_int_equal(ml_ws_frame_header(h, ML_WS_OP_TEXT, 126), 4);
  assert_int_equal(h[1], 126);
  assert_int_equal(h[2] << 8 | h[3], 126);
  assert_int_equal(ml_ws_frame_header(h, ML_WS_OP_BINARY, 70000), 10);
  assert_int_equal(h[1], 127);
  assert_int_equal(h[7] << 16 | h[8] << 8 | h[9], 70000);
}

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, test_text_byte_by_byte,
             test_fragments_with_ping_between, test_protocol_errors, test_too_big_before_payload,
             test_close, test_server_header)
