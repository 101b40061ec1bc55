/* WebSocket connections on one epoll set per worker. See ws.h. */
#include "ws.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ws_frame.h"

#define READ_CHUNK 16384
#define READ_BUDGET ((size_t)256 * 1024) /* per connection and pass: no peer holds the loop */
#define MAX_UNSENT (4u << 20)
#define CLOSE_WAIT_US ((int64_t)5 * G_USEC_PER_SEC)
#define TICK_US G_USEC_PER_SEC
#define EPOLL_BATCH 256

struct ml_ws_loop {
  GSource *src;
  int epfd;
  GHashTable *all;      /* ml_ws* set, for ticks and quiesce */
  GQueue pending;       /* ml_ws* with work left: more to read, or `closed` to run */
  GPtrArray *graveyard; /* freed during a dispatch: released at its end */
  unsigned refs;        /* the owner's + one per connection */
  bool dispatching;
  bool quiesced;
  int64_t next_tick_us;
};

struct ml_ws {
  ml_ws_loop *loop;
  GIOStream *io; /* NULL once closed */
  GSocket *sock;
  int fd;
  const ml_ws_callbacks *cb;
  void *user;
  ml_ws_state state;
  ml_ws_reader reader;
  GByteArray *out; /* frames not yet written */
  size_t out_pos;
  bool want_out;         /* EPOLLOUT is in the epoll set */
  bool shut_after_flush; /* the close handshake is done once `out` is written */
  bool read_again;       /* READ_BUDGET ran out with bytes left */
  bool queued;           /* in loop->pending */
  bool notified;         /* `closed` ran (or never will: quiesced) */
  bool freed;            /* ml_ws_free ran during a dispatch */
  bool loop_owned;       /* freed by the loop after `closed` (ml_ws_release) */
  unsigned short close_code;
  unsigned keepalive_s;
  int64_t last_ping_us;
  int64_t close_deadline_us;
};

/* ---- state ---- */

static void queue_work(ml_ws *ws) {
  if (ws->queued)
    return;
  ws->queued = true;
  g_queue_push_tail(&ws->loop->pending, ws);
  if (!ws->loop->dispatching && ws->loop->src)
    g_source_set_ready_time(ws->loop->src, 0);
}

/* Closes the socket under ws now (no TLS close_notify, nothing more sent). */
static void drop_socket(ml_ws *ws) {
  if (!ws->io)
    return;
  epoll_ctl(ws->loop->epfd, EPOLL_CTL_DEL, ws->fd, NULL);
  g_socket_close(ws->sock, NULL);
  g_clear_object(&ws->io);
}

static void io_closed(GObject *src, GAsyncResult *res, gpointer user) {
  (void)user;
  g_io_stream_close_finish(G_IO_STREAM(src), res, NULL);
  g_object_unref(src);
}

/* The one place the state changes. CLOSED closes the stream (gracefully
 * unless `hard`) and queues the `closed` callback. */
static void set_state(ml_ws *ws, ml_ws_state state, bool hard) {
  if (ws->state == ML_WS_STATE_CLOSED || ws->state == state)
    return;
  ws->state = state;
  if (state == ML_WS_STATE_CLOSING) {
    ws->close_deadline_us = g_get_monotonic_time() + CLOSE_WAIT_US;
    return;
  }
  if (!ws->close_code)
    ws->close_code = ML_WS_CLOSE_ABNORMAL;
  if (hard) {
    drop_socket(ws);
  } else if (ws->io) {
    epoll_ctl(ws->loop->epfd, EPOLL_CTL_DEL, ws->fd, NULL);
    GIOStream *io = ws->io;
    ws->io = NULL;
    g_io_stream_close_async(io, G_PRIORITY_DEFAULT, NULL, io_closed, NULL);
  }
  g_byte_array_set_size(ws->out, 0);
  ws->out_pos = 0;
  queue_work(ws);
}

/* ---- output ---- */

static void watch_output(ml_ws *ws, bool on) {
  if (ws->want_out == on || !ws->io)
    return;
  ws->want_out = on;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.ptr = ws};
  epoll_ctl(ws->loop->epfd, EPOLL_CTL_MOD, ws->fd, &ev);
}

