/* mentorlink-signal — the server's shared state: connections, workers and
 * the server object, for the files that make up the server (server.c:
 * transport and connection lifecycle; workers.c: worker threads, cross-worker
 * delivery and drain). Private to signaling/src.
 *
 * Locking and thread ownership are stated beside each field: srv->lock guards
 * the backend's room state, the metrics, the per-address table, the connection count
 * and every conn's `member`/`joined_once`; a connection's socket and its other
 * fields belong to its worker's thread. */
#ifndef ML_SIGNAL_SERVER_INTERNAL_H
#define ML_SIGNAL_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libsoup/soup.h>
#include <sodium.h>

#include "log.h"
#include "metrics.h"
#include "ml/signal_server.h"
#include "ratelimit.h"
#include "room.h"
#include "ws.h"

/* A log line of srv at its own level (ml_signal_config.log_level). */
#define ML_SRV_LOG(srv, level, ...)                                                                \
  ml_log_at((ml_log_level)(srv)->cfg.log_level, level, __VA_ARGS__)

#define MAX_WORKERS 64
/* Messages above this factor of max_message_bytes end the connection (close
 * code 1009, ws.h); between max_message_bytes and this the client gets a
 * "too_big" error and stays. */
#define HARD_FRAME_FACTOR 4
#define CLOSE_TRY_AGAIN_LATER 1013
#define CLOSE_REMOVED 4001
#define CLOSE_DENIED 4002
#define CLOSE_ROOM_CLOSED 4003
#define CLOSE_LEFT 4004
#define CLOSE_IDLE 4008
#define CLOSE_FLOOD 4029
#define CLOSE_AUTH_FAILURES 4010

typedef struct ip_entry {
  ml_ratelimit connect;
  ml_ratelimit auth_fail; /* refused joins: slows guessing of open-mode secrets */
  ml_ratelimit messages;  /* all messages from the address ([limits] ip_message_rate) */
  unsigned conns;
} ip_entry;

typedef struct worker worker;

typedef struct conn {
  gint ref; /* atomic: the worker's table + queued deliveries */
  ml_signal_server *srv;
  worker *w;       /* owner; only its thread touches the fields below `joined_once` */
  char id[24];     /* peer id, chosen at accept; used for logs too */
  char detail[96]; /* an error detail built for this connection's last message */
  char *ip;
  /* under srv->lock */
  void *member; /* the backend's handle of c's place in a room; NULL: none (backend.h) */
  bool joined_once;
  bool counted; /* holds a slot in the connection and per-address counts */
  unsigned failed_joins;
  /* owner thread only */
  ml_ws *ws;
  bool closing;
  ml_ratelimit rl;
  unsigned floods;
  int64_t last_flood_us;
  int64_t created_us;
  int64_t last_rx_us;
} conn;

/* A message (and/or a close) for one connection, made under the lock. */
typedef struct delivery {
  conn *to; /* holds a reference */
  char *text;
  unsigned short close_code; /* 0: none */
} delivery;

struct worker {
  ml_signal_server *srv;
  GMainContext *ctx;
  GMainLoop *loop; /* NULL when running on the caller's context */
  GThread *thread;
  SoupServer *soup;  /* HTTP and the WebSocket upgrade */
  ml_ws_loop *wsl;   /* the upgraded connections (ws.h) */
  GHashTable *conns; /* conn* set (owns a reference each); owner thread only */
  GQueue pending;    /* deliveries queued while this worker held the lock */
  bool flushing;
  GSource *sweep;
};

struct ml_signal_server {
  /* pthread, not GMutex: ThreadSanitizer understands it. */
  pthread_mutex_t lock;
  ml_signal_config cfg; /* under lock once started */
  GMainContext *main_ctx;
  GSocket *listen_sock; /* we accept; libsoup serves (see on_listen_ready) */
  GSource *listen_src;
  GTlsCertificate *tls_cert;
  worker *workers;
  unsigned n_workers;
  unsigned next_worker;
  struct ml_backend *backend; /* rooms: memory or redis (backend.h) */
  GHashTable *ips;            /* ip string -> ip_entry* (owned) */
  unsigned n_conns;
  ml_metrics metrics;
  unsigned port;
  uint8_t open_key[crypto_generichash_KEYBYTES]; /* keys room-secret hashes */
  worker *emit_to;                               /* under lock: whose queue the room sink fills */
  bool draining;
  ml_signal_drained_cb drained;
  void *drained_user;
  GSource *drain_timer;
  GSource *drained_src; /* under lock: the pending "drained" idle */
  gint stopping;        /* atomic: ml_signal_server_free has begun */
  bool drained_posted;
};

conn *ml_srv_conn_ref(conn *c);
/* Under lock: the message that tells ev to its recipient (transfer full),
 * and in *close_code the close that follows it (0: none). A welcome uses
 * srv's ICE configuration. Counts relayed signals. */
char *ml_srv_event_text(ml_signal_server *srv, const ml_room_event *ev, unsigned short *close_code);
/* Owner thread only (the last reference may drop the WebSocket). */
void ml_srv_conn_unref(conn *c);
/* Owner thread: closes c's WebSocket once (later calls do nothing). */
void ml_srv_conn_close(conn *c, unsigned short code, const char *reason);

#endif /* ML_SIGNAL_SERVER_INTERNAL_H */
