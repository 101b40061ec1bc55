/* bench_signal: load benchmark for mentorlink-signal (a program, not a test).
 *
 * Starts the real server on 127.0.0.1 (ephemeral port, limits raised), opens N
 * WebSocket clients from this one process (a minimal epoll RFC 6455 client, so
 * that the client is not the bottleneck), joins them with signed tokens into
 * rooms of 2..8, then has them relay `signal` messages to room-mates at a
 * fixed total rate for a fixed time, and prints:
 *   connections held, join time, messages/s sent and relayed, relay latency
 *   p50/p90/p99/max (send → receive, both in this process), server RSS per
 *   connection and server CPU.
 * Bounded everywhere: N ≤ 15000 (and the fd limit), every phase has a deadline.
 *
 * usage: bench_signal [--clients N] [--rate MSGS_PER_S] [--seconds S] [--workers W]
 *                     [--server PATH] [--redis URL [--instances K]] [--churn PER_S]
 * --redis: the servers run the Redis backend against that Redis.
 * --instances: K servers (1..4; more than one needs --redis); client i connects
 *   to server i mod K, so every room has members on several instances.
 * --churn: during the relay phase, that many participants per second leave
 *   (close their socket), connect again and join again (the soak).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "ml/signal_token.h"

#define MAX_CLIENTS 15000
#define SECRET "bench-secret-0123456789abcdef-0123456789"
#define RBUF_MAX (256 * 1024)
#define MAX_SAMPLES 2000000
#define MAX_INSTANCES 4
#define REJOIN_DEADLINE_NS (10ull * 1000000000u)

typedef enum { C_CONNECTING, C_HANDSHAKE, C_OPEN, C_DEAD } cstate;

typedef struct client {
  int fd;
  cstate state;
  bool joined;
  bool join_sent;
  uint64_t rejoin_t0; /* churn: when it left, 0 when not rejoining */
  unsigned port;
  char id[32];
  unsigned room; /* index of its room */
  unsigned slot; /* position in the room */
  GByteArray *rbuf;
  GByteArray *wbuf;
} client;

typedef struct room {
  unsigned first; /* index of the first client */
  unsigned size;
} room;

