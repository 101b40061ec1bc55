/* The media of a call: one send pipeline fanned out to every usable peer
 * (encode once), one receive branch per peer, our media state announced in
 * CONTROL datagrams (ml/control.h), the stats events and the rate
 * controller's glue (ml/rate.h). Engine thread only, except what
 * ml_call.shared_lock guards (call_internal.h). */
#include <math.h>
#include <string.h>

#include "call_internal.h"
#include "ml/devices.h"
#include "ml/control.h"
#include "ml/rtcp_origin.h"
#include "tone.h"

#define TONE_SAMPLES 9600  /* 0.2 s at 48 kHz */
#define LEVEL_SAMPLES 4800 /* the audio level's window: 0.1 s at 48 kHz */

/* ---- stats ---- */

static double report_loss(const call_peer *p, const ml_media_rtcp_info *info);

/* The stats' rate_reason of a decision: the controller's own (ml/rate.h),
 * "paused" while video is. */
static const char *rate_reason(const ml_rate_decision *d) {
  return d->video_paused ? "paused" : ml_rate_reason_name(d->reason);
}

static void fill_stats(call_peer *p, ml_call_stats *s) {
  memset(s, 0, sizeof *s);
  s->rtt_ms = -1;
  s->first_frame_ms = -1;
  s->first_frame_since_start_ms = -1;
  s->e2e_latency_ms = -1;
  ml_peer_link_stats ls;
  ml_peer_link_get_stats(p->link, &ls);
  s->path = ls.path;
  s->datagrams_in = ls.datagrams_in;
  s->datagrams_out = ls.datagrams_out;
  s->opened = ls.channel.opened;
  s->dropped_not_ours = ls.dropped_not_ours;
  s->dropped_malformed = ls.dropped_malformed;
  s->dropped_unexpected = ls.dropped_unexpected;
  s->dropped_auth = ls.channel.dropped_auth;
  s->dropped_replay = ls.channel.dropped_replay;
  s->dropped_handshake = ls.dropped_handshake;
  s->video_frames_sent = p->frames_sent;
  s->rtp_packets_sent = p->rtp_sent;
  s->pli_received = p->pli_received;
  s->control_unknown = p->control_unknown;
  s->control_malformed = p->control_malformed;
  if (p->have_rtcp) {
    s->rtt_ms = p->rtcp.rtt_ms;
    s->loss = report_loss(p, &p->rtcp);
  }
  s->peer_estimate_kbps = p->remb_kbps < 0 ? -1 : (int)lround(p->remb_kbps);
  g_strlcpy(s->rate_reason, ML_CALL_RATE_REASON_NONE, sizeof s->rate_reason);
  s->sent_layer = p->sent;
  s->layer_switches = p->fwd.switches;
  if (ml_call_layers_rate_of(p)) {
    const ml_rate_decision *d = p->sent == ML_MEDIA_LAYER_SMALL && p->call->rate_small
                                    ? &p->call->small_set
                                    : &p->call->rate_set;
    s->target_kbps = d->video_kbps;
    s->video_paused = d->video_paused;
    s->estimate_kbps = d->video_kbps;
    g_strlcpy(s->rate_reason, rate_reason(d), sizeof s->rate_reason);
  }
  if (p->rx) {
    ml_media_receiver_stats rs;
    ml_media_receiver_get_stats(p->rx, &rs);
    s->bitrate_kbps = rs.bitrate_kbps;
    s->fps = rs.fps;
    s->jitter_ms = rs.jitter_ms;
    s->latency_ms = rs.latency_ms;
    s->e2e_latency_ms = rs.e2e_latency_ms;
    s->first_frame_ms = rs.first_frame_ms;
    if (rs.first_frame_ms >= 0)
      s->first_frame_since_start_ms = p->rx_started_ms + rs.first_frame_ms;
    s->video_frames_decoded = rs.video_frames_decoded;
    s->audio_ms_decoded = rs.audio_ms_decoded;
    s->packets_lost = rs.packets_lost;
    s->pli_sent = rs.pli_sent;
    s->frame_width = rs.frame_width;
    s->frame_height = rs.frame_height;
    s->freeze_ms = rs.freeze_ms;
    s->freezes = rs.freezes;
    s->audio_expected_ms = rs.audio_expected_ms;
    s->audio_fec_ms = rs.audio_fec_ms;
    s->audio_concealed_ms = rs.audio_concealed_ms;
  }
  if (p->pcm && p->pcm_total >= TONE_SAMPLES) {
    int16_t *lin = g_new(int16_t, TONE_SAMPLES);
    size_t head = TONE_SAMPLES - p->pcm_pos;
    memcpy(lin, p->pcm + p->pcm_pos, head * sizeof *lin);
    memcpy(lin + head, p->pcm, p->pcm_pos * sizeof *lin);
    s->audio_tone_hz = ml_tone_dominant_hz(lin, TONE_SAMPLES, ML_MEDIA_AUDIO_CLOCK_RATE, 50, 2000);
    g_free(lin);
  }
}

