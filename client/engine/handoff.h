/* mentorlink — the media hand-off queue: GStreamer streaming threads -> the
 * owning GMainContext (private to the engine).
 *
 * A bounded FIFO of GstBuffers, each tagged with what it carries. Producers
 * push from any thread; a GSource attached to the owner's context delivers
 * every queued buffer, in order, to the owner's callback on that context. A
 * push onto a full queue (ML_HANDOFF_MAX_ITEMS) drops the new buffer and
 * counts it in `dropped` (read it with atomic loads from any thread).
 *
 * Ownership: the caller owns the ml_handoff struct (usually embedded in the
 * sender or receiver); ml_handoff_push takes the buffer's reference; the
 * deliver callback borrows the buffer for the duration of the call only.
 *
 * Threads: ml_handoff_init and ml_handoff_clear on the owner's context;
 * ml_handoff_push and ml_handoff_push_sample from any thread. Call
 * ml_handoff_clear only once no producer can push any more (the pipeline is
 * in NULL). No errors: memory exhaustion aborts, as in GLib.
 */
#ifndef ML_HANDOFF_H
#define ML_HANDOFF_H

#include <stdatomic.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#define ML_HANDOFF_MAX_ITEMS 1024 /* ~1 s of 8 Mbit/s video at 1200-byte packets */

typedef enum ml_handoff_kind { ML_HANDOFF_RTP, ML_HANDOFF_RTCP, ML_HANDOFF_PCM } ml_handoff_kind;

/* Called on the owner's context for each buffer, in push order; buf is
 * borrowed (unreffed after the call). */
typedef void (*ml_handoff_deliver_cb)(void *owner, ml_handoff_kind kind, GstBuffer *buf);

typedef struct ml_handoff {
  GMutex lock;
  GQueue items; /* of handoff_item*, guarded by lock */
  GSource *source;
  ml_handoff_deliver_cb deliver;
  void *owner;
  atomic_uint_fast64_t dropped; /* buffers refused because the queue was full */
} ml_handoff;

/* Attaches the delivering source to ctx (high priority). */
void ml_handoff_init(ml_handoff *h, GMainContext *ctx, ml_handoff_deliver_cb deliver, void *owner);

/* Any thread. Takes ownership of buf; wakes the owner's context. */
void ml_handoff_push(ml_handoff *h, ml_handoff_kind kind, GstBuffer *buf);

/* Streaming thread (an appsink callback): pulls one sample from sink and
 * pushes its buffer. Returns GST_FLOW_EOS when the sink has no sample. */
GstFlowReturn ml_handoff_push_sample(ml_handoff *h, GstAppSink *sink, ml_handoff_kind kind);

/* Detaches the source and drops what is still queued. Does nothing on a
 * handoff never initialised (zeroed) or already cleared. */
void ml_handoff_clear(ml_handoff *h);

#endif /* ML_HANDOFF_H */
