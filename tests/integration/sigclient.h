/* A small WebSocket test client for mentorlink-signal, and a handle on a real
 * server process. Everything runs on the thread-default main context; every
 * wait is bounded and iterates the context (no sleeps as synchronisation).
 * Test code: a failed check prints, kills the server and exits 1. */
#ifndef ML_TEST_SIGCLIENT_H
#define ML_TEST_SIGCLIENT_H

#include <stdbool.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#define WAIT_MS 5000

typedef struct sig_server {
  GSubprocess *proc;
  char *dir;
  char *config_path;
  unsigned port;
  bool tls; /* clients use wss:// and https:// (any certificate accepted) */
} sig_server;

typedef struct sig_client {
  SoupWebsocketConnection *ws;
  GQueue inbox; /* JsonNode* (object), oldest first */
  bool closed;
  int close_code;
  unsigned received;
  char *peer_id; /* from welcome/waiting, once seen */
} sig_client;

/* Fails the test (prints file:line and the message, kills the server). */
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      sig_fail(__FILE__, __LINE__, #cond);                                                         \
  } while (0)
G_NORETURN void sig_fail(const char *file, int line, const char *what);

#define TEST_SECRET "integration-test-secret-0123456789abcdef"

/* A throwaway self-signed certificate (openssl) for subject_alt, e.g.
 * "IP:127.0.0.1": dir/cert.pem and dir/key.pem (paths: g_free). */
void sig_make_cert(const char *dir, const char *subject_alt, char **cert, char **key);

/* Starts mentorlink-signal with the given config text (a [server] group with
 * listen = 127.0.0.1:0 is prepended) and extra args (NULL-terminated). */
void sig_server_start(sig_server *s, const char *config_extra, const char *const *args);
/* Rewrites the config file (for SIGHUP tests). */
void sig_server_write_config(sig_server *s, const char *config_extra);
void sig_server_signal(sig_server *s, int signum);
/* Waits for the process to exit; returns its exit status or -1 on timeout. */
int sig_server_wait_exit(sig_server *s, int timeout_ms);
void sig_server_stop(sig_server *s);

sig_client *sig_client_connect(const sig_server *s);
void sig_client_free(sig_client *c);
void sig_client_send(sig_client *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void sig_client_send_raw(sig_client *c, const char *text, size_t len);
void sig_client_send_binary(sig_client *c, const void *data, size_t len);
/* Removes and returns (transfer full) the first queued message of type,
 * waiting up to timeout_ms; NULL on timeout. */
JsonNode *sig_client_wait(sig_client *c, const char *type, int timeout_ms);
/* Waits for an "error" reply and checks its code; returns it (transfer full). */
JsonNode *sig_client_expect_error(sig_client *c, const char *code);
bool sig_client_wait_closed(sig_client *c, int timeout_ms);
/* Round trip: sends ping with a fresh id and waits for the pong; true if it came. */
bool sig_client_roundtrip(sig_client *c, int timeout_ms);
/* Count of queued messages of type (without waiting). */
unsigned sig_client_count(sig_client *c, const char *type);

/* Joins with a token for room/role/name; waits for "welcome" (or "waiting"
 * when expect is "waiting"). Returns the message (transfer full). */
JsonNode *sig_client_join(sig_client *c, const char *room, const char *role, const char *name,
                          const char *expect);
char *sig_token(const char *room, const char *role, const char *name, gint64 ttl,
                const char *secret);
/* A deterministic identity key, base64 of 32 bytes. */
char *sig_identity_key(unsigned n);

const char *obj_str(JsonNode *n, const char *key);
JsonObject *obj(JsonNode *n);

/* Iterates the main context until pred(data) or timeout; returns pred's value. */
bool sig_wait_until(bool (*pred)(void *), void *data, int timeout_ms);

/* A g_strfreev-able argv from a NULL-terminated list. */
char **sig_argv(const char *first, ...) G_GNUC_NULL_TERMINATED;

/* GET http://127.0.0.1:port/path; returns the body (g_free) and sets *status. */
char *sig_http_get(const sig_server *s, const char *path, unsigned *status);

#endif