void ml_call_emit_stats(call_peer *p, bool final) {
  ml_call_event *ev = ml_call_event_new(p->call, ML_CALL_EV_STATS, p);
  fill_stats(p, &ev->stats);
  ev->stats.final = final;
  ev->path = ev->stats.path;
  ml_call_emit(p->call, ev);
}

/* ---- our media state, announced to every secure peer (ml/control.h) ---- */

static ml_call_peer_media own_media(ml_call *call) {
  ml_call_peer_media m = {.muted = true};
  if (call->tx) {
    ml_media_sender_stats st;
    ml_media_sender_get_stats(call->tx, &st);
    m.muted = call->muted || call->audio == ML_MEDIA_AUDIO_NONE;
    m.camera_on = call->video != ML_MEDIA_VIDEO_NONE && st.camera_on;
    m.video_paused = st.video_paused;
  }
  return m;
}

/* Sends the state last announced to p, or to every secure peer (NULL):
 * video paused as the controller of the layer each is sent decided. */
static void send_media_state(ml_call *call, call_peer *only) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    if (!ml_peer_state_usable(p->state) || (only && p != only))
      continue;
    bool small = p->sent == ML_MEDIA_LAYER_SMALL && call->rate_small;
    ml_control_media_state st = {.muted = call->announced.muted,
                                 .camera_on = call->announced.camera_on,
                                 .video_paused = small ? call->announced_small_paused
                                                       : call->announced.video_paused,
                                 .seq = call->media_seq};
    uint8_t buf[ML_CONTROL_MAX_LEN];
    size_t n = ml_control_write_media_state(&st, buf, sizeof buf);
    (void)!ml_peer_link_send(p->link, ML_INNER_CONTROL, buf, n); /* lost as UDP; repeated */
  }
}

/* After anything that may change our media state (mute, camera, the
 * sender's pause: whoever calls ml_media_sender_set_video_paused, such as a
 * rate controller, calls this right after; the once-a-second tick catches
 * what nobody reported): announces a changed state at once, with the next
 * seq. True when sent. */
bool ml_call_media_state_update(ml_call *call) {
  ml_call_peer_media m = own_media(call);
  bool small_paused = call->small_set.video_paused;
  if (call->media_seq != 0 && m.muted == call->announced.muted &&
      m.camera_on == call->announced.camera_on && m.video_paused == call->announced.video_paused &&
      small_paused == call->announced_small_paused)
    return false;
  call->announced = m;
  call->announced_small_paused = small_paused;
  if (++call->media_seq == 0) /* 0 means "none yet" here */
    call->media_seq = 1;
  send_media_state(call, NULL);
  return true;
}

/* Video is encoded only while a peer is secure (the self view goes on). */
void ml_call_update_idle(ml_call *call) {
  if (!call->tx)
    return;
  bool any = false;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (!any && g_hash_table_iter_next(&it, &k, &v))
    any = ml_peer_state_usable(((call_peer *)v)->state);
  ml_media_sender_set_idle(call->tx, !any);
  ml_call_layers_apply(call);
}

/* ---- congestion control (ml/rate.h) ---- */

static int64_t call_ms(const ml_call *call) { return (g_get_monotonic_time() - call->t0) / 1000; }

