/* Unit tests for the secure datagram channel (common/src/channel.c).
 *
 * Time comes from a fake clock; crafted datagrams are built here with
 * libsodium directly, an independent reading of the wire format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"
#include <sodium.h>

#include "channel_internal.h"
#include "ml/channel.h"
#include "ml/noise.h"
#include "ml/replay.h"

#define HDR ML_DATAGRAM_TRANSPORT_HEADER_LEN
#define OVERHEAD ML_DATAGRAM_TRANSPORT_OVERHEAD

typedef struct fake_clock {
  uint64_t now;
} fake_clock;

static uint64_t fake_now(void *user) { return ((fake_clock *)user)->now; }

/* Two ends of one channel: a sends to b with key_ab, b sends to a with key_ba. */
typedef struct pair {
  fake_clock clock;
  uint8_t key_ab[ML_NOISE_KEY_LEN];
  uint8_t key_ba[ML_NOISE_KEY_LEN];
  ml_channel *a;
  ml_channel *b;
} pair;

static void pair_init(pair *p, uint64_t rekey_messages, uint64_t rekey_ms, uint64_t overlap_ms) {
  memset(p, 0, sizeof *p);
  p->clock.now = 1000000;
  for (size_t i = 0; i < ML_NOISE_KEY_LEN; i++) {
    p->key_ab[i] = (uint8_t)(0x10 + i);
    p->key_ba[i] = (uint8_t)(0x80 + i);
  }
  ml_channel_config cfg = {rekey_messages, rekey_ms, overlap_ms, fake_now, &p->clock};
  assert_int_equal(ml_channel_new(&p->a, p->key_ab, p->key_ba, &cfg), ML_OK);
  assert_int_equal(ml_channel_new(&p->b, p->key_ba, p->key_ab, &cfg), ML_OK);
}

static void pair_free(pair *p) {
  ml_channel_free(p->a);
  ml_channel_free(p->b);
}

typedef struct sealed {
  uint8_t buf[ML_DATAGRAM_MAX];
  size_t len;
} sealed;

static void seal(ml_channel *ch, ml_inner_type type, const uint8_t *payload, size_t len,
                 sealed *out) {
  assert_int_equal(ml_channel_seal(ch, type, payload, len, out->buf, sizeof out->buf, &out->len),
                   ML_OK);
  assert_int_equal(out->len, len + OVERHEAD);
}

static int open_dg(ml_channel *ch, const uint8_t *buf, size_t len) {
  uint8_t payload[ML_DATAGRAM_MAX];
  ml_inner_type type;
  size_t plen;
  return ml_channel_open(ch, buf, len, &type, payload, sizeof payload, &plen);
}

static uint8_t epoch_of(const sealed *s) { return s->buf[1]; }

static uint64_t counter_of(const uint8_t *buf) {
  uint64_t c = 0;
  for (size_t i = 4; i < HDR; i++)
    c = (c << 8) | buf[i];
  return c;
}

/* Noise Rekey() for ChaChaPoly, written out: the first 32 bytes of the
 * keystream at nonce 2^64-1, block 1 (block 0 is Poly1305's key). */
static void rekey_reference(uint8_t key[ML_NOISE_KEY_LEN]) {
  uint8_t nonce[12] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  uint8_t zeros[ML_NOISE_KEY_LEN] = {0};
  uint8_t out[ML_NOISE_KEY_LEN];
  crypto_stream_chacha20_ietf_xor_ic(out, zeros, sizeof zeros, nonce, 1, key);
  memcpy(key, out, sizeof out);
}

/* A transport datagram built by hand: header, then AEAD(inner byte || payload)
 * with nonce = 4 zero bytes || counter little-endian. */
