/* mentorlink — invite links and calendar files.
 *
 * An invite is one line that a clinician can click, paste or keep in a file:
 *
 *   mentorlink://join?server=URL&token=TOKEN                  (token mode)
 *   mentorlink://join?server=URL&room=ROOM[&secret=SECRET]    (open mode)
 *
 * Values are percent-encoded (RFC 3986); parameters other than these four are
 * ignored, so later versions may add some. A token invite is valid when its
 * token is (the server checks the token's nbf and exp); an open-mode invite as
 * long as the room is. Invites are bearer credentials, like the tokens and
 * secrets they hold: they go to the invited person only, and files holding them
 * are 0600.
 *
 * Made by `mentorlink-signal invite` and `mentorlink host`; read by
 * `mentorlink join LINK`. Pure (GLib's GUri for the URL grammar), any thread.
 * Every string a parse fills is checked as the server checks it.
 */
#ifndef ML_INVITE_H
#define ML_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "ml/error.h"

#define ML_INVITE_SCHEME "mentorlink"
#define ML_INVITE_MAX_LEN 4096   /* a link longer than this is refused */
#define ML_INVITE_MAX_SERVER 512 /* bytes of the server URL */

typedef struct ml_invite {
  char server[ML_INVITE_MAX_SERVER + 1]; /* ws:// or wss:// URL */
  char token[1025];                      /* token mode; "" in open mode */
  char room[65];                         /* open mode: [A-Za-z0-9_.-]{1,64}; "" with a token */
  char secret[65];                       /* open mode: the room secret (1-64 bytes), or "" */
} ml_invite;

/* The link for inv, NUL-terminated (g_free), or NULL if inv is not valid
 * (no server, not exactly one of token and room, a secret with a token, or a
 * value the server would refuse). */
char *ml_invite_format(const ml_invite *inv);

/* The plain ws:// signaling URL of a server at host (an IP literal or a
 * name; IPv6 is bracketed) and port: "ws://HOST:PORT/v1/ws" (g_free). */
char *ml_invite_ws_url(const char *host, unsigned port);

/* The open-mode link for room on the server at host and port, as
 * `mentorlink host` and `join --discover` print it (no secret); g_free, or
 * NULL if that is no valid invite (a bad room code, a URL too long). */
char *ml_invite_open_link(const char *host, unsigned port, const char *room);

/* Parses text (a link; surrounding white space is ignored, as when pasted)
 * into *out. ML_OK, or ML_ERR_INVALID with *why (static text, for the user)
 * saying what is wrong. *out is zeroed first; on failure it holds nothing. The
 * caller wipes *out (sodium_memzero) when done: it may hold a secret. */
ML_MUST_CHECK int ml_invite_parse(const char *text, ml_invite *out, const char **why);

/* A scheduled session, for its calendar file. */
typedef struct ml_invite_event {
  const char *uid;    /* unique id of the event, e.g. random hex + "@mentorlink" */
  const char *title;  /* the event's summary (UTF-8) */
  const char *link;   /* the invite link */
  int64_t start, end; /* unix seconds, start < end */
  int64_t stamp;      /* unix seconds: when the file was made */
} ml_invite_event;

/* An iCalendar (RFC 5545) text with one VEVENT for ev: times in UTC, text
 * escaped, lines folded at 75 octets (never inside a UTF-8 character), CRLF.
 * g_free; NULL if start >= end or a string is missing or not UTF-8. */
char *ml_invite_ics(const ml_invite_event *ev);

#endif /* ML_INVITE_H */
