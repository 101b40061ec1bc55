/* mentorlink — the cameras and microphones of this machine (GStreamer's
 * device monitor: V4L2 cameras, PulseAudio/PipeWire sources, and whatever
 * other providers the installed plugins bring).
 *
 * A device is named by its display name or by its id (a camera's device
 * node, e.g. /dev/video0; a sound server's source name); `mentorlink devices`
 * prints both, and `join --camera` / `--microphone` take either.
 *
 * Threading: any thread (each call probes anew; a probe takes a few ms and
 * opens no device). */
#ifndef ML_DEVICES_H
#define ML_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include <gst/gst.h>

#define ML_DEVICES_MAX 16 /* devices listed of each kind */

typedef enum ml_device_kind {
  ML_DEVICE_CAMERA,
  ML_DEVICE_MICROPHONE,
} ml_device_kind;

typedef struct ml_device {
  ml_device_kind kind;
  char name[128]; /* display name, e.g. "Integrated Camera" */
  char id[256];   /* device node or source name; "" if the provider gives none */
} ml_device;

/* "camera" or "microphone". */
const char *ml_device_kind_name(ml_device_kind kind);

/* The devices of kind on this machine, at most max (ML_DEVICES_MAX is
 * plenty); their number. */
size_t ml_devices_list(ml_device_kind kind, ml_device *out, size_t max);

/* Whether the device of kind whose name or id is want (NULL: any) is on this
 * machine; *out (may be NULL) describes it. */
bool ml_devices_find(ml_device_kind kind, const char *want, ml_device *out);

/* A source element for the device of kind whose name or id is want (not
 * NULL); NULL when there is no such device. Transfer floating, as
 * gst_element_factory_make. */
GstElement *ml_devices_make_source(ml_device_kind kind, const char *want);

#endif /* ML_DEVICES_H */
