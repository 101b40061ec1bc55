/* One side of the NAT/TURN test (nat.turn_relay): one ml_peer_link in this
 * process, so that each side can run in its own network namespace
 * (`ip netns exec <home> peer_link_nat_peer ...`).
 *
 * Signaling stand-in: a Unix-domain stream socket at --rendezvous (a path in
 * the filesystem, which all network namespaces share). The peer whose name
 * sorts first (the ICE controlling side, as ml_peer_link decides) listens;
 * the other connects, retrying until the deadline. Lines of text, each at
 * most LINE_MAX bytes:
 *   cred <ufrag> <pwd>        local ICE credentials (first line)
 *   cand <a=candidate:...>    one local candidate (trickle)
 *   done                      end of local candidates
 *   secure <sas>              this side's link is secure
 *   finished                  this side received everything it waits for
 *   fail <reason>             this side gives up
 * Once both sides are secure each sends --datagrams CONTROL datagrams and one
 * chat message; a side is finished when all datagrams, the chat message and
 * the receipt for its own message arrived. It exits 0 when both sides are
 * finished, and prints one JSON line of results on stdout in every case.
 *
 * TURN: --turn IP:PORT (and --turn-transport udp|tcp|tls) with the REST
 * credentials in the environment (ML_TURN_USER "expiry:user", ML_TURN_PASS
 * base64(HMAC-SHA1(secret, user))) so they do not show in the process list.
 * --stun IP:PORT for srflx.
 *
 * Every wait is bounded by --timeout-ms (default 30 s): on expiry the JSON
 * line says what was missing and the exit status is 1. */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib.h>
#include <sodium.h>

#include "ml/peer_link.h"

#define LINE_MAX_LEN 2048
#define RX_MAX (64 * 1024)  /* bound on unparsed rendezvous input */
#define CONNECT_RETRY_MS 50 /* connector retries until the listener is there */
#define DATAGRAMS_MAX 10000
#define PEER_FAIL_GRACE_MS 3000 /* after the peer gave up, wait this long for our own verdict */
#define CLOSE_WAIT_MS 2000      /* at the end, for the agent's TURN release */

typedef struct cand_count {
  unsigned host, srflx, prflx, relay;
} cand_count;

typedef struct peer {
  /* options */
  char *name, *peer_name, *room, *rendezvous, *local_address; /* from GOption: g_free */
  char *turn_ip, *stun_ip;
  guint16 turn_port, stun_port;
  ml_peer_link_relay_transport turn_transport;
  unsigned datagrams, timeout_ms;
  /* machinery */
  GMainContext *ctx;
  ml_identity *id;
  ml_peer_link *link;
  GSocket *listener, *sock;
  GSource *accept_src, *read_src, *retry_src, *deadline_src, *grace_src;
  GByteArray *rx;
  bool controlling, listening;
  /* progress */
  gint64 t0;
  double ms_connected, ms_ready, ms_secure, ms_finished;
  bool local_done, remote_done, ready, secure, peer_secure, sent, finished, peer_finished;
  bool ice_failed, stop, ok;
  NiceComponentState ice_state;
  cand_count local, remote;
  unsigned dgrams_rx, dgrams_bad, chat_rx, chat_bad, receipts;
  uint64_t chat_id;
  char sas[ML_SAS_TEXT_LEN], peer_sas[ML_SAS_TEXT_LEN];
  char safety[ML_SAFETY_NUMBER_TEXT_LEN];
  char error[512], peer_error[512];
} peer;

static double ms_since(const peer *p) { return (double)(g_get_monotonic_time() - p->t0) / 1000.0; }

static const char *ice_state_name(NiceComponentState s) {
  return nice_component_state_to_string(s);
}

static const char *path_name(ml_peer_link_path path) {
  switch (path) {
  case ML_PEER_LINK_PATH_HOST: return "host";
  case ML_PEER_LINK_PATH_SRFLX: return "srflx";
  case ML_PEER_LINK_PATH_RELAY: return "relay";
  case ML_PEER_LINK_PATH_NONE: break;
  }
  return "none";
}

