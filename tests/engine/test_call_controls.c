/* engine.call_controls: what the session window needs, driven for real.
 *
 * Part 1, two real `mentorlink join --headless --json --stdin-commands`
 * processes (test sources, loopback) and an embedded signaling server:
 *   - A mutes, turns its camera off, then both back, by stdin commands; B's
 *     JSON shows each state as peer_media (the CONTROL messages of the
 *     secure channel), and nothing B received was an unknown or malformed
 *     CONTROL datagram;
 *   - both cameras off for longer than an idle sender SSRC lives in
 *     rtpsession (5 report intervals), then on: each side decodes the
 *     other's video again. The peer's RTCP about its own idle streams must
 *     not reach our sender's session (ml/rtcp_origin.h); whether a mistake
 *     there shows depends on which SSRC each rtpsession took as its
 *     suggested one, so this catches it in some runs only: unit.rtcp_origin
 *     and engine.media_loopback check the routing and the refusal in every
 *     run;
 *   - a chat line typed on A's stdin reaches B (and "//x" arrives as "/x");
 *   - B types /verify A's name: marked_verified ok;
 *   - a second call between the same identities: B's verification says
 *     verified=true (A's, which never marked B, says false).
 * Part 2, two ml_call objects in this process: the self view and a remote
 * peer's frames through ml_call_latest_frame, the peer's audio level through
 * ml_call_audio_level, and both asked from a second thread, as a UI would,
 * while the peer leaves (ASan builds catch a use after free).
 *
 * Every wait is bounded (WAIT_S) and says what it waited for; the only
 * timed stretch is the cameras-off gap, which is the scenario itself. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <sodium.h>

#include "check.h"
#include "child.h"
#include "ml/call.h"
#include "ml/identity.h"
#include "local_call.h"

#ifndef MENTORLINK_BIN
#error "MENTORLINK_BIN must name the mentorlink binary"
#endif

/* Sanitizer builds run pipelines 5-10x slower on a loaded machine. */
#ifdef ML_CALL_TEST_SANITIZE
#define WAIT_S 60
#else
#define WAIT_S 25
#endif

/* ---- one `mentorlink join` child ---- */

typedef struct kid {
  const char *name;
  ml_child *proc;
  /* From its JSON lines. */
  bool joined, secure, verified;
  char pin[16];
  char peer_id[ML_CALL_MAX_PEER_ID + 1]; /* the other participant */
  unsigned media_events;
  ml_call_peer_media media; /* the last peer_media */
  bool marked, marked_ok;
  char *chat[4];
  size_t n_chat;
  uint64_t control_unknown, control_malformed;
  uint64_t frames_decoded; /* of the other's video, from the last stats line */
  unsigned errors;
  char first_error[200];
} kid;

static void take_line(void *user, const char *line, const ml_event *ev) {
  kid *k = user;
  if (g_getenv("ML_TEST_VERBOSE"))
    fprintf(stderr, "  [%s] %s\n", k->name, line);
  if (!ev)
    return;
  switch (ev->type) {
  case ML_EVENT_JOINED: k->joined = true; break;
  case ML_EVENT_PEER_JOINED: g_strlcpy(k->peer_id, ev->peer, sizeof k->peer_id); break;
  case ML_EVENT_VERIFICATION:
    k->secure = true;
    k->verified = ev->verified;
    g_strlcpy(k->pin, ev->pin, sizeof k->pin);
    break;
  case ML_EVENT_PEER_MEDIA:
    k->media_events++;
    k->media.muted = ev->muted;
    k->media.camera_on = ev->camera_on;
    k->media.video_paused = ev->video_paused;
    break;
  case ML_EVENT_MARKED_VERIFIED:
    k->marked = true;
    k->marked_ok = ev->ok;
    break;
  case ML_EVENT_CHAT:
    if (k->n_chat < G_N_ELEMENTS(k->chat))
      k->chat[k->n_chat++] = g_strdup(ev->text);
    break;
  case ML_EVENT_STATS:
    k->control_unknown = ev->stats.control_unknown;
    k->control_malformed = ev->stats.control_malformed;
    k->frames_decoded = ev->stats.video_frames_decoded;
    break;
  case ML_EVENT_ERROR:
    if (k->errors++ == 0)
      g_strlcpy(k->first_error, ev->text, sizeof k->first_error);
    break;
  default: break;
  }
}

