/* Strict parsing of client messages; the server messages' builders. See message.h. */
#include "message.h"

#include <string.h>

#include <sodium.h>

#include "ml/json_input.h"

static const char *const error_names[ML_SIG_E_COUNT_] = {
    [ML_SIG_OK] = "ok",
    [ML_SIG_E_BAD_JSON] = "bad_json",
    [ML_SIG_E_BAD_VERSION] = "bad_version",
    [ML_SIG_E_UNKNOWN_TYPE] = "unknown_type",
    [ML_SIG_E_BAD_FIELD] = "bad_field",
    [ML_SIG_E_TOO_BIG] = "too_big",
    [ML_SIG_E_NOT_JOINED] = "not_joined",
    [ML_SIG_E_ALREADY_JOINED] = "already_joined",
    [ML_SIG_E_UNAUTHORIZED] = "unauthorized",
    [ML_SIG_E_TOKEN_EXPIRED] = "token_expired",
    [ML_SIG_E_TOKEN_NOT_YET_VALID] = "token_not_yet_valid",
    [ML_SIG_E_WRONG_SECRET] = "wrong_secret",
    [ML_SIG_E_ROOM_LOCKED] = "room_locked",
    [ML_SIG_E_ROOM_FULL] = "room_full",
    [ML_SIG_E_WAITING_FULL] = "waiting_full",
    [ML_SIG_E_NOT_HOST] = "not_host",
    [ML_SIG_E_NOT_ADMITTED] = "not_admitted",
    [ML_SIG_E_NO_SUCH_PEER] = "no_such_peer",
    [ML_SIG_E_RATE_LIMITED] = "rate_limited",
    [ML_SIG_E_SERVER_FULL] = "server_full",
    [ML_SIG_E_SHUTTING_DOWN] = "shutting_down",
    [ML_SIG_E_INTERNAL] = "internal",
    [ML_SIG_E_UNAVAILABLE] = "unavailable",
};

const char *ml_sig_error_name(ml_sig_error err) {
  if ((int)err < 0 || err >= ML_SIG_E_COUNT_)
    return "internal";
  return error_names[err];
}

static const struct {
  const char *name;
  ml_sig_msg_type type;
} msg_types[] = {
    {"join", ML_SIG_MSG_JOIN},
    {"leave", ML_SIG_MSG_LEAVE},
    {"admit", ML_SIG_MSG_ADMIT},
    {"deny", ML_SIG_MSG_DENY},
    {"remove", ML_SIG_MSG_REMOVE},
    {"lock", ML_SIG_MSG_LOCK},
    {"auto_admit", ML_SIG_MSG_AUTO_ADMIT},
    {"signal", ML_SIG_MSG_SIGNAL},
    {"ping", ML_SIG_MSG_PING},
    {"end", ML_SIG_MSG_END},
    {"make_host", ML_SIG_MSG_MAKE_HOST},
};

const char *ml_sig_msg_type_name(ml_sig_msg_type t) {
  for (size_t i = 0; i < G_N_ELEMENTS(msg_types); i++)
    if (msg_types[i].type == t)
      return msg_types[i].name;
  return "unknown";
}

const char *ml_sig_role_name(ml_sig_role r) {
  return r == ML_SIG_ROLE_HOST ? "host" : "participant";
}

bool ml_sig_valid_id(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > ML_SIG_MAX_ID)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!g_ascii_isalnum(c) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return true;
}

bool ml_sig_valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > ML_SIG_MAX_NAME || !g_utf8_validate(s, (gssize)n, NULL))
    return false;
  for (const char *p = s; p && *p; p = g_utf8_find_next_char(p, NULL)) {
    gunichar c = g_utf8_get_char(p);
    if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029)
      return false;
  }
  return true;
}

