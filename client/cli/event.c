/* mentorlink — the `join --json` events, written and read. See ml/event.h. */
#include "ml/event.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

static const char *const type_names[ML_EVENT_TYPE_COUNT] = {
    [ML_EVENT_SIGNALING] = "signaling",
    [ML_EVENT_JOINED] = "joined",
    [ML_EVENT_PEER_JOINED] = "peer_joined",
    [ML_EVENT_PEER_LEFT] = "peer_left",
    [ML_EVENT_PEER_REJOINED] = "peer_rejoined",
    [ML_EVENT_KNOCK] = "knock",
    [ML_EVENT_PEER_STATE] = "peer_state",
    [ML_EVENT_VERIFICATION] = "verification",
    [ML_EVENT_IDENTITY_CHANGED] = "identity_changed",
    [ML_EVENT_CHAT] = "chat",
    [ML_EVENT_CHAT_SENT] = "chat_sent",
    [ML_EVENT_RECEIPT] = "receipt",
    [ML_EVENT_STATS] = "stats",
    [ML_EVENT_PEER_MEDIA] = "peer_media",
    [ML_EVENT_MARKED_VERIFIED] = "marked_verified",
    [ML_EVENT_SESSION] = "session",
    [ML_EVENT_ERROR] = "error",
    [ML_EVENT_ENDED] = "ended",
};

const char *ml_event_type_name(ml_event_type type) {
  return (unsigned)type < ML_EVENT_TYPE_COUNT ? type_names[type] : "unknown";
}

int ml_event_type_from_name(const char *name, ml_event_type *out) {
  for (int t = 0; t < ML_EVENT_TYPE_COUNT; t++)
    if (!strcmp(name, type_names[t])) {
      *out = (ml_event_type)t;
      return ML_OK;
    }
  return ML_ERR_NOT_FOUND;
}

/* ---- writing ---- */

/* Written by hand so numbers print as people read them (json-glib prints
 * doubles with 17 digits). Strings are escaped per RFC 8259. */
static void js_sep(GString *j) {
  if (j->len > 1)
    g_string_append_c(j, ',');
}

static void add_str(GString *j, const char *k, const char *v) {
  js_sep(j);
  g_string_append_printf(j, "\"%s\":\"", k);
  for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf(j, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      g_string_append_printf(j, "\\u%04x", *p);
    else
      g_string_append_c(j, (char)*p);
  }
  g_string_append_c(j, '"');
}

static void add_int(GString *j, const char *k, int64_t v) {
  js_sep(j);
  g_string_append_printf(j, "\"%s\":%lld", k, (long long)v);
}

static void add_double(GString *j, const char *k, double v, int decimals) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE], fmt[8];
  js_sep(j);
  snprintf(fmt, sizeof fmt, "%%.%df", decimals);
  g_string_append_printf(j, "\"%s\":%s", k, g_ascii_formatd(buf, sizeof buf, fmt, v));
}

static void add_raw(GString *j, const char *k, const char *v) {
  js_sep(j);
  g_string_append_printf(j, "\"%s\":%s", k, v);
}

/* A number, or null when it is unknown (< 0). */
static void add_known(GString *j, const char *k, double v, int decimals) {
  if (v >= 0)
    add_double(j, k, v, decimals);
  else
    add_raw(j, k, "null");
}

static void add_bool(GString *j, const char *k, bool v) { add_raw(j, k, v ? "true" : "false"); }

