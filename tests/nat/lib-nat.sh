# shellcheck shell=bash
# lib-nat.sh: what the scripts that run mentorlink processes in network
# namespaces share (tests/nat/run-*.sh, tests/bench/bench_rate.sh). Sourced,
# never run: sourcing only defines the functions and the state below.
#
# State (globals; the caller sets the first group, the functions the rest):
#   tmp, keep        the run's temporary directory (nat_tmpdir) and --keep (0/1)
#   ml_bin, signal_bin, turnserver   the binaries the start functions run
#   TURN_PORT        coturn's UDP port (STUN and TURN), default 3478
#   TURN_TLS_PORT    coturn's TURN over TLS port, only with coturn_start turn-tls
#   SIGNAL_PORT      mentorlink-signal's port, default 8443
#   REALM            coturn's realm (turn, turn-tls), default mentorlink.test
#   ROOM, url, room_secret   join_start's room, server URL and (optional,
#                    passed in the environment) room secret
#   BUDGET_S         if set, no wait_until waits beyond T0 + BUDGET_S
#   STOP_WAIT_S      at exit, seconds between TERM and KILL per process (5)
#   LOG_TAIL, LOG_SKIP  on failure, the last LOG_TAIL (25) lines of each
#                    *.log and *.jsonl in $tmp, without lines matching the
#                    grep pattern LOG_SKIP (if set)
#   SAY_FD, SAY_WIDTH   say's file descriptor (1) and width of its seconds (2)
#   cleanup_hook     a function of that name, if defined, runs first at exit
#   peer_pid[WHO]    the participants running (associative), rc[WHO] their
#                    exit status once reaped; signal_pid, turn_pid the servers
#   prefix           namespaces of netns.sh (topology_up): removed at exit
#   made_ns          namespaces made with ns_add: removed at exit
#   NS_PUB, NS_RA, NS_RB, NS_HA, NS_HB, PUB_IP, RA_WAN, RB_WAN, HA_IP, HB_IP
#                    netns.sh's names and addresses (topology_up)
#
# Functions (every wait is bounded; nothing is killed but the pids above):
#   nat_init TAG             start the clock (T0, T0_MS); TAG prefixes output
#   say TEXT...              "TAG [ Ns] TEXT" on SAY_FD
#   fail TEXT...             "TAG [ Ns] FAIL: TEXT" on stderr, exit 1
#   skip TEXT...             "TAG: SKIPPED: TEXT" on stderr, exit 77 (ctest skip)
#   now_ms                   wall clock, milliseconds
#   budget_left              seconds left of BUDGET_S since nat_init
#   need_root_netns fail|skip   root and `ip netns` available, else fail/skip
#   need_tools TOOL...       every TOOL on PATH, else fail
#   need_exec PATH WHAT      PATH is an executable file, else fail "WHAT is required"
#   need_turnserver          $turnserver on PATH (else fail), made absolute
#   nat_tmpdir NAME          tmp = a new 0700 directory ${TMPDIR:-/tmp}/NAME.XXXXXX
#   nat_traps                nat_cleanup at EXIT, exit 130 on INT, 143 on TERM
#   nat_cleanup              the EXIT trap: cleanup_hook, stop_pids of the
#                            participants then the servers, the namespaces
#                            removed, logs shown on failure (exit status
#                            neither 0 nor 77), $tmp removed unless keep=1;
#                            exits with the status it was called with
#   stop_pids PID...         TERM all, up to STOP_WAIT_S s each to exit, KILL, reap
#   topology_up ARGS...      prefix=ml-PID-, `netns.sh up PREFIX ARGS`, then
#                            netns.sh's names and addresses as shell variables
#   ns_add NS                ip netns add NS (fail otherwise), lo up
#   coturn_start stun|turn|turn-tls [SECRET]   coturn in NS_PUB on PUB_IP:
#                            STUN only, or TURN with REST credentials signed
#                            with SECRET (use-auth-secret), turn-tls also on
#                            TURN_TLS_PORT with a throwaway certificate;
#                            config $tmp/turnserver.conf (0600), log
#                            $tmp/turnserver.log (verbose for turn*); turn_pid
#   signal_start NS IP ARGS...   mentorlink-signal --open ARGS in NS on
#                            IP:SIGNAL_PORT (plain ws: --insecure-listen);
#                            stdout signal.stdout.log, stderr signal.log; signal_pid
#   wait_servers SECONDS     until the servers started are listening (coturn's
#                            ports, the "port=" line of mentorlink-signal)
#   reach_healthz HOST NS... every NS gets "ok" from http://HOST:SIGNAL_PORT/healthz
#   join_start WHO NS IP DURATION KILL_S ARGS...   `$ml_bin join --headless
#                            --json` with test video and audio, as WHO in NS
#                            on IP, room ROOM at url, for DURATION s, killed
#                            after KILL_S (timeout -k 3); own XDG_DATA_HOME
#                            $tmp/data-WHO; JSON lines $tmp/WHO.jsonl, stderr
#                            $tmp/WHO.log; peer_pid[WHO]
#   reap WHO...              wait for each WHO: rc[WHO], out of peer_pid
#   alive                    fail if a participant or server started has exited
#   deadline SECONDS         now_ms + SECONDS, but not beyond T0 + BUDGET_S
#   poll_until DEADLINE CMD...   run CMD every 0.1 s until it succeeds (0);
#                            alive meanwhile; 1 once now_ms reaches DEADLINE
#   wait_until SECONDS WHAT CMD...   poll_until deadline SECONDS, else
#                            fail "no WHAT within SECONDS s"
#   jl WHO JQ-FILTER         the filter over $tmp/WHO.jsonl as one array of its
#                            JSON lines (lines that are not JSON are skipped)
#   jl_true WHO JQ-FILTER    jl prints true
#   no_sanitizer WHAT LOG    fail "WHAT: sanitizer report: ..." if LOG has one

