/* engine.peer_link: two peer links in one process, real libnice on 127.0.0.1.
 *
 * Candidates and credentials are handed from one link to the other directly
 * (standing in for signaling). Checks: ICE reaches READY, the Noise handshake
 * completes on both sides with the same SAS and safety number and the right
 * peer keys, datagrams and a reliable stream flow both ways, chat messages
 * get receipts, forged datagrams are dropped and counted, and a different
 * room secret or room id makes the handshake fail on both sides (after the
 * bounded retries, with an error that names the cause), a handshake whose
 * first attempt is lost succeeds on the next one, and a secure link that
 * hears nothing reports the path lost, then fails at its path timeout.
 * Every wait is bounded; a timeout fails the test with the reason. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <sodium.h>

#include "ml/peer_link.h"
#include "peer_link_internal.h"
#include "check.h"

#define DATAGRAMS 100
#define STREAM_BYTES (200 * 1024)
#define MESSAGES 3

typedef struct side {
  const char *name;
  ml_identity *id;
  ml_peer_link *link;
  struct side *other;
  bool ready, secure, failed; /* failed: for good (state FAILED) */
  unsigned errors;            /* every error callback, failed or not */
  unsigned paths_lost;
  int err;
  char errmsg[256];
  ml_peer_link_verification v;
  unsigned control_rx, control_bad;
  GByteArray *stream_rx;
  unsigned messages_rx, messages_bad, receipts_rx;
  uint64_t sent_ids[MESSAGES];
  unsigned port;        /* of the first local host candidate */
  bool hold_candidates; /* collect instead of forwarding (ICE restart test) */
  GPtrArray *held;
} side;

static GMainContext *ctx;

static gboolean timed_out(gpointer data) {
  *(bool *)data = true;
  return G_SOURCE_REMOVE;
}

/* Iterates the context until done(a, b) or timeout_ms; on timeout the test
 * fails with what and stops. */
static void run_until(bool (*done)(side *, side *), side *a, side *b, unsigned timeout_ms,
                      const char *what) {
  bool expired = false;
  GSource *t = g_timeout_source_new(timeout_ms);
  g_source_set_callback(t, timed_out, &expired, NULL);
  g_source_attach(t, ctx);
  while (!done(a, b) && !expired)
    g_main_context_iteration(ctx, TRUE);
  g_source_destroy(t);
  g_source_unref(t);
  if (!done(a, b)) {
    fprintf(stderr, "FAIL: timed out after %u ms waiting for %s\n", timeout_ms, what);
    fprintf(stderr, "  %s: ready=%d secure=%d failed=%d (%s)\n", a->name, a->ready, a->secure,
            a->failed, a->errmsg);
    fprintf(stderr, "  %s: ready=%d secure=%d failed=%d (%s)\n", b->name, b->ready, b->secure,
            b->failed, b->errmsg);
    exit(1);
  }
}

/* ---- callbacks ---- */

static void on_candidate(ml_peer_link *link, const char *sdp, void *user) {
  (void)link;
  side *s = user;
  unsigned port;
  if (!s->port && sscanf(sdp, "a=candidate:%*s %*u %*s %*u 127.0.0.1 %u typ host", &port) == 1)
    s->port = port;
  if (s->hold_candidates) {
    g_ptr_array_add(s->held, g_strdup(sdp));
    return;
  }
  int err = ml_peer_link_add_remote_candidate(s->other->link, sdp);
  CHECK(err == ML_OK, "%s: candidate %s refused: %s", s->name, sdp, ml_strerror(err));
}

static void on_gathering_done(ml_peer_link *link, void *user) {
  (void)link;
  side *s = user;
  ml_peer_link_remote_gathering_done(s->other->link);
}

static void on_ice_state(ml_peer_link *link, NiceComponentState st, void *user) {
  (void)link;
  side *s = user;
  if (st == NICE_COMPONENT_STATE_READY)
    s->ready = true;
}

