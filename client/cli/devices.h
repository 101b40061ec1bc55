/* mentorlink devices: the cameras and microphones join can use. */
#ifndef ML_CLI_DEVICES_H
#define ML_CLI_DEVICES_H

/* Prints them (name and id, for join --camera / --microphone); argv[0] is
 * "devices". Returns the exit status. */
int ml_devices_command(int argc, char **argv);

#endif /* ML_CLI_DEVICES_H */
