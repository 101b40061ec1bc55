/* The sender's congestion controller: contract and rules in ml/rate.h. */
#include "ml/rate.h"

#include "link_capacity.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#define LOSS_LOW 0.02          /* below: increase */
#define LOSS_HIGH 0.10         /* above, with a delay rise: decrease */
#define LOSS_SEVERE 0.25       /* from here: decrease whatever the delay says */
#define RANDOM_LOSS_PER_S 1.04 /* increase per second under random loss */
#define INCREASE_PER_S 1.08    /* multiplicative increase per second */
#define FAST_PER_S 1.4         /* clean, past the last congestion: recovery */
#define FAST_AFTER_MS 3000     /* clean this long before the fast pace */
#define OVERUSE_FACTOR 0.85    /* delay overuse: rate * 0.85 */
#define TIMEOUT_FACTOR 0.5     /* feedback stopped: as loss 100 % */
#define DECREASE_GAP_MS 300.0  /* + RTT between two decreases */
#define RTT_MAX_MS 60000.0     /* larger RTTs are garbage */
#define RTT_BUCKET_MS 15000    /* base RTT: minimum over two such buckets */
#define DELAY_MARGIN_MIN_MS 50.0
#define RESUME_WAIT_MAX_MS 60000u

enum delay_state { DELAY_NORMAL, DELAY_ELEVATED, DELAY_OVERUSE };

typedef struct peer {
  const void *key; /* NULL: slot free */
  int64_t last_ms; /* time of the latest report */
  double loss;
  double rtt_ms;                    /* latest; < 0 unknown */
  double srtt, rttvar;              /* RFC 6298 smoothing; srtt < 0 before the first */
  double rtt_min_cur, rtt_min_prev; /* < 0: none yet */
  int64_t bucket_ms;
  bool have_bucket;
  unsigned high_rtt_reports; /* consecutive reports above base + margin */
  enum delay_state delay;
  bool fresh;       /* not yet acted on by an update */
  double remb_kbps; /* the peer's delay-based estimate; < 0 none */
  int64_t remb_ms;  /* when it came */
} peer;

struct ml_rate {
  ml_rate_config cfg;
  peer peers[ML_RATE_MAX_PEERS];
  double rate_kbps;
  bool paused;
  bool have_update, have_decrease, have_resume;
  int64_t last_update_ms, last_decrease_ms, last_resume_ms;
  bool congested_at_floor; /* since floor_since_ms */
  int64_t floor_since_ms;
  bool clean; /* paused, and clean since clean_since_ms */
  int64_t clean_since_ms;
  unsigned resume_wait_ms;
  double audio_loss_est;
  double worst_loss;
  ml_rate_action last_action;
  ml_rate_reason reason;
  uint64_t updates;
  ml_link_capacity capacity; /* what the path carried when it congested */
  bool in_streak;            /* clean updates in a row since streak_ms */
  int64_t streak_ms;
};

static unsigned or_default(unsigned v, unsigned def) { return v ? v : def; }

/* Milliseconds from then to now; time that went backwards counts as none. */
static int64_t elapsed(int64_t now, int64_t then) { return now > then ? now - then : 0; }

int ml_rate_new(ml_rate **out, const ml_rate_config *cfg) {
  assert(out != NULL);
  ml_rate_config c = {0};
  if (cfg != NULL)
    c = *cfg;
  c.min_kbps = or_default(c.min_kbps, 50);
  c.max_kbps = or_default(c.max_kbps, 1200);
  c.start_kbps = or_default(c.start_kbps, 800);
  c.min_interval_ms = or_default(c.min_interval_ms, 250);
  c.feedback_timeout_ms = or_default(c.feedback_timeout_ms, 4000);
  c.pause_after_ms = or_default(c.pause_after_ms, 5000);
  c.resume_after_ms = or_default(c.resume_after_ms, 5000);
  c.probe_window_ms = or_default(c.probe_window_ms, 15000);
  if (c.min_kbps > c.max_kbps)
    return ML_ERR_INVALID;
  ml_rate *rc = calloc(1, sizeof *rc);
  if (rc == NULL)
    return ML_ERR_NOMEM;
  rc->cfg = c;
  rc->rate_kbps = c.start_kbps < c.min_kbps   ? c.min_kbps
                  : c.start_kbps > c.max_kbps ? c.max_kbps
                                              : c.start_kbps;
  rc->resume_wait_ms = c.resume_after_ms;
  ml_link_capacity_init(&rc->capacity);
  *out = rc;
  return ML_OK;
}