static bool spawn(kid *k, const char *url, const char *room, const char *data_home) {
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  ml_local_join_args(argv, MENTORLINK_BIN, url, room, k->name, TRUE);
  g_ptr_array_add(argv, g_strdup("--stdin-commands"));
  g_ptr_array_add(argv, g_strdup("--duration"));
  g_ptr_array_add(argv, g_strdup("300")); /* a bound; the test leaves with /leave */
  g_ptr_array_add(argv, NULL);
  g_autofree char *home_env = g_strconcat("XDG_DATA_HOME=", data_home, NULL);
  const char *env[] = {home_env, "MENTORLINK_PASSPHRASE", "MENTORLINK_ROOM_SECRET", NULL};
  ml_child_options co = {.name = k->name,
                         .argv = (const char *const *)argv->pdata,
                         .env = env,
                         .on_line = take_line,
                         .user = k};
  co.stdin_pipe = true; /* the test types commands (type_line) */
  k->proc = ml_child_spawn(&co);
  g_ptr_array_free(argv, TRUE);
  return k->proc != NULL;
}

static void type_line(kid *k, const char *line) {
  GError *err = NULL;
  if (!ml_child_write_line(k->proc, line, &err)) {
    CHECK(false, "writing \"%s\" to %s's stdin: %s", line, k->name, err->message);
    g_error_free(err);
  }
}

static void kid_clear(kid *k) {
  ml_child_print_tail(k->proc);
  ml_child_free(k->proc);
  for (size_t i = 0; i < k->n_chat; i++)
    g_free(k->chat[i]);
  const char *name = k->name;
  memset(k, 0, sizeof *k);
  k->name = name;
}

typedef bool (*pred_fn)(const kid *k);
typedef struct holds {
  pred_fn pred;
  const kid *k;
} holds;

static bool pred_holds(void *arg) {
  const holds *h = arg;
  return h->pred(h->k);
}

/* Iterates the main context until pred(k) holds or WAIT_S pass. */
static bool wait_for(const kid *k, pred_fn pred, const char *what) {
  holds h = {pred, k};
  bool ok =
      ml_child_run_until(pred_holds, &h, g_get_monotonic_time() + (int64_t)WAIT_S * G_USEC_PER_SEC);
  CHECK(ok, "%s: waited %d s for %s", k->name, WAIT_S, what);
  return ok;
}

static bool p_secure(const kid *k) { return k->secure; }
static bool p_first_media(const kid *k) { return k->media_events >= 1; }
static bool p_muted(const kid *k) { return k->media.muted; }
static bool p_camera_off(const kid *k) { return !k->media.camera_on; }
static bool p_restored(const kid *k) { return !k->media.muted && k->media.camera_on; }
static bool p_marked(const kid *k) { return k->marked; }
static bool p_two_chats(const kid *k) { return k->n_chat >= 2; }
static bool p_done(const kid *k) { return ml_child_done(k->proc); }

typedef struct frames_past {
  const kid *k;
  uint64_t past;
} frames_past;

static bool p_frames_past(void *arg) {
  const frames_past *f = arg;
  return f->k->frames_decoded >= f->past;
}

static bool p_never(void *arg) { return (void)arg, false; }

/* The cameras-off stretch: serves the children for `seconds`. A scenario
 * length, not a synchronisation: nothing marks the moment rtpsession times
 * an idle SSRC out. */
static void hold_for(unsigned seconds) {
  (void)ml_child_run_until(p_never, NULL,
                           g_get_monotonic_time() + (int64_t)seconds * G_USEC_PER_SEC);
}

