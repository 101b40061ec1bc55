/* mentorlink — the media sender (see ml/media.h for the contract).
 *
 * src -> convert/scale -> I420 caps -> tee -> valve -> queue -> vp8enc -> rtpvp8pay -+
 *                                     tee -> queue -> appsink (self view slot)      |
 *   (small layer)                     tee -> valve -> queue -> scale -> caps -> vp8enc -> pay -+
 * src -> convert/resample -> 48 kHz mono -> volume -> opusenc -> rtpopuspay ---------+
 * -> rtpfunnel -> rtpbin session 0 [aux: rtprtxsend] -> appsink (RTP)
 * rtpbin send_rtcp_src_0 -> appsink (RTCP SR); appsrc (peer RTCP) -> recv_rtcp_sink_0
 *
 * Peer RTCP passes the gate (media_internal.h) before GStreamer. Streaming
 * threads reach the engine's context only through the hand-off queue
 * (handoff.h) and the self-view slot (frame_slot.h).
 */
#include "ml/devices.h"
#include "ml/media.h"

#include "ml/rtcp_origin.h"
#include "frame_slot.h"
#include "gst_util.h"
#include "handoff.h"
#include "media_internal.h"

#include <stdatomic.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

/* One encoded layer: valve -> queue -> [scale -> caps] -> vp8enc -> rtpvp8pay. */
typedef struct send_layer {
  GstElement *valve, *enc; /* NULL without this layer */
  GstElement *caps;        /* the small layer's size; NULL for the large one */
  unsigned kbps, width, height;
  bool on;
  atomic_uint_fast64_t frames;
} send_layer;

struct ml_media_sender {
  GMainContext *ctx;
  ml_media_sender_config cfg;
  ml_gst_bus_owner bus;
  GstElement *pipeline, *rtpbin, *rtcp_in;
  GstElement *vsrc, *vcaps;  /* NULL without video */
  send_layer layer[2];       /* by ml_media_layer */
  GstElement *volume, *aenc; /* NULL without audio */
  GstElement *rtxsend;       /* owned by rtpbin; a ref kept for stats */
  GSource *bus_source;
  ml_handoff h;
  atomic_uint_fast64_t keyframes, audio_packets, rtp_packets, rtp_bytes, rtcp_out, rtcp_in_count,
      pli, fir, nack, key_requests;
  atomic_int_fast64_t encode_delay_us; /* -1 before the first frame */
  ml_frame_slot preview;               /* the self view: captured frames, closed while camera off */
  bool paused, muted, camera_on, idle;
};

static void sender_deliver(void *owner, ml_handoff_kind kind, GstBuffer *buf) {
  ml_media_sender *tx = owner;
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ))
    return;
  if (map.size <= ML_MEDIA_MAX_PACKET) {
    if (kind == ML_HANDOFF_RTP) {
      ml_media_count(&tx->rtp_packets, 1);
      ml_media_count(&tx->rtp_bytes, map.size);
    } else {
      ml_media_count(&tx->rtcp_out, 1);
    }
    tx->cfg.on_packet(kind == ML_HANDOFF_RTP ? ML_INNER_RTP : ML_INNER_RTCP, map.data, map.size,
                      tx->cfg.user);
  } else {
    g_warning("media: dropping a %zu-byte packet above the datagram payload", map.size);
  }
  gst_buffer_unmap(buf, &map);
}

static GstFlowReturn sender_new_rtp(GstAppSink *sink, gpointer data) {
  return ml_handoff_push_sample(&((ml_media_sender *)data)->h, sink, ML_HANDOFF_RTP);
}

static GstFlowReturn sender_new_rtcp(GstAppSink *sink, gpointer data) {
  return ml_handoff_push_sample(&((ml_media_sender *)data)->h, sink, ML_HANDOFF_RTCP);
}

/* Streaming thread (the preview queue's): the captured frame becomes the self view. */
static GstFlowReturn sender_new_preview(GstAppSink *sink, gpointer data) {
  ml_media_sender *tx = data;
  GstSample *s = gst_app_sink_pull_sample(sink);
  if (s == NULL)
    return GST_FLOW_EOS;
  ml_media_frame *f = ml_media_frame_from_sample(s);
  gst_sample_unref(s); /* the mapped frame holds the buffer */
  if (f != NULL) {
    f->info.capture_time_us = f->info.decoded_time_us = g_get_real_time();
    ml_frame_slot_put(&tx->preview, f);
  }
  return GST_FLOW_OK;
}

