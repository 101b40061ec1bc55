/* mentorlink join: joins a room and holds a call until --duration ends,
 * SIGINT/SIGTERM, /leave or (in the window) the user leaves, printing events
 * as text or, with --json, one JSON object per line (fields documented in
 * README, "Command line"). The engine runs on its own thread (ml/call.h).
 * Without --headless the session window (ml/ui.h) drains the events and
 * hands each to on_event here; headless, this thread drains them itself and,
 * with --stdin-commands, turns the lines of stdin into commands and chat.
 * Either way on_event prints and sends the --chat lines once a peer is
 * secure. */
#include "join.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "ml/call.h"
#include "ml/identity.h"
#include "ml/peer_link.h"
#include "ml/ui.h"

#define MAX_CHAT_LINES 64
#define MAX_LOCAL_ADDRESSES 8
#define END_WAIT_MS 5000       /* after leave, the longest wait for the engine to end */
#define MAX_COMMAND_LINE 65536 /* bytes of one stdin line, newline excluded (the chat maximum) */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

void ml_join_usage(FILE *f) {
  fputs("  join --server URL --room ROOM --name NAME [options]\n"
        "                              join a call (open mode: room code + display name)\n"
        "  join --server URL --token TOKEN [options]\n"
        "                              join a call with a signed join token\n"
        "    --server URL              signaling server WebSocket URL, e.g.\n"
        "                              ws://127.0.0.1:8443/v1/ws (wss:// with TLS)\n"
        "    --room ROOM               room code (open mode) [A-Za-z0-9_.-]{1,64}\n"
        "    --name NAME               your display name (open mode; 1-64 bytes)\n"
        "    --token TOKEN             join token from the operator (token mode)\n"
        "    --room-secret SECRET      open mode: the room secret (1-64 bytes); it keys\n"
        "                              the handshake (Noise PSK) and is never sent to the\n"
        "                              server. Visible to other local users in ps: prefer\n"
        "                              MENTORLINK_ROOM_SECRET in the environment\n"
        "    --headless                no window (also: audio to a fake sink)\n"
        "    --video-source camera|test|none   default camera\n"
        "    --audio-source mic|test|none      default mic\n"
        "    --duration SECONDS        leave after this many seconds (default: until\n"
        "                              SIGINT/SIGTERM)\n"
        "    --json                    one JSON object per line per event, and a stats\n"
        "                              line per peer per second (see README)\n"
        "    --chat TEXT               a chat line to send once the first peer is\n"
        "                              secure (repeatable, sent in order)\n"
        "    --local-address IP        gather host candidates only on this address\n"
        "                              (repeatable; default: every interface)\n"
        "    --admit-all               as the room's host, admit everyone who knocks\n"
        "                              (default: print who waits; they stay waiting)\n"
        "    --measure-tone            for tests: report the dominant frequency of each\n"
        "                              peer's decoded audio (stats: audio_tone_hz)\n"
        "    --known-peers PATH        pinned peer identities (default\n"
        "                              $XDG_DATA_HOME/mentorlink/known_peers)\n"
        "    --screenshot-dir DIR      window: F12 saves a screenshot there (BMP)\n"

        "    --stdin-commands          headless: read commands from stdin, one per line:\n"
        "                              /mute, /unmute, /camera on|off,\n"
        "                              /verify PEER (name or peer id: you compared\n"
        "                              the SAS; stored with its pin), /leave;\n"
        "                              //TEXT sends /TEXT; any other line is a chat\n"
        "                              message (lines up to 65536 bytes of UTF-8)\n"
        "    exit status: 0 the call ended as asked and a peer was secure at some\n"
        "                 point; 1 joining failed or the call broke; 2 usage error;\n"
        "                 3 joined, but no peer became secure (end-to-end encrypted)\n",
        f);
}

