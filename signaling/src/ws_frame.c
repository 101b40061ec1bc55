/* RFC 6455 frames for the server side. See ws_frame.h. */
#include "ws_frame.h"

#include <string.h>

void ml_ws_reader_init(ml_ws_reader *r, uint64_t max_message) {
  memset(r, 0, sizeof *r);
  r->in = g_byte_array_new();
  r->msg = g_byte_array_new();
  r->max_message = max_message;
}

void ml_ws_reader_clear(ml_ws_reader *r) {
  if (r->in)
    g_byte_array_unref(r->in);
  if (r->msg)
    g_byte_array_unref(r->msg);
  memset(r, 0, sizeof *r);
}

void ml_ws_reader_feed(ml_ws_reader *r, const uint8_t *data, size_t len) {
  if (!r->done && len > 0)
    g_byte_array_append(r->in, data, (guint)len);
}

bool ml_ws_close_code_valid(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

/* UTF-8 as RFC 3629 has it: U+0000 is a character (GLib's check refuses it). */
static bool utf8_valid(const uint8_t *p, size_t len) {
  while (len > 0) {
    const uint8_t *nul = memchr(p, 0, len);
    size_t seg = nul ? (size_t)(nul - p) : len;
    if (!g_utf8_validate_len((const char *)p, seg, NULL))
      return false;
    seg += nul ? 1 : 0;
    p += seg;
    len -= seg;
  }
  return true;
}

static bool fail(ml_ws_reader *r, ml_ws_event *ev, unsigned short code) {
  r->done = true;
  *ev = (ml_ws_event){.kind = ML_WS_EV_ERROR, .code = code};
  return true;
}

static bool is_control(unsigned op) { return op >= 0x8; }

static bool known_opcode(unsigned op) {
  return op <= ML_WS_OP_BINARY || (op >= ML_WS_OP_CLOSE && op <= ML_WS_OP_PONG);
}

/* A close frame's payload: code and reason, or an error. */
static bool close_event(ml_ws_reader *r, ml_ws_event *ev, const uint8_t *p, size_t len) {
  if (len == 1)
    return fail(r, ev, ML_WS_CLOSE_PROTOCOL_ERROR);
  unsigned short code = ML_WS_CLOSE_NO_STATUS;
  if (len >= 2) {
    code = (unsigned short)(p[0] << 8 | p[1]);
    if (!ml_ws_close_code_valid(code))
      return fail(r, ev, ML_WS_CLOSE_PROTOCOL_ERROR);
    if (!utf8_valid(p + 2, len - 2))
      return fail(r, ev, ML_WS_CLOSE_BAD_DATA);
  }
  r->done = true;
  *ev = (ml_ws_event){.kind = ML_WS_EV_CLOSE,
                      .data = len >= 2 ? p + 2 : NULL,
                      .len = len >= 2 ? len - 2 : 0,
                      .code = code};
  return true;
}

bool ml_ws_reader_next(ml_ws_reader *r, ml_ws_event *ev) {
  if (r->taken) {
    g_byte_array_remove_range(r->in, 0, (guint)r->taken);
    r->taken = 0;
  }
  if (r->msg_ready) {
    g_byte_array_set_size(r->msg, 0);
    r->msg_ready = false;
  }
  for (;;) {
    if (r->done)
      return false;
    const uint8_t *b = r->in->data;
    size_t have = r->in->len;
    if (have < 2)
      return false;
    bool fin = b[0] & 0x80u;
    unsigned op = b[0] & 0x0Fu;
    bool masked = b[1] & 0x80u;
    uint64_t len = b[1] & 0x7Fu;
    size_t hlen = 2;
    if ((b[0] & 0x70u) || !known_opcode(op) || !masked)
      return fail(r, ev, ML_WS_CLOSE_PROTOCOL_ERROR);
    if (is_control(op) && (!fin || len > ML_WS_MAX_CONTROL))
      return fail(r, ev, ML_WS_CLOSE_PROTOCOL_ERROR);
    if (len == 126) {
      if (have < 4)
        return false;
      len = (uint64_t)b[2] << 8 | b[3];
      hlen = 4;
    } else if (len == 127) {
      if (have < 10)
        return false;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = len << 8 | b[2 + i];
      if (len >> 63)
        return fail(r, ev, ML_WS_CLOSE_PROTOCOL_ERROR);
      hlen = 10;
    }
    if (op == ML_WS_OP_CONTINUATION && r->msg_op == ML_WS_OP_CONTINUATION)
      return fail(r, ev, ML_WS_CLOSE_PROTOCOL_ERROR); /* nothing to continue */
    if ((op == ML_WS_OP_TEXT || op == ML_WS_OP_BINARY) && r->msg_op != ML_WS_OP_CONTINUATION)
      return fail(r, ev, ML_WS_CLOSE_PROTOCOL_ERROR); /* a new message inside a fragmented one */
    if (!is_control(op) && len > r->max_message - MIN(r->max_message, r->msg->len))
      return fail(r, ev, ML_WS_CLOSE_TOO_BIG);
    if (have < hlen + 4 || have - hlen - 4 < len)
      return false;
    const uint8_t *mask = b + hlen;
    uint8_t *p = r->in->data + hlen + 4;
    for (size_t i = 0; i < len; i++)
      p[i] ^= mask[i & 3];
    r->taken = hlen + 4 + (size_t)len;

    if (is_control(op)) {
      if (op == ML_WS_OP_CLOSE)
        return close_event(r, ev, p, (size_t)len);
      *ev = (ml_ws_event){.kind = op == ML_WS_OP_PING ? ML_WS_EV_PING : ML_WS_EV_PONG,
                          .data = p,
                          .len = (size_t)len};
      return true;
    }
    if (op != ML_WS_OP_CONTINUATION)
      r->msg_op = op;
    if (!fin || r->msg->len > 0) {
      /* Fragmented: collect until the final frame, then hand over msg. */
      g_byte_array_append(r->msg, p, (guint)len);
      g_byte_array_remove_range(r->in, 0, (guint)r->taken);
      r->taken = 0;
      if (!fin)
        continue;
      p = r->msg->data;
      len = r->msg->len;
      r->msg_ready = true;
    }
    ml_ws_opcode mop = r->msg_op;
    r->msg_op = ML_WS_OP_CONTINUATION;
    if (mop == ML_WS_OP_TEXT && !utf8_valid(p, (size_t)len))
      return fail(r, ev, ML_WS_CLOSE_BAD_DATA);
    *ev = (ml_ws_event){
        .kind = mop == ML_WS_OP_TEXT ? ML_WS_EV_TEXT : ML_WS_EV_BINARY, .data = p, .len = len};
    return true;
  }
}

size_t ml_ws_frame_header(uint8_t out[ML_WS_MAX_HEADER], ml_ws_opcode op, uint64_t len) {
  out[0] = (uint8_t)(0x80u | op);
  if (len < 126) {
    out[1] = (uint8_t)len;
    return 2;
  }
  if (len <= 0xFFFF) {
    out[1] = 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; i++)
    out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
  return 10;
}
