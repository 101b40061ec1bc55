/* libFuzzer target: CONTROL messages from a peer (ml/control.h).
 *
 * Each input is one CONTROL payload as opened from the channel. The parser
 * must refuse or accept it without reading outside it; an accepted message
 * of any type (media state, hand, reaction, host request, spotlight, signal id, layer) writes
 * back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/control.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly size bytes, so ASan sees any over-read. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    return 0;
  if (size)
    memcpy(copy, data, size);
  ml_control_message m;
  int err = ml_control_parse(copy, size, &m);
  if (err == ML_OK) {
    CHECK(m.type >= ML_CONTROL_MEDIA_STATE && m.type <= ML_CONTROL_LAYER);
    CHECK(size <= ML_CONTROL_MAX_LEN);
    CHECK(m.type != ML_CONTROL_MEDIA_STATE || size == ML_CONTROL_MEDIA_STATE_LEN);
    uint8_t out[ML_CONTROL_MAX_LEN];
    CHECK(ml_control_write(&m, out, sizeof out) == size);
    CHECK(memcmp(out, copy, size) == 0);
  } else {
    CHECK(err == ML_ERR_PROTOCOL || err == ML_ERR_UNSUPPORTED);
    CHECK(err != ML_ERR_UNSUPPORTED ||
          (size >= 1 &&
           (copy[0] != ML_CONTROL_VERSION ||
            (size >= 2 && (copy[1] < ML_CONTROL_MEDIA_STATE || copy[1] > ML_CONTROL_LAYER)))));
  }
  free(copy);
  return 0;
}