/* Applies the controller's decision to the sender, only what changed. */
static void apply_rate(ml_call *call) {
  ml_rate_decision d;
  ml_rate_get(call->rate, &d);
  if (d.video_kbps != call->rate_set.video_kbps)
    ml_media_sender_set_video_kbps(call->tx, d.video_kbps);
  bool pause_changed = d.video_paused != call->rate_set.video_paused;
  if (pause_changed)
    ml_media_sender_set_video_paused(call->tx, d.video_paused);
  /* Opus FEC for the worse of the two layers' peers (one audio encoder). */
  unsigned loss = MAX(d.audio_loss_percent, call->small_set.audio_loss_percent);
  if (loss != call->opus_loss_set) {
    call->opus_loss_set = loss;
    ml_media_sender_set_audio_loss_percent(call->tx, loss);
  }
  call->rate_set = d;
  if (call->have_ladder && ml_ladder_update(&call->ladder, call_ms(call), d.video_kbps)) {
    ml_ladder_format f = ml_ladder_format_now(&call->ladder);
    /* A keyframe at the new size follows (the encoder restarts on it). */
    (void)!ml_media_sender_set_video_format(call->tx, f.width, f.height, f.fps);
  }
  bool thin = call->have_ladder && ml_ladder_thin_audio(&call->ladder, d.video_paused);
  if (thin != call->thin_audio && call->audio != ML_MEDIA_AUDIO_NONE) {
    call->thin_audio = thin;
    ml_media_sender_set_audio_kbps(call->tx, thin ? ML_LADDER_THIN_AUDIO_KBPS : 32);
    (void)!ml_media_sender_set_audio_frame_ms(call->tx, thin ? ML_LADDER_THIN_FRAME_MS : 20);
  }
  if (pause_changed)
    ml_call_media_state_update(call); /* the peers show "video paused" at once */
}

/* The loss a report tells of the path: paused video is reported as 0 lost
 * of 0 sent, so while the controller of the layer p is sent has paused it,
 * the audio block tells. */
static double report_loss(const call_peer *p, const ml_media_rtcp_info *info) {
  const ml_call *call = p->call;
  bool small = p->sent == ML_MEDIA_LAYER_SMALL && call->rate_small;
  bool paused = small ? call->small_set.video_paused : call->rate_set.video_paused;
  if (ml_call_layers_rate_of(p) && paused && info->audio_fraction_lost >= 0)
    return info->audio_fraction_lost;
  return info->fraction_lost;
}

/* The small layer's controller: its target, and its pause (the layer is
 * switched off; its peers are told their video is paused). */
static void apply_small(ml_call *call) {
  ml_rate_decision d;
  ml_rate_get(call->rate_small, &d);
  if (d.video_kbps != call->small_set.video_kbps)
    ml_media_sender_set_small_kbps(call->tx, d.video_kbps);
  bool pause_changed = d.video_paused != call->small_set.video_paused;
  call->small_set = d;
  if (pause_changed) {
    ml_call_layers_apply(call);
    ml_call_media_state_update(call);
  }
}

static void apply_rates(ml_call *call, const ml_rate *which) {
  if (which == call->rate_small)
    apply_small(call);
  apply_rate(call); /* the large layer's, and Opus FEC for both */
}

/* p's report goes to the controller of the layer it is sent. */
static void rate_report(call_peer *p, const ml_media_rtcp_info *info) {
  ml_call *call = p->call;
  ml_rate *rc = ml_call_layers_rate_of(p);
  if (rc && ml_rate_on_report(rc, p, call_ms(call), report_loss(p, info), info->rtt_ms) == ML_OK)
    apply_rates(call, rc);
}

/* The peer's delay-based estimate (REMB, from its receive branch). */
static void rate_estimate(call_peer *p, double kbps) {
  ml_call *call = p->call;
  ml_rate *rc = ml_call_layers_rate_of(p);
  if (rc && ml_rate_on_estimate(rc, p, call_ms(call), kbps) == ML_OK)
    apply_rates(call, rc);
}

/* The small layer's controller: from 30 kbps to the layer's ceiling. */
static void start_small_rate(ml_call *call) {
  ml_media_sender_stats st;
  ml_media_sender_get_stats(call->tx, &st);
  ml_rate_config rc = {.no_pause = call->audio == ML_MEDIA_AUDIO_NONE,
                       .min_kbps = 30,
                       .max_kbps = ML_MEDIA_SMALL_MAX_KBPS,
                       .start_kbps = ML_MEDIA_SMALL_MAX_KBPS};
  if (st.small_width == 0 || ml_rate_new(&call->rate_small, &rc) != ML_OK)
    return; /* every peer is sent the large layer */
  ml_rate_get(call->rate_small, &call->small_set);
  ml_media_sender_set_small_kbps(call->tx, call->small_set.video_kbps);
}

