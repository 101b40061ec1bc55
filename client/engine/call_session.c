/* Session controls of one call: the room's roles and lock as the server
 * reports them, and the end-to-end controls in the secure channels (hands,
 * reactions, a host's mute and lower-hand requests, the spotlight;
 * ml/control.h). Engine thread only. Contract in ml/call.h; the inside in
 * call_internal.h.
 *
 * Trust: a host-only control (HOST_REQUEST, SPOTLIGHT) is taken only from a
 * peer the server announced as a host of the room (welcome, peer_joined,
 * role_changed); from anyone else it is ignored and said (SESSION REFUSED).
 * The message itself is authenticated by the peer's secure channel, so a
 * forger needs a link of its own: it can only speak as itself. */
#include <string.h>

#include <glib.h>

#include "call_internal.h"

/* ---- events ---- */

static ml_call_event *session_event(ml_call *call, ml_call_session what, const call_peer *subject) {
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_SESSION, subject);
  ev->session = what;
  return ev;
}

/* An event about us (our own id and name as the subject). */
static ml_call_event *self_event(ml_call *call, ml_call_session what) {
  ml_call_event *ev = session_event(call, what, NULL);
  g_strlcpy(ev->peer_id, call->self_id, sizeof ev->peer_id);
  g_strlcpy(ev->peer_name, call->name ? call->name : "", sizeof ev->peer_name);
  return ev;
}

static void set_by(ml_call_event *ev, const call_peer *by) {
  if (by) {
    g_strlcpy(ev->by_id, by->id, sizeof ev->by_id);
    g_strlcpy(ev->by_name, by->name, sizeof ev->by_name);
  }
}

/* The subject named by id: a peer, us, or nobody (""). */
static void set_subject(ml_call *call, ml_call_event *ev, const char *id) {
  g_strlcpy(ev->peer_id, id, sizeof ev->peer_id);
  call_peer *p = id[0] ? g_hash_table_lookup(call->peers, id) : NULL;
  if (p)
    g_strlcpy(ev->peer_name, p->name, sizeof ev->peer_name);
  else if (id[0] && !strcmp(id, call->self_id))
    g_strlcpy(ev->peer_name, call->name ? call->name : "", sizeof ev->peer_name);
}

/* ---- sending ---- */

static void send_to(call_peer *p, const ml_control_message *m) {
  uint8_t buf[ML_CONTROL_MAX_LEN];
  size_t n = ml_control_write(m, buf, sizeof buf);
  if (n && ml_peer_state_usable(p->state))
    (void)!ml_peer_link_send(p->link, ML_INNER_CONTROL, buf, n); /* lost as UDP; repeated */
}

static void send_all(ml_call *call, const ml_control_message *m) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v))
    send_to(v, m);
}

static void send_hand(ml_call *call) {
  ml_control_message m = {
      .type = ML_CONTROL_HAND, .raised = call->hand_raised, .seq = call->hand_seq};
  send_all(call, &m);
}

static void send_spotlight(ml_call *call) {
  ml_control_message m = {.type = ML_CONTROL_SPOTLIGHT, .seq = call->spot_seq};
  g_strlcpy(m.peer, call->spotlight, sizeof m.peer);
  send_all(call, &m);
}

static uint32_t next_seq(uint32_t *seq) {
  if (++*seq == 0)
    *seq = 1;
  return *seq;
}

static void set_own_hand(ml_call *call, bool raised, const call_peer *by) {
  if (call->hand_raised == raised && call->hand_seq != 0)
    return;
  call->hand_raised = raised;
  call->hand_ticket = raised ? ++call->tickets : 0;
  next_seq(&call->hand_seq);
  send_hand(call);
  ml_call_event *ev = self_event(call, ML_CALL_SESSION_HAND);
  ev->on = raised;
  ev->order = call->hand_ticket;
  set_by(ev, by);
  ml_call_emit(call, ev);
}

static void send_signal_id(ml_call *call) {
  if (!call->self_id[0])
    return;
  ml_control_message m = {.type = ML_CONTROL_SIGNAL_ID, .seq = call->self_id_seq};
  g_strlcpy(m.peer, call->self_id, sizeof m.peer);
  send_all(call, &m);
}

