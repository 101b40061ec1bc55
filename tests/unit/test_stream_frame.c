/* Unit tests for the reliable stream's frames (client/engine/stream_frame.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "stream_frame.h"

/* What a decoder made of a byte stream, items concatenated. */
typedef struct seen {
  uint8_t stream[4 * ML_STREAM_FRAME_STREAM_MAX];
  size_t stream_len;
  uint64_t ids[8];
  size_t msg_len[8];
  uint8_t msg[8][64];
  size_t n_msgs;
  uint64_t receipts[8];
  size_t n_receipts;
  bool malformed;
} seen;

/* Feeds buf in pieces of at most chunk bytes. */
static void feed(ml_stream_frame_decoder *d, const uint8_t *buf, size_t len, size_t chunk,
                 seen *s) {
  while (len > 0) {
    size_t piece = len < chunk ? len : chunk;
    const uint8_t *p = buf;
    size_t left = piece;
    while (left > 0) {
      ml_stream_frame_item it;
      size_t n = ml_stream_frame_decode(d, p, left, &it);
      assert_true(n >= 1 && n <= left);
      p += n;
      left -= n;
      switch (it.event) {
      case ML_STREAM_FRAME_EV_NONE: break;
      case ML_STREAM_FRAME_EV_STREAM:
        assert_true(it.len >= 1 && s->stream_len + it.len <= sizeof s->stream);
        memcpy(s->stream + s->stream_len, it.data, it.len);
        s->stream_len += it.len;
        break;
      case ML_STREAM_FRAME_EV_MESSAGE:
        assert_true(s->n_msgs < 8 && it.len <= 64);
        s->ids[s->n_msgs] = it.id;
        s->msg_len[s->n_msgs] = it.len;
        memcpy(s->msg[s->n_msgs++], it.data, it.len);
        break;
      case ML_STREAM_FRAME_EV_RECEIPT:
        assert_true(s->n_receipts < 8);
        s->receipts[s->n_receipts++] = it.id;
        break;
      case ML_STREAM_FRAME_EV_MALFORMED: s->malformed = true; break;
      }
    }
    buf += piece;
    len -= piece;
  }
}

static size_t append(uint8_t *out, ml_stream_frame_kind kind, uint64_t id, const void *payload,
                     size_t len) {
  size_t n = ml_stream_frame_prefix(out, kind, id, len);
  if (len)
    memcpy(out + n, payload, len);
  return n + len;
}

static void prefix_bytes(void **state) {
  (void)state;
  uint8_t out[ML_STREAM_FRAME_PREFIX_MAX];
  static const uint8_t stream[] = {1, 0, 0, 0x40, 0};
  assert_int_equal(ml_stream_frame_prefix(out, ML_STREAM_FRAME_STREAM, 99, 16384), 5);
  assert_memory_equal(out, stream, 5);
  static const uint8_t msg[] = {2, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 1, 2};
  assert_int_equal(ml_stream_frame_prefix(out, ML_STREAM_FRAME_MESSAGE, 0x102, 3), 13);
  assert_memory_equal(out, msg, 13);
  static const uint8_t receipt[] = {3, 0, 0, 0, 8, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  assert_int_equal(ml_stream_frame_prefix(out, ML_STREAM_FRAME_RECEIPT, 0x1122334455667788u, 0),
                   13);
  assert_memory_equal(out, receipt, 13);
}

/* A mixed stream, decoded whole and in every chunk size down to 1 byte,
 * gives the same items. */
static void round_trip_in_any_pieces(void **state) {
  (void)state;
  static uint8_t buf[2 * ML_STREAM_FRAME_STREAM_MAX + 256];
  static uint8_t big[ML_STREAM_FRAME_STREAM_MAX];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)(i * 7);
  size_t n = 0;
  n += append(buf + n, ML_STREAM_FRAME_STREAM, 0, "abc", 3);
  n += append(buf + n, ML_STREAM_FRAME_MESSAGE, 1, "hello", 5);
  n += append(buf + n, ML_STREAM_FRAME_STREAM, 0, big, sizeof big);
  n += append(buf + n, ML_STREAM_FRAME_RECEIPT, 42, NULL, 0);
  n += append(buf + n, ML_STREAM_FRAME_MESSAGE, UINT64_MAX, "x", 1);
  n += append(buf + n, ML_STREAM_FRAME_STREAM, 0, "de", 2);
  static const size_t chunks[] = {SIZE_MAX, 4096, 13, 5, 2, 1};
  for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
    static ml_stream_frame_decoder d;
    static seen s;
    memset(&s, 0, sizeof s);
    ml_stream_frame_decoder_init(&d);
    feed(&d, buf, n, chunks[c], &s);
    assert_false(s.malformed);
    assert_int_equal(s.stream_len, 3 + sizeof big + 2);
    assert_memory_equal(s.stream, "abc", 3);
    assert_memory_equal(s.stream + 3, big, sizeof big);
    assert_memory_equal(s.stream + 3 + sizeof big, "de", 2);
    assert_int_equal(s.n_msgs, 2);
    assert_int_equal(s.ids[0], 1);
    assert_int_equal(s.msg_len[0], 5);
    assert_memory_equal(s.msg[0], "hello", 5);
    assert_true(s.ids[1] == UINT64_MAX);
    assert_int_equal(s.msg_len[1], 1);
    assert_int_equal(s.n_receipts, 1);
    assert_int_equal(s.receipts[0], 42);
  }
}

