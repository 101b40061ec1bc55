/* Worker threads, deliveries and drain. See workers.h. */
#include "workers.h"

#include <string.h>

#include <sodium.h>

#include "log.h"
#include "message.h"

/* ---- deliveries ---- */

void ml_srv_enqueue(ml_signal_server *srv, conn *c, char *text, unsigned short close_code) {
  delivery *d = g_new(delivery, 1);
  d->to = ml_srv_conn_ref(c);
  d->text = text;
  d->close_code = close_code;
  g_queue_push_tail(&srv->emit_to->pending, d);
}

/* Owner thread: sends one delivery. */
static void deliver(delivery *d) {
  conn *c = d->to;
  if (d->text && !c->closing)
    ml_ws_send_text(c->ws, d->text, strlen(d->text));
  if (d->close_code)
    ml_srv_conn_close(c, d->close_code, NULL);
}

static void delivery_free(delivery *d) {
  ml_srv_conn_unref(d->to);
  g_free(d->text);
  g_free(d);
}

typedef struct batch {
  worker *w;
  GQueue q;
} batch;

static gboolean deliver_batch(gpointer p) {
  batch *b = p;
  if (g_atomic_int_get(&b->w->srv->stopping))
    return G_SOURCE_REMOVE; /* batch_free drops them */
  delivery *d;
  while ((d = g_queue_pop_head(&b->q))) {
    deliver(d);
    delivery_free(d);
  }
  return G_SOURCE_REMOVE;
}

static void batch_free(gpointer p) {
  batch *b = p;
  delivery *d;
  while ((d = g_queue_pop_head(&b->q)))
    delivery_free(d);
  g_free(b);
}

/* Sending can run libsoup callbacks that queue more (a failed write closes a
 * connection, whose departure is told to its room): those are drained by the
 * same loop. */
void ml_srv_flush(worker *w) {
  if (w->flushing)
    return;
  w->flushing = true;
  batch *others[MAX_WORKERS] = {0};
  for (;;) {
    delivery *d = g_queue_pop_head(&w->pending);
    if (!d)
      break;
    worker *to = d->to->w;
    if (to == w) {
      deliver(d);
      delivery_free(d);
      continue;
    }
    unsigned i = (unsigned)(to - w->srv->workers);
    if (!others[i]) {
      others[i] = g_new0(batch, 1);
      others[i]->w = to;
    }
    g_queue_push_tail(&others[i]->q, d);
  }
  for (unsigned i = 0; i < MAX_WORKERS; i++)
    if (others[i])
      g_main_context_invoke_full(others[i]->w->ctx, G_PRIORITY_DEFAULT, deliver_batch, others[i],
                                 batch_free);
  w->flushing = false;
}

void ml_srv_lock(ml_signal_server *srv, worker *w) {
  pthread_mutex_lock(&srv->lock);
  srv->emit_to = w;
}

void ml_srv_unlock(ml_signal_server *srv) {
  srv->emit_to = NULL;
  pthread_mutex_unlock(&srv->lock);
}

/* ---- worker lifecycle ---- */

static void conn_table_unref(gpointer p) { ml_srv_conn_unref(p); }

static gpointer worker_main(gpointer p) {
  worker *w = p;
  g_main_context_push_thread_default(w->ctx);
  g_main_loop_run(w->loop);
  g_main_context_pop_thread_default(w->ctx);
  return NULL;
}

void ml_srv_workers_start(ml_signal_server *srv, unsigned threads, ml_srv_serve_cb serve) {
  g_assert(threads <= MAX_WORKERS);
  srv->n_workers = threads ? threads : 1;
  srv->workers = g_new0(worker, srv->n_workers);
  for (unsigned i = 0; i < srv->n_workers; i++) {
    worker *w = &srv->workers[i];
    w->srv = srv;
    w->ctx = threads ? g_main_context_new() : g_main_context_ref(srv->main_ctx);
    w->conns = g_hash_table_new_full(g_direct_hash, g_direct_equal, conn_table_unref, NULL);
    g_queue_init(&w->pending);
    serve(w);
    if (threads) {
      w->loop = g_main_loop_new(w->ctx, FALSE);
      char name[16];
      g_snprintf(name, sizeof name, "sig-worker-%u", i);
      w->thread = g_thread_new(name, worker_main, w);
    }
  }
}

