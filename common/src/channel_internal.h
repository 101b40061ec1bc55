/* mentorlink — private hooks of the datagram channel, for its unit tests only.
 *
 * Not installed, not part of the contract in ml/channel.h. Counter exhaustion
 * cannot be reached by sealing 2^64 datagrams, so the tests jump there. */
#ifndef ML_CHANNEL_INTERNAL_H
#define ML_CHANNEL_INTERNAL_H

#include <stdint.h>

#include "ml/channel.h"

/* Sets the counter the next ml_channel_seal() will use. Test code only:
 * moving it backwards would reuse nonces. */
void ml_channel_set_send_counter(ml_channel *ch, uint64_t counter);

#endif /* ML_CHANNEL_INTERNAL_H */
