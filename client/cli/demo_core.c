/* mentorlink demo --core — the secure core end to end between two processes.
 *
 * A "mentor" (parent process, Noise initiator) and a "mentee" (child process,
 * responder) each make a fresh in-memory identity, run Noise XX over framed
 * UDP datagrams on 127.0.0.1, bind the Ed25519 identities to the handshake,
 * derive the SAS and the safety number, then exchange chat lines through the
 * secure datagram channel. The mentee also receives a tampered and a replayed
 * datagram, which it must refuse. Every datagram each side receives is
 * searched for the chat text in clear. The child reports to the parent over a
 * pipe; the parent prints both sides and checks they agree.
 *
 * It is not a call (no ICE, signaling, audio or video): `mentorlink demo`
 * (demo_call.c) runs the real call. This one isolates the crypto core. */
#define _GNU_SOURCE /* memmem */
#include "demo_core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ml/channel.h"
#include "ml/datagram.h"
#include "ml/handshake.h"
#include "ml/identity.h"
#include "ml/noise.h"
#include "ml/verify.h"

#define DEMO_PATTERN "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define DEMO_TIMEOUT_MS 3000
#define DEMO_LINES 5

static const char *const chat_lines[DEMO_LINES] = {
    "Good morning! How did the night shift go?",
    "Busy: two admissions, one with suspected sepsis.",
    "Walk me through your first hour with that patient.",
    "Cultures, lactate, fluids, then antibiotics within the hour.",
    "That is exactly right. Let's look at the fluid balance next.",
};

typedef struct report {
  int ok;
  char error[160];
  char sas[ML_SAS_TEXT_LEN];
  char safety[ML_SAFETY_NUMBER_TEXT_LEN];
  char fingerprint[ML_IDENTITY_FINGERPRINT_LEN];
  char peer_fingerprint[ML_IDENTITY_FINGERPRINT_LEN];
  double handshake_ms;
  double rtt_ms[DEMO_LINES];
  unsigned lines_ok;
  unsigned datagrams_in;
  unsigned plaintext_seen;
  ml_channel_stats stats;
} report;

typedef struct party {
  int fd;
  struct sockaddr_in peer;
  ml_noise_role role;
  report *rep;
} party;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(report *rep, const char *what) {
  snprintf(rep->error, sizeof rep->error, "%s", what);
  rep->ok = 0;
  return -1;
}

static int send_to_peer(party *p, const uint8_t *buf, size_t len) {
  ssize_t n = sendto(p->fd, buf, len, 0, (const struct sockaddr *)&p->peer, sizeof p->peer);
  return n == (ssize_t)len ? 0 : -1;
}

/* Receives one datagram within timeout_ms and checks it for chat text in
 * clear; returns its length, or -1 on timeout or error. */
static ssize_t recv_datagram_within(party *p, uint8_t *buf, size_t cap, int timeout_ms) {
  struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
  int r = poll(&pfd, 1, timeout_ms);
  if (r <= 0)
    return -1;
  ssize_t n = recv(p->fd, buf, cap, 0);
  if (n < 0)
    return -1;
  p->rep->datagrams_in++;
  for (int i = 0; i < DEMO_LINES; i++)
    if (memmem(buf, (size_t)n, chat_lines[i], strlen(chat_lines[i])))
      p->rep->plaintext_seen++;
  return n;
}

