/* libFuzzer target: what the signaling client does with server messages.
 *
 * The server is untrusted. Each input is a sequence of frames, u8 flags ||
 * u16 length (big-endian) || bytes; flags bit 0 set: a binary frame, else
 * text. Each frame goes through the client's validation and dispatch
 * (signal_client_internal.h), with callbacks that touch every field they are
 * given, so ASan sees any out-of-bounds or unterminated string. Seeds in
 * corpus/signal_client/ hold a welcome (with peers and ICE servers) followed
 * by presence, relayed signals and errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <sodium.h>

#include "ml/signal_client.h"
#include "signal_client_internal.h"

#include "fuzz.h"

static volatile size_t sink;

static void touch(const char *s) { sink += strlen(s); }

static void on_welcome(const ml_signal_welcome *w, void *user) {
  (void)user;
  touch(w->peer_id);
  touch(w->room);
  touch(w->name);
  for (size_t i = 0; i < w->n_peers; i++) {
    touch(w->peers[i].id);
    touch(w->peers[i].name);
    sink += w->peers[i].identity_key[31];
  }
  for (size_t i = 0; i < w->n_ice; i++) {
    touch(w->ice[i].host);
    touch(w->ice[i].username);
    touch(w->ice[i].credential);
    sink += w->ice[i].port;
  }
}

static void on_peer_joined(const ml_signal_peer *p, void *user) {
  (void)user;
  touch(p->id);
  touch(p->name);
}

static void on_peer_left(const char *id, const char *reason, void *user) {
  (void)user;
  touch(id);
  touch(reason);
}

static void on_signal(const char *from, JsonObject *data, void *user) {
  (void)user;
  touch(from);
  sink += json_object_get_size(data);
}

static void on_error(const char *code, const char *message, bool fatal, void *user) {
  (void)user;
  touch(code);
  touch(message);
  sink += fatal;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t key[32];
  ml_signal_client_config cfg = {
      .context = g_main_context_default(),
      .url = "ws://127.0.0.1:9/v1/ws",
      .room = "room",
      .name = "name",
      .identity_key = key,
      .callbacks = {.on_welcome = on_welcome,
                    .on_peer_joined = on_peer_joined,
                    .on_peer_left = on_peer_left,
                    .on_signal = on_signal,
                    .on_error = on_error},
  };
  ml_signal_client *sc = NULL;
  if (ml_signal_client_new(&sc, &cfg) != ML_OK)
    abort();
  size_t pos = 0;
  uint8_t flags;
  const uint8_t *rec;
  size_t len;
  while (ml_fuzz_next_record(data, size, &pos, &flags, &rec, &len))
    ml_signal_client_test_receive(sc, (const char *)rec, len, !(flags & 1));
  ml_signal_client_free(sc);
  return 0;
}
