/* mentorlink — freeze detector (see freeze.h). */
#include "freeze.h"

#include <string.h>

static int64_t median_us(const ml_freeze *f) {
  int64_t s[ML_FREEZE_WINDOW];
  unsigned n = f->n;
  memcpy(s, f->ring, n * sizeof s[0]);
  for (unsigned i = 1; i < n; i++) { /* insertion sort: at most 30 values */
    int64_t v = s[i];
    unsigned j = i;
    for (; j > 0 && s[j - 1] > v; j--)
      s[j] = s[j - 1];
    s[j] = v;
  }
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void update_threshold(ml_freeze *f) {
  int64_t t = (int64_t)ML_FREEZE_MIN_MS * 1000;
  if (f->n > 0) {
    int64_t m3 = 3 * median_us(f);
    if (m3 > t)
      t = m3;
  }
  f->threshold_us = t;
}

void ml_freeze_init(ml_freeze *f) {
  memset(f, 0, sizeof *f);
  update_threshold(f);
}

int64_t ml_freeze_on_frame(ml_freeze *f, int64_t now_us) {
  if (!f->have_last) {
    f->have_last = true;
    f->last_us = now_us;
    return 0;
  }
  int64_t gap = now_us > f->last_us ? now_us - f->last_us : 0;
  f->last_us = now_us > f->last_us ? now_us : f->last_us;
  int64_t frozen = 0;
  if (gap > f->threshold_us) {
    frozen = gap;
    f->frozen_us += gap;
    f->freezes++;
  }
  f->ring[f->pos] = gap;
  f->pos = (f->pos + 1) % ML_FREEZE_WINDOW;
  if (f->n < ML_FREEZE_WINDOW)
    f->n++;
  update_threshold(f);
  return frozen;
}

int64_t ml_freeze_total_us(const ml_freeze *f, int64_t now_us) {
  int64_t total = f->frozen_us;
  if (f->have_last && now_us > f->last_us && now_us - f->last_us > f->threshold_us)
    total += now_us - f->last_us;
  return total;
}

int64_t ml_freeze_threshold_us(const ml_freeze *f) { return f->threshold_us; }

void ml_freeze_restart(ml_freeze *f, int64_t now_us) {
  int64_t frozen = ml_freeze_total_us(f, now_us);
  uint64_t freezes = f->freezes + (frozen > f->frozen_us);
  ml_freeze_init(f);
  f->frozen_us = frozen;
  f->freezes = freezes;
}
