/* One call: signaling client + one peer link and receive branch per peer +
 * one send pipeline fanned out to every secure peer, on the engine thread.
 * Contract in ml/call.h. This file: events, the room as signaling reports
 * it, the engine thread and the owner-thread API; each peer in call_peer.c,
 * the media in call_media.c (call_internal.h). */
#include "ml/call.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gio/gio.h>
#include <sodium.h>

#include "call_internal.h"

#define MAX_CHAT ML_PEER_LINK_MAX_MESSAGE
#define LEVEL_STALE_US 500000 /* no decoded audio for this long: silence */
#define CLOSE_WAIT_MS 2000    /* the longest wait for the links' TURN release */

/* ---- events ---- */

ml_call_event *ml_call_event_new(ml_call *call, ml_call_event_type type, const call_peer *p) {
  ml_call_event *ev = g_new0(ml_call_event, 1);
  ev->type = type;
  ev->t_ms = (g_get_monotonic_time() - call->t0) / 1000;
  ev->pin = -1;
  if (p) {
    g_strlcpy(ev->peer_id, p->id, sizeof ev->peer_id);
    g_strlcpy(ev->peer_name, p->name, sizeof ev->peer_name);
  }
  return ev;
}

bool ml_call_emit(ml_call *call, ml_call_event *ev) {
  if (((ev->type == ML_CALL_EV_STATS && !ev->stats.final) || ev->type == ML_CALL_EV_PEER_MEDIA) &&
      g_async_queue_length(call->events) >= ML_CALL_MAX_EVENTS) {
    ml_call_event_free(ev);
    return false;
  }
  g_async_queue_push(call->events, ev);
  uint64_t one = 1;
  ssize_t w = write(call->efd, &one, sizeof one);
  (void)w; /* EAGAIN only when the counter is saturated: readable anyway */
  return true;
}

void ml_call_emit_error_full(ml_call *call, const call_peer *p, int err, const char *text,
                             bool fatal) {
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_ERROR, p);
  ev->err = err;
  ev->text = g_strdup(text);
  ev->fatal = fatal;
  ml_call_emit(call, ev);
}

void ml_call_emit_error(ml_call *call, const call_peer *p, int err, const char *text) {
  ml_call_emit_error_full(call, p, err, text, false);
}

/* ---- the room, as signaling reports it ---- */

static void remove_all_peers(ml_call *call, const char *reason) {
  GList *vals = g_hash_table_get_values(call->peers);
  for (GList *l = vals; l; l = l->next)
    ml_call_peer_remove(call, l->data, reason);
  g_list_free(vals);
}

/* Our id in the room, from a welcome or a waiting; after a reconnect the
 * links are told the new one, and the old one's peer_left is old news. */
static void set_self_id(ml_call *call, const char *id) {
  if (!id[0] || !strcmp(call->self_id, id))
    return;
  bool changed = call->self_id[0] != '\0';
  if (changed)
    g_hash_table_add(call->retired_ids, g_strdup(call->self_id));
  g_strlcpy(call->self_id, id, sizeof call->self_id);
  if (changed)
    ml_call_session_self_id_changed(call);
}

static void on_sig_state(ml_signal_client_state st, void *user) {
  ml_call *call = user;
  if (st == ML_SIGNAL_WAITING) /* knocking again: our links must know the id that knocks */
    set_self_id(call, ml_signal_client_peer_id(call->sig));
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_SIGNALING, NULL);
  ev->state = (int)st;
  ml_call_emit(call, ev);
}

/* libnice takes IP literals only: names are resolved here (blocking the
 * engine thread for the resolver's time, once per welcome). */
static char *resolve_host(const char *host) {
  GInetAddress *a = g_inet_address_new_from_string(host);
  if (a) {
    g_object_unref(a);
    return g_strdup(host);
  }
  GResolver *r = g_resolver_get_default();
  GList *list = g_resolver_lookup_by_name(r, host, NULL, NULL);
  g_object_unref(r);
  char *out = list ? g_inet_address_to_string(list->data) : NULL;
  g_resolver_free_addresses(list);
  return out;
}

