/* Unit tests for the long-term identity (common/src/identity.c). Every test
 * works in its own mkdtemp directory, removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "identity_internal.h"
#include "ml/identity.h"

/* Fast Argon2id limits for sealing in tests (the default is "moderate"). */
#define TEST_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define TEST_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE

#define UNSEALED_LEN 70
#define SEALED_LEN 142

typedef struct fixture {
  char dir[256];
} fixture;

/* RFC 8032, section 7.1, TEST 1: secret key (the Ed25519 seed) and public key. */
static const uint8_t rfc_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t rfc_public[32] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};

/* "MLID", version 1, flags 0. */
static const uint8_t unsealed_header[6] = {0x4d, 0x4c, 0x49, 0x44, 0x01, 0x00};

/* ---- helpers ---- */

static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
          continue;
        char child[1024];
        if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) < (int)sizeof child)
          remove_tree(child);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

static int setup(void **state) {
  if (sodium_init() < 0)
    return -1;
  fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  const char *tmp = getenv("TMPDIR");
  int n = snprintf(f->dir, sizeof f->dir, "%s/ml-test-identity-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (n < 0 || (size_t)n >= sizeof f->dir || !mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  remove_tree(f->dir);
  free(f);
  return 0;
}

static void path_in(const fixture *f, const char *rel, char *out, size_t cap) {
  int n = snprintf(out, cap, "%s/%s", f->dir, rel);
  assert_true(n > 0 && (size_t)n < cap);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  ssize_t n = read(fd, buf, cap);
  assert_true(n >= 0);
  close(fd);
  return (size_t)n;
}

static void write_file(const char *path, const uint8_t *buf, size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(write(fd, buf, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
}

static mode_t mode_of(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_mode & 07777;
}

static size_t count_entries(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static void assert_same_identity(const ml_identity *a, const ml_identity *b) {
  assert_memory_equal(ml_identity_public_key(a), ml_identity_public_key(b), ML_IDENTITY_PUBLIC_LEN);
  uint8_t xa[ML_IDENTITY_X25519_LEN], xb[ML_IDENTITY_X25519_LEN];
  ml_identity_noise_private(a, xa);
  ml_identity_noise_private(b, xb);
  assert_memory_equal(xa, xb, sizeof xa);
  sodium_memzero(xa, sizeof xa);
  sodium_memzero(xb, sizeof xb);
}

static int load_rc(const char *path, const char *passphrase) {
  ml_identity *id = NULL;
  int rc = ml_identity_load(&id, path, passphrase);
  if (rc == ML_OK)
    assert_non_null(id);
  else
    assert_null(id); /* *out is set only on success */
  ml_identity_free(id);
  return rc;
}

/* ---- tests ---- */

static void test_round_trip_modes_and_parents(void **state) {
  fixture *f = *state;
  char path[512], parent[512], grandparent[512];
  path_in(f, "data/mentorlink/identity.key", path, sizeof path);
  path_in(f, "data/mentorlink", parent, sizeof parent);
  path_in(f, "data", grandparent, sizeof grandparent);

  ml_identity *id = NULL, *back = NULL;
  assert_int_equal(ml_identity_generate(&id), ML_OK);
  assert_int_equal(ml_identity_save(id, path, NULL), ML_OK);
  assert_int_equal(mode_of(path), 0600);
  assert_int_equal(mode_of(parent), 0700);
  assert_int_equal(mode_of(grandparent), 0700);

  uint8_t buf[256];
  size_t len = read_file(path, buf, sizeof buf);
  assert_int_equal(len, UNSEALED_LEN);
  assert_memory_equal(buf, "MLID\x01\x00", 6);
  assert_memory_equal(buf + 38, ml_identity_public_key(id), 32);

  assert_int_equal(ml_identity_load(&back, path, NULL), ML_OK);
  assert_same_identity(id, back);
  ml_identity_free(back);

  /* A passphrase given for an unsealed file is ignored. */
  assert_int_equal(ml_identity_load(&back, path, "unused"), ML_OK);
  assert_same_identity(id, back);
  ml_identity_free(back);

  /* Saving again replaces the file in place; an empty passphrase does not seal. */
  assert_int_equal(ml_identity_save(id, path, ""), ML_OK);
  assert_int_equal(read_file(path, buf, sizeof buf), UNSEALED_LEN);
  ml_identity_free(id);
  ml_identity_free(NULL);
}

static void test_file_format_known_answer(void **state) {
  fixture *f = *state;
  char path[512];
  path_in(f, "identity.key", path, sizeof path);
  /* Built by hand from docs/PROTOCOL.md: "MLID" | 1 | 0 | seed | public key. */
  uint8_t file[UNSEALED_LEN];
  memcpy(file, unsealed_header, sizeof unsealed_header);
  memcpy(file + 6, rfc_seed, 32);
  memcpy(file + 38, rfc_public, 32);
  write_file(path, file, sizeof file, 0600);

  ml_identity *id = NULL;
  assert_int_equal(ml_identity_load(&id, path, NULL), ML_OK);
  assert_memory_equal(ml_identity_public_key(id), rfc_public, 32);

  /* Saving it reproduces the same bytes. */
  char again[512];
  path_in(f, "again.key", again, sizeof again);
  assert_int_equal(ml_identity_save(id, again, NULL), ML_OK);
  uint8_t buf[256];
  assert_int_equal(read_file(again, buf, sizeof buf), UNSEALED_LEN);
  assert_memory_equal(buf, file, UNSEALED_LEN);
  ml_identity_free(id);

  /* A public key that does not belong to the seed is corruption. */
  file[38] ^= 0x01;
  write_file(path, file, sizeof file, 0600);
  assert_int_equal(load_rc(path, NULL), ML_ERR_PROTOCOL);
}

static void test_load_refuses_unsafe_permissions(void **state) {
  fixture *f = *state;
  char path[512];
  path_in(f, "identity.key", path, sizeof path);
  ml_identity *id = NULL;
  assert_int_equal(ml_identity_generate(&id), ML_OK);
  assert_int_equal(ml_identity_save(id, path, NULL), ML_OK);

  static const mode_t unsafe[] = {0644, 0640, 0604, 0660, 0606, 0620, 0602, 0610, 0601, 0666};
  for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
    assert_int_equal(chmod(path, unsafe[i]), 0);
    assert_int_equal(load_rc(path, NULL), ML_ERR_PERMISSION);
  }
  assert_int_equal(chmod(path, 0400), 0); /* owner read-only is fine */
  assert_int_equal(load_rc(path, NULL), ML_OK);
  assert_int_equal(chmod(path, 0600), 0);
  assert_int_equal(load_rc(path, NULL), ML_OK);

  if (geteuid() == 0) { /* as root we can give the file away: owned by another user */
    assert_int_equal(chown(path, 65534, 65534), 0);
    assert_int_equal(load_rc(path, NULL), ML_ERR_PERMISSION);
  }
  ml_identity_free(id);
}

static void test_sealed(void **state) {
  fixture *f = *state;
  char path[512];
  path_in(f, "sealed/identity.key", path, sizeof path);
  /* Start from a known seed, so the test can look for it in the file. */
  char plain_path[512];
  path_in(f, "plain.key", plain_path, sizeof plain_path);
  uint8_t plain[UNSEALED_LEN];
  memcpy(plain, unsealed_header, sizeof unsealed_header);
  memcpy(plain + 6, rfc_seed, 32);
  memcpy(plain + 38, rfc_public, 32);
  write_file(plain_path, plain, sizeof plain, 0600);
  ml_identity *id = NULL, *back = NULL;
  assert_int_equal(ml_identity_load(&id, plain_path, NULL), ML_OK);
  assert_int_equal(ml_identity_save_with_limits(id, path, "correct horse", TEST_OPS, TEST_MEM),
                   ML_OK);
  assert_int_equal(mode_of(path), 0600);

  uint8_t buf[256];
  assert_int_equal(read_file(path, buf, sizeof buf), SEALED_LEN);
  assert_memory_equal(buf, "MLID\x01\x01", 6);
  uint64_t ops = 0, mem = 0;
  for (int i = 0; i < 8; i++) {
    ops = (ops << 8) | buf[22 + i];
    mem = (mem << 8) | buf[30 + i];
  }
  assert_true(ops == TEST_OPS);
  assert_true(mem == TEST_MEM);
  assert_memory_equal(buf + 110, ml_identity_public_key(id), 32);
  /* The seed does not appear in clear (not even 8 bytes of it). */
  for (size_t at = 0; at + 8 <= SEALED_LEN; at++)
    for (size_t from = 0; from + 8 <= sizeof rfc_seed; from++)
      assert_true(memcmp(buf + at, rfc_seed + from, 8) != 0);

  assert_int_equal(ml_identity_load(&back, path, "correct horse"), ML_OK);
  assert_same_identity(id, back);
  ml_identity_free(back);

  assert_int_equal(load_rc(path, "wrong horse"), ML_ERR_PASSPHRASE);
  assert_int_equal(load_rc(path, NULL), ML_ERR_PASSPHRASE);
  assert_int_equal(load_rc(path, ""), ML_ERR_PASSPHRASE);

  /* Damage to the sealed part or its parameters reads as a wrong passphrase;
   * a changed public key as corruption; absurd limits are refused unread. */
  uint8_t bad[SEALED_LEN];
  memcpy(bad, buf, SEALED_LEN);
  bad[62 + 20] ^= 0x04; /* ciphertext */
  write_file(path, bad, SEALED_LEN, 0600);
  assert_int_equal(load_rc(path, "correct horse"), ML_ERR_PASSPHRASE);
  memcpy(bad, buf, SEALED_LEN);
  bad[6] ^= 0x01; /* salt */
  write_file(path, bad, SEALED_LEN, 0600);
  assert_int_equal(load_rc(path, "correct horse"), ML_ERR_PASSPHRASE);
  memcpy(bad, buf, SEALED_LEN);
  bad[141] ^= 0x01; /* public key */
  write_file(path, bad, SEALED_LEN, 0600);
  assert_int_equal(load_rc(path, "correct horse"), ML_ERR_PROTOCOL);
  memcpy(bad, buf, SEALED_LEN);
  bad[22] = 0x01; /* opslimit 2^56 + 2 */
  write_file(path, bad, SEALED_LEN, 0600);
  assert_int_equal(load_rc(path, "correct horse"), ML_ERR_PROTOCOL);
  memcpy(bad, buf, SEALED_LEN);
  bad[30] = 0xff; /* memlimit far above "sensitive" */
  write_file(path, bad, SEALED_LEN, 0600);
  assert_int_equal(load_rc(path, "correct horse"), ML_ERR_PROTOCOL);
  memcpy(bad, buf, SEALED_LEN);
  memset(bad + 22, 0, 8); /* opslimit 0 */
  write_file(path, bad, SEALED_LEN, 0600);
  assert_int_equal(load_rc(path, "correct horse"), ML_ERR_PROTOCOL);
  ml_identity_free(id);
}

static void check_every_prefix(const char *path, const uint8_t *file, size_t len,
                               const char *passphrase) {
  for (size_t n = 0; n < len; n++) {
    write_file(path, file, n, 0600);
    assert_int_equal(load_rc(path, passphrase), ML_ERR_PROTOCOL);
  }
  /* One byte too many is corrupt too. */
  uint8_t longer[SEALED_LEN + 1];
  memcpy(longer, file, len);
  longer[len] = 0;
  write_file(path, longer, len + 1, 0600);
  assert_int_equal(load_rc(path, passphrase), ML_ERR_PROTOCOL);
}

static void test_truncated_and_corrupt_files(void **state) {
  fixture *f = *state;
  char path[512], sealed_path[512], probe[512];
  path_in(f, "identity.key", path, sizeof path);
  path_in(f, "sealed.key", sealed_path, sizeof sealed_path);
  path_in(f, "probe.key", probe, sizeof probe);
  ml_identity *id = NULL;
  assert_int_equal(ml_identity_generate(&id), ML_OK);
  assert_int_equal(ml_identity_save(id, path, NULL), ML_OK);
  assert_int_equal(ml_identity_save_with_limits(id, sealed_path, "pw", TEST_OPS, TEST_MEM), ML_OK);

  uint8_t plain[UNSEALED_LEN + 1], sealed[SEALED_LEN + 1];
  assert_int_equal(read_file(path, plain, sizeof plain), UNSEALED_LEN);
  assert_int_equal(read_file(sealed_path, sealed, sizeof sealed), SEALED_LEN);

  check_every_prefix(probe, plain, UNSEALED_LEN, NULL);
  check_every_prefix(probe, sealed, SEALED_LEN, "pw");

  /* Every single-bit change of an unsealed file is refused, never accepted. */
  for (size_t i = 0; i < UNSEALED_LEN; i++) {
    for (int bit = 0; bit < 8; bit++) {
      uint8_t bad[UNSEALED_LEN];
      memcpy(bad, plain, sizeof bad);
      bad[i] ^= (uint8_t)(1u << bit);
      write_file(probe, bad, sizeof bad, 0600);
      int rc = load_rc(probe, NULL);
      if (i == 4 && (bad[4] > 1))
        assert_int_equal(rc, ML_ERR_UNSUPPORTED); /* version 3, 5, 9, ... */
      else
        assert_int_equal(rc, ML_ERR_PROTOCOL);
    }
  }

  /* Versions: 0 never existed, anything above 1 is newer than this build. */
  uint8_t v[UNSEALED_LEN];
  memcpy(v, plain, sizeof v);
  v[4] = 0;
  write_file(probe, v, sizeof v, 0600);
  assert_int_equal(load_rc(probe, NULL), ML_ERR_PROTOCOL);
  v[4] = 2;
  write_file(probe, v, sizeof v, 0600);
  assert_int_equal(load_rc(probe, NULL), ML_ERR_UNSUPPORTED);
  write_file(probe, v, 5, 0600); /* a newer version may have another layout */
  assert_int_equal(load_rc(probe, NULL), ML_ERR_UNSUPPORTED);
  v[4] = 0xff;
  write_file(probe, v, sizeof v, 0600);
  assert_int_equal(load_rc(probe, NULL), ML_ERR_UNSUPPORTED);

  /* Unknown flag bits; a large file is not read at all. */
  memcpy(v, plain, sizeof v);
  v[5] = 0x80;
  write_file(probe, v, sizeof v, 0600);
  assert_int_equal(load_rc(probe, NULL), ML_ERR_PROTOCOL);
  static uint8_t big[4097];
  memcpy(big, plain, UNSEALED_LEN);
  write_file(probe, big, sizeof big, 0600);
  assert_int_equal(load_rc(probe, NULL), ML_ERR_PROTOCOL);

  /* Not found, and not a regular file. */
  char missing[512];
  path_in(f, "nope/identity.key", missing, sizeof missing);
  assert_int_equal(load_rc(missing, NULL), ML_ERR_NOT_FOUND);
  path_in(f, "adir", missing, sizeof missing);
  assert_int_equal(mkdir(missing, 0700), 0);
  assert_int_equal(load_rc(missing, NULL), ML_ERR_IO);
  ml_identity_free(id);
}

static void test_atomic_save_leaves_no_temporary_files(void **state) {
  fixture *f = *state;
  char dir[512], path[512];
  path_in(f, "d", dir, sizeof dir);
  path_in(f, "d/identity.key", path, sizeof path);
  ml_identity *a = NULL, *b = NULL, *back = NULL;
  assert_int_equal(ml_identity_generate(&a), ML_OK);
  assert_int_equal(ml_identity_generate(&b), ML_OK);
  assert_int_equal(ml_identity_save(a, path, NULL), ML_OK);
  assert_int_equal(count_entries(dir), 1);
  assert_int_equal(ml_identity_save_with_limits(b, path, "pw", TEST_OPS, TEST_MEM), ML_OK);
  assert_int_equal(count_entries(dir), 1);
  assert_int_equal(ml_identity_load(&back, path, "pw"), ML_OK);
  assert_same_identity(b, back);
  ml_identity_free(back);

  /* A failed save: the parent "directory" is a file. Nothing is left behind. */
  char blocker[512], bad[512];
  path_in(f, "d/blocker", blocker, sizeof blocker);
  write_file(blocker, (const uint8_t *)"x", 1, 0600);
  path_in(f, "d/blocker/identity.key", bad, sizeof bad);
  assert_int_equal(ml_identity_save(a, bad, NULL), ML_ERR_IO);
  assert_int_equal(count_entries(dir), 2);

  /* A failed save: the target is a directory (rename refuses). The temporary
   * file is removed and the directory is untouched. */
  char target[512];
  path_in(f, "d/target", target, sizeof target);
  assert_int_equal(mkdir(target, 0700), 0);
  char inner[512];
  path_in(f, "d/target/keep", inner, sizeof inner);
  write_file(inner, (const uint8_t *)"x", 1, 0600);
  assert_int_equal(ml_identity_save(a, target, NULL), ML_ERR_IO);
  assert_int_equal(count_entries(dir), 3);
  assert_int_equal(count_entries(target), 1);
  ml_identity_free(a);
  ml_identity_free(b);
}

static void test_load_or_create(void **state) {
  fixture *f = *state;
  char path[512];
  path_in(f, "xdg/mentorlink/identity.key", path, sizeof path);
  ml_identity *first = NULL, *second = NULL;
  int created = -1;
  assert_int_equal(ml_identity_load_or_create(&first, path, NULL, &created), ML_OK);
  assert_int_equal(created, 1);
  assert_int_equal(mode_of(path), 0600);
  assert_int_equal(ml_identity_load_or_create(&second, path, NULL, &created), ML_OK);
  assert_int_equal(created, 0);
  assert_same_identity(first, second);
  ml_identity_free(second);
  second = NULL;
  assert_int_equal(ml_identity_load_or_create(&second, path, NULL, NULL), ML_OK);
  assert_same_identity(first, second);
  ml_identity_free(second);
  second = NULL;

  /* An existing but unusable file is reported, never replaced. */
  uint8_t before[256], after[256];
  size_t len = read_file(path, before, sizeof before);
  assert_int_equal(chmod(path, 0644), 0);
  assert_int_equal(ml_identity_load_or_create(&second, path, NULL, &created), ML_ERR_PERMISSION);
  assert_null(second);
  assert_int_equal(read_file(path, after, sizeof after), len);
  assert_memory_equal(before, after, len);
  assert_int_equal(chmod(path, 0600), 0);
  write_file(path, before, 10, 0600);
  assert_int_equal(ml_identity_load_or_create(&second, path, NULL, &created), ML_ERR_PROTOCOL);
  assert_int_equal(read_file(path, after, sizeof after), 10);
  ml_identity_free(first);
}

/* Saves and restores one environment variable around a test. */
typedef struct saved_env {
  const char *name;
  char *value;
} saved_env;

static saved_env env_save(const char *name) {
  const char *v = getenv(name);
  saved_env s = {name, v ? strdup(v) : NULL};
  return s;
}

static void env_restore(saved_env *s) {
  if (s->value)
    setenv(s->name, s->value, 1);
  else
    unsetenv(s->name);
  free(s->value);
}

static void test_default_path(void **state) {
  (void)state;
  saved_env xdg = env_save("XDG_DATA_HOME"), home = env_save("HOME");
  char out[256];

  setenv("XDG_DATA_HOME", "/data/xdg", 1);
  setenv("HOME", "/home/alice", 1);
  assert_int_equal(ml_identity_default_path(out, sizeof out), ML_OK);
  assert_string_equal(out, "/data/xdg/mentorlink/identity.key");

  /* Exactly large enough, and one byte short. */
  size_t need = strlen("/data/xdg/mentorlink/identity.key") + 1;
  assert_int_equal(ml_identity_default_path(out, need), ML_OK);
  assert_int_equal(ml_identity_default_path(out, need - 1), ML_ERR_BUFFER);

  unsetenv("XDG_DATA_HOME");
  assert_int_equal(ml_identity_default_path(out, sizeof out), ML_OK);
  assert_string_equal(out, "/home/alice/.local/share/mentorlink/identity.key");

  setenv("XDG_DATA_HOME", "", 1); /* empty: ignored */
  assert_int_equal(ml_identity_default_path(out, sizeof out), ML_OK);
  assert_string_equal(out, "/home/alice/.local/share/mentorlink/identity.key");

  setenv("XDG_DATA_HOME", "relative/dir", 1); /* relative: ignored, per the XDG spec */
  assert_int_equal(ml_identity_default_path(out, sizeof out), ML_OK);
  assert_string_equal(out, "/home/alice/.local/share/mentorlink/identity.key");

  assert_int_equal(ml_identity_default_path(out, 10), ML_ERR_BUFFER);

  unsetenv("XDG_DATA_HOME");
  unsetenv("HOME");
  assert_int_equal(ml_identity_default_path(out, sizeof out), ML_ERR_NOT_FOUND);
  setenv("HOME", "", 1);
  assert_int_equal(ml_identity_default_path(out, sizeof out), ML_ERR_NOT_FOUND);

  env_restore(&xdg);
  env_restore(&home);
}

static void test_noise_keys(void **state) {
  (void)state;
  for (int round = 0; round < 4; round++) {
    ml_identity *id = NULL;
    assert_int_equal(ml_identity_generate(&id), ML_OK);
    uint8_t priv[ML_IDENTITY_X25519_LEN], pub[ML_IDENTITY_X25519_LEN], derived[32];
    ml_identity_noise_private(id, priv);
    assert_int_equal(ml_identity_noise_public(ml_identity_public_key(id), pub), ML_OK);
    assert_int_equal(crypto_scalarmult_base(derived, priv), 0);
    assert_memory_equal(pub, derived, sizeof pub);
    sodium_memzero(priv, sizeof priv);
    ml_identity_free(id);
  }
  /* A small-order point (the identity element, y = 1) is refused. */
  uint8_t bad[32] = {1};
  uint8_t pub[ML_IDENTITY_X25519_LEN];
  assert_int_equal(ml_identity_noise_public(bad, pub), ML_ERR_CRYPTO);
}

static void test_sign_verify(void **state) {
  (void)state;
  ml_identity *id = NULL, *other = NULL;
  assert_int_equal(ml_identity_generate(&id), ML_OK);
  assert_int_equal(ml_identity_generate(&other), ML_OK);
  uint8_t msg[] = "room 42, ufrags abcd/efgh";
  uint8_t sig[64];
  ml_identity_sign(id, msg, sizeof msg, sig);
  const uint8_t *pk = ml_identity_public_key(id);
  assert_int_equal(ml_identity_verify(pk, msg, sizeof msg, sig), ML_OK);

  for (size_t bit = 0; bit < 8 * sizeof sig; bit += 7) {
    sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    assert_int_equal(ml_identity_verify(pk, msg, sizeof msg, sig), ML_ERR_CRYPTO);
    sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  msg[3] ^= 0x01;
  assert_int_equal(ml_identity_verify(pk, msg, sizeof msg, sig), ML_ERR_CRYPTO);
  msg[3] ^= 0x01;
  assert_int_equal(ml_identity_verify(ml_identity_public_key(other), msg, sizeof msg, sig),
                   ML_ERR_CRYPTO);

  ml_identity_sign(id, NULL, 0, sig); /* empty message */
  assert_int_equal(ml_identity_verify(pk, NULL, 0, sig), ML_OK);
  ml_identity_free(id);
  ml_identity_free(other);
}

static void test_fingerprint(void **state) {
  (void)state;
  /* Computed independently with Python:
   *   h = hashlib.blake2b(rfc_public, digest_size=16).hexdigest()
   *   " ".join(h[i:i+4] for i in range(0, 32, 4)) */
  char fp[ML_IDENTITY_FINGERPRINT_LEN];
  ml_identity_fingerprint(rfc_public, fp);
  assert_string_equal(fp, "d710 8b42 2f25 cc5e db86 5cc4 ae18 4f55");
  assert_int_equal(strlen(fp), ML_IDENTITY_FINGERPRINT_LEN - 1);

  uint8_t k[32];
  memcpy(k, rfc_public, sizeof k);
  k[0] ^= 1;
  char fp2[ML_IDENTITY_FINGERPRINT_LEN];
  ml_identity_fingerprint(k, fp2);
  assert_string_not_equal(fp, fp2);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, ml_unit_fixture, test_round_trip_modes_and_parents,
             test_file_format_known_answer, test_load_refuses_unsafe_permissions, test_sealed,
             test_truncated_and_corrupt_files, test_atomic_save_leaves_no_temporary_files,
             test_load_or_create, test_default_path, test_noise_keys, test_sign_verify,
             test_fingerprint)
