/* One call: signaling client + one peer link and receive branch per peer +
 * one send pipeline fanned out to every secure peer, on the engine thread.
 * Contract in ml/call.h; the peer-to-peer signal payloads in docs/PROTOCOL.md
 * ("Call setup through signaling"). */
#include "ml/call.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>

#include "ml/control.h"
#include "ml/rate.h"
#include "ml/rtcp_origin.h"
#include "ml/rtp_vp8.h"
#include "ml/signal_client.h"
#include "peer_state.h"
#include "tone.h"

#define MAX_CANDIDATE 1024 /* bytes of one relayed candidate attribute */
#define MAX_CHAT ML_PEER_LINK_MAX_MESSAGE
#define TONE_SAMPLES 9600     /* 0.2 s at 48 kHz */
#define LEVEL_SAMPLES 4800    /* the audio level's window: 0.1 s at 48 kHz */
#define LEVEL_STALE_US 500000 /* no decoded audio for this long: silence */
#define LEVEL_FLOOR_DBFS -127.0

/* What other threads may read of a peer (ml_call_latest_frame,
 * ml_call_audio_level): an entry of ml_call.shared, created when the peer's
 * receive branch starts and removed before it is freed, both on the engine
 * thread and under ml_call.shared_lock, which readers hold while they use
 * it. */
typedef struct peer_shared {
  ml_media_receiver *rx;
  double dbfs;      /* the last complete window */
  int64_t level_us; /* monotonic time of that window; 0 before the first */
} peer_shared;

/* Path loss and leaving (see path_lost and engine_main). */
#define CLOSE_WAIT_MS 2000         /* the longest wait for the links' TURN release */
#define ICE_FAILED_SILENCE_MS 1000 /* ICE FAILED on a secure link counts if silent this long */

typedef struct call_peer {
  ml_call *call;
  char id[ML_CALL_MAX_PEER_ID + 1];
  char name[ML_CALL_MAX_NAME + 1];
  uint8_t announced_key[ML_IDENTITY_PUBLIC_LEN]; /* what the server said */
  ml_peer_link *link;
  ml_media_receiver *rx;
  char remote_ufrag[ML_PEER_LINK_MAX_UFRAG + 1];
  char offered_ufrag[ML_PEER_LINK_MAX_UFRAG + 1]; /* of our last offer */
  bool gathered;              /* our candidates are all reported (end-of-candidates sent) */
  ml_restart_backoff restart; /* progress: the link's authenticated datagrams */
  GSource *restart_timer;     /* a pending ICE restart (we are controlling) */
  ml_peer_state state;        /* changed by peer_set_state only */
  bool video_flowing;         /* a keyframe start was sent to it: video may follow */
  int64_t rx_started_ms;      /* since the call started */
  ml_peer_link_state reported_state;
  ml_peer_link_path reported_path;
  uint64_t frames_sent, rtp_sent, pli_received;
  ml_media_rtcp_info rtcp; /* latest report about our media */
  bool have_rtcp;
  int16_t *pcm; /* measure_tone: the last TONE_SAMPLES decoded, a ring */
  size_t pcm_pos, pcm_total;
  double level_sum; /* the audio level window being summed */
  size_t level_n;
  peer_shared *shared;                        /* in call->shared while rx runs */
  uint8_t proven_key[ML_IDENTITY_PUBLIC_LEN]; /* from the handshake, once secure */
  bool have_proven_key;                       /* proven_key is set (the channel was up) */
  bool have_media;                            /* a MEDIA_STATE came: media, media_seq */
  ml_call_peer_media media;
  uint32_t media_seq;
  uint64_t control_unknown, control_malformed;
} call_peer;

struct ml_call {
  /* Configuration (immutable after ml_call_new). */
  char *url, *token, *room_cfg, *name, *secret, *pins_path;
  const ml_identity *identity;
  ml_media_video_source video;
  ml_media_audio_source audio;
  bool headless, admit_all, measure_tone;
  uint32_t path_timeout_ms;
  char **local_addresses;
  size_t n_local_addresses;
  gint64 t0;

  /* Shared with the owner thread. */
  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  GAsyncQueue *events;
  int efd;
  gint leave_requested;
  gint self_view_requested;
  /* Written by the engine thread under shared_lock, read by any thread under
   * it (the engine thread reads without it): `tx` below and this table. */
  GMutex shared_lock;
  GHashTable *shared; /* peer id (owned) -> peer_shared (owned) */

  /* Engine thread only. */
  uint8_t *psk; /* sodium_malloc, NULL without a room secret */
  char verifier[45];
  ml_signal_client *sig;
  char self_id[ML_CALL_MAX_PEER_ID + 1];
  char room_id[ML_CALL_MAX_PEER_ID + 1];
  GHashTable *peers;         /* id -> call_peer */
  ml_media_sender *tx;       /* see shared_lock */
  ml_rate *rate;             /* with tx: congestion control from the peers' reports */
  ml_rate_decision rate_set; /* what was last applied to tx */
  bool muted, camera_off;
  ml_call_peer_media announced; /* our media state as last announced, with its seq */
  uint32_t media_seq;           /* 0 before the first announcement */
  GSource *stats_timer;
  char *stun_host;
  uint16_t stun_port;
  ml_peer_link_turn turn[ML_PEER_LINK_MAX_TURN];
  char *turn_strings[ML_PEER_LINK_MAX_TURN][3]; /* owned: server, username, password */
  size_t n_turn;
  unsigned closing; /* links whose agent close (TURN release) is pending */
  bool ended;
};

/* ---- events ---- */

static ml_call_event *event_new(ml_call *call, ml_call_event_type type, const call_peer *p) {
  ml_call_event *ev = g_new0(ml_call_event, 1);
  ev->type = type;
  ev->t_ms = (g_get_monotonic_time() - call->t0) / 1000;
  ev->pin = -1;
  if (p) {
    g_strlcpy(ev->peer_id, p->id, sizeof ev->peer_id);
    g_strlcpy(ev->peer_name, p->name, sizeof ev->peer_name);
  }
  return ev;
}

/* Queues ev (taken). False when it was dropped: a full queue (nobody is
 * draining) drops what a peer repeats anyway, non-final stats and media
 * states (the caller keeps the old state so the next repeat tries again). */
static bool emit(ml_call *call, ml_call_event *ev) {
  if (((ev->type == ML_CALL_EV_STATS && !ev->stats.final) || ev->type == ML_CALL_EV_PEER_MEDIA) &&
      g_async_queue_length(call->events) >= ML_CALL_MAX_EVENTS) {
    ml_call_event_free(ev);
    return false;
  }
  g_async_queue_push(call->events, ev);
  uint64_t one = 1;
  ssize_t w = write(call->efd, &one, sizeof one);
  (void)w; /* EAGAIN only when the counter is saturated: readable anyway */
  return true;
}

