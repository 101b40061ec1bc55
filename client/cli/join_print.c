/* mentorlink join: its events printed, as text or as --json lines
 * (ml/event.h). See join_internal.h. */
#include "join_internal.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ml/event.h"

static const char *pin_name(int pin) {
  switch (pin) {
  case ML_PIN_NEW: return "new";
  case ML_PIN_MATCH: return "match";
  case ML_PIN_CHANGED: return "changed";
  default: return "off";
  }
}

static const char *signaling_state_name(int st) {
  static const char *const names[] = {"connecting", "joining",      "waiting",
                                      "joined",     "reconnecting", "closed"};
  return st >= 0 && st < (int)G_N_ELEMENTS(names) ? names[st] : "unknown";
}

/* The engine's event in the terms of the --json schema (ml/event.h); out
 * borrows ev's text. */
static void to_json_event(const ml_call_event *ev, ml_event *out) {
  static const ml_event_type types[] = {
      [ML_CALL_EV_SIGNALING] = ML_EVENT_SIGNALING,
      [ML_CALL_EV_JOINED] = ML_EVENT_JOINED,
      [ML_CALL_EV_PEER_JOINED] = ML_EVENT_PEER_JOINED,
      [ML_CALL_EV_PEER_LEFT] = ML_EVENT_PEER_LEFT,
      [ML_CALL_EV_PEER_REJOINED] = ML_EVENT_PEER_REJOINED,
      [ML_CALL_EV_KNOCK] = ML_EVENT_KNOCK,
      [ML_CALL_EV_PEER_STATE] = ML_EVENT_PEER_STATE,
      [ML_CALL_EV_VERIFIED] = ML_EVENT_VERIFICATION,
      [ML_CALL_EV_IDENTITY_CHANGED] = ML_EVENT_IDENTITY_CHANGED,
      [ML_CALL_EV_CHAT] = ML_EVENT_CHAT,
      [ML_CALL_EV_CHAT_SENT] = ML_EVENT_CHAT_SENT,
      [ML_CALL_EV_RECEIPT] = ML_EVENT_RECEIPT,
      [ML_CALL_EV_STATS] = ML_EVENT_STATS,
      [ML_CALL_EV_PEER_MEDIA] = ML_EVENT_PEER_MEDIA,
      [ML_CALL_EV_MARKED_VERIFIED] = ML_EVENT_MARKED_VERIFIED,
      [ML_CALL_EV_SESSION] = ML_EVENT_SESSION,
      [ML_CALL_EV_ERROR] = ML_EVENT_ERROR,
      [ML_CALL_EV_ENDED] = ML_EVENT_ENDED,
  };
  G_STATIC_ASSERT(G_N_ELEMENTS(types) == ML_EVENT_TYPE_COUNT &&
                  ML_CALL_EV_ENDED + 1 == ML_EVENT_TYPE_COUNT);
  memset(out, 0, sizeof *out);
  g_assert((size_t)ev->type < G_N_ELEMENTS(types));
  out->type = types[ev->type];
  out->t_ms = ev->t_ms;
  g_strlcpy(out->peer, ev->peer_id, sizeof out->peer);
  g_strlcpy(out->name, ev->peer_name, sizeof out->name);
  if (ev->type == ML_CALL_EV_SIGNALING)
    g_strlcpy(out->state, signaling_state_name(ev->state), sizeof out->state);
  else if (ev->type == ML_CALL_EV_PEER_STATE)
    g_strlcpy(out->state, ml_call_peer_state_name(ev->state), sizeof out->state);
  g_strlcpy(out->path, ml_call_path_name(ev->path), sizeof out->path);
  g_strlcpy(out->sas, ev->sas, sizeof out->sas);
  g_strlcpy(out->safety_number, ev->safety_number, sizeof out->safety_number);
  g_strlcpy(out->fingerprint, ev->fingerprint, sizeof out->fingerprint);
  g_strlcpy(out->pinned_fingerprint, ev->old_fingerprint, sizeof out->pinned_fingerprint);
  g_strlcpy(out->pin, pin_name(ev->pin), sizeof out->pin);
  if (ev->err)
    g_strlcpy(out->error, ml_strerror(ev->err), sizeof out->error);
  out->verified = ev->verified;
  out->fatal = ev->fatal;
  out->ok = !ev->err;
  out->muted = ev->media.muted;
  out->camera_on = ev->media.camera_on;
  out->video_paused = ev->media.video_paused;
  if (ev->type == ML_CALL_EV_SESSION) {
    g_strlcpy(out->what, ml_call_session_name(ev->session), sizeof out->what);
    out->on = ev->on;
    out->order = ev->order;
    g_strlcpy(out->by, ev->by_id, sizeof out->by);
    g_strlcpy(out->by_name, ev->by_name, sizeof out->by_name);
  }
  out->id = ev->id;
  out->text = ev->text;
  const ml_call_stats *s = &ev->stats;
  ml_event_stats *o = &out->stats;
  g_strlcpy(o->path, ml_call_path_name(s->path), sizeof o->path);
  o->rtt_ms = s->rtt_ms;
  o->loss = s->loss;
  o->target_kbps = s->target_kbps;
  o->video_paused = s->video_paused;
  g_strlcpy(o->sent_layer, s->sent_layer == ML_MEDIA_LAYER_SMALL ? "small" : "large",
            sizeof o->sent_layer);
  o->layer_switches = (int64_t)s->layer_switches;
  o->bitrate_kbps = s->bitrate_kbps;
  o->fps = s->fps;
  o->jitter_ms = s->jitter_ms;
  o->latency_ms = s->latency_ms;
  o->e2e_latency_ms = s->e2e_latency_ms;
  o->video_frames_decoded = s->video_frames_decoded;
  o->audio_ms_decoded = s->audio_ms_decoded;
  o->first_frame_ms = s->first_frame_ms;
  o->first_frame_since_start_ms = s->first_frame_since_start_ms;
  o->video_frames_sent = s->video_frames_sent;
  o->rtp_packets_sent = s->rtp_packets_sent;
  o->packets_lost = s->packets_lost;
  o->audio_tone_hz = s->audio_tone_hz;
  o->datagrams_in = s->datagrams_in;
  o->datagrams_out = s->datagrams_out;
  o->opened = s->opened;
  o->dropped_not_ours = s->dropped_not_ours;
  o->dropped_malformed = s->dropped_malformed;
  o->dropped_unexpected = s->dropped_unexpected;
  o->dropped_auth = s->dropped_auth;
  o->dropped_replay = s->dropped_replay;
  o->dropped_handshake = s->dropped_handshake;
  o->pli_sent = s->pli_sent;
  o->pli_received = s->pli_received;
  o->control_unknown = s->control_unknown;
  o->control_malformed = s->control_malformed;
  o->estimate_kbps = s->estimate_kbps;
  o->peer_estimate_kbps = s->peer_estimate_kbps;
  g_strlcpy(o->reason, s->rate_reason, sizeof o->reason);
  o->frame_width = s->frame_width;
  o->frame_height = s->frame_height;
  o->freeze_ms = s->freeze_ms;
  o->freezes = s->freezes;
  o->audio_expected_ms = s->audio_expected_ms;
  o->audio_fec_ms = s->audio_fec_ms;
  o->audio_concealed_ms = s->audio_concealed_ms;
  o->final = s->final;
}