void ml_rate_free(ml_rate *rc) { free(rc); }

static peer *find_peer(ml_rate *rc, const void *key) {
  for (size_t i = 0; i < ML_RATE_MAX_PEERS; i++)
    if (rc->peers[i].key == key)
      return &rc->peers[i];
  return NULL;
}

/* Classifies the new RTT against the peer's base (the minimum of the last
 * 15-30 s, this report excluded), then adds it to the window. */
static void delay_update(peer *p, int64_t now, double rtt) {
  p->rtt_ms = rtt;
  if (rtt < 0) {
    p->delay = DELAY_NORMAL;
    p->high_rtt_reports = 0;
    return;
  }
  double base = p->rtt_min_cur;
  if (p->rtt_min_prev >= 0 && (base < 0 || p->rtt_min_prev < base))
    base = p->rtt_min_prev;
  p->delay = DELAY_NORMAL;
  if (base >= 0) {
    /* A noisy RTT (a busy host) widens the margin, as TCP's RTO does. */
    double margin = fmax(fmax(DELAY_MARGIN_MIN_MS, base / 4), 2 * p->rttvar);
    if (rtt > base + margin)
      p->high_rtt_reports++;
    else
      p->high_rtt_reports = 0;
    if (p->high_rtt_reports >= 2) /* one late report is noise (a busy host) */
      p->delay = DELAY_OVERUSE;
    else if (rtt > base + margin / 2)
      p->delay = DELAY_ELEVATED;
  }
  if (p->srtt < 0) {
    p->srtt = rtt;
    p->rttvar = 0;
  } else {
    p->rttvar = 0.75 * p->rttvar + 0.25 * fabs(p->srtt - rtt);
    p->srtt = 0.875 * p->srtt + 0.125 * rtt;
  }
  if (!p->have_bucket || elapsed(now, p->bucket_ms) >= RTT_BUCKET_MS) {
    p->rtt_min_prev = p->have_bucket ? p->rtt_min_cur : -1;
    p->rtt_min_cur = rtt;
    p->bucket_ms = now;
    p->have_bucket = true;
  } else if (p->rtt_min_cur < 0 || rtt < p->rtt_min_cur) {
    p->rtt_min_cur = rtt;
  }
}

static void pause_logic(ml_rate *rc, int64_t now, bool congested, bool clean) {
  if (rc->cfg.no_pause)
    return;
  if (!rc->paused) {
    if (!congested || rc->rate_kbps > rc->cfg.min_kbps) {
      rc->congested_at_floor = false;
      return;
    }
    if (!rc->congested_at_floor) {
      rc->congested_at_floor = true;
      rc->floor_since_ms = now;
    }
    if (elapsed(now, rc->floor_since_ms) < rc->cfg.pause_after_ms)
      return;
    rc->paused = true;
    rc->clean = false;
    rc->congested_at_floor = false;
    /* A probe that failed soon after resuming: wait twice as long next time. */
    if (rc->have_resume && elapsed(now, rc->last_resume_ms) < rc->cfg.probe_window_ms) {
      unsigned w = rc->resume_wait_ms * 2;
      rc->resume_wait_ms = w > RESUME_WAIT_MAX_MS ? RESUME_WAIT_MAX_MS : w;
    } else {
      rc->resume_wait_ms = rc->cfg.resume_after_ms;
    }
    return;
  }
  if (!clean) {
    rc->clean = false;
    return;
  }
  if (!rc->clean) {
    rc->clean = true;
    rc->clean_since_ms = now;
  }
  if (elapsed(now, rc->clean_since_ms) < rc->resume_wait_ms)
    return;
  rc->paused = false; /* probe: from the floor, at the normal pace */
  rc->clean = false;
  rc->rate_kbps = rc->cfg.min_kbps;
  rc->have_resume = true;
  rc->last_resume_ms = now;
}