typedef struct options {
  const char *server, *room, *token, *secret, *name, *known_peers, *screenshot_dir;
  bool headless, json, admit_all, measure_tone, stdin_commands, ui_test_control;
  ml_media_video_source video;
  ml_media_audio_source audio;
  double duration_s; /* <= 0: no limit */
  const char *chat[MAX_CHAT_LINES];
  size_t n_chat;
  const char *local[MAX_LOCAL_ADDRESSES];
  size_t n_local;
} options;

static int usage_error(const char *what, const char *arg) {
  fprintf(stderr, "mentorlink join: %s%s%s\n(see mentorlink help)\n", what, arg ? ": " : "",
          arg ? arg : "");
  return 2;
}

static int parse_options(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->video = ML_MEDIA_VIDEO_CAMERA;
  o->audio = ML_MEDIA_AUDIO_MIC;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = true;
    if (!strcmp(a, "--headless")) {
      o->headless = true;
      takes = false;
    } else if (!strcmp(a, "--json")) {
      o->json = true;
      takes = false;
    } else if (!strcmp(a, "--admit-all")) {
      o->admit_all = true;
      takes = false;
    } else if (!strcmp(a, "--measure-tone")) {
      o->measure_tone = true;
      takes = false;
    } else if (!strcmp(a, "--stdin-commands")) {
      o->stdin_commands = true;
      takes = false;
    } else if (!strcmp(a, "--ui-test-control")) { /* tests: window commands on stdin */
      o->ui_test_control = true;
      takes = false;
    } else if (!v) {
      return usage_error("missing value after", a);
    } else if (!strcmp(a, "--server")) {
      o->server = v;
    } else if (!strcmp(a, "--room")) {
      o->room = v;
    } else if (!strcmp(a, "--token")) {
      o->token = v;
    } else if (!strcmp(a, "--room-secret")) {
      o->secret = v;
    } else if (!strcmp(a, "--name")) {
      o->name = v;
    } else if (!strcmp(a, "--known-peers")) {
      o->known_peers = v;
    } else if (!strcmp(a, "--screenshot-dir")) {
      o->screenshot_dir = v;
    } else if (!strcmp(a, "--video-source")) {
      if (!strcmp(v, "camera"))
        o->video = ML_MEDIA_VIDEO_CAMERA;
      else if (!strcmp(v, "test"))
        o->video = ML_MEDIA_VIDEO_TEST;
      else if (!strcmp(v, "none"))
        o->video = ML_MEDIA_VIDEO_NONE;
      else
        return usage_error("--video-source is camera, test or none, not", v);
    } else if (!strcmp(a, "--audio-source")) {
      if (!strcmp(v, "mic"))
        o->audio = ML_MEDIA_AUDIO_MIC;
      else if (!strcmp(v, "test"))
        o->audio = ML_MEDIA_AUDIO_TEST;
      else if (!strcmp(v, "none"))
        o->audio = ML_MEDIA_AUDIO_NONE;
      else
        return usage_error("--audio-source is mic, test or none, not", v);
    } else if (!strcmp(a, "--duration")) {
      char *end = NULL;
      o->duration_s = strtod(v, &end);
      if (!end || *end || !(o->duration_s > 0 && o->duration_s <= 86400.0 * 7))
        return usage_error("--duration wants seconds (0 < s <= 604800), not", v);
    } else if (!strcmp(a, "--chat")) {
      if (o->n_chat == MAX_CHAT_LINES)
        return usage_error("too many --chat lines", NULL);
      o->chat[o->n_chat++] = v;
    } else if (!strcmp(a, "--local-address")) {
      if (o->n_local == MAX_LOCAL_ADDRESSES)
        return usage_error("too many --local-address", NULL);
      o->local[o->n_local++] = v;
    } else {
      return usage_error("unknown option", a);
    }
    if (takes)
      i++;
  }
  if (!o->secret)
    o->secret = getenv("MENTORLINK_ROOM_SECRET");
  if (o->secret && !o->secret[0])
    o->secret = NULL;
  if (!o->server)
    return usage_error("--server is required", NULL);
  if (!o->token && !o->room)
    return usage_error("--room (open mode) or --token (token mode) is required", NULL);
  if (o->token && o->room)
    return usage_error("--token and --room exclude each other (the token names the room)", NULL);
  if (o->room && !o->name)
    return usage_error("--name is required with --room", NULL);
  if (o->token && o->secret)
    return usage_error("--room-secret is for open mode (--room)", NULL);
  return 0;
}

