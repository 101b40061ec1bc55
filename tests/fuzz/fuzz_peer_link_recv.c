/* libFuzzer target: the peer link's receive path after the handshake.
 *
 * Each input is a sequence of records, u8 op || u16 length (big-endian) ||
 * bytes, fed to a fresh link that is already secure (test hook: fixed keys,
 * no ICE, listening PseudoTCP socket):
 *   op % 4 == 0: the bytes as a raw datagram from the network (framing,
 *                demultiplexing, authentication);
 *   op % 4 == 1: the bytes sealed by the peer's side of the channel with the
 *                inner type (op / 4) % 5 + 1, so the fuzzer reaches what
 *                happens after decryption;
 *   op % 4 == 2: the bytes sealed as a RELIABLE datagram (a PseudoTCP
 *                segment), with the first 4 bytes replaced by the link's
 *                conversation number so segments get past that check;
 *   op % 4 == 3: one non-blocking iteration of the link's main context (its
 *                timers: PseudoTCP clock, keepalive).
 * Seeds in corpus/peer_link_recv/ open a PseudoTCP connection and carry
 * reliable-stream frames. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <sodium.h>

#include "ml/channel.h"
#include "ml/identity.h"
#include "ml/peer_link.h"
#include "peer_link_internal.h"

#include "fuzz.h"

static const uint8_t link_send_key[ML_NOISE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t link_recv_key[ML_NOISE_KEY_LEN] = {9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t peer_identity[ML_IDENTITY_PUBLIC_LEN] = {0x42};

static GMainContext *ctx;
static ml_identity *identity;
static uint32_t conversation;
static size_t bytes_out;

static void output(const uint8_t *d, size_t len, void *user) {
  (void)d;
  (void)user;
  bytes_out += len;
}

static void init_once(void) {
  if (ctx)
    return;
  if (sodium_init() < 0 || ml_identity_generate(&identity) != ML_OK)
    abort();
  ctx = g_main_context_new();
  /* The test link's conversation number: the first 4 bytes of its
   * stand-in handshake hash, BLAKE2b-512 of its send key. */
  uint8_t h[64];
  crypto_generichash(h, sizeof h, link_send_key, sizeof link_send_key, NULL, 0);
  conversation = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static void feed_sealed(ml_peer_link *link, ml_channel *peer, ml_inner_type type, uint8_t *p,
                        size_t len) {
  uint8_t dgram[ML_DATAGRAM_MAX];
  size_t n;
  if (len > ML_DATAGRAM_MAX_PAYLOAD)
    len = ML_DATAGRAM_MAX_PAYLOAD;
  if (type == ML_INNER_RELIABLE && len >= 4) {
    p[0] = (uint8_t)(conversation >> 24);
    p[1] = (uint8_t)(conversation >> 16);
    p[2] = (uint8_t)(conversation >> 8);
    p[3] = (uint8_t)conversation;
  }
  if (ml_channel_seal(peer, type, p, len, dgram, sizeof dgram, &n) == ML_OK)
    ml_peer_link_receive(link, dgram, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_once();
  ml_peer_link_config cfg = {
      .context = ctx,
      .identity = identity,
      .local_peer_id = "zed", /* sorts after "amy": responder, PseudoTCP listens */
      .remote_peer_id = "amy",
      .room_id = "fuzz",
  };
  ml_peer_link *link = NULL;
  ml_channel *peer = NULL;
  if (ml_peer_link_new_secure_for_test(&link, &cfg, link_send_key, link_recv_key, peer_identity,
                                       output, NULL) != ML_OK ||
      ml_channel_new(&peer, link_recv_key, link_send_key, NULL) != ML_OK)
    abort();

  uint8_t buf[ML_DATAGRAM_MAX + 64];
  size_t pos = 0;
  uint8_t op;
  const uint8_t *rec;
  size_t len;
  while (ml_fuzz_next_record(data, size, &pos, &op, &rec, &len)) {
    switch (op % 4) {
    case 0:
      ml_peer_link_receive(link, rec, len); /* exact bytes: ASan sees any overread */
      break;
    case 1:
    case 2: {
      size_t n = len < sizeof buf ? len : sizeof buf;
      memcpy(buf, rec, n);
      ml_inner_type type = op % 4 == 2 ? ML_INNER_RELIABLE : (ml_inner_type)((op / 4) % 5 + 1);
      feed_sealed(link, peer, type, buf, n);
      break;
    }
    case 3: g_main_context_iteration(ctx, FALSE); break;
    }
  }
  ml_peer_link_stats st;
  ml_peer_link_get_stats(link, &st);
  if (st.datagrams_in < st.delivered)
    abort();
  ml_channel_free(peer);
  ml_peer_link_free(link);
  return 0;
}
