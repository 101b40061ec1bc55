/* call_chat_peer: one participant of a real call (ml_call: signaling, ICE,
 * Noise, media with test sources, chat) whose chat lines come from stdin at
 * the moments the test driver chooses, for nat.chat_outage
 * (run-chat-outage.sh). Test-only; not installed.
 *
 * usage: call_chat_peer --server URL --room ROOM --name NAME
 *                       [--local-address IP] [--admit-all] [--path-timeout MS]
 *   The room secret comes from MENTORLINK_ROOM_SECRET (optional). The
 *   identity is generated for the run; nothing is pinned. --path-timeout
 *   gives up a silent secure peer sooner (ml_call_config.path_timeout_ms).
 *
 * stdin, one command per line:
 *   chat TEXT   send TEXT to every peer (ml_call_send_chat)
 *   leave       leave the call (also at end of input)
 * stdout: one JSON object per event, as `mentorlink join --json` prints them
 * for the events this test reads: event, t_ms, peer, and per event: state and
 * path (peer_state), id and text (chat, chat_sent), id (receipt),
 * video_frames_decoded, video_frames_sent and path (stats), message and fatal
 * (error); for the logs, stats also carry rtp_packets_sent, target_kbps,
 * video_paused, loss, rtt_ms, pli_sent and pli_received, and peer_media its
 * three flags.
 * Exit status: 0 when the call ended after `leave` without a fatal error, 1
 * otherwise. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sodium.h>

#include "ml/call.h"
#include "ml/identity.h"
#include "ml/peer_link.h"

#define END_WAIT_MS 10000 /* after leave, the longest wait for ENDED */
#define MAX_LINE 4096

static void print_event(const ml_call_event *ev) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, ml_call_event_name(ev->type));
  json_builder_set_member_name(b, "t_ms");
  json_builder_add_int_value(b, ev->t_ms);
  if (ev->peer_id[0]) {
    json_builder_set_member_name(b, ev->type == ML_CALL_EV_JOINED ? "peer_id" : "peer");
    json_builder_add_string_value(b, ev->peer_id);
  }
  switch (ev->type) {
  case ML_CALL_EV_PEER_STATE:
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, ml_call_peer_state_name((ml_peer_link_state)ev->state));
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, ml_call_path_name(ev->path));
    break;
  case ML_CALL_EV_CHAT:
  case ML_CALL_EV_CHAT_SENT:
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, ev->text ? ev->text : "");
    /* fall through */
  case ML_CALL_EV_RECEIPT:
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, (gint64)ev->id);
    break;
  case ML_CALL_EV_STATS:
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, ml_call_path_name(ev->stats.path));
    json_builder_set_member_name(b, "video_frames_decoded");
    json_builder_add_int_value(b, (gint64)ev->stats.video_frames_decoded);
    json_builder_set_member_name(b, "video_frames_sent");
    json_builder_add_int_value(b, (gint64)ev->stats.video_frames_sent);
    /* Not read by the test; in the logs a failure prints, they tell why
     * video stopped: the rate controller, feedback, or the link. */
    json_builder_set_member_name(b, "rtp_packets_sent");
    json_builder_add_int_value(b, (gint64)ev->stats.rtp_packets_sent);
    json_builder_set_member_name(b, "target_kbps");
    json_builder_add_int_value(b, ev->stats.target_kbps);
    json_builder_set_member_name(b, "video_paused");
    json_builder_add_boolean_value(b, ev->stats.video_paused);
    json_builder_set_member_name(b, "loss");
    json_builder_add_double_value(b, ev->stats.loss);
    json_builder_set_member_name(b, "rtt_ms");
    json_builder_add_double_value(b, ev->stats.rtt_ms);
    json_builder_set_member_name(b, "pli_sent");
    json_builder_add_int_value(b, (gint64)ev->stats.pli_sent);
    json_builder_set_member_name(b, "pli_received");
    json_builder_add_int_value(b, (gint64)ev->stats.pli_received);
    json_builder_set_member_name(b, "final");
    json_builder_add_boolean_value(b, ev->stats.final);
    break;
  case ML_CALL_EV_PEER_MEDIA:
    json_builder_set_member_name(b, "muted");
    json_builder_add_boolean_value(b, ev->media.muted);
    json_builder_set_member_name(b, "camera_on");
    json_builder_add_boolean_value(b, ev->media.camera_on);
    json_builder_set_member_name(b, "video_paused");
    json_builder_add_boolean_value(b, ev->media.video_paused);
    break;
  case ML_CALL_EV_ERROR:
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, ev->text ? ev->text : "");
    json_builder_set_member_name(b, "fatal");
    json_builder_add_boolean_value(b, ev->fatal);
    break;
  default: break;
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *line = json_to_string(root, FALSE);
  printf("%s\n", line);
  fflush(stdout);
}