/* Stops the main loop; the first reason given is the one reported. */
static void give_up(peer *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void send_line(peer *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void send_line(peer *p, const char *fmt, ...) {
  if (!p->sock)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *body = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  char *line = g_strconcat(body, "\n", NULL);
  g_free(body);
  /* Lines are short and the socket is blocking with a timeout: a stuck peer
   * costs at most that timeout, never a hang. */
  size_t len = strlen(line), off = 0;
  while (off < len) {
    GError *err = NULL;
    gssize n = g_socket_send(p->sock, line + off, len - off, NULL, &err);
    if (n <= 0) {
      char *why = g_strdup(err ? err->message : "short write");
      g_clear_error(&err);
      g_clear_object(&p->sock); /* no further lines */
      give_up(p, "rendezvous: cannot send to the peer: %s", why);
      g_free(why);
      break;
    }
    off += (size_t)n;
  }
  g_free(line);
}

static void give_up(peer *p, const char *fmt, ...) {
  if (!p->error[0]) {
    va_list ap;
    va_start(ap, fmt);
    g_vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    g_strdelimit(p->error, "\r\n", ' '); /* one rendezvous line, one log line */
    fprintf(stderr, "%s: %s\n", p->name, p->error);
    send_line(p, "fail %s", p->error);
  }
  p->stop = true;
}

static void count_candidate(cand_count *c, const char *sdp) {
  const char *t = strstr(sdp, " typ ");
  if (!t)
    return;
  t += 5;
  if (g_str_has_prefix(t, "host"))
    c->host++;
  else if (g_str_has_prefix(t, "srflx"))
    c->srflx++;
  else if (g_str_has_prefix(t, "prflx"))
    c->prflx++;
  else if (g_str_has_prefix(t, "relay"))
    c->relay++;
}

/* ---- the exchange once secure ---------------------------------------- */

static void check_finished(peer *p) {
  if (!p->finished && p->sent && p->dgrams_rx == p->datagrams && p->chat_rx == 1 &&
      p->receipts == 1) {
    p->finished = true;
    p->ms_finished = ms_since(p);
    send_line(p, "finished");
  }
  if (p->finished && p->peer_finished) {
    p->ok = true;
    p->stop = true;
  }
}

static void send_all(peer *p) {
  if (p->sent || !p->secure || !p->peer_secure)
    return;
  p->sent = true;
  for (unsigned i = 0; i < p->datagrams; i++) {
    char msg[64];
    int n = snprintf(msg, sizeof msg, "datagram %u from %s", i, p->name);
    int err = ml_peer_link_send(p->link, ML_INNER_CONTROL, (const uint8_t *)msg, (size_t)n);
    if (err) {
      give_up(p, "sending datagram %u failed: %s", i, ml_strerror(err));
      return;
    }
  }
  char chat[128];
  int n = snprintf(chat, sizeof chat, "hello from %s, through the NAT", p->name);
  int err = ml_peer_link_send_message(p->link, (const uint8_t *)chat, (size_t)n, &p->chat_id);
  if (err)
    give_up(p, "sending the chat message failed: %s", ml_strerror(err));
  check_finished(p);
}

/* ---- peer link callbacks ---------------------------------------------- */

static void on_candidate(ml_peer_link *link, const char *sdp, void *user) {
  (void)link;
  peer *p = user;
  count_candidate(&p->local, sdp);
  send_line(p, "cand %s", sdp);
}

static void on_gathering_done(ml_peer_link *link, void *user) {
  (void)link;
  peer *p = user;
  p->local_done = true;
  send_line(p, "done");
}

static void ice_failed_if_final(peer *p) {
  /* With trickle ICE libnice may only be sure once both candidate lists are
   * complete; FAILED then is final for this link. */
  if (p->ice_state != NICE_COMPONENT_STATE_FAILED || !p->local_done || !p->remote_done)
    return;
  p->ice_failed = true;
  give_up(p,
          "ICE failed: no candidate pair connected (local candidates: %u host, %u srflx, %u "
          "relay; remote: %u host, %u srflx, %u relay)%s",
          p->local.host, p->local.srflx, p->local.relay, p->remote.host, p->remote.srflx,
          p->remote.relay,
          p->local.relay ? ""
                         : "; no relay candidate was gathered: the TURN server refused the "
                           "allocation (wrong or expired credentials?) or is unreachable");
}

static void on_ice_state(ml_peer_link *link, NiceComponentState st, void *user) {
  (void)link;
  peer *p = user;
  p->ice_state = st;
  fprintf(stderr, "%s: %.0f ms: ICE %s\n", p->name, ms_since(p), ice_state_name(st));
  if (st == NICE_COMPONENT_STATE_READY && !p->ready) {
    p->ready = true;
    p->ms_ready = ms_since(p);
  }
  ice_failed_if_final(p);
}

static void on_secure(ml_peer_link *link, const ml_peer_link_verification *v, void *user) {
  peer *p = user;
  p->secure = true;
  p->ms_secure = ms_since(p);
  g_strlcpy(p->sas, v->sas, sizeof p->sas);
  g_strlcpy(p->safety, v->safety_number, sizeof p->safety);
  ml_peer_link_stats st;
  ml_peer_link_get_stats(link, &st);
  fprintf(stderr, "%s: %.0f ms: secure over a %s path, SAS \"%s\"\n", p->name, p->ms_secure,
          path_name(st.path), p->sas);
  send_line(p, "secure %s", p->sas);
  send_all(p);
}

static void on_datagram(ml_peer_link *link, ml_inner_type type, const uint8_t *payload, size_t len,
                        void *user) {
  (void)link;
  peer *p = user;
  char expect[64];
  int n = snprintf(expect, sizeof expect, "datagram %u from %s", p->dgrams_rx, p->peer_name);
  if (type == ML_INNER_CONTROL && len == (size_t)n && memcmp(payload, expect, len) == 0)
    p->dgrams_rx++;
  else
    p->dgrams_bad++; /* lost, reordered or wrong: reported, and never "finished" */
  check_finished(p);
}

static void on_message(ml_peer_link *link, uint64_t id, const uint8_t *bytes, size_t len,
                       void *user) {
  (void)link;
  (void)id;
  peer *p = user;
  char expect[128];
  int n = snprintf(expect, sizeof expect, "hello from %s, through the NAT", p->peer_name);
  if (len == (size_t)n && memcmp(bytes, expect, len) == 0)
    p->chat_rx++;
  else
    p->chat_bad++;
  check_finished(p);
}

static void on_receipt(ml_peer_link *link, uint64_t id, void *user) {
  (void)link;
  peer *p = user;
  if (id == p->chat_id)
    p->receipts++;
  check_finished(p);
}

static void on_error(ml_peer_link *link, int err, const char *what, void *user) {
  (void)link;
  peer *p = user;
  give_up(p, "peer link failed: %s (%s)", what, ml_strerror(err));
}

/* ---- rendezvous -------------------------------------------------------- */

static gboolean on_peer_fail_grace(gpointer data) {
  peer *p = data;
  p->grace_src = NULL;
  give_up(p, "the peer gave up: %s", p->peer_error);
  return G_SOURCE_REMOVE;
}

static void handle_line(peer *p, char *line) {
  int err = ML_OK;
  if (g_str_has_prefix(line, "cred ")) {
    char **f = g_strsplit(line + 5, " ", 3);
    if (g_strv_length(f) == 2)
      err = ml_peer_link_set_remote_credentials(p->link, f[0], f[1]);
    else
      err = ML_ERR_PROTOCOL;
    g_strfreev(f);
    if (err)
      give_up(p, "the peer's ICE credentials were refused: %s", ml_strerror(err));
  } else if (g_str_has_prefix(line, "cand ")) {
    count_candidate(&p->remote, line + 5);
    if ((err = ml_peer_link_add_remote_candidate(p->link, line + 5)) != ML_OK)
      give_up(p, "the peer's candidate \"%s\" was refused: %s", line + 5, ml_strerror(err));
  } else if (strcmp(line, "done") == 0) {
    p->remote_done = true;
    ml_peer_link_remote_gathering_done(p->link);
    ice_failed_if_final(p);
  } else if (g_str_has_prefix(line, "secure ")) {
    p->peer_secure = true;
    g_strlcpy(p->peer_sas, line + 7, sizeof p->peer_sas);
    send_all(p);
  } else if (strcmp(line, "finished") == 0) {
    p->peer_finished = true;
    check_finished(p);
  } else if (g_str_has_prefix(line, "fail ")) {
    g_strlcpy(p->peer_error, line + 5, sizeof p->peer_error);
    /* Our own reason (e.g. ICE failing here too, a moment later) is the
     * better one to report: wait for it, but not beyond PEER_FAIL_GRACE_MS. */
    if (!p->grace_src && !p->stop) {
      p->grace_src = g_timeout_source_new(PEER_FAIL_GRACE_MS);
      g_source_set_callback(p->grace_src, on_peer_fail_grace, p, NULL);
      g_source_attach(p->grace_src, p->ctx);
      g_source_unref(p->grace_src);
    }
  } else {
    give_up(p, "rendezvous: unexpected line \"%.64s\"", line);
  }
}

static gboolean on_readable(GSocket *s, GIOCondition cond, gpointer data) {
  (void)cond;
  peer *p = data;
  char buf[4096];
  GError *err = NULL;
  gssize n = g_socket_receive_with_blocking(s, buf, sizeof buf, FALSE, NULL, &err);
  /* The socket's timeout (for sends) also wakes this source after idle
   * periods; that is not an error. */
  if (n < 0 && (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ||
                g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))) {
    g_error_free(err);
    return G_SOURCE_CONTINUE;
  }
  if (n <= 0) {
    /* After a "fail" line the grace timer reports; otherwise this is news. */
    if (!p->stop && !p->peer_error[0])
      give_up(p, "rendezvous: the peer closed the connection%s%s", err ? ": " : " (it exited)",
              err ? err->message : "");
    g_clear_error(&err);
    p->read_src = NULL;
    return G_SOURCE_REMOVE;
  }
  if (p->rx->len + (guint)n > RX_MAX) {
    give_up(p, "rendezvous: more than %d bytes without a newline", RX_MAX);
    p->read_src = NULL;
    return G_SOURCE_REMOVE;
  }
  g_byte_array_append(p->rx, (const guint8 *)buf, (guint)n);
  for (;;) {
    guint8 *nl = memchr(p->rx->data, '\n', p->rx->len);
    if (!nl)
      break;
    size_t len = (size_t)(nl - p->rx->data);
    if (len > LINE_MAX_LEN) {
      give_up(p, "rendezvous: a line of %zu bytes (at most %d)", len, LINE_MAX_LEN);
      break;
    }
    char *line = g_strndup((const char *)p->rx->data, len);
    g_byte_array_remove_range(p->rx, 0, (guint)len + 1);
    handle_line(p, line);
    g_free(line);
  }
  return G_SOURCE_CONTINUE;
}

static void start_link(peer *p) {
  p->ms_connected = ms_since(p);
  g_socket_set_blocking(p->sock, TRUE);
  g_socket_set_timeout(p->sock, 5); /* seconds, for sends; receives go through the source */
  p->read_src = g_socket_create_source(p->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback(p->read_src, (GSourceFunc)(void (*)(void))on_readable, p, NULL);
  g_source_attach(p->read_src, p->ctx);
  g_source_unref(p->read_src); /* the context holds it; read_src is a weak handle */

  ml_peer_link_turn turn = {.server = p->turn_ip,
                            .port = p->turn_port,
                            .username = g_getenv("ML_TURN_USER"),
                            .password = g_getenv("ML_TURN_PASS"),
                            .transport = p->turn_transport};
  const char *locals[1] = {p->local_address};
  ml_peer_link_config cfg = {
      .context = p->ctx,
      .identity = p->id,
      .local_peer_id = p->name,
      .remote_peer_id = p->peer_name,
      .room_id = p->room,
      .stun_server = p->stun_ip,
      .stun_port = p->stun_port,
      .turn = &turn,
      .n_turn = p->turn_ip ? 1 : 0,
      .local_addresses = locals,
      .n_local_addresses = p->local_address ? 1 : 0,
      .callbacks = {.on_candidate = on_candidate,
                    .on_gathering_done = on_gathering_done,
                    .on_ice_state = on_ice_state,
                    .on_secure = on_secure,
                    .on_datagram = on_datagram,
                    .on_message = on_message,
                    .on_receipt = on_receipt,
                    .on_error = on_error,
                    .user = p},
  };
  int err = ml_peer_link_new(&p->link, &cfg);
  if (err) {
    give_up(p, "ml_peer_link_new: %s", ml_strerror(err));
    return;
  }
  char ufrag[ML_PEER_LINK_MAX_UFRAG + 1], pwd[ML_PEER_LINK_MAX_PWD + 1];
  if ((err = ml_peer_link_local_credentials(p->link, ufrag, sizeof ufrag, pwd, sizeof pwd))) {
    give_up(p, "local ICE credentials: %s", ml_strerror(err));
    return;
  }
  send_line(p, "cred %s %s", ufrag, pwd);
  if ((err = ml_peer_link_start(p->link)))
    give_up(p, "ml_peer_link_start: %s", ml_strerror(err));
}

static gboolean on_accept(GSocket *s, GIOCondition cond, gpointer data) {
  (void)cond;
  peer *p = data;
  GError *err = NULL;
  p->sock = g_socket_accept(s, NULL, &err);
  if (!p->sock) {
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free(err);
      return G_SOURCE_CONTINUE;
    }
    give_up(p, "rendezvous: accept: %s", err->message);
    g_error_free(err);
    p->accept_src = NULL;
    return G_SOURCE_REMOVE;
  }
  p->accept_src = NULL;
  start_link(p);
  return G_SOURCE_REMOVE; /* one peer */
}

static gboolean try_connect(gpointer data) {
  peer *p = data;
  GError *err = NULL;
  GSocket *s = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &err);
  if (!s) {
    give_up(p, "rendezvous: socket: %s", err->message);
    g_error_free(err);
    p->retry_src = NULL;
    return G_SOURCE_REMOVE;
  }
  GSocketAddress *a = g_unix_socket_address_new(p->rendezvous);
  gboolean ok = g_socket_connect(s, a, NULL, &err);
  g_object_unref(a);
  if (!ok) {
    /* Not there yet (the listener starts at the same time): retry until the
     * deadline, which ends the loop. */
    bool transient = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
                     g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
    if (!transient)
      give_up(p, "rendezvous: connect to %s: %s", p->rendezvous, err->message);
    g_error_free(err);
    g_object_unref(s);
    if (transient)
      return G_SOURCE_CONTINUE;
    p->retry_src = NULL;
    return G_SOURCE_REMOVE;
  }
  p->sock = s;
  p->retry_src = NULL;
  start_link(p);
  return G_SOURCE_REMOVE;
}

