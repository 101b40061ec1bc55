/* bench_call — figures for a real 1:1 call on loopback, two processes.
 *
 * Each run: an embedded signaling server on 127.0.0.1 (open mode, auto-admit,
 * as `mentorlink demo` does) and two `mentorlink join --headless --json
 * --video-source test --audio-source test --duration N` children in one room.
 * From each child's JSON stats lines (about the other participant):
 *   - first frame: first_frame_since_start_ms (ml_call_new in that process,
 *     i.e. join, to the first decoded remote frame);
 *   - latency: e2e_latency_ms (capture -> decoded) when `join` prints it;
 *     otherwise only latency_ms exists, the receiver's current jitter-buffer
 *     latency (the delay rtpjitterbuffer is set to hold packets), which is a
 *     part of capture -> decoded, not all of it (it leaves out capture,
 *     encode, packetising, sealing, the network hop, depacketising, decode);
 *   - frames/s: decoded frames per second between the first and the last
 *     per-second stats line that had decoded video;
 * and from /proc/<pid>/stat (utime + stime) the CPU of each process in
 * percent of one core, over the call (first to last stats line) and over the
 * whole process (spawn to the last sample before it exited).
 *
 * The test source's format: the engine's default (640x360 at 30 fps, what
 * `join` sends without --video-size), the format the figures are asked for.
 *
 * Usage: bench_call [runs [seconds]]   (default 5 6; runs 1-50, seconds 2-60)
 * A program, not a test: the figures depend on the machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "child.h"
#include "local_call.h"

#ifndef MENTORLINK_BIN
#error "MENTORLINK_BIN must name the mentorlink binary"
#endif

#define EXTRA_WAIT_S 20 /* beyond --duration: joining, handshake, leaving */
#define SAMPLE_MS 100

typedef struct side {
  const char *name;
  ml_child *proc;
  int exit_status; /* -1: killed or did not exit */
  /* CPU, in clock ticks, sampled from /proc/<pid>/stat. */
  int64_t spawn_us;
  int64_t last_sample_us;
  long long last_ticks;
  int64_t call_first_us, call_last_us; /* first / last non-final stats line */
  long long call_first_ticks, call_last_ticks;
  /* From the stats lines. */
  int64_t first_frame_since_start_ms, first_frame_ms;
  GArray *jb_latency_ms;  /* of double: latency_ms of every stats line with video */
  GArray *e2e_latency_ms; /* of double: e2e_latency_ms, when printed */
  int64_t dec_first, dec_last, dec_first_ms, dec_last_ms;
  uint64_t frames_decoded, frames_sent;
  bool have_stats, secure;
  int64_t secure_ms; /* t_ms of the verification event: join -> Noise handshake done */
} side;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest rank; -1 for an empty array. Sorts a. */
static double percentile(GArray *a, unsigned p) {
  if (a->len == 0)
    return -1;
  qsort(a->data, a->len, sizeof(double), cmp_double);
  size_t rank = (size_t)((p * (size_t)a->len + 99) / 100);
  if (rank < 1)
    rank = 1;
  return g_array_index(a, double, rank - 1);
}

/* utime + stime of pid in clock ticks, or -1 (gone). */
static long long proc_ticks(int pid) {
  char path[64], buf[1024];
  g_snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p)
    return -1;
  unsigned long long ut = 0, st = 0;
  /* After ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt
   * majflt cmajflt utime(14) stime(15). */
  if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  return (long long)(ut + st);
}

static void sample(side *s) {
  if (!s->proc || ml_child_exited(s->proc) || ml_child_pid(s->proc) <= 0)
    return;
  long long t = proc_ticks(ml_child_pid(s->proc));
  if (t >= 0) {
    s->last_ticks = t;
    s->last_sample_us = g_get_monotonic_time();
  }
}

