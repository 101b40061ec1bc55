/* A child process that speaks JSON lines (`mentorlink join --json`), as the
 * call demo, the call tests and the call benchmark run it.
 *
 * ml_child_spawn starts the program with a pipe for stdout (and optionally
 * for stdin and stderr) and reads both outputs asynchronously on the
 * thread-default main context of the calling thread: each stdout line goes to
 * the on_line callback, decoded as an event (ml/event.h) when it is one, the last
 * ML_CHILD_STDERR_KEEP bytes of stderr are kept. The child gets SIGKILL when the thread that
 * started it ends (PR_SET_PDEATHSIG), so it never outlives a crashed parent. Nothing happens unless
 * the caller iterates that context (ml_child_wait, ml_child_run_until).
 *
 * Threads: an ml_child belongs to the thread that spawned it; no function
 * here is thread-safe. Ownership: the caller owns the ml_child and frees it
 * with ml_child_free. Errors: when the program cannot be started,
 * ml_child_spawn prints "cannot start NAME (PROGRAM): REASON" to stderr and
 * returns NULL. */
#ifndef ML_HARNESS_CHILD_H
#define ML_HARNESS_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ml/event.h"

#define ML_CHILD_STDERR_KEEP 4096 /* bytes of stderr kept */
#define ML_CHILD_KILL_WAIT_MS 3000

typedef struct ml_child ml_child;

/* One stdout line, without its newline (valid during the call only). ev: the
 * line decoded by ml_event_decode, or NULL when it is not an event (not JSON,
 * longer than ML_EVENT_MAX_LINE, malformed, or an event name the codec does
 * not know, such as the window's test-control answers). */
typedef void (*ml_child_line_fn)(void *user, const char *line, const ml_event *ev);

typedef struct ml_child_options {
  const char *name;        /* in messages: "[name] ..." (copied) */
  const char *const *argv; /* NULL-terminated; argv[0] the program */
  /* NULL-terminated: "NAME=VALUE" sets NAME, "NAME" unsets it; NULL: none. */
  const char *const *env;
  bool stdin_pipe;     /* ml_child_write_line can write to its stdin */
  bool inherit_stderr; /* stderr goes to ours, not kept */
  bool echo_stderr;    /* each stderr line is also printed as "  [name] line" */
  ml_child_line_fn on_line;
  void *user;
} ml_child_options;

ml_child *ml_child_spawn(const ml_child_options *opt);

/* Sends SIGKILL if it still runs, cancels the reads and frees it. The
 * cancelled reads complete when the context is iterated next. NULL is a no-op. */
void ml_child_free(ml_child *c);

/* It exited and both outputs reached their end: no more callbacks. */
bool ml_child_done(const ml_child *c);
bool ml_child_exited(const ml_child *c);
/* Its exit status; -1 while it runs or when a signal ended it. */
int ml_child_status(const ml_child *c);
/* Its process id (the number stays after it exited; -1 if unknown). */
int ml_child_pid(const ml_child *c);

/* Writes line and "\n" to its stdin (stdin_pipe). False, with *err set, on
 * failure (for example when it has exited). */
bool ml_child_write_line(ml_child *c, const char *line, GError **err);

/* When it did not exit with 0 and its stderr was kept and not echoed: prints
 * the kept tail to our stderr under "--- name stderr (last lines) ---". */
void ml_child_print_tail(const ml_child *c);
/* The kept tail of its stderr so far ("" when stderr is inherited). */
const char *ml_child_stderr(const ml_child *c);

/* Iterates the thread-default main context until all n children are done
 * (NULL entries count as done) or deadline_us (g_get_monotonic_time) passes;
 * then kills those still running and waits ML_CHILD_KILL_WAIT_MS at most for
 * them. True when all were done by the deadline. */
bool ml_child_wait(ml_child *const *c, size_t n, int64_t deadline_us);

/* Iterates the thread-default main context until until(arg) holds or
 * deadline_us passes, waking at least every 100 ms; returns until(arg). */
bool ml_child_run_until(bool (*until)(void *arg), void *arg, int64_t deadline_us);

/* Members of a JSON object, with a default when absent or of another type:
 * a string ("" by default), an integer (-1), a number, integer or not (-1),
 * a boolean (false). */
const char *ml_json_str(JsonObject *o, const char *key);
int64_t ml_json_int(JsonObject *o, const char *key);
double ml_json_double(JsonObject *o, const char *key);
bool ml_json_bool(JsonObject *o, const char *key);

/* Removes path and everything below it (symbolic links are removed, not
 * followed). For the children's temporary data directories. */
void ml_remove_tree(const char *path);

#endif
