/* mentorlink — the peer link's ICE side: its libnice stream, candidates and
 * credentials (see ml/peer_link.h). Part of the peer link
 * (peer_link_impl.h); runs on the link's context. */
#include <string.h>

#include "ml/handshake.h"
#include "peer_link_impl.h"
#include "peer_link_internal.h"

#define MAX_SDP_ATTRIBUTE 1024

static bool ice_chars_ok(const char *s, size_t min, size_t max) {
  size_t n = strnlen(s, max + 1);
  if (n < min || n > max)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!g_ascii_isalnum(c) && c != '+' && c != '/')
      return false;
  }
  return true;
}

static void report_candidate(ml_peer_link *link, NiceCandidate *cand) {
  if (!link->cb.on_candidate || cand->component_id != COMPONENT)
    return;
  gchar *sdp = nice_agent_generate_local_candidate_sdp(link->agent, cand);
  if (sdp)
    link->cb.on_candidate(link, sdp, link->cb.user);
  g_free(sdp);
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *cand, gpointer data) {
  (void)agent;
  ml_peer_link *link = data;
  if (cand->stream_id == link->stream_id)
    report_candidate(link, cand);
}

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer data) {
  (void)agent;
  ml_peer_link *link = data;
  if (stream_id == link->stream_id && link->cb.on_gathering_done)
    link->cb.on_gathering_done(link, link->cb.user);
}

static int configure_agent(ml_peer_link *link, const ml_peer_link_config *cfg) {
  if (!link->owns_agent)
    return ML_OK;
  g_object_set(link->agent, "controlling-mode", link->initiator, "ice-tcp", cfg->ice_tcp, "upnp",
               FALSE, NULL);
  if (cfg->stun_server) {
    NiceAddress a;
    if (!nice_address_set_from_string(&a, cfg->stun_server))
      return ML_ERR_INVALID;
    g_object_set(link->agent, "stun-server", cfg->stun_server, "stun-server-port",
                 (guint)(cfg->stun_port ? cfg->stun_port : 3478), NULL);
  }
  for (size_t i = 0; i < cfg->n_local_addresses; i++) {
    NiceAddress a;
    if (!cfg->local_addresses[i] || !nice_address_set_from_string(&a, cfg->local_addresses[i]) ||
        !nice_agent_add_local_address(link->agent, &a))
      return ML_ERR_INVALID;
  }
  return ML_OK;
}

static void nice_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                      gpointer data) {
  (void)agent;
  (void)stream_id;
  (void)component_id;
  ml_peer_link_receive(data, (const uint8_t *)buf, len);
}

int ml_peer_link_ice_open(ml_peer_link *link, const ml_peer_link_config *cfg) {
  if (cfg->shared_agent) {
    link->agent = g_object_ref(cfg->shared_agent);
  } else {
    link->agent = nice_agent_new_full(link->context, NICE_COMPATIBILITY_RFC5245,
                                      NICE_AGENT_OPTION_ICE_TRICKLE);
    link->owns_agent = true;
  }
  int err = configure_agent(link, cfg);
  if (err)
    return err;
  link->stream_id = nice_agent_add_stream(link->agent, 1);
  if (link->stream_id == 0)
    return ML_ERR_IO;
  static const NiceRelayType relay_types[] = {NICE_RELAY_TYPE_TURN_UDP, NICE_RELAY_TYPE_TURN_TCP,
                                              NICE_RELAY_TYPE_TURN_TLS};
  for (size_t i = 0; i < cfg->n_turn; i++) {
    const ml_peer_link_turn *t = &cfg->turn[i];
    if (!t->server || !t->username || !t->password || (unsigned)t->transport > 2 ||
        !nice_agent_set_relay_info(link->agent, link->stream_id, COMPONENT, t->server, t->port,
                                   t->username, t->password, relay_types[t->transport]))
      return ML_ERR_INVALID;
  }
  link->signals[0] =
      g_signal_connect(link->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), link);
  link->signals[1] = g_signal_connect(link->agent, "candidate-gathering-done",
                                      G_CALLBACK(on_gathering_done), link);
  link->signals[2] = g_signal_connect(link->agent, "component-state-changed",
                                      G_CALLBACK(ml_peer_link_on_component_state), link);
  nice_agent_attach_recv(link->agent, link->stream_id, COMPONENT, link->context, nice_recv, link);
  return ML_OK;
}

