/* mentorlink-signal: the daemon and its admin subcommand.
 *
 *   mentorlink-signal [--listen ADDR:PORT] [--config FILE] [--open] [--insecure-listen]
 *   mentorlink-signal token --room R --role host|participant --name N --ttl S [--config FILE]
 *   mentorlink-signal invite --room R --role ROLE --name N [--server URL] [--from T] [--until T]
 *                            [--ics FILE] [--config FILE]
 *   mentorlink-signal --version
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib.h>
#include <sodium.h>

#include "admin.h"
#include "log.h"
#include "ml/signal_server.h"

typedef struct daemon_ctx {
  GMainLoop *loop;
  ml_signal_server *srv;
  const char *config_path;
  bool draining;
} daemon_ctx;

static void on_drained(void *user) {
  daemon_ctx *d = user;
  g_main_loop_quit(d->loop);
}

static gboolean on_term(gpointer user) {
  daemon_ctx *d = user;
  if (d->draining) { /* a second signal: stop now */
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
  }
  d->draining = true;
  ml_signal_server_drain(d->srv, on_drained, d);
  return G_SOURCE_CONTINUE;
}

static gboolean on_hup(gpointer user) {
  daemon_ctx *d = user;
  if (!d->config_path) {
    ml_log(ML_LOG_INFO, "reload_skipped", " reason=no_config_file");
    return G_SOURCE_CONTINUE;
  }
  ml_signal_config cfg;
  ml_signal_config_init(&cfg);
  char *err = NULL;
  int rc = ml_signal_config_load(&cfg, d->config_path, &err);
  if (rc == ML_OK)
    rc = ml_signal_server_reload(d->srv, &cfg);
  if (rc != ML_OK)
    ml_log(ML_LOG_ERROR, "reload_failed", " error=\"%s\" note=\"keeping the old config\"",
           err ? err : ml_strerror(rc));
  g_free(err);
  ml_signal_config_clear(&cfg);
  return G_SOURCE_CONTINUE;
}

/* The level named s (the process's and the server's), or -1. */
static int set_log_level(const char *s) {
  static const char *const names[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, names[i])) {
      ml_log_set_level((ml_log_level)i);
      return i;
    }
  return -1;
}

