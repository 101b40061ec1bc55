/* libFuzzer target: signaling message parsing, token verification and
 * dispatch into the room state machine, with no sockets.
 *
 * Input: lines. The first byte of each line picks one of four connections,
 * the rest is one WebSocket text frame from it. Joins are authorised the way
 * the server does in open mode (room code; the creator hosts), tokens are
 * verified against a fixed secret. The sink checks every event's invariants
 * and serialises relayed payloads like the server does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "message.h"
#include "ml/signal_token.h"
#include "room.h"

#define NCONN 4

typedef struct fuzz_conn {
  ml_room_peer *peer;
  bool joined_once;
} fuzz_conn;

static fuzz_conn conns[NCONN];

static void sink(void *user, void *conn, const ml_room_event *ev) {
  (void)user;
  fuzz_conn *c = conn;
  if (c < conns || c >= conns + NCONN || !ev->room || !ev->subject)
    abort();
  if (ev->type == ML_ROOM_EV_SIGNAL) {
    char *text = json_to_string(ev->payload, FALSE);
    if (!text)
      abort();
    g_free(text);
  }
  if (ev->type == ML_ROOM_EV_WELCOME) {
    for (unsigned i = 0; i < ml_room_peer_count(ev->room); i++)
      if (!ml_room_peer_at(ev->room, i))
        abort();
  }
  if (ev->detach)
    c->peer = NULL;
}

static const uint8_t secret[] = "fuzz-secret-0123456789abcdef-0123456789";

static void dispatch(ml_room_registry *reg, int idx, ml_sig_msg *m) {
  fuzz_conn *c = &conns[idx];
  switch (m->type) {
  case ML_SIG_MSG_PING: return;
  case ML_SIG_MSG_JOIN: {
    if (c->peer || c->joined_once)
      return;
    const char *room = m->room ? m->room : "fuzz";
    const char *name = m->name ? m->name : "n";
    if (m->token) {
      ml_token_claims claims;
      int rc = ml_token_verify(secret, sizeof secret - 1, m->token, 1700000000, &claims);
      if (rc == ML_OK && !claims.room[0])
        abort();
      /* What a client reads of a token (its scheduled end), without the
       * MAC: the payload parser on any bytes. */
      if (ml_token_read_claims(m->token, &claims) == ML_OK &&
          (!claims.room[0] || !claims.name[0] ||
           (claims.not_before && claims.not_before >= claims.expiry)))
        abort();
    }
    uint8_t hash[32];
    const char *s = m->secret ? m->secret : "";
    crypto_generichash(hash, sizeof hash, (const unsigned char *)s, strlen(s), NULL, 0);
    ml_room_settings st = {.capacity = 2 + (unsigned)idx % 2,
                           .waiting_max = 2,
                           .auto_admit = (idx & 1) != 0,
                           .end_on_host_leave = strlen(name) % 2 == 0};
    char id[8];
    snprintf(id, sizeof id, "c%d", idx);
    ml_room_join_req req = {.room_id = room,
                            .peer_id = id,
                            .name = name,
                            .identity_key = m->identity_key,
                            .role = ml_room_registry_has_room(reg, room) ? ML_SIG_ROLE_PARTICIPANT
                                                                         : ML_SIG_ROLE_HOST,
                            .settings = &st,
                            .secret_hash = hash,
                            .conn = c};
    ml_room_peer *p = NULL;
    if (ml_room_join(reg, &req, &p) == ML_SIG_OK) {
      c->peer = p;
      c->joined_once = true;
    }
    return;
  }
  default: break;
  }
  if (!c->peer)
    return;
  switch (m->type) {
  case ML_SIG_MSG_LEAVE: {
    ml_room_peer *p = c->peer;
    c->peer = NULL;
    ml_room_leave(reg, p);
    return;
  }
  case ML_SIG_MSG_ADMIT: (void)ml_room_admit(reg, c->peer, m->peer); return;
  case ML_SIG_MSG_DENY: (void)ml_room_deny(reg, c->peer, m->peer); return;
  case ML_SIG_MSG_REMOVE: (void)ml_room_remove(reg, c->peer, m->peer); return;
  case ML_SIG_MSG_LOCK: (void)ml_room_set_locked(reg, c->peer, m->flag); return;
  case ML_SIG_MSG_AUTO_ADMIT: (void)ml_room_set_auto_admit(reg, c->peer, m->flag); return;
  case ML_SIG_MSG_SIGNAL: (void)ml_room_signal(reg, c->peer, m->peer, m->data); return;
  default: return;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (sodium_init() < 0)
    abort();
  memset(conns, 0, sizeof conns);
  ml_room_registry *reg = NULL;
  if (ml_room_registry_new(&reg, 2, sink, NULL) != ML_OK)
    abort();
  size_t pos = 0;
  while (pos < size) {
    const uint8_t *nl = memchr(data + pos, '\n', size - pos);
    size_t end = nl ? (size_t)(nl - data) : size;
    if (end > pos) {
      int idx = data[pos] % NCONN;
      const char *text = (const char *)data + pos + 1;
      size_t len = end - pos - 1;
      ml_sig_msg m;
      const char *detail = NULL;
      char *req_id = NULL;
      if (ml_sig_msg_parse(text, len, 4096, &m, &detail, &req_id) == ML_SIG_OK) {
        dispatch(reg, idx, &m);
        ml_sig_msg_clear(&m);
      } else if (!detail) {
        abort();
      }
      g_free(req_id);
    }
    pos = end + 1;
  }
  /* Connections closing: leave in order, like the server on disconnect. */
  for (int i = 0; i < NCONN; i++) {
    if (conns[i].peer) {
      ml_room_peer *p = conns[i].peer;
      conns[i].peer = NULL;
      ml_room_leave(reg, p);
    }
  }
  if (ml_room_registry_peer_count(reg) != 0 || ml_room_registry_room_count(reg) != 0)
    abort();
  ml_room_registry_free(reg);
  return 0;
}
