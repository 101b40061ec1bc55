/* libFuzzer target: the handshake on a path to one peer (ml/handshake.h),
 * both ends in memory, time driven by the input.
 *
 * Byte 0: bit 0 selects XXpsk3 (both ends hold the same room secret), bit 1
 * gives the responder a different one. The rest is a sequence of records,
 * u8 op || u16 length (big-endian) || bytes:
 *   op % 6 == 0: the bytes as a datagram from the network to the responder;
 *   op % 6 == 1: the same, to the initiator;
 *   op % 6 == 2: the initiator's last datagram to the responder, XORed with
 *                the bytes (none: delivered as sent), so mutations reach the
 *                later messages;
 *   op % 6 == 3: the same, responder to initiator;
 *   op % 6 == 4: time advances by the first two bytes (ms) and both tick;
 *   op % 6 == 5: bytes[0] even: the responder's confirmation (a KEEPALIVE
 *                under its keys) to the initiator; odd: a new path session
 *                (ICE restart) on both ends, with the prologue set again.
 * Invariants: once both are DONE they agree on the hash, and each holds the
 * other's identity key. Deterministic within a process: fixed identities
 * (made once) and fixed ephemeral keys. Seeds in corpus/handshake_session/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "handshake_internal.h"
#include "ml/handshake.h"

#include "fuzz.h"

typedef struct end {
  ml_handshake *hs;
  ml_channel *channel;
  uint8_t last[ML_DATAGRAM_MAX];
  size_t last_len;
} end;

static ml_identity *ids[2];
static const uint8_t psks[2][ML_NOISE_KEY_LEN] = {{7}, {8}};

static void init_once(void) {
  if (ids[0])
    return;
  if (sodium_init() < 0 || ml_identity_generate(&ids[0]) != ML_OK ||
      ml_identity_generate(&ids[1]) != ML_OK)
    abort();
}

static void set_prologue(end *e) {
  if (ml_handshake_set_prologue(e->hs, (const uint8_t *)"mentorlink/1 fuzz", 17) != ML_OK)
    abort();
}

static void make(end *e, int k, const uint8_t *psk) {
  memset(e, 0, sizeof *e);
  ml_handshake_config cfg = {
      .identity = ids[k], .initiator = k == 0, .psk = psk, .key_confirmation = true, .attempts = 2};
  if (ml_handshake_new(&e->hs, &cfg) != ML_OK)
    abort();
  uint8_t eph[ML_NOISE_KEY_LEN];
  memset(eph, k ? 0x22 : 0x11, sizeof eph);
  ml_handshake_test_set_ephemeral(e->hs, eph);
  set_prologue(e);
}

static void took(end *e, const ml_handshake_out *out) {
  if (out->datagram) {
    if (out->datagram_len > sizeof e->last)
      abort();
    memcpy(e->last, out->datagram, out->datagram_len);
    e->last_len = out->datagram_len;
  }
  if (out->event == ML_HANDSHAKE_EV_RETRY || out->event == ML_HANDSHAKE_EV_FAILED) {
    ml_channel_free(e->channel);
    e->channel = NULL;
  }
  if (out->channel) {
    ml_channel_free(e->channel);
    e->channel = out->channel;
  }
  if ((out->event == ML_HANDSHAKE_EV_KEYS || out->event == ML_HANDSHAKE_EV_DONE) && !out->channel)
    abort();
}

static void deliver(end *to, const uint8_t *d, size_t len, int64_t now) {
  ml_handshake_out out;
  ml_handshake_receive(to->hs, d, len, now, &out);
  took(to, &out);
}

static void relay(end *from, end *to, const uint8_t *mask, size_t mask_len, int64_t now) {
  uint8_t d[ML_DATAGRAM_MAX];
  size_t n = from->last_len;
  memcpy(d, from->last, n);
  for (size_t i = 0; i < mask_len && i < n; i++)
    d[i] ^= mask[i];
  deliver(to, d, n, now);
}

static void confirm(end *i, end *r) {
  uint8_t d[ML_DATAGRAM_MAX], pt[ML_DATAGRAM_MAX];
  size_t n, ptn;
  ml_inner_type type;
  if (!i->channel || !r->channel ||
      ml_channel_seal(r->channel, ML_INNER_KEEPALIVE, NULL, 0, d, sizeof d, &n) != ML_OK)
    return;
  if (ml_channel_open(i->channel, d, n, &type, pt, sizeof pt, &ptn) == ML_OK)
    ml_handshake_confirm(i->hs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_once();
  if (size < 1)
    return 0;
  uint8_t mode = data[0];
  const uint8_t *psk_i = mode & 1 ? psks[0] : NULL;
  const uint8_t *psk_r = mode & 1 ? psks[mode & 2 ? 1 : 0] : NULL;
  end e[2];
  make(&e[0], 0, psk_i);
  make(&e[1], 1, psk_r);
  int64_t now = 1000000;
  ml_handshake_out out;
  ml_handshake_start(e[1].hs, now, &out);
  took(&e[1], &out);
  ml_handshake_start(e[0].hs, now, &out);
  took(&e[0], &out);

  size_t pos = 1;
  uint8_t op;
  const uint8_t *rec;
  size_t len;
  while (ml_fuzz_next_record(data, size, &pos, &op, &rec, &len)) {
    switch (op % 6) {
    case 0:
    case 1: deliver(&e[op % 6 == 0 ? 1 : 0], rec, len, now); break; /* exact bytes */
    case 2: relay(&e[0], &e[1], rec, len, now); break;
    case 3: relay(&e[1], &e[0], rec, len, now); break;
    case 4:
      now += (int64_t)(len >= 2 ? (rec[0] << 8 | rec[1]) : 250) * 1000;
      for (int k = 0; k < 2; k++) {
        ml_handshake_tick(e[k].hs, now, &out);
        took(&e[k], &out);
      }
      break;
    case 5:
      if (len == 0 || rec[0] % 2 == 0) {
        confirm(&e[0], &e[1]);
      } else {
        for (int k = 0; k < 2; k++) {
          ml_handshake_new_session(e[k].hs);
          set_prologue(&e[k]);
        }
      }
      break;
    }
  }
  if (ml_handshake_get_phase(e[0].hs) == ML_HANDSHAKE_DONE &&
      ml_handshake_get_phase(e[1].hs) == ML_HANDSHAKE_DONE) {
    if (memcmp(ml_handshake_hash(e[0].hs), ml_handshake_hash(e[1].hs), ML_NOISE_HASH_LEN) != 0 ||
        memcmp(ml_handshake_peer_identity(e[0].hs), ml_identity_public_key(ids[1]),
               ML_IDENTITY_PUBLIC_LEN) != 0 ||
        memcmp(ml_handshake_peer_identity(e[1].hs), ml_identity_public_key(ids[0]),
               ML_IDENTITY_PUBLIC_LEN) != 0)
      abort();
  }
  for (int k = 0; k < 2; k++) {
    ml_channel_free(e[k].channel);
    ml_handshake_free(e[k].hs);
  }
  return 0;
}