/* A largest MESSAGE is buffered whole. */
static void largest_message(void **state) {
  (void)state;
  size_t len = ML_STREAM_FRAME_MESSAGE_MAX;
  uint8_t *buf = malloc(ML_STREAM_FRAME_PREFIX_MAX + len);
  assert_non_null(buf);
  size_t n = ml_stream_frame_prefix(buf, ML_STREAM_FRAME_MESSAGE, 7, len);
  memset(buf + n, 0x5a, len);
  static ml_stream_frame_decoder d;
  ml_stream_frame_decoder_init(&d);
  ml_stream_frame_item it;
  size_t used = ml_stream_frame_decode(&d, buf, n + len, &it);
  assert_int_equal(used, n + len);
  assert_int_equal(it.event, ML_STREAM_FRAME_EV_MESSAGE);
  assert_int_equal(it.id, 7);
  assert_int_equal(it.len, len);
  assert_int_equal(it.data[len - 1], 0x5a);
  free(buf);
}

/* Every truncated prefix of a valid stream decodes to no error, just fewer
 * items. */
static void truncated_prefixes(void **state) {
  (void)state;
  uint8_t buf[128];
  size_t n = 0;
  n += append(buf + n, ML_STREAM_FRAME_MESSAGE, 3, "hi", 2);
  n += append(buf + n, ML_STREAM_FRAME_RECEIPT, 3, NULL, 0);
  n += append(buf + n, ML_STREAM_FRAME_STREAM, 0, "zz", 2);
  for (size_t k = 1; k < n; k++) {
    static ml_stream_frame_decoder d;
    seen s;
    memset(&s, 0, sizeof s);
    ml_stream_frame_decoder_init(&d);
    feed(&d, buf, k, SIZE_MAX, &s);
    assert_false(s.malformed);
    assert_int_equal(s.n_msgs, k >= 15 ? 1 : 0);
    assert_int_equal(s.n_receipts, k >= 28 ? 1 : 0);
  }
}

static void expect_malformed(const uint8_t *hdr) {
  static ml_stream_frame_decoder d;
  ml_stream_frame_decoder_init(&d);
  ml_stream_frame_item it;
  assert_int_equal(ml_stream_frame_decode(&d, hdr, 4, &it), 4);
  assert_int_equal(it.event, ML_STREAM_FRAME_EV_NONE);
  uint8_t rest[3] = {hdr[4], 1, 2};
  assert_int_equal(ml_stream_frame_decode(&d, rest, sizeof rest, &it), sizeof rest);
  assert_int_equal(it.event, ML_STREAM_FRAME_EV_MALFORMED);
  /* It stays broken, even for a valid frame. */
  uint8_t ok[6] = {1, 0, 0, 0, 1, 'a'};
  assert_int_equal(ml_stream_frame_decode(&d, ok, sizeof ok, &it), sizeof ok);
  assert_int_equal(it.event, ML_STREAM_FRAME_EV_MALFORMED);
}

static void bad_headers_break_the_stream(void **state) {
  (void)state;
  static const uint8_t bad[][5] = {
      {0, 0, 0, 0, 1},    /* unknown kind */
      {4, 0, 0, 0, 1},    /* unknown kind */
      {1, 0, 0, 0, 0},    /* empty STREAM */
      {1, 0, 0, 0x40, 1}, /* STREAM of 16385 */
      {2, 0, 0, 0, 8},    /* MESSAGE without text */
      {2, 0, 1, 0, 9},    /* MESSAGE of 65537 */
      {3, 0, 0, 0, 9},    /* RECEIPT of 9 */
      {3, 0, 0, 0, 7},    /* RECEIPT of 7 */
      {2, 0xff, 0xff, 0xff, 0xff},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_malformed(bad[i]);
  /* The bounds themselves are fine. */
  static ml_stream_frame_decoder d;
  ml_stream_frame_decoder_init(&d);
  ml_stream_frame_item it;
  static const uint8_t edge[5] = {2, 0, 1, 0, 8}; /* MESSAGE of 8 + 65536 */
  assert_int_equal(ml_stream_frame_decode(&d, edge, 5, &it), 5);
  assert_int_equal(it.event, ML_STREAM_FRAME_EV_NONE);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, prefix_bytes, round_trip_in_any_pieces,
             largest_message, truncated_prefixes, bad_headers_break_the_stream)
