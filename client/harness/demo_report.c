/* mentorlink — a two-party call between `mentorlink join` children, and
 * what each reported. See demo_report.h. */
#include "demo_report.h"

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