/* How one peer's latest report reads (ml/rate.h, "Loss"). */
typedef enum verdict {
  V_CLEAN,       /* increase */
  V_RANDOM_LOSS, /* loss without a delay rise: increase, at half pace */
  V_HOLD,        /* a delay rise, or loss we cannot classify */
  V_CONGESTED,   /* congestion: decrease */
} verdict;

/* estimated: the peer's receiver sends a fresh delay-based estimate, which
 * already answers a queue (its overuse detector sees it first); an RTT rise
 * then holds instead of cutting the rate a second time. */
static verdict classify(const peer *p, bool estimated, ml_rate_reason *why) {
  bool delay_known = p->rtt_ms >= 0;
  if (p->loss >= LOSS_SEVERE) {
    *why = ML_RATE_REASON_LOSS;
    return V_CONGESTED;
  }
  if (p->delay == DELAY_OVERUSE) {
    *why = ML_RATE_REASON_DELAY;
    return estimated ? V_HOLD : V_CONGESTED;
  }
  if (p->loss > LOSS_HIGH && (p->delay != DELAY_NORMAL || !delay_known)) {
    *why = ML_RATE_REASON_LOSS;
    return V_CONGESTED;
  }
  if (p->delay != DELAY_NORMAL) {
    *why = ML_RATE_REASON_DELAY;
    return V_HOLD;
  }
  if (p->loss >= LOSS_LOW) {
    *why = delay_known ? ML_RATE_REASON_RANDOM_LOSS : ML_RATE_REASON_LOSS;
    return delay_known ? V_RANDOM_LOSS : V_HOLD;
  }
  *why = ML_RATE_REASON_PROBE;
  return V_CLEAN;
}

/* The lowest fresh delay-based estimate of the peers; < 0 when none. */
static double ceiling(const ml_rate *rc, int64_t now) {
  double c = -1;
  for (size_t i = 0; i < ML_RATE_MAX_PEERS; i++) {
    const peer *p = &rc->peers[i];
    if (p->key != NULL && p->remb_kbps >= 0 &&
        elapsed(now, p->remb_ms) < rc->cfg.feedback_timeout_ms && (c < 0 || p->remb_kbps < c))
      c = p->remb_kbps;
  }
  return c;
}

static void clamp_rate(ml_rate *rc) {
  if (rc->rate_kbps < rc->cfg.min_kbps)
    rc->rate_kbps = rc->cfg.min_kbps;
  if (rc->rate_kbps > rc->cfg.max_kbps)
    rc->rate_kbps = rc->cfg.max_kbps;
}

