/* bench_media — figures for the media path of a call, in one process.
 *
 * Each run: a send pipeline (videotestsrc + audiotestsrc, VP8 + Opus) starts,
 * and after one second a receive branch joins, as a peer whose secure channel
 * just came up; every packet is sealed and opened by a real ml_channel pair.
 * Printed per run and over all runs (median, p95):
 *   - first frame: receive branch start -> first decoded frame;
 *   - capture -> decoded: the sender's capture time, carried by the RTCP SR
 *     mapping, to the decoded frame (one clock: one process);
 *   - CPU: user + system time of the process (sender and receiver together)
 *     in percent of one core, over the run.
 *
 * Usage: bench_media [runs [seconds [width height]]]   (default 5 10 640 360)
 * A program, not a test: the figures depend on the machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib.h>
#include <gst/gst.h>
#include <sodium.h>

#include "ml/channel.h"
#include "ml/media.h"

typedef struct run {
  GMainLoop *loop;
  ml_channel *tx_chan, *rx_chan;
  ml_media_sender *tx;
  ml_media_receiver *rx;
  uint64_t polled_seq;
  GArray *latency_ms; /* of double */
  unsigned errors;
} run;

static void on_packet(ml_inner_type type, const uint8_t *data, size_t len, void *user) {
  run *r = user;
  uint8_t wire[ML_DATAGRAM_MAX], plain[ML_DATAGRAM_MAX];
  size_t wire_len, plain_len;
  ml_inner_type got;
  if (r->rx == NULL)
    return; /* nobody has joined yet */
  if (ml_channel_seal(r->tx_chan, type, data, len, wire, sizeof wire, &wire_len) != ML_OK ||
      ml_channel_open(r->rx_chan, wire, wire_len, &got, plain, sizeof plain, &plain_len) != ML_OK ||
      ml_media_receiver_push(r->rx, got, plain, plain_len) != ML_OK)
    r->errors++;
}

static void on_rtcp(ml_inner_type type, const uint8_t *data, size_t len, void *user) {
  run *r = user;
  uint8_t wire[ML_DATAGRAM_MAX], plain[ML_DATAGRAM_MAX];
  size_t wire_len, plain_len;
  ml_inner_type got;
  if (ml_channel_seal(r->rx_chan, type, data, len, wire, sizeof wire, &wire_len) != ML_OK ||
      ml_channel_open(r->tx_chan, wire, wire_len, &got, plain, sizeof plain, &plain_len) != ML_OK ||
      ml_media_sender_push_rtcp(r->tx, plain, plain_len, NULL) != ML_OK)
    r->errors++;
}

static void on_error(int err, const char *message, void *user) {
  run *r = user;
  fprintf(stderr, "media error %s: %s\n", ml_strerror(err), message);
  r->errors++;
}

static gboolean join(gpointer data) {
  run *r = data;
  ml_media_receiver_config cfg = {
      .headless = true, .on_rtcp = on_rtcp, .on_error = on_error, .user = r};
  if (ml_media_receiver_new(&r->rx, g_main_context_get_thread_default(), &cfg) != ML_OK) {
    r->errors++;
    g_main_loop_quit(r->loop);
  }
  return G_SOURCE_REMOVE;
}

static gboolean poll_frame(gpointer data) {
  run *r = data;
  ml_media_frame *f = NULL;
  if (r->rx == NULL || ml_media_receiver_latest_frame(r->rx, r->polled_seq, &f) != ML_OK)
    return G_SOURCE_CONTINUE;
  ml_media_frame_info fi;
  ml_media_frame_get_info(f, &fi);
  r->polled_seq = fi.seq;
  if (fi.capture_time_us != 0) {
    double ms = (double)(fi.decoded_time_us - fi.capture_time_us) / 1000.0;
    g_array_append_val(r->latency_ms, ms);
  }
  ml_media_frame_free(f);
  return G_SOURCE_CONTINUE;
}

static gboolean quit(gpointer data) {
  g_main_loop_quit(((run *)data)->loop);
  return G_SOURCE_REMOVE;
}