static void clear_ice(ml_call *call) {
  g_clear_pointer(&call->stun_host, g_free);
  for (size_t i = 0; i < call->n_turn; i++) {
    char **str = call->turn_strings[i];
    if (str[2])
      sodium_memzero(str[2], strlen(str[2]));
    for (size_t j = 0; j < 3; j++)
      g_free(str[j]);
  }
  memset(call->turn, 0, sizeof call->turn);
  memset(call->turn_strings, 0, sizeof call->turn_strings);
  call->n_turn = 0;
}

static void take_ice(ml_call *call, const ml_signal_welcome *w) {
  clear_ice(call);
  for (size_t i = 0; i < w->n_ice; i++) {
    const ml_signal_ice_server *s = &w->ice[i];
    if (s->kind == ML_SIGNAL_ICE_STUN && call->stun_host)
      continue;
    if (s->kind != ML_SIGNAL_ICE_STUN && call->n_turn == ML_PEER_LINK_MAX_TURN)
      continue;
    char *ip = resolve_host(s->host);
    if (!ip) {
      ml_call_emit_error(call, NULL, ML_ERR_NOT_FOUND,
                         "an ICE server name did not resolve; skipped");
      continue;
    }
    if (s->kind == ML_SIGNAL_ICE_STUN) {
      call->stun_host = ip;
      call->stun_port = s->port;
      continue;
    }
    char **str = call->turn_strings[call->n_turn];
    ml_peer_link_turn *t = &call->turn[call->n_turn++];
    t->server = str[0] = ip;
    t->port = s->port;
    t->username = str[1] = g_strdup(s->username);
    t->password = str[2] = g_strdup(s->credential);
    t->transport = s->kind == ML_SIGNAL_ICE_TURN_UDP   ? ML_PEER_LINK_TURN_UDP
                   : s->kind == ML_SIGNAL_ICE_TURN_TCP ? ML_PEER_LINK_TURN_TCP
                                                       : ML_PEER_LINK_TURN_TLS;
  }
}

/* A welcome after a reconnect (to the same instance or another) gives us a
 * new peer id, and the peers see us leave ("disconnected") and join again.
 * The links are peer to peer and need no server: each peer listed again,
 * under its id or (it reconnected too) another with the same identity key,
 * keeps its link; the others may still come back (ml_call_peer_away). Our
 * links keep the ICE roles they were made with (call_peer.controlling). */
static void keep_listed_peers(ml_call *call, const ml_signal_welcome *w, bool *listed) {
  GList *vals = g_hash_table_get_values(call->peers);
  for (GList *l = vals; l; l = l->next) {
    call_peer *p = l->data;
    size_t i = 0;
    while (i < w->n_peers && strcmp(w->peers[i].id, p->id) != 0)
      i++;
    if (i < w->n_peers) { /* under its id: it stayed */
      listed[i] = true;
      ml_call_peer_rejoined(call, p, &w->peers[i]);
      continue;
    }
    /* Under another id with its key (it reconnected too): the same peer
     * only if its link names that id, now or later (ml_call_peer_claimed). */
    for (i = 0; i < w->n_peers; i++)
      if (!listed[i] && ml_call_peer_by_key(call, w->peers[i].identity_key) == p)
        break;
    if (i < w->n_peers && p->have_said && !strcmp(p->said_id, w->peers[i].id)) {
      listed[i] = true;
      ml_call_peer_rejoined(call, p, &w->peers[i]);
      continue;
    }
    if (i < w->n_peers) {
      listed[i] = true;
      ml_call_peer_claimed(call, p, &w->peers[i]); /* held: not named yet */
    }
    ml_call_peer_away(call, p, "reconnect");
  }
  g_list_free(vals);
}

