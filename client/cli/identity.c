/* mentorlink identity, mentorlink safety-number. See identity.h. */
#include "identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ml/identity.h"
#include "ml/verify.h"

int ml_identity_command(int argc, char **argv) {
  char path[4096];
  if (argc == 3 && strcmp(argv[1], "--file") == 0) {
    if (snprintf(path, sizeof path, "%s", argv[2]) >= (int)sizeof path) {
      fprintf(stderr, "mentorlink: path too long\n");
      return 2;
    }
  } else if (argc != 1) {
    return -1;
  } else {
    int err = ml_identity_default_path(path, sizeof path);
    if (err) {
      fprintf(stderr, "mentorlink: no place for the identity: %s (set XDG_DATA_HOME or HOME)\n",
              ml_strerror(err));
      return 1;
    }
  }
  ml_identity *id = NULL;
  int created = 0;
  int err = ml_identity_load_or_create(&id, path, getenv("MENTORLINK_PASSPHRASE"), &created);
  if (err) {
    fprintf(stderr, "mentorlink: cannot load %s: %s\n", path, ml_strerror(err));
    if (err == ML_ERR_PERMISSION)
      fprintf(stderr, "mentorlink: the file must be readable by you only: chmod 600 %s\n", path);
    else if (err == ML_ERR_PASSPHRASE)
      fprintf(stderr, "mentorlink: the identity is sealed: set MENTORLINK_PASSPHRASE\n");
    return 1;
  }
  char fp[ML_IDENTITY_FINGERPRINT_LEN];
  char hex[2 * ML_IDENTITY_PUBLIC_LEN + 1];
  ml_identity_fingerprint(ml_identity_public_key(id), fp);
  sodium_bin2hex(hex, sizeof hex, ml_identity_public_key(id), ML_IDENTITY_PUBLIC_LEN);
  printf("identity:    %s%s\n", path, created ? " (created now)" : "");
  printf("fingerprint: %s\n", fp);
  printf("public key:  %s\n", hex);
  ml_identity_free(id);
  return 0;
}

int ml_safety_number_command(int argc, char **argv) {
  uint8_t a[32], b[32];
  size_t la = 0, lb = 0;
  if (argc != 3 || sodium_hex2bin(a, sizeof a, argv[1], strlen(argv[1]), NULL, &la, NULL) != 0 ||
      sodium_hex2bin(b, sizeof b, argv[2], strlen(argv[2]), NULL, &lb, NULL) != 0 || la != 32 ||
      lb != 32) {
    fprintf(stderr, "usage: mentorlink safety-number KEY_A KEY_B (64 hex digits each)\n");
    return 2;
  }
  char text[ML_SAFETY_NUMBER_TEXT_LEN];
  ml_safety_number(a, b, text);
  printf("%s\n", text);
  return 0;
}