/* ---- output ---- */

/* One JSON object per line, written by hand so numbers print as people read
 * them (json-glib prints doubles with 17 digits). Strings are escaped per
 * RFC 8259; every text here is valid UTF-8 (the engine makes peer text so). */
static void js_sep(GString *j) {
  if (j->len > 1)
    g_string_append_c(j, ',');
}

static void add_str(GString *j, const char *k, const char *v) {
  js_sep(j);
  g_string_append_printf(j, "\"%s\":\"", k);
  for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf(j, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      g_string_append_printf(j, "\\u%04x", *p);
    else
      g_string_append_c(j, (char)*p);
  }
  g_string_append_c(j, '"');
}

static void add_int(GString *j, const char *k, int64_t v) {
  js_sep(j);
  g_string_append_printf(j, "\"%s\":%lld", k, (long long)v);
}

static void add_double(GString *j, const char *k, double v, int decimals) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE], fmt[8];
  js_sep(j);
  snprintf(fmt, sizeof fmt, "%%.%df", decimals);
  g_string_append_printf(j, "\"%s\":%s", k, g_ascii_formatd(buf, sizeof buf, fmt, v));
}

static void add_raw(GString *j, const char *k, const char *v) {
  js_sep(j);
  g_string_append_printf(j, "\"%s\":%s", k, v);
}

static const char *pin_name(int pin) {
  switch (pin) {
  case ML_PIN_NEW: return "new";
  case ML_PIN_MATCH: return "match";
  case ML_PIN_CHANGED: return "changed";
  default: return "off";
  }
}

static const char *signaling_state_name(int st) {
  static const char *const names[] = {"connecting", "joining",      "waiting",
                                      "joined",     "reconnecting", "closed"};
  return st >= 0 && st < (int)G_N_ELEMENTS(names) ? names[st] : "unknown";
}

