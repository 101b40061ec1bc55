/* mentorlink join: joins a room and holds a call until --duration ends,
 * SIGINT/SIGTERM, /leave or (in the window) the user leaves, printing events
 * as text or, with --json, one JSON object per line (fields documented in
 * README, "Command line"). The engine runs on its own thread (ml/call.h).
 * Without --headless the session window (ml/ui.h) drains the events and
 * hands each to on_event here; headless, this thread drains them itself and,
 * with --stdin-commands, turns the lines of stdin into commands and chat.
 * Either way on_event prints and sends the --chat lines once a peer is
 * secure. The options are parsed in join_options.c, events printed in
 * join_print.c, stdin commands run in join_commands.c (join_internal.h). */
#include "join.h"
#include "join_internal.h"
#include "ml/lan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "ml/call.h"
#include "ml/identity.h"
#include "ml/signal_token.h"
#include "ml/ui.h"

#define END_WAIT_MS 5000 /* after leave, the longest wait for the engine to end */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

/* ---- the run ---- */

static int64_t now_ms(void) { return g_get_monotonic_time() / 1000; }

typedef struct run_state {
  const ml_join_options *o;
  ml_join_commands *cmd;
  ml_join_text text;
  bool chat_sent, joined, secure, fatal, ended;
  int closed_status; /* 4 denied, 5 removed, 6 the session ended (SESSION CLOSED); 0 none */
} run_state;

/* Every event, in the window or headless: print it, send the --chat lines
 * once the first peer is secure, note how the call goes. */
static void on_event(ml_call *call, const ml_call_event *ev, void *user) {
  run_state *st = user;
  if (st->cmd->stats) {
    st->text.asked_ms = ev->t_ms;
    st->cmd->stats = false;
  }
  if (st->o->json)
    ml_join_print_json(ev);
  else
    ml_join_print_text(&st->text, ev);
  ml_join_roster_apply(&st->cmd->roster, ev);
  if (ev->type == ML_CALL_EV_SESSION && ev->session == ML_CALL_SESSION_CLOSED && ev->text)
    st->closed_status = !strcmp(ev->text, "denied")    ? ML_JOIN_EXIT_DENIED
                        : !strcmp(ev->text, "removed") ? ML_JOIN_EXIT_REMOVED
                                                       : ML_JOIN_EXIT_ENDED;
  if (ev->type == ML_CALL_EV_JOINED && st->cmd->joined_ms < 0)
    st->cmd->joined_ms = now_ms(); /* a reconnect keeps the call's clock */
  if (ev->type == ML_CALL_EV_JOINED)
    st->joined = true;
  if (ev->type == ML_CALL_EV_PEER_JOINED || ev->type == ML_CALL_EV_PEER_REJOINED)
    g_hash_table_replace(st->cmd->peers, g_strdup(ev->peer_id), g_strdup(ev->peer_name));
  if (ev->type == ML_CALL_EV_PEER_REJOINED && ev->text)
    g_hash_table_remove(st->cmd->peers, ev->text);
  if (ev->type == ML_CALL_EV_PEER_LEFT)
    g_hash_table_remove(st->cmd->peers, ev->peer_id);
  if (ev->type == ML_CALL_EV_ERROR && ev->fatal)
    st->fatal = true; /* e.g. signaling refused us */
  if (ev->type == ML_CALL_EV_VERIFIED)
    st->secure = true;
  if (ev->type == ML_CALL_EV_VERIFIED && !st->chat_sent) {
    st->chat_sent = true;
    for (size_t i = 0; i < st->o->n_chat; i++)
      if (ml_call_send_chat(call, st->o->chat[i]) != ML_OK)
        fprintf(stderr, "mentorlink: chat line %zu refused (empty, too long or not UTF-8)\n",
                i + 1);
  }
}

