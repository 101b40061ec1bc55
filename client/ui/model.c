/* mentorlink UI — model (see model.h). */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/signal_client.h"

static void copy(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

void ml_ui_model_init(ml_ui_model *m, const char *self_name) {
  memset(m, 0, sizeof *m);
  copy(m->self_name, sizeof m->self_name, self_name);
  m->signaling = -1;
  m->camera_on = true;
  m->left_at_ms = -1;
  m->joined_at_ms = -1;
  m->end_at_ms = -1;
}

void ml_ui_model_clear(ml_ui_model *m) {
  for (size_t i = 0; i < m->n_chat; i++)
    free(m->chat[i].text);
  m->n_chat = 0;
}

ml_ui_peer *ml_ui_model_peer(ml_ui_model *m, const char *peer_id) {
  for (size_t i = 0; i < m->n_peers; i++)
    if (!strcmp(m->peers[i].id, peer_id))
      return &m->peers[i];
  return NULL;
}

static ml_ui_peer *add_peer(ml_ui_model *m, const ml_call_event *ev) {
  ml_ui_peer *p = ml_ui_model_peer(m, ev->peer_id);
  if (p || !ev->peer_id[0] || m->n_peers == ML_UI_MAX_PEERS)
    return p;
  p = &m->peers[m->n_peers++];
  memset(p, 0, sizeof *p);
  copy(p->id, sizeof p->id, ev->peer_id);
  copy(p->name, sizeof p->name, ev->peer_name);
  p->link_state = ML_CALL_LINK_NEW;
  p->media.camera_on = true; /* until the peer says otherwise */
  return p;
}

static void remove_peer(ml_ui_model *m, ml_ui_peer *p) {
  size_t i = (size_t)(p - m->peers);
  memmove(&m->peers[i], &m->peers[i + 1], (m->n_peers - i - 1) * sizeof *p);
  m->n_peers--;
}

static ml_ui_chat_msg *push_chat(ml_ui_model *m, const char *text, int64_t wall_s) {
  if (m->n_chat == ML_UI_MAX_CHAT) {
    free(m->chat[0].text);
    memmove(&m->chat[0], &m->chat[1], (ML_UI_MAX_CHAT - 1) * sizeof m->chat[0]);
    m->n_chat--;
  }
  ml_ui_chat_msg *c = &m->chat[m->n_chat];
  memset(c, 0, sizeof *c);
  size_t len = strlen(text);
  c->text = malloc(len + 1);
  if (!c->text)
    return NULL;
  memcpy(c->text, text, len + 1);
  c->wall_s = wall_s;
  m->n_chat++;
  m->chat_serial++;
  return c;
}

void ml_ui_model_add_outgoing(ml_ui_model *m, const char *text, int64_t wall_s) {
  ml_ui_chat_msg *c = push_chat(m, text, wall_s);
  if (c) {
    c->outgoing = true;
    copy(c->sender, sizeof c->sender, m->self_name[0] ? m->self_name : "You");
  }
}

/* CHAT_SENT: the newest outgoing message with this text not yet sent to
 * this peer takes the id; a message we did not type (e.g. --chat) is added. */
static void chat_sent(ml_ui_model *m, const ml_call_event *ev, int64_t wall_s) {
  const char *text = ev->text ? ev->text : "";
  ml_ui_chat_msg *c = NULL;
  for (size_t i = m->n_chat; i-- > 0 && !c;) {
    ml_ui_chat_msg *x = &m->chat[i];
    if (!x->outgoing || strcmp(x->text, text))
      continue;
    bool has = false;
    for (size_t k = 0; k < x->n_to; k++)
      has = has || !strcmp(x->to[k].peer_id, ev->peer_id);
    if (!has && x->n_to < ML_UI_MAX_RECIPIENTS)
      c = x;
  }
  if (!c) {
    ml_ui_model_add_outgoing(m, text, wall_s);
    if (!m->n_chat || !m->chat[m->n_chat - 1].outgoing)
      return;
    c = &m->chat[m->n_chat - 1];
  }
  copy(c->to[c->n_to].peer_id, sizeof c->to[0].peer_id, ev->peer_id);
  c->to[c->n_to].id = ev->id;
  c->to[c->n_to].delivered = false;
  c->n_to++;
}

static bool receipt(ml_ui_model *m, const ml_call_event *ev) {
  for (size_t i = m->n_chat; i-- > 0;)
    for (size_t k = 0; k < m->chat[i].n_to; k++)
      if (m->chat[i].to[k].id == ev->id && !strcmp(m->chat[i].to[k].peer_id, ev->peer_id)) {
        m->chat[i].to[k].delivered = true;
        return true;
      }
  return false;
}

ml_ui_delivery ml_ui_model_delivery(const ml_ui_chat_msg *msg) {
  if (!msg->n_to)
    return ML_UI_DELIVERY_SENDING;
  for (size_t k = 0; k < msg->n_to; k++)
    if (!msg->to[k].delivered)
      return ML_UI_DELIVERY_SENT;
  return ML_UI_DELIVERY_DELIVERED;
}

ml_ui_quality ml_ui_quality_from_stats(const ml_call_stats *s) {
  if (s->loss > 0.08 || s->rtt_ms > 400)
    return ML_UI_QUALITY_POOR;
  if (s->loss > 0.02 || s->rtt_ms > 200)
    return ML_UI_QUALITY_FAIR;
  return ML_UI_QUALITY_GOOD;
}

const char *ml_ui_quality_name(ml_ui_quality q) {
  switch (q) {
  case ML_UI_QUALITY_POOR: return "Poor";
  case ML_UI_QUALITY_FAIR: return "Fair";
  case ML_UI_QUALITY_GOOD: return "Good";
  default: return "Unknown";
  }
}

void ml_ui_model_remove_knock(ml_ui_model *m, const char *peer_id) {
  for (size_t i = 0; i < m->n_knocks; i++)
    if (!strcmp(m->knocks[i].id, peer_id)) {
      memmove(&m->knocks[i], &m->knocks[i + 1], (m->n_knocks - i - 1) * sizeof m->knocks[0]);
      m->n_knocks--;
      return;
    }
}

static bool add_knock(ml_ui_model *m, const ml_call_event *ev) {
  for (size_t i = 0; i < m->n_knocks; i++)
    if (!strcmp(m->knocks[i].id, ev->peer_id))
      return false;
  if (m->n_knocks == ML_UI_MAX_KNOCKS || !ev->peer_id[0])
    return false;
  copy(m->knocks[m->n_knocks].id, sizeof m->knocks[0].id, ev->peer_id);
  copy(m->knocks[m->n_knocks].name, sizeof m->knocks[0].name, ev->peer_name);
  m->n_knocks++;
  return true;
}

void ml_ui_model_set_chat_open(ml_ui_model *m, bool open) {
  m->chat_open = open;
  if (open)
    m->unread = 0;
}

static bool apply_session(ml_ui_model *m, const ml_call_event *ev, ml_ui_peer *p) {
  bool self = ev->peer_id[0] && !strcmp(ev->peer_id, m->self_id);
  switch (ev->session) {
  case ML_CALL_SESSION_ROLE:
    if (self)
      m->self_host = ev->on;
    else if (p)
      p->host = ev->on;
    return self || p;
  case ML_CALL_SESSION_HAND:
    if (self) {
      m->self_hand = ev->on;
      m->self_hand_ticket = ev->order;
    } else if (p) {
      p->hand = ev->on;
      p->hand_ticket = ev->order;
    }
    return self || p;
  case ML_CALL_SESSION_MUTED_BY_HOST:
    m->muted = true;
    m->muted_by_host = true;
    return true;
  case ML_CALL_SESSION_LOCKED: m->locked = ev->on; return true;
  case ML_CALL_SESSION_SPOTLIGHT: copy(m->spotlight, sizeof m->spotlight, ev->peer_id); return true;
  case ML_CALL_SESSION_CLOSED: copy(m->closed, sizeof m->closed, ev->text); return true;
  default: return false;
  }
}

void ml_ui_format_duration(int64_t ms, char *out, size_t cap) {
  int64_t s = ms > 0 ? ms / 1000 : 0;
  if (s >= 3600)
    snprintf(out, cap, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
             (long long)(s % 60));
  else
    snprintf(out, cap, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

void ml_ui_model_clock(const ml_ui_model *m, int64_t now_ms, char *out, size_t cap, bool *warn) {
  *warn = false;
  if (cap)
    out[0] = '\0';
  if (m->joined_at_ms < 0 || m->ended)
    return;
  char el[32], left[32];
  ml_ui_format_duration(now_ms - m->joined_at_ms, el, sizeof el);
  if (m->end_at_ms < 0) {
    snprintf(out, cap, "%s", el);
    return;
  }
  int64_t rem = m->end_at_ms - now_ms;
  /* Rounded up: "0:01 left" until the very end. */
  ml_ui_format_duration(rem > 0 ? rem + 999 : 0, left, sizeof left);
  *warn = rem <= ML_UI_END_WARNING_MS;
  snprintf(out, cap, "%s · %s left", el, left);
}

unsigned ml_ui_model_hand_place(const ml_ui_model *m, bool self, size_t peer) {
  uint64_t t = self ? (m->self_hand ? m->self_hand_ticket : 0)
                    : (peer < m->n_peers && m->peers[peer].hand ? m->peers[peer].hand_ticket : 0);
  if (!t)
    return 0;
  unsigned place = 1;
  if (m->self_hand && m->self_hand_ticket < t)
    place++;
  for (size_t i = 0; i < m->n_peers; i++)
    if (m->peers[i].hand && m->peers[i].hand_ticket < t)
      place++;
  return place;
}

bool ml_ui_model_apply(ml_ui_model *m, const ml_call_event *ev, int64_t now_ms, int64_t wall_s) {
  ml_ui_peer *p = ev->peer_id[0] ? ml_ui_model_peer(m, ev->peer_id) : NULL;
  switch (ev->type) {
  case ML_CALL_EV_SIGNALING: m->signaling = ev->state; return true;
  case ML_CALL_EV_JOINED:
    m->joined = true;
    if (m->joined_at_ms < 0) /* a reconnect keeps the call's clock */
      m->joined_at_ms = now_ms;
    copy(m->self_id, sizeof m->self_id, ev->peer_id);
    copy(m->self_name, sizeof m->self_name, ev->peer_name);
    copy(m->room, sizeof m->room, ev->text);
    return true;
  case ML_CALL_EV_PEER_JOINED:
    ml_ui_model_remove_knock(m, ev->peer_id);
    return add_peer(m, ev) != NULL;
  case ML_CALL_EV_PEER_REJOINED: /* the same peer under a new id: its tile, receipts, spotlight */
    if (!ev->text || !(p = ml_ui_model_peer(m, ev->text)))
      return false;
    copy(p->id, sizeof p->id, ev->peer_id);
    for (size_t i = 0; i < m->n_chat; i++)
      for (size_t k = 0; k < m->chat[i].n_to; k++)
        if (!strcmp(m->chat[i].to[k].peer_id, ev->text))
          copy(m->chat[i].to[k].peer_id, sizeof m->chat[i].to[k].peer_id, ev->peer_id);
    if (!strcmp(m->spotlight, ev->text))
      copy(m->spotlight, sizeof m->spotlight, ev->peer_id);
    return true;
  case ML_CALL_EV_KNOCK: return add_knock(m, ev);
  case ML_CALL_EV_PEER_LEFT:
    if (!p) {
      size_t before = m->n_knocks;
      ml_ui_model_remove_knock(m, ev->peer_id);
      return before != m->n_knocks;
    }
    copy(m->left_name, sizeof m->left_name, p->name);
    m->left_at_ms = now_ms;
    remove_peer(m, p);
    return true;
  case ML_CALL_EV_PEER_STATE:
    if (!p && !(p = add_peer(m, ev)))
      return false;
    p->link_state = ev->state;
    p->path = (ml_call_path)ev->path;
    return true;
  case ML_CALL_EV_VERIFIED:
    if (!p && !(p = add_peer(m, ev)))
      return false;
    p->secure = true;
    p->link_state = ML_CALL_LINK_SECURE;
    copy(p->sas, sizeof p->sas, ev->sas);
    copy(p->safety_number, sizeof p->safety_number, ev->safety_number);
    copy(p->fingerprint, sizeof p->fingerprint, ev->fingerprint);
    p->verified = ev->verified;
    if (ev->verified)
      p->identity_changed = false;
    return true;
  case ML_CALL_EV_IDENTITY_CHANGED:
    if (!p && !(p = add_peer(m, ev)))
      return false;
    p->identity_changed = true;
    p->verified = false;
    copy(p->old_fingerprint, sizeof p->old_fingerprint, ev->old_fingerprint);
    copy(p->fingerprint, sizeof p->fingerprint, ev->fingerprint);
    return true;
  case ML_CALL_EV_MARKED_VERIFIED:
    if (!p || ev->err)
      return false;
    p->verified = true;
    p->identity_changed = false;
    return true;
  case ML_CALL_EV_PEER_MEDIA:
    if (!p)
      return false;
    p->media_known = true;
    p->media = ev->media;
    return true;
  case ML_CALL_EV_STATS: {
    if (!p || ev->stats.final)
      return false;
    ml_ui_quality q = ml_ui_quality_from_stats(&ev->stats);
    bool changed = !p->have_stats || q != p->quality || ev->stats.path != p->path ||
                   ev->stats.video_paused != p->stats.video_paused;
    p->have_stats = true;
    p->stats = ev->stats;
    p->quality = q;
    p->path = (ml_call_path)ev->stats.path;
    return changed;
  }
  case ML_CALL_EV_CHAT: {
    ml_ui_chat_msg *c = push_chat(m, ev->text ? ev->text : "", wall_s);
    if (!c)
      return false;
    copy(c->sender, sizeof c->sender, ev->peer_name[0] ? ev->peer_name : "?");
    if (!m->chat_open)
      m->unread++;
    return true;
  }
  case ML_CALL_EV_CHAT_SENT: chat_sent(m, ev, wall_s); return true;
  case ML_CALL_EV_RECEIPT: return receipt(m, ev);
  case ML_CALL_EV_ERROR:
    if (!ev->fatal && ev->peer_id[0])
      return false; /* a peer's trouble shows as its link state */
    copy(m->error, sizeof m->error, ev->text ? ev->text : ml_strerror(ev->err));
    m->error_fatal = ev->fatal;
    return true;
  case ML_CALL_EV_SESSION: return apply_session(m, ev, p);
  case ML_CALL_EV_ENDED: m->ended = true; return true;
  }
  return false;
}

__attribute__((format(printf, 5, 6))) static void
banner(ml_ui_banner *out, size_t max, size_t *n, ml_ui_banner_kind kind, const char *fmt, ...) {
  if (*n >= max)
    return;
  out[*n].kind = kind;
  out[*n].knock_id[0] = '\0';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out[*n].text, sizeof out[*n].text, fmt, ap); /* long names are cut */
  va_end(ap);
  (*n)++;
}

size_t ml_ui_model_banners(const ml_ui_model *m, int64_t now_ms, ml_ui_banner *out, size_t max) {
  size_t n = 0;
  if (m->ended) {
    const char *why = !strcmp(m->closed, "denied")       ? "The host did not let you in."
                      : !strcmp(m->closed, "removed")    ? "The host removed you from the room."
                      : !strcmp(m->closed, "room_ended") ? "The host ended the session."
                      : m->error_fatal                   ? m->error
                                                         : "";
    banner(out, max, &n, ML_UI_BANNER_WARNING, "The call has ended. %s", why);
    return n;
  }
  if (m->end_at_ms >= 0 && m->joined && now_ms >= m->end_at_ms - ML_UI_END_WARNING_MS)
    banner(out, max, &n, ML_UI_BANNER_WARNING, "%s",
           "Less than a minute left: the session ends at its scheduled time");
  if (m->muted_by_host && m->muted)
    banner(out, max, &n, ML_UI_BANNER_WARNING, "%s",
           "Muted by the host: press Ctrl+D to unmute when you want to speak");
  if (m->error_fatal)
    banner(out, max, &n, ML_UI_BANNER_WARNING, "Error: %s", m->error);
  switch (m->signaling) {
  case ML_SIGNAL_RECONNECTING:
    banner(out, max, &n, ML_UI_BANNER_WARNING, "%s",
           "Connection to the server lost: reconnecting…");
    break;
  case ML_SIGNAL_WAITING:
    banner(out, max, &n, ML_UI_BANNER_INFO, "%s", "Waiting for the host to let you in…");
    break;
  case ML_SIGNAL_JOINED: break;
  case ML_SIGNAL_CLOSED: break;
  default:
    if (!m->joined)
      banner(out, max, &n, ML_UI_BANNER_INFO, "%s", "Connecting to the server…");
    break;
  }
  for (size_t i = 0; i < m->n_knocks && n < max; i++) {
    banner(out, max, &n, ML_UI_BANNER_INFO,
           "%s is waiting to join: click here or press Ctrl+Shift+A to let them in",
           m->knocks[i].name);
    copy(out[n - 1].knock_id, sizeof out[n - 1].knock_id, m->knocks[i].id);
  }
  for (size_t i = 0; i < m->n_peers; i++) {
    const ml_ui_peer *p = &m->peers[i];
    if (p->link_state == ML_CALL_LINK_FAILED)
      banner(out, max, &n, ML_UI_BANNER_WARNING, "Could not connect to %s", p->name);
    else if (!p->secure)
      banner(out, max, &n, ML_UI_BANNER_INFO, "Connecting to %s…", p->name);
  }
  /* Our one encoder serves every peer: any peer's stats say whether it is paused. */
  for (size_t i = 0; i < m->n_peers; i++)
    if (m->peers[i].have_stats && m->peers[i].stats.video_paused) {
      banner(out, max, &n, ML_UI_BANNER_WARNING, "%s",
             "Your video is paused: the connection is too slow (audio goes on)");
      break;
    }
  if (m->joined && !m->n_peers && m->signaling == ML_SIGNAL_JOINED)
    banner(out, max, &n, ML_UI_BANNER_INFO, "Waiting for others to join room %s", m->room);
  for (size_t i = 0; i < m->n_peers; i++) {
    const ml_ui_peer *p = &m->peers[i];
    if (p->secure && p->path == ML_CALL_PATH_RELAY)
      banner(out, max, &n, ML_UI_BANNER_INFO, "Relayed through a TURN server with %s", p->name);
    if (p->media_known && p->media.video_paused)
      banner(out, max, &n, ML_UI_BANNER_WARNING, "%s's video is paused: the connection is too slow",
             p->name);
  }
  if (m->left_at_ms >= 0 && now_ms - m->left_at_ms < ML_UI_PEER_LEFT_SHOW_MS)
    banner(out, max, &n, ML_UI_BANNER_INFO, "%s left the call", m->left_name);
  return n;
}

void ml_ui_initials(const char *name, char out[16]) {
  size_t o = 0;
  int words = 0;
  bool at_start = true;
  for (const unsigned char *s = (const unsigned char *)name; *s && words < 2;) {
    size_t len = *s < 0x80 ? 1 : (*s >> 5) == 6 ? 2 : (*s >> 4) == 14 ? 3 : (*s >> 3) == 30 ? 4 : 1;
    bool space = *s == ' ' || *s == '\t' || *s == '-' || *s == '_' || *s == '.';
    if (space) {
      at_start = true;
    } else if (at_start) {
      for (size_t k = 0; k < len && s[k] && o + 1 < 16; k++)
        out[o++] = (char)(len == 1 && s[k] >= 'a' && s[k] <= 'z' ? s[k] - 32 : s[k]);
      words++;
      at_start = false;
    }
    for (size_t k = 0; k < len && *s; k++)
      s++;
  }
  if (!o)
    out[o++] = '?';
  out[o] = '\0';
}

const ml_ui_peer *ml_ui_model_identity_alert(const ml_ui_model *m) {
  for (size_t i = 0; i < m->n_peers; i++)
    if (m->peers[i].identity_changed && !m->peers[i].verified)
      return &m->peers[i];
  return NULL;
}