/* Runs on w's thread: silences w (no more callbacks from its connections,
 * timer or server) and stops its loop. Rooms are not told: the registry goes
 * too. Connections are released only once every worker is quiet, because a
 * still-running worker may tell a room about a departure and so touch a
 * connection of another worker. */
static gboolean worker_quiesce(gpointer p) {
  worker *w = p;
  ml_ws_loop_quiesce(w->wsl);
  if (w->sweep) {
    g_source_destroy(w->sweep);
    g_source_unref(w->sweep);
    w->sweep = NULL;
  }
  if (w->soup)
    soup_server_disconnect(w->soup);
  if (w->loop)
    g_main_loop_quit(w->loop);
  return G_SOURCE_REMOVE;
}

/* After every worker is quiet (threads joined): frees what w holds. A worker
 * thread's context may still hold work posted to it after its loop stopped
 * (our batches and handoffs, libsoup's completions, which also hold the
 * context alive): run it off here, where our callbacks see `stopping` and only
 * clean up. The caller's own context (workers = 0) is left to the caller. */
static void worker_release(worker *w) {
  g_main_context_push_thread_default(w->ctx);
  if (w->thread && g_main_context_acquire(w->ctx)) {
    for (int i = 0; i < 10000 && g_main_context_iteration(w->ctx, FALSE); i++)
      ;
    g_main_context_release(w->ctx);
  }
  g_hash_table_destroy(w->conns);
  delivery *d;
  while ((d = g_queue_pop_head(&w->pending)))
    delivery_free(d);
  ml_ws_loop_free(w->wsl);
  g_clear_object(&w->soup);
  g_main_context_pop_thread_default(w->ctx);
  if (w->loop)
    g_main_loop_unref(w->loop);
  g_main_context_unref(w->ctx); /* destroys undelivered batches too */
}

void ml_srv_workers_stop(ml_signal_server *srv) {
  for (unsigned i = 0; srv->workers && i < srv->n_workers; i++) {
    worker *w = &srv->workers[i];
    if (w->thread) {
      g_main_context_invoke(w->ctx, worker_quiesce, w);
      g_thread_join(w->thread);
    } else {
      worker_quiesce(w);
    }
  }
  for (unsigned i = 0; srv->workers && i < srv->n_workers; i++)
    worker_release(&srv->workers[i]);
  g_free(srv->workers);
  srv->workers = NULL;
}

typedef struct reload_job {
  worker *w;
  double rate, burst;
  guint64 max_payload;
  unsigned keepalive;
} reload_job;

static gboolean reload_worker(gpointer p) {
  reload_job *j = p;
  if (g_atomic_int_get(&j->w->srv->stopping))
    return G_SOURCE_REMOVE;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, j->w->conns);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    conn *c = key;
    ml_ratelimit_configure(&c->rl, j->rate, j->burst);
    ml_ws_set_limits(c->ws, j->max_payload, j->keepalive);
  }
  return G_SOURCE_REMOVE;
}

void ml_srv_workers_reconfigure(ml_signal_server *srv, const ml_signal_config *cfg) {
  for (unsigned i = 0; srv->workers && i < srv->n_workers; i++) {
    reload_job *j = g_new(reload_job, 1);
    j->w = &srv->workers[i];
    j->rate = cfg->message_rate;
    j->burst = cfg->message_burst;
    j->max_payload = (guint64)cfg->max_message_bytes * HARD_FRAME_FACTOR;
    j->keepalive = cfg->keepalive_interval_s;
    g_main_context_invoke_full(j->w->ctx, G_PRIORITY_DEFAULT, reload_worker, j, g_free);
  }
}

/* ---- drain ---- */

