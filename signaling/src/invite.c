/* Invite links and calendar files. See ml/invite.h. */
#include "ml/invite.h"

#include <string.h>
#include <time.h>

#include <glib.h>

#include "message.h"

/* Characters left as they are in a value: the URL stays readable
 * (server=wss://host/v1/ws) and '&', '=', '+', '#' and '%' are escaped. */
#define VALUE_SAFE ":/@"

static bool valid_server(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > ML_INVITE_MAX_SERVER ||
      !(g_str_has_prefix(s, "ws://") || g_str_has_prefix(s, "wss://")))
    return false;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
      return false;
  g_autoptr(GUri) u = g_uri_parse(s, G_URI_FLAGS_NONE, NULL);
  return u && g_uri_get_host(u) && g_uri_get_host(u)[0];
}

/* base64url and the one '.' of a token, as ml_token_issue makes them. */
static bool valid_token(const char *s) {
  size_t n = strlen(s), dots = 0;
  if (n == 0 || n > 1024)
    return false;
  for (const char *p = s; *p; p++) {
    if (*p == '.')
      dots++;
    else if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
      return false;
  }
  return dots == 1;
}

static bool valid_invite(const ml_invite *inv) {
  if (!valid_server(inv->server) || (inv->token[0] != '\0') == (inv->room[0] != '\0'))
    return false;
  if (inv->token[0])
    return valid_token(inv->token) && !inv->secret[0];
  return ml_sig_valid_id(inv->room);
}

char *ml_invite_format(const ml_invite *inv) {
  if (!memchr(inv->server, '\0', sizeof inv->server) ||
      !memchr(inv->token, '\0', sizeof inv->token) || !memchr(inv->room, '\0', sizeof inv->room) ||
      !memchr(inv->secret, '\0', sizeof inv->secret) || !valid_invite(inv))
    return NULL;
  GString *s = g_string_new(ML_INVITE_SCHEME "://join?server=");
  g_string_append_uri_escaped(s, inv->server, VALUE_SAFE, FALSE);
  if (inv->token[0]) {
    g_string_append(s, "&token=");
    g_string_append(s, inv->token);
  } else {
    g_string_append(s, "&room=");
    g_string_append(s, inv->room);
    if (inv->secret[0]) {
      g_string_append(s, "&secret=");
      g_string_append_uri_escaped(s, inv->secret, NULL, FALSE);
    }
  }
  return g_string_free(s, FALSE);
}