static void on_secure(ml_peer_link *link, const ml_peer_link_verification *v, void *user) {
  (void)link;
  side *s = user;
  s->secure = true;
  s->v = *v;
}

static void on_datagram(ml_peer_link *link, ml_inner_type type, const uint8_t *p, size_t len,
                        void *user) {
  (void)link;
  side *s = user;
  char expect[32];
  int n = snprintf(expect, sizeof expect, "control %u from %s", s->control_rx, s->other->name);
  if (type == ML_INNER_CONTROL && len == (size_t)n && memcmp(p, expect, len) == 0)
    s->control_rx++;
  else
    s->control_bad++;
}

static void on_reliable(ml_peer_link *link, const uint8_t *p, size_t len, void *user) {
  (void)link;
  side *s = user;
  g_byte_array_append(s->stream_rx, p, (guint)len);
}

static void on_message(ml_peer_link *link, uint64_t id, const uint8_t *p, size_t len, void *user) {
  (void)link;
  side *s = user;
  char expect[64];
  int n = snprintf(expect, sizeof expect, "chat line %u from %s", s->messages_rx, s->other->name);
  if (id == s->messages_rx + 1 && len == (size_t)n && memcmp(p, expect, len) == 0)
    s->messages_rx++;
  else
    s->messages_bad++;
}

static void on_receipt(ml_peer_link *link, uint64_t id, void *user) {
  (void)link;
  side *s = user;
  if (s->receipts_rx < MESSAGES && id == s->sent_ids[s->receipts_rx])
    s->receipts_rx++;
  else
    s->messages_bad++;
}

static void on_error(ml_peer_link *link, int err, const char *what, void *user) {
  side *s = user;
  s->failed = ml_peer_link_get_state(link) == ML_PEER_LINK_FAILED;
  s->errors++;
  s->err = err;
  snprintf(s->errmsg, sizeof s->errmsg, "%s", what);
  printf("  %s reports: %s (%s)\n", s->name, what, ml_strerror(err));
}

/* ---- setup ---- */

static void side_init(side *s, const char *name, side *other) {
  memset(s, 0, sizeof *s);
  s->name = name;
  s->other = other;
  s->stream_rx = g_byte_array_new();
  s->held = g_ptr_array_new_with_free_func(g_free);
  if (ml_identity_generate(&s->id) != ML_OK) {
    fprintf(stderr, "FAIL: cannot generate an identity\n");
    exit(1);
  }
}

static void side_clear(side *s) {
  ml_peer_link_free(s->link);
  ml_identity_free(s->id);
  g_byte_array_free(s->stream_rx, TRUE);
  g_ptr_array_free(s->held, TRUE);
}

static uint32_t keepalive_ms; /* 0: the default */

static void on_path_lost(ml_peer_link *link, void *user) {
  (void)link;
  ((side *)user)->paths_lost++;
}

static void make_link(side *s, const char *room, const uint8_t *psk, uint32_t timeout_ms) {
  static const char *const loopback[] = {"127.0.0.1"};
  ml_peer_link_config cfg = {
      .context = ctx,
      .identity = s->id,
      .local_peer_id = s->name,
      .remote_peer_id = s->other->name,
      .room_id = room,
      .psk = psk,
      .local_addresses = loopback,
      .n_local_addresses = 1,
      .handshake_timeout_ms = timeout_ms,
      .keepalive_ms = keepalive_ms,
      .callbacks = {.on_candidate = on_candidate,
                    .on_gathering_done = on_gathering_done,
                    .on_ice_state = on_ice_state,
                    .on_secure = on_secure,
                    .on_datagram = on_datagram,
                    .on_reliable = on_reliable,
                    .on_message = on_message,
                    .on_receipt = on_receipt,
                    .on_error = on_error,
                    .on_path_lost = on_path_lost,
                    .user = s},
  };
  int err = ml_peer_link_new(&s->link, &cfg);
  if (err) {
    fprintf(stderr, "FAIL: ml_peer_link_new: %s\n", ml_strerror(err));
    exit(1);
  }
}

