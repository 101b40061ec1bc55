/* Unit tests for the handshake on a path to one peer (ml/handshake.h): two
 * in-memory ends, time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"
#include <sodium.h>

#include "ml/handshake.h"

#define MS 1000 /* microseconds */
#define T0 ((int64_t)7000000)

typedef struct end {
  ml_identity *id;
  ml_handshake *hs;
  ml_channel *channel;
  uint8_t sent[ML_DATAGRAM_MAX]; /* last datagram this end sent */
  size_t sent_len;
  ml_handshake_out out;
} end;

typedef struct pair {
  end i, r; /* initiator, responder */
} pair;

static const uint8_t psk_a[ML_NOISE_KEY_LEN] = {1, 2, 3};
static const uint8_t psk_b[ML_NOISE_KEY_LEN] = {4, 5, 6};

static void make_end(end *e, bool initiator, const uint8_t *psk, unsigned attempts) {
  memset(e, 0, sizeof *e);
  assert_int_equal(ml_identity_generate(&e->id), ML_OK);
  ml_handshake_config cfg = {.identity = e->id,
                             .initiator = initiator,
                             .psk = psk,
                             .key_confirmation = true,
                             .attempts = attempts};
  assert_int_equal(ml_handshake_new(&e->hs, &cfg), ML_OK);
  uint8_t prologue[ML_HANDSHAKE_PROLOGUE_MAX];
  size_t len;
  assert_int_equal(ml_handshake_ice_prologue("room", "iufr", "rufr", prologue, &len), ML_OK);
  assert_int_equal(ml_handshake_set_prologue(e->hs, prologue, len), ML_OK);
}

static void make_pair(pair *p, const uint8_t *psk_i, const uint8_t *psk_r, unsigned attempts) {
  make_end(&p->i, true, psk_i, attempts);
  make_end(&p->r, false, psk_r, attempts);
}

static void free_end(end *e) {
  ml_channel_free(e->channel);
  ml_handshake_free(e->hs);
  ml_identity_free(e->id);
}

static void free_pair(pair *p) {
  free_end(&p->i);
  free_end(&p->r);
}

/* Keeps what the last call said: its datagram (copied) and its channel. */
static void took(end *e) {
  if (e->out.datagram) {
    memcpy(e->sent, e->out.datagram, e->out.datagram_len);
    e->sent_len = e->out.datagram_len;
  } else {
    e->sent_len = 0;
  }
  if (e->out.channel) {
    assert_null(e->channel);
    e->channel = e->out.channel;
  }
}

static void start(end *e, int64_t now) {
  ml_handshake_start(e->hs, now, &e->out);
  took(e);
}

static void tick(end *e, int64_t now) {
  ml_handshake_tick(e->hs, now, &e->out);
  took(e);
}

/* Delivers from's last datagram to to. */
static void deliver(end *from, end *to, int64_t now) {
  assert_true(from->sent_len > 0);
  uint8_t copy[ML_DATAGRAM_MAX];
  memcpy(copy, from->sent, from->sent_len);
  ml_handshake_receive(to->hs, copy, from->sent_len, now, &to->out);
  took(to);
}

/* The responder's confirmation, a KEEPALIVE under its keys, opened by the
 * initiator; then a datagram the other way. */
static void confirm_and_check(pair *p) {
  uint8_t d[ML_DATAGRAM_MAX], pt[ML_DATAGRAM_MAX];
  size_t n, ptn;
  ml_inner_type type;
  assert_int_equal(ml_channel_seal(p->r.channel, ML_INNER_KEEPALIVE, NULL, 0, d, sizeof d, &n),
                   ML_OK);
  assert_int_equal(ml_channel_open(p->i.channel, d, n, &type, pt, sizeof pt, &ptn), ML_OK);
  assert_int_equal(type, ML_INNER_KEEPALIVE);
  ml_handshake_confirm(p->i.hs);
  assert_int_equal(ml_handshake_get_phase(p->i.hs), ML_HANDSHAKE_DONE);
  assert_int_equal(
      ml_channel_seal(p->i.channel, ML_INNER_CONTROL, (const uint8_t *)"hi", 2, d, sizeof d, &n),
      ML_OK);
  assert_int_equal(ml_channel_open(p->r.channel, d, n, &type, pt, sizeof pt, &ptn), ML_OK);
  assert_int_equal(ptn, 2);
  assert_memory_equal(pt, "hi", 2);
  assert_memory_equal(ml_handshake_hash(p->i.hs), ml_handshake_hash(p->r.hs), ML_NOISE_HASH_LEN);
  assert_memory_equal(ml_handshake_peer_identity(p->i.hs), ml_identity_public_key(p->r.id),
                      ML_IDENTITY_PUBLIC_LEN);
  assert_memory_equal(ml_handshake_peer_identity(p->r.hs), ml_identity_public_key(p->i.id),
                      ML_IDENTITY_PUBLIC_LEN);
  assert_int_equal(ml_handshake_next_tick(p->i.hs), ML_HANDSHAKE_NEVER);
  assert_int_equal(ml_handshake_next_tick(p->r.hs), ML_HANDSHAKE_NEVER);
}