static void emit_error_full(ml_call *call, const call_peer *p, int err, const char *text,
                            bool fatal) {
  ml_call_event *ev = event_new(call, ML_CALL_EV_ERROR, p);
  ev->err = err;
  ev->text = g_strdup(text);
  ev->fatal = fatal;
  emit(call, ev);
}

static void emit_error(ml_call *call, const call_peer *p, int err, const char *text) {
  emit_error_full(call, p, err, text, false);
}

/* ---- signaling payloads between peers ---- */

static void send_signal(call_peer *p, const char *kind, const char *k1, const char *v1,
                        const char *k2, const char *v2) {
  ml_call *call = p->call;
  if (!call->sig)
    return;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "kind", kind);
  if (k1)
    json_object_set_string_member(o, k1, v1);
  if (k2)
    json_object_set_string_member(o, k2, v2);
  int err = ml_signal_client_send(call->sig, p->id, o);
  json_object_unref(o);
  if (err)
    emit_error(call, p, err, "could not relay ICE setup through signaling");
}

static void local_ufrag(call_peer *p, char ufrag[ML_PEER_LINK_MAX_UFRAG + 1],
                        char pwd[ML_PEER_LINK_MAX_PWD + 1]) {
  if (ml_peer_link_local_credentials(p->link, ufrag, ML_PEER_LINK_MAX_UFRAG + 1, pwd,
                                     ML_PEER_LINK_MAX_PWD + 1) != ML_OK)
    ufrag[0] = pwd[0] = '\0';
}

/* Our current ICE credentials, once per ICE session: they must reach the
 * peer before the candidates of that session. */
static void send_offer_if_new(call_peer *p) {
  char ufrag[ML_PEER_LINK_MAX_UFRAG + 1], pwd[ML_PEER_LINK_MAX_PWD + 1];
  local_ufrag(p, ufrag, pwd);
  if (ufrag[0] && strcmp(ufrag, p->offered_ufrag) != 0) {
    send_signal(p, "offer", "ufrag", ufrag, "pwd", pwd);
    g_strlcpy(p->offered_ufrag, ufrag, sizeof p->offered_ufrag);
  }
  sodium_memzero(pwd, sizeof pwd);
}

/* ---- per-peer state reporting ---- */

static void check_state(call_peer *p) {
  ml_peer_link_stats st;
  ml_peer_link_get_stats(p->link, &st);
  if (st.state == p->reported_state && st.path == p->reported_path)
    return;
  p->reported_state = st.state;
  p->reported_path = st.path;
  ml_call_event *ev = event_new(p->call, ML_CALL_EV_PEER_STATE, p);
  ev->state = (int)st.state;
  ev->path = st.path;
  emit(p->call, ev);
}

static double report_loss(const ml_call *call, const ml_media_rtcp_info *info);

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
    s->loss = report_loss(p->call, &p->rtcp);
  }
  if (p->call->rate) {
    s->target_kbps = p->call->rate_set.video_kbps;
    s->video_paused = p->call->rate_set.video_paused;
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

static void emit_stats(call_peer *p, bool final) {
  ml_call_event *ev = event_new(p->call, ML_CALL_EV_STATS, p);
  fill_stats(p, &ev->stats);
  ev->stats.final = final;
  ev->path = ev->stats.path;
  emit(p->call, ev);
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

/* Sends the state last announced to p, or to every secure peer (NULL). */
static void send_media_state(ml_call *call, call_peer *only) {
  ml_control_media_state st = {.muted = call->announced.muted,
                               .camera_on = call->announced.camera_on,
                               .video_paused = call->announced.video_paused,
                               .seq = call->media_seq};
  uint8_t buf[ML_CONTROL_MAX_LEN];
  size_t n = ml_control_write_media_state(&st, buf, sizeof buf);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    if (ml_peer_state_usable(p->state) && (!only || p == only))
      (void)!ml_peer_link_send(p->link, ML_INNER_CONTROL, buf, n); /* lost as UDP; repeated */
  }
}

/* After anything that may change our media state (mute, camera, the
 * sender's pause: whoever calls ml_media_sender_set_video_paused, such as a
 * rate controller, calls this right after; the once-a-second tick catches
 * what nobody reported): announces a changed state at once, with the next
 * seq. True when sent. */
static bool media_state_update(ml_call *call) {
  ml_call_peer_media m = own_media(call);
  if (call->media_seq != 0 && m.muted == call->announced.muted &&
      m.camera_on == call->announced.camera_on && m.video_paused == call->announced.video_paused)
    return false;
  call->announced = m;
  if (++call->media_seq == 0) /* 0 means "none yet" here */
    call->media_seq = 1;
  send_media_state(call, NULL);
  return true;
}

/* Video is encoded only while a peer is secure (the self view goes on). */
static void update_idle(ml_call *call) {
  if (!call->tx)
    return;
  bool any = false;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (!any && g_hash_table_iter_next(&it, &k, &v))
    any = ml_peer_state_usable(((call_peer *)v)->state);
  ml_media_sender_set_idle(call->tx, !any);
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
  if (d.audio_loss_percent != call->rate_set.audio_loss_percent)
    ml_media_sender_set_audio_loss_percent(call->tx, d.audio_loss_percent);
  call->rate_set = d;
  if (pause_changed)
    media_state_update(call); /* the peers show "video paused" at once */
}

/* The loss a report tells of the path: paused video is reported as 0 lost
 * of 0 sent, so while the controller has paused it, the audio block tells. */
static double report_loss(const ml_call *call, const ml_media_rtcp_info *info) {
  if (call->rate && call->rate_set.video_paused && info->audio_fraction_lost >= 0)
    return info->audio_fraction_lost;
  return info->fraction_lost;
}

static void rate_report(call_peer *p, const ml_media_rtcp_info *info) {
  ml_call *call = p->call;
  if (call->rate && ml_rate_on_report(call->rate, p, call_ms(call), report_loss(call, info),
                                      info->rtt_ms) == ML_OK)
    apply_rate(call);
}

static void start_rate(ml_call *call) {
  /* Without audio, paused video would leave the peers nothing to report on. */
  ml_rate_config rc = {.no_pause = call->audio == ML_MEDIA_AUDIO_NONE};
  if (ml_rate_new(&call->rate, &rc) != ML_OK) {
    emit_error(call, NULL, ML_ERR_NOMEM, "no congestion control: the video bitrate stays fixed");
    return;
  }
  ml_rate_get(call->rate, &call->rate_set);
  ml_media_sender_set_video_kbps(call->tx, call->rate_set.video_kbps);
}

static gboolean on_stats_tick(gpointer user) {
  ml_call *call = user;
  if (call->rate) {
    ml_rate_tick(call->rate, call_ms(call));
    apply_rate(call);
  }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    check_state(p);
    if (p->have_proven_key) /* failed ones too, while they stay in the call */
      emit_stats(p, false);
  }
  if (!media_state_update(call)) /* the repeat: CONTROL datagrams get lost */
    send_media_state(call, NULL);
  return G_SOURCE_CONTINUE;
}

/* ---- media ---- */

