#!/usr/bin/env bash
# bench_rate — the sender's congestion control (client/engine/rate.c) on a
# real, shaped path: two `mentorlink join` processes in their own network
# namespaces and a router namespace between them that drops a share of
# alice's packets towards bob (iptables -m statistic --mode random), can cap
# that link's rate (tc tbf) and delay both ways (nfq_delay, an NFQUEUE
# delayer: this kernel has no sch_netem). The same namespaces, addresses and
# shaping as the libwebrtc anchor rig (../shared/bench/webrtc-anchor/run.sh),
# so the two summaries compare column by column (compare_rate.sh runs both).
# Measured at bob: alice's media comes over the shaped direction.
#
# Prints once a second alice's video target, whether it is paused and why
# (target_kbps, video_paused, reason), the loss bob reports to her and the
# PLIs she received in that second; what bob receives from her (bitrate_kbps:
# all RTP, audio and retransmissions included; decoded fps, frame height) and
# the path's RTT at bob; then a table per phase with the anchor's columns:
# decoded fps, median frame height, audio concealed % (concealed over
# expected audio at bob's decoder), mean RTT, seconds frozen (freeze_ms), mean
# kbps received; and the controller's figures (mean target, seconds paused,
# PLIs). A program, not a test: it asserts nothing and its figures depend on
# the machine.
#
#   PREFIXa  alice  eth0 192.0.2.10/24     default via 192.0.2.1
#   PREFIXr  router ra   192.0.2.1/24      mentorlink-signal on 192.0.2.1:8443
#                   rb   198.51.100.1/24   ip_forward=1; loss (alice -> bob),
#                                          rate cap (tbf on rb), delay (nfq_delay,
#                                          both ways)
#   PREFIXb  bob    eth0 198.51.100.10/24  default via 198.51.100.1
#
# Documentation ranges only (RFC 5737); nothing outside the three namespaces
# this script creates is touched (veths are created inside them, iptables and
# tc run inside the router). Root and `ip netns` are required.
#
# usage: bench_rate.sh --mentorlink BIN --signal BIN [--delayer BIN]
#                      [--phases "SPEC:S ..."] [--summary FILE] [--keep]
#   SPEC is clean, or kinds joined by '+', at most one of each:
#     lossN   N % random loss on UDP alice -> bob (1-99)
#     capN    N kbit/s on router -> bob (64-100000; tbf burst 16kb latency 100ms)
#     delayN  N ms more one way, both ways (1-5000; needs --delayer)
#   e.g. "clean:20 cap150+delay250:40"; S is seconds (1-600). Default:
#   "clean:20 cap500:40 cap150:40 cap64:30 loss10:30 clean:20" (the anchor's).
#   --delayer  the nfq_delay binary (build/tests/bench/nfq_delay)
#   --summary  also write the per-phase table as TSV to FILE (compare_rate.sh)
# shellcheck disable=SC2015 # "A && B || fail": fail when A or B is false
set -euo pipefail

A_IP=192.0.2.10
RA_IP=192.0.2.1
B_IP=198.51.100.10
RB_IP=198.51.100.1
LOSS_CHAIN=ML-BENCH-LOSS
DELAY_CHAIN=ML-BENCH-DELAY
START_WAIT_S=40 # alice joined, bob decoding video: the call is up
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../nat
. "$HERE/../nat/lib-nat.sh"
ROOM=ward-rate
SAY_FD=2 # stdout is the table
SAY_WIDTH=3
LOG_TAIL=15
nat_init bench_rate