void ml_call_session_self_id_changed(ml_call *call) {
  next_seq(&call->self_id_seq);
  send_signal_id(call);
}

void ml_call_session_tick(ml_call *call) {
  send_signal_id(call);
  if (call->hand_seq)
    send_hand(call);
  if (call->spot_ours && call->self_host)
    send_spotlight(call);
  if (call->reaction_left) {
    call->reaction_left--;
    ml_control_message m = {
        .type = ML_CONTROL_REACTION, .code = call->reaction, .seq = call->reaction_seq};
    send_all(call, &m);
  }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    if (!p->req_left)
      continue;
    p->req_left--;
    ml_control_message m = {
        .type = ML_CONTROL_HOST_REQUEST, .code = p->req_code, .seq = p->req_seq};
    send_to(p, &m);
  }
}

/* ---- receiving ---- */

static bool newer(bool have, uint32_t last, uint32_t seq) {
  return !have || (int32_t)(seq - last) > 0;
}

static void refuse(call_peer *p, const char *what) {
  ml_call_event *ev = session_event(p->call, ML_CALL_SESSION_REFUSED, p);
  ev->text = g_strdup(what);
  ml_call_emit(p->call, ev);
}

static void on_request(call_peer *p, const ml_control_message *m) {
  ml_call *call = p->call;
  if (!newer(p->have_request, p->request_seq, m->seq))
    return;
  p->have_request = true;
  p->request_seq = m->seq;
  if (!p->host) {
    refuse(p, "host_request");
    return;
  }
  if (m->code == ML_CONTROL_REQUEST_MUTE) {
    call->muted = true;
    if (call->tx)
      ml_media_sender_set_audio_muted(call->tx, true);
    (void)ml_call_media_state_update(call);
    ml_call_event *ev = self_event(call, ML_CALL_SESSION_MUTED_BY_HOST);
    set_by(ev, p);
    ml_call_emit(call, ev);
  } else if (m->code == ML_CONTROL_REQUEST_LOWER_HAND && call->hand_raised) {
    set_own_hand(call, false, p);
  }
}

static void on_spotlight(call_peer *p, const ml_control_message *m) {
  ml_call *call = p->call;
  if (!newer(p->have_spot, p->spot_seq, m->seq))
    return;
  p->have_spot = true;
  p->spot_seq = m->seq;
  if (!p->host) {
    refuse(p, "spotlight");
    return;
  }
  if (!strcmp(call->spotlight, m->peer))
    return;
  g_strlcpy(call->spotlight, m->peer, sizeof call->spotlight);
  call->spot_ours = false; /* another host's choice now */
  ml_call_event *ev = session_event(call, ML_CALL_SESSION_SPOTLIGHT, NULL);
  set_subject(call, ev, m->peer);
  set_by(ev, p);
  ml_call_emit(call, ev);
}

void ml_call_session_on_control(call_peer *p, const ml_control_message *m) {
  ml_call *call = p->call;
  switch (m->type) {
  case ML_CONTROL_MEDIA_STATE: break; /* call_media.c */
  case ML_CONTROL_HAND:
    if (!newer(p->have_hand, p->hand_seq, m->seq))
      return;
    p->have_hand = true;
    p->hand_seq = m->seq;
    if (p->hand == m->raised && p->hand_ticket != 0)
      return;
    if (p->hand == m->raised && !m->raised)
      return; /* the first word is "down": nothing to say */
    p->hand = m->raised;
    p->hand_ticket = m->raised ? ++call->tickets : 0;
    {
      ml_call_event *ev = session_event(call, ML_CALL_SESSION_HAND, p);
      ev->on = p->hand;
      ev->order = p->hand_ticket;
      ml_call_emit(call, ev);
    }
    break;
  case ML_CONTROL_REACTION:
    if (!newer(p->have_reaction, p->reaction_seq, m->seq))
      return;
    p->have_reaction = true;
    p->reaction_seq = m->seq;
    {
      ml_call_event *ev = session_event(call, ML_CALL_SESSION_REACTION, p);
      ev->text = g_strdup(ml_control_reaction_name(m->code));
      ml_call_emit(call, ev);
    }
    break;
  case ML_CONTROL_HOST_REQUEST: on_request(p, m); break;
  case ML_CONTROL_SPOTLIGHT: on_spotlight(p, m); break;
  case ML_CONTROL_SIGNAL_ID: ml_call_peer_said_id(p, m); break;
  case ML_CONTROL_LAYER: ml_call_layers_on_request(p, m); break;
  }
}

