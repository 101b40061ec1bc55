/* mentorlink host (see host.h). */
#include "host.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>

#include "join.h"
#include "ml/invite.h"
#include "ml/lan.h"
#include "ml/signal_client.h"
#include "ml/signal_server.h"

#define DEFAULT_LISTEN "0.0.0.0:8443"

void ml_host_usage(FILE *f) {
  fputs("  host --room ROOM --name NAME [--listen ADDR:PORT] [join options]\n"
        "                              start a room on this machine for a clinic LAN: the\n"
        "                              signaling server runs inside mentorlink (plain ws,\n"
        "                              open mode; default --listen " DEFAULT_LISTEN "), you\n"
        "                              join as the room's host, and the invite link the\n"
        "                              others open (mentorlink join LINK) is printed\n"
        "                              first. Knocks are admitted in the window (or with\n"
        "                              --admit-all); a room secret\n"
        "                              (MENTORLINK_ROOM_SECRET) keys the handshake\n",
        f);
}

/* The embedded server, on a thread of its own with its own main context, so
 * that join's loops need not iterate it. */
typedef struct host_server {
  ml_signal_config cfg;
  ml_signal_server *srv;
  GMainContext *ctx;
  GMainLoop *loop;
  GThread *thread;
  GMutex lock;
  GCond started;
  bool done;            /* the thread has started the server or failed */
  char *errmsg;         /* why it failed (g_free) */
  unsigned port;        /* the bound port once started */
  const char *room;     /* announced on the LAN */
  int ifindex;          /* the listen address's interface, 0: all */
  ml_lan_announce *lan; /* on the server's thread; NULL if not announced */
  const char *lan_why;  /* why not (static) */
} host_server;

static gpointer serve(gpointer user) {
  host_server *h = user;
  g_main_context_push_thread_default(h->ctx);
  int rc = ml_signal_server_new(&h->srv, &h->cfg);
  if (rc == 0)
    rc = ml_signal_server_start(h->srv, &h->errmsg);
  else
    h->errmsg = g_strdup("invalid settings");
  g_mutex_lock(&h->lock);
  h->port = rc == 0 ? ml_signal_server_port(h->srv) : 0;
  if (rc == 0 && h->ifindex >= 0)
    h->lan = ml_lan_announce_new(h->ctx, h->room, h->port, h->ifindex, &h->lan_why);
  h->done = true;
  g_cond_signal(&h->started);
  g_mutex_unlock(&h->lock);
  if (rc == 0)
    g_main_loop_run(h->loop);
  ml_lan_announce_free(h->lan);
  ml_signal_server_free(h->srv); /* on its own thread, as signal_server.h asks */
  h->srv = NULL;
  g_main_context_pop_thread_default(h->ctx);
  return NULL;
}

static bool is_wildcard(const char *listen_host) {
  return !strcmp(listen_host, "0.0.0.0") || !strcmp(listen_host, "::");
}

