/* A child process that speaks JSON lines. See child.h. */
#include "child.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

struct ml_child {
  gint refs; /* the owner's, and one per pending asynchronous operation */
  bool freed;
  char *name;
  GSubprocess *proc;
  GDataInputStream *out, *err;
  GCancellable *cancel;
  bool out_eof, err_eof, exited, echo_stderr;
  int status;
  int pid;
  GString *err_tail; /* NULL when stderr is inherited */
  ml_child_line_fn on_line;
  void *user;
};

static ml_child *child_ref(ml_child *c) {
  c->refs++;
  return c;
}

static void child_unref(ml_child *c) {
  if (--c->refs > 0)
    return;
  g_clear_object(&c->out);
  g_clear_object(&c->err);
  g_clear_object(&c->proc);
  g_clear_object(&c->cancel);
  if (c->err_tail)
    g_string_free(c->err_tail, TRUE);
  g_free(c->name);
  g_free(c);
}

static void take_line(ml_child *c, const char *line) {
  if (!c->on_line)
    return;
  ml_event ev;
  bool ok = ml_event_decode(line, &ev) == ML_OK;
  c->on_line(c->user, line, ok ? &ev : NULL);
  ml_event_clear(&ev);
}

static void keep_err_line(ml_child *c, const char *line) {
  if (c->echo_stderr)
    fprintf(stderr, "  [%s] %s\n", c->name, line);
  g_string_append_printf(c->err_tail, "%s\n", line);
  if (c->err_tail->len > ML_CHILD_STDERR_KEEP)
    g_string_erase(c->err_tail, 0, (gssize)(c->err_tail->len - ML_CHILD_STDERR_KEEP));
}

/* A line of stdout or stderr, or the end of one (or its cancellation). */
static void on_read(GObject *src, GAsyncResult *res, gpointer user) {
  ml_child *c = user;
  GDataInputStream *in = G_DATA_INPUT_STREAM(src);
  char *line = g_data_input_stream_read_line_finish(in, res, NULL, NULL);
  if (!line || c->freed) {
    if (in == c->out)
      c->out_eof = true;
    else
      c->err_eof = true;
    g_free(line);
    child_unref(c);
    return;
  }
  if (in == c->out)
    take_line(c, line);
  else
    keep_err_line(c, line);
  g_free(line);
  g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, c->cancel, on_read, c);
}

static void on_wait(GObject *src, GAsyncResult *res, gpointer user) {
  ml_child *c = user;
  GSubprocess *p = G_SUBPROCESS(src);
  if (g_subprocess_wait_finish(p, res, NULL)) {
    c->exited = true;
    c->status = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
  }
  child_unref(c);
}

static void child_setup(gpointer user) {
  (void)user;
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the parent */
}

ml_child *ml_child_spawn(const ml_child_options *opt) {
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE;
  if (opt->stdin_pipe)
    flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
  if (!opt->inherit_stderr)
    flags |= G_SUBPROCESS_FLAGS_STDERR_PIPE;
  GSubprocessLauncher *l = g_subprocess_launcher_new(flags);
  g_subprocess_launcher_set_child_setup(l, child_setup, NULL, NULL);
  for (size_t i = 0; opt->env && opt->env[i]; i++) {
    const char *eq = strchr(opt->env[i], '=');
    if (eq) {
      g_autofree char *name = g_strndup(opt->env[i], (gsize)(eq - opt->env[i]));
      g_subprocess_launcher_setenv(l, name, eq + 1, TRUE);
    } else {
      g_subprocess_launcher_unsetenv(l, opt->env[i]);
    }
  }
  GError *err = NULL;
  GSubprocess *proc = g_subprocess_launcher_spawnv(l, opt->argv, &err);
  g_object_unref(l);
  if (!proc) {
    fprintf(stderr, "cannot start %s (%s): %s\n", opt->name ? opt->name : "child", opt->argv[0],
            err->message);
    g_error_free(err);
    return NULL;
  }
  ml_child *c = g_new0(ml_child, 1);
  c->refs = 1;
  c->name = g_strdup(opt->name ? opt->name : "child");
  c->proc = proc;
  c->status = -1;
  const char *id = g_subprocess_get_identifier(proc);
  c->pid = id ? atoi(id) : -1;
  c->echo_stderr = opt->echo_stderr;
  c->on_line = opt->on_line;
  c->user = opt->user;
  c->cancel = g_cancellable_new();
  c->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
  g_data_input_stream_read_line_async(c->out, G_PRIORITY_DEFAULT, c->cancel, on_read, child_ref(c));
  if (opt->inherit_stderr) {
    c->err_eof = true;
  } else {
    c->err_tail = g_string_new(NULL);
    c->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(proc));
    g_data_input_stream_read_line_async(c->err, G_PRIORITY_DEFAULT, c->cancel, on_read,
                                        child_ref(c));
  }
  g_subprocess_wait_async(proc, c->cancel, on_wait, child_ref(c));
  return c;
}

