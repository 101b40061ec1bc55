/* libFuzzer target: invite links (ml/invite.h) as `mentorlink join LINK`
 * reads them. A link that parses holds only values the server accepts, and
 * formatting it again and parsing that gives the same invite. */
#include <string.h>

#include <glib.h>

#include "fuzz.h"
#include "ml/invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = g_strndup((const char *)data, size);
  ml_invite inv;
  const char *why = NULL;
  if (ml_invite_parse(text, &inv, &why) == ML_OK) {
    CHECK(inv.server[0] && (inv.token[0] != '\0') != (inv.room[0] != '\0'));
    char *again = ml_invite_format(&inv);
    CHECK(again);
    ml_invite back;
    CHECK(ml_invite_parse(again, &back, &why) == ML_OK);
    CHECK(memcmp(&inv, &back, sizeof inv) == 0);
    g_free(again);
  } else {
    CHECK(why && why[0]);
  }
  g_free(text);
  return 0;
}
