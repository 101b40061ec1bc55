/* mentorlink — rooms on the local network (DNS-SD over mDNS, through Avahi).
 *
 * `mentorlink host` announces its room as a service of type
 * ML_LAN_SERVICE_TYPE, with TXT records "v=1", "room=ROOM" and
 * "path=/v1/ws" (nothing else: no names of people go on the LAN);
 * `mentorlink join --discover` lists the rooms it hears, each with the invite
 * link that joins it. Both go through the Avahi daemon (avahi-daemon, over
 * D-Bus): where it does not run, they say so and nothing else changes.
 *
 * What other machines announce is hostile: every TXT record is checked by
 * ml_lan_txt_parse, and a room is listed only with a valid room code, the
 * expected path, and an IPv4 address and port from the resolver.
 */
#ifndef ML_LAN_H
#define ML_LAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define ML_LAN_SERVICE_TYPE "_mentorlink._tcp"
#define ML_LAN_MAX_ROOMS 64 /* listed at most, the rest dropped */

/* ---- pure ---- */

/* The room code of a service's TXT records (n records, record i is lens[i]
 * bytes at recs[i], as on the wire: "key=value", no NUL) into room, or false
 * if they are not a mentorlink room's: "v=1", "room=" a valid room code and
 * "path=/v1/ws", each once; unknown keys are ignored. */
bool ml_lan_txt_parse(const uint8_t *const *recs, const size_t *lens, size_t n, char room[65]);

/* ---- announce (host) ---- */

typedef struct ml_lan_announce ml_lan_announce;

/* Announces room at port on the interface with index ifindex (0: every
 * interface), from ctx's thread (the Avahi client runs on ctx; call
 * ml_lan_announce_free on that thread too). NULL with *why (static text) when
 * Avahi cannot be reached; a name taken by another room on the LAN is
 * changed by Avahi ("clinic #2"), the TXT records stay. */
ml_lan_announce *ml_lan_announce_new(GMainContext *ctx, const char *room, unsigned port,
                                     int ifindex, const char **why);
void ml_lan_announce_free(ml_lan_announce *a);

/* ---- discover (join --discover) ---- */

typedef struct ml_lan_room {
  char room[65];
  char address[48]; /* IPv4, dotted */
  unsigned port;
} ml_lan_room;

/* Listens for up to wait_ms (on a main context of its own; blocks the
 * calling thread) and fills rooms[0..*n) with the rooms heard, each once.
 * 0, or -1 with *why (static text) when Avahi cannot be reached. */
int ml_lan_discover(unsigned wait_ms, ml_lan_room rooms[ML_LAN_MAX_ROOMS], size_t *n,
                    const char **why);

#endif /* ML_LAN_H */
