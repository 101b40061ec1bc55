/* One remote peer of a call: its lifecycle (peer_state.h), its link's
 * callbacks, the ICE setup relayed through signaling and the ICE restarts
 * after a path loss. The signal payloads are in docs/PROTOCOL.md ("Call
 * setup through signaling"). Engine thread only (call_internal.h). */
#include <string.h>

#include <sodium.h>

#include "call_internal.h"
#include "ml/json_input.h"
#include "ml/pins.h"

#define MAX_CANDIDATE 1024         /* bytes of one relayed candidate attribute */
#define ICE_FAILED_SILENCE_MS 1000 /* ICE FAILED on a secure link counts if silent this long */

/* ---- signaling payloads between peers ---- */

static void send_signal(call_peer *p, const char *kind, const char *k1, const char *v1,
                        const char *k2, const char *v2) {
  ml_call *call = p->call;
  if (!call->sig)
    return;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "kind", kind);
  if (k1)
    json_object_set_string_member(o, k1, v1);
  if (k2)
    json_object_set_string_member(o, k2, v2);
  int err = ml_signal_client_send(call->sig, p->id, o);
  json_object_unref(o);
  if (err)
    ml_call_emit_error(call, p, err, "could not relay ICE setup through signaling");
}

static void local_ufrag(call_peer *p, char ufrag[ML_PEER_LINK_MAX_UFRAG + 1],
                        char pwd[ML_PEER_LINK_MAX_PWD + 1]) {
  if (ml_peer_link_local_credentials(p->link, ufrag, ML_PEER_LINK_MAX_UFRAG + 1, pwd,
                                     ML_PEER_LINK_MAX_PWD + 1) != ML_OK)
    ufrag[0] = pwd[0] = '\0';
}

/* Our current ICE credentials, once per ICE session: they must reach the
 * peer before the candidates of that session. */
static void send_offer_if_new(call_peer *p) {
  char ufrag[ML_PEER_LINK_MAX_UFRAG + 1], pwd[ML_PEER_LINK_MAX_PWD + 1];
  local_ufrag(p, ufrag, pwd);
  if (ufrag[0] && strcmp(ufrag, p->offered_ufrag) != 0) {
    send_signal(p, "offer", "ufrag", ufrag, "pwd", pwd);
    g_strlcpy(p->offered_ufrag, ufrag, sizeof p->offered_ufrag);
  }
  sodium_memzero(pwd, sizeof pwd);
}

/* ---- the link's state, as events report it ---- */

void ml_call_report_peer_state(call_peer *p) {
  ml_peer_link_stats st;
  ml_peer_link_get_stats(p->link, &st);
  if (st.state == p->reported_state && st.path == p->reported_path)
    return;
  p->reported_state = st.state;
  p->reported_path = st.path;
  ml_call_event *ev = ml_call_event_new(p->call, ML_CALL_EV_PEER_STATE, p);
  ev->state = (int)st.state;
  ev->path = st.path;
  ml_call_emit(p->call, ev);
}

/* ---- a peer's lifecycle (peer_state.h) ---- */

static void stop_restart_timer(call_peer *p) {
  if (!p->restart_timer)
    return;
  g_source_destroy(p->restart_timer);
  g_source_unref(p->restart_timer);
  p->restart_timer = NULL;
}

static void stop_grace_timer(call_peer *p) {
  if (p->grace_timer) {
    g_source_destroy(p->grace_timer);
    g_source_unref(p->grace_timer);
    p->grace_timer = NULL;
  }
}

static gboolean on_grace_over(gpointer user) {
  call_peer *p = user;
  g_source_unref(p->grace_timer);
  p->grace_timer = NULL;
  ml_call_peer_remove(p->call, p, "disconnected");
  return G_SOURCE_REMOVE;
}

/* The peer is removed after ms unless it rejoins (ml_call_peer_rejoined). */
static void start_grace_timer(call_peer *p, unsigned ms) {
  stop_grace_timer(p);
  p->grace_timer = g_timeout_source_new(ms);
  g_source_set_callback(p->grace_timer, on_grace_over, p, NULL);
  g_source_attach(p->grace_timer, p->call->ctx);
}

