/* mentorlink open: what the desktop entry runs (Exec=mentorlink open %u),
 * for an invite link clicked in a mail or calendar program, or for the menu.
 * With a link it joins the call in the window, as `mentorlink join LINK`
 * does; without one, or with a link that is not an invite, it says what to
 * do in a message box (there may be no terminal to read stderr), and on
 * stderr. */
#ifndef ML_CLI_OPEN_H
#define ML_CLI_OPEN_H

#include <stdio.h>

/* The option text of `mentorlink open` for --help. */
void ml_open_usage(FILE *f);

/* Runs `mentorlink open [LINK]` (argv[0] is "open"); returns an exit status
 * as ml_join_run does (2 without a usable link). */
int ml_open_run(int argc, char **argv);

#endif /* ML_CLI_OPEN_H */
