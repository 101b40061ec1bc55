/* TURN REST credentials. See turn.h. */
#include "turn.h"

#include <string.h>

#include <glib.h>

int ml_turn_credentials(const char *secret, const char *user, int64_t now, int64_t ttl,
                        char **username, char **password) {
  g_assert(username && password);
  if (!secret || !*secret || !user || !*user || ttl <= 0 || strchr(user, ':'))
    return ML_ERR_INVALID;
  char *u = g_strdup_printf("%" G_GINT64_FORMAT ":%s", now + ttl, user);
  GHmac *h = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)secret, strlen(secret));
  g_hmac_update(h, (const guchar *)u, (gssize)strlen(u));
  guint8 digest[20];
  gsize dlen = sizeof digest;
  g_hmac_get_digest(h, digest, &dlen);
  g_hmac_unref(h);
  *password = g_base64_encode(digest, dlen);
  *username = u;
  return ML_OK;
}
