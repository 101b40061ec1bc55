/* cli.join: what `mentorlink join` says when it cannot join, run as a
 * user runs it (the real program, a real mentorlink-signal on 127.0.0.1).
 *
 * Checks, each by exit status and message: `join --help` prints the help
 * (exit 0); a --server that is not ws:// or wss://, a --room the server
 * would refuse and a --ca-file that holds no certificate are usage errors
 * naming the flag (exit 2); an address without /v1/ws stops at once with the
 * 404 and the fix (exit 1, no retries); a self-signed certificate stops at
 * once saying so and naming --ca-file (exit 1); with that certificate as
 * --ca-file the same server is joined (exit 3: joined, nobody else came).
 * `mentorlink devices` lists (or says there are none of) cameras and
 * microphones. Then two participants in text mode hold a call, the mentor
 * asking for a camera and a microphone that are not there (said, and the
 * call goes on without them): each shows the other's
 * stats a few times (first, every 10 s, final), not once a second, and the
 * sentences have the right subject ("you left the call with ...", "... left
 * the call"). Last, `mentorlink host` starts a room with the server inside
 * it, and a join typed from the command it printed makes a secure call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "ml/signal_token.h"
#include "sigclient.h"

typedef struct run_result {
  int status; /* exit status, -1 if it did not exit */
  char *out, *err;
} run_result;

static char *data_home, *config_home;

/* Runs prog with first and the arguments in ap (NULL-terminated), its data in a fresh
 * XDG_DATA_HOME and XDG_CONFIG_HOME, and the environment variable env_name
 * set to env_value (when not NULL); bounded by --duration where it joins. */
static run_result run_v(const char *prog, const char *env_name, const char *env_value,
                        const char *first, va_list ap) {
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(a, g_strdup(prog));
  for (const char *s = first; s; s = va_arg(ap, const char *))
    g_ptr_array_add(a, g_strdup(s));
  g_ptr_array_add(a, NULL);
  char **env = g_environ_setenv(g_get_environ(), "XDG_DATA_HOME", data_home, TRUE);
  env = g_environ_setenv(env, "XDG_CONFIG_HOME", config_home, TRUE);
  /* No display: `open` says what it says on stderr, not in a message box. */
  const char *const private[] = {"MENTORLINK_ROOM_SECRET", "MENTORLINK_INVITE", "MENTORLINK_TOKEN",
                                 "DISPLAY", "WAYLAND_DISPLAY"};
  for (size_t i = 0; i < G_N_ELEMENTS(private); i++)
    env = g_environ_unsetenv(env, private[i]);
  if (env_name)
    env = g_environ_setenv(env, env_name, env_value, TRUE);
  run_result r = {.status = -1};
  int wstatus = 0;
  CHECK(g_spawn_sync(NULL, (char **)a->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err,
                     &wstatus, NULL));
  if (WIFEXITED(wstatus))
    r.status = WEXITSTATUS(wstatus);
  g_strfreev(env);
  g_ptr_array_free(a, TRUE);
  return r;
}

/* mentorlink with these arguments (NULL-terminated); run_env with name set
 * to value in its environment; run_signal: mentorlink-signal. */
static run_result run(const char *first, ...) G_GNUC_NULL_TERMINATED;
static run_result run_env(const char *name, const char *value, const char *first,
                          ...) G_GNUC_NULL_TERMINATED;
static run_result run_signal(const char *first, ...) G_GNUC_NULL_TERMINATED;

#define RUN_WITH(prog, name, value, first)                                                         \
  va_list ap;                                                                                      \
  va_start(ap, first);                                                                             \
  run_result r = run_v(prog, name, value, first, ap);                                              \
  va_end(ap);                                                                                      \
  return r

static run_result run(const char *first, ...) { RUN_WITH(MENTORLINK_BIN, NULL, NULL, first); }
static run_result run_env(const char *name, const char *value, const char *first, ...) {
  RUN_WITH(MENTORLINK_BIN, name, value, first);
}
static run_result run_signal(const char *first, ...) { RUN_WITH(SIGNAL_BIN, NULL, NULL, first); }
/* For a join without --duration: coreutils' timeout bounds it (status 124). */
static run_result run_bounded(const char *first, ...) {
  RUN_WITH("/usr/bin/timeout", NULL, NULL, first);
}

/* r exited with status, and what it printed (stdout: the call's events in
 * words; stderr: usage errors) holds said and not unsaid. */
