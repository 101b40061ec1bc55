/* Unit tests for invite links and calendar files (signaling/src/invite.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"
#include <glib.h>

#include "ml/invite.h"

static ml_invite open_invite(const char *server, const char *room, const char *secret) {
  ml_invite inv = {0};
  g_strlcpy(inv.server, server, sizeof inv.server);
  g_strlcpy(inv.room, room, sizeof inv.room);
  g_strlcpy(inv.secret, secret, sizeof inv.secret);
  return inv;
}

static void test_token_link_roundtrip(void **state) {
  (void)state;
  ml_invite inv = {0};
  strcpy(inv.server, "wss://signal.example.org/v1/ws");
  strcpy(inv.token, "eyJ2IjoxfQ.kq3-_x");
  char *link = ml_invite_format(&inv);
  assert_string_equal(
      link, "mentorlink://join?server=wss://signal.example.org/v1/ws&token=eyJ2IjoxfQ.kq3-_x");
  ml_invite back;
  const char *why = NULL;
  assert_int_equal(ml_invite_parse(link, &back, &why), ML_OK);
  assert_memory_equal(&inv, &back, sizeof inv);
  g_free(link);
}

/* A secret with the characters that would break the query is escaped, and
 * comes back as it was; a pasted link's white space does not matter. */
static void test_open_link_escapes_secret(void **state) {
  (void)state;
  ml_invite inv = open_invite("ws://192.0.2.1:8443/v1/ws", "clinic", "a&b=c d+é#%");
  char *link = ml_invite_format(&inv);
  assert_non_null(link);
  assert_null(strchr(strstr(link, "secret=") + 7, '&'));
  assert_null(strchr(link, ' '));
  char *pasted = g_strdup_printf("  %s\r\n", link);
  ml_invite back;
  const char *why = NULL;
  assert_int_equal(ml_invite_parse(pasted, &back, &why), ML_OK);
  assert_string_equal(back.secret, "a&b=c d+é#%");
  assert_string_equal(back.room, "clinic");
  assert_string_equal(back.server, "ws://192.0.2.1:8443/v1/ws");
  g_free(pasted);
  g_free(link);
}

/* The links `mentorlink host` and `join --discover` print. */
static void test_open_link(void **state) {
  (void)state;
  char *v4 = ml_invite_open_link("192.0.2.10", 8443, "ward-7");
  assert_string_equal(v4, "mentorlink://join?server=ws://192.0.2.10:8443/v1/ws&room=ward-7");
  char *v6 = ml_invite_open_link("2001:db8::1", 8443, "ward-7");
  /* [ and ] are not allowed in a query (RFC 3986): escaped, and read back. */
  assert_string_equal(v6, "mentorlink://join?server=ws://%5B2001:db8::1%5D:8443/v1/ws&room=ward-7");
  ml_invite back;
  const char *why = NULL;
  assert_int_equal(ml_invite_parse(v6, &back, &why), ML_OK);
  assert_string_equal(back.server, "ws://[2001:db8::1]:8443/v1/ws");
  assert_null(ml_invite_open_link("192.0.2.10", 8443, "bad room"));
  g_free(v4);
  g_free(v6);
}

static void test_format_refuses_bad_invites(void **state) {
  (void)state;
  ml_invite none = open_invite("ws://h/v1/ws", "", "");
  assert_null(ml_invite_format(&none));
  ml_invite badroom = open_invite("ws://h/v1/ws", "bad room", "");
  assert_null(ml_invite_format(&badroom));
  ml_invite http = open_invite("http://h/v1/ws", "r", "");
  assert_null(ml_invite_format(&http));
  ml_invite both = open_invite("ws://h/v1/ws", "r", "");
  strcpy(both.token, "a.b");
  assert_null(ml_invite_format(&both));
  ml_invite token_secret = open_invite("ws://h/v1/ws", "", "s");
  strcpy(token_secret.token, "a.b");
  assert_null(ml_invite_format(&token_secret));
}