static void on_sig_welcome(const ml_signal_welcome *w, void *user) {
  ml_call *call = user;
  bool listed[ML_SIGNAL_MAX_PEERS] = {false};
  keep_listed_peers(call, w, listed);
  set_self_id(call, w->peer_id);
  g_strlcpy(call->room_id, w->room, sizeof call->room_id);
  take_ice(call, w);
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_JOINED, NULL);
  g_strlcpy(ev->peer_id, w->peer_id, sizeof ev->peer_id);
  g_strlcpy(ev->peer_name, w->name, sizeof ev->peer_name);
  ev->text = g_strdup(w->room);
  ml_call_emit(call, ev);
  ml_call_session_welcome(call, w->host);
  for (size_t i = 0; i < w->n_peers; i++) {
    if (!listed[i])
      ml_call_peer_add(call, &w->peers[i]);
    ml_call_session_peer_added(call, &w->peers[i]);
  }
  /* After the peers' ICE has started: capture starts with the call (the self
   * view, and a warm pipeline when the first peer is secure). */
  ml_call_ensure_sender(call);
}

/* A peer with the identity key of one we have is that peer back under a new
 * id (it reconnected, maybe to another instance): its link goes on. */
static void on_sig_peer_joined(const ml_signal_peer *sp, void *user) {
  ml_call *call = user;
  call_peer *p =
      g_hash_table_lookup(call->peers, sp->id) ? NULL : ml_call_peer_by_key(call, sp->identity_key);
  if (p) {
    ml_call_peer_claimed(call, p, sp);
    return;
  }
  ml_call_peer_add(call, sp);
  ml_call_session_peer_added(call, sp);
}

static void on_sig_knock(const ml_signal_peer *sp, void *user) {
  ml_call *call = user;
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_KNOCK, NULL);
  g_strlcpy(ev->peer_id, sp->id, sizeof ev->peer_id);
  g_strlcpy(ev->peer_name, sp->name, sizeof ev->peer_name);
  ml_identity_fingerprint(sp->identity_key, ev->fingerprint);
  ml_call_emit(call, ev);
  /* A peer whose key our link has proven, knocking again after it lost its
   * server connection, had been admitted: it gets its place back once its
   * link names the id that knocks (at once, or ml_call_peer_said_id). */
  call_peer *back = ml_call_peer_by_key(call, sp->identity_key);
  bool readmit = back && back->have_said && !strcmp(back->said_id, sp->id);
  if (back && !readmit && !call->admit_all)
    g_strlcpy(back->pending_knock, sp->id, sizeof back->pending_knock);
  if ((call->admit_all || readmit) && ml_signal_client_admit(call->sig, sp->id) != ML_OK)
    ml_call_emit_error(call, NULL, ML_ERR_STATE, "could not admit a waiting peer");
}

static void on_sig_peer_left(const char *id, const char *reason, void *user) {
  ml_call *call = user;
  if (g_hash_table_remove(call->retired_ids, id))
    return; /* the member it was before it rejoined under a new id */
  call_peer *p = g_hash_table_lookup(call->peers, id);
  if (p && !strcmp(reason, "disconnected")) {
    ml_call_peer_away(call, p, reason); /* it may come back: on_sig_peer_joined */
    return;
  }
  if (p) {
    ml_call_peer_remove(call, p, reason);
    return;
  }
  /* A waiting peer (we host): it was denied or removed, or it went. */
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_PEER_LEFT, NULL);
  g_strlcpy(ev->peer_id, id, sizeof ev->peer_id);
  ev->text = g_strdup(reason);
  ml_call_emit(call, ev);
}

static gboolean cmd_leave(gpointer user);

static void on_sig_error(const char *code, const char *message, bool fatal, void *user) {
  ml_call *call = user;
  g_autofree char *text =
      g_strdup_printf("signaling: %s%s%s", code, message[0] ? ": " : "", message);
  if (fatal)
    ml_call_session_on_sig_error(call, code);
  ml_call_emit_error_full(call, NULL, 0, text, fatal);
  if (fatal) { /* later: not from inside the signaling client's callback */
    GSource *later = g_idle_source_new();
    g_source_set_callback(later, cmd_leave, call, NULL);
    g_source_attach(later, call->ctx);
    g_source_unref(later);
  }
}