bool ml_sig_valid_identity_key(const char *s) {
  unsigned char key[ML_SIG_IDENTITY_KEY_LEN + 1];
  size_t n = 0;
  size_t len = strlen(s);
  if (len != 44) /* base64 of 32 bytes, padded */
    return false;
  if (sodium_base642bin(key, sizeof key, s, len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) !=
      0)
    return false;
  return n == ML_SIG_IDENTITY_KEY_LEN;
}

/* Field access helpers (ml/json_input.h underneath): each returns false on a
 * missing required field, the wrong type or a bound, with *detail saying which. */
static bool get_string(JsonObject *o, const char *key, size_t max, bool required, char **out,
                       const char **detail) {
  const char *s = NULL;
  switch (ml_json_get_string(o, key, 0, max, &s)) {
  case ML_JSON_OK: *out = g_strdup(s); return true;
  case ML_JSON_E_MISSING:
    if (required)
      *detail = "missing field";
    return !required;
  case ML_JSON_E_RANGE: *detail = "string too long"; return false;
  default: *detail = "field must be a string"; return false;
  }
}

static bool get_bool(JsonObject *o, const char *key, bool *out, const char **detail) {
  switch (ml_json_get_bool(o, key, out)) {
  case ML_JSON_OK: return true;
  case ML_JSON_E_MISSING: *detail = "missing field"; return false;
  default: *detail = "field must be a boolean"; return false;
  }
}

/* Every member must be in allowed (NULL-terminated) or be "v", "type", "id". */
static bool only_fields(JsonObject *o, const char *const *allowed, const char **detail) {
  bool ok = true;
  GList *members = json_object_get_members(o);
  for (GList *l = members; l && ok; l = l->next) {
    const char *k = l->data;
    if (!strcmp(k, "v") || !strcmp(k, "type") || !strcmp(k, "id"))
      continue;
    bool found = false;
    for (const char *const *a = allowed; *a; a++)
      if (!strcmp(*a, k))
        found = true;
    if (!found) {
      *detail = "unknown field";
      ok = false;
    }
  }
  g_list_free(members);
  return ok;
}

static ml_sig_error parse_join(JsonObject *o, ml_sig_msg *m, const char **detail) {
  static const char *const allowed[] = {"token", "room", "secret", "name", "identity_key", NULL};
  if (!only_fields(o, allowed, detail))
    return ML_SIG_E_BAD_FIELD;
  if (!get_string(o, "token", ML_SIG_MAX_TOKEN, false, &m->token, detail) ||
      !get_string(o, "room", ML_SIG_MAX_ID, false, &m->room, detail) ||
      !get_string(o, "secret", ML_SIG_MAX_SECRET, false, &m->secret, detail) ||
      !get_string(o, "name", ML_SIG_MAX_NAME, false, &m->name, detail) ||
      !get_string(o, "identity_key", 64, true, &m->identity_key, detail))
    goto bad;
  if (!ml_sig_valid_identity_key(m->identity_key)) {
    *detail = "identity_key must be base64 of 32 bytes";
    goto bad;
  }
  if (m->room && !ml_sig_valid_id(m->room)) {
    *detail = "room must match [A-Za-z0-9_.-]{1,64}";
    goto bad;
  }
  if (m->name && !ml_sig_valid_name(m->name)) {
    *detail = "name must be 1-64 bytes of printable UTF-8";
    goto bad;
  }
  if (m->secret && m->secret[0] == '\0') {
    *detail = "secret must not be empty";
    goto bad;
  }
  /* Exactly one access method: a token, or (open mode) a room code + name. */
  if (m->token) {
    if (m->room || m->secret || m->name) {
      *detail = "token joins carry no room, secret or name";
      goto bad;
    }
  } else if (!m->room || !m->name) {
    *detail = "join needs a token, or a room and a name";
    goto bad;
  }
  return ML_SIG_OK;
bad:
  return ML_SIG_E_BAD_FIELD;
}