static void exchange_credentials(side *from, side *to) {
  char ufrag[ML_PEER_LINK_MAX_UFRAG + 1], pwd[ML_PEER_LINK_MAX_PWD + 1];
  int err = ml_peer_link_local_credentials(from->link, ufrag, sizeof ufrag, pwd, sizeof pwd);
  if (err == ML_OK)
    err = ml_peer_link_set_remote_credentials(to->link, ufrag, pwd);
  if (err) {
    fprintf(stderr, "FAIL: credentials %s -> %s: %s\n", from->name, to->name, ml_strerror(err));
    exit(1);
  }
}

/* Two links "alice" (controlling: sorts first) and "bob", connected. */
static void connect_pair_lossy(side *a, side *b, const char *room_a, const char *room_b,
                               const uint8_t *psk_a, const uint8_t *psk_b, uint32_t timeout_ms,
                               uint32_t drop_a, uint32_t drop_b) {
  side_init(a, "alice", b);
  side_init(b, "bob", a);
  make_link(a, room_a, psk_a, timeout_ms);
  make_link(b, room_b, psk_b, timeout_ms);
  ml_peer_link_test_drop_handshake(a->link, drop_a);
  ml_peer_link_test_drop_handshake(b->link, drop_b);
  exchange_credentials(a, b);
  exchange_credentials(b, a);
  if (ml_peer_link_start(a->link) != ML_OK || ml_peer_link_start(b->link) != ML_OK) {
    fprintf(stderr, "FAIL: ml_peer_link_start\n");
    exit(1);
  }
}

static void connect_pair(side *a, side *b, const char *room_a, const char *room_b,
                         const uint8_t *psk_a, const uint8_t *psk_b, uint32_t timeout_ms) {
  connect_pair_lossy(a, b, room_a, room_b, psk_a, psk_b, timeout_ms, 0, 0);
}

static bool both_secure(side *a, side *b) { return a->secure && b->secure; }
static bool both_settled(side *a, side *b) {
  return (a->secure || a->failed) && (b->secure || b->failed);
}
static bool both_failed(side *a, side *b) { return a->failed && b->failed; }
static bool keepalives_flowed(side *a, side *b) {
  ml_peer_link_stats sa, sb;
  ml_peer_link_get_stats(a->link, &sa);
  ml_peer_link_get_stats(b->link, &sb);
  /* Bob's key confirmation is one keepalive at alice's; the rest are idle ones. */
  return sa.keepalives_in >= 3 && sb.keepalives_in >= 2 && sa.keepalives_out >= 2 &&
         sb.keepalives_out >= 2;
}

static unsigned bob_waits_for;
static bool bob_got_marker(side *a, side *b) {
  (void)a;
  return b->control_rx + b->control_bad >= bob_waits_for;
}
static bool both_ready(side *a, side *b) { return a->ready && b->ready; }
static bool controls_arrived(side *a, side *b) {
  return a->control_rx + a->control_bad >= DATAGRAMS && b->control_rx + b->control_bad >= DATAGRAMS;
}
static bool streams_arrived(side *a, side *b) {
  return a->stream_rx->len >= STREAM_BYTES && b->stream_rx->len >= STREAM_BYTES;
}
static bool receipts_arrived(side *a, side *b) {
  return a->receipts_rx == MESSAGES && b->receipts_rx == MESSAGES && a->messages_rx == MESSAGES &&
         b->messages_rx == MESSAGES;
}

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed) {
  for (size_t i = 0; i < len; i++) {
    seed = seed * 1103515245u + 12345u;
    buf[i] = (uint8_t)(seed >> 16);
  }
}

/* ---- the scenarios ---- */