static size_t craft(uint8_t *out, const uint8_t key[ML_NOISE_KEY_LEN], uint8_t epoch,
                    uint64_t counter, uint8_t inner, const uint8_t *payload, size_t len) {
  out[0] = 0xca;
  out[1] = epoch;
  out[2] = out[3] = 0;
  for (size_t i = 0; i < 8; i++)
    out[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
  uint8_t pt[ML_DATAGRAM_MAX];
  pt[0] = inner;
  if (len)
    memcpy(pt + 1, payload, len);
  uint8_t nonce[12] = {0};
  for (size_t i = 0; i < 8; i++)
    nonce[4 + i] = (uint8_t)(counter >> (8 * i));
  unsigned long long clen;
  crypto_aead_chacha20poly1305_ietf_encrypt(out + HDR, &clen, pt, 1 + len, out, HDR, NULL, nonce,
                                            key);
  return HDR + (size_t)clen;
}

static void test_round_trip_every_inner_type(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  static uint8_t payload[ML_DATAGRAM_MAX_PAYLOAD];
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)(i * 31 + 7);
  const size_t sizes[] = {0, 1, 160, 1200, ML_DATAGRAM_MAX_PAYLOAD};
  uint64_t expect_counter = 0;
  for (unsigned t = ML_INNER_RTP; t <= ML_INNER_KEEPALIVE; t++) {
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      sealed d;
      seal(p.a, (ml_inner_type)t, payload, sizes[s], &d);
      assert_int_equal(d.buf[0], 0xca);
      assert_true(counter_of(d.buf) == expect_counter);
      expect_counter++;
      uint8_t out[ML_DATAGRAM_MAX];
      ml_inner_type type = 0;
      size_t len = 99999;
      assert_int_equal(ml_channel_open(p.b, d.buf, d.len, &type, out, sizeof out, &len), ML_OK);
      assert_int_equal(type, t);
      assert_int_equal(len, sizes[s]);
      if (sizes[s])
        assert_memory_equal(out, payload, sizes[s]);
      /* The other direction uses the other key. */
      seal(p.b, (ml_inner_type)t, payload, sizes[s], &d);
      assert_int_equal(ml_channel_open(p.a, d.buf, d.len, &type, out, sizeof out, &len), ML_OK);
      assert_int_equal(len, sizes[s]);
    }
  }
  pair_free(&p);
}

static void test_wire_format_matches_reference(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  const uint8_t payload[] = "hello, mentee";
  sealed d;
  for (int i = 0; i < 3; i++)
    seal(p.a, ML_INNER_CONTROL, payload, sizeof payload, &d);
  uint8_t want[ML_DATAGRAM_MAX];
  size_t want_len = craft(want, p.key_ab, 0, 2, ML_INNER_CONTROL, payload, sizeof payload);
  assert_int_equal(d.len, want_len);
  assert_memory_equal(d.buf, want, want_len);
  /* And a hand-made datagram opens. */
  uint8_t out[64];
  ml_inner_type type;
  size_t len;
  want_len = craft(want, p.key_ab, 0, 7, ML_INNER_RELIABLE, payload, 5);
  assert_int_equal(ml_channel_open(p.b, want, want_len, &type, out, sizeof out, &len), ML_OK);
  assert_int_equal(type, ML_INNER_RELIABLE);
  assert_int_equal(len, 5);
  assert_memory_equal(out, payload, 5);
  pair_free(&p);
}

/* docs/PROTOCOL.md's datagram vectors ("Example (test vectors)"),
 * reproduced independently with Python's "cryptography" package (OpenSSL). */
static void test_known_answer_vectors(void **state) {
  (void)state;
  static const uint8_t dg0[] = {0xca, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                0x00, 0x19, 0xc8, 0x2b, 0x5f, 0xca, 0x6e, 0x3d, 0xab, 0x43, 0xe2,
                                0x5e, 0x50, 0x2b, 0x45, 0xf0, 0xbd, 0xf6, 0x59, 0x53, 0x3c, 0x49};
  static const uint8_t dg1[] = {0xca, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                0x00, 0x01, 0x9a, 0x26, 0x17, 0xc9, 0x88, 0x5d, 0xc0, 0xa6,
                                0x82, 0x4f, 0x1e, 0xd4, 0x05, 0xd0, 0xec, 0xfd, 0x56};
  static const uint8_t dg2[] = {0xca, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                0x02, 0x85, 0xeb, 0x81, 0xf9, 0x80, 0xe6, 0x90, 0xd4, 0xe4, 0xc4,
                                0x88, 0xd7, 0xcf, 0x97, 0x3b, 0x76, 0x56, 0xb0, 0xbe, 0xc0, 0x8c};
  static const uint8_t key1[] = {0x50, 0x83, 0x55, 0x43, 0xa2, 0x05, 0xb2, 0x2c, 0x93, 0x23, 0xf2,
                                 0x02, 0x2b, 0xc4, 0xf6, 0x7d, 0x83, 0x8f, 0x90, 0xe6, 0x1d, 0x5c,
                                 0xcf, 0x33, 0xc4, 0x51, 0x3e, 0x01, 0xf8, 0x5b, 0x50, 0x42};
  uint8_t k0[ML_NOISE_KEY_LEN], other[ML_NOISE_KEY_LEN] = {0};
  for (size_t i = 0; i < sizeof k0; i++)
    k0[i] = (uint8_t)i;
  uint8_t k[ML_NOISE_KEY_LEN];
  memcpy(k, k0, sizeof k);
  ml_noise_rekey_key(k);
  assert_memory_equal(k, key1, sizeof key1);

  fake_clock clock = {0};
  ml_channel_config cfg = {0, 0, 0, fake_now, &clock};
  ml_channel *tx = NULL, *rx = NULL;
  assert_int_equal(ml_channel_new(&tx, k0, other, &cfg), ML_OK);
  assert_int_equal(ml_channel_new(&rx, other, k0, &cfg), ML_OK);
  sealed d;
  seal(tx, ML_INNER_RTP, (const uint8_t *)"ping", 4, &d);
  assert_int_equal(d.len, sizeof dg0);
  assert_memory_equal(d.buf, dg0, sizeof dg0);
  seal(tx, ML_INNER_KEEPALIVE, NULL, 0, &d);
  assert_int_equal(d.len, sizeof dg1);
  assert_memory_equal(d.buf, dg1, sizeof dg1);
  ml_channel_rekey(tx);
  seal(tx, ML_INNER_RTP, (const uint8_t *)"ping", 4, &d);
  assert_int_equal(d.len, sizeof dg2);
  assert_memory_equal(d.buf, dg2, sizeof dg2);

  const uint8_t *dgs[] = {dg0, dg1, dg2};
  const size_t lens[] = {sizeof dg0, sizeof dg1, sizeof dg2};
  const ml_inner_type types[] = {ML_INNER_RTP, ML_INNER_KEEPALIVE, ML_INNER_RTP};
  for (size_t i = 0; i < 3; i++) {
    uint8_t out[16];
    ml_inner_type type;
    size_t len;
    assert_int_equal(ml_channel_open(rx, dgs[i], lens[i], &type, out, sizeof out, &len), ML_OK);
    assert_int_equal(type, types[i]);
    assert_int_equal(len, types[i] == ML_INNER_RTP ? 4 : 0);
  }
  ml_channel_free(tx);
  ml_channel_free(rx);
}

