/* noise-vectors: checks our Noise implementation against test vector files in
 * the cacophony/snow JSON format ({"vectors": [...]}):
 *
 *   noise-vectors FILE...
 *
 * For each vector whose suite is 25519/ChaChaPoly/BLAKE2b it runs both roles
 * with the vector's fixed keys, and requires every message (handshake and
 * transport) byte for byte, both payloads, and the handshake hash. Vectors of
 * other suites, or with modifiers we do not implement ("fallback"), are
 * counted as skipped. Messages alternate between initiator and responder; in
 * one-way patterns every message is the initiator's. A vector with
 * "fail": true must fail. Exit status 0 only if nothing failed and at least
 * one vector ran. */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "ml/noise.h"

#define MAX_MSG ML_NOISE_MAX_MSG

typedef struct hexbuf {
  uint8_t *data;
  size_t len;
} hexbuf;

static gboolean hex_decode(const char *hex, hexbuf *out) {
  size_t n = strlen(hex);
  if (n % 2)
    return FALSE;
  out->data = g_malloc(n / 2 + 1);
  out->len = n / 2;
  for (size_t i = 0; i < out->len; i++) {
    int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return FALSE;
    out->data[i] = (uint8_t)(hi << 4 | lo);
  }
  return TRUE;
}

/* Reads an optional hex member of exactly want bytes (0: any length). */
static gboolean get_hex(JsonObject *o, const char *member, size_t want, hexbuf *out,
                        gboolean *present) {
  memset(out, 0, sizeof *out);
  *present = json_object_has_member(o, member);
  if (!*present)
    return TRUE;
  const char *s = json_object_get_string_member(o, member);
  if (!s || !hex_decode(s, out))
    return FALSE;
  return want == 0 || out->len == want;
}

typedef struct party {
  ml_noise_handshake *hs;
  ml_noise_cipher *send, *recv;
} party;

static void party_clear(party *p) {
  ml_noise_handshake_free(p->hs);
  ml_noise_cipher_free(p->send);
  ml_noise_cipher_free(p->recv);
  memset(p, 0, sizeof *p);
}

/* Builds one side from the "init_" or "resp_" members. */
static const char *make_party(JsonObject *v, const char *name, const char *pfx, ml_noise_role role,
                              party *p) {
  char key[64];
  hexbuf prologue = {0}, s = {0}, e = {0}, rs = {0};
  gboolean has_prologue = FALSE, has_s = FALSE, has_e = FALSE, has_rs = FALSE;
  uint8_t psks[ML_NOISE_MAX_PSKS][ML_NOISE_KEY_LEN];
  size_t n_psks = 0;
  const char *why = NULL;

  g_snprintf(key, sizeof key, "%s_prologue", pfx);
  gboolean ok = get_hex(v, key, 0, &prologue, &has_prologue);
  g_snprintf(key, sizeof key, "%s_static", pfx);
  ok = ok && get_hex(v, key, 32, &s, &has_s);
  g_snprintf(key, sizeof key, "%s_ephemeral", pfx);
  ok = ok && get_hex(v, key, 32, &e, &has_e);
  g_snprintf(key, sizeof key, "%s_remote_static", pfx);
  ok = ok && get_hex(v, key, 32, &rs, &has_rs);
  g_snprintf(key, sizeof key, "%s_psks", pfx);
  if (ok && json_object_has_member(v, key)) {
    JsonArray *a = json_object_get_array_member(v, key);
    for (guint i = 0; ok && a && i < json_array_get_length(a); i++) {
      hexbuf one;
      ok = n_psks < ML_NOISE_MAX_PSKS && hex_decode(json_array_get_string_element(a, i), &one) &&
           one.len == ML_NOISE_KEY_LEN;
      if (ok)
        memcpy(psks[n_psks++], one.data, ML_NOISE_KEY_LEN);
      g_free(one.data);
    }
  }
  if (!ok) {
    why = "malformed key, prologue or psk field";
    goto out;
  }
  ml_noise_config cfg = {
      .protocol_name = name,
      .role = role,
      .prologue = prologue.data,
      .prologue_len = prologue.len,
      .local_static_private = has_s ? s.data : NULL,
      .remote_static_public = has_rs ? rs.data : NULL,
      .psks = (const uint8_t(*)[ML_NOISE_KEY_LEN])psks,
      .n_psks = n_psks,
  };
  int err = ml_noise_handshake_new(&p->hs, &cfg);
  if (err) {
    why = ml_strerror(err);
    goto out;
  }
  if (has_e && ml_noise_handshake_set_ephemeral(p->hs, e.data) != ML_OK)
    why = "cannot set ephemeral";
out:
  g_free(prologue.data);
  g_free(s.data);
  g_free(e.data);
  g_free(rs.data);
  return why;
}

typedef enum { RESULT_PASS, RESULT_FAIL, RESULT_SKIP } result;