/* Messages 1, 2, 3 without loss; the responder is DONE at message 3 and asks
 * for the confirmation, the initiator holds KEYS until it arrives. */
static void run_to_keys(pair *p, int64_t now) {
  start(&p->r, now);
  assert_int_equal(p->r.out.event, ML_HANDSHAKE_EV_PENDING);
  assert_null(p->r.out.datagram);
  start(&p->i, now);
  assert_int_equal(p->i.out.event, ML_HANDSHAKE_EV_PENDING);
  assert_int_equal(ml_handshake_get_phase(p->i.hs), ML_HANDSHAKE_WAIT_MSG2);
  deliver(&p->i, &p->r, now);
  assert_int_equal(ml_handshake_get_phase(p->r.hs), ML_HANDSHAKE_WAIT_MSG3);
  assert_true(p->r.sent_len > 0);
  deliver(&p->r, &p->i, now);
  assert_int_equal(p->i.out.event, ML_HANDSHAKE_EV_KEYS);
  assert_int_equal(ml_handshake_get_phase(p->i.hs), ML_HANDSHAKE_CONFIRM);
  assert_non_null(p->i.channel);
  deliver(&p->i, &p->r, now);
  assert_int_equal(p->r.out.event, ML_HANDSHAKE_EV_DONE);
  assert_true(p->r.out.send_confirmation);
  assert_non_null(p->r.channel);
}

static void two_ends_complete(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 0);
  run_to_keys(&p, T0);
  confirm_and_check(&p);
  /* A duplicate of message 3 after DONE asks for a fresh confirmation. */
  deliver(&p.i, &p.r, T0);
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_PENDING);
  assert_true(p.r.out.send_confirmation);
  free_pair(&p);
}

static void two_ends_complete_with_psk(void **state) {
  (void)state;
  pair p;
  make_pair(&p, psk_a, psk_a, 0);
  run_to_keys(&p, T0);
  confirm_and_check(&p);
  free_pair(&p);
}

static void without_key_confirmation_both_done_at_once(void **state) {
  (void)state;
  end i, r;
  for (int k = 0; k < 2; k++) {
    end *e = k ? &r : &i;
    memset(e, 0, sizeof *e);
    assert_int_equal(ml_identity_generate(&e->id), ML_OK);
    ml_handshake_config cfg = {.identity = e->id, .initiator = k == 0};
    assert_int_equal(ml_handshake_new(&e->hs, &cfg), ML_OK);
    assert_int_equal(ml_handshake_set_prologue(e->hs, (const uint8_t *)"demo", 4), ML_OK);
  }
  start(&i, T0);
  deliver(&i, &r, T0);
  deliver(&r, &i, T0);
  assert_int_equal(i.out.event, ML_HANDSHAKE_EV_DONE);
  assert_non_null(i.channel);
  deliver(&i, &r, T0);
  assert_int_equal(r.out.event, ML_HANDSHAKE_EV_DONE);
  assert_false(r.out.send_confirmation);
  assert_memory_equal(ml_handshake_hash(i.hs), ml_handshake_hash(r.hs), ML_NOISE_HASH_LEN);
  free_end(&i);
  free_end(&r);
}