static void test_seal_in_place(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  uint8_t buf[ML_DATAGRAM_MAX];
  for (size_t i = 0; i < 100; i++)
    buf[HDR + 1 + i] = (uint8_t)i;
  size_t len;
  assert_int_equal(ml_channel_seal(p.a, ML_INNER_RTP, buf + HDR + 1, 100, buf, sizeof buf, &len),
                   ML_OK);
  uint8_t out[128];
  ml_inner_type type;
  size_t plen;
  assert_int_equal(ml_channel_open(p.b, buf, len, &type, out, sizeof out, &plen), ML_OK);
  assert_int_equal(plen, 100);
  for (size_t i = 0; i < 100; i++)
    assert_int_equal(out[i], i);
  pair_free(&p);
}

static void test_tampering_rejected(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  const uint8_t payload[40] = {1, 2, 3};
  sealed d;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d);
  unsigned expected_auth = 0, expected_malformed = 0;
  for (size_t i = 0; i < d.len; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      sealed t = d;
      t.buf[i] ^= (uint8_t)(1u << bit);
      int err = open_dg(p.b, t.buf, t.len);
      if (i == 0) {
        /* The first byte is framing: version or type or marker changes. */
        assert_true(err == ML_ERR_UNSUPPORTED || err == ML_ERR_PROTOCOL);
        expected_malformed++;
      } else if (i == 2 || i == 3) {
        assert_int_equal(err, ML_ERR_PROTOCOL); /* key id must be zero */
        expected_malformed++;
      } else {
        /* Epoch, counter, ciphertext, tag: authenticated. */
        assert_int_equal(err, ML_ERR_CRYPTO);
        expected_auth++;
      }
    }
  }
  ml_channel_stats st;
  ml_channel_get_stats(p.b, &st);
  assert_true(st.dropped_auth == expected_auth);
  assert_true(st.dropped_malformed == expected_malformed);
  assert_true(st.opened == 0);
  assert_int_equal(st.recv_epoch, 0); /* a forged epoch + 1 moved nothing */
  /* Nothing was committed: the genuine datagram still opens, once. */
  assert_int_equal(open_dg(p.b, d.buf, d.len), ML_OK);
  assert_int_equal(open_dg(p.b, d.buf, d.len), ML_ERR_REPLAY);
  pair_free(&p);
}

static void test_wrong_key_rejected(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  sealed d;
  const uint8_t payload[10] = {0};
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d);
  assert_int_equal(open_dg(p.a, d.buf, d.len), ML_ERR_CRYPTO); /* our own send key is not recv */
  assert_int_equal(open_dg(p.b, d.buf, d.len), ML_OK);
  pair_free(&p);
}

