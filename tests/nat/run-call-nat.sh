#!/usr/bin/env bash
# nat.call_relay: a whole `mentorlink join` call through NAT and the TURN relay.
# Topology of netns.sh (README.md), built with direct paths BLOCKED: each home
# sits behind its own MASQUERADE router and the routers drop everything
# between their WAN addresses, so only the public host is reachable. In the
# public namespace run coturn (use-auth-secret, a secret made for this run)
# and the real `mentorlink-signal` (open mode, plain ws on 203.0.113.1 with
# --insecure-listen), whose config hands out coturn's address as STUN and TURN
# URL with REST credentials signed with the same secret. Then one
# `mentorlink join --headless --json --video-source test --audio-source test
# --duration 8 --chat ...` in each home, same room and room secret, the first
# (alice, the room's host) with --admit-all. Checks on their JSON lines: both
# secure, final stats path "relay" on both sides, video decoded > 0 and
# >= 80 % of the frames the other side sent, audio decoded > 0, the other's
# chat line received, SAS and safety number equal; coturn allocated a relay
# for both peer ids, released both when they left (refresh, lifetime 0), and
# the routers dropped direct packets.
#
# usage: run-call-nat.sh --mentorlink PATH --signal PATH [--turnserver PATH]
#                        [--nat cone|symmetric] [--min-video PERCENT]
#                        [--duration SECONDS] [--keep]
#   --mentorlink  the built `mentorlink` binary
#   --signal      the built `mentorlink-signal` binary
#   --min-video   frames each side must decode, in percent of the frames the
#                 other side sent (default 80; CMake passes 50 for sanitized
#                 builds, whose media pipelines run several times slower)
#   --duration    each participant's --duration (default 8; CMake passes 20
#                 for sanitized builds, whose receive branches take seconds
#                 to start)
#   --keep        keep the temporary directory (logs, JSON lines, configs)
#
# Needs root and `ip netns`: without them it FAILS (exit 1) with the reason,
# it never skips. Everything it starts is stopped by pid and the namespaces
# are removed on exit, whatever the outcome. Whole run bounded (BUDGET_S).
# "A && B || fail ...": fail runs when A or B is false, which is the intent.
# shellcheck disable=SC2015
set -euo pipefail

BUDGET_S=75 # plus cleanup (< 10 s): under ctest's TIMEOUT of 90
duration=8 # each participant's --duration (--duration)
JOIN_WAIT_S=20 # alice must have joined (identity, GStreamer, signaling) by then
PEER_EXTRA_S=22 # beyond --duration: start-up, leaving; then `timeout` kills
min_video=80 # percent of the frames the other side sent (--min-video)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib-nat.sh"
ROOM=ward-nat
nat_init nat.call_relay

nat=cone
while [ $# -gt 0 ]; do
  case "$1" in
  --mentorlink) ml_bin=${2:-}; shift ;;
  --signal) signal_bin=${2:-}; shift ;;
  --turnserver) turnserver=${2:-}; shift ;;
  --nat) nat=${2:-}; shift ;;
  --min-video) min_video=${2:-}; shift ;;
  --duration) duration=${2:-}; shift ;;
  --keep) keep=1 ;;
  *) fail "unknown argument '$1' (see the header of $0)" ;;
  esac
  shift
done

# ---- preconditions: fail loudly, never skip ----
need_root_netns fail
need_tools iptables ss openssl jq timeout base64 curl
need_turnserver
need_exec "$ml_bin" "--mentorlink: the mentorlink binary"
need_exec "$signal_bin" "--signal: the mentorlink-signal binary"
[[ "$duration" =~ ^[0-9]{1,2}$ ]] && [ "$duration" -ge 4 ] && [ "$duration" -le 30 ] ||
  fail "--duration: 4-30 seconds, not '$duration'"
[[ "$min_video" =~ ^[0-9]{1,3}$ ]] && [ "$min_video" -le 100 ] || fail "--min-video: 0-100, not '$min_video'"

nat_tmpdir ml-natcall
nat_traps