static void add_stats(GString *b, const ml_event_stats *s) {
  add_str(b, "path", s->path);
  add_known(b, "rtt_ms", s->rtt_ms, 2);
  add_double(b, "loss", s->loss, 4);
  add_int(b, "target_kbps", s->target_kbps);
  add_bool(b, "video_paused", s->video_paused);
  add_str(b, "sent_layer", s->sent_layer);
  add_int(b, "layer_switches", s->layer_switches);
  add_double(b, "bitrate_kbps", s->bitrate_kbps, 1);
  add_double(b, "fps", s->fps, 1);
  add_double(b, "jitter_ms", s->jitter_ms, 2);
  add_int(b, "latency_ms", s->latency_ms);
  add_known(b, "e2e_latency_ms", s->e2e_latency_ms, 1);
  add_int(b, "video_frames_decoded", (int64_t)s->video_frames_decoded);
  add_int(b, "audio_ms_decoded", (int64_t)s->audio_ms_decoded);
  add_int(b, "first_frame_ms", s->first_frame_ms);
  add_int(b, "first_frame_since_start_ms", s->first_frame_since_start_ms);
  add_int(b, "video_frames_sent", (int64_t)s->video_frames_sent);
  add_int(b, "rtp_packets_sent", (int64_t)s->rtp_packets_sent);
  add_int(b, "packets_lost", s->packets_lost);
  if (s->audio_tone_hz > 0)
    add_double(b, "audio_tone_hz", s->audio_tone_hz, 1);
  add_int(b, "datagrams_in", (int64_t)s->datagrams_in);
  add_int(b, "datagrams_out", (int64_t)s->datagrams_out);
  add_int(b, "opened", (int64_t)s->opened);
  add_int(b, "dropped_not_ours", (int64_t)s->dropped_not_ours);
  add_int(b, "dropped_malformed", (int64_t)s->dropped_malformed);
  add_int(b, "dropped_unexpected", (int64_t)s->dropped_unexpected);
  add_int(b, "dropped_auth", (int64_t)s->dropped_auth);
  add_int(b, "dropped_replay", (int64_t)s->dropped_replay);
  add_int(b, "dropped_handshake", (int64_t)s->dropped_handshake);
  add_int(b, "pli_sent", (int64_t)s->pli_sent);
  add_int(b, "pli_received", (int64_t)s->pli_received);
  add_int(b, "control_unknown", (int64_t)s->control_unknown);
  add_int(b, "control_malformed", (int64_t)s->control_malformed);
  add_int(b, "estimate_kbps", s->estimate_kbps);
  add_int(b, "peer_estimate_kbps", s->peer_estimate_kbps);
  add_str(b, "reason", s->reason);
  add_int(b, "frame_width", (int64_t)s->frame_width);
  add_int(b, "frame_height", (int64_t)s->frame_height);
  add_int(b, "freeze_ms", (int64_t)s->freeze_ms);
  add_int(b, "freezes", (int64_t)s->freezes);
  add_int(b, "audio_expected_ms", (int64_t)s->audio_expected_ms);
  add_int(b, "audio_fec_ms", (int64_t)s->audio_fec_ms);
  add_int(b, "audio_concealed_ms", (int64_t)s->audio_concealed_ms);
  add_bool(b, "final", s->final);
}