static ml_sig_error parse_body(JsonObject *o, ml_sig_msg *m, const char **detail) {
  static const char *const none[] = {NULL};
  static const char *const peer_only[] = {"peer", NULL};
  static const char *const locked_only[] = {"locked", NULL};
  static const char *const enabled_only[] = {"enabled", NULL};
  static const char *const signal_fields[] = {"to", "data", NULL};
  switch (m->type) {
  case ML_SIG_MSG_JOIN: return parse_join(o, m, detail);
  case ML_SIG_MSG_LEAVE:
  case ML_SIG_MSG_END:
  case ML_SIG_MSG_PING: return only_fields(o, none, detail) ? ML_SIG_OK : ML_SIG_E_BAD_FIELD;
  case ML_SIG_MSG_ADMIT:
  case ML_SIG_MSG_DENY:
  case ML_SIG_MSG_REMOVE:
  case ML_SIG_MSG_MAKE_HOST:
    if (!only_fields(o, peer_only, detail) ||
        !get_string(o, "peer", ML_SIG_MAX_ID, true, &m->peer, detail))
      return ML_SIG_E_BAD_FIELD;
    if (!ml_sig_valid_id(m->peer)) {
      *detail = "peer must be a peer id";
      return ML_SIG_E_BAD_FIELD;
    }
    return ML_SIG_OK;
  case ML_SIG_MSG_LOCK:
    return only_fields(o, locked_only, detail) && get_bool(o, "locked", &m->flag, detail)
               ? ML_SIG_OK
               : ML_SIG_E_BAD_FIELD;
  case ML_SIG_MSG_AUTO_ADMIT:
    return only_fields(o, enabled_only, detail) && get_bool(o, "enabled", &m->flag, detail)
               ? ML_SIG_OK
               : ML_SIG_E_BAD_FIELD;
  case ML_SIG_MSG_SIGNAL: {
    if (!only_fields(o, signal_fields, detail) ||
        !get_string(o, "to", ML_SIG_MAX_ID, true, &m->peer, detail))
      return ML_SIG_E_BAD_FIELD;
    if (!ml_sig_valid_id(m->peer)) {
      *detail = "to must be a peer id";
      return ML_SIG_E_BAD_FIELD;
    }
    JsonNode *d = json_object_get_member(o, "data");
    if (!d) {
      *detail = "missing field";
      return ML_SIG_E_BAD_FIELD;
    }
    bool is_obj = JSON_NODE_HOLDS_OBJECT(d);
    bool is_str = JSON_NODE_HOLDS_VALUE(d) && json_node_get_value_type(d) == G_TYPE_STRING;
    if (!is_obj && !is_str) {
      *detail = "data must be an object or a string";
      return ML_SIG_E_BAD_FIELD;
    }
    m->data = json_node_ref(d);
    return ML_SIG_OK;
  }
  }
  return ML_SIG_E_UNKNOWN_TYPE;
}