/* ---- the room, as the server reports it ---- */

void ml_call_session_welcome(ml_call *call, bool host) {
  call->self_host = host;
  if (host) {
    ml_call_event *ev = self_event(call, ML_CALL_SESSION_ROLE);
    ev->on = true;
    ml_call_emit(call, ev);
  }
}

void ml_call_session_peer_added(ml_call *call, const ml_signal_peer *sp) {
  call_peer *p = g_hash_table_lookup(call->peers, sp->id);
  if (!p)
    return;
  p->host = sp->host;
  if (p->host) {
    ml_call_event *ev = session_event(call, ML_CALL_SESSION_ROLE, p);
    ev->on = true;
    ml_call_emit(call, ev);
  }
}

void ml_call_session_on_room_state(bool locked, const char *by, void *user) {
  ml_call *call = user;
  ml_call_event *ev = session_event(call, ML_CALL_SESSION_LOCKED, NULL);
  ev->on = locked;
  call_peer *p = by[0] ? g_hash_table_lookup(call->peers, by) : NULL;
  if (p)
    set_by(ev, p);
  else if (by[0] && !strcmp(by, call->self_id)) {
    g_strlcpy(ev->by_id, call->self_id, sizeof ev->by_id);
    g_strlcpy(ev->by_name, call->name ? call->name : "", sizeof ev->by_name);
  }
  ml_call_emit(call, ev);
}

void ml_call_session_on_role_changed(const char *peer_id, bool host, const char *reason,
                                     void *user) {
  ml_call *call = user;
  call_peer *p = g_hash_table_lookup(call->peers, peer_id);
  bool self = !strcmp(peer_id, call->self_id);
  if (!p && !self)
    return;
  if (self) {
    call->self_host = host;
    if (!host)
      call->spot_ours = false;
  } else {
    p->host = host;
  }
  ml_call_event *ev = session_event(call, ML_CALL_SESSION_ROLE, NULL);
  set_subject(call, ev, peer_id);
  ev->on = host;
  ev->text = g_strdup(reason);
  ml_call_emit(call, ev);
}

void ml_call_session_on_join_failed(const char *name, const char *reason, void *user) {
  ml_call *call = user;
  ml_call_event *ev = session_event(call, ML_CALL_SESSION_JOIN_FAILED, NULL);
  g_strlcpy(ev->by_name, name, sizeof ev->by_name);
  ev->text = g_strdup(reason);
  ml_call_emit(call, ev);
}

void ml_call_session_on_sig_error(ml_call *call, const char *code) {
  static const char *const ends[] = {"denied", "removed", "room_ended", "room_closed"};
  for (size_t i = 0; i < G_N_ELEMENTS(ends); i++)
    if (!strcmp(code, ends[i])) {
      ml_call_event *ev = self_event(call, ML_CALL_SESSION_CLOSED);
      ev->text = g_strdup(code);
      ml_call_emit(call, ev);
    }
}

/* ---- the owner's commands (handed to the engine thread) ---- */

typedef enum op {
  OP_DENY,
  OP_REMOVE,
  OP_LOCK,
  OP_END,
  OP_HAND_OVER,
  OP_HAND,
  OP_REACT,
  OP_ASK_MUTE,
  OP_LOWER_HAND,
  OP_SPOTLIGHT,
  OP_TEST_SEND,
} op;

typedef struct cmd {
  ml_call *call;
  op op;
  bool flag;
  unsigned code;
  char *peer; /* NULL: none / everyone */
  uint8_t data[ML_CONTROL_MAX_LEN];
  size_t len;
} cmd;

static void cmd_free(gpointer user) {
  cmd *c = user;
  g_free(c->peer);
  g_free(c);
}

static void server_action(ml_call *call, const char *type, const char *peer, bool flag) {
  if (!call->sig || ml_signal_client_host_action(call->sig, type, peer, flag) != ML_OK)
    ml_call_emit_error(call, NULL, ML_ERR_STATE,
                       "the host action could not be sent (not joined, or a bad peer id)");
}

