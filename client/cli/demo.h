/* mentorlink demo --core: the secure core end to end between two processes. */
#ifndef ML_CLIENT_DEMO_H
#define ML_CLIENT_DEMO_H

/* Runs the demo and prints what happened; returns a process exit status
 * (0 only when every check passed). */
int ml_demo_run(void);

#endif /* ML_CLIENT_DEMO_H */
