/* mentorlink — Noise interoperability driver.
 *
 * Runs one handshake between our Noise implementation (ml_noise_*) and an
 * independent one, the npm package noise-handshake, driven through
 * noise_peer.mjs in a child Node.js process over two pipes. Then exchanges
 * transport messages both ways and checks that both sides agree on the
 * handshake hash, on each other's static keys and on every plaintext.
 *
 *   noise_interop_peer NODE SCRIPT PATTERN ours_initiator|ours_responder
 *
 * PATTERN is one noise-handshake implements: XX, IK, XK, NN, XXpsk0, NNpsk0.
 * Static keys, the PSK and every payload are fresh random bytes each run; the
 * prologue is fixed and non-empty. Every wait on the child is bounded by
 * REPLY_TIMEOUT_MS. Exits 0 when everything matched, 1 otherwise (with the
 * reason on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ml/noise.h"

extern char **environ;

/* Node's start-up (loading sodium-native) is the slowest step; a loaded CI
 * machine or a sanitizer build can take seconds. */
#define REPLY_TIMEOUT_MS 30000
#define MAX_HANDSHAKE_MESSAGES 8
/* The largest plaintext that fits one Noise transport message. */
#define MAX_PLAINTEXT (ML_NOISE_MAX_MSG - ML_NOISE_TAG_LEN)
/* "<word> <hex of at most one Noise message>\n" */
#define MAX_LINE (16 + 2 * ML_NOISE_MAX_MSG)

static const char prologue[] = "mentorlink interop prologue v1";

typedef struct pattern_info {
  const char *name;
  bool uses_static;        /* both sides have a static key */
  bool initiator_knows_rs; /* the responder's static key is a pre-message */
  size_t n_psks;
} pattern_info;

static const pattern_info patterns[] = {
    {"XX", true, false, 0},  {"IK", true, true, 0},      {"XK", true, true, 0},
    {"NN", false, false, 0}, {"XXpsk0", true, false, 1}, {"NNpsk0", false, false, 1},
};

typedef struct node_peer {
  pid_t pid;
  int to_fd;   /* the child's stdin */
  int from_fd; /* the child's stdout */
  char *buf;   /* bytes read from the child, not yet consumed */
  size_t len;
} node_peer;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  (void)fputs("FAIL: ", stderr);
  (void)vfprintf(stderr, fmt, ap);
  (void)fputc('\n', stderr);
  va_end(ap);
}

static char *to_hex(const uint8_t *bytes, size_t len) {
  char *hex = malloc(2 * len + 1);
  if (hex == NULL)
    abort();
  sodium_bin2hex(hex, 2 * len + 1, bytes, len);
  return hex;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pipe() could hand out 0, 1 or 2 if the harness started us with them
 * closed (CI has no stdin); make sure they are taken first. */
static void ensure_std_fds(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
      abort();
  }
}

static int cloexec_pipe(int fds[2]) {
  if (pipe(fds) != 0)
    return -1;
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  return 0;
}

