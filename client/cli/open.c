/* mentorlink open (see open.h). */
#include "open.h"

#include <string.h>

#include <SDL.h>
#include <sodium.h>

#include "join.h"
#include "ml/invite.h"

void ml_open_usage(FILE *f) {
  fputs("  open [LINK]                 what the desktop entry runs: join the call of an\n"
        "                              invite link in the window; without one, say how\n"
        "                              to get one (in a message box)\n",
        f);
}

/* Says text in a message box when there is a display, and on stderr. */
static void tell(const char *text) {
  fprintf(stderr, "mentorlink: %s\n", text);
  SDL_ShowSimpleMessageBox(SDL_MESSAGEBOX_INFORMATION, "mentorlink", text, NULL);
}

int ml_open_run(int argc, char **argv) {
  if (argc < 2 || !argv[1][0]) {
    tell("To join a call, open the invite link (mentorlink://join?...) that you were sent, "
         "in your mail or calendar, or run in a terminal:\n  mentorlink join LINK\n\n"
         "To start a room for a clinic on this machine, run in a terminal:\n"
         "  mentorlink host --room ROOM --name YOUR_NAME");
    return 2;
  }
  if (argc > 2 || argv[1][0] == '-') {
    tell("mentorlink open takes one invite link and nothing else; for options, use "
         "mentorlink join LINK [options] in a terminal.");
    return 2;
  }
  ml_invite inv;
  const char *why = NULL;
  int rc = ml_invite_parse(argv[1], &inv, &why);
  sodium_memzero(&inv, sizeof inv);
  if (rc != ML_OK) {
    char text[512];
    snprintf(text, sizeof text,
             "This link cannot be used to join a call: %s.\n\nAsk the person who invited you "
             "to send the link again.",
             why);
    tell(text);
    return 2;
  }
  char name[] = "join";
  char *join[] = {name, argv[1], NULL};
  return ml_join_run(2, join);
}
