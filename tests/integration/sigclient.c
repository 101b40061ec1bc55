/* Test client and server handle. See sigclient.h. */
#include "sigclient.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "ml/signal_token.h"

static sig_server *current_server;
static SoupSession *session;
static unsigned ping_seq;

void sig_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
  if (current_server && current_server->proc)
    g_subprocess_force_exit(current_server->proc);
  exit(1);
}

static gboolean wake(gpointer p) {
  *(bool *)p = true;
  return G_SOURCE_REMOVE;
}

bool sig_wait_until(bool (*pred)(void *), void *data, int timeout_ms) {
  /* A timer bounds every blocking iteration: with nothing else happening the
   * loop still wakes at the deadline. */
  bool expired = false;
  guint timer = g_timeout_add(timeout_ms > 0 ? (guint)timeout_ms : 0, wake, &expired);
  bool ok;
  while (!(ok = pred(data)) && !expired)
    g_main_context_iteration(NULL, TRUE);
  if (!expired)
    g_source_remove(timer);
  return ok;
}

static void child_setup(gpointer user) {
  (void)user;
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
}

void sig_server_write_config(sig_server *s, const char *config_extra) {
  char *text = g_strdup_printf("[server]\nlisten = 127.0.0.1:0\n%s\n[tokens]\nsecret = %s\n",
                               config_extra ? config_extra : "", TEST_SECRET);
  CHECK(g_file_set_contents_full(s->config_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 NULL)); /* it holds a secret */
  g_free(text);
}

typedef struct line_wait {
  char *line;
  bool done;
} line_wait;

static void on_line(GObject *src, GAsyncResult *res, gpointer user) {
  line_wait *w = user;
  w->line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(src), res, NULL, NULL);
  w->done = true;
}

static bool line_done(void *p) { return ((line_wait *)p)->done; }

void sig_server_start(sig_server *s, const char *config_extra, const char *const *args) {
  memset(s, 0, sizeof *s);
  current_server = s;
  s->dir = g_dir_make_tmp("mlsig-XXXXXX", NULL);
  CHECK(s->dir != NULL);
  s->config_path = g_build_filename(s->dir, "signal.conf", NULL);
  /* The config's [server] group must be first and unique: callers pass keys
   * for [server] first, then other groups. */
  sig_server_write_config(s, config_extra);
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(argv, g_strdup(SIGNAL_BIN));
  g_ptr_array_add(argv, g_strdup("--config"));
  g_ptr_array_add(argv, g_strdup(s->config_path));
  g_ptr_array_add(argv, g_strdup("--log-level"));
  g_ptr_array_add(argv, g_strdup(g_getenv("SIG_LOG") ? g_getenv("SIG_LOG") : "warn"));
  for (const char *const *a = args; a && *a; a++)
    g_ptr_array_add(argv, g_strdup(*a));
  /* ML_TEST_REDIS_URL: every scenario against the Redis backend instead. */
  if (g_getenv("ML_TEST_REDIS_URL")) {
    g_ptr_array_add(argv, g_strdup("--backend"));
    g_ptr_array_add(argv, g_strdup("redis"));
    g_ptr_array_add(argv, g_strdup("--redis-url"));
    g_ptr_array_add(argv, g_strdup(g_getenv("ML_TEST_REDIS_URL")));
  }
  g_ptr_array_add(argv, NULL);
  GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup(l, child_setup, NULL, NULL);
  GError *err = NULL;
  s->proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &err);
  g_object_unref(l);
  g_ptr_array_free(argv, TRUE);
  if (!s->proc)
    fprintf(stderr, "spawn: %s\n", err->message);
  CHECK(s->proc != NULL);
  GDataInputStream *in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(s->proc));
  line_wait w = {0};
  g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, NULL, on_line, &w);
  CHECK(sig_wait_until(line_done, &w, WAIT_MS));
  g_object_unref(in);
  CHECK(w.line && g_str_has_prefix(w.line, "port="));
  s->port = (unsigned)g_ascii_strtoull(w.line + 5, NULL, 10);
  g_free(w.line);
  CHECK(s->port > 0);
}

void sig_server_signal(sig_server *s, int signum) { g_subprocess_send_signal(s->proc, signum); }

typedef struct exit_wait {
  bool done;
  GSubprocess *proc;
} exit_wait;

static void on_exit_cb(GObject *src, GAsyncResult *res, gpointer user) {
  (void)src;
  exit_wait *w = user;
  g_subprocess_wait_finish(w->proc, res, NULL);
  w->done = true;
}

