/* mentorlink — the secure path to one remote peer (see ml/peer_link.h and
 * docs/PROTOCOL.md, "The handshake on the ICE path"). */
#include "ml/peer_link.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "peer_link_impl.h"

/* ---- small helpers --------------------------------------------------- */

/* A one-shot timer as a GSource whose ready time we move: cheaper than
 * creating a source per (re)arm, and never fires once disarmed. */
static gboolean timer_dispatch(GSource *source, GSourceFunc callback, gpointer data) {
  g_source_set_ready_time(source, -1);
  return callback ? callback(data) : G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {.dispatch = timer_dispatch};

GSource *ml_peer_link_timer_new(ml_peer_link *link, GSourceFunc fn) {
  GSource *s = g_source_new(&timer_funcs, sizeof(GSource));
  g_source_set_callback(s, fn, link, NULL);
  g_source_set_ready_time(s, -1);
  g_source_attach(s, link->context);
  return s;
}

void ml_peer_link_timer_arm(GSource *s, uint32_t delay_ms) {
  g_source_set_ready_time(s, g_get_monotonic_time() + (gint64)delay_ms * 1000);
}

void ml_peer_link_timer_disarm(GSource *s) {
  if (s)
    g_source_set_ready_time(s, -1);
}

void ml_peer_link_timer_free(GSource **s) {
  if (*s) {
    g_source_destroy(*s);
    g_source_unref(*s);
    *s = NULL;
  }
}

bool ml_peer_link_is_controlling(const char *local_peer_id, const char *remote_peer_id) {
  g_assert(local_peer_id && remote_peer_id);
  return strcmp(local_peer_id, remote_peer_id) < 0;
}

/* ---- sending --------------------------------------------------------- */

/* Hands one framed datagram to the path. A refusal is a lost datagram. */
static int send_raw(ml_peer_link *link, const uint8_t *buf, size_t len) {
  ml_keepalive_sent(&link->ka, g_get_monotonic_time());
  if (len > 0 && (buf[0] & 7) == ML_DATAGRAM_HANDSHAKE) {
    unsigned i = link->test_handshake_sends++;
    if (i < 32 && (link->test_drop_mask >> i & 1))
      return ML_OK; /* test hook: lost on the way */
  }
  if (!link->agent) {
    if (link->test_output)
      link->test_output(buf, len, link->test_output_user);
    link->stats.datagrams_out++;
    return ML_OK;
  }
  gint n = nice_agent_send(link->agent, link->stream_id, COMPONENT, (guint)len, (const gchar *)buf);
  if (n < 0 || (size_t)n != len) {
    link->stats.send_failures++;
    return ML_ERR_IO;
  }
  link->stats.datagrams_out++;
  return ML_OK;
}

int ml_peer_link_seal_and_send(ml_peer_link *link, ml_inner_type type, const uint8_t *payload,
                               size_t len) {
  uint8_t dgram[ML_DATAGRAM_MAX];
  size_t n;
  int err = ml_channel_seal(link->channel, type, payload, len, dgram, sizeof dgram, &n);
  if (err)
    return err;
  return send_raw(link, dgram, n);
}

/* ---- failure --------------------------------------------------------- */

static void hs_schedule(ml_peer_link *link);

static void fail(ml_peer_link *link, int err, const char *what) {
  if (link->state == ML_PEER_LINK_FAILED)
    return;
  ml_handshake_abort(link->hs);
  hs_schedule(link);
  link->state = ML_PEER_LINK_FAILED;
  ml_peer_link_timer_disarm(link->keepalive_timer);
  ml_peer_link_timer_disarm(link->tcp_timer);
  ml_peer_link_timer_disarm(link->live_timer);
  ml_peer_link_timer_disarm(link->connect_timer);
  if (link->channel) {
    ml_channel_get_stats(link->channel, &link->stats.channel);
    ml_channel_free(link->channel);
    link->channel = NULL;
  }
  if (link->cb.on_error)
    link->cb.on_error(link, err, what, link->cb.user);
}

/* ---- secure state ---------------------------------------------------- */

/* Sends a keepalive when nothing was sent for keepalive_ms, and wakes up
 * when that will next be the case: the peer hears from us at least every
 * keepalive_ms, which its silence detection relies on. */
static gboolean keepalive_tick(gpointer data) {
  ml_peer_link *link = data;
  if (link->state == ML_PEER_LINK_SECURE) {
    uint32_t next_ms;
    if (ml_keepalive_send_due(&link->ka, g_get_monotonic_time(), &next_ms) &&
        ml_peer_link_seal_and_send(link, ML_INNER_KEEPALIVE, NULL, 0) == ML_OK)
      link->stats.keepalives_out++;
    ml_peer_link_timer_arm(link->keepalive_timer, next_ms);
  }
  return G_SOURCE_CONTINUE;
}

/* While secure: the path is lost when nothing authenticated arrives. After
 * silence_ms the owner hears of it (once per silence, and again silence_ms
 * after each ICE restart); after path_timeout_ms the link fails. */
static gboolean live_tick(gpointer data) {
  ml_peer_link *link = data;
  if (link->state != ML_PEER_LINK_SECURE)
    return G_SOURCE_CONTINUE;
  ml_keepalive_verdict v = ml_keepalive_check(&link->ka, g_get_monotonic_time());
  if (v == ML_KEEPALIVE_PATH_TIMEOUT) {
    fail(link, ML_ERR_IO,
         "nothing arrived from the peer for too long (path timeout): the path is lost");
    return G_SOURCE_CONTINUE;
  }
  if (v == ML_KEEPALIVE_PATH_LOST) {
    if (link->cb.on_path_lost)
      link->cb.on_path_lost(link, link->cb.user);
    if (link->state != ML_PEER_LINK_SECURE)
      return G_SOURCE_CONTINUE;
  }
  ml_peer_link_timer_arm(link->live_timer, ml_keepalive_check_interval_ms(&link->ka));
  return G_SOURCE_CONTINUE;
}

static gboolean connect_tick(gpointer data) {
  ml_peer_link *link = data;
  if (link->state == ML_PEER_LINK_CONNECTING || link->state == ML_PEER_LINK_HANDSHAKING)
    fail(link, ML_ERR_IO,
         link->state == ML_PEER_LINK_CONNECTING
             ? "no working path to the peer was found in time (ICE did not connect)"
             : "no handshake with the peer succeeded in time");
  return G_SOURCE_CONTINUE;
}

static void go_secure(ml_peer_link *link) {
  hs_schedule(link);
  link->state = ML_PEER_LINK_SECURE;
  ml_keepalive_secure(&link->ka, g_get_monotonic_time());
  ml_peer_link_timer_disarm(link->connect_timer);
  ml_peer_link_timer_arm(link->keepalive_timer, link->keepalive_ms);
  ml_peer_link_timer_arm(link->live_timer, ml_keepalive_check_interval_ms(&link->ka));
  ml_peer_link_tcp_start(link);
  if (link->cb.on_secure)
    link->cb.on_secure(link, &link->verification, link->cb.user);
  ml_peer_link_queue_flush(link);
}

/* ---- handshake (ml/handshake.h does it; the link carries it) --------- */

static void hs_schedule(ml_peer_link *link) {
  int64_t t = ml_handshake_next_tick(link->hs);
  g_source_set_ready_time(link->hs_timer, t == ML_HANDSHAKE_NEVER ? -1 : (gint64)t);
}

/* (Re)sends a handshake datagram; a loss is retransmitted. */
static void hs_send(ml_peer_link *link, const uint8_t *dgram, size_t len) {
  link->last_unsent = send_raw(link, dgram, len) != ML_OK;
}

static bool hs_in_progress(const ml_peer_link *link) {
  ml_handshake_phase p = ml_handshake_get_phase(link->hs);
  return p == ML_HANDSHAKE_WAIT_MSG2 || p == ML_HANDSHAKE_CONFIRM || p == ML_HANDSHAKE_WAIT_MSG3;
}

/* The keys exist: the channel, and what the secure callback will report. */
static void hs_keys(ml_peer_link *link, ml_channel *channel) {
  link->channel = channel;
  ml_peer_link_verification *v = &link->verification;
  memcpy(v->handshake_hash, ml_handshake_hash(link->hs), ML_NOISE_HASH_LEN);
  memcpy(v->peer_identity, ml_handshake_peer_identity(link->hs), ML_IDENTITY_PUBLIC_LEN);
  ml_sas_text(v->handshake_hash, v->sas);
  ml_safety_number(ml_identity_public_key(link->identity), v->peer_identity, v->safety_number);
  v->initiator = link->initiator;
}

/* Acts on what the handshake said: its datagram goes first, then its event. */
static void hs_apply(ml_peer_link *link, const ml_handshake_out *out) {
  if (out->datagram)
    hs_send(link, out->datagram, out->datagram_len);
  hs_schedule(link);
  switch (out->event) {
  case ML_HANDSHAKE_EV_PENDING: break;
  case ML_HANDSHAKE_EV_KEYS: hs_keys(link, out->channel); break; /* secure once confirmed */
  case ML_HANDSHAKE_EV_DONE:
    hs_keys(link, out->channel);
    go_secure(link);
    break;
  case ML_HANDSHAKE_EV_RETRY:
    ml_channel_free(link->channel);
    link->channel = NULL;
    /* fall through */
  case ML_HANDSHAKE_EV_HINT:
    if (link->cb.on_error)
      link->cb.on_error(link, out->err, out->what, link->cb.user);
    break;
  case ML_HANDSHAKE_EV_FAILED: fail(link, out->err, out->what); break;
  }
  /* The confirmation the initiator waits for (any authenticated datagram). */
  if (out->send_confirmation && link->state == ML_PEER_LINK_SECURE)
    (void)ml_peer_link_seal_and_send(link, ML_INNER_KEEPALIVE, NULL, 0);
}

static gboolean hs_tick(gpointer data) {
  ml_peer_link *link = data;
  ml_handshake_out out;
  ml_handshake_tick(link->hs, g_get_monotonic_time(), &out);
  hs_apply(link, &out);
  return G_SOURCE_CONTINUE;
}

static void handshake_in(ml_peer_link *link, const uint8_t *dgram, size_t dlen) {
  if (link->state == ML_PEER_LINK_NEW || link->state == ML_PEER_LINK_FAILED || !link->agent) {
    link->stats.dropped_unexpected++;
    return;
  }
  ml_handshake_out out;
  ml_handshake_receive(link->hs, dgram, dlen, g_get_monotonic_time(), &out);
  hs_apply(link, &out);
  /* A responder can hear message 1 before its own ICE check succeeds. */
  if (link->state == ML_PEER_LINK_CONNECTING &&
      ml_handshake_get_phase(link->hs) == ML_HANDSHAKE_WAIT_MSG3)
    link->state = ML_PEER_LINK_HANDSHAKING;
}

/* ---- receive path ---------------------------------------------------- */

static void transport_in(ml_peer_link *link, const uint8_t *buf, size_t len) {
  if (!link->channel) {
    link->stats.dropped_unexpected++;
    return;
  }
  uint8_t payload[ML_DATAGRAM_MAX];
  ml_inner_type type;
  size_t plen = 0;
  if (ml_channel_open(link->channel, buf, len, &type, payload, sizeof payload, &plen) != ML_OK)
    return; /* counted in the channel's stats */
  bool after_outage =
      ml_keepalive_received(&link->ka, link->state == ML_PEER_LINK_SECURE, g_get_monotonic_time());
  if (ml_handshake_get_phase(link->hs) == ML_HANDSHAKE_CONFIRM) {
    /* The responder's first authenticated datagram confirms message 3. */
    ml_handshake_confirm(link->hs);
    go_secure(link);
    if (link->state != ML_PEER_LINK_SECURE)
      return;
  }
  switch (type) {
  case ML_INNER_KEEPALIVE: link->stats.keepalives_in++; break;
  case ML_INNER_RELIABLE: ml_peer_link_tcp_segment_in(link, payload, plen); break;
  case ML_INNER_RTP:
  case ML_INNER_RTCP:
  case ML_INNER_CONTROL:
    link->stats.delivered++;
    if (link->cb.on_datagram)
      link->cb.on_datagram(link, type, payload, plen, link->cb.user);
    break;
  }
  if (after_outage && link->state == ML_PEER_LINK_SECURE)
    ml_peer_link_tcp_nudge(link);
}

void ml_peer_link_receive(ml_peer_link *link, const uint8_t *buf, size_t len) {
  link->stats.datagrams_in++;
  if (len > ML_DATAGRAM_MAX || !ml_datagram_is_ours(buf, len)) {
    link->stats.dropped_not_ours++;
    return;
  }
  if (link->state == ML_PEER_LINK_FAILED) {
    link->stats.dropped_unexpected++;
    return;
  }
  ml_datagram d;
  if (ml_datagram_parse(buf, len, &d) != ML_OK) {
    link->stats.dropped_malformed++;
    return;
  }
  if (d.type == ML_DATAGRAM_HANDSHAKE)
    handshake_in(link, buf, len);
  else
    transport_in(link, buf, len);
}

/* ---- ICE ------------------------------------------------------------- */

void ml_peer_link_on_component_state(NiceAgent *agent, guint stream_id, guint component_id,
                                     guint state, gpointer data) {
  (void)agent;
  ml_peer_link *link = data;
  if (stream_id != link->stream_id || component_id != COMPONENT)
    return;
  if (link->cb.on_ice_state)
    link->cb.on_ice_state(link, (NiceComponentState)state, link->cb.user);
  bool connected = state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY;
  /* The controlled side can hear message 1 before its own check of the pair
   * succeeds, and then has no path for message 2: send it now rather than
   * wait for the initiator's retransmission (250 ms on every other call). */
  if (connected && link->last_unsent && hs_in_progress(link)) {
    size_t n;
    const uint8_t *last = ml_handshake_last_sent(link->hs, &n);
    hs_send(link, last, n);
  }
  /* Start at CONNECTED, not READY: a pair already works, and libnice may take
   * ~2 s more to time out higher-priority pairs before it says READY; that
   * wait would go straight into the time to first frame. Datagrams follow the
   * selected pair if nomination later picks another. */
  if (!connected || link->state != ML_PEER_LINK_CONNECTING)
    return;
  link->state = ML_PEER_LINK_HANDSHAKING;
  ml_handshake_out out;
  ml_handshake_start(link->hs, g_get_monotonic_time(), &out);
  hs_apply(link, &out);
}

/* ---- construction ---------------------------------------------------- */

static ml_peer_link *link_alloc(const ml_peer_link_config *cfg) {
  ml_peer_link *link = g_new0(ml_peer_link, 1);
  link->context = g_main_context_ref(cfg->context);
  link->identity = cfg->identity;
  link->initiator = ml_peer_link_is_controlling(cfg->local_peer_id, cfg->remote_peer_id);
  g_strlcpy(link->room_id, cfg->room_id, sizeof link->room_id);
  link->keepalive_ms = cfg->keepalive_ms ? cfg->keepalive_ms : ML_PEER_LINK_KEEPALIVE_MS;
  link->silence_ms = cfg->silence_ms ? cfg->silence_ms : ML_PEER_LINK_SILENCE_MS;
  link->path_timeout_ms =
      cfg->path_timeout_ms ? cfg->path_timeout_ms : ML_PEER_LINK_PATH_TIMEOUT_MS;
  link->connect_timeout_ms =
      cfg->connect_timeout_ms ? cfg->connect_timeout_ms : ML_PEER_LINK_CONNECT_TIMEOUT_MS;
  link->queue_max =
      cfg->reliable_queue_max ? cfg->reliable_queue_max : ML_PEER_LINK_RELIABLE_QUEUE_MAX;
  link->cb = cfg->callbacks;
  link->state = ML_PEER_LINK_NEW;
  ml_peer_link_reliable_init(link);
  ml_keepalive_init(&link->ka, link->keepalive_ms, link->silence_ms, link->path_timeout_ms,
                    g_get_monotonic_time());
  link->hs_timer = ml_peer_link_timer_new(link, hs_tick);
  link->keepalive_timer = ml_peer_link_timer_new(link, keepalive_tick);
  link->live_timer = ml_peer_link_timer_new(link, live_tick);
  link->connect_timer = ml_peer_link_timer_new(link, connect_tick);
  ml_handshake_config hc = {
      .identity = cfg->identity,
      .initiator = link->initiator,
      .psk = cfg->psk,
      .key_confirmation = true,
      .timeout_ms = cfg->handshake_timeout_ms,
      .rto_ms = cfg->handshake_rto_ms,
      .attempts = cfg->handshake_attempts,
  };
  if (ml_handshake_new(&link->hs, &hc) != ML_OK) {
    ml_peer_link_free(link);
    return NULL;
  }
  return link;
}

static bool config_ok(const ml_peer_link_config *cfg) {
  return cfg && cfg->context && cfg->identity && cfg->local_peer_id && cfg->remote_peer_id &&
         cfg->room_id && strcmp(cfg->local_peer_id, cfg->remote_peer_id) != 0 &&
         strlen(cfg->room_id) <= ML_PEER_LINK_MAX_ROOM_ID && cfg->n_turn <= ML_PEER_LINK_MAX_TURN;
}

/* A link for cfg, not yet started: ML_ERR_INVALID for a config that
 * config_ok() refuses, ML_ERR_NOMEM. */
static int link_create(ml_peer_link **link, const ml_peer_link_config *cfg) {
  if (!config_ok(cfg))
    return ML_ERR_INVALID;
  *link = link_alloc(cfg);
  return *link ? ML_OK : ML_ERR_NOMEM;
}

int ml_peer_link_new(ml_peer_link **out, const ml_peer_link_config *cfg) {
  g_assert(out);
  ml_peer_link *link = NULL;
  int err = link_create(&link, cfg);
  if (err)
    return err;
  err = ml_peer_link_ice_open(link, cfg);
  if (err) {
    ml_peer_link_free(link);
    return err;
  }
  *out = link;
  return ML_OK;
}

int ml_peer_link_new_secure_for_test(ml_peer_link **out, const ml_peer_link_config *cfg,
                                     const uint8_t send_key[ML_NOISE_KEY_LEN],
                                     const uint8_t recv_key[ML_NOISE_KEY_LEN],
                                     const uint8_t peer_identity[ML_IDENTITY_PUBLIC_LEN],
                                     ml_peer_link_output_cb output, void *output_user) {
  g_assert(out);
  ml_peer_link *link = NULL;
  int err = link_create(&link, cfg);
  if (err)
    return err;
  err = ml_channel_new(&link->channel, send_key, recv_key, NULL);
  if (err) {
    ml_peer_link_free(link);
    return err;
  }
  link->test_output = output;
  link->test_output_user = output_user;
  ml_peer_link_verification *v = &link->verification;
  crypto_generichash(v->handshake_hash, sizeof v->handshake_hash, send_key, ML_NOISE_KEY_LEN, NULL,
                     0);
  memcpy(v->peer_identity, peer_identity, ML_IDENTITY_PUBLIC_LEN);
  v->initiator = link->initiator;
  link->state = ML_PEER_LINK_SECURE;
  ml_keepalive_secure(&link->ka, g_get_monotonic_time());
  ml_peer_link_timer_arm(link->live_timer, ml_keepalive_check_interval_ms(&link->ka));
  ml_peer_link_tcp_start(link);
  *out = link;
  return ML_OK;
}

void ml_peer_link_test_drop_handshake(ml_peer_link *link, uint32_t mask) {
  link->test_drop_mask = mask;
}

/* ---- public operations ---------------------------------------------- */

int ml_peer_link_start(ml_peer_link *link) {
  g_assert(link && link->agent);
  if (link->state != ML_PEER_LINK_NEW)
    return ML_ERR_STATE;
  link->state = ML_PEER_LINK_CONNECTING;
  ml_peer_link_timer_arm(link->connect_timer, link->connect_timeout_ms);
  if (!nice_agent_gather_candidates(link->agent, link->stream_id)) {
    fail(link, ML_ERR_IO, "libnice could not gather local candidates");
    return ML_ERR_IO;
  }
  return ML_OK;
}

int ml_peer_link_restart(ml_peer_link *link) {
  g_assert(link && link->agent);
  if (link->state == ML_PEER_LINK_FAILED || link->state == ML_PEER_LINK_NEW)
    return ML_ERR_STATE;
  if (!nice_agent_restart_stream(link->agent, link->stream_id))
    return ML_ERR_IO;
  /* The prologue binds the old ufrags: a handshake starts over on the new path. */
  ml_handshake_new_session(link->hs);
  hs_schedule(link);
  if (link->state == ML_PEER_LINK_HANDSHAKING) {
    ml_channel_free(link->channel);
    link->channel = NULL;
    link->state = ML_PEER_LINK_CONNECTING;
  } else if (link->state == ML_PEER_LINK_SECURE) {
    /* Silence counts again from now: the new ICE session gets silence_ms. */
    ml_keepalive_restarted(&link->ka, g_get_monotonic_time());
  }
  ml_peer_link_report_candidates(link);
  return ML_OK;
}

int ml_peer_link_send(ml_peer_link *link, ml_inner_type type, const uint8_t *payload, size_t len) {
  g_assert(link);
  if (link->state != ML_PEER_LINK_SECURE)
    return ML_ERR_STATE;
  if (type != ML_INNER_RTP && type != ML_INNER_RTCP && type != ML_INNER_CONTROL)
    return ML_ERR_INVALID;
  if (len > ML_DATAGRAM_MAX_PAYLOAD)
    return ML_ERR_TOO_BIG;
  return ml_peer_link_seal_and_send(link, type, payload, len);
}

ml_peer_link_state ml_peer_link_get_state(const ml_peer_link *link) { return link->state; }

guint ml_peer_link_stream_id(const ml_peer_link *link) { return link->stream_id; }

void ml_peer_link_get_stats(ml_peer_link *link, ml_peer_link_stats *out) {
  g_assert(link && out);
  if (link->channel)
    ml_channel_get_stats(link->channel, &link->stats.channel);
  ml_handshake_stats hs;
  ml_handshake_get_stats(link->hs, &hs);
  link->stats.handshake_retransmits = hs.retransmits;
  link->stats.dropped_handshake = hs.dropped;
  link->stats.state = link->state;
  link->stats.reliable_queued = ml_peer_link_queued(link);
  link->stats.silent_ms = link->state == ML_PEER_LINK_SECURE
                              ? ml_keepalive_silent_ms(&link->ka, g_get_monotonic_time())
                              : 0;
  link->stats.path = ml_peer_link_selected_path(link);
  *out = link->stats;
}

typedef struct agent_close {
  ml_peer_link_closed_cb closed;
  void *user;
} agent_close;

static void agent_closed(GObject *agent, GAsyncResult *res, gpointer data) {
  (void)agent;
  (void)res;
  agent_close *c = data;
  if (c->closed)
    c->closed(c->user);
  g_free(c);
}

void ml_peer_link_free(ml_peer_link *link) { ml_peer_link_close(link, NULL, NULL); }

void ml_peer_link_close(ml_peer_link *link, ml_peer_link_closed_cb closed, void *user) {
  if (!link) {
    if (closed)
      closed(user);
    return;
  }
  bool closing = false;
  if (link->agent && link->owns_agent) {
    /* The TURN allocations are released (refreshed with lifetime 0) before
     * the agent goes; the pending close holds a reference to the agent, and
     * its completion comes on our context (thread-default while we start it). */
    agent_close *c = g_new0(agent_close, 1);
    c->closed = closed;
    c->user = user;
    g_main_context_push_thread_default(link->context);
    nice_agent_close_async(link->agent, agent_closed, c);
    g_main_context_pop_thread_default(link->context);
    closing = true;
  }
  if (link->agent) {
    if (link->stream_id) {
      nice_agent_attach_recv(link->agent, link->stream_id, COMPONENT, link->context, NULL, NULL);
      /* A closing agent keeps its stream (the close uses its TURN sockets)
       * and frees it when it goes. */
      if (!closing)
        nice_agent_remove_stream(link->agent, link->stream_id);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(link->signals); i++)
      if (link->signals[i])
        g_signal_handler_disconnect(link->agent, link->signals[i]);
    g_object_unref(link->agent);
  }
  ml_peer_link_timer_free(&link->hs_timer);
  ml_peer_link_timer_free(&link->keepalive_timer);
  ml_peer_link_timer_free(&link->live_timer);
  ml_peer_link_timer_free(&link->connect_timer);
  ml_handshake_free(link->hs);
  ml_channel_free(link->channel);
  sodium_memzero(&link->verification, sizeof link->verification);
  ml_peer_link_reliable_free(link);
  g_main_context_unref(link->context);
  sodium_memzero(link, sizeof *link);
  g_free(link);
  if (!closing && closed)
    closed(user);
}
