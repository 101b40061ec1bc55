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
 * The session controls (docs/PROTOCOL.md, "Session controls") share one
 * shape, u32 seq after the header, newer-than-last by the same arithmetic:
 *   type 2 HAND          7 bytes: flags (bit 0 raised), seq. The sender's
 *                        own hand; on change and repeated once per second.
 *   type 3 REACTION      7 bytes: reaction (ml_control_reaction), seq.
 *                        One-shot; sent ML_CONTROL_REPEATS times.
 *   type 4 HOST_REQUEST  7 bytes: action (ml_control_request), seq. From a
 *                        host to one peer; one-shot, sent ML_CONTROL_REPEATS
 *                        times. The receiver acts only when the sender is a
 *                        host of the room as the server announced it.
 *   type 5 SPOTLIGHT     8..72 bytes: seq, u8 n (0..64), n bytes of a peer
 *                        id ([A-Za-z0-9_.-]; n = 0: nobody). From a host to
 *                        everyone; repeated once per second (host only too).
 *   type 6 SIGNAL_ID     8..72 bytes: seq, u8 n (1..64), n bytes of the
 *                        sender's own peer id on the signaling server. From
 *                        everyone; on change (a reconnect gives a new id) and
 *                        repeated once per second. A peer back under a new id
 *                        is taken for the same one only when its link says so.
 *   type 7 LAYER         7 bytes: layer (0 small, 1 large: ml_media_layer), seq.
 *                        From a receiver to one sender: which of its two video
 *                        layers to send (by the size it shows that sender at);
 *                        on change and repeated once per second. The sender
 *                        may send the small one anyway when the link is weak.
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
#define ML_CONTROL_MEDIA_STATE_LEN 7   /* header + flags + seq */
#define ML_CONTROL_SHORT_LEN 7         /* HAND, REACTION, HOST_REQUEST, LAYER: header + u8 + seq */
#define ML_CONTROL_MAX_PEER_ID 64      /* SPOTLIGHT's peer id, bytes */
#define ML_CONTROL_SPOTLIGHT_MIN_LEN 7 /* header + seq + n */
#define ML_CONTROL_MAX_LEN (ML_CONTROL_SPOTLIGHT_MIN_LEN + ML_CONTROL_MAX_PEER_ID)
#define ML_CONTROL_REPEATS 3 /* one-shot messages: sent now and on the next two ticks */

typedef enum ml_control_type {
  ML_CONTROL_MEDIA_STATE = 1,
  ML_CONTROL_HAND = 2,
  ML_CONTROL_REACTION = 3,
  ML_CONTROL_HOST_REQUEST = 4,
  ML_CONTROL_SPOTLIGHT = 5,
  ML_CONTROL_SIGNAL_ID = 6,
  ML_CONTROL_LAYER = 7,
} ml_control_type;

#define ML_CONTROL_LAYER_SMALL 0
#define ML_CONTROL_LAYER_LARGE 1

/* The fixed set of reactions (1..ML_CONTROL_REACTION_COUNT - 1). */
typedef enum ml_control_reaction {
  ML_CONTROL_REACTION_THUMBS_UP = 1,
  ML_CONTROL_REACTION_CLAP = 2,
  ML_CONTROL_REACTION_HEART = 3,
  ML_CONTROL_REACTION_LAUGH = 4,
  ML_CONTROL_REACTION_SURPRISE = 5,
  ML_CONTROL_REACTION_QUESTION = 6,
  ML_CONTROL_REACTION_COUNT
} ml_control_reaction;

/* What a host asks of one peer. */
typedef enum ml_control_request {
  ML_CONTROL_REQUEST_MUTE = 1,       /* mute your microphone (only you can unmute) */
  ML_CONTROL_REQUEST_LOWER_HAND = 2, /* lower your hand */
} ml_control_request;

#define ML_CONTROL_HAND_RAISED 0x01u

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
  uint32_t seq;                 /* the other types */
  bool raised;                  /* HAND */
  uint8_t code;                 /* REACTION: ml_control_reaction; HOST_REQUEST: ml_control_request;
                                   LAYER: ML_CONTROL_LAYER_SMALL or _LARGE */
  char peer[ML_CONTROL_MAX_PEER_ID + 1]; /* SPOTLIGHT: the peer id, "" for nobody; SIGNAL_ID */
} ml_control_message;

/* The name of a reaction ("thumbs_up", "clap", "heart", "laugh",
 * "surprise", "question"), NULL when out of range; and back (0: unknown). */
const char *ml_control_reaction_name(unsigned reaction);
unsigned ml_control_reaction_from_name(const char *name);

/* Writes a MEDIA_STATE message to out (cap bytes). Returns its length
 * (ML_CONTROL_MEDIA_STATE_LEN), or 0 when cap is too small. */
size_t ml_control_write_media_state(const ml_control_media_state *state, uint8_t *out, size_t cap);

/* Writes any message m (its type's fields) to out (cap bytes). Returns its
 * length, or 0 when cap is too small or a field is out of range (a
 * reaction or request outside the set, a spotlight id that is too long or
 * not of the id characters). */
size_t ml_control_write(const ml_control_message *m, uint8_t *out, size_t cap);

/* Parses one CONTROL payload from a peer (untrusted, any length). Errors:
 * ML_ERR_UNSUPPORTED (unknown version or type: ignore it), ML_ERR_PROTOCOL
 * (malformed: empty, wrong length, reserved bits, a reaction or
 * request outside the set, a spotlight id of other characters). out is written only on
 * success. */
int ml_control_parse(const uint8_t *data, size_t len, ml_control_message *out) ML_MUST_CHECK;

#endif /* ML_CONTROL_H */