static bool exit_done(void *p) { return ((exit_wait *)p)->done; }

int sig_server_wait_exit(sig_server *s, int timeout_ms) {
  exit_wait w = {false, s->proc};
  g_subprocess_wait_async(s->proc, NULL, on_exit_cb, &w);
  if (!sig_wait_until(exit_done, &w, timeout_ms))
    return -1;
  return g_subprocess_get_if_exited(s->proc) ? g_subprocess_get_exit_status(s->proc) : 128;
}

void sig_server_stop(sig_server *s) {
  if (s->proc) {
    if (sig_server_wait_exit(s, 0) < 0) {
      g_subprocess_send_signal(s->proc, SIGTERM);
      int status = sig_server_wait_exit(s, WAIT_MS);
      if (status < 0) {
        g_subprocess_force_exit(s->proc);
        sig_server_wait_exit(s, WAIT_MS);
      }
      /* A clean drain exits 0; under ASan a leak makes this non-zero. */
      if (status != 0)
        fprintf(stderr, "server exit status %d\n", status);
      CHECK(status == 0);
    }
    g_clear_object(&s->proc);
  }
  if (s->config_path)
    g_unlink(s->config_path);
  if (s->dir)
    g_rmdir(s->dir);
  g_free(s->config_path);
  g_free(s->dir);
  current_server = NULL;
  memset(s, 0, sizeof *s);
}

/* ---- client ---- */

static void ensure_session(void) {
  if (session)
    return;
  /* Loopback only: no system proxy lookup (libproxy is C++ and also trips
   * ASan's __cxa_throw interceptor in a C program). */
  GProxyResolver *direct = g_simple_proxy_resolver_new(NULL, NULL);
  session = soup_session_new_with_options("max-conns", 4096, "max-conns-per-host", 4096,
                                          "proxy-resolver", direct, NULL);
  g_object_unref(direct);
}

static void on_message(SoupWebsocketConnection *ws, gint type, GBytes *bytes, gpointer user) {
  (void)ws;
  sig_client *c = user;
  CHECK(type == SOUP_WEBSOCKET_DATA_TEXT);
  gsize len;
  const char *text = g_bytes_get_data(bytes, &len);
  JsonParser *p = json_parser_new();
  CHECK(json_parser_load_from_data(p, text, (gssize)len, NULL));
  JsonNode *root = json_parser_steal_root(p);
  g_object_unref(p);
  CHECK(root && JSON_NODE_HOLDS_OBJECT(root));
  JsonObject *o = json_node_get_object(root);
  CHECK(json_object_get_int_member_with_default(o, "v", 0) == 1);
  const char *t = json_object_get_string_member_with_default(o, "type", "");
  if ((!strcmp(t, "welcome") || !strcmp(t, "waiting")) && !c->peer_id)
    c->peer_id = g_strdup(json_object_get_string_member(o, "peer_id"));
  c->received++;
  g_queue_push_tail(&c->inbox, root);
}

static void on_closed(SoupWebsocketConnection *ws, gpointer user) {
  sig_client *c = user;
  c->closed = true;
  c->close_code = soup_websocket_connection_get_close_code(ws);
}

typedef struct connect_wait {
  SoupWebsocketConnection *ws;
  bool done;
  char *error;
} connect_wait;

static void on_connected(GObject *src, GAsyncResult *res, gpointer user) {
  connect_wait *w = user;
  GError *err = NULL;
  w->ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &err);
  if (err) {
    w->error = g_strdup(err->message);
    g_error_free(err);
  }
  w->done = true;
}

static bool connect_done(void *p) { return ((connect_wait *)p)->done; }

/* The TLS test's server has a throwaway self-signed certificate. */
static gboolean accept_any_certificate(SoupMessage *msg, GTlsCertificate *cert,
                                       GTlsCertificateFlags errors, gpointer user) {
  (void)msg;
  (void)cert;
  (void)errors;
  (void)user;
  return TRUE;
}

