/* Prometheus text exposition. See metrics.h. */
#include "metrics.h"

static const char *const close_names[ML_METRICS_CLOSE_COUNT_] = {
    [ML_METRICS_CLOSE_SERVER_FULL] = "server_full",
    [ML_METRICS_CLOSE_IP_FULL] = "ip_full",
    [ML_METRICS_CLOSE_CONNECT_RATE] = "connect_rate",
    [ML_METRICS_CLOSE_DRAINING] = "draining",
    [ML_METRICS_CLOSE_FLOOD] = "flood",
    [ML_METRICS_CLOSE_IDLE] = "idle_timeout",
    [ML_METRICS_CLOSE_JOIN_TIMEOUT] = "join_timeout",
};

static void gauge(GString *out, const char *name, const char *help, uint64_t v) {
  g_string_append_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %" G_GUINT64_FORMAT "\n", name,
                         help, name, name, v);
}

static void counter(GString *out, const char *name, const char *help, uint64_t v) {
  g_string_append_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %" G_GUINT64_FORMAT "\n", name,
                         help, name, name, v);
}

void ml_metrics_render(const ml_metrics *m, const ml_metrics_gauges *g, GString *out) {
  gauge(out, "mentorlink_signal_connections", "Open WebSocket connections.", g->connections);
  gauge(out, "mentorlink_signal_rooms", "Rooms that exist.", g->rooms);
  gauge(out, "mentorlink_signal_peers", "Peers in rooms (admitted or waiting).", g->peers);
  gauge(out, "mentorlink_signal_draining", "1 while shutting down.", (uint64_t)g->draining);
  counter(out, "mentorlink_signal_connections_accepted_total", "WebSocket connections accepted.",
          m->connections_accepted);
  counter(out, "mentorlink_signal_joins_total", "Successful joins.", m->joins);
  counter(out, "mentorlink_signal_messages_received_total", "Client messages received.",
          m->messages_received);
  counter(out, "mentorlink_signal_messages_relayed_total", "Signal messages relayed to a peer.",
          m->messages_relayed);
  g_string_append(out, "# HELP mentorlink_signal_rejects_total Error replies sent, by code.\n"
                       "# TYPE mentorlink_signal_rejects_total counter\n");
  for (int i = 1; i < ML_SIG_E_COUNT_; i++)
    g_string_append_printf(out,
                           "mentorlink_signal_rejects_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                           ml_sig_error_name((ml_sig_error)i), m->rejects[i]);
  g_string_append(out, "# HELP mentorlink_signal_closes_total Connections closed by the server, "
                       "by reason.\n# TYPE mentorlink_signal_closes_total counter\n");
  for (int i = 0; i < ML_METRICS_CLOSE_COUNT_; i++)
    g_string_append_printf(out,
                           "mentorlink_signal_closes_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                           close_names[i], m->closes[i]);
}