phases="clean:20 cap500:40 cap150:40 cap64:30 loss10:30 clean:20"
delayer=
summary=
while [ $# -gt 0 ]; do
  case "$1" in
  --mentorlink) ml_bin=${2:-}; shift ;;
  --signal) signal_bin=${2:-}; shift ;;
  --delayer) delayer=${2:-}; shift ;;
  --phases) phases=${2:-}; shift ;;
  --summary) summary=${2:-}; shift ;;
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
need_delay=0
for p in $phases; do
  [[ "$p" =~ ^([a-z0-9+]+):([0-9]{1,3})$ ]] || fail "--phases: bad phase '$p' (SPEC:SECONDS)"
  spec=${BASH_REMATCH[1]}
  s=${BASH_REMATCH[2]}
  [ "$s" -ge 1 ] && [ "$s" -le 600 ] || fail "--phases: 1-600 seconds, not '$s' in '$p'"
  if [ "$spec" != clean ]; then
    seen=
    IFS=+ read -r -a kinds <<<"$spec"
    for k in "${kinds[@]}"; do
      [[ "$k" =~ ^(loss|cap|delay)([0-9]{1,6})$ ]] ||
        fail "--phases: '$k' in '$p' is not lossN, capN or delayN (or clean alone)"
      kind=${BASH_REMATCH[1]}
      n=$((10#${BASH_REMATCH[2]}))
      [[ " $seen " != *" $kind "* ]] || fail "--phases: two $kind in '$p'"
      seen+=" $kind"
      case $kind in
      loss) [ "$n" -ge 1 ] && [ "$n" -le 99 ] || fail "--phases: loss 1-99 %, not '$k'" ;;
      cap) [ "$n" -ge 64 ] && [ "$n" -le 100000 ] || fail "--phases: cap 64-100000 kbit/s, not '$k'" ;;
      delay)
        [ "$n" -ge 1 ] && [ "$n" -le 5000 ] || fail "--phases: delay 1-5000 ms, not '$k'"
        need_delay=1
        ;;
      esac
    done
  fi
  total_s=$((total_s + s))
done
[ "$total_s" -gt 0 ] || fail "--phases: nothing to run"
[ "$need_delay" = 0 ] || need_exec "$delayer" "--delayer: the nfq_delay binary (delay phases)"

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
ip netns exec "$NS_R" iptables -N "$DELAY_CHAIN"
# Loss first, then delay (both ways), then tbf on the egress device.
ip netns exec "$NS_R" iptables -A FORWARD -i ra -o rb -j "$LOSS_CHAIN"
ip netns exec "$NS_R" iptables -A FORWARD -j "$DELAY_CHAIN"
# The kernel may lack sch_netem; random loss is iptables' statistic match.
ip netns exec "$NS_R" iptables -A "$LOSS_CHAIN" -m statistic --mode random --probability 0.5 -j RETURN ||
  fail "iptables has no statistic match here"
ip netns exec "$NS_R" iptables -F "$LOSS_CHAIN"
ip netns exec "$NS_R" tc qdisc add dev rb root tbf rate 100mbit burst 64kb latency 100ms ||
  fail "tc tbf is not available here"
ip netns exec "$NS_R" tc qdisc del dev rb root

if [ "$need_delay" = 1 ]; then
  ip netns exec "$NS_R" iptables -A "$DELAY_CHAIN" -j NFQUEUE --queue-num 1 --queue-bypass ||
    fail "iptables has no NFQUEUE target here"
  ip netns exec "$NS_R" iptables -F "$DELAY_CHAIN"
fi

# The delayers: one nfq_delay per delay value, each on its own queue; a new
# one is bound and its rule in place before the old rule goes, so no packet
# passes undelayed; the old one lets what it holds go at its time, then exits.
delay_pid=
delay_ms_now=0
delay_queue=0
old_delayers=()
cleanup_hook() {
  # shellcheck disable=SC2086 # an unset pid is no word
  stop_pids $delay_pid "${old_delayers[@]}"
}
start_delayer() { # N
  local n=$1 q i pid
  delay_queue=$((delay_queue + 1))
  q=$delay_queue
  timeout -k 5 $((total_s + START_WAIT_S + 60)) ip netns exec "$NS_R" "$delayer" --queue "$q" \
    --delay-ms "$n" --rt 10 >"$tmp/delay-q$q.out" 2>"$tmp/delay-q$q.log" &
  pid=$!
  for ((i = 0; i < 50; i++)); do # bounded: 5 s
    grep -q '^nfq_delay: ready' "$tmp/delay-q$q.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "nfq_delay exited (see delay-q$q.log)"
    sleep 0.1
  done
  grep -q '^nfq_delay: ready' "$tmp/delay-q$q.out" || fail "nfq_delay not ready within 5 s"
  ip netns exec "$NS_R" iptables -I "$DELAY_CHAIN" 1 -j NFQUEUE --queue-num "$q"
  [ "$(ip netns exec "$NS_R" iptables -S "$DELAY_CHAIN" | grep -c NFQUEUE)" -le 1 ] ||
    ip netns exec "$NS_R" iptables -D "$DELAY_CHAIN" 2
  if [ -n "$delay_pid" ]; then
    kill -TERM "$delay_pid" 2>/dev/null || true
    old_delayers+=("$delay_pid")
  fi
  delay_pid=$pid
  delay_ms_now=$n
}
stop_delayer() {
  [ -n "$delay_pid" ] || return 0
  ip netns exec "$NS_R" iptables -F "$DELAY_CHAIN"
  kill -TERM "$delay_pid" 2>/dev/null || true
  old_delayers+=("$delay_pid")
  delay_pid=
  delay_ms_now=0
}

