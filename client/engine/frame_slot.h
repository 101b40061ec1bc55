/* mentorlink — decoded or captured video frames and the latest-frame slot
 * (private to the engine; ml_media_frame's public side is in ml/media.h).
 *
 * An ml_media_frame holds one GstBuffer mapped as raw I420 video, reference
 * counted (atomically: any thread may take or drop a reference). Its info
 * fields are written only by the thread that made it, before it is put into
 * a slot; after that the frame is read-only.
 *
 * A frame slot keeps the newest frame put by a streaming thread (the
 * receiver's decoded video, the sender's self view) for readers on any
 * thread. Newest wins; nothing waits. Each frame put gets the next sequence
 * number (never reset), so readers ask only for frames newer than the last
 * they saw. A closed slot drops its frame and every frame put until it is
 * opened again.
 *
 * Threads: ml_frame_slot_put, _set_closed and _get from any thread;
 * ml_frame_slot_init and _clear on the owner's, _clear only once no
 * streaming thread can put any more (the pipeline is in NULL).
 */
#ifndef ML_FRAME_SLOT_H
#define ML_FRAME_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include <gst/gst.h>
#include <gst/video/video.h>

#include "ml/media.h"

struct ml_media_frame {
  gint refs;
  GstVideoFrame vframe; /* vframe.buffer: the mapped buffer, with its PTS */
  ml_media_frame_info info;
};

/* A new frame (one reference, owned by the caller) holding s's buffer mapped
 * as raw video, with size and planes filled in (the other info fields are
 * zero); NULL when the sample is not raw video. s stays the caller's. */
ml_media_frame *ml_media_frame_from_sample(GstSample *s);

typedef struct ml_frame_slot {
  GMutex lock;
  ml_media_frame *latest; /* NULL before the first frame and while closed */
  uint64_t seq;           /* of the last frame put, never reset */
  bool closed;            /* frames put are dropped */
} ml_frame_slot;

/* An open, empty slot. */
void ml_frame_slot_init(ml_frame_slot *s);

/* Takes f's reference: f becomes the latest frame, with the next seq (and
 * the previous one is dropped); f is dropped while the slot is closed. */
void ml_frame_slot_put(ml_frame_slot *s, ml_media_frame *f);

/* Closing drops the latest frame and refuses new ones until the slot is
 * opened again (seq goes on from where it was). */
void ml_frame_slot_set_closed(ml_frame_slot *s, bool closed);

/* A new reference to the latest frame if its seq is above after_seq;
 * otherwise ML_ERR_NOT_FOUND and *out untouched. */
int ml_frame_slot_get(ml_frame_slot *s, uint64_t after_seq, ml_media_frame **out) ML_MUST_CHECK;

/* Drops the latest frame and frees the lock. */
void ml_frame_slot_clear(ml_frame_slot *s);

#endif /* ML_FRAME_SLOT_H */
