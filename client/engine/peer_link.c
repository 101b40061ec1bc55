/* mentorlink — the secure path to one remote peer (see ml/peer_link.h and
 * docs/protocol-handshake.md). */
#include "ml/peer_link.h"

#include <errno.h>
#include <string.h>

#include <nice/pseudotcp.h>
#include <sodium.h>

#include "keepalive.h"
#include "ml/bytes.h"
#include "ml/handshake.h"
#include "peer_link_internal.h"
#include "stream_frame.h"

#define COMPONENT 1
#define MAX_SDP_ATTRIBUTE 1024

/* PseudoTCP's own constants (libnice agent/pseudotcp.c): a segment is a
 * 24-byte header plus at most mtu - 116 bytes of data. We advise the MTU that
 * makes header + data fill one transport datagram's payload exactly; should a
 * libnice change the overhead, WritePacket answers WR_TOO_LARGE and PseudoTCP
 * steps its segment size down by itself. */
#define PTCP_HEADER_LEN 24
#define PTCP_OVERHEAD 116
#define PTCP_MTU (ML_DATAGRAM_MAX_PAYLOAD - PTCP_HEADER_LEN + PTCP_OVERHEAD)

_Static_assert(ML_STREAM_FRAME_MESSAGE_MAX == ML_PEER_LINK_MAX_MESSAGE,
               "a chat message fits one MESSAGE frame");

struct ml_peer_link {
  GMainContext *context;
  NiceAgent *agent; /* NULL for a test link */
  bool owns_agent;
  guint stream_id;
  gulong signals[3];
  const ml_identity *identity;
  bool initiator;
  char room_id[ML_PEER_LINK_MAX_ROOM_ID + 1];
  uint32_t keepalive_ms, silence_ms, path_timeout_ms, connect_timeout_ms;
  size_t queue_max;
  ml_peer_link_callbacks cb;
  ml_peer_link_state state;
  ml_peer_link_stats stats;

  /* Handshake. */
  ml_handshake *hs;
  GSource *hs_timer;
  bool last_unsent; /* libnice refused our last handshake datagram: sent again at CONNECTED */
  ml_channel *channel;
  ml_peer_link_verification verification;

  /* Keepalive and liveness. */
  ml_keepalive ka;
  GSource *keepalive_timer;
  GSource *live_timer;    /* while secure: silence and path timeout */
  GSource *connect_timer; /* from start until secure */

  /* Reliable stream. */
  PseudoTcpSocket *tcp;
  GSource *tcp_timer;
  bool tcp_open, reliable_broken;
  GByteArray *out_q;
  size_t out_off;
  ml_stream_frame_decoder *rx;
  uint64_t next_message_id;
  /* Sequence numbers seen in the segments, for tcp_nudge. */
  bool have_peer_ack;
  uint32_t peer_ack;    /* highest ack the peer sent: our PseudoTCP's snd_una */
  uint16_t peer_wnd;    /* its window field with that ack */
  uint32_t peer_ack_ts; /* echoed timestamp of the segment that last advanced it */
  uint32_t our_ack;     /* ack of our latest segment: our PseudoTCP's rcv_nxt */

  /* Test hook. */
  ml_peer_link_output_cb test_output;
  void *test_output_user;
  uint32_t test_drop_mask; /* bit i: lose our i-th handshake datagram */
  unsigned test_handshake_sends;
};

/* ---- small helpers --------------------------------------------------- */

static void put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Big-endian reads through ml_reader; the callers have checked that n bytes
 * are there (a short input reads as 0). */
static uint32_t get_u32(const uint8_t *p, size_t n) {
  ml_reader r = ml_reader_init(p, n);
  uint32_t v = 0;
  return ml_reader_u32(&r, &v) ? v : 0;
}

/* The fields of a PseudoTCP segment header (libnice agent/pseudotcp.c)
 * that the link reads: conv(4) seq(4) ack(4) ctl(1) flags(1) wnd(2)
 * tsval(4) tsecr(4). False when seg is shorter than the header. */
typedef struct ptcp_header {
  uint32_t conv, seq, ack;
  uint8_t ctl, flags;
  uint16_t wnd;
  uint32_t tsval, tsecr;
} ptcp_header;