static client *clients;
static room *rooms;
static unsigned n_clients, n_rooms;
static int ep;
static uint32_t rng = 2463534242u;
static double *samples;
static size_t n_samples;
static uint64_t received, sent, errors_seen, errors_raced;
static unsigned open_count, joined_count, dead_count;
static uint64_t churned, rejoined, rejoin_failed;
static double rejoin_max_ms;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t xorshift(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void mark_dead(client *c) {
  if (c->state == C_DEAD)
    return;
  if (c->state == C_OPEN)
    open_count--;
  c->state = C_DEAD;
  dead_count++;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
}

static void flush(client *c) {
  while (c->wbuf->len > 0) {
    ssize_t n = send(c->fd, c->wbuf->data, c->wbuf->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      mark_dead(c);
      return;
    }
    g_byte_array_remove_range(c->wbuf, 0, (guint)n);
  }
  struct epoll_event ev = {.events = EPOLLIN | (c->wbuf->len ? EPOLLOUT : 0),
                           .data.u32 = (uint32_t)(c - clients)};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queues one masked frame (client frames must be masked, RFC 6455 5.3). */
static void send_frame(client *c, int opcode, const char *data, size_t len) {
  if (c->state == C_DEAD)
    return;
  uint8_t hdr[14];
  size_t h = 0;
  hdr[h++] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    hdr[h++] = (uint8_t)(0x80 | len);
  } else if (len < 65536) {
    hdr[h++] = 0x80 | 126;
    hdr[h++] = (uint8_t)(len >> 8);
    hdr[h++] = (uint8_t)len;
  } else {
    hdr[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--)
      hdr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  uint32_t mk = xorshift();
  uint8_t mask[4] = {(uint8_t)mk, (uint8_t)(mk >> 8), (uint8_t)(mk >> 16), (uint8_t)(mk >> 24)};
  memcpy(hdr + h, mask, 4);
  h += 4;
  g_byte_array_append(c->wbuf, hdr, (guint)h);
  guint off = c->wbuf->len;
  g_byte_array_set_size(c->wbuf, off + (guint)len);
  for (size_t i = 0; i < len; i++)
    c->wbuf->data[off + i] = (uint8_t)data[i] ^ mask[i % 4];
  flush(c);
}

static void on_text(client *c, const char *msg, size_t len) {
  uint64_t t_now = now_ns();
  (void)len;
  if (strstr(msg, "\"type\":\"signal\"")) {
    received++;
    const char *t = strstr(msg, "\"t\":");
    if (t && n_samples < MAX_SAMPLES) {
      uint64_t t0 = g_ascii_strtoull(t + 4, NULL, 10);
      samples[n_samples++] = (double)(t_now - t0) / 1e6;
    }
  } else if (strstr(msg, "\"type\":\"welcome\"")) {
    const char *p = strstr(msg, "\"peer_id\":\"");
    if (p) {
      p += 11;
      size_t k = 0;
      while (p[k] && p[k] != '"' && k < sizeof c->id - 1) {
        c->id[k] = p[k];
        k++;
      }
      c->id[k] = '\0';
      c->joined = true;
      joined_count++;
      if (c->rejoin_t0) {
        double ms = (double)(t_now - c->rejoin_t0) / 1e6;
        rejoin_max_ms = ms > rejoin_max_ms ? ms : rejoin_max_ms;
        rejoined++;
        c->rejoin_t0 = 0;
      }
    }
  } else if (strstr(msg, "\"type\":\"error\"")) {
    /* A signal in flight to a participant that has just left (churn). */
    if (churned && strstr(msg, "\"no_such_peer\"")) {
      errors_raced++;
      return;
    }
    errors_seen++;
    if (errors_seen <= 5)
      fprintf(stderr, "server error: %.*s\n", (int)(len > 200 ? 200 : len), msg);
  }
}

/* Parses complete frames out of rbuf. */
static void parse_frames(client *c) {
  for (;;) {
    GByteArray *b = c->rbuf;
    if (b->len < 2)
      return;
    uint8_t op = b->data[0] & 0x0f;
    uint64_t len = b->data[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
      if (b->len < 4)
        return;
      len = (uint64_t)b->data[2] << 8 | b->data[3];
      h = 4;
    } else if (len == 127) {
      if (b->len < 10)
        return;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = len << 8 | b->data[2 + i];
      h = 10;
    }
    if (len > RBUF_MAX) {
      mark_dead(c);
      return;
    }
    if (b->len < h + len)
      return;
    if (op == 1) {
      char *msg = g_strndup((const char *)b->data + h, (gsize)len);
      on_text(c, msg, (size_t)len);
      g_free(msg);
    } else if (op == 9) {
      send_frame(c, 10, (const char *)b->data + h, (size_t)len);
    } else if (op == 8) {
      mark_dead(c);
      return;
    }
    g_byte_array_remove_range(b, 0, (guint)(h + len));
  }
}

static void send_join(client *c);

static void on_readable(client *c) {
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) {
      mark_dead(c);
      return;
    }
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        mark_dead(c);
      break;
    }
    g_byte_array_append(c->rbuf, buf, (guint)n);
    if (c->rbuf->len > RBUF_MAX) {
      mark_dead(c);
      return;
    }
  }
  if (c->state == C_HANDSHAKE) {
    const char *end = g_strstr_len((const char *)c->rbuf->data, c->rbuf->len, "\r\n\r\n");
    if (!end)
      return;
    if (c->rbuf->len < 12 || memcmp(c->rbuf->data, "HTTP/1.1 101", 12) != 0) {
      mark_dead(c);
      return;
    }
    g_byte_array_remove_range(c->rbuf, 0, (guint)(end + 4 - (const char *)c->rbuf->data));
    c->state = C_OPEN;
    open_count++;
    if (c->rejoin_t0)
      send_join(c);
  }
  if (c->state == C_OPEN)
    parse_frames(c);
}

