/* mentorlink-signal's administration subcommands, run instead of the daemon
 * (main thread, before any server exists). Each parses its own argv (argv[0]
 * is the subcommand's name), prints its result on stdout and its errors on
 * stderr, and returns the process's exit status: 0 done, 1 failed (config,
 * file), 2 usage error.
 *
 *   token   a signed join token (ml/signal_token.h)
 *   invite  an invite link holding the server and such a token (ml/invite.h),
 *           valid from --from to --until, and optionally its .ics file
 */
#ifndef ML_SIGNAL_ADMIN_H
#define ML_SIGNAL_ADMIN_H

#define ML_SIGNAL_DEFAULT_CONFIG "/etc/mentorlink/signal.conf"

int ml_admin_token(int argc, char **argv);
int ml_admin_invite(int argc, char **argv);

#endif /* ML_SIGNAL_ADMIN_H */
