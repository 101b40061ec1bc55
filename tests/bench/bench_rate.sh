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
# shellcheck disable=SC2015 # "A && B || fail": fail when A or B is false
set -euo pipefail

A_IP=192.0.2.10
RA_IP=192.0.2.1
B_IP=198.51.100.10
RB_IP=198.51.100.1
LOSS_CHAIN=ML-BENCH-LOSS
START_WAIT_S=40 # alice joined, bob decoding video: the call is up
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../nat
. "$HERE/../nat/lib-nat.sh"
ROOM=ward-rate
SAY_FD=2 # stdout is the table
SAY_WIDTH=3
LOG_TAIL=15
nat_init bench_rate

phases="clean:20 loss5:20 loss10:30 loss30:40 clean:50 cap500:40"
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

need_root_netns fail
need_tools iptables tc jq timeout curl
need_exec "$ml_bin" "--mentorlink: the mentorlink binary"
need_exec "$signal_bin" "--signal: the mentorlink-signal binary"
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
nat_tmpdir ml-bench-rate
nat_traps

for ns in "$NS_A" "$NS_R" "$NS_B"; do
  ns_add "$ns"
done
ip -n "$NS_R" link add ra type veth peer name eth0 netns "$NS_A"
ip -n "$NS_R" link add rb type veth peer name eth0 netns "$NS_B"
ip -n "$NS_R" addr add "$RA_IP/24" dev ra
ip -n "$NS_R" addr add "$RB_IP/24" dev rb
ip -n "$NS_A" addr add "$A_IP/24" dev eth0
ip -n "$NS_B" addr add "$B_IP/24" dev eth0
ip -n "$NS_R" link set ra up
ip -n "$NS_R" link set rb up
ip -n "$NS_A" link set eth0 up
ip -n "$NS_B" link set eth0 up
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

signal_start "$NS_R" "$RA_IP"
wait_servers 10
reach_healthz "$RA_IP" "$NS_A" "$NS_B"

url="ws://$RA_IP:$SIGNAL_PORT/v1/ws"
call_s=$((total_s + START_WAIT_S + 5))
join_start alice "$NS_A" "$A_IP" "$call_s" $((call_s + 20)) --admit-all
wait_until 20 "joined event from alice" grep -q '"event":"joined"' "$tmp/alice.jsonl"
join_start bob "$NS_B" "$B_IP" "$call_s" $((call_s + 20))

# The latest stats line of one side (about the other), as TSV of fields.
latest() {
  tail -n 40 "$tmp/$1.jsonl" | grep '"event":"stats"' | tail -n 1 |
    jq -r "$2" 2>/dev/null || true
}
bob_decodes() {
  local f
  f=$(latest bob '.video_frames_decoded')
  [ -n "$f" ] && [ "$f" -gt 0 ]
}
wait_until $((START_WAIT_S - 20)) "video from alice decoded by bob" bob_decodes
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
