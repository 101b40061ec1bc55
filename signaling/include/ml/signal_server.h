/* mentorlink-signal — the signaling server as an embeddable object.
 *
 * The daemon (signaling/src/main.c) is a thin shell around this: the client can
 * host the same server in-process for a LAN ("embedded default").
 *
 * Threading: a server belongs to the GMainContext that is thread-default on the
 * thread calling ml_signal_server_new; every call must come from that thread,
 * and the context must be iterated for the server to do anything (it accepts
 * there). With cfg.workers = 0 it serves on that context too; with N > 0 it
 * also runs N threads of its own, joined by ml_signal_server_free.
 */
#ifndef ML_SIGNAL_SERVER_H
#define ML_SIGNAL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

/* Which of a server's log lines are written (stderr, key=value): those at
 * this level and above. Per server, so that one embedded in a client logs
 * apart from the process. */
typedef enum ml_signal_log_level {
  ML_SIGNAL_LOG_DEBUG,
  ML_SIGNAL_LOG_INFO,
  ML_SIGNAL_LOG_WARN,
  ML_SIGNAL_LOG_ERROR,
} ml_signal_log_level;

/* Where rooms live ([server] backend). */
typedef enum ml_signal_backend {
  ML_SIGNAL_BACKEND_MEMORY, /* this process only (default) */
  ML_SIGNAL_BACKEND_REDIS,  /* shared with other instances through Redis */
} ml_signal_backend;

/* Every setting; see packaging/mentorlink-signal.conf.example for the file
 * form. Strings and string vectors are owned (g_free / g_strfreev); the token
 * secret lives in sodium_malloc memory. Initialise with ml_signal_config_init,
 * release with ml_signal_config_clear. */
typedef struct ml_signal_config {
  /* [server] */
  char *listen_host;    /* "127.0.0.1"; "0.0.0.0"/"::" for all */
  unsigned listen_port; /* 0 picks a free port (see ml_signal_server_port) */
  char *tls_cert_file;  /* PEM; with tls_key_file enables https/wss */
  char *tls_key_file;
  char *public_url;     /* how clients reach /v1/ws (wss://host/v1/ws), for invites; or NULL */
  bool insecure_listen; /* allow plain ws on a non-loopback address */
  bool open_mode;       /* room code (+ optional secret) instead of tokens */
  unsigned max_connections;
  unsigned max_connections_per_ip;
  unsigned max_rooms;
  unsigned max_message_bytes;    /* text frames above this get "too_big" */
  unsigned keepalive_interval_s; /* WebSocket pings; 0 = off */
  unsigned idle_timeout_s;       /* close after this long with nothing received */
  unsigned join_timeout_s;       /* close a connection that has not joined by then */
  unsigned drain_timeout_ms;     /* SIGTERM: wait this long for clients to go */
  /* 0: serve on the caller's GMainContext (embedded). N: N worker threads,
   * each with its own context; connections are spread over them. */
  unsigned workers;
  ml_signal_log_level log_level; /* default info; the daemon's --log-level */
  ml_signal_backend backend;     /* not reloadable */
  /* [redis] (backend = redis; not reloadable) */
  char *redis_url; /* redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]; default loopback */
  /* rediss:// (TLS): the CA that signed Redis's certificate (NULL: the
   * system store); a client certificate and its key (NULL: none). */
  char *redis_tls_ca_file, *redis_tls_cert_file, *redis_tls_key_file;
  char *redis_password;      /* AUTH; overrides the URL's password; NULL: none */
  unsigned redis_timeout_ms; /* bound on each Redis command and connect (default 500) */
  /* An instance silent this long is taken for dead and its members are
   * taken out of their rooms (default 15000); also the longest Redis outage
   * that keeps every instance's members. */
  unsigned redis_presence_ttl_ms;
  /* [rooms] */
  unsigned room_capacity;
  unsigned waiting_max;
  bool auto_admit;
  bool end_on_host_leave; /* else hand over to the longest-present participant */
  /* [tokens] */
  uint8_t *token_secret; /* sodium_malloc; NULL when unset */
  size_t token_secret_len;
  /* [limits] */
  double message_rate; /* per connection, messages per second */
  double message_burst;
  unsigned flood_disconnect; /* rate-limited messages tolerated before disconnect */
  double connect_rate;       /* per source address, new connections per second */
  double connect_burst;
  double ip_message_rate; /* per source address, messages per second; 0 = off */
  double ip_message_burst;
  /* [ice] */
  char **stun_urls; /* NULL-terminated; may be NULL */
  char **turn_urls;
  char *turn_secret; /* coturn static-auth-secret */
  unsigned turn_ttl_s;
} ml_signal_config;

/* Fills cfg with the defaults documented in the example config. */
void ml_signal_config_init(ml_signal_config *cfg);
/* Overlays the GKeyFile at path onto cfg. Unknown groups or keys, bad values:
 * ML_ERR_INVALID with *errmsg (g_free) saying which; ML_ERR_IO if unreadable;
 * ML_ERR_PERMISSION if the file holds a secret ([tokens] secret, [ice]
 * turn_secret) and every user may read it (*errmsg gives the chmod). On
 * failure cfg is unchanged. */
ML_MUST_CHECK int ml_signal_config_load(ml_signal_config *cfg, const char *path, char **errmsg);
/* Parses "HOST:PORT", "[V6]:PORT" into cfg. */
ML_MUST_CHECK int ml_signal_config_set_listen(ml_signal_config *cfg, const char *addr);
/* ML_ERR_INVALID with *errmsg (g_free) when cfg's Redis URL cannot be used. */
ML_MUST_CHECK int ml_signal_config_check_redis(const ml_signal_config *cfg, char **errmsg);
/* Sets the token secret (copied into sodium_malloc memory). */
ML_MUST_CHECK int ml_signal_config_set_token_secret(ml_signal_config *cfg, const char *secret);
void ml_signal_config_copy(ml_signal_config *dst, const ml_signal_config *src);
void ml_signal_config_clear(ml_signal_config *cfg);

typedef struct ml_signal_server ml_signal_server;

/* Creates a server with a copy of cfg. Nothing listens until start. */
ML_MUST_CHECK int ml_signal_server_new(ml_signal_server **out, const ml_signal_config *cfg);
/* Listens. Refuses (ML_ERR_PERMISSION) a non-loopback address without TLS
 * unless insecure_listen. *errmsg (g_free) on failure. */
ML_MUST_CHECK int ml_signal_server_start(ml_signal_server *srv, char **errmsg);
/* The bound TCP port once started (useful with listen_port 0). */
unsigned ml_signal_server_port(const ml_signal_server *srv);
/* Applies the reloadable settings of cfg (limits, rooms defaults for new
 * rooms, tokens, ice). Listen address, TLS and open mode need a restart. */
ML_MUST_CHECK int ml_signal_server_reload(ml_signal_server *srv, const ml_signal_config *cfg);

typedef void (*ml_signal_drained_cb)(void *user);
/* Graceful drain: refuses new connections, sends every client a "shutdown"
 * message, closes them, and calls done once all are gone or drain_timeout_ms
 * passed (then force-closes the rest). Call once. */
void ml_signal_server_drain(ml_signal_server *srv, ml_signal_drained_cb done, void *user);
/* Stops listening and frees; open connections are dropped. NULL is a no-op. */
void ml_signal_server_free(ml_signal_server *srv);

#endif /* ML_SIGNAL_SERVER_H */
