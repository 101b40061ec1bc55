/* Configuration: defaults, GKeyFile loading (strict), copying. */
#include "ml/signal_server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <sodium.h>

#include "redis_url.h"

void ml_signal_config_init(ml_signal_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->listen_host = g_strdup("127.0.0.1");
  cfg->listen_port = 8443;
  cfg->max_connections = 1000;
  cfg->max_connections_per_ip = 200;
  cfg->max_rooms = 1000;
  cfg->max_message_bytes = 16384;
  cfg->keepalive_interval_s = 20;
  cfg->idle_timeout_s = 60;
  cfg->join_timeout_s = 15;
  cfg->drain_timeout_ms = 5000;
  cfg->log_level = ML_SIGNAL_LOG_INFO;
  cfg->room_capacity = 8;
  cfg->waiting_max = 16;
  cfg->auto_admit = false;
  cfg->end_on_host_leave = false;
  cfg->message_rate = 20;
  cfg->message_burst = 40;
  cfg->flood_disconnect = 20;
  cfg->connect_rate = 5;
  cfg->connect_burst = 20;
  cfg->ip_message_rate = 0; /* off: many clinicians may share one NAT address */
  cfg->ip_message_burst = 400;
  cfg->turn_ttl_s = 3600;
  cfg->backend = ML_SIGNAL_BACKEND_MEMORY;
  cfg->redis_url = g_strdup("redis://127.0.0.1:6379/0");
  cfg->redis_timeout_ms = 500;
  cfg->redis_presence_ttl_ms = 15000;
}

void ml_signal_config_clear(ml_signal_config *cfg) {
  if (!cfg)
    return;
  g_free(cfg->listen_host);
  g_free(cfg->tls_cert_file);
  g_free(cfg->tls_key_file);
  g_free(cfg->public_url);
  if (cfg->token_secret)
    sodium_free(cfg->token_secret);
  g_strfreev(cfg->stun_urls);
  g_strfreev(cfg->turn_urls);
  if (cfg->turn_secret)
    sodium_memzero(cfg->turn_secret, strlen(cfg->turn_secret));
  g_free(cfg->turn_secret);
  if (cfg->redis_url)
    sodium_memzero(cfg->redis_url, strlen(cfg->redis_url)); /* may hold a password */
  g_free(cfg->redis_url);
  if (cfg->redis_password)
    sodium_memzero(cfg->redis_password, strlen(cfg->redis_password));
  g_free(cfg->redis_password);
  g_free(cfg->redis_tls_ca_file);
  g_free(cfg->redis_tls_cert_file);
  g_free(cfg->redis_tls_key_file);
  memset(cfg, 0, sizeof *cfg);
}

int ml_signal_config_set_token_secret(ml_signal_config *cfg, const char *secret) {
  size_t n = strlen(secret);
  if (n == 0)
    return ML_ERR_INVALID;
  if (sodium_init() < 0) /* idempotent; sodium_malloc needs it */
    return ML_ERR_CRYPTO;
  uint8_t *s = sodium_malloc(n);
  if (!s)
    return ML_ERR_NOMEM;
  memcpy(s, secret, n); /* NOLINT(bugprone-not-null-terminated-result): a key, not a string */
  if (cfg->token_secret)
    sodium_free(cfg->token_secret);
  cfg->token_secret = s;
  cfg->token_secret_len = n;
  return ML_OK;
}

void ml_signal_config_copy(ml_signal_config *dst, const ml_signal_config *src) {
  *dst = *src;
  dst->listen_host = g_strdup(src->listen_host);
  dst->tls_cert_file = g_strdup(src->tls_cert_file);
  dst->tls_key_file = g_strdup(src->tls_key_file);
  dst->public_url = g_strdup(src->public_url);
  dst->stun_urls = g_strdupv(src->stun_urls);
  dst->turn_urls = g_strdupv(src->turn_urls);
  dst->turn_secret = g_strdup(src->turn_secret);
  dst->redis_url = g_strdup(src->redis_url);
  dst->redis_password = g_strdup(src->redis_password);
  dst->redis_tls_ca_file = g_strdup(src->redis_tls_ca_file);
  dst->redis_tls_cert_file = g_strdup(src->redis_tls_cert_file);
  dst->redis_tls_key_file = g_strdup(src->redis_tls_key_file);
  dst->token_secret = NULL;
  dst->token_secret_len = 0;
  if (src->token_secret) {
    dst->token_secret = sodium_malloc(src->token_secret_len);
    g_assert(dst->token_secret);
    memcpy(dst->token_secret, src->token_secret, src->token_secret_len);
    dst->token_secret_len = src->token_secret_len;
  }
}