static void flush(ml_ws *ws) {
  GOutputStream *os = ws->io ? g_io_stream_get_output_stream(ws->io) : NULL;
  while (os && ws->out_pos < ws->out->len) {
    GError *err = NULL;
    gssize n = g_pollable_output_stream_write_nonblocking(G_POLLABLE_OUTPUT_STREAM(os),
                                                          ws->out->data + ws->out_pos,
                                                          ws->out->len - ws->out_pos, NULL, &err);
    if (n < 0) {
      bool again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_error_free(err);
      if (again) {
        watch_output(ws, true);
        return;
      }
      set_state(ws, ML_WS_STATE_CLOSED, true);
      return;
    }
    ws->out_pos += (size_t)n;
  }
  g_byte_array_set_size(ws->out, 0);
  ws->out_pos = 0;
  watch_output(ws, false);
  if (ws->shut_after_flush)
    set_state(ws, ML_WS_STATE_CLOSED, false);
}

/* Queues one frame; false (and the connection dropped) when the peer has
 * left too much unread. */
static bool queue_frame(ml_ws *ws, ml_ws_opcode op, const void *a, size_t alen, const void *b,
                        size_t blen) {
  if (ws->out->len - ws->out_pos + alen + blen > MAX_UNSENT) {
    set_state(ws, ML_WS_STATE_CLOSED, true);
    return false;
  }
  uint8_t h[ML_WS_MAX_HEADER];
  size_t hlen = ml_ws_frame_header(h, op, alen + blen);
  g_byte_array_append(ws->out, h, (guint)hlen);
  if (alen)
    g_byte_array_append(ws->out, a, (guint)alen);
  if (blen)
    g_byte_array_append(ws->out, b, (guint)blen);
  return true;
}

void ml_ws_send_text(ml_ws *ws, const char *text, size_t len) {
  if (ws->state == ML_WS_STATE_OPEN && queue_frame(ws, ML_WS_OP_TEXT, text, len, NULL, 0))
    flush(ws);
}

/* Sends our close frame and moves to CLOSING. */
static void send_close(ml_ws *ws, unsigned short code, const char *reason) {
  uint8_t c[2] = {(uint8_t)(code >> 8), (uint8_t)code};
  size_t rlen = reason ? strlen(reason) : 0;
  if (rlen > ML_WS_MAX_CONTROL - 2)
    rlen = ML_WS_MAX_CONTROL - 2;
  bool has_code = code != ML_WS_CLOSE_NO_STATUS;
  if (!queue_frame(ws, ML_WS_OP_CLOSE, c, has_code ? 2 : 0, reason, has_code ? rlen : 0))
    return;
  set_state(ws, ML_WS_STATE_CLOSING, false);
}

void ml_ws_close(ml_ws *ws, unsigned short code, const char *reason) {
  if (ws->state != ML_WS_STATE_OPEN)
    return;
  ws->close_code = code;
  send_close(ws, code, reason);
  flush(ws);
}

void ml_ws_abort(ml_ws *ws) { set_state(ws, ML_WS_STATE_CLOSED, true); }

/* ---- input ---- */

/* Acts on what the reader has; stops when ws is freed or closed. */
static void handle_events(ml_ws *ws) {
  ml_ws_event ev;
  while (!ws->freed && ws->state != ML_WS_STATE_CLOSED && ml_ws_reader_next(&ws->reader, &ev)) {
    switch (ev.kind) {
    case ML_WS_EV_TEXT:
    case ML_WS_EV_BINARY:
      if (ws->state == ML_WS_STATE_OPEN && ws->cb->message)
        ws->cb->message(ws, ev.kind == ML_WS_EV_TEXT, (const char *)ev.data, ev.len, ws->user);
      break;
    case ML_WS_EV_PING:
      if (ws->state == ML_WS_STATE_OPEN && queue_frame(ws, ML_WS_OP_PONG, ev.data, ev.len, NULL, 0))
        flush(ws);
      break;
    case ML_WS_EV_PONG:
      if (ws->cb->pong)
        ws->cb->pong(ws, ws->user);
      break;
    case ML_WS_EV_CLOSE:
    case ML_WS_EV_ERROR:
      /* Their close is answered with its code; a broken frame with ours. */
      if (ws->state == ML_WS_STATE_OPEN) {
        ws->close_code = ev.code;
        send_close(ws, ev.code, NULL);
      }
      ws->shut_after_flush = true;
      flush(ws);
      break;
    }
  }
}

