/* mentorlink — nfq_delay: a constant one-way delay for bench_rate.sh's
 * router, on kernels without sch_netem (tests/bench; a tool, not a test).
 *
 * Every packet an iptables NFQUEUE rule sends to queue NUM is held for N ms
 * and then accepted (NF_ACCEPT: it goes on through the rest of the stack).
 * One FIFO and one fixed delay, so packets leave in the order they came;
 * nothing is reordered, dropped or copied to user space (metadata only).
 *
 * usage: nfq_delay --queue NUM --delay-ms N [--max-held N] [--rt PRIO] [--quiet]
 *   --queue NUM    NFQUEUE queue number, 0-65535 (the rule's --queue-num)
 *   --delay-ms N   how long each packet is held, 0-60000 ms, from the
 *                  kernel's timestamp of the packet when it has one (from
 *                  when it is read otherwise)
 *   --max-held N   packets held at once, 16-1000000 (default 65536), also the
 *                  kernel queue's length: past it the kernel drops
 *   --rt PRIO      run SCHED_FIFO at PRIO (1-99): on a busy machine a normal
 *                  process may be woken tens of ms late (a warning when the
 *                  kernel refuses)
 *   --quiet        no counters on stderr at exit
 *
 * Once bound it prints "nfq_delay: ready queue=NUM delay_ms=N" on stdout;
 * the script waits for that line before it adds the rule. SIGTERM or SIGINT:
 * what it holds leaves at its due time, new packets are still delayed, and
 * it exits 0 once it holds none (at most N ms + 1 s later; what it holds
 * then is accepted at once). At exit and on SIGUSR1, one line of counters
 * on stderr: packets, most held at once, releases more than 1 ms and 10 ms
 * late and the latest, packets timed by the kernel's timestamp, ENOBUFS
 * (the receive buffer overflowed: the kernel dropped).
 *
 * In a router namespace, N ms each way:
 *   nfq_delay --queue 7 --delay-ms 250 &            # wait for "ready"
 *   iptables -A FORWARD -j NFQUEUE --queue-num 7
 * While nothing is bound to the queue the kernel drops what the rule queues
 * (--queue-bypass on the rule lets it through undelayed instead). Rules
 * before the NFQUEUE rule (a random-loss DROP) act first; tc qdiscs on the
 * egress device act after the delay. Needs CAP_NET_ADMIN in its namespace
 * and libnetfilter-queue.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct held {
  uint32_t id;
  int64_t due_ns;
};

/* When a batch of packets was read, on both clocks. */
struct batch_time {
  int64_t mono, real;
};

/* The delayer's state, passed to every function (the signal flags below are
 * the only globals: a handler can reach nothing else). */
typedef struct delayer {
  struct held *ring;
  size_t ring_cap, ring_head, ring_count;
  int64_t delay_ns;
  unsigned queue_num;
  long delay_ms;
  struct batch_time batch;
  unsigned long long n_packets, n_released, n_overflow, n_enobufs, n_verdict_err, n_early_at_exit,
      n_late_1ms, n_late_10ms, n_kernel_ts;
  size_t max_held;
  int64_t max_late_ns;
} delayer;

static volatile sig_atomic_t stop_requested, stats_requested;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t real_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void on_signal(int sig) {
  if (sig == SIGUSR1)
    stats_requested = 1;
  else
    stop_requested = 1;
}