static void start_rate(ml_call *call) {
  /* Without audio, paused video would leave the peers nothing to report on. */
  ml_rate_config rc = {.no_pause = call->audio == ML_MEDIA_AUDIO_NONE};
  if (ml_rate_new(&call->rate, &rc) != ML_OK) {
    ml_call_emit_error(call, NULL, ML_ERR_NOMEM,
                       "no congestion control: the video bitrate stays fixed");
    return;
  }
  ml_rate_get(call->rate, &call->rate_set);
  ml_media_sender_set_video_kbps(call->tx, call->rate_set.video_kbps);
  start_small_rate(call);
  ml_media_sender_stats st;
  ml_media_sender_get_stats(call->tx, &st);
  if (call->video != ML_MEDIA_VIDEO_NONE && st.width > 0 && st.height > 0 && st.fps > 0) {
    ml_ladder_init(&call->ladder, (ml_ladder_format){st.width, st.height, st.fps},
                   call->rate_set.video_kbps);
    call->have_ladder = true;
    ml_ladder_format f = ml_ladder_format_now(&call->ladder);
    if (f.width != st.width || f.height != st.height || f.fps != st.fps)
      (void)!ml_media_sender_set_video_format(call->tx, f.width, f.height, f.fps);
  }
}

gboolean ml_call_on_stats_tick(gpointer user) {
  ml_call *call = user;
  if (call->rate_small) {
    ml_rate_tick(call->rate_small, call_ms(call));
    apply_small(call);
  }
  if (call->rate) {
    ml_rate_tick(call->rate, call_ms(call));
    apply_rate(call);
  }
  ml_call_layers_tick(call, call_ms(call));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    ml_call_report_peer_state(p);
    if (p->have_proven_key) /* failed ones too, while they stay in the call */
      ml_call_emit_stats(p, false);
  }
  if (!ml_call_media_state_update(call)) /* the repeat: CONTROL datagrams get lost */
    send_media_state(call, NULL);
  ml_call_session_tick(call);
  return G_SOURCE_CONTINUE;
}

/* ---- media ---- */

/* One packet of the send pipeline: sealed to every secure peer (encode once
 * per layer, fan out), of the layer each is sent (call_layers.c; nothing of
 * the video before a keyframe: on_secure asked for one). */
static void on_sender_packet(ml_inner_type type, const uint8_t *data, size_t len, void *user) {
  ml_call *call = user;
  bool frame_end = type == ML_INNER_RTP && len > 12 && (data[1] & 0x7f) == ML_MEDIA_PT_VP8 &&
                   (data[1] & 0x80) != 0;
  uint8_t buf[ML_MEDIA_MAX_PACKET];
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    const uint8_t *out;
    if (!ml_peer_state_usable(p->state) || !ml_call_layers_out(p, type, data, len, buf, &out))
      continue;
    if (ml_peer_link_send(p->link, type, out, len) != ML_OK)
      continue; /* lost, as UDP would lose it; counted by the link */
    if (type == ML_INNER_RTP) {
      p->rtp_sent++;
      if (frame_end)
        p->frames_sent++;
    }
  }
}

static void on_media_error(int err, const char *message, void *user) {
  ml_call *call = user;
  ml_call_emit_error(call, NULL, err, message);
}

static void on_receiver_error(int err, const char *message, void *user) {
  call_peer *p = user;
  ml_call_emit_error(p->call, p, err, message);
}

/* The receive branch's RTCP (receiver reports, PLI, NACK) goes to its peer. */
static void on_receiver_rtcp(ml_inner_type type, const uint8_t *data, size_t len, void *user) {
  call_peer *p = user;
  if (ml_peer_state_usable(p->state))
    (void)!ml_peer_link_send(p->link, type, data, len); /* a loss, as on UDP */
}

/* The sender starts when the server welcomes us (or earlier, when the owner
 * asks for the self view); it stays idle (no video encoded) while no peer is
 * secure. Its start takes the engine thread for a moment (tens of ms; most
 * of a second under sanitizers). */
/* The call goes on without a device that is not there, and says so. */
static void drop_missing(ml_call *call, ml_device_kind kind, const char *want, const char *what) {
  g_autofree char *text =
      want ? g_strdup_printf("there is no %s \"%s\" on this machine: the call goes on without "
                             "%s (mentorlink devices lists them)",
                             ml_device_kind_name(kind), want, what)
           : g_strdup_printf("no %s found: the call goes on without %s (mentorlink devices "
                             "lists them)",
                             ml_device_kind_name(kind), what);
  ml_call_emit_error(call, NULL, ML_ERR_NOT_FOUND, text);
}

