/* mentorlink join, inside: the parts of join.c's run that live in their
 * own files. All of it runs on the thread of ml_join_run (the CLI thread). */
#ifndef ML_CLI_JOIN_INTERNAL_H
#define ML_CLI_JOIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "join_roster.h"
#include "ml/call.h"
#include "ml/invite.h"

#define ML_JOIN_MAX_CHAT_LINES 64
#define ML_JOIN_MAX_LOCAL_ADDRESSES 8
#define ML_JOIN_DISCOVER_MS 3000 /* join --discover listens this long */

/* ---- join_options.c ---- */

/* The command line; the strings point into argv, the environment or the
 * owned storage below (ml_join_options_clear wipes and frees it). */
typedef struct ml_join_options {
  const char *server, *room, *token, *secret, *name, *known_peers, *screenshot_dir, *ca_file;
  const char *link;        /* the invite link given (argument, --invite-file, environment) */
  const char *config_path; /* --config, or NULL for the default place */
  const char *invite_file, *token_file;
  const char *camera, *microphone;
  bool headless, json, admit_all, measure_tone, stdin_commands, ui_test_control;
  ml_media_video_source video;
  ml_media_audio_source audio;
  unsigned video_width, video_height; /* --video-size; 0: the engine's 640x360 */
  bool receive_small;                 /* --receive-layer small */
  double duration_s;                  /* <= 0: no limit */
  const char *chat[ML_JOIN_MAX_CHAT_LINES];
  size_t n_chat;
  const char *local[ML_JOIN_MAX_LOCAL_ADDRESSES];
  size_t n_local;
  /* owned */
  ml_invite invite;       /* the link's server, token or room and secret */
  char *file_text[2];     /* what --invite-file and --token-file held */
  char *config_values[3]; /* the config file's server, ca_file and name */
  char *default_name;     /* the account's name, for a link without --name */
} ml_join_options;

/* Exit statuses of join beyond 0-3 (README, man page): a host refused us
 * at the door, removed us, or the session ended for everyone. */
#define ML_JOIN_EXIT_DENIED 4
#define ML_JOIN_EXIT_REMOVED 5
#define ML_JOIN_EXIT_ENDED 6

#define ML_JOIN_HELP (-1) /* ml_join_parse_options printed the help */

/* Parses and checks argv (argv[0] is "join") into *o: the flags, an invite
 * link (an argument of its own, or --invite-file), --token-file, then the
 * environment for what the command line left open (MENTORLINK_INVITE,
 * MENTORLINK_TOKEN, MENTORLINK_ROOM_SECRET), then the client config file
 * ([join] server, ca_file, name). Returns 0, 2 after printing the usage error
 * (which names the flag or file), or ML_JOIN_HELP after printing the help. Call
 * ml_join_options_clear after, whatever it returned. */
int ml_join_parse_options(int argc, char **argv, ml_join_options *o);
void ml_join_options_clear(ml_join_options *o);

/* The client config file: --config, else $XDG_CONFIG_HOME/mentorlink/mentorlink.conf. */
char *ml_join_config_path(const char *given);

/* Prints "mentorlink join: WHAT[: ARG]" and a pointer to the help to
 * stderr; returns 2 (the usage error status). */
int ml_join_usage_error(const char *what, const char *arg);

/* ---- join_print.c ---- */

/* Text mode's memory: which peer's stats it printed when. A stats line per
 * peer per second would bury chat and events, so text shows a peer's first
 * stats, then one every ML_JOIN_TEXT_STATS_MS, the final one, and the next one
 * of every peer after /stats. */
#define ML_JOIN_TEXT_STATS_MS 10000
typedef struct ml_join_text {
  GHashTable *shown; /* peer id -> int64_t t_ms of its last stats line (both owned) */
  int64_t asked_ms;  /* t_ms of the last /stats; -1 none */
} ml_join_text;

/* Whether a stats line at now_ms is shown: last_ms is when that peer's last
 * one was (-1: none yet), asked_ms when /stats was last given (-1: never). */
bool ml_join_text_stats_due(int64_t last_ms, int64_t asked_ms, int64_t now_ms, bool final);

/* One event on stdout, flushed: as a --json line (ml/event.h), or as text in
 * plain sentences (tx: text mode's memory, from ml_join_text_init). */
void ml_join_print_json(const ml_call_event *ev);
void ml_join_text_init(ml_join_text *tx);
void ml_join_text_clear(ml_join_text *tx);
void ml_join_print_text(ml_join_text *tx, const ml_call_event *ev);
/* A SESSION event in words (t: seconds since the start). */
void ml_join_print_session(double t, const ml_call_event *ev);

/* ---- join_commands.c ---- */

/* The stdin reader of --stdin-commands. The owner creates buf and peers
 * (id -> display name, both owned by the table) and keeps peers current from
 * the events; eof set means stdin is not read (any more). */
typedef struct ml_join_commands {
  GString *buf;          /* bytes of the line being read */
  bool skipping;         /* the current line grew too long: drop it up to its newline */
  bool eof;              /* stdin ended (or failed): no more commands */
  bool leave;            /* /leave was given */
  bool stats;            /* /stats was given (the owner clears it) */
  bool ended_session;    /* /end was given: the session's end is what we asked for */
  int64_t joined_ms;     /* monotonic ms of JOINED (the call's clock); -1 before */
  int64_t end_ms;        /* monotonic ms of the scheduled end (--duration); -1 none */
  GHashTable *peers;     /* peer id -> display name (owned), from the events */
  ml_join_roster roster; /* the room, from the events (the owner applies them) */
  bool json;             /* confirmations go to stderr either way; this only words them */
} ml_join_commands;

/* Prints "mentorlink: WHAT[: ARG]" to stderr. */
void ml_join_command_error(const char *what, const char *arg);

/* The text of /help (static). */
const char *ml_join_help_text(void);

/* Called when poll() says stdin is readable: one read (it does not block
 * then, and stdin stays in blocking mode for whoever shares it), and each
 * complete line is run as a command on call (or sets leave, or eof). */
void ml_join_read_commands(ml_call *call, ml_join_commands *c);

#endif /* ML_CLI_JOIN_INTERNAL_H */
