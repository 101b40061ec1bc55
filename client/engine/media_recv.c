/* mentorlink — the media receiver, one per peer (see ml/media.h for the
 * contract).
 *
 * appsrc (RTP) -> rtpbin session 0 [aux: rtprtxreceive]
 * -> jitter buffer -> pt 96: rtpvp8depay -> vp8dec -> appsink (latest frame)
 *                  -> pt 111: rtpopusdepay -> opusdec -> S16 48 kHz -> audio sink
 * appsrc (peer RTCP) -> recv_rtcp_sink_0; send_rtcp_src_0 -> appsink (RR)
 * NACK/PLI: built here from the jitter buffer's and depayloader's upstream
 * requests (probe on rtprtxreceive's sink), sent at once (on_feedback_request).
 *
 * Everything from a peer passes the gate (media_internal.h) before
 * GStreamer. Streaming threads reach the engine's context only through the
 * hand-off queue (handoff.h) and the latest-frame slot (frame_slot.h).
 */
#include "ml/media.h"

#include "audio_conceal.h"
#include "frame_slot.h"
#include "freeze.h"
#include "gst_util.h"
#include "handoff.h"
#include "delay_est.h"
#include "media_internal.h"
#include "packet_check.h"
#include "recv_policy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtp/gstrtcpbuffer.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video.h>

#define STATS_PERIOD_MS 1000
#define FIRST_FRAME_PLI_PERIOD_MS 250

#define TS_RING 64

struct ml_media_receiver {
  GMainContext *ctx;
  ml_media_receiver_config cfg;
  ml_gst_bus_owner bus;
  GstElement *pipeline, *rtpbin, *rtp_in, *rtcp_in;
  GObject *session;
  GSource *bus_source, *stats_timer, *pli_timer;
  ml_handoff h;
  int64_t start_us; /* monotonic */

  ml_frame_slot frames_slot; /* the latest decoded frame */
  GMutex lock;               /* guards the fields up to `counters` */
  struct {
    GstClockTime pts;
    uint32_t rtp_ts;
  } ts_ring[TS_RING];
  unsigned ts_pos;
  bool have_sr;
  uint64_t sr_ntp;
  uint32_t sr_rtp;
  bool have_video, have_audio;
  GstElement *video_jb; /* a ref, for its stats */
  ml_recv_nack_bucket nack_bucket;
  /* The quality figures: their own lock (streaming threads write them,
   * get_stats reads them on a const receiver). */
  struct recv_quality {
    GMutex lock;
    ml_freeze freeze;   /* video frames decoded */
    ml_conceal conceal; /* what reaches the Opus decoder */
  } * q;

  /* counters: written by streaming threads, read anywhere */
  atomic_uint_fast64_t frames, audio_samples, rtp_packets, rtp_bytes, rtcp_in_count,
      dropped_invalid, pli_sent, nack_sent, video_packets, nack_suppressed;
  atomic_int_fast64_t first_frame_us, e2e_us, last_pli_us;
  atomic_uint_fast32_t own_ssrc;                  /* our SSRC in the session, for feedback */
  atomic_uint_fast32_t frame_width, frame_height; /* the latest decoded frame */

  /* owned by the context thread */
  uint64_t win_bytes, win_frames;
  int64_t win_time_us;
  double bitrate_kbps, fps, jitter_ms;
  int64_t packets_lost;
  uint64_t jb_late, jb_rtx_requests, jb_rtx_recovered;
  double rtx_rtt_ms;
  ml_recv_latency latency; /* the jitter buffers' */
  ml_delay_est delay;      /* the delay-based estimate sent back as REMB */
};

static void receiver_send_pli(ml_media_receiver *rx);

static void receiver_deliver(void *owner, ml_handoff_kind kind, GstBuffer *buf) {
  ml_media_receiver *rx = owner;
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ))
    return;
  if (kind == ML_HANDOFF_PCM) {
    if (rx->cfg.on_pcm != NULL)
      rx->cfg.on_pcm((const int16_t *)(const void *)map.data, map.size / 2, rx->cfg.user);
  } else if (kind == ML_HANDOFF_RTCP && map.size <= ML_MEDIA_MAX_PACKET) {
    ml_media_rtcp_info info;
    ml_media_rtcp_parse(map.data, map.size, &info);
    ml_media_count(&rx->pli_sent, info.pli);
    ml_media_count(&rx->nack_sent, info.nack);
    rx->cfg.on_rtcp(ML_INNER_RTCP, map.data, map.size, rx->cfg.user);
  }
  gst_buffer_unmap(buf, &map);
}

static GstFlowReturn receiver_new_rtcp(GstAppSink *sink, gpointer data) {
  return ml_handoff_push_sample(&((ml_media_receiver *)data)->h, sink, ML_HANDOFF_RTCP);
}

