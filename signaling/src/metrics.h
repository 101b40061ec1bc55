/* mentorlink-signal — counters and their Prometheus text exposition.
 * Plain struct owned by the server; single-threaded. No labels carry user data. */
#ifndef ML_SIGNAL_METRICS_H
#define ML_SIGNAL_METRICS_H

#include <stdint.h>

#include <glib.h>

#include "message.h"

typedef enum ml_metrics_close {
  ML_METRICS_CLOSE_SERVER_FULL,
  ML_METRICS_CLOSE_IP_FULL,
  ML_METRICS_CLOSE_CONNECT_RATE,
  ML_METRICS_CLOSE_DRAINING,
  ML_METRICS_CLOSE_FLOOD,
  ML_METRICS_CLOSE_IDLE,
  ML_METRICS_CLOSE_JOIN_TIMEOUT,
  ML_METRICS_CLOSE_COUNT_
} ml_metrics_close;

typedef struct ml_metrics {
  uint64_t connections_accepted;
  uint64_t closes[ML_METRICS_CLOSE_COUNT_]; /* server-initiated closes by reason */
  uint64_t messages_received;
  uint64_t messages_relayed;
  uint64_t joins;
  uint64_t rejects[ML_SIG_E_COUNT_]; /* error replies by code */
} ml_metrics;

typedef struct ml_metrics_gauges {
  unsigned connections;
  unsigned rooms;
  unsigned peers;
  int draining;
} ml_metrics_gauges;

/* Appends the Prometheus text format (version 0.0.4) to out. */
void ml_metrics_render(const ml_metrics *m, const ml_metrics_gauges *g, GString *out);

#endif /* ML_SIGNAL_METRICS_H */