/* Both cameras off for CAMERAS_OFF_S, then on: each side must decode at
 * least FRAMES_AGAIN new frames of the other's video. */
#define CAMERAS_OFF_S 12
#define FRAMES_AGAIN 15

static void cameras_off_and_on(kid *a, kid *b) {
  type_line(a, "/camera off");
  type_line(b, "/camera off");
  if (!wait_for(b, p_camera_off, "A's camera off") || !wait_for(a, p_camera_off, "B's camera off"))
    return;
  hold_for(CAMERAS_OFF_S);
  kid *both[] = {a, b};
  uint64_t before[2] = {a->frames_decoded, b->frames_decoded};
  type_line(a, "/camera on");
  type_line(b, "/camera on");
  for (int i = 0; i < 2; i++) {
    frames_past f = {both[i], before[i] + FRAMES_AGAIN};
    bool ok = ml_child_run_until(p_frames_past, &f,
                                 g_get_monotonic_time() + (int64_t)WAIT_S * G_USEC_PER_SEC);
    CHECK(ok,
          "%s: %d new frames of the other's video within %d s after %d s with both cameras off "
          "(decoded %llu before, %llu now)",
          both[i]->name, FRAMES_AGAIN, WAIT_S, CAMERAS_OFF_S, (unsigned long long)before[i],
          (unsigned long long)both[i]->frames_decoded);
  }
}

/* One call between "alice" (A) and "bob" (B); first: the full scenario, else
 * only the verification state of a call after B marked A verified. */