int ml_signal_config_set_listen(ml_signal_config *cfg, const char *addr) {
  const char *colon;
  char *host;
  if (addr[0] == '[') {
    const char *close = strchr(addr, ']');
    if (!close || close[1] != ':')
      return ML_ERR_INVALID;
    host = g_strndup(addr + 1, (gsize)(close - addr - 1));
    colon = close + 1;
  } else {
    colon = strrchr(addr, ':');
    if (!colon)
      return ML_ERR_INVALID;
    host = g_strndup(addr, (gsize)(colon - addr));
  }
  char *end = NULL;
  guint64 port = g_ascii_strtoull(colon + 1, &end, 10);
  if (!*host || !colon[1] || *end || port > 65535) {
    g_free(host);
    return ML_ERR_INVALID;
  }
  g_free(cfg->listen_host);
  cfg->listen_host = host;
  cfg->listen_port = (unsigned)port;
  return ML_OK;
}

int ml_signal_config_check_redis(const ml_signal_config *cfg, char **errmsg) {
  *errmsg = NULL;
  ml_redis_url u;
  int rc = ml_redis_url_parse(cfg->redis_url ? cfg->redis_url : "", &u, errmsg);
  if (rc == ML_OK)
    ml_redis_url_clear(&u);
  return rc;
}

typedef enum {
  K_UINT,
  K_BOOL,
  K_DOUBLE,
  K_STR,
  K_LIST,
  K_LISTEN,
  K_SECRET,
  K_HOSTLEAVE,
  K_BACKEND
} kind;

static const struct key {
  const char *group, *name;
  kind kind;
  size_t off;
  double min, max;
} keys[] = {
#define O(f) offsetof(ml_signal_config, f)
    {"server", "listen", K_LISTEN, 0, 0, 0},
    {"server", "tls_cert", K_STR, O(tls_cert_file), 0, 0},
    {"server", "tls_key", K_STR, O(tls_key_file), 0, 0},
    {"server", "public_url", K_STR, O(public_url), 0, 0},
    {"server", "insecure_listen", K_BOOL, O(insecure_listen), 0, 0},
    {"server", "open", K_BOOL, O(open_mode), 0, 0},
    {"server", "max_connections", K_UINT, O(max_connections), 1, 1000000},
    {"server", "max_connections_per_ip", K_UINT, O(max_connections_per_ip), 1, 1000000},
    {"server", "max_rooms", K_UINT, O(max_rooms), 1, 1000000},
    {"server", "max_message_bytes", K_UINT, O(max_message_bytes), 256, 1048576},
    {"server", "keepalive_interval", K_UINT, O(keepalive_interval_s), 0, 3600},
    {"server", "idle_timeout", K_UINT, O(idle_timeout_s), 1, 86400},
    {"server", "join_timeout", K_UINT, O(join_timeout_s), 1, 3600},
    {"server", "drain_timeout_ms", K_UINT, O(drain_timeout_ms), 0, 600000},
    {"server", "workers", K_UINT, O(workers), 0, 64},
    {"server", "backend", K_BACKEND, O(backend), 0, 0},
    {"redis", "url", K_STR, O(redis_url), 0, 0},
    {"redis", "password", K_STR, O(redis_password), 0, 0},
    {"redis", "tls_ca_file", K_STR, O(redis_tls_ca_file), 0, 0},
    {"redis", "tls_cert_file", K_STR, O(redis_tls_cert_file), 0, 0},
    {"redis", "tls_key_file", K_STR, O(redis_tls_key_file), 0, 0},
    {"redis", "timeout_ms", K_UINT, O(redis_timeout_ms), 50, 10000},
    {"redis", "presence_ttl_ms", K_UINT, O(redis_presence_ttl_ms), 3000, 600000},
    {"rooms", "capacity", K_UINT, O(room_capacity), 1, 1000},
    {"rooms", "waiting_max", K_UINT, O(waiting_max), 0, 1000},
    {"rooms", "auto_admit", K_BOOL, O(auto_admit), 0, 0},
    {"rooms", "host_leave", K_HOSTLEAVE, O(end_on_host_leave), 0, 0},
    {"tokens", "secret", K_SECRET, 0, 0, 0},
    {"limits", "message_rate", K_DOUBLE, O(message_rate), 0, 1e6},
    {"limits", "message_burst", K_DOUBLE, O(message_burst), 1, 1e6},
    {"limits", "flood_disconnect", K_UINT, O(flood_disconnect), 1, 1000000},
    {"limits", "connect_rate", K_DOUBLE, O(connect_rate), 0, 1e6},
    {"limits", "connect_burst", K_DOUBLE, O(connect_burst), 1, 1e6},
    {"limits", "ip_message_rate", K_DOUBLE, O(ip_message_rate), 0, 1e6},
    {"limits", "ip_message_burst", K_DOUBLE, O(ip_message_burst), 1, 1e6},
    {"ice", "stun", K_LIST, O(stun_urls), 0, 0},
    {"ice", "turn", K_LIST, O(turn_urls), 0, 0},
    {"ice", "turn_secret", K_STR, O(turn_secret), 0, 0},
    {"ice", "turn_ttl", K_UINT, O(turn_ttl_s), 60, 604800},
#undef O
};