char *ml_event_encode(const ml_event *ev) {
  GString *b = g_string_new("{");
  add_str(b, "event", ml_event_type_name(ev->type));
  add_int(b, "t_ms", ev->t_ms);
  if (ev->peer[0] && ev->type != ML_EVENT_JOINED) {
    add_str(b, "peer", ev->peer);
    add_str(b, "name", ev->name);
  }
  switch (ev->type) {
  case ML_EVENT_SIGNALING: add_str(b, "state", ev->state); break;
  case ML_EVENT_JOINED:
    add_str(b, "peer_id", ev->peer);
    add_str(b, "name", ev->name);
    add_str(b, "room", ev->text);
    break;
  case ML_EVENT_PEER_JOINED:
  case ML_EVENT_KNOCK: add_str(b, "announced_fingerprint", ev->fingerprint); break;
  case ML_EVENT_PEER_LEFT: add_str(b, "reason", ev->text); break;
  case ML_EVENT_PEER_REJOINED: add_str(b, "previous", ev->text); break;
  case ML_EVENT_PEER_STATE:
    add_str(b, "state", ev->state);
    add_str(b, "path", ev->path);
    break;
  case ML_EVENT_VERIFICATION:
    add_str(b, "sas", ev->sas);
    add_str(b, "safety_number", ev->safety_number);
    add_str(b, "fingerprint", ev->fingerprint);
    add_str(b, "pin", ev->pin);
    add_bool(b, "verified", ev->verified);
    break;
  case ML_EVENT_IDENTITY_CHANGED:
    add_str(b, "fingerprint", ev->fingerprint);
    add_str(b, "pinned_fingerprint", ev->pinned_fingerprint);
    add_str(b, "warning", ev->text);
    break;
  case ML_EVENT_CHAT:
  case ML_EVENT_CHAT_SENT:
    add_int(b, "id", (int64_t)ev->id);
    add_str(b, "text", ev->text);
    break;
  case ML_EVENT_RECEIPT: add_int(b, "id", (int64_t)ev->id); break;
  case ML_EVENT_STATS: add_stats(b, &ev->stats); break;
  case ML_EVENT_ERROR:
    if (ev->error[0])
      add_str(b, "error", ev->error);
    add_str(b, "message", ev->text);
    add_bool(b, "fatal", ev->fatal);
    break;
  case ML_EVENT_PEER_MEDIA:
    add_bool(b, "muted", ev->muted);
    add_bool(b, "camera_on", ev->camera_on);
    add_bool(b, "video_paused", ev->video_paused);
    break;
  case ML_EVENT_MARKED_VERIFIED:
    add_bool(b, "ok", ev->ok);
    if (ev->ok)
      add_str(b, "fingerprint", ev->fingerprint);
    else
      add_str(b, "error", ev->error);
    break;
  case ML_EVENT_SESSION:
    add_str(b, "what", ev->what);
    add_bool(b, "on", ev->on);
    add_int(b, "order", (int64_t)ev->order);
    add_str(b, "by", ev->by);
    add_str(b, "by_name", ev->by_name);
    add_str(b, "detail", ev->text);
    break;
  case ML_EVENT_ENDED: break;
  }
  g_string_append_c(b, '}');
  return g_string_free(b, FALSE);
}

/* ---- reading ---- */

/* The members of one object, read with their types checked; the first
 * failure sticks in err and later reads do nothing. */
typedef struct reader {
  JsonObject *o;
  int err;
} reader;

static void fail(reader *r, int err) {
  if (!r->err)
    r->err = err;
}

/* The member k as a value of type t; NULL (and a failure unless optional)
 * when absent, of another type or null. */
static JsonNode *member(reader *r, const char *k, GType t, bool optional) {
  if (r->err)
    return NULL;
  JsonNode *n = json_object_get_member(r->o, k);
  if (!n) {
    if (!optional)
      fail(r, ML_ERR_PROTOCOL);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != t) {
    fail(r, ML_ERR_PROTOCOL);
    return NULL;
  }
  return n;
}

static void read_str_opt(reader *r, const char *k, char *out, size_t cap, bool optional) {
  JsonNode *n = member(r, k, G_TYPE_STRING, optional);
  if (n && g_strlcpy(out, json_node_get_string(n), cap) >= cap)
    fail(r, ML_ERR_TOO_BIG);
}

#define read_str(r, k, field) read_str_opt((r), (k), (field), sizeof(field), false)

static void read_text(reader *r, const char *k, ml_event *ev) {
  JsonNode *n = member(r, k, G_TYPE_STRING, false);
  if (n) {
    ev->owned_text = g_strdup(json_node_get_string(n));
    ev->text = ev->owned_text;
  }
}

static int64_t read_int(reader *r, const char *k) {
  JsonNode *n = member(r, k, G_TYPE_INT64, false);
  return n ? json_node_get_int(n) : 0;
}

static uint64_t read_count(reader *r, const char *k) {
  int64_t v = read_int(r, k);
  if (v < 0)
    fail(r, ML_ERR_PROTOCOL);
  return v < 0 ? 0 : (uint64_t)v;
}

/* A number, integer or not; nullable: null reads as -1 (unknown). */
static double read_num(reader *r, const char *k, bool nullable) {
  if (r->err)
    return 0;
  JsonNode *n = json_object_get_member(r->o, k);
  if (n && nullable && JSON_NODE_HOLDS_NULL(n))
    return -1;
  GType t = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  if (t == G_TYPE_DOUBLE)
    return json_node_get_double(n);
  if (t == G_TYPE_INT64)
    return (double)json_node_get_int(n);
  fail(r, ML_ERR_PROTOCOL);
  return 0;
}

