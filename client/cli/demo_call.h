/* mentorlink demo: a real end-to-end encrypted call between two local
 * processes (the call of demo_report.h), printed and checked; `demo --core`
 * is demo_core.h. */
#ifndef ML_CLI_DEMO_CALL_H
#define ML_CLI_DEMO_CALL_H

/* Runs the demo of `mentorlink demo` (a call of duration_s seconds; prints
 * what happened); returns the process exit status: 0 only when every check
 * passed. exe: the mentorlink binary to run as `join`. */
int ml_demo_call_run(const char *exe, double duration_s);

/* `mentorlink demo ARGS` (argv[0] is "demo"): [--duration SECONDS] or
 * --core. Returns the process exit status, or -1 when the arguments are not
 * the demo's (the caller prints the usage). */
int ml_demo_command(int argc, char **argv);

#endif /* ML_CLI_DEMO_CALL_H */
