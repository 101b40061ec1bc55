#include "ml/identity.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sodium.h>

#include "identity_internal.h"
#include "ml/bytes.h"

#define ID_MAGIC "MLID"
#define ID_MAGIC_LEN 4
#define ID_VERSION 1
#define ID_FLAG_SEALED 0x01
#define ID_SEED_LEN crypto_sign_SEEDBYTES
#define ID_SALT_LEN crypto_pwhash_SALTBYTES
#define ID_BOX_LEN (crypto_secretbox_MACBYTES + ID_SEED_LEN)
#define ID_HEADER_LEN (ID_MAGIC_LEN + 1 + 1)
#define ID_UNSEALED_LEN (ID_HEADER_LEN + ID_SEED_LEN + ML_IDENTITY_PUBLIC_LEN)
#define ID_SEALED_LEN                                                                              \
  (ID_HEADER_LEN + ID_SALT_LEN + 8 + 8 + crypto_secretbox_NONCEBYTES + ID_BOX_LEN +                \
   ML_IDENTITY_PUBLIC_LEN)
/* Far above either format; anything larger is not ours and is not read. */
#define ID_FILE_MAX 4096

/* The Argon2id limits a file may ask for (bounds the work a tampered file causes). */
#define ID_OPSLIMIT_MIN ((unsigned long long)crypto_pwhash_OPSLIMIT_MIN)
#define ID_OPSLIMIT_MAX ((unsigned long long)crypto_pwhash_OPSLIMIT_SENSITIVE)
#define ID_MEMLIMIT_MIN ((unsigned long long)crypto_pwhash_MEMLIMIT_MIN)
#define ID_MEMLIMIT_MAX ((unsigned long long)crypto_pwhash_MEMLIMIT_SENSITIVE)

_Static_assert(ID_UNSEALED_LEN == 70, "unsealed identity file is 70 bytes");
_Static_assert(ID_SEALED_LEN == 142, "sealed identity file is 142 bytes");
_Static_assert(crypto_secretbox_KEYBYTES == 32, "secretbox key");

struct ml_identity {
  uint8_t *secret; /* sodium_malloc: crypto_sign secret key (seed || public), read-only */
  uint8_t public_key[ML_IDENTITY_PUBLIC_LEN];
};

/* Everything secret that loading or saving touches, in one sodium_malloc block. */
typedef struct secret_scratch {
  uint8_t file[ID_FILE_MAX + 1]; /* file image: holds the bare seed when unsealed */
  uint8_t key[crypto_secretbox_KEYBYTES];
  uint8_t seed[ID_SEED_LEN];
} secret_scratch;

static int sodium_ready(void) { return sodium_init() < 0 ? ML_ERR_CRYPTO : ML_OK; }

static secret_scratch *scratch_new(void) {
  secret_scratch *s = sodium_malloc(sizeof *s);
  if (s)
    sodium_memzero(s, sizeof *s);
  return s;
}

/* libsodium ready and a zeroed scratch in *s (the caller frees it):
 * ML_OK, sodium_ready()'s error, or ML_ERR_NOMEM. */
static int scratch_begin(secret_scratch **s) {
  int rc = sodium_ready();
  if (rc != ML_OK)
    return rc;
  *s = scratch_new();
  return *s ? ML_OK : ML_ERR_NOMEM;
}

static int identity_from_seed(ml_identity **out, const uint8_t seed[ID_SEED_LEN]) {
  ml_identity *id = calloc(1, sizeof *id);
  if (!id)
    return ML_ERR_NOMEM;
  id->secret = sodium_malloc(crypto_sign_SECRETKEYBYTES);
  if (!id->secret) {
    free(id);
    return ML_ERR_NOMEM;
  }
  if (crypto_sign_seed_keypair(id->public_key, id->secret, seed) != 0) {
    ml_identity_free(id);
    return ML_ERR_CRYPTO;
  }
  sodium_mprotect_readonly(id->secret);
  *out = id;
  return ML_OK;
}