/* Streaming thread: the newest decoded frame replaces the slot's. */
static GstFlowReturn receiver_new_frame(GstAppSink *sink, gpointer data) {
  ml_media_receiver *rx = data;
  GstSample *s = gst_app_sink_pull_sample(sink);
  if (s == NULL)
    return GST_FLOW_EOS;
  ml_media_frame *f = ml_media_frame_from_sample(s);
  gst_sample_unref(s); /* the mapped frame holds the buffer */
  if (f == NULL)
    return GST_FLOW_OK;
  f->info.decoded_time_us = g_get_real_time();
  GstClockTime pts = GST_BUFFER_PTS(f->vframe.buffer);

  int64_t first = -1;
  atomic_compare_exchange_strong(&rx->first_frame_us, &first,
                                 g_get_monotonic_time() - rx->start_us);
  ml_media_count(&rx->frames, 1);
  atomic_store(&rx->frame_width, f->info.width);
  atomic_store(&rx->frame_height, f->info.height);

  g_mutex_lock(&rx->q->lock);
  (void)ml_freeze_on_frame(&rx->q->freeze, g_get_monotonic_time());
  g_mutex_unlock(&rx->q->lock);

  g_mutex_lock(&rx->lock);
  for (unsigned i = 0; i < TS_RING; i++) {
    if (rx->ts_ring[i].pts == pts && GST_CLOCK_TIME_IS_VALID(pts)) {
      f->info.rtp_timestamp = rx->ts_ring[i].rtp_ts;
      if (rx->have_sr) {
        int32_t d = (int32_t)(f->info.rtp_timestamp - rx->sr_rtp);
        f->info.capture_time_us = ml_packet_ntp64_to_unix_us(rx->sr_ntp) +
                                  (int64_t)d * G_USEC_PER_SEC / ML_MEDIA_VIDEO_CLOCK_RATE;
      }
      break;
    }
  }
  g_mutex_unlock(&rx->lock);
  if (f->info.capture_time_us != 0)
    atomic_store(&rx->e2e_us, f->info.decoded_time_us - f->info.capture_time_us);
  ml_frame_slot_put(&rx->frames_slot, f);
  return GST_FLOW_OK;
}

