/* The Redis URL. See redis_url.h. */
#include "redis_url.h"

#include <string.h>

#include <glib.h>
#include <sodium.h>

static bool parse_uint(const char *s, size_t n, unsigned max, unsigned *out) {
  if (n == 0 || n > 10)
    return false;
  guint64 v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (guint64)(s[i] - '0');
  }
  if (v > max)
    return false;
  *out = (unsigned)v;
  return true;
}

static bool host_ok(const char *h, bool bracketed) {
  if (!*h || strlen(h) > 253)
    return false;
  for (const char *p = h; *p; p++) {
    char c = *p;
    bool ok = g_ascii_isalnum(c) || c == '.' || c == '-' || (bracketed && c == ':');
    if (!ok)
      return false;
  }
  return true;
}

int ml_redis_url_parse(const char *url, ml_redis_url *out, char **errmsg) {
  g_assert(url && out && errmsg);
  *errmsg = NULL;
  memset(out, 0, sizeof *out);
  ml_redis_url u = {.port = 6379};
  const char *p;
  if (g_str_has_prefix(url, "redis://"))
    p = url + 8;
  else if (g_str_has_prefix(url, "rediss://")) {
    p = url + 9;
    u.tls = true;
  } else {
    *errmsg = g_strdup("the Redis URL must start with redis:// (or rediss:// for TLS)");
    return ML_ERR_INVALID;
  }
  const char *at = strrchr(p, '@');
  const char *slash = strchr(at ? at : p, '/');
  if (at && slash && slash < at)
    at = NULL;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon) {
      *errmsg = g_strdup("the Redis URL's credentials must be [USER]:PASSWORD@");
      return ML_ERR_INVALID;
    }
    if (colon > p)
      u.user = g_strndup(p, (gsize)(colon - p));
    if (at > colon + 1)
      u.password = g_strndup(colon + 1, (gsize)(at - colon - 1));
    p = at + 1;
  }
  const char *end = p + strlen(p);
  const char *db = strchr(p, '/');
  const char *hostend = db ? db : end;
  const char *portsep = NULL;
  bool bracketed = false;
  if (*p == '[') {
    const char *close = memchr(p, ']', (size_t)(hostend - p));
    if (!close)
      goto bad;
    u.host = g_strndup(p + 1, (gsize)(close - p - 1));
    bracketed = true;
    if (close + 1 < hostend) {
      if (close[1] != ':')
        goto bad;
      portsep = close + 1;
    }
  } else {
    portsep = memchr(p, ':', (size_t)(hostend - p));
    u.host = g_strndup(p, (gsize)((portsep ? portsep : hostend) - p));
  }
  if (!host_ok(u.host, bracketed))
    goto bad;
  if (portsep &&
      (!parse_uint(portsep + 1, (size_t)(hostend - portsep - 1), 65535, &u.port) || u.port == 0))
    goto bad;
  if (db && db + 1 < end && !parse_uint(db + 1, (size_t)(end - db - 1), 15, &u.db))
    goto bad;
  *out = u;
  return ML_OK;
bad:
  *errmsg = g_strdup("the Redis URL must be redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (DB 0-15)");
  ml_redis_url_clear(&u);
  return ML_ERR_INVALID;
}

void ml_redis_url_clear(ml_redis_url *u) {
  if (!u)
    return;
  g_free(u->host);
  g_free(u->user);
  if (u->password)
    sodium_memzero(u->password, strlen(u->password));
  g_free(u->password);
  memset(u, 0, sizeof *u);
}