static bool need_host(ml_call *call, const char *what) {
  if (call->self_host)
    return true;
  g_autofree char *text = g_strdup_printf("only a host of the room can %s", what);
  ml_call_emit_error(call, NULL, ML_ERR_STATE, text);
  return false;
}

/* A host's one-shot request to p: sent now and on the next ticks. */
static void request(ml_call *call, call_peer *p, ml_control_request code) {
  p->req_code = (uint8_t)code;
  p->req_seq = next_seq(&call->ctl_seq);
  p->req_left = ML_CONTROL_REPEATS - 1;
  ml_control_message m = {.type = ML_CONTROL_HOST_REQUEST, .code = p->req_code, .seq = p->req_seq};
  send_to(p, &m);
  ml_call_event *ev = session_event(call, ML_CALL_SESSION_ASKED, p);
  ev->text = g_strdup(code == ML_CONTROL_REQUEST_MUTE ? "mute" : "lower_hand");
  ml_call_emit(call, ev);
}

/* To peer, or (NULL) to every peer but keep (NULL: all). */
static void requests(ml_call *call, const char *peer, const char *keep, ml_control_request code) {
  if (keep && !g_hash_table_contains(call->peers, keep)) {
    ml_call_emit_error(call, NULL, ML_ERR_NOT_FOUND, "no such peer in the call");
    return;
  }
  if (peer) {
    call_peer *p = g_hash_table_lookup(call->peers, peer);
    if (p)
      request(call, p, code);
    else
      ml_call_emit_error(call, NULL, ML_ERR_NOT_FOUND, "no such peer in the call");
    return;
  }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (!keep || strcmp(k, keep) != 0)
      request(call, v, code);
}

static gboolean run_cmd(gpointer user) {
  cmd *c = user;
  ml_call *call = c->call;
  if (call->ended)
    return G_SOURCE_REMOVE;
  switch (c->op) {
  case OP_DENY: server_action(call, "deny", c->peer, false); break;
  case OP_REMOVE: server_action(call, "remove", c->peer, false); break;
  case OP_LOCK: server_action(call, "lock", NULL, c->flag); break;
  case OP_END: server_action(call, "end", NULL, false); break;
  case OP_HAND_OVER: server_action(call, "make_host", c->peer, false); break;
  case OP_HAND: set_own_hand(call, c->flag, NULL); break;
  case OP_REACT: {
    call->reaction = (uint8_t)c->code;
    call->reaction_seq = next_seq(&call->ctl_seq);
    call->reaction_left = ML_CONTROL_REPEATS - 1;
    ml_control_message m = {
        .type = ML_CONTROL_REACTION, .code = call->reaction, .seq = call->reaction_seq};
    send_all(call, &m);
    ml_call_event *ev = self_event(call, ML_CALL_SESSION_REACTION);
    ev->text = g_strdup(ml_control_reaction_name(c->code));
    ml_call_emit(call, ev);
    break;
  }
  case OP_ASK_MUTE:
    if (need_host(call, "ask someone to mute"))
      requests(call, c->flag ? NULL : c->peer, c->flag ? c->peer : NULL, ML_CONTROL_REQUEST_MUTE);
    break;
  case OP_LOWER_HAND:
    if (need_host(call, "lower someone's hand"))
      requests(call, c->peer, NULL, ML_CONTROL_REQUEST_LOWER_HAND);
    break;
  case OP_SPOTLIGHT: {
    if (!need_host(call, "spotlight a participant"))
      break;
    const char *id = c->peer ? c->peer : "";
    if (id[0] && strcmp(id, call->self_id) != 0 && !g_hash_table_contains(call->peers, id)) {
      ml_call_emit_error(call, NULL, ML_ERR_NOT_FOUND, "no such peer in the call");
      break;
    }
    g_strlcpy(call->spotlight, id, sizeof call->spotlight);
    next_seq(&call->spot_seq);
    call->spot_ours = true;
    send_spotlight(call);
    ml_call_event *ev = session_event(call, ML_CALL_SESSION_SPOTLIGHT, NULL);
    set_subject(call, ev, id);
    g_strlcpy(ev->by_id, call->self_id, sizeof ev->by_id);
    g_strlcpy(ev->by_name, call->name ? call->name : "", sizeof ev->by_name);
    ml_call_emit(call, ev);
    break;
  }
  case OP_TEST_SEND: {
    call_peer *p = g_hash_table_lookup(call->peers, c->peer);
    if (p && ml_peer_state_usable(p->state))
      (void)!ml_peer_link_send(p->link, ML_INNER_CONTROL, c->data, c->len);
    break;
  }
  }
  return G_SOURCE_REMOVE;
}

