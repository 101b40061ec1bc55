/* mentorlink-signal — structured logs: one line of key=value pairs per event on
 * stderr (journald adds the timestamp under systemd). Callers pass only
 * identifiers and counts: never message contents, tokens, names or secrets. */
#ifndef ML_SIGNAL_LOG_H
#define ML_SIGNAL_LOG_H

#include <stdbool.h>

typedef enum ml_log_level { ML_LOG_DEBUG, ML_LOG_INFO, ML_LOG_WARN, ML_LOG_ERROR } ml_log_level;

/* Lines below min are dropped. The process-wide level is set once at start-up
 * by main (it is configuration, not state shared between servers). */
void ml_log_set_level(ml_log_level min);
bool ml_log_enabled(ml_log_level level);
/* fmt continues the line after "level=... event=EVENT" with " key=value" pairs.
 * ml_log drops lines below the process-wide level, ml_log_at those below min
 * (a server's own level, ML_SRV_LOG). */
#define ml_log(level, event, ...) ml_log_at(ml_log_level_get(), level, event, __VA_ARGS__)
ml_log_level ml_log_level_get(void);
void ml_log_at(ml_log_level min, ml_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* ML_SIGNAL_LOG_H */
