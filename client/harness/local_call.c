/* mentorlink — a call on this machine: embedded server, participant
 * arguments (see local_call.h). */
#include "local_call.h"

#include <stdio.h>
#include <string.h>

int ml_local_server_start(ml_local_server *ls, const char *who) {
  return ml_local_server_start_at(ls, who, "127.0.0.1");
}

int ml_local_server_start_at(ml_local_server *ls, const char *who, const char *address) {
  memset(ls, 0, sizeof *ls);
  ml_signal_config_init(&ls->cfg);
  g_free(ls->cfg.listen_host);
  ls->cfg.listen_host = g_strdup(address);
  ls->cfg.insecure_listen = strcmp(address, "127.0.0.1") != 0;
  ls->cfg.listen_port = 0;
  ls->cfg.open_mode = true;
  ls->cfg.auto_admit = true;
  ls->cfg.room_capacity = 16; /* groups of 9 (test_group_call) and more */
  char *errmsg = NULL;
  if (ml_signal_server_new(&ls->srv, &ls->cfg) != 0 ||
      ml_signal_server_start(ls->srv, &errmsg) != 0) {
    fprintf(stderr, "%s: the signaling server did not start: %s\n", who, errmsg ? errmsg : "?");
    g_free(errmsg);
    ml_local_server_stop(ls);
    return -1;
  }
  ls->port = ml_signal_server_port(ls->srv);
  g_snprintf(ls->url, sizeof ls->url, "ws://%s:%u/v1/ws", address, ls->port);
  return 0;
}

void ml_local_server_stop(ml_local_server *ls) {
  ml_signal_server_free(ls->srv);
  ls->srv = NULL;
  ml_signal_config_clear(&ls->cfg);
}

void ml_local_join_args(GPtrArray *argv, const char *exe, const char *url, const char *room,
                        const char *name, gboolean headless) {
  ml_local_join_args_at(argv, exe, url, room, name, headless, "127.0.0.1");
}

void ml_local_join_args_at(GPtrArray *argv, const char *exe, const char *url, const char *room,
                           const char *name, gboolean headless, const char *address) {
  const char *args[] = {
      exe,    "join",   "--server",       url,    "--room",         room,   "--name",
      name,   "--json", "--video-source", "test", "--audio-source", "test", "--local-address",
      address};
  for (size_t i = 0; i < G_N_ELEMENTS(args); i++)
    g_ptr_array_add(argv, g_strdup(args[i]));
  if (headless)
    g_ptr_array_add(argv, g_strdup("--headless"));
}
