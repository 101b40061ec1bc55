/* mentorlink join: its options (see join_internal.h). */
#include "join.h"
#include "join_internal.h"

#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <sodium.h>

#include "ml/signal_client.h"

#define MAX_FILE_BYTES 8192 /* a token or an invite file */

void ml_join_usage(FILE *f) {
  fputs("  join --discover              list the rooms announced on this network (by\n"
        "                              mentorlink host, through Avahi), each with its link\n"
        "  join LINK [--name NAME] [options]\n"
        "                              join a call from an invite link\n"
        "                              (mentorlink://join?..., from mentorlink-signal invite\n"
        "                              or mentorlink host)\n"
        "  join --server URL --room ROOM --name NAME [options]\n"
        "                              join a call (open mode: room code + display name)\n"
        "  join --server URL --token TOKEN [options]\n"
        "                              join a call with a signed join token\n"
        "    --invite-file FILE        the invite link is in FILE (not on the command\n"
        "                              line, where other local users see it in ps); or\n"
        "                              set MENTORLINK_INVITE\n"
        "    --token-file FILE         the join token is in FILE; or set MENTORLINK_TOKEN\n"
        "    --config FILE             settings (default\n"
        "                              $XDG_CONFIG_HOME/mentorlink/mentorlink.conf):\n"
        "                              [join] server, ca_file and name, used when the\n"
        "                              command line does not give them\n"
        "    --server URL              signaling server WebSocket URL, e.g.\n"
        "                              ws://127.0.0.1:8443/v1/ws (wss:// with TLS); or\n"
        "                              up to 8, comma-separated: instances of one\n"
        "                              service, tried in turn when one is lost\n"
        "    --room ROOM               room code (open mode) [A-Za-z0-9_.-]{1,64}\n"
        "    --name NAME               your display name (open mode; 1-64 bytes); with\n"
        "                              an invite link, default: your account's name\n"
        "    --token TOKEN             join token from the operator (token mode)\n"
        "    --room-secret SECRET      open mode: the room secret (1-64 bytes); it keys\n"
        "                              the handshake (Noise PSK) and is never sent to the\n"
        "                              server. Visible to other local users in ps: prefer\n"
        "                              MENTORLINK_ROOM_SECRET in the environment\n"
        "    --headless                no window (also: audio to a fake sink)\n"
        "    --video-source camera|test|none   default camera\n"
        "    --video-size WxH          capture and top sending size, e.g. 320x180 (16-1920\n"
        "                              by 16-1080, even); default 640x360. On a weak link\n"
        "                              the sender still steps down from it\n"
        "    --receive-layer small|large   which of each sender's two video layers to\n"
        "                              receive: the small one (half size) for a view of\n"
        "                              thumbnails, a bot or a weak link; default large\n"
        "                              (the window asks by tile size instead)\n"
        "    --audio-source mic|test|none      default mic\n"
        "    --camera DEVICE           the camera by name or id (mentorlink devices);\n"
        "                              default: the first\n"
        "    --microphone DEVICE       the microphone by name or id; default: the\n"
        "                              sound server's default. A device that is not\n"
        "                              there is said, and the call goes on without it\n"
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
        "    --screenshot-dir DIR      window: F12 saves a PNG screenshot there\n"
        "    --ca-file FILE            trust the certificate authorities in FILE (PEM)\n"
        "                              for wss:// instead of the system store, e.g. a\n"
        "                              hospital's own CA\n"

        "    --stdin-commands          headless: read commands from stdin, one per line:\n"
        "                              /mute, /unmute, /camera on|off,\n"
        "                              /verify PEER (name or peer id: you compared\n"
        "                              the SAS; stored with its pin), /stats (every\n"
        "                              peer's figures now; text mode shows them every\n"
        "                              10 s), /leave;\n"
        "                              //TEXT sends /TEXT; any other line is a chat\n"
        "                              message (lines up to 65536 bytes of UTF-8)\n"
        "    exit status: 0 the call ended as asked and a peer was secure at some\n"
        "                 point; 1 joining failed or the call broke; 2 usage error;\n"
        "                 3 joined, but no peer became secure (end-to-end encrypted)\n",
        f);
}

