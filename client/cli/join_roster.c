/* mentorlink join: the room as the events tell it. See join_roster.h. */
#include "join_roster.h"

#include <stdio.h>
#include <string.h>

void ml_join_roster_init(ml_join_roster *r) {
  memset(r, 0, sizeof *r);
  r->members = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void ml_join_roster_clear(ml_join_roster *r) {
  if (r->members)
    g_hash_table_destroy(r->members);
  memset(r, 0, sizeof *r);
}

static ml_join_member *get(ml_join_roster *r, const char *id, const char *name) {
  if (!id[0])
    return NULL;
  ml_join_member *m = g_hash_table_lookup(r->members, id);
  if (!m) {
    m = g_new0(ml_join_member, 1);
    g_strlcpy(m->id, id, sizeof m->id);
    m->rtt_ms = -1;
    g_hash_table_insert(r->members, g_strdup(id), m);
  }
  if (name && name[0])
    g_strlcpy(m->name, name, sizeof m->name);
  return m;
}

static void on_session(ml_join_roster *r, const ml_call_event *ev) {
  ml_join_member *m = g_hash_table_lookup(r->members, ev->peer_id);
  switch (ev->session) {
  case ML_CALL_SESSION_ROLE:
    if (m)
      m->host = ev->on;
    break;
  case ML_CALL_SESSION_LOCKED: r->locked = ev->on; break;
  case ML_CALL_SESSION_HAND:
    if (m) {
      m->hand = ev->on;
      m->hand_ticket = ev->order;
    }
    break;
  case ML_CALL_SESSION_MUTED_BY_HOST: r->own_muted = true; break;
  case ML_CALL_SESSION_SPOTLIGHT: g_strlcpy(r->spotlight, ev->peer_id, sizeof r->spotlight); break;
  default: break;
  }
}

void ml_join_roster_apply(ml_join_roster *r, const ml_call_event *ev) {
  ml_join_member *m;
  switch (ev->type) {
  case ML_CALL_EV_JOINED: {
    /* After a reconnect our id is new and the knocks are stale; the peers
     * stay (the engine reports those it drops, and those back under a new
     * id: PEER_REJOINED). */
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, r->members);
    while (g_hash_table_iter_next(&it, NULL, &v))
      if (((ml_join_member *)v)->self || ((ml_join_member *)v)->waiting)
        g_hash_table_iter_remove(&it);
    g_strlcpy(r->self_id, ev->peer_id, sizeof r->self_id);
    m = get(r, ev->peer_id, ev->peer_name);
    m->self = true;
    m->secure = true;
    break;
  }
  case ML_CALL_EV_PEER_REJOINED: {
    gpointer key = NULL, val = NULL;
    if (ev->text && g_hash_table_steal_extended(r->members, ev->text, &key, &val)) {
      g_free(key);
      m = val;
      g_strlcpy(m->id, ev->peer_id, sizeof m->id);
      g_hash_table_replace(r->members, g_strdup(ev->peer_id), m);
    }
    break;
  }
  case ML_CALL_EV_PEER_JOINED:
    m = get(r, ev->peer_id, ev->peer_name);
    m->waiting = false;
    break;
  case ML_CALL_EV_KNOCK:
    m = get(r, ev->peer_id, ev->peer_name);
    m->waiting = true;
    break;
  case ML_CALL_EV_PEER_LEFT: g_hash_table_remove(r->members, ev->peer_id); break;
  case ML_CALL_EV_VERIFIED:
    if ((m = g_hash_table_lookup(r->members, ev->peer_id))) {
      m->secure = true;
      m->verified = ev->verified;
    }
    break;
  case ML_CALL_EV_MARKED_VERIFIED:
    if ((m = g_hash_table_lookup(r->members, ev->peer_id)) && !ev->err)
      m->verified = true;
    break;
  case ML_CALL_EV_PEER_MEDIA:
    if ((m = g_hash_table_lookup(r->members, ev->peer_id))) {
      m->have_media = true;
      m->muted = ev->media.muted;
      m->camera_on = ev->media.camera_on;
    }
    break;
  case ML_CALL_EV_STATS:
    if ((m = g_hash_table_lookup(r->members, ev->peer_id))) {
      m->have_stats = true;
      m->rtt_ms = ev->stats.rtt_ms;
      m->loss = ev->stats.loss;
    }
    break;
  case ML_CALL_EV_SESSION: on_session(r, ev); break;
  default: break;
  }
}

bool ml_join_roster_self_host(const ml_join_roster *r) {
  const ml_join_member *m = r->self_id[0] ? g_hash_table_lookup(r->members, r->self_id) : NULL;
  return m && m->host;
}