char *ml_invite_ws_url(const char *host, unsigned port) {
  bool v6 = strchr(host, ':') != NULL;
  return g_strdup_printf("ws://%s%s%s:%u/v1/ws", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

char *ml_invite_open_link(const char *host, unsigned port, const char *room) {
  ml_invite inv = {0};
  g_autofree char *url = ml_invite_ws_url(host, port);
  if (g_strlcpy(inv.server, url, sizeof inv.server) >= sizeof inv.server ||
      g_strlcpy(inv.room, room, sizeof inv.room) >= sizeof inv.room)
    return NULL;
  return ml_invite_format(&inv);
}

/* Copies a decoded value into dst (cap bytes with its NUL); false if it is
 * there already (a parameter given twice) or too long. */
static bool take(char *dst, size_t cap, const char *value) {
  size_t n = strlen(value);
  if (dst[0] || n == 0 || n >= cap)
    return false;
  memcpy(dst, value, n + 1);
  return true;
}

static int parse_query(const char *query, ml_invite *out, const char **why) {
  GUriParamsIter it;
  g_uri_params_iter_init(&it, query, -1, "&", G_URI_PARAMS_NONE);
  char *attr = NULL, *value = NULL;
  GError *err = NULL;
  int rc = ML_OK;
  while (rc == ML_OK && g_uri_params_iter_next(&it, &attr, &value, &err)) {
    bool ok = true;
    if (!strcmp(attr, "server"))
      ok = take(out->server, sizeof out->server, value);
    else if (!strcmp(attr, "token"))
      ok = take(out->token, sizeof out->token, value);
    else if (!strcmp(attr, "room"))
      ok = take(out->room, sizeof out->room, value);
    else if (!strcmp(attr, "secret"))
      ok = take(out->secret, sizeof out->secret, value);
    if (!ok) {
      *why = "a value in it is empty, given twice or too long";
      rc = ML_ERR_INVALID;
    }
    g_free(attr);
    if (value)
      memset(value, 0, strlen(value)); /* it may be the secret */
    g_free(value);
  }
  if (err) {
    *why = "it has a broken %-escape";
    rc = ML_ERR_INVALID;
    g_error_free(err);
  }
  return rc;
}

int ml_invite_parse(const char *text, ml_invite *out, const char **why) {
  memset(out, 0, sizeof *out);
  size_t len = strnlen(text, ML_INVITE_MAX_LEN + 1);
  if (len > ML_INVITE_MAX_LEN) {
    *why = "it is too long";
    return ML_ERR_INVALID;
  }
  g_autofree char *link = g_strstrip(g_strndup(text, len));
  g_autoptr(GUri) u = g_uri_parse(link, G_URI_FLAGS_ENCODED_QUERY, NULL);
  if (!u || g_ascii_strcasecmp(g_uri_get_scheme(u), ML_INVITE_SCHEME) != 0 ||
      g_strcmp0(g_uri_get_host(u), "join") != 0 || g_uri_get_userinfo(u) ||
      g_uri_get_port(u) != -1 || g_uri_get_fragment(u) ||
      (g_uri_get_path(u)[0] && strcmp(g_uri_get_path(u), "/") != 0)) {
    *why = "not a mentorlink invite link (mentorlink://join?server=...)";
    return ML_ERR_INVALID;
  }
  int rc = parse_query(g_uri_get_query(u) ? g_uri_get_query(u) : "", out, why);
  if (rc == ML_OK && !valid_server(out->server)) {
    *why = "it names no ws:// or wss:// server";
    rc = ML_ERR_INVALID;
  } else if (rc == ML_OK && !valid_invite(out)) {
    *why = "it holds neither a valid token nor a valid room";
    rc = ML_ERR_INVALID;
  }
  memset(link, 0, strlen(link));
  if (rc != ML_OK)
    memset(out, 0, sizeof *out);
  return rc;
}

/* ---- iCalendar ---- */

/* Appends one content line, folded at 75 octets (RFC 5545 3.1): a
 * continuation line starts with a space, which counts. */
static void ics_line(GString *s, const char *line) {
  size_t n = strlen(line), width = 75;
  while (n > width) {
    size_t cut = width;
    while (cut > 0 && ((unsigned char)line[cut] & 0xC0) == 0x80)
      cut--; /* not inside a UTF-8 character */
    g_string_append_len(s, line, (gssize)cut);
    g_string_append(s, "\r\n ");
    line += cut;
    n -= cut;
    width = 74;
  }
  g_string_append(s, line);
  g_string_append(s, "\r\n");
}

/* NAME:text with TEXT escaping (RFC 5545 3.3.11). */
static void ics_text(GString *s, const char *name, const char *text) {
  GString *l = g_string_new(name);
  g_string_append_c(l, ':');
  for (const char *p = text; *p; p++) {
    if (*p == '\\' || *p == ';' || *p == ',')
      g_string_append_c(l, '\\');
    if (*p == '\n') {
      g_string_append(l, "\\n");
      continue;
    }
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      continue; /* control characters have no place in TEXT */
    g_string_append_c(l, *p);
  }
  ics_line(s, l->str);
  g_string_free(l, TRUE);
}

static void ics_time(GString *s, const char *name, int64_t t) {
  time_t tt = (time_t)t;
  struct tm tm;
  char buf[32];
  gmtime_r(&tt, &tm);
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  g_autofree char *l = g_strdup_printf("%s:%s", name, buf);
  ics_line(s, l);
}

char *ml_invite_ics(const ml_invite_event *ev) {
  if (!ev->uid || !ev->title || !ev->link || ev->start >= ev->end || ev->start < 0 ||
      !g_utf8_validate(ev->uid, -1, NULL) || !g_utf8_validate(ev->title, -1, NULL) ||
      !g_utf8_validate(ev->link, -1, NULL))
    return NULL;
  GString *s = g_string_new(NULL);
  ics_line(s, "BEGIN:VCALENDAR");
  ics_line(s, "VERSION:2.0");
  ics_line(s, "PRODID:-//mentorlink//invite//EN");
  ics_line(s, "METHOD:PUBLISH");
  ics_line(s, "BEGIN:VEVENT");
  ics_text(s, "UID", ev->uid);
  ics_time(s, "DTSTAMP", ev->stamp);
  ics_time(s, "DTSTART", ev->start);
  ics_time(s, "DTEND", ev->end);
  ics_text(s, "SUMMARY", ev->title);
  g_autofree char *desc =
      g_strdup_printf("Join the mentorlink session: open this link, or run\nmentorlink join '%s'\n"
                      "The link is your personal invite: do not pass it on.",
                      ev->link);
  ics_text(s, "DESCRIPTION", desc);
  g_autofree char *url = g_strdup_printf("URL:%s", ev->link);
  ics_line(s, url);
  ics_line(s, "CLASS:PRIVATE");
  ics_line(s, "END:VEVENT");
  ics_line(s, "END:VCALENDAR");
  return g_string_free(s, FALSE);
}