static void lost_message_retransmitted_after_timeout(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 0);
  start(&p.i, T0);
  uint8_t msg1[ML_DATAGRAM_MAX];
  size_t msg1_len = p.i.sent_len;
  memcpy(msg1, p.i.sent, msg1_len);
  /* Message 1 is lost. Nothing happens before the RTO... */
  assert_int_equal(ml_handshake_next_tick(p.i.hs), T0 + ML_HANDSHAKE_RTO_MS * MS);
  tick(&p.i, T0 + (ML_HANDSHAKE_RTO_MS - 1) * MS);
  assert_int_equal(p.i.sent_len, 0);
  /* ...then the same bytes go again, and the RTO doubles. */
  tick(&p.i, T0 + ML_HANDSHAKE_RTO_MS * MS);
  assert_int_equal(p.i.sent_len, msg1_len);
  assert_memory_equal(p.i.sent, msg1, msg1_len);
  assert_int_equal(ml_handshake_next_tick(p.i.hs), T0 + 3 * ML_HANDSHAKE_RTO_MS * MS);
  ml_handshake_stats st;
  ml_handshake_get_stats(p.i.hs, &st);
  assert_int_equal(st.retransmits, 1);

  /* Message 2 is lost: the retransmitted message 1 makes the responder send
   * it again, byte for byte. */
  int64_t now = T0 + 300 * MS;
  deliver(&p.i, &p.r, now);
  uint8_t msg2[ML_DATAGRAM_MAX];
  size_t msg2_len = p.r.sent_len;
  memcpy(msg2, p.r.sent, msg2_len);
  deliver(&p.i, &p.r, now);
  assert_int_equal(p.r.sent_len, msg2_len);
  assert_memory_equal(p.r.sent, msg2, msg2_len);
  ml_handshake_get_stats(p.r.hs, &st);
  assert_int_equal(st.retransmits, 1);

  deliver(&p.r, &p.i, now);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_KEYS);
  /* Message 3 is lost: retransmitted on the RTO schedule, from the start. */
  uint8_t msg3[ML_DATAGRAM_MAX];
  size_t msg3_len = p.i.sent_len;
  memcpy(msg3, p.i.sent, msg3_len);
  assert_int_equal(ml_handshake_next_tick(p.i.hs), now + ML_HANDSHAKE_RTO_MS * MS);
  tick(&p.i, now + ML_HANDSHAKE_RTO_MS * MS);
  assert_int_equal(p.i.sent_len, msg3_len);
  assert_memory_equal(p.i.sent, msg3, msg3_len);
  /* A duplicate message 2 also makes it re-send message 3. */
  memcpy(p.r.sent, msg2, msg2_len);
  p.r.sent_len = msg2_len;
  deliver(&p.r, &p.i, now);
  assert_int_equal(p.i.sent_len, msg3_len);
  assert_memory_equal(p.i.sent, msg3, msg3_len);
  deliver(&p.i, &p.r, now);
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_DONE);
  confirm_and_check(&p);
  free_pair(&p);
}

static void rto_doubles_up_to_the_cap(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 0);
  start(&p.i, T0);
  int64_t now = T0;
  uint32_t expect[] = {250, 500, 1000, 2000, 2000};
  for (size_t k = 0; k < sizeof expect / sizeof expect[0]; k++) {
    int64_t next = ml_handshake_next_tick(p.i.hs);
    assert_int_equal(next - now, (int64_t)expect[k] * MS);
    now = next;
    tick(&p.i, now);
    assert_true(p.i.sent_len > 0);
  }
  free_pair(&p);
}

static void tampered_message_2_fails_the_attempt(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 0);
  start(&p.i, T0);
  deliver(&p.i, &p.r, T0);
  p.r.sent[p.r.sent_len - 1] ^= 0x01; /* the payload's tag */
  deliver(&p.r, &p.i, T0);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_RETRY);
  assert_int_equal(p.i.out.err, ML_ERR_CRYPTO);
  assert_non_null(strstr(p.i.out.what, "handshake message 2 did not authenticate"));
  assert_null(p.i.channel);
  assert_int_equal(ml_handshake_get_phase(p.i.hs), ML_HANDSHAKE_IDLE);
  /* The next attempt begins after the backoff, with a fresh message 1. */
  assert_int_equal(ml_handshake_next_tick(p.i.hs), T0 + ML_HANDSHAKE_BACKOFF_MS * MS);
  tick(&p.i, T0 + ML_HANDSHAKE_BACKOFF_MS * MS);
  assert_int_equal(ml_handshake_get_phase(p.i.hs), ML_HANDSHAKE_WAIT_MSG2);
  assert_true(p.i.sent_len > 0);
  free_pair(&p);
}

