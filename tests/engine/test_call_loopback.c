/* engine.call_loopback: a real 1:1 call on loopback.
 *
 * An embedded signaling server (the same ml_signal code the daemon runs) and
 * two real `mentorlink join --headless --json --video-source test
 * --audio-source test --duration 10` processes in one room with a room
 * secret (client/harness/demo_report.c starts them and collects their JSON lines).
 * Checks, each way: at least 90 % of the VP8 frames the sender sealed to this
 * peer were decoded (50 % in sanitizer builds, see MIN_VIDEO), audio was decoded and its dominant
 * frequency is the sender's 440 Hz test tone within 5 Hz, every chat line arrived complete and in
 * order and was receipted, the SAS and safety number agree, and every datagram received was our
 * authenticated ciphertext or a handshake message. Every wait is bounded (the call's duration + 20
 * s at most, then the children are killed); no sleeps. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "demo_report.h"
#include "check.h"
#include "child.h"

#ifndef MENTORLINK_BIN
#error "MENTORLINK_BIN must name the mentorlink binary"
#endif

/* Sanitizer builds run the pipelines 5-10x slower (ASan with the slow
 * unwinder its GLib suppressions need); on a loaded machine their receive
 * branches take seconds to decode a first frame, and the frames sent
 * meanwhile are lost. They hold the call longer and check a lower share of
 * frames; the 90 % figure is the normal build's. */
#ifdef ML_CALL_TEST_SECONDS
#define DURATION_S ((double)ML_CALL_TEST_SECONDS)
#else
#define DURATION_S 10.0
#endif
#ifdef ML_CALL_TEST_MIN_VIDEO
#define MIN_VIDEO ML_CALL_TEST_MIN_VIDEO
#define MIN_AUDIO 0.25 /* of the call's duration */
#else
#define MIN_VIDEO 0.9
#define MIN_AUDIO 0.5
#endif

static const char *const lines_a[] = {"line 1 from mentor: é ü ✓", "line 2 from mentor",
                                      "line 3 from mentor, the last", NULL};
static const char *const lines_b[] = {"line 1 from mentee", "line 2 from mentee \"quoted\"", NULL};

