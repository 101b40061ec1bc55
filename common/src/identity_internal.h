/* mentorlink — identity internals shared with the unit tests (not installed).
 *
 * ml_identity_save always seals with libsodium's "moderate" Argon2id limits
 * (about a second and 256 MiB), too slow for a unit test that seals and
 * unseals several times. The limits are stored in the file, so a file sealed
 * with other limits loads like any other.
 */
#ifndef ML_IDENTITY_INTERNAL_H
#define ML_IDENTITY_INTERNAL_H

#include <stddef.h>

#include "ml/identity.h"

/* ml_identity_save with explicit Argon2id limits, which must lie within the
 * range ml_identity_load accepts (see ml/identity.h; asserted). */
int ml_identity_save_with_limits(const ml_identity *id, const char *path, const char *passphrase,
                                 unsigned long long opslimit, size_t memlimit) ML_MUST_CHECK;

#endif /* ML_IDENTITY_INTERNAL_H */