/* One packet of the send pipeline: sealed to every secure peer (encode once,
 * fan out). */
static void on_sender_packet(ml_inner_type type, const uint8_t *data, size_t len, void *user) {
  ml_call *call = user;
  bool frame_end = type == ML_INNER_RTP && len > 12 && (data[1] & 0x7f) == ML_MEDIA_PT_VP8 &&
                   (data[1] & 0x80) != 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    if (!ml_peer_state_usable(p->state))
      continue;
    if (!p->video_flowing && type == ML_INNER_RTP && len >= 12 &&
        (data[1] & 0x7f) == ML_MEDIA_PT_VP8) {
      /* Nothing before a keyframe is decodable: wait for the one on_secure
       * asked for. (RTX answers NACKs, which only come after it.) */
      if (!ml_rtp_vp8_keyframe_start(data, len, ML_MEDIA_PT_VP8))
        continue;
      p->video_flowing = true;
    }
    if (ml_peer_link_send(p->link, type, data, len) != ML_OK)
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
  emit_error(call, NULL, err, message);
}

static void on_receiver_error(int err, const char *message, void *user) {
  call_peer *p = user;
  emit_error(p->call, p, err, message);
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
static void ensure_sender(ml_call *call) {
  if (call->tx || (call->video == ML_MEDIA_VIDEO_NONE && call->audio == ML_MEDIA_AUDIO_NONE))
    return;
  ml_media_sender_config cfg = {
      .video = call->video,
      .audio = call->audio,
      .on_packet = on_sender_packet,
      .on_error = on_media_error,
      .user = call,
  };
  ml_media_sender *tx = NULL;
  int err = ml_media_sender_new(&tx, call->ctx, &cfg);
  if (err) {
    emit_error(call, NULL, err, "the send pipeline would not start");
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
  update_idle(call);
}

static void free_sender(ml_call *call) {
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

static void start_receiver(call_peer *p) {
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
    emit_error(p->call, p, err, "the receive branch would not start");
    return;
  }
  p->shared = g_new0(peer_shared, 1);
  p->shared->rx = p->rx;
  p->shared->dbfs = LEVEL_FLOOR_DBFS;
  g_mutex_lock(&p->call->shared_lock);
  g_hash_table_insert(p->call->shared, g_strdup(p->id), p->shared);
  g_mutex_unlock(&p->call->shared_lock);
}

/* ---- a peer's lifecycle (peer_state.h) ---- */

static void stop_restart_timer(call_peer *p) {
  if (!p->restart_timer)
    return;
  g_source_destroy(p->restart_timer);
  g_source_unref(p->restart_timer);
  p->restart_timer = NULL;
}

/* The channel is up: media flows. The pipelines were started earlier
 * (warm); a keyframe each way starts the pictures at once. */
static void start_media(call_peer *p) {
  ml_call *call = p->call;
  ensure_sender(call);
  update_idle(call);
  if (call->tx)
    ml_media_sender_request_keyframe(call->tx);
  if (!p->rx)
    start_receiver(p);
  else
    ml_media_receiver_request_keyframe(p->rx);
  if (!media_state_update(call))
    send_media_state(call, p);
}

/* The one place a peer's state changes, with what each change implies. */
static void peer_set_state(call_peer *p, ml_peer_state to) {
  ml_peer_state from = p->state;
  if (from == to)
    return;
  if (!ml_peer_transition_ok(from, to)) {
    g_critical("peer %s: %s -> %s refused (not a transition of its lifecycle)", p->id,
               ml_peer_state_name(from), ml_peer_state_name(to));
    return;
  }
  g_debug("peer %s: %s -> %s", p->id, ml_peer_state_name(from), ml_peer_state_name(to));
  p->state = to;
  switch (to) {
  case ML_PEER_SECURE:
    if (from == ML_PEER_CONNECTING)
      start_media(p);
    break;
  case ML_PEER_FAILED:
    stop_restart_timer(p); /* nothing left to restart */
    update_idle(p->call);
    break;
  case ML_PEER_LEFT:
    stop_restart_timer(p);
    if (p->have_proven_key)
      emit_stats(p, true);
    update_idle(p->call);
    break;
  case ML_PEER_JOINED:
  case ML_PEER_CONNECTING:
  case ML_PEER_RESTARTING: break;
  }
}

/* ---- peer link callbacks ---- */

static void on_candidate(ml_peer_link *link, const char *sdp, void *user) {
  call_peer *p = user;
  char ufrag[ML_PEER_LINK_MAX_UFRAG + 1], pwd[ML_PEER_LINK_MAX_PWD + 1];
  (void)link;
  send_offer_if_new(p); /* after an ICE restart, the new session's offer first */
  local_ufrag(p, ufrag, pwd);
  sodium_memzero(pwd, sizeof pwd);
  send_signal(p, "candidate", "ufrag", ufrag, "candidate", sdp);
}

static void send_end_of_candidates(call_peer *p) {
  char ufrag[ML_PEER_LINK_MAX_UFRAG + 1], pwd[ML_PEER_LINK_MAX_PWD + 1];
  send_offer_if_new(p);
  local_ufrag(p, ufrag, pwd);
  sodium_memzero(pwd, sizeof pwd);
  send_signal(p, "end-of-candidates", "ufrag", ufrag, NULL, NULL);
}

static void on_gathering_done(ml_peer_link *link, void *user) {
  call_peer *p = user;
  (void)link;
  p->gathered = true;
  send_end_of_candidates(p);
}

/* An ICE restart of this peer's link: the new session's offer, its
 * candidates (reported again by the link) and end-of-candidates go out
 * through signaling like the first ones. */
static void restart_ice(call_peer *p) {
  int err = ml_peer_link_restart(p->link);
  if (err) {
    emit_error(p->call, p, err, "the ICE restart was refused");
    return;
  }
  if (p->state == ML_PEER_SECURE) /* before the channel is up, it is still connecting */
    peer_set_state(p, ML_PEER_RESTARTING);
  if (p->gathered)
    send_end_of_candidates(p);
  else
    send_offer_if_new(p);
}

static gboolean on_restart_timer(gpointer user) {
  call_peer *p = user;
  stop_restart_timer(p);
  if (ml_peer_link_get_state(p->link) != ML_PEER_LINK_FAILED)
    restart_ice(p);
  return G_SOURCE_REMOVE;
}

/* The path is gone (ICE FAILED, or silence on a secure link). The
 * controlling side decides: it restarts ICE, at once the first time, then
 * backing off, at most ML_RESTART_MAX_ATTEMPTS times in a row; the other side
 * follows when the new offer arrives (on_sig_signal). If nothing helps, the
 * link gives up by itself (connect or path timeout: peer_state failed). */
static void path_lost(call_peer *p, const char *what) {
  ml_call *call = p->call;
  ml_peer_link_stats st;
  ml_peer_link_get_stats(p->link, &st);
  if (!ml_peer_link_is_controlling(call->self_id, p->id) || p->restart_timer ||
      st.state == ML_PEER_LINK_FAILED)
    return;
  int64_t now = g_get_monotonic_time(), due = now;
  unsigned attempt = 0;
  switch (ml_restart_backoff_next(&p->restart, st.channel.opened, now, &due, &attempt)) {
  case ML_RESTART_GIVE_UP:
    emit_error(call, p, ML_ERR_IO, "ICE restarts did not bring the path back; no more restarts");
    return;
  case ML_RESTART_NONE: return;
  case ML_RESTART_SCHEDULE: break;
  }
  g_autofree char *text = g_strdup_printf("%s: restarting ICE (attempt %u of %u)", what, attempt,
                                          ML_RESTART_MAX_ATTEMPTS);
  emit_error(call, p, ML_ERR_IO, text);
  p->restart_timer = g_timeout_source_new((guint)((due - now) / 1000));
  g_source_set_callback(p->restart_timer, on_restart_timer, p, NULL);
  g_source_attach(p->restart_timer, call->ctx);
  if (p->state == ML_PEER_SECURE)
    peer_set_state(p, ML_PEER_RESTARTING);
}

static void on_path_lost(ml_peer_link *link, void *user) {
  (void)link;
  path_lost(user, "nothing arrived from the peer for a while");
}

static void on_ice_state(ml_peer_link *link, NiceComponentState st, void *user) {
  call_peer *p = user;
  (void)link;
  ml_peer_link_stats ls;
  ml_peer_link_get_stats(p->link, &ls);
  if (st == NICE_COMPONENT_STATE_FAILED && ls.state != ML_PEER_LINK_FAILED) {
    emit_error(p->call, p, ML_ERR_IO, "ICE found no working path to the peer");
    /* A restarted session can fail while the old pair carries datagrams
     * again: nothing to restart then (silence would say so otherwise). */
    if (ls.state != ML_PEER_LINK_SECURE || ls.silent_ms >= ICE_FAILED_SILENCE_MS)
      path_lost(p, "ICE failed");
  } else if (st == NICE_COMPONENT_STATE_READY) {
    ml_restart_backoff_reset(&p->restart); /* the path is back */
    if (p->state == ML_PEER_RESTARTING)
      peer_set_state(p, ML_PEER_SECURE);
  }
  check_state(p);
}

static void on_secure(ml_peer_link *link, const ml_peer_link_verification *v, void *user) {
  call_peer *p = user;
  ml_call *call = p->call;
  (void)link;
  memcpy(p->proven_key, v->peer_identity, sizeof p->proven_key);
  p->have_proven_key = true;
  ml_call_event *ev = event_new(call, ML_CALL_EV_VERIFIED, p);
  g_strlcpy(ev->sas, v->sas, sizeof ev->sas);
  g_strlcpy(ev->safety_number, v->safety_number, sizeof ev->safety_number);
  ml_identity_fingerprint(v->peer_identity, ev->fingerprint);
  ml_call_event *warn = NULL;
  if (call->pins_path[0]) {
    ml_pin_status st;
    uint8_t old[ML_IDENTITY_PUBLIC_LEN];
    int err =
        ml_pins_check_verified(call->pins_path, p->name, v->peer_identity, &st, old, &ev->verified);
    if (err) {
      emit_error(call, p, err, "the pinned-peers file could not be used; identity not pinned");
    } else {
      ev->pin = (int)st;
      if (st == ML_PIN_CHANGED) {
        warn = event_new(call, ML_CALL_EV_IDENTITY_CHANGED, p);
        g_strlcpy(warn->fingerprint, ev->fingerprint, sizeof warn->fingerprint);
        ml_identity_fingerprint(old, warn->old_fingerprint);
        warn->text = g_strdup("the identity key of this peer name differs from the pinned one: "
                              "compare the SAS aloud before trusting this call");
      }
    }
  }
  emit(call, ev);
  if (warn)
    emit(call, warn);
  if (sodium_memcmp(v->peer_identity, p->announced_key, ML_IDENTITY_PUBLIC_LEN) != 0)
    emit_error(call, p, ML_ERR_CRYPTO,
               "the peer proved a different identity key than the server announced");
  check_state(p);
  peer_set_state(p, ML_PEER_SECURE);
}

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
  /* MEDIA_STATE: a repeat, or older than what we have, changes nothing. */
  if (p->have_media && (int32_t)(m.media.seq - p->media_seq) <= 0)
    return;
  ml_call_peer_media now = {
      .muted = m.media.muted, .camera_on = m.media.camera_on, .video_paused = m.media.video_paused};
  if (!p->have_media || now.muted != p->media.muted || now.camera_on != p->media.camera_on ||
      now.video_paused != p->media.video_paused) {
    ml_call_event *ev = event_new(p->call, ML_CALL_EV_PEER_MEDIA, p);
    ev->media = now;
    if (!emit(p->call, ev))
      return; /* dropped: the next repeat tries again */
  }
  p->have_media = true;
  p->media = now;
  p->media_seq = m.media.seq;
}

static void on_datagram(ml_peer_link *link, ml_inner_type type, const uint8_t *data, size_t len,
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
    } else if (p->call->tx) {
      ml_media_rtcp_info info;
      if (ml_media_sender_push_rtcp(p->call->tx, data, len, &info) == ML_OK) {
        p->pli_received += info.pli + info.fir;
        if (info.have_report) {
          p->rtcp = info;
          p->have_rtcp = true;
          rate_report(p, &info);
        }
      }
    }
  }
}

