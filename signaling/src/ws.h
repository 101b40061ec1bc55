/* mentorlink-signal — WebSocket connections on one epoll set per worker.
 *
 * Why not libsoup's SoupWebsocketConnection: each one is a GSource of its
 * own, and GLib's main loop prepares, polls and checks every source on every
 * pass, while libsoup 3.2 also destroys and re-creates that source on every
 * read (an insertion into the context's fd-sorted poll list). At 10,000
 * connections a pass cost ~17 ms of CPU (perf: g_main_context_check,
 * g_source_ref, g_main_context_prepare, the poll-list walk and the kernel's
 * sock_poll over every fd), and a relay waited for several passes. Here a
 * worker's connections are one epoll set behind one GSource: a pass costs
 * what is ready, not what is open. libsoup still serves HTTP and the upgrade
 * handshake; the connection is taken over after the 101 response.
 *
 * Frames are parsed by ws_frame.h. The stream may be TLS: reads and writes go
 * through the GIOStream's pollable streams; epoll watches the socket under it,
 * and every read drains the stream to G_IO_ERROR_WOULD_BLOCK (TLS may hold
 * decrypted bytes the socket no longer shows).
 *
 * Threads: a loop and its connections belong to the thread that runs the
 * loop's GMainContext; every function here is for that thread only, except
 * that ml_ws_free of a connection on a quiesced loop may run anywhere.
 * Callbacks run from the loop's dispatch, never from inside an ml_ws_ call,
 * so a callback may send on, close or free any connection, its own included.
 */
#ifndef ML_SIGNAL_WS_H
#define ML_SIGNAL_WS_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>

typedef struct ml_ws_loop ml_ws_loop;
typedef struct ml_ws ml_ws;

typedef enum {
  ML_WS_STATE_OPEN,
  ML_WS_STATE_CLOSING, /* a close frame was sent or received: nothing more is delivered */
  ML_WS_STATE_CLOSED,  /* the socket is closed; `closed` has run or is about to */
} ml_ws_state;

typedef struct ml_ws_callbacks {
  /* A complete message; text is UTF-8 (not NUL-terminated). */
  void (*message)(ml_ws *ws, bool text, const char *data, size_t len, void *user);
  void (*pong)(ml_ws *ws, void *user);
  /* Once, last: code is the peer's close code, else the one we closed with,
   * else ML_WS_CLOSE_ABNORMAL (the connection broke). */
  void (*closed)(ml_ws *ws, unsigned short code, void *user);
} ml_ws_callbacks;

/* Attaches the loop's source to ctx (any thread, before ctx runs elsewhere). */
ml_ws_loop *ml_ws_loop_new(GMainContext *ctx);
/* Closes every connection's socket at once and silences the loop: no
 * callback runs after it. The connections stay allocated for ml_ws_free. */
void ml_ws_loop_quiesce(ml_ws_loop *loop);
/* Quiesces (if not yet), frees the released connections (ml_ws_release) and
 * drops the owner's reference: the loop's memory goes with its last
 * connection's ml_ws_free. */
void ml_ws_loop_free(ml_ws_loop *loop);

/* Takes over a connection after the upgrade: io (a reference is taken; reads
 * and writes), sock (the socket under it, watched by epoll). Messages over
 * max_message bytes close it with 1009; keepalive_s > 0 sends a ping after
 * that many seconds. Bytes io already holds are read at once. */
ml_ws *ml_ws_new(ml_ws_loop *loop, GIOStream *io, GSocket *sock, uint64_t max_message,
                 unsigned keepalive_s, const ml_ws_callbacks *cb, void *user);
/* Hands ws to its loop: freed after its `closed` callback, or with the loop.
 * The caller must not touch ws once control returns to the loop. */
void ml_ws_release(ml_ws *ws);
/* Changes the limits of an open connection (config reload). */
void ml_ws_set_limits(ml_ws *ws, uint64_t max_message, unsigned keepalive_s);
/* Queues a text frame and writes what the socket takes; OPEN only, else
 * nothing. A peer that leaves more than 4 MiB unread is disconnected. */
void ml_ws_send_text(ml_ws *ws, const char *text, size_t len);
/* Sends a close frame (code, optional reason) and waits up to 5 s for the
 * peer's; OPEN only, else nothing. */
void ml_ws_close(ml_ws *ws, unsigned short code, const char *reason);
/* Closes the socket now, without a close frame (`closed`: 1006). */
void ml_ws_abort(ml_ws *ws);
/* Frees ws (closing its socket if still open); no callback runs for it after. */
void ml_ws_free(ml_ws *ws);

#endif /* ML_SIGNAL_WS_H */
