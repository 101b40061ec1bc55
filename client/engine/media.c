/* mentorlink — media pipelines (see ml/media.h for the contract).
 *
 * Send:  src -> convert/scale -> I420 caps -> tee -> valve -> queue -> vp8enc -> rtpvp8pay -+
 *                                            tee -> queue -> appsink (self view slot)      |
 *        src -> convert/resample -> 48 kHz mono -> volume -> opusenc -> rtpopuspay ---------+
 *        -> rtpfunnel -> rtpbin session 0 [aux: rtprtxsend] -> appsink (RTP)
 *        rtpbin send_rtcp_src_0 -> appsink (RTCP SR); appsrc (peer RTCP) -> recv_rtcp_sink_0
 *
 * Receive (per peer): appsrc (RTP) -> rtpbin session 0 [aux: rtprtxreceive]
 *        -> jitter buffer -> pt 96: rtpvp8depay -> vp8dec -> appsink (latest frame)
 *                         -> pt 111: rtpopusdepay -> opusdec -> S16 48 kHz -> audio sink
 *        appsrc (peer RTCP) -> recv_rtcp_sink_0; send_rtcp_src_0 -> appsink (RR)
 *        NACK/PLI: built here from the jitter buffer's and depayloader's upstream
 *        requests (probe on rtprtxreceive's sink), sent at once (on_feedback_request).
 *
 * Everything from a peer passes packet_check/rtcp_check before GStreamer.
 * Streaming threads reach the engine's context only through the hand-off queue (handoff.h).
 */
#include "ml/media.h"

#include "ml/bytes.h"
#include "ml/rtcp_origin.h"
#include "frame_slot.h"
#include "gst_util.h"
#include "handoff.h"
#include "media_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtp/gstrtcpbuffer.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video.h>

#define NTP_UNIX_OFFSET_S UINT64_C(2208988800)
#define STATS_PERIOD_MS 1000
#define FIRST_FRAME_PLI_PERIOD_MS 250

/* ---------------------------------------------------------------------------
 * Shared helpers.
 * ------------------------------------------------------------------------- */

static void count(atomic_uint_fast64_t *c, uint64_t n) {
  atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *c) {
  return atomic_load_explicit(c, memory_order_relaxed);
}

/* NTP (RFC 3550) helpers on the wall clock, which rtpbin's default
 * ntp-time-source also uses. */