static void print_json(const ml_call_event *ev) {
  GString *b = g_string_new("{");
  add_str(b, "event", ml_call_event_name(ev->type));
  add_int(b, "t_ms", ev->t_ms);
  if (ev->peer_id[0] && ev->type != ML_CALL_EV_JOINED) {
    add_str(b, "peer", ev->peer_id);
    add_str(b, "name", ev->peer_name);
  }
  const ml_call_stats *s = &ev->stats;
  switch (ev->type) {
  case ML_CALL_EV_SIGNALING: add_str(b, "state", signaling_state_name(ev->state)); break;
  case ML_CALL_EV_JOINED:
    add_str(b, "peer_id", ev->peer_id);
    add_str(b, "name", ev->peer_name);
    add_str(b, "room", ev->text ? ev->text : "");
    break;
  case ML_CALL_EV_PEER_JOINED:
  case ML_CALL_EV_KNOCK: add_str(b, "announced_fingerprint", ev->fingerprint); break;
  case ML_CALL_EV_PEER_LEFT: add_str(b, "reason", ev->text ? ev->text : ""); break;
  case ML_CALL_EV_PEER_STATE:
    add_str(b, "state", ml_call_peer_state_name((ml_peer_link_state)ev->state));
    add_str(b, "path", ml_call_path_name(ev->path));
    break;
  case ML_CALL_EV_VERIFIED:
    add_str(b, "sas", ev->sas);
    add_str(b, "safety_number", ev->safety_number);
    add_str(b, "fingerprint", ev->fingerprint);
    add_str(b, "pin", pin_name(ev->pin));
    add_raw(b, "verified", ev->verified ? "true" : "false");
    break;
  case ML_CALL_EV_IDENTITY_CHANGED:
    add_str(b, "fingerprint", ev->fingerprint);
    add_str(b, "pinned_fingerprint", ev->old_fingerprint);
    add_str(b, "warning", ev->text ? ev->text : "");
    break;
  case ML_CALL_EV_CHAT:
  case ML_CALL_EV_CHAT_SENT:
    add_int(b, "id", (int64_t)ev->id);
    add_str(b, "text", ev->text ? ev->text : "");
    break;
  case ML_CALL_EV_RECEIPT: add_int(b, "id", (int64_t)ev->id); break;
  case ML_CALL_EV_STATS:
    add_str(b, "path", ml_call_path_name(s->path));
    if (s->rtt_ms >= 0)
      add_double(b, "rtt_ms", s->rtt_ms, 2);
    else
      add_raw(b, "rtt_ms", "null");
    add_double(b, "loss", s->loss, 4);
    add_int(b, "target_kbps", s->target_kbps);
    add_raw(b, "video_paused", s->video_paused ? "true" : "false");
    add_double(b, "bitrate_kbps", s->bitrate_kbps, 1);
    add_double(b, "fps", s->fps, 1);
    add_double(b, "jitter_ms", s->jitter_ms, 2);
    add_int(b, "latency_ms", s->latency_ms);
    if (s->e2e_latency_ms >= 0)
      add_double(b, "e2e_latency_ms", s->e2e_latency_ms, 1);
    else
      add_raw(b, "e2e_latency_ms", "null");
    add_int(b, "video_frames_decoded", (int64_t)s->video_frames_decoded);
    add_int(b, "audio_ms_decoded", (int64_t)s->audio_ms_decoded);
    add_int(b, "first_frame_ms", s->first_frame_ms);
    add_int(b, "first_frame_since_start_ms", s->first_frame_since_start_ms);
    add_int(b, "video_frames_sent", (int64_t)s->video_frames_sent);
    add_int(b, "rtp_packets_sent", (int64_t)s->rtp_packets_sent);
    add_int(b, "packets_lost", s->packets_lost);
    if (s->audio_tone_hz > 0)
      add_double(b, "audio_tone_hz", s->audio_tone_hz, 1);
    add_int(b, "datagrams_in", (int64_t)s->datagrams_in);
    add_int(b, "datagrams_out", (int64_t)s->datagrams_out);
    add_int(b, "opened", (int64_t)s->opened);
    add_int(b, "dropped_not_ours", (int64_t)s->dropped_not_ours);
    add_int(b, "dropped_malformed", (int64_t)s->dropped_malformed);
    add_int(b, "dropped_unexpected", (int64_t)s->dropped_unexpected);
    add_int(b, "dropped_auth", (int64_t)s->dropped_auth);
    add_int(b, "dropped_replay", (int64_t)s->dropped_replay);
    add_int(b, "dropped_handshake", (int64_t)s->dropped_handshake);
    add_int(b, "pli_sent", (int64_t)s->pli_sent);
    add_int(b, "pli_received", (int64_t)s->pli_received);
    add_int(b, "control_unknown", (int64_t)s->control_unknown);
    add_int(b, "control_malformed", (int64_t)s->control_malformed);
    add_raw(b, "final", s->final ? "true" : "false");
    break;
  case ML_CALL_EV_ERROR:
    if (ev->err)
      add_str(b, "error", ml_strerror(ev->err));
    add_str(b, "message", ev->text ? ev->text : "");
    add_raw(b, "fatal", ev->fatal ? "true" : "false");
    break;
  case ML_CALL_EV_PEER_MEDIA:
    add_raw(b, "muted", ev->media.muted ? "true" : "false");
    add_raw(b, "camera_on", ev->media.camera_on ? "true" : "false");
    add_raw(b, "video_paused", ev->media.video_paused ? "true" : "false");
    break;
  case ML_CALL_EV_MARKED_VERIFIED:
    add_raw(b, "ok", ev->err ? "false" : "true");
    if (ev->err)
      add_str(b, "error", ml_strerror(ev->err));
    else
      add_str(b, "fingerprint", ev->fingerprint);
    break;
  case ML_CALL_EV_ENDED: break;
  }
  g_string_append(b, "}\n");
  fputs(b->str, stdout);
  fflush(stdout);
  g_string_free(b, TRUE);
}