/* The one place a peer's state changes, with what each change implies. */
static void peer_set_state(call_peer *p, ml_peer_state to) {
  ml_peer_state from = p->state;
  if (from == to)
    return;
  if (!ml_peer_transition_ok(from, to)) {
    g_critical("peer %s: %s -> %s refused (not a transition of its lifecycle)", p->id,
               ml_peer_state_name(from), ml_peer_state_name(to));
    return;
  }
  g_debug("peer %s: %s -> %s", p->id, ml_peer_state_name(from), ml_peer_state_name(to));
  p->state = to;
  switch (to) {
  case ML_PEER_SECURE:
    if (from == ML_PEER_CONNECTING)
      ml_call_start_media(p);
    break;
  case ML_PEER_FAILED:
    stop_restart_timer(p); /* nothing left to restart */
    ml_call_update_idle(p->call);
    break;
  case ML_PEER_LEFT:
    stop_restart_timer(p);
    if (p->have_proven_key)
      ml_call_emit_stats(p, true);
    ml_call_update_idle(p->call);
    break;
  case ML_PEER_JOINED:
  case ML_PEER_CONNECTING:
  case ML_PEER_RESTARTING: break;
  }
}

/* ---- peer link callbacks ---- */

static void on_candidate(ml_peer_link *link, const char *sdp, void *user) {
  call_peer *p = user;
  char ufrag[ML_PEER_LINK_MAX_UFRAG + 1], pwd[ML_PEER_LINK_MAX_PWD + 1];
  (void)link;
  send_offer_if_new(p); /* after an ICE restart, the new session's offer first */
  local_ufrag(p, ufrag, pwd);
  sodium_memzero(pwd, sizeof pwd);
  send_signal(p, "candidate", "ufrag", ufrag, "candidate", sdp);
}

static void send_end_of_candidates(call_peer *p) {
  char ufrag[ML_PEER_LINK_MAX_UFRAG + 1], pwd[ML_PEER_LINK_MAX_PWD + 1];
  send_offer_if_new(p);
  local_ufrag(p, ufrag, pwd);
  sodium_memzero(pwd, sizeof pwd);
  send_signal(p, "end-of-candidates", "ufrag", ufrag, NULL, NULL);
}

static void on_gathering_done(ml_peer_link *link, void *user) {
  call_peer *p = user;
  (void)link;
  p->gathered = true;
  send_end_of_candidates(p);
}

/* An ICE restart of this peer's link: the new session's offer, its
 * candidates (reported again by the link) and end-of-candidates go out
 * through signaling like the first ones. */
static void restart_ice(call_peer *p) {
  int err = ml_peer_link_restart(p->link);
  if (err) {
    ml_call_emit_error(p->call, p, err, "the ICE restart was refused");
    return;
  }
  if (p->state == ML_PEER_SECURE) /* before the channel is up, it is still connecting */
    peer_set_state(p, ML_PEER_RESTARTING);
  if (p->gathered)
    send_end_of_candidates(p);
  else
    send_offer_if_new(p);
}

static gboolean on_restart_timer(gpointer user) {
  call_peer *p = user;
  stop_restart_timer(p);
  if (ml_peer_link_get_state(p->link) != ML_PEER_LINK_FAILED)
    restart_ice(p);
  return G_SOURCE_REMOVE;
}

/* The path is gone (ICE FAILED, or silence on a secure link). The
 * controlling side decides: it restarts ICE, at once the first time, then
 * backing off, at most ML_RESTART_MAX_ATTEMPTS times in a row; the other side
 * follows when the new offer arrives (ml_call_on_sig_signal). If nothing helps, the
 * link gives up by itself (connect or path timeout: peer_state failed). */
