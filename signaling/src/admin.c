/* mentorlink-signal token and invite. See admin.h. */
#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <sodium.h>

#include "ml/invite.h"
#include "ml/signal_server.h"
#include "ml/signal_token.h"

#define MAX_TTL (INT64_C(366) * 86400)
/* An invite's token admits its holder this long before the session starts:
 * people come a little early, and clocks differ. */
#define EARLY_S 300

/* What token and invite share: whom the token admits, and the config that
 * holds the secret. Strings are g_free'd by request_clear. */
typedef struct request { /* ml_signal_config_init'ed cfg before use */
  const char *cmd;       /* "token" or "invite", for messages */
  char *room, *role, *name, *config;
  ml_signal_config cfg;
} request;

static void request_entries(request *r, GOptionContext *ctx) {
  const GOptionEntry entries[] = {
      {"room", 0, 0, G_OPTION_ARG_STRING, &r->room, "Room id ([A-Za-z0-9_.-], 1-64)", "R"},
      {"role", 0, 0, G_OPTION_ARG_STRING, &r->role, "host or participant", "ROLE"},
      /* FILENAME: the bytes as given, whatever the locale (STRING would
       * convert from the locale's charset, which fails for "Ünal" in C). */
      {"name", 0, 0, G_OPTION_ARG_FILENAME, &r->name, "Display name (1-64 bytes of UTF-8)", "N"},
      {"config", 0, 0, G_OPTION_ARG_FILENAME, &r->config,
       "Config file holding [tokens] secret (default " ML_SIGNAL_DEFAULT_CONFIG ")", "FILE"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  g_option_context_add_main_entries(ctx, entries, NULL);
}

static void request_clear(request *r) {
  ml_signal_config_clear(&r->cfg);
  g_free(r->room);
  g_free(r->role);
  g_free(r->name);
  g_free(r->config);
}

static int usage(const request *r, const char *what) {
  fprintf(stderr, "mentorlink-signal %s: %s\n(see mentorlink-signal %s --help)\n", r->cmd, what,
          r->cmd);
  return 2;
}

/* Checks the request and loads the config: 0, or the exit status after
 * saying what is wrong. */
static int request_check(request *r) {
  if (!r->room || !r->name || !r->role)
    return usage(r, "need --room, --role host|participant and --name");
  if (strcmp(r->role, "host") != 0 && strcmp(r->role, "participant") != 0)
    return usage(r, "--role is host or participant");
  if (!g_utf8_validate(r->name, -1, NULL))
    return usage(r, "--name is not UTF-8 (set a UTF-8 locale in the terminal, e.g. "
                    "LANG=C.UTF-8)");
  char *msg = NULL;
  if (ml_signal_config_load(&r->cfg, r->config ? r->config : ML_SIGNAL_DEFAULT_CONFIG, &msg) !=
      ML_OK) {
    fprintf(stderr, "mentorlink-signal %s: %s\n", r->cmd, msg);
    g_free(msg);
    return 1;
  }
  if (!r->cfg.token_secret) {
    fprintf(stderr, "mentorlink-signal %s: the config has no [tokens] secret\n", r->cmd);
    return 1;
  }
  return 0;
}

/* A token for the request, valid from not_before (0: now) to expiry: 0 and
 * *tok (free), or the exit status after saying why not. */
static int request_issue(const request *r, int64_t not_before, int64_t expiry, char **tok) {
  ml_token_claims claims = {.expiry = expiry, .not_before = not_before};
  if (strlen(r->room) >= sizeof claims.room || strlen(r->name) >= sizeof claims.name)
    return usage(r, "--room or --name is longer than 64 bytes");
  g_strlcpy(claims.room, r->room, sizeof claims.room);
  g_strlcpy(claims.name, r->name, sizeof claims.name);
  claims.role = strcmp(r->role, "host") == 0 ? ML_TOKEN_ROLE_HOST : ML_TOKEN_ROLE_PARTICIPANT;
  if (ml_token_issue(r->cfg.token_secret, r->cfg.token_secret_len, &claims, tok) != ML_OK)
    return usage(r, "--room is 1-64 letters, digits, '_', '-' or '.', and --name 1-64 bytes "
                    "without control characters");
  return 0;
}

static int64_t now_s(void) { return g_get_real_time() / G_USEC_PER_SEC; }

int ml_admin_token(int argc, char **argv) {
  request r = {.cmd = "token"};
  ml_signal_config_init(&r.cfg);
  gint64 ttl = 3600;
  const GOptionEntry entries[] = {{"ttl", 0, 0, G_OPTION_ARG_INT64, &ttl,
                                   "Validity in seconds from now (default 3600)", "SECONDS"},
                                  {NULL, 0, 0, 0, NULL, NULL, NULL}};
  GOptionContext *ctx = g_option_context_new("- issue a signed join token");
  g_option_context_set_summary(ctx, "Prints a join token for one room, role and name on stdout.");
  request_entries(&r, ctx);
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *err = NULL;
  int status;
  char *tok = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
    status = usage(&r, err->message);
    g_error_free(err);
  } else if (ttl <= 0 || ttl > MAX_TTL) {
    status = usage(&r, "--ttl is 1 to 31622400 seconds");
  } else if ((status = request_check(&r)) == 0 &&
             (status = request_issue(&r, 0, now_s() + ttl, &tok)) == 0) {
    printf("%s\n", tok);
  }
  free(tok);
  request_clear(&r);
  g_option_context_free(ctx);
  return status;
}

/* TIME as the user gives it: ISO 8601 in local time unless it names its zone
 * ("2026-12-03 09:00", "2026-12-03T09:00:00+01:00", "...Z"); -1 if it is not. */
static int64_t parse_time(const char *s) {
  g_autofree char *t = g_strdup(s);
  char *space = strchr(t, ' ');
  if (space && space == strrchr(t, ' '))
    *space = 'T';
  /* GLib wants seconds; people write 09:00. */
  const char *hm = strchr(t, 'T');
  if (hm && strlen(hm) >= 6 && hm[3] == ':' && strchr("Z+-", hm[6])) {
    size_t at = (size_t)(hm - t) + 6;
    char *with = g_strdup_printf("%.*s:00%s", (int)at, t, t + at);
    g_free(t);
    t = with;
  }
  g_autoptr(GTimeZone) local = g_time_zone_new_local();
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(t, local);
  return dt ? g_date_time_to_unix(dt) : -1;
}

static char *format_time(int64_t t) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(t);
  return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M %Z") : g_strdup("?");
}