static void print_text(const ml_call_event *ev) {
  double t = (double)ev->t_ms / 1000.0;
  const char *who = ev->peer_name[0] ? ev->peer_name : "";
  const ml_call_stats *s = &ev->stats;
  switch (ev->type) {
  case ML_CALL_EV_SIGNALING:
    printf("[%7.3f] signaling: %s\n", t, signaling_state_name(ev->state));
    break;
  case ML_CALL_EV_JOINED:
    printf("[%7.3f] joined room %s as \"%s\" (peer id %s)\n", t, ev->text ? ev->text : "",
           ev->peer_name, ev->peer_id);
    break;
  case ML_CALL_EV_PEER_JOINED:
    printf("[%7.3f] %s joined (announced fingerprint %s)\n", t, who, ev->fingerprint);
    break;
  case ML_CALL_EV_PEER_LEFT: printf("[%7.3f] %s left (%s)\n", t, who, ev->text); break;
  case ML_CALL_EV_KNOCK:
    printf("[%7.3f] %s is waiting to be admitted (fingerprint %s)\n", t, who, ev->fingerprint);
    break;
  case ML_CALL_EV_PEER_STATE:
    printf("[%7.3f] %s: %s, path %s\n", t, who,
           ml_call_peer_state_name((ml_peer_link_state)ev->state), ml_call_path_name(ev->path));
    break;
  case ML_CALL_EV_VERIFIED:
    printf("[%7.3f] %s: end-to-end encrypted%s\n"
           "          SAS            %s\n"
           "          safety number  %s\n"
           "          fingerprint    %s (pin: %s%s)\n",
           t, who,
           ev->verified ? "; you verified this identity in an earlier call"
                        : ". Read aloud and compare:",
           ev->sas, ev->safety_number, ev->fingerprint, pin_name(ev->pin),
           ev->verified ? ", verified" : "");
    break;
  case ML_CALL_EV_IDENTITY_CHANGED:
    printf("\n!!! WARNING: the identity of \"%s\" has CHANGED !!!\n"
           "!!! pinned:  %s\n!!! now:     %s\n!!! %s\n"
           "!!! If this is expected (new device), compare the SAS aloud, then remove the old\n"
           "!!! line from the known_peers file (or, with --stdin-commands, type /verify NAME).\n\n",
           who, ev->old_fingerprint, ev->fingerprint, ev->text ? ev->text : "");
    break;
  case ML_CALL_EV_CHAT: printf("[%7.3f] <%s> %s\n", t, who, ev->text); break;
  case ML_CALL_EV_CHAT_SENT:
    printf("[%7.3f] chat to %s queued (id %llu)\n", t, who, (unsigned long long)ev->id);
    break;
  case ML_CALL_EV_RECEIPT:
    printf("[%7.3f] %s received message %llu\n", t, who, (unsigned long long)ev->id);
    break;
  case ML_CALL_EV_STATS: {
    char rtt[32];
    if (s->rtt_ms >= 0)
      snprintf(rtt, sizeof rtt, "%.1f ms", s->rtt_ms);
    else
      snprintf(rtt, sizeof rtt, "unknown");
    printf("[%7.3f] %s: path %s, rtt %s, loss %.1f %%, %.0f kbps in, %.0f fps, "
           "video out %u kbps%s, "
           "frames %llu decoded / %llu sent, audio %llu ms, first frame %lld ms%s\n",
           t, who, ml_call_path_name(s->path), rtt, s->loss * 100.0, s->bitrate_kbps, s->fps,
           s->target_kbps, s->video_paused ? " (paused)" : "",
           (unsigned long long)s->video_frames_decoded, (unsigned long long)s->video_frames_sent,
           (unsigned long long)s->audio_ms_decoded, (long long)s->first_frame_ms,
           s->final ? " (final)" : "");
    break;
  }
  case ML_CALL_EV_ERROR:
    printf("[%7.3f] %s%s%s: %s%s%s%s\n", t, ev->fatal ? "FATAL error" : "error",
           who[0] ? " with " : "", who, ev->text, ev->err ? " (" : "",
           ev->err ? ml_strerror(ev->err) : "", ev->err ? ")" : "");
    break;
  case ML_CALL_EV_PEER_MEDIA:
    printf("[%7.3f] %s: microphone %s, camera %s%s\n", t, who, ev->media.muted ? "muted" : "on",
           ev->media.camera_on ? "on" : "off",
           ev->media.video_paused ? ", video paused for bandwidth" : "");
    break;
  case ML_CALL_EV_MARKED_VERIFIED:
    if (ev->err)
      printf("[%7.3f] %s: could not store the verification: %s\n", t, who[0] ? who : ev->peer_id,
             ml_strerror(ev->err));
    else
      printf("[%7.3f] %s: marked verified (fingerprint %s)\n", t, who, ev->fingerprint);
    break;
  case ML_CALL_EV_ENDED: printf("[%7.3f] call ended\n", t); break;
  }
  fflush(stdout);
}