# ---- topology, direct paths blocked from the start ----
topology_up --nat "$nat" --block-direct

# ---- coturn, configured like a hospital's, with a secret for this run ----
secret=$(openssl rand -hex 32)
coturn_start turn "$secret"

# ---- mentorlink-signal: open mode, plain ws on the public address ----
# The same TURN secret as coturn; STUN and TURN URLs with coturn's IP literal.
cat >"$tmp/signal.conf" <<EOF
[server]
open = true
[rooms]
host_leave = handover
[ice]
stun = stun:$PUB_IP:$TURN_PORT
turn = turn:$PUB_IP:$TURN_PORT?transport=udp
turn_secret = $secret
turn_ttl = 600
EOF
chmod 600 "$tmp/signal.conf"
# Plain ws on a non-loopback address needs --insecure-listen (the server
# logs a warning); TLS is tested elsewhere (integration.signal.*).
signal_start "$NS_PUB" "$PUB_IP" --config "$tmp/signal.conf"
wait_servers 15
say "coturn (pid $turn_pid) on $PUB_IP:$TURN_PORT/udp; mentorlink-signal (pid $signal_pid)" \
  "on ws://$PUB_IP:$SIGNAL_PORT, open mode"

# Both homes reach the signaling server through their NAT (TCP). (That the
# direct path is closed shows in the routers' drop counters after the call.)
reach_healthz "$PUB_IP" "$NS_HA" "$NS_HB"
say "both homes reach the signaling server's /healthz through their NAT"

# ---- the call ----
url="ws://$PUB_IP:$SIGNAL_PORT/v1/ws"
room_secret=$(openssl rand -hex 12)
chat_alice="hello from alice behind NAT A"
chat_bob="hello from bob behind NAT B"

[ "$(budget_left)" -gt $((duration + PEER_EXTRA_S)) ] ||
  fail "time budget of ${BUDGET_S} s too short for the call"
say "alice joins room $ROOM as its host (--admit-all)"
join_start alice "$NS_HA" "$HA_IP" "$duration" $((duration + PEER_EXTRA_S)) \
  --chat "$chat_alice" --admit-all
wait_until "$JOIN_WAIT_S" "joined event from alice" grep -q '"event":"joined"' "$tmp/alice.jsonl"
say "bob joins (after alice's joined event)"
join_start bob "$NS_HB" "$HB_IP" "$duration" $((duration + PEER_EXTRA_S)) --chat "$chat_bob"

reap alice bob
say "both participants exited (alice ${rc[alice]}, bob ${rc[bob]})"

# ---- checks ----
for who in alice bob; do
  no_sanitizer "$who" "$tmp/$who.log"
  [ -s "$tmp/$who.jsonl" ] || fail "$who printed no JSON lines"
done
for who in alice bob; do
  [ "${rc[$who]}" -eq 0 ] ||
    fail "$who exited with status ${rc[$who]}: $(jl "$who" '[.[] | select(.event=="error") | .message] | first // "no error event"')"
done