static void test_replay_and_reorder(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  enum { N = 2100 };
  static sealed d[N];
  const uint8_t payload[8] = {9};
  for (int i = 0; i < N; i++)
    seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d[i]);
  /* Reordered within the window: the newest first, then backwards. */
  assert_int_equal(open_dg(p.b, d[N - 1].buf, d[N - 1].len), ML_OK);
  for (int i = N - 2; i >= N - 1 - (int)ML_REPLAY_WINDOW; i--)
    assert_int_equal(open_dg(p.b, d[i].buf, d[i].len), ML_OK);
  /* Older than the window. */
  int oldest_in = N - 1 - (int)ML_REPLAY_WINDOW;
  assert_int_equal(open_dg(p.b, d[oldest_in - 1].buf, d[oldest_in - 1].len), ML_ERR_REPLAY);
  assert_int_equal(open_dg(p.b, d[0].buf, d[0].len), ML_ERR_REPLAY);
  /* Replayed. */
  assert_int_equal(open_dg(p.b, d[N - 1].buf, d[N - 1].len), ML_ERR_REPLAY);
  assert_int_equal(open_dg(p.b, d[N - 50].buf, d[N - 50].len), ML_ERR_REPLAY);
  ml_channel_stats st;
  ml_channel_get_stats(p.b, &st);
  assert_true(st.opened == ML_REPLAY_WINDOW + 1);
  assert_true(st.dropped_replay == 4);
  pair_free(&p);
}

static void test_every_truncated_prefix_rejected(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  const uint8_t payload[60] = {5, 6, 7};
  sealed d;
  seal(p.a, ML_INNER_RELIABLE, payload, sizeof payload, &d);
  for (size_t n = 0; n < d.len; n++) {
    uint8_t *exact = malloc(n ? n : 1); /* exact size: ASan catches over-reads */
    assert_non_null(exact);
    memcpy(exact, d.buf, n);
    int err = open_dg(p.b, n ? exact : NULL, n);
    free(exact);
    assert_int_equal(err, n < OVERHEAD ? ML_ERR_PROTOCOL : ML_ERR_CRYPTO);
  }
  assert_int_equal(open_dg(p.b, d.buf, d.len), ML_OK);
  pair_free(&p);
}

static void test_framing_errors(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  static uint8_t big[ML_DATAGRAM_MAX + 1];
  size_t len;
  /* Oversized: a well-formed header followed by too much. */
  assert_int_equal(ml_datagram_write_transport_header(big, sizeof big, 0, 0, 0), ML_OK);
  assert_int_equal(open_dg(p.b, big, sizeof big), ML_ERR_TOO_BIG);
  assert_int_equal(
      ml_channel_seal(p.a, ML_INNER_RTP, big, ML_DATAGRAM_MAX_PAYLOAD + 1, big, sizeof big, &len),
      ML_ERR_TOO_BIG);
  /* The largest payload fits exactly in the largest datagram. */
  static uint8_t out[ML_DATAGRAM_MAX];
  assert_int_equal(
      ml_channel_seal(p.a, ML_INNER_RTP, big, ML_DATAGRAM_MAX_PAYLOAD, out, sizeof out, &len),
      ML_OK);
  assert_int_equal(len, ML_DATAGRAM_MAX);
  assert_int_equal(open_dg(p.b, out, len), ML_OK);

  const uint8_t payload[20] = {0};
  sealed d;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d);
  sealed t = d;
  t.buf[0] = 0xc0 | (2 << 3) | ML_DATAGRAM_TRANSPORT; /* version 2 */
  assert_int_equal(open_dg(p.b, t.buf, t.len), ML_ERR_UNSUPPORTED);
  t = d;
  t.buf[3] = 1; /* key id */
  assert_int_equal(open_dg(p.b, t.buf, t.len), ML_ERR_PROTOCOL);
  t = d;
  t.buf[2] = 0x80;
  assert_int_equal(open_dg(p.b, t.buf, t.len), ML_ERR_PROTOCOL);
  /* A handshake datagram is not for the channel. */
  const uint8_t hs[] = {0xc9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  assert_int_equal(open_dg(p.b, hs, sizeof hs), ML_ERR_PROTOCOL);
  /* Not ours at all (an RTP packet). */
  t = d;
  t.buf[0] = 0x80;
  assert_int_equal(open_dg(p.b, t.buf, t.len), ML_ERR_PROTOCOL);

  ml_channel_stats st;
  ml_channel_get_stats(p.b, &st);
  assert_true(st.dropped_malformed == 6);
  assert_int_equal(open_dg(p.b, d.buf, d.len), ML_OK);
  pair_free(&p);
}