static void path_lost(call_peer *p, const char *what) {
  ml_call *call = p->call;
  if (p->grace_timer) { /* gone from the room and from the path: not coming back */
    start_grace_timer(p, 0);
    return;
  }
  ml_peer_link_stats st;
  ml_peer_link_get_stats(p->link, &st);
  if (!p->controlling || p->restart_timer || st.state == ML_PEER_LINK_FAILED)
    return;
  int64_t now = g_get_monotonic_time(), due = now;
  unsigned attempt = 0;
  switch (ml_restart_backoff_next(&p->restart, st.channel.opened, now, &due, &attempt)) {
  case ML_RESTART_GIVE_UP:
    ml_call_emit_error(call, p, ML_ERR_IO,
                       "ICE restarts did not bring the path back; no more restarts");
    return;
  case ML_RESTART_NONE: return;
  case ML_RESTART_SCHEDULE: break;
  }
  g_autofree char *text = g_strdup_printf("%s: restarting ICE (attempt %u of %u)", what, attempt,
                                          ML_RESTART_MAX_ATTEMPTS);
  ml_call_emit_error(call, p, ML_ERR_IO, text);
  p->restart_timer = g_timeout_source_new((guint)((due - now) / 1000));
  g_source_set_callback(p->restart_timer, on_restart_timer, p, NULL);
  g_source_attach(p->restart_timer, call->ctx);
  if (p->state == ML_PEER_SECURE)
    peer_set_state(p, ML_PEER_RESTARTING);
}

static void on_path_lost(ml_peer_link *link, void *user) {
  (void)link;
  path_lost(user, "nothing arrived from the peer for a while");
}

static void on_ice_state(ml_peer_link *link, NiceComponentState st, void *user) {
  call_peer *p = user;
  (void)link;
  ml_peer_link_stats ls;
  ml_peer_link_get_stats(p->link, &ls);
  if (st == NICE_COMPONENT_STATE_FAILED && ls.state != ML_PEER_LINK_FAILED) {
    ml_call_emit_error(p->call, p, ML_ERR_IO, "ICE found no working path to the peer");
    /* A restarted session can fail while the old pair carries datagrams
     * again: nothing to restart then (silence would say so otherwise). */
    if (ls.state != ML_PEER_LINK_SECURE || ls.silent_ms >= ICE_FAILED_SILENCE_MS)
      path_lost(p, "ICE failed");
  } else if (st == NICE_COMPONENT_STATE_READY) {
    ml_restart_backoff_reset(&p->restart); /* the path is back */
    if (p->state == ML_PEER_RESTARTING)
      peer_set_state(p, ML_PEER_SECURE);
  }
  ml_call_report_peer_state(p);
}

static void on_secure(ml_peer_link *link, const ml_peer_link_verification *v, void *user) {
  call_peer *p = user;
  ml_call *call = p->call;
  (void)link;
  memcpy(p->proven_key, v->peer_identity, sizeof p->proven_key);
  p->have_proven_key = true;
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_VERIFIED, p);
  g_strlcpy(ev->sas, v->sas, sizeof ev->sas);
  g_strlcpy(ev->safety_number, v->safety_number, sizeof ev->safety_number);
  ml_identity_fingerprint(v->peer_identity, ev->fingerprint);
  ml_call_event *warn = NULL;
  if (call->pins_path[0]) {
    ml_pin_status st;
    uint8_t old[ML_IDENTITY_PUBLIC_LEN];
    int err =
        ml_pins_check_verified(call->pins_path, p->name, v->peer_identity, &st, old, &ev->verified);
    if (err) {
      ml_call_emit_error(call, p, err,
                         "the pinned-peers file could not be used; identity not pinned");
    } else {
      ev->pin = (int)st;
      if (st == ML_PIN_CHANGED) {
        warn = ml_call_event_new(call, ML_CALL_EV_IDENTITY_CHANGED, p);
        g_strlcpy(warn->fingerprint, ev->fingerprint, sizeof warn->fingerprint);
        ml_identity_fingerprint(old, warn->old_fingerprint);
        warn->text = g_strdup("the identity key of this peer name differs from the pinned one: "
                              "compare the SAS aloud before trusting this call");
      }
    }
  }
  ml_call_emit(call, ev);
  if (warn)
    ml_call_emit(call, warn);
  if (sodium_memcmp(v->peer_identity, p->announced_key, ML_IDENTITY_PUBLIC_LEN) != 0)
    ml_call_emit_error(call, p, ML_ERR_CRYPTO,
                       "the peer proved a different identity key than the server announced");
  ml_call_report_peer_state(p);
  peer_set_state(p, ML_PEER_SECURE);
}

