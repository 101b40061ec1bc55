/* mentorlink — GStreamer helpers of the media module (see gst_util.h). */
#include "gst_util.h"

#include <gst/app/gstappsrc.h>

static gpointer init_gst(gpointer unused) {
  (void)unused;
  if (!gst_is_initialized())
    gst_init(NULL, NULL);
  return NULL;
}

/* Without the once, two calls starting their pipelines at once on their
 * engine threads found elements missing. */
void ml_gst_ensure_init(void) {
  static GOnce once = G_ONCE_INIT;
  g_once(&once, init_gst, NULL);
}

GstElement *ml_gst_make(GstBin *bin, const char *factory, const char *name) {
  GstElement *e = gst_element_factory_make(factory, name);
  if (e == NULL) {
    g_warning("media: GStreamer element '%s' is missing", factory);
    return NULL;
  }
  gst_bin_add(bin, e);
  return e;
}

GstElement *ml_gst_factory(const char *factory) {
  GstElement *e = gst_element_factory_make(factory, NULL);
  if (e == NULL)
    g_warning("media: GStreamer element '%s' is missing", factory);
  return e;
}

GstCaps *ml_gst_caps_video_i420(unsigned w, unsigned h, unsigned fps) {
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
                             (int)w, "height", G_TYPE_INT, (int)h, "framerate", GST_TYPE_FRACTION,
                             (int)fps, 1, NULL);
}

GstCaps *ml_gst_caps_audio_s16_mono(void) {
  return gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
                             ML_MEDIA_AUDIO_CLOCK_RATE, "channels", G_TYPE_INT, 1, "layout",
                             G_TYPE_STRING, "interleaved", NULL);
}

GstElement *ml_gst_make_capsfilter(GstBin *bin, GstCaps *caps) {
  GstElement *f = ml_gst_make(bin, "capsfilter", NULL);
  if (f != NULL)
    g_object_set(f, "caps", caps, NULL);
  gst_caps_unref(caps);
  return f;
}

static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data) {
  (void)bus;
  ml_gst_bus_owner *o = data;
  switch (GST_MESSAGE_TYPE(msg)) {
  case GST_MESSAGE_ERROR: {
    g_autoptr(GError) err = NULL;
    g_autofree char *dbg = NULL;
    gst_message_parse_error(msg, &err, &dbg);
    g_autofree char *text = g_strdup_printf("%s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                                            err != NULL ? err->message : "error");
    g_debug("media: %s (%s)", text, dbg != NULL ? dbg : "");
    if (o->on_error != NULL)
      o->on_error(ML_ERR_IO, text, o->user);
    break;
  }
  case GST_MESSAGE_WARNING: {
    g_autoptr(GError) err = NULL;
    gst_message_parse_warning(msg, &err, NULL);
    g_debug("media: warning from %s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
            err != NULL ? err->message : "");
    break;
  }
  case GST_MESSAGE_LATENCY: gst_bin_recalculate_latency(GST_BIN(o->pipeline)); break;
  default: break;
  }
  return G_SOURCE_CONTINUE;
}

GSource *ml_gst_bus_watch_attach(GstElement *pipeline, GMainContext *ctx, ml_gst_bus_owner *o) {
  GstBus *bus = gst_element_get_bus(pipeline);
  GSource *src = gst_bus_create_watch(bus);
  gst_object_unref(bus);
  g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_bus_message, o, NULL);
  g_source_attach(src, ctx);
  return src;
}

void ml_gst_source_detach(GSource **s) {
  if (*s != NULL) {
    g_source_destroy(*s);
    g_source_unref(*s);
    *s = NULL;
  }
}

GstElement *ml_gst_make_appsrc(GstBin *bin, const char *caps_name) {
  GstElement *src = ml_gst_make(bin, "appsrc", NULL);
  if (src == NULL)
    return NULL;
  GstCaps *caps = gst_caps_new_empty_simple(caps_name);
  g_object_set(src, "caps", caps, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE,
               "max-bytes", (guint64)ML_GST_SRC_QUEUE_MAX_BYTES, NULL);
  gst_caps_unref(caps);
  /* Real time: when the queue is full the oldest packets go. */
  gst_app_src_set_leaky_type(GST_APP_SRC(src), GST_APP_LEAKY_TYPE_DOWNSTREAM);
  return src;
}

GstElement *ml_gst_make_appsink(GstBin *bin, GstAppSinkCallbacks *cbs, void *user) {
  GstElement *sink = ml_gst_make(bin, "appsink", NULL);
  if (sink == NULL)
    return NULL;
  g_object_set(sink, "sync", FALSE, "async", FALSE, "emit-signals", FALSE, NULL);
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), cbs, user, NULL);
  return sink;
}

int ml_gst_link_pads(GstElement *src, const char *src_pad, GstElement *sink, const char *sink_pad) {
  GstPad *a = gst_element_get_static_pad(src, src_pad);
  if (a == NULL)
    a = gst_element_request_pad_simple(src, src_pad);
  GstPad *b = gst_element_get_static_pad(sink, sink_pad);
  if (b == NULL)
    b = gst_element_request_pad_simple(sink, sink_pad);
  int rc = (a != NULL && b != NULL && gst_pad_link(a, b) == GST_PAD_LINK_OK) ? ML_OK : ML_ERR_IO;
  if (a != NULL)
    gst_object_unref(a);
  if (b != NULL)
    gst_object_unref(b);
  return rc;
}

int ml_gst_start_pipeline(GstElement *pipeline) {
  GstStateChangeReturn r = gst_element_set_state(pipeline, GST_STATE_PLAYING);
  return r == GST_STATE_CHANGE_FAILURE ? ML_ERR_IO : ML_OK;
}

GObject *ml_gst_rtpbin_session(GstElement *rtpbin) {
  GObject *session = NULL;
  g_signal_emit_by_name(rtpbin, "get-internal-session", 0u, &session);
  return session; /* transfer full */
}

GstElement *ml_gst_aux_bin(GstElement *el, guint session) {
  GstElement *bin = gst_bin_new(NULL);
  gst_bin_add(GST_BIN(bin), el);
  const char *dirs[] = {"src", "sink"};
  for (size_t i = 0; i < 2; i++) {
    char name[32];
    GstPad *pad = gst_element_get_static_pad(el, dirs[i]);
    g_snprintf(name, sizeof name, "%s_%u", dirs[i], session);
    gst_element_add_pad(bin, gst_ghost_pad_new(name, pad));
    gst_object_unref(pad);
  }
  return bin;
}

GstCaps *ml_gst_on_request_pt_map(GstElement *rtpbin, guint session, guint pt, gpointer data) {
  (void)rtpbin;
  (void)session;
  (void)data;
  switch (pt) {
  case ML_MEDIA_PT_VP8:
    return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate",
                               G_TYPE_INT, ML_MEDIA_VIDEO_CLOCK_RATE, "encoding-name",
                               G_TYPE_STRING, "VP8", "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE,
                               "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE, "rtcp-fb-ccm-fir",
                               G_TYPE_BOOLEAN, TRUE, NULL);
  case ML_MEDIA_PT_RTX:
    return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate",
                               G_TYPE_INT, ML_MEDIA_VIDEO_CLOCK_RATE, "encoding-name",
                               G_TYPE_STRING, "RTX", "apt", G_TYPE_INT, ML_MEDIA_PT_VP8, NULL);
  case ML_MEDIA_PT_OPUS:
    return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "clock-rate",
                               G_TYPE_INT, ML_MEDIA_AUDIO_CLOCK_RATE, "encoding-name",
                               G_TYPE_STRING, "OPUS", NULL);
  default: return NULL;
  }
}
