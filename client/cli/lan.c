/* Rooms on the local network through Avahi. See ml/lan.h. */
#include "ml/lan.h"

#include <stdio.h>
#include <string.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-glib/glib-watch.h>

#include "ml/signal_client.h"

#define WS_PATH "/v1/ws"

/* ---- TXT records ---- */

/* The value of record rec (len bytes) if its key is key, NUL-terminated
 * into out (cap bytes); false otherwise. */
static bool txt_value(const uint8_t *rec, size_t len, const char *key, char *out, size_t cap) {
  size_t k = strlen(key);
  if (len <= k || memcmp(rec, key, k) != 0 || rec[k] != '=' || len - k - 1 >= cap ||
      memchr(rec, '\0', len))
    return false;
  memcpy(out, rec + k + 1, len - k - 1);
  out[len - k - 1] = '\0';
  return true;
}

bool ml_lan_txt_parse(const uint8_t *const *recs, const size_t *lens, size_t n, char room[65]) {
  char v[8] = "", r[65] = "", path[16] = "", tmp[65];
  unsigned seen_v = 0, seen_room = 0, seen_path = 0;
  for (size_t i = 0; i < n; i++) {
    if (txt_value(recs[i], lens[i], "v", tmp, sizeof v))
      seen_v++, memcpy(v, tmp, sizeof v);
    else if (txt_value(recs[i], lens[i], "room", tmp, sizeof r))
      seen_room++, memcpy(r, tmp, sizeof r);
    else if (txt_value(recs[i], lens[i], "path", tmp, sizeof path))
      seen_path++, memcpy(path, tmp, sizeof path);
    else if ((lens[i] >= 2 && !memcmp(recs[i], "v=", 2)) ||
             (lens[i] >= 5 && !memcmp(recs[i], "room=", 5)) ||
             (lens[i] >= 5 && !memcmp(recs[i], "path=", 5)))
      return false; /* a known key with a value too long */
  }
  if (seen_v != 1 || seen_room != 1 || seen_path != 1 || strcmp(v, "1") != 0 ||
      strcmp(path, WS_PATH) != 0 || !ml_signal_valid_id(r, ML_SIGNAL_MAX_ROOM))
    return false;
  memcpy(room, r, sizeof r);
  return true;
}

/* ---- announce ---- */

struct ml_lan_announce {
  AvahiGLibPoll *poll;
  AvahiClient *client;
  AvahiEntryGroup *group;
  char *name; /* the service name (avahi_free), changed on a collision */
  char room[65];
  unsigned port;
  int ifindex;
};

static void add_service(ml_lan_announce *a);