static const struct key *find_key(const char *group, const char *name) {
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
    if (!strcmp(keys[i].group, group) && !strcmp(keys[i].name, name))
      return &keys[i];
  return NULL;
}

static int apply_key(ml_signal_config *cfg, GKeyFile *kf, const struct key *k, char **errmsg) {
  GError *err = NULL;
  char *base = (char *)cfg;
  int rc = ML_OK;
  switch (k->kind) {
  case K_UINT:
  case K_DOUBLE: {
    double v = g_key_file_get_double(kf, k->group, k->name, &err);
    if (err || v < k->min || v > k->max || (k->kind == K_UINT && v != (double)(guint64)v)) {
      *errmsg = g_strdup_printf("[%s] %s: expected a number in %g..%g", k->group, k->name, k->min,
                                k->max);
      rc = ML_ERR_INVALID;
    } else if (k->kind == K_UINT) {
      unsigned u = (unsigned)v;
      memcpy(base + k->off, &u, sizeof u);
    } else {
      memcpy(base + k->off, &v, sizeof v);
    }
    break;
  }
  case K_BOOL: {
    gboolean v = g_key_file_get_boolean(kf, k->group, k->name, &err);
    if (err) {
      *errmsg = g_strdup_printf("[%s] %s: expected true or false", k->group, k->name);
      rc = ML_ERR_INVALID;
    } else
      *(bool *)(base + k->off) = v;
    break;
  }
  case K_STR: {
    char *v = g_key_file_get_string(kf, k->group, k->name, &err);
    if (err) {
      *errmsg = g_strdup_printf("[%s] %s: %s", k->group, k->name, err->message);
      rc = ML_ERR_INVALID;
    } else {
      char **slot = (char **)(base + k->off);
      g_free(*slot);
      *slot = *v ? v : (g_free(v), NULL);
    }
    break;
  }
  case K_LIST: {
    gsize n = 0;
    char **v = g_key_file_get_string_list(kf, k->group, k->name, &n, &err);
    if (err) {
      *errmsg = g_strdup_printf("[%s] %s: %s", k->group, k->name, err->message);
      rc = ML_ERR_INVALID;
    } else {
      for (gsize i = 0; i < n; i++)
        g_strstrip(v[i]);
      char ***slot = (char ***)(base + k->off);
      g_strfreev(*slot);
      *slot = v;
    }
    break;
  }
  case K_LISTEN: {
    char *v = g_key_file_get_string(kf, k->group, k->name, &err);
    if (err || ml_signal_config_set_listen(cfg, v) != ML_OK) {
      *errmsg = g_strdup_printf("[server] listen: expected ADDR:PORT");
      rc = ML_ERR_INVALID;
    }
    g_free(v);
    break;
  }
  case K_SECRET: {
    char *v = g_key_file_get_string(kf, k->group, k->name, &err);
    if (err || strlen(v) < 32 || ml_signal_config_set_token_secret(cfg, v) != ML_OK) {
      *errmsg = g_strdup_printf("[tokens] secret: needs at least 32 characters");
      rc = ML_ERR_INVALID;
    }
    if (v)
      sodium_memzero(v, strlen(v));
    g_free(v);
    break;
  }
  case K_HOSTLEAVE: {
    char *v = g_key_file_get_string(kf, k->group, k->name, &err);
    if (!err && !strcmp(v, "handover"))
      cfg->end_on_host_leave = false;
    else if (!err && !strcmp(v, "end"))
      cfg->end_on_host_leave = true;
    else {
      *errmsg = g_strdup_printf("[rooms] host_leave: expected handover or end");
      rc = ML_ERR_INVALID;
    }
    g_free(v);
    break;
  }
  case K_BACKEND: {
    char *v = g_key_file_get_string(kf, k->group, k->name, &err);
    if (!err && !strcmp(v, "memory"))
      cfg->backend = ML_SIGNAL_BACKEND_MEMORY;
    else if (!err && !strcmp(v, "redis"))
      cfg->backend = ML_SIGNAL_BACKEND_REDIS;
    else {
      *errmsg = g_strdup_printf("[server] backend: expected memory or redis");
      rc = ML_ERR_INVALID;
    }
    g_free(v);
    break;
  }
  }
  g_clear_error(&err);
  return rc;
}

