/* test_group_call — a group call on loopback: N `mentorlink join --headless`
 * processes in one room of the embedded signaling server (open mode,
 * auto-admit), each sending the test pattern at --video-size SIZE.
 *
 * usage: test_group_call N WxH SECONDS MODE [small | slow ADDR NETNS SLOW_ADDR]
 *   MODE secure  every participant has a secure link to every other
 *        video   ... and decodes video from every other (frames decoded
 *                grow during the second half of the call, or from the first
 *                frame on when it came later)
 *        layers  ... and P1, which asks for the small layer (--receive-layer
 *                small), decodes every other's at half the size while the
 *                others decode each other's and P1's at full size
 *        bench   no check: prints the figures (README, "A group call"):
 *                CPU per process, decoded frames/s per ordered pair over the
 *                second half of the call, and for the last to join (it starts
 *                last, 300 ms after the one before) its process start to the
 *                first frame from any peer and from all of them.
 *   small        every participant asks for the small layer (a view of
 *                thumbnails).
 *   slow         the server and the first N-1 participants on ADDR, the last
 *                one in network namespace NETNS on SLOW_ADDR (the caller
 *                builds both and shapes the link between them: the bench
 *                bench_group_slow.sh); the figures of the others among
 *                themselves and with the slow one are printed apart.
 * Participants join 300 ms apart; each runs SECONDS from its join. */
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

#define MAX_N 9
#define STAGGER_MS 300
#define EXTRA_WAIT_S 30

typedef struct pair_stats { /* what receiver r decoded from sender s */
  bool secure;
  int64_t first_frame_ms; /* first_frame_since_start_ms; -1 none */
  int64_t dec_mid, dec_last, t_mid_ms, t_last_ms;
  unsigned height;              /* of the latest decoded frame */
  bool sent_small;              /* the latest stats: r sends s its small layer */
  int64_t switches;             /* and the layer changes r made for s */
  unsigned paused_s;            /* seconds r's video to s was paused (by its rate controller) */
  int64_t target_sum, target_n; /* r's video target for s, summed over its stats */
} pair_stats;

typedef struct party {
  char name[16];
  ml_child *proc;
  unsigned index;
  int64_t spawn_us;
  long long ticks_first, ticks_last;
  int64_t first_us, last_us;
  pair_stats from[MAX_N];
} party;

static party parties[MAX_N];
static unsigned n_parties, seconds;
static bool all_small, first_small;
static const char *root_addr = "127.0.0.1", *slow_ns, *slow_addr; /* slow mode */

static long long proc_ticks(int pid) {
  char path[64], *text = NULL;
  g_snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return -1;
  const char *p = strrchr(text, ')');
  unsigned long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
    g_free(text);
    return -1;
  }
  g_free(text);
  return (long long)(ut + st);
}

static int sender_of(const char *name) {
  for (unsigned i = 0; i < n_parties; i++)
    if (!strcmp(parties[i].name, name))
      return (int)i;
  return -1;
}

static void take_line(void *user, const char *line, const ml_event *ev) {
  (void)line;
  party *p = user;
  if (!ev)
    return;
  int s = sender_of(ev->name);
  if (s < 0 || s == (int)p->index)
    return;
  pair_stats *ps = &p->from[s];
  if (ev->type == ML_EVENT_VERIFICATION) {
    ps->secure = true;
    return;
  }
  if (ev->type != ML_EVENT_STATS || ev->stats.final)
    return;
  if (ps->first_frame_ms < 0 && ev->stats.first_frame_since_start_ms >= 0)
    ps->first_frame_ms = ev->stats.first_frame_since_start_ms;
  int64_t dec = (int64_t)ev->stats.video_frames_decoded;
  /* The window: from the middle of the call, or from the first decoded
   * frame when that came later (a sender that joined late). */
  if (ev->t_ms <= (int64_t)seconds * 500 || ps->dec_mid <= 0) {
    ps->dec_mid = dec;
    ps->t_mid_ms = ev->t_ms;
  }
  ps->dec_last = dec;
  ps->t_last_ms = ev->t_ms;
  ps->height = (unsigned)ev->stats.frame_height;
  ps->sent_small = !strcmp(ev->stats.sent_layer, "small");
  ps->switches = ev->stats.layer_switches;
  ps->paused_s += ev->stats.video_paused;
  ps->target_sum += ev->stats.target_kbps;
  ps->target_n++;
  long long t = proc_ticks(ml_child_pid(p->proc));
  if (t >= 0) {
    int64_t now = g_get_monotonic_time();
    if (!p->first_us) {
      p->first_us = now;
      p->ticks_first = t;
    }
    p->last_us = now;
    p->ticks_last = t;
  }
}