static void take_line(void *user, const char *line, const ml_event *ev) {
  (void)line;
  side *s = user;
  if (!ev)
    return;
  if (ev->type == ML_EVENT_VERIFICATION) {
    s->secure = true;
    s->secure_ms = ev->t_ms;
    return;
  }
  if (ev->type != ML_EVENT_STATS)
    return;
  const ml_event_stats *st = &ev->stats;
  s->have_stats = true;
  int64_t t_ms = ev->t_ms;
  int64_t dec = (int64_t)st->video_frames_decoded;
  int64_t ff = st->first_frame_since_start_ms;
  if (ff >= 0 && s->first_frame_since_start_ms < 0) {
    s->first_frame_since_start_ms = ff;
    s->first_frame_ms = st->first_frame_ms;
  }
  s->frames_decoded = st->video_frames_decoded;
  s->frames_sent = st->video_frames_sent;
  if (st->final)
    return; /* may come after the sender stopped: not part of the steady call */
  /* CPU over the call: sampled as each per-second stats line arrives. */
  long long ticks = ml_child_exited(s->proc) ? -1 : proc_ticks(ml_child_pid(s->proc));
  if (ticks >= 0) {
    int64_t now = g_get_monotonic_time();
    if (s->call_first_us == 0) {
      s->call_first_us = now;
      s->call_first_ticks = ticks;
    }
    s->call_last_us = now;
    s->call_last_ticks = ticks;
  }
  if (dec > 0 && t_ms >= 0) {
    if (s->dec_first < 0) {
      s->dec_first = dec;
      s->dec_first_ms = t_ms;
    }
    s->dec_last = dec;
    s->dec_last_ms = t_ms;
    double jb = (double)st->latency_ms;
    if (jb >= 0)
      g_array_append_val(s->jb_latency_ms, jb);
    double e2e = st->e2e_latency_ms;
    if (e2e >= 0)
      g_array_append_val(s->e2e_latency_ms, e2e);
  }
}

static bool spawn(side *s, const char *url, const char *room, const char *secret,
                  const char *data_dir, unsigned seconds) {
  char dur[16];
  g_snprintf(dur, sizeof dur, "%u", seconds);
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  ml_local_join_args(argv, MENTORLINK_BIN, url, room, s->name, TRUE);
  g_ptr_array_add(argv, g_strdup("--duration"));
  g_ptr_array_add(argv, g_strdup(dur));
  g_ptr_array_add(argv, NULL);
  g_autofree char *data_env = g_strconcat("XDG_DATA_HOME=", data_dir, NULL);
  g_autofree char *secret_env = g_strconcat("MENTORLINK_ROOM_SECRET=", secret, NULL);
  const char *env[] = {data_env, "MENTORLINK_PASSPHRASE", secret_env, NULL};
  ml_child_options co = {.name = s->name,
                         .argv = (const char *const *)argv->pdata,
                         .env = env,
                         .on_line = take_line,
                         .user = s};
  s->spawn_us = g_get_monotonic_time();
  s->proc = ml_child_spawn(&co);
  g_ptr_array_free(argv, TRUE);
  return s->proc != NULL;
}

static gboolean on_tick(gpointer user) {
  side *s = user;
  sample(&s[0]);
  sample(&s[1]);
  return G_SOURCE_CONTINUE;
}

static double pct_core(long long ticks, int64_t us) {
  long hz = sysconf(_SC_CLK_TCK);
  if (ticks < 0 || us <= 0 || hz <= 0)
    return -1;
  return 100.0 * ((double)ticks / (double)hz) / ((double)us / 1e6);
}

/* One call; fills s[0] (mentor), s[1] (mentee). Returns 0 when both
 * children ran and exited with status 0. */
static int one_call(unsigned seconds, side s[2]) {
  ml_local_server ls;
  if (ml_local_server_start(&ls, "bench_call") != 0)
    return -1;
  const char *url = ls.url;
  char room[32], secret[40];
  g_snprintf(room, sizeof room, "bench-%08x", g_random_int());
  g_snprintf(secret, sizeof secret, "%08x%08x%08x", g_random_int(), g_random_int(), g_random_int());
  char *dir = g_dir_make_tmp("mentorlink-bench-XXXXXX", NULL);
  size_t started = 0;
  for (int i = 0; dir && i < 2; i++) {
    g_autofree char *data = g_build_filename(dir, s[i].name, NULL);
    if (g_mkdir_with_parents(data, 0700) != 0 || !spawn(&s[i], url, room, secret, data, seconds))
      break;
    started++;
  }
  ml_child *procs[2] = {s[0].proc, s[1].proc};
  /* CPU samples every SAMPLE_MS while the children run. */
  GSource *tick = g_timeout_source_new(SAMPLE_MS);
  g_source_set_callback(tick, on_tick, s, NULL);
  g_source_attach(tick, g_main_context_get_thread_default());
  if (started == 2) {
    int64_t deadline = g_get_monotonic_time() + (int64_t)(seconds + EXTRA_WAIT_S) * 1000000;
    if (!ml_child_wait(procs, 2, deadline))
      fprintf(stderr, "bench_call: the participants did not finish in time; they were stopped\n");
  } else {
    (void)ml_child_wait(procs, started, g_get_monotonic_time()); /* stops them */
  }
  g_source_destroy(tick);
  g_source_unref(tick);
  for (int i = 0; i < 2; i++) {
    if (s[i].proc) {
      s[i].exit_status = ml_child_status(s[i].proc);
      ml_child_print_tail(s[i].proc);
    }
    ml_child_free(s[i].proc);
    s[i].proc = NULL;
  }
  int rc = started == 2 && s[0].exit_status == 0 && s[1].exit_status == 0 ? 0 : -1;
  while (g_main_context_iteration(g_main_context_get_thread_default(), FALSE))
    ;
  if (dir)
    ml_remove_tree(dir);
  g_free(dir);
  ml_local_server_stop(&ls);
  return rc;
}