static void add_timeout(GMainContext *ctx, unsigned ms, GSourceFunc fn, run *r) {
  GSource *s = g_timeout_source_new(ms);
  g_source_set_callback(s, fn, r, NULL);
  g_source_attach(s, ctx);
  g_source_unref(s);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double percentile(GArray *a, unsigned p) {
  if (a->len == 0)
    return -1;
  qsort(a->data, a->len, sizeof(double), cmp_double);
  return g_array_index(a, double, (a->len - 1) * p / 100);
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (sodium_init() < 0)
    return 1;
  unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 5;
  unsigned seconds = argc > 2 ? (unsigned)atoi(argv[2]) : 10;
  unsigned width = argc > 4 ? (unsigned)atoi(argv[3]) : 640;
  unsigned height = argc > 4 ? (unsigned)atoi(argv[4]) : 360;
  if (runs == 0 || seconds == 0 || width == 0 || height == 0) {
    fprintf(stderr, "usage: bench_media [runs [seconds [width height]]]\n");
    return 2;
  }
  GArray *first = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *latency = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *cpu = g_array_new(FALSE, FALSE, sizeof(double));
  int status = 0;
  printf("bench_media: %u runs of %u s at %ux%u@30, VP8 800 kbps + Opus 32 kbps\n", runs, seconds,
         width, height);
  for (unsigned i = 0; i < runs; i++) {
    run r = {0};
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    r.loop = g_main_loop_new(ctx, FALSE);
    r.latency_ms = g_array_new(FALSE, FALSE, sizeof(double));
    uint8_t k1[ML_NOISE_KEY_LEN], k2[ML_NOISE_KEY_LEN];
    randombytes_buf(k1, sizeof k1);
    randombytes_buf(k2, sizeof k2);
    if (ml_channel_new(&r.tx_chan, k1, k2, NULL) != ML_OK ||
        ml_channel_new(&r.rx_chan, k2, k1, NULL) != ML_OK)
      return 1;
    ml_media_sender_config cfg = {.video = ML_MEDIA_VIDEO_TEST,
                                  .audio = ML_MEDIA_AUDIO_TEST,
                                  .width = width,
                                  .height = height,
                                  .fps = 30,
                                  .on_packet = on_packet,
                                  .on_error = on_error,
                                  .user = &r};
    double wall0 = (double)g_get_monotonic_time() / 1e6, cpu0 = cpu_seconds();
    if (ml_media_sender_new(&r.tx, ctx, &cfg) != ML_OK) {
      fprintf(stderr, "cannot start the sender\n");
      return 1;
    }
    add_timeout(ctx, 1000, join, &r);
    add_timeout(ctx, 5, poll_frame, &r);
    add_timeout(ctx, 1000 + seconds * 1000, quit, &r);
    g_main_loop_run(r.loop);
    double cpu_pct =
        100.0 * (cpu_seconds() - cpu0) / ((double)g_get_monotonic_time() / 1e6 - wall0);

    ml_media_sender_stats ts;
    ml_media_receiver_stats rs = {0};
    ml_media_sender_get_stats(r.tx, &ts);
    if (r.rx != NULL)
      ml_media_receiver_get_stats(r.rx, &rs);
    double ff = (double)rs.first_frame_ms;
    printf("run %u: first frame %lld ms; capture->decoded median %.1f ms, p95 %.1f ms (%u "
           "frames); decoded %llu of %llu encoded, %.1f fps; CPU %.0f %% of a core; %u errors\n",
           i + 1, (long long)rs.first_frame_ms, percentile(r.latency_ms, 50),
           percentile(r.latency_ms, 95), r.latency_ms->len,
           (unsigned long long)rs.video_frames_decoded, (unsigned long long)ts.video_frames_encoded,
           rs.fps, cpu_pct, r.errors);
    if (rs.first_frame_ms >= 0)
      g_array_append_val(first, ff);
    g_array_append_vals(latency, r.latency_ms->data, r.latency_ms->len);
    g_array_append_val(cpu, cpu_pct);
    if (r.errors != 0)
      status = 1;

    ml_media_sender_free(r.tx);
    ml_media_receiver_free(r.rx);
    ml_channel_free(r.tx_chan);
    ml_channel_free(r.rx_chan);
    g_array_unref(r.latency_ms);
    g_main_loop_unref(r.loop);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
  }
  printf("summary: first frame after join median %.0f ms, p95 %.0f ms; capture->decoded median "
         "%.1f ms, p95 %.1f ms; CPU (sender + receiver, one process) median %.0f %% of a core\n",
         percentile(first, 50), percentile(first, 95), percentile(latency, 50),
         percentile(latency, 95), percentile(cpu, 50));
  g_array_unref(first);
  g_array_unref(latency);
  g_array_unref(cpu);
  gst_deinit();
  return status;
}