/* One JSON object per line (ml/event.h). */
void ml_join_print_json(const ml_call_event *ev) {
  ml_event je;
  to_json_event(ev, &je);
  char *line = ml_event_encode(&je);
  printf("%s\n", line);
  fflush(stdout);
  g_free(line);
}

bool ml_join_text_stats_due(int64_t last_ms, int64_t asked_ms, int64_t now_ms, bool final) {
  return final || last_ms < 0 || last_ms < asked_ms || now_ms - last_ms >= ML_JOIN_TEXT_STATS_MS;
}

void ml_join_text_init(ml_join_text *tx) {
  tx->shown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tx->asked_ms = -1;
}

void ml_join_text_clear(ml_join_text *tx) {
  g_hash_table_destroy(tx->shown);
  tx->shown = NULL;
}

/* Whether to show this stats event, remembering it if so. */
static bool stats_shown(ml_join_text *tx, const ml_call_event *ev) {
  int64_t *last = g_hash_table_lookup(tx->shown, ev->peer_id);
  if (!ml_join_text_stats_due(last ? *last : -1, tx->asked_ms, ev->t_ms, ev->stats.final))
    return false;
  if (!last) {
    last = g_new(int64_t, 1);
    g_hash_table_insert(tx->shown, g_strdup(ev->peer_id), last);
  }
  *last = ev->t_ms;
  return true;
}