static void different_room_secret_fails_for_good(void **state) {
  (void)state;
  pair p;
  make_pair(&p, psk_a, psk_b, 0);
  start(&p.i, T0);
  deliver(&p.i, &p.r, T0);
  /* XXpsk3 mixes the PSK in at message 3: message 2 passes, message 3
   * fails after the initiator's static key decrypted. */
  deliver(&p.r, &p.i, T0);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_KEYS);
  deliver(&p.i, &p.r, T0);
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_FAILED);
  assert_int_equal(p.r.out.err, ML_ERR_CRYPTO);
  assert_non_null(strstr(p.r.out.what, "room secret differs"));
  assert_int_equal(ml_handshake_get_phase(p.r.hs), ML_HANDSHAKE_FAILED);
  assert_int_equal(ml_handshake_next_tick(p.r.hs), ML_HANDSHAKE_NEVER);
  /* The initiator learns it from its deadline. */
  tick(&p.i, T0 + ML_HANDSHAKE_TIMEOUT_MS * MS);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_RETRY);
  assert_int_equal(p.i.out.err, ML_ERR_CRYPTO);
  assert_non_null(strstr(p.i.out.what, "never confirmed message 3"));
  free_pair(&p);
}

static void pattern_mismatch_is_a_hint(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, psk_a, 0);
  start(&p.r, T0);
  start(&p.i, T0);
  deliver(&p.i, &p.r, T0);
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_HINT);
  assert_non_null(strstr(p.r.out.what, "has no room secret and we have one"));
  deliver(&p.i, &p.r, T0); /* said once */
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_PENDING);
  tick(&p.r, T0 + ML_HANDSHAKE_TIMEOUT_MS * MS);
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_RETRY);
  assert_int_equal(p.r.out.err, ML_ERR_CRYPTO);
  free_pair(&p);
}

/* A responder that proves one static key in Noise and claims another
 * identity in its payload. */
static void wrong_identity_fails_for_good(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 0);
  start(&p.i, T0);
  ml_identity *other;
  assert_int_equal(ml_identity_generate(&other), ML_OK);
  uint8_t prologue[ML_HANDSHAKE_PROLOGUE_MAX], s_priv[32];
  size_t plen;
  assert_int_equal(ml_handshake_ice_prologue("room", "iufr", "rufr", prologue, &plen), ML_OK);
  ml_identity_noise_private(p.r.id, s_priv);
  ml_noise_config cfg = {.protocol_name = "Noise_XX_25519_ChaChaPoly_BLAKE2b",
                         .role = ML_NOISE_RESPONDER,
                         .prologue = prologue,
                         .prologue_len = plen,
                         .local_static_private = s_priv};
  ml_noise_handshake *liar;
  assert_int_equal(ml_noise_handshake_new(&liar, &cfg), ML_OK);
  uint8_t pl[ML_NOISE_MAX_MSG], msg[ML_NOISE_MAX_MSG];
  size_t n;
  assert_int_equal(
      ml_noise_handshake_read_message(liar, p.i.sent + 4, p.i.sent_len - 4, pl, sizeof pl, &n),
      ML_OK);
  assert_int_equal(ml_noise_handshake_write_message(liar, ml_identity_public_key(other), 32, msg,
                                                    sizeof msg, &n),
                   ML_OK);
  end fake = {0};
  assert_int_equal(
      ml_datagram_write_handshake(fake.sent, sizeof fake.sent, 1, msg, n, &fake.sent_len), ML_OK);
  deliver(&fake, &p.i, T0);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_FAILED);
  assert_int_equal(p.i.out.err, ML_ERR_CRYPTO);
  assert_string_equal(p.i.out.what, "the peer's identity key does not match its handshake key");
  assert_null(p.i.out.datagram); /* no message 3 */
  assert_null(p.i.channel);
  ml_noise_handshake_free(liar);
  ml_identity_free(other);
  free_pair(&p);
}

