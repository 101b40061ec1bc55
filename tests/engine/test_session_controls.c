/* engine.session_controls: a host runs the room, for real.
 *
 * Part 1, real `mentorlink join --headless --json --stdin-commands`
 * processes and a signaling server in this process (open mode, no
 * auto-admit, so people wait for the host):
 *   - alice joins first and hosts; bob knocks, waits ("signaling: waiting"),
 *     alice types /admit bob; both become secure;
 *   - bob, a participant, types /lock, /remove alice and /ask-mute alice:
 *     each is refused on his side with a clear error, and nothing changes;
 *   - hands: bob raises his, then alice hers: both see bob's first (order);
 *     bob reacts (clap), alice sees it;
 *   - alice asks bob to mute: bob's client says muted_by_host and alice
 *     sees bob's microphone muted; alice lowers bob's hand; alice puts bob
 *     in the spotlight: bob sees it, by alice; alice locks and unlocks: bob
 *     sees both; /who on alice's side lists bob with his state;
 *   - eve tries with a wrong room secret: alice is told (join_failed);
 *   - carol knocks and alice denies her: carol is told and exits 4; dave is
 *     admitted; alice mutes everyone but bob (the speaker): dave is asked,
 *     bob is not; then alice removes dave: he is told and exits 5;
 *   - alice hands the host role to bob (both see the roles change), bob
 *     ends the session for all: alice exits 6, bob (who ended it) exits 0.
 * Part 2, two ml_call objects in this process: the participant forges a
 * host's mute request and a spotlight to the host through the raw CONTROL
 * test hook: the host ignores both (SESSION refused, not muted), while the
 * host's real request mutes the participant.
 *
 * Every wait is bounded (WAIT_S) and says what it waited for. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <sodium.h>

#include "check.h"
#include "child.h"
#include "local_call.h"
#include "ml/call.h"
#include "ml/control.h"
#include "ml/identity.h"
#include "ml/signal_server.h"

#ifndef MENTORLINK_BIN
#error "MENTORLINK_BIN must name the mentorlink binary"
#endif

#ifdef ML_CALL_TEST_SANITIZE
#define WAIT_S 60
#else
#define WAIT_S 25
#endif

#define MAX_SESSION 128

typedef struct session_rec {
  char what[24], peer[ML_CALL_MAX_PEER_ID + 1], name[ML_CALL_MAX_NAME + 1];
  char by_name[ML_CALL_MAX_NAME + 1], detail[32];
  bool on;
  uint64_t order;
} session_rec;

typedef struct kid {
  const char *name;
  ml_child *proc;
  bool joined, waiting;
  char self_id[ML_CALL_MAX_PEER_ID + 1];
  unsigned secure;
  char knock_id[ML_CALL_MAX_PEER_ID + 1], knock_name[ML_CALL_MAX_NAME + 1];
  char left_reason[16]; /* the last peer_left's */
  bool peer_muted;      /* the last peer_media said muted */
  session_rec s[MAX_SESSION];
  size_t n;
} kid;

static void take_line(void *user, const char *line, const ml_event *ev) {
  kid *k = user;
  if (g_getenv("ML_TEST_VERBOSE"))
    fprintf(stderr, "  [%s] %s\n", k->name, line);
  if (!ev)
    return;
  switch (ev->type) {
  case ML_EVENT_JOINED:
    k->joined = true;
    g_strlcpy(k->self_id, ev->peer, sizeof k->self_id);
    break;
  case ML_EVENT_SIGNALING: k->waiting = k->waiting || !strcmp(ev->state, "waiting"); break;
  case ML_EVENT_VERIFICATION: k->secure++; break;
  case ML_EVENT_KNOCK:
    g_strlcpy(k->knock_id, ev->peer, sizeof k->knock_id);
    g_strlcpy(k->knock_name, ev->name, sizeof k->knock_name);
    break;
  case ML_EVENT_PEER_LEFT: g_strlcpy(k->left_reason, ev->text, sizeof k->left_reason); break;
  case ML_EVENT_PEER_MEDIA: k->peer_muted = ev->muted; break;
  case ML_EVENT_SESSION:
    if (k->n < MAX_SESSION) {
      session_rec *r = &k->s[k->n++];
      g_strlcpy(r->what, ev->what, sizeof r->what);
      g_strlcpy(r->peer, ev->peer, sizeof r->peer);
      g_strlcpy(r->name, ev->name, sizeof r->name);
      g_strlcpy(r->by_name, ev->by_name, sizeof r->by_name);
      g_strlcpy(r->detail, ev->text ? ev->text : "", sizeof r->detail);
      r->on = ev->on;
      r->order = ev->order;
    }
    break;
  default: break;
  }
}

