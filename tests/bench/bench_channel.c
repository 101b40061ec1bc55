/* bench_channel — throughput of the secure datagram channel next to SRTP.
 *
 * For each packet size, one round trip is: protect an RTP packet (12-byte
 * header + payload, `size` bytes in all) on a sending context and unprotect it
 * on a receiving one, in memory. ml_channel carries the whole RTP packet as an
 * ML_INNER_RTP payload (how the engine uses it); libsrtp2 protects the same
 * packet with AES_CM_128_HMAC_SHA1_80 and with AEAD_AES_128_GCM.
 *
 * Usage: bench_channel [seconds-per-cell]   (default 1)
 * A program, not a test: the figures depend on the machine. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <srtp2/srtp.h>

#include "ml/channel.h"

#define RTP_HEADER_LEN 12
#define MAX_PACKET 1500
#define ROUNDS 5

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail(const char *what) {
  (void)fprintf(stderr, "bench_channel: %s\n", what);
  exit(1);
}

/* An RTP packet: V=2, PT=96, the given sequence number, fixed SSRC. */
static void make_rtp(uint8_t *pkt, size_t size, uint16_t seq) {
  pkt[0] = 0x80;
  pkt[1] = 96;
  pkt[2] = (uint8_t)(seq >> 8);
  pkt[3] = (uint8_t)seq;
  uint32_t ts = (uint32_t)seq * 3000u;
  pkt[4] = (uint8_t)(ts >> 24);
  pkt[5] = (uint8_t)(ts >> 16);
  pkt[6] = (uint8_t)(ts >> 8);
  pkt[7] = (uint8_t)ts;
  pkt[8] = 0x12;
  pkt[9] = 0x34;
  pkt[10] = 0x56;
  pkt[11] = 0x78;
  for (size_t i = RTP_HEADER_LEN; i < size; i++)
    pkt[i] = (uint8_t)(i * 13);
}

typedef struct cell {
  const char *name;
  void (*round_trip)(void *ctx, uint8_t *pkt, size_t size);
  void *ctx;
  uint16_t seq; /* next RTP sequence number: SRTP refuses to protect one twice */
} cell;

/* ---- ml_channel -------------------------------------------------------- */

typedef struct chan_ctx {
  ml_channel *tx;
  ml_channel *rx;
  uint8_t wire[ML_DATAGRAM_MAX];
  uint8_t out[ML_DATAGRAM_MAX];
} chan_ctx;

static void chan_round_trip(void *p, uint8_t *pkt, size_t size) {
  chan_ctx *c = p;
  size_t wire_len, out_len;
  ml_inner_type type;
  if (ml_channel_seal(c->tx, ML_INNER_RTP, pkt, size, c->wire, sizeof c->wire, &wire_len) != ML_OK)
    fail("ml_channel_seal failed");
  if (ml_channel_open(c->rx, c->wire, wire_len, &type, c->out, sizeof c->out, &out_len) != ML_OK ||
      out_len != size)
    fail("ml_channel_open failed");
}

/* ---- libsrtp2 ---------------------------------------------------------- */

typedef struct srtp_ctx {
  srtp_t tx;
  srtp_t rx;
  uint8_t buf[MAX_PACKET + SRTP_MAX_TRAILER_LEN];
} srtp_ctx;

static void srtp_round_trip(void *p, uint8_t *pkt, size_t size) {
  srtp_ctx *c = p;
  memcpy(c->buf, pkt, size); /* protect works in place; keep the source intact */
  int len = (int)size;
  if (srtp_protect(c->tx, c->buf, &len) != srtp_err_status_ok)
    fail("srtp_protect failed");
  if (srtp_unprotect(c->rx, c->buf, &len) != srtp_err_status_ok || len != (int)size)
    fail("srtp_unprotect failed");
}

static void srtp_ctx_init(srtp_ctx *c, void (*set_policy)(srtp_crypto_policy_t *)) {
  static uint8_t key[SRTP_MAX_KEY_LEN];
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)(0x40 + i);
  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  set_policy(&policy.rtp);
  set_policy(&policy.rtcp);
  policy.key = key;
  policy.window_size = 128;
  policy.next = NULL;
  policy.ssrc.type = ssrc_any_outbound;
  if (srtp_create(&c->tx, &policy) != srtp_err_status_ok)
    fail("srtp_create (tx) failed");
  policy.ssrc.type = ssrc_any_inbound;
  if (srtp_create(&c->rx, &policy) != srtp_err_status_ok)
    fail("srtp_create (rx) failed");
}

