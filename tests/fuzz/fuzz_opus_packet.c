/* libFuzzer target: the Opus packet header read of the audio concealment
 * counter (client/engine/audio_conceal.h), on a peer's RTP payload.
 *
 * Checks the contract: a parsed packet is 1..48 frames of one of Opus' frame
 * durations, 120 ms at most; feeding the same bytes to the counter keeps
 * expected = decoded + fec + concealed and never conceals more than was
 * expected. Seeds in corpus/opus_packet/. */
#include <stdint.h>
#include <stdlib.h>

#include "audio_conceal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ml_opus_packet p;
  if (ml_opus_packet_parse(data, size, &p) == ML_OK) {
    if (p.frames < 1 || p.frames > 48 || p.samples != p.frames * p.frame_samples ||
        p.samples > ML_OPUS_MAX_SAMPLES)
      abort();
    if (p.frame_samples != 120 && p.frame_samples != 240 && p.frame_samples != 480 &&
        p.frame_samples != 960 && p.frame_samples != 1920 && p.frame_samples != 2880)
      abort();
    if (p.lbrr && (!p.silk || p.empty))
      abort();
  }
  /* The input as a stream: byte 0 odd starts with a gap, then the packet. */
  ml_conceal c;
  ml_conceal_init(&c);
  if (size > 0 && (data[0] & 1))
    ml_conceal_on_gap(&c, 960);
  ml_conceal_on_packet(&c, data, size);
  ml_conceal_on_gap(&c, (uint64_t)size * 10);
  ml_conceal_on_packet(&c, data, size);
  if (ml_conceal_expected(&c) != c.decoded + c.fec + c.concealed ||
      c.concealed > ml_conceal_expected(&c))
    abort();
  return 0;
}
