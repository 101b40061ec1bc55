/* engine.call_wire: what a real 1:1 call puts on the wire.
 *
 * dumpcap captures all UDP on lo while an embedded signaling server and two
 * real `mentorlink join --headless --json --video-source test --audio-source
 * test --local-address 127.0.0.1 --chat ...` processes hold a call
 * (client/harness/demo_report.c runs them, as in engine.call_loopback). The signaling
 * WebSocket is TCP and outside the capture filter. Every captured UDP payload
 * must be
 *   (1) ours: first byte c9 (handshake) or ca (transport), at most
 *       ML_DATAGRAM_MAX bytes and at least its header (and tag), or
 *   (2) STUN (RFC 5389): top two bits 00, magic cookie at offset 4, the
 *       length field equal to the rest of the datagram;
 * anything else is printed and fails the test. Also: no payload contains a
 * chat line, none is an RTP or RTCP header in the clear (version 2, our
 * payload types or RTCP types, our fixed SSRCs), our SSRCs' bytes appear
 * nowhere more often than chance allows, and the bytes after the transport
 * headers look random (entropy > 7.5 bits/byte).
 *
 * Tone samples: any unframed payload (raw RTP, PCM, Opus) would already fail
 * (1)-(2); the entropy check adds that the framed bytes are not plaintext
 * behind our header (PCM or an Opus stream of a steady tone is far from 8
 * bits/byte).
 *
 * The call runs in a private network namespace when the kernel lets us
 * (root): its lo carries only this call, not the UDP of tests running
 * alongside. Otherwise the shared lo is captured (a note says so).
 * Every wait is bounded; dumpcap's readiness is its "File: ..." line. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "demo_report.h"
#include "check.h"
#include "ml/datagram.h"
#include "ml/media.h"

#ifndef MENTORLINK_BIN
#error "MENTORLINK_BIN must name the mentorlink binary"
#endif

/* Sanitizer builds run the pipelines 5-10x slower: a longer call there. */
#ifdef ML_CALL_TEST_SECONDS
#define CALL_SECONDS ((double)ML_CALL_TEST_SECONDS)
#else
#define CALL_SECONDS 6.0
#endif
#define DUMPCAP_READY_S 20 /* until "File: ..." */
#define DUMPCAP_STOP_S 10  /* after SIGINT, until it exits */
#define MIN_TRANSPORT 200
#define MIN_ENTROPY 7.5
#define MAX_SSRC_HITS 3 /* by chance: ~3 x bytes / 2^32, well below 1 here */
#define MAX_PRINTED 20

static const char canary[] = "wire-canary-zq7781";
static const char *const lines_a[] = {"wire-canary-zq7781 from the mentor: the tone is 440 Hz",
                                      NULL};
static const char *const lines_b[] = {"wire-canary-zq7781 from the mentee, second side", NULL};

/* ---- a private network namespace with lo up ---- */

static bool isolate(void) {
  if (unshare(CLONE_NEWNET) != 0)
    return false;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  g_strlcpy(ifr.ifr_name, "lo", sizeof ifr.ifr_name);
  bool ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP;
  ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  if (s >= 0)
    close(s);
  return ok;
}

/* ---- dumpcap ---- */

typedef struct capture {
  GSubprocess *proc;
  GDataInputStream *err;
  bool ready, err_eof, exited;
  GString *log;
} capture;

static void on_cap_line(GObject *src, GAsyncResult *res, gpointer user) {
  capture *c = user;
  char *line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(src), res, NULL, NULL);
  if (!line) {
    c->err_eof = true;
    return;
  }
  if (g_str_has_prefix(line, "File: "))
    c->ready = true;
  if (c->log->len < 8192)
    g_string_append_printf(c->log, "  dumpcap: %s\n", line);
  g_free(line);
  g_data_input_stream_read_line_async(c->err, G_PRIORITY_DEFAULT, NULL, on_cap_line, c);
}

static void on_cap_exit(GObject *src, GAsyncResult *res, gpointer user) {
  capture *c = user;
  (void)g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL);
  c->exited = true;
}

static gboolean wake(gpointer user) {
  (void)user;
  return G_SOURCE_CONTINUE;
}

/* Iterates the default context until done(c) or the timeout; returns done(c). */
static bool wait_for(bool (*done)(const capture *), const capture *c, double seconds) {
  int64_t deadline = g_get_monotonic_time() + (int64_t)(seconds * 1e6);
  GSource *tick = g_timeout_source_new(100);
  g_source_set_callback(tick, wake, NULL, NULL);
  g_source_attach(tick, NULL);
  while (!done(c) && g_get_monotonic_time() < deadline)
    g_main_context_iteration(NULL, TRUE);
  g_source_destroy(tick);
  g_source_unref(tick);
  return done(c);
}

