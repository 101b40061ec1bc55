/* mentorlink-signal — the worker threads, delivery of what the server queued
 * under its lock, and graceful drain.
 *
 * Threads. Connections are spread over `workers` threads, each with its own
 * GMainContext, SoupServer (HTTP and the upgrade) and epoll set of WebSocket
 * connections (ws.h); with workers = 0 one worker runs on the caller's
 * context (the embedded mode).
 *
 * Deliveries. Nothing calls into libsoup while holding srv->lock: what must
 * be sent is queued (text + optional close) in the locking worker's queue and
 * flushed after unlocking — directly for that worker's own connections, by one
 * invoke per other worker.
 *
 * Drain. Every connection is told "shutdown" (reconnect after a spread
 * delay) and closed; the drained callback runs on the main context once the
 * last connection is gone or drain_timeout_ms has passed.
 */
#ifndef ML_SIGNAL_WORKERS_H
#define ML_SIGNAL_WORKERS_H

#include "server_internal.h"

/* Called once per worker, on the starting thread, before the worker's thread
 * runs: sets up what serves on w->ctx (its SoupServer, timers). */
typedef void (*ml_srv_serve_cb)(worker *w);

/* Main context: creates srv->workers: `threads` threads with their own
 * contexts, or (threads = 0) one worker on srv->main_ctx. */
void ml_srv_workers_start(ml_signal_server *srv, unsigned threads, ml_srv_serve_cb serve);
/* Main context, with srv->stopping set: silences every worker, joins the
 * threads, frees every worker and its connections. */
void ml_srv_workers_stop(ml_signal_server *srv);
/* Main context: applies cfg's per-connection limits (message rate, frame
 * size, keepalive) to every open connection, each on its worker's thread. */
void ml_srv_workers_reconfigure(ml_signal_server *srv, const ml_signal_config *cfg);

/* Takes srv->lock for w: what the room sink queues goes to w's queue. */
void ml_srv_lock(ml_signal_server *srv, worker *w);
void ml_srv_unlock(ml_signal_server *srv);
/* Under lock: queues text (transfer full; may be NULL) and/or a close for c. */
void ml_srv_enqueue(ml_signal_server *srv, conn *c, char *text, unsigned short close_code);
/* Owner thread of w, lock NOT held: sends what w queued. */
void ml_srv_flush(worker *w);

/* Under lock, any thread: once, schedules the drained callback on the main
 * context (when draining and the last connection is gone). */
void ml_srv_post_drained(ml_signal_server *srv);

#endif /* ML_SIGNAL_WORKERS_H */