int ml_join_usage_error(const char *what, const char *arg) {
  fprintf(stderr, "mentorlink join: %s%s%s\n(see mentorlink help)\n", what, arg ? ": " : "",
          arg ? arg : "");
  return 2;
}

/* What is wrong with the values, each named by its flag (the engine would
 * only say "invalid argument"); 0 or 2 after printing it. */
static int check_values(const ml_join_options *o) {
  g_auto(GStrv) urls = g_strsplit(o->server, ",", -1);
  if (!urls[0] || g_strv_length(urls) > ML_SIGNAL_MAX_URLS)
    return ml_join_usage_error("--server takes 1 to 8 comma-separated addresses", NULL);
  for (char **u = urls; *u; u++) {
    g_strstrip(*u);
    if (!g_str_has_prefix(*u, "ws://") && !g_str_has_prefix(*u, "wss://"))
      return ml_join_usage_error("--server wants a ws:// or wss:// address ending in /v1/ws "
                                 "(e.g. wss://signal.example.org/v1/ws), not",
                                 *u);
  }
  if (o->room && !ml_signal_valid_id(o->room, ML_SIGNAL_MAX_ROOM))
    return ml_join_usage_error("--room is 1-64 letters, digits, '_', '-' or '.', not", o->room);
  if (o->room && !ml_signal_valid_name(o->name))
    return ml_join_usage_error("--name is 1-64 bytes of UTF-8 without control characters", NULL);
  if (o->token && (!o->token[0] || strlen(o->token) > 1024))
    return ml_join_usage_error("--token is empty or longer than 1024 bytes", NULL);
  if (o->secret && strlen(o->secret) > 64)
    return ml_join_usage_error("the room secret is longer than 64 bytes", NULL);
  if (o->ca_file) {
    g_autoptr(GError) err = NULL;
    g_autoptr(GTlsDatabase) db = g_tls_file_database_new(o->ca_file, &err);
    if (!db)
      return ml_join_usage_error("--ca-file cannot be used", err->message);
  }
  return 0;
}

/* The first line of a token or invite file, in *out (owned): 0, or 2 after
 * saying what is wrong, naming the flag. */
static int read_line_file(const char *flag, const char *path, char **out) {
  char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(path, &text, &len, &err))
    return ml_join_usage_error(flag, err->message);
  int rc = 0;
  char *line = g_strstrip(text);
  line[strcspn(line, "\r\n")] = '\0';
  if (len > MAX_FILE_BYTES || memchr(text, '\0', len) != line + strlen(line) || !line[0])
    rc = ml_join_usage_error(flag, "the file is empty, too long or not text");
  else
    *out = g_strdup(line);
  sodium_memzero(text, len);
  g_free(text);
  return rc;
}

/* --invite-file and --token-file; then MENTORLINK_INVITE and
 * MENTORLINK_TOKEN when the command line names no link, token or room. */
static int take_files(ml_join_options *o) {
  int rc = 0;
  if (o->invite_file && o->link)
    return ml_join_usage_error("--invite-file and an invite link exclude each other", NULL);
  if (o->token_file && o->token)
    return ml_join_usage_error("--token-file and --token exclude each other", NULL);
  if (o->invite_file && (rc = read_line_file("--invite-file", o->invite_file, &o->file_text[0])))
    return rc;
  if (o->token_file && (rc = read_line_file("--token-file", o->token_file, &o->file_text[1])))
    return rc;
  if (o->file_text[0])
    o->link = o->file_text[0];
  if (o->file_text[1])
    o->token = o->file_text[1];
  const char *link = getenv("MENTORLINK_INVITE"), *token = getenv("MENTORLINK_TOKEN");
  if (!o->link && !o->token && !o->room) {
    if (link && link[0])
      o->link = link;
    else if (token && token[0])
      o->token = token;
  }
  return 0;
}

