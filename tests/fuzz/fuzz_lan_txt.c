/* libFuzzer target: the TXT records of a DNS-SD service another machine on
 * the LAN announces (ml_lan_txt_parse). Input: records as on the wire, each a
 * length byte and that many bytes (at most 16 records). A room it accepts is
 * a valid room code. */
#include <string.h>

#include "fuzz.h"
#include "ml/lan.h"
#include "ml/signal_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *recs[16];
  size_t lens[16], n = 0, pos = 0;
  while (pos < size && n < 16) {
    size_t len = data[pos++];
    if (len > size - pos)
      len = size - pos;
    recs[n] = data + pos;
    lens[n++] = len;
    pos += len;
  }
  char room[65];
  memset(room, 'x', sizeof room);
  if (ml_lan_txt_parse(recs, lens, n, room))
    CHECK(memchr(room, '\0', sizeof room) && ml_signal_valid_id(room, ML_SIGNAL_MAX_ROOM));
  return 0;
}