/* The policy setters named in RFC terms (one of them is a macro in libsrtp2). */
static void policy_aes_cm_hmac80(srtp_crypto_policy_t *p) {
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(p);
}
static void policy_aes_gcm_128(srtp_crypto_policy_t *p) {
  srtp_crypto_policy_set_aes_gcm_128_16_auth(p);
}

/* ---- measurement ------------------------------------------------------- */

/* Round trips per second over about `seconds`, with fresh RTP sequence numbers. */
static double measure(cell *c, size_t size, double seconds) {
  static uint8_t pkt[MAX_PACKET];
  uint64_t n = 0;
  make_rtp(pkt, size, c->seq);
  /* Warm up caches and the branch predictor. */
  for (int i = 0; i < 1000; i++) {
    pkt[2] = (uint8_t)(c->seq >> 8);
    pkt[3] = (uint8_t)c->seq;
    c->seq++;
    c->round_trip(c->ctx, pkt, size);
  }
  double start = now_s(), elapsed;
  do {
    for (int i = 0; i < 256; i++) {
      pkt[2] = (uint8_t)(c->seq >> 8);
      pkt[3] = (uint8_t)c->seq;
      c->seq++;
      c->round_trip(c->ctx, pkt, size);
    }
    n += 256;
    elapsed = now_s() - start;
  } while (elapsed < seconds);
  return (double)n / elapsed;
}

static void print_cpu(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      const char *v = strchr(line, ':');
      printf("cpu: %s", v ? v + 2 : line);
      break;
    }
  }
  (void)fclose(f);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (!(seconds > 0))
    fail("usage: bench_channel [seconds-per-cell]");
  if (sodium_init() < 0)
    fail("sodium_init failed");
  if (srtp_init() != srtp_err_status_ok)
    fail("srtp_init failed");

  uint8_t k1[ML_NOISE_KEY_LEN], k2[ML_NOISE_KEY_LEN];
  randombytes_buf(k1, sizeof k1);
  randombytes_buf(k2, sizeof k2);
  static chan_ctx chan;
  if (ml_channel_new(&chan.tx, k1, k2, NULL) != ML_OK ||
      ml_channel_new(&chan.rx, k2, k1, NULL) != ML_OK)
    fail("ml_channel_new failed");
  sodium_memzero(k1, sizeof k1);
  sodium_memzero(k2, sizeof k2);
  static srtp_ctx cm, gcm;
  srtp_ctx_init(&cm, policy_aes_cm_hmac80);
  srtp_ctx_init(&gcm, policy_aes_gcm_128);

  cell cells[] = {
      {"ml_channel chacha20-poly1305", chan_round_trip, &chan, 0},
      {"srtp AES_CM_128_HMAC_SHA1_80", srtp_round_trip, &cm, 0},
      {"srtp AEAD_AES_128_GCM", srtp_round_trip, &gcm, 0},
  };
  const size_t sizes[] = {160, 1200};

  print_cpu();
  printf("libsodium %s, %s, %.2f s per cell, best of %d interleaved rounds\n",
         sodium_version_string(), srtp_get_version_string(), seconds, ROUNDS);
  printf("one round trip = protect + unprotect of one RTP packet (12-byte header + payload)\n\n");
  printf("%6s  %14s  %14s  %7s  %14s  %7s\n", "bytes", "ml_channel/s", "srtp-cm-hmac/s", "ratio",
         "srtp-gcm/s", "ratio");
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    /* Interleaved rounds, best of each: a busy machine slows cells unevenly. */
    double r[3] = {0, 0, 0};
    for (int round = 0; round < ROUNDS; round++) {
      for (size_t c = 0; c < 3; c++) {
        double rate = measure(&cells[c], sizes[s], seconds / ROUNDS);
        if (rate > r[c])
          r[c] = rate;
      }
    }
    printf("%6zu  %14.0f  %14.0f  %6.2fx  %14.0f  %6.2fx\n", sizes[s], r[0], r[1], r[0] / r[1],
           r[2], r[0] / r[2]);
    (void)fflush(stdout);
  }
  printf("\nratio = ml_channel round trips per second / srtp's (above 1: ml_channel is faster)\n");

  ml_channel_free(chan.tx);
  ml_channel_free(chan.rx);
  srtp_dealloc(cm.tx);
  srtp_dealloc(cm.rx);
  srtp_dealloc(gcm.tx);
  srtp_dealloc(gcm.rx);
  srtp_shutdown();
  return 0;
}
