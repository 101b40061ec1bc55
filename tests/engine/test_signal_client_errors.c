/* engine.signal_client_errors: what ml_signal_client says when it cannot
 * join, against the real signaling server code (ml_signal, embedded in this
 * process, on 127.0.0.1) and a port where nothing listens.
 *
 * Checks: a URL without /v1/ws is a fatal "not_found" naming /v1/ws, at the
 * first attempt; a port where nothing listens is retried with "retrying in
 * N s (attempt k of 8)" and given up after ML_SIGNAL_MAX_ATTEMPTS; ws:// to a
 * TLS server and wss:// to a plain one are fatal "tls_mismatch" naming the
 * other scheme; a self-signed certificate is a fatal "tls_certificate" that
 * says so and names --ca-file; with that certificate as ca_file the client is
 * welcomed; with a certificate for another name the refusal says so; a
 * ca_file that is not PEM is ML_ERR_IO; a room's secret missing and wrong
 * are told apart. Every wait is bounded. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "ml/signal_client.h"
#include "ml/signal_server.h"
#include "check.h"

#define WAIT_MS 20000 /* a TLS hello to a plain server ends with the 15 s socket timeout */

typedef struct client {
  ml_signal_client *sc;
  uint8_t key[32];
  unsigned welcomes, errors, fatal_errors, retries;
  char code[32], message[400];
} client;

static void on_welcome(const ml_signal_welcome *w, void *user) {
  (void)w;
  ((client *)user)->welcomes++;
}

static void on_error(const char *code, const char *message, bool fatal, void *user) {
  client *c = user;
  c->errors++;
  c->fatal_errors += fatal;
  c->retries += strstr(message, "retrying in") != NULL;
  g_strlcpy(c->code, code, sizeof c->code);
  g_strlcpy(c->message, message, sizeof c->message);
  printf("  %s%s: %s\n", fatal ? "fatal " : "", code, message);
}

/* The room "errors" of the server at url; secret: the room secret (NULL none). */
static int client_start_in(client *c, const char *url, const char *ca_file, const char *secret) {
  memset(c, 0, sizeof *c);
  randombytes_buf(c->key, sizeof c->key);
  char verifier[45];
  if (secret && ml_signal_room_verifier(secret, "errors", verifier) != ML_OK)
    return ML_ERR_INVALID;
  ml_signal_client_config cfg = {
      .context = g_main_context_default(),
      .url = url,
      .room = "errors",
      .name = "Nurse Test",
      .secret_verifier = secret ? verifier : NULL,
      .identity_key = c->key,
      .backoff_min_ms = 20,
      .backoff_max_ms = 80,
      .ca_file = ca_file,
      .callbacks = {.on_welcome = on_welcome, .on_error = on_error, .user = c},
  };
  int rc = ml_signal_client_new(&c->sc, &cfg);
  if (rc == ML_OK)
    ml_signal_client_start(c->sc);
  return rc;
}

static int client_start(client *c, const char *url, const char *ca_file) {
  return client_start_in(c, url, ca_file, NULL);
}

static gboolean expire(gpointer p) {
  *(bool *)p = true;
  return G_SOURCE_REMOVE;
}

/* Iterates the default context until the client is welcomed or has had a
 * fatal error, or timeout_ms. */
static bool settle(client *c, unsigned timeout_ms) {
  bool expired = false;
  guint t = g_timeout_add(timeout_ms, expire, &expired);
  while (!c->welcomes && !c->fatal_errors && !expired)
    g_main_context_iteration(NULL, TRUE);
  if (!expired)
    g_source_remove(t);
  return !expired;
}

static void client_free(client *c) {
  ml_signal_client_free(c->sc);
  c->sc = NULL;
}

/* Starts a client of url and waits for its welcome or its fatal error. */
static void run(client *c, const char *url, const char *ca_file) {
  CHECK(client_start(c, url, ca_file) == ML_OK, "client of %s", url);
  CHECK(settle(c, WAIT_MS), "no welcome and no verdict from %s", url);
}

/* A client of url gets one fatal error, code, saying needle (and needle2);
 * errors: how many errors in all (0: any number). */
static void expect_fatal(const char *url, const char *ca_file, unsigned errors, const char *code,
                         const char *needle, const char *needle2) {
  client c;
  run(&c, url, ca_file);
  CHECK(c.fatal_errors == 1 && (!errors || c.errors == errors) && !strcmp(c.code, code) &&
            strstr(c.message, needle) && (!needle2 || strstr(c.message, needle2)),
        "%s: %u errors, %s: %s", url, c.errors, c.code, c.message);
  client_free(&c);
}

static ml_signal_server *server_start(const char *cert, const char *key) {
  ml_signal_config cfg;
  ml_signal_config_init(&cfg);
  cfg.listen_port = 0; /* a free port */
  cfg.open_mode = true;
  cfg.auto_admit = true;
  cfg.tls_cert_file = g_strdup(cert);
  cfg.tls_key_file = g_strdup(key);
  ml_signal_server *srv = NULL;
  char *err = NULL;
  if (ml_signal_server_new(&srv, &cfg) != 0 || ml_signal_server_start(srv, &err) != 0) {
    fprintf(stderr, "FAIL: signaling server: %s\n", err ? err : "?");
    exit(1);
  }
  ml_signal_config_clear(&cfg);
  return srv;
}

