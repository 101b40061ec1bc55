/* TLS to Redis for hiredis 0.14: a Unix socket spliced to TLS. See redis_tls.h. */
#include "redis_tls.h"

#include <stdbool.h>
#include <string.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#define CONNECT_TIMEOUT_S 10
#define GOOD_FOR_US (5 * G_USEC_PER_SEC) /* a connection this old was a success */

struct ml_redis_tls {
  char *host;
  unsigned port;
  GTlsDatabase *db;      /* NULL: the system store */
  GTlsCertificate *cert; /* NULL: no client certificate */
  char *dir, *path;
  GMainContext *ctx; /* the bridge thread's */
  GMainLoop *loop;
  GThread *thread;
  GSocketService *service;
  GCancellable *cancel;
  void (*log_cb)(void *user, const char *reason);
  void *user;
  char last_reason[160]; /* bridge thread only */
};

typedef struct splice {
  ml_redis_tls *t;
  GSocketConnection *local, *remote;
  int64_t up_us; /* when the TLS connection was made */
} splice;

static void splice_free(splice *s) {
  g_clear_object(&s->local);
  g_clear_object(&s->remote);
  g_free(s);
}

/* Bridge thread: one log line per distinct failure in a row. */
static void report(ml_redis_tls *t, const char *reason) {
  if (strcmp(reason, t->last_reason) == 0)
    return;
  g_strlcpy(t->last_reason, reason, sizeof t->last_reason);
  if (t->log_cb)
    t->log_cb(t->user, reason);
}

static void on_client_event(GSocketClient *client, GSocketClientEvent event,
                            GSocketConnectable *connectable, GIOStream *io, gpointer user) {
  (void)client;
  (void)connectable;
  ml_redis_tls *t = user;
  if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING)
    return;
  if (t->db)
    g_tls_connection_set_database(G_TLS_CONNECTION(io), t->db);
  if (t->cert)
    g_tls_connection_set_certificate(G_TLS_CONNECTION(io), t->cert);
}

/* A connection ended: an error is reported (e.g. Redis refused our client
 * certificate, which TLS 1.3 shows only after the handshake). */
static void on_spliced(GObject *src, GAsyncResult *res, gpointer user) {
  (void)src;
  splice *s = user;
  g_autoptr(GError) err = NULL;
  if (g_get_monotonic_time() - s->up_us >= GOOD_FOR_US)
    s->t->last_reason[0] = '\0'; /* it worked: the next failure is news */
  if (!g_io_stream_splice_finish(res, &err) &&
      !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    report(s->t, err->message);
  splice_free(s);
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer user) {
  splice *s = user;
  ml_redis_tls *t = s->t;
  g_autoptr(GError) err = NULL;
  s->remote = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(src), res, &err);
  if (!s->remote) {
    if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      report(t, err->message);
    g_io_stream_close(G_IO_STREAM(s->local), NULL, NULL); /* hiredis sees it lost */
    splice_free(s);
    return;
  }
  s->up_us = g_get_monotonic_time();
  g_io_stream_splice_async(G_IO_STREAM(s->local), G_IO_STREAM(s->remote),
                           G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                           G_PRIORITY_DEFAULT, t->cancel, on_spliced, s);
}

static gboolean on_incoming(GSocketService *service, GSocketConnection *local, GObject *source,
                            gpointer user) {
  (void)service;
  (void)source;
  ml_redis_tls *t = user;
  splice *s = g_new0(splice, 1);
  s->t = t;
  s->local = g_object_ref(local);
  GSocketClient *client = g_socket_client_new();
  g_socket_client_set_tls(client, TRUE);
  g_socket_client_set_enable_proxy(client, FALSE); /* never a system HTTP proxy to Redis */
  g_socket_client_set_timeout(client, CONNECT_TIMEOUT_S);
  g_signal_connect(client, "event", G_CALLBACK(on_client_event), t);
  g_socket_client_connect_to_host_async(client, t->host, (guint16)t->port, t->cancel, on_connected,
                                        s);
  g_object_unref(client); /* the connect holds it */
  return TRUE;
}

