/* The parts of a call on this machine that `mentorlink demo`, the call tests
 * and bench_call share: the signaling server embedded on loopback, and the
 * head of a test participant's `mentorlink join` command line.
 *
 * Threads: ml_local_server_start must run on the thread whose
 * thread-default main context is iterated (the server attaches there, see
 * ml/signal_server.h); stop it on the same thread. */
#ifndef ML_HARNESS_LOCAL_CALL_H
#define ML_HARNESS_LOCAL_CALL_H

#include <glib.h>

#include "ml/signal_server.h"

typedef struct ml_local_server {
  ml_signal_config cfg;
  ml_signal_server *srv;
  unsigned port;
  char url[64]; /* ws://ADDRESS:PORT/v1/ws */
} ml_local_server;

/* Starts the signaling server in this process on 127.0.0.1 at a free port,
 * open mode, admitting everyone (no host sits at a keyboard). Returns 0, or
 * -1 after printing "WHO: the signaling server did not start: REASON" to
 * stderr (nothing to stop then). */
int ml_local_server_start(ml_local_server *ls, const char *who);
/* The same on address (an IPv4 literal; plain ws, as on a clinic LAN). */
int ml_local_server_start_at(ml_local_server *ls, const char *who, const char *address);
void ml_local_server_stop(ml_local_server *ls);

/* Appends to argv (an array that frees its elements with g_free):
 *   EXE join --server URL --room ROOM --name NAME --json --video-source test
 *   --audio-source test --local-address 127.0.0.1 [--headless]
 * The caller appends its own options, then NULL. */
void ml_local_join_args(GPtrArray *argv, const char *exe, const char *url, const char *room,
                        const char *name, gboolean headless);
/* The same with --local-address address. */
void ml_local_join_args_at(GPtrArray *argv, const char *exe, const char *url, const char *room,
                           const char *name, gboolean headless, const char *address);

#endif /* ML_HARNESS_LOCAL_CALL_H */