static void side_init(side *s, const char *name) {
  memset(s, 0, sizeof *s);
  s->name = name;
  s->exit_status = -1;
  s->first_frame_since_start_ms = -1;
  s->first_frame_ms = -1;
  s->secure_ms = -1;
  s->dec_first = -1;
  s->jb_latency_ms = g_array_new(FALSE, FALSE, sizeof(double));
  s->e2e_latency_ms = g_array_new(FALSE, FALSE, sizeof(double));
}

static void side_clear(side *s) {
  g_array_free(s->jb_latency_ms, TRUE);
  g_array_free(s->e2e_latency_ms, TRUE);
}

static void append_all(GArray *dst, GArray *src) {
  if (src->len)
    g_array_append_vals(dst, src->data, src->len);
}

static void print_pair(const char *what, GArray *a, const char *unit) {
  if (a->len == 0) {
    printf("  %-44s n/a (no samples)\n", what);
    return;
  }
  unsigned n = a->len;
  double med = percentile(a, 50), p95 = percentile(a, 95);
  printf("  %-44s median %7.1f %s  p95 %7.1f %s  (n=%u)\n", what, med, unit, p95, unit, n);
}

int main(int argc, char **argv) {
  unsigned runs = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 5;
  unsigned seconds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 6;
  if (argc > 3 || runs < 1 || runs > 50 || seconds < 2 || seconds > 60) {
    fprintf(stderr, "usage: bench_call [runs [seconds]]   (runs 1-50, seconds 2-60)\n");
    return 2;
  }
  if (!g_file_test(MENTORLINK_BIN, G_FILE_TEST_IS_EXECUTABLE)) {
    fprintf(stderr, "bench_call: %s is missing (build the mentorlink target)\n", MENTORLINK_BIN);
    return 1;
  }
  printf("bench_call: %u runs of a %u s 1:1 call on loopback (embedded signaling server + two\n"
         "`mentorlink join --headless --json` processes, test sources); video at the engine's\n"
         "default 640x360@30 (join has no --video-size/--fps option); %ld online CPUs, load "
         "average at start: ",
         runs, seconds, sysconf(_SC_NPROCESSORS_ONLN));
  g_autofree char *loadavg = NULL;
  double l1, l5, l15;
  if (g_file_get_contents("/proc/loadavg", &loadavg, NULL, NULL) &&
      sscanf(loadavg, "%lf %lf %lf", &l1, &l5, &l15) == 3)
    printf("%.2f %.2f %.2f\n", l1, l5, l15);
  else
    printf("?\n");
  printf("columns: secure = join -> Noise handshake done; first = join -> first decoded remote\n"
         "frame; rx->1st = receive branch start -> that frame; jb = median jitter-buffer latency;\n"
         "e2e = median capture -> decoded; fps = decoded/s; cpu = %% of one core over the call /\n"
         "over the process; dec = frames decoded from the peer; sent = frames sealed to it\n");
  printf("%-4s %-7s %4s %7s %7s %7s %5s %6s %6s %8s %8s %5s %5s\n", "run", "side", "exit", "secure",
         "first", "rx->1st", "jb", "e2e", "fps", "cpu_call", "cpu_proc", "dec", "sent");
  GArray *first = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *secure = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *jb = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *e2e = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *fps = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *cpu_call[2], *cpu_proc[2];
  for (int i = 0; i < 2; i++) {
    cpu_call[i] = g_array_new(FALSE, FALSE, sizeof(double));
    cpu_proc[i] = g_array_new(FALSE, FALSE, sizeof(double));
  }
  unsigned failed = 0, no_frame = 0;
  for (unsigned r = 0; r < runs; r++) {
    side s[2];
    side_init(&s[0], "mentor");
    side_init(&s[1], "mentee");
    if (one_call(seconds, s) != 0)
      failed++;
    for (int i = 0; i < 2; i++) {
      side *x = &s[i];
      double ff = (double)x->first_frame_since_start_ms;
      double cc =
          pct_core(x->call_last_ticks - x->call_first_ticks, x->call_last_us - x->call_first_us);
      double cp = pct_core(x->last_ticks, x->last_sample_us - x->spawn_us);
      double rate = x->dec_first >= 0 && x->dec_last_ms > x->dec_first_ms
                        ? (double)(x->dec_last - x->dec_first) * 1000.0 /
                              (double)(x->dec_last_ms - x->dec_first_ms)
                        : -1;
      char e2e_txt[24] = "n/a", jb_txt[24] = "n/a";
      if (x->jb_latency_ms->len)
        g_snprintf(jb_txt, sizeof jb_txt, "%.0f", percentile(x->jb_latency_ms, 50));
      if (x->e2e_latency_ms->len)
        g_snprintf(e2e_txt, sizeof e2e_txt, "%.1f", percentile(x->e2e_latency_ms, 50));
      printf("%-4u %-7s %4d %7lld %7lld %7lld %5s %6s %6.1f %7.0f%% %7.0f%% %5llu %5llu\n", r + 1,
             x->name, x->exit_status, (long long)x->secure_ms,
             (long long)x->first_frame_since_start_ms, (long long)x->first_frame_ms, jb_txt,
             e2e_txt, rate, cc, cp, (unsigned long long)x->frames_decoded,
             (unsigned long long)x->frames_sent);
      if (x->secure_ms >= 0) {
        double sm = (double)x->secure_ms;
        g_array_append_val(secure, sm);
      }
      if (ff >= 0)
        g_array_append_val(first, ff);
      else
        no_frame++;
      append_all(jb, x->jb_latency_ms);
      append_all(e2e, x->e2e_latency_ms);
      if (rate >= 0)
        g_array_append_val(fps, rate);
      if (cc >= 0)
        g_array_append_val(cpu_call[i], cc);
      if (cp >= 0)
        g_array_append_val(cpu_proc[i], cp);
      side_clear(x);
    }
    fflush(stdout);
  }
  printf("summary over %u runs x 2 sides (%u runs with a failed side, %u sides without a frame):\n",
         runs, failed, no_frame);
  print_pair("join -> secure (verification event)", secure, "ms");
  print_pair("join -> first decoded remote frame", first, "ms");
  if (e2e->len)
    print_pair("capture -> decoded (e2e_latency_ms)", e2e, "ms");
  else
    printf("  %-44s n/a: `join` prints no e2e_latency_ms\n"
           "    (ml_call_stats does not carry the receiver's e2e_latency_ms; the jitter-buffer\n"
           "    latency below is only the receiver's buffering delay, a part of it)\n",
           "capture -> decoded");
  print_pair("jitter-buffer latency (latency_ms, per s)", jb, "ms");
  print_pair("decoded frames/s (steady part of the call)", fps, "fps");
  for (int i = 0; i < 2; i++) {
    char what[64];
    g_snprintf(what, sizeof what, "CPU %s, first->last stats line", i ? "mentee" : "mentor");
    print_pair(what, cpu_call[i], "%");
    g_snprintf(what, sizeof what, "CPU %s, spawn->exit", i ? "mentee" : "mentor");
    print_pair(what, cpu_proc[i], "%");
  }
  g_autofree char *loadavg_end = NULL;
  if (g_file_get_contents("/proc/loadavg", &loadavg_end, NULL, NULL) &&
      sscanf(loadavg_end, "%lf %lf %lf", &l1, &l5, &l15) == 3)
    printf("load average at the end: %.2f %.2f %.2f\n", l1, l5, l15);
  printf("CPU in %% of one core (utime + stime from /proc/<pid>/stat); each process both sends\n"
         "and receives. Goal: first frame < 500 ms, capture -> decoded < 100 ms.\n");
  g_array_free(first, TRUE);
  g_array_free(secure, TRUE);
  g_array_free(jb, TRUE);
  g_array_free(e2e, TRUE);
  g_array_free(fps, TRUE);
  for (int i = 0; i < 2; i++) {
    g_array_free(cpu_call[i], TRUE);
    g_array_free(cpu_proc[i], TRUE);
  }
  return failed == runs ? 1 : 0;
}
