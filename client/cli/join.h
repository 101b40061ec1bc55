/* mentorlink join: one participant in a call, driven from the command line. */
#ifndef ML_CLIENT_JOIN_H
#define ML_CLIENT_JOIN_H

#include <stdio.h>

/* The option text of `mentorlink join` for --help. */
void ml_join_usage(FILE *f);

/* Runs `mentorlink join ARGS` (argv[0] is "join"); returns a process exit
 * status: 0 after a call that ended as asked (duration, signal) in which at
 * least one peer became secure, 1 when the call could not be joined or
 * failed, 2 for a usage error, 3 when the call was joined but no peer ever
 * became secure (nobody came, or every link failed). */
int ml_join_run(int argc, char **argv);

#endif /* ML_CLIENT_JOIN_H */