NETNS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/netns.sh"
SKIP=77
tmp=
keep=0
ml_bin=
signal_bin=
turnserver=turnserver
TURN_PORT=3478
SIGNAL_PORT=8443
REALM=mentorlink.test
ROOM=
url=
room_secret=
STOP_WAIT_S=5
LOG_TAIL=25
LOG_SKIP=
SAY_FD=1
SAY_WIDTH=2
declare -A peer_pid=() rc=()
signal_pid=
turn_pid=
prefix=
netns_made=0
made_ns=()

nat_init() {
  ML_TAG=$1
  T0=$SECONDS
  T0_MS=$(now_ms)
}
say() { printf "%s [%${SAY_WIDTH}ds] %s\n" "$ML_TAG" "$((SECONDS - T0))" "$*" >&"$SAY_FD"; }
fail() {
  printf "%s [%${SAY_WIDTH}ds] FAIL: %s\n" "$ML_TAG" "$((SECONDS - T0))" "$*" >&2
  exit 1
}
skip() {
  printf '%s: SKIPPED: %s\n' "$ML_TAG" "$*" >&2
  exit "$SKIP"
}
now_ms() {
  local us=${EPOCHREALTIME/[.,]/}
  echo $((us / 1000))
}
budget_left() { echo $((BUDGET_S - (SECONDS - T0))); }

need_root_netns() {
  local or=$1
  [ "$(id -u)" -eq 0 ] || "$or" "must run as root (network namespaces, iptables)"
  command -v ip >/dev/null || "$or" "ip (iproute2) not found: packaging/install-deps.sh installs it"
  ip netns list >/dev/null 2>&1 || "$or" "'ip netns' is not available (no network namespace support?)"
}
need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || fail "$tool not found: packaging/install-deps.sh installs it"
  done
}
need_exec() {
  if [ -z "$1" ] || [ ! -x "$1" ]; then fail "$2 is required"; fi
}
need_turnserver() {
  command -v "$turnserver" >/dev/null ||
    fail "coturn's turnserver ('$turnserver') not found: packaging/install-deps.sh installs coturn"
  turnserver=$(command -v "$turnserver")
}

nat_tmpdir() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  chmod 700 "$tmp"
}

stop_pids() {
  local pid i
  for pid in "$@"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "$@"; do
    for ((i = 0; i < STOP_WAIT_S * 10; i++)); do # bounded, then SIGKILL
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
}