# One summary per side: the first of each event of interest and the final
# stats (final: true, printed when it left; the last stats otherwise), as
# fields separated by US (0x1f: not whitespace, so empty fields stay fields).
# shellcheck disable=SC2016 # jq variables, not shell ones
summary_filter='
  def firstev(f): [.[] | select(f)] | first // {};
  (firstev(.event=="verification")) as $v
  | (([.[] | select(.event=="stats" and .final)] | last)
     // ([.[] | select(.event=="stats")] | last) // {}) as $s
  | [ (firstev(.event=="joined") | .peer_id // ""),
      (firstev(.event=="peer_state" and .state=="secure") | .t_ms // -1),
      ($v.sas // ""), ($v.safety_number // ""),
      (any(.[]; .event=="stats" and .final)),
      ($s.path // "none"), ($s.video_frames_decoded // 0), ($s.video_frames_sent // 0),
      ($s.audio_ms_decoded // 0),
      ([.[] | select(.event=="chat") | .text] | join("|")),
      (firstev(.event=="error") | .message // "no error event"),
      ([.[] | select(.event=="peer_state")] | last // {} | "\(.state // "none")/\(.path // "none")") ]
  | map(tostring | gsub("[[:cntrl:]]"; " ")) | join("\u001f")'
declare -A sas safety path decoded sent audio peer_id secure_ms chat first_error
for who in alice bob; do
  IFS=$'\x1f' read -r peer_id[$who] secure_ms[$who] sas[$who] safety[$who] has_final \
    path[$who] decoded[$who] sent[$who] audio[$who] chat[$who] first_error[$who] last_state \
    < <(jl "$who" "$summary_filter") || fail "$who: its JSON lines could not be summarised"
  [ -n "${peer_id[$who]}" ] || fail "$who has no joined event"
  [ "${secure_ms[$who]}" -ge 0 ] || fail "$who never reached state secure (last peer_state/path: $last_state; first error: ${first_error[$who]})"
  [ "$has_final" = true ] || fail "$who printed no final stats"
done

for who in alice bob; do
  other=bob
  [ "$who" = bob ] && other=alice
  [ "${path[$who]}" = relay ] || fail "$who's final stats say path '${path[$who]}', not 'relay'"
  [ "${decoded[$who]}" -gt 0 ] || fail "$who decoded no video frame"
  [ "${sent[$other]}" -gt 0 ] || fail "$other sent no video frame"
  [ $((100 * decoded[$who])) -ge $((min_video * sent[$other])) ] ||
    fail "$who decoded ${decoded[$who]} of the ${sent[$other]} frames $other sent (< $min_video %)"
  [ "${audio[$who]}" -gt 0 ] || fail "$who decoded no audio"
  want=$chat_alice
  [ "$who" = alice ] && want=$chat_bob
  [ "${chat[$who]}" = "$want" ] || fail "$who received chat '${chat[$who]}', expected '$want'"
done
[ -n "${sas[alice]}" ] && [ "${sas[alice]}" = "${sas[bob]}" ] ||
  fail "SAS differ: alice \"${sas[alice]}\", bob \"${sas[bob]}\""
[ -n "${safety[alice]}" ] && [ "${safety[alice]}" = "${safety[bob]}" ] ||
  fail "safety numbers differ: alice ${safety[alice]}, bob ${safety[bob]}"

# The relay really carried it: coturn allocated for both peer ids (the
# welcome's TURN username is "expiry:peer_id"), and the routers dropped the
# direct attempts.
for who in alice bob; do
  grep -q -- ":${peer_id[$who]}>: incoming packet ALLOCATE processed, success" "$tmp/turnserver.log" ||
    fail "coturn's log shows no allocation for $who (peer id ${peer_id[$who]})"
  # Leaving releases the allocation (a refresh with lifetime 0), rather than
  # leaving it to expire on the server.
  grep -q -- ":${peer_id[$who]}>, lifetime=0" "$tmp/turnserver.log" ||
    fail "coturn's log shows no release (refresh, lifetime 0) of $who's allocation"
done
dropped=$("$NETNS" dropped "$prefix")
[ "$dropped" -gt 0 ] || fail "the routers dropped no direct packet: did ICE try a direct path at all?"

pct() { echo $((100 * $1 / ($2 > 0 ? $2 : 1))); }
say "coturn allocated relays for both peer ids; the routers dropped $dropped direct packets"
say "summary: path alice=${path[alice]} bob=${path[bob]};" \
  "secure at ${secure_ms[alice]}/${secure_ms[bob]} ms;" \
  "video alice decoded ${decoded[alice]}/${sent[bob]} ($(pct "${decoded[alice]}" "${sent[bob]}") %)," \
  "bob decoded ${decoded[bob]}/${sent[alice]} ($(pct "${decoded[bob]}" "${sent[alice]}") %);" \
  "audio ${audio[alice]}/${audio[bob]} ms; chat received both ways;" \
  "SAS \"${sas[alice]}\" on both sides"
say "passed in $((SECONDS - T0)) s"