static gboolean drained_cb(gpointer user) {
  ml_signal_server *srv = user;
  pthread_mutex_lock(&srv->lock);
  if (srv->drained_src) {
    g_source_unref(srv->drained_src);
    srv->drained_src = NULL;
  }
  pthread_mutex_unlock(&srv->lock);
  if (srv->drain_timer) {
    g_source_destroy(srv->drain_timer);
    g_source_unref(srv->drain_timer);
    srv->drain_timer = NULL;
  }
  ml_signal_drained_cb cb = srv->drained;
  srv->drained = NULL;
  ML_SRV_LOG(srv, ML_LOG_INFO, "drained", NULL);
  if (cb)
    cb(srv->drained_user);
  return G_SOURCE_REMOVE;
}

/* Never runs drained_cb directly: the caller holds the lock. */
void ml_srv_post_drained(ml_signal_server *srv) {
  if (srv->drained_posted)
    return;
  srv->drained_posted = true;
  srv->drained_src = g_idle_source_new();
  g_source_set_callback(srv->drained_src, drained_cb, srv, NULL);
  g_source_attach(srv->drained_src, srv->main_ctx);
}

/* Worker thread: tell everyone to reconnect, then close. */
static gboolean drain_worker(gpointer p) {
  worker *w = p;
  if (g_atomic_int_get(&w->srv->stopping))
    return G_SOURCE_REMOVE;
  GList *all = g_hash_table_get_keys(w->conns);
  for (GList *l = all; l; l = l->next)
    ml_srv_conn_ref(l->data);
  for (GList *l = all; l; l = l->next) {
    conn *c = l->data;
    /* Spread the reconnects so a restart is not a thundering herd. */
    char *text = ml_sig_build_shutdown(1000 + (int64_t)randombytes_uniform(4000));
    delivery d = {.to = c, .text = text, .close_code = SOUP_WEBSOCKET_CLOSE_GOING_AWAY};
    deliver(&d);
    g_free(text);
    ml_srv_conn_unref(c);
  }
  g_list_free(all);
  return G_SOURCE_REMOVE;
}

/* Worker thread: the drain timed out; force the stragglers' sockets shut. */
static gboolean force_close_worker(gpointer p) {
  worker *w = p;
  if (g_atomic_int_get(&w->srv->stopping))
    return G_SOURCE_REMOVE;
  GList *all = g_hash_table_get_keys(w->conns);
  for (GList *l = all; l; l = l->next) {
    conn *c = l->data;
    ml_ws_abort(c->ws);
  }
  g_list_free(all);
  return G_SOURCE_REMOVE;
}

static gboolean drain_timeout(gpointer user) {
  ml_signal_server *srv = user;
  g_source_unref(srv->drain_timer);
  srv->drain_timer = NULL;
  ML_SRV_LOG(srv, ML_LOG_WARN, "drain_timeout", NULL);
  for (unsigned i = 0; i < srv->n_workers; i++)
    g_main_context_invoke(srv->workers[i].ctx, force_close_worker, &srv->workers[i]);
  pthread_mutex_lock(&srv->lock);
  ml_srv_post_drained(srv); /* do not wait for the closes to finish */
  pthread_mutex_unlock(&srv->lock);
  return G_SOURCE_REMOVE;
}

void ml_signal_server_drain(ml_signal_server *srv, ml_signal_drained_cb done, void *user) {
  g_assert(srv && !srv->drained && srv->workers);
  srv->drained = done;
  srv->drained_user = user;
  pthread_mutex_lock(&srv->lock);
  srv->draining = true;
  unsigned conns = srv->n_conns;
  unsigned timeout = srv->cfg.drain_timeout_ms;
  if (conns == 0)
    ml_srv_post_drained(srv);
  pthread_mutex_unlock(&srv->lock);
  ML_SRV_LOG(srv, ML_LOG_INFO, "drain", " conns=%u", conns);
  srv->drain_timer = g_timeout_source_new(timeout);
  g_source_set_callback(srv->drain_timer, drain_timeout, srv, NULL);
  g_source_attach(srv->drain_timer, srv->main_ctx);
  for (unsigned i = 0; i < srv->n_workers; i++)
    g_main_context_invoke(srv->workers[i].ctx, drain_worker, &srv->workers[i]);
}