ml_sig_error ml_sig_msg_parse(const char *text, size_t len, size_t max_len, ml_sig_msg *out,
                              const char **detail, char **req_id_out) {
  const char *dummy = NULL;
  if (!detail)
    detail = &dummy;
  *detail = "";
  if (req_id_out)
    *req_id_out = NULL;
  memset(out, 0, sizeof *out);
  JsonObject *o = NULL;
  const ml_json_limits limits = {.max_bytes = max_len, .max_depth = ML_SIG_MAX_DEPTH};
  ml_json_err jerr = ml_json_parse(text, len, &limits, &o);
  if (jerr == ML_JSON_E_TOO_BIG) {
    *detail = "message too big";
    return ML_SIG_E_TOO_BIG;
  }
  if (jerr != ML_JSON_OK) {
    *detail = "not valid JSON text";
    return ML_SIG_E_BAD_JSON;
  }
  ml_sig_error err = ML_SIG_E_BAD_JSON;

  /* The request id first, so that every later error can echo it. */
  const char *id = NULL;
  ml_json_err idn = ml_json_get_string(o, "id", 0, SIZE_MAX, &id);
  if (idn != ML_JSON_E_MISSING) {
    if (idn != ML_JSON_OK || !ml_sig_valid_id(id)) {
      *detail = "id must be a short [A-Za-z0-9_.-] string";
      err = ML_SIG_E_BAD_FIELD;
      goto out;
    }
    out->req_id = g_strdup(id);
    if (req_id_out)
      *req_id_out = g_strdup(out->req_id);
  }

  int64_t v = 0;
  if (ml_json_get_int(o, "v", ML_SIG_PROTOCOL_VERSION, ML_SIG_PROTOCOL_VERSION, &v) != ML_JSON_OK) {
    *detail = "v must be 1";
    err = ML_SIG_E_BAD_VERSION;
    goto out;
  }
  const char *type = NULL;
  if (ml_json_get_string(o, "type", 0, SIZE_MAX, &type) != ML_JSON_OK) {
    *detail = "type must be a string";
    err = ML_SIG_E_UNKNOWN_TYPE;
    goto out;
  }
  bool known = false;
  for (size_t i = 0; i < G_N_ELEMENTS(msg_types); i++) {
    if (!strcmp(msg_types[i].name, type)) {
      out->type = msg_types[i].type;
      known = true;
    }
  }
  if (!known) {
    *detail = "unknown message type";
    err = ML_SIG_E_UNKNOWN_TYPE;
    goto out;
  }
  err = parse_body(o, out, detail);
out:
  json_object_unref(o);
  if (err != ML_SIG_OK)
    ml_sig_msg_clear(out);
  return err;
}

void ml_sig_msg_clear(ml_sig_msg *msg) {
  if (!msg)
    return;
  g_free(msg->req_id);
  g_free(msg->token);
  if (msg->secret)
    sodium_memzero(msg->secret, strlen(msg->secret));
  g_free(msg->secret);
  g_free(msg->room);
  g_free(msg->name);
  g_free(msg->identity_key);
  g_free(msg->peer);
  if (msg->data)
    json_node_unref(msg->data);
  memset(msg, 0, sizeof *msg);
}

/* ---- builders ---- */

static JsonBuilder *begin(const char *type) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "v");
  json_builder_add_int_value(b, ML_SIG_PROTOCOL_VERSION);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, type);
  return b;
}

static void add_str(JsonBuilder *b, const char *k, const char *v) {
  json_builder_set_member_name(b, k);
  json_builder_add_string_value(b, v);
}

static void add_bool(JsonBuilder *b, const char *k, bool v) {
  json_builder_set_member_name(b, k);
  json_builder_add_boolean_value(b, v);
}

static void add_int(JsonBuilder *b, const char *k, gint64 v) {
  json_builder_set_member_name(b, k);
  json_builder_add_int_value(b, v);
}

/* Ends the object, serialises it, frees b. */
static char *finish(JsonBuilder *b) {
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  g_object_unref(b);
  char *text = json_to_string(root, FALSE);
  json_node_unref(root);
  return text;
}

static void add_peer_object(JsonBuilder *b, const ml_sig_peer_info *p, bool with_role) {
  json_builder_begin_object(b);
  add_str(b, "id", p->id);
  add_str(b, "name", p->name);
  if (with_role)
    add_str(b, "role", ml_sig_role_name(p->role));
  add_str(b, "identity_key", p->identity_key);
  json_builder_end_object(b);
}

static void add_urls(JsonBuilder *b, char *const *urls) {
  json_builder_set_member_name(b, "urls");
  json_builder_begin_array(b);
  for (char *const *u = urls; u && *u; u++)
    json_builder_add_string_value(b, *u);
  json_builder_end_array(b);
}

