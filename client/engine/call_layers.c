/* The video layers of a call (ml/media.h, "Layers"): which of our two layers
 * each peer is sent (its LAYER request, or the small one while its link holds
 * the others back: layer_policy.h), the rewriting that makes it one stream
 * for the peer (layer_fwd.h), which layers are encoded at all, and what we
 * ask each peer's sender for. Engine thread only. */
#include <string.h>

#include "call_internal.h"
#include "ml/control.h"

void ml_call_layers_peer_init(call_peer *p) {
  ml_layer_fwd_init(&p->fwd, ML_MEDIA_LAYER_LARGE);
  ml_layer_policy_init(&p->policy);
  p->wants = p->sent = ML_MEDIA_LAYER_LARGE;
  p->ask = p->call->ask_default;
}

ml_rate *ml_call_layers_rate_of(const call_peer *p) {
  ml_call *call = p->call;
  return p->sent == ML_MEDIA_LAYER_SMALL && call->rate_small ? call->rate_small : call->rate;
}

bool ml_call_layers_out(call_peer *p, ml_inner_type type, const uint8_t *data, size_t len,
                        uint8_t *buf, const uint8_t **out) {
  *out = data;
  if (type != ML_INNER_RTP && type != ML_INNER_RTCP)
    return true;
  memcpy(buf, data, len);
  *out = buf;
  if (type == ML_INNER_RTCP)
    return ml_layer_fwd_rtcp_out(&p->fwd, buf, len);
  bool was_pending = ml_layer_fwd_pending(&p->fwd);
  bool send = ml_layer_fwd_rtp(&p->fwd, buf, len);
  if (was_pending && !ml_layer_fwd_pending(&p->fwd))
    ml_call_layers_apply(p->call); /* switched: the old layer may stop */
  return send;
}

const uint8_t *ml_call_layers_feedback(const call_peer *p, const uint8_t *data, size_t len,
                                       uint8_t *buf) {
  memcpy(buf, data, len);
  ml_layer_fwd_feedback(&p->fwd, buf, len);
  return buf;
}

void ml_call_layers_apply(ml_call *call) {
  if (!call->tx)
    return;
  bool on[2] = {false, false};
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    const call_peer *p = v;
    if (!ml_peer_state_usable(p->state))
      continue;
    on[p->fwd.target] = true;
    if (p->fwd.started)
      on[p->fwd.current] = true; /* until its switch */
  }
  ml_media_sender_set_layer_on(call->tx, ML_MEDIA_LAYER_LARGE, on[ML_MEDIA_LAYER_LARGE]);
  ml_media_sender_set_layer_on(call->tx, ML_MEDIA_LAYER_SMALL,
                               on[ML_MEDIA_LAYER_SMALL] && !call->small_set.video_paused);
}

/* p is sent layer l from its next keyframe of it on; its reports go to
 * that layer's controller. */
static void send_layer(call_peer *p, ml_media_layer l) {
  ml_call *call = p->call;
  if (p->sent == l)
    return;
  ml_rate *old = ml_call_layers_rate_of(p);
  if (old)
    ml_rate_remove_peer(old, p);
  p->sent = l;
  ml_layer_fwd_want(&p->fwd, l);
  ml_call_layers_apply(call);
  if (call->tx)
    ml_media_sender_request_layer_keyframe(call->tx, l);
}

/* What p's reports say: loss of 5 % or more, or an estimate (REMB) below
 * 3/4 of ref_kbps (the best other peer's estimate, or the small layer's
 * target). */
static bool congested(const call_peer *p, double ref_kbps) {
  if (p->have_rtcp && p->rtcp.fraction_lost >= 0.05)
    return true;
  return p->remb_kbps >= 0 && ref_kbps > 0 && p->remb_kbps < 0.75 * ref_kbps;
}

/* The best estimate of the peers other than p sent the large layer, and
 * whether one of them is clean (below 2 % loss, an estimate not under p's). */
static double others_on_large(const call_peer *p, bool *clean) {
  double best = -1;
  *clean = false;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, p->call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    const call_peer *q = v;
    if (q == p || !ml_peer_state_usable(q->state) || q->sent != ML_MEDIA_LAYER_LARGE ||
        !q->have_rtcp)
      continue;
    if (q->remb_kbps > best)
      best = q->remb_kbps;
    if (q->rtcp.fraction_lost < 0.02 && (q->remb_kbps < 0 || q->remb_kbps >= p->remb_kbps))
      *clean = true;
  }
  return best;
}

static void choose(call_peer *p, int64_t now_ms) {
  ml_call *call = p->call;
  if (!call->rate_small || !ml_peer_state_usable(p->state))
    return;
  bool demoted = false;
  if (p->wants == ML_MEDIA_LAYER_LARGE) {
    bool clean = false;
    bool weak;
    if (p->sent == ML_MEDIA_LAYER_LARGE)
      weak = congested(p, others_on_large(p, &clean));
    else
      weak = congested(p, call->small_set.video_kbps);
    demoted = ml_layer_policy_update(&p->policy, now_ms, weak, clean, call->rate_set.video_kbps,
                                     p->remb_kbps);
  }
  send_layer(p, demoted || p->wants == ML_MEDIA_LAYER_SMALL ? ML_MEDIA_LAYER_SMALL
                                                            : ML_MEDIA_LAYER_LARGE);
}

void ml_call_layers_on_request(call_peer *p, const ml_control_message *m) {
  if (p->have_wants && (int32_t)(m->seq - p->wants_seq) <= 0)
    return;
  p->have_wants = true;
  p->wants_seq = m->seq;
  ml_media_layer l =
      m->code == ML_CONTROL_LAYER_SMALL ? ML_MEDIA_LAYER_SMALL : ML_MEDIA_LAYER_LARGE;
  if (l == p->wants)
    return;
  p->wants = l;
  if (l == ML_MEDIA_LAYER_SMALL)
    ml_layer_policy_init(&p->policy); /* a weak link is judged afresh when it asks again */
  choose(p, (g_get_monotonic_time() - p->call->t0) / 1000);
}

void ml_call_layers_send_request(ml_call *call, const call_peer *only) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    if ((only && p != only) || !ml_peer_state_usable(p->state))
      continue;
    ml_control_message m = {.type = ML_CONTROL_LAYER,
                            .code = p->ask == ML_MEDIA_LAYER_SMALL ? ML_CONTROL_LAYER_SMALL
                                                                   : ML_CONTROL_LAYER_LARGE,
                            .seq = call->ask_seq};
    uint8_t buf[ML_CONTROL_MAX_LEN];
    size_t n = ml_control_write(&m, buf, sizeof buf);
    if (n)
      (void)!ml_peer_link_send(p->link, ML_INNER_CONTROL, buf, n); /* lost as UDP; repeated */
  }
}

void ml_call_layers_tick(ml_call *call, int64_t now_ms) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v))
    choose(v, now_ms);
  ml_call_layers_send_request(call, NULL);
}