static void expect(run_result r, int status, const char *said, const char *unsaid,
                   const char *what) {
  g_autofree char *all = g_strconcat(r.out, r.err, NULL);
  bool ok = r.status == status && (!said || strstr(all, said)) && (!unsaid || !strstr(all, unsaid));
  if (!ok)
    fprintf(stderr, "FAIL %s: exit %d (want %d); printed:\n%s\n", what, r.status, status, all);
  else
    printf("ok   %s (exit %d)\n", what, r.status);
  g_free(r.out);
  g_free(r.err);
  CHECK(ok);
}

typedef struct party {
  GSubprocess *proc;
  char *out;
  bool done;
} party;

static void on_done(GObject *src, GAsyncResult *res, gpointer user) {
  party *p = user;
  CHECK(g_subprocess_communicate_utf8_finish(G_SUBPROCESS(src), res, &p->out, NULL, NULL));
  p->done = true;
}

/* A participant for seconds; with devices, its camera and microphone by
 * those names (else test sources). Without room, url is an invite link. */
static void party_start(party *p, const char *url, const char *ca, const char *room,
                        const char *name, const char *seconds, const char *devices) {
  g_autoptr(GSubprocessLauncher) l =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autofree char *data = g_build_filename(data_home, name, NULL);
  CHECK(g_mkdir_with_parents(data, 0700) == 0);
  g_subprocess_launcher_setenv(l, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_unsetenv(l, "MENTORLINK_ROOM_SECRET");
  const char *video = devices ? "camera" : "test", *audio = devices ? "mic" : "test";
  const char *camera = devices ? devices : "unused", *microphone = camera;
  const char *argv[32] = {MENTORLINK_BIN, "join", url};
  size_t n = 3;
  if (room) { /* --server URL --room ROOM instead of an invite link */
    argv[2] = "--server";
    argv[n++] = url;
    argv[n++] = "--room";
    argv[n++] = room;
  }
  const char *rest[] = {
      "--ca-file",      ca,         "--name",          name,        "--admit-all", "--headless",
      "--video-source", video,      "--audio-source",  audio,       "--camera",    camera,
      "--microphone",   microphone, "--local-address", "127.0.0.1", "--duration",  seconds};
  for (size_t i = 0; i < G_N_ELEMENTS(rest); i++)
    argv[n++] = rest[i];
  p->proc = g_subprocess_launcher_spawnv(l, argv, NULL);
  CHECK(p->proc);
  g_subprocess_communicate_utf8_async(p->proc, NULL, NULL, on_done, p);
}

/* How many lines of out hold needle. */
static unsigned lines_with(const char *out, const char *needle) {
  unsigned n = 0;
  g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
  for (char **l = lines; *l; l++)
    n += strstr(*l, needle) != NULL;
  return n;
}

static gboolean expire(gpointer p) {
  *(bool *)p = true;
  return G_SOURCE_REMOVE;
}

/* Mentor and mentee for 13 and 15 s, in text mode; the mentor asks for a
 * camera and a microphone that are not there, and the call goes on. */
static void text_mode_call(const char *url, const char *ca) {
  party a = {0}, b = {0};
  party_start(&a, url, ca, "talk", "Mentor", "13", "No Such Device");
  party_start(&b, url, ca, "talk", "Mentee", "15", NULL);
  bool expired = false;
  guint t = g_timeout_add(60000, expire, &expired);
  while (!(a.done && b.done) && !expired)
    g_main_context_iteration(NULL, TRUE);
  if (!expired)
    g_source_remove(t);
  CHECK(!expired);
  unsigned a_stats = lines_with(a.out, "Mentee: path "),
           b_stats = lines_with(b.out, "Mentor: path ");
  bool ok = lines_with(a.out, "Mentee: end-to-end encrypted") == 1 && a_stats >= 2 &&
            a_stats <= 3 && b_stats >= 2 && b_stats <= 3 &&
            lines_with(a.out, "you left the call with Mentee") == 1 &&
            lines_with(b.out, "Mentor left the call") == 1 && !strstr(a.out, " left (") &&
            !strstr(b.out, " left (") &&
            lines_with(a.out, "there is no camera \"No Such Device\" on this machine: the "
                              "call goes on without your video") == 1 &&
            lines_with(a.out, "there is no microphone \"No Such Device\"") == 1;
  printf("%s a text-mode call without the mentor's devices: %u and %u stats lines in 13 and "
         "15 s\n",
         ok ? "ok  " : "FAIL", a_stats, b_stats);
  if (!ok)
    fprintf(stderr, "Mentor printed:\n%s\nMentee printed:\n%s\n", a.out, b.out);
  CHECK(ok);
  CHECK(g_subprocess_get_if_exited(a.proc) && g_subprocess_get_exit_status(a.proc) == 0);
  g_object_unref(a.proc);
  g_object_unref(b.proc);
  g_free(a.out);
  g_free(b.out);
}

/* `mentorlink host`, read line by line: the join command it prints is run
 * as soon as it appears. */
typedef struct host_run {
  GSubprocess *proc;
  GDataInputStream *in;
  GString *out;
  bool eof;
  party guest;
  const char *ca;
} host_run;

static void on_host_line(GObject *src, GAsyncResult *res, gpointer user) {
  host_run *h = user;
  g_autofree char *line =
      g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(src), res, NULL, NULL);
  if (!line) {
    h->eof = true;
    return;
  }
  g_string_append_printf(h->out, "%s\n", line);
  char link[256];
  if (!h->guest.proc && sscanf(line, "  mentorlink join '%255[^']'", link) == 1)
    party_start(&h->guest, link, h->ca, NULL, "Mentee", "8", NULL);
  g_data_input_stream_read_line_async(h->in, G_PRIORITY_DEFAULT, NULL, on_host_line, h);
}

