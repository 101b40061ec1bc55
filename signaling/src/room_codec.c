/* A room's state as text. See room_codec.h. */
#include "room_codec.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <sodium.h>

#include "ml/json_input.h"

static void add_bool(JsonBuilder *b, const char *k, bool v) {
  json_builder_set_member_name(b, k);
  json_builder_add_boolean_value(b, v);
}
static void add_int(JsonBuilder *b, const char *k, int64_t v) {
  json_builder_set_member_name(b, k);
  json_builder_add_int_value(b, v);
}
static void add_str(JsonBuilder *b, const char *k, const char *v) {
  json_builder_set_member_name(b, k);
  json_builder_add_string_value(b, v);
}

char *ml_room_codec_encode(const ml_room_registry *reg, const ml_room *room,
                           ml_room_codec_inst_cb inst_of, void *user) {
  g_assert(reg && room && inst_of);
  const ml_room_settings *s = ml_room_settings_of(room);
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_int(b, "v", 1);
  add_str(b, "room", ml_room_id(room));
  add_int(b, "capacity", s->capacity);
  add_int(b, "waiting_max", s->waiting_max);
  add_bool(b, "auto_admit", s->auto_admit);
  add_bool(b, "end_on_host_leave", s->end_on_host_leave);
  add_bool(b, "locked", ml_room_locked(room));
  const uint8_t *h = ml_room_secret_hash(room);
  if (h) {
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, h, 32);
    add_str(b, "secret", hex);
    sodium_memzero(hex, sizeof hex);
  }
  add_int(b, "next_seq", (int64_t)ml_room_next_seq(reg));
  json_builder_set_member_name(b, "peers");
  json_builder_begin_array(b);
  for (unsigned i = 0; i < ml_room_peer_count(room); i++) {
    const ml_room_peer *p = ml_room_peer_at(room, i);
    json_builder_begin_object(b);
    add_str(b, "id", p->id);
    add_str(b, "name", p->name);
    add_str(b, "key", p->identity_key);
    add_str(b, "role", ml_sig_role_name(p->role));
    add_str(b, "state", p->state == ML_ROOM_PEER_ADMITTED ? "admitted" : "waiting");
    add_int(b, "seq", (int64_t)p->seq);
    add_str(b, "inst", inst_of(user, p));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  char *text = json_to_string(root, FALSE);
  json_node_unref(root);
  g_object_unref(b);
  return text;
}

static bool only_members(JsonObject *o, const char *const *allowed) {
  GList *names = json_object_get_members(o);
  bool ok = true;
  for (GList *l = names; l && ok; l = l->next) {
    ok = false;
    for (const char *const *a = allowed; *a; a++)
      if (strcmp(*a, l->data) == 0)
        ok = true;
  }
  g_list_free(names);
  return ok;
}

static bool valid_inst(const char *s) {
  size_t n = strlen(s);
  return n >= 1 && n <= ML_ROOM_CODEC_MAX_INST && ml_sig_valid_id(s);
}

#define MAX_SEQ ((int64_t)1 << 53) /* exact in JSON numbers */

/* One member of "peers" into as (strings borrowed from o). */
static bool decode_peer(JsonObject *o, ml_room_peer_record *as, const char **inst) {
  static const char *const allowed[] = {"id", "name", "key", "role", "state", "seq", "inst", NULL};
  const char *role, *state;
  int64_t seq;
  if (!only_members(o, allowed) ||
      ml_json_get_string(o, "id", 1, ML_SIG_MAX_ID, &as->id) != ML_JSON_OK ||
      ml_json_get_string(o, "name", 1, ML_SIG_MAX_NAME, &as->name) != ML_JSON_OK ||
      ml_json_get_string(o, "key", 1, 64, &as->identity_key) != ML_JSON_OK ||
      ml_json_get_string(o, "role", 1, 16, &role) != ML_JSON_OK ||
      ml_json_get_string(o, "state", 1, 16, &state) != ML_JSON_OK ||
      ml_json_get_int(o, "seq", 0, MAX_SEQ, &seq) != ML_JSON_OK ||
      ml_json_get_string(o, "inst", 1, ML_ROOM_CODEC_MAX_INST, inst) != ML_JSON_OK)
    return false;
  if (!ml_sig_valid_id(as->id) || !ml_sig_valid_name(as->name) ||
      !ml_sig_valid_identity_key(as->identity_key) || !valid_inst(*inst))
    return false;
  if (strcmp(role, "host") == 0)
    as->role = ML_SIG_ROLE_HOST;
  else if (strcmp(role, "participant") == 0)
    as->role = ML_SIG_ROLE_PARTICIPANT;
  else
    return false;
  if (strcmp(state, "admitted") == 0)
    as->state = ML_ROOM_PEER_ADMITTED;
  else if (strcmp(state, "waiting") == 0)
    as->state = ML_ROOM_PEER_WAITING;
  else
    return false;
  as->seq = (uint64_t)seq;
  return true;
}

