/* TURN REST credentials against a real coturn (Debian's turnserver), started by
 * this test on 127.0.0.1 with use-auth-secret: an Allocate signed with the
 * credentials that mentorlink-signal issues succeeds; one with a forged
 * password, or an expired username, is refused with 401.
 *
 * The STUN/TURN client is the minimum needed for that (RFC 8489/8656 Allocate
 * with long-term credentials), written with the project's bounded reader and
 * writer; every wait is bounded by poll() timeouts and a retry count.
 *
 * usage: test_signal_turn_coturn /path/to/turnserver */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "ml/bytes.h"
#include "turn.h"

#define SECRET "coturn-test-shared-secret"
#define REALM "mentorlink.test"
#define MAGIC 0x2112A442u

enum {
  STUN_BINDING = 0x0001,
  STUN_ALLOCATE = 0x0003,
  STUN_ALLOCATE_OK = 0x0103,
  STUN_ALLOCATE_ERR = 0x0113,
  STUN_BINDING_OK = 0x0101,
  ATTR_USERNAME = 0x0006,
  ATTR_MESSAGE_INTEGRITY = 0x0008,
  ATTR_ERROR_CODE = 0x0009,
  ATTR_REALM = 0x0014,
  ATTR_NONCE = 0x0015,
  ATTR_XOR_RELAYED_ADDRESS = 0x0016,
  ATTR_REQUESTED_TRANSPORT = 0x0019,
};

static GPid turn_pid;

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                                 \
      if (turn_pid)                                                                                \
        kill(turn_pid, SIGKILL);                                                                   \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

typedef struct stun_msg {
  uint16_t type;
  uint8_t tid[12];
  int error; /* ERROR-CODE class*100+number, 0 if absent */
  char realm[128];
  char nonce[256];
  bool relayed;
} stun_msg;

static void put_attr(ml_writer *w, uint16_t type, const void *v, size_t n) {
  static const uint8_t pad[4] = {0};
  ml_writer_u16(w, type);
  ml_writer_u16(w, (uint16_t)n);
  ml_writer_bytes(w, v, n);
  ml_writer_bytes(w, pad, (4 - n % 4) % 4);
}

/* Builds a request; with user/pass/realm/nonce adds long-term credentials. */
static size_t build(uint8_t *buf, size_t cap, uint16_t type, const uint8_t tid[12],
                    const char *user, const char *pass, const char *realm, const char *nonce) {
  ml_writer w = ml_writer_init(buf, cap);
  ml_writer_u16(&w, type);
  ml_writer_u16(&w, 0); /* length, patched below */
  ml_writer_u32(&w, MAGIC);
  ml_writer_bytes(&w, tid, 12);
  if (type == STUN_ALLOCATE) {
    const uint8_t udp[4] = {17, 0, 0, 0};
    put_attr(&w, ATTR_REQUESTED_TRANSPORT, udp, 4);
  }
  if (user) {
    put_attr(&w, ATTR_USERNAME, user, strlen(user));
    put_attr(&w, ATTR_REALM, realm, strlen(realm));
    put_attr(&w, ATTR_NONCE, nonce, strlen(nonce));
    /* MESSAGE-INTEGRITY: HMAC-SHA1 keyed with MD5(user:realm:pass) over the
     * message so far, with the length field already counting the MI attribute. */
    size_t len_with_mi = w.pos - 20 + 24;
    buf[2] = (uint8_t)(len_with_mi >> 8);
    buf[3] = (uint8_t)len_with_mi;
    char *ks = g_strdup_printf("%s:%s:%s", user, realm, pass);
    guint8 key[16];
    gsize klen = sizeof key;
    GChecksum *md5 = g_checksum_new(G_CHECKSUM_MD5);
    g_checksum_update(md5, (const guchar *)ks, (gssize)strlen(ks));
    g_checksum_get_digest(md5, key, &klen);
    g_checksum_free(md5);
    g_free(ks);
    GHmac *h = g_hmac_new(G_CHECKSUM_SHA1, key, klen);
    g_hmac_update(h, buf, (gssize)w.pos);
    guint8 mac[20];
    gsize mlen = sizeof mac;
    g_hmac_get_digest(h, mac, &mlen);
    g_hmac_unref(h);
    put_attr(&w, ATTR_MESSAGE_INTEGRITY, mac, sizeof mac);
  }
  CHECK(!w.failed);
  size_t body = w.pos - 20;
  buf[2] = (uint8_t)(body >> 8);
  buf[3] = (uint8_t)body;
  return w.pos;
}

