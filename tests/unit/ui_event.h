/* The window's unit tests (test_ui_model.c, test_ui_render.c) feed the
 * model ml_call_events built here: all fields zero but the type, the peer's
 * id and its name (NULL for empty; longer ones are cut to the field). */
#ifndef ML_TESTS_UI_EVENT_H
#define ML_TESTS_UI_EVENT_H

#include <stdio.h>
#include <string.h>

#include "ml/call.h"

static inline ml_call_event ml_test_event_of(ml_call_event_type type, const char *peer,
                                             const char *name) {
  ml_call_event e;
  memset(&e, 0, sizeof e);
  e.type = type;
  snprintf(e.peer_id, sizeof e.peer_id, "%s", peer ? peer : "");
  snprintf(e.peer_name, sizeof e.peer_name, "%s", name ? name : "");
  return e;
}

#endif
