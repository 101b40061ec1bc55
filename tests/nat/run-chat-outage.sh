#!/usr/bin/env bash
# nat.chat_outage: "chat: nothing lost across a path outage".
# Topology of netns.sh (README.md), direct paths open: alice and bob each
# behind a MASQUERADE router, mentorlink-signal (open mode) and coturn as a
# STUN server only (no TURN: when the direct path is blocked there is no other
# way) in the public namespace. Two call_chat_peer processes (a real ml_call
# each: signaling, ICE, Noise XXpsk3, test video and audio, chat from stdin)
# call each other over their srflx pair. Then, twice:
#   1. a short outage (--short, 5 s): the routers drop everything between the two
#      WAN addresses (netns.sh block on); both sides send chat lines during
#      it; the path comes back (block off);
#   2. a long outage (--long, 20 s), longer than the link's silence detection: the
#      controlling side restarts ICE (through signaling, which stays up) until
#      the path is back.
# After each: every line arrives exactly once, in order, is receipted, and
# the video frames decoded grow again on both sides; no line arrived while
# the path was down (the outage was real); the links never report failed.
# After the long one, the controlling side must have restarted ICE.
#
# With --lost SECONDS (nat.chat_outage_lost) instead: the participants give a
# silent peer up after SECONDS (ml_call_config.path_timeout_ms), the path is
# blocked for good, and both must report peer_state failed (with an error
# naming the path timeout) after having restarted ICE; the lines sent into
# the outage get no receipt.
#
# usage: run-chat-outage.sh --peer PATH --signal PATH [--turnserver PATH]
#                           [--short SECONDS] [--long SECONDS] [--lost SECONDS]
#                           [--keep]
#   --peer        the built call_chat_peer test program
#   --signal      the built mentorlink-signal binary
#   --short/--long  outage durations (default 5 and 20)
#   --lost        the path timeout of the "lost for good" scenario (default 0: off)
#   --keep        keep the temporary directory (JSON lines, logs, configs)
#
# Without root or `ip netns` it exits 77 (ctest: skipped). Everything it
# starts is stopped by pid and the namespaces are removed on exit. Every wait
# is bounded and polls the participants' JSON lines; the only fixed waits are
# the outages themselves (and the spacing of the lines sent during them).
# shellcheck disable=SC2015 # "A && B || fail": fail when A or B is false
set -euo pipefail

BUDGET_S=110      # every wait ends by then (plus cleanup, < 10 s): under ctest's TIMEOUT of 130
SETUP_WAIT_S=25   # both secure and decoding video by then
RECOVER_WAIT_S=30 # after a path comes back: every line, receipt and new frames
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib-nat.sh"
ROOM=ward-outage
LOG_TAIL=30
LOG_SKIP='"event":"stats"'
nat_init nat.chat_outage

peer_bin=
short_s=5
long_s=20
lost_s=0
while [ $# -gt 0 ]; do
  case "$1" in
  --peer) peer_bin=${2:-}; shift ;;
  --signal) signal_bin=${2:-}; shift ;;
  --turnserver) turnserver=${2:-}; shift ;;
  --short) short_s=${2:-}; shift ;;
  --long) long_s=${2:-}; shift ;;
  --lost) lost_s=${2:-}; shift ;;
  --keep) keep=1 ;;
  *) fail "unknown argument '$1' (see the header of $0)" ;;
  esac
  shift
done

# ---- preconditions: no root or no namespaces skips; anything else fails ----
need_root_netns skip
need_tools iptables ss jq timeout openssl mkfifo
need_turnserver
need_exec "$peer_bin" "--peer: the call_chat_peer program"
need_exec "$signal_bin" "--signal: the mentorlink-signal binary"
[[ "$short_s" =~ ^[0-9]{1,2}$ && "$long_s" =~ ^[0-9]{1,2}$ && "$lost_s" =~ ^[0-9]{1,2}$ ]] &&
  [ "$short_s" -ge 2 ] && [ "$long_s" -ge 2 ] || fail "--short/--long/--lost: 2-99 seconds"

nat_tmpdir ml-outage
declare -A infd
cleanup_hook() {
  local p
  for p in alice bob; do # closing stdin makes a participant leave
    [ -n "${infd[$p]:-}" ] && eval "exec ${infd[$p]}>&-"
  done
}
nat_traps