static void on_message(ml_peer_link *link, uint64_t id, const uint8_t *bytes, size_t len,
                       void *user) {
  call_peer *p = user;
  (void)link;
  ml_call_event *ev = event_new(p->call, ML_CALL_EV_CHAT, p);
  ev->id = id;
  /* Untrusted text: invalid UTF-8 is replaced, never passed on. */
  ev->text = g_utf8_make_valid((const char *)bytes, (gssize)len);
  emit(p->call, ev);
}

static void on_receipt(ml_peer_link *link, uint64_t id, void *user) {
  call_peer *p = user;
  (void)link;
  ml_call_event *ev = event_new(p->call, ML_CALL_EV_RECEIPT, p);
  ev->id = id;
  emit(p->call, ev);
}

static void on_link_error(ml_peer_link *link, int err, const char *what, void *user) {
  call_peer *p = user;
  emit_error(p->call, p, err, what);
  check_state(p);
  if (ml_peer_link_get_state(link) == ML_PEER_LINK_FAILED) /* else it goes on */
    peer_set_state(p, ML_PEER_FAILED);
}

/* ---- peers ---- */

static void on_link_closed(void *user) {
  ml_call *call = user;
  call->closing--;
}

static void peer_free(call_peer *p) {
  if (p->call->rate)
    ml_rate_remove_peer(p->call->rate, p);
  if (p->shared) { /* no other thread may reach rx from here on */
    g_mutex_lock(&p->call->shared_lock);
    g_hash_table_remove(p->call->shared, p->id);
    g_mutex_unlock(&p->call->shared_lock);
  }
  stop_restart_timer(p);
  ml_media_receiver_free(p->rx);
  p->call->closing++;
  ml_peer_link_close(p->link, on_link_closed, p->call);
  g_free(p->pcm);
  g_free(p);
}