static void invoke(ml_call *call, op o, const char *peer, bool flag, unsigned code) {
  cmd *c = g_new0(cmd, 1);
  c->call = call;
  c->op = o;
  c->flag = flag;
  c->code = code;
  c->peer = peer && peer[0] ? g_strndup(peer, ML_CALL_MAX_PEER_ID) : NULL;
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, run_cmd, c, cmd_free);
}

void ml_call_deny(ml_call *call, const char *peer_id) {
  g_assert(call && peer_id);
  invoke(call, OP_DENY, peer_id, false, 0);
}

void ml_call_remove(ml_call *call, const char *peer_id) {
  g_assert(call && peer_id);
  invoke(call, OP_REMOVE, peer_id, false, 0);
}

void ml_call_set_locked(ml_call *call, bool locked) { invoke(call, OP_LOCK, NULL, locked, 0); }
void ml_call_end_for_all(ml_call *call) { invoke(call, OP_END, NULL, false, 0); }

void ml_call_hand_over(ml_call *call, const char *peer_id) {
  g_assert(call && peer_id);
  invoke(call, OP_HAND_OVER, peer_id, false, 0);
}

void ml_call_raise_hand(ml_call *call, bool raised) { invoke(call, OP_HAND, NULL, raised, 0); }

int ml_call_react(ml_call *call, const char *reaction) {
  g_assert(call && reaction);
  unsigned code = ml_control_reaction_from_name(reaction);
  if (!code)
    return ML_ERR_INVALID;
  invoke(call, OP_REACT, NULL, false, code);
  return ML_OK;
}

void ml_call_ask_mute(ml_call *call, const char *peer_id) {
  invoke(call, OP_ASK_MUTE, peer_id, false, 0);
}

void ml_call_ask_mute_all_but(ml_call *call, const char *speaker_id) {
  g_assert(call && speaker_id);
  invoke(call, OP_ASK_MUTE, speaker_id, true, 0);
}

void ml_call_lower_hand(ml_call *call, const char *peer_id) {
  g_assert(call && peer_id);
  invoke(call, OP_LOWER_HAND, peer_id, false, 0);
}

void ml_call_spotlight(ml_call *call, const char *peer_id) {
  invoke(call, OP_SPOTLIGHT, peer_id, false, 0);
}

void ml_call_test_send_control(ml_call *call, const char *peer_id, const uint8_t *data,
                               size_t len) {
  g_assert(call && peer_id && data && len >= 1 && len <= ML_CONTROL_MAX_LEN);
  cmd *c = g_new0(cmd, 1);
  c->call = call;
  c->op = OP_TEST_SEND;
  c->peer = g_strndup(peer_id, ML_CALL_MAX_PEER_ID);
  memcpy(c->data, data, len);
  c->len = len;
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, run_cmd, c, cmd_free);
}

const char *ml_call_session_name(int session) {
  switch (session) {
  case ML_CALL_SESSION_ROLE: return "role";
  case ML_CALL_SESSION_LOCKED: return "locked";
  case ML_CALL_SESSION_HAND: return "hand";
  case ML_CALL_SESSION_REACTION: return "reaction";
  case ML_CALL_SESSION_MUTED_BY_HOST: return "muted_by_host";
  case ML_CALL_SESSION_SPOTLIGHT: return "spotlight";
  case ML_CALL_SESSION_ASKED: return "asked";
  case ML_CALL_SESSION_JOIN_FAILED: return "join_failed";
  case ML_CALL_SESSION_CLOSED: return "closed";
  case ML_CALL_SESSION_REFUSED: return "refused";
  }
  return "unknown";
}