static gpointer run(gpointer user) {
  ml_redis_tls *t = user;
  g_main_context_push_thread_default(t->ctx);
  g_main_loop_run(t->loop);
  g_main_context_pop_thread_default(t->ctx);
  return NULL;
}

static gboolean quit(gpointer user) {
  g_main_loop_quit(user);
  return G_SOURCE_REMOVE;
}

/* The listening socket, made with the bridge's context as the thread default
 * so that its accepts are dispatched there. */
static bool listen_on(ml_redis_tls *t, GError **err) {
  g_main_context_push_thread_default(t->ctx);
  t->service = g_socket_service_new();
  GSocketAddress *addr = g_unix_socket_address_new(t->path);
  bool ok = g_socket_listener_add_address(G_SOCKET_LISTENER(t->service), addr, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, err);
  g_object_unref(addr);
  if (ok) {
    g_signal_connect(t->service, "incoming", G_CALLBACK(on_incoming), t);
    g_socket_service_start(t->service);
  }
  g_main_context_pop_thread_default(t->ctx);
  return ok;
}

int ml_redis_tls_new(ml_redis_tls **out, const ml_redis_tls_config *cfg, char **errmsg) {
  g_assert(out && cfg && cfg->host && errmsg);
  *out = NULL;
  *errmsg = NULL;
  g_autoptr(GError) err = NULL;
  ml_redis_tls *t = g_new0(ml_redis_tls, 1);
  t->host = g_strdup(cfg->host);
  t->port = cfg->port;
  t->log_cb = cfg->log_cb;
  t->user = cfg->user;
  if (cfg->ca_file && !(t->db = g_tls_file_database_new(cfg->ca_file, &err))) {
    *errmsg = g_strdup_printf("[redis] tls_ca_file %s: %s", cfg->ca_file, err->message);
    goto fail;
  }
  if (cfg->cert_file &&
      !(t->cert = g_tls_certificate_new_from_files(
            cfg->cert_file, cfg->key_file ? cfg->key_file : cfg->cert_file, &err))) {
    *errmsg = g_strdup_printf("[redis] tls_cert_file %s: %s", cfg->cert_file, err->message);
    goto fail;
  }
  if (!(t->dir = g_dir_make_tmp("mentorlink-redis-tls-XXXXXX", &err))) { /* mode 0700 */
    *errmsg = g_strdup_printf("redis tls: cannot make a private directory: %s", err->message);
    goto fail;
  }
  t->path = g_build_filename(t->dir, "redis.sock", NULL);
  t->ctx = g_main_context_new();
  t->loop = g_main_loop_new(t->ctx, FALSE);
  t->cancel = g_cancellable_new();
  if (!listen_on(t, &err)) {
    *errmsg = g_strdup_printf("redis tls: cannot listen on %s: %s", t->path, err->message);
    goto fail;
  }
  t->thread = g_thread_new("redis-tls", run, t);
  *out = t;
  return ML_OK;
fail:
  ml_redis_tls_free(t);
  return ML_ERR_IO;
}

const char *ml_redis_tls_path(const ml_redis_tls *t) { return t->path; }

void ml_redis_tls_free(ml_redis_tls *t) {
  if (!t)
    return;
  if (t->thread) {
    g_cancellable_cancel(t->cancel);
    g_main_context_invoke(t->ctx, quit, t->loop);
    g_thread_join(t->thread);
  }
  if (t->service) {
    g_socket_service_stop(t->service);
    g_socket_listener_close(G_SOCKET_LISTENER(t->service));
  }
  if (t->ctx) { /* the cancelled operations finish and free what they hold */
    g_main_context_push_thread_default(t->ctx);
    while (g_main_context_iteration(t->ctx, FALSE))
      ;
    g_main_context_pop_thread_default(t->ctx);
  }
  g_clear_object(&t->service);
  g_clear_object(&t->cancel);
  if (t->loop)
    g_main_loop_unref(t->loop);
  if (t->ctx)
    g_main_context_unref(t->ctx);
  if (t->path)
    g_unlink(t->path);
  if (t->dir)
    g_rmdir(t->dir);
  g_free(t->path);
  g_free(t->dir);
  g_clear_object(&t->db);
  g_clear_object(&t->cert);
  g_free(t->host);
  g_free(t);
}