/* The IPv4 address of an interface entry (unref), or NULL. */
static GInetAddress *ipv4_of(const struct ifaddrs *i) {
  if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
    return NULL;
  return g_inet_address_new_from_bytes(
      (const guint8 *)&((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr,
      G_SOCKET_FAMILY_IPV4);
}

/* Where to announce the room: the interface of the listen address (0: a
 * wildcard, every interface), or -1 for nowhere (loopback: nobody else can
 * reach it). */
static int announce_interface(const char *listen_host) {
  if (is_wildcard(listen_host))
    return 0;
  GInetAddress *want = g_inet_address_new_from_string(listen_host);
  if (!want || g_inet_address_get_is_loopback(want)) {
    g_clear_object(&want);
    return -1;
  }
  int index = -1;
  struct ifaddrs *ifs = NULL;
  if (getifaddrs(&ifs) == 0) {
    for (struct ifaddrs *i = ifs; i && index < 0; i = i->ifa_next) {
      GInetAddress *a = ipv4_of(i);
      if (a && g_inet_address_equal(a, want))
        index = (int)if_nametoindex(i->ifa_name);
      g_clear_object(&a);
    }
    freeifaddrs(ifs);
  }
  g_object_unref(want);
  return index;
}

/* Starts the server thread for room (announced on the LAN where it can
 * be); false with h->errmsg if the server did not start. */
static bool host_server_start(host_server *h, const char *room) {
  h->room = room;
  h->ifindex = announce_interface(h->cfg.listen_host);
  g_mutex_init(&h->lock);
  g_cond_init(&h->started);
  h->ctx = g_main_context_new();
  h->loop = g_main_loop_new(h->ctx, FALSE);
  h->thread = g_thread_new("ml-host-signal", serve, h);
  g_mutex_lock(&h->lock);
  while (!h->done)
    g_cond_wait(&h->started, &h->lock);
  g_mutex_unlock(&h->lock);
  return h->port != 0;
}

static gboolean quit(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

static void host_server_stop(host_server *h) {
  if (h->thread) {
    g_main_context_invoke(h->ctx, quit, h->loop);
    g_thread_join(h->thread);
  }
  g_main_loop_unref(h->loop);
  g_main_context_unref(h->ctx);
  g_mutex_clear(&h->lock);
  g_cond_clear(&h->started);
  g_free(h->errmsg);
  ml_signal_config_clear(&h->cfg);
}

/* The addresses others can reach: the listen address itself, or with a
 * wildcard every IPv4 address of this machine's interfaces but loopback. */
static GPtrArray *reachable_addresses(const char *listen_host) {
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  if (!is_wildcard(listen_host)) {
    g_ptr_array_add(out, g_strdup(listen_host));
    return out;
  }
  struct ifaddrs *ifs = NULL;
  if (getifaddrs(&ifs) == 0) {
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
      GInetAddress *a = ipv4_of(i);
      if (a && !g_inet_address_get_is_loopback(a))
        g_ptr_array_add(out, g_inet_address_to_string(a));
      g_clear_object(&a);
    }
    freeifaddrs(ifs);
  }
  if (!out->len)
    g_ptr_array_add(out, g_strdup("127.0.0.1")); /* this machine only */
  return out;
}

/* The invite: a link per address others may reach (without the room
 * secret, which the host passes on by word of mouth). */
static void print_invitation(const char *room, const char *listen_host, unsigned port) {
  GPtrArray *addrs = reachable_addresses(listen_host);
  printf("mentorlink: room %s is open on this machine. Others join with%s:\n", room,
         addrs->len > 1 ? " one of" : "");
  for (guint i = 0; i < addrs->len; i++) {
    g_autofree char *link = ml_invite_open_link(addrs->pdata[i], port, room);
    printf("  mentorlink join '%s'\n", link ? link : "?");
  }
  printf("(or open that link; --name NAME chooses their name, else their account's; with a "
         "room secret they also set MENTORLINK_ROOM_SECRET)\n");
  fflush(stdout);
  g_ptr_array_free(addrs, TRUE);
}

int ml_host_run(int argc, char **argv) {
  const char *listen = DEFAULT_LISTEN, *room = NULL;
  GPtrArray *join = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(join, g_strdup("join"));
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      printf("mentorlink host: start a room on this machine\n\n");
      ml_host_usage(stdout);
      g_ptr_array_free(join, TRUE);
      return 0;
    }
    if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
      listen = argv[++i];
      continue;
    }
    if (!strcmp(argv[i], "--server") || !strcmp(argv[i], "--token")) {
      fprintf(stderr,
              "mentorlink host: %s is for join: host runs its own server, in open "
              "mode\n(see mentorlink help)\n",
              argv[i]);
      g_ptr_array_free(join, TRUE);
      return 2;
    }
    if (!strcmp(argv[i], "--room") && i + 1 < argc)
      room = argv[i + 1];
    g_ptr_array_add(join, g_strdup(argv[i]));
  }
  host_server h = {0};
  ml_signal_config_init(&h.cfg);
  h.cfg.open_mode = true;
  h.cfg.insecure_listen = true; /* a clinic LAN without TLS: the call itself is end-to-end */
  h.cfg.workers = 0;
  h.cfg.log_level = ML_SIGNAL_LOG_WARN; /* its connections are not the user's business */
  int rc = 2;
  if (!room || !ml_signal_valid_id(room, ML_SIGNAL_MAX_ROOM)) {
    fprintf(stderr, "mentorlink host: --room ROOM is required (1-64 letters, digits, '_', '-' "
                    "or '.')\n(see mentorlink help)\n");
  } else if (ml_signal_config_set_listen(&h.cfg, listen) != 0) {
    fprintf(stderr, "mentorlink host: --listen wants ADDR:PORT (e.g. 0.0.0.0:8443), not: %s\n",
            listen);
  } else if (!host_server_start(&h, room)) {
    fprintf(stderr, "mentorlink host: the signaling server did not start: %s\n",
            h.errmsg ? h.errmsg : "?");
    rc = 1;
  } else {
    print_invitation(room, h.cfg.listen_host, h.port);
    if (h.lan)
      printf("(announced on the LAN: others find it with mentorlink join --discover)\n");
    else if (h.ifindex >= 0)
      printf("(not announced on the LAN: %s; mentorlink join --discover will not list it)\n",
             h.lan_why);
    fflush(stdout);
    /* The host joins where the server listens: loopback under a wildcard. */
    const char *at = h.cfg.listen_host;
    g_autofree char *url = ml_invite_ws_url(is_wildcard(at) ? "127.0.0.1" : at, h.port);
    g_ptr_array_insert(join, 1, g_strdup("--server"));
    g_ptr_array_insert(join, 2, g_strdup(url));
    g_ptr_array_add(join, NULL);
    rc = ml_join_run((int)join->len - 1, (char **)join->pdata);
  }
  host_server_stop(&h);
  g_ptr_array_free(join, TRUE);
  return rc;
}