static gboolean spawn_next(gpointer user) {
  const char **ctx = user; /* url, room, dir, size */
  static unsigned next;
  party *p = &parties[next];
  p->index = next;
  g_snprintf(p->name, sizeof p->name, "P%u", next + 1);
  for (unsigned k = 0; k < MAX_N; k++)
    p->from[k].first_frame_ms = -1;
  g_autofree char *data = g_build_filename(ctx[2], p->name, NULL);
  if (g_mkdir_with_parents(data, 0700) != 0)
    return G_SOURCE_REMOVE;
  char dur[16];
  g_snprintf(dur, sizeof dur, "%u", seconds);
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  bool slow = slow_ns && next == n_parties - 1;
  if (slow) {
    const char *ns[] = {"ip", "netns", "exec", slow_ns};
    for (size_t i = 0; i < G_N_ELEMENTS(ns); i++)
      g_ptr_array_add(argv, g_strdup(ns[i]));
  }
  ml_local_join_args_at(argv, MENTORLINK_BIN, ctx[0], ctx[1], p->name, TRUE,
                        slow ? slow_addr : root_addr);
  const char *more[] = {"--video-size", ctx[3], "--duration", dur};
  for (size_t i = 0; i < G_N_ELEMENTS(more); i++)
    g_ptr_array_add(argv, g_strdup(more[i]));
  if (all_small || (first_small && next == 0)) {
    g_ptr_array_add(argv, g_strdup("--receive-layer"));
    g_ptr_array_add(argv, g_strdup("small"));
  }
  g_ptr_array_add(argv, NULL);
  g_autofree char *data_env = g_strconcat("XDG_DATA_HOME=", data, NULL);
  const char *env[] = {data_env, "MENTORLINK_PASSPHRASE", "MENTORLINK_ROOM_SECRET", NULL};
  ml_child_options co = {.name = p->name,
                         .argv = (const char *const *)argv->pdata,
                         .env = env,
                         .on_line = take_line,
                         .user = p};
  p->spawn_us = g_get_monotonic_time();
  p->proc = ml_child_spawn(&co);
  g_ptr_array_free(argv, TRUE);
  return ++next < n_parties && p->proc ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static double fps_of(const pair_stats *ps) {
  if (ps->t_last_ms <= ps->t_mid_ms || ps->dec_mid <= 0)
    return 0;
  return (double)(ps->dec_last - ps->dec_mid) * 1000.0 / (double)(ps->t_last_ms - ps->t_mid_ms);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Slow mode: the others among themselves, with the slow one (the last). */
static void print_slow(void) {
  unsigned slow = n_parties - 1, n_fast = 0, n_small = 0;
  double fast[MAX_N * MAX_N], from_slow[MAX_N], to_slow[MAX_N];
  int64_t switches = 0, target_sum = 0, target_n = 0;
  unsigned paused_s = 0;
  for (unsigned r = 0; r < slow; r++) {
    for (unsigned s = 0; s < slow; s++)
      if (s != r)
        fast[n_fast++] = fps_of(&parties[r].from[s]);
    from_slow[r] = fps_of(&parties[r].from[slow]);
    to_slow[r] = fps_of(&parties[slow].from[r]);
    /* r's stats about the slow one say which layer r sends it. */
    n_small += parties[r].from[slow].sent_small;
    switches += parties[r].from[slow].switches;
    paused_s += parties[r].from[slow].paused_s;
    target_sum += parties[r].from[slow].target_sum;
    target_n += parties[r].from[slow].target_n;
  }
  qsort(fast, n_fast, sizeof *fast, cmp_double);
  qsort(from_slow, slow, sizeof *from_slow, cmp_double);
  qsort(to_slow, slow, sizeof *to_slow, cmp_double);
  printf("  the others among them    fps min %.1f  median %.1f (%u pairs)\n", fast[0],
         fast[n_fast / 2], n_fast);
  printf("  the slow one (P%u) gets   fps min %.1f  median %.1f\n", slow + 1, to_slow[0],
         to_slow[slow / 2]);
  printf("  the others get from it   fps min %.1f  median %.1f\n", from_slow[0],
         from_slow[slow / 2]);
  printf("  sent it the small layer  %u of %u senders at the end, %lld layer switches\n", n_small,
         slow, (long long)switches);
  printf("  their video to it        target mean %lld kbps, paused %u of %lld s\n",
         (long long)(target_n ? target_sum / target_n : 0), paused_s, (long long)target_n);
}

int main(int argc, char **argv) {
  if (argc != 5 && !(argc == 6 && !strcmp(argv[5], "small")) &&
      !(argc == 9 && !strcmp(argv[5], "slow"))) {
    fprintf(
        stderr,
        "usage: %s N WxH SECONDS secure|video|layers|bench [small | slow ADDR NETNS SLOW_ADDR]\n",
        argv[0]);
    return 2;
  }
  all_small = argc == 6;
  if (argc == 9) {
    root_addr = argv[6];
    slow_ns = argv[7];
    slow_addr = argv[8];
  }
  n_parties = (unsigned)atoi(argv[1]);
  seconds = (unsigned)atoi(argv[3]);
  const char *mode = argv[4];
  unsigned width = 0, height = 0;
  if (n_parties < 2 || n_parties > MAX_N || seconds < 4 || seconds > 120 ||
      sscanf(argv[2], "%ux%u", &width, &height) != 2 ||
      (strcmp(mode, "secure") && strcmp(mode, "video") && strcmp(mode, "layers") &&
       strcmp(mode, "bench"))) {
    fprintf(stderr, "usage: %s N(2-%d) WxH SECONDS(4-120) secure|video|layers|bench [small]\n",
            argv[0], MAX_N);
    return 2;
  }
  first_small = !strcmp(mode, "layers");
  ml_local_server ls;
  if (ml_local_server_start_at(&ls, "test_group_call", root_addr) != 0)
    return 1;
  char room[32];
  g_snprintf(room, sizeof room, "group-%08x", g_random_int());
  char *dir = g_dir_make_tmp("mentorlink-group-XXXXXX", NULL);
  const char *ctx[] = {ls.url, room, dir, argv[2]};
  GSource *stagger = g_timeout_source_new(STAGGER_MS);
  g_source_set_callback(stagger, spawn_next, ctx, NULL);
  spawn_next(ctx);
  if (n_parties > 1)
    g_source_attach(stagger, NULL);
  /* Until every one has started, then until they are done. */
  int64_t deadline = g_get_monotonic_time() + (int64_t)(seconds + EXTRA_WAIT_S) * G_USEC_PER_SEC;
  while (!parties[n_parties - 1].proc && g_get_monotonic_time() < deadline)
    g_main_context_iteration(NULL, TRUE);
  g_source_destroy(stagger);
  g_source_unref(stagger);
  ml_child *procs[MAX_N];
  for (unsigned i = 0; i < n_parties; i++)
    procs[i] = parties[i].proc;
  bool finished = ml_child_wait(procs, n_parties, deadline);

  unsigned pairs = n_parties * (n_parties - 1), secure = 0, decoding = 0, clean_exits = 0;
  unsigned right_size = 0; /* pairs whose latest frame is of the layer asked for */
  double *fps = g_new0(double, pairs);
  unsigned k = 0;
  long hz = sysconf(_SC_CLK_TCK);
  double cpu_sum = 0, cpu_max = 0;
  for (unsigned r = 0; r < n_parties; r++) {
    party *p = &parties[r];
    clean_exits += p->proc && ml_child_status(p->proc) == 0;
    if (p->proc && ml_child_status(p->proc) != 0)
      ml_child_print_tail(p->proc);
    double cpu = p->last_us > p->first_us
                     ? 100.0 * (double)(p->ticks_last - p->ticks_first) / (double)hz /
                           ((double)(p->last_us - p->first_us) / 1e6)
                     : 0;
    cpu_sum += cpu;
    cpu_max = cpu > cpu_max ? cpu : cpu_max;
    for (unsigned s = 0; s < n_parties; s++) {
      if (s == r)
        continue;
      const pair_stats *ps = &p->from[s];
      secure += ps->secure;
      fps[k] = fps_of(ps);
      decoding += fps[k] > 0;
      right_size += ps->height == (all_small || (first_small && r == 0) ? height / 2 : height);
      k++;
    }
  }
  qsort(fps, pairs, sizeof *fps, cmp_double);
  const party *last = &parties[n_parties - 1];
  int64_t ff_any = -1, ff_all = 0;
  for (unsigned s = 0; s + 1 < n_parties; s++) {
    int64_t f = last->from[s].first_frame_ms;
    if (f >= 0 && (ff_any < 0 || f < ff_any))
      ff_any = f;
    ff_all = f < 0 || ff_all < 0 ? -1 : (f > ff_all ? f : ff_all);
  }
  printf("group call: %u participants at %s for %u s (%ld cores)\n", n_parties, argv[2], seconds,
         sysconf(_SC_NPROCESSORS_ONLN));
  printf("  exited cleanly           %u of %u%s\n", clean_exits, n_parties,
         finished ? "" : " (some were stopped at the deadline)");
  printf("  secure pairs             %u of %u (ordered)\n", secure, pairs);
  printf("  pairs decoding video     %u of %u in the second half\n", decoding, pairs);
  printf("  decoded fps per pair     min %.1f  median %.1f  max %.1f\n", fps[0], fps[pairs / 2],
         fps[pairs - 1]);
  printf("  pairs at the layer asked %u of %u (%s)\n", right_size, pairs,
         all_small     ? "all small"
         : first_small ? "P1 small, the others large"
                       : "all large");
  printf("  CPU per process          mean %.0f %%  max %.0f %% of one core\n", cpu_sum / n_parties,
         cpu_max);
  printf("  last joiner: first frame %lld ms from any peer, %lld ms from all (-1: never)\n",
         (long long)ff_any, (long long)ff_all);
  if (slow_ns)
    print_slow();
  bool media = !strcmp(mode, "video") || !strcmp(mode, "layers");
  bool ok = clean_exits == n_parties && secure == pairs && (!media || decoding == pairs) &&
            (!first_small || right_size == pairs);
  g_free(fps);
  for (unsigned i = 0; i < n_parties; i++)
    ml_child_free(parties[i].proc);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  if (dir)
    ml_remove_tree(dir);
  g_free(dir);
  ml_local_server_stop(&ls);
  if (!strcmp(mode, "bench"))
    return 0;
  if (!ok)
    fprintf(stderr, "FAIL: %s: not every pair %s\n", argv[0],
            !media        ? "reached secure (or a participant failed)"
            : first_small ? "decoded video of the layer it asked for"
                          : "decoded video");
  return ok ? 0 : 1;
}