# ---- topology (direct paths open), STUN, signaling ----
topology_up --nat cone >/dev/null
coturn_start stun
cat >"$tmp/signal.conf" <<EOF
[server]
open = true
[ice]
stun = stun:$PUB_IP:$TURN_PORT
EOF
signal_start "$NS_PUB" "$PUB_IP" --config "$tmp/signal.conf"
wait_servers 15
say "STUN (coturn, stun-only) and mentorlink-signal up on $PUB_IP"

# ---- the participants ----
url="ws://$PUB_IP:$SIGNAL_PORT/v1/ws"
room_secret=$(openssl rand -hex 12)

# start_peer WHO NS IP EXTRA-ARGS...: stdin from a FIFO kept open on fd
# infd[WHO], JSON lines to WHO.jsonl, stderr to WHO.log.
start_peer() {
  local who=$1 ns=$2 ip=$3
  shift 3
  mkfifo -m 600 "$tmp/$who.in"
  env MENTORLINK_ROOM_SECRET="$room_secret" timeout -k 3 $((BUDGET_S + 5)) \
    ip netns exec "$ns" "$peer_bin" --server "$url" --room "$ROOM" --name "$who" \
    --local-address "$ip" "$@" <"$tmp/$who.in" >"$tmp/$who.jsonl" 2>"$tmp/$who.log" &
  peer_pid[$who]=$!
  local fd
  exec {fd}>"$tmp/$who.in"
  infd[$who]=$fd
}

# say_to WHO COMMAND: one command line on WHO's stdin.
say_to() { printf '%s\n' "$2" >&"${infd[$1]}"; }

# wait_for SECONDS DESCRIPTION WHO JQ-FILTER: until the filter prints true.
wait_for() { wait_until "$1" "$2 from $3" jl_true "$3" "$4"; }

