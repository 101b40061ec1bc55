/* The call demo: embedded signaling server + two `mentorlink join` children.
 * See call_demo.h. */
#include "call_demo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "child.h"
#include "local_call.h"

#define EXTRA_WAIT_S 20 /* beyond --duration: joining, handshake, leaving */

typedef struct child {
  ml_demo_side *side;
  int64_t chat_sent_ms; /* t_ms of its chat_sent event for id 1 */
} child;

/* ---- reading the children's JSON lines ---- */

static void take_line(void *user, const char *line, const ml_event *ev) {
  (void)line;
  child *c = user;
  ml_demo_side *s = c->side;
  if (!ev)
    return;
  int64_t t = ev->t_ms;
  const ml_event_stats *st = &ev->stats;
  switch (ev->type) {
  case ML_EVENT_JOINED: s->joined = true; break;
  case ML_EVENT_VERIFICATION:
    s->secure = true;
    s->secure_ms = t;
    g_strlcpy(s->sas, ev->sas, sizeof s->sas);
    g_strlcpy(s->safety_number, ev->safety_number, sizeof s->safety_number);
    g_strlcpy(s->peer_fingerprint, ev->fingerprint, sizeof s->peer_fingerprint);
    g_strlcpy(s->pin, ev->pin, sizeof s->pin);
    break;
  case ML_EVENT_STATS:
    s->have_stats = true;
    g_strlcpy(s->path, st->path, sizeof s->path);
    s->video_frames_decoded = st->video_frames_decoded;
    s->video_frames_sent = st->video_frames_sent;
    s->audio_ms_decoded = st->audio_ms_decoded;
    s->first_frame_ms = st->first_frame_ms;
    s->first_frame_since_start_ms = st->first_frame_since_start_ms;
    s->rtt_ms = st->rtt_ms;
    if (st->audio_tone_hz > 0)
      s->audio_tone_hz = st->audio_tone_hz; /* the last measurement (the final stats may come
                                               after the end) */
    s->bitrate_kbps = st->bitrate_kbps;
    s->datagrams_in = st->datagrams_in;
    s->opened = st->opened;
    s->dropped_not_ours = st->dropped_not_ours;
    s->dropped_malformed = st->dropped_malformed;
    s->dropped_auth = st->dropped_auth;
    s->dropped_replay = st->dropped_replay;
    s->dropped_unexpected = st->dropped_unexpected;
    s->dropped_handshake = st->dropped_handshake;
    break;
  case ML_EVENT_CHAT:
    if (s->n_chat_rx < ML_DEMO_MAX_CHAT)
      s->chat_rx[s->n_chat_rx++] = g_strdup(ev->text);
    else
      s->chat_overflow = true;
    break;
  case ML_EVENT_CHAT_SENT:
    if (ev->id == 1)
      c->chat_sent_ms = t;
    break;
  case ML_EVENT_RECEIPT:
    s->receipts++;
    if (ev->id == 1 && c->chat_sent_ms >= 0)
      s->chat_rtt_ms = t - c->chat_sent_ms;
    break;
  case ML_EVENT_ERROR:
    if (s->errors++ == 0)
      g_strlcpy(s->first_error, ev->text, sizeof s->first_error);
    break;
  case ML_EVENT_IDENTITY_CHANGED: s->identity_warnings++; break;
  default: break;
  }
}

/* ---- the children ---- */

static ml_child *spawn(child *c, const ml_demo_options *opt, const char *url, const char *room,
                       const char *secret, const char *data_dir, const char *const *chat) {
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  ml_local_join_args(argv, opt->exe, url, room, c->side->name, TRUE);
  char dur[32];
  g_ptr_array_add(argv, g_strdup("--measure-tone"));
  g_ptr_array_add(argv, g_strdup("--duration"));
  g_ptr_array_add(argv, g_strdup(g_ascii_formatd(dur, sizeof dur, "%.1f", opt->duration_s)));
  for (size_t i = 0; chat && chat[i]; i++) {
    g_ptr_array_add(argv, g_strdup("--chat"));
    g_ptr_array_add(argv, g_strdup(chat[i]));
  }
  g_ptr_array_add(argv, NULL);
  /* Each participant has its own identity and pinned keys; the room secret
   * goes through the environment, not argv (ps shows argv). */
  g_autofree char *data_env = g_strconcat("XDG_DATA_HOME=", data_dir, NULL);
  g_autofree char *secret_env = g_strconcat("MENTORLINK_ROOM_SECRET=", secret, NULL);
  const char *env[] = {data_env, "MENTORLINK_PASSPHRASE", secret_env, NULL};
  ml_child_options co = {.name = c->side->name,
                         .argv = (const char *const *)argv->pdata,
                         .env = env,
                         .echo_stderr = opt->verbose,
                         .on_line = take_line,
                         .user = c};
  ml_child *proc = ml_child_spawn(&co);
  g_ptr_array_free(argv, TRUE);
  return proc;
}

