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
TURN_PORT=3478
SIGNAL_PORT=8443
REALM=mentorlink.test
ROOM=ward-nat
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETNS="$HERE/netns.sh"

T0=$SECONDS
say() { printf 'nat.call_relay [%2ds] %s\n' "$((SECONDS - T0))" "$*"; }
fail() {
  printf 'nat.call_relay [%2ds] FAIL: %s\n' "$((SECONDS - T0))" "$*" >&2
  exit 1
}

ml_bin=
signal_bin=
turnserver=turnserver
nat=cone
keep=0
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
[ "$(id -u)" -eq 0 ] || fail "must run as root (network namespaces, iptables); CI runs this as root"
command -v ip >/dev/null || fail "ip (iproute2) not found: packaging/install-deps.sh installs it"
ip netns list >/dev/null 2>&1 || fail "'ip netns' is not available (no network namespace support?)"
for tool in iptables ss openssl jq timeout base64 curl; do
  command -v "$tool" >/dev/null || fail "$tool not found: packaging/install-deps.sh installs it"
done
command -v "$turnserver" >/dev/null ||
  fail "coturn's turnserver ('$turnserver') not found: packaging/install-deps.sh installs coturn"
turnserver=$(command -v "$turnserver")
[ -n "$ml_bin" ] && [ -x "$ml_bin" ] || fail "--mentorlink: the mentorlink binary is required"
[ -n "$signal_bin" ] && [ -x "$signal_bin" ] || fail "--signal: the mentorlink-signal binary is required"
[[ "$duration" =~ ^[0-9]{1,2}$ ]] && [ "$duration" -ge 4 ] && [ "$duration" -le 30 ] ||
  fail "--duration: 4-30 seconds, not '$duration'"
[[ "$min_video" =~ ^[0-9]{1,3}$ ]] && [ "$min_video" -le 100 ] || fail "--min-video: 0-100, not '$min_video'"

