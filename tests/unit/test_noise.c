/* Unit tests for the Noise implementation (common/src/noise.c,
 * noise_patterns.c). Byte-exact conformance is checked by the vector runner
 * (tests/vectors); these cover behaviour: round trips, failures, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"
#include <sodium.h>

#include "ml/noise.h"

#define XX "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define IK "Noise_IK_25519_ChaChaPoly_BLAKE2b"
#define XXPSK3 "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b"

typedef struct keys {
  uint8_t i_priv[32], i_pub[32], r_priv[32], r_pub[32];
  uint8_t psk[1][32];
} keys;

typedef struct pair {
  ml_noise_handshake *init, *resp;
} pair;

static keys make_keys(void) {
  keys k;
  ml_noise_keypair(k.i_priv, k.i_pub);
  ml_noise_keypair(k.r_priv, k.r_pub);
  randombytes_buf(k.psk[0], 32);
  return k;
}

static const uint8_t prologue[] = "mentorlink test prologue";

static pair make_pair(const char *name, const keys *k, const uint8_t *resp_pub_for_init,
                      const uint8_t (*resp_psk)[32]) {
  pair p = {0};
  size_t n_psks = strstr(name, "psk") ? 1 : 0;
  ml_noise_config ci = {.protocol_name = name,
                        .role = ML_NOISE_INITIATOR,
                        .prologue = prologue,
                        .prologue_len = sizeof prologue,
                        .local_static_private = k->i_priv,
                        .remote_static_public = resp_pub_for_init,
                        .psks = (const uint8_t(*)[32])k->psk,
                        .n_psks = n_psks};
  ml_noise_config cr = {.protocol_name = name,
                        .role = ML_NOISE_RESPONDER,
                        .prologue = prologue,
                        .prologue_len = sizeof prologue,
                        .local_static_private = k->r_priv,
                        .psks = resp_psk ? resp_psk : (const uint8_t(*)[32])k->psk,
                        .n_psks = n_psks};
  assert_int_equal(ml_noise_handshake_new(&p.init, &ci), ML_OK);
  assert_int_equal(ml_noise_handshake_new(&p.resp, &cr), ML_OK);
  return p;
}

static void free_pair(pair *p) {
  ml_noise_handshake_free(p->init);
  ml_noise_handshake_free(p->resp);
}

/* Sends one message from tx to rx; returns rx's read result. */
static int step(ml_noise_handshake *tx, ml_noise_handshake *rx, const char *payload, uint8_t *msg,
                size_t *msg_len) {
  uint8_t pt[ML_NOISE_MAX_MSG];
  size_t pt_len = 0;
  size_t plen = strlen(payload);
  assert_int_equal(ml_noise_handshake_action(tx), ML_NOISE_WRITE);
  assert_int_equal(ml_noise_handshake_action(rx), ML_NOISE_READ);
  assert_int_equal(ml_noise_handshake_write_message(tx, (const uint8_t *)payload, plen, msg,
                                                    ML_NOISE_MAX_MSG, msg_len),
                   ML_OK);
  int err = ml_noise_handshake_read_message(rx, msg, *msg_len, pt, sizeof pt, &pt_len);
  if (err == ML_OK) {
    assert_int_equal(pt_len, plen);
    assert_memory_equal(pt, payload, plen);
  }
  return err;
}

/* Runs a whole handshake and checks both sides agree; returns the pair. */
static void run_handshake(pair *p) {
  static uint8_t msg[ML_NOISE_MAX_MSG];
  size_t len;
  const char *payloads[] = {"hello", "mentor here", "mentee here", "x"};
  int i = 0;
  while (ml_noise_handshake_action(p->init) != ML_NOISE_SPLIT) {
    bool init_writes = ml_noise_handshake_action(p->init) == ML_NOISE_WRITE;
    assert_int_equal(step(init_writes ? p->init : p->resp, init_writes ? p->resp : p->init,
                          payloads[i % 4], msg, &len),
                     ML_OK);
    i++;
  }
  assert_int_equal(ml_noise_handshake_action(p->resp), ML_NOISE_SPLIT);
  assert_memory_equal(ml_noise_handshake_hash(p->init), ml_noise_handshake_hash(p->resp),
                      ML_NOISE_HASH_LEN);
}

