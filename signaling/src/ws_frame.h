/* mentorlink-signal — RFC 6455 frames as a server reads and writes them.
 *
 * Pure code, no I/O: ws.c feeds what it reads from a socket into a reader and
 * takes complete messages, pings, pongs and closes out of it; every byte comes
 * from the network and is treated as hostile. The reader enforces what a
 * server must (section 5): client frames are masked, no reserved bits (no
 * extension is negotiated), known opcodes only, control frames final and at
 * most 125 bytes, continuation only inside a fragmented message, text is
 * UTF-8, close codes are valid. A message (all fragments together) over
 * `max_message` ends the connection with 1009 as soon as its header says so,
 * before its payload is buffered.
 *
 * After an ML_WS_EV_CLOSE or ML_WS_EV_ERROR the reader yields nothing more.
 * Not thread-safe; one reader per connection.
 */
#ifndef ML_SIGNAL_WS_FRAME_H
#define ML_SIGNAL_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define ML_WS_MAX_HEADER 14 /* 2 + 8 (length) + 4 (mask) */
#define ML_WS_MAX_CONTROL 125

/* Close codes (RFC 6455 section 7.4.1). */
#define ML_WS_CLOSE_NORMAL 1000
#define ML_WS_CLOSE_GOING_AWAY 1001
#define ML_WS_CLOSE_PROTOCOL_ERROR 1002
#define ML_WS_CLOSE_NO_STATUS 1005 /* never sent: the close frame had no code */
#define ML_WS_CLOSE_ABNORMAL 1006  /* never sent: the connection ended without a close */
#define ML_WS_CLOSE_BAD_DATA 1007
#define ML_WS_CLOSE_TOO_BIG 1009

typedef enum {
  ML_WS_OP_CONTINUATION = 0x0,
  ML_WS_OP_TEXT = 0x1,
  ML_WS_OP_BINARY = 0x2,
  ML_WS_OP_CLOSE = 0x8,
  ML_WS_OP_PING = 0x9,
  ML_WS_OP_PONG = 0xA,
} ml_ws_opcode;

typedef enum {
  ML_WS_EV_TEXT,   /* a complete text message, valid UTF-8 */
  ML_WS_EV_BINARY, /* a complete binary message */
  ML_WS_EV_PING,   /* answer with a pong carrying the same data */
  ML_WS_EV_PONG,
  ML_WS_EV_CLOSE, /* the peer closes: code (ML_WS_CLOSE_NO_STATUS: none), data = reason */
  ML_WS_EV_ERROR, /* the peer broke the protocol: close with `code` */
} ml_ws_event_kind;

typedef struct ml_ws_event {
  ml_ws_event_kind kind;
  const uint8_t *data; /* valid until the next call on the reader */
  size_t len;
  unsigned short code; /* CLOSE and ERROR only */
} ml_ws_event;

typedef struct ml_ws_reader {
  GByteArray *in;      /* bytes fed and not yet taken */
  GByteArray *msg;     /* fragments of the message being assembled */
  ml_ws_opcode msg_op; /* ML_WS_OP_CONTINUATION: none in progress */
  size_t taken;        /* bytes of `in` consumed by the last event */
  bool msg_ready;      /* the last event's data is msg: empty it on the next call */
  uint64_t max_message;
  bool done;
} ml_ws_reader;

void ml_ws_reader_init(ml_ws_reader *r, uint64_t max_message);
void ml_ws_reader_clear(ml_ws_reader *r);
/* Appends len bytes read from the connection. */
void ml_ws_reader_feed(ml_ws_reader *r, const uint8_t *data, size_t len);
/* The next event, or false when more input is needed (or the reader is done).
 * The event's data stays valid until the next call on r. */
bool ml_ws_reader_next(ml_ws_reader *r, ml_ws_event *ev);
/* True when a close code may appear in a close frame (1000-1003, 1007-1011,
 * 3000-4999). */
bool ml_ws_close_code_valid(unsigned code);

/* A server frame (final, unmasked) with len bytes of payload: writes its
 * header into out and returns the header's length. */
size_t ml_ws_frame_header(uint8_t out[ML_WS_MAX_HEADER], ml_ws_opcode op, uint64_t len);

#endif /* ML_SIGNAL_WS_FRAME_H */