static bool ptcp_header_parse(const uint8_t *seg, size_t len, ptcp_header *h) {
  ml_reader r = ml_reader_init(seg, len);
  return ml_reader_u32(&r, &h->conv) && ml_reader_u32(&r, &h->seq) && ml_reader_u32(&r, &h->ack) &&
         ml_reader_u8(&r, &h->ctl) && ml_reader_u8(&r, &h->flags) && ml_reader_u16(&r, &h->wnd) &&
         ml_reader_u32(&r, &h->tsval) && ml_reader_u32(&r, &h->tsecr);
}

/* A one-shot timer as a GSource whose ready time we move: cheaper than
 * creating a source per (re)arm, and never fires once disarmed. */
static gboolean timer_dispatch(GSource *source, GSourceFunc callback, gpointer data) {
  g_source_set_ready_time(source, -1);
  return callback ? callback(data) : G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {.dispatch = timer_dispatch};

static GSource *timer_new(ml_peer_link *link, GSourceFunc fn) {
  GSource *s = g_source_new(&timer_funcs, sizeof(GSource));
  g_source_set_callback(s, fn, link, NULL);
  g_source_set_ready_time(s, -1);
  g_source_attach(s, link->context);
  return s;
}

static void timer_arm(GSource *s, uint32_t delay_ms) {
  g_source_set_ready_time(s, g_get_monotonic_time() + (gint64)delay_ms * 1000);
}

static void timer_disarm(GSource *s) {
  if (s)
    g_source_set_ready_time(s, -1);
}

static void timer_free(GSource **s) {
  if (*s) {
    g_source_destroy(*s);
    g_source_unref(*s);
    *s = NULL;
  }
}

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

static int seal_and_send(ml_peer_link *link, ml_inner_type type, const uint8_t *payload,
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
  timer_disarm(link->keepalive_timer);
  timer_disarm(link->tcp_timer);
  timer_disarm(link->live_timer);
  timer_disarm(link->connect_timer);
  if (link->channel) {
    ml_channel_get_stats(link->channel, &link->stats.channel);
    ml_channel_free(link->channel);
    link->channel = NULL;
  }
  if (link->cb.on_error)
    link->cb.on_error(link, err, what, link->cb.user);
}

/* The reliable stream broke (peer sent bad framing, or PseudoTCP gave up);
 * datagrams still flow. */
static void reliable_fail(ml_peer_link *link, int err, const char *what) {
  if (link->reliable_broken)
    return;
  link->reliable_broken = true;
  timer_disarm(link->tcp_timer);
  if (link->cb.on_error)
    link->cb.on_error(link, err, what, link->cb.user);
}

/* ---- reliable stream (PseudoTCP inside the channel) ------------------- */

static void tcp_schedule(ml_peer_link *link) {
  if (!link->tcp || link->reliable_broken)
    return;
  guint64 deadline = 0;
  if (!pseudo_tcp_socket_get_next_clock(link->tcp, &deadline)) {
    timer_disarm(link->tcp_timer);
    return;
  }
  /* PseudoTCP's clock: monotonic milliseconds truncated to 32 bits. */
  guint32 now = (guint32)(g_get_monotonic_time() / 1000);
  gint32 delay = (gint32)((guint32)deadline - now);
  timer_arm(link->tcp_timer, delay > 0 ? (uint32_t)delay : 0);
}

static void queue_flush(ml_peer_link *link) {
  if (!link->tcp || !link->tcp_open || link->reliable_broken)
    return;
  while (link->out_off < link->out_q->len) {
    size_t left = link->out_q->len - link->out_off;
    gint n = pseudo_tcp_socket_send(link->tcp, (const char *)link->out_q->data + link->out_off,
                                    (guint32)MIN(left, (size_t)G_MAXINT32));
    if (n <= 0)
      break;
    link->out_off += (size_t)n;
    link->stats.reliable_bytes_out += (uint64_t)n;
  }
  if (link->out_off == link->out_q->len) {
    g_byte_array_set_size(link->out_q, 0);
    link->out_off = 0;
  } else if (link->out_off > link->out_q->len / 2) {
    g_byte_array_remove_range(link->out_q, 0, (guint)link->out_off);
    link->out_off = 0;
  }
  tcp_schedule(link);
}

static size_t queued(const ml_peer_link *link) { return link->out_q->len - link->out_off; }

/* Appends one frame; the caller has checked the room. */
static void queue_frame(ml_peer_link *link, ml_stream_frame_kind kind, uint64_t id,
                        const uint8_t *payload, size_t len) {
  uint8_t prefix[ML_STREAM_FRAME_PREFIX_MAX];
  g_byte_array_append(link->out_q, prefix, (guint)ml_stream_frame_prefix(prefix, kind, id, len));
  if (len)
    g_byte_array_append(link->out_q, payload, (guint)len);
}

/* Feeds bytes of the peer's reliable stream through the frame decoder. */
static void frames_in(ml_peer_link *link, const uint8_t *p, size_t len) {
  while (len > 0 && !link->reliable_broken) {
    ml_stream_frame_item it;
    size_t n = ml_stream_frame_decode(link->rx, p, len, &it);
    p += n;
    len -= n;
    switch (it.event) {
    case ML_STREAM_FRAME_EV_NONE: break;
    case ML_STREAM_FRAME_EV_STREAM:
      if (link->cb.on_reliable)
        link->cb.on_reliable(link, it.data, it.len, link->cb.user);
      break;
    case ML_STREAM_FRAME_EV_MESSAGE:
      if (link->cb.on_message)
        link->cb.on_message(link, it.id, it.data, it.len, link->cb.user);
      /* The receipt is queued even past the queue limit: it is tiny, and
       * refusing it would make the sender wait forever. */
      queue_frame(link, ML_STREAM_FRAME_RECEIPT, it.id, NULL, 0);
      queue_flush(link);
      break;
    case ML_STREAM_FRAME_EV_RECEIPT:
      if (link->cb.on_receipt)
        link->cb.on_receipt(link, it.id, link->cb.user);
      break;
    case ML_STREAM_FRAME_EV_MALFORMED:
      reliable_fail(link, ML_ERR_PROTOCOL, "the peer's reliable stream has a malformed frame");
      break;
    }
  }
}

static void tcp_opened(PseudoTcpSocket *tcp, gpointer data) {
  (void)tcp;
  ml_peer_link *link = data;
  link->tcp_open = true;
  queue_flush(link);
}

static void tcp_readable(PseudoTcpSocket *tcp, gpointer data) {
  ml_peer_link *link = data;
  uint8_t buf[16384];
  for (;;) {
    gint n = pseudo_tcp_socket_recv(tcp, (char *)buf, sizeof buf);
    if (n <= 0)
      break;
    link->stats.reliable_bytes_in += (uint64_t)n;
    frames_in(link, buf, (size_t)n);
    if (link->reliable_broken)
      break;
  }
}

static void tcp_writable(PseudoTcpSocket *tcp, gpointer data) {
  (void)tcp;
  queue_flush(data);
}

static void tcp_closed(PseudoTcpSocket *tcp, guint32 error, gpointer data) {
  (void)tcp;
  (void)error;
  reliable_fail(data, ML_ERR_IO, "the reliable stream was closed (PseudoTCP gave up or was reset)");
}

static PseudoTcpWriteResult tcp_write_packet(PseudoTcpSocket *tcp, const gchar *buf, guint32 len,
                                             gpointer data) {
  (void)tcp;
  ml_peer_link *link = data;
  if (len > ML_DATAGRAM_MAX_PAYLOAD)
    return WR_TOO_LARGE;
  if (!link->channel)
    return WR_SUCCESS; /* failed meanwhile: a lost segment */
  ptcp_header h;
  if (ptcp_header_parse((const uint8_t *)buf, len, &h))
    link->our_ack = h.ack;
  /* A send refused by the path is a lost segment, which PseudoTCP
   * retransmits; WR_FAIL would make it abort the connection on a short
   * outage. */
  (void)seal_and_send(link, ML_INNER_RELIABLE, (const uint8_t *)buf, len);
  return WR_SUCCESS;
}

static gboolean tcp_clock(gpointer data) {
  ml_peer_link *link = data;
  if (link->tcp && !link->reliable_broken) {
    pseudo_tcp_socket_notify_clock(link->tcp);
    tcp_schedule(link);
  }
  return G_SOURCE_CONTINUE;
}

static void tcp_start(ml_peer_link *link) {
  PseudoTcpCallbacks cbs = {
      .user_data = link,
      .PseudoTcpOpened = tcp_opened,
      .PseudoTcpReadable = tcp_readable,
      .PseudoTcpWritable = tcp_writable,
      .PseudoTcpClosed = tcp_closed,
      .WritePacket = tcp_write_packet,
  };
  /* The conversation number is common to both ends: the first 4 bytes of
   * the handshake hash. */
  link->tcp =
      pseudo_tcp_socket_new(get_u32(link->verification.handshake_hash, ML_NOISE_HASH_LEN), &cbs);
  g_object_set(link->tcp, "no-delay", TRUE, NULL); /* chat wants latency, not Nagle */
  pseudo_tcp_socket_notify_mtu(link->tcp, PTCP_MTU);
  if (link->initiator)
    pseudo_tcp_socket_connect(link->tcp);
  tcp_schedule(link);
}

/* One authenticated RELIABLE datagram: a PseudoTCP segment. */
static void tcp_segment_in(ml_peer_link *link, const uint8_t *seg, size_t len) {
  ptcp_header h;
  if (!link->tcp || link->reliable_broken || !ptcp_header_parse(seg, len, &h)) {
    link->stats.dropped_reliable++;
    return;
  }
  /* libnice asserts (aborts) when the echoed timestamp lies in its future;
   * a peer must not be able to crash us, so such segments are refused. */
  uint32_t tsecr = h.tsecr;
  guint32 now = (guint32)(g_get_monotonic_time() / 1000);
  if (tsecr != 0 && (gint32)(now - tsecr) < 0) {
    link->stats.dropped_reliable++;
    return;
  }
  if (!pseudo_tcp_socket_notify_packet(link->tcp, (const gchar *)seg, (guint32)len)) {
    link->stats.dropped_reliable++;
  } else {
    /* Only from segments PseudoTCP took: a recorded ack may lag its snd_una
     * (then tcp_nudge's segments are ignored) but never run ahead of it. */
    uint32_t ack = h.ack;
    if (!link->have_peer_ack || (int32_t)(ack - link->peer_ack) >= 0) {
      if ((!link->have_peer_ack || ack != link->peer_ack) && tsecr != 0)
        link->peer_ack_ts = tsecr; /* PseudoTCP's last_acked_ts */
      link->have_peer_ack = true;
      link->peer_ack = ack;
      link->peer_wnd = h.wnd;
    }
  }
  tcp_schedule(link);
}

/* The path is back after an outage: what PseudoTCP sent meanwhile waits for
 * its retransmission timer, which backed off during the outage (doubling up
 * to 60 s). Three duplicate acknowledgements make it retransmit at once
 * (fast retransmit); so we hand it three such empty segments, built from
 * what the peer last acknowledged (its snd_una), the timestamp echoed with
 * that acknowledgement (after a timeout retransmission PseudoTCP's NewReno
 * check only enters recovery for a duplicate carrying it) and our own next
 * expected sequence number (so none of them asks for an ACK). If those
 * numbers are stale, PseudoTCP takes the segments for old ones and ignores
 * them. */
static void tcp_nudge(ml_peer_link *link) {
  if (!link->tcp || !link->tcp_open || link->reliable_broken || !link->have_peer_ack)
    return;
  uint8_t seg[PTCP_HEADER_LEN] = {0};
  put_u32(seg, get_u32(link->verification.handshake_hash, ML_NOISE_HASH_LEN)); /* conversation */
  put_u32(seg + 4, link->our_ack);
  put_u32(seg + 8, link->peer_ack);
  put_u16(seg + 14, link->peer_wnd);
  put_u32(seg + 20, link->peer_ack_ts); /* no RTT sample: duplicates are not timed */
  for (int i = 0; i < 3; i++)
    (void)pseudo_tcp_socket_notify_packet(link->tcp, (const gchar *)seg, sizeof seg);
  tcp_schedule(link);
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
        seal_and_send(link, ML_INNER_KEEPALIVE, NULL, 0) == ML_OK)
      link->stats.keepalives_out++;
    timer_arm(link->keepalive_timer, next_ms);
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
  timer_arm(link->live_timer, ml_keepalive_check_interval_ms(&link->ka));
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
  timer_disarm(link->connect_timer);
  timer_arm(link->keepalive_timer, link->keepalive_ms);
  timer_arm(link->live_timer, ml_keepalive_check_interval_ms(&link->ka));
  tcp_start(link);
  if (link->cb.on_secure)
    link->cb.on_secure(link, &link->verification, link->cb.user);
  queue_flush(link);
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
    (void)seal_and_send(link, ML_INNER_KEEPALIVE, NULL, 0);
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
  case ML_INNER_RELIABLE: tcp_segment_in(link, payload, plen); break;
  case ML_INNER_RTP:
  case ML_INNER_RTCP:
  case ML_INNER_CONTROL:
    link->stats.delivered++;
    if (link->cb.on_datagram)
      link->cb.on_datagram(link, type, payload, plen, link->cb.user);
    break;
  }
  if (after_outage && link->state == ML_PEER_LINK_SECURE)
    tcp_nudge(link);
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