static ssize_t recv_datagram(party *p, uint8_t *buf, size_t cap) {
  return recv_datagram_within(p, buf, cap, DEMO_TIMEOUT_MS);
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The handshake module (ml/handshake.h) over the UDP socket: Noise XX, the
 * Ed25519 identities bound to it (messages 2 and 3 carry them), the key
 * split. Without key confirmation: the first chat line and its echo confirm
 * the keys, and a stray KEEPALIVE would read as a missing echo. Nothing is
 * retransmitted either (the first retransmission would be due at the
 * deadline, which wins): loopback loses nothing, and the chat would take a
 * repeated handshake datagram for a missing echo too. */
static int handshake(party *p, const ml_identity *id, ml_channel **out, uint8_t peer_ed[32],
                     uint8_t hash[ML_NOISE_HASH_LEN]) {
  uint8_t prologue[64];
  /* Both sides build the same prologue: it binds the pair of ports, ordered,
   * as the call will bind the room and both ICE ufrags. */
  struct sockaddr_in self = {0};
  socklen_t sl = sizeof self;
  if (getsockname(p->fd, (struct sockaddr *)&self, &sl) != 0)
    return fail(p->rep, "getsockname failed");
  unsigned a = ntohs(self.sin_port), b = ntohs(p->peer.sin_port);
  int plen = snprintf((char *)prologue, sizeof prologue, "mentorlink-demo/1 %u %u", a < b ? a : b,
                      a < b ? b : a);
  ml_handshake_config cfg = {.identity = id,
                             .initiator = p->role == ML_NOISE_INITIATOR,
                             .timeout_ms = DEMO_TIMEOUT_MS,
                             .rto_ms = DEMO_TIMEOUT_MS,
                             .attempts = 1};
  ml_handshake *hs = NULL;
  if (ml_handshake_new(&hs, &cfg) != ML_OK) {
    ml_handshake_free(hs);
    return fail(p->rep, "cannot start the handshake");
  }
  if (ml_handshake_set_prologue(hs, prologue, (size_t)plen) != ML_OK) {
    ml_handshake_free(hs);
    return fail(p->rep, "cannot start the handshake");
  }
  int rc = -1;
  double t0 = now_ms();
  ml_handshake_out o;
  ml_handshake_start(hs, now_us(), &o);
  for (;;) {
    if (o.datagram && send_to_peer(p, o.datagram, o.datagram_len) != 0) {
      ml_channel_free(o.channel);
      fail(p->rep, "cannot send a handshake message");
      break;
    }
    if (o.event == ML_HANDSHAKE_EV_DONE) {
      *out = o.channel;
      memcpy(peer_ed, ml_handshake_peer_identity(hs), ML_IDENTITY_PUBLIC_LEN);
      memcpy(hash, ml_handshake_hash(hs), ML_NOISE_HASH_LEN);
      p->rep->handshake_ms = now_ms() - t0;
      rc = 0;
      break;
    }
    if (o.event == ML_HANDSHAKE_EV_FAILED) {
      fail(p->rep, o.what);
      break;
    }
    /* The next datagram, or the next timer (the deadline). */
    int64_t wait_us = ml_handshake_next_tick(hs) - now_us();
    int wait_ms = wait_us <= 0 ? 0 : (int)((wait_us + 999) / 1000);
    uint8_t dgram[ML_DATAGRAM_MAX + 1];
    ssize_t n = recv_datagram_within(p, dgram, sizeof dgram, wait_ms);
    if (n >= 0)
      ml_handshake_receive(hs, dgram, (size_t)n, now_us(), &o);
    else
      ml_handshake_tick(hs, now_us(), &o);
  }
  ml_handshake_free(hs);
  return rc;
}

/* Opens the next datagram from the peer into payload; -1 on timeout. */
static ssize_t channel_recv(party *p, ml_channel *ch, uint8_t *payload, size_t cap, int *open_err) {
  uint8_t dgram[ML_DATAGRAM_MAX + 1];
  ssize_t n = recv_datagram(p, dgram, sizeof dgram);
  if (n < 0)
    return -1;
  ml_inner_type type;
  size_t len = 0;
  *open_err = ml_channel_open(ch, dgram, (size_t)n, &type, payload, cap, &len);
  return (ssize_t)len;
}

static int channel_send(party *p, ml_channel *ch, const char *text) {
  uint8_t dgram[ML_DATAGRAM_MAX];
  size_t n;
  if (ml_channel_seal(ch, ML_INNER_CONTROL, (const uint8_t *)text, strlen(text), dgram,
                      sizeof dgram, &n) != ML_OK)
    return -1;
  return send_to_peer(p, dgram, n);
}

static int run_mentor(party *p, ml_channel *ch) {
  uint8_t buf[ML_DATAGRAM_MAX], first[ML_DATAGRAM_MAX];
  size_t first_len = 0;
  for (int i = 0; i < DEMO_LINES; i++) {
    double t0 = now_ms();
    uint8_t dgram[ML_DATAGRAM_MAX];
    size_t n;
    const char *line = chat_lines[i];
    if (ml_channel_seal(ch, ML_INNER_CONTROL, (const uint8_t *)line, strlen(line), dgram,
                        sizeof dgram, &n) != ML_OK ||
        send_to_peer(p, dgram, n) != 0)
      return fail(p->rep, "cannot send a chat line");
    if (i == 0) {
      memcpy(first, dgram, n);
      first_len = n;
    }
    int err;
    ssize_t len = channel_recv(p, ch, buf, sizeof buf, &err);
    if (len < 0)
      return fail(p->rep, "no echo from the mentee within 3 s");
    if (err == ML_OK && (size_t)len == strlen(line) && memcmp(buf, line, (size_t)len) == 0) {
      p->rep->lines_ok++;
      p->rep->rtt_ms[i] = now_ms() - t0;
    }
  }
  /* Hostile traffic for the mentee: the first datagram again (a replay), and
   * a fresh one with a byte of its ciphertext flipped. */
  uint8_t bad[ML_DATAGRAM_MAX];
  size_t bad_len;
  if (send_to_peer(p, first, first_len) != 0 ||
      ml_channel_seal(ch, ML_INNER_CONTROL, (const uint8_t *)"tampered", 8, bad, sizeof bad,
                      &bad_len) != ML_OK)
    return fail(p->rep, "cannot send the hostile datagrams");
  bad[ML_DATAGRAM_TRANSPORT_HEADER_LEN + 2] ^= 0x40;
  if (send_to_peer(p, bad, bad_len) != 0 || channel_send(p, ch, "bye") != 0)
    return fail(p->rep, "cannot send the hostile datagrams");
  return 0;
}

static int run_mentee(party *p, ml_channel *ch) {
  uint8_t buf[ML_DATAGRAM_MAX];
  for (;;) {
    int err;
    ssize_t len = channel_recv(p, ch, buf, sizeof buf - 1, &err);
    if (len < 0)
      return fail(p->rep, "the mentor went quiet before saying bye");
    if (err != ML_OK)
      continue; /* refused and counted in the channel's stats */
    buf[len] = '\0';
    if (!strcmp((char *)buf, "bye"))
      return 0;
    p->rep->lines_ok++;
    if (channel_send(p, ch, (char *)buf) != 0)
      return fail(p->rep, "cannot echo a chat line");
  }
}

static void run_party(party *p) {
  ml_identity *id = NULL;
  ml_channel *ch = NULL;
  uint8_t peer_ed[32], hash[ML_NOISE_HASH_LEN];
  p->rep->ok = 1;
  if (ml_identity_generate(&id) != ML_OK) {
    fail(p->rep, "cannot generate an identity");
    return;
  }
  ml_identity_fingerprint(ml_identity_public_key(id), p->rep->fingerprint);
  if (handshake(p, id, &ch, peer_ed, hash) == 0) {
    ml_identity_fingerprint(peer_ed, p->rep->peer_fingerprint);
    ml_sas_text(hash, p->rep->sas);
    ml_safety_number(ml_identity_public_key(id), peer_ed, p->rep->safety);
    if (p->role == ML_NOISE_INITIATOR)
      run_mentor(p, ch);
    else
      run_mentee(p, ch);
    ml_channel_get_stats(ch, &p->rep->stats);
  }
  ml_channel_free(ch);
  ml_identity_free(id);
}

static int udp_socket(struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *addr;
  if (bind(fd, (struct sockaddr *)addr, sizeof *addr) != 0 ||
      getsockname(fd, (struct sockaddr *)addr, &len) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static double median(double *v, unsigned n) {
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
      double t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  return n ? v[n / 2] : 0;
}

static void print_side(const char *who, const report *r) {
  printf("  %-7s identity %s, sees peer %s\n", who, r->fingerprint, r->peer_fingerprint);
  printf("          SAS \"%s\"\n", r->sas);
  printf("          %u datagrams in, %u opened, refused: %llu tampered, %llu replayed, "
         "%llu malformed; plaintext seen: %u\n",
         r->datagrams_in, (unsigned)r->stats.opened, (unsigned long long)r->stats.dropped_auth,
         (unsigned long long)r->stats.dropped_replay,
         (unsigned long long)r->stats.dropped_malformed, r->plaintext_seen);
}

int ml_demo_run(void) {
  struct sockaddr_in a_addr, b_addr;
  int a_fd = udp_socket(&a_addr), b_fd = udp_socket(&b_addr);
  int pipefd[2];
  if (a_fd < 0 || b_fd < 0 || pipe(pipefd) != 0) {
    fprintf(stderr, "mentorlink demo: cannot open loopback UDP sockets: %s\n", strerror(errno));
    return 1;
  }
  printf("mentorlink demo --core: the secure core between two processes on this machine\n");
  printf("  transport: UDP on 127.0.0.1 (ports %u and %u), %s\n", ntohs(a_addr.sin_port),
         ntohs(b_addr.sin_port), DEMO_PATTERN);
  fflush(stdout);

  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "mentorlink demo: fork: %s\n", strerror(errno));
    return 1;
  }
  if (pid == 0) { /* mentee */
    report rep = {0};
    party p = {.fd = b_fd, .peer = a_addr, .role = ML_NOISE_RESPONDER, .rep = &rep};
    close(a_fd);
    close(pipefd[0]);
    run_party(&p);
    ssize_t w = write(pipefd[1], &rep, sizeof rep);
    _exit(w == (ssize_t)sizeof rep ? 0 : 1);
  }
  close(b_fd);
  close(pipefd[1]);
  report mentor = {0}, mentee = {0};
  party p = {.fd = a_fd, .peer = b_addr, .role = ML_NOISE_INITIATOR, .rep = &mentor};
  run_party(&p);
  ssize_t got = read(pipefd[0], &mentee, sizeof mentee);
  int status = 0;
  waitpid(pid, &status, 0);
  close(a_fd);
  close(pipefd[0]);
  if (got != (ssize_t)sizeof mentee) {
    fprintf(stderr, "mentorlink demo: the mentee process did not report\n");
    return 1;
  }

  printf("  handshake: %.2f ms (mentor's view), identities bound to the Noise keys\n",
         mentor.handshake_ms);
  print_side("mentor", &mentor);
  print_side("mentee", &mentee);
  printf("  safety number: %s\n", mentor.safety);
  double rtts[DEMO_LINES];
  memcpy(rtts, mentor.rtt_ms, sizeof rtts);
  printf("  chat: %u/%d lines echoed intact, round trip median %.3f ms\n", mentor.lines_ok,
         DEMO_LINES, median(rtts, mentor.lines_ok));

  int ok = mentor.ok && mentee.ok;
  struct {
    int pass;
    const char *what;
  } checks[] = {
      {ok, "both sides completed"},
      {ok && !strcmp(mentor.sas, mentee.sas), "SAS equal on both sides"},
      {ok && !strcmp(mentor.safety, mentee.safety), "safety number equal on both sides"},
      {mentor.lines_ok == DEMO_LINES && mentee.lines_ok == DEMO_LINES, "every chat line arrived"},
      {mentee.stats.dropped_replay == 1, "the replayed datagram was refused"},
      {mentee.stats.dropped_auth == 1, "the tampered datagram was refused"},
      {mentor.plaintext_seen + mentee.plaintext_seen == 0, "no chat text in clear on the wire"},
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    printf("  [%s] %s\n", checks[i].pass ? " ok " : "FAIL", checks[i].what);
    failed += !checks[i].pass;
  }
  if (!mentor.ok)
    printf("  mentor: %s\n", mentor.error);
  if (!mentee.ok)
    printf("  mentee: %s\n", mentee.error);
  printf("This is the secure core alone, not a call: `mentorlink demo` runs a real call\n"
         "(signaling, ICE, audio, video and chat).\n");
  return failed ? 1 : 0;
}