static int peer_spawn(node_peer *p, char *const argv[]) {
  int in[2], out[2];
  if (cloexec_pipe(in) != 0)
    return -1;
  if (cloexec_pipe(out) != 0) {
    close(in[0]);
    close(in[1]);
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  /* dup2 clears close-on-exec on the copies; stderr is inherited so Node's
   * own errors reach the test log. */
  posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  int rc = posix_spawn(&p->pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    fail("cannot start %s: %s", argv[0], strerror(rc));
    return -1;
  }
  p->to_fd = in[1];
  p->from_fd = out[0];
  return 0;
}

static int write_all(int fd, const char *s, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, s, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      fail("writing to node: %s", strerror(errno));
      return -1;
    }
    s += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads one line from the child into a NUL-terminated string (without the
 * newline), waiting at most REPLY_TIMEOUT_MS. The caller frees *line. */
static int read_line(node_peer *p, char **line) {
  int64_t deadline = now_ms() + REPLY_TIMEOUT_MS;
  for (;;) {
    char *nl = memchr(p->buf, '\n', p->len);
    if (nl != NULL) {
      size_t n = (size_t)(nl - p->buf);
      *line = malloc(n + 1);
      if (*line == NULL)
        abort();
      memcpy(*line, p->buf, n);
      (*line)[n] = '\0';
      p->len -= n + 1;
      memmove(p->buf, nl + 1, p->len);
      return 0;
    }
    if (p->len >= MAX_LINE) {
      fail("node sent a line longer than %d bytes", MAX_LINE);
      return -1;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      fail("node did not answer within %d ms", REPLY_TIMEOUT_MS);
      return -1;
    }
    struct pollfd pfd = {.fd = p->from_fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      fail("poll: %s", strerror(errno));
      return -1;
    }
    if (r == 0)
      continue; /* the deadline check above reports it */
    ssize_t n = read(p->from_fd, p->buf + p->len, MAX_LINE - p->len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      fail("reading from node: %s", strerror(errno));
      return -1;
    }
    if (n == 0) {
      fail("node closed its output (exited?) before answering");
      return -1;
    }
    p->len += (size_t)n;
  }
}

/* Sends "<cmd> <hex(data)>" and reads the answer "<word> <hex>". On success
 * the decoded bytes are in out (out_cap at least MAX_LINE / 2) and the
 * answer's word is compared with expect. An "err" answer whose expect is not
 * "err" is a failure that quotes Node's message. */
static int peer_call(node_peer *p, const char *cmd, const uint8_t *data, size_t data_len,
                     const char *expect, uint8_t *out, size_t out_cap, size_t *out_len) {
  char *hex = to_hex(data, data_len);
  size_t req_cap = strlen(cmd) + strlen(hex) + 3;
  char *req = malloc(req_cap);
  if (req == NULL)
    abort();
  int req_len = snprintf(req, req_cap, "%s %s\n", cmd, hex);
  if (req_len < 0 || (size_t)req_len >= req_cap)
    abort();
  int rc = write_all(p->to_fd, req, (size_t)req_len);
  free(req);
  free(hex);
  if (rc != 0)
    return -1;

  char *line = NULL;
  if (read_line(p, &line) != 0)
    return -1;
  rc = -1;
  char *sp = strchr(line, ' ');
  const char *arg = sp != NULL ? sp + 1 : "";
  if (sp != NULL)
    *sp = '\0';
  const char *end = NULL;
  if (sodium_hex2bin(out, out_cap, arg, strlen(arg), NULL, out_len, &end) != 0 || *end != '\0') {
    fail("node's answer to %s is not <word> <hex>: %.80s", cmd, line);
    goto out;
  }
  if (strcmp(line, expect) != 0) {
    if (strcmp(line, "err") == 0)
      fail("node refused %s: %.*s", cmd, (int)*out_len, (const char *)out);
    else
      fail("node answered %s to %s, expected %s", line, cmd, expect);
    goto out;
  }
  rc = 0;
out:
  free(line);
  return rc;
}

/* Closes the child's stdin, which ends it, and reaps it. Returns its exit
 * status, or -1 if it had to be killed or died from a signal. */
static int peer_finish(node_peer *p) {
  if (p->to_fd >= 0)
    close(p->to_fd);
  p->to_fd = -1;
  /* Wait (bounded) for the child to close its stdout, i.e. to exit. */
  int64_t deadline = now_ms() + REPLY_TIMEOUT_MS;
  bool closed = false;
  while (!closed) {
    int64_t left = deadline - now_ms();
    if (left <= 0)
      break;
    struct pollfd pfd = {.fd = p->from_fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno != EINTR)
      break;
    if (r > 0) {
      char scratch[4096];
      ssize_t n = read(p->from_fd, scratch, sizeof scratch);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        closed = true;
    }
  }
  close(p->from_fd);
  p->from_fd = -1;
  if (!closed) {
    fail("node did not exit within %d ms of end of input; killing it", REPLY_TIMEOUT_MS);
    kill(p->pid, SIGKILL);
  }
  int status;
  while (waitpid(p->pid, &status, 0) < 0) {
    if (errno != EINTR)
      return -1;
  }
  p->pid = -1;
  if (!closed || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

static bool same(const char *what, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
  if (a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0))
    return true;
  char *ha = to_hex(a, a_len < 48 ? a_len : 48);
  char *hb = to_hex(b, b_len < 48 ? b_len : 48);
  fail("%s differ: ours %zu bytes %s%s, node's %zu bytes %s%s", what, a_len, ha,
       a_len > 48 ? "..." : "", b_len, hb, b_len > 48 ? "..." : "");
  free(ha);
  free(hb);
  return false;
}

typedef struct session {
  node_peer *node;
  ml_noise_cipher *send;
  ml_noise_cipher *recv;
  uint8_t *pt; /* MAX_LINE / 2 bytes each */
  uint8_t *ct;
  uint8_t *got;
} session;

/* Our side encrypts len random bytes, node decrypts; the plaintexts must match. */
static int ours_to_node(session *s, size_t len, bool forge_first) {
  size_t ct_len, got_len;
  randombytes_buf(s->pt, len);
  if (ml_noise_cipher_encrypt(s->send, NULL, 0, s->pt, len, s->ct, MAX_LINE / 2, &ct_len) !=
      ML_OK) {
    fail("ml_noise_cipher_encrypt of %zu bytes failed", len);
    return -1;
  }
  if (forge_first) {
    /* A forged message must be refused without consuming the nonce. */
    s->ct[ct_len - 1] ^= 0x01;
    if (peer_call(s->node, "dec", s->ct, ct_len, "err", s->got, MAX_LINE / 2, &got_len) != 0) {
      fail("node accepted a transport message with a flipped tag bit");
      return -1;
    }
    s->ct[ct_len - 1] ^= 0x01;
  }
  if (peer_call(s->node, "dec", s->ct, ct_len, "pt", s->got, MAX_LINE / 2, &got_len) != 0)
    return -1;
  return same("transport plaintexts (ours -> node)", s->pt, len, s->got, got_len) ? 0 : -1;
}

/* Node encrypts len random bytes, our side decrypts; the plaintexts must match. */
static int node_to_ours(session *s, size_t len, bool forge_first) {
  size_t ct_len, got_len;
  randombytes_buf(s->pt, len);
  if (peer_call(s->node, "enc", s->pt, len, "ct", s->ct, MAX_LINE / 2, &ct_len) != 0)
    return -1;
  if (ct_len != len + ML_NOISE_TAG_LEN) {
    fail("node's ciphertext of %zu bytes is %zu bytes long", len, ct_len);
    return -1;
  }
  if (forge_first) {
    s->ct[0] ^= 0x80;
    int rc =
        ml_noise_cipher_decrypt(s->recv, NULL, 0, s->ct, ct_len, s->got, MAX_LINE / 2, &got_len);
    if (rc != ML_ERR_CRYPTO) {
      fail("our side accepted a forged transport message (%s)", ml_strerror(rc));
      return -1;
    }
    s->ct[0] ^= 0x80;
  }
  int rc = ml_noise_cipher_decrypt(s->recv, NULL, 0, s->ct, ct_len, s->got, MAX_LINE / 2, &got_len);
  if (rc != ML_OK) {
    fail("our side cannot decrypt node's transport message of %zu bytes: %s", len, ml_strerror(rc));
    return -1;
  }
  return same("transport plaintexts (node -> ours)", s->pt, len, s->got, got_len) ? 0 : -1;
}

static int transport_exchange(session *s, int *n_each_way) {
  /* Edge lengths around the 16-byte Poly1305 block and the largest message,
   * alternating directions, then runs in one direction (independent nonces). */
  static const size_t lens[] = {0, 1, 15, 16, 17, 63, 64, 1000, 4096, MAX_PLAINTEXT};
  int n = 0;
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    if (ours_to_node(s, lens[i], i == 3) != 0 || node_to_ours(s, lens[i], i == 5) != 0)
      return -1;
    n++;
  }
  for (int i = 0; i < 5; i++, n++) {
    if (ours_to_node(s, 100 + (size_t)i, false) != 0)
      return -1;
  }
  for (int i = 0; i < 5; i++) {
    if (node_to_ours(s, 100 + (size_t)i, false) != 0)
      return -1;
  }
  *n_each_way = n;
  return 0;
}

static const pattern_info *find_pattern(const char *name) {
  for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
    if (strcmp(patterns[i].name, name) == 0)
      return &patterns[i];
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5 || find_pattern(argv[3]) == NULL ||
      (strcmp(argv[4], "ours_initiator") != 0 && strcmp(argv[4], "ours_responder") != 0)) {
    (void)fprintf(stderr,
                  "usage: %s NODE SCRIPT XX|IK|XK|NN|XXpsk0|NNpsk0 ours_initiator|ours_responder\n",
                  argc > 0 ? argv[0] : "noise_interop_peer");
    return 2;
  }
  const pattern_info *pat = find_pattern(argv[3]);
  bool ours_initiator = strcmp(argv[4], "ours_initiator") == 0;

  ensure_std_fds();
  (void)signal(SIGPIPE, SIG_IGN); /* a dead child shows up as EPIPE instead */
  if (sodium_init() < 0) {
    fail("sodium_init");
    return 1;
  }

  char protocol_name[64];
  int name_len =
      snprintf(protocol_name, sizeof protocol_name, "Noise_%s_25519_ChaChaPoly_BLAKE2b", pat->name);
  if (name_len < 0 || (size_t)name_len >= sizeof protocol_name)
    abort();

  uint8_t our_priv[ML_NOISE_KEY_LEN], our_pub[ML_NOISE_KEY_LEN];
  uint8_t node_priv[ML_NOISE_KEY_LEN], node_pub[ML_NOISE_KEY_LEN];
  uint8_t psk[1][ML_NOISE_KEY_LEN];
  ml_noise_keypair(our_priv, our_pub);
  ml_noise_keypair(node_priv, node_pub);
  randombytes_buf(psk[0], sizeof psk[0]);

  int result = 1;
  node_peer node = {.pid = -1, .to_fd = -1, .from_fd = -1, .buf = NULL, .len = 0};
  ml_noise_handshake *hs = NULL;
  session s = {.node = &node};
  char *node_priv_hex = to_hex(node_priv, sizeof node_priv);
  char *our_pub_hex = to_hex(our_pub, sizeof our_pub);
  char *prologue_hex = to_hex((const uint8_t *)prologue, strlen(prologue));
  char *psk_hex = to_hex(psk[0], sizeof psk[0]);
  node.buf = malloc(MAX_LINE);
  s.pt = malloc(MAX_LINE / 2);
  s.ct = malloc(MAX_LINE / 2);
  s.got = malloc(MAX_LINE / 2);
  if (node.buf == NULL || s.pt == NULL || s.ct == NULL || s.got == NULL)
    abort();

  /* The node side is the initiator when we are not, and needs our static
   * public key in advance exactly when it initiates IK or XK. */
  char node_role[] = "responder", node_role_i[] = "initiator", dash[] = "-";
  char *node_argv[] = {
      argv[1], /* node */
      argv[2], /* noise_peer.mjs */
      argv[3], /* the pattern */
      ours_initiator ? node_role : node_role_i,
      node_priv_hex,
      (!ours_initiator && pat->initiator_knows_rs) ? our_pub_hex : dash,
      prologue_hex,
      pat->n_psks > 0 ? psk_hex : dash,
      NULL,
  };
  if (peer_spawn(&node, node_argv) != 0)
    goto out;

  ml_noise_config cfg = {
      .protocol_name = protocol_name,
      .role = ours_initiator ? ML_NOISE_INITIATOR : ML_NOISE_RESPONDER,
      .prologue = (const uint8_t *)prologue,
      .prologue_len = strlen(prologue),
      .local_static_private = pat->uses_static ? our_priv : NULL,
      .remote_static_public = (ours_initiator && pat->initiator_knows_rs) ? node_pub : NULL,
      .psks = pat->n_psks > 0 ? (const uint8_t(*)[ML_NOISE_KEY_LEN])psk : NULL,
      .n_psks = pat->n_psks,
  };
  int rc = ml_noise_handshake_new(&hs, &cfg);
  if (rc != ML_OK) {
    fail("ml_noise_handshake_new(%s): %s", protocol_name, ml_strerror(rc));
    goto out;
  }

  /* Both implementations must name the protocol the same way: the name is
   * the first input to the handshake hash. */
  size_t got_len;
  if (peer_call(&node, "protocol", NULL, 0, "protocol", s.got, MAX_LINE / 2, &got_len) != 0 ||
      !same("protocol names", (const uint8_t *)protocol_name, strlen(protocol_name), s.got,
            got_len))
    goto out;

  /* The handshake, each message carrying a random payload of 0..200 bytes. */
  int n_messages = 0;
  for (;;) {
    ml_noise_action action = ml_noise_handshake_action(hs);
    if (action == ML_NOISE_SPLIT)
      break;
    if (action == ML_NOISE_FAILED || n_messages == MAX_HANDSHAKE_MESSAGES) {
      fail("our handshake is in state %d after %d messages", (int)action, n_messages);
      goto out;
    }
    size_t payload_len = randombytes_uniform(201);
    randombytes_buf(s.pt, payload_len);
    size_t msg_len;
    n_messages++;
    if (action == ML_NOISE_WRITE) {
      rc = ml_noise_handshake_write_message(hs, s.pt, payload_len, s.ct, MAX_LINE / 2, &msg_len);
      if (rc != ML_OK) {
        fail("our handshake message %d: write failed: %s", n_messages, ml_strerror(rc));
        goto out;
      }
      if (peer_call(&node, "read", s.ct, msg_len, "payload", s.got, MAX_LINE / 2, &got_len) != 0 ||
          !same("handshake payloads (ours -> node)", s.pt, payload_len, s.got, got_len))
        goto out;
    } else {
      if (peer_call(&node, "write", s.pt, payload_len, "hs", s.ct, MAX_LINE / 2, &msg_len) != 0)
        goto out;
      rc = ml_noise_handshake_read_message(hs, s.ct, msg_len, s.got, MAX_LINE / 2, &got_len);
      if (rc != ML_OK) {
        fail("node's handshake message %d (%zu bytes): our read failed: %s", n_messages, msg_len,
             ml_strerror(rc));
        goto out;
      }
      if (!same("handshake payloads (node -> ours)", s.pt, payload_len, s.got, got_len))
        goto out;
    }
  }

  /* Channel binding: both sides must have computed the same h. */
  if (peer_call(&node, "hash", NULL, 0, "hash", s.got, MAX_LINE / 2, &got_len) != 0 ||
      !same("handshake hashes", ml_noise_handshake_hash(hs), ML_NOISE_HASH_LEN, s.got, got_len))
    goto out;
  if (pat->uses_static) {
    uint8_t rs[ML_NOISE_KEY_LEN];
    if (ml_noise_handshake_remote_static(hs, rs) != ML_OK) {
      fail("our side does not know node's static key after the handshake");
      goto out;
    }
    if (!same("node's static key as we learned it", node_pub, sizeof node_pub, rs, sizeof rs))
      goto out;
    if (peer_call(&node, "rs", NULL, 0, "rs", s.got, MAX_LINE / 2, &got_len) != 0 ||
        !same("our static key as node learned it", our_pub, sizeof our_pub, s.got, got_len))
      goto out;
  }

  rc = ml_noise_handshake_split(hs, &s.send, &s.recv);
  if (rc != ML_OK || s.send == NULL || s.recv == NULL) {
    fail("ml_noise_handshake_split: %s", ml_strerror(rc));
    goto out;
  }
  int n_each_way = 0;
  if (transport_exchange(&s, &n_each_way) != 0)
    goto out;

  char *hash_hex = to_hex(ml_noise_handshake_hash(hs), 8);
  printf("PASS: %s, ours %s with noise-handshake: %d handshake messages, %d transport "
         "messages each way (plus one forged each way, refused), h = %s...\n",
         protocol_name, ours_initiator ? "initiator" : "responder", n_messages, n_each_way,
         hash_hex);
  free(hash_hex);
  result = 0;

out:
  if (node.pid > 0) {
    int status = peer_finish(&node);
    if (status != 0) {
      fail("node exited with status %d", status);
      result = 1;
    }
  }
  ml_noise_cipher_free(s.send);
  ml_noise_cipher_free(s.recv);
  ml_noise_handshake_free(hs);
  sodium_memzero(our_priv, sizeof our_priv);
  sodium_memzero(node_priv, sizeof node_priv);
  sodium_memzero(psk, sizeof psk);
  free(node.buf);
  free(s.pt);
  free(s.ct);
  free(s.got);
  free(node_priv_hex);
  free(our_pub_hex);
  free(prologue_hex);
  free(psk_hex);
  return result;
}