static void peer_remove(ml_call *call, call_peer *p, const char *reason) {
  peer_set_state(p, ML_PEER_LEFT); /* its final stats */
  ml_call_event *ev = event_new(call, ML_CALL_EV_PEER_LEFT, p);
  ev->text = g_strdup(reason);
  emit(call, ev);
  g_hash_table_remove(call->peers, p->id); /* frees p */
}

static void peer_add(ml_call *call, const ml_signal_peer *sp) {
  if (g_hash_table_contains(call->peers, sp->id) || !strcmp(sp->id, call->self_id))
    return;
  if (g_hash_table_size(call->peers) >= ML_CALL_MAX_PEERS) {
    /* The server decides who is in the room, and it is untrusted too: a
     * bound on ICE streams, pipelines and threads. */
    emit_error(call, NULL, ML_ERR_TOO_BIG, "too many peers in the room; one was not connected");
    return;
  }
  call_peer *p = g_new0(call_peer, 1);
  p->call = call;
  g_strlcpy(p->id, sp->id, sizeof p->id);
  g_strlcpy(p->name, sp->name, sizeof p->name);
  memcpy(p->announced_key, sp->identity_key, sizeof p->announced_key);
  ml_peer_link_config cfg = {
      .context = call->ctx,
      .identity = call->identity,
      .local_peer_id = call->self_id,
      .remote_peer_id = p->id,
      .room_id = call->room_id,
      .psk = call->psk,
      .stun_server = call->stun_host,
      .stun_port = call->stun_port,
      .turn = call->turn,
      .n_turn = call->n_turn,
      .local_addresses = (const char *const *)call->local_addresses,
      .n_local_addresses = call->n_local_addresses,
      .path_timeout_ms = call->path_timeout_ms,
      .callbacks = {.on_candidate = on_candidate,
                    .on_gathering_done = on_gathering_done,
                    .on_ice_state = on_ice_state,
                    .on_secure = on_secure,
                    .on_datagram = on_datagram,
                    .on_message = on_message,
                    .on_receipt = on_receipt,
                    .on_error = on_link_error,
                    .on_path_lost = on_path_lost,
                    .user = p},
  };
  int err = ml_peer_link_new(&p->link, &cfg);
  if (err) {
    emit_error(call, p, err, "could not create the ICE stream for this peer");
    g_free(p);
    return;
  }
  g_hash_table_insert(call->peers, p->id, p);
  ml_call_event *ev = event_new(call, ML_CALL_EV_PEER_JOINED, p);
  ml_identity_fingerprint(p->announced_key, ev->fingerprint);
  emit(call, ev);
  send_offer_if_new(p); /* our credentials first: the peer needs them before our candidates */
  peer_set_state(p, ML_PEER_CONNECTING); /* before the start: it can fail the link at once */
  err = ml_peer_link_start(p->link);
  if (err)
    emit_error(call, p, err, "ICE gathering would not start");
  /* The receive branch starts while ICE and the handshake run, so that it is
   * ready when the first packets arrive; nothing reaches it before the
   * channel is secure (its first PLI is dropped; on_secure asks again). */
  start_receiver(p);
  check_state(p);
}

static void remove_all_peers(ml_call *call, const char *reason) {
  GList *vals = g_hash_table_get_values(call->peers);
  for (GList *l = vals; l; l = l->next)
    peer_remove(call, l->data, reason);
  g_list_free(vals);
}

/* ---- signaling callbacks ---- */

static void on_sig_state(ml_signal_client_state st, void *user) {
  ml_call *call = user;
  ml_call_event *ev = event_new(call, ML_CALL_EV_SIGNALING, NULL);
  ev->state = (int)st;
  emit(call, ev);
}

/* libnice takes IP literals only: names are resolved here (blocking the
 * engine thread for the resolver's time, once per welcome). */
static char *resolve_host(const char *host) {
  GInetAddress *a = g_inet_address_new_from_string(host);
  if (a) {
    g_object_unref(a);
    return g_strdup(host);
  }
  GResolver *r = g_resolver_get_default();
  GList *list = g_resolver_lookup_by_name(r, host, NULL, NULL);
  g_object_unref(r);
  char *out = list ? g_inet_address_to_string(list->data) : NULL;
  g_resolver_free_addresses(list);
  return out;
}

static void clear_ice(ml_call *call) {
  g_clear_pointer(&call->stun_host, g_free);
  for (size_t i = 0; i < call->n_turn; i++) {
    char **str = call->turn_strings[i];
    if (str[2])
      sodium_memzero(str[2], strlen(str[2]));
    for (size_t j = 0; j < 3; j++)
      g_free(str[j]);
  }
  memset(call->turn, 0, sizeof call->turn);
  memset(call->turn_strings, 0, sizeof call->turn_strings);
  call->n_turn = 0;
}

static void take_ice(ml_call *call, const ml_signal_welcome *w) {
  clear_ice(call);
  for (size_t i = 0; i < w->n_ice; i++) {
    const ml_signal_ice_server *s = &w->ice[i];
    if (s->kind == ML_SIGNAL_ICE_STUN && call->stun_host)
      continue;
    if (s->kind != ML_SIGNAL_ICE_STUN && call->n_turn == ML_PEER_LINK_MAX_TURN)
      continue;
    char *ip = resolve_host(s->host);
    if (!ip) {
      emit_error(call, NULL, ML_ERR_NOT_FOUND, "an ICE server name did not resolve; skipped");
      continue;
    }
    if (s->kind == ML_SIGNAL_ICE_STUN) {
      call->stun_host = ip;
      call->stun_port = s->port;
      continue;
    }
    char **str = call->turn_strings[call->n_turn];
    ml_peer_link_turn *t = &call->turn[call->n_turn++];
    t->server = str[0] = ip;
    t->port = s->port;
    t->username = str[1] = g_strdup(s->username);
    t->password = str[2] = g_strdup(s->credential);
    t->transport = s->kind == ML_SIGNAL_ICE_TURN_UDP   ? ML_PEER_LINK_TURN_UDP
                   : s->kind == ML_SIGNAL_ICE_TURN_TCP ? ML_PEER_LINK_TURN_TCP
                                                       : ML_PEER_LINK_TURN_TLS;
  }
}