/* Runs one vector; on failure or skip, *why says why. */
static result run_vector(JsonObject *v, const char **why, char *detail, size_t detail_cap) {
  const char *name = json_object_get_string_member_with_default(v, "protocol_name", NULL);
  if (!name)
    name = json_object_get_string_member_with_default(v, "name", NULL);
  if (!name) {
    *why = "no protocol_name";
    return RESULT_FAIL;
  }
  if (!g_str_has_suffix(name, "_25519_ChaChaPoly_BLAKE2b")) {
    *why = "other suite";
    return RESULT_SKIP;
  }
  gboolean expect_fail = json_object_get_boolean_member_with_default(v, "fail", FALSE);
  party init = {0}, resp = {0};
  result res = RESULT_FAIL;
  uint8_t *out = g_malloc(MAX_MSG), *pt = g_malloc(MAX_MSG);

  *why = make_party(v, name, "init", ML_NOISE_INITIATOR, &init);
  if (!*why)
    *why = make_party(v, name, "resp", ML_NOISE_RESPONDER, &resp);
  if (*why) {
    /* A pattern we do not implement is a skip; anything else a failure. */
    if (!strcmp(*why, ml_strerror(ML_ERR_UNSUPPORTED)))
      res = RESULT_SKIP;
    goto out;
  }

  JsonArray *msgs = json_object_get_array_member(v, "messages");
  if (!msgs) {
    *why = "no messages";
    goto out;
  }
  gboolean one_way = FALSE;
  for (guint i = 0; i < json_array_get_length(msgs); i++) {
    JsonObject *m = json_array_get_object_element(msgs, i);
    hexbuf payload = {0}, ct = {0};
    gboolean has_p, has_c;
    if (!m || !get_hex(m, "payload", 0, &payload, &has_p) ||
        !get_hex(m, "ciphertext", 0, &ct, &has_c) || !has_p || !has_c) {
      g_free(payload.data);
      g_free(ct.data);
      *why = "malformed message";
      goto out;
    }
    gboolean from_init = one_way || (i % 2) == 0;
    party *tx = from_init ? &init : &resp, *rx = from_init ? &resp : &init;
    size_t out_len = 0, pt_len = 0;
    int err;
    if (tx->hs && ml_noise_handshake_action(tx->hs) == ML_NOISE_WRITE) {
      err = ml_noise_handshake_write_message(tx->hs, payload.data, payload.len, out, MAX_MSG,
                                             &out_len);
      if (!err)
        err = ml_noise_handshake_read_message(rx->hs, out, out_len, pt, MAX_MSG, &pt_len);
      /* When both finish, split into transport ciphers. */
      if (!err && ml_noise_handshake_action(tx->hs) == ML_NOISE_SPLIT) {
        if (memcmp(ml_noise_handshake_hash(init.hs), ml_noise_handshake_hash(resp.hs),
                   ML_NOISE_HASH_LEN) != 0) {
          *why = "the two sides' handshake hashes differ";
          err = -1;
        }
        if (!err)
          err = ml_noise_handshake_split(init.hs, &init.send, &init.recv);
        if (!err)
          err = ml_noise_handshake_split(resp.hs, &resp.send, &resp.recv);
        one_way = init.recv == NULL;
      }
    } else if (tx->send && rx->recv) {
      err = ml_noise_cipher_encrypt(tx->send, NULL, 0, payload.data, payload.len, out, MAX_MSG,
                                    &out_len);
      if (!err)
        err = ml_noise_cipher_decrypt(rx->recv, NULL, 0, out, out_len, pt, MAX_MSG, &pt_len);
    } else {
      err = -1;
      *why = "message out of sequence";
    }
    gboolean same = !err && out_len == ct.len && memcmp(out, ct.data, ct.len) == 0 &&
                    pt_len == payload.len && memcmp(pt, payload.data, payload.len) == 0;
    g_free(payload.data);
    g_free(ct.data);
    if (!same) {
      if (!*why)
        *why = err > 0 ? ml_strerror(err) : "bytes differ";
      g_snprintf(detail, detail_cap, "message %u", i);
      goto out;
    }
  }
  hexbuf hh;
  gboolean has_hh;
  if (!get_hex(v, "handshake_hash", ML_NOISE_HASH_LEN, &hh, &has_hh)) {
    *why = "malformed handshake_hash";
    goto out;
  }
  if (has_hh && init.hs &&
      memcmp(hh.data, ml_noise_handshake_hash(init.hs), ML_NOISE_HASH_LEN) != 0) {
    *why = "handshake hash differs";
  } else {
    res = RESULT_PASS;
  }
  g_free(hh.data);
out:
  if (expect_fail && res != RESULT_SKIP) {
    res = res == RESULT_FAIL ? RESULT_PASS : RESULT_FAIL;
    *why = res == RESULT_FAIL ? "vector marked fail, but it succeeded" : NULL;
  }
  party_clear(&init);
  party_clear(&resp);
  g_free(out);
  g_free(pt);
  return res;
}

int main(int argc, char **argv) {
  unsigned passed = 0, failed = 0, skipped = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s VECTOR_FILE.json...\n", argv[0]);
    return 2;
  }
  for (int f = 1; f < argc; f++) {
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    if (!json_parser_load_from_file(parser, argv[f], &error)) {
      fprintf(stderr, "%s: %s\n", argv[f], error->message);
      failed++;
      continue;
    }
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *top = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    JsonArray *vectors = top && json_object_has_member(top, "vectors")
                             ? json_object_get_array_member(top, "vectors")
                             : NULL;
    if (!vectors) {
      fprintf(stderr, "%s: no \"vectors\" array\n", argv[f]);
      failed++;
      continue;
    }
    for (guint i = 0; i < json_array_get_length(vectors); i++) {
      JsonObject *v = json_array_get_object_element(vectors, i);
      const char *why = NULL;
      char detail[64] = "";
      result r = v ? run_vector(v, &why, detail, sizeof detail) : RESULT_FAIL;
      const char *name = v ? json_object_get_string_member_with_default(v, "protocol_name", "?")
                           : "(not an object)";
      switch (r) {
      case RESULT_PASS:
        passed++;
        printf("PASS %s\n", name);
        break;
      case RESULT_SKIP:
        skipped++;
        printf("SKIP %s (%s)\n", name, why ? why : "");
        break;
      case RESULT_FAIL:
        failed++;
        printf("FAIL %s: %s %s\n", name, why ? why : "", detail);
        break;
      }
    }
  }
  printf("noise-vectors: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
  return (failed == 0 && passed > 0) ? 0 : 1;
}