static bool open_rendezvous(peer *p) {
  GError *err = NULL;
  if (!p->controlling) {
    p->retry_src = g_timeout_source_new(CONNECT_RETRY_MS);
    g_source_set_callback(p->retry_src, try_connect, p, NULL);
    g_source_attach(p->retry_src, p->ctx);
    g_source_unref(p->retry_src);
    return true;
  }
  p->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &err);
  GSocketAddress *a = g_unix_socket_address_new(p->rendezvous);
  bool ok = p->listener && g_socket_bind(p->listener, a, FALSE, &err) &&
            g_socket_listen(p->listener, &err);
  g_object_unref(a);
  if (!ok) {
    fprintf(stderr, "%s: rendezvous: cannot listen on %s: %s\n", p->name, p->rendezvous,
            err ? err->message : "?");
    g_clear_error(&err);
    return false;
  }
  p->listening = true;
  g_socket_set_blocking(p->listener, FALSE);
  p->accept_src = g_socket_create_source(p->listener, G_IO_IN, NULL);
  g_source_set_callback(p->accept_src, (GSourceFunc)(void (*)(void))on_accept, p, NULL);
  g_source_attach(p->accept_src, p->ctx);
  g_source_unref(p->accept_src);
  return true;
}

static gboolean on_deadline(gpointer data) {
  peer *p = data;
  p->deadline_src = NULL;
  give_up(p,
          "timed out after %u ms: rendezvous %s, ICE %s, %s; local candidates %u host, %u srflx, "
          "%u relay; %u/%u datagrams, %u/1 chat, %u/1 receipt, peer %s",
          p->timeout_ms, p->sock ? "connected" : "never connected", ice_state_name(p->ice_state),
          p->secure ? "secure" : "not secure", p->local.host, p->local.srflx, p->local.relay,
          p->dgrams_rx, p->datagrams, p->chat_rx, p->receipts,
          p->peer_finished ? "finished"
          : p->peer_secure ? "secure"
                           : "not secure");
  return G_SOURCE_REMOVE;
}