static void test_call(void) {
  side a, b;
  printf("call: ICE on loopback, Noise XX, datagrams, reliable stream, chat\n");
  connect_pair(&a, &b, "room-42", "room-42", NULL, NULL, 5000);
  run_until(both_settled, &a, &b, 8000, "both sides to finish the handshake");
  CHECK(a.ready && b.ready, "ICE READY on both sides (alice %d, bob %d)", a.ready, b.ready);
  CHECK(both_secure(&a, &b), "handshake completed on both sides");
  if (!both_secure(&a, &b))
    exit(1);
  CHECK(a.v.initiator && !b.v.initiator, "alice initiates, bob responds");
  CHECK(strcmp(a.v.sas, b.v.sas) == 0, "same SAS: \"%s\" vs \"%s\"", a.v.sas, b.v.sas);
  CHECK(strcmp(a.v.safety_number, b.v.safety_number) == 0, "same safety number");
  CHECK(memcmp(a.v.handshake_hash, b.v.handshake_hash, 64) == 0, "same handshake hash");
  CHECK(memcmp(a.v.peer_identity, ml_identity_public_key(b.id), 32) == 0,
        "alice sees bob's identity key");
  CHECK(memcmp(b.v.peer_identity, ml_identity_public_key(a.id), 32) == 0,
        "bob sees alice's identity key");
  printf("  SAS \"%s\", safety number %s\n", a.v.sas, a.v.safety_number);

  ml_peer_link_stats st;
  ml_peer_link_get_stats(a.link, &st);
  CHECK(st.path == ML_PEER_LINK_PATH_HOST, "host path on loopback (got %d)", (int)st.path);
  CHECK(st.state == ML_PEER_LINK_SECURE, "alice secure in stats");

  /* Datagrams both ways. */
  for (unsigned i = 0; i < DATAGRAMS; i++) {
    char msg[32];
    int n = snprintf(msg, sizeof msg, "control %u from alice", i);
    CHECK(ml_peer_link_send(a.link, ML_INNER_CONTROL, (uint8_t *)msg, (size_t)n) == ML_OK,
          "alice sends datagram %u", i);
    n = snprintf(msg, sizeof msg, "control %u from bob", i);
    CHECK(ml_peer_link_send(b.link, ML_INNER_CONTROL, (uint8_t *)msg, (size_t)n) == ML_OK,
          "bob sends datagram %u", i);
  }
  run_until(controls_arrived, &a, &b, 5000, "100 datagrams each way");
  CHECK(a.control_rx == DATAGRAMS && b.control_rx == DATAGRAMS && !a.control_bad && !b.control_bad,
        "all datagrams intact and in order (alice %u/%u bad, bob %u/%u bad)", a.control_rx,
        a.control_bad, b.control_rx, b.control_bad);
  CHECK(ml_peer_link_send(a.link, ML_INNER_KEEPALIVE, NULL, 0) == ML_ERR_INVALID,
        "keepalive is not a datagram type callers send");

  /* A reliable stream both ways, over PseudoTCP inside the channel. */
  uint8_t *out_a = g_malloc(STREAM_BYTES), *out_b = g_malloc(STREAM_BYTES);
  fill_pattern(out_a, STREAM_BYTES, 1);
  fill_pattern(out_b, STREAM_BYTES, 2);
  CHECK(ml_peer_link_send_reliable(a.link, out_a, STREAM_BYTES) == ML_OK, "alice queues stream");
  CHECK(ml_peer_link_send_reliable(b.link, out_b, STREAM_BYTES) == ML_OK, "bob queues stream");
  gint64 t0 = g_get_monotonic_time();
  run_until(streams_arrived, &a, &b, 10000, "200 KB reliable stream each way");
  printf("  reliable: 2 x %u bytes in %.0f ms\n", STREAM_BYTES,
         (double)(g_get_monotonic_time() - t0) / 1000.0);
  CHECK(b.stream_rx->len == STREAM_BYTES && memcmp(b.stream_rx->data, out_a, STREAM_BYTES) == 0,
        "bob got alice's stream complete and in order");
  CHECK(a.stream_rx->len == STREAM_BYTES && memcmp(a.stream_rx->data, out_b, STREAM_BYTES) == 0,
        "alice got bob's stream complete and in order");
  g_free(out_a);
  g_free(out_b);

  /* Chat messages with delivery receipts. */
  for (unsigned i = 0; i < MESSAGES; i++) {
    char msg[64];
    int n = snprintf(msg, sizeof msg, "chat line %u from alice", i);
    CHECK(ml_peer_link_send_message(a.link, (uint8_t *)msg, (size_t)n, &a.sent_ids[i]) == ML_OK,
          "alice sends message");
    n = snprintf(msg, sizeof msg, "chat line %u from bob", i);
    CHECK(ml_peer_link_send_message(b.link, (uint8_t *)msg, (size_t)n, &b.sent_ids[i]) == ML_OK,
          "bob sends message");
  }
  run_until(receipts_arrived, &a, &b, 5000, "chat messages and their receipts");
  CHECK(!a.messages_bad && !b.messages_bad, "messages and receipts as sent");

  /* Forged and hostile datagrams fed into bob's receive path. */
  ml_peer_link_stats before, after;
  ml_peer_link_get_stats(b.link, &before);
  unsigned delivered_before = b.control_rx + b.control_bad;
  uint8_t forged[200];
  fill_pattern(forged, sizeof forged, 7);
  /* Valid transport framing, counter far ahead, random ciphertext and tag. */
  if (ml_datagram_write_transport_header(forged, sizeof forged, 0, 0, 1000000) != ML_OK)
    exit(1);
  ml_peer_link_receive(b.link, forged, sizeof forged);
  uint8_t not_ours[] = {0x00, 0x01, 0x00, 0x00}; /* a STUN-looking first byte */
  ml_peer_link_receive(b.link, not_ours, sizeof not_ours);
  uint8_t bad_frame[] = {0xC2, 0x00, 0x00}; /* our marker, truncated */
  ml_peer_link_receive(b.link, bad_frame, sizeof bad_frame);
  uint8_t stale_hs[64] = {0};
  size_t hl;
  if (ml_datagram_write_handshake(stale_hs, sizeof stale_hs, 0, forged + 12, 32, &hl) != ML_OK)
    exit(1);
  ml_peer_link_receive(b.link, stale_hs, hl); /* a message 1 after the handshake */
  ml_peer_link_get_stats(b.link, &after);
  /* The same forgery at the socket: a UDP datagram from a port that is no
   * candidate of alice's, to bob's host candidate, followed by one genuine
   * datagram from alice (loopback keeps the order). libnice refuses data from
   * an address that is no validated remote candidate, so only alice's
   * datagram reaches the link. */
  CHECK(b.port != 0, "bob's host candidate port known");
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b.port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(fd >= 0 && sendto(fd, forged, sizeof forged, 0, (struct sockaddr *)&to, sizeof to) ==
                       (ssize_t)sizeof forged,
        "forged datagram sent to bob's socket");
  close(fd);
  unsigned got = b.control_rx;
  char marker[32];
  int mn = snprintf(marker, sizeof marker, "control %u from alice", got);
  CHECK(ml_peer_link_send(a.link, ML_INNER_CONTROL, (uint8_t *)marker, (size_t)mn) == ML_OK,
        "alice sends after the forgery");
  b.control_bad = 0;
  bob_waits_for = got + 1;
  run_until(bob_got_marker, &a, &b, 2000, "alice's datagram after the socket-level forgery");
  ml_peer_link_stats sock;
  ml_peer_link_get_stats(b.link, &sock);
  /* Whatever reached bob meanwhile (alice's datagram, perhaps a PseudoTCP
   * ack) opened: nothing was refused, so the forgery never got in. */
  CHECK(sock.datagrams_in - after.datagrams_in == sock.channel.opened - after.channel.opened &&
            sock.channel.dropped_auth == after.channel.dropped_auth &&
            sock.dropped_not_ours == after.dropped_not_ours,
        "the socket-level forgery never reached the link (in +%llu, opened +%llu)",
        (unsigned long long)(sock.datagrams_in - after.datagrams_in),
        (unsigned long long)(sock.channel.opened - after.channel.opened));
  CHECK(after.channel.dropped_auth == before.channel.dropped_auth + 1,
        "forged datagram dropped as unauthentic");
  CHECK(after.dropped_not_ours == before.dropped_not_ours + 1, "foreign datagram dropped");
  CHECK(after.dropped_malformed == before.dropped_malformed + 1, "malformed datagram dropped");
  CHECK(after.dropped_handshake == before.dropped_handshake + 1, "stale handshake dropped");
  CHECK(b.control_rx + b.control_bad == delivered_before + 1, "nothing forged was delivered");
  CHECK(after.state == ML_PEER_LINK_SECURE && !b.failed, "bob still secure");
  printf("  bob: %llu datagrams in, %llu opened, dropped: %llu auth, %llu replay, %llu "
         "not ours, %llu malformed, %llu handshake\n",
         (unsigned long long)after.datagrams_in, (unsigned long long)after.channel.opened,
         (unsigned long long)after.channel.dropped_auth,
         (unsigned long long)after.channel.dropped_replay,
         (unsigned long long)after.dropped_not_ours, (unsigned long long)after.dropped_malformed,
         (unsigned long long)after.dropped_handshake);

  /* ICE restart on both sides: new credentials and candidates through
   * "signaling"; the secure channel and the reliable stream carry on. */
  a.hold_candidates = b.hold_candidates = true;
  a.ready = b.ready = false;
  CHECK(ml_peer_link_restart(a.link) == ML_OK, "alice restarts ICE");
  CHECK(ml_peer_link_restart(b.link) == ML_OK, "bob restarts ICE");
  exchange_credentials(&a, &b);
  exchange_credentials(&b, &a);
  a.hold_candidates = b.hold_candidates = false;
  for (guint i = 0; i < a.held->len; i++)
    CHECK(ml_peer_link_add_remote_candidate(b.link, a.held->pdata[i]) == ML_OK, "candidate a->b");
  for (guint i = 0; i < b.held->len; i++)
    CHECK(ml_peer_link_add_remote_candidate(a.link, b.held->pdata[i]) == ML_OK, "candidate b->a");
  CHECK(a.held->len > 0 && b.held->len > 0, "restart reports the local candidates again");
  ml_peer_link_remote_gathering_done(a.link);
  ml_peer_link_remote_gathering_done(b.link);
  run_until(both_ready, &a, &b, 5000, "ICE READY again after the restart");
  a.control_rx = b.control_rx = 0;
  a.control_bad = b.control_bad = 0;
  for (unsigned i = 0; i < DATAGRAMS; i++) {
    char msg[32];
    int n = snprintf(msg, sizeof msg, "control %u from alice", i);
    CHECK(ml_peer_link_send(a.link, ML_INNER_CONTROL, (uint8_t *)msg, (size_t)n) == ML_OK,
          "alice sends after the restart");
    n = snprintf(msg, sizeof msg, "control %u from bob", i);
    CHECK(ml_peer_link_send(b.link, ML_INNER_CONTROL, (uint8_t *)msg, (size_t)n) == ML_OK,
          "bob sends after the restart");
  }
  run_until(controls_arrived, &a, &b, 5000, "datagrams after the ICE restart");
  CHECK(a.control_rx == DATAGRAMS && b.control_rx == DATAGRAMS, "datagrams flow after restart");
  CHECK(!a.failed && !b.failed, "no failure across the restart");
  side_clear(&a);
  side_clear(&b);
}