static void check_devices(ml_call *call) {
  if (call->video == ML_MEDIA_VIDEO_CAMERA &&
      !ml_devices_find(ML_DEVICE_CAMERA, call->camera, NULL)) {
    drop_missing(call, ML_DEVICE_CAMERA, call->camera, "your video");
    call->video = ML_MEDIA_VIDEO_NONE;
  }
  if (call->audio == ML_MEDIA_AUDIO_MIC &&
      !ml_devices_find(ML_DEVICE_MICROPHONE, call->microphone, NULL)) {
    drop_missing(call, ML_DEVICE_MICROPHONE, call->microphone, "your voice");
    call->audio = ML_MEDIA_AUDIO_NONE;
  }
}

void ml_call_ensure_sender(ml_call *call) {
  if (call->tx)
    return;
  if (!call->devices_checked) {
    call->devices_checked = true;
    check_devices(call);
  }
  if (call->video == ML_MEDIA_VIDEO_NONE && call->audio == ML_MEDIA_AUDIO_NONE)
    return;
  ml_media_sender_config cfg = {
      .video = call->video,
      .audio = call->audio,
      .small_layer = true,
      .width = call->video_width,
      .height = call->video_height,
      .camera_device = call->camera,
      .microphone_device = call->microphone,
      .on_packet = on_sender_packet,
      .on_error = on_media_error,
      .user = call,
  };
  ml_media_sender *tx = NULL;
  int err = ml_media_sender_new(&tx, call->ctx, &cfg);
  if (err) {
    ml_call_emit_error(call, NULL, err, "the send pipeline would not start");
    return;
  }
  if (call->muted)
    ml_media_sender_set_audio_muted(tx, true);
  if (call->camera_off)
    ml_media_sender_set_camera_on(tx, false);
  g_mutex_lock(&call->shared_lock);
  call->tx = tx;
  g_mutex_unlock(&call->shared_lock);
  start_rate(call);
  ml_call_update_idle(call);
}

void ml_call_free_sender(ml_call *call) {
  g_mutex_lock(&call->shared_lock);
  ml_media_sender *tx = call->tx;
  call->tx = NULL;
  g_mutex_unlock(&call->shared_lock);
  ml_media_sender_free(tx);
}

/* Decoded audio of the peer: its level (RMS over 100 ms windows, in dB
 * relative to a full-scale square wave) and, with measure_tone, the ring the
 * tone measurement reads. */
static void on_receiver_pcm(const int16_t *samples, size_t n, void *user) {
  call_peer *p = user;
  for (size_t i = 0; i < n; i++) {
    p->level_sum += (double)samples[i] * samples[i];
    if (++p->level_n == LEVEL_SAMPLES) {
      double ms = p->level_sum / LEVEL_SAMPLES / (32768.0 * 32768.0);
      double dbfs = ms > 0 ? 10.0 * log10(ms) : LEVEL_FLOOR_DBFS;
      g_mutex_lock(&p->call->shared_lock);
      p->shared->dbfs = dbfs < LEVEL_FLOOR_DBFS ? LEVEL_FLOOR_DBFS : dbfs;
      p->shared->level_us = g_get_monotonic_time();
      g_mutex_unlock(&p->call->shared_lock);
      p->level_sum = 0;
      p->level_n = 0;
    }
  }
  if (!p->pcm)
    return;
  for (size_t i = 0; i < n; i++) {
    p->pcm[p->pcm_pos] = samples[i];
    p->pcm_pos = (p->pcm_pos + 1) % TONE_SAMPLES;
  }
  p->pcm_total += n;
}

void ml_call_start_receiver(call_peer *p) {
  if (p->call->measure_tone && !p->pcm)
    p->pcm = g_new0(int16_t, TONE_SAMPLES);
  ml_media_receiver_config cfg = {
      .headless = p->call->headless,
      .on_rtcp = on_receiver_rtcp,
      .on_pcm = on_receiver_pcm,
      .on_error = on_receiver_error,
      .user = p,
  };
  p->rx_started_ms = (g_get_monotonic_time() - p->call->t0) / 1000;
  int err = ml_media_receiver_new(&p->rx, p->call->ctx, &cfg);
  if (err) {
    ml_call_emit_error(p->call, p, err, "the receive branch would not start");
    return;
  }
  p->shared = g_new0(peer_shared, 1);
  p->shared->rx = p->rx;
  p->shared->dbfs = LEVEL_FLOOR_DBFS;
  g_mutex_lock(&p->call->shared_lock);
  g_hash_table_insert(p->call->shared, g_strdup(p->id), p->shared);
  g_mutex_unlock(&p->call->shared_lock);
}