static void start_handshake(client *c) {
  char req[256];
  int n = snprintf(req, sizeof req,
                   "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   c->port);
  g_byte_array_append(c->wbuf, (const guint8 *)req, (guint)n);
  c->state = C_HANDSHAKE;
  flush(c);
}

static void open_client(client *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) {
    c->state = C_DEAD;
    dead_count++;
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (!c->rbuf) {
    c->rbuf = g_byte_array_new();
    c->wbuf = g_byte_array_new();
  }
  c->state = C_CONNECTING;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)(c - clients)};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
    mark_dead(c);
}

static void pump(int timeout_ms) {
  struct epoll_event evs[1024];
  int n = epoll_wait(ep, evs, 1024, timeout_ms);
  for (int i = 0; i < n; i++) {
    client *c = &clients[evs[i].data.u32];
    if (c->state == C_DEAD)
      continue;
    if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
      mark_dead(c);
      continue;
    }
    if (c->state == C_CONNECTING && (evs[i].events & EPOLLOUT)) {
      start_handshake(c);
      continue;
    }
    if (evs[i].events & EPOLLOUT)
      flush(c);
    if (c->state != C_DEAD && (evs[i].events & EPOLLIN))
      on_readable(c);
  }
}

static long server_rss_kb(GPid pid) {
  char path[64], *text = NULL;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return -1;
  const char *p = strstr(text, "VmRSS:");
  long kb = p ? strtol(p + 6, NULL, 10) : -1;
  g_free(text);
  return kb;
}

static double server_cpu_s(GPid pid) {
  char path[64], *text = NULL;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return -1;
  const char *p = strrchr(text, ')');
  unsigned long ut = 0, st = 0;
  /* fields after ")": state(3) ... utime(14) stime(15) */
  if (p)
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
  g_free(text);
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (n_samples == 0)
    return 0;
  size_t i = (size_t)(p * (double)(n_samples - 1));
  return samples[i];
}

/* Starts one server with conf; *port is the port it listens on. */
static bool spawn_server(const char *server, const char *conf, const char *redis_url, GPid *pid,
                         unsigned *port) {
  const char *sargv[] = {
      server,  "--config",    conf,      "--log-level", "warn", redis_url ? "--backend" : NULL,
      "redis", "--redis-url", redis_url, NULL};
  int sout = -1;
  GError *err = NULL;
  if (!g_spawn_async_with_pipes(NULL, (char **)(uintptr_t)sargv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, pid, NULL, &sout, NULL, &err)) {
    fprintf(stderr, "spawn %s: %s\n", server, err->message);
    g_error_free(err);
    return false;
  }
  char line[64] = {0};
  size_t got = 0;
  while (got < sizeof line - 1) {
    ssize_t n = read(sout, line + got, 1);
    if (n <= 0 || line[got] == '\n')
      break;
    got++;
  }
  close(sout);
  *port = (unsigned)strtoul(line + 5, NULL, 10);
  if (strncmp(line, "port=", 5) != 0 || !*port) {
    fprintf(stderr, "server did not start\n");
    return false;
  }
  return true;
}

static void send_join(client *c) {
  unsigned idx = (unsigned)(c - clients);
  ml_token_claims cl = {0};
  snprintf(cl.room, sizeof cl.room, "bench-%u", c->room);
  snprintf(cl.name, sizeof cl.name, "client %u", idx);
  cl.role = c->slot == 0 ? ML_TOKEN_ROLE_HOST : ML_TOKEN_ROLE_PARTICIPANT;
  cl.expiry = g_get_real_time() / G_USEC_PER_SEC + 3600;
  char *tok = NULL;
  if (ml_token_issue((const uint8_t *)SECRET, strlen(SECRET), &cl, &tok) != ML_OK) {
    fprintf(stderr, "token: cannot issue\n");
    exit(1);
  }
  char msg[1400];
  int n = snprintf(msg, sizeof msg,
                   "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":"
                   "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}",
                   tok);
  free(tok);
  send_frame(c, 1, msg, (size_t)n);
  c->join_sent = true;
}

