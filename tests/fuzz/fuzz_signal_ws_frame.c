/* libFuzzer target: the server's WebSocket frame reader (signaling/src/ws_frame.c),
 * which reads every byte a client sends after the upgrade. The input is fed in
 * pieces whose sizes come from its first byte; every event must respect the
 * limits (messages within max_message, control payloads within 125 bytes,
 * error codes that a close frame may carry), and nothing follows a close or
 * an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ws_frame.h"

#define MAX_MESSAGE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  size_t step = (size_t)(data[0] % 32) + 1;
  data++;
  size--;
  ml_ws_reader r;
  ml_ws_reader_init(&r, MAX_MESSAGE);
  bool ended = false;
  for (size_t off = 0; off < size; off += step) {
    ml_ws_reader_feed(&r, data + off, size - off < step ? size - off : step);
    ml_ws_event ev;
    while (ml_ws_reader_next(&r, &ev)) {
      if (ended)
        abort();
      switch (ev.kind) {
      case ML_WS_EV_TEXT:
      case ML_WS_EV_BINARY:
        if (ev.len > MAX_MESSAGE)
          abort();
        break;
      case ML_WS_EV_PING:
      case ML_WS_EV_PONG:
        if (ev.len > ML_WS_MAX_CONTROL)
          abort();
        break;
      case ML_WS_EV_CLOSE:
        if (ev.code != ML_WS_CLOSE_NO_STATUS && !ml_ws_close_code_valid(ev.code))
          abort();
        ended = true;
        break;
      case ML_WS_EV_ERROR:
        if (!ml_ws_close_code_valid(ev.code))
          abort();
        ended = true;
        break;
      }
    }
  }
  ml_ws_reader_clear(&r);
  return 0;
}