/* The link's server, and its token or room and secret, where the command
 * line gives none of them. */
static int take_link(ml_join_options *o) {
  if (!o->link)
    return 0;
  const char *why = NULL;
  if (ml_invite_parse(o->link, &o->invite, &why) != ML_OK)
    return ml_join_usage_error("the invite link cannot be used", why);
  if (o->server)
    return ml_join_usage_error("the invite link names the server: leave out --server", NULL);
  if (o->token || o->room)
    return ml_join_usage_error("the invite link names the room: leave out --token and --room",
                               NULL);
  if (o->invite.secret[0] && o->secret)
    return ml_join_usage_error("the invite link holds the room secret: leave out --room-secret",
                               NULL);
  o->server = o->invite.server;
  o->token = o->invite.token[0] ? o->invite.token : NULL;
  o->room = o->invite.room[0] ? o->invite.room : NULL;
  if (o->invite.secret[0])
    o->secret = o->invite.secret;
  return 0;
}

char *ml_join_config_path(const char *given) {
  return given ? g_strdup(given)
               : g_build_filename(g_get_user_config_dir(), "mentorlink", "mentorlink.conf", NULL);
}

/* [join] server, ca_file and name from the config file, for what the
 * command line and the link left open. A missing file is fine unless it was
 * named with --config. */
static int take_config(ml_join_options *o) {
  g_autofree char *path = ml_join_config_path(o->config_path);
  g_autoptr(GError) err = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
    if (!o->config_path && g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return 0;
    g_autofree char *what = g_strdup_printf("the config file %s cannot be used", path);
    return ml_join_usage_error(what, err->message);
  }
  static const char *const keys[] = {"server", "ca_file", "name"};
  const char **slots[] = {&o->server, &o->ca_file, &o->name};
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
    o->config_values[i] = g_key_file_get_string(kf, "join", keys[i], NULL);
    if (o->config_values[i] && !*slots[i])
      *slots[i] = o->config_values[i];
  }
  return 0;
}

/* Who this account belongs to, as a display name: the real name, else the
 * login name (owned). */
static char *account_name(void) {
  const char *real = g_get_real_name();
  if (real && strcmp(real, "Unknown") != 0 && ml_signal_valid_name(real))
    return g_strdup(real);
  return g_strdup(g_get_user_name());
}

void ml_join_options_clear(ml_join_options *o) {
  sodium_memzero(&o->invite, sizeof o->invite);
  for (size_t i = 0; i < G_N_ELEMENTS(o->file_text); i++) {
    if (o->file_text[i])
      sodium_memzero(o->file_text[i], strlen(o->file_text[i]));
    g_free(o->file_text[i]);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(o->config_values); i++)
    g_free(o->config_values[i]);
  g_free(o->default_name);
  memset(o, 0, sizeof *o);
}