/* ---- engine thread ---- */

static void call_end(ml_call *call) {
  if (call->ended)
    return;
  call->ended = true;
  remove_all_peers(call, "ended");
  ml_call_free_sender(call);
  ml_rate_free(call->rate);
  call->rate = NULL;
  ml_rate_free(call->rate_small);
  call->rate_small = NULL;
  if (call->stats_timer) {
    g_source_destroy(call->stats_timer);
    g_source_unref(call->stats_timer);
    call->stats_timer = NULL;
  }
  if (call->sig && ml_signal_client_get_state(call->sig) != ML_SIGNAL_CLOSED)
    ml_signal_client_leave(call->sig);
  g_main_loop_quit(call->loop);
}

static gboolean cmd_leave(gpointer user) {
  call_end(user);
  return G_SOURCE_REMOVE;
}

static void engine_start(ml_call *call) {
  if (call->secret) {
    call->psk = sodium_malloc(32);
    if (!call->psk || ml_signal_room_psk(call->secret, call->room_cfg, call->psk) != ML_OK ||
        ml_signal_room_verifier(call->secret, call->room_cfg, call->verifier) != ML_OK) {
      ml_call_emit_error_full(call, NULL, ML_ERR_NOMEM,
                              "could not derive the room key from the room secret", true);
      call_end(call);
      return;
    }
  }
  ml_signal_client_config sc = {
      .context = call->ctx,
      .url = call->url,
      .token = call->token,
      .room = call->room_cfg,
      .name = call->name,
      .secret_verifier = call->secret ? call->verifier : NULL,
      .identity_key = ml_identity_public_key(call->identity),
      .ca_file = call->ca_file,
      .callbacks = {.on_state = on_sig_state,
                    .on_welcome = on_sig_welcome,
                    .on_peer_joined = on_sig_peer_joined,
                    .on_knock = on_sig_knock,
                    .on_peer_left = on_sig_peer_left,
                    .on_signal = ml_call_on_sig_signal,
                    .on_error = on_sig_error,
                    .on_room_state = ml_call_session_on_room_state,
                    .on_role_changed = ml_call_session_on_role_changed,
                    .on_join_failed = ml_call_session_on_join_failed,
                    .user = call},
  };
  int err = ml_signal_client_new(&call->sig, &sc);
  if (err) {
    ml_call_emit_error_full(call, NULL, err, "the signaling settings were refused", true);
    call_end(call);
    return;
  }
  call->stats_timer = g_timeout_source_new(ML_CALL_STATS_INTERVAL_MS);
  g_source_set_callback(call->stats_timer, ml_call_on_stats_tick, call, NULL);
  g_source_attach(call->stats_timer, call->ctx);
  ml_signal_client_start(call->sig);
}

static gboolean set_flag(gpointer flag) {
  *(bool *)flag = true;
  return G_SOURCE_REMOVE;
}

static gpointer engine_main(gpointer user) {
  ml_call *call = user;
  g_main_context_push_thread_default(call->ctx);
  engine_start(call);
  if (!call->ended)
    g_main_loop_run(call->loop);
  call_end(call); /* if the loop stopped otherwise */
  ml_signal_client_free(call->sig);
  call->sig = NULL;
  clear_ice(call);
  /* The links' agents release their TURN allocations; bounded. */
  bool expired = false;
  GSource *limit = g_timeout_source_new(CLOSE_WAIT_MS);
  g_source_set_callback(limit, set_flag, &expired, NULL);
  g_source_attach(limit, call->ctx);
  while (call->closing > 0 && !expired)
    g_main_context_iteration(call->ctx, TRUE);
  g_source_destroy(limit);
  g_source_unref(limit);
  while (g_main_context_iteration(call->ctx, FALSE))
    ;
  g_main_context_pop_thread_default(call->ctx);
  ml_call_emit(call, ml_call_event_new(call, ML_CALL_EV_ENDED, NULL));
  return NULL;
}

/* ---- owner-thread API ---- */