sig_client *sig_client_connect(const sig_server *s) {
  ensure_session();
  char *url = g_strdup_printf("%s://127.0.0.1:%u/v1/ws", s->tls ? "wss" : "ws", s->port);
  SoupMessage *msg = soup_message_new("GET", url);
  g_free(url);
  if (s->tls)
    g_signal_connect(msg, "accept-certificate", G_CALLBACK(accept_any_certificate), NULL);
  connect_wait w = {0};
  soup_session_websocket_connect_async(session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                       on_connected, &w);
  g_object_unref(msg);
  CHECK(sig_wait_until(connect_done, &w, WAIT_MS));
  if (!w.ws)
    fprintf(stderr, "connect: %s\n", w.error);
  CHECK(w.ws != NULL);
  g_free(w.error);
  sig_client *c = g_new0(sig_client, 1);
  c->ws = w.ws;
  soup_websocket_connection_set_max_incoming_payload_size(c->ws, 1 << 20);
  g_signal_connect(c->ws, "message", G_CALLBACK(on_message), c);
  g_signal_connect(c->ws, "closed", G_CALLBACK(on_closed), c);
  return c;
}

static bool closed_pred(void *p) { return ((sig_client *)p)->closed; }

void sig_client_free(sig_client *c) {
  if (!c)
    return;
  if (!c->closed && soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
    soup_websocket_connection_close(c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    sig_wait_until(closed_pred, c, WAIT_MS);
  }
  g_signal_handlers_disconnect_by_data(c->ws, c);
  g_object_unref(c->ws);
  JsonNode *n;
  while ((n = g_queue_pop_head(&c->inbox)))
    json_node_unref(n);
  g_free(c->peer_id);
  g_free(c);
}

void sig_client_send(sig_client *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  CHECK(soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN);
  soup_websocket_connection_send_text(c->ws, text);
  g_free(text);
}

void sig_client_send_raw(sig_client *c, const char *text, size_t len) {
  CHECK(soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN);
  GBytes *b = g_bytes_new(text, len);
  soup_websocket_connection_send_message(c->ws, SOUP_WEBSOCKET_DATA_TEXT, b);
  g_bytes_unref(b);
}

void sig_client_send_binary(sig_client *c, const void *data, size_t len) {
  soup_websocket_connection_send_binary(c->ws, data, len);
}

typedef struct type_wait {
  sig_client *c;
  const char *type;
  JsonNode *found;
} type_wait;

static bool find_type(void *p) {
  type_wait *w = p;
  for (GList *l = w->c->inbox.head; l; l = l->next) {
    JsonObject *o = json_node_get_object(l->data);
    if (!strcmp(json_object_get_string_member_with_default(o, "type", ""), w->type)) {
      w->found = l->data;
      g_queue_delete_link(&w->c->inbox, l);
      return true;
    }
  }
  return false;
}

JsonNode *sig_client_wait(sig_client *c, const char *type, int timeout_ms) {
  type_wait w = {c, type, NULL};
  sig_wait_until(find_type, &w, timeout_ms);
  return w.found;
}

unsigned sig_client_count(sig_client *c, const char *type) {
  unsigned n = 0;
  for (GList *l = c->inbox.head; l; l = l->next)
    if (!strcmp(
            json_object_get_string_member_with_default(json_node_get_object(l->data), "type", ""),
            type))
      n++;
  return n;
}

JsonNode *sig_client_expect_error(sig_client *c, const char *code) {
  JsonNode *e = sig_client_wait(c, "error", WAIT_MS);
  if (!e)
    fprintf(stderr, "no error reply (wanted %s)\n", code);
  CHECK(e != NULL);
  if (strcmp(obj_str(e, "code"), code) != 0)
    fprintf(stderr, "error code %s, wanted %s\n", obj_str(e, "code"), code);
  CHECK(!strcmp(obj_str(e, "code"), code));
  return e;
}

bool sig_client_wait_closed(sig_client *c, int timeout_ms) {
  return sig_wait_until(closed_pred, c, timeout_ms);
}

typedef struct pong_wait {
  sig_client *c;
  char id[32];
} pong_wait;

static bool find_pong(void *p) {
  pong_wait *w = p;
  for (GList *l = w->c->inbox.head; l; l = l->next) {
    JsonObject *o = json_node_get_object(l->data);
    if (!strcmp(json_object_get_string_member_with_default(o, "type", ""), "pong") &&
        !strcmp(json_object_get_string_member_with_default(o, "id", ""), w->id)) {
      json_node_unref(l->data);
      g_queue_delete_link(&w->c->inbox, l);
      return true;
    }
  }
  return w->c->closed;
}

bool sig_client_roundtrip(sig_client *c, int timeout_ms) {
  pong_wait w = {.c = c};
  snprintf(w.id, sizeof w.id, "p%u", ++ping_seq);
  sig_client_send(c, "{\"v\":1,\"type\":\"ping\",\"id\":\"%s\"}", w.id);
  return sig_wait_until(find_pong, &w, timeout_ms) && !c->closed;
}

char *sig_token(const char *room, const char *role, const char *name, gint64 ttl,
                const char *secret) {
  ml_token_claims cl = {0};
  g_strlcpy(cl.room, room, sizeof cl.room);
  g_strlcpy(cl.name, name, sizeof cl.name);
  cl.role = !strcmp(role, "host") ? ML_TOKEN_ROLE_HOST : ML_TOKEN_ROLE_PARTICIPANT;
  cl.expiry = g_get_real_time() / G_USEC_PER_SEC + ttl;
  char *tok = NULL;
  CHECK(ml_token_issue((const uint8_t *)secret, strlen(secret), &cl, &tok) == ML_OK);
  char *r = g_strdup(tok);
  free(tok);
  return r;
}

char *sig_identity_key(unsigned n) {
  guint8 key[32];
  for (unsigned i = 0; i < 32; i++)
    key[i] = (guint8)(n * 31 + i);
  return g_base64_encode(key, sizeof key);
}

JsonNode *sig_client_join(sig_client *c, const char *room, const char *role, const char *name,
                          const char *expect) {
  static unsigned n;
  char *tok = sig_token(room, role, name, 600, TEST_SECRET);
  char *key = sig_identity_key(++n);
  sig_client_send(c, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\",\"identity_key\":\"%s\"}", tok,
                  key);
  g_free(tok);
  g_free(key);
  JsonNode *r = sig_client_wait(c, expect ? expect : "welcome", WAIT_MS);
  if (!r) {
    JsonNode *e = sig_client_wait(c, "error", 0);
    fprintf(stderr, "join %s/%s: no %s (error %s)\n", room, name, expect ? expect : "welcome",
            e ? obj_str(e, "code") : "none");
  }
  CHECK(r != NULL);
  return r;
}

JsonObject *obj(JsonNode *n) { return json_node_get_object(n); }

const char *obj_str(JsonNode *n, const char *key) {
  return json_object_get_string_member_with_default(json_node_get_object(n), key, "");
}

typedef struct http_wait {
  bool done;
  GBytes *body;
} http_wait;

static void on_http(GObject *src, GAsyncResult *res, gpointer user) {
  http_wait *w = user;
  w->body = soup_session_send_and_read_finish(SOUP_SESSION(src), res, NULL);
  w->done = true;
}

static bool http_done(void *p) { return ((http_wait *)p)->done; }

char **sig_argv(const char *first, ...) {
  GPtrArray *a = g_ptr_array_new();
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *))
    g_ptr_array_add(a, g_strdup(s));
  va_end(ap);
  g_ptr_array_add(a, NULL);
  return (char **)g_ptr_array_free(a, FALSE);
}