int ml_room_codec_decode(ml_room_registry *reg, const char *text, size_t len,
                         ml_room_codec_conn_cb conn_for, void *user, ml_room **out) {
  g_assert(reg && conn_for && out);
  static const char *const allowed[] = {
      "v",      "room",   "capacity", "waiting_max", "auto_admit", "end_on_host_leave",
      "locked", "secret", "next_seq", "peers",       NULL};
  const ml_json_limits lim = {.max_bytes = ML_ROOM_CODEC_MAX_BYTES, .max_depth = 4};
  JsonObject *o = NULL;
  if (ml_json_parse(text, len, &lim, &o) != ML_JSON_OK)
    return ML_ERR_PROTOCOL;
  int rc = ML_ERR_PROTOCOL;
  int64_t v, cap, wmax, next_seq;
  const char *id, *secret = NULL;
  ml_room_settings s = {0};
  bool locked;
  uint8_t hash[32];
  bool have_hash = false;
  if (!only_members(o, allowed) || ml_json_get_int(o, "v", 1, 1, &v) != ML_JSON_OK ||
      ml_json_get_string(o, "room", 1, ML_SIG_MAX_ID, &id) != ML_JSON_OK || !ml_sig_valid_id(id) ||
      ml_json_get_int(o, "capacity", 1, 1000000, &cap) != ML_JSON_OK ||
      ml_json_get_int(o, "waiting_max", 0, 1000000, &wmax) != ML_JSON_OK ||
      ml_json_get_bool(o, "auto_admit", &s.auto_admit) != ML_JSON_OK ||
      ml_json_get_bool(o, "end_on_host_leave", &s.end_on_host_leave) != ML_JSON_OK ||
      ml_json_get_bool(o, "locked", &locked) != ML_JSON_OK ||
      ml_json_get_int(o, "next_seq", 0, MAX_SEQ, &next_seq) != ML_JSON_OK)
    goto out;
  if (json_object_has_member(o, "secret")) {
    if (ml_json_get_string(o, "secret", 64, 64, &secret) != ML_JSON_OK ||
        sodium_hex2bin(hash, sizeof hash, secret, 64, NULL, NULL, NULL) != 0)
      goto out;
    have_hash = true;
  }
  JsonNode *pn = json_object_get_member(o, "peers");
  if (!pn || !JSON_NODE_HOLDS_ARRAY(pn))
    goto out;
  JsonArray *peers = json_node_get_array(pn);
  unsigned n = json_array_get_length(peers);
  if (n > ML_ROOM_CODEC_MAX_PEERS || ml_room_find(reg, id))
    goto out;
  /* Check every member before touching reg, so a bad record leaves it alone. */
  ml_room_peer_record *as = g_new0(ml_room_peer_record, n ? n : 1);
  const char **inst = g_new0(const char *, n ? n : 1);
  bool ok = true;
  for (unsigned i = 0; i < n && ok; i++) {
    JsonNode *e = json_array_get_element(peers, i);
    ok = JSON_NODE_HOLDS_OBJECT(e) && decode_peer(json_node_get_object(e), &as[i], &inst[i]) &&
         (int64_t)as[i].seq < next_seq && (i == 0 || as[i].seq > as[i - 1].seq) &&
         !ml_room_find_peer(reg, as[i].id);
    for (unsigned j = 0; ok && j < i; j++)
      ok = strcmp(as[j].id, as[i].id) != 0;
  }
  s.capacity = (unsigned)cap;
  s.waiting_max = (unsigned)wmax;
  ml_room *room = NULL;
  if (ok && ml_room_restore(reg, id, &s, locked, have_hash ? hash : NULL, (uint64_t)next_seq,
                            &room) == ML_OK) {
    for (unsigned i = 0; i < n; i++) {
      int prc = ml_room_restore_peer(reg, room, &as[i], conn_for(user, as[i].id, inst[i]), NULL);
      g_assert(prc == ML_OK); /* checked above */
    }
    *out = room;
    rc = ML_OK;
  }
  g_free(as);
  g_free(inst);
out:
  sodium_memzero(hash, sizeof hash);
  json_object_unref(o);
  return rc;
}