static bool read_bool(reader *r, const char *k) {
  JsonNode *n = member(r, k, G_TYPE_BOOLEAN, false);
  return n && json_node_get_boolean(n);
}

static void read_stats(reader *r, ml_event_stats *s) {
  read_str(r, "path", s->path);
  s->rtt_ms = read_num(r, "rtt_ms", true);
  s->loss = read_num(r, "loss", false);
  s->target_kbps = read_int(r, "target_kbps");
  s->video_paused = read_bool(r, "video_paused");
  read_str(r, "sent_layer", s->sent_layer);
  s->layer_switches = read_int(r, "layer_switches");
  s->bitrate_kbps = read_num(r, "bitrate_kbps", false);
  s->fps = read_num(r, "fps", false);
  s->jitter_ms = read_num(r, "jitter_ms", false);
  s->latency_ms = read_int(r, "latency_ms");
  s->e2e_latency_ms = read_num(r, "e2e_latency_ms", true);
  s->video_frames_decoded = read_count(r, "video_frames_decoded");
  s->audio_ms_decoded = read_count(r, "audio_ms_decoded");
  s->first_frame_ms = read_int(r, "first_frame_ms");
  s->first_frame_since_start_ms = read_int(r, "first_frame_since_start_ms");
  s->video_frames_sent = read_count(r, "video_frames_sent");
  s->rtp_packets_sent = read_count(r, "rtp_packets_sent");
  s->packets_lost = read_int(r, "packets_lost");
  if (!r->err && json_object_has_member(r->o, "audio_tone_hz"))
    s->audio_tone_hz = read_num(r, "audio_tone_hz", false);
  s->datagrams_in = read_count(r, "datagrams_in");
  s->datagrams_out = read_count(r, "datagrams_out");
  s->opened = read_count(r, "opened");
  s->dropped_not_ours = read_count(r, "dropped_not_ours");
  s->dropped_malformed = read_count(r, "dropped_malformed");
  s->dropped_unexpected = read_count(r, "dropped_unexpected");
  s->dropped_auth = read_count(r, "dropped_auth");
  s->dropped_replay = read_count(r, "dropped_replay");
  s->dropped_handshake = read_count(r, "dropped_handshake");
  s->pli_sent = read_count(r, "pli_sent");
  s->pli_received = read_count(r, "pli_received");
  s->control_unknown = read_count(r, "control_unknown");
  s->control_malformed = read_count(r, "control_malformed");
  s->estimate_kbps = read_int(r, "estimate_kbps");
  s->peer_estimate_kbps = read_int(r, "peer_estimate_kbps");
  read_str(r, "reason", s->reason);
  s->frame_width = read_count(r, "frame_width");
  s->frame_height = read_count(r, "frame_height");
  s->freeze_ms = read_count(r, "freeze_ms");
  s->freezes = read_count(r, "freezes");
  s->audio_expected_ms = read_count(r, "audio_expected_ms");
  s->audio_fec_ms = read_count(r, "audio_fec_ms");
  s->audio_concealed_ms = read_count(r, "audio_concealed_ms");
  s->final = read_bool(r, "final");
}