int ml_identity_generate(ml_identity **out) {
  assert(out);
  secret_scratch *s = NULL;
  int rc = scratch_begin(&s);
  if (rc != ML_OK)
    return rc;
  randombytes_buf(s->seed, sizeof s->seed);
  rc = identity_from_seed(out, s->seed);
  sodium_free(s);
  return rc;
}

void ml_identity_free(ml_identity *id) {
  if (!id)
    return;
  sodium_free(id->secret); /* wipes; accepts the read-only protection */
  free(id);
}

const uint8_t *ml_identity_public_key(const ml_identity *id) {
  assert(id);
  return id->public_key;
}

void ml_identity_noise_private(const ml_identity *id, uint8_t out[ML_IDENTITY_X25519_LEN]) {
  assert(id && out);
  crypto_sign_ed25519_sk_to_curve25519(out, id->secret);
}

int ml_identity_noise_public(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN],
                             uint8_t out[ML_IDENTITY_X25519_LEN]) {
  assert(ed25519_public && out);
  if (crypto_sign_ed25519_pk_to_curve25519(out, ed25519_public) != 0)
    return ML_ERR_CRYPTO;
  return ML_OK;
}

void ml_identity_fingerprint(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN],
                             char out[ML_IDENTITY_FINGERPRINT_LEN]) {
  static const char hex[] = "0123456789abcdef";
  assert(ed25519_public && out);
  uint8_t h[16];
  crypto_generichash(h, sizeof h, ed25519_public, ML_IDENTITY_PUBLIC_LEN, NULL, 0);
  size_t o = 0;
  for (size_t i = 0; i < sizeof h; i++) {
    if (i > 0 && i % 2 == 0)
      out[o++] = ' ';
    out[o++] = hex[h[i] >> 4];
    out[o++] = hex[h[i] & 0x0f];
  }
  out[o] = '\0';
  assert(o + 1 == ML_IDENTITY_FINGERPRINT_LEN);
}

void ml_identity_sign(const ml_identity *id, const uint8_t *msg, size_t len, uint8_t sig[64]) {
  assert(id && (msg || len == 0) && sig);
  crypto_sign_detached(sig, NULL, msg, len, id->secret);
}

int ml_identity_verify(const uint8_t ed25519_public[ML_IDENTITY_PUBLIC_LEN], const uint8_t *msg,
                       size_t len, const uint8_t sig[64]) {
  assert(ed25519_public && (msg || len == 0) && sig);
  if (crypto_sign_verify_detached(sig, msg, len, ed25519_public) != 0)
    return ML_ERR_CRYPTO;
  return ML_OK;
}

/* ---- file system helpers ---- */

static bool has_passphrase(const char *passphrase) { return passphrase && passphrase[0] != '\0'; }

/* "dir/name" -> "dir"; "name" -> "."; "/name" -> "/". (transfer full) */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  size_t n = (size_t)(slash - path);
  if (n == 0)
    n = 1; /* the root */
  char *d = malloc(n + 1);
  if (!d)
    return NULL;
  memcpy(d, path, n);
  d[n] = '\0';
  return d;
}

/* Creates every missing directory of dir with mode 0700; existing ones stay as they are. */
static int make_dirs(const char *dir) {
  char *p = strdup(dir);
  if (!p)
    return ML_ERR_NOMEM;
  int rc = ML_OK;
  size_t n = strlen(p);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != '\0')
      continue;
    if (p[i - 1] == '/')
      continue; /* "//" or a trailing slash */
    char saved = p[i];
    p[i] = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
      struct stat st;
      if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = ML_ERR_IO;
        break;
      }
    }
    p[i] = saved;
  }
  free(p);
  return rc;
}

static bool write_all(int fd, const uint8_t *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    buf += n;
    len -= (size_t)n;
  }
  return true;
}

static bool fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = fsync(fd) == 0;
  return close(fd) == 0 && ok;
}