static void check_transport(ml_noise_cipher *send, ml_noise_cipher *recv) {
  uint8_t ct[128], pt[128];
  size_t ct_len, pt_len;
  for (int i = 0; i < 3; i++) {
    const char *text = "blood pressure 120/80";
    assert_int_equal(ml_noise_cipher_encrypt(send, NULL, 0, (const uint8_t *)text, strlen(text), ct,
                                             sizeof ct, &ct_len),
                     ML_OK);
    assert_int_equal(ct_len, strlen(text) + ML_NOISE_TAG_LEN);
    assert_int_equal(ml_noise_cipher_decrypt(recv, NULL, 0, ct, ct_len, pt, sizeof pt, &pt_len),
                     ML_OK);
    assert_memory_equal(pt, text, strlen(text));
  }
}

static void round_trip(const char *name, bool resp_key_known) {
  keys k = make_keys();
  pair p = make_pair(name, &k, resp_key_known ? k.r_pub : NULL, NULL);
  run_handshake(&p);
  uint8_t rs[32];
  assert_int_equal(ml_noise_handshake_remote_static(p.init, rs), ML_OK);
  assert_memory_equal(rs, k.r_pub, 32);
  assert_int_equal(ml_noise_handshake_remote_static(p.resp, rs), ML_OK);
  assert_memory_equal(rs, k.i_pub, 32);

  ml_noise_cipher *is, *ir, *rsend, *rrecv;
  assert_int_equal(ml_noise_handshake_split(p.init, &is, &ir), ML_OK);
  assert_int_equal(ml_noise_handshake_split(p.resp, &rsend, &rrecv), ML_OK);
  assert_int_equal(ml_noise_handshake_split(p.resp, &rsend, &rrecv), ML_ERR_STATE);
  check_transport(is, rrecv);
  check_transport(rsend, ir);
  /* Rekey on both ends of one direction keeps them in step; on one end only breaks it. */
  ml_noise_cipher_rekey(is);
  ml_noise_cipher_rekey(rrecv);
  check_transport(is, rrecv);
  uint8_t ct[64], pt[64];
  size_t n;
  ml_noise_cipher_rekey(is);
  assert_int_equal(ml_noise_cipher_encrypt(is, NULL, 0, (const uint8_t *)"x", 1, ct, sizeof ct, &n),
                   ML_OK);
  assert_int_equal(ml_noise_cipher_decrypt(rrecv, NULL, 0, ct, n, pt, sizeof pt, &n),
                   ML_ERR_CRYPTO);
  ml_noise_cipher_free(is);
  ml_noise_cipher_free(ir);
  ml_noise_cipher_free(rsend);
  ml_noise_cipher_free(rrecv);
  free_pair(&p);
}

static void test_xx_round_trip(void **state) {
  (void)state;
  round_trip(XX, false);
}
static void test_ik_round_trip(void **state) {
  (void)state;
  round_trip(IK, true);
}
static void test_xxpsk3_round_trip(void **state) {
  (void)state;
  round_trip(XXPSK3, false);
}