static void test_lossy_handshake(void) {
  side a, b;
  printf("loss: handshake datagrams lost and retransmitted\n");
  /* alice loses her first message 1 and her first message 3 (her sends 0
   * and 3: message 1, two retransmissions of it, message 3); bob loses his
   * first message 2, so alice's retransmitted message 1 makes him resend. */
  connect_pair_lossy(&a, &b, "room-5", "room-5", NULL, NULL, 8000, 1u << 0 | 1u << 3, 1u << 0);
  run_until(both_settled, &a, &b, 10000, "the handshake over a lossy path");
  CHECK(both_secure(&a, &b) && strcmp(a.v.sas, b.v.sas) == 0, "lossy handshake completes");
  ml_peer_link_stats sa, sb;
  ml_peer_link_get_stats(a.link, &sa);
  ml_peer_link_get_stats(b.link, &sb);
  CHECK(sa.handshake_retransmits >= 3, "alice retransmitted (%llu)",
        (unsigned long long)sa.handshake_retransmits);
  CHECK(sb.handshake_retransmits >= 1, "bob re-sent message 2 on a duplicate (%llu)",
        (unsigned long long)sb.handshake_retransmits);
  printf("  retransmissions: alice %llu, bob %llu\n", (unsigned long long)sa.handshake_retransmits,
         (unsigned long long)sb.handshake_retransmits);
  side_clear(&a);
  side_clear(&b);
}