static void gives_up_after_the_retry_limit(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 2);
  start(&p.i, T0);
  uint8_t first[ML_DATAGRAM_MAX];
  memcpy(first, p.i.sent, p.i.sent_len);
  int64_t now = T0, deadline = T0 + ML_HANDSHAKE_TIMEOUT_MS * MS;
  unsigned sends = 0;
  /* Nobody answers: retransmissions until the deadline. */
  while ((now = ml_handshake_next_tick(p.i.hs)) < deadline) {
    tick(&p.i, now);
    sends += p.i.sent_len > 0;
  }
  assert_true(sends >= 5);
  tick(&p.i, deadline);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_RETRY);
  assert_int_equal(p.i.out.err, ML_ERR_IO);
  assert_non_null(strstr(p.i.out.what, "never answered message 1"));
  /* Attempt 2, fresh ephemeral key, after 1 s. */
  now = ml_handshake_next_tick(p.i.hs);
  assert_int_equal(now, deadline + ML_HANDSHAKE_BACKOFF_MS * MS);
  tick(&p.i, now);
  assert_true(p.i.sent_len > 0);
  assert_true(memcmp(p.i.sent, first, p.i.sent_len) != 0);
  deadline = now + ML_HANDSHAKE_TIMEOUT_MS * MS;
  while ((now = ml_handshake_next_tick(p.i.hs)) < deadline)
    tick(&p.i, now);
  tick(&p.i, deadline);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_FAILED);
  assert_int_equal(p.i.out.err, ML_ERR_IO);
  assert_int_equal(ml_handshake_get_phase(p.i.hs), ML_HANDSHAKE_FAILED);
  assert_int_equal(ml_handshake_next_tick(p.i.hs), ML_HANDSHAKE_NEVER);

  /* The responder, never hearing message 1, gives up the same way; its
   * second deadline includes twice the backoff. */
  start(&p.r, T0);
  tick(&p.r, T0 + ML_HANDSHAKE_TIMEOUT_MS * MS);
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_RETRY);
  assert_string_equal(p.r.out.what, "handshake timed out: the peer never sent message 1");
  int64_t second = T0 + 2 * ML_HANDSHAKE_TIMEOUT_MS * MS + 2 * ML_HANDSHAKE_BACKOFF_MS * MS;
  assert_int_equal(ml_handshake_next_tick(p.r.hs), second);
  tick(&p.r, second);
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_FAILED);
  free_pair(&p);
}

static void no_prologue_no_attempt(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 0);
  start(&p.i, T0);
  ml_handshake_new_session(p.r.hs); /* forgets the prologue */
  deliver(&p.i, &p.r, T0);
  assert_int_equal(p.r.sent_len, 0);
  assert_int_equal(ml_handshake_get_phase(p.r.hs), ML_HANDSHAKE_IDLE);
  ml_handshake_new_session(p.i.hs); /* abandons the attempt */
  assert_int_equal(ml_handshake_get_phase(p.i.hs), ML_HANDSHAKE_IDLE);
  assert_int_equal(ml_handshake_next_tick(p.i.hs), ML_HANDSHAKE_NEVER);
  start(&p.i, T0);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_FAILED);
  assert_int_equal(p.i.out.err, ML_ERR_STATE);
  assert_string_equal(p.i.out.what, "cannot start the handshake");
  assert_null(p.i.out.datagram);
  free_pair(&p);
}

/* Every truncated prefix of valid messages 1 and 2 is dropped, and the
 * state is kept; so is everything that is not a handshake datagram. */
static void truncated_prefixes_dropped(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 0);
  start(&p.i, T0);
  for (size_t n = 0; n < p.i.sent_len; n++) {
    ml_handshake_receive(p.r.hs, p.i.sent, n, T0, &p.r.out);
    assert_null(p.r.out.datagram);
    assert_int_equal(ml_handshake_get_phase(p.r.hs), ML_HANDSHAKE_IDLE);
  }
  ml_handshake_stats st;
  ml_handshake_get_stats(p.r.hs, &st);
  assert_int_equal(st.dropped, p.i.sent_len);
  deliver(&p.i, &p.r, T0);
  /* A truncated message 2 fails the attempt (Noise reads a wrong length);
   * those shorter than the datagram header are merely dropped. */
  for (size_t n = 0; n < ML_DATAGRAM_HANDSHAKE_HEADER_LEN; n++) {
    ml_handshake_receive(p.i.hs, p.r.sent, n, T0, &p.i.out);
    assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_PENDING);
  }
  ml_handshake_receive(p.i.hs, p.r.sent, p.r.sent_len - 1, T0, &p.i.out);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_RETRY);
  free_pair(&p);
}