static void test_one_way_split(void **state) {
  (void)state;
  keys k = make_keys();
  ml_noise_config ci = {.protocol_name = "Noise_X_25519_ChaChaPoly_BLAKE2b",
                        .role = ML_NOISE_INITIATOR,
                        .local_static_private = k.i_priv,
                        .remote_static_public = k.r_pub};
  ml_noise_config cr = {.protocol_name = "Noise_X_25519_ChaChaPoly_BLAKE2b",
                        .role = ML_NOISE_RESPONDER,
                        .local_static_private = k.r_priv};
  pair p = {0};
  assert_int_equal(ml_noise_handshake_new(&p.init, &ci), ML_OK);
  assert_int_equal(ml_noise_handshake_new(&p.resp, &cr), ML_OK);
  run_handshake(&p);
  ml_noise_cipher *a, *b, *c, *d;
  assert_int_equal(ml_noise_handshake_split(p.init, &a, &b), ML_OK);
  assert_int_equal(ml_noise_handshake_split(p.resp, &c, &d), ML_OK);
  assert_non_null(a);
  assert_null(b);
  assert_null(c);
  assert_non_null(d);
  check_transport(a, d);
  ml_noise_cipher_free(a);
  ml_noise_cipher_free(d);
  free_pair(&p);
}

/* Flipping any bit of an authenticated handshake message makes the reader fail. */
static void test_tampered_messages_fail(void **state) {
  (void)state;
  keys k = make_keys();
  for (int target = 1; target <= 2; target++) { /* XX messages 2 and 3 */
    pair probe = make_pair(XX, &k, NULL, NULL);
    uint8_t msg[ML_NOISE_MAX_MSG];
    size_t len;
    assert_int_equal(step(probe.init, probe.resp, "", msg, &len), ML_OK);
    if (target == 2)
      assert_int_equal(step(probe.resp, probe.init, "payload", msg, &len), ML_OK);
    ml_noise_handshake *tx = target == 1 ? probe.resp : probe.init;
    assert_int_equal(
        ml_noise_handshake_write_message(tx, (const uint8_t *)"payload", 7, msg, sizeof msg, &len),
        ML_OK);
    free_pair(&probe);
    /* Replay the same handshake with fixed ephemerals so each flip hits the same message. */
    for (size_t byte = 0; byte < len; byte += 7) {
      uint8_t ei[32], er[32];
      memset(ei, 0x11, 32);
      memset(er, 0x22, 32);
      pair p = make_pair(XX, &k, NULL, NULL);
      assert_int_equal(ml_noise_handshake_set_ephemeral(p.init, ei), ML_OK);
      assert_int_equal(ml_noise_handshake_set_ephemeral(p.resp, er), ML_OK);
      uint8_t m[ML_NOISE_MAX_MSG], pt[ML_NOISE_MAX_MSG];
      size_t mlen, ptlen;
      assert_int_equal(step(p.init, p.resp, "", m, &mlen), ML_OK);
      if (target == 2)
        assert_int_equal(step(p.resp, p.init, "payload", m, &mlen), ML_OK);
      tx = target == 1 ? p.resp : p.init;
      ml_noise_handshake *rx = target == 1 ? p.init : p.resp;
      assert_int_equal(
          ml_noise_handshake_write_message(tx, (const uint8_t *)"payload", 7, m, sizeof m, &mlen),
          ML_OK);
      m[byte] ^= 0x01;
      assert_int_equal(ml_noise_handshake_read_message(rx, m, mlen, pt, sizeof pt, &ptlen),
                       ML_ERR_CRYPTO);
      assert_int_equal(ml_noise_handshake_action(rx), ML_NOISE_FAILED);
      free_pair(&p);
    }
  }
}

