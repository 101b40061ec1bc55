/* mentorlink — the media hand-off queue (see handoff.h for the contract). */
#include "handoff.h"

typedef struct handoff_item {
  ml_handoff_kind kind;
  GstBuffer *buf;
} handoff_item;

typedef struct handoff_source {
  GSource base;
  ml_handoff *h;
} handoff_source;

static gboolean handoff_dispatch(GSource *source, GSourceFunc cb, gpointer data) {
  (void)cb;
  (void)data;
  ml_handoff *h = ((handoff_source *)source)->h;
  /* Reset first: a push after this line re-arms the source. */
  g_source_set_ready_time(source, -1);
  GQueue batch = G_QUEUE_INIT;
  g_mutex_lock(&h->lock);
  batch = h->items;
  g_queue_init(&h->items);
  g_mutex_unlock(&h->lock);
  handoff_item *item;
  while ((item = g_queue_pop_head(&batch)) != NULL) {
    h->deliver(h->owner, item->kind, item->buf);
    gst_buffer_unref(item->buf);
    g_free(item);
  }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs handoff_funcs = {NULL, NULL, handoff_dispatch, NULL, NULL, NULL};

void ml_handoff_init(ml_handoff *h, GMainContext *ctx, ml_handoff_deliver_cb deliver, void *owner) {
  g_mutex_init(&h->lock);
  g_queue_init(&h->items);
  h->deliver = deliver;
  h->owner = owner;
  atomic_init(&h->dropped, 0);
  h->source = g_source_new(&handoff_funcs, sizeof(handoff_source));
  ((handoff_source *)h->source)->h = h;
  g_source_set_priority(h->source, G_PRIORITY_HIGH);
  g_source_attach(h->source, ctx);
}

void ml_handoff_push(ml_handoff *h, ml_handoff_kind kind, GstBuffer *buf) {
  g_mutex_lock(&h->lock);
  if (h->items.length >= ML_HANDOFF_MAX_ITEMS) {
    g_mutex_unlock(&h->lock);
    gst_buffer_unref(buf);
    atomic_fetch_add_explicit(&h->dropped, 1, memory_order_relaxed);
    return;
  }
  handoff_item *item = g_new(handoff_item, 1);
  item->kind = kind;
  item->buf = buf;
  g_queue_push_tail(&h->items, item);
  g_mutex_unlock(&h->lock);
  g_source_set_ready_time(h->source, 0); /* thread-safe; wakes the context */
}

GstFlowReturn ml_handoff_push_sample(ml_handoff *h, GstAppSink *sink, ml_handoff_kind kind) {
  GstSample *s = gst_app_sink_pull_sample(sink);
  if (s == NULL)
    return GST_FLOW_EOS;
  GstBuffer *b = gst_sample_get_buffer(s);
  if (b != NULL)
    ml_handoff_push(h, kind, gst_buffer_ref(b));
  gst_sample_unref(s);
  return GST_FLOW_OK;
}

void ml_handoff_clear(ml_handoff *h) {
  if (h->source == NULL)
    return;
  g_source_destroy(h->source);
  g_source_unref(h->source);
  h->source = NULL;
  handoff_item *item;
  while ((item = g_queue_pop_head(&h->items)) != NULL) {
    gst_buffer_unref(item->buf);
    g_free(item);
  }
  g_mutex_clear(&h->lock);
}