static void nice_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                      gpointer data) {
  (void)agent;
  (void)stream_id;
  (void)component_id;
  ml_peer_link_receive(data, (const uint8_t *)buf, len);
}

/* ---- ICE ------------------------------------------------------------- */

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

static void on_component_state(NiceAgent *agent, guint stream_id, guint component_id, guint state,
                               gpointer data) {
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
  link->out_q = g_byte_array_new();
  link->rx = g_new(ml_stream_frame_decoder, 1);
  ml_stream_frame_decoder_init(link->rx);
  link->next_message_id = 1;
  ml_keepalive_init(&link->ka, link->keepalive_ms, link->silence_ms, link->path_timeout_ms,
                    g_get_monotonic_time());
  link->hs_timer = timer_new(link, hs_tick);
  link->keepalive_timer = timer_new(link, keepalive_tick);
  link->tcp_timer = timer_new(link, tcp_clock);
  link->live_timer = timer_new(link, live_tick);
  link->connect_timer = timer_new(link, connect_tick);
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

int ml_peer_link_new(ml_peer_link **out, const ml_peer_link_config *cfg) {
  g_assert(out);
  if (!config_ok(cfg))
    return ML_ERR_INVALID;
  ml_peer_link *link = link_alloc(cfg);
  if (!link)
    return ML_ERR_NOMEM;
  int err = ML_OK;
  if (cfg->shared_agent) {
    link->agent = g_object_ref(cfg->shared_agent);
  } else {
    link->agent = nice_agent_new_full(link->context, NICE_COMPATIBILITY_RFC5245,
                                      NICE_AGENT_OPTION_ICE_TRICKLE);
    link->owns_agent = true;
  }
  if ((err = configure_agent(link, cfg)) != ML_OK)
    goto out;
  link->stream_id = nice_agent_add_stream(link->agent, 1);
  if (link->stream_id == 0) {
    err = ML_ERR_IO;
    goto out;
  }
  static const NiceRelayType relay_types[] = {NICE_RELAY_TYPE_TURN_UDP, NICE_RELAY_TYPE_TURN_TCP,
                                              NICE_RELAY_TYPE_TURN_TLS};
  for (size_t i = 0; i < cfg->n_turn; i++) {
    const ml_peer_link_turn *t = &cfg->turn[i];
    if (!t->server || !t->username || !t->password || (unsigned)t->transport > 2 ||
        !nice_agent_set_relay_info(link->agent, link->stream_id, COMPONENT, t->server, t->port,
                                   t->username, t->password, relay_types[t->transport])) {
      err = ML_ERR_INVALID;
      goto out;
    }
  }
  link->signals[0] =
      g_signal_connect(link->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), link);
  link->signals[1] = g_signal_connect(link->agent, "candidate-gathering-done",
                                      G_CALLBACK(on_gathering_done), link);
  link->signals[2] = g_signal_connect(link->agent, "component-state-changed",
                                      G_CALLBACK(on_component_state), link);
  nice_agent_attach_recv(link->agent, link->stream_id, COMPONENT, link->context, nice_recv, link);
out:
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
  if (!config_ok(cfg))
    return ML_ERR_INVALID;
  ml_peer_link *link = link_alloc(cfg);
  if (!link)
    return ML_ERR_NOMEM;
  int err = ml_channel_new(&link->channel, send_key, recv_key, NULL);
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
  timer_arm(link->live_timer, ml_keepalive_check_interval_ms(&link->ka));
  tcp_start(link);
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
  timer_arm(link->connect_timer, link->connect_timeout_ms);
  if (!nice_agent_gather_candidates(link->agent, link->stream_id)) {
    fail(link, ML_ERR_IO, "libnice could not gather local candidates");
    return ML_ERR_IO;
  }
  return ML_OK;
}

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
  GSList *cands = nice_agent_get_local_candidates(link->agent, link->stream_id, COMPONENT);
  for (GSList *i = cands; i; i = i->next)
    report_candidate(link, i->data);
  g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
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
  return seal_and_send(link, type, payload, len);
}