prefix="ml-$$-"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ml-natcall.XXXXXX")
chmod 700 "$tmp"
turn_pid=
signal_pid=
peer_pids=()
netns_up=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local pid i
  # The peers first (they leave the room), then the servers.
  for pid in "${peer_pids[@]}" $signal_pid $turn_pid; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${peer_pids[@]}" $signal_pid $turn_pid; do
    for ((i = 0; i < 50; i++)); do # bounded: 5 s (the server drains), then SIGKILL
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  [ "$netns_up" = 1 ] && "$NETNS" down "$prefix"
  if [ "$rc" -ne 0 ]; then
    local f
    for f in "$tmp"/*.log "$tmp"/*.jsonl; do
      [ -s "$f" ] || continue
      echo "---- last lines of $(basename "$f") ----" >&2
      tail -n 25 "$f" >&2
    done
  fi
  if [ "$keep" = 1 ]; then
    echo "nat.call_relay: logs kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

budget_left() { echo $((BUDGET_S - (SECONDS - T0))); }

# ---- topology, direct paths blocked from the start ----
"$NETNS" up "$prefix" --nat "$nat" --block-direct || fail "could not build the network namespaces"
netns_up=1
eval "$("$NETNS" env "$prefix")"

# ---- coturn, configured like a hospital's, with a secret for this run ----
secret=$(openssl rand -hex 32)
cat >"$tmp/turnserver.conf" <<EOF
listening-ip=$PUB_IP
relay-ip=$PUB_IP
listening-port=$TURN_PORT
min-port=49152
max-port=49215
fingerprint
use-auth-secret
static-auth-secret=$secret
realm=$REALM
no-tls
no-dtls
no-cli
no-tcp-relay
no-multicast-peers
# Private, loopback, link-local, CGNAT, "this network": never relay there.
# The test peers sit in documentation ranges, which stay allowed.
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
log-file=$tmp/turnserver.log
simple-log
verbose
pidfile=$tmp/turnserver.pid
userdb=$tmp/turndb
EOF
chmod 600 "$tmp/turnserver.conf"
ip netns exec "$NS_PUB" "$turnserver" -c "$tmp/turnserver.conf" >"$tmp/turnserver.stdout.log" 2>&1 &
turn_pid=$!

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
ip netns exec "$NS_PUB" "$signal_bin" --config "$tmp/signal.conf" --open \
  --listen "$PUB_IP:$SIGNAL_PORT" --insecure-listen \
  >"$tmp/signal.stdout.log" 2>"$tmp/signal.log" &
signal_pid=$!

listening=0
for ((i = 0; i < 150; i++)); do # bounded: 15 s
  kill -0 "$turn_pid" 2>/dev/null || fail "coturn exited at start (see turnserver.log)"
  kill -0 "$signal_pid" 2>/dev/null || fail "mentorlink-signal exited at start (see signal.log)"
  if ip netns exec "$NS_PUB" ss -Hlun "sport = :$TURN_PORT" | grep -q "$PUB_IP:$TURN_PORT" &&
    grep -qx "port=$SIGNAL_PORT" "$tmp/signal.stdout.log"; then
    listening=1
    break
  fi
  sleep 0.1
done
[ "$listening" = 1 ] ||
  fail "coturn on $PUB_IP:$TURN_PORT/udp or mentorlink-signal on $PUB_IP:$SIGNAL_PORT not up after 15 s"
say "coturn (pid $turn_pid) on $PUB_IP:$TURN_PORT/udp; mentorlink-signal (pid $signal_pid)" \
  "on ws://$PUB_IP:$SIGNAL_PORT, open mode"

# Both homes reach the signaling server through their NAT (TCP). (That the
# direct path is closed shows in the routers' drop counters after the call.)
for ns in "$NS_HA" "$NS_HB"; do
  out=$(ip netns exec "$ns" curl -sS --max-time 5 "http://$PUB_IP:$SIGNAL_PORT/healthz" 2>&1 || true)
  [ "$out" = ok ] || fail "$ns cannot reach the signaling server's /healthz: $out"
done
say "both homes reach the signaling server's /healthz through their NAT"

# ---- the call ----
url="ws://$PUB_IP:$SIGNAL_PORT/v1/ws"
room_secret=$(openssl rand -hex 12)
chat_alice="hello from alice behind NAT A"
chat_bob="hello from bob behind NAT B"
mkdir -m 700 "$tmp/data-alice" "$tmp/data-bob"

# start_peer WHO NS IP EXTRA-ARGS...: one participant in its home namespace;
# JSON lines to $tmp/WHO.jsonl, stderr to $tmp/WHO.log.
start_peer() {
  local who=$1 ns=$2 ip=$3
  shift 3
  local chat=$chat_alice
  [ "$who" = bob ] && chat=$chat_bob
  # The room secret goes through the environment, not argv.
  env -u MENTORLINK_PASSPHRASE \
    XDG_DATA_HOME="$tmp/data-$who" MENTORLINK_ROOM_SECRET="$room_secret" \
    timeout -k 3 $((duration + PEER_EXTRA_S)) ip netns exec "$ns" \
    "$ml_bin" join --server "$url" --room "$ROOM" --name "$who" \
    --headless --json --video-source test --audio-source test \
    --duration "$duration" --chat "$chat" --local-address "$ip" "$@" \
    >"$tmp/$who.jsonl" 2>"$tmp/$who.log" &
  peer_pids+=($!)
}

# jl WHO JQ-FILTER: over all of WHO's JSON lines as one array (lines that
# are not JSON are skipped).
jl() { jq -R 'fromjson? // empty' "$tmp/$1.jsonl" | jq -s -r "$2"; }

[ "$(budget_left)" -gt $((duration + PEER_EXTRA_S)) ] ||
  fail "time budget of ${BUDGET_S} s too short for the call"
say "alice joins room $ROOM as its host (--admit-all)"
start_peer alice "$NS_HA" "$HA_IP" --admit-all
joined=0
for ((i = 0; i < JOIN_WAIT_S * 10; i++)); do # bounded
  kill -0 "${peer_pids[0]}" 2>/dev/null || fail "alice exited before joining"
  if grep -q '"event":"joined"' "$tmp/alice.jsonl"; then
    joined=1
    break
  fi
  sleep 0.1
done
[ "$joined" = 1 ] || fail "alice did not join within $JOIN_WAIT_S s"
say "bob joins (after alice's joined event)"
start_peer bob "$NS_HB" "$HB_IP"

rc_alice=0
rc_bob=0
wait "${peer_pids[0]}" || rc_alice=$?
wait "${peer_pids[1]}" || rc_bob=$?
peer_pids=()
say "both participants exited (alice $rc_alice, bob $rc_bob)"

# ---- checks ----
for who in alice bob; do
  ! grep -q "Sanitizer" "$tmp/$who.log" ||
    fail "$who: sanitizer report: $(grep -m 1 Sanitizer "$tmp/$who.log")"
  [ -s "$tmp/$who.jsonl" ] || fail "$who printed no JSON lines"
done
[ "$rc_alice" -eq 0 ] || fail "alice exited with status $rc_alice: $(jl alice '[.[] | select(.event=="error") | .message] | first // "no error event"')"
[ "$rc_bob" -eq 0 ] || fail "bob exited with status $rc_bob: $(jl bob '[.[] | select(.event=="error") | .message] | first // "no error event"')"

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
dropped=0
for ns in "$NS_RA" "$NS_RB"; do
  for c in $(ip netns exec "$ns" iptables -L ML-BLOCK-DIRECT -n -v -x | awk '$3 == "DROP" {print $1}'); do
    dropped=$((dropped + c))
  done
done
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