/* Every strict prefix of every XX message is refused, and never crashes. */
static void test_truncated_prefixes_fail(void **state) {
  (void)state;
  keys k = make_keys();
  uint8_t ei[32], er[32];
  memset(ei, 0x33, 32);
  memset(er, 0x44, 32);
  for (int target = 0; target < 3; target++) {
    size_t full_len = 0;
    for (size_t cut = 0;; cut++) {
      pair p = make_pair(XX, &k, NULL, NULL);
      assert_int_equal(ml_noise_handshake_set_ephemeral(p.init, ei), ML_OK);
      assert_int_equal(ml_noise_handshake_set_ephemeral(p.resp, er), ML_OK);
      uint8_t m[ML_NOISE_MAX_MSG], pt[ML_NOISE_MAX_MSG];
      size_t mlen, ptlen;
      for (int i = 0; i < target; i++)
        assert_int_equal(step(i % 2 ? p.resp : p.init, i % 2 ? p.init : p.resp, "", m, &mlen),
                         ML_OK);
      ml_noise_handshake *tx = target % 2 ? p.resp : p.init, *rx = target % 2 ? p.init : p.resp;
      /* Message 1 carries its payload in clear, so send it empty: then only the
       * full length is a valid message. */
      const char *payload = target == 0 ? "" : "abc";
      assert_int_equal(ml_noise_handshake_write_message(tx, (const uint8_t *)payload,
                                                        strlen(payload), m, sizeof m, &mlen),
                       ML_OK);
      full_len = mlen;
      if (cut >= full_len) {
        free_pair(&p);
        break;
      }
      int err = ml_noise_handshake_read_message(rx, m, cut, pt, sizeof pt, &ptlen);
      assert_true(err == ML_ERR_PROTOCOL || err == ML_ERR_CRYPTO);
      assert_int_equal(ml_noise_handshake_action(rx), ML_NOISE_FAILED);
      free_pair(&p);
    }
    assert_true(full_len >= 32);
  }
}

static void test_wrong_psk_fails(void **state) {
  (void)state;
  keys k = make_keys();
  uint8_t other[1][32];
  memset(other[0], 0x5a, 32);
  pair p = make_pair(XXPSK3, &k, NULL, (const uint8_t(*)[32])other);
  uint8_t m[ML_NOISE_MAX_MSG];
  size_t len;
  assert_int_equal(step(p.init, p.resp, "", m, &len), ML_OK);
  assert_int_equal(step(p.resp, p.init, "", m, &len), ML_OK);
  assert_int_equal(step(p.init, p.resp, "", m, &len), ML_ERR_CRYPTO);
  /* The initiator's static key decrypted before the PSK was mixed in: the
   * responder can tell a different PSK from a forged key (peer_link does). */
  uint8_t rs[32];
  assert_int_equal(ml_noise_handshake_remote_static(p.resp, rs), ML_OK);
  assert_memory_equal(rs, k.i_pub, 32);
  free_pair(&p);
}

static void test_ik_wrong_responder_key_fails(void **state) {
  (void)state;
  keys k = make_keys();
  uint8_t wrong_priv[32], wrong_pub[32];
  ml_noise_keypair(wrong_priv, wrong_pub);
  pair p = make_pair(IK, &k, wrong_pub, NULL);
  uint8_t m[ML_NOISE_MAX_MSG];
  size_t len;
  assert_int_equal(step(p.init, p.resp, "secret", m, &len), ML_ERR_CRYPTO);
  free_pair(&p);
}

static void test_small_buffer_keeps_state(void **state) {
  (void)state;
  keys k = make_keys();
  pair p = make_pair(XX, &k, NULL, NULL);
  uint8_t m[ML_NOISE_MAX_MSG], pt[ML_NOISE_MAX_MSG];
  size_t len, ptlen;
  assert_int_equal(step(p.init, p.resp, "", m, &len), ML_OK);
  assert_int_equal(ml_noise_handshake_write_message(p.resp, (const uint8_t *)"0123456789", 10, m,
                                                    sizeof m, &len),
                   ML_OK);
  assert_int_equal(ml_noise_handshake_read_message(p.init, m, len, pt, 9, &ptlen), ML_ERR_BUFFER);
  assert_int_equal(ml_noise_handshake_action(p.init), ML_NOISE_READ);
  assert_int_equal(ml_noise_handshake_read_message(p.init, m, len, pt, 10, &ptlen), ML_OK);
  assert_int_equal(ptlen, 10);
  /* A write buffer that is too small is refused before anything changes. */
  assert_int_equal(ml_noise_handshake_write_message(p.init, NULL, 0, m, 10, &len), ML_ERR_BUFFER);
  assert_int_equal(ml_noise_handshake_action(p.init), ML_NOISE_WRITE);
  free_pair(&p);
}

