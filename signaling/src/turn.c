/* TURN REST credentials. See turn.h. */
#include "turn.h"

#include <string.h>

#include <glib.h>
#include <sodium.h>

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

void ml_turn_ice_servers(ml_turn_ice *out, char *const *stun_urls, char *const *turn_urls,
                         const char *secret, int64_t ttl, const char *user, int64_t now) {
  memset(out, 0, sizeof *out);
  if (stun_urls && stun_urls[0])
    out->servers[out->n++] = (ml_sig_ice_server){.urls = stun_urls};
  if (turn_urls && turn_urls[0] && secret &&
      ml_turn_credentials(secret, user, now, ttl, &out->username, &out->password) == ML_OK)
    out->servers[out->n++] = (ml_sig_ice_server){
        .urls = turn_urls, .username = out->username, .credential = out->password};
}

void ml_turn_ice_clear(ml_turn_ice *ice) {
  if (ice->password)
    sodium_memzero(ice->password, strlen(ice->password));
  g_free(ice->username);
  g_free(ice->password);
  memset(ice, 0, sizeof *ice);
}