static void test_parse_refuses(void **state) {
  (void)state;
  const char *bad[] = {
      "",
      "https://join?server=ws://h/v1/ws&room=r",
      "mentorlink://call?server=ws://h/v1/ws&room=r",
      "mentorlink://user@join?server=ws://h/v1/ws&room=r",
      "mentorlink://join:80?server=ws://h/v1/ws&room=r",
      "mentorlink://join/x?server=ws://h/v1/ws&room=r",
      "mentorlink://join?server=ws://h/v1/ws&room=r#frag",
      "mentorlink://join?room=r",
      "mentorlink://join?server=http://h/v1/ws&room=r",
      "mentorlink://join?server=ws://h/v1/ws",
      "mentorlink://join?server=ws://h/v1/ws&room=r&room=s",
      "mentorlink://join?server=ws://h/v1/ws&room=bad%20room",
      "mentorlink://join?server=ws://h/v1/ws&room=r&token=a.b",
      "mentorlink://join?server=ws://h/v1/ws&token=a.b&secret=s",
      "mentorlink://join?server=ws://h/v1/ws&token=a.b.c",
      "mentorlink://join?server=ws://h/v1/ws&token=a%2Bb.c",
      "mentorlink://join?server=ws://h/v1/ws&room=r&secret=%zz",
      "mentorlink://join?server=ws://h/v1/ws&room=r&secret=a%00b",
      "mentorlink://join?server=ws://h%20x/v1/ws&room=r",
      "mentorlink://join?server=&room=r",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    ml_invite inv;
    const char *why = NULL;
    int rc = ml_invite_parse(bad[i], &inv, &why);
    if (rc == ML_OK)
      fail_msg("accepted: %s", bad[i]);
    assert_non_null(why);
    assert_string_equal(inv.server, ""); /* nothing is kept from a refused link */
  }
  char *big = g_strnfill(ML_INVITE_MAX_LEN + 1, 'a');
  ml_invite inv;
  const char *why = NULL;
  assert_int_equal(ml_invite_parse(big, &inv, &why), ML_ERR_INVALID);
  g_free(big);
}

/* Later versions may add parameters: they are ignored. */
static void test_parse_ignores_unknown_parameters(void **state) {
  (void)state;
  ml_invite inv;
  const char *why = NULL;
  assert_int_equal(
      ml_invite_parse("MENTORLINK://join?v=2&server=ws%3A%2F%2Fh%2Fv1%2Fws&room=r", &inv, &why),
      ML_OK);
  assert_string_equal(inv.server, "ws://h/v1/ws");
  assert_string_equal(inv.room, "r");
}

/* Every line of the calendar file ends in CRLF and is at most 75 octets;
 * unfolding gives back the escaped text; times are UTC. */
static void test_ics(void **state) {
  (void)state;
  char *link = g_strdup_printf("mentorlink://join?server=wss://signal.example.org/v1/ws&token=%s",
                               "eyJ2IjoxLCJyb29tIjoid2FyZC03Iiwicm9sZSI6InBhcnRpY2lwYW50In0.kq3");
  ml_invite_event ev = {.uid = "0123abcd@mentorlink",
                        .title = "Case review; ECG, Dr Ünal\\ward 7 ééééééééééééééééééééééééééééé",
                        .link = link,
                        .start = 1796288400, /* 2026-12-03 09:00 UTC */
                        .end = 1796290200,
                        .stamp = 1796200000};
  char *ics = ml_invite_ics(&ev);
  assert_non_null(ics);
  assert_true(g_str_has_prefix(ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
  assert_true(g_str_has_suffix(ics, "END:VEVENT\r\nEND:VCALENDAR\r\n"));
  assert_non_null(strstr(ics, "\r\nDTSTART:20261203T090000Z\r\n"));
  assert_non_null(strstr(ics, "\r\nDTEND:20261203T093000Z\r\n"));
  for (const char *l = ics; *l;) {
    const char *e = strstr(l, "\r\n");
    assert_non_null(e);
    assert_true(e - l <= 75);
    assert_true(g_utf8_validate(l, e - l, NULL)); /* never folded inside a character */
    l = e + 2;
  }
  /* Unfold (RFC 5545 3.1): CRLF followed by a space goes. */
  GString *u = g_string_new(NULL);
  for (const char *p = ics; *p; p++) {
    if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
      p += 2;
      continue;
    }
    g_string_append_c(u, *p);
  }
  assert_non_null(strstr(
      u->str, "SUMMARY:Case review\\; ECG\\, Dr Ünal\\\\ward 7 ééééééééééééééééééééééééééééé\r\n"));
  g_autofree char *url = g_strdup_printf("\r\nURL:%s\r\n", link);
  assert_non_null(strstr(u->str, url));
  g_string_free(u, TRUE);
  g_free(ics);
  ev.end = ev.start;
  assert_null(ml_invite_ics(&ev));
  g_free(link);
}

ML_UNIT_MAIN(ML_UNIT_NOTHING, cmocka_unit_test, test_token_link_roundtrip,
             test_open_link_escapes_secret, test_open_link, test_format_refuses_bad_invites,
             test_parse_refuses, test_parse_ignores_unknown_parameters, test_ics)
