/* mentorlink — command line entry point.
 *
 *   mentorlink identity [--file PATH]     show (creating if needed) your identity
 *   mentorlink safety-number KEY_A KEY_B  the 60-digit number for two identity keys
 *   mentorlink join ...                   join a call (client/join.c)
 *   mentorlink demo                       a real call between two local processes
 *                                         (client/call_demo.c)
 *   mentorlink demo --core                the secure core between two local processes
 *                                         (client/demo.c)
 *   mentorlink --version                  the version (CMake's PROJECT_VERSION)
 *
 * A sealed identity's passphrase is read from the environment variable
 * MENTORLINK_PASSPHRASE (never from the command line, where other users of
 * the machine could read it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "call_demo.h"
#include "demo.h"
#include "join.h"
#include "ml/identity.h"
#include "ml/verify.h"

static void usage(FILE *f) {
  fputs("usage: mentorlink COMMAND [ARGS]\n"
        "\n"
        "commands:\n"
        "  identity [--file PATH]      show your identity fingerprint and public key,\n"
        "                              creating the identity on first use\n"
        "  safety-number KEY_A KEY_B   the safety number of two identity public keys\n"
        "                              (64 hex digits each), the same in either order\n",
        f);
  ml_join_usage(f);
  fputs("  demo                        a real call on this machine: an embedded signaling\n"
        "                              server and two `join` processes with test sources\n"
        "                              for 10 s; prints path, frames and audio decoded each\n"
        "                              way, chat, SAS, and exits 0 only if all checks pass\n"
        "  demo --duration SECONDS     the same, holding the call 3-40 s (default 10)\n"
        "  demo --core                 the secure core alone (Noise + channel over raw UDP\n"
        "                              between two local processes, no ICE or media)\n"
        "  help                        this text\n"
        "  --version                   the version of mentorlink\n"
        "\n"
        "environment:\n"
        "  MENTORLINK_PASSPHRASE       passphrase of a sealed identity file\n"
        "  MENTORLINK_ROOM_SECRET      join: the room secret, instead of --room-secret\n"
        "  XDG_DATA_HOME, HOME         where the identity and the pinned peer keys live\n"
        "                              ($XDG_DATA_HOME/mentorlink/identity.key, known_peers)\n",
        f);
}

static int cmd_identity(int argc, char **argv) {
  char path[4096];
  if (argc == 3 && strcmp(argv[1], "--file") == 0) {
    if (snprintf(path, sizeof path, "%s", argv[2]) >= (int)sizeof path) {
      fprintf(stderr, "mentorlink: path too long\n");
      return 2;
    }
  } else if (argc != 1) {
    usage(stderr);
    return 2;
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

static int cmd_safety_number(int argc, char **argv) {
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

int main(int argc, char **argv) {
  if (sodium_init() < 0) {
    fprintf(stderr, "mentorlink: libsodium failed to initialise\n");
    return 1;
  }
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "identity"))
    return cmd_identity(argc - 1, argv + 1);
  if (!strcmp(cmd, "safety-number"))
    return cmd_safety_number(argc - 1, argv + 1);
  if (!strcmp(cmd, "join"))
    return ml_join_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "demo") && argc == 2)
    return ml_call_demo_run("/proc/self/exe", 10.0);
  if (!strcmp(cmd, "demo") && argc == 4 && !strcmp(argv[2], "--duration")) {
    char *end = NULL;
    double s = strtod(argv[3], &end);
    if (!end || *end || !(s >= 3 && s <= 40)) {
      fprintf(stderr, "usage: mentorlink demo [--duration SECONDS (3-40)]\n");
      return 2;
    }
    return ml_call_demo_run("/proc/self/exe", s);
  }
  if (!strcmp(cmd, "demo") && argc == 3 && !strcmp(argv[2], "--core"))
    return ml_demo_run();
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("mentorlink %s\n", ML_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "mentorlink: unknown command '%s'\n", cmd);
  usage(stderr);
  return 2;
}