/* "Sam left the call", and the like, for a PEER_LEFT reason. */
static void print_left(double t, const char *who, const char *reason) {
  if (!strcmp(reason, "ended"))
    printf("[%7.3f] you left the call with %s\n", t, who);
  else if (!strcmp(reason, "removed"))
    printf("[%7.3f] %s was removed from the room by its host\n", t, who);
  else if (!strcmp(reason, "denied"))
    printf("[%7.3f] %s was not admitted by the room's host\n", t, who);
  else if (!strcmp(reason, "gone"))
    printf("[%7.3f] %s: the connection to the signaling server was lost; reconnecting\n", t, who);
  else if (!strcmp(reason, "disconnected"))
    printf("[%7.3f] %s lost the connection to the room and did not come back\n", t, who);
  else
    printf("[%7.3f] %s left the call\n", t, who);
}

/* A SESSION event in words ("you" when it is about us). */
void ml_join_print_session(double t, const ml_call_event *ev) {
  const char *who = ev->peer_name[0] ? ev->peer_name : ev->peer_id;
  const char *by = ev->by_name[0] ? ev->by_name : "a host";
  const char *detail = ev->text ? ev->text : "";
  switch (ev->session) {
  case ML_CALL_SESSION_ROLE:
    printf("[%7.3f] %s %s\n", t, who, ev->on ? "is a host of the room" : "is no longer a host");
    break;
  case ML_CALL_SESSION_LOCKED:
    printf("[%7.3f] the room is %s by %s\n", t, ev->on ? "locked to new participants" : "unlocked",
           by);
    break;
  case ML_CALL_SESSION_HAND:
    if (ev->on)
      printf("[%7.3f] %s raised a hand (#%llu)\n", t, who, (unsigned long long)ev->order);
    else if (ev->by_id[0])
      printf("[%7.3f] %s lowered the hand of %s\n", t, by, who);
    else
      printf("[%7.3f] %s lowered a hand\n", t, who);
    break;
  case ML_CALL_SESSION_REACTION: printf("[%7.3f] %s reacts: %s\n", t, who, detail); break;
  case ML_CALL_SESSION_MUTED_BY_HOST:
    printf("[%7.3f] Muted by the host (%s); type /unmute to speak again\n", t, by);
    break;
  case ML_CALL_SESSION_SPOTLIGHT:
    if (ev->peer_id[0])
      printf("[%7.3f] %s put %s in the spotlight\n", t, by, who);
    else
      printf("[%7.3f] %s cleared the spotlight\n", t, by);
    break;
  case ML_CALL_SESSION_ASKED:
    printf("[%7.3f] asked %s to %s\n", t, who, !strcmp(detail, "mute") ? "mute" : "lower the hand");
    break;
  case ML_CALL_SESSION_JOIN_FAILED:
    printf("[%7.3f] someone%s%s%s could not join: %s\n", t, ev->by_name[0] ? " (\"" : "",
           ev->by_name, ev->by_name[0] ? "\")" : "",
           !strcmp(detail, "wrong_secret")    ? "wrong room secret"
           : !strcmp(detail, "token_expired") ? "expired token"
                                              : detail);
    break;
  case ML_CALL_SESSION_CLOSED:
    printf("[%7.3f] %s\n", t,
           !strcmp(detail, "denied")       ? "The host did not let you in"
           : !strcmp(detail, "removed")    ? "The host removed you from the room"
           : !strcmp(detail, "room_ended") ? "The host ended the session for everyone"
                                           : "The host left and the room closed");
    break;
  case ML_CALL_SESSION_REFUSED:
    printf("[%7.3f] ignored a host-only control (%s) from %s, who is not a host\n", t, detail, who);
    break;
  }
}