/* Streaming thread: remember RTP time per PTS so frames carry it. */
static GstPadProbeReturn on_video_rtp(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  ml_media_receiver *rx = data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(pi);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (b == NULL || !gst_rtp_buffer_map(b, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  uint32_t ts = gst_rtp_buffer_get_timestamp(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  g_mutex_lock(&rx->lock);
  unsigned last = (rx->ts_pos + TS_RING - 1) % TS_RING;
  if (rx->ts_ring[last].pts != GST_BUFFER_PTS(b)) {
    rx->ts_ring[rx->ts_pos].pts = GST_BUFFER_PTS(b);
    rx->ts_ring[rx->ts_pos].rtp_ts = ts;
    rx->ts_pos = (rx->ts_pos + 1) % TS_RING;
  }
  g_mutex_unlock(&rx->lock);
  ml_media_count(&rx->video_packets, 1);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_decoded_audio(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  ml_media_receiver *rx = data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(pi);
  if (b == NULL)
    return GST_PAD_PROBE_OK;
  ml_media_count(&rx->audio_samples, gst_buffer_get_size(b) / 2);
  if (rx->cfg.on_pcm != NULL)
    ml_handoff_push(&rx->h, ML_HANDOFF_PCM, gst_buffer_ref(b));
  return GST_PAD_PROBE_OK;
}

/* Streaming thread: what reaches the Opus decoder, for the concealment
 * figures (audio_conceal.h): each packet, and each GAP the depayloader made
 * of a packet the jitter buffer gave up on. */
static GstPadProbeReturn on_opus_in(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  ml_media_receiver *rx = data;
  if (pi->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(pi);
    GstMapInfo map;
    if (b != NULL && gst_buffer_map(b, &map, GST_MAP_READ)) {
      g_mutex_lock(&rx->q->lock);
      ml_conceal_on_packet(&rx->q->conceal, map.data, map.size);
      g_mutex_unlock(&rx->q->lock);
      gst_buffer_unmap(b, &map);
    }
  } else if (pi->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(pi);
    if (ev != NULL && GST_EVENT_TYPE(ev) == GST_EVENT_GAP) {
      GstClockTime ts, dur;
      gst_event_parse_gap(ev, &ts, &dur);
      g_mutex_lock(&rx->q->lock);
      /* No duration: opusdec assumes the last packet's, so do we. */
      uint64_t samples =
          GST_CLOCK_TIME_IS_VALID(dur) && dur > 0
              ? gst_util_uint64_scale_round(dur, ML_MEDIA_AUDIO_CLOCK_RATE, GST_SECOND)
              : rx->q->conceal.last_samples;
      ml_conceal_on_gap(&rx->q->conceal, samples);
      g_mutex_unlock(&rx->q->lock);
    }
  }
  return GST_PAD_PROBE_OK;
}

/* An RTCP feedback packet: an empty RR (a compound packet must start with
 * one) and a PSFB PLI, or an RTPFB generic NACK for one sequence number. */
static GstBuffer *feedback_new(uint32_t own, uint32_t media, bool pli, uint16_t seq) {
  GstBuffer *buf = gst_rtcp_buffer_new(64);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket pkt;
  gst_rtcp_buffer_map(buf, GST_MAP_READWRITE, &rtcp);
  bool ok = gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_RR, &pkt);
  if (ok) {
    gst_rtcp_packet_rr_set_ssrc(&pkt, own);
    ok = gst_rtcp_buffer_add_packet(&rtcp, pli ? GST_RTCP_TYPE_PSFB : GST_RTCP_TYPE_RTPFB, &pkt);
  }
  if (ok) {
    gst_rtcp_packet_fb_set_type(&pkt, pli ? GST_RTCP_PSFB_TYPE_PLI : GST_RTCP_RTPFB_TYPE_NACK);
    gst_rtcp_packet_fb_set_sender_ssrc(&pkt, own);
    gst_rtcp_packet_fb_set_media_ssrc(&pkt, media);
    if (!pli) {
      ok = gst_rtcp_packet_fb_set_fci_length(&pkt, 1);
      guint8 *fci = ok ? gst_rtcp_packet_fb_get_fci(&pkt) : NULL;
      if (fci != NULL) {
        fci[0] = (guint8)(seq >> 8);
        fci[1] = (guint8)seq;
        fci[2] = fci[3] = 0; /* no further packets in the bitmask */
      }
    }
  }
  gst_rtcp_buffer_unmap(&rtcp);
  if (!ok) {
    gst_buffer_unref(buf);
    return NULL;
  }
  return buf;
}

/* Streaming thread: the NACK allowance (recv_policy.h) on the monotonic clock. */
static bool nack_allowed(ml_media_receiver *rx) {
  int64_t now = g_get_monotonic_time();
  g_mutex_lock(&rx->lock);
  bool ok = ml_recv_nack_allowed(&rx->nack_bucket, now);
  g_mutex_unlock(&rx->lock);
  return ok;
}

/* Streaming thread (the jitter buffer's): feedback that rtpsession would
 * otherwise hold back. rtpsession sends AVPF early feedback at most once per
 * regular interval and drops NACKs whose deadline passed meanwhile; measured
 * on loopback, half the NACKs never left. With one receiver per session the
 * RFC 4585 immediate mode applies, so we send each NACK and keyframe request
 * at once ourselves (through the handoff) and drop the event here, after
 * rtprtxreceive has noted the request it needs to match the RTX packet. */
static GstPadProbeReturn on_feedback_request(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  ml_media_receiver *rx = data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(pi);
  if (ev == NULL)
    return GST_PAD_PROBE_OK;
  const GstStructure *st = gst_event_get_structure(ev);
  uint32_t own = atomic_load(&rx->own_ssrc);
  guint ssrc = 0, seq = 0;
  if (st != NULL && gst_structure_has_name(st, "GstRTPRetransmissionRequest") &&
      gst_structure_get_uint(st, "ssrc", &ssrc) && gst_structure_get_uint(st, "seqnum", &seq)) {
    if (nack_allowed(rx)) {
      GstBuffer *buf = feedback_new(own, ssrc, false, (uint16_t)seq);
      if (buf != NULL)
        ml_handoff_push(&rx->h, ML_HANDOFF_RTCP, buf);
    } else {
      ml_media_count(&rx->nack_suppressed, 1);
    }
    return GST_PAD_PROBE_DROP;
  }
  if (gst_video_event_is_force_key_unit(ev)) {
    int64_t now = g_get_monotonic_time();
    if (ml_recv_pli_due(atomic_load(&rx->last_pli_us), now)) {
      atomic_store(&rx->last_pli_us, now);
      GstBuffer *buf = feedback_new(own, ML_MEDIA_SSRC_VIDEO, true, 0);
      if (buf != NULL)
        ml_handoff_push(&rx->h, ML_HANDOFF_RTCP, buf);
    }
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

static GstElement *on_request_aux_receiver(GstElement *rtpbin, guint session, gpointer data) {
  (void)rtpbin;
  ml_media_receiver *rx = data;
  GstElement *rtx = gst_element_factory_make("rtprtxreceive", NULL);
  if (rtx == NULL)
    return NULL;
  /* Like rtprtxsend's: original payload type -> its RTX payload type. */
  GstStructure *pt_map = gst_structure_new("application/x-rtp-pt-map", G_STRINGIFY(ML_MEDIA_PT_VP8),
                                           G_TYPE_UINT, (guint)ML_MEDIA_PT_RTX, NULL);
  g_object_set(rtx, "payload-type-map", pt_map, NULL);
  gst_structure_free(pt_map);
  GstPad *up = gst_element_get_static_pad(rtx, "sink");
  gst_pad_add_probe(up, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_feedback_request, rx, NULL);
  gst_object_unref(up);
  return ml_gst_aux_bin(rtx, session);
}

/* Adds elements (first is linked to pad) to the running pipeline. */
static void attach_chain(ml_media_receiver *rx, GstPad *pad, GstElement **chain, unsigned n) {
  GstBin *bin = GST_BIN(rx->pipeline);
  for (unsigned i = 0; i < n; i++)
    gst_bin_add(bin, chain[i]);
  for (unsigned i = 0; i + 1 < n; i++)
    if (!gst_element_link(chain[i], chain[i + 1]))
      g_warning("media: cannot link %s", GST_OBJECT_NAME(chain[i]));
  for (unsigned i = n; i-- > 0;)
    gst_element_sync_state_with_parent(chain[i]);
  GstPad *sink = gst_element_get_static_pad(chain[0], "sink");
  if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
    g_warning("media: cannot link %s", GST_PAD_NAME(pad));
  gst_object_unref(sink);
}

/* Streaming thread: rtpbin found a new SSRC/payload type in the session. */
static void on_pad_added(GstElement *rtpbin, GstPad *pad, gpointer data) {
  (void)rtpbin;
  ml_media_receiver *rx = data;
  unsigned sess, ssrc, pt;
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC ||
      sscanf(GST_PAD_NAME(pad), "recv_rtp_src_%u_%u_%u", &sess, &ssrc, &pt) != 3)
    return;
  g_mutex_lock(&rx->lock);
  bool video = pt == ML_MEDIA_PT_VP8 && !rx->have_video;
  bool audio = pt == ML_MEDIA_PT_OPUS && !rx->have_audio;
  rx->have_video = rx->have_video || video;
  rx->have_audio = rx->have_audio || audio;
  g_mutex_unlock(&rx->lock);

  if (video) {
    GstElement *chain[3] = {ml_gst_factory("rtpvp8depay"), ml_gst_factory("vp8dec"),
                            ml_gst_factory("appsink")};
    if (!chain[0] || !chain[1] || !chain[2])
      goto missing;
    /* Loss: drop the broken frames and ask for a keyframe (PLI) at once. */
    g_object_set(chain[0], "request-keyframe", TRUE, "wait-for-keyframe", TRUE, NULL);
    /* One thread, as for the encoder below 720p: libvpx's decoder threads
     * spin-wait on each other too, and a group call decodes one stream per
     * peer in parallel anyway. */
    g_object_set(chain[1], "threads", 1, NULL);
    GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", NULL);
    g_object_set(chain[2], "caps", caps, "sync", FALSE, "async", FALSE, "emit-signals", FALSE,
                 "max-buffers", 2u, "drop", TRUE, NULL);
    gst_caps_unref(caps);
    gst_app_sink_set_callbacks(GST_APP_SINK(chain[2]),
                               &(GstAppSinkCallbacks){.new_sample = receiver_new_frame}, rx, NULL);
    GstPad *depay_sink = gst_element_get_static_pad(chain[0], "sink");
    gst_pad_add_probe(depay_sink, GST_PAD_PROBE_TYPE_BUFFER, on_video_rtp, rx, NULL);
    gst_object_unref(depay_sink);
    attach_chain(rx, pad, chain, 3);
    return;
  missing:
    for (unsigned i = 0; i < 3; i++)
      if (chain[i] != NULL)
        gst_object_unref(gst_object_ref_sink(chain[i]));
  } else if (audio) {
    GstElement *chain[6] = {ml_gst_factory("rtpopusdepay"),
                            ml_gst_factory("opusdec"),
                            ml_gst_factory("audioconvert"),
                            ml_gst_factory("audioresample"),
                            ml_gst_factory("capsfilter"),
                            ml_gst_factory(rx->cfg.headless ? "fakesink" : "autoaudiosink")};
    for (unsigned i = 0; i < 6; i++)
      if (chain[i] == NULL) {
        for (unsigned j = 0; j < 6; j++)
          if (chain[j] != NULL)
            gst_object_unref(gst_object_ref_sink(chain[j]));
        return;
      }
    g_object_set(chain[1], "use-inband-fec", TRUE, "plc", TRUE, NULL);
    GstPad *dec_in = gst_element_get_static_pad(chain[1], "sink");
    gst_pad_add_probe(dec_in, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      on_opus_in, rx, NULL);
    gst_object_unref(dec_in);
    GstCaps *caps = ml_gst_caps_audio_s16_mono();
    g_object_set(chain[4], "caps", caps, NULL);
    gst_caps_unref(caps);
    if (rx->cfg.headless)
      g_object_set(chain[5], "sync", FALSE, "async", FALSE, NULL);
    GstPad *p = gst_element_get_static_pad(chain[4], "src");
    gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER, on_decoded_audio, rx, NULL);
    gst_object_unref(p);
    attach_chain(rx, pad, chain, 6);
  } else {
    /* An unknown payload type or a second stream: sink it quietly. */
    GstElement *sink = ml_gst_factory("fakesink");
    if (sink == NULL)
      return;
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
    attach_chain(rx, pad, &sink, 1);
  }
}

/* Streaming thread: a jitter buffer for a new SSRC. NACK only real gaps:
 * rtx-next-seqnum (on by default) guesses when the next packet is due, and
 * video's bursty frames (a keyframe is many packets, then nothing for 33 ms,
 * and encode time varies) make those guesses expire into false "lost" packets
 * that stall VP8 until the next keyframe. */
static void on_new_jitterbuffer(GstElement *rtpbin, GstElement *jb, guint session, guint ssrc,
                                gpointer data) {
  (void)rtpbin;
  (void)session;
  ml_media_receiver *rx = data;
  g_object_set(jb, "rtx-next-seqnum", FALSE, NULL);
  /* Only VP8 has RTX; Opus covers loss with in-band FEC and PLC. */
  if (ssrc != ML_MEDIA_SSRC_VIDEO) {
    g_object_set(jb, "do-retransmission", FALSE, NULL);
    return;
  }
  g_mutex_lock(&rx->lock);
  if (rx->video_jb == NULL)
    rx->video_jb = gst_object_ref(jb);
  g_mutex_unlock(&rx->lock);
}

/* Context thread, once a second: stats, SR mapping, jitter-buffer sizing. */
static gboolean receiver_tick(gpointer data) {
  ml_media_receiver *rx = data;
  int64_t now = g_get_monotonic_time();
  uint64_t bytes = ml_media_load(&rx->rtp_bytes), frames = ml_media_load(&rx->frames);
  double secs = (double)(now - rx->win_time_us) / G_USEC_PER_SEC;
  if (secs > 0) {
    rx->bitrate_kbps = (double)(bytes - rx->win_bytes) * 8.0 / 1000.0 / secs;
    rx->fps = (double)(frames - rx->win_frames) / secs;
  }
  rx->win_bytes = bytes;
  rx->win_frames = frames;
  rx->win_time_us = now;

  guint own = 0; /* changes if rtpsession resolves an SSRC collision */
  g_object_get(rx->session, "internal-ssrc", &own, NULL);
  atomic_store(&rx->own_ssrc, own);

  GstStructure *stats = NULL;
  g_object_get(rx->session, "stats", &stats, NULL);
  const GValue *arr = stats != NULL ? gst_structure_get_value(stats, "source-stats") : NULL;
  int64_t lost = 0;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS /* rtpsession's stats use GValueArray */
      if (arr != NULL && G_VALUE_HOLDS(arr, g_value_array_get_type())) {
    GValueArray *va = g_value_get_boxed(arr);
    for (unsigned i = 0; va != NULL && i < va->n_values; i++) {
      const GstStructure *s = gst_value_get_structure(g_value_array_get_nth(va, i));
      guint ssrc = 0, jitter = 0, sr_rtp = 0;
      gint plost = 0;
      gboolean internal = TRUE, have_sr = FALSE;
      guint64 sr_ntp = 0;
      gst_structure_get(s, "ssrc", G_TYPE_UINT, &ssrc, "internal", G_TYPE_BOOLEAN, &internal, NULL);
      if (internal || (ssrc != ML_MEDIA_SSRC_VIDEO && ssrc != ML_MEDIA_SSRC_AUDIO))
        continue;
      if (gst_structure_get_int(s, "packets-lost", &plost) && plost > 0)
        lost += plost;
      if (ssrc != ML_MEDIA_SSRC_VIDEO)
        continue;
      if (gst_structure_get_uint(s, "jitter", &jitter))
        rx->jitter_ms = jitter * 1000.0 / ML_MEDIA_VIDEO_CLOCK_RATE;
      if (gst_structure_get(s, "have-sr", G_TYPE_BOOLEAN, &have_sr, "sr-ntptime", G_TYPE_UINT64,
                            &sr_ntp, "sr-rtptime", G_TYPE_UINT, &sr_rtp, NULL) &&
          have_sr) {
        g_mutex_lock(&rx->lock);
        rx->have_sr = true;
        rx->sr_ntp = sr_ntp;
        rx->sr_rtp = sr_rtp;
        g_mutex_unlock(&rx->lock);
      }
    }
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  if (stats != NULL)
    gst_structure_free(stats);

  g_mutex_lock(&rx->lock);
  GstElement *jb = rx->video_jb != NULL ? gst_object_ref(rx->video_jb) : NULL;
  g_mutex_unlock(&rx->lock);
  if (jb != NULL) {
    GstStructure *js = NULL;
    g_object_get(jb, "stats", &js, NULL);
    guint64 late = 0, rtx = 0, rtx_ok = 0, rtt = 0;
    if (js != NULL && gst_structure_get(js, "num-late", G_TYPE_UINT64, &late, "rtx-count",
                                        G_TYPE_UINT64, &rtx, "rtx-success-count", G_TYPE_UINT64,
                                        &rtx_ok, "rtx-rtt", G_TYPE_UINT64, &rtt, NULL)) {
      rx->jb_late = late;
      rx->jb_rtx_requests = rtx;
      rx->jb_rtx_recovered = rtx_ok;
      rx->rtx_rtt_ms = (double)rtt / 1e6;
    }
    if (js != NULL)
      gst_structure_free(js);
    gst_object_unref(jb);
  }

  /* Jitter-buffer sizing (recv_policy.h); rtpbin passes the latency on to
   * its jitter buffers. */
  rx->packets_lost = lost;
  ml_recv_latency_input in = {.packets_lost = lost,
                              .jitter_ms = rx->jitter_ms,
                              .fps = rx->fps,
                              .rtx_rtt_ms = rx->rtx_rtt_ms};
  if (ml_recv_latency_update(&rx->latency, &in))
    g_object_set(rx->rtpbin, "latency", rx->latency.latency_ms, NULL);
  return G_SOURCE_CONTINUE;
}

/* Context thread: keyframe requests until the first frame (recv_policy.h). */
static gboolean receiver_first_frame_pli(gpointer data) {
  ml_media_receiver *rx = data;
  switch (ml_recv_first_frame_pli_step(atomic_load(&rx->first_frame_us) >= 0,
                                       ml_media_load(&rx->video_packets))) {
  case ML_RECV_FIRST_PLI_STOP:
    rx->pli_timer = NULL;
    return G_SOURCE_REMOVE; /* the source is unreffed by GLib after this */
  case ML_RECV_FIRST_PLI_SEND: receiver_send_pli(rx); break;
  case ML_RECV_FIRST_PLI_WAIT: break;
  }
  return G_SOURCE_CONTINUE;
}

/* Context thread: a PLI for the peer's video now. */
static void receiver_send_pli(ml_media_receiver *rx) {
  GstBuffer *buf = feedback_new(atomic_load(&rx->own_ssrc), ML_MEDIA_SSRC_VIDEO, true, 0);
  if (buf != NULL) {
    atomic_store(&rx->last_pli_us, g_get_monotonic_time());
    receiver_deliver(rx, ML_HANDOFF_RTCP, buf); /* counts it and calls on_rtcp */
    gst_buffer_unref(buf);
  }
}

static gboolean receiver_start_pli(gpointer data) {
  receiver_send_pli(data);
  return G_SOURCE_REMOVE;
}

void ml_media_receiver_video_stopped(ml_media_receiver *rx) {
  g_assert(rx != NULL);
  g_mutex_lock(&rx->q->lock);
  ml_freeze_restart(&rx->q->freeze, g_get_monotonic_time());
  g_mutex_unlock(&rx->q->lock);
}

void ml_media_receiver_request_keyframe(ml_media_receiver *rx) {
  g_assert(rx != NULL);
  receiver_send_pli(rx);
}

int ml_media_receiver_new(ml_media_receiver **out, GMainContext *ctx,
                          const ml_media_receiver_config *cfg) {
  g_assert(out != NULL && ctx != NULL && cfg != NULL);
  if (cfg->on_rtcp == NULL)
    return ML_ERR_INVALID;
  ml_gst_ensure_init();
  ml_media_receiver *rx = g_new0(ml_media_receiver, 1);
  int rc = ML_OK;
  rx->ctx = g_main_context_ref(ctx);
  rx->cfg = *cfg;
  ml_recv_latency_init(&rx->latency, cfg->latency_min_ms, cfg->latency_max_ms,
                       cfg->latency_start_ms);
  g_mutex_init(&rx->lock);
  ml_frame_slot_init(&rx->frames_slot);
  ml_recv_nack_bucket_init(&rx->nack_bucket, g_get_monotonic_time());
  rx->q = g_new0(struct recv_quality, 1);
  g_mutex_init(&rx->q->lock);
  ml_freeze_init(&rx->q->freeze);
  ml_conceal_init(&rx->q->conceal);
  for (unsigned i = 0; i < TS_RING; i++)
    rx->ts_ring[i].pts = GST_CLOCK_TIME_NONE;
  atomic_init(&rx->first_frame_us, -1);
  atomic_init(&rx->e2e_us, INT64_MIN);
  atomic_init(&rx->last_pli_us, 0);
  atomic_init(&rx->own_ssrc, 0);
  atomic_init(&rx->frame_width, 0);
  atomic_init(&rx->frame_height, 0);
  ml_delay_est_init(&rx->delay);
  ml_handoff_init(&rx->h, ctx, receiver_deliver, rx);

  rx->pipeline = gst_pipeline_new("ml-recv");
  GstBin *bin = GST_BIN(rx->pipeline);
  rx->rtpbin = ml_gst_make(bin, "rtpbin", "rtpbin");
  rx->rtp_in = ml_gst_make_appsrc(bin, "application/x-rtp");
  rx->rtcp_in = ml_gst_make_appsrc(bin, "application/x-rtcp");
  GstElement *rtcp_out =
      ml_gst_make_appsink(bin, &(GstAppSinkCallbacks){.new_sample = receiver_new_rtcp}, rx);
  if (!rx->rtpbin || !rx->rtp_in || !rx->rtcp_in || !rtcp_out) {
    rc = ML_ERR_UNSUPPORTED;
    goto out;
  }
  gst_util_set_object_arg(G_OBJECT(rx->rtpbin), "rtp-profile", "avpf");
  g_object_set(rx->rtpbin, "latency", rx->latency.latency_ms, "do-retransmission", TRUE, "do-lost",
               TRUE, NULL);
  g_signal_connect(rx->rtpbin, "request-pt-map", G_CALLBACK(ml_gst_on_request_pt_map), rx);
  g_signal_connect(rx->rtpbin, "request-aux-receiver", G_CALLBACK(on_request_aux_receiver), rx);
  g_signal_connect(rx->rtpbin, "pad-added", G_CALLBACK(on_pad_added), rx);
  g_signal_connect(rx->rtpbin, "new-jitterbuffer", G_CALLBACK(on_new_jitterbuffer), rx);
  if ((rc = ml_gst_link_pads(rx->rtp_in, "src", rx->rtpbin, "recv_rtp_sink_0")) != ML_OK ||
      (rc = ml_gst_link_pads(rx->rtcp_in, "src", rx->rtpbin, "recv_rtcp_sink_0")) != ML_OK ||
      (rc = ml_gst_link_pads(rx->rtpbin, "send_rtcp_src_0", rtcp_out, "sink")) != ML_OK)
    goto out;
  rx->session = ml_gst_rtpbin_session(rx->rtpbin);
  if (rx->session == NULL) {
    rc = ML_ERR_IO;
    goto out;
  }
  g_object_set(rx->session, "rtcp-min-interval", (guint64)GST_SECOND, NULL);
  guint own = 0;
  g_object_get(rx->session, "internal-ssrc", &own, NULL);
  atomic_store(&rx->own_ssrc, own);

  rx->bus.pipeline = rx->pipeline;
  rx->bus.on_error = cfg->on_error;
  rx->bus.user = cfg->user;
  rx->bus_source = ml_gst_bus_watch_attach(rx->pipeline, ctx, &rx->bus);
  rx->start_us = g_get_monotonic_time();
  rx->win_time_us = rx->start_us;
  if ((rc = ml_gst_start_pipeline(rx->pipeline)) != ML_OK)
    goto out;

  rx->stats_timer = g_timeout_source_new(STATS_PERIOD_MS);
  g_source_set_callback(rx->stats_timer, receiver_tick, rx, NULL);
  g_source_attach(rx->stats_timer, ctx);
  rx->pli_timer = g_timeout_source_new(FIRST_FRAME_PLI_PERIOD_MS);
  g_source_set_callback(rx->pli_timer, receiver_first_frame_pli, rx, NULL);
  g_source_attach(rx->pli_timer, ctx);
  g_source_unref(rx->pli_timer); /* the context holds it; cleared when it ends */
  /* The lesson: ask for a keyframe the moment the branch starts. */
  GSource *idle = g_idle_source_new();
  g_source_set_priority(idle, G_PRIORITY_HIGH);
  g_source_set_callback(idle, receiver_start_pli, rx, NULL);
  g_source_attach(idle, ctx);
  g_source_unref(idle);
  *out = rx;
  return ML_OK;
out:
  ml_media_receiver_free(rx);
  return rc;
}

/* Context thread: one accepted RTP packet's arrival feeds the delay-based
 * estimate (delay_est.h); when it is due, a REMB goes back to the sender
 * (the sender's rate controller takes it as a ceiling, ml/rate.h). Video of
 * the media SSRC only: RTX packets are late by design, audio is sparse. */
static void delay_feedback_on_rtp(ml_media_receiver *rx, const uint8_t *data, size_t len) {
  if (len < 12 || (data[1] & 0x7fu) != ML_MEDIA_PT_VP8)
    return;
  uint32_t ts =
      (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 | (uint32_t)data[6] << 8 | data[7];
  uint32_t ssrc =
      (uint32_t)data[8] << 24 | (uint32_t)data[9] << 16 | (uint32_t)data[10] << 8 | data[11];
  if (ssrc != ML_MEDIA_SSRC_VIDEO)
    return;
  int64_t now = g_get_monotonic_time();
  ml_delay_est_on_packet(&rx->delay, now, ts, (uint32_t)len);
  if (!ml_delay_est_feedback_due(&rx->delay, now))
    return;
  uint8_t remb[ML_PACKET_REMB_LEN];
  double kbps = ml_delay_est_kbps(&rx->delay, now);
  size_t n = ml_packet_remb_write(atomic_load(&rx->own_ssrc), ML_MEDIA_SSRC_VIDEO,
                                  (uint64_t)(kbps * 1000.0), remb, sizeof remb);
  ml_delay_est_feedback_sent(&rx->delay, now);
  if (n > 0)
    rx->cfg.on_rtcp(ML_INNER_RTCP, remb, n, rx->cfg.user);
}

int ml_media_receiver_push(ml_media_receiver *rx, ml_inner_type type, const uint8_t *data,
                           size_t len) {
  g_assert(rx != NULL && (data != NULL || len == 0));
  GstBuffer *buf = NULL;
  int rc = ml_media_packet_accept(type, data, len, &buf);
  if (rc == ML_ERR_PROTOCOL)
    ml_media_count(&rx->dropped_invalid, 1);
  if (rc != ML_OK)
    return rc;
  if (type == ML_INNER_RTP) {
    ml_media_count(&rx->rtp_packets, 1);
    ml_media_count(&rx->rtp_bytes, len);
    delay_feedback_on_rtp(rx, data, len);
  } else {
    ml_media_count(&rx->rtcp_in_count, 1);
  }
  gst_app_src_push_buffer(GST_APP_SRC(type == ML_INNER_RTP ? rx->rtp_in : rx->rtcp_in), buf);
  return ML_OK;
}

void ml_media_receiver_get_stats(const ml_media_receiver *rx, ml_media_receiver_stats *out) {
  g_assert(rx != NULL && out != NULL);
  memset(out, 0, sizeof(*out));
  out->video_frames_decoded = ml_media_load(&rx->frames);
  out->audio_ms_decoded = ml_media_load(&rx->audio_samples) * 1000u / ML_MEDIA_AUDIO_CLOCK_RATE;
  int64_t first = atomic_load(&rx->first_frame_us);
  out->first_frame_ms = first < 0 ? -1 : first / 1000;
  out->jitter_ms = rx->jitter_ms;
  out->packets_lost = rx->packets_lost;
  out->rtp_packets = ml_media_load(&rx->rtp_packets);
  out->rtp_bytes = ml_media_load(&rx->rtp_bytes);
  out->rtcp_packets_in = ml_media_load(&rx->rtcp_in_count);
  out->dropped_invalid = ml_media_load(&rx->dropped_invalid);
  out->pli_sent = ml_media_load(&rx->pli_sent);
  out->nack_sent = ml_media_load(&rx->nack_sent);
  out->nack_suppressed = ml_media_load(&rx->nack_suppressed);
  out->latency_ms = rx->latency.latency_ms;
  out->packets_late = rx->jb_late;
  out->rtx_requested = rx->jb_rtx_requests;
  out->rtx_recovered = rx->jb_rtx_recovered;
  out->bitrate_kbps = rx->bitrate_kbps;
  out->fps = rx->fps;
  int64_t e2e = atomic_load(&rx->e2e_us);
  out->e2e_latency_ms = e2e == INT64_MIN ? -1.0 : (double)e2e / 1000.0;
  out->frame_width = (unsigned)atomic_load(&rx->frame_width);
  out->frame_height = (unsigned)atomic_load(&rx->frame_height);
  int64_t now = g_get_monotonic_time();
  g_mutex_lock(&rx->q->lock);
  out->freeze_ms = (uint64_t)(ml_freeze_total_us(&rx->q->freeze, now) / 1000);
  out->freezes = rx->q->freeze.freezes;
  ml_conceal c = rx->q->conceal;
  g_mutex_unlock(&rx->q->lock);
  out->audio_expected_ms = ml_conceal_expected(&c) * 1000u / ML_MEDIA_AUDIO_CLOCK_RATE;
  out->audio_concealed_ms = c.concealed * 1000u / ML_MEDIA_AUDIO_CLOCK_RATE;
  out->audio_fec_ms = c.fec * 1000u / ML_MEDIA_AUDIO_CLOCK_RATE;
}

int ml_media_receiver_latest_frame(ml_media_receiver *rx, uint64_t after_seq,
                                   ml_media_frame **out) {
  g_assert(rx != NULL && out != NULL);
  return ml_frame_slot_get(&rx->frames_slot, after_seq, out);
}

void ml_media_receiver_free(ml_media_receiver *rx) {
  if (rx == NULL)
    return;
  if (rx->pipeline != NULL)
    gst_element_set_state(rx->pipeline, GST_STATE_NULL);
  ml_gst_source_detach(&rx->bus_source);
  ml_gst_source_detach(&rx->stats_timer);
  if (rx->pli_timer != NULL)
    g_source_destroy(rx->pli_timer); /* the context drops its reference */
  /* The start-up idle source may still be pending. */
  GSource *idle;
  while ((idle = g_main_context_find_source_by_user_data(rx->ctx, rx)) != NULL)
    g_source_destroy(idle);
  ml_handoff_clear(&rx->h);
  if (rx->session != NULL)
    g_object_unref(rx->session);
  if (rx->video_jb != NULL)
    gst_object_unref(rx->video_jb);
  if (rx->pipeline != NULL)
    gst_object_unref(rx->pipeline);
  ml_frame_slot_clear(&rx->frames_slot);
  g_mutex_clear(&rx->lock);
  if (rx->q != NULL) {
    g_mutex_clear(&rx->q->lock);
    g_free(rx->q);
  }
  g_main_context_unref(rx->ctx);
  g_free(rx);
}