void sig_make_cert(const char *dir, const char *subject_alt, char **cert, char **key) {
  *cert = g_build_filename(dir, "cert.pem", NULL);
  *key = g_build_filename(dir, "key.pem", NULL);
  char *san = g_strdup_printf("subjectAltName=%s", subject_alt);
  char **argv = sig_argv("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:P-256", "-nodes", "-keyout", *key, "-out", *cert,
                         "-days", "1", "-subj", "/CN=mentorlink test", "-addext", san, NULL);
  int wstatus = -1;
  gboolean ran =
      g_spawn_sync(NULL, argv, NULL,
                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                   NULL, NULL, NULL, NULL, &wstatus, NULL);
  g_strfreev(argv);
  g_free(san);
  /* packaging/install-deps.sh installs openssl: its absence is a broken
   * set-up, not a reason to skip a TLS scenario. */
  if (!ran || wstatus != 0)
    sig_fail(__FILE__, __LINE__,
             "openssl could not make a test certificate (run "
             "packaging/install-deps.sh)");
}

char *sig_http_get(const sig_server *s, const char *path, unsigned *status) {
  ensure_session();
  char *url = g_strdup_printf("%s://127.0.0.1:%u%s", s->tls ? "https" : "http", s->port, path);
  SoupMessage *msg = soup_message_new("GET", url);
  g_free(url);
  if (s->tls)
    g_signal_connect(msg, "accept-certificate", G_CALLBACK(accept_any_certificate), NULL);
  http_wait w = {0};
  soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, on_http, &w);
  CHECK(sig_wait_until(http_done, &w, WAIT_MS));
  *status = soup_message_get_status(msg);
  g_object_unref(msg);
  char *body = NULL;
  if (w.body) {
    gsize len;
    const char *d = g_bytes_get_data(w.body, &len);
    body = g_strndup(d, len);
    g_bytes_unref(w.body);
  }
  return body;
}