static bool valid_text(const char *s, size_t max) {
  return s && s[0] && strlen(s) <= max && g_utf8_validate(s, -1, NULL);
}

int ml_call_new(ml_call **out, const ml_call_config *cfg) {
  g_assert(out && cfg);
  if (!cfg->server_url || !cfg->identity || (cfg->token != NULL) == (cfg->room != NULL) ||
      (cfg->room && !valid_text(cfg->name, ML_CALL_MAX_NAME)) ||
      (cfg->room_secret && (!cfg->room || !valid_text(cfg->room_secret, 64))))
    return ML_ERR_INVALID;
  ml_call *call = g_new0(ml_call, 1);
  call->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (call->efd < 0) {
    g_free(call);
    return ML_ERR_IO;
  }
  call->url = g_strdup(cfg->server_url);
  call->ca_file = g_strdup(cfg->ca_file);
  call->camera = g_strdup(cfg->camera);
  call->microphone = g_strdup(cfg->microphone);
  call->token = g_strdup(cfg->token);
  call->room_cfg = g_strdup(cfg->room);
  call->name = g_strdup(cfg->name);
  call->secret = g_strdup(cfg->room_secret);
  call->identity = cfg->identity;
  if (cfg->pins_path) {
    call->pins_path = g_strdup(cfg->pins_path);
  } else {
    char path[4096];
    call->pins_path = g_strdup(ml_pins_default_path(path, sizeof path) == ML_OK ? path : "");
  }
  call->video = cfg->video;
  call->video_width = cfg->video_width;
  call->video_height = cfg->video_height;
  call->audio = cfg->audio;
  call->headless = cfg->headless;
  call->admit_all = cfg->admit_all;
  call->measure_tone = cfg->measure_tone;
  call->ask_default = cfg->receive_small ? ML_MEDIA_LAYER_SMALL : ML_MEDIA_LAYER_LARGE;
  call->path_timeout_ms = cfg->path_timeout_ms;
  call->n_local_addresses = cfg->n_local_addresses;
  call->local_addresses = g_new0(char *, cfg->n_local_addresses + 1);
  for (size_t i = 0; i < cfg->n_local_addresses; i++)
    call->local_addresses[i] = g_strdup(cfg->local_addresses[i]);
  call->t0 = g_get_monotonic_time();
  call->events = g_async_queue_new_full((GDestroyNotify)ml_call_event_free);
  call->ctx = g_main_context_new();
  call->loop = g_main_loop_new(call->ctx, FALSE);
  call->peers =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)ml_call_peer_free);
  call->retired_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init(&call->shared_lock);
  call->shared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  call->thread = g_thread_new("ml-engine", engine_main, call);
  *out = call;
  return ML_OK;
}

int ml_call_event_fd(const ml_call *call) { return call->efd; }

ml_call_event *ml_call_next_event(ml_call *call, int timeout_ms) {
  ml_call_event *ev;
  if (timeout_ms < 0)
    ev = g_async_queue_pop(call->events);
  else if (timeout_ms == 0)
    ev = g_async_queue_try_pop(call->events);
  else
    ev = g_async_queue_timeout_pop(call->events, (guint64)timeout_ms * 1000);
  if (g_async_queue_length(call->events) <= 0) {
    /* Reset readiness; an event pushed meanwhile writes again, and one pushed
     * between the check and the read is caught by the second check. */
    uint64_t n;
    if (read(call->efd, &n, sizeof n) < 0 && errno != EAGAIN)
      return ev;
    if (g_async_queue_length(call->events) > 0) {
      uint64_t one = 1;
      if (write(call->efd, &one, sizeof one) < 0)
        return ev; /* EAGAIN: the counter is saturated, readable anyway */
    }
  }
  return ev;
}

void ml_call_event_free(ml_call_event *ev) {
  if (!ev)
    return;
  g_free(ev->text);
  g_free(ev);
}

