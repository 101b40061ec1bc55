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

static void run_command(ml_call *call, ml_join_commands *c, const char *line) {
  if (!line[0])
    return; /* empty lines are nothing */
  if (!g_utf8_validate(line, -1, NULL)) {
    ml_join_command_error("a line of stdin is not UTF-8; ignored", NULL);
    return;
  }
  if (line[0] != '/' || line[1] == '/') {
    if (ml_call_send_chat(call, line[0] == '/' ? line + 1 : line) != ML_OK)
      ml_join_command_error("chat line refused (too long)", NULL);
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
  } else if (!strcmp(line, "/stats")) {
    c->stats = true;
  } else {
    ml_join_command_error("unknown command (send a line starting with / as //...)", line);
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