/* Creates "<path>.tmp-<16 hex>" exclusively with mode 0600. (transfer full of *tmp_out) */
static int create_temp(const char *path, char **tmp_out, int *fd_out) {
  size_t n = strlen(path) + sizeof ".tmp-" + 16;
  char *tmp = malloc(n);
  if (!tmp)
    return ML_ERR_NOMEM;
  for (int attempt = 0; attempt < 16; attempt++) {
    uint8_t r[8];
    char hex[2 * sizeof r + 1];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(hex, sizeof hex, r, sizeof r);
    (void)snprintf(tmp, n, "%s.tmp-%s", path, hex); /* n is exact: cannot truncate */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      *tmp_out = tmp;
      *fd_out = fd;
      return ML_OK;
    }
    if (errno != EEXIST)
      break;
  }
  free(tmp);
  return ML_ERR_IO;
}

/* Puts len bytes at path atomically. With replace, rename(2) replaces any
 * file there; without, link(2) refuses an existing one and *existed is set
 * (on a file system without hard links it falls back to rename). */
static int write_file_atomic(const char *path, const uint8_t *buf, size_t len, bool replace,
                             bool *existed) {
  char *dir = dir_of(path);
  if (!dir)
    return ML_ERR_NOMEM;
  char *tmp = NULL;
  int fd = -1;
  int rc = make_dirs(dir);
  if (rc != ML_OK)
    goto out;
  rc = create_temp(path, &tmp, &fd);
  if (rc != ML_OK)
    goto out;

  /* umask can only clear bits of 0600; fchmod makes the mode exact anyway. */
  bool ok = fchmod(fd, 0600) == 0 && write_all(fd, buf, len) && fsync(fd) == 0;
  ok = (close(fd) == 0) && ok;
  fd = -1;
  if (!ok) {
    rc = ML_ERR_IO;
    goto out;
  }
  if (replace) {
    if (rename(tmp, path) != 0) {
      rc = ML_ERR_IO;
      goto out;
    }
  } else if (link(tmp, path) == 0) {
    unlink(tmp);
  } else if ((errno == EPERM || errno == EOPNOTSUPP) && rename(tmp, path) == 0) {
    /* A file system without hard links: fall back to replacing. */
  } else {
    if (errno == EEXIST)
      *existed = true;
    rc = ML_ERR_IO;
    goto out;
  }
  free(tmp);
  tmp = NULL; /* it is path now */
  if (!fsync_dir(dir))
    rc = ML_ERR_IO; /* in place, but not known to be durable */

out:
  if (tmp) {
    unlink(tmp);
    free(tmp);
  }
  free(dir);
  return rc;
}

/* ---- encoding ---- */