static void update(ml_rate *rc, int64_t now) {
  bool any = false, decrease = false;
  verdict worst = V_CLEAN;
  ml_rate_reason why = ML_RATE_REASON_PROBE, decrease_why = ML_RATE_REASON_LOSS;
  double factor = 1.0, worst_loss = 0, worst_rtt = 0, congested_loss = 0;
  for (size_t i = 0; i < ML_RATE_MAX_PEERS; i++) {
    peer *p = &rc->peers[i];
    if (p->key == NULL)
      continue;
    any = true;
    if (elapsed(now, p->last_ms) >= rc->cfg.feedback_timeout_ms) {
      worst = V_CONGESTED;
      why = ML_RATE_REASON_FEEDBACK_TIMEOUT;
      decrease = true;
      if (TIMEOUT_FACTOR < factor) {
        factor = TIMEOUT_FACTOR;
        decrease_why = why;
      }
      worst_loss = 1.0;
      congested_loss = 1.0; /* nothing known about the link any more */
      continue;
    }
    worst_loss = fmax(worst_loss, p->loss);
    if (p->rtt_ms > worst_rtt)
      worst_rtt = p->rtt_ms;
    ml_rate_reason r;
    bool estimated = p->remb_kbps >= 0 && elapsed(now, p->remb_ms) < rc->cfg.feedback_timeout_ms;
    verdict v = classify(p, estimated, &r);
    if (v > worst) {
      worst = v;
      why = r;
    }
    if (v == V_CONGESTED && p->fresh) { /* each report is acted on once */
      decrease = true;
      double f = p->delay == DELAY_OVERUSE ? OVERUSE_FACTOR : 1.0;
      if (p->loss > LOSS_HIGH) /* congestion loss here, by classify() */
        f = fmin(f, 1.0 - 0.5 * p->loss);
      congested_loss = fmax(congested_loss, p->loss);
      if (f < factor) {
        factor = f;
        decrease_why = r;
      }
    }
    p->fresh = false;
  }
  if (!any)
    return;
  double cap = ceiling(rc, now);
  ml_rate_action action = ML_RATE_HOLD;
  ml_rate_reason reason = why;
  double before_update = rc->rate_kbps;
  if (!rc->paused) {
    if (decrease) {
      reason = decrease_why;
      if (!rc->have_decrease || elapsed(now, rc->last_decrease_ms) >= DECREASE_GAP_MS + worst_rtt) {
        /* What got through at the rate that congested: the link's capacity. */
        ml_link_capacity_sample(&rc->capacity, now, rc->rate_kbps * (1.0 - congested_loss));
        rc->rate_kbps *= factor;
        rc->have_decrease = true;
        rc->last_decrease_ms = now;
        action = ML_RATE_DECREASE;
      }
    } else if (worst == V_CLEAN || worst == V_RANDOM_LOSS) {
      int64_t dt = rc->have_update ? elapsed(now, rc->last_update_ms) : 0;
      if (dt > 1000)
        dt = 1000;
      double per_s = worst == V_CLEAN ? INCREASE_PER_S : RANDOM_LOSS_PER_S;
      (void)ml_link_capacity_passed(&rc->capacity, rc->rate_kbps); /* the link grew */
      if (worst == V_CLEAN && rc->in_streak && elapsed(now, rc->streak_ms) >= FAST_AFTER_MS &&
          ml_link_capacity_fast(&rc->capacity, now, rc->rate_kbps))
        per_s = FAST_PER_S;
      if (ml_link_capacity_near(&rc->capacity, rc->rate_kbps)) {
        /* Near the capacity: gently, as the receiver's estimate does. */
        rc->rate_kbps += ml_link_capacity_step_kbps(rc->capacity.kbps) * (double)dt / 1000.0;
      } else {
        rc->rate_kbps *= pow(per_s, (double)dt / 1000.0);
      }
      action = ML_RATE_INCREASE;
    }
    /* GCC: the target is min(loss-based, delay-based). */
    if (cap >= 0 && rc->rate_kbps > cap) {
      if (cap < before_update) /* the estimate is 0.85 x what arrived */
        ml_link_capacity_sample(&rc->capacity, now, cap / OVERUSE_FACTOR);
      rc->rate_kbps = cap;
      action = cap > before_update   ? ML_RATE_INCREASE
               : cap < before_update ? ML_RATE_DECREASE
                                     : ML_RATE_HOLD;
      reason = ML_RATE_REASON_DELAY;
    }
    clamp_rate(rc);
  }
  if (worst != V_CLEAN || action == ML_RATE_DECREASE) {
    rc->in_streak = false;
  } else if (!rc->in_streak) {
    rc->in_streak = true;
    rc->streak_ms = now;
  }
  /* Random loss is no congestion: it neither pauses video nor keeps it
   * paused (Opus FEC and NACK/RTX repair it). */
  bool was_paused = rc->paused;
  pause_logic(rc, now, worst == V_CONGESTED, worst == V_CLEAN || worst == V_RANDOM_LOSS);
  if (rc->paused)
    rc->rate_kbps = rc->cfg.min_kbps;
  if (rc->paused)
    reason = ML_RATE_REASON_PAUSED;
  else if (was_paused)
    reason = ML_RATE_REASON_RESUME;
  if (rc->paused || was_paused)
    rc->in_streak = false; /* the probe after a pause starts at the slow pace */

  /* Opus FEC expectation: fast attack, slow release. */
  if (worst_loss > rc->audio_loss_est)
    rc->audio_loss_est = worst_loss;
  else
    rc->audio_loss_est = 0.8 * rc->audio_loss_est + 0.2 * worst_loss;
  rc->worst_loss = worst_loss;
  rc->last_action = action;
  rc->reason = reason;
  rc->have_update = true;
  rc->last_update_ms = now;
  rc->updates++;
}

