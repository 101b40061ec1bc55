/* mentorlink join --stdin-commands: the lines of stdin as commands and chat.
 * See join_internal.h. */
#include "join_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_COMMAND_LINE 65536 /* bytes of one stdin line, newline excluded (the chat maximum) */

void ml_join_command_error(const char *what, const char *arg) {
  fprintf(stderr, "mentorlink: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
}

/* /verify ARG: a peer id, or the display name of exactly one peer. */
static void command_verify(ml_call *call, ml_join_commands *c, const char *arg) {
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
    ml_join_command_error(n ? "/verify: several peers have that name; give the peer id"
                            : "/verify: no peer with that name or id",
                          arg);
}

static const char help_text[] =
    "Commands (one per line; anything else is a chat line, //TEXT sends /TEXT):\n"
    "  /help                 this list\n"
    "  /who                  who is in the room: role, microphone, camera, verified,\n"
    "                        connection, hands in order; for a host, who waits\n"
    "  /mute, /unmute        your microphone\n"
    "  /camera on|off        your camera\n"
    "  /hand, /hand down     raise or lower your hand\n"
    "  /react NAME           a reaction: thumbs_up clap heart laugh surprise question\n"
    "  /verify PEER          you compared the SAS words with PEER: store it as verified\n"
    "  /stats                every peer's figures now\n"
    "  /leave                leave the call\n"
    "Host only:\n"
    "  /admit NAME, /deny NAME  let a waiting person in, or refuse them\n"
    "  /remove NAME          remove someone from the room\n"
    "  /lock, /unlock        lock or unlock the room to new participants\n"
    "  /ask-mute NAME        ask someone to mute (only they can unmute)\n"
    "  /mute-all             ask everyone else to mute\n"
    "  /mute-all-but NAME    ask everyone but NAME (the speaker) to mute\n"
    "  /lower NAME           lower someone's hand\n"
    "  /spotlight NAME|off   put someone (or yourself) in the spotlight for everyone\n"
    "  /host NAME            hand the host role over (you become a participant)\n"
    "  /end                  end the session for everyone\n"
    "NAME is a display name or a peer id (see /who).\n";

const char *ml_join_help_text(void) { return help_text; }

/* Prints "mentorlink: WHAT[ NAME]" to stderr: a command's confirmation. */
static void confirm(const char *what, const char *name) {
  fprintf(stderr, "mentorlink: %s%s%s\n", what, name ? " " : "", name ? name : "");
}

/* A host-only command from a non-host: a clear refusal (the server or the
 * peers would refuse it too). */
static bool host_only(ml_join_commands *c, const char *cmd) {
  if (ml_join_roster_self_host(&c->roster))
    return true;
  fprintf(stderr, "mentorlink: %s: only a host of the room can do that (you are a participant)\n",
          cmd);
  return false;
}

/* The member arg names (waiting or admitted); NULL after saying why not. */
static const ml_join_member *target(ml_join_commands *c, const char *cmd, const char *arg,
                                    bool waiting, bool self_ok) {
  bool ambiguous = false;
  const ml_join_member *m = ml_join_roster_find(&c->roster, arg, waiting, self_ok, &ambiguous);
  if (!m)
    fprintf(stderr, "mentorlink: %s: %s: %s\n", cmd, arg,
            ambiguous ? "several people have that name; give the peer id (see /who)"
            : waiting ? "nobody of that name or id is waiting (see /who)"
                      : "nobody of that name or id is in the room (see /who)");
  return m;
}

static const char *arg_of(const char *line, const char *cmd) {
  size_t n = strlen(cmd);
  if (strncmp(line, cmd, n) != 0 || line[n] != ' ' || !line[n + 1])
    return NULL;
  return line + n + 1;
}

static void run_command(ml_call *call, ml_join_commands *c, const char *line) {
  if (!line[0])
    return; /* empty lines are nothing */
  if (!g_utf8_validate(line, -1, NULL)) {
    ml_join_command_error("a line of stdin is not UTF-8; ignored", NULL);
    return;
  }
  const char *a;
  const ml_join_member *m;
  if (line[0] != '/' || line[1] == '/') {
    if (ml_call_send_chat(call, line[0] == '/' ? line + 1 : line) != ML_OK)
      ml_join_command_error("chat line refused (too long)", NULL);
  } else if (!strcmp(line, "/help")) {
    fputs(help_text, stderr);
  } else if (!strcmp(line, "/who")) {
    if (c->joined_ms >= 0) {
      int64_t now = g_get_monotonic_time() / 1000;
      char clock[96];
      ml_join_clock_text(now - c->joined_ms, c->end_ms >= 0 ? MAX(0, c->end_ms - now) : -1, clock,
                         sizeof clock);
      fprintf(stderr, "%s\n", clock);
    }
    char *who = ml_join_roster_format(&c->roster);
    fputs(who, stderr);
    g_free(who);
  } else if (!strcmp(line, "/mute")) {
    ml_call_set_muted(call, true);
    c->roster.own_muted = true;
    confirm("your microphone is muted", NULL);
  } else if (!strcmp(line, "/unmute")) {
    ml_call_set_muted(call, false);
    c->roster.own_muted = false;
    confirm("your microphone is on", NULL);
  } else if (!strcmp(line, "/camera on")) {
    ml_call_set_camera_on(call, true);
    confirm("your camera is on", NULL);
  } else if (!strcmp(line, "/camera off")) {
    ml_call_set_camera_on(call, false);
    confirm("your camera is off", NULL);
  } else if (!strcmp(line, "/hand") || !strcmp(line, "/hand up")) {
    ml_call_raise_hand(call, true);
  } else if (!strcmp(line, "/hand down")) {
    ml_call_raise_hand(call, false);
  } else if ((a = arg_of(line, "/react"))) {
    if (ml_call_react(call, a) != ML_OK)
      fprintf(stderr,
              "mentorlink: /react: %s: not a reaction (thumbs_up clap heart laugh surprise "
              "question)\n",
              a);
  } else if ((a = arg_of(line, "/verify"))) {
    command_verify(call, c, a);
  } else if ((a = arg_of(line, "/admit"))) {
    if (host_only(c, "/admit") && (m = target(c, "/admit", a, true, false))) {
      ml_call_admit(call, m->id);
      confirm("letting in", m->name);
    }
  } else if ((a = arg_of(line, "/deny"))) {
    if (host_only(c, "/deny") && (m = target(c, "/deny", a, true, false))) {
      ml_call_deny(call, m->id);
      confirm("refusing", m->name);
    }
  } else if ((a = arg_of(line, "/remove"))) {
    bool amb;
    if (host_only(c, "/remove")) {
      m = ml_join_roster_find(&c->roster, a, true, false, &amb); /* a waiting one too */
      if (!m)
        m = target(c, "/remove", a, false, false);
      if (m) {
        ml_call_remove(call, m->id);
        confirm("removing from the room:", m->name);
      }
    }
  } else if (!strcmp(line, "/lock")) {
    if (host_only(c, "/lock")) {
      ml_call_set_locked(call, true);
      confirm("locking the room to new participants", NULL);
    }
  } else if (!strcmp(line, "/unlock")) {
    if (host_only(c, "/unlock")) {
      ml_call_set_locked(call, false);
      confirm("unlocking the room", NULL);
    }
  } else if ((a = arg_of(line, "/ask-mute"))) {
    if (host_only(c, "/ask-mute") && (m = target(c, "/ask-mute", a, false, false)))
      ml_call_ask_mute(call, m->id);
  } else if (!strcmp(line, "/mute-all")) {
    if (host_only(c, "/mute-all"))
      ml_call_ask_mute(call, NULL);
  } else if ((a = arg_of(line, "/mute-all-but"))) {
    if (host_only(c, "/mute-all-but") && (m = target(c, "/mute-all-but", a, false, false))) {
      ml_call_ask_mute_all_but(call, m->id);
      confirm("asking everyone but this speaker to mute:", m->name);
    }
  } else if ((a = arg_of(line, "/lower"))) {
    if (host_only(c, "/lower") && (m = target(c, "/lower", a, false, false)))
      ml_call_lower_hand(call, m->id);
  } else if ((a = arg_of(line, "/spotlight"))) {
    if (host_only(c, "/spotlight")) {
      if (!strcmp(a, "off"))
        ml_call_spotlight(call, NULL);
      else if ((m = target(c, "/spotlight", a, false, true)))
        ml_call_spotlight(call, m->id);
    }
  } else if ((a = arg_of(line, "/host"))) {
    if (host_only(c, "/host") && (m = target(c, "/host", a, false, false))) {
      ml_call_hand_over(call, m->id);
      confirm("handing the host role to", m->name);
    }
  } else if (!strcmp(line, "/end")) {
    if (host_only(c, "/end")) {
      ml_call_end_for_all(call);
      c->ended_session = true;
      confirm("ending the session for everyone", NULL);
    }
  } else if (!strcmp(line, "/leave")) {
    c->leave = true;
  } else if (!strcmp(line, "/stats")) {
    c->stats = true;
  } else {
    ml_join_command_error("unknown command (/help lists them; send a line starting with / as "
                          "//...)",
                          line);
  }
}

static void end_line(ml_call *call, ml_join_commands *c) {
  if (c->buf->len && c->buf->str[c->buf->len - 1] == '\r')
    g_string_truncate(c->buf, c->buf->len - 1);
  if (!c->skipping && strlen(c->buf->str) == c->buf->len)
    run_command(call, c, c->buf->str);
  else if (!c->skipping)
    ml_join_command_error("a line of stdin holds a NUL byte; ignored", NULL);
  c->skipping = false;
  g_string_truncate(c->buf, 0);
}

/* See join_internal.h. */
void ml_join_read_commands(ml_call *call, ml_join_commands *c) {
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
      ml_join_command_error("a line of stdin is longer than 65536 bytes; ignored", NULL);
      c->skipping = true;
      g_string_truncate(c->buf, 0);
    } else {
      g_string_append_c(c->buf, chunk[i]);
    }
  }
}
