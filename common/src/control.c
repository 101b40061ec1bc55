/* CONTROL messages inside the secure channel. Contract in ml/control.h. */
#include "ml/control.h"

#include <string.h>

#include "ml/bytes.h"

#define FLAGS_KNOWN                                                                                \
  (ML_CONTROL_FLAG_MUTED | ML_CONTROL_FLAG_CAMERA_ON | ML_CONTROL_FLAG_VIDEO_PAUSED)

static const char *const reaction_names[ML_CONTROL_REACTION_COUNT] = {
    [ML_CONTROL_REACTION_THUMBS_UP] = "thumbs_up", [ML_CONTROL_REACTION_CLAP] = "clap",
    [ML_CONTROL_REACTION_HEART] = "heart",         [ML_CONTROL_REACTION_LAUGH] = "laugh",
    [ML_CONTROL_REACTION_SURPRISE] = "surprise",   [ML_CONTROL_REACTION_QUESTION] = "question",
};

const char *ml_control_reaction_name(unsigned reaction) {
  return reaction >= 1 && reaction < ML_CONTROL_REACTION_COUNT ? reaction_names[reaction] : NULL;
}

unsigned ml_control_reaction_from_name(const char *name) {
  for (unsigned i = 1; i < ML_CONTROL_REACTION_COUNT; i++)
    if (!strcmp(name, reaction_names[i]))
      return i;
  return 0;
}

static bool id_char(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

static bool valid_code(ml_control_type type, uint8_t code) {
  if (type == ML_CONTROL_REACTION)
    return code >= 1 && code < ML_CONTROL_REACTION_COUNT;
  if (type == ML_CONTROL_LAYER)
    return code == ML_CONTROL_LAYER_SMALL || code == ML_CONTROL_LAYER_LARGE;
  return code == ML_CONTROL_REQUEST_MUTE || code == ML_CONTROL_REQUEST_LOWER_HAND;
}

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

size_t ml_control_write(const ml_control_message *m, uint8_t *out, size_t cap) {
  ml_writer w = ml_writer_init(out, cap);
  switch (m->type) {
  case ML_CONTROL_MEDIA_STATE: return ml_control_write_media_state(&m->media, out, cap);
  case ML_CONTROL_HAND:
  case ML_CONTROL_REACTION:
  case ML_CONTROL_HOST_REQUEST:
  case ML_CONTROL_LAYER: {
    uint8_t b = m->type == ML_CONTROL_HAND ? (m->raised ? ML_CONTROL_HAND_RAISED : 0u) : m->code;
    if (m->type != ML_CONTROL_HAND && !valid_code(m->type, b))
      return 0;
    if (!ml_writer_u8(&w, ML_CONTROL_VERSION) || !ml_writer_u8(&w, (uint8_t)m->type) ||
        !ml_writer_u8(&w, b) || !ml_writer_u32(&w, m->seq))
      return 0;
    return w.pos;
  }
  case ML_CONTROL_SPOTLIGHT:
  case ML_CONTROL_SIGNAL_ID: {
    size_t n = strnlen(m->peer, sizeof m->peer);
    if (n > ML_CONTROL_MAX_PEER_ID || (m->type == ML_CONTROL_SIGNAL_ID && n == 0))
      return 0;
    for (size_t i = 0; i < n; i++)
      if (!id_char((uint8_t)m->peer[i]))
        return 0;
    if (!ml_writer_u8(&w, ML_CONTROL_VERSION) || !ml_writer_u8(&w, (uint8_t)m->type) ||
        !ml_writer_u32(&w, m->seq) || !ml_writer_u8(&w, (uint8_t)n) ||
        !ml_writer_bytes(&w, m->peer, n))
      return 0;
    return w.pos;
  }
  }
  return 0;
}

int ml_control_parse(const uint8_t *data, size_t len, ml_control_message *out) {
  ml_reader r = ml_reader_init(data, len);
  uint8_t version, type, b;
  if (!ml_reader_u8(&r, &version))
    return ML_ERR_PROTOCOL;
  if (version != ML_CONTROL_VERSION)
    return ML_ERR_UNSUPPORTED;
  if (!ml_reader_u8(&r, &type))
    return ML_ERR_PROTOCOL;
  if (type < ML_CONTROL_MEDIA_STATE || type > ML_CONTROL_LAYER)
    return ML_ERR_UNSUPPORTED;
  ml_control_message m;
  memset(&m, 0, sizeof m);
  m.type = (ml_control_type)type;
  switch (m.type) {
  case ML_CONTROL_MEDIA_STATE:
    if (len != ML_CONTROL_MEDIA_STATE_LEN || !ml_reader_u8(&r, &b) ||
        !ml_reader_u32(&r, &m.media.seq) || (b & ~FLAGS_KNOWN) != 0)
      return ML_ERR_PROTOCOL;
    m.media.muted = (b & ML_CONTROL_FLAG_MUTED) != 0;
    m.media.camera_on = (b & ML_CONTROL_FLAG_CAMERA_ON) != 0;
    m.media.video_paused = (b & ML_CONTROL_FLAG_VIDEO_PAUSED) != 0;
    break;
  case ML_CONTROL_HAND:
  case ML_CONTROL_REACTION:
  case ML_CONTROL_HOST_REQUEST:
  case ML_CONTROL_LAYER:
    if (len != ML_CONTROL_SHORT_LEN || !ml_reader_u8(&r, &b) || !ml_reader_u32(&r, &m.seq))
      return ML_ERR_PROTOCOL;
    if (m.type == ML_CONTROL_HAND) {
      if ((b & ~ML_CONTROL_HAND_RAISED) != 0)
        return ML_ERR_PROTOCOL;
      m.raised = b != 0;
    } else {
      if (!valid_code(m.type, b))
        return ML_ERR_PROTOCOL;
      m.code = b;
    }
    break;
  case ML_CONTROL_SPOTLIGHT:
  case ML_CONTROL_SIGNAL_ID: {
    const uint8_t *id;
    if (len < ML_CONTROL_SPOTLIGHT_MIN_LEN || !ml_reader_u32(&r, &m.seq) || !ml_reader_u8(&r, &b) ||
        b > ML_CONTROL_MAX_PEER_ID || len != ML_CONTROL_SPOTLIGHT_MIN_LEN + (size_t)b ||
        (m.type == ML_CONTROL_SIGNAL_ID && b == 0) || !ml_reader_bytes(&r, b, &id))
      return ML_ERR_PROTOCOL;
    for (size_t i = 0; i < b; i++)
      if (!id_char(id[i]))
        return ML_ERR_PROTOCOL;
    memcpy(m.peer, id, b);
    m.peer[b] = '\0';
    break;
  }
  }
  *out = m;
  return ML_OK;
}