/* Builds the file image of id in s->file; *len_out its length. */
static int encode(const ml_identity *id, const char *passphrase, unsigned long long opslimit,
                  size_t memlimit, secret_scratch *s, size_t *len_out) {
  ml_writer w = ml_writer_init(s->file, sizeof s->file);
  bool sealed = has_passphrase(passphrase);
  crypto_sign_ed25519_sk_to_seed(s->seed, id->secret);

  ml_writer_bytes(&w, ID_MAGIC, ID_MAGIC_LEN);
  ml_writer_u8(&w, ID_VERSION);
  ml_writer_u8(&w, sealed ? ID_FLAG_SEALED : 0);
  if (sealed) {
    uint8_t salt[ID_SALT_LEN], nonce[crypto_secretbox_NONCEBYTES], box[ID_BOX_LEN];
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    if (crypto_pwhash(s->key, sizeof s->key, passphrase, strlen(passphrase), salt, opslimit,
                      memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
      return ML_ERR_NOMEM; /* the only way it fails within our limits */
    crypto_secretbox_easy(box, s->seed, sizeof s->seed, nonce, s->key);
    ml_writer_bytes(&w, salt, sizeof salt);
    ml_writer_u64(&w, (uint64_t)opslimit);
    ml_writer_u64(&w, (uint64_t)memlimit);
    ml_writer_bytes(&w, nonce, sizeof nonce);
    ml_writer_bytes(&w, box, sizeof box);
  } else {
    ml_writer_bytes(&w, s->seed, sizeof s->seed);
  }
  ml_writer_bytes(&w, id->public_key, sizeof id->public_key);
  assert(!w.failed);
  assert(w.pos == (sealed ? ID_SEALED_LEN : ID_UNSEALED_LEN));
  *len_out = w.pos;
  return ML_OK;
}

static int save(const ml_identity *id, const char *path, const char *passphrase,
                unsigned long long opslimit, size_t memlimit, bool replace, bool *existed) {
  assert(id && path);
  secret_scratch *s = NULL;
  int rc = scratch_begin(&s);
  if (rc != ML_OK)
    return rc;
  size_t len = 0;
  rc = encode(id, passphrase, opslimit, memlimit, s, &len);
  if (rc == ML_OK)
    rc = write_file_atomic(path, s->file, len, replace, existed);
  sodium_free(s);
  return rc;
}

int ml_identity_save_with_limits(const ml_identity *id, const char *path, const char *passphrase,
                                 unsigned long long opslimit, size_t memlimit) {
  assert(opslimit >= ID_OPSLIMIT_MIN && opslimit <= ID_OPSLIMIT_MAX);
  assert(memlimit >= ID_MEMLIMIT_MIN && memlimit <= ID_MEMLIMIT_MAX);
  bool existed = false;
  return save(id, path, passphrase, opslimit, memlimit, true, &existed);
}

int ml_identity_save(const ml_identity *id, const char *path, const char *passphrase) {
  return ml_identity_save_with_limits(id, path, passphrase, crypto_pwhash_OPSLIMIT_MODERATE,
                                      crypto_pwhash_MEMLIMIT_MODERATE);
}

/* ---- decoding ---- */

/* Parses a file image (untrusted) into a seed; checks the public key. */
static int decode(const uint8_t *buf, size_t len, const char *passphrase, secret_scratch *s,
                  ml_identity **out) {
  ml_reader r = ml_reader_init(buf, len);
  const uint8_t *magic;
  uint8_t version, flags;
  if (!ml_reader_bytes(&r, ID_MAGIC_LEN, &magic) || memcmp(magic, ID_MAGIC, ID_MAGIC_LEN) != 0)
    return ML_ERR_PROTOCOL;
  if (!ml_reader_u8(&r, &version))
    return ML_ERR_PROTOCOL;
  if (version > ID_VERSION)
    return ML_ERR_UNSUPPORTED;
  if (version != ID_VERSION || !ml_reader_u8(&r, &flags) || (flags & ~ID_FLAG_SEALED) != 0)
    return ML_ERR_PROTOCOL;

  const uint8_t *public_key;
  if (flags & ID_FLAG_SEALED) {
    const uint8_t *salt, *nonce, *box;
    uint64_t opslimit, memlimit;
    if (!ml_reader_bytes(&r, ID_SALT_LEN, &salt) || !ml_reader_u64(&r, &opslimit) ||
        !ml_reader_u64(&r, &memlimit) ||
        !ml_reader_bytes(&r, crypto_secretbox_NONCEBYTES, &nonce) ||
        !ml_reader_bytes(&r, ID_BOX_LEN, &box) ||
        !ml_reader_bytes(&r, ML_IDENTITY_PUBLIC_LEN, &public_key) || ml_reader_remaining(&r) != 0)
      return ML_ERR_PROTOCOL;
    if (opslimit < ID_OPSLIMIT_MIN || opslimit > ID_OPSLIMIT_MAX || memlimit < ID_MEMLIMIT_MIN ||
        memlimit > ID_MEMLIMIT_MAX)
      return ML_ERR_PROTOCOL;
    if (!has_passphrase(passphrase))
      return ML_ERR_PASSPHRASE;
    if (crypto_pwhash(s->key, sizeof s->key, passphrase, strlen(passphrase), salt,
                      (unsigned long long)opslimit, (size_t)memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
      return ML_ERR_NOMEM;
    if (crypto_secretbox_open_easy(s->seed, box, ID_BOX_LEN, nonce, s->key) != 0)
      return ML_ERR_PASSPHRASE;
  } else {
    if (!ml_reader_copy(&r, s->seed, sizeof s->seed) ||
        !ml_reader_bytes(&r, ML_IDENTITY_PUBLIC_LEN, &public_key) || ml_reader_remaining(&r) != 0)
      return ML_ERR_PROTOCOL;
  }

  ml_identity *id = NULL;
  int rc = identity_from_seed(&id, s->seed);
  if (rc != ML_OK)
    return rc;
  if (sodium_memcmp(id->public_key, public_key, ML_IDENTITY_PUBLIC_LEN) != 0) {
    ml_identity_free(id);
    return ML_ERR_PROTOCOL;
  }
  *out = id;
  return ML_OK;
}

/* Reads at most cap bytes; *len is what was read (cap means "there may be more"). */
static bool read_bounded(int fd, uint8_t *buf, size_t cap, size_t *len) {
  size_t got = 0;
  while (got < cap) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  *len = got;
  return true;
}

int ml_identity_load(ml_identity **out, const char *path, const char *passphrase) {
  assert(out && path);
  int rc = sodium_ready();
  if (rc != ML_OK)
    return rc;
  /* O_NONBLOCK: opening a FIFO planted at path must not hang; no effect on a regular file. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return (errno == ENOENT || errno == ENOTDIR) ? ML_ERR_NOT_FOUND : ML_ERR_IO;

  secret_scratch *s = NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = ML_ERR_IO;
    goto out;
  }
  if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
    rc = ML_ERR_PERMISSION;
    goto out;
  }
  if (st.st_size > ID_FILE_MAX) {
    rc = ML_ERR_PROTOCOL;
    goto out;
  }
  s = scratch_new();
  if (!s) {
    rc = ML_ERR_NOMEM;
    goto out;
  }
  size_t len = 0;
  if (!read_bounded(fd, s->file, sizeof s->file, &len)) {
    rc = ML_ERR_IO;
    goto out;
  }
  if (len > ID_FILE_MAX) { /* grew since fstat */
    rc = ML_ERR_PROTOCOL;
    goto out;
  }
  rc = decode(s->file, len, passphrase, s, out);

out:
  sodium_free(s);
  close(fd);
  return rc;
}

int ml_identity_load_or_create(ml_identity **out, const char *path, const char *passphrase,
                               int *created) {
  assert(out && path);
  int rc = ml_identity_load(out, path, passphrase);
  if (rc != ML_ERR_NOT_FOUND) {
    if (rc == ML_OK && created)
      *created = 0;
    return rc;
  }
  ml_identity *id = NULL;
  rc = ml_identity_generate(&id);
  if (rc != ML_OK)
    return rc;
  bool existed = false;
  rc = save(id, path, passphrase, crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE,
            false, &existed);
  if (rc != ML_OK) {
    ml_identity_free(id);
    if (!existed)
      return rc;
    /* Another process created it first: use theirs. */
    rc = ml_identity_load(out, path, passphrase);
    if (rc == ML_OK && created)
      *created = 0;
    return rc;
  }
  *out = id;
  if (created)
    *created = 1;
  return ML_OK;
}

int ml_identity_default_path(char *out, size_t cap) {
  assert(out || cap == 0);
  const char *xdg = getenv("XDG_DATA_HOME");
  int n;
  if (xdg && xdg[0] == '/') {
    n = snprintf(out, cap, "%s/mentorlink/identity.key", xdg);
  } else {
    const char *home = getenv("HOME");
    if (!home || home[0] == '\0')
      return ML_ERR_NOT_FOUND;
    n = snprintf(out, cap, "%s/.local/share/mentorlink/identity.key", home);
  }
  if (n < 0 || (size_t)n >= cap)
    return ML_ERR_BUFFER;
  return ML_OK;
}