/* ---- results ------------------------------------------------------------ */

static void json_str(GString *out, const char *key, const char *v) {
  g_string_append_printf(out, "\"%s\":", key);
  if (!v) {
    g_string_append(out, "null,");
    return;
  }
  g_string_append_c(out, '"');
  for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
    if (*c == '"' || *c == '\\')
      g_string_append_printf(out, "\\%c", *c);
    else if (*c < 0x20)
      g_string_append_printf(out, "\\u%04x", *c);
    else
      g_string_append_c(out, (char)*c);
  }
  g_string_append(out, "\",");
}

static void print_result(peer *p) {
  ml_peer_link_stats st = {0};
  if (p->link)
    ml_peer_link_get_stats(p->link, &st);
  GString *o = g_string_new("{");
  json_str(o, "peer", p->name);
  g_string_append_printf(o, "\"ok\":%s,", p->ok ? "true" : "false");
  json_str(o, "path", p->secure ? path_name(st.path) : NULL);
  json_str(o, "ice_state", ice_state_name(p->ice_state));
  json_str(o, "sas", p->secure ? p->sas : NULL);
  json_str(o, "peer_sas", p->peer_sas[0] ? p->peer_sas : NULL);
  json_str(o, "safety_number", p->secure ? p->safety : NULL);
  g_string_append_printf(o, "\"datagrams_sent\":%u,\"datagrams_received\":%u,",
                         p->sent ? p->datagrams : 0, p->dgrams_rx);
  g_string_append_printf(o, "\"datagrams_bad\":%u,", p->dgrams_bad);
  g_string_append_printf(o, "\"chat_received\":%s,\"chat_receipt\":%s,",
                         p->chat_rx == 1 && !p->chat_bad ? "true" : "false",
                         p->receipts == 1 ? "true" : "false");
  g_string_append_printf(o,
                         "\"local_candidates\":{\"host\":%u,\"srflx\":%u,\"relay\":%u},"
                         "\"remote_candidates\":{\"host\":%u,\"srflx\":%u,\"relay\":%u},",
                         p->local.host, p->local.srflx, p->local.relay, p->remote.host,
                         p->remote.srflx, p->remote.relay);
  g_string_append_printf(o,
                         "\"ms_rendezvous\":%.0f,\"ms_ice_ready\":%.0f,\"ms_secure\":%.0f,"
                         "\"ms_finished\":%.0f,\"ms_total\":%.0f,",
                         p->ms_connected, p->ms_ready, p->ms_secure, p->ms_finished, ms_since(p));
  g_string_append_printf(o, "\"handshake_retransmits\":%llu,\"send_failures\":%llu,",
                         (unsigned long long)st.handshake_retransmits,
                         (unsigned long long)st.send_failures);
  json_str(o, "error", p->error[0] ? p->error : NULL);
  g_string_truncate(o, o->len - 1); /* the last comma */
  g_string_append(o, "}\n");
  fputs(o->str, stdout);
  fflush(stdout);
  g_string_free(o, TRUE);
}