/* A file that holds a secret ([tokens] secret, [ice] turn_secret) must not
 * be readable by every user of the machine. */
static bool secrets_private(GKeyFile *kf, const char *path, char **errmsg) {
  struct stat st;
  g_autofree char *url = g_key_file_get_string(kf, "redis", "url", NULL);
  if (!g_key_file_has_key(kf, "tokens", "secret", NULL) &&
      !g_key_file_has_key(kf, "ice", "turn_secret", NULL) &&
      !g_key_file_has_key(kf, "redis", "password", NULL) && !(url && strchr(url, '@')))
    return true;
  if (stat(path, &st) != 0 || (st.st_mode & S_IRWXO) == 0)
    return true;
  *errmsg = g_strdup_printf("%s holds a secret and every user of this machine can read it (mode "
                            "%04o): run chmod o-rwx %s",
                            path, (unsigned)(st.st_mode & 07777), path);
  return false;
}

int ml_signal_config_load(ml_signal_config *cfg, const char *path, char **errmsg) {
  g_assert(cfg && path && errmsg);
  *errmsg = NULL;
  GError *err = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_list_separator(kf, ',');
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
    int rc =
        g_error_matches(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE) ? ML_ERR_INVALID : ML_ERR_IO;
    *errmsg = g_strdup_printf("%s: %s", path, err->message);
    g_error_free(err);
    return rc;
  }
  ml_signal_config next;
  ml_signal_config_copy(&next, cfg);
  int rc = ML_OK;
  gsize ngroups = 0;
  g_auto(GStrv) groups = g_key_file_get_groups(kf, &ngroups);
  for (gsize g = 0; g < ngroups && rc == ML_OK; g++) {
    gsize nkeys = 0;
    g_auto(GStrv) names = g_key_file_get_keys(kf, groups[g], &nkeys, NULL);
    for (gsize i = 0; i < nkeys && rc == ML_OK; i++) {
      const struct key *k = find_key(groups[g], names[i]);
      if (!k) {
        *errmsg = g_strdup_printf("%s: unknown key [%s] %s", path, groups[g], names[i]);
        rc = ML_ERR_INVALID;
      } else
        rc = apply_key(&next, kf, k, errmsg);
    }
  }
  if (rc == ML_OK && next.turn_urls && next.turn_urls[0] && !next.turn_secret) {
    *errmsg = g_strdup_printf("%s: [ice] turn needs turn_secret", path);
    rc = ML_ERR_INVALID;
  }
  if (rc == ML_OK && (!next.tls_cert_file) != (!next.tls_key_file)) {
    *errmsg = g_strdup_printf("%s: tls_cert and tls_key go together", path);
    rc = ML_ERR_INVALID;
  }
  if (rc == ML_OK && next.backend == ML_SIGNAL_BACKEND_REDIS) {
    char *why = NULL;
    rc = ml_signal_config_check_redis(&next, &why);
    if (rc != ML_OK) {
      *errmsg = g_strdup_printf("%s: [redis] url: %s", path, why);
      g_free(why);
    }
  }
  if (rc == ML_OK && !secrets_private(kf, path, errmsg))
    rc = ML_ERR_PERMISSION;
  if (rc == ML_OK) {
    ml_signal_config_clear(cfg);
    *cfg = next;
  } else {
    ml_signal_config_clear(&next);
  }
  return rc;
}
