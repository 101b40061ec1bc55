/* Structured logs. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include <glib.h>

static ml_log_level min_level = ML_LOG_INFO;

void ml_log_set_level(ml_log_level min) { min_level = min; }
bool ml_log_enabled(ml_log_level level) { return level >= min_level; }

void ml_log(ml_log_level level, const char *event, const char *fmt, ...) {
  static const char *const names[] = {"debug", "info", "warn", "error"};
  if (level < min_level)
    return;
  va_list ap;
  va_start(ap, fmt);
  GDateTime *now = g_date_time_new_now_utc();
  char *ts = g_date_time_format_iso8601(now);
  g_date_time_unref(now);
  char line[1024];
  int n = snprintf(line, sizeof line, "ts=%s level=%s event=%s", ts, names[level], event);
  g_free(ts);
  if (n > 0 && (size_t)n < sizeof line && fmt)
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", line);
}