static GstPadProbeReturn on_small_frame(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  (void)pi;
  ml_media_count(&((ml_media_sender *)data)->layer[ML_MEDIA_LAYER_SMALL].frames, 1);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_encoded_frame(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  ml_media_sender *tx = data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(pi);
  if (b == NULL)
    return GST_PAD_PROBE_OK;
  ml_media_count(&tx->layer[ML_MEDIA_LAYER_LARGE].frames, 1);
  if (!GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT))
    ml_media_count(&tx->keyframes, 1);
  /* Capture to encoded: a live source stamps frames with the running time
   * at capture. Smoothed like RFC 3550 jitter (1/16). */
  GstClock *clock = gst_element_get_clock(tx->pipeline);
  if (clock != NULL && GST_BUFFER_PTS_IS_VALID(b)) {
    GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(tx->pipeline);
    int64_t d = ((int64_t)now - (int64_t)GST_BUFFER_PTS(b)) / 1000;
    int64_t avg = atomic_load(&tx->encode_delay_us);
    atomic_store(&tx->encode_delay_us, avg < 0 ? d : avg + (d - avg) / 16);
  }
  if (clock != NULL)
    gst_object_unref(clock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_encoder_upstream(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  ml_media_sender *tx = data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(pi);
  if (ev != NULL && gst_video_event_is_force_key_unit(ev))
    ml_media_count(&tx->key_requests, 1);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_audio_packet(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  (void)pi;
  ml_media_count(&((ml_media_sender *)data)->audio_packets, 1);
  return GST_PAD_PROBE_OK;
}

/* rtpbin "request-aux-sender": RFC 4588 retransmission of VP8 only (both layers). */
static GstElement *on_request_aux_sender(GstElement *rtpbin, guint session, gpointer data) {
  (void)rtpbin;
  ml_media_sender *tx = data;
  GstElement *rtx = gst_element_factory_make("rtprtxsend", NULL);
  if (rtx == NULL)
    return NULL;
  GstStructure *pt_map = gst_structure_new("application/x-rtp-pt-map", G_STRINGIFY(ML_MEDIA_PT_VP8),
                                           G_TYPE_UINT, (guint)ML_MEDIA_PT_RTX, NULL);
  char large_key[16], small_key[16];
  g_snprintf(large_key, sizeof large_key, "%u", ML_MEDIA_SSRC_VIDEO);
  g_snprintf(small_key, sizeof small_key, "%u", ML_MEDIA_SSRC_SMALL);
  GstStructure *ssrc_map = gst_structure_new("application/x-rtp-ssrc-map", large_key, G_TYPE_UINT,
                                             (guint)ML_MEDIA_SSRC_VIDEO_RTX, small_key, G_TYPE_UINT,
                                             (guint)ML_MEDIA_SSRC_SMALL_RTX, NULL);
  /* ~1 s of history at 30 fps and a few packets per frame. */
  g_object_set(rtx, "payload-type-map", pt_map, "ssrc-map", ssrc_map, "max-size-packets", 400u,
               "max-size-time", 1000u, NULL);
  gst_structure_free(pt_map);
  gst_structure_free(ssrc_map);

  tx->rtxsend = gst_object_ref(rtx);
  return ml_gst_aux_bin(rtx, session); /* floating: rtpbin adds it */
}

/* VP8 encoder threads, chosen as libwebrtc chooses them: more than one only
 * for frames above 640x480 with cores to spare. libvpx's row threads wait
 * for each other in spin loops (pause; load; compare), so on a machine with
 * no spare core a waiting thread burns the CPU the other one needs: two
 * threads at 640x360, both ends of a call on 2 vCPUs, took 70-93 % of a
 * core per process (85 % of it in those two loops, by perf) and frames then
 * waited 45-103 ms from capture to decode. */
static int vp8_encoder_threads(unsigned width, unsigned height) {
  unsigned cores = g_get_num_processors();
  unsigned long pixels = (unsigned long)width * height;
  if (pixels >= 1920ul * 1080 && cores > 8)
    return 8;
  if (pixels > 1280ul * 960 && cores >= 6)
    return 3;
  if (pixels > 640ul * 480 && cores >= 3)
    return 2;
  return 1;
}

/* The source element of the device want names (ml/devices.h), named name,
 * in bin; NULL if there is no such device. */
static GstElement *source_of(GstBin *bin, ml_device_kind kind, const char *want, const char *name) {
  GstElement *src = ml_devices_make_source(kind, want);
  if (src) {
    gst_object_set_name(GST_OBJECT(src), name);
    gst_bin_add(bin, src);
  }
  return src;
}

/* Real-time VP8 as WebRTC engines configure it: no lag, CBR, short GOP;
 * but up to VP8's coarsest quantizer (63, not libwebrtc's 56): on a thin
 * link a coarser picture rather than dropped frames, as the ladder chose
 * the frame rate (at 56 the test pattern at 180p and 100 kbps keeps only
 * 2/3 of 22 fps). */
static void configure_vp8(GstElement *enc, unsigned width, unsigned height, unsigned kbps,
                          unsigned keyframe_max_frames) {
  g_object_set(enc, "deadline", (gint64)1, "lag-in-frames", 0, "cpu-used", 8, "threads",
               vp8_encoder_threads(width, height), "keyframe-max-dist", (int)keyframe_max_frames,
               "target-bitrate", (int)(kbps * 1000u), "buffer-size", 1000, "buffer-initial-size",
               500, "buffer-optimal-size", 600, "min-quantizer", 4, "max-quantizer", 63, NULL);
  gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
  gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
  /* Drop frames rather than overshoot when the content is too costly for
   * the target (libwebrtc's VP8 setting): without it, noisy content (the
   * test pattern's noise square, a dark camera) holds ~750 kbps whatever
   * target the rate controller sets. */
  g_object_set(enc, "dropframe-threshold", 30, NULL);
  /* A keyframe capped at 9 x an average frame (libwebrtc's cap: on a thin
   * link it must not drain the buffer and cost the frames after it);
   * overshoot held to 15 %. */
  g_object_set(enc, "max-intra-bitrate", 900, "overshoot", 15, "undershoot", 100, NULL);
}

/* Never let frames pile up ahead of an encoder or the self view: newest
 * wins, and each branch has its own thread, so no branch holds another back. */
static void make_leaky(GstElement *queue) {
  g_object_set(queue, "max-size-buffers", 1u, "max-size-bytes", 0u, "max-size-time", (guint64)0,
               NULL);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
}

/* tee -> valve -> queue -> [scale -> caps] -> vp8enc -> rtpvp8pay -> funnel, for layer l. */
static int build_layer(ml_media_sender *tx, GstBin *bin, GstElement *tee, GstElement *funnel,
                       ml_media_layer l, guint32 ts_offset) {
  const ml_media_sender_config *c = &tx->cfg;
  send_layer *L = &tx->layer[l];
  bool small = l == ML_MEDIA_LAYER_SMALL;
  GstElement *valve = ml_gst_make(bin, "valve", NULL);
  GstElement *queue = ml_gst_make(bin, "queue", NULL);
  GstElement *scale = small ? ml_gst_make(bin, "videoscale", NULL) : NULL;
  GstElement *caps =
      small ? ml_gst_make_capsfilter(
                  bin, gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width",
                                           G_TYPE_INT, (int)L->width, "height", G_TYPE_INT,
                                           (int)L->height, "pixel-aspect-ratio", GST_TYPE_FRACTION,
                                           1, 1, NULL))
            : NULL;
  GstElement *enc = ml_gst_make(bin, "vp8enc", small ? "venc_small" : "venc");
  GstElement *pay = ml_gst_make(bin, "rtpvp8pay", NULL);
  if (!valve || !queue || !enc || !pay || (small && (!scale || !caps)))
    return ML_ERR_UNSUPPORTED;
  make_leaky(queue);
  configure_vp8(enc, L->width, L->height, L->kbps, c->keyframe_max_frames);
  /* The same RTP time for the same frame in both layers: one SR mapping. */
  g_object_set(pay, "mtu", (guint)ML_MEDIA_RTP_MTU, "pt", (guint)ML_MEDIA_PT_VP8, "ssrc",
               (guint)(small ? ML_MEDIA_SSRC_SMALL : ML_MEDIA_SSRC_VIDEO), "timestamp-offset",
               ts_offset, NULL);
  gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
  g_object_set(valve, "drop", !L->on, NULL);
  if (ml_gst_link_pads(tee, "src_%u", valve, "sink") != ML_OK || !gst_element_link(valve, queue) ||
      (small ? !gst_element_link_many(queue, scale, caps, enc, NULL)
             : !gst_element_link(queue, enc)) ||
      !gst_element_link(enc, pay) || ml_gst_link_pads(pay, "src", funnel, "sink_%u") != ML_OK)
    return ML_ERR_IO;
  GstPad *encsrc = gst_element_get_static_pad(enc, "src");
  gst_pad_add_probe(encsrc, GST_PAD_PROBE_TYPE_BUFFER, small ? on_small_frame : on_encoded_frame,
                    tx, NULL);
  gst_pad_add_probe(encsrc, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_encoder_upstream, tx, NULL);
  gst_object_unref(encsrc);
  L->valve = valve;
  L->enc = enc;
  L->caps = caps;
  return ML_OK;
}

static int build_video_send(ml_media_sender *tx, GstBin *bin, GstElement *funnel,
                            const char *device) {
  const ml_media_sender_config *c = &tx->cfg;
  GstElement *src;
  if (c->video == ML_MEDIA_VIDEO_TEST) {
    src = ml_gst_make(bin, "videotestsrc", "vsrc");
    if (src == NULL)
      return ML_ERR_UNSUPPORTED;
    g_object_set(src, "is-live", TRUE, NULL);
    gst_util_set_object_arg(G_OBJECT(src), "pattern", "smpte");
  } else if (device != NULL && device[0] != '/') { /* a name: the device monitor's */
    if ((src = source_of(bin, ML_DEVICE_CAMERA, device, "vsrc")) == NULL)
      return ML_ERR_NOT_FOUND;
  } else { /* the default camera, or a device node (fails at start if absent) */
    src = ml_gst_make(bin, "v4l2src", "vsrc");
    if (src == NULL)
      return ML_ERR_UNSUPPORTED;
    if (device != NULL)
      g_object_set(src, "device", device, NULL);
  }
  GstElement *conv = ml_gst_make(bin, "videoconvert", NULL);
  GstElement *scale = ml_gst_make(bin, "videoscale", NULL);
  GstElement *rate = ml_gst_make(bin, "videorate", NULL);
  GstElement *caps =
      ml_gst_make_capsfilter(bin, ml_gst_caps_video_i420(c->width, c->height, c->fps));
  GstElement *tee = ml_gst_make(bin, "tee", NULL);
  GstElement *pqueue = ml_gst_make(bin, "queue", NULL);
  GstElement *preview =
      ml_gst_make_appsink(bin, &(GstAppSinkCallbacks){.new_sample = sender_new_preview}, tx);
  if (!conv || !scale || !rate || !caps || !tee || !pqueue || !preview)
    return ML_ERR_UNSUPPORTED;
  g_object_set(rate, "drop-only", TRUE, NULL);
  make_leaky(pqueue);
  g_object_set(preview, "max-buffers", 1u, "drop", TRUE, NULL);
  if (!gst_element_link_many(src, conv, scale, rate, caps, tee, NULL) ||
      ml_gst_link_pads(tee, "src_%u", pqueue, "sink") != ML_OK ||
      !gst_element_link(pqueue, preview))
    return ML_ERR_IO;
  guint32 ts_offset = g_random_int();
  int rc = build_layer(tx, bin, tee, funnel, ML_MEDIA_LAYER_LARGE, ts_offset);
  if (rc == ML_OK && c->small_layer)
    rc = build_layer(tx, bin, tee, funnel, ML_MEDIA_LAYER_SMALL, ts_offset);
  if (rc != ML_OK)
    return rc;
  tx->vsrc = src;
  tx->vcaps = caps;
  return ML_OK;
}

static int build_audio_send(ml_media_sender *tx, GstBin *bin, GstElement *funnel,
                            const char *device) {
  const ml_media_sender_config *c = &tx->cfg;
  GstElement *src;
  if (c->audio == ML_MEDIA_AUDIO_TEST) {
    src = ml_gst_make(bin, "audiotestsrc", "asrc");
    if (src == NULL)
      return ML_ERR_UNSUPPORTED;
    g_object_set(src, "is-live", TRUE, "freq", c->tone_hz, "volume", 0.5, "samplesperbuffer", 960,
                 NULL);
  } else if (device != NULL) {
    if ((src = source_of(bin, ML_DEVICE_MICROPHONE, device, "asrc")) == NULL)
      return ML_ERR_NOT_FOUND;
  } else {
    src = ml_gst_make(bin, "autoaudiosrc", "asrc");
    if (src == NULL)
      return ML_ERR_UNSUPPORTED;
  }
  GstElement *conv = ml_gst_make(bin, "audioconvert", NULL);
  GstElement *res = ml_gst_make(bin, "audioresample", NULL);
  GstElement *caps = ml_gst_make_capsfilter(bin, ml_gst_caps_audio_s16_mono());
  GstElement *vol = ml_gst_make(bin, "volume", NULL);
  GstElement *enc = ml_gst_make(bin, "opusenc", "aenc");
  GstElement *pay = ml_gst_make(bin, "rtpopuspay", NULL);
  if (!conv || !res || !caps || !vol || !enc || !pay)
    return ML_ERR_UNSUPPORTED;
  /* Voice, in-band FEC (engages from ~12-16 kbps and only with expected loss
   * set), DTX for silence. */
  g_object_set(enc, "bitrate", (int)(c->audio_kbps * 1000u), "inband-fec", TRUE, "dtx", TRUE,
               "packet-loss-percentage", (int)c->audio_loss_percent, NULL);
  gst_util_set_object_arg(G_OBJECT(enc), "audio-type", "voice");
  g_object_set(pay, "mtu", (guint)ML_MEDIA_RTP_MTU, "pt", (guint)ML_MEDIA_PT_OPUS, "ssrc",
               (guint)ML_MEDIA_SSRC_AUDIO, NULL);
  if (!gst_element_link_many(src, conv, res, caps, vol, enc, pay, NULL) ||
      ml_gst_link_pads(pay, "src", funnel, "sink_%u") != ML_OK)
    return ML_ERR_IO;
  GstPad *paysrc = gst_element_get_static_pad(pay, "src");
  gst_pad_add_probe(paysrc, GST_PAD_PROBE_TYPE_BUFFER, on_audio_packet, tx, NULL);
  gst_object_unref(paysrc);
  tx->volume = vol;
  tx->aenc = enc;
  return ML_OK;
}

static void sender_config_defaults(ml_media_sender_config *c) {
  if (c->width == 0 || c->height == 0) {
    c->width = 640;
    c->height = 360;
  }
  if (c->fps == 0)
    c->fps = 30;
  c->video_kbps = c->video_kbps == 0 ? 800 : ml_media_clampu(c->video_kbps, 30, 4000);
  c->audio_kbps = c->audio_kbps == 0 ? 32 : ml_media_clampu(c->audio_kbps, 6, 128);
  c->audio_loss_percent = ml_media_clampu(c->audio_loss_percent, 0, 100);
  if (c->keyframe_max_frames == 0)
    c->keyframe_max_frames = 60;
  if (c->tone_hz <= 0)
    c->tone_hz = 440.0;
}

int ml_media_sender_new(ml_media_sender **out, GMainContext *ctx,
                        const ml_media_sender_config *cfg) {
  g_assert(out != NULL && ctx != NULL && cfg != NULL);
  if (cfg->on_packet == NULL || cfg->width > 3840 || cfg->height > 2160 || cfg->fps > 120 ||
      (cfg->video == ML_MEDIA_VIDEO_NONE && cfg->audio == ML_MEDIA_AUDIO_NONE))
    return ML_ERR_INVALID;
  ml_gst_ensure_init();

  ml_media_sender *tx = g_new0(ml_media_sender, 1);
  int rc = ML_OK;
  tx->ctx = g_main_context_ref(ctx);
  tx->cfg = *cfg;
  tx->cfg.camera_device = tx->cfg.microphone_device = NULL; /* borrowed: used while building */
  ml_frame_slot_init(&tx->preview);
  sender_config_defaults(&tx->cfg);
  const ml_media_sender_config c = tx->cfg;
  tx->layer[ML_MEDIA_LAYER_LARGE] =
      (send_layer){.kbps = c.video_kbps, .width = c.width, .height = c.height, .on = true};
  if (c.small_layer) /* half the size, even, at least 32x18 */
    tx->layer[ML_MEDIA_LAYER_SMALL] = (send_layer){
        .kbps = ML_MEDIA_SMALL_MAX_KBPS,
        .width = MAX(32u, (c.width / 2) & ~1u),
        .height = MAX(18u, (c.height / 2) & ~1u),
    };
  tx->camera_on = c.video != ML_MEDIA_VIDEO_NONE;
  atomic_init(&tx->encode_delay_us, -1);
  ml_handoff_init(&tx->h, ctx, sender_deliver, tx);

  tx->pipeline = gst_pipeline_new("ml-send");
  GstBin *bin = GST_BIN(tx->pipeline);
  tx->rtpbin = ml_gst_make(bin, "rtpbin", "rtpbin");
  GstElement *funnel = ml_gst_make(bin, "rtpfunnel", NULL);
  GstElement *rtp_out =
      ml_gst_make_appsink(bin, &(GstAppSinkCallbacks){.new_sample = sender_new_rtp}, tx);
  GstElement *rtcp_out =
      ml_gst_make_appsink(bin, &(GstAppSinkCallbacks){.new_sample = sender_new_rtcp}, tx);
  tx->rtcp_in = ml_gst_make_appsrc(bin, "application/x-rtcp");
  if (!tx->rtpbin || !funnel || !rtp_out || !rtcp_out || !tx->rtcp_in) {
    rc = ML_ERR_UNSUPPORTED;
    goto out;
  }
  gst_util_set_object_arg(G_OBJECT(tx->rtpbin), "rtp-profile", "avpf");
  /* SR maps RTP time to the capture instant: receivers derive capture time. */
  g_object_set(tx->rtpbin, "rtcp-sync-send-time", FALSE, NULL);
  g_signal_connect(tx->rtpbin, "request-aux-sender", G_CALLBACK(on_request_aux_sender), tx);
  /* The session needs clock rates for its SR (rtpfunnel's caps carry none). */
  g_signal_connect(tx->rtpbin, "request-pt-map", G_CALLBACK(ml_gst_on_request_pt_map), tx);

  if (c.video != ML_MEDIA_VIDEO_NONE &&
      (rc = build_video_send(tx, bin, funnel, cfg->camera_device)) != ML_OK)
    goto out;
  if (c.audio != ML_MEDIA_AUDIO_NONE &&
      (rc = build_audio_send(tx, bin, funnel, cfg->microphone_device)) != ML_OK)
    goto out;
  if ((rc = ml_gst_link_pads(funnel, "src", tx->rtpbin, "send_rtp_sink_0")) != ML_OK ||
      (rc = ml_gst_link_pads(tx->rtpbin, "send_rtp_src_0", rtp_out, "sink")) != ML_OK ||
      (rc = ml_gst_link_pads(tx->rtpbin, "send_rtcp_src_0", rtcp_out, "sink")) != ML_OK ||
      (rc = ml_gst_link_pads(tx->rtcp_in, "src", tx->rtpbin, "recv_rtcp_sink_0")) != ML_OK)
    goto out;
  GObject *session = ml_gst_rtpbin_session(tx->rtpbin);
  if (session != NULL) {
    /* Reports every second (RFC 3550's 5 s is too slow to steer a rate). */
    g_object_set(session, "rtcp-min-interval", (guint64)GST_SECOND, NULL);
    g_object_unref(session);
  }

  tx->bus.pipeline = tx->pipeline;
  tx->bus.on_error = c.on_error;
  tx->bus.user = c.user;
  tx->bus_source = ml_gst_bus_watch_attach(tx->pipeline, ctx, &tx->bus);
  if ((rc = ml_gst_start_pipeline(tx->pipeline)) != ML_OK)
    goto out;
  *out = tx;
  return ML_OK;
out:
  ml_media_sender_free(tx);
  return rc;
}

int ml_media_sender_push_rtcp(ml_media_sender *tx, const uint8_t *data, size_t len,
                              ml_media_rtcp_info *info) {
  g_assert(tx != NULL && (data != NULL || len == 0));
  if (len > ML_MEDIA_MAX_PACKET)
    return ML_ERR_TOO_BIG;
  /* A packet under one of our own SSRCs is the peer's sender talking about
   * its streams: never for this session (ml/rtcp_origin.h). */
  if (!ml_media_rtcp_valid(data, len) || ml_rtcp_from_peer_sender(data, len))
    return ML_ERR_PROTOCOL;
  GstBuffer *buf = gst_buffer_new_memdup(data, len);
  ml_media_rtcp_info local;
  ml_media_rtcp_parse(data, len, &local);
  ml_media_count(&tx->rtcp_in_count, 1);
  ml_media_count(&tx->pli, local.pli);
  ml_media_count(&tx->fir, local.fir);
  ml_media_count(&tx->nack, local.nack);
  if (info != NULL)
    *info = local;
  /* rtpbin's session turns PLI/FIR into a force-key-unit event to vp8enc and
   * NACK into RTX (on_request_aux_sender). A lone REMB is for the rate
   * controller only (reduced-size RTCP, which the session need not see). */
  if (local.remb_kbps >= 0 && !local.have_report && local.pli + local.fir + local.nack == 0)
    gst_buffer_unref(buf);
  else
    gst_app_src_push_buffer(GST_APP_SRC(tx->rtcp_in), buf);
  return ML_OK;
}

void ml_media_sender_request_layer_keyframe(ml_media_sender *tx, ml_media_layer layer) {
  g_assert(tx != NULL && (layer == ML_MEDIA_LAYER_SMALL || layer == ML_MEDIA_LAYER_LARGE));
  if (tx->layer[layer].enc == NULL)
    return;
  GstPad *pad = gst_element_get_static_pad(tx->layer[layer].enc, "src");
  gst_pad_send_event(pad,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref(pad);
}

void ml_media_sender_request_keyframe(ml_media_sender *tx) {
  ml_media_sender_request_layer_keyframe(tx, ML_MEDIA_LAYER_LARGE);
  ml_media_sender_request_layer_keyframe(tx, ML_MEDIA_LAYER_SMALL);
}

static void set_layer_kbps(send_layer *L, unsigned kbps) {
  L->kbps = kbps;
  if (L->enc != NULL)
    g_object_set(L->enc, "target-bitrate", (int)(kbps * 1000u), NULL);
}

void ml_media_sender_set_video_kbps(ml_media_sender *tx, unsigned kbps) {
  g_assert(tx != NULL);
  set_layer_kbps(&tx->layer[ML_MEDIA_LAYER_LARGE], ml_media_clampu(kbps, 30, 4000));
}

void ml_media_sender_set_small_kbps(ml_media_sender *tx, unsigned kbps) {
  g_assert(tx != NULL);
  set_layer_kbps(&tx->layer[ML_MEDIA_LAYER_SMALL],
                 ml_media_clampu(kbps, 30, ML_MEDIA_SMALL_MAX_KBPS));
}

int ml_media_sender_set_video_format(ml_media_sender *tx, unsigned width, unsigned height,
                                     unsigned fps) {
  g_assert(tx != NULL);
  if (width == 0 || height == 0 || fps == 0 || width > 3840 || height > 2160 || fps > 120 ||
      (width | height) & 1u)
    return ML_ERR_INVALID;
  if (tx->vcaps == NULL)
    return ML_ERR_STATE;
  /* The capsfilter's new caps make videoscale/videorate renegotiate; vp8enc
   * restarts on the new format with a keyframe, and receivers' decoders
   * follow it (frames carry their own size). */
  g_object_set(tx->layer[ML_MEDIA_LAYER_LARGE].enc, "threads", vp8_encoder_threads(width, height),
               NULL); /* at the restart */
  GstCaps *caps = ml_gst_caps_video_i420(width, height, fps);
  g_object_set(tx->vcaps, "caps", caps, NULL);
  gst_caps_unref(caps);
  tx->cfg.width = tx->layer[ML_MEDIA_LAYER_LARGE].width = width;
  tx->cfg.height = tx->layer[ML_MEDIA_LAYER_LARGE].height = height;
  tx->cfg.fps = fps;
  return ML_OK;
}

void ml_media_sender_set_audio_kbps(ml_media_sender *tx, unsigned kbps) {
  g_assert(tx != NULL);
  if (tx->aenc != NULL)
    g_object_set(tx->aenc, "bitrate", (int)(ml_media_clampu(kbps, 6, 128) * 1000u), NULL);
}

void ml_media_sender_set_audio_loss_percent(ml_media_sender *tx, unsigned percent) {
  g_assert(tx != NULL);
  if (tx->aenc != NULL)
    g_object_set(tx->aenc, "packet-loss-percentage", (int)ml_media_clampu(percent, 0, 100), NULL);
}

int ml_media_sender_set_audio_frame_ms(ml_media_sender *tx, unsigned ms) {
  g_assert(tx != NULL);
  if (ms != 10 && ms != 20 && ms != 40 && ms != 60)
    return ML_ERR_INVALID;
  if (tx->aenc == NULL)
    return ML_ERR_STATE;
  char v[4];
  g_snprintf(v, sizeof v, "%u", ms);
  gst_util_set_object_arg(G_OBJECT(tx->aenc), "frame-size", v);
  return ML_OK;
}

static void video_flow(ml_media_sender *tx) {
  for (ml_media_layer l = ML_MEDIA_LAYER_SMALL; l <= ML_MEDIA_LAYER_LARGE; l++) {
    send_layer *L = &tx->layer[l];
    if (L->valve == NULL)
      continue;
    /* The rate controller's pause is the large layer's (the caller turns
     * the small one off for its own). */
    bool drop = !L->on || !tx->camera_on || tx->idle || (l == ML_MEDIA_LAYER_LARGE && tx->paused);
    gboolean was;
    g_object_get(L->valve, "drop", &was, NULL);
    g_object_set(L->valve, "drop", drop, NULL);
    if (was && !drop)
      ml_media_sender_request_layer_keyframe(tx, l); /* receivers need one to resume */
  }
}

void ml_media_sender_set_layer_on(ml_media_sender *tx, ml_media_layer layer, bool on) {
  g_assert(tx != NULL && (layer == ML_MEDIA_LAYER_SMALL || layer == ML_MEDIA_LAYER_LARGE));
  if (tx->layer[layer].on == on)
    return;
  tx->layer[layer].on = on;
  video_flow(tx);
}

void ml_media_sender_set_video_paused(ml_media_sender *tx, bool paused) {
  g_assert(tx != NULL);
  tx->paused = paused;
  video_flow(tx);
}

void ml_media_sender_set_idle(ml_media_sender *tx, bool idle) {
  g_assert(tx != NULL);
  tx->idle = idle;
  video_flow(tx);
}

void ml_media_sender_set_audio_muted(ml_media_sender *tx, bool muted) {
  g_assert(tx != NULL);
  tx->muted = muted;
  /* Silence, not a gap: Opus DTX makes it nearly free and timing stays intact. */
  if (tx->volume != NULL)
    g_object_set(tx->volume, "mute", muted, NULL);
}

void ml_media_sender_set_camera_on(ml_media_sender *tx, bool on) {
  g_assert(tx != NULL);
  if (tx->vsrc == NULL || tx->camera_on == on)
    return;
  tx->camera_on = on;
  if (!on) {
    video_flow(tx);
    ml_frame_slot_set_closed(&tx->preview, true); /* no frozen self view */
    /* Release the device (camera light off) without touching the rest. */
    gst_element_set_locked_state(tx->vsrc, TRUE);
    gst_element_set_state(tx->vsrc, GST_STATE_NULL);
  } else {
    gst_element_set_locked_state(tx->vsrc, FALSE);
    ml_frame_slot_set_closed(&tx->preview, false);
    gst_element_sync_state_with_parent(tx->vsrc);
    video_flow(tx);
  }
}

void ml_media_sender_get_stats(const ml_media_sender *tx, ml_media_sender_stats *out) {
  g_assert(tx != NULL && out != NULL);
  memset(out, 0, sizeof(*out));
  const send_layer *large = &tx->layer[ML_MEDIA_LAYER_LARGE];
  const send_layer *small = &tx->layer[ML_MEDIA_LAYER_SMALL];
  out->video_frames_encoded = ml_media_load(&large->frames);
  out->small_frames_encoded = ml_media_load(&small->frames);
  if (small->enc != NULL) {
    out->small_kbps = small->kbps;
    out->small_width = small->width;
    out->small_height = small->height;
  }
  out->large_on = large->on;
  out->small_on = small->on;
  out->video_keyframes = ml_media_load(&tx->keyframes);
  out->audio_packets = ml_media_load(&tx->audio_packets);
  out->rtp_packets = ml_media_load(&tx->rtp_packets);
  out->rtp_bytes = ml_media_load(&tx->rtp_bytes);
  out->rtcp_packets_out = ml_media_load(&tx->rtcp_out);
  out->rtcp_packets_in = ml_media_load(&tx->rtcp_in_count);
  out->pli_received = ml_media_load(&tx->pli);
  out->fir_received = ml_media_load(&tx->fir);
  out->nack_received = ml_media_load(&tx->nack);
  out->keyframe_requests = ml_media_load(&tx->key_requests);
  out->dropped_handoff = ml_media_load(&tx->h.dropped);
  if (tx->rtxsend != NULL) {
    guint n = 0;
    g_object_get(tx->rtxsend, "num-rtx-packets", &n, NULL);
    out->rtx_packets = n;
  }
  int64_t d = atomic_load(&tx->encode_delay_us);
  out->capture_to_encoded_ms = d < 0 ? -1.0 : (double)d / 1000.0;
  out->video_kbps = large->kbps;
  out->width = tx->cfg.width;
  out->height = tx->cfg.height;
  out->fps = tx->cfg.fps;
  out->video_paused = tx->paused;
  out->audio_muted = tx->muted;
  out->camera_on = tx->camera_on;
  out->idle = tx->idle;
}

int ml_media_sender_latest_frame(ml_media_sender *tx, uint64_t after_seq, ml_media_frame **out) {
  g_assert(tx != NULL && out != NULL);
  return ml_frame_slot_get(&tx->preview, after_seq, out);
}

void ml_media_sender_free(ml_media_sender *tx) {
  if (tx == NULL)
    return;
  if (tx->pipeline != NULL) {
    if (tx->vsrc != NULL)
      gst_element_set_locked_state(tx->vsrc, FALSE);
    gst_element_set_state(tx->pipeline, GST_STATE_NULL); /* joins streaming threads */
  }
  ml_gst_source_detach(&tx->bus_source);
  ml_handoff_clear(&tx->h);
  ml_frame_slot_clear(&tx->preview);
  if (tx->rtxsend != NULL)
    gst_object_unref(tx->rtxsend);
  if (tx->pipeline != NULL)
    gst_object_unref(tx->pipeline);
  g_main_context_unref(tx->ctx);
  g_free(tx);
}