/* A clinic with no IT: `mentorlink host` starts the room, a second process
 * joins with the command it printed, and the two hold a secure call. */
static void host_call(const char *ca) {
  host_run h = {.out = g_string_new(NULL), .ca = ca};
  g_autoptr(GSubprocessLauncher) l =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree char *data = g_build_filename(data_home, "host", NULL);
  CHECK(g_mkdir_with_parents(data, 0700) == 0);
  g_subprocess_launcher_setenv(l, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_unsetenv(l, "MENTORLINK_ROOM_SECRET");
  h.proc = g_subprocess_launcher_spawn(
      l, NULL, MENTORLINK_BIN, "host", "--room", "clinic", "--name", "Mentor", "--listen",
      "127.0.0.1:0", "--admit-all", "--headless", "--video-source", "test", "--audio-source",
      "test", "--local-address", "127.0.0.1", "--duration", "12", NULL);
  CHECK(h.proc);
  h.in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(h.proc));
  g_data_input_stream_read_line_async(h.in, G_PRIORITY_DEFAULT, NULL, on_host_line, &h);
  bool expired = false;
  guint t = g_timeout_add(60000, expire, &expired);
  while (!(h.eof && (!h.guest.proc || h.guest.done)) && !expired)
    g_main_context_iteration(NULL, TRUE);
  if (!expired)
    g_source_remove(t);
  CHECK(!expired);
  CHECK(g_subprocess_wait(h.proc, NULL, NULL));
  bool ok = h.guest.proc && g_subprocess_get_if_exited(h.proc) &&
            g_subprocess_get_exit_status(h.proc) == 0 &&
            lines_with(h.out->str, "room clinic is open on this machine") == 1 &&
            lines_with(h.out->str, "Mentee: end-to-end encrypted") == 1 &&
            lines_with(h.guest.out, "Mentor: end-to-end encrypted") == 1 &&
            !strstr(h.out->str, "event=join"); /* the embedded server logs warnings only */
  printf("%s mentorlink host, and a join from the command it printed\n", ok ? "ok  " : "FAIL");
  if (!ok)
    fprintf(stderr, "host printed:\n%s\nguest printed:\n%s\n", h.out->str,
            h.guest.out ? h.guest.out : "(not started)");
  CHECK(ok);
  CHECK(h.guest.proc && g_subprocess_get_if_exited(h.guest.proc) &&
        g_subprocess_get_exit_status(h.guest.proc) == 0);
  g_clear_object(&h.guest.proc);
  g_free(h.guest.out);
  g_object_unref(h.in);
  g_object_unref(h.proc);
  g_string_free(h.out, TRUE);
}

/* The first line of out (owned), for a program that prints one result. */
static char *first_line(const char *out) { return g_strndup(out, strcspn(out, "\n")); }

