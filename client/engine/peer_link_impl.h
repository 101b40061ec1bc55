/* mentorlink — the peer link's parts, shared by its files (private to
 * peer_link*.c; the module's contract is ml/peer_link.h).
 *
 *   peer_link.c           lifecycle, timers, the receive path, keepalive and
 *                         liveness, driving the handshake (ml/handshake.h)
 *   peer_link_ice.c       the libnice stream: agent, candidates, credentials
 *   peer_link_reliable.c  PseudoTCP inside the channel, framed by stream_frame.h
 *
 * Everything runs on the link's GMainContext.
 */
#ifndef ML_PEER_LINK_IMPL_H
#define ML_PEER_LINK_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <nice/agent.h>
#include <nice/pseudotcp.h>

#include "keepalive.h"
#include "ml/handshake.h"
#include "ml/peer_link.h"
#include "peer_link_internal.h"
#include "stream_frame.h"

#define COMPONENT 1

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

/* peer_link.c: one-shot timers on the link's context (a GSource whose ready
 * time moves; never fires once disarmed). */
GSource *ml_peer_link_timer_new(ml_peer_link *link, GSourceFunc fn);
void ml_peer_link_timer_arm(GSource *s, uint32_t delay_ms);
void ml_peer_link_timer_disarm(GSource *s);
void ml_peer_link_timer_free(GSource **s);
/* peer_link.c: seals one datagram and hands it to the path (a refusal is a
 * lost datagram). */
int ml_peer_link_seal_and_send(ml_peer_link *link, ml_inner_type type, const uint8_t *payload,
                               size_t len);
/* peer_link.c: libnice's component-state-changed handler. */
void ml_peer_link_on_component_state(NiceAgent *agent, guint stream_id, guint component_id,
                                     guint state, gpointer data);

/* peer_link_ice.c: creates or shares the agent, adds the stream, its TURN
 * servers, the signal handlers and the receive callback. ML_ERR_INVALID,
 * ML_ERR_IO as ml_peer_link_new says; the caller frees the link on error. */
int ml_peer_link_ice_open(ml_peer_link *link, const ml_peer_link_config *cfg);
/* Reports every current local candidate again (after an ICE restart). */
void ml_peer_link_report_candidates(ml_peer_link *link);
ml_peer_link_path ml_peer_link_selected_path(ml_peer_link *link);

/* peer_link_reliable.c: the queue, decoder and clock (init at alloc, free
 * at close); the connection starts when the link is secure. */
void ml_peer_link_reliable_init(ml_peer_link *link);
void ml_peer_link_reliable_free(ml_peer_link *link);
void ml_peer_link_tcp_start(ml_peer_link *link);
/* One authenticated RELIABLE datagram's payload: a PseudoTCP segment. */
void ml_peer_link_tcp_segment_in(ml_peer_link *link, const uint8_t *seg, size_t len);
/* The path is back after an outage: make PseudoTCP retransmit at once. */
void ml_peer_link_tcp_nudge(ml_peer_link *link);
void ml_peer_link_queue_flush(ml_peer_link *link);
size_t ml_peer_link_queued(const ml_peer_link *link);

#endif /* ML_PEER_LINK_IMPL_H */