static void test_limits_and_sequence(void **state) {
  (void)state;
  keys k = make_keys();
  pair p = make_pair(XX, &k, NULL, NULL);
  static uint8_t big[ML_NOISE_MAX_MSG + 1], m[ML_NOISE_MAX_MSG];
  size_t len;
  assert_int_equal(
      ml_noise_handshake_write_message(p.init, big, ML_NOISE_MAX_MSG, m, sizeof m, &len),
      ML_ERR_TOO_BIG);
  /* The responder may not write first, nor the initiator read first. */
  assert_int_equal(ml_noise_handshake_write_message(p.resp, NULL, 0, m, sizeof m, &len),
                   ML_ERR_STATE);
  assert_int_equal(ml_noise_handshake_read_message(p.init, m, 32, m, sizeof m, &len), ML_ERR_STATE);
  /* An oversized message from the network fails the handshake. */
  assert_int_equal(ml_noise_handshake_read_message(p.resp, big, sizeof big, m, sizeof m, &len),
                   ML_ERR_PROTOCOL);
  assert_int_equal(ml_noise_handshake_action(p.resp), ML_NOISE_FAILED);
  ml_noise_cipher *a, *b;
  assert_int_equal(ml_noise_handshake_split(p.init, &a, &b), ML_ERR_STATE);
  free_pair(&p);
}

/* An all-zero (low-order) ephemeral from the peer is refused. */
static void test_low_order_point_refused(void **state) {
  (void)state;
  keys k = make_keys();
  pair p = make_pair(XX, &k, NULL, NULL);
  uint8_t m[ML_NOISE_MAX_MSG], pt[64];
  size_t len, ptlen;
  assert_int_equal(step(p.init, p.resp, "", m, &len), ML_OK);
  assert_int_equal(ml_noise_handshake_write_message(p.resp, NULL, 0, m, sizeof m, &len), ML_OK);
  memset(m, 0, 32); /* responder's e := the zero point */
  assert_int_equal(ml_noise_handshake_read_message(p.init, m, len, pt, sizeof pt, &ptlen),
                   ML_ERR_CRYPTO);
  free_pair(&p);
}

static void test_config_errors(void **state) {
  (void)state;
  keys k = make_keys();
  ml_noise_handshake *hs = NULL;
  const char *unsupported[] = {
      "Noise_XX_448_ChaChaPoly_BLAKE2b",   "Noise_XX_25519_AESGCM_BLAKE2b",
      "Noise_XX_25519_ChaChaPoly_SHA256",  "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b",
      "Noise_ZZ_25519_ChaChaPoly_BLAKE2b", "Noise_XX_25519_ChaChaPoly_BLAKE2b_extra",
      "Nois_XX_25519_ChaChaPoly_BLAKE2b",  ""};
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
    ml_noise_config c = {.protocol_name = unsupported[i], .local_static_private = k.i_priv};
    assert_int_equal(ml_noise_handshake_new(&hs, &c), ML_ERR_UNSUPPORTED);
    assert_null(hs);
  }
  /* XX needs our static key; IK's initiator needs the responder's. */
  ml_noise_config c1 = {.protocol_name = XX};
  assert_int_equal(ml_noise_handshake_new(&hs, &c1), ML_ERR_INVALID);
  ml_noise_config c2 = {.protocol_name = IK, .local_static_private = k.i_priv};
  assert_int_equal(ml_noise_handshake_new(&hs, &c2), ML_ERR_INVALID);
  /* PSK count must match the pattern; psk9 names no message. */
  ml_noise_config c3 = {.protocol_name = XXPSK3, .local_static_private = k.i_priv};
  assert_int_equal(ml_noise_handshake_new(&hs, &c3), ML_ERR_INVALID);
  ml_noise_config c4 = {.protocol_name = "Noise_XXpsk9_25519_ChaChaPoly_BLAKE2b",
                        .local_static_private = k.i_priv,
                        .psks = (const uint8_t(*)[32])k.psk,
                        .n_psks = 1};
  assert_int_equal(ml_noise_handshake_new(&hs, &c4), ML_ERR_INVALID);
  ml_noise_config c5 = {.protocol_name = "Noise_NNpsk0+psk0_25519_ChaChaPoly_BLAKE2b"};
  assert_int_equal(ml_noise_handshake_new(&hs, &c5), ML_ERR_INVALID);
  ml_noise_config c6 = {.protocol_name = XX,
                        .local_static_private = k.i_priv,
                        .prologue = prologue,
                        .prologue_len = ML_NOISE_MAX_PROLOGUE + 1};
  assert_int_equal(ml_noise_handshake_new(&hs, &c6), ML_ERR_INVALID);
  assert_null(hs);
  ml_noise_handshake_free(NULL);
  ml_noise_cipher_free(NULL);
}