/* ---- commands from stdin ---- */

typedef struct commands {
  GString *buf;      /* bytes of the line being read */
  bool skipping;     /* the current line grew too long: drop it up to its newline */
  bool eof;          /* stdin ended (or failed): no more commands */
  bool leave;        /* /leave was given */
  GHashTable *peers; /* peer id -> display name (owned), from the events */
} commands;

static void command_error(const char *what, const char *arg) {
  fprintf(stderr, "mentorlink: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
}

/* /verify ARG: a peer id, or the display name of exactly one peer. */
static void command_verify(ml_call *call, commands *c, const char *arg) {
  if (g_hash_table_contains(c->peers, arg)) {
    ml_call_mark_verified(call, arg);
    return;
  }
  const char *found = NULL;
  unsigned n = 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, c->peers);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (!strcmp(v, arg)) {
      found = k;
      n++;
    }
  if (n == 1)
    ml_call_mark_verified(call, found);
  else
    command_error(n ? "/verify: several peers have that name; give the peer id"
                    : "/verify: no peer with that name or id",
                  arg);
}

static void run_command(ml_call *call, commands *c, const char *line) {
  if (!line[0])
    return; /* empty lines are nothing */
  if (!g_utf8_validate(line, -1, NULL)) {
    command_error("a line of stdin is not UTF-8; ignored", NULL);
    return;
  }
  if (line[0] != '/' || line[1] == '/') {
    if (ml_call_send_chat(call, line[0] == '/' ? line + 1 : line) != ML_OK)
      command_error("chat line refused (too long)", NULL);
  } else if (!strcmp(line, "/mute")) {
    ml_call_set_muted(call, true);
  } else if (!strcmp(line, "/unmute")) {
    ml_call_set_muted(call, false);
  } else if (!strcmp(line, "/camera on")) {
    ml_call_set_camera_on(call, true);
  } else if (!strcmp(line, "/camera off")) {
    ml_call_set_camera_on(call, false);
  } else if (!strncmp(line, "/verify ", 8) && line[8]) {
    command_verify(call, c, line + 8);
  } else if (!strcmp(line, "/leave")) {
    c->leave = true;
  } else {
    command_error("unknown command (send a line starting with / as //...)", line);
  }
}

static void end_line(ml_call *call, commands *c) {
  if (c->buf->len && c->buf->str[c->buf->len - 1] == '\r')
    g_string_truncate(c->buf, c->buf->len - 1);
  if (!c->skipping && strlen(c->buf->str) == c->buf->len)
    run_command(call, c, c->buf->str);
  else if (!c->skipping)
    command_error("a line of stdin holds a NUL byte; ignored", NULL);
  c->skipping = false;
  g_string_truncate(c->buf, 0);
}

