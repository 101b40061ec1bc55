/* Dominant frequency by Goertzel scan. See tone.h. */
#include "tone.h"

#include <math.h>
#include <stdlib.h>

#define TONE_PI 3.14159265358979323846

static double goertzel(const double *x, size_t n, double f, unsigned rate) {
  double w = 2.0 * TONE_PI * f / rate, coeff = 2.0 * cos(w), s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    double s0 = x[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

double ml_tone_dominant_hz(const int16_t *pcm, size_t n, unsigned rate, double lo_hz,
                           double hi_hz) {
  if (n < 64 || rate == 0)
    return 0;
  double *x = malloc(n * sizeof *x);
  if (!x)
    return 0;
  for (size_t i = 0; i < n; i++)
    x[i] = (0.5 - 0.5 * cos(2.0 * TONE_PI * (double)i / (double)(n - 1))) * pcm[i];
  double best_f = 0, best_p = -1;
  for (int k = 0; lo_hz + 8.0 * k <= hi_hz; k++) {
    double f = lo_hz + 8.0 * k;
    double p = goertzel(x, n, f, rate);
    if (p > best_p) {
      best_p = p;
      best_f = f;
    }
  }
  double coarse = best_f;
  for (int step = -80; step <= 80; step++) {
    double f = coarse + step * 0.1;
    double p = goertzel(x, n, f, rate);
    if (p > best_p) {
      best_p = p;
      best_f = f;
    }
  }
  free(x);
  return best_f;
}
