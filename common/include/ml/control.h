/* mentorlink — CONTROL messages: small unreliable messages between the two
 * ends of a secure peer link (inner type ML_INNER_CONTROL, one per datagram,
 * sealed by the channel like media). Byte layout in docs/PROTOCOL.md
 * ("Control messages").
 *
 *   byte 0      version (ML_CONTROL_VERSION)
 *   byte 1      type
 *   bytes 2..   body, of the exact length the type fixes
 *
 * Type 1, MEDIA_STATE (7 bytes in all): what the sender says of its own
 * media: u8 flags (bit 0 muted, bit 1 camera on, bit 2 video paused; the
 * other bits are 0) and u32 seq (big-endian), which the sender increments on
 * every change of its state, so a receiver ignores a reordered older
 * message (serial number arithmetic: newer when (int32_t)(seq - last) > 0).
 * It is sent on change and repeated once per second.
 *
 * Parsing is strict: a known version and type with a wrong length or a
 * reserved bit set is malformed (ML_ERR_PROTOCOL); an unknown version or
 * type is ML_ERR_UNSUPPORTED, which the receiver ignores (and counts), so a
 * later version can add types.
 *
 * Threading: pure functions; any thread.
 */
#ifndef ML_CONTROL_H
#define ML_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_CONTROL_VERSION 1
#define ML_CONTROL_HEADER_LEN 2
#define ML_CONTROL_MEDIA_STATE_LEN 7 /* header + flags + seq */
#define ML_CONTROL_MAX_LEN ML_CONTROL_MEDIA_STATE_LEN

typedef enum ml_control_type {
  ML_CONTROL_MEDIA_STATE = 1,
} ml_control_type;

#define ML_CONTROL_FLAG_MUTED 0x01u
#define ML_CONTROL_FLAG_CAMERA_ON 0x02u
#define ML_CONTROL_FLAG_VIDEO_PAUSED 0x04u

typedef struct ml_control_media_state {
  bool muted, camera_on, video_paused;
  uint32_t seq;
} ml_control_media_state;

typedef struct ml_control_message {
  ml_control_type type;
  ml_control_media_state media; /* MEDIA_STATE */
} ml_control_message;

/* Writes a MEDIA_STATE message to out (cap bytes). Returns its length
 * (ML_CONTROL_MEDIA_STATE_LEN), or 0 when cap is too small. */
size_t ml_control_write_media_state(const ml_control_media_state *state, uint8_t *out, size_t cap);

/* Parses one CONTROL payload from a peer (untrusted, any length). Errors:
 * ML_ERR_UNSUPPORTED (unknown version or type: ignore it), ML_ERR_PROTOCOL
 * (malformed: empty, wrong length, reserved bits). out is written only on
 * success. */
int ml_control_parse(const uint8_t *data, size_t len, ml_control_message *out) ML_MUST_CHECK;

#endif /* ML_CONTROL_H */