/* The channel is up: media flows. The pipelines were started earlier
 * (warm); a keyframe each way starts the pictures at once. */
void ml_call_start_media(call_peer *p) {
  ml_call *call = p->call;
  ml_call_ensure_sender(call);
  ml_call_update_idle(call);
  if (call->tx)
    ml_media_sender_request_keyframe(call->tx);
  if (!p->rx)
    ml_call_start_receiver(p);
  else
    ml_media_receiver_request_keyframe(p->rx);
  if (!ml_call_media_state_update(call))
    send_media_state(call, p);
  ml_call_layers_send_request(call, p);
}

/* ---- from the peer ---- */

/* A CONTROL datagram from the peer (untrusted; ml/control.h). */
static void on_control(call_peer *p, const uint8_t *data, size_t len) {
  ml_control_message m;
  int err = ml_control_parse(data, len, &m);
  if (err == ML_ERR_UNSUPPORTED) {
    p->control_unknown++; /* a later version's message: not for us */
    return;
  }
  if (err) {
    p->control_malformed++;
    return;
  }
  if (m.type != ML_CONTROL_MEDIA_STATE) {
    ml_call_session_on_control(p, &m); /* hands, reactions, host requests (call_session.c) */
    return;
  }
  /* MEDIA_STATE: a repeat, or older than what we have, changes nothing. */
  if (p->have_media && (int32_t)(m.media.seq - p->media_seq) <= 0)
    return;
  ml_call_peer_media now = {
      .muted = m.media.muted, .camera_on = m.media.camera_on, .video_paused = m.media.video_paused};
  if (!p->have_media || now.muted != p->media.muted || now.camera_on != p->media.camera_on ||
      now.video_paused != p->media.video_paused) {
    ml_call_event *ev = ml_call_event_new(p->call, ML_CALL_EV_PEER_MEDIA, p);
    ev->media = now;
    if (!ml_call_emit(p->call, ev))
      return; /* dropped: the next repeat tries again */
  }
  /* Its camera went off on purpose: the gap until its next frame is no
   * freeze (a pause for a poor path still is: the picture stands still). */
  if (p->rx && !now.camera_on && (!p->have_media || p->media.camera_on))
    ml_media_receiver_video_stopped(p->rx);
  p->have_media = true;
  p->media = now;
  p->media_seq = m.media.seq;
}

void ml_call_on_datagram(ml_peer_link *link, ml_inner_type type, const uint8_t *data, size_t len,
                         void *user) {
  call_peer *p = user;
  (void)link;
  if (type == ML_INNER_RTP) {
    if (p->rx)
      (void)!ml_media_receiver_push(p->rx, type, data, len); /* refusals are counted there */
  } else if (type == ML_INNER_CONTROL) {
    on_control(p, data, len);
  } else if (type == ML_INNER_RTCP) {
    /* Two RTP sessions meet on one channel: what the peer's sender session
     * reports concerns our receive branch, what its receive branch reports
     * (RR, PLI, NACK) our sender; never the other way (ml/rtcp_origin.h). */
    if (ml_rtcp_from_peer_sender(data, len)) {
      if (p->rx)
        (void)!ml_media_receiver_push(p->rx, type, data, len);
    } else if (p->call->tx && len <= ML_MEDIA_MAX_PACKET) {
      ml_media_rtcp_info info;
      uint8_t buf[ML_MEDIA_MAX_PACKET];
      const uint8_t *fb = ml_call_layers_feedback(p, data, len, buf);
      if (ml_media_sender_push_rtcp(p->call->tx, fb, len, &info) == ML_OK) {
        p->pli_received += info.pli + info.fir;
        if (info.have_report) {
          p->rtcp = info;
          p->have_rtcp = true;
          rate_report(p, &info);
        }
        if (info.remb_kbps >= 0) {
          p->remb_kbps = info.remb_kbps;
          rate_estimate(p, info.remb_kbps);
        }
      }
    }
  }
}