static void run_headless(ml_call *call, const ml_join_options *o, run_state *st) {
  int64_t deadline = o->duration_s > 0 ? now_ms() + (int64_t)(o->duration_s * 1000.0) : -1;
  int64_t end_by = -1;
  st->cmd->end_ms = deadline;
  /* The one-minute warning of a scheduled end (a session longer than that). */
  bool warned = o->duration_s <= 60;
  while (!st->ended) {
    int64_t now = now_ms();
    if (!warned && end_by < 0 && now >= deadline - 60000) {
      warned = true;
      fprintf(stderr, "mentorlink: one minute left: the session ends at its scheduled time\n");
    }
    if (end_by < 0 && (stop_requested || st->cmd->leave || (deadline >= 0 && now >= deadline))) {
      ml_call_leave(call);
      end_by = now + END_WAIT_MS;
    }
    if (end_by >= 0 && now >= end_by) {
      fprintf(stderr, "mentorlink: the engine did not end in time\n");
      st->fatal = true;
      break;
    }
    int64_t wake = end_by >= 0 ? end_by : deadline;
    int timeout = wake < 0 ? 1000 : (int)MIN(1000, MAX(0, wake - now));
    struct pollfd pfd[2] = {{.fd = ml_call_event_fd(call), .events = POLLIN},
                            {.fd = STDIN_FILENO, .events = POLLIN}};
    bool read_stdin = !st->cmd->eof && end_by < 0;
    if (poll(pfd, read_stdin ? 2 : 1, timeout) < 0 && errno != EINTR)
      break;
    if (read_stdin && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
      ml_join_read_commands(call, st->cmd);
    ml_call_event *ev;
    while ((ev = ml_call_next_event(call, 0)) != NULL) {
      on_event(call, ev, st);
      if (ev->type == ML_CALL_EV_ENDED) {
        st->ended = true;
        if (end_by < 0)
          st->fatal = true; /* ended without being asked */
      }
      ml_call_event_free(ev);
    }
  }
}

/* The window; false when it could not open (the caller goes on headless). */
static bool run_window(ml_call *call, const ml_join_options *o, run_state *st) {
  char title[200];
  snprintf(title, sizeof title, "mentorlink%s%s", o->room ? ": " : "", o->room ? o->room : "");
  ml_ui_config ui = {
      .call = call,
      .self_name = o->name,
      .title = title,
      .screenshot_dir = o->screenshot_dir,
      .test_control = o->ui_test_control,
      .deadline_ms = o->duration_s > 0 ? now_ms() + (int64_t)(o->duration_s * 1000.0) : -1,
      .stop = &stop_requested,
      .on_event = on_event,
      .user = st,
  };
  ml_ui_result res;
  if (ml_ui_run(&ui, &res) != 0)
    return false;
  st->ended = res.ended;
  st->fatal = st->fatal || res.fatal;
  return true;
}

static int run(const ml_join_options *o) {
  if (o->stdin_commands && !o->headless)
    return ml_join_usage_error("--stdin-commands needs --headless",
                               "the window takes its commands from "
                               "the keyboard and mouse");
  /* A closed stdin: descriptor 0 would be whatever we open next. */
  bool stdin_open = fcntl(STDIN_FILENO, F_GETFD) >= 0;
  if (o->stdin_commands && !stdin_open)
    ml_join_command_error("--stdin-commands: stdin is closed; no commands", NULL);
  char id_path[4096];
  ml_identity *id = NULL;
  int err = ml_identity_default_path(id_path, sizeof id_path);
  if (!err)
    err = ml_identity_load_or_create(&id, id_path, getenv("MENTORLINK_PASSPHRASE"), NULL);
  if (err) {
    fprintf(stderr, "mentorlink: cannot load your identity: %s (see mentorlink identity)\n",
            ml_strerror(err));
    return 1;
  }
  ml_call_config cfg = {
      .server_url = o->server,
      .ca_file = o->ca_file,
      .token = o->token,
      .room = o->room,
      .name = o->room ? o->name : NULL,
      .room_secret = o->secret,
      .identity = id,
      .pins_path = o->known_peers,
      .video = o->video,
      .video_width = o->video_width,
      .receive_small = o->receive_small,
      .video_height = o->video_height,
      .audio = o->audio,
      .camera = o->camera,
      .microphone = o->microphone,
      .headless = o->headless,
      .admit_all = o->admit_all,
      .measure_tone = o->measure_tone,
      .local_addresses = o->local,
      .n_local_addresses = o->n_local,
  };
  ml_call *call = NULL;
  err = ml_call_new(&call, &cfg);
  if (err) {
    ml_identity_free(id);
    return ml_join_usage_error(
        "the call settings were refused (room, name or secret out of bounds)", ml_strerror(err));
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  ml_join_commands cmd = {.buf = g_string_new(NULL),
                          .eof = !o->stdin_commands || !stdin_open,
                          .peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
                          .joined_ms = -1,
                          .end_ms = -1};
  ml_join_roster_init(&cmd.roster);
  run_state st = {.o = o, .cmd = &cmd};
  ml_join_text_init(&st.text);
  if (o->headless || !run_window(call, o, &st)) {
    if (!o->headless)
      fprintf(stderr, "mentorlink: going on without a window\n");
    run_headless(call, o, &st);
  }
  ml_call_free(call);
  ml_identity_free(id);
  g_string_free(cmd.buf, TRUE);
  g_hash_table_destroy(cmd.peers);
  ml_join_roster_clear(&cmd.roster);
  ml_join_text_clear(&st.text);
  if (st.closed_status == ML_JOIN_EXIT_ENDED && cmd.ended_session)
    return st.secure ? 0 : 3; /* we ended it, as asked */
  if (st.closed_status)
    return st.closed_status;
  if (st.fatal || !st.joined)
    return 1;
  if (!st.secure) {
    fprintf(stderr, "mentorlink: no peer became secure (end-to-end encrypted) during the call%s\n",
            o->json ? "" : "; see the errors above");
    return 3;
  }
  return 0;
}

/* join --discover: the rooms `mentorlink host` announces on this LAN, each
 * with the link that joins it. 0 if some were heard, 1 if none (or no
 * Avahi). */
static int discover(void) {
  ml_lan_room rooms[ML_LAN_MAX_ROOMS];
  size_t n = 0;
  const char *why = NULL;
  if (ml_lan_discover(ML_JOIN_DISCOVER_MS, rooms, &n, &why) != 0) {
    fprintf(stderr,
            "mentorlink join --discover: %s; rooms on the LAN are found through Avahi (Debian "
            "package avahi-daemon)\n",
            why);
    return 1;
  }
  if (n == 0) {
    printf("no mentorlink rooms heard on this network in %u s (a room started with "
           "mentorlink host is announced while it runs)\n",
           ML_JOIN_DISCOVER_MS / 1000);
    return 1;
  }
  printf("mentorlink rooms on this network:\n");
  for (size_t i = 0; i < n; i++) {
    g_autofree char *link = ml_invite_open_link(rooms[i].address, rooms[i].port, rooms[i].room);
    printf("  %s at %s:%u: mentorlink join '%s'\n", rooms[i].room, rooms[i].address, rooms[i].port,
           link ? link : "?");
  }
  return 0;
}

/* An invitation for a scheduled session (a token with a start time:
 * `mentorlink-signal invite --from --until`) ends the call at the token's
 * end, as --duration would; --duration wins when given. The claims are read
 * without the server's secret: the end shown is the invitation's word, and
 * the server decides what the token admits. */
static void take_scheduled_end(ml_join_options *o) {
  ml_token_claims c;
  if (o->duration_s > 0 || !o->token || ml_token_read_claims(o->token, &c) != ML_OK ||
      c.not_before <= 0)
    return;
  int64_t left = c.expiry - (int64_t)time(NULL);
  if (left <= 0)
    return; /* the server refuses it and says why */
  o->duration_s = (double)left;
  time_t end = (time_t)c.expiry;
  struct tm tm;
  char when[32] = "";
  if (gmtime_r(&end, &tm))
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  fprintf(stderr, "mentorlink: the session is scheduled to end at %s (the invitation's end)\n",
          when);
}

int ml_join_run(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--discover"))
      return argc == 2 ? discover()
                       : ml_join_usage_error("--discover lists the rooms on the LAN and takes "
                                             "nothing else; join one with the link it prints",
                                             NULL);
  ml_join_options o;
  int rc = ml_join_parse_options(argc, argv, &o);
  if (rc == 0) {
    take_scheduled_end(&o);
    rc = run(&o);
  }
  ml_join_options_clear(&o);
  return rc == ML_JOIN_HELP ? 0 : rc;
}