const ml_join_member *ml_join_roster_find(const ml_join_roster *r, const char *arg, bool waiting,
                                          bool self_ok, bool *ambiguous) {
  *ambiguous = false;
  const ml_join_member *m = g_hash_table_lookup(r->members, arg);
  if (m && m->waiting == waiting && (self_ok || !m->self))
    return m;
  const ml_join_member *found = NULL;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, r->members);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    const ml_join_member *x = v;
    if (x->waiting != waiting || (!self_ok && x->self) || strcmp(x->name, arg) != 0)
      continue;
    if (found) {
      *ambiguous = true;
      return NULL;
    }
    found = x;
  }
  return found;
}

static void duration(int64_t ms, char *out, size_t cap) {
  int64_t s = ms > 0 ? ms / 1000 : 0;
  if (s >= 3600)
    snprintf(out, cap, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
             (long long)(s % 60));
  else
    snprintf(out, cap, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

void ml_join_clock_text(int64_t elapsed_ms, int64_t left_ms, char *out, size_t cap) {
  char el[32], left[32];
  duration(elapsed_ms, el, sizeof el);
  if (left_ms < 0) {
    snprintf(out, cap, "Session: %s elapsed", el);
    return;
  }
  duration(left_ms + 999, left, sizeof left);
  snprintf(out, cap, "Session: %s elapsed, %s left", el, left);
}

const char *ml_join_quality(const ml_join_member *m) {
  if (!m->have_stats || m->rtt_ms < 0)
    return "unknown";
  if (m->rtt_ms < 150 && m->loss < 0.02)
    return "good";
  if (m->rtt_ms < 400 && m->loss < 0.10)
    return "fair";
  return "poor";
}

static gint by_self_then_name(gconstpointer a, gconstpointer b) {
  const ml_join_member *x = *(ml_join_member *const *)a, *y = *(ml_join_member *const *)b;
  if (x->self != y->self)
    return x->self ? -1 : 1;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->id, y->id);
}

static gint by_ticket(gconstpointer a, gconstpointer b) {
  const ml_join_member *x = *(ml_join_member *const *)a, *y = *(ml_join_member *const *)b;
  return x->hand_ticket < y->hand_ticket ? -1 : x->hand_ticket > y->hand_ticket;
}

char *ml_join_roster_format(const ml_join_roster *r) {
  GPtrArray *in = g_ptr_array_new(), *waiting = g_ptr_array_new(), *hands = g_ptr_array_new();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, r->members);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    ml_join_member *m = v;
    g_ptr_array_add(m->waiting ? waiting : in, m);
    if (!m->waiting && m->hand)
      g_ptr_array_add(hands, m);
  }
  g_ptr_array_sort(in, by_self_then_name);
  g_ptr_array_sort(waiting, by_self_then_name);
  g_ptr_array_sort(hands, by_ticket);
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "In the room (%u)%s:\n", in->len, r->locked ? ", locked" : "");
  for (guint i = 0; i < in->len; i++) {
    const ml_join_member *m = in->pdata[i];
    unsigned place = 0;
    for (guint h = 0; h < hands->len; h++)
      if (hands->pdata[h] == m)
        place = h + 1;
    g_string_append_printf(s, "  %s%s  [%s]", m->name, m->self ? " (you)" : "",
                           m->host ? "host" : "participant");
    if (!m->self) {
      g_string_append_printf(s, "  mic %s, camera %s, %s, %s, connection %s",
                             !m->have_media ? "?"
                             : m->muted     ? "muted"
                                            : "on",
                             !m->have_media ? "?"
                             : m->camera_on ? "on"
                                            : "off",
                             m->verified ? "verified" : "not verified",
                             m->secure ? "encrypted" : "connecting", ml_join_quality(m));
    }
    if (place)
      g_string_append_printf(s, "  hand raised (#%u)", place);
    if (r->spotlight[0] && !strcmp(r->spotlight, m->id))
      g_string_append(s, "  spotlight");
    g_string_append_printf(s, "  id %s\n", m->id);
  }
  if (ml_join_roster_self_host(r)) {
    g_string_append_printf(s, "Waiting (%u)%s\n", waiting->len,
                           waiting->len ? ": /admit NAME or /deny NAME" : "");
    for (guint i = 0; i < waiting->len; i++) {
      const ml_join_member *m = waiting->pdata[i];
      g_string_append_printf(s, "  %s  id %s\n", m->name, m->id);
    }
  }
  g_ptr_array_free(in, TRUE);
  g_ptr_array_free(waiting, TRUE);
  g_ptr_array_free(hands, TRUE);
  return g_string_free(s, FALSE);
}