nat_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  declare -F cleanup_hook >/dev/null && cleanup_hook
  # The participants first (they leave the room), then the servers.
  # shellcheck disable=SC2086 # an unset server pid is no word
  stop_pids "${peer_pid[@]}" $signal_pid $turn_pid
  [ "$netns_made" = 1 ] && "$NETNS" down "$prefix"
  local ns f
  for ns in "${made_ns[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  if [ "$status" -ne 0 ] && [ "$status" -ne "$SKIP" ] && [ -n "$tmp" ]; then
    for f in "$tmp"/*.log "$tmp"/*.jsonl; do
      [ -s "$f" ] || continue
      echo "---- last lines of $(basename "$f") ----" >&2
      if [ -n "$LOG_SKIP" ]; then
        grep -v -- "$LOG_SKIP" "$f" | tail -n "$LOG_TAIL" >&2
      else
        tail -n "$LOG_TAIL" "$f" >&2
      fi
    done
  fi
  if [ "$keep" = 1 ]; then
    echo "$ML_TAG: logs kept in $tmp" >&2
  elif [ -n "$tmp" ]; then
    rm -rf "$tmp"
  fi
  exit "$status"
}
nat_traps() {
  trap nat_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

topology_up() {
  prefix="ml-$$-"
  "$NETNS" up "$prefix" "$@" || fail "could not build the network namespaces"
  netns_made=1
  eval "$("$NETNS" env "$prefix")"
}
ns_add() {
  ip netns add "$1" || fail "could not create namespace $1"
  made_ns+=("$1")
  ip -n "$1" link set lo up
}

coturn_start() {
  local mode=$1 secret=${2:-} conf=$tmp/turnserver.conf
  {
    echo "listening-ip=$PUB_IP"
    echo "listening-port=$TURN_PORT"
    if [ "$mode" = stun ]; then
      echo "stun-only"
    else
      cat <<EOF
relay-ip=$PUB_IP
min-port=49152
max-port=49215
fingerprint
use-auth-secret
static-auth-secret=$secret
realm=$REALM
no-tcp-relay
no-multicast-peers
verbose
# Private, loopback, link-local, CGNAT, "this network": never relay there.
# The test peers sit in documentation ranges (192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24), which stay allowed.
denied-peer-ip=0.0.0.0-0.255.255.255
denied-peer-ip=10.0.0.0-10.255.255.255
denied-peer-ip=100.64.0.0-100.127.255.255
denied-peer-ip=127.0.0.0-127.255.255.255
denied-peer-ip=169.254.0.0-169.254.255.255
denied-peer-ip=172.16.0.0-172.31.255.255
denied-peer-ip=192.168.0.0-192.168.255.255
denied-peer-ip=::1
denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff
EOF
    fi
    if [ "$mode" = turn-tls ]; then
      # A throwaway self-signed certificate (libnice does not verify it; a
      # hospital's would come from its CA).
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj "/CN=turn.$REALM" -keyout "$tmp/turn.key" -out "$tmp/turn.crt" 2>"$tmp/openssl.log" ||
        fail "openssl could not make a certificate for coturn"
      printf '%s\n' "tls-listening-port=$TURN_TLS_PORT" "cert=$tmp/turn.crt" "pkey=$tmp/turn.key" \
        no-tlsv1 no-tlsv1_1
    else
      echo "no-tls"
    fi
    printf '%s\n' no-dtls no-cli "log-file=$tmp/turnserver.log" simple-log \
      "pidfile=$tmp/turnserver.pid" "userdb=$tmp/turndb"
  } >"$conf"
  chmod 600 "$conf"
  ip netns exec "$NS_PUB" "$turnserver" -c "$conf" >"$tmp/turnserver.stdout.log" 2>&1 &
  turn_pid=$!
  TURN_TLS=0
  [ "$mode" = turn-tls ] && TURN_TLS=1
  return 0
}

signal_start() {
  local ns=$1 ip=$2
  shift 2
  ip netns exec "$ns" "$signal_bin" --open "$@" --listen "$ip:$SIGNAL_PORT" --insecure-listen \
    >"$tmp/signal.stdout.log" 2>"$tmp/signal.log" &
  signal_pid=$!
}

servers_listening() {
  if [ -n "$turn_pid" ]; then
    ip netns exec "$NS_PUB" ss -Hlun "sport = :$TURN_PORT" | grep -q "$PUB_IP:$TURN_PORT" || return 1
    if [ "$TURN_TLS" = 1 ]; then
      ip netns exec "$NS_PUB" ss -Hltn "sport = :$TURN_TLS_PORT" | grep -q "$PUB_IP:$TURN_TLS_PORT" ||
        return 1
    fi
  fi
  [ -z "$signal_pid" ] || grep -qx "port=$SIGNAL_PORT" "$tmp/signal.stdout.log"
}
wait_servers() {
  local what=
  [ -n "$turn_pid" ] && what="coturn on $PUB_IP:$TURN_PORT/udp"
  [ -n "$turn_pid" ] && [ "$TURN_TLS" = 1 ] && what+=" and :$TURN_TLS_PORT/tcp (TLS)"
  [ -n "$turn_pid" ] && [ -n "$signal_pid" ] && what+=", "
  [ -n "$signal_pid" ] && what+="mentorlink-signal on port $SIGNAL_PORT"
  wait_until "$1" "$what listening" servers_listening
}

reach_healthz() {
  local host=$1 ns out
  shift
  for ns in "$@"; do
    out=$(ip netns exec "$ns" curl -sS --max-time 5 "http://$host:$SIGNAL_PORT/healthz" 2>&1 || true)
    [ "$out" = ok ] || fail "$ns cannot reach the signaling server's /healthz: $out"
  done
}

join_start() {
  local who=$1 ns=$2 ip=$3 duration=$4 kill_s=$5
  shift 5
  local -a envs=(-u MENTORLINK_PASSPHRASE XDG_DATA_HOME="$tmp/data-$who")
  # The room secret goes through the environment, not argv.
  [ -n "${room_secret:-}" ] && envs+=(MENTORLINK_ROOM_SECRET="$room_secret")
  mkdir -m 700 "$tmp/data-$who"
  env "${envs[@]}" timeout -k 3 "$kill_s" ip netns exec "$ns" \
    "$ml_bin" join --server "$url" --room "$ROOM" --name "$who" \
    --headless --json --video-source test --audio-source test \
    --duration "$duration" --local-address "$ip" "$@" \
    >"$tmp/$who.jsonl" 2>"$tmp/$who.log" &
  peer_pid[$who]=$!
}

# shellcheck disable=SC2034 # rc is the caller's to read
reap() {
  local who
  for who in "$@"; do
    rc[$who]=0
    wait "${peer_pid[$who]}" || rc[$who]=$?
    unset "peer_pid[$who]"
  done
}

alive() {
  local w
  for w in "${!peer_pid[@]}"; do
    kill -0 "${peer_pid[$w]}" 2>/dev/null || fail "$w exited early (see $w.log)"
  done
  [ -z "$signal_pid" ] || kill -0 "$signal_pid" 2>/dev/null ||
    fail "mentorlink-signal exited (see signal.log)"
  [ -z "$turn_pid" ] || kill -0 "$turn_pid" 2>/dev/null || fail "coturn exited (see turnserver.log)"
}

deadline() {
  local end=$(($(now_ms) + $1 * 1000)) budget
  if [ -n "${BUDGET_S:-}" ]; then
    budget=$((T0_MS + BUDGET_S * 1000))
    [ "$end" -lt "$budget" ] || end=$budget
  fi
  echo "$end"
}
poll_until() {
  local end=$1
  shift
  until "$@"; do
    alive
    [ "$(now_ms)" -lt "$end" ] || return 1
    sleep 0.1
  done
}
wait_until() {
  local limit=$1 what=$2
  shift 2
  poll_until "$(deadline "$limit")" "$@" || fail "no $what within $limit s"
}

jl() { jq -R 'fromjson? // empty' "$tmp/$1.jsonl" | jq -s -r "$2"; }
jl_true() { [ "$(jl "$1" "$2")" = true ]; }

no_sanitizer() {
  ! grep -q Sanitizer "$2" || fail "$1: sanitizer report: $(grep -m 1 Sanitizer "$2")"
}
