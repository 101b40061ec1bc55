/* mentorlink demo --core: the secure core end to end between two processes. */
#ifndef ML_CLI_DEMO_CORE_H
#define ML_CLI_DEMO_CORE_H

/* Runs the demo and prints what happened; returns a process exit status
 * (0 only when every check passed). */
int ml_demo_run(void);

#endif /* ML_CLI_DEMO_CORE_H */