/* Alice's first attempt is lost entirely (message 1 and both
 * retransmissions in 1 s); the next attempt, 1 s later, succeeds. */
static void test_handshake_retry(void) {
  side a, b;
  printf("retry: a handshake whose first attempt is lost succeeds on the second\n");
  connect_pair_lossy(&a, &b, "room-6", "room-6", NULL, NULL, 1000, 0x7, 0);
  run_until(both_settled, &a, &b, 10000, "the second handshake attempt");
  CHECK(both_secure(&a, &b) && strcmp(a.v.sas, b.v.sas) == 0, "secure after a retry");
  CHECK(a.errors >= 1 && !a.failed, "alice reported the failed attempt (%u) and went on", a.errors);
  side_clear(&a);
  side_clear(&b);
}

static bool alice_path_lost(side *a, side *b) {
  (void)b;
  return a->paths_lost > 0;
}
static bool alice_failed(side *a, side *b) {
  (void)b;
  return a->failed;
}

/* A secure link (test hook: keys given, datagrams to nowhere) that hears
 * nothing: path lost after silence_ms, failed after path_timeout_ms; an
 * ICE-less link cannot restart, so the report comes once. */
static void test_path_lost(void) {
  side a, b;
  printf("silence: path lost after 300 ms, failed after 1.2 s\n");
  side_init(&a, "alice", &b);
  side_init(&b, "bob", &a);
  uint8_t k1[ML_NOISE_KEY_LEN], k2[ML_NOISE_KEY_LEN];
  memset(k1, 1, sizeof k1);
  memset(k2, 2, sizeof k2);
  ml_peer_link_config cfg = {
      .context = ctx,
      .identity = a.id,
      .local_peer_id = "alice",
      .remote_peer_id = "bob",
      .room_id = "room-s",
      .silence_ms = 300,
      .path_timeout_ms = 1200,
      .callbacks = {.on_error = on_error, .on_path_lost = on_path_lost, .user = &a},
  };
  CHECK(ml_peer_link_new_secure_for_test(&a.link, &cfg, k1, k2, ml_identity_public_key(b.id), NULL,
                                         NULL) == ML_OK,
        "test link");
  gint64 t0 = g_get_monotonic_time();
  run_until(alice_path_lost, &a, &b, 3000, "the path-lost report");
  gint64 lost_ms = (g_get_monotonic_time() - t0) / 1000;
  CHECK(lost_ms >= 300 && !a.failed, "path lost reported after %lld ms, not failed yet",
        (long long)lost_ms);
  run_until(alice_failed, &a, &b, 3000, "the path timeout");
  CHECK(ml_peer_link_get_state(a.link) == ML_PEER_LINK_FAILED && a.paths_lost == 1,
        "failed at the path timeout (%u path-lost reports)", a.paths_lost);
  printf("  alice reports the path lost after %lld ms, then: %s\n", (long long)lost_ms, a.errmsg);
  side_clear(&a);
  side_clear(&b);
}