static void print_stats(const delayer *d) {
  fprintf(stderr,
          "nfq_delay: queue=%u delay_ms=%ld packets=%llu released=%llu held_now=%zu "
          "max_held=%zu late_1ms=%llu late_10ms=%llu max_late_us=%lld kernel_ts=%llu "
          "overflow=%llu enobufs=%llu verdict_errors=%llu early_at_exit=%llu\n",
          d->queue_num, d->delay_ms, d->n_packets, d->n_released, d->ring_count, d->max_held,
          d->n_late_1ms, d->n_late_10ms, (long long)(d->max_late_ns / 1000), d->n_kernel_ts,
          d->n_overflow, d->n_enobufs, d->n_verdict_err, d->n_early_at_exit);
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
                     void *data) {
  (void)msg;
  delayer *d = data;
  const struct batch_time *bt = &d->batch;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (ph == NULL)
    return 0;
  uint32_t id = ntohl(ph->packet_id);
  d->n_packets++;
  /* When it came, on the monotonic clock: the kernel's timestamp (wall
   * clock) when it has one no older than 1 s, else when the batch was read. */
  int64_t came = bt->mono;
  struct timeval tv;
  if (nfq_get_timestamp(nfa, &tv) == 0 && tv.tv_sec > 0) {
    int64_t age = bt->real - ((int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000);
    if (age >= 0 && age < 1000000000) {
      came = bt->mono - age;
      d->n_kernel_ts++;
    }
  }
  if (d->ring_count == d->ring_cap) { /* the kernel queue is as long: not expected */
    d->n_overflow++;
    if (nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL) < 0)
      d->n_verdict_err++;
    return 0;
  }
  d->ring[(d->ring_head + d->ring_count) % d->ring_cap] = (struct held){id, came + d->delay_ns};
  d->ring_count++;
  if (d->ring_count > d->max_held)
    d->max_held = d->ring_count;
  return 0;
}

/* Accept, oldest first, every held packet due by `now` (all if force). */
static void release(delayer *d, struct nfq_q_handle *qh, int64_t now, int force) {
  while (d->ring_count > 0 && (force || d->ring[d->ring_head].due_ns <= now)) {
    const struct held *p = &d->ring[d->ring_head];
    if (p->due_ns <= now) {
      int64_t late = now - p->due_ns;
      if (late > d->max_late_ns)
        d->max_late_ns = late;
      d->n_late_1ms += late > 1000000;
      d->n_late_10ms += late > 10000000;
    } else {
      d->n_early_at_exit++;
    }
    if (nfq_set_verdict(qh, p->id, NF_ACCEPT, 0, NULL) < 0)
      d->n_verdict_err++;
    d->ring_head = (d->ring_head + 1) % d->ring_cap;
    d->ring_count--;
    d->n_released++;
  }
}

static long parse_num(const char *opt, const char *s, long lo, long hi) {
  char *end = NULL;
  errno = 0;
  long v = s ? strtol(s, &end, 10) : 0;
  if (s == NULL || *s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
    fprintf(stderr, "nfq_delay: %s takes a number %ld-%ld, not '%s'\n", opt, lo, hi, s ? s : "");
    exit(2);
  }
  return v;
}

static void usage(void) {
  fprintf(stderr, "usage: nfq_delay --queue NUM --delay-ms N [--max-held N] [--rt PRIO] "
                  "[--quiet]\n"
                  "  (see the comment at the top of tests/bench/nfq_delay.c)\n");
  exit(2);
}