static void read_some(ml_ws *ws) {
  ws->read_again = false;
  size_t budget = READ_BUDGET;
  while (!ws->freed && ws->io && ws->state != ML_WS_STATE_CLOSED) {
    uint8_t buf[READ_CHUNK];
    GError *err = NULL;
    GInputStream *is = g_io_stream_get_input_stream(ws->io);
    gssize n = g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(is), buf,
                                                        sizeof buf, NULL, &err);
    if (n < 0 && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free(err);
      return;
    }
    g_clear_error(&err);
    if (n <= 0) { /* end of stream or a broken connection */
      set_state(ws, ML_WS_STATE_CLOSED, true);
      return;
    }
    ml_ws_reader_feed(&ws->reader, buf, (size_t)n);
    handle_events(ws);
    if (ws->freed)
      return;
    if ((size_t)n >= budget) {
      ws->read_again = true;
      queue_work(ws);
      return;
    }
    budget -= (size_t)n;
  }
}

/* ---- the loop ---- */

typedef struct loop_source {
  GSource base;
  ml_ws_loop *loop;
} loop_source;

static void tick(ml_ws_loop *loop, int64_t now) {
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, loop->all);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    ml_ws *ws = key;
    if (ws->state == ML_WS_STATE_OPEN && ws->keepalive_s &&
        now - ws->last_ping_us >= (int64_t)ws->keepalive_s * G_USEC_PER_SEC) {
      ws->last_ping_us = now;
      if (queue_frame(ws, ML_WS_OP_PING, NULL, 0, NULL, 0))
        flush(ws);
    } else if (ws->state == ML_WS_STATE_CLOSING && now >= ws->close_deadline_us) {
      set_state(ws, ML_WS_STATE_CLOSED, true);
    }
  }
}

static gboolean loop_dispatch(GSource *src, GSourceFunc cb, gpointer data) {
  (void)cb;
  (void)data;
  ml_ws_loop *loop = ((loop_source *)src)->loop;
  loop->dispatching = true;
  struct epoll_event evs[EPOLL_BATCH];
  int n = epoll_wait(loop->epfd, evs, EPOLL_BATCH, 0);
  for (int i = 0; i < n; i++) {
    ml_ws *ws = evs[i].data.ptr;
    if (ws->freed || ws->state == ML_WS_STATE_CLOSED)
      continue;
    if (evs[i].events & EPOLLOUT)
      flush(ws);
    if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
      read_some(ws);
  }
  /* Work queued before this pass; what these callbacks queue waits for the next. */
  for (guint k = g_queue_get_length(&loop->pending); k > 0 && !loop->quiesced; k--) {
    ml_ws *ws = g_queue_pop_head(&loop->pending);
    if (!ws)
      break; /* a callback freed what was left */
    ws->queued = false;
    if (ws->freed)
      continue;
    if (ws->state == ML_WS_STATE_CLOSED && !ws->notified) {
      ws->notified = true;
      if (ws->cb->closed)
        ws->cb->closed(ws, ws->close_code, ws->user); /* may free ws */
      if (!ws->freed && ws->loop_owned)
        ml_ws_free(ws);
    } else if (ws->read_again) {
      read_some(ws);
    }
  }
  int64_t now = g_get_monotonic_time();
  if (now >= loop->next_tick_us && !loop->quiesced) {
    loop->next_tick_us = now + TICK_US;
    tick(loop, now);
  }
  loop->dispatching = false;
  g_ptr_array_set_size(loop->graveyard, 0);
  if (!loop->quiesced)
    g_source_set_ready_time(src, loop->pending.length ? 0 : loop->next_tick_us);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs loop_funcs = {.dispatch = loop_dispatch};

ml_ws_loop *ml_ws_loop_new(GMainContext *ctx) {
  ml_ws_loop *loop = g_new0(ml_ws_loop, 1);
  loop->refs = 1;
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->epfd < 0)
    g_error("epoll_create1: %s", g_strerror(errno));
  loop->all = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_queue_init(&loop->pending);
  loop->graveyard = g_ptr_array_new_with_free_func(g_free);
  loop->next_tick_us = g_get_monotonic_time() + TICK_US;
  loop->src = g_source_new(&loop_funcs, sizeof(loop_source));
  ((loop_source *)loop->src)->loop = loop;
  g_source_set_name(loop->src, "ml-ws-loop");
  g_source_add_unix_fd(loop->src, loop->epfd, G_IO_IN);
  g_source_set_ready_time(loop->src, loop->next_tick_us);
  g_source_attach(loop->src, ctx);
  return loop;
}