static void on_sig_welcome(const ml_signal_welcome *w, void *user) {
  ml_call *call = user;
  /* A welcome after a reconnect gives us a new peer id: links keyed on the
   * old one are stale, and the peers see us as a new peer. Start over. */
  remove_all_peers(call, "reconnect");
  g_strlcpy(call->self_id, w->peer_id, sizeof call->self_id);
  g_strlcpy(call->room_id, w->room, sizeof call->room_id);
  take_ice(call, w);
  ml_call_event *ev = event_new(call, ML_CALL_EV_JOINED, NULL);
  g_strlcpy(ev->peer_id, w->peer_id, sizeof ev->peer_id);
  g_strlcpy(ev->peer_name, w->name, sizeof ev->peer_name);
  ev->text = g_strdup(w->room);
  emit(call, ev);
  for (size_t i = 0; i < w->n_peers; i++)
    peer_add(call, &w->peers[i]);
  /* After the peers' ICE has started: capture starts with the call (the self
   * view, and a warm pipeline when the first peer is secure). */
  ensure_sender(call);
}

static void on_sig_peer_joined(const ml_signal_peer *sp, void *user) { peer_add(user, sp); }

static void on_sig_knock(const ml_signal_peer *sp, void *user) {
  ml_call *call = user;
  ml_call_event *ev = event_new(call, ML_CALL_EV_KNOCK, NULL);
  g_strlcpy(ev->peer_id, sp->id, sizeof ev->peer_id);
  g_strlcpy(ev->peer_name, sp->name, sizeof ev->peer_name);
  ml_identity_fingerprint(sp->identity_key, ev->fingerprint);
  emit(call, ev);
  if (call->admit_all && ml_signal_client_admit(call->sig, sp->id) != ML_OK)
    emit_error(call, NULL, ML_ERR_STATE, "could not admit a waiting peer");
}

static void on_sig_peer_left(const char *id, const char *reason, void *user) {
  ml_call *call = user;
  call_peer *p = g_hash_table_lookup(call->peers, id);
  if (p)
    peer_remove(call, p, reason);
}

static bool ice_string(const char *s, size_t min, size_t max) {
  size_t n = s ? strlen(s) : 0;
  return s && n >= min && n <= max;
}

/* A string member of untrusted data, or NULL (absent, or not a string). */
static const char *get_str(JsonObject *o, const char *name) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(n);
}

static void on_sig_signal(const char *from, JsonObject *data, void *user) {
  ml_call *call = user;
  call_peer *p = g_hash_table_lookup(call->peers, from);
  if (!p)
    return; /* not a peer we know (yet): nothing to apply it to */
  const char *kind = get_str(data, "kind");
  const char *ufrag = get_str(data, "ufrag");
  int err = ML_ERR_PROTOCOL;
  if (kind && !strcmp(kind, "offer")) {
    const char *pwd = get_str(data, "pwd");
    if (ice_string(ufrag, 4, ML_PEER_LINK_MAX_UFRAG) && ice_string(pwd, 22, ML_PEER_LINK_MAX_PWD)) {
      /* New credentials from the controlling peer: it restarted ICE, and we
       * follow (the controlling side never follows, so restarts cannot
       * ping-pong). */
      if (p->remote_ufrag[0] && strcmp(ufrag, p->remote_ufrag) != 0 &&
          !ml_peer_link_is_controlling(call->self_id, p->id))
        restart_ice(p);
      err = ml_peer_link_set_remote_credentials(p->link, ufrag, pwd);
    }
    if (!err)
      g_strlcpy(p->remote_ufrag, ufrag, sizeof p->remote_ufrag);
  } else if (kind && !strcmp(kind, "candidate")) {
    const char *cand = get_str(data, "candidate");
    if (ufrag && strcmp(ufrag, p->remote_ufrag) != 0)
      return; /* for an earlier ICE session: stale, not an error */
    if (ice_string(cand, 1, MAX_CANDIDATE))
      err = ml_peer_link_add_remote_candidate(p->link, cand);
  } else if (kind && !strcmp(kind, "end-of-candidates")) {
    if (ufrag && strcmp(ufrag, p->remote_ufrag) != 0)
      return;
    ml_peer_link_remote_gathering_done(p->link);
    err = ML_OK;
  }
  if (err)
    emit_error(call, p, err, "a relayed ICE message from the peer was refused");
}

static gboolean cmd_leave(gpointer user);

static void on_sig_error(const char *code, const char *message, bool fatal, void *user) {
  ml_call *call = user;
  g_autofree char *text =
      g_strdup_printf("signaling: %s%s%s", code, message[0] ? ": " : "", message);
  emit_error_full(call, NULL, 0, text, fatal);
  if (fatal) { /* later: not from inside the signaling client's callback */
    GSource *later = g_idle_source_new();
    g_source_set_callback(later, cmd_leave, call, NULL);
    g_source_attach(later, call->ctx);
    g_source_unref(later);
  }
}

/* ---- engine thread ---- */

static void call_end(ml_call *call) {
  if (call->ended)
    return;
  call->ended = true;
  remove_all_peers(call, "ended");
  free_sender(call);
  ml_rate_free(call->rate);
  call->rate = NULL;
  if (call->stats_timer) {
    g_source_destroy(call->stats_timer);
    g_source_unref(call->stats_timer);
    call->stats_timer = NULL;
  }
  if (call->sig && ml_signal_client_get_state(call->sig) != ML_SIGNAL_CLOSED)
    ml_signal_client_leave(call->sig);
  g_main_loop_quit(call->loop);
}

static gboolean cmd_leave(gpointer user) {
  call_end(user);
  return G_SOURCE_REMOVE;
}

static void engine_start(ml_call *call) {
  if (call->secret) {
    call->psk = sodium_malloc(32);
    if (!call->psk || ml_signal_room_psk(call->secret, call->room_cfg, call->psk) != ML_OK ||
        ml_signal_room_verifier(call->secret, call->room_cfg, call->verifier) != ML_OK) {
      emit_error_full(call, NULL, ML_ERR_NOMEM,
                      "could not derive the room key from the room secret", true);
      call_end(call);
      return;
    }
  }
  ml_signal_client_config sc = {
      .context = call->ctx,
      .url = call->url,
      .token = call->token,
      .room = call->room_cfg,
      .name = call->name,
      .secret_verifier = call->secret ? call->verifier : NULL,
      .identity_key = ml_identity_public_key(call->identity),
      .callbacks = {.on_state = on_sig_state,
                    .on_welcome = on_sig_welcome,
                    .on_peer_joined = on_sig_peer_joined,
                    .on_knock = on_sig_knock,
                    .on_peer_left = on_sig_peer_left,
                    .on_signal = on_sig_signal,
                    .on_error = on_sig_error,
                    .user = call},
  };
  int err = ml_signal_client_new(&call->sig, &sc);
  if (err) {
    emit_error_full(call, NULL, err, "the signaling settings were refused", true);
    call_end(call);
    return;
  }
  call->stats_timer = g_timeout_source_new(ML_CALL_STATS_INTERVAL_MS);
  g_source_set_callback(call->stats_timer, on_stats_tick, call, NULL);
  g_source_attach(call->stats_timer, call->ctx);
  ml_signal_client_start(call->sig);
}

static gboolean set_flag(gpointer flag) {
  *(bool *)flag = true;
  return G_SOURCE_REMOVE;
}

