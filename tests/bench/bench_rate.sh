#!/usr/bin/env bash
# bench_rate — the sender's congestion control (client/engine/rate.c) on a
# real path: two `mentorlink join` processes in their own network namespaces,
# a router namespace between them that drops a share of alice's packets
# towards bob (iptables -m statistic --mode random) and can cap that link's
# rate (tc tbf). Prints, once per second: the phase, alice's video target
# (target_kbps, video_paused), the loss and RTT bob reports to her, the
# keyframe requests (PLI) she received in that second, and what bob receives
# from her (bitrate_kbps: all RTP, audio and retransmissions included; decoded
# fps); then a summary per phase.
# A program, not a test: it asserts nothing and its figures depend on the
# machine.
#
#   PREFIXa  alice  eth0 192.0.2.10/24     default via 192.0.2.1
#   PREFIXr  router ra   192.0.2.1/24      mentorlink-signal on 192.0.2.1:8443
#                   rb   198.51.100.1/24   ip_forward=1; loss and rate cap on
#                                          what it forwards from ra to rb
#   PREFIXb  bob    eth0 198.51.100.10/24  default via 198.51.100.1
#
# Documentation ranges only (RFC 5737); nothing outside the three namespaces
# this script creates is touched (veths are created inside them, iptables and
# tc run inside the router). Root and `ip netns` are required.
#
# usage: bench_rate.sh --mentorlink BIN --signal BIN [--phases "PHASE:S ..."] [--keep]
#   PHASE is clean, lossN (N % random loss, 1-99) or capN (N kbit/s tbf cap,
#   64-100000, with a 100 ms queue); S is seconds (1-600). Default:
#   "clean:20 loss5:20 loss10:30 loss30:40 clean:50 cap500:40".
set -euo pipefail

SIGNAL_PORT=8443
A_IP=192.0.2.10
RA_IP=192.0.2.1
B_IP=198.51.100.10
RB_IP=198.51.100.1
ROOM=ward-rate
LOSS_CHAIN=ML-BENCH-LOSS
START_WAIT_S=40 # alice joined, bob decoding video: the call is up

T0=$SECONDS
say() { printf 'bench_rate [%3ds] %s\n' "$((SECONDS - T0))" "$*" >&2; }
fail() {
  printf 'bench_rate [%3ds] FAIL: %s\n' "$((SECONDS - T0))" "$*" >&2
  exit 1
}

ml_bin=
signal_bin=
phases="clean:20 loss5:20 loss10:30 loss30:40 clean:50 cap500:40"
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
  --mentorlink) ml_bin=${2:-}; shift ;;
  --signal) signal_bin=${2:-}; shift ;;
  --phases) phases=${2:-}; shift ;;
  --keep) keep=1 ;;
  *) fail "unknown argument '$1' (see the header of $0)" ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || fail "must run as root (network namespaces, iptables, tc)"
for tool in ip iptables tc jq timeout curl; do
  command -v "$tool" >/dev/null || fail "$tool not found: packaging/install-deps.sh installs it"
done
[ -n "$ml_bin" ] && [ -x "$ml_bin" ] || fail "--mentorlink: the mentorlink binary is required"
[ -n "$signal_bin" ] && [ -x "$signal_bin" ] || fail "--signal: the mentorlink-signal binary is required"
total_s=0
for p in $phases; do
  [[ "$p" =~ ^(clean|loss([1-9][0-9]?)|cap([0-9]{2,6})):([0-9]{1,3})$ ]] ||
    fail "--phases: bad phase '$p' (clean|lossN|capN):SECONDS"
  s=${BASH_REMATCH[4]}
  [ "$s" -ge 1 ] && [ "$s" -le 600 ] || fail "--phases: 1-600 seconds, not '$s'"
  if [ -n "${BASH_REMATCH[3]}" ]; then
    [ "${BASH_REMATCH[3]}" -ge 64 ] && [ "${BASH_REMATCH[3]}" -le 100000 ] ||
      fail "--phases: a cap of 64-100000 kbit/s, not '${BASH_REMATCH[3]}'"
  fi
  total_s=$((total_s + s))
done
[ "$total_s" -gt 0 ] || fail "--phases: nothing to run"