static gboolean cmd_chat(gpointer user) {
  void **args = user;
  ml_call *call = args[0];
  const char *text = args[1];
  if (call->ended)
    return G_SOURCE_REMOVE;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    uint64_t id = 0;
    if (p->state == ML_PEER_FAILED)
      continue; /* queued before the channel is up; a failed link refuses it */
    int err = ml_peer_link_send_message(p->link, (const uint8_t *)text, strlen(text), &id);
    if (err) {
      ml_call_emit_error(call, p, err, "the chat message could not be queued to this peer");
      continue;
    }
    ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_CHAT_SENT, p);
    ev->id = id;
    ev->text = g_strdup(text);
    ml_call_emit(call, ev);
  }
  return G_SOURCE_REMOVE;
}

static void free_chat_args(gpointer user) {
  void **args = user;
  g_free(args[1]);
  g_free(args);
}

int ml_call_send_chat(ml_call *call, const char *text) {
  g_assert(call && text);
  if (!valid_text(text, MAX_CHAT))
    return ML_ERR_INVALID;
  void **args = g_new(void *, 2);
  args[0] = call;
  args[1] = g_strdup(text);
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, cmd_chat, args, free_chat_args);
  return ML_OK;
}

static gboolean cmd_muted(gpointer user) {
  ml_call *call = ((void **)user)[0];
  call->muted = ((void **)user)[1] != NULL;
  if (call->tx)
    ml_media_sender_set_audio_muted(call->tx, call->muted);
  if (!call->ended)
    (void)ml_call_media_state_update(call);
  return G_SOURCE_REMOVE;
}

static gboolean cmd_camera(gpointer user) {
  ml_call *call = ((void **)user)[0];
  call->camera_off = ((void **)user)[1] == NULL;
  if (call->tx)
    ml_media_sender_set_camera_on(call->tx, !call->camera_off);
  if (!call->ended)
    (void)ml_call_media_state_update(call);
  return G_SOURCE_REMOVE;
}

static void invoke_flag(ml_call *call, GSourceFunc fn, bool flag) {
  void **args = g_new(void *, 2);
  args[0] = call;
  args[1] = flag ? call : NULL;
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, fn, args, g_free);
}

void ml_call_set_muted(ml_call *call, bool muted) { invoke_flag(call, cmd_muted, muted); }
void ml_call_set_camera_on(ml_call *call, bool on) { invoke_flag(call, cmd_camera, on); }

static gboolean cmd_admit(gpointer user) {
  void **args = user;
  ml_call *call = args[0];
  if (!call->ended && call->sig && ml_signal_client_admit(call->sig, args[1]) != ML_OK)
    ml_call_emit_error(call, NULL, ML_ERR_STATE,
                       "could not admit the peer (not joined, or a bad id)");
  return G_SOURCE_REMOVE;
}

static gboolean cmd_receive_layer(gpointer user) {
  void **args = user;
  ml_call *call = args[0];
  const char *id = args[1];
  ml_media_layer l = args[2] ? ML_MEDIA_LAYER_SMALL : ML_MEDIA_LAYER_LARGE;
  if (!id[0])
    call->ask_default = l;
  bool changed = false;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, call->peers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    call_peer *p = v;
    if ((id[0] && strcmp(p->id, id)) || p->ask == l)
      continue;
    p->ask = l;
    changed = true;
  }
  if (changed && !call->ended) {
    call->ask_seq++;
    ml_call_layers_send_request(call, NULL);
  }
  return G_SOURCE_REMOVE;
}

void ml_call_receive_layer(ml_call *call, const char *peer_id, ml_media_layer layer) {
  g_assert(call);
  void **args = g_new(void *, 3);
  args[0] = call;
  args[1] = g_strndup(peer_id ? peer_id : "", ML_CALL_MAX_PEER_ID);
  args[2] = layer == ML_MEDIA_LAYER_SMALL ? call : NULL;
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, cmd_receive_layer, args,
                             free_chat_args);
}

void ml_call_admit(ml_call *call, const char *peer_id) {
  g_assert(call && peer_id);
  void **args = g_new(void *, 2);
  args[0] = call;
  args[1] = g_strndup(peer_id, ML_CALL_MAX_PEER_ID);
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, cmd_admit, args, free_chat_args);
}