int main(int argc, char **argv) {
  long queue = -1, held = 65536, rt = 0;
  int quiet = 0;
  static delayer dl; /* 0-initialised; main's, passed down */
  delayer *d = &dl;
  d->delay_ms = -1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--queue") && i + 1 < argc)
      queue = parse_num("--queue", argv[++i], 0, 65535);
    else if (!strcmp(argv[i], "--delay-ms") && i + 1 < argc)
      d->delay_ms = parse_num("--delay-ms", argv[++i], 0, 60000);
    else if (!strcmp(argv[i], "--max-held") && i + 1 < argc)
      held = parse_num("--max-held", argv[++i], 16, 1000000);
    else if (!strcmp(argv[i], "--rt") && i + 1 < argc)
      rt = parse_num("--rt", argv[++i], 1, 99);
    else if (!strcmp(argv[i], "--quiet"))
      quiet = 1;
    else
      usage();
  }
  if (queue < 0 || d->delay_ms < 0)
    usage();
  d->queue_num = (unsigned)queue;
  d->delay_ns = (int64_t)d->delay_ms * 1000000;
  d->ring_cap = (size_t)held;
  if (rt > 0) {
    struct sched_param sp = {.sched_priority = (int)rt};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
      perror("nfq_delay: warning: SCHED_FIFO refused, timing as a normal process");
  }
  d->ring = calloc(d->ring_cap, sizeof *d->ring);
  if (d->ring == NULL) {
    perror("nfq_delay: calloc");
    return 1;
  }

  /* SIGTERM, SIGINT and SIGUSR1 are blocked except inside ppoll, so a signal
   * can never slip in between the check of the flags and the wait. */
  sigset_t block, during_wait;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &during_wait);
  sigdelset(&during_wait, SIGTERM);
  sigdelset(&during_wait, SIGINT);
  sigdelset(&during_wait, SIGUSR1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);

  struct nfq_handle *h = nfq_open();
  if (h == NULL) {
    perror("nfq_delay: nfq_open (CAP_NET_ADMIN? nfnetlink_queue in the kernel?)");
    return 1;
  }
  struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)d->queue_num, on_packet, d);
  if (qh == NULL) {
    fprintf(stderr, "nfq_delay: cannot bind queue %u (another program bound to it?)\n",
            d->queue_num);
    nfq_close(h);
    return 1;
  }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) {
    perror("nfq_delay: nfq_set_mode");
    return 1;
  }
  if (nfq_set_queue_maxlen(qh, (uint32_t)d->ring_cap) < 0) {
    perror("nfq_delay: nfq_set_queue_maxlen");
    return 1;
  }
  /* Let GSO packets through whole: nothing here looks inside them. Kernels
   * without the flag ignore it (it is only an optimisation). */
  (void)nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 8u << 20);
  int fd = nfq_fd(h);

  printf("nfq_delay: ready queue=%u delay_ms=%ld\n", d->queue_num, d->delay_ms);
  fflush(stdout);

  static char buf[1 << 16] __attribute__((aligned));
  int64_t stop_deadline = 0;
  for (;;) {
    int64_t now = now_ns();
    release(d, qh, now, 0);
    if (stats_requested) {
      stats_requested = 0;
      print_stats(d);
    }
    if (stop_requested) {
      if (stop_deadline == 0)
        stop_deadline = now + d->delay_ns + 1000000000;
      if (d->ring_count == 0)
        break;
      if (now >= stop_deadline) {
        release(d, qh, now, 1);
        break;
      }
    }
    struct timespec ts, *tsp = NULL;
    int64_t wait_ns = -1;
    if (d->ring_count > 0)
      wait_ns = d->ring[d->ring_head].due_ns - now;
    if (stop_deadline != 0 && (wait_ns < 0 || stop_deadline - now < wait_ns))
      wait_ns = stop_deadline - now;
    if (wait_ns >= 0) {
      ts.tv_sec = wait_ns / 1000000000;
      ts.tv_nsec = wait_ns % 1000000000;
      tsp = &ts;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = ppoll(&pfd, 1, tsp, &during_wait);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      perror("nfq_delay: ppoll");
      break;
    }
    if (r == 0 || !(pfd.revents & POLLIN))
      continue;
    d->batch.mono = now_ns();
    d->batch.real = real_ns();
    for (int k = 0; k < 1024; k++) { /* bounded: the timers get their turn */
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == ENOBUFS) {
          d->n_enobufs++;
          continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
          perror("nfq_delay: recv");
        break;
      }
      nfq_handle_packet(h, buf, (int)n);
    }
  }
  release(d, qh, now_ns(), 1);
  if (!quiet)
    print_stats(d);
  nfq_destroy_queue(qh);
  nfq_close(h);
  free(d->ring);
  return 0;
}