prefix="ml-rate-$$-"
NS_A=${prefix}a
NS_R=${prefix}r
NS_B=${prefix}b
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ml-bench-rate.XXXXXX")
chmod 700 "$tmp"
signal_pid=
peer_pids=()
made_ns=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local pid i ns
  for pid in "${peer_pids[@]}" $signal_pid; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${peer_pids[@]}" $signal_pid; do
    for ((i = 0; i < 50; i++)); do # bounded: 5 s, then SIGKILL
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ns in "${made_ns[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  if [ "$rc" -ne 0 ]; then
    for f in "$tmp"/*.log; do
      [ -s "$f" ] && { echo "---- last lines of $(basename "$f") ----" >&2; tail -n 15 "$f" >&2; }
    done
  fi
  if [ "$keep" = 1 ]; then
    echo "bench_rate: logs kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for ns in "$NS_A" "$NS_R" "$NS_B"; do
  ip netns add "$ns" || fail "could not create namespace $ns"
  made_ns+=("$ns")
  ip -n "$ns" link set lo up
done
ip -n "$NS_R" link add ra type veth peer name eth0 netns "$NS_A"
ip -n "$NS_R" link add rb type veth peer name eth0 netns "$NS_B"
ip -n "$NS_R" addr add "$RA_IP/24" dev ra
ip -n "$NS_R" addr add "$RB_IP/24" dev rb
ip -n "$NS_A" addr add "$A_IP/24" dev eth0
ip -n "$NS_B" addr add "$B_IP/24" dev eth0
for l in "$NS_R ra" "$NS_R rb" "$NS_A eth0" "$NS_B eth0"; do
  set -- $l
  ip -n "$1" link set "$2" up
done
ip -n "$NS_A" route add default via "$RA_IP"
ip -n "$NS_B" route add default via "$RB_IP"
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$NS_R" iptables -N "$LOSS_CHAIN"
ip netns exec "$NS_R" iptables -A FORWARD -i ra -o rb -j "$LOSS_CHAIN"
# The kernel may lack sch_netem; random loss is iptables' statistic match.
ip netns exec "$NS_R" iptables -A "$LOSS_CHAIN" -m statistic --mode random --probability 0.5 -j RETURN ||
  fail "iptables has no statistic match here"
ip netns exec "$NS_R" iptables -F "$LOSS_CHAIN"
ip netns exec "$NS_R" tc qdisc add dev rb root tbf rate 100mbit burst 64kb latency 100ms ||
  fail "tc tbf is not available here"
ip netns exec "$NS_R" tc qdisc del dev rb root

set_phase() { # clean | lossN | capN
  ip netns exec "$NS_R" iptables -F "$LOSS_CHAIN"
  ip netns exec "$NS_R" tc qdisc del dev rb root 2>/dev/null || true
  case "$1" in
  loss*)
    ip netns exec "$NS_R" iptables -A "$LOSS_CHAIN" -p udp -m statistic --mode random \
      --probability "$(printf '0.%02d' "${1#loss}")" -j DROP
    ;;
  cap*)
    ip netns exec "$NS_R" tc qdisc add dev rb root tbf rate "${1#cap}kbit" burst 16kb latency 100ms
    ;;
  esac
}

ip netns exec "$NS_R" "$signal_bin" --open --listen "$RA_IP:$SIGNAL_PORT" --insecure-listen \
  >"$tmp/signal.stdout.log" 2>"$tmp/signal.log" &
signal_pid=$!
for ((i = 0; i < 100; i++)); do # bounded: 10 s
  kill -0 "$signal_pid" 2>/dev/null || fail "mentorlink-signal exited at start"
  grep -qx "port=$SIGNAL_PORT" "$tmp/signal.stdout.log" && break
  sleep 0.1
done
grep -qx "port=$SIGNAL_PORT" "$tmp/signal.stdout.log" || fail "mentorlink-signal not up after 10 s"
for ns in "$NS_A" "$NS_B"; do
  out=$(ip netns exec "$ns" curl -sS --max-time 5 "http://$RA_IP:$SIGNAL_PORT/healthz" 2>&1 || true)
  [ "$out" = ok ] || fail "$ns cannot reach the signaling server: $out"
done

url="ws://$RA_IP:$SIGNAL_PORT/v1/ws"
mkdir -m 700 "$tmp/data-alice" "$tmp/data-bob"
call_s=$((total_s + START_WAIT_S + 5))
start_peer() {
  local who=$1 ns=$2 ip=$3
  shift 3
  env -u MENTORLINK_PASSPHRASE XDG_DATA_HOME="$tmp/data-$who" \
    timeout -k 3 $((call_s + 20)) ip netns exec "$ns" \
    "$ml_bin" join --server "$url" --room "$ROOM" --name "$who" --headless --json \
    --video-source test --audio-source test --duration "$call_s" --local-address "$ip" "$@" \
    >"$tmp/alice-bob.$who.jsonl" 2>"$tmp/$who.log" &
  peer_pids+=($!)
}
start_peer alice "$NS_A" "$A_IP" --admit-all
for ((i = 0; i < 200; i++)); do # bounded: 20 s
  grep -q '"event":"joined"' "$tmp/alice-bob.alice.jsonl" && break
  sleep 0.1
done
grep -q '"event":"joined"' "$tmp/alice-bob.alice.jsonl" || fail "alice did not join within 20 s"
start_peer bob "$NS_B" "$B_IP"

# The latest stats line of one side (about the other), as TSV of fields.
latest() {
  tail -n 40 "$tmp/alice-bob.$1.jsonl" | grep '"event":"stats"' | tail -n 1 |
    jq -r "$2" 2>/dev/null || true
}
up=0
for ((i = 0; i < (START_WAIT_S - 20) * 10; i++)); do # bounded
  f=$(latest bob '.video_frames_decoded')
  [ -n "$f" ] && [ "$f" -gt 0 ] && { up=1; break; }
  sleep 0.1
done
[ "$up" = 1 ] || fail "bob decoded no video from alice within $START_WAIT_S s"
say "call up; phases: $phases (alice -> bob is the measured direction)"

printf '%5s %-8s %7s %6s %6s %7s %4s %7s %5s\n' t phase target paused loss% rtt_ms pli rx_kbps fps |
  tee "$tmp/rows.txt"
t=0
next=$EPOCHREALTIME
for p in $phases; do
  name=${p%:*}
  secs=${p#*:}
  set_phase "$name"
  for ((k = 0; k < secs; k++)); do
    next=$(awk -v n="$next" 'BEGIN { printf "%.6f", n + 1 }')
    now=$EPOCHREALTIME
    d=$(awk -v n="$next" -v c="$now" 'BEGIN { d = n - c; printf "%.3f", (d > 0 ? d : 0) }')
    sleep "$d" # pacing the samples of a benchmark, not synchronisation
    t=$((t + 1))
    a=$(latest alice '[.target_kbps, (if .video_paused then "yes" else "no" end),
                       (.loss * 100 | floor), (.rtt_ms // -1 | floor), .pli_received] | @tsv')
    b=$(latest bob '[.bitrate_kbps, .fps] | @tsv')
    read -r target paused loss rtt plis <<<"${a:-- - - - -}"
    read -r rx fps <<<"${b:-- -}"
    pli=-
    [ "$plis" != - ] && { pli=$((plis - ${last_plis:-$plis})); last_plis=$plis; }
    printf '%5d %-8s %7s %6s %6s %7s %4s %7s %5s\n' "$t" "$name" "$target" "$paused" "$loss" \
      "$rtt" "$pli" "$rx" "$fps" | tee -a "$tmp/rows.txt"
  done
done
set_phase clean

echo
echo "per phase: mean target kbps, target at its end, seconds paused, mean loss reported," \
  "mean RTT, PLIs received, mean kbps received, mean decoded fps"
awk 'NR > 1 && $3 != "-" {
       k = $2 "#" (($2 != last) ? ++n : n); last = $2
       if (!(k in cnt)) order[n] = k
       cnt[k]++; tg[k] += $3; end[k] = $3; ps[k] += ($4 == "yes"); ls[k] += $5
       rt[k] += $6; pl[k] += $7; rx[k] += $8; fp[k] += $9 }
     END { printf "%-8s %5s %11s %10s %7s %7s %7s %5s %7s %6s\n", "phase", "secs", "mean_target",
             "end_target", "paused", "loss%", "rtt_ms", "plis", "rx_kbps", "fps"
           for (i = 1; i <= n; i++) { k = order[i]; c = cnt[k]; split(k, nm, "#")
             printf "%-8s %5d %11.0f %10d %7d %7.1f %7.0f %5d %7.0f %6.1f\n", nm[1], c, tg[k] / c,
               end[k], ps[k], ls[k] / c, rt[k] / c, pl[k], rx[k] / c, fp[k] / c } }' "$tmp/rows.txt"