int ml_demo_collect(const ml_demo_options *opt, ml_demo_report *rep) {
  memset(rep, 0, sizeof *rep);
  g_strlcpy(rep->side[0].name, "mentor", sizeof rep->side[0].name);
  g_strlcpy(rep->side[1].name, "mentee", sizeof rep->side[1].name);
  for (int i = 0; i < 2; i++) {
    rep->side[i].exit_status = -1;
    rep->side[i].chat_rtt_ms = -1;
    rep->side[i].first_frame_ms = -1;
  }
  int64_t t0 = g_get_monotonic_time();
  ml_local_server ls;
  int rc = -1;
  if (ml_local_server_start(&ls, "mentorlink demo") != 0)
    return -1;
  rep->server_port = ls.port;
  const char *url = ls.url;
  char room[32], secret[40];
  g_snprintf(room, sizeof room, "demo-%08x", g_random_int());
  g_snprintf(secret, sizeof secret, "%08x%08x%08x", g_random_int(), g_random_int(), g_random_int());
  char *dir =
      opt->data_dir ? g_strdup(opt->data_dir) : g_dir_make_tmp("mentorlink-demo-XXXXXX", NULL);
  child c[2];
  memset(c, 0, sizeof c);
  ml_child *procs[2] = {NULL, NULL};
  size_t started = 0;
  for (int i = 0; dir && i < 2; i++) {
    c[i].side = &rep->side[i];
    c[i].chat_sent_ms = -1;
    g_autofree char *data = g_build_filename(dir, rep->side[i].name, NULL);
    if (g_mkdir_with_parents(data, 0700) != 0 ||
        !(procs[i] = spawn(&c[i], opt, url, room, secret, data, opt->chat[i])))
      break;
    started++;
  }
  if (started == 2) {
    int64_t deadline = g_get_monotonic_time() + (int64_t)((opt->duration_s + EXTRA_WAIT_S) * 1e6);
    if (!ml_child_wait(procs, 2, deadline))
      fprintf(stderr,
              "mentorlink demo: the participants did not finish in time; they were stopped\n");
    rc = 0;
  } else {
    fprintf(stderr, "mentorlink demo: could not start the participants\n");
    (void)ml_child_wait(procs, started, g_get_monotonic_time()); /* stops them */
  }
  for (int i = 0; i < 2; i++) {
    if (procs[i]) {
      rep->side[i].exit_status = ml_child_status(procs[i]);
      ml_child_print_tail(procs[i]);
    }
    ml_child_free(procs[i]);
  }
  /* The cancelled reads' completions (nothing pending when all were done). */
  while (g_main_context_iteration(g_main_context_get_thread_default(), FALSE))
    ;
  if (dir && !opt->data_dir)
    ml_remove_tree(dir);
  g_free(dir);
  ml_local_server_stop(&ls);
  rep->wall_s = (double)(g_get_monotonic_time() - t0) / 1e6;
  return rc;
}

void ml_demo_report_clear(ml_demo_report *rep) {
  for (int i = 0; i < 2; i++)
    for (size_t j = 0; j < rep->side[i].n_chat_rx; j++)
      g_free(rep->side[i].chat_rx[j]);
  memset(rep, 0, sizeof *rep);
}

/* ---- the demo ---- */

static const char *const mentor_lines[] = {
    "Good morning! How did the night shift go?",
    "Walk me through your first hour with the sepsis patient.",
    "That is exactly right. Let's look at the fluid balance next.",
    NULL,
};
static const char *const mentee_lines[] = {
    "Busy: two admissions, one with suspected sepsis.",
    "Cultures, lactate, fluids, then antibiotics within the hour.",
    NULL,
};

static unsigned checks, failed;