/* A path in dir holding text (0600). */
static char *write_file(const char *dir, const char *name, const char *text) {
  char *path = g_build_filename(dir, name, NULL);
  CHECK(g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  return path;
}

/* A token-mode server: `mentorlink-signal invite` makes links (for hosts,
 * so that nobody waits to be admitted) (and a .ics
 * file, 0600), joined from the environment, from a file and as an argument;
 * an invite for later is refused saying from when; a token from a file
 * joins; a link that is not one is a usage error. */
static void invites(const char *dir) {
  sig_server t;
  sig_server_start(&t, "", NULL);
  g_autofree char *url = g_strdup_printf("ws://127.0.0.1:%u/v1/ws", t.port);
  g_autofree char *ics = g_build_filename(dir, "session.ics", NULL);
  const char *quiet[] = {"--headless", "--video-source", "none", "--audio-source",
                         "none",       "--duration",     "2"};

  run_result inv =
      run_signal("invite", "--config", t.config_path, "--server", url, "--room", "ward-7", "--role",
                 "host", "--name", "Nurse Ünal", "--ics", ics, NULL);
  g_autofree char *link = first_line(inv.out);
  g_autofree char *ics_text = NULL;
  GStatBuf st;
  bool inv_ok = inv.status == 0 && g_str_has_prefix(link, "mentorlink://join?server=ws://") &&
                strstr(inv.err, "admits from") && g_stat(ics, &st) == 0 &&
                (st.st_mode & 0777) == 0600 && g_file_get_contents(ics, &ics_text, NULL, NULL) &&
                strstr(ics_text, "BEGIN:VEVENT\r\n") && strstr(ics_text, "\r\nURL:mentorlink://");
  printf("%s mentorlink-signal invite, with a calendar file (exit %d)\n", inv_ok ? "ok  " : "FAIL",
         inv.status);
  if (!inv_ok)
    fprintf(stderr, "printed:\n%s%s\n", inv.out, inv.err);
  g_free(inv.out);
  g_free(inv.err);
  CHECK(inv_ok);
  expect(run_signal("invite", "--config", t.config_path, "--server", url, "--room", "ward-7",
                    "--role", "participant", "--name", "N", "--ics", ics, NULL),
         1, "cannot create", NULL, "an invite whose calendar file exists already");
  expect(run_env("MENTORLINK_INVITE", link, "join", quiet[0], quiet[1], quiet[2], quiet[3],
                 quiet[4], quiet[5], quiet[6], NULL),
         3, "joined room ward-7 as \"Nurse Ünal\"", NULL, "join from MENTORLINK_INVITE");
  expect(
      run("join", link, quiet[0], quiet[1], quiet[2], quiet[3], quiet[4], quiet[5], quiet[6], NULL),
      3, "joined room ward-7", NULL, "join LINK");

  g_autoptr(GDateTime) later = g_date_time_add_hours(g_date_time_new_now_local(), 2);
  g_autofree char *from = g_date_time_format(later, "%Y-%m-%d %H:%M");
  run_result early =
      run_signal("invite", "--config", t.config_path, "--server", url, "--room", "ward-7", "--role",
                 "participant", "--name", "Nurse", "--from", from, NULL);
  CHECK(early.status == 0);
  g_autofree char *early_file = write_file(dir, "early.invite", early.out);
  g_free(early.out);
  g_free(early.err);
  expect(run("join", "--invite-file", early_file, quiet[0], quiet[1], quiet[2], quiet[3], quiet[4],
             quiet[5], quiet[6], NULL),
         1, "token_not_yet_valid: the token is valid from", "retrying",
         "an invite for a session two hours from now");

  run_result tok = run_signal("token", "--config", t.config_path, "--room", "ward-7", "--role",
                              "host", "--name", "Nurse", "--ttl", "60", NULL);
  CHECK(tok.status == 0);
  g_autofree char *tok_file = write_file(dir, "token", tok.out);
  g_free(tok.out);
  g_free(tok.err);
  expect(run("join", "--server", url, "--token-file", tok_file, quiet[0], quiet[1], quiet[2],
             quiet[3], quiet[4], quiet[5], quiet[6], NULL),
         3, "joined room ward-7", NULL, "join --token-file");

  /* An invitation for a scheduled session that ends in 4 s: the call ends
   * then by itself, no --duration given. */
  ml_token_claims sc = {.role = ML_TOKEN_ROLE_HOST,
                        .not_before = g_get_real_time() / G_USEC_PER_SEC - 60,
                        .expiry = g_get_real_time() / G_USEC_PER_SEC + 4};
  g_strlcpy(sc.room, "ward-7", sizeof sc.room);
  g_strlcpy(sc.name, "Nurse", sizeof sc.name);
  char *scheduled = NULL;
  CHECK(ml_token_issue((const uint8_t *)TEST_SECRET, strlen(TEST_SECRET), &sc, &scheduled) ==
        ML_OK);
  expect(run_bounded("30", MENTORLINK_BIN, "join", "--server", url, "--token", scheduled, quiet[0],
                     quiet[1], quiet[2], quiet[3], quiet[4], NULL),
         3, "the session is scheduled to end at", NULL,
         "join with an invitation that ends in 4 s, no --duration");
  free(scheduled);
  expect(run("open", NULL), 2, "open the invite link", NULL, "open without a link");
  expect(run("open", "mentorlink://join?room=r", NULL), 2, "This link cannot be used", NULL,
         "open with a link that names no server");
  expect(run("join", "mentorlink://join?server=http://127.0.0.1:1/&room=r", NULL), 2,
         "the invite link cannot be used: it names no ws:// or wss:// server", NULL,
         "a link with an http:// server");
  sig_server_stop(&t);
  g_unlink(ics);
  g_unlink(early_file);
  g_unlink(tok_file);
}

int main(void) {
  g_autofree char *dir = g_dir_make_tmp("mlclijoin-XXXXXX", NULL);
  data_home = g_build_filename(dir, "data", NULL);
  config_home = g_build_filename(dir, "config", NULL);
  CHECK(g_mkdir_with_parents(data_home, 0700) == 0);
  g_autofree char *config_dir = g_build_filename(config_home, "mentorlink", NULL);
  CHECK(g_mkdir_with_parents(config_dir, 0700) == 0);

  run_result dev = run("devices", NULL);
  bool dev_ok = dev.status == 0 && strstr(dev.out, "camera") && strstr(dev.out, "microphone");
  printf("%s devices (exit %d)\n", dev_ok ? "ok  " : "FAIL", dev.status);
  g_free(dev.out);
  g_free(dev.err);
  CHECK(dev_ok);
  run_result help = run("join", "--help", NULL);
  bool help_ok = help.status == 0 && strstr(help.out, "--ca-file") && !help.err[0];
  printf("%s join --help (exit %d)\n", help_ok ? "ok  " : "FAIL", help.status);
  g_free(help.out);
  g_free(help.err);
  CHECK(help_ok);
  expect(run("join", "--server", "http://127.0.0.1:1/v1/ws", "--room", "r", "--name", "n", NULL), 2,
         "--server wants a ws:// or wss:// address", NULL, "an http:// server");
  expect(
      run("join", "--server", "ws://127.0.0.1:1/v1/ws", "--room", "bad room", "--name", "n", NULL),
      2, "--room is 1-64 letters", NULL, "a room code with a space");
  expect(run("join", "--server", "ws://127.0.0.1:1/v1/ws", "--room", "r", "--name", "n",
             "--ca-file", "/nonexistent/ca.pem", NULL),
         2, "--ca-file cannot be used", NULL, "a missing --ca-file");

  char *cert = NULL, *key = NULL;
  sig_make_cert(dir, "IP:127.0.0.1", &cert, &key);
  g_autofree char *conf = g_strdup_printf("tls_cert = %s\ntls_key = %s\nopen = true\n", cert, key);
  sig_server s;
  sig_server_start(&s, conf, NULL);
  g_autofree char *no_path = g_strdup_printf("wss://127.0.0.1:%u/", s.port);
  g_autofree char *url = g_strdup_printf("wss://127.0.0.1:%u/v1/ws", s.port);
  const char *quiet[] = {"--headless", "--video-source", "none", "--audio-source", "none"};
  expect(run("join", "--server", no_path, "--ca-file", cert, "--room", "cli", "--name", "Nurse",
             quiet[0], quiet[1], quiet[2], quiet[3], quiet[4], "--duration", "20", NULL),
         1, "answered 404 Not Found: the signaling address ends in /v1/ws", "retrying",
         "an address without /v1/ws");
  expect(run("join", "--server", url, "--room", "cli", "--name", "Nurse", quiet[0], quiet[1],
             quiet[2], quiet[3], quiet[4], "--duration", "20", NULL),
         1, "self-signed", "retrying", "a self-signed certificate");
  expect(run("join", "--server", url, "--ca-file", cert, "--room", "cli", "--name", "Nurse",
             quiet[0], quiet[1], quiet[2], quiet[3], quiet[4], "--duration", "2", NULL),
         3, NULL, "certificate", "the same server with --ca-file");
  /* The same from the client config file: server and CA file. */
  g_autofree char *client_conf = g_strdup_printf("[join]\nserver = %s\nca_file = %s\n", url, cert);
  g_autofree char *conf_file = write_file(config_dir, "mentorlink.conf", client_conf);
  expect(run("join", "--room", "cli", "--name", "Nurse", quiet[0], quiet[1], quiet[2], quiet[3],
             quiet[4], "--duration", "2", NULL),
         3, NULL, "certificate", "server and CA file from the client config");
  g_unlink(conf_file);
  text_mode_call(url, cert);
  sig_server_stop(&s);
  host_call(cert);
  invites(dir);

  g_unlink(cert);
  g_unlink(key);
  g_free(cert);
  g_free(key);
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
  g_free(data_home);
  g_free(config_home);
  printf("PASS\n");
  return 0;
}