static uint32_t ntp_middle32_now(void) {
  int64_t us = g_get_real_time();
  uint64_t secs = (uint64_t)(us / G_USEC_PER_SEC) + NTP_UNIX_OFFSET_S;
  uint64_t frac = ((uint64_t)(us % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC;
  return (uint32_t)(((secs & 0xffffu) << 16) | (frac >> 16));
}

static int64_t ntp64_to_unix_us(uint64_t ntp) {
  uint64_t secs = ntp >> 32;
  uint64_t frac = ntp & 0xffffffffu;
  return ((int64_t)secs - (int64_t)NTP_UNIX_OFFSET_S) * G_USEC_PER_SEC +
         (int64_t)((frac * G_USEC_PER_SEC) >> 32);
}

/* Reads one (compound or reduced-size) RTCP packet that has been validated. */
static void rtcp_parse(GstBuffer *buf, ml_media_rtcp_info *info) {
  memset(info, 0, sizeof(*info));
  info->rtt_ms = -1.0;
  info->audio_fraction_lost = -1.0;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (!gst_rtcp_buffer_map(buf, GST_MAP_READ, &rtcp))
    return;
  GstRTCPPacket pkt;
  bool more = gst_rtcp_buffer_get_first_packet(&rtcp, &pkt);
  bool have_video_block = false;
  while (more) {
    GstRTCPType type = gst_rtcp_packet_get_type(&pkt);
    if (type == GST_RTCP_TYPE_SR || type == GST_RTCP_TYPE_RR) {
      unsigned n = gst_rtcp_packet_get_rb_count(&pkt);
      for (unsigned i = 0; i < n; i++) {
        guint32 ssrc, exthighest, jitter, lsr, dlsr;
        guint8 fraction;
        gint32 lost;
        gst_rtcp_packet_get_rb(&pkt, i, &ssrc, &fraction, &lost, &exthighest, &jitter, &lsr, &dlsr);
        bool video = ssrc == ML_MEDIA_SSRC_VIDEO;
        if (!video && ssrc != ML_MEDIA_SSRC_AUDIO)
          continue;
        if (!video)
          info->audio_fraction_lost = fraction / 256.0;
        if (have_video_block && !video)
          continue;
        have_video_block = have_video_block || video;
        info->have_report = true;
        info->fraction_lost = fraction / 256.0;
        info->packets_lost = lost;
        info->jitter_ms =
            jitter * 1000.0 / (video ? ML_MEDIA_VIDEO_CLOCK_RATE : ML_MEDIA_AUDIO_CLOCK_RATE);
        if (lsr != 0) {
          uint32_t rtt = ntp_middle32_now() - lsr - dlsr; /* 1/65536 s */
          if (rtt < 0x80000000u)
            info->rtt_ms = rtt * 1000.0 / 65536.0;
        }
      }
    } else if (type == GST_RTCP_TYPE_PSFB) {
      GstRTCPFBType fb = gst_rtcp_packet_fb_get_type(&pkt);
      if (fb == GST_RTCP_PSFB_TYPE_PLI)
        info->pli++;
      else if (fb == GST_RTCP_PSFB_TYPE_FIR)
        info->fir++;
    } else if (type == GST_RTCP_TYPE_RTPFB &&
               gst_rtcp_packet_fb_get_type(&pkt) == GST_RTCP_RTPFB_TYPE_NACK) {
      /* Each FCI word: PID (16 bits) and a bitmask of the 16 following. */
      unsigned words = gst_rtcp_packet_fb_get_fci_length(&pkt);
      const guint8 *fci = gst_rtcp_packet_fb_get_fci(&pkt);
      for (unsigned i = 0; fci != NULL && i < words; i++) {
        unsigned blp = ((unsigned)fci[4 * i + 2] << 8) | fci[4 * i + 3];
        info->nack += 1u + (unsigned)__builtin_popcount(blp);
      }
    }
    more = gst_rtcp_packet_move_to_next(&pkt);
  }
  gst_rtcp_buffer_unmap(&rtcp);
}

#define RTCP_MAX_SENDERS 8

/* One SDES packet body: `chunks` chunks of SSRC, items, a null item and zero
 * padding to 32 bits, each item inside the packet. A peer may only describe
 * SSRCs it reported on in the same compound (an RTP end system describes
 * itself), with printable ASCII items of the standard types; PRIV (8) and
 * unknown items are refused: we never send them. */
static bool sdes_check(const uint8_t *body, size_t len, unsigned chunks, const uint32_t *senders,
                       unsigned n_senders) {
  ml_reader r = ml_reader_init(body, len);
  for (unsigned c = 0; c < chunks; c++) {
    size_t start = r.pos;
    uint32_t ssrc;
    if (!ml_reader_u32(&r, &ssrc))
      return false;
    bool known = false;
    for (unsigned i = 0; i < n_senders; i++)
      known = known || senders[i] == ssrc;
    if (!known)
      return false;
    for (;;) {
      uint8_t type, item_len;
      const uint8_t *item;
      if (!ml_reader_u8(&r, &type))
        return false;
      if (type == 0)
        break;
      if (type > 7 || !ml_reader_u8(&r, &item_len) || !ml_reader_bytes(&r, item_len, &item))
        return false;
      for (unsigned i = 0; i < item_len; i++)
        if (item[i] < 0x20 || item[i] > 0x7e)
          return false;
    }
    while ((r.pos - start) % 4 != 0) {
      uint8_t zero;
      if (!ml_reader_u8(&r, &zero) || zero != 0)
        return false;
    }
  }
  return true;
}

/* Strict check of an RTCP packet (compound or RFC 5506 reduced size) from a
 * peer, before GStreamer parses it: version 2, every length inside the
 * buffer, only the packet types we use (SR, RR, SDES, BYE, RTPFB, PSFB), and
 * counts and SDES items that fit their packet (see sdes_check). GStreamer's
 * own validation does not look inside SDES; the hostile case of
 * engine.media_loopback found, under ASan, a heap over-read (an item longer
 * than its packet) and a leak (random SDES chunks) in libgstrtpmanager 1.22.0
 * that way. */
static bool rtcp_check(const uint8_t *data, size_t len) {
  ml_reader r = ml_reader_init(data, len);
  uint32_t senders[RTCP_MAX_SENDERS];
  unsigned packets = 0, n_senders = 0;
  while (ml_reader_remaining(&r) > 0) {
    uint8_t b0, type;
    uint16_t words;
    const uint8_t *body;
    if (!ml_reader_u8(&r, &b0) || !ml_reader_u8(&r, &type) || !ml_reader_u16(&r, &words) ||
        (b0 >> 6) != 2 || !ml_reader_bytes(&r, (size_t)words * 4, &body))
      return false;
    size_t body_len = (size_t)words * 4;
    unsigned count = b0 & 0x1fu;
    if (b0 & 0x20u) { /* padding: the last byte says how much */
      if (body_len == 0 || body[body_len - 1] == 0 || body[body_len - 1] > body_len)
        return false;
      body_len -= body[body_len - 1];
    }
    bool ok;
    switch (type) {
    case GST_RTCP_TYPE_SR:
    case GST_RTCP_TYPE_RR:
      ok = (type == GST_RTCP_TYPE_SR ? 24u : 4u) + 24 * (size_t)count <= body_len &&
           n_senders < RTCP_MAX_SENDERS;
      if (ok)
        senders[n_senders++] = ((uint32_t)body[0] << 24) | ((uint32_t)body[1] << 16) |
                               ((uint32_t)body[2] << 8) | body[3];
      break;
    case GST_RTCP_TYPE_SDES: ok = sdes_check(body, body_len, count, senders, n_senders); break;
    case GST_RTCP_TYPE_BYE:
      ok = 4 * (size_t)count <= body_len &&
           (4 * (size_t)count == body_len ||
            4 * (size_t)count + 1 + body[4 * (size_t)count] <= body_len);
      break;
    /* Only the feedback we use: generic NACK, PLI, FIR (the count field is
     * the format). Others, such as transport-wide CC, are parsed by code we
     * never exercise. */
    case GST_RTCP_TYPE_RTPFB: ok = body_len >= 12 && count == GST_RTCP_RTPFB_TYPE_NACK; break;
    case GST_RTCP_TYPE_PSFB:
      ok = (count == GST_RTCP_PSFB_TYPE_PLI && body_len >= 8) ||
           (count == GST_RTCP_PSFB_TYPE_FIR && body_len >= 16);
      break;
    default: ok = false; break;
    }
    if (!ok)
      return false;
    packets++;
  }
  return packets > 0;
}

static bool rtcp_valid(const uint8_t *data, size_t len) {
  return rtcp_check(data, len) &&
         gst_rtcp_buffer_validate_data_reduced((guint8 *)(uintptr_t)data, (guint)len);
}

/* Checks version, padding, CSRC and extension lengths (GstRTPBuffer's map
 * validates them); refuses RTCP packet types sent as RTP. */
static bool rtp_valid(GstBuffer *buf, const uint8_t *data, size_t len) {
  if (len < 12 || (data[0] >> 6) != 2)
    return false;
  unsigned pt = data[1] & 0x7fu;
  if (pt >= 72 && pt <= 76) /* RTCP packet types 200-204 seen through the marker bit */
    return false;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
    return false;
  gst_rtp_buffer_unmap(&rtp);
  return true;
}

/* ---------------------------------------------------------------------------
 * Sender.
 * ------------------------------------------------------------------------- */

struct ml_media_sender {
  GMainContext *ctx;
  ml_media_sender_config cfg;
  ml_gst_bus_owner bus;
  GstElement *pipeline, *rtpbin, *rtcp_in;
  GstElement *vsrc, *vcaps, *valve, *venc; /* NULL without video */
  GstElement *volume, *aenc;               /* NULL without audio */
  GstElement *rtxsend;                     /* owned by rtpbin; a ref kept for stats */
  GSource *bus_source;
  ml_handoff h;
  atomic_uint_fast64_t frames, keyframes, audio_packets, rtp_packets, rtp_bytes, rtcp_out,
      rtcp_in_count, pli, fir, nack, key_requests;
  atomic_int_fast64_t encode_delay_us; /* -1 before the first frame */
  ml_frame_slot preview;               /* the self view: captured frames, closed while camera off */
  unsigned video_kbps;
  bool paused, muted, camera_on, idle;
};

static void sender_deliver(void *owner, ml_handoff_kind kind, GstBuffer *buf) {
  ml_media_sender *tx = owner;
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ))
    return;
  if (map.size <= ML_MEDIA_MAX_PACKET) {
    if (kind == ML_HANDOFF_RTP) {
      count(&tx->rtp_packets, 1);
      count(&tx->rtp_bytes, map.size);
    } else {
      count(&tx->rtcp_out, 1);
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

static GstPadProbeReturn on_encoded_frame(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  ml_media_sender *tx = data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(pi);
  if (b == NULL)
    return GST_PAD_PROBE_OK;
  count(&tx->frames, 1);
  if (!GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT))
    count(&tx->keyframes, 1);
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
    count(&tx->key_requests, 1);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_audio_packet(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  (void)pi;
  count(&((ml_media_sender *)data)->audio_packets, 1);
  return GST_PAD_PROBE_OK;
}

/* rtpbin "request-aux-sender": RFC 4588 retransmission of VP8 only. */
static GstElement *on_request_aux_sender(GstElement *rtpbin, guint session, gpointer data) {
  (void)rtpbin;
  ml_media_sender *tx = data;
  GstElement *rtx = gst_element_factory_make("rtprtxsend", NULL);
  if (rtx == NULL)
    return NULL;
  GstStructure *pt_map = gst_structure_new("application/x-rtp-pt-map", G_STRINGIFY(ML_MEDIA_PT_VP8),
                                           G_TYPE_UINT, (guint)ML_MEDIA_PT_RTX, NULL);
  char ssrc_key[16];
  g_snprintf(ssrc_key, sizeof ssrc_key, "%u", ML_MEDIA_SSRC_VIDEO);
  GstStructure *ssrc_map = gst_structure_new("application/x-rtp-ssrc-map", ssrc_key, G_TYPE_UINT,
                                             (guint)ML_MEDIA_SSRC_VIDEO_RTX, NULL);
  /* ~1 s of history at 30 fps and a few packets per frame. */
  g_object_set(rtx, "payload-type-map", pt_map, "ssrc-map", ssrc_map, "max-size-packets", 300u,
               "max-size-time", 1000u, NULL);
  gst_structure_free(pt_map);
  gst_structure_free(ssrc_map);

  tx->rtxsend = gst_object_ref(rtx);
  return ml_gst_aux_bin(rtx, session); /* floating: rtpbin adds it */
}

static unsigned clampu(unsigned v, unsigned lo, unsigned hi) {
  return v < lo ? lo : v > hi ? hi : v;
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
  } else {
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
  GstElement *valve = ml_gst_make(bin, "valve", NULL);
  GstElement *queue = ml_gst_make(bin, "queue", NULL);
  GstElement *enc = ml_gst_make(bin, "vp8enc", "venc");
  GstElement *pay = ml_gst_make(bin, "rtpvp8pay", NULL);
  GstElement *pqueue = ml_gst_make(bin, "queue", NULL);
  GstElement *preview =
      ml_gst_make_appsink(bin, &(GstAppSinkCallbacks){.new_sample = sender_new_preview}, tx);
  if (!conv || !scale || !rate || !caps || !tee || !valve || !queue || !enc || !pay || !pqueue ||
      !preview)
    return ML_ERR_UNSUPPORTED;
  g_object_set(rate, "drop-only", TRUE, NULL);
  /* Never let frames pile up ahead of the encoder or the self view: newest
   * wins, and each branch has its own thread, so the self view never holds
   * the encoder back (nor the other way round). */
  GstElement *queues[] = {queue, pqueue};
  for (size_t i = 0; i < G_N_ELEMENTS(queues); i++) {
    g_object_set(queues[i], "max-size-buffers", 1u, "max-size-bytes", 0u, "max-size-time",
                 (guint64)0, NULL);
    gst_util_set_object_arg(G_OBJECT(queues[i]), "leaky", "downstream");
  }
  g_object_set(preview, "max-buffers", 1u, "drop", TRUE, NULL);
  /* Real-time VP8 as WebRTC engines configure it: no lag, CBR, short GOP. */
  g_object_set(enc, "deadline", (gint64)1, "lag-in-frames", 0, "cpu-used", 8, "threads",
               vp8_encoder_threads(c->width, c->height), "keyframe-max-dist",
               (int)c->keyframe_max_frames, "target-bitrate", (int)(c->video_kbps * 1000u),
               "undershoot", 95, "buffer-size", 1000, "buffer-initial-size", 500,
               "buffer-optimal-size", 600, "min-quantizer", 4, "max-quantizer", 56, NULL);
  gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
  gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
  /* Drop frames rather than overshoot when the content is too costly for
   * the target (libwebrtc's VP8 setting): without it, noisy content (the
   * test pattern's noise square, a dark camera) holds ~750 kbps whatever
   * target the rate controller sets. */
  g_object_set(enc, "dropframe-threshold", 30, NULL);
  g_object_set(pay, "mtu", (guint)ML_MEDIA_RTP_MTU, "pt", (guint)ML_MEDIA_PT_VP8, "ssrc",
               (guint)ML_MEDIA_SSRC_VIDEO, NULL);
  gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
  if (!gst_element_link_many(src, conv, scale, rate, caps, tee, NULL) ||
      ml_gst_link_pads(tee, "src_%u", valve, "sink") != ML_OK ||
      !gst_element_link_many(valve, queue, enc, pay, NULL) ||
      ml_gst_link_pads(pay, "src", funnel, "sink_%u") != ML_OK ||
      ml_gst_link_pads(tee, "src_%u", pqueue, "sink") != ML_OK ||
      !gst_element_link(pqueue, preview))
    return ML_ERR_IO;

  GstPad *encsrc = gst_element_get_static_pad(enc, "src");
  gst_pad_add_probe(encsrc, GST_PAD_PROBE_TYPE_BUFFER, on_encoded_frame, tx, NULL);
  gst_pad_add_probe(encsrc, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_encoder_upstream, tx, NULL);
  gst_object_unref(encsrc);
  tx->vsrc = src;
  tx->valve = valve;
  tx->vcaps = caps;
  tx->venc = enc;
  return ML_OK;
}

static int build_audio_send(ml_media_sender *tx, GstBin *bin, GstElement *funnel) {
  const ml_media_sender_config *c = &tx->cfg;
  GstElement *src;
  if (c->audio == ML_MEDIA_AUDIO_TEST) {
    src = ml_gst_make(bin, "audiotestsrc", "asrc");
    if (src == NULL)
      return ML_ERR_UNSUPPORTED;
    g_object_set(src, "is-live", TRUE, "freq", c->tone_hz, "volume", 0.5, "samplesperbuffer", 960,
                 NULL);
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
  c->video_kbps = c->video_kbps == 0 ? 800 : clampu(c->video_kbps, 30, 4000);
  c->audio_kbps = c->audio_kbps == 0 ? 32 : clampu(c->audio_kbps, 6, 128);
  c->audio_loss_percent = clampu(c->audio_loss_percent, 0, 100);
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
  tx->cfg.camera_device = NULL; /* borrowed: used only while building */
  ml_frame_slot_init(&tx->preview);
  sender_config_defaults(&tx->cfg);
  const ml_media_sender_config c = tx->cfg;
  tx->video_kbps = c.video_kbps;
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
  if (c.audio != ML_MEDIA_AUDIO_NONE && (rc = build_audio_send(tx, bin, funnel)) != ML_OK)
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
  if (!rtcp_valid(data, len) || ml_rtcp_from_peer_sender(data, len))
    return ML_ERR_PROTOCOL;
  GstBuffer *buf = gst_buffer_new_memdup(data, len);
  ml_media_rtcp_info local;
  rtcp_parse(buf, &local);
  count(&tx->rtcp_in_count, 1);
  count(&tx->pli, local.pli);
  count(&tx->fir, local.fir);
  count(&tx->nack, local.nack);
  if (info != NULL)
    *info = local;
  /* rtpbin's session turns PLI/FIR into a force-key-unit event to vp8enc and
   * NACK into RTX (on_request_aux_sender). */
  gst_app_src_push_buffer(GST_APP_SRC(tx->rtcp_in), buf);
  return ML_OK;
}

void ml_media_sender_request_keyframe(ml_media_sender *tx) {
  g_assert(tx != NULL);
  if (tx->venc == NULL)
    return;
  GstPad *pad = gst_element_get_static_pad(tx->venc, "src");
  gst_pad_send_event(pad,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref(pad);
}

void ml_media_sender_set_video_kbps(ml_media_sender *tx, unsigned kbps) {
  g_assert(tx != NULL);
  tx->video_kbps = clampu(kbps, 30, 4000);
  if (tx->venc != NULL)
    g_object_set(tx->venc, "target-bitrate", (int)(tx->video_kbps * 1000u), NULL);
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
  g_object_set(tx->venc, "threads", vp8_encoder_threads(width, height), NULL); /* at the restart */
  GstCaps *caps = ml_gst_caps_video_i420(width, height, fps);
  g_object_set(tx->vcaps, "caps", caps, NULL);
  gst_caps_unref(caps);
  tx->cfg.width = width;
  tx->cfg.height = height;
  tx->cfg.fps = fps;
  return ML_OK;
}

void ml_media_sender_set_audio_kbps(ml_media_sender *tx, unsigned kbps) {
  g_assert(tx != NULL);
  if (tx->aenc != NULL)
    g_object_set(tx->aenc, "bitrate", (int)(clampu(kbps, 6, 128) * 1000u), NULL);
}

void ml_media_sender_set_audio_loss_percent(ml_media_sender *tx, unsigned percent) {
  g_assert(tx != NULL);
  if (tx->aenc != NULL)
    g_object_set(tx->aenc, "packet-loss-percentage", (int)clampu(percent, 0, 100), NULL);
}

static void video_flow(ml_media_sender *tx) {
  if (tx->valve == NULL)
    return;
  bool drop = tx->paused || !tx->camera_on || tx->idle;
  gboolean was;
  g_object_get(tx->valve, "drop", &was, NULL);
  g_object_set(tx->valve, "drop", drop, NULL);
  if (was && !drop)
    ml_media_sender_request_keyframe(tx); /* receivers need one to resume */
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
  out->video_frames_encoded = load(&tx->frames);
  out->video_keyframes = load(&tx->keyframes);
  out->audio_packets = load(&tx->audio_packets);
  out->rtp_packets = load(&tx->rtp_packets);
  out->rtp_bytes = load(&tx->rtp_bytes);
  out->rtcp_packets_out = load(&tx->rtcp_out);
  out->rtcp_packets_in = load(&tx->rtcp_in_count);
  out->pli_received = load(&tx->pli);
  out->fir_received = load(&tx->fir);
  out->nack_received = load(&tx->nack);
  out->keyframe_requests = load(&tx->key_requests);
  out->dropped_handoff = load(&tx->h.dropped);
  if (tx->rtxsend != NULL) {
    guint n = 0;
    g_object_get(tx->rtxsend, "num-rtx-packets", &n, NULL);
    out->rtx_packets = n;
  }
  int64_t d = atomic_load(&tx->encode_delay_us);
  out->capture_to_encoded_ms = d < 0 ? -1.0 : (double)d / 1000.0;
  out->video_kbps = tx->video_kbps;
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

/* ---------------------------------------------------------------------------
 * Receiver.
 * ------------------------------------------------------------------------- */

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
  double nack_tokens;   /* see nack_allowed */
  int64_t nack_refill_us;

  /* counters: written by streaming threads, read anywhere */
  atomic_uint_fast64_t frames, audio_samples, rtp_packets, rtp_bytes, rtcp_in_count,
      dropped_invalid, pli_sent, nack_sent, video_packets, nack_suppressed;
  atomic_int_fast64_t first_frame_us, e2e_us, last_pli_us;
  atomic_uint_fast32_t own_ssrc; /* our SSRC in the session, for feedback */

  /* owned by the context thread */
  uint64_t win_bytes, win_frames;
  int64_t win_time_us;
  double bitrate_kbps, fps, jitter_ms;
  int64_t packets_lost;
  unsigned loss_hold; /* ticks left with the NACK allowance in the latency */
  uint64_t jb_late, jb_rtx_requests, jb_rtx_recovered;
  double rtx_rtt_ms;
  unsigned latency_ms;
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
    rtcp_parse(buf, &info);
    count(&rx->pli_sent, info.pli);
    count(&rx->nack_sent, info.nack);
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
  count(&rx->frames, 1);

  g_mutex_lock(&rx->lock);
  for (unsigned i = 0; i < TS_RING; i++) {
    if (rx->ts_ring[i].pts == pts && GST_CLOCK_TIME_IS_VALID(pts)) {
      f->info.rtp_timestamp = rx->ts_ring[i].rtp_ts;
      if (rx->have_sr) {
        int32_t d = (int32_t)(f->info.rtp_timestamp - rx->sr_rtp);
        f->info.capture_time_us =
            ntp64_to_unix_us(rx->sr_ntp) + (int64_t)d * G_USEC_PER_SEC / ML_MEDIA_VIDEO_CLOCK_RATE;
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
  count(&rx->video_packets, 1);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_decoded_audio(GstPad *pad, GstPadProbeInfo *pi, gpointer data) {
  (void)pad;
  ml_media_receiver *rx = data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(pi);
  if (b == NULL)
    return GST_PAD_PROBE_OK;
  count(&rx->audio_samples, gst_buffer_get_size(b) / 2);
  if (rx->cfg.on_pcm != NULL)
    ml_handoff_push(&rx->h, ML_HANDOFF_PCM, gst_buffer_ref(b));
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

/* Streaming thread: a token bucket for NACKs, so a peer that sends wild
 * sequence numbers cannot make us answer each packet with RTCP (measured: tens
 * of thousands per second without it). NACK_PER_S covers 5 % loss of a
 * 4 Mbit/s stream of 1200-byte packets with retries. */
#define NACK_PER_S 60
#define NACK_BURST 30
static bool nack_allowed(ml_media_receiver *rx) {
  int64_t now = g_get_monotonic_time();
  g_mutex_lock(&rx->lock);
  double tokens = rx->nack_tokens + (double)(now - rx->nack_refill_us) * NACK_PER_S / 1e6;
  rx->nack_tokens = tokens > NACK_BURST ? NACK_BURST : tokens;
  rx->nack_refill_us = now;
  bool ok = rx->nack_tokens >= 1.0;
  if (ok)
    rx->nack_tokens -= 1.0;
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
      count(&rx->nack_suppressed, 1);
    }
    return GST_PAD_PROBE_DROP;
  }
  if (gst_video_event_is_force_key_unit(ev)) {
    /* One PLI per 100 ms is plenty: the keyframe answers them all. */
    int64_t now = g_get_monotonic_time();
    if (now - atomic_load(&rx->last_pli_us) >= 100000) {
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
  uint64_t bytes = load(&rx->rtp_bytes), frames = load(&rx->frames);
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

  /* Jitter-buffer latency from measured jitter (not a constant): about four
   * times the RFC 3550 jitter plus a 20 ms floor. While packets are being
   * lost (and for 5 s after), add room for one NACK/RTX round: a lost packet
   * at the end of a frame is only noticed when the next frame arrives, so
   * 1.5 frame intervals plus a round trip. Within the configured bounds, and
   * only moved in steps of 10 ms so the pipeline is not re-timed every
   * second. */
  if (lost > rx->packets_lost)
    rx->loss_hold = 5;
  else if (rx->loss_hold > 0)
    rx->loss_hold--;
  rx->packets_lost = lost;
  double frame_ms = 1000.0 / (rx->fps >= 5.0 ? rx->fps : 30.0);
  double want = 4.0 * rx->jitter_ms + 20.0;
  if (rx->loss_hold > 0)
    want += 1.5 * frame_ms + (rx->rtx_rtt_ms > 5.0 ? rx->rtx_rtt_ms : 5.0) + 10.0;
  unsigned target = clampu((unsigned)want, rx->cfg.latency_min_ms, rx->cfg.latency_max_ms);
  if (target + 10u <= rx->latency_ms || target >= rx->latency_ms + 10u) {
    rx->latency_ms = target;
    g_object_set(rx->rtpbin, "latency", target, NULL); /* rtpbin passes it to jitter buffers */
  }
  return G_SOURCE_CONTINUE;
}

/* Context thread: until the first frame decodes, keep asking for a keyframe
 * while video packets arrive (a PLI sent before the sender's first packet is
 * ignored by it). */
static gboolean receiver_first_frame_pli(gpointer data) {
  ml_media_receiver *rx = data;
  if (atomic_load(&rx->first_frame_us) >= 0) {
    rx->pli_timer = NULL;
    return G_SOURCE_REMOVE; /* the source is unreffed by GLib after this */
  }
  if (load(&rx->video_packets) > 0)
    receiver_send_pli(rx);
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
  if (rx->cfg.latency_min_ms == 0)
    rx->cfg.latency_min_ms = 20;
  if (rx->cfg.latency_max_ms == 0)
    rx->cfg.latency_max_ms = 250;
  if (rx->cfg.latency_max_ms < rx->cfg.latency_min_ms)
    rx->cfg.latency_max_ms = rx->cfg.latency_min_ms;
  rx->latency_ms = clampu(cfg->latency_start_ms == 0 ? 50 : cfg->latency_start_ms,
                          rx->cfg.latency_min_ms, rx->cfg.latency_max_ms);
  g_mutex_init(&rx->lock);
  ml_frame_slot_init(&rx->frames_slot);
  rx->nack_tokens = NACK_BURST;
  rx->nack_refill_us = g_get_monotonic_time();
  for (unsigned i = 0; i < TS_RING; i++)
    rx->ts_ring[i].pts = GST_CLOCK_TIME_NONE;
  atomic_init(&rx->first_frame_us, -1);
  atomic_init(&rx->e2e_us, INT64_MIN);
  atomic_init(&rx->last_pli_us, 0);
  atomic_init(&rx->own_ssrc, 0);
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
  g_object_set(rx->rtpbin, "latency", rx->latency_ms, "do-retransmission", TRUE, "do-lost", TRUE,
               NULL);
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

/* The checks every packet from a peer passes before GStreamer sees it. On
 * success *out is a new buffer holding a copy. */
static int packet_check(ml_inner_type type, const uint8_t *data, size_t len, GstBuffer **out) {
  if (type != ML_INNER_RTP && type != ML_INNER_RTCP)
    return ML_ERR_INVALID;
  if (len > ML_MEDIA_MAX_PACKET)
    return ML_ERR_TOO_BIG;
  /* rtcp_valid refuses empty input; rtp_valid wants at least a header. */
  bool ok = type == ML_INNER_RTP ? len >= 12 : rtcp_valid(data, len);
  GstBuffer *buf = ok ? gst_buffer_new_memdup(data, len) : NULL;
  if (ok && type == ML_INNER_RTP)
    ok = rtp_valid(buf, data, len);
  if (!ok) {
    if (buf != NULL)
      gst_buffer_unref(buf);
    return ML_ERR_PROTOCOL;
  }
  *out = buf;
  return ML_OK;
}

int ml_media_check_packet_for_test(ml_inner_type type, const uint8_t *data, size_t len,
                                   ml_media_rtcp_info *info) {
  GstBuffer *buf = NULL;
  int rc = packet_check(type, data, len, &buf);
  if (rc == ML_OK && type == ML_INNER_RTCP)
    rtcp_parse(buf, info);
  if (buf != NULL)
    gst_buffer_unref(buf);
  return rc;
}

int ml_media_receiver_push(ml_media_receiver *rx, ml_inner_type type, const uint8_t *data,
                           size_t len) {
  g_assert(rx != NULL && (data != NULL || len == 0));
  GstBuffer *buf = NULL;
  int rc = packet_check(type, data, len, &buf);
  if (rc == ML_ERR_PROTOCOL)
    count(&rx->dropped_invalid, 1);
  if (rc != ML_OK)
    return rc;
  if (type == ML_INNER_RTP) {
    count(&rx->rtp_packets, 1);
    count(&rx->rtp_bytes, len);
  } else {
    count(&rx->rtcp_in_count, 1);
  }
  gst_app_src_push_buffer(GST_APP_SRC(type == ML_INNER_RTP ? rx->rtp_in : rx->rtcp_in), buf);
  return ML_OK;
}

void ml_media_receiver_get_stats(const ml_media_receiver *rx, ml_media_receiver_stats *out) {
  g_assert(rx != NULL && out != NULL);
  memset(out, 0, sizeof(*out));
  out->video_frames_decoded = load(&rx->frames);
  out->audio_ms_decoded = load(&rx->audio_samples) * 1000u / ML_MEDIA_AUDIO_CLOCK_RATE;
  int64_t first = atomic_load(&rx->first_frame_us);
  out->first_frame_ms = first < 0 ? -1 : first / 1000;
  out->jitter_ms = rx->jitter_ms;
  out->packets_lost = rx->packets_lost;
  out->rtp_packets = load(&rx->rtp_packets);
  out->rtp_bytes = load(&rx->rtp_bytes);
  out->rtcp_packets_in = load(&rx->rtcp_in_count);
  out->dropped_invalid = load(&rx->dropped_invalid);
  out->pli_sent = load(&rx->pli_sent);
  out->nack_sent = load(&rx->nack_sent);
  out->nack_suppressed = load(&rx->nack_suppressed);
  out->latency_ms = rx->latency_ms;
  out->packets_late = rx->jb_late;
  out->rtx_requested = rx->jb_rtx_requests;
  out->rtx_recovered = rx->jb_rtx_recovered;
  out->bitrate_kbps = rx->bitrate_kbps;
  out->fps = rx->fps;
  int64_t e2e = atomic_load(&rx->e2e_us);
  out->e2e_latency_ms = e2e == INT64_MIN ? -1.0 : (double)e2e / 1000.0;
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
  g_main_context_unref(rx->ctx);
  g_free(rx);
}
