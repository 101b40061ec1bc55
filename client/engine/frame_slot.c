/* mentorlink — video frames and the latest-frame slot (see frame_slot.h). */
#include "frame_slot.h"

static void frame_unref(ml_media_frame *f) {
  if (f != NULL && g_atomic_int_dec_and_test(&f->refs)) {
    gst_video_frame_unmap(&f->vframe);
    g_free(f);
  }
}

ml_media_frame *ml_media_frame_from_sample(GstSample *s) {
  GstVideoInfo vinfo;
  GstBuffer *buf = gst_sample_get_buffer(s);
  GstCaps *caps = gst_sample_get_caps(s);
  ml_media_frame *f = g_new0(ml_media_frame, 1);
  if (buf == NULL || caps == NULL || !gst_video_info_from_caps(&vinfo, caps) ||
      !gst_video_frame_map(&f->vframe, &vinfo, buf, GST_MAP_READ)) {
    g_free(f);
    return NULL;
  }
  f->refs = 1;
  f->info.width = (unsigned)GST_VIDEO_INFO_WIDTH(&vinfo);
  f->info.height = (unsigned)GST_VIDEO_INFO_HEIGHT(&vinfo);
  for (unsigned i = 0; i < 3 && i < GST_VIDEO_FRAME_N_PLANES(&f->vframe); i++) {
    f->info.planes[i] = GST_VIDEO_FRAME_PLANE_DATA(&f->vframe, i);
    f->info.strides[i] = GST_VIDEO_FRAME_PLANE_STRIDE(&f->vframe, i);
  }
  return f;
}

void ml_media_frame_get_info(const ml_media_frame *frame, ml_media_frame_info *out) {
  g_assert(frame != NULL && out != NULL);
  *out = frame->info;
}

void ml_media_frame_free(ml_media_frame *frame) { frame_unref(frame); }

void ml_frame_slot_init(ml_frame_slot *s) {
  g_mutex_init(&s->lock);
  s->latest = NULL;
  s->seq = 0;
  s->closed = false;
}

void ml_frame_slot_put(ml_frame_slot *s, ml_media_frame *f) {
  g_mutex_lock(&s->lock);
  ml_media_frame *old = f;
  if (!s->closed) {
    f->info.seq = ++s->seq;
    old = s->latest;
    s->latest = f;
  }
  g_mutex_unlock(&s->lock);
  frame_unref(old);
}

void ml_frame_slot_set_closed(ml_frame_slot *s, bool closed) {
  g_mutex_lock(&s->lock);
  ml_media_frame *old = closed ? s->latest : NULL;
  if (closed)
    s->latest = NULL;
  s->closed = closed;
  g_mutex_unlock(&s->lock);
  frame_unref(old);
}

int ml_frame_slot_get(ml_frame_slot *s, uint64_t after_seq, ml_media_frame **out) {
  ml_media_frame *f = NULL;
  g_mutex_lock(&s->lock);
  if (s->latest != NULL && s->latest->info.seq > after_seq) {
    f = s->latest;
    g_atomic_int_inc(&f->refs);
  }
  g_mutex_unlock(&s->lock);
  if (f == NULL)
    return ML_ERR_NOT_FOUND;
  *out = f;
  return ML_OK;
}

void ml_frame_slot_clear(ml_frame_slot *s) {
  frame_unref(s->latest);
  s->latest = NULL;
  g_mutex_clear(&s->lock);
}