static bool parse(const uint8_t *buf, size_t n, stun_msg *m) {
  memset(m, 0, sizeof *m);
  ml_reader r = ml_reader_init(buf, n);
  uint16_t len;
  uint32_t magic;
  if (!ml_reader_u16(&r, &m->type) || !ml_reader_u16(&r, &len) || !ml_reader_u32(&r, &magic) ||
      !ml_reader_copy(&r, m->tid, 12) || magic != MAGIC || len != ml_reader_remaining(&r))
    return false;
  while (ml_reader_remaining(&r) >= 4) {
    uint16_t t, l;
    const uint8_t *v;
    ml_reader_u16(&r, &t);
    ml_reader_u16(&r, &l);
    if (!ml_reader_bytes(&r, l, &v))
      return false;
    const uint8_t *pad;
    if (!ml_reader_bytes(&r, (4 - l % 4) % 4, &pad))
      return false;
    if (t == ATTR_ERROR_CODE && l >= 4)
      m->error = (v[2] & 7) * 100 + v[3];
    else if (t == ATTR_REALM && l < sizeof m->realm)
      memcpy(m->realm, v, l);
    else if (t == ATTR_NONCE && l < sizeof m->nonce)
      memcpy(m->nonce, v, l);
    else if (t == ATTR_XOR_RELAYED_ADDRESS)
      m->relayed = true;
  }
  return !r.failed;
}

/* Sends req and waits for the response with the same transaction id:
 * up to `tries` sends, 300 ms apart. */
static bool transact(int fd, const uint8_t *req, size_t n, stun_msg *resp, int tries) {
  for (int i = 0; i < tries; i++) {
    CHECK(send(fd, req, n, 0) == (ssize_t)n || i + 1 < tries);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 300) == 1) {
      uint8_t buf[1500];
      ssize_t got = recv(fd, buf, sizeof buf, 0);
      if (got > 0 && parse(buf, (size_t)got, resp) && !memcmp(resp->tid, req + 8, 12))
        return true;
    }
  }
  return false;
}

static int udp_to(unsigned port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
  return fd;
}