int main(int argc, char **argv) {
  if (sodium_init() < 0)
    return 1;
  if (argc > 1 && !strcmp(argv[1], "token"))
    return ml_admin_token(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "invite"))
    return ml_admin_invite(argc - 1, argv + 1);

  char *listen = NULL, *config = NULL, *log_level = NULL, *backend = NULL, *redis_url = NULL;
  gboolean open_mode = FALSE, insecure = FALSE, version = FALSE;
  GOptionEntry entries[] = {
      {"listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
       "Address to listen on, IP:PORT or [IPv6]:PORT; port 0 picks a free one (default "
       "127.0.0.1:8443, or [server] listen)",
       "ADDR:PORT"},
      {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
       "INI config file (see mentorlink-signal.conf.example); SIGHUP reloads it", "FILE"},
      {"open", 0, 0, G_OPTION_ARG_NONE, &open_mode,
       "Open mode: join by room code (+ optional room secret) instead of signed tokens", NULL},
      {"insecure-listen", 0, 0, G_OPTION_ARG_NONE, &insecure,
       "Allow plain ws (no TLS) on a non-loopback address; logged as a warning", NULL},
      {"log-level", 0, 0, G_OPTION_ARG_STRING, &log_level, "debug, info (default), warn or error",
       "LEVEL"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend,
       "Where rooms live: memory (this process, default) or redis (shared by instances)",
       "memory|redis"},
      {"redis-url", 0, 0, G_OPTION_ARG_STRING, &redis_url,
       "Redis for --backend redis: redis://HOST[:PORT][/DB] (default redis://127.0.0.1:6379/0; "
       "put a password in the config file, [redis] password)",
       "URL"},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  GOptionContext *octx =
      g_option_context_new("[token --help | invite --help] - mentorlink signaling server");
  g_option_context_set_summary(
      octx, "Introduces mentorlink peers over WebSocket (/v1/ws); serves /healthz and /metrics.\n"
            "Subcommands: 'mentorlink-signal token --room R --role host|participant --name N "
            "--ttl SECONDS [--config FILE]'\nissues a signed join token; 'mentorlink-signal "
            "invite --room R --role ROLE --name N --server URL\n[--from TIME] [--until TIME] "
            "[--ics FILE]' an invite link holding one (see --help of each).");
  g_option_context_set_description(
      octx, "Signals: SIGTERM/SIGINT drain gracefully (clients are told to reconnect), a second "
            "one exits at once;\nSIGHUP reloads the config file. The bound port is printed on "
            "stdout as 'port=N'.");
  g_option_context_add_main_entries(octx, entries, NULL);
  GError *err = NULL;
  int status = 1;
  ml_signal_config cfg;
  ml_signal_config_init(&cfg);
  /* The daemon serves from one worker thread and accepts, handles signals
   * and timers on the main thread, unless the config says otherwise. */
  cfg.workers = 1;
  daemon_ctx d = {0};
  if (!g_option_context_parse(octx, &argc, &argv, &err)) {
    fprintf(stderr, "mentorlink-signal: %s\n", err->message);
    g_error_free(err);
    status = 2;
    goto out;
  }
  if (argc > 1) {
    fprintf(stderr, "mentorlink-signal: unexpected argument %s\n", argv[1]);
    status = 2;
    goto out;
  }
  if (version) {
    printf("mentorlink-signal %s\n", ML_VERSION);
    status = 0;
    goto out;
  }
  int level = log_level ? set_log_level(log_level) : ML_SIGNAL_LOG_INFO;
  if (level < 0) {
    fprintf(stderr, "mentorlink-signal: bad --log-level\n");
    status = 2;
    goto out;
  }
  if (config) {
    char *msg = NULL;
    if (ml_signal_config_load(&cfg, config, &msg) != ML_OK) {
      fprintf(stderr, "mentorlink-signal: %s\n", msg);
      g_free(msg);
      goto out;
    }
  }
  if (listen && ml_signal_config_set_listen(&cfg, listen) != ML_OK) {
    fprintf(stderr, "mentorlink-signal: --listen wants IP:PORT\n");
    status = 2;
    goto out;
  }
  cfg.log_level = (ml_signal_log_level)level;
  if (backend && strcmp(backend, "memory") && strcmp(backend, "redis")) {
    fprintf(stderr, "mentorlink-signal: --backend wants memory or redis\n");
    status = 2;
    goto out;
  }
  if (backend)
    cfg.backend =
        strcmp(backend, "redis") == 0 ? ML_SIGNAL_BACKEND_REDIS : ML_SIGNAL_BACKEND_MEMORY;
  if (redis_url) {
    g_free(cfg.redis_url);
    cfg.redis_url = g_strdup(redis_url);
  }
  if (cfg.backend == ML_SIGNAL_BACKEND_REDIS) {
    char *why = NULL;
    if (ml_signal_config_check_redis(&cfg, &why) != ML_OK) {
      fprintf(stderr, "mentorlink-signal: Redis URL: %s\n", why);
      g_free(why);
      status = 2;
      goto out;
    }
  }
  if (open_mode)
    cfg.open_mode = true;
  if (insecure)
    cfg.insecure_listen = true;
  if (!cfg.open_mode && !cfg.token_secret) {
    fprintf(stderr, "mentorlink-signal: token mode needs a [tokens] secret of at least 32 "
                    "characters in the config (--config FILE); for rooms joined by room code "
                    "instead of tokens, set [server] open = true or pass --open\n");
    goto out;
  }

  /* A peer closing its socket must not kill the daemon. */
  signal(SIGPIPE, SIG_IGN);
  if (ml_signal_server_new(&d.srv, &cfg) != ML_OK)
    goto out;
  /* Handlers first: whoever reads "port=" may signal us at once, and an
   * unhandled SIGHUP would kill the process. */
  d.loop = g_main_loop_new(NULL, FALSE);
  d.config_path = config;
  guint s1 = g_unix_signal_add(SIGTERM, on_term, &d);
  guint s2 = g_unix_signal_add(SIGINT, on_term, &d);
  guint s3 = g_unix_signal_add(SIGHUP, on_hup, &d);
  char *msg = NULL;
  if (ml_signal_server_start(d.srv, &msg) != ML_OK) {
    fprintf(stderr, "mentorlink-signal: %s\n", msg);
    g_free(msg);
    g_source_remove(s1);
    g_source_remove(s2);
    g_source_remove(s3);
    goto out;
  }
  printf("port=%u\n", ml_signal_server_port(d.srv));
  fflush(stdout);
  g_main_loop_run(d.loop);
  g_source_remove(s1);
  g_source_remove(s2);
  g_source_remove(s3);
  ml_log(ML_LOG_INFO, "exit", NULL);
  status = 0;
out:
  ml_signal_server_free(d.srv);
  if (d.loop)
    g_main_loop_unref(d.loop);
  ml_signal_config_clear(&cfg);
  g_option_context_free(octx);
  g_free(listen);
  g_free(config);
  g_free(log_level);
  g_free(backend);
  g_free(redis_url);
  return status;
}