void ml_join_print_text(ml_join_text *tx, const ml_call_event *ev) {
  double t = (double)ev->t_ms / 1000.0;
  const char *who = ev->peer_name[0] ? ev->peer_name : "";
  const ml_call_stats *s = &ev->stats;
  switch (ev->type) {
  case ML_CALL_EV_SIGNALING:
    printf("[%7.3f] signaling: %s\n", t, signaling_state_name(ev->state));
    if (ev->state == 2 /* ML_SIGNAL_WAITING */)
      printf("[%7.3f] Waiting for the host to let you in\n", t);
    break;
  case ML_CALL_EV_JOINED:
    printf("[%7.3f] joined room %s as \"%s\" (peer id %s)\n", t, ev->text ? ev->text : "",
           ev->peer_name, ev->peer_id);
    break;
  case ML_CALL_EV_PEER_JOINED:
    printf("[%7.3f] %s joined (announced fingerprint %s)\n", t, who, ev->fingerprint);
    break;
  case ML_CALL_EV_PEER_LEFT:
    g_hash_table_remove(tx->shown, ev->peer_id);
    print_left(t, who, ev->text ? ev->text : "left");
    break;
  case ML_CALL_EV_PEER_REJOINED:
    g_hash_table_remove(tx->shown, ev->text);
    printf("[%7.3f] %s is back in the room (peer id %s, was %s); the call went on\n", t, who,
           ev->peer_id, ev->text);
    break;
  case ML_CALL_EV_KNOCK:
    printf("[%7.3f] %s is waiting to be admitted (fingerprint %s)\n", t, who, ev->fingerprint);
    break;
  case ML_CALL_EV_PEER_STATE:
    printf("[%7.3f] %s: %s, path %s\n", t, who, ml_call_peer_state_name(ev->state),
           ml_call_path_name(ev->path));
    break;
  case ML_CALL_EV_VERIFIED:
    printf("[%7.3f] %s: end-to-end encrypted%s\n"
           "          SAS            %s\n"
           "          safety number  %s\n"
           "          fingerprint    %s (pin: %s%s)\n",
           t, who,
           ev->verified ? "; you verified this identity in an earlier call"
                        : ". Read aloud and compare:",
           ev->sas, ev->safety_number, ev->fingerprint, pin_name(ev->pin),
           ev->verified ? ", verified" : "");
    break;
  case ML_CALL_EV_IDENTITY_CHANGED:
    printf("\n!!! WARNING: the identity of \"%s\" has CHANGED !!!\n"
           "!!! pinned:  %s\n!!! now:     %s\n!!! %s\n"
           "!!! If this is expected (new device), compare the SAS aloud, then remove the old\n"
           "!!! line from the known_peers file (or, with --stdin-commands, type /verify NAME).\n\n",
           who, ev->old_fingerprint, ev->fingerprint, ev->text ? ev->text : "");
    break;
  case ML_CALL_EV_CHAT: printf("[%7.3f] <%s> %s\n", t, who, ev->text); break;
  case ML_CALL_EV_CHAT_SENT:
    printf("[%7.3f] chat to %s queued (id %llu)\n", t, who, (unsigned long long)ev->id);
    break;
  case ML_CALL_EV_RECEIPT:
    printf("[%7.3f] %s received message %llu\n", t, who, (unsigned long long)ev->id);
    break;
  case ML_CALL_EV_STATS: {
    if (!stats_shown(tx, ev))
      break;
    char rtt[32];
    if (s->rtt_ms >= 0)
      snprintf(rtt, sizeof rtt, "%.1f ms", s->rtt_ms);
    else
      snprintf(rtt, sizeof rtt, "unknown");
    printf("[%7.3f] %s: path %s, rtt %s, loss %.1f %%, %.0f kbps in, %.0f fps, "
           "video out %u kbps%s, "
           "frames %llu decoded / %llu sent, audio %llu ms, first frame %lld ms%s\n",
           t, who, ml_call_path_name(s->path), rtt, s->loss * 100.0, s->bitrate_kbps, s->fps,
           s->target_kbps, s->video_paused ? " (paused)" : "",
           (unsigned long long)s->video_frames_decoded, (unsigned long long)s->video_frames_sent,
           (unsigned long long)s->audio_ms_decoded, (long long)s->first_frame_ms,
           s->final ? " (final)" : "");
    break;
  }
  case ML_CALL_EV_ERROR:
    printf("[%7.3f] %s%s%s: %s%s%s%s\n", t, ev->fatal ? "FATAL error" : "error",
           who[0] ? " with " : "", who, ev->text, ev->err ? " (" : "",
           ev->err ? ml_strerror(ev->err) : "", ev->err ? ")" : "");
    break;
  case ML_CALL_EV_PEER_MEDIA:
    printf("[%7.3f] %s: microphone %s, camera %s%s\n", t, who, ev->media.muted ? "muted" : "on",
           ev->media.camera_on ? "on" : "off",
           ev->media.video_paused ? ", video paused for bandwidth" : "");
    break;
  case ML_CALL_EV_MARKED_VERIFIED:
    if (ev->err)
      printf("[%7.3f] %s: could not store the verification: %s\n", t, who[0] ? who : ev->peer_id,
             ml_strerror(ev->err));
    else
      printf("[%7.3f] %s: marked verified (fingerprint %s)\n", t, who, ev->fingerprint);
    break;
  case ML_CALL_EV_SESSION: ml_join_print_session(t, ev); break;
  case ML_CALL_EV_ENDED: printf("[%7.3f] call ended\n", t); break;
  }
  fflush(stdout);
}
