/* libFuzzer target: decoding a room record (signaling/src/room_codec.c), the
 * text the Redis backend reads back from Redis. A record that decodes must
 * encode again and decode to the same text, and the restored room must take
 * operations (the first member leaves) without tripping an assertion. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "room.h"
#include "room_codec.h"

static void sink(void *user, void *conn, const ml_room_event *ev) {
  (void)user;
  (void)conn;
  if (!ev->room || !ev->subject)
    abort();
}
static const char *inst_of(void *user, const ml_room_peer *p) {
  (void)user;
  (void)p;
  return "i";
}
static void *conn_for(void *user, const char *peer_id, const char *inst) {
  (void)user;
  (void)peer_id;
  (void)inst;
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ml_room_registry *reg = NULL;
  if (ml_room_registry_new(&reg, 2, sink, NULL) != ML_OK)
    abort();
  ml_room *room = NULL;
  if (ml_room_codec_decode(reg, (const char *)data, size, conn_for, NULL, &room) == ML_OK) {
    char *a = ml_room_codec_encode(reg, room, inst_of, NULL);
    ml_room_registry *reg2 = NULL;
    if (ml_room_registry_new(&reg2, 2, sink, NULL) != ML_OK)
      abort();
    ml_room *room2 = NULL;
    if (ml_room_codec_decode(reg2, a, strlen(a), conn_for, NULL, &room2) != ML_OK)
      abort();
    char *b = ml_room_codec_encode(reg2, room2, inst_of, NULL);
    if (strcmp(a, b) != 0)
      abort();
    g_free(a);
    g_free(b);
    ml_room_registry_free(reg2);
    if (ml_room_peer_count(room) > 0)
      ml_room_leave(reg, ml_room_find_peer(reg, ml_room_peer_at(room, 0)->id));
  }
  ml_room_registry_free(reg);
  return 0;
}
