/* mentorlink devices (see devices.h). */
#include "devices.h"

#include <stdio.h>

#include "ml/devices.h"

static void list(ml_device_kind kind, const char *flag) {
  ml_device d[ML_DEVICES_MAX];
  size_t n = ml_devices_list(kind, d, ML_DEVICES_MAX);
  if (!n) {
    printf("no %s found: join goes on without it\n", ml_device_kind_name(kind));
    return;
  }
  printf("%ss (join %s NAME or ID; the first is the default):\n", ml_device_kind_name(kind), flag);
  for (size_t i = 0; i < n; i++)
    printf("  %-40s %s\n", d[i].name, d[i].id);
}

int ml_devices_command(int argc, char **argv) {
  (void)argv;
  if (argc > 1) {
    fprintf(stderr, "mentorlink devices: takes no arguments\n");
    return 2;
  }
  list(ML_DEVICE_CAMERA, "--camera");
  list(ML_DEVICE_MICROPHONE, "--microphone");
  return 0;
}
