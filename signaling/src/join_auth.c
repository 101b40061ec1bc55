/* Join authorisation. See join_auth.h. */
#include "join_auth.h"

#include <string.h>

ml_sig_error ml_join_authorise(const ml_signal_config *cfg,
                               const uint8_t open_key[ML_JOIN_AUTH_KEY_LEN],
                               const ml_room_registry *rooms, const ml_sig_msg *m, int64_t now,
                               ml_join_auth *out, const char **detail) {
  memset(out, 0, sizeof *out);
  out->settings = (ml_room_settings){.capacity = cfg->room_capacity,
                                     .waiting_max = cfg->waiting_max,
                                     .auto_admit = cfg->auto_admit,
                                     .end_on_host_leave = cfg->end_on_host_leave};
  ml_room_join_req *req = &out->req;
  req->settings = &out->settings;
  req->identity_key = m->identity_key;
  if (cfg->open_mode) {
    if (m->token) {
      *detail = "this server runs in open mode: join with room and name";
      return ML_SIG_E_UNAUTHORIZED;
    }
    const char *secret = m->secret ? m->secret : "";
    crypto_generichash(out->secret_hash, sizeof out->secret_hash, (const unsigned char *)secret,
                       strlen(secret), open_key, ML_JOIN_AUTH_KEY_LEN);
    req->room_id = m->room;
    req->name = m->name;
    req->secret_hash = out->secret_hash;
    /* Open mode: whoever creates the room hosts it. */
    req->role =
        ml_room_registry_has_room(rooms, m->room) ? ML_SIG_ROLE_PARTICIPANT : ML_SIG_ROLE_HOST;
    return ML_SIG_OK;
  }
  if (!m->token) {
    *detail = "this server needs a join token";
    return ML_SIG_E_UNAUTHORIZED;
  }
  if (!cfg->token_secret) {
    *detail = "no token secret configured";
    return ML_SIG_E_UNAUTHORIZED;
  }
  int rc = ml_token_verify(cfg->token_secret, cfg->token_secret_len, m->token, now, &out->claims);
  if (rc == ML_ERR_STATE && out->claims.not_before > now) {
    *detail = "token not valid yet";
    return ML_SIG_E_TOKEN_NOT_YET_VALID;
  }
  if (rc == ML_ERR_STATE) {
    *detail = "token expired";
    return ML_SIG_E_TOKEN_EXPIRED;
  }
  if (rc != ML_OK) {
    *detail = "token invalid";
    return ML_SIG_E_UNAUTHORIZED;
  }
  req->room_id = out->claims.room;
  req->name = out->claims.name;
  req->role = out->claims.role == ML_TOKEN_ROLE_HOST ? ML_SIG_ROLE_HOST : ML_SIG_ROLE_PARTICIPANT;
  return ML_SIG_OK;
}

void ml_join_auth_clear(ml_join_auth *auth) {
  sodium_memzero(auth->secret_hash, sizeof auth->secret_hash);
  auth->req.secret_hash = NULL;
}

bool ml_join_auth_is_refusal(ml_sig_error err) {
  return err == ML_SIG_E_UNAUTHORIZED || err == ML_SIG_E_WRONG_SECRET ||
         err == ML_SIG_E_TOKEN_EXPIRED || err == ML_SIG_E_TOKEN_NOT_YET_VALID;
}

bool ml_join_auth_failed(unsigned *failed_joins, ml_ratelimit *ip_budget, int64_t now_us,
                         bool *ip_over) {
  *ip_over = ip_budget && !ml_ratelimit_take(ip_budget, now_us);
  return ++*failed_joins >= ML_JOIN_AUTH_MAX_FAILED || *ip_over;
}