/* Churn: a joined participant closes its socket, connects again and joins
 * again once the handshake is done (on_readable). */
static void recycle(client *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  open_count--;
  joined_count--;
  c->joined = c->join_sent = false;
  g_byte_array_set_size(c->rbuf, 0);
  g_byte_array_set_size(c->wbuf, 0);
  c->rejoin_t0 = now_ns();
  churned++;
  open_client(c);
}

int main(int argc, char **argv) {
  unsigned want = 1000, rate = 2000, seconds = 10;
  int workers = -1; /* -1: the daemon's default */
  const char *argv_workers = "";
  const char *redis_url = NULL;
  const char *server = SIGNAL_BIN;
  unsigned instances = 1, churn = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--clients"))
      want = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--rate"))
      rate = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds"))
      seconds = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--workers")) {
      workers = atoi(argv[i + 1]);
      argv_workers = argv[i + 1];
    } else if (!strcmp(argv[i], "--server"))
      server = argv[i + 1];
    else if (!strcmp(argv[i], "--redis"))
      redis_url = argv[i + 1];
    else if (!strcmp(argv[i], "--instances"))
      instances = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--churn"))
      churn = (unsigned)atoi(argv[i + 1]);
  }
  if (want < 2 || want > MAX_CLIENTS || seconds < 1 || seconds > 900 || rate > 1000000 ||
      instances < 1 || instances > MAX_INSTANCES || (instances > 1 && !redis_url) || churn > 1000) {
    fprintf(stderr,
            "usage: %s [--clients 2..%d] [--rate msgs/s] [--seconds 1..900] [--workers W]\n"
            "       [--server PATH] [--redis URL [--instances 1..%d]] [--churn 0..1000/s]\n",
            argv[0], MAX_CLIENTS, MAX_INSTANCES);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want + 64) {
    want = (unsigned)rl.rlim_cur - 64;
    fprintf(stderr, "fd limit %lu: clients capped at %u\n", (unsigned long)rl.rlim_cur, want);
  }

  /* Server config: limits raised for the load, keepalive off (not measured). */
  char *dir = g_dir_make_tmp("mlbench-XXXXXX", NULL);
  char *conf = g_build_filename(dir, "bench.conf", NULL);
  char *wline = workers >= 0 ? g_strdup_printf("workers = %d\n", workers) : g_strdup("");
  char *text = g_strdup_printf("[server]\nlisten = 127.0.0.1:0\n%smax_connections = %u\n"
                               "max_connections_per_ip = %u\nmax_rooms = %u\n"
                               "keepalive_interval = 0\nidle_timeout = 3600\njoin_timeout = 600\n"
                               "[rooms]\nauto_admit = true\n[tokens]\nsecret = %s\n"
                               "[limits]\nmessage_rate = 1000\nmessage_burst = 1000\n"
                               "connect_rate = 0\n[ice]\nstun = stun:127.0.0.1:3478\n",
                               wline, want + 100, want + 100, want, SECRET);
  g_free(wline);
  g_file_set_contents_full(conf, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
  g_free(text);
  GPid spid[MAX_INSTANCES];
  unsigned port[MAX_INSTANCES];
  long rss0[MAX_INSTANCES];
  for (unsigned k = 0; k < instances; k++) {
    if (!spawn_server(server, conf, redis_url, &spid[k], &port[k]))
      return 1;
    rss0[k] = server_rss_kb(spid[k]);
  }

  /* Rooms of 2..8 members, cycling. */
  clients = g_new0(client, want);
  rooms = g_new0(room, want);
  n_clients = want;
  for (unsigned i = 0; i < want;) {
    unsigned size = 2 + n_rooms % 7;
    if (i + size > want)
      size = want - i;
    if (size < 2 && n_rooms > 0) { /* fold a lone last client into the previous room */
      rooms[n_rooms - 1].size += size;
      for (unsigned k = 0; k < size; k++) {
        clients[i + k].room = n_rooms - 1;
        clients[i + k].slot = rooms[n_rooms - 1].size - size + k;
        clients[i + k].port = port[(i + k) % instances];
      }
      break;
    }
    rooms[n_rooms] = (room){i, size};
    for (unsigned k = 0; k < size; k++) {
      clients[i + k].room = n_rooms;
      clients[i + k].slot = k;
      clients[i + k].port = port[(i + k) % instances];
    }
    i += size;
    n_rooms++;
  }
  samples = g_new(double, MAX_SAMPLES);
  ep = epoll_create1(0);

  /* Connect in waves of 256 outstanding handshakes; deadline 120 s. */
  uint64_t t0 = now_ns(), deadline = t0 + 120ull * 1000000000u;
  unsigned next = 0;
  while ((open_count + dead_count < want) && now_ns() < deadline) {
    while (next < want && next - (open_count + dead_count) < 256)
      open_client(&clients[next++]);
    pump(5);
  }
  double t_connect = (double)(now_ns() - t0) / 1e9;

  /* Join: token per client; deadline 120 s. */
  uint64_t t1 = now_ns();
  unsigned next_join = 0;
  deadline = t1 + 120ull * 1000000000u;
  while (joined_count < open_count && now_ns() < deadline) {
    for (unsigned k = 0; k < 256 && next_join < want; next_join++) {
      client *c = &clients[next_join];
      if (c->state != C_OPEN)
        continue;
      send_join(c);
      k++;
    }
    pump(5);
  }
  double t_join = (double)(now_ns() - t1) / 1e9;
  /* Let trailing presence messages settle, bounded. */
  for (int i = 0; i < 50; i++)
    pump(10);
  long rss1[MAX_INSTANCES];
  for (unsigned k = 0; k < instances; k++)
    rss1[k] = server_rss_kb(spid[k]);
  unsigned held = open_count;

  /* Relay phase, with churn when asked (participants only: a leaving host
   * may end its room). */
  n_samples = 0;
  received = sent = 0;
  double cpu0[MAX_INSTANCES];
  for (unsigned k = 0; k < instances; k++)
    cpu0[k] = server_cpu_s(spid[k]);
  uint64_t t2 = now_ns(), end = t2 + (uint64_t)seconds * 1000000000u;
  unsigned rr = 0;
  while (now_ns() < end) {
    uint64_t now = now_ns();
    double since = (double)(now - t2) / 1e9;
    uint64_t due = (uint64_t)(since * rate);
    unsigned budget = 2000; /* per loop turn, so reads keep up */
    while (sent < due && budget-- > 0) {
      client *c = &clients[rr];
      rr = (rr + 1) % want;
      if (c->state != C_OPEN || !c->joined)
        continue;
      room *r = &rooms[c->room];
      client *to = &clients[r->first + (c->slot + 1 + xorshift() % (r->size - 1)) % r->size];
      if (to == c || !to->joined)
        continue;
      char msg[256];
      int n =
          snprintf(msg, sizeof msg,
                   "{\"v\":1,\"type\":\"signal\",\"to\":\"%s\",\"data\":{\"kind\":\"candidate\","
                   "\"t\":%llu}}",
                   to->id, (unsigned long long)now_ns());
      send_frame(c, 1, msg, (size_t)n);
      sent++;
    }
    for (unsigned tries = 0; churned < (uint64_t)(since * churn) && tries < 64; tries++) {
      client *c = &clients[xorshift() % want];
      if (c->slot != 0 && c->state == C_OPEN && c->joined)
        recycle(c);
    }
    pump(1);
  }
  /* Drain in-flight messages and rejoins, bounded to 2 s. */
  uint64_t drain_end = now_ns() + 2000000000u;
  while ((received < sent || rejoined < churned) && now_ns() < drain_end)
    pump(5);
  double elapsed = (double)(now_ns() - t2) / 1e9;
  double cpu_pct[MAX_INSTANCES];
  long rss2[MAX_INSTANCES];
  for (unsigned k = 0; k < instances; k++) {
    cpu_pct[k] = 100.0 * (server_cpu_s(spid[k]) - cpu0[k]) / elapsed;
    rss2[k] = server_rss_kb(spid[k]);
  }
  for (unsigned i = 0; i < want; i++)
    if (clients[i].rejoin_t0 && now_ns() - clients[i].rejoin_t0 > REJOIN_DEADLINE_NS)
      rejoin_failed++;
  qsort(samples, n_samples, sizeof *samples, cmp_double);

  printf("mentorlink-signal load benchmark (loopback, %ld CPU cores)\n",
         sysconf(_SC_NPROCESSORS_ONLN));
  printf("  servers                  %u (%s backend)\n", instances, redis_url ? "redis" : "memory");
  printf("  clients requested        %u in %u rooms of 2-8\n", want, n_rooms);
  printf("  connections held         %u (dead %u)   connect %.2f s, join %.2f s (%u joined)\n",
         held, dead_count, t_connect, t_join, joined_count);
  printf("  relay phase              %u s at %u msg/s offered (server workers: %s)\n", seconds,
         rate, workers >= 0 ? argv_workers : "daemon default");
  printf("  messages sent/relayed    %llu / %llu (%.0f msg/s relayed, errors %llu)\n",
         (unsigned long long)sent, (unsigned long long)received, (double)received / elapsed,
         (unsigned long long)errors_seen);
  if (churn)
    printf("  churn                    %llu left and joined again, %llu rejoined (slowest %.0f ms),"
           " %llu not within 10 s; %llu signals raced a leaving peer (no_such_peer)\n",
           (unsigned long long)churned, (unsigned long long)rejoined, rejoin_max_ms,
           (unsigned long long)rejoin_failed, (unsigned long long)errors_raced);
  printf("  relay latency ms         p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (n=%zu)\n", pct(0.50),
         pct(0.90), pct(0.99), n_samples ? samples[n_samples - 1] : 0.0, n_samples);
  for (unsigned k = 0; k < instances; k++) {
    unsigned mine = (held + instances - 1 - k) / instances;
    printf(
        "  server %u RSS             %.1f MiB idle, %.1f MiB with clients, %.1f MiB at the end\n",
        k + 1, rss0[k] / 1024.0, rss1[k] / 1024.0, rss2[k] / 1024.0);
    printf("  server %u RSS/connection  %.1f KiB (%u connections)\n", k + 1,
           mine ? (double)(rss1[k] - rss0[k]) / mine : 0.0, mine);
    printf("  server %u CPU (relay)     %.1f %% of one core\n", k + 1, cpu_pct[k]);
  }

  /* Graceful drain of all clients: keep reading so their sockets close. */
  bool clean = true;
  for (unsigned k = 0; k < instances; k++)
    kill(spid[k], SIGTERM);
  for (unsigned k = 0; k < instances; k++) {
    uint64_t stop_end = now_ns() + 10000000000ull;
    int status = 0;
    pid_t w = 0;
    while ((w = waitpid(spid[k], &status, WNOHANG)) == 0 && now_ns() < stop_end)
      pump(10);
    if (w == 0) {
      kill(spid[k], SIGKILL);
      waitpid(spid[k], &status, 0);
    }
    clean = clean && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  printf("  server exit              %s after SIGTERM drain\n", clean ? "clean" : "NOT clean");
  g_unlink(conf);
  g_rmdir(dir);
  return 0;
}