static void on_message(ml_peer_link *link, uint64_t id, const uint8_t *bytes, size_t len,
                       void *user) {
  call_peer *p = user;
  (void)link;
  ml_call_event *ev = ml_call_event_new(p->call, ML_CALL_EV_CHAT, p);
  ev->id = id;
  /* Untrusted text: invalid UTF-8 is replaced, never passed on. */
  ev->text = g_utf8_make_valid((const char *)bytes, (gssize)len);
  ml_call_emit(p->call, ev);
}

static void on_receipt(ml_peer_link *link, uint64_t id, void *user) {
  call_peer *p = user;
  (void)link;
  ml_call_event *ev = ml_call_event_new(p->call, ML_CALL_EV_RECEIPT, p);
  ev->id = id;
  ml_call_emit(p->call, ev);
}

static void on_link_error(ml_peer_link *link, int err, const char *what, void *user) {
  call_peer *p = user;
  ml_call_emit_error(p->call, p, err, what);
  ml_call_report_peer_state(p);
  if (ml_peer_link_get_state(link) == ML_PEER_LINK_FAILED) /* else it goes on */
    peer_set_state(p, ML_PEER_FAILED);
}

/* ---- peers ---- */

static void on_link_closed(void *user) {
  ml_call *call = user;
  call->closing--;
}

void ml_call_peer_free(call_peer *p) {
  if (p->call->rate)
    ml_rate_remove_peer(p->call->rate, p);
  if (p->call->rate_small)
    ml_rate_remove_peer(p->call->rate_small, p);
  if (p->shared) { /* no other thread may reach rx from here on */
    g_mutex_lock(&p->call->shared_lock);
    g_hash_table_remove(p->call->shared, p->id);
    g_mutex_unlock(&p->call->shared_lock);
  }
  stop_restart_timer(p);
  stop_grace_timer(p);
  g_free(p->pending);
  ml_media_receiver_free(p->rx);
  p->call->closing++;
  ml_peer_link_close(p->link, on_link_closed, p->call);
  g_free(p->pcm);
  g_free(p);
}

void ml_call_peer_remove(ml_call *call, call_peer *p, const char *reason) {
  peer_set_state(p, ML_PEER_LEFT); /* its final stats */
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_PEER_LEFT, p);
  ev->text = g_strdup(reason);
  ml_call_emit(call, ev);
  ml_signal_peer *claim = g_steal_pointer(&p->pending);
  g_hash_table_remove(call->peers, p->id); /* frees p */
  if (claim) { /* its link never named that id: someone else (its client restarted, say) */
    ml_call_peer_add(call, claim);
    ml_call_session_peer_added(call, claim);
    g_free(claim);
  }
}

call_peer *ml_call_peer_by_key(ml_call *call, const uint8_t key[ML_IDENTITY_PUBLIC_LEN]) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    call_peer *p = v;
    if (p->have_proven_key && sodium_memcmp(p->proven_key, key, ML_IDENTITY_PUBLIC_LEN) == 0)
      return p;
  }
  return NULL;
}

void ml_call_peer_claimed(ml_call *call, call_peer *p, const ml_signal_peer *sp) {
  if (p->have_said && !strcmp(p->said_id, sp->id)) {
    ml_call_peer_rejoined(call, p, sp);
    ml_call_session_peer_added(call, sp);
    return;
  }
  g_free(p->pending); /* the newest claim is the one to check */
  p->pending = g_memdup2(sp, sizeof *sp);
}