void ml_peer_link_report_candidates(ml_peer_link *link) {
  GSList *cands = nice_agent_get_local_candidates(link->agent, link->stream_id, COMPONENT);
  for (GSList *i = cands; i; i = i->next)
    report_candidate(link, i->data);
  g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
}

static ml_peer_link_path path_of(NiceCandidateType t) {
  switch (t) {
  case NICE_CANDIDATE_TYPE_RELAYED: return ML_PEER_LINK_PATH_RELAY;
  case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
  case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return ML_PEER_LINK_PATH_SRFLX;
  default: return ML_PEER_LINK_PATH_HOST;
  }
}

ml_peer_link_path ml_peer_link_selected_path(ml_peer_link *link) {
  NiceCandidate *l = NULL, *r = NULL;
  if (link->agent &&
      nice_agent_get_selected_pair(link->agent, link->stream_id, COMPONENT, &l, &r) && l && r) {
    ml_peer_link_path a = path_of(l->type), b = path_of(r->type);
    return a > b ? a : b;
  }
  return ML_PEER_LINK_PATH_NONE;
}

/* ---- public operations ---------------------------------------------- */

int ml_peer_link_local_credentials(const ml_peer_link *link, char *ufrag, size_t ufrag_cap,
                                   char *pwd, size_t pwd_cap) {
  g_assert(link && link->agent && ufrag && pwd);
  gchar *u = NULL, *p = NULL;
  if (!nice_agent_get_local_credentials(link->agent, link->stream_id, &u, &p))
    return ML_ERR_STATE;
  int err = ML_OK;
  if (g_strlcpy(ufrag, u, ufrag_cap) >= ufrag_cap || g_strlcpy(pwd, p, pwd_cap) >= pwd_cap)
    err = ML_ERR_BUFFER;
  g_free(u);
  g_free(p);
  return err;
}

int ml_peer_link_set_remote_credentials(ml_peer_link *link, const char *ufrag, const char *pwd) {
  g_assert(link && link->agent);
  if (!ufrag || !pwd || !ice_chars_ok(ufrag, 4, ML_PEER_LINK_MAX_UFRAG) ||
      !ice_chars_ok(pwd, 22, ML_PEER_LINK_MAX_PWD))
    return ML_ERR_INVALID;
  if (!nice_agent_set_remote_credentials(link->agent, link->stream_id, ufrag, pwd))
    return ML_ERR_INVALID;
  /* The prologue binds the room and this ICE session's two ufrags. */
  gchar *lu = NULL, *lp = NULL;
  uint8_t prologue[ML_HANDSHAKE_PROLOGUE_MAX];
  size_t plen = 0;
  bool ok = nice_agent_get_local_credentials(link->agent, link->stream_id, &lu, &lp) &&
            ml_handshake_ice_prologue(link->room_id, link->initiator ? lu : ufrag,
                                      link->initiator ? ufrag : lu, prologue, &plen) == ML_OK;
  g_free(lu);
  g_free(lp);
  /* Without one no attempt begins (the initiator fails, the responder drops message 1). */
  if (ml_handshake_set_prologue(link->hs, ok ? prologue : NULL, plen) != ML_OK)
    return ML_ERR_INVALID;
  return ML_OK;
}

int ml_peer_link_add_remote_candidate(ml_peer_link *link, const char *sdp_attribute) {
  g_assert(link && link->agent);
  if (!sdp_attribute || strnlen(sdp_attribute, MAX_SDP_ATTRIBUTE + 1) > MAX_SDP_ATTRIBUTE)
    return ML_ERR_PROTOCOL;
  NiceCandidate *c =
      nice_agent_parse_remote_candidate_sdp(link->agent, link->stream_id, sdp_attribute);
  if (!c)
    return ML_ERR_PROTOCOL;
  int err = ML_OK;
  if (c->component_id != COMPONENT) {
    err = ML_ERR_PROTOCOL;
  } else {
    GSList one = {.data = c, .next = NULL};
    if (nice_agent_set_remote_candidates(link->agent, link->stream_id, COMPONENT, &one) < 1)
      err = ML_ERR_PROTOCOL;
  }
  nice_candidate_free(c);
  return err;
}

void ml_peer_link_remote_gathering_done(ml_peer_link *link) {
  g_assert(link && link->agent);
  (void)nice_agent_peer_candidate_gathering_done(link->agent, link->stream_id);
}