static void test_unknown_inner_type_after_decryption(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  const uint8_t payload[4] = {1, 2, 3, 4};
  const uint8_t bad_types[] = {0, 6, 7, 0x80, 0xff};
  uint8_t buf[ML_DATAGRAM_MAX];
  for (size_t i = 0; i < sizeof bad_types; i++) {
    size_t len = craft(buf, p.key_ab, 0, 5, bad_types[i], payload, sizeof payload);
    assert_int_equal(open_dg(p.b, buf, len), ML_ERR_PROTOCOL);
  }
  /* Also in the next epoch: the receiver must not advance on it. */
  uint8_t k1[ML_NOISE_KEY_LEN];
  memcpy(k1, p.key_ab, sizeof k1);
  rekey_reference(k1);
  size_t len = craft(buf, k1, 1, 6, 0, payload, sizeof payload);
  assert_int_equal(open_dg(p.b, buf, len), ML_ERR_PROTOCOL);
  ml_channel_stats st;
  ml_channel_get_stats(p.b, &st);
  assert_true(st.dropped_malformed == sizeof bad_types + 1);
  assert_true(st.dropped_auth == 0);
  assert_int_equal(st.recv_epoch, 0);
  /* Counter 5 was not consumed. */
  len = craft(buf, p.key_ab, 0, 5, ML_INNER_RTP, payload, sizeof payload);
  assert_int_equal(open_dg(p.b, buf, len), ML_OK);
  /* Seal refuses an invalid type too. */
  size_t out_len;
  assert_int_equal(
      ml_channel_seal(p.a, (ml_inner_type)0, payload, sizeof payload, buf, sizeof buf, &out_len),
      ML_ERR_INVALID);
  assert_int_equal(
      ml_channel_seal(p.a, (ml_inner_type)6, payload, sizeof payload, buf, sizeof buf, &out_len),
      ML_ERR_INVALID);
  pair_free(&p);
}

static void test_buffers_too_small(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  uint8_t payload[100] = {0};
  uint8_t buf[ML_DATAGRAM_MAX];
  size_t len;
  assert_int_equal(ml_channel_seal(p.a, ML_INNER_RTP, payload, sizeof payload, buf,
                                   sizeof payload + OVERHEAD - 1, &len),
                   ML_ERR_BUFFER);
  assert_int_equal(ml_channel_seal(p.a, ML_INNER_RTP, payload, sizeof payload, buf,
                                   sizeof payload + OVERHEAD, &len),
                   ML_OK);
  uint8_t out[100];
  ml_inner_type type;
  size_t plen;
  assert_int_equal(ml_channel_open(p.b, buf, len, &type, out, 99, &plen), ML_ERR_BUFFER);
  /* Not consumed: it opens with a big enough buffer (exactly the payload). */
  assert_int_equal(ml_channel_open(p.b, buf, len, &type, out, 100, &plen), ML_OK);
  assert_int_equal(plen, 100);
  pair_free(&p);
}

static void test_rekey_by_count(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 3, 0, 0);
  const uint8_t payload[16] = {1};
  enum { N = 20 };
  sealed d[N];
  for (int i = 0; i < N; i++) {
    seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d[i]);
    assert_int_equal(epoch_of(&d[i]), i / 3);
    assert_true(counter_of(d[i].buf) == (uint64_t)i); /* counters never restart */
  }
  for (int i = 0; i < N; i++) {
    assert_int_equal(open_dg(p.b, d[i].buf, d[i].len), ML_OK);
    ml_channel_stats st;
    ml_channel_get_stats(p.b, &st);
    assert_int_equal(st.recv_epoch, i / 3);
  }
  ml_channel_stats st;
  ml_channel_get_stats(p.a, &st);
  assert_int_equal(st.send_epoch, (N - 1) / 3);
  assert_int_equal(st.recv_epoch, 0);
  /* The epoch 2 key is the reference Rekey() applied twice. */
  uint8_t k[ML_NOISE_KEY_LEN];
  memcpy(k, p.key_ab, sizeof k);
  rekey_reference(k);
  rekey_reference(k);
  uint8_t want[ML_DATAGRAM_MAX];
  size_t want_len = craft(want, k, 2, 6, ML_INNER_RTP, payload, sizeof payload);
  assert_int_equal(d[6].len, want_len);
  assert_memory_equal(d[6].buf, want, want_len);
  pair_free(&p);
}

static void test_rekey_by_time_with_overlap(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 1000, 500);
  const uint8_t payload[16] = {2};
  sealed e0a, e0b, e0c, e1a, e1b, e2a, e3a;
  /* The time is counted with one key, however many datagrams are sealed. */
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &e0a);
  p.clock.now += 600;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &e0b);
  p.clock.now += 399;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &e0c);
  assert_int_equal(epoch_of(&e0c), 0);
  p.clock.now += 1; /* 1000 ms with the epoch 0 key */
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &e1a);
  assert_int_equal(epoch_of(&e1a), 1);
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &e1b);
  assert_int_equal(epoch_of(&e1b), 1);

  /* b receives the new epoch first (reordered): it moves to epoch 1. */
  assert_int_equal(open_dg(p.b, e0a.buf, e0a.len), ML_OK);
  assert_int_equal(open_dg(p.b, e1a.buf, e1a.len), ML_OK);
  ml_channel_stats st;
  ml_channel_get_stats(p.b, &st);
  assert_int_equal(st.recv_epoch, 1);
  /* Old epoch within the overlap still opens. */
  p.clock.now += 499;
  assert_int_equal(open_dg(p.b, e0b.buf, e0b.len), ML_OK);
  /* After the overlap it does not. */
  p.clock.now += 1;
  assert_int_equal(open_dg(p.b, e0c.buf, e0c.len), ML_ERR_CRYPTO);
  assert_int_equal(open_dg(p.b, e1b.buf, e1b.len), ML_OK);

  /* Several more epochs. */
  p.clock.now += 1000;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &e2a);
  assert_int_equal(epoch_of(&e2a), 2);
  p.clock.now += 1000;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &e3a);
  assert_int_equal(epoch_of(&e3a), 3);
  assert_int_equal(open_dg(p.b, e2a.buf, e2a.len), ML_OK);
  assert_int_equal(open_dg(p.b, e3a.buf, e3a.len), ML_OK);
  ml_channel_get_stats(p.b, &st);
  assert_int_equal(st.recv_epoch, 3);
  assert_true(st.dropped_auth == 1);

  /* A clock that goes backwards does not trigger a rekey. */
  p.clock.now -= 5000;
  sealed back;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &back);
  assert_int_equal(epoch_of(&back), 3);
  pair_free(&p);
}

