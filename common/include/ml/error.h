/* mentorlink — the project-wide error codes.
 *
 * Every fallible ml_ function returns one of these (ML_OK on success). They
 * describe what went wrong from the caller's point of view; programmer errors
 * (NULL where a pointer is required, a call in the wrong state) are assertions,
 * not codes. GError and errno are converted at the boundary where they arise.
 */
#ifndef ML_ERROR_H
#define ML_ERROR_H

typedef enum ml_err {
  ML_OK = 0,
  ML_ERR_NOMEM,       /* an allocation failed */
  ML_ERR_INVALID,     /* an argument or local input is not acceptable */
  ML_ERR_PROTOCOL,    /* bytes from a peer are malformed or out of sequence */
  ML_ERR_CRYPTO,      /* authentication failed, or a key operation was refused */
  ML_ERR_REPLAY,      /* a datagram was already seen or is too old for the window */
  ML_ERR_TOO_BIG,     /* a message or buffer exceeds a documented maximum */
  ML_ERR_BUFFER,      /* the caller's output buffer is too small */
  ML_ERR_IO,          /* a file or socket operation failed */
  ML_ERR_NOT_FOUND,   /* a file or record does not exist */
  ML_ERR_PERMISSION,  /* a file exists with unsafe permissions or owner */
  ML_ERR_PASSPHRASE,  /* a sealed key needs a passphrase, or the one given is wrong */
  ML_ERR_UNSUPPORTED, /* a version, suite or pattern that this build does not implement */
  ML_ERR_STATE,       /* the object cannot do this now (e.g. the channel expired) */
  ML_ERR_COUNT        /* number of codes; not a code */
} ml_err;

/* A short, static, English description of err. Never NULL. */
const char *ml_strerror(int err);

#if defined(__GNUC__)
#define ML_MUST_CHECK __attribute__((warn_unused_result))
#else
#define ML_MUST_CHECK
#endif

#endif /* ML_ERROR_H */