static gpointer engine_main(gpointer user) {
  ml_call *call = user;
  g_main_context_push_thread_default(call->ctx);
  engine_start(call);
  if (!call->ended)
    g_main_loop_run(call->loop);
  call_end(call); /* if the loop stopped otherwise */
  ml_signal_client_free(call->sig);
  call->sig = NULL;
  clear_ice(call);
  /* The links' agents release their TURN allocations; bounded. */
  bool expired = false;
  GSource *limit = g_timeout_source_new(CLOSE_WAIT_MS);
  g_source_set_callback(limit, set_flag, &expired, NULL);
  g_source_attach(limit, call->ctx);
  while (call->closing > 0 && !expired)
    g_main_context_iteration(call->ctx, TRUE);
  g_source_destroy(limit);
  g_source_unref(limit);
  while (g_main_context_iteration(call->ctx, FALSE))
    ;
  g_main_context_pop_thread_default(call->ctx);
  emit(call, event_new(call, ML_CALL_EV_ENDED, NULL));
  return NULL;
}

/* ---- owner-thread API ---- */

static bool valid_text(const char *s, size_t max) {
  return s && s[0] && strlen(s) <= max && g_utf8_validate(s, -1, NULL);
}

int ml_call_new(ml_call **out, const ml_call_config *cfg) {
  g_assert(out && cfg);
  if (!cfg->server_url || !cfg->identity || (cfg->token != NULL) == (cfg->room != NULL) ||
      (cfg->room && !valid_text(cfg->name, ML_CALL_MAX_NAME)) ||
      (cfg->room_secret && (!cfg->room || !valid_text(cfg->room_secret, 64))))
    return ML_ERR_INVALID;
  ml_call *call = g_new0(ml_call, 1);
  call->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (call->efd < 0) {
    g_free(call);
    return ML_ERR_IO;
  }
  call->url = g_strdup(cfg->server_url);
  call->token = g_strdup(cfg->token);
  call->room_cfg = g_strdup(cfg->room);
  call->name = g_strdup(cfg->name);
  call->secret = g_strdup(cfg->room_secret);
  call->identity = cfg->identity;
  if (cfg->pins_path) {
    call->pins_path = g_strdup(cfg->pins_path);
  } else {
    char path[4096];
    call->pins_path = g_strdup(ml_pins_default_path(path, sizeof path) == ML_OK ? path : "");
  }
  call->video = cfg->video;
  call->audio = cfg->audio;
  call->headless = cfg->headless;
  call->admit_all = cfg->admit_all;
  call->measure_tone = cfg->measure_tone;
  call->path_timeout_ms = cfg->path_timeout_ms;
  call->n_local_addresses = cfg->n_local_addresses;
  call->local_addresses = g_new0(char *, cfg->n_local_addresses + 1);
  for (size_t i = 0; i < cfg->n_local_addresses; i++)
    call->local_addresses[i] = g_strdup(cfg->local_addresses[i]);
  call->t0 = g_get_monotonic_time();
  call->events = g_async_queue_new_full((GDestroyNotify)ml_call_event_free);
  call->ctx = g_main_context_new();
  call->loop = g_main_loop_new(call->ctx, FALSE);
  call->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)peer_free);
  g_mutex_init(&call->shared_lock);
  call->shared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  call->thread = g_thread_new("ml-engine", engine_main, call);
  *out = call;
  return ML_OK;
}

int ml_call_event_fd(const ml_call *call) { return call->efd; }

ml_call_event *ml_call_next_event(ml_call *call, int timeout_ms) {
  ml_call_event *ev;
  if (timeout_ms < 0)
    ev = g_async_queue_pop(call->events);
  else if (timeout_ms == 0)
    ev = g_async_queue_try_pop(call->events);
  else
    ev = g_async_queue_timeout_pop(call->events, (guint64)timeout_ms * 1000);
  if (g_async_queue_length(call->events) <= 0) {
    /* Reset readiness; an event pushed meanwhile writes again, and one pushed
     * between the check and the read is caught by the second check. */
    uint64_t n;
    if (read(call->efd, &n, sizeof n) < 0 && errno != EAGAIN)
      return ev;
    if (g_async_queue_length(call->events) > 0) {
      uint64_t one = 1;
      if (write(call->efd, &one, sizeof one) < 0)
        return ev; /* EAGAIN: the counter is saturated, readable anyway */
    }
  }
  return ev;
}

void ml_call_event_free(ml_call_event *ev) {
  if (!ev)
    return;
  g_free(ev->text);
  g_free(ev);
}

static gboolean cmd_chat(gpointer user) {
  void **args = user;
  ml_call *call = args[0];
  const char *text = args[1];
  if (call->ended)
    return G_SOURCE_REMOVE;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    uint64_t id = 0;
    if (p->state == ML_PEER_FAILED)
      continue; /* queued before the channel is up; a failed link refuses it */
    int err = ml_peer_link_send_message(p->link, (const uint8_t *)text, strlen(text), &id);
    if (err) {
      emit_error(call, p, err, "the chat message could not be queued to this peer");
      continue;
    }
    ml_call_event *ev = event_new(call, ML_CALL_EV_CHAT_SENT, p);
    ev->id = id;
    ev->text = g_strdup(text);
    emit(call, ev);
  }
  return G_SOURCE_REMOVE;
}

static void free_chat_args(gpointer user) {
  void **args = user;
  g_free(args[1]);
  g_free(args);
}

int ml_call_send_chat(ml_call *call, const char *text) {
  g_assert(call && text);
  if (!valid_text(text, MAX_CHAT))
    return ML_ERR_INVALID;
  void **args = g_new(void *, 2);
  args[0] = call;
  args[1] = g_strdup(text);
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, cmd_chat, args, free_chat_args);
  return ML_OK;
}

static gboolean cmd_muted(gpointer user) {
  ml_call *call = ((void **)user)[0];
  call->muted = ((void **)user)[1] != NULL;
  if (call->tx)
    ml_media_sender_set_audio_muted(call->tx, call->muted);
  if (!call->ended)
    (void)media_state_update(call);
  return G_SOURCE_REMOVE;
}

static gboolean cmd_camera(gpointer user) {
  ml_call *call = ((void **)user)[0];
  call->camera_off = ((void **)user)[1] == NULL;
  if (call->tx)
    ml_media_sender_set_camera_on(call->tx, !call->camera_off);
  if (!call->ended)
    (void)media_state_update(call);
  return G_SOURCE_REMOVE;
}

static void invoke_flag(ml_call *call, GSourceFunc fn, bool flag) {
  void **args = g_new(void *, 2);
  args[0] = call;
  args[1] = flag ? call : NULL;
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, fn, args, g_free);
}

void ml_call_set_muted(ml_call *call, bool muted) { invoke_flag(call, cmd_muted, muted); }
void ml_call_set_camera_on(ml_call *call, bool on) { invoke_flag(call, cmd_camera, on); }