void ml_call_peer_said_id(call_peer *p, const ml_control_message *m) {
  if (p->have_said && (int32_t)(m->seq - p->said_seq) <= 0)
    return;
  p->have_said = true;
  p->said_seq = m->seq;
  g_strlcpy(p->said_id, m->peer, sizeof p->said_id);
  ml_call *call = p->call;
  if (p->pending_knock[0] && !strcmp(p->pending_knock, p->said_id)) {
    p->pending_knock[0] = '\0';
    if (ml_signal_client_admit(call->sig, p->said_id) != ML_OK)
      ml_call_emit_error(call, p, ML_ERR_STATE, "could not admit a peer back in the room");
  }
  if (p->pending && !strcmp(p->pending->id, p->said_id)) {
    ml_signal_peer *sp = p->pending;
    p->pending = NULL;
    ml_call_peer_rejoined(call, p, sp);
    ml_call_session_peer_added(call, sp);
    g_free(sp);
  }
}

void ml_call_peer_rejoined(ml_call *call, call_peer *p, const ml_signal_peer *sp) {
  if (strcmp(p->id, sp->id) != 0 && g_hash_table_contains(call->peers, sp->id))
    return; /* another peer has that id: the server's list does not add up */
  stop_grace_timer(p);
  g_strlcpy(p->name, sp->name, sizeof p->name);
  if (strcmp(p->id, sp->id) == 0)
    return;
  char old[sizeof p->id];
  g_strlcpy(old, p->id, sizeof old);
  g_hash_table_steal(call->peers, old);
  g_strlcpy(p->id, sp->id, sizeof p->id);
  g_hash_table_insert(call->peers, p->id, p);
  if (p->shared) { /* the owner thread finds its frames by the new id */
    g_mutex_lock(&call->shared_lock);
    gpointer key = NULL, val = NULL;
    if (g_hash_table_steal_extended(call->shared, old, &key, &val)) {
      g_free(key);
      g_hash_table_insert(call->shared, g_strdup(p->id), val);
    }
    g_mutex_unlock(&call->shared_lock);
  }
  if (g_hash_table_size(call->retired_ids) >= ML_CALL_MAX_PEERS * 4)
    g_hash_table_remove_all(call->retired_ids); /* bounded; a stray peer_left is harmless */
  g_hash_table_add(call->retired_ids, g_strdup(old));
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_PEER_REJOINED, p);
  ev->text = g_strdup(old);
  ml_call_emit(call, ev);
}

void ml_call_peer_away(ml_call *call, call_peer *p, const char *reason) {
  if (p->state != ML_PEER_SECURE) {
    ml_call_peer_remove(call, p, reason);
    return;
  }
  if (!p->grace_timer)
    start_grace_timer(p, ML_CALL_REJOIN_GRACE_MS);
}