static void test_psk_match(void) {
  side a, b;
  uint8_t psk[32];
  memset(psk, 0x5a, sizeof psk);
  printf("psk: Noise XXpsk3 with the same room secret; keepalives when idle\n");
  keepalive_ms = 150;
  connect_pair(&a, &b, "room-7", "room-7", psk, psk, 5000);
  run_until(both_settled, &a, &b, 8000, "the XXpsk3 handshake");
  CHECK(both_secure(&a, &b) && strcmp(a.v.sas, b.v.sas) == 0, "XXpsk3 completes, same SAS");
  run_until(keepalives_flowed, &a, &b, 3000, "keepalives both ways on an idle link");
  keepalive_ms = 0;
  side_clear(&a);
  side_clear(&b);
}

/* Both sides fail for good, after the initiator's bounded retries (3
 * attempts of 1.5 s, backing off 1 s then 2 s); bob's last error contains
 * bob_says. */
static void expect_failure(const char *what, const char *room_a, const char *room_b,
                           const uint8_t *psk_a, const uint8_t *psk_b, const char *bob_says) {
  side a, b;
  printf("%s\n", what);
  connect_pair(&a, &b, room_a, room_b, psk_a, psk_b, 1500);
  run_until(both_failed, &a, &b, 20000, "both sides to fail the handshake for good");
  CHECK(!a.secure && !b.secure, "no side reports secure");
  CHECK(a.errmsg[0] && b.errmsg[0], "both sides say why");
  CHECK(a.errors == ML_PEER_LINK_HANDSHAKE_ATTEMPTS, "alice tried %u times, not %u", a.errors,
        ML_PEER_LINK_HANDSHAKE_ATTEMPTS);
  CHECK(strstr(b.errmsg, bob_says) != NULL, "bob says \"%s\", expected \"%s\"", b.errmsg, bob_says);
  uint8_t x = 1;
  CHECK(ml_peer_link_send(a.link, ML_INNER_CONTROL, &x, 1) == ML_ERR_STATE &&
            ml_peer_link_send(b.link, ML_INNER_CONTROL, &x, 1) == ML_ERR_STATE,
        "no data can flow");
  CHECK(a.control_rx + b.control_rx == 0 && a.stream_rx->len + b.stream_rx->len == 0,
        "no data arrived");
  CHECK(ml_peer_link_get_state(a.link) == ML_PEER_LINK_FAILED &&
            ml_peer_link_get_state(b.link) == ML_PEER_LINK_FAILED,
        "both links failed");
  side_clear(&a);
  side_clear(&b);
}

int main(void) {
  if (sodium_init() < 0)
    return 1;
  CHECK(ml_peer_link_is_controlling("alice", "bob") && !ml_peer_link_is_controlling("bob", "alice"),
        "roles from peer ids");
  ctx = g_main_context_new();
  test_call();
  test_psk_match();
  test_lossy_handshake();
  uint8_t psk1[32], psk2[32];
  memset(psk1, 0x11, sizeof psk1);
  memset(psk2, 0x22, sizeof psk2);
  test_handshake_retry();
  test_path_lost();
  expect_failure("psk mismatch: different room secrets must not connect", "room-9", "room-9", psk1,
                 psk2, "room secret differs from ours");
  expect_failure("psk on one side only: must not connect, and bob can tell", "room-9", "room-9",
                 NULL, psk2, "the peer has no room secret and we have one");
  expect_failure("prologue mismatch: different room ids must not connect", "room-1", "room-2", NULL,
                 NULL, "the peer never sent message");
  /* Let libnice finish what it scheduled on the context before it goes. */
  while (g_main_context_iteration(ctx, FALSE))
    ;
  g_main_context_unref(ctx);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("engine.peer_link: all checks passed\n");
  return 0;
}
