/* mentorlink — the peer link's reliable stream: one PseudoTCP connection
 * (libnice PseudoTcpSocket) inside the secure channel, carrying the frames
 * of stream_frame.h (docs/PROTOCOL.md, "Reliable stream"). Part of the
 * peer link (peer_link_impl.h); runs on the link's context. */
#include <string.h>

#include <sodium.h>

#include "ml/bytes.h"
#include "peer_link_impl.h"
#include "stream_frame.h"

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

/* The reliable stream broke (peer sent bad framing, or PseudoTCP gave up);
 * datagrams still flow. */
static void reliable_fail(ml_peer_link *link, int err, const char *what) {
  if (link->reliable_broken)
    return;
  link->reliable_broken = true;
  ml_peer_link_timer_disarm(link->tcp_timer);
  if (link->cb.on_error)
    link->cb.on_error(link, err, what, link->cb.user);
}

static void tcp_schedule(ml_peer_link *link) {
  if (!link->tcp || link->reliable_broken)
    return;
  guint64 deadline = 0;
  if (!pseudo_tcp_socket_get_next_clock(link->tcp, &deadline)) {
    ml_peer_link_timer_disarm(link->tcp_timer);
    return;
  }
  /* PseudoTCP's clock: monotonic milliseconds truncated to 32 bits. */
  guint32 now = (guint32)(g_get_monotonic_time() / 1000);
  gint32 delay = (gint32)((guint32)deadline - now);
  ml_peer_link_timer_arm(link->tcp_timer, delay > 0 ? (uint32_t)delay : 0);
}

void ml_peer_link_queue_flush(ml_peer_link *link) {
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

size_t ml_peer_link_queued(const ml_peer_link *link) { return link->out_q->len - link->out_off; }

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
      /* The receipt is ml_peer_link_queued even past the queue limit: it is tiny, and
       * refusing it would make the sender wait forever. */
      queue_frame(link, ML_STREAM_FRAME_RECEIPT, it.id, NULL, 0);
      ml_peer_link_queue_flush(link);
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
  ml_peer_link_queue_flush(link);
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
  ml_peer_link_queue_flush(data);
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
  (void)ml_peer_link_seal_and_send(link, ML_INNER_RELIABLE, (const uint8_t *)buf, len);
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

void ml_peer_link_tcp_start(ml_peer_link *link) {
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
void ml_peer_link_tcp_segment_in(ml_peer_link *link, const uint8_t *seg, size_t len) {
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
     * (then ml_peer_link_tcp_nudge's segments are ignored) but never run ahead of it. */
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
void ml_peer_link_tcp_nudge(ml_peer_link *link) {
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

void ml_peer_link_reliable_init(ml_peer_link *link) {
  link->out_q = g_byte_array_new();
  link->rx = g_new(ml_stream_frame_decoder, 1);
  ml_stream_frame_decoder_init(link->rx);
  link->next_message_id = 1;
  link->tcp_timer = ml_peer_link_timer_new(link, tcp_clock);
}

void ml_peer_link_reliable_free(ml_peer_link *link) {
  if (link->tcp)
    g_object_unref(link->tcp);
  ml_peer_link_timer_free(&link->tcp_timer);
  if (link->out_q)
    g_byte_array_free(link->out_q, TRUE);
  if (link->rx) {
    sodium_memzero(link->rx, sizeof *link->rx);
    g_free(link->rx);
  }
}

/* ---- public operations ---------------------------------------------- */

int ml_peer_link_send_reliable(ml_peer_link *link, const uint8_t *bytes, size_t len) {
  g_assert(link && (bytes || len == 0));
  if (link->state == ML_PEER_LINK_FAILED || link->reliable_broken)
    return ML_ERR_STATE;
  size_t frames = (len + ML_STREAM_FRAME_STREAM_MAX - 1) / ML_STREAM_FRAME_STREAM_MAX;
  size_t room = link->queue_max - MIN(ml_peer_link_queued(link), link->queue_max);
  if (len > link->queue_max || frames * ML_STREAM_FRAME_HEADER_LEN + len > room)
    return ML_ERR_TOO_BIG;
  for (size_t off = 0; off < len; off += ML_STREAM_FRAME_STREAM_MAX)
    queue_frame(link, ML_STREAM_FRAME_STREAM, 0, bytes + off,
                MIN(len - off, (size_t)ML_STREAM_FRAME_STREAM_MAX));
  ml_peer_link_queue_flush(link);
  return ML_OK;
}

int ml_peer_link_send_message(ml_peer_link *link, const uint8_t *bytes, size_t len, uint64_t *id) {
  g_assert(link && bytes);
  if (len == 0 || len > ML_PEER_LINK_MAX_MESSAGE)
    return ML_ERR_INVALID;
  if (link->state == ML_PEER_LINK_FAILED || link->reliable_broken)
    return ML_ERR_STATE;
  if (ML_STREAM_FRAME_PREFIX_MAX + len >
      link->queue_max - MIN(ml_peer_link_queued(link), link->queue_max))
    return ML_ERR_TOO_BIG;
  uint64_t mid = link->next_message_id++;
  queue_frame(link, ML_STREAM_FRAME_MESSAGE, mid, bytes, len);
  if (id)
    *id = mid;
  ml_peer_link_queue_flush(link);
  return ML_OK;
}