/* A throwaway self-signed certificate for subject_alt (openssl). */
static void make_cert(const char *dir, const char *name, const char *subject_alt, char **cert,
                      char **key) {
  g_autofree char *c = g_strdup_printf("%s.pem", name), *k = g_strdup_printf("%s.key", name);
  *cert = g_build_filename(dir, c, NULL);
  *key = g_build_filename(dir, k, NULL);
  g_autofree char *san = g_strdup_printf("subjectAltName=%s", subject_alt);
  const char *args[] = {"openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:P-256",
                        "-nodes",
                        "-keyout",
                        *key,
                        "-out",
                        *cert,
                        "-days",
                        "1",
                        "-subj",
                        "/CN=mentorlink test",
                        "-addext",
                        san};
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (size_t i = 0; i < G_N_ELEMENTS(args); i++)
    g_strv_builder_add(b, args[i]);
  g_auto(GStrv) argv = g_strv_builder_end(b);
  int status = -1;
  if (!g_spawn_sync(NULL, argv, NULL,
                    G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, NULL) ||
      status != 0) {
    fprintf(stderr, "FAIL: openssl could not make a test certificate (packaging/install-deps.sh "
                    "installs it)\n");
    exit(1);
  }
}

/* A loopback port where nothing listens (bound, then closed). */
static unsigned dead_port(void) {
  g_autoptr(GSocket) s =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  if (!s || !g_socket_bind(s, any, FALSE, NULL))
    exit(1);
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(s, NULL);
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

int main(void) {
  if (sodium_init() < 0)
    return 1;
  g_autofree char *dir = g_dir_make_tmp("mlsigerr-XXXXXX", NULL);
  char *cert, *key, *other_cert, *other_key;
  make_cert(dir, "self", "IP:127.0.0.1", &cert, &key);
  make_cert(dir, "other", "DNS:signal.example.org", &other_cert, &other_key);

  printf("a plain server, an address without /v1/ws:\n");
  ml_signal_server *plain = server_start(NULL, NULL);
  unsigned pp = ml_signal_server_port(plain);
  g_autofree char *no_path = g_strdup_printf("ws://127.0.0.1:%u/", pp);
  expect_fatal(no_path, NULL, 1, "not_found", "404", "/v1/ws");
  printf("a room with a secret, joined without it and with another:\n");
  g_autofree char *plain_url = g_strdup_printf("ws://127.0.0.1:%u/v1/ws", pp);
  client host;
  CHECK(client_start_in(&host, plain_url, NULL, "ward secret") == ML_OK, "host");
  CHECK(settle(&host, WAIT_MS) && host.welcomes == 1, "the host was not welcomed");
  client c;
  CHECK(client_start_in(&c, plain_url, NULL, NULL) == ML_OK, "client without the secret");
  CHECK(settle(&c, WAIT_MS) && c.fatal_errors == 1 && !strcmp(c.code, "wrong_secret") &&
            strstr(c.message, "this room has a room secret: give it with --room-secret"),
        "no secret: %s: %s", c.code, c.message);
  client_free(&c);
  CHECK(client_start_in(&c, plain_url, NULL, "other secret") == ML_OK, "client, other secret");
  CHECK(settle(&c, WAIT_MS) && c.fatal_errors == 1 && !strcmp(c.code, "wrong_secret") &&
            strstr(c.message, "not this room's"),
        "another secret: %s: %s", c.code, c.message);
  client_free(&c);
  client_free(&host);

  printf("wss:// to the plain server:\n");
  g_autofree char *wss_plain = g_strdup_printf("wss://127.0.0.1:%u/v1/ws", pp);
  expect_fatal(wss_plain, NULL, 0, "tls_mismatch", "ws://", NULL);
  ml_signal_server_free(plain);

  printf("nothing listening:\n");
  g_autofree char *dead = g_strdup_printf("ws://127.0.0.1:%u/v1/ws", dead_port());
  run(&c, dead, NULL);
  CHECK(c.fatal_errors == 1 && c.errors == ML_SIGNAL_MAX_ATTEMPTS &&
            c.retries == ML_SIGNAL_MAX_ATTEMPTS - 1 && !strcmp(c.code, "unreachable") &&
            strstr(c.message, "gave up after 8 attempts"),
        "unreachable: %u errors, %u retries, %s: %s", c.errors, c.retries, c.code, c.message);
  client_free(&c);

  printf("a TLS server with a self-signed certificate:\n");
  ml_signal_server *tls = server_start(cert, key);
  unsigned tp = ml_signal_server_port(tls);
  g_autofree char *ws_tls = g_strdup_printf("ws://127.0.0.1:%u/v1/ws", tp);
  expect_fatal(ws_tls, NULL, 0, "tls_mismatch", "wss://", NULL);
  g_autofree char *wss = g_strdup_printf("wss://127.0.0.1:%u/v1/ws", tp);
  expect_fatal(wss, NULL, 1, "tls_certificate", "self-signed", "--ca-file");
  run(&c, wss, cert);
  CHECK(c.welcomes == 1 && c.errors == 0, "with the certificate as ca_file: %u welcomes, %s: %s",
        c.welcomes, c.code, c.message);
  client_free(&c);
  ml_signal_server_free(tls);

  printf("a certificate for another name:\n");
  tls = server_start(other_cert, other_key);
  g_autofree char *wss_other =
      g_strdup_printf("wss://127.0.0.1:%u/v1/ws", ml_signal_server_port(tls));
  expect_fatal(wss_other, other_cert, 0, "tls_certificate", "another host name", NULL);
  ml_signal_server_free(tls);

  CHECK(client_start(&c, wss, key) == ML_ERR_IO, "a ca_file that holds no certificate");

  char *files[] = {cert, key, other_cert, other_key};
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_unlink(files[i]);
    g_free(files[i]);
  }
  g_rmdir(dir);
  printf("%s: %d failed checks\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