static gboolean cmd_self_view(gpointer user) {
  ml_call *call = user;
  if (!call->ended)
    ml_call_ensure_sender(call);
  return G_SOURCE_REMOVE;
}

/* The owner's reads hold shared_lock while they use a receiver or the
 * sender: the engine thread removes either under it before freeing it. */
int ml_call_latest_frame(ml_call *call, const char *peer_id, uint64_t after_seq,
                         ml_media_frame **out) {
  g_assert(call && out);
  *out = NULL;
  int err = ML_ERR_NOT_FOUND;
  bool start = false;
  g_mutex_lock(&call->shared_lock);
  if (!peer_id) {
    if (call->tx)
      err = ml_media_sender_latest_frame(call->tx, after_seq, out);
    else
      start = g_atomic_int_compare_and_exchange(&call->self_view_requested, 0, 1);
  } else {
    peer_shared *s = g_hash_table_lookup(call->shared, peer_id);
    if (s)
      err = ml_media_receiver_latest_frame(s->rx, after_seq, out);
  }
  g_mutex_unlock(&call->shared_lock);
  if (start) /* the first ask starts the sender */
    g_main_context_invoke(call->ctx, cmd_self_view, call);
  return err;
}

int ml_call_audio_level(ml_call *call, const char *peer_id, double *dbfs) {
  g_assert(call && peer_id && dbfs);
  *dbfs = LEVEL_FLOOR_DBFS;
  int err = ML_ERR_NOT_FOUND;
  int64_t now = g_get_monotonic_time();
  g_mutex_lock(&call->shared_lock);
  peer_shared *s = g_hash_table_lookup(call->shared, peer_id);
  if (s && s->level_us) {
    /* Decoded audio stopped (the peer stopped sending): silence. */
    *dbfs = now - s->level_us <= LEVEL_STALE_US ? s->dbfs : LEVEL_FLOOR_DBFS;
    err = ML_OK;
  }
  g_mutex_unlock(&call->shared_lock);
  return err;
}

static gboolean cmd_mark_verified(gpointer user) {
  void **args = user;
  ml_call *call = args[0];
  const char *id = args[1];
  if (call->ended)
    return G_SOURCE_REMOVE;
  call_peer *p = g_hash_table_lookup(call->peers, id);
  ml_call_event *ev = ml_call_event_new(call, ML_CALL_EV_MARKED_VERIFIED, p);
  if (!p) {
    g_strlcpy(ev->peer_id, id, sizeof ev->peer_id);
    ev->err = ML_ERR_NOT_FOUND;
  } else if (!p->have_proven_key || !call->pins_path[0]) {
    ev->err = ML_ERR_STATE; /* no proven key yet, or pinning is off */
  } else {
    ev->err = ml_pins_mark_verified(call->pins_path, p->name, p->proven_key);
    ml_identity_fingerprint(p->proven_key, ev->fingerprint);
    ev->verified = ev->err == ML_OK;
  }
  ml_call_emit(call, ev);
  return G_SOURCE_REMOVE;
}

void ml_call_mark_verified(ml_call *call, const char *peer_id) {
  g_assert(call && peer_id);
  void **args = g_new(void *, 2);
  args[0] = call;
  args[1] = g_strndup(peer_id, ML_CALL_MAX_PEER_ID);
  g_main_context_invoke_full(call->ctx, G_PRIORITY_DEFAULT, cmd_mark_verified, args,
                             free_chat_args);
}

void ml_call_leave(ml_call *call) {
  g_assert(call);
  if (g_atomic_int_compare_and_exchange(&call->leave_requested, 0, 1))
    g_main_context_invoke(call->ctx, cmd_leave, call);
}

