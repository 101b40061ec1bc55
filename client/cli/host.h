/* mentorlink host: a clinic with no IT starts a room from the client. The
 * signaling server runs inside this process, listening on the LAN; this
 * process joins the room as its host; the command the others type is printed
 * first. */
#ifndef ML_CLI_HOST_H
#define ML_CLI_HOST_H

#include <stdio.h>

/* The option text of `mentorlink host` for --help. */
void ml_host_usage(FILE *f);

/* Runs `mentorlink host --room ROOM --name NAME [--listen ADDR:PORT]
 * [join options]` (argv[0] is "host"); returns an exit status as
 * ml_join_run does. */
int ml_host_run(int argc, char **argv);

#endif /* ML_CLI_HOST_H */