static void test_overlap_only_for_previous_epoch(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 2, 0, 10000);
  const uint8_t payload[4] = {0};
  sealed d[6]; /* epochs 0 0 1 1 2 2 */
  for (int i = 0; i < 6; i++)
    seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d[i]);
  assert_int_equal(open_dg(p.b, d[2].buf, d[2].len), ML_OK); /* -> epoch 1 */
  assert_int_equal(open_dg(p.b, d[4].buf, d[4].len), ML_OK); /* -> epoch 2 */
  /* Epoch 1 is the previous one and opens; epoch 0 is two behind and does not,
   * although its overlap time has not run out. */
  assert_int_equal(open_dg(p.b, d[3].buf, d[3].len), ML_OK);
  assert_int_equal(open_dg(p.b, d[0].buf, d[0].len), ML_ERR_CRYPTO);
  assert_int_equal(open_dg(p.b, d[1].buf, d[1].len), ML_ERR_CRYPTO);
  assert_int_equal(open_dg(p.b, d[5].buf, d[5].len), ML_OK);
  pair_free(&p);
}

static void test_epoch_skip_within_lookahead(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  const uint8_t payload[4] = {0};
  sealed old;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &old); /* epoch 0, never delivered */
  ml_channel_rekey(p.a);
  sealed e1;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &e1); /* epoch 1, delivered late */
  ml_channel_rekey(p.a);
  sealed d;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d);
  assert_int_equal(epoch_of(&d), 2);
  /* Epoch 1 was never seen: the receiver derives two steps and moves to 2. */
  assert_int_equal(open_dg(p.b, d.buf, d.len), ML_OK);
  ml_channel_stats st;
  ml_channel_get_stats(p.b, &st);
  assert_int_equal(st.recv_epoch, 2);
  /* The epoch just before (1) is the overlap key; two behind (0) is gone. */
  assert_int_equal(open_dg(p.b, e1.buf, e1.len), ML_OK);
  assert_int_equal(open_dg(p.b, old.buf, old.len), ML_ERR_CRYPTO);

  /* Beyond the look-ahead, nothing opens and nothing changes. */
  for (int i = 0; i < ML_CHANNEL_MAX_EPOCH_AHEAD + 1; i++)
    ml_channel_rekey(p.a);
  sealed far;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &far);
  assert_int_equal(epoch_of(&far), 2 + ML_CHANNEL_MAX_EPOCH_AHEAD + 1);
  assert_int_equal(open_dg(p.b, far.buf, far.len), ML_ERR_CRYPTO);
  ml_channel_get_stats(p.b, &st);
  assert_int_equal(st.recv_epoch, 2);
  assert_true(st.dropped_auth == 2);
  pair_free(&p);
}