int ml_peer_link_send_reliable(ml_peer_link *link, const uint8_t *bytes, size_t len) {
  g_assert(link && (bytes || len == 0));
  if (link->state == ML_PEER_LINK_FAILED || link->reliable_broken)
    return ML_ERR_STATE;
  size_t frames = (len + ML_STREAM_FRAME_STREAM_MAX - 1) / ML_STREAM_FRAME_STREAM_MAX;
  size_t room = link->queue_max - MIN(queued(link), link->queue_max);
  if (len > link->queue_max || frames * ML_STREAM_FRAME_HEADER_LEN + len > room)
    return ML_ERR_TOO_BIG;
  for (size_t off = 0; off < len; off += ML_STREAM_FRAME_STREAM_MAX)
    queue_frame(link, ML_STREAM_FRAME_STREAM, 0, bytes + off,
                MIN(len - off, (size_t)ML_STREAM_FRAME_STREAM_MAX));
  queue_flush(link);
  return ML_OK;
}

int ml_peer_link_send_message(ml_peer_link *link, const uint8_t *bytes, size_t len, uint64_t *id) {
  g_assert(link && bytes);
  if (len == 0 || len > ML_PEER_LINK_MAX_MESSAGE)
    return ML_ERR_INVALID;
  if (link->state == ML_PEER_LINK_FAILED || link->reliable_broken)
    return ML_ERR_STATE;
  if (ML_STREAM_FRAME_PREFIX_MAX + len > link->queue_max - MIN(queued(link), link->queue_max))
    return ML_ERR_TOO_BIG;
  uint64_t mid = link->next_message_id++;
  queue_frame(link, ML_STREAM_FRAME_MESSAGE, mid, bytes, len);
  if (id)
    *id = mid;
  queue_flush(link);
  return ML_OK;
}