int main(void) {
  if (sodium_init() < 0)
    return 1;
  ml_demo_options opt = {
      .exe = MENTORLINK_BIN,
      .duration_s = DURATION_S,
      .chat = {lines_a, lines_b},
      .verbose = g_getenv("ML_TEST_VERBOSE") != NULL,
  };
  g_autofree char *dir = g_dir_make_tmp("ml-call-test-XXXXXX", NULL);
  opt.data_dir = dir;
  ml_demo_report rep;
  if (!dir || ml_demo_collect(&opt, &rep) != 0) {
    fprintf(stderr, "FAIL: the call could not be set up\n");
    return 1;
  }
  const char *const *sent[2] = {lines_a, lines_b};
  for (int i = 0; i < 2; i++) {
    const ml_demo_side *s = &rep.side[i], *o = &rep.side[1 - i];
    printf("%s: secure at %lld ms, path %s, rtt %.2f ms; video %llu/%llu frames from %s "
           "(first after %lld ms); audio %llu ms; chat %zu lines in, %zu receipts; "
           "tone %.1f Hz; datagrams in %llu, opened %llu, dropped %llu/%llu/%llu/%llu/%llu "
           "(not ours/malformed/forged/replayed/early)\n",
           s->name, (long long)s->secure_ms, s->path, s->rtt_ms,
           (unsigned long long)s->video_frames_decoded, (unsigned long long)o->video_frames_sent,
           o->name, (long long)s->first_frame_ms, (unsigned long long)s->audio_ms_decoded,
           s->n_chat_rx, s->receipts, s->audio_tone_hz, (unsigned long long)s->datagrams_in,
           (unsigned long long)s->opened, (unsigned long long)s->dropped_not_ours,
           (unsigned long long)s->dropped_malformed, (unsigned long long)s->dropped_auth,
           (unsigned long long)s->dropped_replay, (unsigned long long)s->dropped_unexpected);
    CHECK(s->exit_status == 0, "%s exit status %d (errors: %u, first: %s)", s->name, s->exit_status,
          s->errors, s->first_error);
    CHECK(s->joined && s->secure, "%s joined and secure", s->name);
    CHECK(s->have_stats, "%s printed stats", s->name);
    /* Liveness, not throughput: video kept flowing through the call. How many
     * frames a starved 2-core machine encodes is a figure (bench_call), not a
     * check; what the issue asks of the call is the decoded ratio below. */
    CHECK(o->video_frames_sent >= 20, "%s sent only %llu frames to %s in the call", o->name,
          (unsigned long long)o->video_frames_sent, s->name);
    CHECK((double)s->video_frames_decoded >= MIN_VIDEO * (double)o->video_frames_sent,
          "%s decoded %llu of %llu frames", s->name, (unsigned long long)s->video_frames_decoded,
          (unsigned long long)o->video_frames_sent);
    CHECK(s->first_frame_ms >= 0, "%s decoded a first frame", s->name);
    CHECK(s->audio_ms_decoded >= (uint64_t)(DURATION_S * 1000 * MIN_AUDIO),
          "%s decoded %llu ms of audio", s->name, (unsigned long long)s->audio_ms_decoded);
    CHECK(fabs(s->audio_tone_hz - 440.0) <= 5.0, "%s hears a %.1f Hz tone, sent 440 Hz", s->name,
          s->audio_tone_hz);
    /* The other side's lines, complete and in order. */
    const char *const *want = sent[1 - i];
    size_t n = 0;
    while (want[n])
      n++;
    CHECK(s->n_chat_rx == n && !s->chat_overflow, "%s got %zu chat lines, expected %zu", s->name,
          s->n_chat_rx, n);
    for (size_t j = 0; j < n && j < s->n_chat_rx; j++)
      CHECK(!strcmp(s->chat_rx[j], want[j]), "%s line %zu: \"%s\" != \"%s\"", s->name, j,
            s->chat_rx[j], want[j]);
    size_t mine = 0;
    while (sent[i][mine])
      mine++;
    CHECK(s->receipts == mine, "%s got %zu receipts for %zu lines", s->name, s->receipts, mine);
    CHECK(!strcmp(s->path, "host"), "%s path %s", s->name, s->path);
    CHECK(s->datagrams_in > 0 && s->dropped_not_ours == 0 && s->dropped_malformed == 0 &&
              s->dropped_auth == 0 && s->dropped_replay == 0,
          "%s dropped datagrams that were not our ciphertext", s->name);
    CHECK(s->identity_warnings == 0, "%s warned about an identity change", s->name);
  }
  CHECK(rep.side[0].sas[0] && !strcmp(rep.side[0].sas, rep.side[1].sas), "SAS \"%s\" vs \"%s\"",
        rep.side[0].sas, rep.side[1].sas);
  CHECK(rep.side[0].safety_number[0] &&
            !strcmp(rep.side[0].safety_number, rep.side[1].safety_number),
        "safety numbers differ");
  CHECK(!strcmp(rep.side[0].pin, "new") && !strcmp(rep.side[1].pin, "new"),
        "first call pins both keys (%s, %s)", rep.side[0].pin, rep.side[1].pin);
  printf("SAS \"%s\"; wall time %.1f s\n", rep.side[0].sas, rep.wall_s);
  ml_demo_report_clear(&rep);

  /* Trust on first use: the mentee comes back with a new identity under the
   * same name. The mentor must warn; the mentee still matches its pin. */
  g_autofree char *key = g_build_filename(dir, "mentee", "mentorlink", "identity.key", NULL);
  CHECK(g_unlink(key) == 0, "mentee's identity file removed (%s)", key);
  static const char *const none[] = {NULL};
  opt.duration_s = 6.0; /* joining, Argon2id and the handshake take seconds on a loaded host */
  opt.chat[0] = opt.chat[1] = none;
  if (ml_demo_collect(&opt, &rep) != 0) {
    fprintf(stderr, "FAIL: the second call could not be set up\n");
    return 1;
  }
  CHECK(rep.side[0].secure && rep.side[1].secure, "second call secure");
  CHECK(!strcmp(rep.side[0].pin, "changed") && rep.side[0].identity_warnings == 1,
        "mentor warns about the mentee's new key (pin %s, warnings %u)", rep.side[0].pin,
        rep.side[0].identity_warnings);
  CHECK(!strcmp(rep.side[1].pin, "match") && rep.side[1].identity_warnings == 0,
        "mentee's pin of the mentor still matches (pin %s, warnings %u)", rep.side[1].pin,
        rep.side[1].identity_warnings);
  printf("second call: mentor pin %s (%u warning), mentee pin %s\n", rep.side[0].pin,
         rep.side[0].identity_warnings, rep.side[1].pin);
  ml_demo_report_clear(&rep);
  ml_remove_tree(dir);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("engine.call_loopback: all checks passed\n");
  return 0;
}