int ml_join_parse_options(int argc, char **argv, ml_join_options *o) {
  memset(o, 0, sizeof *o);
  o->video = ML_MEDIA_VIDEO_CAMERA;
  o->audio = ML_MEDIA_AUDIO_MIC;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = true;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("mentorlink join: join a call\n\n");
      ml_join_usage(stdout);
      return ML_JOIN_HELP;
    } else if (!strcmp(a, "--headless")) {
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
    } else if (a[0] != '-') {
      if (o->link)
        return ml_join_usage_error("one invite link at a time; unexpected argument", a);
      o->link = a;
      takes = false;
    } else if (!v) {
      return ml_join_usage_error("missing value after", a);
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
    } else if (!strcmp(a, "--ca-file")) {
      o->ca_file = v;
    } else if (!strcmp(a, "--invite-file")) {
      o->invite_file = v;
    } else if (!strcmp(a, "--token-file")) {
      o->token_file = v;
    } else if (!strcmp(a, "--config")) {
      o->config_path = v;
    } else if (!strcmp(a, "--camera")) {
      o->camera = v;
    } else if (!strcmp(a, "--microphone")) {
      o->microphone = v;
    } else if (!strcmp(a, "--video-size")) {
      unsigned w = 0, h = 0;
      char end = 0;
      if (sscanf(v, "%ux%u%c", &w, &h, &end) != 2 || w < 16 || w > 1920 || h < 16 || h > 1080 ||
          w % 2 || h % 2)
        return ml_join_usage_error("--video-size is WIDTHxHEIGHT, even, 16-1920 by 16-1080, not",
                                   v);
      o->video_width = w;
      o->video_height = h;
    } else if (!strcmp(a, "--receive-layer")) {
      if (strcmp(v, "small") && strcmp(v, "large"))
        return ml_join_usage_error("--receive-layer is small or large, not", v);
      o->receive_small = !strcmp(v, "small");
    } else if (!strcmp(a, "--video-source")) {
      if (!strcmp(v, "camera"))
        o->video = ML_MEDIA_VIDEO_CAMERA;
      else if (!strcmp(v, "test"))
        o->video = ML_MEDIA_VIDEO_TEST;
      else if (!strcmp(v, "none"))
        o->video = ML_MEDIA_VIDEO_NONE;
      else
        return ml_join_usage_error("--video-source is camera, test or none, not", v);
    } else if (!strcmp(a, "--audio-source")) {
      if (!strcmp(v, "mic"))
        o->audio = ML_MEDIA_AUDIO_MIC;
      else if (!strcmp(v, "test"))
        o->audio = ML_MEDIA_AUDIO_TEST;
      else if (!strcmp(v, "none"))
        o->audio = ML_MEDIA_AUDIO_NONE;
      else
        return ml_join_usage_error("--audio-source is mic, test or none, not", v);
    } else if (!strcmp(a, "--duration")) {
      char *end = NULL;
      o->duration_s = strtod(v, &end);
      if (!end || *end || !(o->duration_s > 0 && o->duration_s <= 86400.0 * 7))
        return ml_join_usage_error("--duration wants seconds (0 < s <= 604800), not", v);
    } else if (!strcmp(a, "--chat")) {
      if (o->n_chat == ML_JOIN_MAX_CHAT_LINES)
        return ml_join_usage_error("too many --chat lines", NULL);
      o->chat[o->n_chat++] = v;
    } else if (!strcmp(a, "--local-address")) {
      if (o->n_local == ML_JOIN_MAX_LOCAL_ADDRESSES)
        return ml_join_usage_error("too many --local-address", NULL);
      o->local[o->n_local++] = v;
    } else {
      return ml_join_usage_error("unknown option", a);
    }
    if (takes)
      i++;
  }
  int rc = take_files(o);
  if (!rc)
    rc = take_link(o);
  if (rc)
    return rc;
  if (!o->secret)
    o->secret = getenv("MENTORLINK_ROOM_SECRET");
  if (o->secret && !o->secret[0])
    o->secret = NULL;
  if ((rc = take_config(o)) != 0)
    return rc;
  if (o->room && !o->name && o->link)
    o->name = o->default_name = account_name();
  if (!o->server)
    return ml_join_usage_error("--server is required", NULL);
  if (!o->token && !o->room)
    return ml_join_usage_error("--room (open mode) or --token (token mode) is required", NULL);
  if (o->token && o->room)
    return ml_join_usage_error("--token and --room exclude each other (the token names the room)",
                               NULL);
  if (o->room && !o->name)
    return ml_join_usage_error("--name is required with --room", NULL);
  if (o->token && o->secret)
    return ml_join_usage_error("--room-secret is for open mode (--room)", NULL);
  return check_values(o);
}