static gboolean cmd_admit(gpointer user) {
  void **args = user;
  ml_call *call = args[0];
  if (!call->ended && call->sig && ml_signal_client_admit(call->sig, args[1]) != ML_OK)
    emit_error(call, NULL, ML_ERR_STATE, "could not admit the peer (not joined, or a bad id)");
  return G_SOURCE_REMOVE;
}

void ml_call_admit(ml_call *call, const char *peer_id) {
  g_assert(call && peer_id);
  void **args = g_new(void *, 2);
  args[0] = call;
  args[1] = g_strndup(peer_id, ML_CALL_MAX_PEER_ID);
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, cmd_admit, args, free_chat_args);
}

static gboolean cmd_self_view(gpointer user) {
  ml_call *call = user;
  if (!call->ended)
    ensure_sender(call);
  return G_SOURCE_REMOVE;
}

/* The owner's reads hold shared_lock while they use a receiver or the
 * sender: the engine thread removes either under it before freeing it. */
int ml_call_latest_frame(ml_call *call, const char *peer_id, uint64_t after_seq,
                         ml_media_frame **out) {
  g_assert(call && out);
  *out = NULL;
  int err = ML_ERR_NOT_FOUND;
  bool start = false;
  g_mutex_lock(&call->shared_lock);
  if (!peer_id) {
    if (call->tx)
      err = ml_media_sender_latest_frame(call->tx, after_seq, out);
    else
      start = g_atomic_int_compare_and_exchange(&call->self_view_requested, 0, 1);
  } else {
    peer_shared *s = g_hash_table_lookup(call->shared, peer_id);
    if (s)
      err = ml_media_receiver_latest_frame(s->rx, after_seq, out);
  }
  g_mutex_unlock(&call->shared_lock);
  if (start) /* the first ask starts the sender */
    g_main_context_invoke(call->ctx, cmd_self_view, call);
  return err;
}

int ml_call_audio_level(ml_call *call, const char *peer_id, double *dbfs) {
  g_assert(call && peer_id && dbfs);
  *dbfs = LEVEL_FLOOR_DBFS;
  int err = ML_ERR_NOT_FOUND;
  int64_t now = g_get_monotonic_time();
  g_mutex_lock(&call->shared_lock);
  peer_shared *s = g_hash_table_lookup(call->shared, peer_id);
  if (s && s->level_us) {
    /* Decoded audio stopped (the peer stopped sending): silence. */
    *dbfs = now - s->level_us <= LEVEL_STALE_US ? s->dbfs : LEVEL_FLOOR_DBFS;
    err = ML_OK;
  }
  g_mutex_unlock(&call->shared_lock);
  return err;
}

static gboolean cmd_mark_verified(gpointer user) {
  void **args = user;
  ml_call *call = args[0];
  const char *id = args[1];
  if (call->ended)
    return G_SOURCE_REMOVE;
  call_peer *p = g_hash_table_lookup(call->peers, id);
  ml_call_event *ev = event_new(call, ML_CALL_EV_MARKED_VERIFIED, p);
  if (!p) {
    g_strlcpy(ev->peer_id, id, sizeof ev->peer_id);
    ev->err = ML_ERR_NOT_FOUND;
  } else if (!p->have_proven_key || !call->pins_path[0]) {
    ev->err = ML_ERR_STATE; /* no proven key yet, or pinning is off */
  } else {
    ev->err = ml_pins_mark_verified(call->pins_path, p->name, p->proven_key);
    ml_identity_fingerprint(p->proven_key, ev->fingerprint);
    ev->verified = ev->err == ML_OK;
  }
  emit(call, ev);
  return G_SOURCE_REMOVE;
}

void ml_call_mark_verified(ml_call *call, const char *peer_id) {
  g_assert(call && peer_id);
  void **args = g_new(void *, 2);
  args[0] = call;
  args[1] = g_strndup(peer_id, ML_CALL_MAX_PEER_ID);
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, cmd_mark_verified, args,
                             free_chat_args);
}

void ml_call_leave(ml_call *call) {
  g_assert(call);
  if (g_atomic_int_compare_and_exchange(&call->leave_requested, 0, 1))
    g_main_context_invoke(call->ctx, cmd_leave, call);
}

const char *ml_call_event_name(ml_call_event_type type) {
  switch (type) {
  case ML_CALL_EV_SIGNALING: return "signaling";
  case ML_CALL_EV_JOINED: return "joined";
  case ML_CALL_EV_PEER_JOINED: return "peer_joined";
  case ML_CALL_EV_PEER_LEFT: return "peer_left";
  case ML_CALL_EV_KNOCK: return "knock";
  case ML_CALL_EV_PEER_STATE: return "peer_state";
  case ML_CALL_EV_VERIFIED: return "verification";
  case ML_CALL_EV_IDENTITY_CHANGED: return "identity_changed";
  case ML_CALL_EV_CHAT: return "chat";
  case ML_CALL_EV_CHAT_SENT: return "chat_sent";
  case ML_CALL_EV_RECEIPT: return "receipt";
  case ML_CALL_EV_STATS: return "stats";
  case ML_CALL_EV_PEER_MEDIA: return "peer_media";
  case ML_CALL_EV_MARKED_VERIFIED: return "marked_verified";
  case ML_CALL_EV_ERROR: return "error";
  case ML_CALL_EV_ENDED: return "ended";
  }
  return "unknown";
}

const char *ml_call_path_name(ml_peer_link_path path) {
  switch (path) {
  case ML_PEER_LINK_PATH_HOST: return "host";
  case ML_PEER_LINK_PATH_SRFLX: return "srflx";
  case ML_PEER_LINK_PATH_RELAY: return "relay";
  case ML_PEER_LINK_PATH_NONE: break;
  }
  return "none";
}

const char *ml_call_peer_state_name(ml_peer_link_state state) {
  switch (state) {
  case ML_PEER_LINK_NEW: return "new";
  case ML_PEER_LINK_CONNECTING: return "connecting";
  case ML_PEER_LINK_HANDSHAKING: return "handshaking";
  case ML_PEER_LINK_SECURE: return "secure";
  case ML_PEER_LINK_FAILED: return "failed";
  }
  return "unknown";
}

void ml_call_free(ml_call *call) {
  if (!call)
    return;
  ml_call_leave(call);
  g_thread_join(call->thread);
  g_hash_table_destroy(call->peers);
  g_hash_table_destroy(call->shared);
  g_mutex_clear(&call->shared_lock);
  g_main_loop_unref(call->loop);
  g_main_context_unref(call->ctx);
  g_async_queue_unref(call->events);
  close(call->efd);
  if (call->psk)
    sodium_free(call->psk);
  g_free(call->url);
  if (call->token)
    sodium_memzero(call->token, strlen(call->token));
  g_free(call->token);
  g_free(call->room_cfg);
  g_free(call->name);
  if (call->secret)
    sodium_memzero(call->secret, strlen(call->secret));
  g_free(call->secret);
  g_free(call->pins_path);
  g_strfreev(call->local_addresses);
  g_free(call);
}
