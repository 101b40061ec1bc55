/* Unit tests for the TXT records of rooms on the LAN (client/cli/lan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "ml/lan.h"

/* Parses the NULL-terminated records. */
static bool parse(const char *const *txt, char room[65]) {
  const uint8_t *recs[16];
  size_t lens[16], n = 0;
  for (; txt[n]; n++) {
    recs[n] = (const uint8_t *)txt[n];
    lens[n] = strlen(txt[n]);
  }
  return ml_lan_txt_parse(recs, lens, n, room);
}

static void test_room(void **state) {
  (void)state;
  char room[65];
  const char *ok[] = {"path=/v1/ws", "x-later=1", "room=ward-7", "v=1", NULL};
  assert_true(parse(ok, room));
  assert_string_equal(room, "ward-7");
}

static void test_refused(void **state) {
  (void)state;
  char room[65];
  const char *no_v[] = {"room=r", "path=/v1/ws", NULL};
  const char *v2[] = {"v=2", "room=r", "path=/v1/ws", NULL};
  const char *twice[] = {"v=1", "room=r", "room=s", "path=/v1/ws", NULL};
  const char *bad[] = {"v=1", "room=bad room", "path=/v1/ws", NULL};
  const char *path[] = {"v=1", "room=r", "path=/admin", NULL};
  const char *empty[] = {"v=1", "room=", "path=/v1/ws", NULL};
  const char *no_eq[] = {"v=1", "room", "path=/v1/ws", NULL};
  char long_room[80] = "room=";
  memset(long_room + 5, 'a', 70);
  long_room[75] = '\0';
  const char *too_long[] = {"v=1", long_room, "path=/v1/ws", NULL};
  const char *const *all[] = {no_v, v2, twice, bad, path, empty, no_eq, too_long};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    assert_false(parse(all[i], room));
  /* A NUL inside a record is not text. */
  const uint8_t nul[] = "room=r\0x";
  const uint8_t *recs[] = {(const uint8_t *)"v=1", nul, (const uint8_t *)"path=/v1/ws"};
  size_t lens[] = {3, sizeof nul - 1, 11};
  assert_false(ml_lan_txt_parse(recs, lens, 3, room));
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_room, test_refused)