static void run_call(const char *url, const char *dir, bool first) {
  kid a = {.name = "alice"}, b = {.name = "bob"};
  g_autofree char *home_a = g_build_filename(dir, "alice", NULL);
  g_autofree char *home_b = g_build_filename(dir, "bob", NULL);
  g_mkdir_with_parents(home_a, 0700);
  g_mkdir_with_parents(home_b, 0700);
  char room[32];
  g_snprintf(room, sizeof room, "controls-%08x", g_random_int());
  if (!spawn(&a, url, room, home_a) || !spawn(&b, url, room, home_b)) {
    CHECK(false, "participants started");
    goto out;
  }
  if (!wait_for(&a, p_secure, "the verification event") ||
      !wait_for(&b, p_secure, "the verification event"))
    goto out;
  if (first) {
    CHECK(!a.verified && !b.verified, "a first call is not verified (%d, %d)", a.verified,
          b.verified);
    CHECK(!strcmp(b.pin, "new"), "B pins A on first use (pin %s)", b.pin);
    /* The first announcement of each side's state. */
    if (wait_for(&b, p_first_media, "A's first media state"))
      CHECK(!b.media.muted && b.media.camera_on && !b.media.video_paused,
            "A announced muted=%d camera_on=%d video_paused=%d", b.media.muted, b.media.camera_on,
            b.media.video_paused);
    wait_for(&a, p_first_media, "B's first media state");

    type_line(&a, "/mute");
    if (wait_for(&b, p_muted, "A muted"))
      CHECK(b.media.camera_on, "A's camera still on while muted");
    type_line(&a, "/camera off");
    if (wait_for(&b, p_camera_off, "A's camera off"))
      CHECK(b.media.muted, "A still muted with its camera off");
    unsigned before = b.media_events;
    type_line(&a, "/unmute");
    type_line(&a, "/camera on");
    if (wait_for(&b, p_restored, "A unmuted with its camera on"))
      CHECK(b.media_events > before && !b.media.video_paused, "restored state announced");
    cameras_off_and_on(&a, &b);

    type_line(&a, "stdin chat line ✓");
    type_line(&a, "//slash");
    if (wait_for(&b, p_two_chats, "A's two chat lines")) {
      CHECK(!strcmp(b.chat[0], "stdin chat line ✓"), "chat 1: %s", b.chat[0]);
      CHECK(!strcmp(b.chat[1], "/slash"), "chat 2: %s", b.chat[1]);
    }

    type_line(&b, "/verify alice");
    if (wait_for(&b, p_marked, "marked_verified"))
      CHECK(b.marked_ok, "B's marking of A was stored");
    g_autofree char *pins = g_build_filename(home_b, "mentorlink", "known_peers", NULL);
    g_autofree char *text = NULL;
    CHECK(g_file_get_contents(pins, &text, NULL, NULL) && strstr(text, " alice\tverified\n"),
          "B's known_peers marks alice verified");
  } else {
    CHECK(b.verified && !strcmp(b.pin, "match"),
          "second call: B reports A verified (verified=%d, pin %s)", b.verified, b.pin);
    CHECK(!a.verified && !strcmp(a.pin, "match"),
          "second call: A never verified B (verified=%d, pin %s)", a.verified, a.pin);
  }
  type_line(&a, "/leave");
  type_line(&b, "/leave");
  wait_for(&a, p_done, "A to leave and exit");
  wait_for(&b, p_done, "B to leave and exit");
  kid *both[] = {&a, &b};
  for (int i = 0; i < 2; i++) {
    kid *k = both[i];
    CHECK(ml_child_status(k->proc) == 0, "%s exit status %d (errors %u, first: %s)", k->name,
          ml_child_status(k->proc), k->errors, k->first_error);
    CHECK(k->control_unknown == 0 && k->control_malformed == 0,
          "%s ignored CONTROL datagrams: %llu unknown, %llu malformed", k->name,
          (unsigned long long)k->control_unknown, (unsigned long long)k->control_malformed);
  }
  printf("%s call: B saw %u media states from A, verification verified=%d (pin %s)\n",
         first ? "first" : "second", b.media_events, b.verified, b.pin);
out:
  kid_clear(&a);
  kid_clear(&b);
  /* Cancelled reads complete before the kids' memory goes. */
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

/* ---- part 2: the API in-process ---- */

typedef struct in_call {
  ml_call *call;
  ml_identity *id;
  char peer_id[ML_CALL_MAX_PEER_ID + 1];
  bool secure, peer_left, ended;
} in_call;

static void drain(in_call *c) {
  ml_call_event *ev;
  while ((ev = ml_call_next_event(c->call, 0)) != NULL) {
    if (ev->type == ML_CALL_EV_PEER_JOINED)
      g_strlcpy(c->peer_id, ev->peer_id, sizeof c->peer_id);
    else if (ev->type == ML_CALL_EV_VERIFIED)
      c->secure = true;
    else if (ev->type == ML_CALL_EV_PEER_LEFT)
      c->peer_left = true;
    else if (ev->type == ML_CALL_EV_ENDED)
      c->ended = true;
    else if (ev->type == ML_CALL_EV_ERROR && g_getenv("ML_TEST_VERBOSE"))
      fprintf(stderr, "  [in-process] error: %s\n", ev->text ? ev->text : "");
    ml_call_event_free(ev);
  }
}

typedef bool (*in_pred)(in_call *c, void *arg);

/* Serves the signaling server (this thread's context) and drains both calls'
 * events until pred(c, arg) holds or WAIT_S pass. */
static bool in_wait(in_call *calls, in_call *c, in_pred pred, void *arg, const char *what) {
  int64_t deadline = g_get_monotonic_time() + (int64_t)WAIT_S * G_USEC_PER_SEC;
  bool ok;
  while (!(ok = pred(c, arg)) && g_get_monotonic_time() < deadline) {
    /* Wakes on either call's events, or after 20 ms to serve the server and
     * to poll frames and levels (they come without events). */
    struct pollfd pfd[2] = {{.fd = ml_call_event_fd(calls[0].call), .events = POLLIN},
                            {.fd = ml_call_event_fd(calls[1].call), .events = POLLIN}};
    (void)poll(pfd, 2, 20);
    while (g_main_context_iteration(NULL, FALSE))
      ;
    drain(&calls[0]);
    drain(&calls[1]);
  }
  CHECK(ok, "in-process: waited %d s for %s", WAIT_S, what);
  return ok;
}

static bool ip_secure(in_call *c, void *arg) { return (void)arg, c->secure; }
static bool ip_left(in_call *c, void *arg) { return (void)arg, c->peer_left; }
static bool ip_ended(in_call *c, void *arg) { return (void)arg, c->ended; }

/* arg: where the frame goes (ml_media_frame **). */
static bool ip_remote_frame(in_call *c, void *arg) {
  ml_media_frame **out = arg;
  return *out || (c->peer_id[0] && ml_call_latest_frame(c->call, c->peer_id, 0, out) == ML_OK);
}

static bool ip_self_frame(in_call *c, void *arg) {
  ml_media_frame **out = arg;
  return *out || ml_call_latest_frame(c->call, NULL, 0, out) == ML_OK;
}

static bool ip_level(in_call *c, void *arg) {
  double *dbfs = arg;
  /* Wait for the tone: the first windows may be the decoder's silence. */
  return ml_call_audio_level(c->call, c->peer_id, dbfs) == ML_OK && *dbfs > -60.0;
}

/* A UI thread: asks for B's view of A as fast as it can until told to stop. */
typedef struct ui_thread {
  ml_call *call;
  char peer_id[ML_CALL_MAX_PEER_ID + 1];
  gint stop;
  uint64_t frames, levels, calls;
} ui_thread;

static gpointer ui_main(gpointer user) {
  ui_thread *u = user;
  uint64_t seq = 0;
  while (!g_atomic_int_get(&u->stop)) {
    ml_media_frame *f = NULL;
    if (ml_call_latest_frame(u->call, u->peer_id, seq, &f) == ML_OK) {
      ml_media_frame_info fi;
      ml_media_frame_get_info(f, &fi);
      seq = fi.seq;
      volatile uint8_t y = fi.planes[0][0]; /* touch the pixels */
      (void)y;
      ml_media_frame_free(f);
      u->frames++;
    }
    double dbfs;
    if (ml_call_audio_level(u->call, u->peer_id, &dbfs) == ML_OK)
      u->levels++;
    u->calls++;
    g_usleep(500); /* pacing, as a UI at 2 kHz: not a synchronisation */
  }
  return NULL;
}

static void frame_check(ml_media_frame *f, const char *what) {
  ml_media_frame_info fi;
  ml_media_frame_get_info(f, &fi);
  CHECK(fi.width == 640 && fi.height == 360, "%s frame %ux%u", what, fi.width, fi.height);
  CHECK(fi.seq >= 1 && fi.planes[0] && fi.strides[0] >= 640, "%s frame seq/planes", what);
  /* SMPTE bars: white on the left, blue on the right of the top rows. */
  unsigned white = fi.planes[0][8 * fi.strides[0] + 8];
  unsigned blue = fi.planes[0][8 * fi.strides[0] + fi.width - 8];
  CHECK(white >= 150 && blue <= 80, "%s frame shows the bars (luma %u, %u)", what, white, blue);
}

static void run_in_process(const char *url, const char *dir) {
  in_call c[2];
  memset(c, 0, sizeof c);
  char room[32];
  g_snprintf(room, sizeof room, "api-%08x", g_random_int());
  const char *names[2] = {"api-a", "api-b"};
  const char *const local[] = {"127.0.0.1"};
  for (int i = 0; i < 2; i++) {
    g_autofree char *pins = g_build_filename(dir, names[i], NULL);
    if (ml_identity_generate(&c[i].id) != ML_OK) {
      CHECK(false, "identity");
      return;
    }
    ml_call_config cfg = {.server_url = url,
                          .room = room,
                          .name = names[i],
                          .identity = c[i].id,
                          .pins_path = pins,
                          .video = ML_MEDIA_VIDEO_TEST,
                          .audio = ML_MEDIA_AUDIO_TEST,
                          .headless = true,
                          .local_addresses = local,
                          .n_local_addresses = 1};
    CHECK(ml_call_new(&c[i].call, &cfg) == ML_OK, "ml_call_new");
    if (!c[i].call)
      return;
  }
  /* The self view works before anyone else is there. */
  ml_media_frame *self = NULL, *none = NULL;
  if (in_wait(c, &c[0], ip_self_frame, &self, "A's self view")) {
    frame_check(self, "self view");
    CHECK(ml_call_latest_frame(c[0].call, NULL, UINT64_MAX, &none) == ML_ERR_NOT_FOUND && !none,
          "no self-view frame newer than UINT64_MAX");
    ml_media_frame_free(self);
  }
  CHECK(ml_call_latest_frame(c[0].call, "no-such-peer", 0, &none) == ML_ERR_NOT_FOUND,
        "unknown peer has no frame");
  double dbfs = 0;
  CHECK(ml_call_audio_level(c[0].call, "no-such-peer", &dbfs) == ML_ERR_NOT_FOUND && dbfs == -127.0,
        "unknown peer has no level");

  if (!in_wait(c, &c[0], ip_secure, NULL, "A secure") ||
      !in_wait(c, &c[1], ip_secure, NULL, "B secure"))
    goto out;
  /* A UI thread asks for B's view of A from now on: while A's receive branch
   * starts at B, while frames and levels are published, and while A leaves. */
  ui_thread ui = {.call = c[1].call};
  g_strlcpy(ui.peer_id, c[1].peer_id, sizeof ui.peer_id);
  GThread *t = g_thread_new("ui", ui_main, &ui);
  ml_media_frame *remote = NULL;
  if (in_wait(c, &c[1], ip_remote_frame, &remote, "B's frame of A")) {
    frame_check(remote, "remote");
    ml_media_frame_free(remote);
  }
  double level = -127.0;
  if (in_wait(c, &c[1], ip_level, &level, "A's tone level at B"))
    /* The test tone: a sine at volume 0.5, -9 dBFS; Opus keeps it within a few dB. */
    CHECK(level > -15.0 && level < -3.0, "A's level at B %.1f dBFS", level);

  ml_call_leave(c[0].call);
  in_wait(c, &c[1], ip_left, NULL, "B to see A leave");
  in_wait(c, &c[0], ip_ended, NULL, "A's call to end");
  g_atomic_int_set(&ui.stop, 1);
  g_thread_join(t);
  CHECK(ui.frames > 0 && ui.levels > 0, "the UI thread got frames (%llu) and levels (%llu)",
        (unsigned long long)ui.frames, (unsigned long long)ui.levels);
  CHECK(ml_call_latest_frame(c[1].call, ui.peer_id, 0, &none) == ML_ERR_NOT_FOUND,
        "no frame of a peer that left");
  CHECK(ml_call_audio_level(c[1].call, ui.peer_id, &dbfs) == ML_ERR_NOT_FOUND,
        "no level of a peer that left");
  printf("in-process: self view and remote frames 640x360, A's level at B %.1f dBFS; UI thread: "
         "%llu calls, %llu frames until A had left\n",
         level, (unsigned long long)ui.calls, (unsigned long long)ui.frames);
out:
  for (int i = 0; i < 2; i++) {
    ml_call_free(c[i].call);
    ml_identity_free(c[i].id);
  }
}

int main(void) {
  if (sodium_init() < 0)
    return 1;
  ml_local_server ls;
  if (ml_local_server_start(&ls, "FAIL") != 0)
    return 1;
  const char *url = ls.url;
  g_autofree char *dir = g_dir_make_tmp("ml-controls-XXXXXX", NULL);
  if (!dir)
    return 1;
  run_call(url, dir, true);
  if (!failures)
    run_call(url, dir, false);
  run_in_process(url, dir);
  ml_remove_tree(dir);
  ml_local_server_stop(&ls);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("engine.call_controls: all checks passed\n");
  return 0;
}