ml_peer_link_state ml_peer_link_get_state(const ml_peer_link *link) { return link->state; }

guint ml_peer_link_stream_id(const ml_peer_link *link) { return link->stream_id; }

static ml_peer_link_path path_of(NiceCandidateType t) {
  switch (t) {
  case NICE_CANDIDATE_TYPE_RELAYED: return ML_PEER_LINK_PATH_RELAY;
  case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
  case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return ML_PEER_LINK_PATH_SRFLX;
  default: return ML_PEER_LINK_PATH_HOST;
  }
}

void ml_peer_link_get_stats(ml_peer_link *link, ml_peer_link_stats *out) {
  g_assert(link && out);
  if (link->channel)
    ml_channel_get_stats(link->channel, &link->stats.channel);
  ml_handshake_stats hs;
  ml_handshake_get_stats(link->hs, &hs);
  link->stats.handshake_retransmits = hs.retransmits;
  link->stats.dropped_handshake = hs.dropped;
  link->stats.state = link->state;
  link->stats.reliable_queued = queued(link);
  link->stats.silent_ms = link->state == ML_PEER_LINK_SECURE
                              ? ml_keepalive_silent_ms(&link->ka, g_get_monotonic_time())
                              : 0;
  link->stats.path = ML_PEER_LINK_PATH_NONE;
  NiceCandidate *l = NULL, *r = NULL;
  if (link->agent &&
      nice_agent_get_selected_pair(link->agent, link->stream_id, COMPONENT, &l, &r) && l && r) {
    ml_peer_link_path a = path_of(l->type), b = path_of(r->type);
    link->stats.path = a > b ? a : b;
  }
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
  if (link->tcp)
    g_object_unref(link->tcp);
  timer_free(&link->hs_timer);
  timer_free(&link->keepalive_timer);
  timer_free(&link->tcp_timer);
  timer_free(&link->live_timer);
  timer_free(&link->connect_timer);
  ml_handshake_free(link->hs);
  ml_channel_free(link->channel);
  sodium_memzero(&link->verification, sizeof link->verification);
  g_byte_array_free(link->out_q, TRUE);
  if (link->rx) {
    sodium_memzero(link->rx, sizeof *link->rx);
    g_free(link->rx);
  }
  g_main_context_unref(link->context);
  sodium_memzero(link, sizeof *link);
  g_free(link);
  if (!closing && closed)
    closed(user);
}