static void on_group(AvahiEntryGroup *g, AvahiEntryGroupState state, void *user) {
  ml_lan_announce *a = user;
  if (state == AVAHI_ENTRY_GROUP_COLLISION) { /* another room of that name: take the next */
    char *next = avahi_alternative_service_name(a->name);
    avahi_free(a->name);
    a->name = next;
    avahi_entry_group_reset(g);
    add_service(a);
  } else if (state == AVAHI_ENTRY_GROUP_FAILURE) {
    fprintf(stderr, "mentorlink host: the room is no longer announced on the LAN: %s\n",
            avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
  }
}

static void add_service(ml_lan_announce *a) {
  g_autofree char *room = g_strdup_printf("room=%s", a->room);
  int rc = avahi_entry_group_add_service(
      a->group, a->ifindex > 0 ? a->ifindex : AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, 0, a->name,
      ML_LAN_SERVICE_TYPE, NULL, NULL, (uint16_t)a->port, "v=1", room, "path=" WS_PATH, NULL);
  if (rc == 0)
    rc = avahi_entry_group_commit(a->group);
  if (rc < 0)
    fprintf(stderr, "mentorlink host: the room cannot be announced on the LAN: %s\n",
            avahi_strerror(rc));
}

static void on_announce_client(AvahiClient *c, AvahiClientState state, void *user) {
  ml_lan_announce *a = user;
  if (state == AVAHI_CLIENT_S_RUNNING && !a->group) {
    a->group = avahi_entry_group_new(c, on_group, a);
    if (a->group)
      add_service(a);
  } else if (state == AVAHI_CLIENT_S_COLLISION || state == AVAHI_CLIENT_S_REGISTERING) {
    if (a->group) /* the host name changed: announce again once it is settled */
      avahi_entry_group_reset(a->group);
    if (a->group && state == AVAHI_CLIENT_S_REGISTERING)
      add_service(a);
  }
}

ml_lan_announce *ml_lan_announce_new(GMainContext *ctx, const char *room, unsigned port,
                                     int ifindex, const char **why) {
  ml_lan_announce *a = g_new0(ml_lan_announce, 1);
  g_strlcpy(a->room, room, sizeof a->room);
  a->port = port;
  a->ifindex = ifindex;
  a->name = avahi_strdup(room);
  a->poll = avahi_glib_poll_new(ctx, G_PRIORITY_DEFAULT);
  int err = 0;
  a->client = avahi_client_new(avahi_glib_poll_get(a->poll), 0, on_announce_client, a, &err);
  if (!a->client) {
    *why = err == AVAHI_ERR_NO_DAEMON ? "avahi-daemon is not running on this machine"
                                      : "the Avahi daemon cannot be reached";
    ml_lan_announce_free(a);
    return NULL;
  }
  return a;
}

void ml_lan_announce_free(ml_lan_announce *a) {
  if (!a)
    return;
  if (a->client) /* frees the group too */
    avahi_client_free(a->client);
  if (a->poll)
    avahi_glib_poll_free(a->poll);
  avahi_free(a->name);
  g_free(a);
}

/* ---- discover ---- */

typedef struct discovery {
  GMainLoop *loop;
  AvahiClient *client;
  AvahiServiceBrowser *browser;
  ml_lan_room *rooms;
  size_t n;
  bool failed;
} discovery;

/* Answers on a LAN come as they come (a room announced just now, a slow
 * responder): discovery listens for its whole time, and stops early only
 * when Avahi fails. */
static void fail(discovery *d) {
  d->failed = true;
  g_main_loop_quit(d->loop);
}

static void add_room(discovery *d, const char *room, const char *address, unsigned port) {
  for (size_t i = 0; i < d->n; i++)
    if (!strcmp(d->rooms[i].room, room) && !strcmp(d->rooms[i].address, address) &&
        d->rooms[i].port == port)
      return;
  if (d->n == ML_LAN_MAX_ROOMS)
    return;
  ml_lan_room *r = &d->rooms[d->n++];
  g_strlcpy(r->room, room, sizeof r->room);
  g_strlcpy(r->address, address, sizeof r->address);
  r->port = port;
}

static void on_resolved(AvahiServiceResolver *res, AvahiIfIndex iface, AvahiProtocol proto,
                        AvahiResolverEvent event, const char *name, const char *type,
                        const char *domain, const char *host, const AvahiAddress *addr,
                        uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
                        void *user) {
  (void)iface, (void)proto, (void)name, (void)type, (void)domain, (void)host, (void)flags;
  discovery *d = user;
  if (event == AVAHI_RESOLVER_FOUND && addr && addr->proto == AVAHI_PROTO_INET && port) {
    const uint8_t *recs[16];
    size_t lens[16], n = 0;
    for (AvahiStringList *l = txt; l && n < G_N_ELEMENTS(recs); l = avahi_string_list_get_next(l)) {
      recs[n] = avahi_string_list_get_text(l);
      lens[n++] = avahi_string_list_get_size(l);
    }
    char room[65], address[AVAHI_ADDRESS_STR_MAX];
    if (ml_lan_txt_parse(recs, lens, n, room) &&
        avahi_address_snprint(address, sizeof address, addr))
      add_room(d, room, address, port);
  }
  avahi_service_resolver_free(res);
}

static void on_browse(AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto,
                      AvahiBrowserEvent event, const char *name, const char *type,
                      const char *domain, AvahiLookupResultFlags flags, void *user) {
  (void)b, (void)flags;
  discovery *d = user;
  if (event == AVAHI_BROWSER_NEW)
    avahi_service_resolver_new(d->client, iface, proto, name, type, domain, AVAHI_PROTO_INET, 0,
                               on_resolved, d); /* freed by on_resolved, or with the client */
  else if (event == AVAHI_BROWSER_FAILURE)
    fail(d);
}

static void on_discover_client(AvahiClient *c, AvahiClientState state, void *user) {
  discovery *d = user;
  if (state == AVAHI_CLIENT_FAILURE) {
    fail(d);
  } else if (state == AVAHI_CLIENT_S_RUNNING && !d->browser) {
    d->browser = avahi_service_browser_new(c, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET,
                                           ML_LAN_SERVICE_TYPE, NULL, 0, on_browse, d);
    if (!d->browser)
      fail(d);
  }
}

static gboolean on_deadline(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int ml_lan_discover(unsigned wait_ms, ml_lan_room rooms[ML_LAN_MAX_ROOMS], size_t *n,
                    const char **why) {
  *n = 0;
  GMainContext *ctx = g_main_context_new();
  g_main_context_push_thread_default(ctx);
  discovery d = {.loop = g_main_loop_new(ctx, FALSE), .rooms = rooms};
  AvahiGLibPoll *poll = avahi_glib_poll_new(ctx, G_PRIORITY_DEFAULT);
  int err = 0, rc = 0;
  /* The client's first state callback comes from inside avahi_client_new. */
  d.client = avahi_client_new(avahi_glib_poll_get(poll), 0, on_discover_client, &d, &err);
  if (!d.client) {
    *why = err == AVAHI_ERR_NO_DAEMON ? "avahi-daemon is not running on this machine"
                                      : "the Avahi daemon cannot be reached";
    rc = -1;
  } else {
    GSource *deadline = g_timeout_source_new(wait_ms);
    g_source_set_callback(deadline, on_deadline, d.loop, NULL);
    g_source_attach(deadline, ctx);
    if (!d.failed)
      g_main_loop_run(d.loop);
    g_source_destroy(deadline);
    g_source_unref(deadline);
    if (d.failed && d.n == 0) {
      *why = "the Avahi daemon failed to browse the network";
      rc = -1;
    }
    avahi_client_free(d.client); /* and the browser and resolvers */
  }
  *n = d.n;
  avahi_glib_poll_free(poll);
  g_main_loop_unref(d.loop);
  g_main_context_pop_thread_default(ctx);
  g_main_context_unref(ctx);
  return rc;
}
