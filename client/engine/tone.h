/* A tone detector for tests and bots: the dominant frequency of a block of
 * PCM (private to the engine). Pure function, any thread. */
#ifndef ML_TONE_H
#define ML_TONE_H

#include <stddef.h>
#include <stdint.h>

/* The frequency in [lo_hz, hi_hz] with the most power in pcm (n samples at
 * rate Hz, Hann-windowed): a Goertzel scan in 8 Hz steps, then 0.1 Hz steps
 * around the peak. 0 when n < 64. Costs about n * ((hi - lo) / 8 + 160) multiplies. */
double ml_tone_dominant_hz(const int16_t *pcm, size_t n, unsigned rate, double lo_hz, double hi_hz);

#endif /* ML_TONE_H */