/* Capturing, or gone (an error: its message is in the log). */
static bool started(const capture *c) { return c->ready || (c->exited && c->err_eof); }
static bool stopped(const capture *c) { return c->exited && c->err_eof; }
static bool exited(const capture *c) { return c->exited; }

static void child_setup(gpointer user) {
  (void)user;
  prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
}

static bool capture_start(capture *c, const char *dumpcap, const char *file) {
  /* -q: no progress lines; -P: classic pcap; -a: a backstop. */
  const char *argv[] = {dumpcap, "-q", "-i", "lo", "-f",          "udp and not port 53",
                        "-P",    "-w", file, "-a", "duration:60", NULL};
  GError *err = NULL;
  c->log = g_string_new(NULL);
  GSubprocessLauncher *l =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup(l, child_setup, NULL, NULL);
  c->proc = g_subprocess_launcher_spawnv(l, argv, &err);
  g_object_unref(l);
  if (!c->proc) {
    fprintf(stderr, "FAIL: cannot start %s: %s\n", dumpcap, err->message);
    g_error_free(err);
    return false;
  }
  c->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(c->proc));
  g_data_input_stream_read_line_async(c->err, G_PRIORITY_DEFAULT, NULL, on_cap_line, c);
  g_subprocess_wait_async(c->proc, NULL, on_cap_exit, c);
  if (!wait_for(started, c, DUMPCAP_READY_S) || !c->ready) {
    fprintf(stderr, "FAIL: dumpcap did not start capturing (waited up to %d s)\n%s",
            DUMPCAP_READY_S, c->log->str);
    return false;
  }
  return true;
}

static void capture_stop(capture *c) {
  if (!c->proc)
    return;
  if (!c->exited)
    g_subprocess_send_signal(c->proc, SIGINT); /* flushes and closes the file */
  if (!wait_for(stopped, c, DUMPCAP_STOP_S)) {
    fprintf(stderr, "dumpcap did not stop within %d s; killing it\n", DUMPCAP_STOP_S);
    g_subprocess_force_exit(c->proc);
    (void)wait_for(exited, c, 3);
  }
  g_clear_object(&c->err);
  while (g_main_context_iteration(NULL, FALSE)) /* the cancelled read's callback */
    ;
  g_clear_object(&c->proc);
}

/* ---- classification ---- */

typedef struct tally {
  unsigned long handshake, transport, stun, other, rtp_clear, chat_hits, ssrc_hits, packets;
  unsigned long long cipher_bytes, hist[256];
} tally;

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool our_ssrc(uint32_t s) {
  return s == ML_MEDIA_SSRC_VIDEO || s == ML_MEDIA_SSRC_VIDEO_RTX || s == ML_MEDIA_SSRC_AUDIO;
}

static void show(const char *what, unsigned sport, unsigned dport, const uint8_t *p, size_t n) {
  fprintf(stderr, "  %s: udp %u -> %u, %zu bytes:", what, sport, dport, n);
  for (size_t i = 0; i < n && i < 16; i++)
    fprintf(stderr, " %02x", p[i]);
  fputc('\n', stderr);
}

