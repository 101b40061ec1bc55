/* mentorlink-signal — a room's state as text, for the Redis backend: every
 * instance reads a room, applies one operation through the room state
 * machine (room.h) and writes it back (backend_redis.c).
 *
 * The text is one JSON object (docs/ARCHITECTURE.md, "Room record"):
 *   {"v":1,"room":ID,"capacity":N,"waiting_max":N,"auto_admit":B,
 *    "end_on_host_leave":B,"locked":B,"secret":HEX64?,"next_seq":N,
 *    "peers":[{"id","name","key","role","state","seq","inst"}...]}
 * "secret" is the keyed hash of the open-mode room secret (never the secret);
 * "inst" names the instance the member is connected to.
 *
 * Decoding treats the text as hostile (another process wrote it): bounded
 * size and depth, every field type- and range-checked, ids validated, no
 * unknown members. Pure; any thread; no shared state.
 */
#ifndef ML_SIGNAL_ROOM_CODEC_H
#define ML_SIGNAL_ROOM_CODEC_H

#include <stddef.h>

#include "room.h"

#define ML_ROOM_CODEC_MAX_BYTES (256 * 1024)
#define ML_ROOM_CODEC_MAX_PEERS 1024
#define ML_ROOM_CODEC_MAX_INST 32 /* instance id length */

/* The instance a member is connected to (for encoding). */
typedef const char *(*ml_room_codec_inst_cb)(void *user, const ml_room_peer *p);
/* The conn handle to restore a member with (for decoding); may return NULL. */
typedef void *(*ml_room_codec_conn_cb)(void *user, const char *peer_id, const char *inst);

/* The room as text (transfer full, g_free). */
char *ml_room_codec_encode(const ml_room_registry *reg, const ml_room *room,
                           ml_room_codec_inst_cb inst_of, void *user);
/* Restores the room in text (len bytes) into reg (which must not hold it).
 * On ML_OK *out is the room. ML_ERR_PROTOCOL when the text is malformed;
 * reg is then left as it was. */
ML_MUST_CHECK int ml_room_codec_decode(ml_room_registry *reg, const char *text, size_t len,
                                       ml_room_codec_conn_cb conn_for, void *user, ml_room **out);

#endif /* ML_SIGNAL_ROOM_CODEC_H */