set_phase() { # SPEC
  local spec=$1 k want_delay=0
  ip netns exec "$NS_R" iptables -F "$LOSS_CHAIN"
  ip netns exec "$NS_R" tc qdisc del dev rb root 2>/dev/null || true
  if [ "$spec" != clean ]; then
    IFS=+ read -r -a kinds <<<"$spec"
    for k in "${kinds[@]}"; do
      case $k in
      loss*)
        ip netns exec "$NS_R" iptables -A "$LOSS_CHAIN" -p udp -m statistic --mode random \
          --probability "$(printf '0.%02d' "${k#loss}")" -j DROP
        ;;
      cap*)
        ip netns exec "$NS_R" tc qdisc add dev rb root tbf rate "${k#cap}kbit" burst 16kb latency 100ms
        ;;
      delay*) want_delay=${k#delay} ;;
      esac
    done
  fi
  if [ "$want_delay" = 0 ]; then
    stop_delayer
  elif [ "$want_delay" != "$delay_ms_now" ]; then
    start_delayer "$want_delay"
  fi
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

pw=8
for p in $phases; do [ "${#p}" -le "$pw" ] || pw=${#p}; done
fmt="%4s %-${pw}s %6s %6s %-8s %5s %6s %3s | %7s %5s %4s\n"
# shellcheck disable=SC2059 # the format is the variable
printf "$fmt" t phase target paused reason loss% rtt_ms pli rx_kbps fps h
# rows.tsv, one line a second: phase index and name, then alice's target,
# paused (0/1), reason, loss %, PLIs received (cumulative), then bob's t_ms,
# frames decoded, frame height, kbps received, audio expected and concealed
# ms, freeze ms (cumulative counters), RTT.
: >"$tmp/rows.tsv"
t=0
idx=0
next=$EPOCHREALTIME
for p in $phases; do
  name=${p%:*}
  secs=${p#*:}
  idx=$((idx + 1))
  set_phase "$name"
  for ((k = 0; k < secs; k++)); do
    next=$(awk -v n="$next" 'BEGIN { printf "%.6f", n + 1 }')
    now=$EPOCHREALTIME
    d=$(awk -v n="$next" -v c="$now" 'BEGIN { d = n - c; printf "%.3f", (d > 0 ? d : 0) }')
    sleep "$d" # pacing the samples of a benchmark, not synchronisation
    t=$((t + 1))
    alive
    a=$(latest alice '[.target_kbps, (if .video_paused then 1 else 0 end), .reason,
                       (.loss * 100 | floor), .pli_received]
                      | map(if . == null or . == "" then "-" else . end) | @tsv')
    b=$(latest bob '[.t_ms, .video_frames_decoded, .frame_height, .bitrate_kbps,
                     .audio_expected_ms, .audio_concealed_ms, .freeze_ms,
                     (.rtt_ms // -1 | floor), .fps]
                    | map(if . == null or . == "" then "-" else . end) | @tsv')
    read -r target paused reason loss plis <<<"${a:-- - - - -}"
    read -r bt frames height rx aexp aconc frz rtt fps <<<"${b:-- - - - - - - - -}"
    pli=-
    [ "$plis" != - ] && { pli=$((plis - ${last_plis:-$plis})); last_plis=$plis; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$idx" "$name" \
      "$target" "$paused" "$reason" "$loss" "$plis" "$bt" "$frames" "$height" "$rx" "$aexp" \
      "$aconc" "$frz" "$rtt" >>"$tmp/rows.tsv"
    pz=$paused
    [ "$pz" = 1 ] && pz=yes
    [ "$pz" = 0 ] && pz=no
    # shellcheck disable=SC2059
    printf "$fmt" "$t" "$name" "$target" "$pz" "$reason" "$loss" "$rtt" "$pli" "$rx" "$fps" "$height"
  done
done
set_phase clean

echo
echo "per phase, at bob (alice's media): decoded fps, median frame height, audio concealed %" \
  "(concealed over expected audio at the decoder), mean RTT, seconds frozen, mean kbps" \
  "received (all RTP); at alice: mean video target, seconds paused, PLIs received"
# Counters are differenced from the phase's last sample back to the last
# sample before it (the phase's first sample for the first phase).
awk -F '\t' -v pw="$pw" -v tsv="${summary:-/dev/null}" '
  function num(v) { return v != "-" && v != "" }
  function median(arr, n,   i, j, v) {
    for (i = 2; i <= n; i++) { v = arr[i]; for (j = i - 1; j >= 1 && arr[j] > v; j--) arr[j + 1] = arr[j]; arr[j + 1] = v }
    return n == 0 ? -1 : (n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2)
  }
  function show(v, fmt) { return v == "" ? "-" : sprintf(fmt, v) }
  { i = $1
    if (!(i in name)) { name[i] = $2; n_ph = i; if (have_prev) { b_t[i] = prev_t; b_f[i] = prev_f; b_ae[i] = prev_ae; b_ac[i] = prev_ac; b_fz[i] = prev_fz } }
    secs[i]++
    if (num($3)) { tg[i] += $3; ntg[i]++ }
    ps[i] += ($4 == 1)
    if (num($7)) { if (!(i in pl0)) pl0[i] = (have_pl ? last_pl : $7); pl1[i] = $7; last_pl = $7; have_pl = 1 }
    if (num($8) && num($9)) {
      if (!(i in b_t)) { b_t[i] = $8; b_f[i] = $9; b_ae[i] = $12; b_ac[i] = $13; b_fz[i] = $14 }
      e_t[i] = $8; e_f[i] = $9; e_ae[i] = $12; e_ac[i] = $13; e_fz[i] = $14
      prev_t = $8; prev_f = $9; prev_ae = $12; prev_ac = $13; prev_fz = $14; have_prev = 1
      if ($10 > 0) { nh[i]++; h[i, nh[i]] = $10 }
      rx[i] += $11; nrx[i]++
      if ($15 >= 0) { rtt[i] += $15; nrtt[i]++ }
    } }
  END {
    printf "%-" pw "s %4s %5s %6s %6s %6s %7s %7s | %6s %6s %4s\n", "phase", "secs", "fps", "height",
      "conc%", "rtt_ms", "frz_s", "rx_kbps", "target", "paused", "plis"
    print "phase\tsecs\tfps\theight\tconc_pct\trtt_ms\tfrozen_s\tkbps" > tsv
    for (i = 1; i <= n_ph; i++) {
      fps = conc = frz = hh = r = k = tgt = ""
      if ((i in e_t) && e_t[i] > b_t[i]) { fps = (e_f[i] - b_f[i]) * 1000 / (e_t[i] - b_t[i]); frz = (e_fz[i] - b_fz[i]) / 1000 }
      if ((i in e_ae) && e_ae[i] > b_ae[i]) conc = 100 * (e_ac[i] - b_ac[i]) / (e_ae[i] - b_ae[i])
      if (nh[i] > 0) { delete hs; for (j = 1; j <= nh[i]; j++) hs[j] = h[i, j]; hh = median(hs, nh[i]) }
      if (nrtt[i] > 0) r = rtt[i] / nrtt[i]
      if (nrx[i] > 0) k = rx[i] / nrx[i]
      if (ntg[i] > 0) tgt = tg[i] / ntg[i]
      plis = (i in pl1) ? pl1[i] - pl0[i] : "-"
      printf "%-" pw "s %4d %5s %6s %6s %6s %7s %7s | %6s %6d %4s\n", name[i], secs[i], show(fps, "%.1f"),
        show(hh, "%d"), show(conc, "%.2f"), show(r, "%.0f"), show(frz, "%.1f"), show(k, "%.0f"),
        show(tgt, "%.0f"), ps[i], plis
      printf "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", name[i], secs[i], show(fps, "%.1f"), show(hh, "%d"),
        show(conc, "%.2f"), show(r, "%.0f"), show(frz, "%.1f"), show(k, "%.0f") > tsv
    } }' "$tmp/rows.tsv"
stop_delayer
# One sample a second: a run much longer than its phases means the samples
# fell behind (a loaded machine), and each phase lasted longer than its name.
say "done: $total_s s of phases, $((SECONDS - T0)) s in all"
