/* cli.join_errors: what `mentorlink join` says when it cannot join, run as a
 * user runs it (the real program, a real mentorlink-signal on 127.0.0.1).
 *
 * Checks, each by exit status and message: `join --help` prints the help
 * (exit 0); a --server that is not ws:// or wss://, a --room the server
 * would refuse and a --ca-file that holds no certificate are usage errors
 * naming the flag (exit 2); an address without /v1/ws stops at once with the
 * 404 and the fix (exit 1, no retries); a self-signed certificate stops at
 * once saying so and naming --ca-file (exit 1); with that certificate as
 * --ca-file the same server is joined (exit 3: joined, nobody else came). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sigclient.h"

typedef struct run_result {
  int status; /* exit status, -1 if it did not exit */
  char *out, *err;
} run_result;

static char *data_home;

/* Runs mentorlink with argv (NULL-terminated, after the program name), its
 * data in a fresh XDG_DATA_HOME; bounded by --duration where it joins. */
static run_result run(const char *first, ...) {
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(a, g_strdup(MENTORLINK_BIN));
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *))
    g_ptr_array_add(a, g_strdup(s));
  va_end(ap);
  g_ptr_array_add(a, NULL);
  char **env = g_environ_setenv(g_get_environ(), "XDG_DATA_HOME", data_home, TRUE);
  env = g_environ_unsetenv(env, "MENTORLINK_ROOM_SECRET");
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

int main(void) {
  g_autofree char *dir = g_dir_make_tmp("mlclijoin-XXXXXX", NULL);
  data_home = g_build_filename(dir, "data", NULL);
  CHECK(g_mkdir_with_parents(data_home, 0700) == 0);

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
  sig_server_stop(&s);

  g_unlink(cert);
  g_unlink(key);
  g_free(cert);
  g_free(key);
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
  g_free(data_home);
  printf("PASS\n");
  return 0;
}
