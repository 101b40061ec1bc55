/* The machine's cameras and microphones (see ml/devices.h). */
#include "ml/devices.h"

#include <string.h>

#include "gst_util.h"

const char *ml_device_kind_name(ml_device_kind kind) {
  return kind == ML_DEVICE_CAMERA ? "camera" : "microphone";
}

/* The devices of kind (transfer full: g_list_free_full with gst_object_unref). */
static GList *probe(ml_device_kind kind) {
  ml_gst_ensure_init();
  GstDeviceMonitor *m = gst_device_monitor_new();
  gst_device_monitor_add_filter(m, kind == ML_DEVICE_CAMERA ? "Video/Source" : "Audio/Source",
                                NULL);
  GList *l = gst_device_monitor_get_devices(m);
  gst_object_unref(m);
  return l;
}

/* A device's id: the V4L2 node, else the sound server's source name. */
static void device_id(GstDevice *d, char *out, size_t cap) {
  static const char *const keys[] = {"api.v4l2.path", "device.path", "node.name", "device.name",
                                     "alsa.card_name"};
  out[0] = '\0';
  GstStructure *p = gst_device_get_properties(d);
  for (size_t i = 0; p && i < G_N_ELEMENTS(keys) && !out[0]; i++) {
    const char *v = gst_structure_get_string(p, keys[i]);
    if (v)
      g_strlcpy(out, v, cap);
  }
  if (p)
    gst_structure_free(p);
}

static void describe(GstDevice *d, ml_device_kind kind, ml_device *out) {
  out->kind = kind;
  g_autofree char *name = gst_device_get_display_name(d);
  g_strlcpy(out->name, name ? name : "", sizeof out->name);
  device_id(d, out->id, sizeof out->id);
}

size_t ml_devices_list(ml_device_kind kind, ml_device *out, size_t max) {
  GList *l = probe(kind);
  size_t n = 0;
  for (GList *i = l; i && n < max; i = i->next)
    describe(i->data, kind, &out[n++]);
  g_list_free_full(l, gst_object_unref);
  return n;
}

/* The first device of kind that want names (NULL: the first of all), with
 * its description; transfer full, NULL if none. */
static GstDevice *find(ml_device_kind kind, const char *want, ml_device *out) {
  GList *l = probe(kind);
  GstDevice *found = NULL;
  for (GList *i = l; i && !found; i = i->next) {
    ml_device d;
    describe(i->data, kind, &d);
    if (!want || !strcmp(want, d.name) || (d.id[0] && !strcmp(want, d.id))) {
      found = gst_object_ref(i->data);
      if (out)
        *out = d;
    }
  }
  g_list_free_full(l, gst_object_unref);
  return found;
}

bool ml_devices_find(ml_device_kind kind, const char *want, ml_device *out) {
  GstDevice *d = find(kind, want, out);
  if (d)
    gst_object_unref(d);
  return d != NULL;
}

GstElement *ml_devices_make_source(ml_device_kind kind, const char *want) {
  g_assert(want != NULL);
  GstDevice *d = find(kind, want, NULL);
  GstElement *el = d ? gst_device_create_element(d, NULL) : NULL;
  if (d)
    gst_object_unref(d);
  return el;
}