static void test_epoch_wraps_past_255(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 1, 0, 0); /* a new epoch for every datagram */
  const uint8_t payload[8] = {3};
  for (unsigned i = 0; i < 600; i++) {
    sealed d;
    seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d);
    assert_int_equal(epoch_of(&d), i % 256);
    assert_int_equal(open_dg(p.b, d.buf, d.len), ML_OK);
  }
  ml_channel_stats st;
  ml_channel_get_stats(p.b, &st);
  assert_int_equal(st.recv_epoch, 599 % 256);
  ml_channel_get_stats(p.a, &st);
  assert_int_equal(st.send_epoch, 599 % 256);

  /* Across the wrap, the previous epoch (255 when current is 0) still opens. */
  pair q;
  pair_init(&q, 0, 0, 0);
  for (int i = 0; i < 255; i++)
    ml_channel_rekey(q.a);
  sealed e255, e0;
  seal(q.a, ML_INNER_RTP, payload, sizeof payload, &e255);
  ml_channel_rekey(q.a);
  seal(q.a, ML_INNER_RTP, payload, sizeof payload, &e0);
  assert_int_equal(epoch_of(&e255), 255);
  assert_int_equal(epoch_of(&e0), 0);
  /* Walk the receiver up to 255 with crafted datagrams in each epoch. */
  uint8_t k[ML_NOISE_KEY_LEN];
  memcpy(k, q.key_ab, sizeof k);
  uint8_t buf[ML_DATAGRAM_MAX];
  for (unsigned e = 1; e <= 254; e++) {
    rekey_reference(k);
    size_t len = craft(buf, k, (uint8_t)e, 1000 + e, ML_INNER_KEEPALIVE, NULL, 0);
    assert_int_equal(open_dg(q.b, buf, len), ML_OK);
  }
  /* The real datagrams have counters 0 and 1, below the crafted ones but in the window. */
  assert_int_equal(open_dg(q.b, e0.buf, e0.len), ML_OK);     /* 254 -> 0: two ahead, across 255 */
  assert_int_equal(open_dg(q.b, e255.buf, e255.len), ML_OK); /* 255: the overlap key */
  ml_channel_get_stats(q.b, &st);
  assert_int_equal(st.recv_epoch, 0);
  pair_free(&q);
  pair_free(&p);
}

static void test_counter_exhaustion(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  const uint8_t payload[4] = {4};
  ml_channel_set_send_counter(p.a, ML_CHANNEL_COUNTER_LIMIT - 1);
  sealed d1, d2, d3;
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d1);
  seal(p.a, ML_INNER_RTP, payload, sizeof payload, &d2);
  assert_true(counter_of(d2.buf) == ML_CHANNEL_COUNTER_LIMIT);
  assert_int_equal(
      ml_channel_seal(p.a, ML_INNER_RTP, payload, sizeof payload, d3.buf, sizeof d3.buf, &d3.len),
      ML_ERR_STATE);
  assert_int_equal(
      ml_channel_seal(p.a, ML_INNER_RTP, payload, sizeof payload, d3.buf, sizeof d3.buf, &d3.len),
      ML_ERR_STATE); /* stays spent */
  ml_channel_stats st;
  ml_channel_get_stats(p.a, &st);
  assert_true(st.sealed == 2);
  assert_int_equal(open_dg(p.b, d1.buf, d1.len), ML_OK);
  assert_int_equal(open_dg(p.b, d2.buf, d2.len), ML_OK);
  /* A correctly authenticated counter past the limit is refused anyway. */
  uint8_t buf[ML_DATAGRAM_MAX];
  size_t len =
      craft(buf, p.key_ab, 0, ML_CHANNEL_COUNTER_LIMIT + 1, ML_INNER_RTP, payload, sizeof payload);
  assert_int_equal(open_dg(p.b, buf, len), ML_ERR_REPLAY);
  len = craft(buf, p.key_ab, 0, UINT64_MAX, ML_INNER_RTP, payload, sizeof payload);
  assert_int_equal(open_dg(p.b, buf, len), ML_ERR_REPLAY);
  pair_free(&p);
}

static void test_stats(void **state) {
  (void)state;
  pair p;
  pair_init(&p, 0, 0, 0);
  const uint8_t payload[30] = {0};
  sealed d[5];
  for (int i = 0; i < 5; i++)
    seal(p.a, ML_INNER_RTCP, payload, sizeof payload, &d[i]);
  ml_channel_rekey(p.a);
  sealed e1;
  seal(p.a, ML_INNER_RTCP, payload, sizeof payload, &e1);

  for (int i = 0; i < 4; i++)
    assert_int_equal(open_dg(p.b, d[i].buf, d[i].len), ML_OK);
  assert_int_equal(open_dg(p.b, d[0].buf, d[0].len), ML_ERR_REPLAY);
  assert_int_equal(open_dg(p.b, d[1].buf, d[1].len), ML_ERR_REPLAY);
  sealed t = d[4];
  t.buf[t.len - 1] ^= 1;
  assert_int_equal(open_dg(p.b, t.buf, t.len), ML_ERR_CRYPTO);
  assert_int_equal(open_dg(p.b, t.buf, 3), ML_ERR_PROTOCOL);
  assert_int_equal(open_dg(p.b, t.buf, 0), ML_ERR_PROTOCOL);
  assert_int_equal(open_dg(p.b, e1.buf, e1.len), ML_OK);

  ml_channel_stats st;
  ml_channel_get_stats(p.a, &st);
  assert_true(st.sealed == 6);
  assert_true(st.opened == 0);
  assert_int_equal(st.send_epoch, 1);
  assert_int_equal(st.recv_epoch, 0);
  ml_channel_get_stats(p.b, &st);
  assert_true(st.sealed == 0);
  assert_true(st.opened == 5);
  assert_true(st.dropped_replay == 2);
  assert_true(st.dropped_auth == 1);
  assert_true(st.dropped_malformed == 2);
  assert_int_equal(st.send_epoch, 0);
  assert_int_equal(st.recv_epoch, 1);
  pair_free(&p);
}