const char *ml_call_event_name(ml_call_event_type type) {
  switch (type) {
  case ML_CALL_EV_SIGNALING: return "signaling";
  case ML_CALL_EV_JOINED: return "joined";
  case ML_CALL_EV_PEER_JOINED: return "peer_joined";
  case ML_CALL_EV_PEER_LEFT: return "peer_left";
  case ML_CALL_EV_PEER_REJOINED: return "peer_rejoined";
  case ML_CALL_EV_KNOCK: return "knock";
  case ML_CALL_EV_PEER_STATE: return "peer_state";
  case ML_CALL_EV_VERIFIED: return "verification";
  case ML_CALL_EV_IDENTITY_CHANGED: return "identity_changed";
  case ML_CALL_EV_CHAT: return "chat";
  case ML_CALL_EV_CHAT_SENT: return "chat_sent";
  case ML_CALL_EV_RECEIPT: return "receipt";
  case ML_CALL_EV_STATS: return "stats";
  case ML_CALL_EV_PEER_MEDIA: return "peer_media";
  case ML_CALL_EV_MARKED_VERIFIED: return "marked_verified";
  case ML_CALL_EV_SESSION: return "session";
  case ML_CALL_EV_ERROR: return "error";
  case ML_CALL_EV_ENDED: return "ended";
  }
  return "unknown";
}

/* call.h restates the link's enums; they must stay the same values. */
_Static_assert(ML_CALL_LINK_NEW == (int)ML_PEER_LINK_NEW &&
                   ML_CALL_LINK_CONNECTING == (int)ML_PEER_LINK_CONNECTING &&
                   ML_CALL_LINK_HANDSHAKING == (int)ML_PEER_LINK_HANDSHAKING &&
                   ML_CALL_LINK_SECURE == (int)ML_PEER_LINK_SECURE &&
                   ML_CALL_LINK_FAILED == (int)ML_PEER_LINK_FAILED,
               "ml_call_link_state differs from ml_peer_link_state");
_Static_assert(ML_CALL_PATH_NONE == (int)ML_PEER_LINK_PATH_NONE &&
                   ML_CALL_PATH_HOST == (int)ML_PEER_LINK_PATH_HOST &&
                   ML_CALL_PATH_SRFLX == (int)ML_PEER_LINK_PATH_SRFLX &&
                   ML_CALL_PATH_RELAY == (int)ML_PEER_LINK_PATH_RELAY,
               "ml_call_path differs from ml_peer_link_path");

const char *ml_call_path_name(unsigned path) {
  switch (path) {
  case ML_CALL_PATH_HOST: return "host";
  case ML_CALL_PATH_SRFLX: return "srflx";
  case ML_CALL_PATH_RELAY: return "relay";
  }
  return "none";
}

const char *ml_call_peer_state_name(int state) {
  switch (state) {
  case ML_CALL_LINK_NEW: return "new";
  case ML_CALL_LINK_CONNECTING: return "connecting";
  case ML_CALL_LINK_HANDSHAKING: return "handshaking";
  case ML_CALL_LINK_SECURE: return "secure";
  case ML_CALL_LINK_FAILED: return "failed";
  }
  return "unknown";
}

void ml_call_free(ml_call *call) {
  if (!call)
    return;
  ml_call_leave(call);
  g_thread_join(call->thread);
  g_hash_table_destroy(call->peers);
  g_hash_table_destroy(call->retired_ids);
  g_hash_table_destroy(call->shared);
  g_mutex_clear(&call->shared_lock);
  g_main_loop_unref(call->loop);
  g_main_context_unref(call->ctx);
  g_async_queue_unref(call->events);
  close(call->efd);
  if (call->psk)
    sodium_free(call->psk);
  g_free(call->url);
  g_free(call->ca_file);
  g_free(call->camera);
  g_free(call->microphone);
  if (call->token)
    sodium_memzero(call->token, strlen(call->token));
  g_free(call->token);
  g_free(call->room_cfg);
  g_free(call->name);
  if (call->secret)
    sodium_memzero(call->secret, strlen(call->secret));
  g_free(call->secret);
  g_free(call->pins_path);
  g_strfreev(call->local_addresses);
  g_free(call);
}
