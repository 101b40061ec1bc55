/* mentorlink — trust on first use: the pinned identity keys of peers.
 *
 * Like ssh's known_hosts: a text file, one line per peer display name,
 *
 *   <identity key: standard base64 with padding, 44 characters> SP <display name> LF
 *   <identity key> SP <display name> TAB "verified" LF
 *
 * Lines starting with '#' and empty lines are comments. The first time a
 * name is seen its key is pinned (a line is appended); afterwards the key a
 * peer proves in the handshake is compared with the pinned one, and a
 * different key is reported as CHANGED (the caller warns loudly; the pin is
 * not replaced: the user removes the line, or ml_pins_replace or
 * ml_pins_mark_verified is called, once the new key is verified, e.g. by
 * reading the SAS aloud).
 *
 * The second form records that the user verified that key (compared the SAS
 * or the safety number with the peer). A display name never contains a TAB
 * (no control characters), so a name cannot forge the mark, and files
 * written before the mark existed parse unchanged. After the TAB exactly
 * "verified" must follow; anything else makes the file corrupt.
 *
 * The file lives at $XDG_DATA_HOME/mentorlink/known_peers (default
 * ~/.local/share/mentorlink/known_peers), mode 0600 in a 0700 directory; it
 * is refused when group or others have any permission on it or another user
 * owns it (a planted pin would silence the warning). It is rewritten
 * atomically (temporary file, fsync, rename) under an flock on
 * "<path>.lock", so two processes pinning at once both keep their lines.
 * Bounds: at most ML_PINS_MAX_FILE bytes; a line that does not parse makes
 * the file corrupt (ML_ERR_PROTOCOL) rather than being skipped, so a damaged
 * file never silently forgets a pin.
 *
 * Threading: no shared state; any thread. Blocking file I/O (small file).
 */
#ifndef ML_PINS_H
#define ML_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"
#include "ml/identity.h"

#define ML_PINS_MAX_FILE (1024L * 1024L)
#define ML_PINS_MAX_NAME 64 /* bytes of UTF-8, as the signaling display name */

typedef enum ml_pin_status {
  ML_PIN_NEW,     /* no pin for this name: it is pinned now */
  ML_PIN_MATCH,   /* the pinned key */
  ML_PIN_CHANGED, /* a different key is pinned for this name: warn */
} ml_pin_status;

/* "$XDG_DATA_HOME/mentorlink/known_peers" (absolute XDG_DATA_HOME only), else
 * "$HOME/.local/share/mentorlink/known_peers". ML_ERR_BUFFER if cap is too
 * small, ML_ERR_NOT_FOUND if neither variable applies. */
int ml_pins_default_path(char *out, size_t cap) ML_MUST_CHECK;

/* Looks name up in the file at path (created if missing) and pins key when
 * the name is new. *status says which; on ML_PIN_CHANGED, pinned (may be
 * NULL) receives the key pinned before. Errors: ML_ERR_INVALID (name empty,
 * too long, not UTF-8 or with control characters), ML_ERR_PERMISSION,
 * ML_ERR_PROTOCOL (corrupt file), ML_ERR_TOO_BIG (file over ML_PINS_MAX_FILE),
 * ML_ERR_IO. */
int ml_pins_check(const char *path, const char *name, const uint8_t key[ML_IDENTITY_PUBLIC_LEN],
                  ml_pin_status *status, uint8_t pinned[ML_IDENTITY_PUBLIC_LEN]) ML_MUST_CHECK;

/* ml_pins_check that also tells (verified, may be NULL) whether the pin is
 * marked verified: true only when *status is ML_PIN_MATCH and its line
 * carries the mark (a new pin is never verified). Errors as ml_pins_check. */
int ml_pins_check_verified(const char *path, const char *name,
                           const uint8_t key[ML_IDENTITY_PUBLIC_LEN], ml_pin_status *status,
                           uint8_t pinned[ML_IDENTITY_PUBLIC_LEN], bool *verified) ML_MUST_CHECK;

/* Pins key for name, replacing any earlier pin of that name (its verified
 * mark goes with it). Errors as ml_pins_check. */
int ml_pins_replace(const char *path, const char *name,
                    const uint8_t key[ML_IDENTITY_PUBLIC_LEN]) ML_MUST_CHECK;

/* The user verified key for name: pins it marked verified, replacing any
 * earlier pin of that name (a CHANGED one included). Errors as
 * ml_pins_check. */
int ml_pins_mark_verified(const char *path, const char *name,
                          const uint8_t key[ML_IDENTITY_PUBLIC_LEN]) ML_MUST_CHECK;

#endif /* ML_PINS_H */