static void test_default_config_and_clock(void **state) {
  (void)state;
  uint8_t k1[ML_NOISE_KEY_LEN], k2[ML_NOISE_KEY_LEN];
  memset(k1, 1, sizeof k1);
  memset(k2, 2, sizeof k2);
  ml_channel *a = NULL, *b = NULL;
  assert_int_equal(ml_channel_new(&a, k1, k2, NULL), ML_OK);
  assert_int_equal(ml_channel_new(&b, k2, k1, NULL), ML_OK);
  const uint8_t payload[3] = {7, 8, 9};
  sealed d;
  for (int i = 0; i < 100; i++) {
    seal(a, ML_INNER_RTP, payload, sizeof payload, &d);
    assert_int_equal(epoch_of(&d), 0); /* no rekey within a test's lifetime */
    assert_int_equal(open_dg(b, d.buf, d.len), ML_OK);
  }
  ml_channel_free(a);
  ml_channel_free(b);
  ml_channel_free(NULL); /* no-op */
}

static void test_from_noise_handshake(void **state) {
  (void)state;
  const char *name = "Noise_NN_25519_ChaChaPoly_BLAKE2b";
  ml_noise_config ci = {.protocol_name = name, .role = ML_NOISE_INITIATOR};
  ml_noise_config cr = {.protocol_name = name, .role = ML_NOISE_RESPONDER};
  ml_noise_handshake *hi = NULL, *hr = NULL;
  assert_int_equal(ml_noise_handshake_new(&hi, &ci), ML_OK);
  assert_int_equal(ml_noise_handshake_new(&hr, &cr), ML_OK);
  uint8_t msg[256], pl[256];
  size_t len, plen;
  assert_int_equal(ml_noise_handshake_write_message(hi, NULL, 0, msg, sizeof msg, &len), ML_OK);
  assert_int_equal(ml_noise_handshake_read_message(hr, msg, len, pl, sizeof pl, &plen), ML_OK);
  assert_int_equal(ml_noise_handshake_write_message(hr, NULL, 0, msg, sizeof msg, &len), ML_OK);
  assert_int_equal(ml_noise_handshake_read_message(hi, msg, len, pl, sizeof pl, &plen), ML_OK);
  ml_noise_cipher *is = NULL, *ir = NULL, *rs = NULL, *rr = NULL;
  assert_int_equal(ml_noise_handshake_split(hi, &is, &ir), ML_OK);
  assert_int_equal(ml_noise_handshake_split(hr, &rs, &rr), ML_OK);
  ml_channel *a = NULL, *b = NULL;
  assert_int_equal(ml_channel_new_from_noise(&a, is, ir, NULL), ML_OK);
  assert_int_equal(ml_channel_new_from_noise(&b, rs, rr, NULL), ML_OK);

  const uint8_t payload[] = "over noise";
  sealed d;
  seal(a, ML_INNER_CONTROL, payload, sizeof payload, &d);
  assert_int_equal(open_dg(b, d.buf, d.len), ML_OK);
  seal(b, ML_INNER_CONTROL, payload, sizeof payload, &d);
  assert_int_equal(open_dg(a, d.buf, d.len), ML_OK);

  /* The channel's key is the CipherState's exported key. */
  uint8_t k[ML_NOISE_KEY_LEN];
  ml_noise_cipher_export_key(rs, k);
  uint8_t want[ML_DATAGRAM_MAX];
  size_t want_len = craft(want, k, 0, 0, ML_INNER_CONTROL, payload, sizeof payload);
  assert_int_equal(d.len, want_len);
  assert_memory_equal(d.buf, want, want_len);
  sodium_memzero(k, sizeof k);

  ml_channel_free(a);
  ml_channel_free(b);
  ml_noise_cipher_free(is);
  ml_noise_cipher_free(ir);
  ml_noise_cipher_free(rs);
  ml_noise_cipher_free(rr);
  ml_noise_handshake_free(hi);
  ml_noise_handshake_free(hr);
}

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, test_round_trip_every_inner_type,
             test_wire_format_matches_reference, test_known_answer_vectors, test_seal_in_place,
             test_tampering_rejected, test_wrong_key_rejected, test_replay_and_reorder,
             test_every_truncated_prefix_rejected, test_framing_errors,
             test_unknown_inner_type_after_decryption, test_buffers_too_small, test_rekey_by_count,
             test_rekey_by_time_with_overlap, test_overlap_only_for_previous_epoch,
             test_epoch_skip_within_lookahead, test_epoch_wraps_past_255, test_counter_exhaustion,
             test_stats, test_default_config_and_clock, test_from_noise_handshake)