static void classify(tally *t, unsigned sport, unsigned dport, const uint8_t *p, size_t n) {
  bool ours = n >= 1 && n <= ML_DATAGRAM_MAX &&
              ((p[0] == 0xc9 && n > ML_DATAGRAM_HANDSHAKE_HEADER_LEN) ||
               (p[0] == 0xca && n >= ML_DATAGRAM_TRANSPORT_OVERHEAD));
  bool stun = n >= 20 && (p[0] & 0xc0) == 0 && be32(p + 4) == 0x2112A442u &&
              be16(p + 2) == n - 20 && be16(p + 2) % 4 == 0;
  if (ours && p[0] == 0xc9) {
    t->handshake++;
  } else if (ours) {
    t->transport++;
    for (size_t i = ML_DATAGRAM_TRANSPORT_HEADER_LEN; i < n; i++)
      t->hist[p[i]]++;
    t->cipher_bytes += n - ML_DATAGRAM_TRANSPORT_HEADER_LEN;
  } else if (stun) {
    t->stun++;
  } else if (t->other++ < MAX_PRINTED) {
    show("other", sport, dport, p, n);
  }
  /* RTP (PT 96/97/111, SSRC at 8) or RTCP (PT 200-206, SSRC at 4) in the clear. */
  if (n >= 12 && (p[0] & 0xc0) == 0x80 &&
      ((((p[1] & 0x7f) == ML_MEDIA_PT_VP8 || (p[1] & 0x7f) == ML_MEDIA_PT_RTX ||
         (p[1] & 0x7f) == ML_MEDIA_PT_OPUS) &&
        our_ssrc(be32(p + 8))) ||
       (p[1] >= 200 && p[1] <= 206 && our_ssrc(be32(p + 4))))) {
    if (t->rtp_clear++ < MAX_PRINTED)
      show("RTP/RTCP in the clear", sport, dport, p, n);
  }
  for (size_t i = 0; i + 4 <= n; i++)
    if (our_ssrc(be32(p + i)) && t->ssrc_hits++ < MAX_PRINTED)
      fprintf(stderr,
              "  note: an SSRC's bytes at offset %zu of a %zu-byte payload (udp %u -> %u)\n", i, n,
              sport, dport);
  const char *const *all[] = {lines_a, lines_b};
  bool hit = memmem(p, n, canary, strlen(canary)) != NULL;
  for (int s = 0; s < 2 && !hit; s++)
    for (size_t j = 0; all[s][j] && !hit; j++)
      hit = memmem(p, n, all[s][j], strlen(all[s][j])) != NULL;
  if (hit && t->chat_hits++ < MAX_PRINTED)
    show("chat text", sport, dport, p, n);
}

/* One captured frame: Ethernet (lo) or Linux cooked, IPv4 or IPv6, UDP. */
static void take_frame(tally *t, uint32_t linktype, const uint8_t *f, size_t n) {
  size_t off;
  uint16_t ethertype;
  if (linktype == 1 && n >= 14) { /* DLT_EN10MB */
    off = 14;
    ethertype = be16(f + 12);
  } else if (linktype == 113 && n >= 16) { /* DLT_LINUX_SLL */
    off = 16;
    ethertype = be16(f + 14);
  } else {
    t->other++;
    return;
  }
  const uint8_t *ip = f + off;
  size_t iplen = n - off, udp;
  if (ethertype == 0x0800 && iplen >= 20 && (ip[0] >> 4) == 4 && ip[9] == 17 &&
      (be16(ip + 6) & 0x3fff) == 0) { /* not a fragment */
    udp = (size_t)(ip[0] & 15) * 4;
  } else if (ethertype == 0x86dd && iplen >= 40 && (ip[0] >> 4) == 6 && ip[6] == 17) {
    udp = 40;
  } else {
    if (t->other++ < MAX_PRINTED)
      show("not a whole UDP datagram", 0, 0, f, n);
    return;
  }
  if (iplen < udp + 8 || be16(ip + udp + 4) < 8 || iplen < udp + be16(ip + udp + 4)) {
    if (t->other++ < MAX_PRINTED)
      show("truncated UDP datagram", 0, 0, f, n);
    return;
  }
  t->packets++;
  classify(t, be16(ip + udp), be16(ip + udp + 2), ip + udp + 8, be16(ip + udp + 4) - 8u);
}

static bool read_pcap(const char *file, tally *t) {
  gchar *buf = NULL;
  gsize len = 0;
  GError *err = NULL;
  if (!g_file_get_contents(file, &buf, &len, &err)) {
    fprintf(stderr, "FAIL: cannot read the capture: %s\n", err->message);
    g_error_free(err);
    return false;
  }
  const uint8_t *p = (const uint8_t *)buf;
  uint32_t magic = 0, linktype = 0;
  if (len >= 24) {
    memcpy(&magic, p, 4);
    memcpy(&linktype, p + 20, 4);
  }
  if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) { /* written on this host: native order */
    fprintf(stderr, "FAIL: %s is not a pcap file\n", file);
    g_free(buf);
    return false;
  }
  size_t off = 24;
  while (off + 16 <= len) {
    uint32_t caplen;
    memcpy(&caplen, p + off + 8, 4);
    if (caplen > len - off - 16)
      break; /* a record cut short: the writer was killed */
    take_frame(t, linktype, p + off + 16, caplen);
    off += 16 + (size_t)caplen;
  }
  g_free(buf);
  return true;
}

static double entropy(const tally *t) {
  double h = 0;
  for (int i = 0; i < 256; i++)
    if (t->hist[i]) {
      double q = (double)t->hist[i] / (double)t->cipher_bytes;
      h -= q * log2(q);
    }
  return h;
}

