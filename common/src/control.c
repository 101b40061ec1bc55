/* CONTROL messages inside the secure channel. Contract in ml/control.h. */
#include "ml/control.h"

#include <string.h>

#include "ml/bytes.h"

#define FLAGS_KNOWN                                                                                \
  (ML_CONTROL_FLAG_MUTED | ML_CONTROL_FLAG_CAMERA_ON | ML_CONTROL_FLAG_VIDEO_PAUSED)

size_t ml_control_write_media_state(const ml_control_media_state *state, uint8_t *out, size_t cap) {
  uint8_t flags = (uint8_t)((state->muted ? ML_CONTROL_FLAG_MUTED : 0u) |
                            (state->camera_on ? ML_CONTROL_FLAG_CAMERA_ON : 0u) |
                            (state->video_paused ? ML_CONTROL_FLAG_VIDEO_PAUSED : 0u));
  ml_writer w = ml_writer_init(out, cap);
  if (!ml_writer_u8(&w, ML_CONTROL_VERSION) || !ml_writer_u8(&w, ML_CONTROL_MEDIA_STATE) ||
      !ml_writer_u8(&w, flags) || !ml_writer_u32(&w, state->seq))
    return 0;
  return w.pos;
}

int ml_control_parse(const uint8_t *data, size_t len, ml_control_message *out) {
  ml_reader r = ml_reader_init(data, len);
  uint8_t version, type, flags;
  if (!ml_reader_u8(&r, &version))
    return ML_ERR_PROTOCOL;
  if (version != ML_CONTROL_VERSION)
    return ML_ERR_UNSUPPORTED;
  if (!ml_reader_u8(&r, &type))
    return ML_ERR_PROTOCOL;
  if (type != ML_CONTROL_MEDIA_STATE)
    return ML_ERR_UNSUPPORTED;
  ml_control_message m;
  memset(&m, 0, sizeof m);
  m.type = ML_CONTROL_MEDIA_STATE;
  if (len != ML_CONTROL_MEDIA_STATE_LEN || !ml_reader_u8(&r, &flags) ||
      !ml_reader_u32(&r, &m.media.seq) || (flags & ~FLAGS_KNOWN) != 0)
    return ML_ERR_PROTOCOL;
  m.media.muted = (flags & ML_CONTROL_FLAG_MUTED) != 0;
  m.media.camera_on = (flags & ML_CONTROL_FLAG_CAMERA_ON) != 0;
  m.media.video_paused = (flags & ML_CONTROL_FLAG_VIDEO_PAUSED) != 0;
  *out = m;
  return ML_OK;
}