char *ml_sig_build_welcome(const ml_sig_welcome *w) {
  JsonBuilder *b = begin("welcome");
  add_str(b, "peer_id", w->peer_id);
  add_str(b, "room", w->room);
  add_str(b, "role", ml_sig_role_name(w->role));
  add_str(b, "name", w->name);
  add_bool(b, "locked", w->locked);
  add_bool(b, "auto_admit", w->auto_admit);
  add_int(b, "capacity", w->capacity);
  json_builder_set_member_name(b, "peers");
  json_builder_begin_array(b);
  for (size_t i = 0; i < w->n_peers; i++)
    add_peer_object(b, &w->peers[i], true);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "ice_servers");
  json_builder_begin_array(b);
  for (size_t i = 0; i < w->n_ice; i++) {
    const ml_sig_ice_server *s = &w->ice[i];
    json_builder_begin_object(b);
    add_urls(b, s->urls);
    if (s->username)
      add_str(b, "username", s->username);
    if (s->credential)
      add_str(b, "credential", s->credential);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  return finish(b);
}

char *ml_sig_build_waiting(const char *peer_id, const char *room) {
  JsonBuilder *b = begin("waiting");
  add_str(b, "peer_id", peer_id);
  add_str(b, "room", room);
  return finish(b);
}

/* A message of `type` whose one member "peer" is p (with its role or not). */
static char *build_about_peer(const char *type, const ml_sig_peer_info *p, bool with_role) {
  JsonBuilder *b = begin(type);
  json_builder_set_member_name(b, "peer");
  add_peer_object(b, p, with_role);
  return finish(b);
}

char *ml_sig_build_knock(const ml_sig_peer_info *p) { return build_about_peer("knock", p, false); }

char *ml_sig_build_peer_joined(const ml_sig_peer_info *p) {
  return build_about_peer("peer_joined", p, true);
}

char *ml_sig_build_peer_left(const char *peer_id, const char *reason) {
  JsonBuilder *b = begin("peer_left");
  add_str(b, "peer", peer_id);
  add_str(b, "reason", reason);
  return finish(b);
}

char *ml_sig_build_role_changed(const char *peer_id, ml_sig_role role, const char *reason) {
  JsonBuilder *b = begin("role_changed");
  add_str(b, "peer", peer_id);
  add_str(b, "role", ml_sig_role_name(role));
  add_str(b, "reason", reason);
  return finish(b);
}

char *ml_sig_build_room_state(bool locked, bool auto_admit, const char *by) {
  JsonBuilder *b = begin("room_state");
  add_bool(b, "locked", locked);
  add_bool(b, "auto_admit", auto_admit);
  add_str(b, "by", by);
  return finish(b);
}

char *ml_sig_build_removed(void) { return finish(begin("removed")); }

char *ml_sig_build_denied(void) { return finish(begin("denied")); }

char *ml_sig_build_room_closed(const char *reason) {
  JsonBuilder *b = begin("room_closed");
  add_str(b, "reason", reason);
  return finish(b);
}

char *ml_sig_build_join_failed(const char *name, const char *reason) {
  JsonBuilder *b = begin("join_failed");
  add_str(b, "name", name);
  add_str(b, "reason", reason);
  return finish(b);
}

char *ml_sig_build_signal(const char *from, JsonNode *data) {
  JsonBuilder *b = begin("signal");
  add_str(b, "from", from);
  json_builder_set_member_name(b, "data");
  json_builder_add_value(b, json_node_copy(data));
  return finish(b);
}

char *ml_sig_build_pong(const char *req_id) {
  JsonBuilder *b = begin("pong");
  if (req_id)
    add_str(b, "id", req_id);
  return finish(b);
}

char *ml_sig_build_error(ml_sig_error code, const char *detail, const char *ref,
                         const char *req_id) {
  JsonBuilder *b = begin("error");
  add_str(b, "code", ml_sig_error_name(code));
  if (detail && *detail)
    add_str(b, "message", detail);
  if (ref)
    add_str(b, "ref", ref);
  if (req_id)
    add_str(b, "id", req_id);
  return finish(b);
}

char *ml_sig_build_shutdown(int64_t retry_after_ms) {
  JsonBuilder *b = begin("shutdown");
  add_bool(b, "reconnect", true);
  if (retry_after_ms >= 0)
    add_int(b, "retry_after_ms", retry_after_ms);
  return finish(b);
}