int main(void) {
  if (sodium_init() < 0)
    return 1;
  g_autofree char *dumpcap = g_find_program_in_path("dumpcap");
  if (!dumpcap) {
    fprintf(stderr, "FAIL: dumpcap not found: this test captures the call's UDP with dumpcap "
                    "(Debian: the tshark package; packaging/install-deps.sh installs it)\n");
    return 1;
  }
  bool isolated = isolate();
  if (!isolated)
    printf("note: no private network namespace (%s); capturing the shared lo, where other "
           "programs' UDP would count as \"other\"\n",
           g_strerror(errno));
  g_autofree char *dir = g_dir_make_tmp("ml-call-wire-XXXXXX", NULL);
  if (!dir) {
    fprintf(stderr, "FAIL: no temporary directory\n");
    return 1;
  }
  g_autofree char *file = g_build_filename(dir, "call.pcap", NULL);
  capture cap;
  memset(&cap, 0, sizeof cap);
  ml_demo_report rep;
  memset(&rep, 0, sizeof rep);
  bool called = false;
  if (capture_start(&cap, dumpcap, file)) {
    ml_demo_options opt = {.exe = MENTORLINK_BIN,
                           .duration_s = CALL_SECONDS,
                           .chat = {lines_a, lines_b},
                           .verbose = g_getenv("ML_TEST_VERBOSE") != NULL};
    called = ml_demo_collect(&opt, &rep) == 0;
  }
  capture_stop(&cap);
  if (!called) {
    fprintf(stderr, "FAIL: the capture or the call could not be set up\n");
    g_unlink(file);
    g_rmdir(dir);
    g_string_free(cap.log, TRUE);
    return 1;
  }
  fputs(cap.log->str, stdout);
  g_string_free(cap.log, TRUE);

  for (int i = 0; i < 2; i++) {
    const ml_demo_side *s = &rep.side[i];
    printf("%s: exit %d, secure at %lld ms, %llu video frames decoded, %zu chat line(s) in, %zu "
           "receipt(s)\n",
           s->name, s->exit_status, (long long)s->secure_ms,
           (unsigned long long)s->video_frames_decoded, s->n_chat_rx, s->receipts);
    CHECK(s->exit_status == 0 && s->joined && s->secure,
          "%s: exit status %d, joined %d, secure %d (first error: %s)", s->name, s->exit_status,
          s->joined, s->secure, s->first_error);
    CHECK(s->n_chat_rx == 1 && s->receipts == 1,
          "%s: %zu chat line(s) in, %zu receipt(s): the chat did not cross the wire", s->name,
          s->n_chat_rx, s->receipts);
  }
  tally t;
  memset(&t, 0, sizeof t);
  bool parsed = read_pcap(file, &t);
  g_unlink(file);
  g_rmdir(dir);
  CHECK(parsed, "the capture was read");
  double h = t.cipher_bytes ? entropy(&t) : 0;
  printf("captured %lu UDP datagrams on lo%s: ours %lu handshake + %lu transport, STUN %lu, "
         "other %lu\n",
         t.packets, isolated ? " (private namespace)" : "", t.handshake, t.transport, t.stun,
         t.other);
  printf("RTP/RTCP headers in the clear %lu, payloads with chat text %lu, SSRC byte patterns "
         "anywhere %lu; transport ciphertext %llu bytes, entropy %.4f bits/byte\n",
         t.rtp_clear, t.chat_hits, t.ssrc_hits, t.cipher_bytes, h);
  CHECK(t.other == 0, "%lu datagram(s) neither ours nor STUN", t.other);
  CHECK(t.handshake >= 3, "%lu handshake datagrams (Noise XX has 3 messages)", t.handshake);
  CHECK(t.transport > MIN_TRANSPORT, "only %lu transport datagrams captured", t.transport);
  CHECK(t.stun > 0, "no STUN captured (ICE connectivity checks)");
  CHECK(t.rtp_clear == 0, "%lu RTP/RTCP headers in the clear", t.rtp_clear);
  CHECK(t.chat_hits == 0, "%lu payloads carry chat text", t.chat_hits);
  CHECK(t.ssrc_hits <= MAX_SSRC_HITS, "our SSRCs' bytes %lu times, more than chance", t.ssrc_hits);
  CHECK(h > MIN_ENTROPY, "transport bytes after the header: %.4f bits/byte", h);
  ml_demo_report_clear(&rep);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("engine.call_wire: all checks passed\n");
  return 0;
}