/* The prologue binds the session: different prologues cannot complete. */
static void test_prologue_mismatch_fails(void **state) {
  (void)state;
  keys k = make_keys();
  static const uint8_t other[] = "room-b";
  ml_noise_config ci = {.protocol_name = XX,
                        .role = ML_NOISE_INITIATOR,
                        .prologue = prologue,
                        .prologue_len = sizeof prologue,
                        .local_static_private = k.i_priv};
  ml_noise_config cr = {.protocol_name = XX,
                        .role = ML_NOISE_RESPONDER,
                        .prologue = other,
                        .prologue_len = sizeof other,
                        .local_static_private = k.r_priv};
  pair p = {0};
  assert_int_equal(ml_noise_handshake_new(&p.init, &ci), ML_OK);
  assert_int_equal(ml_noise_handshake_new(&p.resp, &cr), ML_OK);
  uint8_t m[ML_NOISE_MAX_MSG];
  size_t len;
  assert_int_equal(step(p.init, p.resp, "", m, &len), ML_OK);
  assert_int_equal(step(p.resp, p.init, "", m, &len), ML_ERR_CRYPTO);
  free_pair(&p);
}

static void test_rekey_key_matches_cipher_rekey(void **state) {
  (void)state;
  keys k = make_keys();
  pair p = make_pair("Noise_NN_25519_ChaChaPoly_BLAKE2b", &k, NULL, NULL);
  run_handshake(&p);
  ml_noise_cipher *s, *r, *s2, *r2;
  assert_int_equal(ml_noise_handshake_split(p.init, &s, &r), ML_OK);
  assert_int_equal(ml_noise_handshake_split(p.resp, &s2, &r2), ML_OK);
  uint8_t raw[32], after[32];
  ml_noise_cipher_export_key(s, raw);
  ml_noise_rekey_key(raw);
  ml_noise_cipher_rekey(s);
  ml_noise_cipher_export_key(s, after);
  assert_memory_equal(raw, after, 32);
  assert_memory_not_equal(raw, (uint8_t[32]){0}, 32);
  ml_noise_cipher_free(s);
  ml_noise_cipher_free(r);
  ml_noise_cipher_free(s2);
  ml_noise_cipher_free(r2);
  free_pair(&p);
}

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, test_xx_round_trip, test_ik_round_trip,
             test_xxpsk3_round_trip, test_one_way_split, test_tampered_messages_fail,
             test_truncated_prefixes_fail, test_wrong_psk_fails, test_ik_wrong_responder_key_fails,
             test_small_buffer_keeps_state, test_limits_and_sequence, test_low_order_point_refused,
             test_config_errors, test_prologue_mismatch_fails, test_rekey_key_matches_cipher_rekey)
