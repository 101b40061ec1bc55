/* The video ladder: contract and rungs in ladder.h. */
#include "ladder.h"

#include <assert.h>

static const struct {
  unsigned num, den;         /* size: full x num / den */
  unsigned fps_num, fps_den; /* frame rate: full x fps_num / fps_den */
  unsigned enter_kbps, floor_kbps;
} rungs[ML_LADDER_RUNGS] = {
    {1, 1, 1, 1, 500, 400}, {3, 4, 1, 1, 300, 230}, {1, 2, 1, 1, 160, 110},
    {1, 2, 3, 4, 100, 70},  {1, 2, 1, 2, 0, 0},
};

static unsigned rung_for(unsigned kbps) {
  unsigned r = 0;
  while (r + 1 < ML_LADDER_RUNGS && kbps < rungs[r].enter_kbps)
    r++;
  return r;
}

void ml_ladder_init(ml_ladder *l, ml_ladder_format full, unsigned start_kbps) {
  assert(full.width > 0 && full.height > 0 && full.fps > 0);
  *l = (ml_ladder){.full = full, .rung = rung_for(start_kbps)};
}

bool ml_ladder_update(ml_ladder *l, int64_t now_ms, unsigned kbps) {
  unsigned before = l->rung;
  while (l->rung + 1 < ML_LADDER_RUNGS && kbps < rungs[l->rung].floor_kbps)
    l->rung++;
  if (l->rung != before) {
    l->rising = false;
    return true;
  }
  if (l->rung == 0 || kbps < rungs[l->rung - 1].enter_kbps) {
    l->rising = false;
    return false;
  }
  if (!l->rising) {
    l->rising = true;
    l->rising_since_ms = now_ms;
    l->rising_min_kbps = kbps;
  }
  if (kbps < l->rising_min_kbps)
    l->rising_min_kbps = kbps;
  if (now_ms - l->rising_since_ms < ML_LADDER_UP_HOLD_MS)
    return false;
  unsigned to = rung_for(l->rising_min_kbps);
  l->rung = to < l->rung ? to : l->rung - 1;
  l->rising = false; /* a further step up waits its own hold */
  return true;
}

static unsigned even(unsigned v) {
  v &= ~1u;
  return v < 2 ? 2 : v;
}

ml_ladder_format ml_ladder_format_now(const ml_ladder *l) {
  unsigned r = l->rung;
  unsigned fps = l->full.fps * rungs[r].fps_num / rungs[r].fps_den;
  return (ml_ladder_format){
      .width = even(l->full.width * rungs[r].num / rungs[r].den),
      .height = even(l->full.height * rungs[r].num / rungs[r].den),
      .fps = fps < 1 ? 1 : fps,
  };
}

bool ml_ladder_thin_audio(const ml_ladder *l, bool video_paused) {
  return video_paused || l->rung >= 3;
}