void ml_ws_loop_quiesce(ml_ws_loop *loop) {
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, loop->all);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    ml_ws *ws = key;
    drop_socket(ws);
    ws->state = ML_WS_STATE_CLOSED;
    ws->notified = true;
    ws->queued = false;
  }
  g_queue_clear(&loop->pending);
  loop->quiesced = true;
  if (loop->src) {
    g_source_destroy(loop->src);
    g_source_unref(loop->src);
    loop->src = NULL;
  }
}

static void loop_unref(ml_ws_loop *loop) {
  if (--loop->refs > 0)
    return;
  g_hash_table_destroy(loop->all);
  g_ptr_array_free(loop->graveyard, TRUE);
  close(loop->epfd);
  g_free(loop);
}

void ml_ws_loop_free(ml_ws_loop *loop) {
  if (!loop)
    return;
  if (!loop->quiesced)
    ml_ws_loop_quiesce(loop);
  GList *all = g_hash_table_get_keys(loop->all);
  for (GList *l = all; l; l = l->next)
    if (((ml_ws *)l->data)->loop_owned)
      ml_ws_free(l->data);
  g_list_free(all);
  loop_unref(loop);
}

/* ---- connections ---- */

ml_ws *ml_ws_new(ml_ws_loop *loop, GIOStream *io, GSocket *sock, uint64_t max_message,
                 unsigned keepalive_s, const ml_ws_callbacks *cb, void *user) {
  ml_ws *ws = g_new0(ml_ws, 1);
  ws->loop = loop;
  loop->refs++;
  ws->io = g_object_ref(io);
  ws->sock = g_object_ref(sock);
  ws->fd = g_socket_get_fd(sock);
  ws->cb = cb;
  ws->user = user;
  ws->state = ML_WS_STATE_OPEN;
  ws->keepalive_s = keepalive_s;
  ws->last_ping_us = g_get_monotonic_time();
  ws->out = g_byte_array_new();
  ml_ws_reader_init(&ws->reader, max_message);
  g_hash_table_add(loop->all, ws);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ws};
  if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, ws->fd, &ev) != 0) {
    set_state(ws, ML_WS_STATE_CLOSED, true);
    return ws;
  }
  /* libsoup may have read past the request: read what io holds, from the loop. */
  ws->read_again = true;
  queue_work(ws);
  return ws;
}

void ml_ws_release(ml_ws *ws) { ws->loop_owned = true; }

void ml_ws_set_limits(ml_ws *ws, uint64_t max_message, unsigned keepalive_s) {
  ws->reader.max_message = max_message;
  ws->keepalive_s = keepalive_s;
}

void ml_ws_free(ml_ws *ws) {
  if (!ws)
    return;
  ml_ws_loop *loop = ws->loop;
  g_hash_table_remove(loop->all, ws);
  if (ws->queued)
    g_queue_remove(&loop->pending, ws);
  drop_socket(ws);
  g_clear_object(&ws->sock);
  ml_ws_reader_clear(&ws->reader);
  g_byte_array_unref(ws->out);
  ws->out = NULL;
  if (loop->dispatching) {
    ws->freed = true; /* the pass may still hold it: released at its end */
    g_ptr_array_add(loop->graveyard, ws);
  } else {
    g_free(ws);
  }
  loop_unref(loop);
}