/* Writes text to a new file at path, mode 0600 (it holds the invite): 0, or
 * 1 after saying why not. An existing file is not replaced. */
static int write_new_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "mentorlink-signal invite: cannot create %s: %s%s\n", path, g_strerror(errno),
            errno == EEXIST ? " (choose another name, or remove it first)" : "");
    return 1;
  }
  FILE *f = fdopen(fd, "w");
  if (!f)
    close(fd);
  bool ok = f && fputs(text, f) >= 0;
  if (f && fclose(f) != 0)
    ok = false;
  if (!ok) {
    fprintf(stderr, "mentorlink-signal invite: cannot write %s\n", path);
    unlink(path);
    return 1;
  }
  return 0;
}

static int write_ics(const char *path, const char *title, const char *link, int64_t start,
                     int64_t end) {
  uint8_t rnd[16];
  char hex[2 * sizeof rnd + 1];
  randombytes_buf(rnd, sizeof rnd);
  sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
  g_autofree char *uid = g_strdup_printf("%s@mentorlink", hex);
  ml_invite_event ev = {
      .uid = uid, .title = title, .link = link, .start = start, .end = end, .stamp = now_s()};
  char *ics = ml_invite_ics(&ev);
  if (!ics) {
    fprintf(stderr, "mentorlink-signal invite: --title is not UTF-8\n");
    return 2;
  }
  int status = write_new_file(path, ics);
  sodium_memzero(ics, strlen(ics));
  g_free(ics);
  return status;
}

