/* mentorlink identity and mentorlink safety-number: your identity key, and
 * the safety number of two keys. Both return a process exit status; argv[0]
 * is the command's name. libsodium must be initialised. */
#ifndef ML_CLI_IDENTITY_H
#define ML_CLI_IDENTITY_H

/* `identity [--file PATH]`: shows (creating it on first use) the identity
 * at PATH or at the default path, sealed with MENTORLINK_PASSPHRASE when it
 * is set. -1 when the arguments are not these (the caller prints the usage). */
int ml_identity_command(int argc, char **argv);

/* `safety-number KEY_A KEY_B` (64 hex digits each). */
int ml_safety_number_command(int argc, char **argv);

#endif /* ML_CLI_IDENTITY_H */
