#include "ml/error.h"

const char *ml_strerror(int err) {
  switch ((ml_err)err) {
  case ML_OK: return "success";
  case ML_ERR_NOMEM: return "out of memory";
  case ML_ERR_INVALID: return "invalid argument";
  case ML_ERR_PROTOCOL: return "malformed or unexpected message";
  case ML_ERR_CRYPTO: return "authentication or key operation failed";
  case ML_ERR_REPLAY: return "replayed or too old datagram";
  case ML_ERR_TOO_BIG: return "message exceeds the maximum size";
  case ML_ERR_BUFFER: return "output buffer too small";
  case ML_ERR_IO: return "input/output error";
  case ML_ERR_NOT_FOUND: return "not found";
  case ML_ERR_PERMISSION: return "unsafe file permissions";
  case ML_ERR_PASSPHRASE: return "passphrase missing or wrong";
  case ML_ERR_UNSUPPORTED: return "unsupported version or algorithm";
  case ML_ERR_STATE: return "operation not possible in this state";
  case ML_ERR_COUNT: break;
  }
  return "unknown error";
}
