/* mentorlink — GStreamer helpers shared by the media sender and receiver
 * (private to the engine).
 *
 * Element construction (from factories with fixed properties, never from
 * text), caps of the raw formats the pipelines use, pad linking, rtpbin
 * plumbing and the bus watch that turns GStreamer errors into ml_err codes
 * on the owner's context.
 *
 * Threads: ml_gst_ensure_init from any thread; the construction helpers on
 * whichever thread builds the pipeline (the owner's context, or a streaming
 * thread for branches added at run time); the bus watch runs on the context
 * it was attached to. Ownership is stated per function; "adds to bin" means
 * the bin owns the element.
 */
#ifndef ML_GST_UTIL_H
#define ML_GST_UTIL_H

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "ml/media.h"

/* GStreamer initialised once per process, whichever thread comes first; the
 * others wait until it has finished. */
void ml_gst_ensure_init(void);

/* A new element of factory, added to bin; NULL (and a warning) when the
 * factory is missing. */
GstElement *ml_gst_make(GstBin *bin, const char *factory, const char *name);

/* A new floating element not in any bin; NULL (and a warning) when missing. */
GstElement *ml_gst_factory(const char *factory);

/* Raw caps (transfer full): I420 video of that size and rate; S16LE mono
 * audio at ML_MEDIA_AUDIO_CLOCK_RATE. */
GstCaps *ml_gst_caps_video_i420(unsigned w, unsigned h, unsigned fps);
GstCaps *ml_gst_caps_audio_s16_mono(void);

/* A capsfilter with caps (taken), added to bin; NULL when missing. */
GstElement *ml_gst_make_capsfilter(GstBin *bin, GstCaps *caps);

/* A live appsrc of caps_name in time format, timestamping, leaky downstream
 * beyond ML_GST_SRC_QUEUE_MAX_BYTES, added to bin; NULL when missing. */
#define ML_GST_SRC_QUEUE_MAX_BYTES (2u * 1024u * 1024u)
GstElement *ml_gst_make_appsrc(GstBin *bin, const char *caps_name);

/* An appsink (no sync, no signals) calling cbs with user on its streaming
 * thread, added to bin; NULL when missing. */
GstElement *ml_gst_make_appsink(GstBin *bin, GstAppSinkCallbacks *cbs, void *user);

/* Links src's pad to sink's pad, each a static pad or else a request pad of
 * that template name. ML_OK or ML_ERR_IO. */
int ml_gst_link_pads(GstElement *src, const char *src_pad, GstElement *sink,
                     const char *sink_pad) ML_MUST_CHECK;

/* Sets pipeline PLAYING: ML_ERR_IO when the state change fails at once. */
int ml_gst_start_pipeline(GstElement *pipeline) ML_MUST_CHECK;

/* rtpbin's internal session 0 (transfer full; NULL if none). */
GObject *ml_gst_rtpbin_session(GstElement *rtpbin);

/* rtpbin's aux sender/receiver for one session: el inside a new bin whose
 * ghost pads are named src_<session> and sink_<session>, as rtpbin requires
 * (floating; rtpbin takes it). */
GstElement *ml_gst_aux_bin(GstElement *el, guint session);

/* rtpbin "request-pt-map": the caps of the module's fixed payload types
 * (VP8 with its feedback, RTX, Opus); NULL for any other. */
GstCaps *ml_gst_on_request_pt_map(GstElement *rtpbin, guint session, guint pt, gpointer data);

/* A bus watch on the owner's context: ERROR -> on_error(ML_ERR_IO, "<element>:
 * <message>", user), WARNING logged, LATENCY recomputed. The caller owns the
 * struct, which must outlive the watch. */
typedef struct ml_gst_bus_owner {
  GstElement *pipeline;
  ml_media_error_cb on_error;
  void *user;
} ml_gst_bus_owner;

/* Returns the attached source (the caller's reference; see ml_gst_source_detach). */
GSource *ml_gst_bus_watch_attach(GstElement *pipeline, GMainContext *ctx, ml_gst_bus_owner *o);

/* Destroys and unrefs *s, sets it NULL; nothing when already NULL. */
void ml_gst_source_detach(GSource **s);

#endif /* ML_GST_UTIL_H */
