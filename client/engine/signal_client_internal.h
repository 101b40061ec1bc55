/* Test hooks of signal_client.c (fuzz target and tests only). */
#ifndef ML_SIGNAL_CLIENT_INTERNAL_H
#define ML_SIGNAL_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "ml/signal_client.h"

/* Feeds one WebSocket frame as if the server had sent it (text or binary),
 * through the same validation and dispatch as a real one. The client must
 * not have been started; it behaves as connected and joining. */
void ml_signal_client_test_receive(ml_signal_client *sc, const char *data, size_t len, bool text);

#endif /* ML_SIGNAL_CLIENT_INTERNAL_H */