/* One command line (without its newline). Returns false for `leave`. */
static bool run_command(ml_call *call, const char *line) {
  if (!strcmp(line, "leave"))
    return false;
  if (!strncmp(line, "chat ", 5)) {
    if (ml_call_send_chat(call, line + 5) != ML_OK)
      fprintf(stderr, "call_chat_peer: chat line refused\n");
  } else if (line[0]) {
    fprintf(stderr, "call_chat_peer: unknown command \"%s\"\n", line);
  }
  return true;
}

int main(int argc, char **argv) {
  const char *server = NULL, *room = NULL, *name = NULL, *local = NULL;
  unsigned long path_timeout_ms = 0;
  bool admit_all = false;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--admit-all")) {
      admit_all = true;
      continue;
    }
    if (!v) {
      fprintf(stderr, "call_chat_peer: %s needs a value\n", argv[i]);
      return 2;
    }
    if (!strcmp(argv[i], "--server"))
      server = v;
    else if (!strcmp(argv[i], "--room"))
      room = v;
    else if (!strcmp(argv[i], "--name"))
      name = v;
    else if (!strcmp(argv[i], "--local-address"))
      local = v;
    else if (!strcmp(argv[i], "--path-timeout"))
      path_timeout_ms = strtoul(v, NULL, 10);
    else {
      fprintf(stderr, "call_chat_peer: unknown option %s\n", argv[i]);
      return 2;
    }
    i++;
  }
  if (!server || !room || !name) {
    fprintf(stderr, "call_chat_peer: --server, --room and --name are required\n");
    return 2;
  }
  if (sodium_init() < 0)
    return 1;
  ml_identity *id = NULL;
  if (ml_identity_generate(&id) != ML_OK)
    return 1;
  const char *secret = getenv("MENTORLINK_ROOM_SECRET");
  ml_call_config cfg = {
      .server_url = server,
      .room = room,
      .name = name,
      .room_secret = secret && secret[0] ? secret : NULL,
      .identity = id,
      .pins_path = "",
      .video = ML_MEDIA_VIDEO_TEST,
      .audio = ML_MEDIA_AUDIO_TEST,
      .headless = true,
      .admit_all = admit_all,
      .local_addresses = local ? &local : NULL,
      .n_local_addresses = local ? 1 : 0,
      .path_timeout_ms = (uint32_t)MIN(path_timeout_ms, 600000ul),
  };
  ml_call *call = NULL;
  if (ml_call_new(&call, &cfg) != ML_OK) {
    ml_identity_free(id);
    fprintf(stderr, "call_chat_peer: the call settings were refused\n");
    return 2;
  }
  GString *in = g_string_new(NULL);
  bool stdin_open = true, leaving = false, fatal = false, ended = false;
  gint64 end_by = -1;
  while (!ended) {
    if (!stdin_open && !leaving) {
      ml_call_leave(call);
      leaving = true;
      end_by = g_get_monotonic_time() / 1000 + END_WAIT_MS;
    }
    int timeout = 1000;
    if (end_by >= 0) {
      gint64 left = end_by - g_get_monotonic_time() / 1000;
      if (left <= 0) {
        fprintf(stderr, "call_chat_peer: the engine did not end in time\n");
        fatal = true;
        break;
      }
      timeout = (int)MIN(left, 1000);
    }
    struct pollfd pfd[2] = {{.fd = ml_call_event_fd(call), .events = POLLIN},
                            {.fd = STDIN_FILENO, .events = POLLIN}};
    if (poll(pfd, stdin_open ? 2 : 1, timeout) < 0 && errno != EINTR)
      break;
    if (stdin_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[MAX_LINE];
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) {
        stdin_open = false;
      } else {
        g_string_append_len(in, buf, n);
        char *nl;
        while (stdin_open && (nl = memchr(in->str, '\n', in->len)) != NULL) {
          *nl = '\0';
          if (!run_command(call, in->str))
            stdin_open = false;
          g_string_erase(in, 0, nl - in->str + 1);
        }
        if (in->len > MAX_LINE)
          g_string_truncate(in, 0); /* a line too long for a test: dropped */
      }
    }
    ml_call_event *ev;
    while ((ev = ml_call_next_event(call, 0)) != NULL) {
      print_event(ev);
      if (ev->type == ML_CALL_EV_ERROR && ev->fatal)
        fatal = true;
      if (ev->type == ML_CALL_EV_ENDED) {
        ended = true;
        if (!leaving)
          fatal = true; /* ended without being asked */
      }
      ml_call_event_free(ev);
    }
  }
  g_string_free(in, TRUE);
  ml_call_free(call);
  ml_identity_free(id);
  return fatal ? 1 : 0;
}