static bool spawn(kid *k, const char *url, const char *room, const char *dir, const char *secret) {
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  ml_local_join_args(argv, MENTORLINK_BIN, url, room, k->name, TRUE);
  g_ptr_array_add(argv, g_strdup("--stdin-commands"));
  g_ptr_array_add(argv, g_strdup("--duration"));
  g_ptr_array_add(argv, g_strdup("300")); /* a bound; the test ends the session */
  if (secret) {
    g_ptr_array_add(argv, g_strdup("--room-secret"));
    g_ptr_array_add(argv, g_strdup(secret));
  }
  g_ptr_array_add(argv, NULL);
  g_autofree char *home = g_build_filename(dir, k->name, NULL);
  g_mkdir_with_parents(home, 0700);
  g_autofree char *home_env = g_strconcat("XDG_DATA_HOME=", home, NULL);
  const char *env[] = {home_env, "MENTORLINK_PASSPHRASE", "MENTORLINK_ROOM_SECRET", NULL};
  ml_child_options co = {.name = k->name,
                         .argv = (const char *const *)argv->pdata,
                         .env = env,
                         .stdin_pipe = true,
                         .on_line = take_line,
                         .user = k};
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

/* ---- waiting ---- */

typedef struct want {
  const kid *k;
  const char *what, *name, *detail; /* NULL: any */
  int on;                           /* -1: any */
  size_t from;                      /* look at records from this index on */
} want;

static const session_rec *find(const want *w) {
  for (size_t i = w->from; i < w->k->n; i++) {
    const session_rec *r = &w->k->s[i];
    if (!strcmp(r->what, w->what) && (!w->name || !strcmp(r->name, w->name)) &&
        (!w->detail || !strcmp(r->detail, w->detail)) && (w->on < 0 || r->on == (w->on != 0)))
      return r;
  }
  return NULL;
}

static bool p_want(void *arg) { return find(arg) != NULL; }

static int64_t deadline(void) { return g_get_monotonic_time() + (int64_t)WAIT_S * G_USEC_PER_SEC; }

/* Waits for a SESSION record at k; returns it (NULL after a failed check). */
static const session_rec *wait_session(const kid *k, const char *what, const char *name, int on,
                                       const char *detail) {
  want w = {k, what, name, detail, on, 0};
  bool ok = ml_child_run_until(p_want, &w, deadline());
  CHECK(ok, "%s: waited %d s for session %s (subject %s, on %d, detail %s)", k->name, WAIT_S, what,
        name ? name : "any", on, detail ? detail : "any");
  return ok ? find(&w) : NULL;
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

static bool wait_for(const kid *k, pred_fn pred, const char *what) {
  holds h = {pred, k};
  bool ok = ml_child_run_until(pred_holds, &h, deadline());
  CHECK(ok, "%s: waited %d s for %s", k->name, WAIT_S, what);
  return ok;
}

static bool p_joined(const kid *k) { return k->joined; }
static bool p_waiting(const kid *k) { return k->waiting; }
static bool p_knock(const kid *k) { return k->knock_id[0] != '\0'; }
static bool p_secure1(const kid *k) { return k->secure >= 1; }
static bool p_secure2(const kid *k) { return k->secure >= 2; }
static bool p_done(const kid *k) { return ml_child_done(k->proc); }
static bool p_peer_muted(const kid *k) { return k->peer_muted; }
static bool p_denied_left(const kid *k) { return !strcmp(k->left_reason, "denied"); }
static bool p_removed_left(const kid *k) { return !strcmp(k->left_reason, "removed"); }

typedef struct err_has {
  const kid *k;
  const char *text;
} err_has;

static bool p_err_has(void *arg) {
  const err_has *e = arg;
  return strstr(ml_child_stderr(e->k->proc), e->text) != NULL;
}

/* k's stderr comes to hold text. */
static void wait_stderr(const kid *k, const char *text) {
  err_has e = {k, text};
  CHECK(ml_child_run_until(p_err_has, &e, deadline()), "%s: waited %d s for \"%s\" on stderr",
        k->name, WAIT_S, text);
}

static void clear_knock(kid *k) { k->knock_id[0] = k->knock_name[0] = '\0'; }

/* Someone knocks at host's door; host lets them in (admit) or not. */
static void knock_and(kid *host, kid *k, const char *url, const char *room, const char *dir,
                      bool admit) {
  clear_knock(host);
  if (!spawn(k, url, room, dir, NULL)) {
    CHECK(false, "%s started", k->name);
    return;
  }
  if (!wait_for(k, p_waiting, "the waiting room") || !wait_for(host, p_knock, "a knock"))
    return;
  CHECK(!strcmp(host->knock_name, k->name), "the knock is %s's (%s)", k->name, host->knock_name);
  char line[128];
  g_snprintf(line, sizeof line, "%s %s", admit ? "/admit" : "/deny", k->name);
  type_line(host, line);
}

static void kid_free(kid *k) {
  if (!k->proc)
    return;
  ml_child_print_tail(k->proc);
  ml_child_free(k->proc);
  k->proc = NULL;
}

static void run_room(const char *url, const char *dir) {
  static kid alice = {.name = "alice"}, bob = {.name = "bob"}, carol = {.name = "carol"},
             dave = {.name = "dave"}, eve = {.name = "eve"};
  char room[32];
  g_snprintf(room, sizeof room, "session-%08x", g_random_int());

  if (!spawn(&alice, url, room, dir, NULL) || !wait_for(&alice, p_joined, "joined"))
    goto out;
  wait_session(&alice, "role", "alice", 1, NULL); /* the first joiner hosts */
  knock_and(&alice, &bob, url, room, dir, true);
  if (!wait_for(&alice, p_secure1, "bob secure") || !wait_for(&bob, p_secure1, "alice secure"))
    goto out;
  wait_session(&bob, "role", "alice", 1, NULL); /* bob knows alice hosts */

  /* A participant's host actions: refused on his side, clearly. */
  type_line(&bob, "/lock");
  type_line(&bob, "/remove alice");
  type_line(&bob, "/ask-mute alice");
  wait_stderr(&bob, "/lock: only a host of the room can do that (you are a participant)");
  wait_stderr(&bob, "/remove: only a host of the room can do that");
  wait_stderr(&bob, "/ask-mute: only a host of the room can do that");
  type_line(&bob, "/help");
  wait_stderr(&bob, "/spotlight NAME|off");

  /* Hands in order, a reaction. */
  type_line(&bob, "/hand");
  const session_rec *bh = wait_session(&alice, "hand", "bob", 1, NULL);
  type_line(&alice, "/hand");
  const session_rec *ah = wait_session(&alice, "hand", "alice", 1, NULL);
  if (bh && ah)
    CHECK(bh->order < ah->order, "alice sees bob's hand first (%llu, %llu)",
          (unsigned long long)bh->order, (unsigned long long)ah->order);
  const session_rec *ah_b = wait_session(&bob, "hand", "alice", 1, NULL);
  const session_rec *bh_b = wait_session(&bob, "hand", "bob", 1, NULL);
  if (ah_b && bh_b)
    CHECK(bh_b->order < ah_b->order, "bob sees his hand first (%llu, %llu)",
          (unsigned long long)bh_b->order, (unsigned long long)ah_b->order);
  type_line(&bob, "/react clap");
  wait_session(&alice, "reaction", "bob", -1, "clap");

  /* The host's end-to-end requests. */
  type_line(&alice, "/ask-mute bob");
  wait_session(&alice, "asked", "bob", -1, "mute");
  const session_rec *mb = wait_session(&bob, "muted_by_host", "bob", -1, NULL);
  if (mb)
    CHECK(!strcmp(mb->by_name, "alice"), "muted by alice (%s)", mb->by_name);
  wait_for(&alice, p_peer_muted, "bob's microphone muted");
  type_line(&alice, "/lower bob");
  const session_rec *lb = wait_session(&bob, "hand", "bob", 0, NULL);
  if (lb)
    CHECK(!strcmp(lb->by_name, "alice"), "bob's hand lowered by alice (%s)", lb->by_name);
  wait_session(&alice, "hand", "bob", 0, NULL);
  type_line(&alice, "/spotlight bob");
  const session_rec *sp = wait_session(&bob, "spotlight", "bob", -1, NULL);
  if (sp)
    CHECK(!strcmp(sp->by_name, "alice"), "spotlight by alice (%s)", sp->by_name);
  type_line(&alice, "/lock");
  wait_stderr(&alice, "locking the room");
  wait_session(&bob, "locked", NULL, 1, NULL);
  type_line(&alice, "/unlock");
  wait_session(&bob, "locked", NULL, 0, NULL);
  wait_session(&alice, "locked", NULL, 0, NULL);
  type_line(&alice, "/who");
  wait_stderr(&alice, "  bob  [participant]  mic muted, camera on, not verified, encrypted");
  wait_stderr(&alice, "alice (you)  [host]  hand raised (#1)");

  /* A wrong room secret: the host hears of it. */
  if (spawn(&eve, url, room, dir, "not this room's")) {
    wait_session(&alice, "join_failed", NULL, -1, "wrong_secret");
    wait_for(&eve, p_done, "eve refused");
    CHECK(ml_child_status(eve.proc) == 1, "eve exit status %d", ml_child_status(eve.proc));
  }

  /* Denied at the door; admitted, then removed. */
  knock_and(&alice, &carol, url, room, dir, false);
  wait_session(&carol, "closed", NULL, -1, "denied"); /* before any welcome: no id yet */
  wait_for(&alice, p_denied_left, "carol denied (peer_left)");
  if (wait_for(&carol, p_done, "carol to exit"))
    CHECK(ml_child_status(carol.proc) == 4, "denied: exit status %d (want 4)",
          ml_child_status(carol.proc));
  knock_and(&alice, &dave, url, room, dir, true);
  if (wait_for(&dave, p_secure2, "dave secure with both")) {
    /* Everyone but the speaker: dave is asked, bob (the speaker) is not. */
    size_t bob_from = bob.n;
    type_line(&alice, "/mute-all-but bob");
    wait_stderr(&alice, "asking everyone but this speaker to mute: bob");
    const session_rec *md = wait_session(&dave, "muted_by_host", "dave", -1, NULL);
    if (md)
      CHECK(!strcmp(md->by_name, "alice"), "dave muted by alice (%s)", md->by_name);
    wait_session(&alice, "asked", "dave", -1, "mute");
    want bob_again = {&bob, "muted_by_host", NULL, NULL, -1, bob_from};
    CHECK(!find(&bob_again), "the speaker (bob) was not asked to mute");
    type_line(&alice, "/remove dave");
    wait_session(&dave, "closed", "dave", -1, "removed");
    wait_for(&bob, p_removed_left, "dave removed (peer_left at bob)");
    if (wait_for(&dave, p_done, "dave to exit"))
      CHECK(ml_child_status(dave.proc) == 5, "removed: exit status %d (want 5)",
            ml_child_status(dave.proc));
  }

  /* Hand-over, then the new host ends the session for everyone. */
  type_line(&alice, "/host bob");
  wait_session(&alice, "role", "bob", 1, "handover");
  wait_session(&alice, "role", "alice", 0, "handover");
  wait_session(&bob, "role", "bob", 1, "handover");
  wait_session(&bob, "role", "alice", 0, "handover");
  type_line(&alice, "/end");
  wait_stderr(&alice, "/end: only a host of the room can do that");
  type_line(&bob, "/end");
  wait_session(&alice, "closed", "alice", -1, "room_ended");
  if (wait_for(&alice, p_done, "alice to exit") && wait_for(&bob, p_done, "bob to exit")) {
    CHECK(ml_child_status(alice.proc) == 6, "session ended: alice exit status %d (want 6)",
          ml_child_status(alice.proc));
    CHECK(ml_child_status(bob.proc) == 0, "bob ended it: exit status %d (want 0)",
          ml_child_status(bob.proc));
  }
  printf("room: admit, refusals, hands (%llu before %llu), reaction, mute, lower, spotlight, "
         "lock, join_failed, deny (exit 4), remove (exit 5), hand-over, end (exit 6)\n",
         bh ? (unsigned long long)bh->order : 0ULL, ah ? (unsigned long long)ah->order : 0ULL);
out:;
  kid *all[] = {&alice, &bob, &carol, &dave, &eve};
  for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
    kid_free(all[i]);
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

/* ---- part 2: a forged control, in-process ---- */

typedef struct in_call {
  ml_call *call;
  ml_identity *id;
  char self_id[ML_CALL_MAX_PEER_ID + 1], peer_id[ML_CALL_MAX_PEER_ID + 1];
  bool secure, muted_by_host, refused_request, refused_spotlight, spotlight;
} in_call;

static void drain(in_call *c) {
  ml_call_event *ev;
  while ((ev = ml_call_next_event(c->call, 0)) != NULL) {
    if (ev->type == ML_CALL_EV_JOINED)
      g_strlcpy(c->self_id, ev->peer_id, sizeof c->self_id);
    else if (ev->type == ML_CALL_EV_KNOCK)
      ml_call_admit(c->call, ev->peer_id);
    else if (ev->type == ML_CALL_EV_PEER_JOINED)
      g_strlcpy(c->peer_id, ev->peer_id, sizeof c->peer_id);
    else if (ev->type == ML_CALL_EV_VERIFIED)
      c->secure = true;
    else if (ev->type == ML_CALL_EV_SESSION) {
      if (ev->session == ML_CALL_SESSION_MUTED_BY_HOST)
        c->muted_by_host = true;
      if (ev->session == ML_CALL_SESSION_SPOTLIGHT)
        c->spotlight = true;
      if (ev->session == ML_CALL_SESSION_REFUSED && ev->text) {
        c->refused_request |= !strcmp(ev->text, "host_request");
        c->refused_spotlight |= !strcmp(ev->text, "spotlight");
      }
    }
    ml_call_event_free(ev);
  }
}

typedef bool (*in_pred)(const in_call *c);

static bool in_wait(in_call *calls, const in_call *c, in_pred pred, const char *what) {
  int64_t end = deadline();
  bool ok;
  while (!(ok = pred(c)) && g_get_monotonic_time() < end) {
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

static bool ip_secure(const in_call *c) { return c->secure; }
static bool ip_refused(const in_call *c) { return c->refused_request && c->refused_spotlight; }
static bool ip_muted(const in_call *c) { return c->muted_by_host; }

static void run_forged(const char *url, const char *dir) {
  in_call c[2];
  memset(c, 0, sizeof c);
  char room[32];
  g_snprintf(room, sizeof room, "forged-%08x", g_random_int());
  const char *names[2] = {"host", "mallory"};
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
                          .video = ML_MEDIA_VIDEO_NONE,
                          .audio = ML_MEDIA_AUDIO_TEST,
                          .headless = true,
                          .local_addresses = local,
                          .n_local_addresses = 1};
    CHECK(ml_call_new(&c[i].call, &cfg) == ML_OK, "ml_call_new");
    if (!c[i].call)
      return;
    if (i == 0) { /* the host joins first (open mode: the first joiner hosts) */
      int64_t end = deadline();
      while (!c[0].self_id[0] && g_get_monotonic_time() < end) {
        struct pollfd pfd = {.fd = ml_call_event_fd(c[0].call), .events = POLLIN};
        (void)poll(&pfd, 1, 20);
        while (g_main_context_iteration(NULL, FALSE))
          ;
        drain(&c[0]);
      }
      if (!c[0].self_id[0]) {
        CHECK(false, "in-process: the host joined within %d s", WAIT_S);
        goto out;
      }
    }
  }
  if (!in_wait(c, &c[0], ip_secure, "host secure") ||
      !in_wait(c, &c[1], ip_secure, "mallory secure"))
    goto out;
  /* Mallory, a participant, forges a host's requests: a mute (both
   * requests), a lowered hand and a spotlight on herself. */
  uint8_t buf[ML_CONTROL_MAX_LEN];
  ml_control_message mute = {
      .type = ML_CONTROL_HOST_REQUEST, .code = ML_CONTROL_REQUEST_MUTE, .seq = 1};
  ml_control_message spot = {.type = ML_CONTROL_SPOTLIGHT, .seq = 1};
  g_strlcpy(spot.peer, c[0].peer_id, sizeof spot.peer);
  for (int i = 0; i < 3; i++) { /* datagrams get lost: a few copies, each newer */
    mute.seq = spot.seq = (uint32_t)i + 1;
    size_t n = ml_control_write(&mute, buf, sizeof buf);
    ml_call_test_send_control(c[1].call, c[1].peer_id, buf, n);
    n = ml_control_write(&spot, buf, sizeof buf);
    ml_call_test_send_control(c[1].call, c[1].peer_id, buf, n);
  }
  /* Mallory's own client refuses the same through the API. */
  ml_call_ask_mute(c[1].call, NULL);
  if (in_wait(c, &c[0], ip_refused, "the host to ignore the forged controls"))
    CHECK(!c[0].muted_by_host && !c[0].spotlight,
          "the host was not muted (%d) nor spotlighted (%d) by a participant", c[0].muted_by_host,
          c[0].spotlight);
  /* The host's real request does mute mallory. */
  ml_call_ask_mute(c[0].call, c[0].peer_id);
  in_wait(c, &c[1], ip_muted, "mallory muted by the host");
  CHECK(!c[0].muted_by_host, "the host still not muted");
  printf("forged: the host ignored a participant's mute request and spotlight; the host's own "
         "request muted the participant\n");
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
  memset(&ls, 0, sizeof ls);
  ml_signal_config_init(&ls.cfg);
  ls.cfg.listen_port = 0;
  ls.cfg.open_mode = true;
  ls.cfg.auto_admit = false; /* people wait for the host */
  char *errmsg = NULL;
  if (ml_signal_server_new(&ls.srv, &ls.cfg) != 0 || ml_signal_server_start(ls.srv, &errmsg) != 0) {
    fprintf(stderr, "FAIL: the signaling server did not start: %s\n", errmsg ? errmsg : "?");
    return 1;
  }
  g_snprintf(ls.url, sizeof ls.url, "ws://127.0.0.1:%u/v1/ws", ml_signal_server_port(ls.srv));
  g_autofree char *dir = g_dir_make_tmp("ml-session-XXXXXX", NULL);
  if (!dir)
    return 1;
  run_room(ls.url, dir);
  run_forged(ls.url, dir);
  ml_remove_tree(dir);
  ml_local_server_stop(&ls);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("engine.session_controls: all checks passed\n");
  return 0;
}
