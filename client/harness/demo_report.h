/* A two-party call on this machine, as `mentorlink demo` and the call tests
 * run it: the embedded signaling server on 127.0.0.1 (local_call.h) and two
 * `mentorlink join --headless --json` children (child.h) in one room, with
 * test sources; their event lines (ml/event.h) are collected into a report.
 * Runs on the calling thread's thread-default main context; every wait is
 * bounded. Ownership: the report owns its chat lines (ml_demo_report_clear). */
#ifndef ML_HARNESS_DEMO_REPORT_H
#define ML_HARNESS_DEMO_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ML_DEMO_MAX_CHAT 8

/* What one participant reported (from its own JSON lines). */
typedef struct ml_demo_side {
  char name[32];
  int exit_status; /* -1: did not exit in time (killed) */
  bool joined, secure;
  int64_t secure_ms; /* since its start: the verification event */
  char sas[64];
  char safety_number[80];
  char peer_fingerprint[48];
  char pin[16]; /* the verification event's pin status: new, match, changed, off */
  char path[8];
  /* Final stats about the other participant. */
  bool have_stats;
  uint64_t video_frames_decoded, video_frames_sent, audio_ms_decoded;
  int64_t first_frame_ms, first_frame_since_start_ms;
  double rtt_ms, bitrate_kbps, audio_tone_hz;
  uint64_t datagrams_in, opened, dropped_not_ours, dropped_malformed, dropped_auth, dropped_replay,
      dropped_unexpected, dropped_handshake;
  /* Chat: lines received from the other side, in arrival order. */
  char *chat_rx[ML_DEMO_MAX_CHAT];
  size_t n_chat_rx;
  bool chat_overflow;
  size_t receipts;     /* receipts for our own lines */
  int64_t chat_rtt_ms; /* first line: queued -> receipt; -1 unknown */
  unsigned errors;     /* error events */
  char first_error[200];
  unsigned identity_warnings;
} ml_demo_side;

typedef struct ml_demo_report {
  ml_demo_side side[2];
  unsigned server_port;
  double wall_s;
} ml_demo_report;

typedef struct ml_demo_options {
  const char *exe;            /* the mentorlink binary to run as `join` */
  double duration_s;          /* each participant's --duration */
  const char *const *chat[2]; /* lines each side sends (NULL-terminated) */
  bool verbose;               /* echo the children's stderr */
  /* Where each participant's XDG_DATA_HOME goes (DIR/mentor, DIR/mentee):
   * kept, so a second call reuses identities and pins. NULL: a temporary
   * directory, removed at the end. */
  const char *data_dir;
} ml_demo_options;

/* Runs the call and fills rep (free with ml_demo_report_clear). Returns 0
 * when the server ran and both children could be started and collected
 * (whatever they reported), else -1 with a message on stderr. */
int ml_demo_collect(const ml_demo_options *opt, ml_demo_report *rep);
void ml_demo_report_clear(ml_demo_report *rep);

#endif /* ML_HARNESS_DEMO_REPORT_H */