void ml_child_free(ml_child *c) {
  if (!c)
    return;
  if (!c->exited)
    g_subprocess_force_exit(c->proc);
  c->freed = true;
  g_cancellable_cancel(c->cancel);
  child_unref(c);
}

bool ml_child_done(const ml_child *c) { return !c || (c->exited && c->out_eof && c->err_eof); }

bool ml_child_exited(const ml_child *c) { return c->exited; }

int ml_child_status(const ml_child *c) { return c->status; }

int ml_child_pid(const ml_child *c) { return c->pid; }

bool ml_child_write_line(ml_child *c, const char *line, GError **err) {
  GOutputStream *in = g_subprocess_get_stdin_pipe(c->proc);
  if (!in) {
    g_set_error_literal(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no stdin pipe");
    return false;
  }
  g_autofree char *text = g_strdup_printf("%s\n", line);
  return g_output_stream_write_all(in, text, strlen(text), NULL, NULL, err) &&
         g_output_stream_flush(in, NULL, err);
}

const char *ml_child_stderr(const ml_child *c) { return c && c->err_tail ? c->err_tail->str : ""; }

void ml_child_print_tail(const ml_child *c) {
  if (c && c->status != 0 && c->err_tail && c->err_tail->len && !c->echo_stderr)
    fprintf(stderr, "--- %s stderr (last lines) ---\n%s", c->name, c->err_tail->str);
}

typedef struct all_done {
  ml_child *const *c;
  size_t n;
} all_done;

static bool are_all_done(void *arg) {
  const all_done *a = arg;
  for (size_t i = 0; i < a->n; i++)
    if (!ml_child_done(a->c[i]))
      return false;
  return true;
}

bool ml_child_wait(ml_child *const *c, size_t n, int64_t deadline_us) {
  all_done a = {c, n};
  if (ml_child_run_until(are_all_done, &a, deadline_us))
    return true;
  for (size_t i = 0; i < n; i++)
    if (c[i] && !c[i]->exited)
      g_subprocess_force_exit(c[i]->proc);
  (void)ml_child_run_until(are_all_done, &a,
                           g_get_monotonic_time() + (int64_t)ML_CHILD_KILL_WAIT_MS * 1000);
  return false;
}

static gboolean wake(gpointer user) {
  (void)user;
  return G_SOURCE_CONTINUE;
}

bool ml_child_run_until(bool (*until)(void *arg), void *arg, int64_t deadline_us) {
  GMainContext *ctx = g_main_context_get_thread_default();
  GSource *tick = g_timeout_source_new(100); /* re-checks the deadline */
  g_source_set_callback(tick, wake, NULL, NULL);
  g_source_attach(tick, ctx);
  bool ok;
  while (!(ok = until(arg)) && g_get_monotonic_time() < deadline_us)
    g_main_context_iteration(ctx, TRUE);
  g_source_destroy(tick);
  g_source_unref(tick);
  return ok;
}

/* ---- JSON members ---- */

static GType value_type(JsonObject *o, const char *key) {
  JsonNode *n = json_object_get_member(o, key);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
}

const char *ml_json_str(JsonObject *o, const char *key) {
  return value_type(o, key) == G_TYPE_STRING ? json_object_get_string_member(o, key) : "";
}

int64_t ml_json_int(JsonObject *o, const char *key) {
  return value_type(o, key) == G_TYPE_INT64 ? json_object_get_int_member(o, key) : -1;
}

double ml_json_double(JsonObject *o, const char *key) {
  GType t = value_type(o, key);
  return t == G_TYPE_DOUBLE  ? json_object_get_double_member(o, key)
         : t == G_TYPE_INT64 ? (double)json_object_get_int_member(o, key)
                             : -1;
}

bool ml_json_bool(JsonObject *o, const char *key) {
  return value_type(o, key) == G_TYPE_BOOLEAN && json_object_get_boolean_member(o, key);
}

/* ---- files ---- */

void ml_remove_tree(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  if (d) {
    const char *n;
    while ((n = g_dir_read_name(d)) != NULL) {
      g_autofree char *p = g_build_filename(path, n, NULL);
      if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
        ml_remove_tree(p);
      else
        g_unlink(p);
    }
    g_dir_close(d);
  }
  g_rmdir(path);
}