static void read_members(reader *r, ml_event *ev) {
  ev->t_ms = read_int(r, "t_ms");
  if (ev->type != ML_EVENT_JOINED && !r->err && json_object_has_member(r->o, "peer")) {
    read_str(r, "peer", ev->peer);
    read_str(r, "name", ev->name);
  }
  switch (ev->type) {
  case ML_EVENT_SIGNALING: read_str(r, "state", ev->state); break;
  case ML_EVENT_JOINED:
    read_str(r, "peer_id", ev->peer);
    read_str(r, "name", ev->name);
    read_text(r, "room", ev);
    break;
  case ML_EVENT_PEER_JOINED:
  case ML_EVENT_KNOCK: read_str(r, "announced_fingerprint", ev->fingerprint); break;
  case ML_EVENT_PEER_LEFT: read_text(r, "reason", ev); break;
  case ML_EVENT_PEER_REJOINED: read_text(r, "previous", ev); break;
  case ML_EVENT_PEER_STATE:
    read_str(r, "state", ev->state);
    read_str(r, "path", ev->path);
    break;
  case ML_EVENT_VERIFICATION:
    read_str(r, "sas", ev->sas);
    read_str(r, "safety_number", ev->safety_number);
    read_str(r, "fingerprint", ev->fingerprint);
    read_str(r, "pin", ev->pin);
    ev->verified = read_bool(r, "verified");
    break;
  case ML_EVENT_IDENTITY_CHANGED:
    read_str(r, "fingerprint", ev->fingerprint);
    read_str(r, "pinned_fingerprint", ev->pinned_fingerprint);
    read_text(r, "warning", ev);
    break;
  case ML_EVENT_CHAT:
  case ML_EVENT_CHAT_SENT:
    ev->id = read_count(r, "id");
    read_text(r, "text", ev);
    break;
  case ML_EVENT_RECEIPT: ev->id = read_count(r, "id"); break;
  case ML_EVENT_STATS: read_stats(r, &ev->stats); break;
  case ML_EVENT_ERROR:
    read_str_opt(r, "error", ev->error, sizeof ev->error, true);
    read_text(r, "message", ev);
    ev->fatal = read_bool(r, "fatal");
    break;
  case ML_EVENT_PEER_MEDIA:
    ev->muted = read_bool(r, "muted");
    ev->camera_on = read_bool(r, "camera_on");
    ev->video_paused = read_bool(r, "video_paused");
    break;
  case ML_EVENT_MARKED_VERIFIED:
    ev->ok = read_bool(r, "ok");
    if (ev->ok)
      read_str(r, "fingerprint", ev->fingerprint);
    else
      read_str(r, "error", ev->error);
    break;
  case ML_EVENT_SESSION:
    read_str(r, "what", ev->what);
    ev->on = read_bool(r, "on");
    ev->order = read_count(r, "order");
    read_str(r, "by", ev->by);
    read_str(r, "by_name", ev->by_name);
    read_text(r, "detail", ev);
    break;
  case ML_EVENT_ENDED: break;
  }
}

/* Whether only whitespace follows the first JSON value of line (json-glib
 * 1.6 has no strict mode and reads "{...}{...}" without complaint). A scan
 * of brackets outside strings; the parser checks everything else. */
static bool one_value(const char *line, size_t len) {
  size_t depth = 0, i = 0;
  bool in_str = false, started = false;
  for (; i < len && !(started && depth == 0); i++) {
    char ch = line[i];
    if (in_str) {
      if (ch == '\\')
        i++;
      else if (ch == '"')
        in_str = false;
    } else if (ch == '"') {
      in_str = true;
    } else if (ch == '{' || ch == '[') {
      depth++;
      started = true;
    } else if ((ch == '}' || ch == ']') && depth) {
      depth--;
    }
  }
  for (; i < len; i++)
    if (!g_ascii_isspace(line[i]))
      return false;
  return true;
}

int ml_event_decode(const char *line, ml_event *ev) {
  memset(ev, 0, sizeof *ev);
  size_t len = strnlen(line, ML_EVENT_MAX_LINE + 1);
  if (len > ML_EVENT_MAX_LINE)
    return ML_ERR_TOO_BIG;
  if (!g_utf8_validate(line, (gssize)len, NULL) || !one_value(line, len))
    return ML_ERR_PROTOCOL;
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, line, (gssize)len, NULL))
    return ML_ERR_PROTOCOL;
  JsonNode *root = json_parser_get_root(p);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return ML_ERR_PROTOCOL;
  reader r = {.o = json_node_get_object(root)};
  char name[ML_EVENT_MAX_WORD + 1];
  read_str(&r, "event", name);
  if (r.err)
    return r.err == ML_ERR_TOO_BIG ? ML_ERR_UNSUPPORTED : r.err;
  if (ml_event_type_from_name(name, &ev->type) != ML_OK)
    return ML_ERR_UNSUPPORTED;
  read_members(&r, ev);
  return r.err;
}

void ml_event_clear(ml_event *ev) {
  if (!ev)
    return;
  g_free(ev->owned_text);
  memset(ev, 0, sizeof *ev);
}