# sleep_until MS: until the wall clock (now_ms) reaches MS; the outages'
# timing, not a synchronisation.
sleep_until() {
  local left=$(($1 - $(now_ms)))
  [ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

other() { if [ "$1" = alice ]; then echo bob; else echo alice; fi; }

# Chat texts WHO received, one per line, in arrival order.
received() { jl "$1" '.[] | select(.event=="chat") | .text'; }
# Last video_frames_decoded WHO reported.
decoded() { jl "$1" '[.[] | select(.event=="stats") | .video_frames_decoded] | last // 0'; }

timeout_args=()
[ "$lost_s" -gt 0 ] && timeout_args=(--path-timeout $((lost_s * 1000)))
start_peer alice "$NS_HA" "$HA_IP" --admit-all "${timeout_args[@]}"
wait_for 20 "joined event" alice 'any(.[]; .event=="joined")'
start_peer bob "$NS_HB" "$HB_IP" "${timeout_args[@]}"
for w in alice bob; do
  wait_for "$SETUP_WAIT_S" "secure link" "$w" 'any(.[]; .event=="peer_state" and .state=="secure")'
  wait_for "$SETUP_WAIT_S" "decoded video" "$w" \
    'any(.[]; .event=="stats" and .video_frames_decoded > 0)'
done
say "both secure over $(jl alice '[.[] | select(.event=="stats") | .path] | last') and decoding video"

declare -A sent_lines # WHO -> the lines WHO sent, newline-separated, in order
send_line() {
  say_to "$1" "chat $2"
  sent_lines[$1]+="$2"$'\n'
}

# delivered_all WHO: WHO received every line the other side sent so far, and
# has a receipt for every line it sent itself.
delivered_all() {
  local who=$1 o
  o=$(other "$1")
  [ "$(received "$who")"$'\n' = "${sent_lines[$o]}" ] || return 1
  [ "$(jl "$who" '[.[] | select(.event=="receipt")] | length')" -eq \
    "$(printf '%s' "${sent_lines[$who]}" | grep -c '')" ]
}

wait_delivered() {
  local limit=$1 end w
  end=$(deadline "$limit")
  for w in alice bob; do
    poll_until "$end" delivered_all "$w" ||
      fail "$w: not every chat line/receipt within $limit s; received: $(received "$w" | tr '\n' '|')" \
        "expected: $(printf '%s' "${sent_lines[$(other "$w")]}" | tr '\n' '|')"
  done
}

send_line alice "alice before the outages"
send_line bob "bob before the outages"
wait_delivered 10
say "chat flows both ways with receipts"

# outage NAME SECONDS: blocks the direct path, sends 3 lines from each side
# spread over the outage, checks none got through, restores the path, and
# waits for every line, every receipt and new video frames on both sides.
outage() {
  local name=$1 secs=$2 w k
  declare -A frames_before
  "$NETNS" block "$prefix" on
  local t_block
  t_block=$(now_ms)
  say "$name outage: path between $RA_WAN and $RB_WAN blocked for $secs s"
  for k in 1 2 3; do # spread over the outage, at 1/4, 2/4 and 3/4 of it
    sleep_until $((t_block + secs * 250 * k))
    for w in alice bob; do
      send_line "$w" "$w $name outage line $k"
    done
  done
  for w in alice bob; do
    frames_before[$w]=$(decoded "$w")
  done
  sleep_until $((t_block + secs * 1000))
  # (grep, not jq: this runs while the outage should end)
  for w in alice bob; do
    ! grep '"event":"chat"' "$tmp/$w.jsonl" | grep -q " $name outage line " ||
      fail "$w received a $name-outage line while the path was blocked: the outage was not real"
  done
  "$NETNS" block "$prefix" off
  say "$name outage: path restored after $(($(now_ms) - t_block)) ms"
  local t_restore=$SECONDS
  wait_delivered "$RECOVER_WAIT_S"
  say "$name outage: all lines and receipts arrived $((SECONDS - t_restore)) s after the path came back"
  for w in alice bob; do
    wait_for "$RECOVER_WAIT_S" "video frames decoded after the $name outage (were ${frames_before[$w]})" \
      "$w" "any(.[]; .event==\"stats\" and .video_frames_decoded > ${frames_before[$w]} + 10)"
  done
  say "$name outage: video decoded again on both sides ($(decoded alice) / $(decoded bob) frames)"
}

# lost: the path goes for good; one line from each side during it. Both
# links must be given up (peer_state failed) after the path timeout, having
# tried ICE restarts first; nothing sent meanwhile arrives.
lost() {
  local w
  "$NETNS" block "$prefix" on
  say "lost: path between $RA_WAN and $RB_WAN blocked for good (path timeout ${lost_s} s)"
  for w in alice bob; do
    say_to "$w" "chat $w line into the void"
  done
  for w in alice bob; do
    wait_for $((lost_s + 15)) "peer_state failed" "$w" \
      'any(.[]; .event=="peer_state" and .state=="failed")'
  done
  say "lost: both links reported failed"
  for w in alice bob; do
    [ "$(jl "$w" '[.[] | select(.event=="error" and (.message | test("path timeout")))] | length')" -gt 0 ] ||
      fail "$w: no error event names the path timeout"
  done
}

if [ "$lost_s" -gt 0 ]; then
  lost
else
  outage short "$short_s"
  outage long "$long_s"
fi

restarts=$(cat "$tmp/alice.jsonl" "$tmp/bob.jsonl" | grep -c 'restarting ICE' || true)
[ "$restarts" -gt 0 ] || fail "no ICE restart was reported during the (long) outage"
say "ICE restarts reported: $restarts"

# ---- leave, then the final checks ----
for w in alice bob; do
  eval "exec ${infd[$w]}>&-"
  infd[$w]=
done
reap alice bob
for w in alice bob; do
  [ "${rc[$w]}" -eq 0 ] || fail "$w exited with status ${rc[$w]}"
done
for w in alice bob; do
  no_sanitizer "$w" "$tmp/$w.log"
  [ "$lost_s" -gt 0 ] ||
    [ "$(jl "$w" '[.[] | select(.event=="peer_state" and .state=="failed")] | length')" -eq 0 ] ||
    fail "$w reported its link failed"
  # Exactly once, in order: the whole received list equals the sent list.
  [ "$(received "$w")"$'\n' = "${sent_lines[$(other "$w")]}" ] ||
    fail "$w: received lines differ from those sent: $(received "$w" | tr '\n' '|')"
  # Every id sent has exactly one receipt, and no receipt for anything else
  # (lost: the line sent into the void has none).
  [ "$(jl "$w" '[.[] | select(.event=="chat_sent" and (.text | test("into the void") | not)) | .id] | sort | tostring')" = \
    "$(jl "$w" '[.[] | select(.event=="receipt") | .id] | sort | tostring')" ] ||
    fail "$w: receipts do not match the lines sent, one to one"
done
say "passed in $((SECONDS - T0)) s: every line delivered arrived exactly once, in order, receipted" \
  "($(printf '%s' "${sent_lines[alice]}" | grep -c '') each way)"