/* ---- main --------------------------------------------------------------- */

static bool parse_endpoint(const char *s, char **ip, guint16 *port) {
  const char *colon = strrchr(s, ':');
  if (!colon)
    return false;
  char *end = NULL;
  unsigned long v = strtoul(colon + 1, &end, 10);
  if (!*(colon + 1) || *end || v == 0 || v > 65535)
    return false;
  *ip = g_strndup(s, (gsize)(colon - s));
  *port = (guint16)v;
  return true;
}

static void set_true(void *flag) { *(bool *)flag = true; }

static gboolean set_true_once(gpointer flag) {
  set_true(flag);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  peer p = {0};
  char *turn = NULL, *stun = NULL, *transport = NULL;
  int datagrams = 50, timeout_ms = 30000;
  GOptionEntry entries[] = {
      {"name", 0, 0, G_OPTION_ARG_STRING, &p.name, "this peer's id (required)", "ID"},
      {"peer", 0, 0, G_OPTION_ARG_STRING, &p.peer_name, "the other peer's id (required)", "ID"},
      {"room", 0, 0, G_OPTION_ARG_STRING, &p.room, "room id (bound into the handshake)", "ROOM"},
      {"rendezvous", 0, 0, G_OPTION_ARG_FILENAME, &p.rendezvous,
       "Unix socket path shared by both peers (required)", "PATH"},
      {"turn", 0, 0, G_OPTION_ARG_STRING, &turn,
       "TURN server (UDP); credentials from ML_TURN_USER/ML_TURN_PASS", "IP:PORT"},
      {"turn-transport", 0, 0, G_OPTION_ARG_STRING, &transport,
       "udp (default), tcp or tls (no certificate check: libnice does none)", "T"},
      {"stun", 0, 0, G_OPTION_ARG_STRING, &stun, "STUN server", "IP:PORT"},
      {"local-address", 0, 0, G_OPTION_ARG_STRING, &p.local_address,
       "gather host candidates on this address only", "IP"},
      {"datagrams", 0, 0, G_OPTION_ARG_INT, &datagrams, "datagrams to send (default 50)", "N"},
      {"timeout-ms", 0, 0, G_OPTION_ARG_INT, &timeout_ms, "overall deadline (default 30000)", "MS"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  GOptionContext *oc = g_option_context_new("- one side of the NAT/TURN peer link test");
  g_option_context_add_main_entries(oc, entries, NULL);
  GError *gerr = NULL;
  if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
    fprintf(stderr, "peer_link_nat_peer: %s\n", gerr->message);
    return 2;
  }
  g_option_context_free(oc);
  if (!p.name || !p.peer_name || !p.rendezvous || strcmp(p.name, p.peer_name) == 0 ||
      datagrams < 0 || datagrams > DATAGRAMS_MAX || timeout_ms <= 0) {
    /* Usage errors exit at once: the process ends here. */
    fprintf(stderr,
            "peer_link_nat_peer: --name, --peer (different) and --rendezvous are "
            "required; 0 <= --datagrams <= %d; --timeout-ms > 0\n",
            DATAGRAMS_MAX);
    return 2;
  }
  if (!p.room)
    p.room = g_strdup("nat-test-room");
  p.datagrams = (unsigned)datagrams;
  p.timeout_ms = (unsigned)timeout_ms;
  if ((turn && !parse_endpoint(turn, &p.turn_ip, &p.turn_port)) ||
      (stun && !parse_endpoint(stun, &p.stun_ip, &p.stun_port))) {
    fprintf(stderr, "peer_link_nat_peer: --turn/--stun take IP:PORT\n");
    return 2;
  }
  if (!transport || strcmp(transport, "udp") == 0)
    p.turn_transport = ML_PEER_LINK_TURN_UDP;
  else if (strcmp(transport, "tcp") == 0)
    p.turn_transport = ML_PEER_LINK_TURN_TCP;
  else if (strcmp(transport, "tls") == 0)
    p.turn_transport = ML_PEER_LINK_TURN_TLS;
  else {
    fprintf(stderr, "peer_link_nat_peer: --turn-transport: udp, tcp or tls\n");
    return 2;
  }
  g_free(transport);
  if (p.turn_ip && (!g_getenv("ML_TURN_USER") || !g_getenv("ML_TURN_PASS"))) {
    fprintf(stderr, "peer_link_nat_peer: --turn needs ML_TURN_USER and ML_TURN_PASS\n");
    return 2;
  }
  if (sodium_init() < 0 || ml_identity_generate(&p.id) != ML_OK) {
    fprintf(stderr, "peer_link_nat_peer: cannot generate an identity\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  p.controlling = ml_peer_link_is_controlling(p.name, p.peer_name);
  p.t0 = g_get_monotonic_time();
  p.ctx = g_main_context_new();
  p.rx = g_byte_array_new();
  p.ice_state = NICE_COMPONENT_STATE_DISCONNECTED;

  if (open_rendezvous(&p)) {
    p.deadline_src = g_timeout_source_new(p.timeout_ms);
    g_source_set_callback(p.deadline_src, on_deadline, &p, NULL);
    g_source_attach(p.deadline_src, p.ctx);
    g_source_unref(p.deadline_src);
    while (!p.stop)
      g_main_context_iteration(p.ctx, TRUE);
  } else {
    g_strlcpy(p.error, "rendezvous: cannot listen", sizeof p.error);
  }
  print_result(&p);

  /* Tear down in order: sources, the link (libnice), the sockets. */
  if (p.deadline_src)
    g_source_destroy(p.deadline_src);
  if (p.retry_src)
    g_source_destroy(p.retry_src);
  if (p.grace_src)
    g_source_destroy(p.grace_src);
  if (p.accept_src)
    g_source_destroy(p.accept_src);
  if (p.read_src)
    g_source_destroy(p.read_src);
  /* The agent releases its TURN allocation first: wait for that (bounded by
   * a timer), then let libnice finish what it scheduled (bounded). */
  bool closed = false, expired = false;
  ml_peer_link_close(p.link, set_true, &closed);
  GSource *limit = g_timeout_source_new(CLOSE_WAIT_MS);
  g_source_set_callback(limit, set_true_once, &expired, NULL);
  g_source_attach(limit, p.ctx);
  while (!closed && !expired)
    g_main_context_iteration(p.ctx, TRUE);
  g_source_destroy(limit);
  g_source_unref(limit);
  for (int i = 0; i < 100 && g_main_context_iteration(p.ctx, FALSE); i++)
    ;
  if (p.sock)
    g_socket_close(p.sock, NULL);
  g_clear_object(&p.sock);
  g_clear_object(&p.listener);
  if (p.listening)
    unlink(p.rendezvous);
  g_byte_array_free(p.rx, TRUE);
  ml_identity_free(p.id);
  g_main_context_unref(p.ctx);
  g_free(p.turn_ip);
  g_free(p.stun_ip);
  g_free(turn);
  g_free(stun);
  g_free(p.name);
  g_free(p.peer_name);
  g_free(p.room);
  g_free(p.rendezvous);
  g_free(p.local_address);
  return p.ok ? 0 : 1;
}
