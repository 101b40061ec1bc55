/* Structured logs. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include <glib.h>

static ml_log_level min_level = ML_LOG_INFO;

void ml_log_set_level(ml_log_level min) { min_level = min; }
ml_log_level ml_log_level_get(void) { return min_level; }
bool ml_log_enabled(ml_log_level level) { return level >= min_level; }

__attribute__((format(printf, 3, 0))) static void log_line(ml_log_level level, const char *event,
                                                           const char *fmt, va_list ap) {
  static const char *const names[] = {"debug", "info", "warn", "error"};
  GDateTime *now = g_date_time_new_now_utc();
  char *ts = g_date_time_format_iso8601(now);
  g_date_time_unref(now);
  char line[1024];
  int n = snprintf(line, sizeof line, "ts=%s level=%s event=%s", ts, names[level], event);
  g_free(ts);
  if (n > 0 && (size_t)n < sizeof line && fmt)
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  fprintf(stderr, "%s\n", line);
}

void ml_log_at(ml_log_level min, ml_log_level level, const char *event, const char *fmt, ...) {
  if (level < min)
    return;
  va_list ap;
  va_start(ap, fmt);
  log_line(level, event, fmt, ap);
  va_end(ap);
}