static bool update_due(const ml_rate *rc, int64_t now) {
  return !rc->have_update || elapsed(now, rc->last_update_ms) >= rc->cfg.min_interval_ms;
}

int ml_rate_on_report(ml_rate *rc, const void *key, int64_t now_ms, double loss, double rtt_ms) {
  assert(rc != NULL && key != NULL);
  if (!isfinite(loss))
    return ML_ERR_INVALID;
  loss = loss < 0 ? 0 : loss > 1 ? 1 : loss;
  if (!isfinite(rtt_ms) || rtt_ms < 0 || rtt_ms > RTT_MAX_MS)
    rtt_ms = -1;
  peer *p = find_peer(rc, key);
  if (p == NULL) {
    p = find_peer(rc, NULL);
    if (p == NULL)
      return ML_ERR_TOO_BIG;
    *p = (peer){.key = key,
                .rtt_ms = -1,
                .srtt = -1,
                .rtt_min_cur = -1,
                .rtt_min_prev = -1,
                .remb_kbps = -1};
  }
  p->last_ms = now_ms;
  p->loss = loss;
  delay_update(p, now_ms, rtt_ms);
  p->fresh = true;
  if (update_due(rc, now_ms))
    update(rc, now_ms);
  return ML_OK;
}

int ml_rate_on_estimate(ml_rate *rc, const void *key, int64_t now_ms, double kbps) {
  assert(rc != NULL && key != NULL);
  if (!isfinite(kbps) || kbps < 0)
    return ML_ERR_INVALID;
  peer *p = find_peer(rc, key);
  if (p == NULL)
    return ML_ERR_NOT_FOUND;
  p->remb_kbps = kbps;
  p->remb_ms = now_ms;
  /* A lower estimate is acted on at once: the queue is building now. */
  double cap = ceiling(rc, now_ms);
  if (!rc->paused && cap >= 0 && rc->rate_kbps > cap && rc->rate_kbps > rc->cfg.min_kbps) {
    rc->in_streak = false;
    ml_link_capacity_sample(&rc->capacity, now_ms, cap / OVERUSE_FACTOR);
    rc->rate_kbps = cap;
    clamp_rate(rc);
    rc->last_action = ML_RATE_DECREASE;
    rc->reason = ML_RATE_REASON_DELAY;
  }
  return ML_OK;
}

void ml_rate_tick(ml_rate *rc, int64_t now_ms) {
  assert(rc != NULL);
  for (size_t i = 0; i < ML_RATE_MAX_PEERS; i++) {
    const peer *p = &rc->peers[i];
    if (p->key != NULL && elapsed(now_ms, p->last_ms) >= rc->cfg.feedback_timeout_ms) {
      if (update_due(rc, now_ms))
        update(rc, now_ms);
      return;
    }
  }
}

void ml_rate_remove_peer(ml_rate *rc, const void *key) {
  assert(rc != NULL);
  peer *p = key ? find_peer(rc, key) : NULL;
  if (p != NULL)
    *p = (peer){0};
}

void ml_rate_get(const ml_rate *rc, ml_rate_decision *out) {
  assert(rc != NULL && out != NULL);
  double pct = round(rc->audio_loss_est * 100.0);
  *out = (ml_rate_decision){
      .video_kbps = (unsigned)lround(rc->rate_kbps),
      .video_paused = rc->paused,
      .audio_loss_percent = pct < 0     ? 0u
                            : pct > 100 ? 100u
                                        : (unsigned)pct,
      .last_action = rc->last_action,
      .reason = rc->reason,
      .worst_loss = rc->worst_loss,
      .updates = rc->updates,
  };
}

const char *ml_rate_reason_name(ml_rate_reason reason) {
  switch (reason) {
  case ML_RATE_REASON_START: return "start";
  case ML_RATE_REASON_PROBE: return "probe";
  case ML_RATE_REASON_RANDOM_LOSS: return "random-loss";
  case ML_RATE_REASON_LOSS: return "loss";
  case ML_RATE_REASON_DELAY: return "delay";
  case ML_RATE_REASON_FEEDBACK_TIMEOUT: return "feedback-timeout";
  case ML_RATE_REASON_PAUSED: return "paused";
  case ML_RATE_REASON_RESUME: return "resume";
  }
  return "unknown";
}