int ml_admin_invite(int argc, char **argv) {
  request r = {.cmd = "invite"};
  ml_signal_config_init(&r.cfg);
  char *server = NULL, *from = NULL, *until = NULL, *ics = NULL, *title = NULL;
  gint64 ttl = 0;
  const GOptionEntry entries[] = {
      {"server", 0, 0, G_OPTION_ARG_STRING, &server,
       "The address clients use, wss://HOST/v1/ws (default: [server] public_url)", "URL"},
      {"from", 0, 0, G_OPTION_ARG_STRING, &from,
       "When the session starts: ISO 8601, local time unless a zone is given, e.g. "
       "\"2026-12-03 09:00\" (default: now). The link admits from 5 minutes before",
       "TIME"},
      {"until", 0, 0, G_OPTION_ARG_STRING, &until,
       "When the session ends and the link stops admitting (default: --from + --ttl)", "TIME"},
      {"ttl", 0, 0, G_OPTION_ARG_INT64, &ttl,
       "Length of the session in seconds, when --until is not given (default 3600)", "SECONDS"},
      {"ics", 0, 0, G_OPTION_ARG_FILENAME, &ics,
       "Also write a calendar file (.ics, mode 0600; an existing file is not replaced)", "FILE"},
      {"title", 0, 0, G_OPTION_ARG_FILENAME, &title,
       "The calendar entry's title (default \"mentorlink session: ROOM\")", "TEXT"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  GOptionContext *ctx = g_option_context_new("- make an invite link");
  g_option_context_set_summary(
      ctx, "Prints an invite link (mentorlink://join?...) on stdout: the server and a join token\n"
           "for one room, role and name, valid from --from to --until. The invited person\n"
           "runs 'mentorlink join LINK' or opens the link. The link is a credential: send it\n"
           "to that person only.");
  request_entries(&r, ctx);
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *err = NULL;
  int status;
  char *tok = NULL, *link = NULL;
  ml_invite inv = {0};
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
    status = usage(&r, err->message);
    g_error_free(err);
    goto out;
  }
  int64_t start = from ? parse_time(from) : now_s();
  int64_t end = until ? parse_time(until) : start + (ttl ? ttl : 3600);
  if (start < 0) {
    status = usage(&r, "--from wants a date and time such as \"2026-12-03 09:00\"");
  } else if (end < 0) {
    status = usage(&r, "--until wants a date and time such as \"2026-12-03 10:00\"");
  } else if (until && ttl) {
    status = usage(&r, "give --until or --ttl, not both");
  } else if (ttl < 0 || end - start > MAX_TTL) {
    status = usage(&r, "the session lasts at most 366 days");
  } else if (end <= start || end <= now_s()) {
    status = usage(&r, "the session would end before it starts, or has ended already");
  } else if ((status = request_check(&r)) == 0) {
    const char *url = server ? server : r.cfg.public_url;
    if (!url) {
      status = usage(&r, "need --server wss://HOST/v1/ws (or [server] public_url in the config)");
      goto out;
    }
    int64_t nbf = from && start - EARLY_S > now_s() ? start - EARLY_S : 0;
    if ((status = request_issue(&r, nbf, end, &tok)) != 0)
      goto out;
    g_strlcpy(inv.server, url, sizeof inv.server);
    g_strlcpy(inv.token, tok, sizeof inv.token);
    link = ml_invite_format(&inv);
    if (!link) {
      status = usage(&r, "--server wants a ws:// or wss:// address ending in /v1/ws");
      goto out;
    }
    g_autofree char *default_title = g_strdup_printf("mentorlink session: %s", r.room);
    if (ics && (status = write_ics(ics, title ? title : default_title, link, start, end)) != 0)
      goto out;
    g_autofree char *a = format_time(nbf ? nbf : now_s()), *b = format_time(end);
    fprintf(stderr, "invite for %s (%s) in room %s: admits from %s until %s%s%s\n", r.name, r.role,
            r.room, a, b, ics ? "; calendar file " : "", ics ? ics : "");
    printf("%s\n", link);
  }
out:
  sodium_memzero(&inv, sizeof inv);
  free(tok);
  g_free(link);
  g_free(server);
  g_free(from);
  g_free(until);
  g_free(ics);
  g_free(title);
  request_clear(&r);
  g_option_context_free(ctx);
  return status;
}