void ml_call_peer_add(ml_call *call, const ml_signal_peer *sp) {
  if (g_hash_table_contains(call->peers, sp->id) || !strcmp(sp->id, call->self_id) ||
      sodium_memcmp(sp->identity_key, ml_identity_public_key(call->identity),
                    ML_IDENTITY_PUBLIC_LEN) == 0) /* us, as we were before a reconnect */
    return;
  if (g_hash_table_size(call->peers) >= ML_CALL_MAX_PEERS) {
    /* The server decides who is in the room, and it is untrusted too: a
     * bound on ICE streams, pipelines and threads. */
    ml_call_emit_error(call, NULL, ML_ERR_TOO_BIG,
                       "too many peers in the room; one was not connected");
    return;
  }
  call_peer *p = g_new0(call_peer, 1);
  p->call = call;
  p->remb_kbps = -1;
  ml_call_layers_peer_init(p);
  g_strlcpy(p->id, sp->id, sizeof p->id);
  g_strlcpy(p->name, sp->name, sizeof p->name);
  memcpy(p->announced_key, sp->identity_key, sizeof p->announced_key);
  p->controlling = ml_peer_link_is_controlling(call->self_id, p->id);
  ml_peer_link_config cfg = {
      .context = call->ctx,
      .identity = call->identity,
      .local_peer_id = call->self_id,
      .remote_peer_id = p->id,
      .room_id = call->room_id,
      .psk = call->psk,
      .stun_server = call->stun_host,
      .stun_port = call->stun_port,
      .turn = call->turn,
      .n_turn = call->n_turn,
      .local_addresses = (const char *const *)call->local_addresses,
      .n_local_addresses = call->n_local_addresses,
      .path_timeout_ms = call->path_timeout_ms,
      .callbacks = {.on_candidate = on_candidate,
                    .on_gathering_done = on_gathering_done,
                    .on_ice_state = on_ice_state,
                    .on_secure = on_secure,
                    .on_datagram = ml_call_on_datagram,
                    .on_message = on_message,
                    .on_receipt = on_receipt,
                    .on_error = on_link_error,
                    .on_path_lost = on_path_lost,
                    .user = p},
  };
  int err = ml_peer_link_new(&p->link, &cfg);
  if (err) {
    ml_call_emit_error(call, p, err, "could not create the ICE stream for this peer");
    g_free(p);
    return;
  }
  g_hash_table_insert(call->peers, p->id, p);
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_PEER_JOINED, p);
  ml_identity_fingerprint(p->announced_key, ev->fingerprint);
  ml_call_emit(call, ev);
  send_offer_if_new(p); /* our credentials first: the peer needs them before our candidates */
  peer_set_state(p, ML_PEER_CONNECTING); /* before the start: it can fail the link at once */
  err = ml_peer_link_start(p->link);
  if (err)
    ml_call_emit_error(call, p, err, "ICE gathering would not start");
  /* The receive branch starts while ICE and the handshake run, so that it is
   * ready when the first packets arrive; nothing reaches it before the
   * channel is secure (its first PLI is dropped; on_secure asks again). */
  ml_call_start_receiver(p);
  ml_call_report_peer_state(p);
}

/* ---- ICE setup relayed by signaling ---- */

static bool ice_string(const char *s, size_t min, size_t max) {
  size_t n = s ? strlen(s) : 0;
  return s && n >= min && n <= max;
}

/* A string member of untrusted data, or NULL (absent, or not a string);
 * callers check the length. */
static const char *get_str(JsonObject *o, const char *name) {
  return ml_json_string(o, name, 0, SIZE_MAX);
}

void ml_call_on_sig_signal(const char *from, JsonObject *data, void *user) {
  ml_call *call = user;
  call_peer *p = g_hash_table_lookup(call->peers, from);
  if (!p)
    return; /* not a peer we know (yet): nothing to apply it to */
  const char *kind = get_str(data, "kind");
  const char *ufrag = get_str(data, "ufrag");
  int err = ML_ERR_PROTOCOL;
  if (kind && !strcmp(kind, "offer")) {
    const char *pwd = get_str(data, "pwd");
    if (ice_string(ufrag, 4, ML_PEER_LINK_MAX_UFRAG) && ice_string(pwd, 22, ML_PEER_LINK_MAX_PWD)) {
      /* New credentials from the controlling peer: it restarted ICE, and we
       * follow (the controlling side never follows, so restarts cannot
       * ping-pong). */
      if (p->remote_ufrag[0] && strcmp(ufrag, p->remote_ufrag) != 0 && !p->controlling)
        restart_ice(p);
      err = ml_peer_link_set_remote_credentials(p->link, ufrag, pwd);
    }
    if (!err)
      g_strlcpy(p->remote_ufrag, ufrag, sizeof p->remote_ufrag);
  } else if (kind && !strcmp(kind, "candidate")) {
    const char *cand = get_str(data, "candidate");
    if (ufrag && strcmp(ufrag, p->remote_ufrag) != 0)
      return; /* for an earlier ICE session: stale, not an error */
    if (ice_string(cand, 1, MAX_CANDIDATE))
      err = ml_peer_link_add_remote_candidate(p->link, cand);
  } else if (kind && !strcmp(kind, "end-of-candidates")) {
    if (ufrag && strcmp(ufrag, p->remote_ufrag) != 0)
      return;
    ml_peer_link_remote_gathering_done(p->link);
    err = ML_OK;
  }
  if (err)
    ml_call_emit_error(call, p, err, "a relayed ICE message from the peer was refused");
}
