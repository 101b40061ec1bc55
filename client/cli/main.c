/* mentorlink — command line entry point.
 *
 *   mentorlink identity [--file PATH]     show (creating if needed) your identity
 *   mentorlink safety-number KEY_A KEY_B  the 60-digit number for two identity keys
 *                                         (both identity.c)
 *   mentorlink join ...                   join a call (join.c)
 *   mentorlink demo                       a real call between two local processes
 *                                         (demo_call.c)
 *   mentorlink demo --core                the secure core between two local processes
 *                                         (demo_core.c)
 *   mentorlink --version                  the version (CMake's PROJECT_VERSION)
 *
 * A sealed identity's passphrase is read from the environment variable
 * MENTORLINK_PASSPHRASE (never from the command line, where other users of
 * the machine could read it). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "demo_call.h"
#include "devices.h"
#include "host.h"
#include "identity.h"
#include "join.h"
#include "open.h"

static void usage(FILE *f) {
  fputs("usage: mentorlink COMMAND [ARGS]\n"
        "\n"
        "commands:\n"
        "  identity [--file PATH]      show your identity fingerprint and public key,\n"
        "                              creating the identity on first use\n"
        "  safety-number KEY_A KEY_B   the safety number of two identity public keys\n"
        "                              (64 hex digits each), the same in either order\n"
        "  devices                     the cameras and microphones join can use\n",
        f);
  ml_join_usage(f);
  ml_host_usage(f);
  ml_open_usage(f);
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
        "  MENTORLINK_INVITE           join: the invite link, instead of an argument\n"
        "  MENTORLINK_TOKEN            join: the join token, instead of --token\n"
        "  XDG_DATA_HOME, HOME         where the identity and the pinned peer keys live\n"
        "                              ($XDG_DATA_HOME/mentorlink/identity.key, known_peers)\n",
        f);
}

/* A subcommand's status, or the usage on stderr when it refused its
 * arguments (-1). */
static int usage_unless(int rc) {
  if (rc != -1)
    return rc;
  usage(stderr);
  return 2;
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
    return usage_unless(ml_identity_command(argc - 1, argv + 1));
  if (!strcmp(cmd, "safety-number"))
    return ml_safety_number_command(argc - 1, argv + 1);
  if (!strcmp(cmd, "join"))
    return ml_join_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "host"))
    return ml_host_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "open"))
    return ml_open_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "devices"))
    return ml_devices_command(argc - 1, argv + 1);
  if (!strcmp(cmd, "demo")) {
    int rc = ml_demo_command(argc - 1, argv + 1);
    if (rc != -1)
      return rc;
  }
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
