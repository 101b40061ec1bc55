/* libFuzzer target: datagram framing and the channel's open path.
 *
 * Each input is one datagram from the network. It is parsed, its framing
 * invariants are checked, and it is opened by a fresh channel built from
 * fixed keys and a fixed clock (so a run is deterministic). Seeds in
 * corpus/datagram/ include datagrams sealed under those keys, so the fuzzer
 * starts on the authenticated paths too (epochs 0 and 1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ml/channel.h"
#include "ml/datagram.h"

#include "fuzz.h"

static uint64_t fixed_clock(void *user) {
  (void)user;
  return 1000;
}

static void check_parse(const uint8_t *data, size_t size) {
  ml_datagram d;
  int err = ml_datagram_parse(data, size, &d);
  if (err != ML_OK) {
    CHECK(err == ML_ERR_TOO_BIG || err == ML_ERR_UNSUPPORTED || err == ML_ERR_PROTOCOL);
    CHECK(err != ML_ERR_TOO_BIG || size > ML_DATAGRAM_MAX);
    return;
  }
  CHECK(size <= ML_DATAGRAM_MAX);
  CHECK(ml_datagram_is_ours(data, size));
  CHECK(d.version == ML_DATAGRAM_VERSION);
  CHECK(d.header == data);
  CHECK(d.body == data + d.header_len);
  CHECK(d.header_len + d.body_len == size);
  if (d.type == ML_DATAGRAM_HANDSHAKE) {
    CHECK(d.header_len == ML_DATAGRAM_HANDSHAKE_HEADER_LEN && d.body_len >= 1);
    CHECK(d.handshake_index == data[1]);
  } else {
    CHECK(d.type == ML_DATAGRAM_TRANSPORT);
    CHECK(d.header_len == ML_DATAGRAM_TRANSPORT_HEADER_LEN);
    CHECK(d.body_len >= 1 + ML_DATAGRAM_TAG_LEN);
    CHECK(d.key_id == 0 && d.epoch == data[1]);
    /* Writing the parsed fields back gives the same header bytes. */
    uint8_t hdr[ML_DATAGRAM_TRANSPORT_HEADER_LEN];
    CHECK(ml_datagram_write_transport_header(hdr, sizeof hdr, d.epoch, d.key_id, d.counter) ==
          ML_OK);
    CHECK(memcmp(hdr, data, sizeof hdr) == 0);
  }
}

static void check_open(const uint8_t *data, size_t size) {
  uint8_t send_key[ML_NOISE_KEY_LEN], recv_key[ML_NOISE_KEY_LEN];
  memset(send_key, 0x11, sizeof send_key);
  memset(recv_key, 0x22, sizeof recv_key); /* what the seeds were sealed with */
  ml_channel_config cfg = {0, 0, 0, fixed_clock, NULL};
  ml_channel *ch = NULL;
  CHECK(ml_channel_new(&ch, send_key, recv_key, &cfg) == ML_OK);

  uint8_t payload[ML_DATAGRAM_MAX];
  ml_inner_type type;
  size_t len = 0;
  int err = ml_channel_open(ch, data, size, &type, payload, sizeof payload, &len);
  ml_channel_stats st;
  ml_channel_get_stats(ch, &st);
  if (err == ML_OK) {
    CHECK(ml_inner_type_valid(type));
    CHECK(size >= ML_DATAGRAM_TRANSPORT_OVERHEAD && len == size - ML_DATAGRAM_TRANSPORT_OVERHEAD);
    CHECK(st.opened == 1);
    /* The same datagram a second time is a replay, and changes nothing else. */
    CHECK(ml_channel_open(ch, data, size, &type, payload, sizeof payload, &len) == ML_ERR_REPLAY);
    ml_channel_stats st2;
    ml_channel_get_stats(ch, &st2);
    CHECK(st2.opened == 1 && st2.dropped_replay == 1 && st2.recv_epoch == st.recv_epoch);
  } else {
    CHECK(st.opened == 0 && st.recv_epoch == 0);
    CHECK(st.dropped_malformed + st.dropped_auth + st.dropped_replay == 1);
  }
  ml_channel_free(ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (sodium_init() < 0)
    abort();
  check_parse(data, size);
  check_open(data, size);
  return 0;
}
