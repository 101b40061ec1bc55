/* Fuzz target: Noise handshake message processing with hostile bytes.
 *
 * Input byte 0 picks a pattern (XX, IK, XXpsk3) and which message the fuzzer
 * supplies (the first, second or third); the honest side writes every earlier
 * message with fixed keys, then the rest of the input is read as the peer's
 * next message. If it is accepted, the handshake is driven to the end and the
 * transport ciphers must work. Deterministic: fixed statics and ephemerals. */
#include <assert.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ml/noise.h"

static const char *const names[] = {
    "Noise_XX_25519_ChaChaPoly_BLAKE2b",
    "Noise_IK_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b",
};

static void make(ml_noise_handshake **hs, const char *name, ml_noise_role role,
                 const uint8_t *s_priv, const uint8_t *rs_pub, const uint8_t (*psk)[32],
                 uint8_t e_fill) {
  ml_noise_config c = {.protocol_name = name,
                       .role = role,
                       .prologue = (const uint8_t *)"fuzz",
                       .prologue_len = 4,
                       .local_static_private = s_priv,
                       .remote_static_public = rs_pub,
                       .psks = psk,
                       .n_psks = strstr(name, "psk") ? 1 : 0};
  uint8_t e[32];
  memset(e, e_fill, sizeof e);
  if (ml_noise_handshake_new(hs, &c) != ML_OK || ml_noise_handshake_set_ephemeral(*hs, e) != ML_OK)
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  static uint8_t msg[ML_NOISE_MAX_MSG], pt[ML_NOISE_MAX_MSG];
  const char *name = names[data[0] % 3];
  unsigned target = (data[0] / 3) % 3; /* index of the message the fuzzer writes */
  data++;
  size--;

  uint8_t i_priv[32], r_priv[32], r_pub[32];
  memset(i_priv, 0x01, 32);
  memset(r_priv, 0x02, 32);
  crypto_scalarmult_base(r_pub, r_priv);
  const uint8_t psk[1][32] = {{7}};
  bool ik = strstr(name, "_IK_") != NULL;
  if (ik && target > 1)
    target = 1; /* IK has two messages */

  ml_noise_handshake *hs[2];
  make(&hs[0], name, ML_NOISE_INITIATOR, i_priv, ik ? r_pub : NULL, psk, 0x11);
  make(&hs[1], name, ML_NOISE_RESPONDER, r_priv, NULL, psk, 0x22);

  size_t len, pt_len;
  for (unsigned i = 0; i < target; i++) {
    ml_noise_handshake *tx = hs[i % 2], *rx = hs[(i + 1) % 2];
    if (ml_noise_handshake_write_message(tx, NULL, 0, msg, sizeof msg, &len) != ML_OK ||
        ml_noise_handshake_read_message(rx, msg, len, pt, sizeof pt, &pt_len) != ML_OK)
      __builtin_trap(); /* the honest prefix must work */
  }
  ml_noise_handshake *rx = hs[(target + 1) % 2];
  int err = ml_noise_handshake_read_message(rx, data, size, pt, sizeof pt, &pt_len);
  if (err == ML_OK) {
    assert(pt_len <= size);
    /* Accepted: keep going as far as the honest side can. */
    /* Our reply may only fail because the peer's key is unusable (a low-order
     * point makes a DH fail), never for another reason. */
    if (ml_noise_handshake_action(rx) == ML_NOISE_WRITE) {
      int werr = ml_noise_handshake_write_message(rx, pt, pt_len > 64 ? 64 : pt_len, msg,
                                                  sizeof msg, &len);
      if (werr != ML_OK && werr != ML_ERR_CRYPTO)
        __builtin_trap();
    }
    if (ml_noise_handshake_action(rx) == ML_NOISE_SPLIT) {
      ml_noise_cipher *s, *r;
      if (ml_noise_handshake_split(rx, &s, &r) != ML_OK)
        __builtin_trap();
      size_t n;
      if (ml_noise_cipher_encrypt(s, NULL, 0, pt, pt_len > 64 ? 64 : pt_len, msg, sizeof msg, &n) !=
          ML_OK)
        __builtin_trap();
      /* Hostile bytes as a transport message: must be refused, never crash. */
      if (ml_noise_cipher_decrypt(r, NULL, 0, data, size, pt, sizeof pt, &n) == ML_OK && size < 16)
        __builtin_trap();
      ml_noise_cipher_free(s);
      ml_noise_cipher_free(r);
    }
  } else {
    assert(ml_noise_handshake_action(rx) == ML_NOISE_FAILED || err == ML_ERR_BUFFER);
  }
  ml_noise_handshake_free(hs[0]);
  ml_noise_handshake_free(hs[1]);
  return 0;
}