static unsigned free_port(int type) {
  int fd = socket(AF_INET, type, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  socklen_t l = sizeof a;
  CHECK(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

static void new_tid(uint8_t tid[12]) {
  for (int i = 0; i < 12; i++)
    tid[i] = (uint8_t)g_random_int_range(0, 256);
}

/* One Allocate with credentials (user, pass) from a fresh 5-tuple; returns
 * 0 on success or the STUN error code. */
static int allocate(unsigned port, const char *user, const char *pass) {
  int fd = udp_to(port);
  uint8_t buf[1024], tid[12];
  stun_msg m;
  new_tid(tid);
  size_t n = build(buf, sizeof buf, STUN_ALLOCATE, tid, NULL, NULL, NULL, NULL);
  CHECK(transact(fd, buf, n, &m, 10));
  CHECK(m.type == STUN_ALLOCATE_ERR && m.error == 401 && m.realm[0] && m.nonce[0]);
  CHECK(!strcmp(m.realm, REALM));
  char nonce[256];
  memcpy(nonce, m.nonce, sizeof nonce);
  new_tid(tid);
  n = build(buf, sizeof buf, STUN_ALLOCATE, tid, user, pass, REALM, nonce);
  CHECK(transact(fd, buf, n, &m, 10));
  close(fd);
  if (m.type == STUN_ALLOCATE_OK) {
    CHECK(m.relayed);
    return 0;
  }
  CHECK(m.type == STUN_ALLOCATE_ERR);
  return m.error;
}

static void child_setup(gpointer u) {
  (void)u;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s /path/to/turnserver\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char *dir = g_dir_make_tmp("mlturn-XXXXXX", NULL);
  CHECK(dir);
  unsigned port = free_port(SOCK_DGRAM);
  unsigned relay = 40000 + (unsigned)g_random_int_range(0, 20000);
  char *a_port = g_strdup_printf("--listening-port=%u", port);
  char *a_min = g_strdup_printf("--min-port=%u", relay);
  char *a_max = g_strdup_printf("--max-port=%u", relay + 50);
  char *a_db = g_strdup_printf("--userdb=%s/turndb", dir);
  char *a_pid = g_strdup_printf("--pidfile=%s/turnserver.pid", dir);
  const char *const fixed[] = {argv[1],
                               "-n",
                               "--no-cli",
                               "--listening-ip=127.0.0.1",
                               a_port,
                               "--relay-ip=127.0.0.1",
                               "--use-auth-secret",
                               "--static-auth-secret=" SECRET,
                               "--realm=" REALM,
                               a_min,
                               a_max,
                               "--no-tls",
                               "--no-dtls",
                               "--no-multicast-peers",
                               "--allow-loopback-peers",
                               "--log-file=stdout",
                               "--simple-log",
                               a_db,
                               a_pid};
  GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
  for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
    g_ptr_array_add(args, g_strdup(fixed[i]));
  g_ptr_array_add(args, NULL);
  GError *err = NULL;
  /* coturn's log is noise unless asked for (TURN_LOG=1). */
  GSpawnFlags flags = G_SPAWN_DO_NOT_REAP_CHILD;
  if (!g_getenv("TURN_LOG"))
    flags |= G_SPAWN_STDOUT_TO_DEV_NULL;
  gboolean spawned =
      g_spawn_async(NULL, (char **)args->pdata, NULL, flags, child_setup, NULL, &turn_pid, &err);
  g_ptr_array_free(args, TRUE);
  if (!spawned) {
    fprintf(stderr, "spawn turnserver: %s\n", err->message);
    return 1;
  }

  /* Ready when it answers a Binding request: bounded to 50 x 300 ms. */
  int fd = udp_to(port);
  uint8_t buf[512], tid[12];
  stun_msg m;
  new_tid(tid);
  size_t n = build(buf, sizeof buf, STUN_BINDING, tid, NULL, NULL, NULL, NULL);
  CHECK(transact(fd, buf, n, &m, 50));
  CHECK(m.type == STUN_BINDING_OK);
  close(fd);

  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  char *user = NULL, *pass = NULL;
  CHECK(ml_turn_credentials(SECRET, "peer-abc", now, 600, &user, &pass) == ML_OK);
  int rc = allocate(port, user, pass);
  fprintf(stderr, "issued credentials: %s\n", rc == 0 ? "allocated" : "refused");
  CHECK(rc == 0);

  char *fuser = NULL, *fpass = NULL;
  CHECK(ml_turn_credentials("not-the-secret", "peer-abc", now, 600, &fuser, &fpass) == ML_OK);
  rc = allocate(port, fuser, fpass);
  fprintf(stderr, "forged password: error %d\n", rc);
  CHECK(rc == 401);

  char *euser = NULL, *epass = NULL;
  CHECK(ml_turn_credentials(SECRET, "peer-abc", now - 3600, 60, &euser, &epass) == ML_OK);
  rc = allocate(port, euser, epass);
  fprintf(stderr, "expired username: error %d\n", rc);
  CHECK(rc == 401);

  /* A username tampered after signing (longer expiry) is refused too. */
  char *tampered = g_strdup_printf("%" G_GINT64_FORMAT ":peer-abc", now + 86400);
  rc = allocate(port, tampered, pass);
  fprintf(stderr, "tampered expiry: error %d\n", rc);
  CHECK(rc == 401);

  kill(turn_pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 50 && waitpid(turn_pid, &status, WNOHANG) == 0; i++)
    g_usleep(100000); /* bounded wait for the child to exit */
  if (waitpid(turn_pid, &status, WNOHANG) == 0) {
    kill(turn_pid, SIGKILL);
    waitpid(turn_pid, &status, 0);
  }
  g_spawn_close_pid(turn_pid);
  turn_pid = 0;
  g_free(user);
  g_free(pass);
  g_free(fuser);
  g_free(fpass);
  g_free(euser);
  g_free(epass);
  g_free(tampered);
  char *db = g_strdup_printf("%s/turndb", dir), *pidf = g_strdup_printf("%s/turnserver.pid", dir);
  g_unlink(db);
  g_unlink(pidf);
  g_rmdir(dir);
  g_free(db);
  g_free(pidf);
  g_free(dir);
  g_free(a_port);
  g_free(a_min);
  g_free(a_max);
  g_free(a_db);
  g_free(a_pid);
  printf("turn: issued credentials allocate; forged, expired and tampered are refused\n");
  return 0;
}
