/* libFuzzer target: the reliable stream's frame decoder
 * (client/engine/stream_frame.h).
 *
 * Byte 0 sets the piece size (1 + byte % 64, or the whole input for 0): the
 * rest is the peer's byte stream, fed in pieces of that size as PseudoTCP
 * might hand it over. Checks what the contract promises: every call consumes
 * 1..len bytes, items point where they should and stay within their bounds,
 * and once MALFORMED the decoder stays so. Then the same input is decoded in
 * one piece, which must give the same stream bytes, messages and receipts
 * (hashed). Seeds in corpus/stream_frame/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct digest {
  uint64_t h;      /* messages and receipts, in order */
  uint64_t stream; /* the stream bytes, without chunk boundaries */
  uint64_t stream_bytes, messages, receipts;
  int malformed;
} digest;

static void fnv(uint64_t *h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    *h = (*h ^ p[i]) * 0x100000001b3u;
}

static void mix(digest *g, const uint8_t *p, size_t n, uint8_t tag) {
  fnv(&g->h, &tag, 1);
  fnv(&g->h, p, n);
}

static ml_stream_frame_decoder dec;

static void run(const uint8_t *data, size_t size, size_t chunk, digest *g) {
  memset(g, 0, sizeof *g);
  ml_stream_frame_decoder_init(&dec);
  while (size > 0) {
    size_t piece = size < chunk ? size : chunk;
    const uint8_t *p = data;
    size_t left = piece;
    while (left > 0) {
      ml_stream_frame_item it;
      size_t n = ml_stream_frame_decode(&dec, p, left, &it);
      if (n < 1 || n > left)
        abort();
      switch (it.event) {
      case ML_STREAM_FRAME_EV_NONE: break;
      case ML_STREAM_FRAME_EV_STREAM:
        if (it.len < 1 || it.len > ML_STREAM_FRAME_STREAM_MAX || it.data < p ||
            it.data + it.len > p + n)
          abort();
        fnv(&g->stream, it.data, it.len);
        g->stream_bytes += it.len;
        break;
      case ML_STREAM_FRAME_EV_MESSAGE:
        if (it.len < 1 || it.len > ML_STREAM_FRAME_MESSAGE_MAX)
          abort();
        mix(g, (const uint8_t *)&it.id, sizeof it.id, 2);
        mix(g, it.data, it.len, 2);
        g->messages++;
        break;
      case ML_STREAM_FRAME_EV_RECEIPT:
        mix(g, (const uint8_t *)&it.id, sizeof it.id, 3);
        g->receipts++;
        break;
      case ML_STREAM_FRAME_EV_MALFORMED:
        if (n != left)
          abort();
        g->malformed = 1;
        break;
      }
      if (g->malformed && it.event != ML_STREAM_FRAME_EV_MALFORMED)
        abort();
      p += n;
      left -= n;
    }
    data += piece;
    size -= piece;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t chunk = data[0] ? 1 + (size_t)(data[0] % 64) : SIZE_MAX;
  digest a, b;
  run(data + 1, size - 1, chunk, &a);
  run(data + 1, size - 1, SIZE_MAX, &b);
  if (a.stream != b.stream || a.stream_bytes != b.stream_bytes || a.messages != b.messages ||
      a.receipts != b.receipts || a.malformed != b.malformed || a.h != b.h)
    abort();
  return 0;
}