/* Called when poll() says stdin is readable: one read (it does not block
 * then, and stdin stays in blocking mode for whoever shares it), and each
 * complete line is run. */
static void read_commands(ml_call *call, commands *c) {
  char chunk[4096];
  ssize_t r = read(STDIN_FILENO, chunk, sizeof chunk);
  if (r < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (r <= 0) {
    c->eof = true; /* a last line without a newline still counts */
    if (c->buf->len || c->skipping)
      end_line(call, c);
    return;
  }
  for (ssize_t i = 0; i < r; i++) {
    if (chunk[i] == '\n') {
      end_line(call, c);
    } else if (c->skipping) {
      continue;
    } else if (c->buf->len >= MAX_COMMAND_LINE + 1) { /* + 1: room for a CR */
      command_error("a line of stdin is longer than 65536 bytes; ignored", NULL);
      c->skipping = true;
      g_string_truncate(c->buf, 0);
    } else {
      g_string_append_c(c->buf, chunk[i]);
    }
  }
}

/* ---- the run ---- */

static int64_t now_ms(void) { return g_get_monotonic_time() / 1000; }

typedef struct run_state {
  const options *o;
  commands *cmd;
  bool chat_sent, joined, secure, fatal, ended;
} run_state;

/* Every event, in the window or headless: print it, send the --chat lines
 * once the first peer is secure, note how the call goes. */
static void on_event(ml_call *call, const ml_call_event *ev, void *user) {
  run_state *st = user;
  if (st->o->json)
    print_json(ev);
  else
    print_text(ev);
  if (ev->type == ML_CALL_EV_JOINED) {
    st->joined = true;
    g_hash_table_remove_all(st->cmd->peers); /* after a reconnect: new ids */
  }
  if (ev->type == ML_CALL_EV_PEER_JOINED)
    g_hash_table_replace(st->cmd->peers, g_strdup(ev->peer_id), g_strdup(ev->peer_name));
  if (ev->type == ML_CALL_EV_PEER_LEFT)
    g_hash_table_remove(st->cmd->peers, ev->peer_id);
  if (ev->type == ML_CALL_EV_ERROR && ev->fatal)
    st->fatal = true; /* e.g. signaling refused us */
  if (ev->type == ML_CALL_EV_VERIFIED)
    st->secure = true;
  if (ev->type == ML_CALL_EV_VERIFIED && !st->chat_sent) {
    st->chat_sent = true;
    for (size_t i = 0; i < st->o->n_chat; i++)
      if (ml_call_send_chat(call, st->o->chat[i]) != ML_OK)
        fprintf(stderr, "mentorlink: chat line %zu refused (empty, too long or not UTF-8)\n",
                i + 1);
  }
}

static void run_headless(ml_call *call, const options *o, run_state *st) {
  int64_t deadline = o->duration_s > 0 ? now_ms() + (int64_t)(o->duration_s * 1000.0) : -1;
  int64_t end_by = -1;
  while (!st->ended) {
    int64_t now = now_ms();
    if (end_by < 0 && (stop_requested || st->cmd->leave || (deadline >= 0 && now >= deadline))) {
      ml_call_leave(call);
      end_by = now + END_WAIT_MS;
    }
    if (end_by >= 0 && now >= end_by) {
      fprintf(stderr, "mentorlink: the engine did not end in time\n");
      st->fatal = true;
      break;
    }
    int64_t wake = end_by >= 0 ? end_by : deadline;
    int timeout = wake < 0 ? 1000 : (int)MIN(1000, MAX(0, wake - now));
    struct pollfd pfd[2] = {{.fd = ml_call_event_fd(call), .events = POLLIN},
                            {.fd = STDIN_FILENO, .events = POLLIN}};
    bool read_stdin = !st->cmd->eof && end_by < 0;
    if (poll(pfd, read_stdin ? 2 : 1, timeout) < 0 && errno != EINTR)
      break;
    if (read_stdin && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
      read_commands(call, st->cmd);
    ml_call_event *ev;
    while ((ev = ml_call_next_event(call, 0)) != NULL) {
      on_event(call, ev, st);
      if (ev->type == ML_CALL_EV_ENDED) {
        st->ended = true;
        if (end_by < 0)
          st->fatal = true; /* ended without being asked */
      }
      ml_call_event_free(ev);
    }
  }
}

/* The window; false when it could not open (the caller goes on headless). */
static bool run_window(ml_call *call, const options *o, run_state *st) {
  char title[200];
  snprintf(title, sizeof title, "mentorlink%s%s", o->room ? ": " : "", o->room ? o->room : "");
  ml_ui_config ui = {
      .call = call,
      .self_name = o->name,
      .title = title,
      .screenshot_dir = o->screenshot_dir,
      .test_control = o->ui_test_control,
      .deadline_ms = o->duration_s > 0 ? now_ms() + (int64_t)(o->duration_s * 1000.0) : -1,
      .stop = &stop_requested,
      .on_event = on_event,
      .user = st,
  };
  ml_ui_result res;
  if (ml_ui_run(&ui, &res) != 0)
    return false;
  st->ended = res.ended;
  st->fatal = st->fatal || res.fatal;
  return true;
}

int ml_join_run(int argc, char **argv) {
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc)
    return rc;
  if (o.stdin_commands && !o.headless)
    return usage_error("--stdin-commands needs --headless", "the window takes its commands from "
                                                            "the keyboard and mouse");
  /* A closed stdin: descriptor 0 would be whatever we open next. */
  bool stdin_open = fcntl(STDIN_FILENO, F_GETFD) >= 0;
  if (o.stdin_commands && !stdin_open)
    command_error("--stdin-commands: stdin is closed; no commands", NULL);
  char id_path[4096];
  ml_identity *id = NULL;
  int err = ml_identity_default_path(id_path, sizeof id_path);
  if (!err)
    err = ml_identity_load_or_create(&id, id_path, getenv("MENTORLINK_PASSPHRASE"), NULL);
  if (err) {
    fprintf(stderr, "mentorlink: cannot load your identity: %s (see mentorlink identity)\n",
            ml_strerror(err));
    return 1;
  }
  ml_call_config cfg = {
      .server_url = o.server,
      .token = o.token,
      .room = o.room,
      .name = o.room ? o.name : NULL,
      .room_secret = o.secret,
      .identity = id,
      .pins_path = o.known_peers,
      .video = o.video,
      .audio = o.audio,
      .headless = o.headless,
      .admit_all = o.admit_all,
      .measure_tone = o.measure_tone,
      .local_addresses = o.local,
      .n_local_addresses = o.n_local,
  };
  ml_call *call = NULL;
  err = ml_call_new(&call, &cfg);
  if (err) {
    ml_identity_free(id);
    return usage_error("the call settings were refused (room, name or secret out of bounds)",
                       ml_strerror(err));
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  commands cmd = {.buf = g_string_new(NULL),
                  .eof = !o.stdin_commands || !stdin_open,
                  .peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)};
  run_state st = {.o = &o, .cmd = &cmd};
  if (o.headless || !run_window(call, &o, &st)) {
    if (!o.headless)
      fprintf(stderr, "mentorlink: going on without a window\n");
    run_headless(call, &o, &st);
  }
  ml_call_free(call);
  ml_identity_free(id);
  g_string_free(cmd.buf, TRUE);
  g_hash_table_destroy(cmd.peers);
  if (st.fatal || !st.joined)
    return 1;
  if (!st.secure) {
    fprintf(stderr, "mentorlink: no peer became secure (end-to-end encrypted) during the call%s\n",
            o.json ? "" : "; see the errors above");
    return 3;
  }
  return 0;
}