static void check(bool ok, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void check(bool ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("  [%s] ", ok ? " ok " : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  checks++;
  if (!ok)
    failed++;
}

static bool chat_matches(const ml_demo_side *rx, const char *const *lines) {
  size_t n = 0;
  while (lines[n])
    n++;
  if (rx->n_chat_rx != n || rx->chat_overflow)
    return false;
  for (size_t i = 0; i < n; i++)
    if (strcmp(rx->chat_rx[i], lines[i]) != 0)
      return false;
  return true;
}

int ml_call_demo_run(const char *exe, double duration) {
  ml_demo_options opt = {.exe = exe, .duration_s = duration, .chat = {mentor_lines, mentee_lines}};
  ml_demo_report rep;
  printf("mentorlink demo: a real end-to-end encrypted call between two local processes\n"
         "  an embedded signaling server (open mode) on 127.0.0.1, a room with a room secret,\n"
         "  and two participants, \"mentor\" and \"mentee\", each running\n"
         "  `mentorlink join --headless --json --video-source test --audio-source test "
         "--duration %.0f`\n  with a fresh identity: ICE on loopback, Noise XXpsk3 over the ICE "
         "path, VP8 + Opus\n  encrypted per datagram, chat over PseudoTCP inside the channel.\n\n",
         duration);
  fflush(stdout);
  if (ml_demo_collect(&opt, &rep) != 0)
    return 1;
  const ml_demo_side *m = &rep.side[0], *e = &rep.side[1];
  printf("signaling server port %u; call held for %.0f s (%.1f s in all)\n\n", rep.server_port,
         duration, rep.wall_s);
  for (int i = 0; i < 2; i++) {
    const ml_demo_side *s = &rep.side[i], *o = &rep.side[1 - i];
    printf("%s: secure after %lld ms, path %s, rtt %.1f ms\n", s->name, (long long)s->secure_ms,
           s->path[0] ? s->path : "-", s->rtt_ms);
    printf("  video from %s: %llu frames decoded of %llu sent (%.1f %%); first frame %lld ms after "
           "start,\n  %lld ms after its receive branch started\n",
           o->name, (unsigned long long)s->video_frames_decoded,
           (unsigned long long)o->video_frames_sent,
           o->video_frames_sent
               ? 100.0 * (double)s->video_frames_decoded / (double)o->video_frames_sent
               : 0.0,
           (long long)s->first_frame_since_start_ms, (long long)s->first_frame_ms);
    printf("  audio from %s: %llu ms decoded, dominant frequency %.1f Hz (sent: 440 Hz)\n", o->name,
           (unsigned long long)s->audio_ms_decoded, s->audio_tone_hz);
    printf("  chat: %zu line(s) received, %zu receipt(s) for its own, first round trip %lld ms\n",
           s->n_chat_rx, s->receipts, (long long)s->chat_rtt_ms);
    uint64_t dropped = s->dropped_not_ours + s->dropped_malformed + s->dropped_auth +
                       s->dropped_replay + s->dropped_unexpected;
    uint64_t other = s->datagrams_in - MIN(s->datagrams_in, s->opened + dropped);
    printf("  datagrams in: %llu = %llu opened as our authenticated ciphertext + %llu handshake\n"
           "  + dropped: %llu not ours, %llu malformed, %llu forged, %llu replayed, %llu early\n",
           (unsigned long long)s->datagrams_in, (unsigned long long)s->opened,
           (unsigned long long)other, (unsigned long long)s->dropped_not_ours,
           (unsigned long long)s->dropped_malformed, (unsigned long long)s->dropped_auth,
           (unsigned long long)s->dropped_replay, (unsigned long long)s->dropped_unexpected);
    if (s->errors)
      printf("  %u error event(s), first: %s\n", s->errors, s->first_error);
  }
  printf("\nSAS:           mentor \"%s\"\n               mentee \"%s\"\n", m->sas, e->sas);
  printf("safety number: %s\n\nchecks:\n", m->safety_number);
  checks = failed = 0;
  check(m->exit_status == 0 && e->exit_status == 0, "both participants exited cleanly (%d, %d)",
        m->exit_status, e->exit_status);
  check(m->secure && e->secure, "both ends completed the handshake");
  check(m->sas[0] && !strcmp(m->sas, e->sas), "the SAS is the same on both sides");
  check(m->safety_number[0] && !strcmp(m->safety_number, e->safety_number),
        "the safety number is the same on both sides");
  check(!m->identity_warnings && !e->identity_warnings, "no identity warnings (fresh identities)");
  for (int i = 0; i < 2; i++) {
    const ml_demo_side *s = &rep.side[i], *o = &rep.side[1 - i];
    check(s->have_stats && o->video_frames_sent > 0 &&
              (double)s->video_frames_decoded >= 0.9 * (double)o->video_frames_sent,
          "%s decoded >= 90 %% of the frames %s sent", s->name, o->name);
    check(s->audio_ms_decoded >= (uint64_t)(duration * 1000 * 0.5),
          "%s decoded %s's audio (>= half the call)", s->name, o->name);
    check(fabs(s->audio_tone_hz - 440.0) <= 5.0, "%s hears %s's 440 Hz test tone (%.1f Hz)",
          s->name, o->name, s->audio_tone_hz);
    check(chat_matches(s, i == 0 ? mentee_lines : mentor_lines) &&
              o->receipts == (size_t)(i == 0 ? 2 : 3),
          "%s received %s's chat lines complete and in order; %s got every receipt", s->name,
          o->name, o->name);
    check(!strcmp(s->path, "host"), "%s's path is a direct host path", s->name);
    check(s->datagrams_in > 0 &&
              s->dropped_not_ours + s->dropped_malformed + s->dropped_auth + s->dropped_replay == 0,
          "%s received only our authenticated ciphertext and handshake datagrams", s->name);
  }
  printf("\n%s: %u of %u checks passed\n", failed ? "FAILED" : "all good", checks - failed, checks);
  ml_demo_report_clear(&rep);
  return failed ? 1 : 0;
}
