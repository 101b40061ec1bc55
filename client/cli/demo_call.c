/* mentorlink demo: a real call between two local processes, checked. See
 * demo_call.h. */
#include "demo_call.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "demo_core.h"
#include "demo_report.h"

/* ---- the demo ---- */

static const char *const mentor_lines[] = {
    "Good morning! How did the night shift go?",
    "Walk me through your first hour with the sepsis patient.",
    "That is exactly right. Let's look at the fluid balance next.",
    NULL,
};
static const char *const mentee_lines[] = {
    "Busy: two admissions, one with suspected sepsis.",
    "Cultures, lactate, fluids, then antibiotics within the hour.",
    NULL,
};

static unsigned checks, failed;

static void check(bool ok, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void check(bool ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("  [%s] ", ok ? " ok " : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  checks++;
  if (!ok)
    failed++;
}

static bool chat_matches(const ml_demo_side *rx, const char *const *lines) {
  size_t n = 0;
  while (lines[n])
    n++;
  if (rx->n_chat_rx != n || rx->chat_overflow)
    return false;
  for (size_t i = 0; i < n; i++)
    if (strcmp(rx->chat_rx[i], lines[i]) != 0)
      return false;
  return true;
}

int ml_demo_call_run(const char *exe, double duration) {
  ml_demo_options opt = {.exe = exe, .duration_s = duration, .chat = {mentor_lines, mentee_lines}};
  ml_demo_report rep;
  printf("mentorlink demo: a real end-to-end encrypted call between two local processes\n"
         "  an embedded signaling server (open mode) on 127.0.0.1, a room with a room secret,\n"
         "  and two participants, \"mentor\" and \"mentee\", each running\n"
         "  `mentorlink join --headless --json --video-source test --audio-source test "
         "--duration %.0f`\n  with a fresh identity: ICE on loopback, Noise XXpsk3 over the ICE "
         "path, VP8 + Opus\n  encrypted per datagram, chat over PseudoTCP inside the channel.\n\n",
         duration);
  fflush(stdout);
  if (ml_demo_collect(&opt, &rep) != 0)
    return 1;
  const ml_demo_side *m = &rep.side[0], *e = &rep.side[1];
  printf("signaling server port %u; call held for %.0f s (%.1f s in all)\n\n", rep.server_port,
         duration, rep.wall_s);
  for (int i = 0; i < 2; i++) {
    const ml_demo_side *s = &rep.side[i], *o = &rep.side[1 - i];
    printf("%s: secure after %lld ms, path %s, rtt %.1f ms\n", s->name, (long long)s->secure_ms,
           s->path[0] ? s->path : "-", s->rtt_ms);
    printf("  video from %s: %llu frames decoded of %llu sent (%.1f %%); first frame %lld ms after "
           "start,\n  %lld ms after its receive branch started\n",
           o->name, (unsigned long long)s->video_frames_decoded,
           (unsigned long long)o->video_frames_sent,
           o->video_frames_sent
               ? 100.0 * (double)s->video_frames_decoded / (double)o->video_frames_sent
               : 0.0,
           (long long)s->first_frame_since_start_ms, (long long)s->first_frame_ms);
    printf("  audio from %s: %llu ms decoded, dominant frequency %.1f Hz (sent: 440 Hz)\n", o->name,
           (unsigned long long)s->audio_ms_decoded, s->audio_tone_hz);
    printf("  chat: %zu line(s) received, %zu receipt(s) for its own, first round trip %lld ms\n",
           s->n_chat_rx, s->receipts, (long long)s->chat_rtt_ms);
    uint64_t dropped = s->dropped_not_ours + s->dropped_malformed + s->dropped_auth +
                       s->dropped_replay + s->dropped_unexpected;
    uint64_t other = s->datagrams_in - MIN(s->datagrams_in, s->opened + dropped);
    printf("  datagrams in: %llu = %llu opened as our authenticated ciphertext + %llu handshake\n"
           "  + dropped: %llu not ours, %llu malformed, %llu forged, %llu replayed, %llu early\n",
           (unsigned long long)s->datagrams_in, (unsigned long long)s->opened,
           (unsigned long long)other, (unsigned long long)s->dropped_not_ours,
           (unsigned long long)s->dropped_malformed, (unsigned long long)s->dropped_auth,
           (unsigned long long)s->dropped_replay, (unsigned long long)s->dropped_unexpected);
    if (s->errors)
      printf("  %u error event(s), first: %s\n", s->errors, s->first_error);
  }
  printf("\nSAS:           mentor \"%s\"\n               mentee \"%s\"\n", m->sas, e->sas);
  printf("safety number: %s\n\nchecks:\n", m->safety_number);
  checks = failed = 0;
  check(m->exit_status == 0 && e->exit_status == 0, "both participants exited cleanly (%d, %d)",
        m->exit_status, e->exit_status);
  check(m->secure && e->secure, "both ends completed the handshake");
  check(m->sas[0] && !strcmp(m->sas, e->sas), "the SAS is the same on both sides");
  check(m->safety_number[0] && !strcmp(m->safety_number, e->safety_number),
        "the safety number is the same on both sides");
  check(!m->identity_warnings && !e->identity_warnings, "no identity warnings (fresh identities)");
  for (int i = 0; i < 2; i++) {
    const ml_demo_side *s = &rep.side[i], *o = &rep.side[1 - i];
    check(s->have_stats && o->video_frames_sent > 0 &&
              (double)s->video_frames_decoded >= 0.9 * (double)o->video_frames_sent,
          "%s decoded >= 90 %% of the frames %s sent", s->name, o->name);
    check(s->audio_ms_decoded >= (uint64_t)(duration * 1000 * 0.5),
          "%s decoded %s's audio (>= half the call)", s->name, o->name);
    check(fabs(s->audio_tone_hz - 440.0) <= 5.0, "%s hears %s's 440 Hz test tone (%.1f Hz)",
          s->name, o->name, s->audio_tone_hz);
    check(chat_matches(s, i == 0 ? mentee_lines : mentor_lines) &&
              o->receipts == (size_t)(i == 0 ? 2 : 3),
          "%s received %s's chat lines complete and in order; %s got every receipt", s->name,
          o->name, o->name);
    check(!strcmp(s->path, "host"), "%s's path is a direct host path", s->name);
    check(s->datagrams_in > 0 &&
              s->dropped_not_ours + s->dropped_malformed + s->dropped_auth + s->dropped_replay == 0,
          "%s received only our authenticated ciphertext and handshake datagrams", s->name);
  }
  printf("\n%s: %u of %u checks passed\n", failed ? "FAILED" : "all good", checks - failed, checks);
  ml_demo_report_clear(&rep);
  return failed ? 1 : 0;
}

int ml_demo_command(int argc, char **argv) {
  if (argc == 1)
    return ml_demo_call_run("/proc/self/exe", 10.0);
  if (argc == 3 && !strcmp(argv[1], "--duration")) {
    char *end = NULL;
    double s = strtod(argv[2], &end);
    if (!end || *end || !(s >= 3 && s <= 40)) {
      fprintf(stderr, "usage: mentorlink demo [--duration SECONDS (3-40)]\n");
      return 2;
    }
    return ml_demo_call_run("/proc/self/exe", s);
  }
  if (argc == 2 && !strcmp(argv[1], "--core"))
    return ml_demo_run();
  return -1;
}
