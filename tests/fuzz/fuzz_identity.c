/* libFuzzer target: the identity file parser (ml_identity_load).
 *
 * Each input is the content of an identity file. It is written, mode 0600, to
 * a private temporary directory and loaded through the public API with no
 * passphrase, so a sealed file stops before Argon2id (whose cost the file
 * chooses) and the fuzzer spends its time on the parser. Invariants: only the
 * documented error codes come back, and a file that loads is a 70-byte
 * unsealed version-1 file that saving reproduces byte for byte. Seeds in
 * corpus/identity/ cover both layouts. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ml/identity.h"

#include "fuzz.h"

/* The harness's scratch directory, made once per process and removed at exit. */
static char dir[256];
static char in_path[300];
static char out_path[300];

static void cleanup(void) {
  unlink(in_path);
  unlink(out_path);
  rmdir(dir);
}

static void init_once(void) {
  if (dir[0])
    return;
  CHECK(sodium_init() >= 0);
  const char *tmp = getenv("TMPDIR");
  CHECK(snprintf(dir, sizeof dir, "%s/ml-fuzz-identity-XXXXXX", tmp && *tmp ? tmp : "/tmp") <
        (int)sizeof dir);
  CHECK(mkdtemp(dir) != NULL);
  CHECK(snprintf(in_path, sizeof in_path, "%s/in.key", dir) < (int)sizeof in_path);
  CHECK(snprintf(out_path, sizeof out_path, "%s/out.key", dir) < (int)sizeof out_path);
  CHECK(atexit(cleanup) == 0);
}

static void write_input(const uint8_t *data, size_t size) {
  int fd = open(in_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  CHECK(fd >= 0);
  CHECK(fchmod(fd, 0600) == 0);
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    CHECK(n > 0);
    done += (size_t)n;
  }
  CHECK(close(fd) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_once();
  write_input(data, size);

  ml_identity *id = NULL;
  int err = ml_identity_load(&id, in_path, NULL);
  if (err != ML_OK) {
    CHECK(id == NULL);
    CHECK(err == ML_ERR_PROTOCOL || err == ML_ERR_UNSUPPORTED || err == ML_ERR_PASSPHRASE);
    /* A sealed file is the only way to ask for a passphrase. */
    CHECK(err != ML_ERR_PASSPHRASE || (size == 142 && data[5] == 0x01));
    return 0;
  }
  CHECK(id != NULL);
  CHECK(size == 70 && memcmp(data, "MLID\x01\x00", 6) == 0);
  CHECK(memcmp(ml_identity_public_key(id), data + 38, 32) == 0);

  /* Saving the loaded identity gives back the same bytes. */
  CHECK(ml_identity_save(id, out_path, NULL) == ML_OK);
  uint8_t back[128];
  int fd = open(out_path, O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0);
  ssize_t n = read(fd, back, sizeof back);
  CHECK(close(fd) == 0);
  CHECK(n == 70 && memcmp(back, data, 70) == 0);
  ml_identity_free(id);
  return 0;
}