/* Message 1 is not authenticated: one whose ephemeral key no DH can use
 * (all zeros) is dropped like any malformed one, and the real one after it
 * still completes. */
static void unusable_ephemeral_dropped(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL, 0);
  start(&p.i, T0);
  uint8_t forged[ML_DATAGRAM_MAX];
  memcpy(forged, p.i.sent, p.i.sent_len);
  memset(forged + ML_DATAGRAM_HANDSHAKE_HEADER_LEN, 0, ML_NOISE_KEY_LEN);
  ml_handshake_receive(p.r.hs, forged, p.i.sent_len, T0, &p.r.out);
  assert_null(p.r.out.datagram);
  assert_int_equal(p.r.out.event, ML_HANDSHAKE_EV_PENDING);
  assert_int_equal(ml_handshake_get_phase(p.r.hs), ML_HANDSHAKE_IDLE);
  deliver(&p.i, &p.r, T0);
  assert_int_equal(ml_handshake_get_phase(p.r.hs), ML_HANDSHAKE_WAIT_MSG3);
  deliver(&p.r, &p.i, T0);
  assert_int_equal(p.i.out.event, ML_HANDSHAKE_EV_KEYS);
  free_pair(&p);
}

static void ice_prologue_matches_the_protocol_example(void **state) {
  (void)state;
  /* docs/PROTOCOL.md, "Prologue". */
  static const uint8_t expect[] = {0x6d, 0x65, 0x6e, 0x74, 0x6f, 0x72, 0x6c, 0x69, 0x6e,
                                   0x6b, 0x2f, 0x31, 0x00, 0x07, 0x72, 0x6f, 0x6f, 0x6d,
                                   0x2d, 0x34, 0x32, 0x00, 0x04, 0x61, 0x42, 0x63, 0x44,
                                   0x00, 0x04, 0x77, 0x58, 0x79, 0x5a};
  uint8_t out[ML_HANDSHAKE_PROLOGUE_MAX];
  size_t n;
  assert_int_equal(ml_handshake_ice_prologue("room-42", "aBcD", "wXyZ", out, &n), ML_OK);
  assert_int_equal(n, sizeof expect);
  assert_memory_equal(out, expect, n);
  char long_part[ML_HANDSHAKE_MAX_PROLOGUE_PART + 2];
  memset(long_part, 'a', sizeof long_part - 1);
  long_part[sizeof long_part - 1] = '\0';
  assert_int_equal(ml_handshake_ice_prologue("r", long_part, "x", out, &n), ML_ERR_TOO_BIG);
  long_part[ML_HANDSHAKE_MAX_PROLOGUE_PART] = '\0';
  assert_int_equal(ml_handshake_ice_prologue(long_part, long_part, long_part, out, &n), ML_OK);
  assert_int_equal(n, ML_HANDSHAKE_PROLOGUE_MAX);
}

static void phase_names(void **state) {
  (void)state;
  assert_string_equal(ml_handshake_phase_name(ML_HANDSHAKE_IDLE), "idle");
  assert_string_equal(ml_handshake_phase_name(ML_HANDSHAKE_CONFIRM), "confirm");
  assert_string_equal(ml_handshake_phase_name(ML_HANDSHAKE_FAILED), "failed");
  assert_string_equal(ml_handshake_phase_name((ml_handshake_phase)99), "unknown");
}

ML_UNIT_MAIN(ML_UNIT_SODIUM, cmocka_unit_test, two_ends_complete, two_ends_complete_with_psk,
             without_key_confirmation_both_done_at_once, lost_message_retransmitted_after_timeout,
             rto_doubles_up_to_the_cap, tampered_message_2_fails_the_attempt,
             different_room_secret_fails_for_good, pattern_mismatch_is_a_hint,
             wrong_identity_fails_for_good, gives_up_after_the_retry_limit, no_prologue_no_attempt,
             truncated_prefixes_dropped, unusable_ephemeral_dropped,
             ice_prologue_matches_the_protocol_example, phase_names)
