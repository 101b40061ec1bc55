#!/usr/bin/env bash
# nat.turn_relay: two ml_peer_link processes, each in a home network behind
# its own MASQUERADE router, and coturn in the "public" namespace (topology:
# netns.sh, README.md). Scenarios, all on one topology and one coturn:
#   a. direct paths allowed       -> both secure (any path), data both ways
#   b. direct paths blocked       -> both secure over path "relay"
#   c. blocked + bad TURN credentials (alice: forged password, bob: expired
#      username)                  -> no relay candidate, ICE fails, clearly
#   d. blocked, TURN over TLS     -> both secure over path "relay"
# SAS and safety number must be equal on both sides.
#
# usage: run-nat-test.sh --peer PATH/peer_link_nat_peer [--turnserver PATH]
#                        [--nat cone|symmetric] [--netem "delay 40ms loss 1%"] [--keep]
#   --nat     the routers' NAT behaviour (netns.sh up --nat; default cone)
#   --netem   tc netem arguments for both routers' WAN links (needs sch_netem)
#   --keep    keep the temporary directory (logs, JSON results); without it,
#             a failure prints the tails of the logs and removes it too
#
# Needs root and `ip netns`: without them it FAILS (exit 1) with the reason,
# it never skips. Everything it starts is stopped by pid and the namespaces
# are removed on exit, whatever the outcome. Whole run bounded (BUDGET_S).
# "A && B || fail ...": fail runs when A or B is false, which is the intent.
# shellcheck disable=SC2015
set -euo pipefail

BUDGET_S=75 # plus cleanup (< 5 s): under ctest's TIMEOUT of 90
DATAGRAMS=50
PEER_TIMEOUT_MS=12000 # each scenario's peers give up after this (seen: ~2 s ok, ~7 s ICE failure)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib-nat.sh"
TURN_TLS_PORT=5349
STOP_WAIT_S=3
nat_init nat.turn_relay

peer_bin=
netem=
nat=cone
while [ $# -gt 0 ]; do
  case "$1" in
  --peer) peer_bin=${2:-}; shift ;;
  --turnserver) turnserver=${2:-}; shift ;;
  --netem) netem=${2:-}; shift ;;
  --nat) nat=${2:-}; shift ;;
  --keep) keep=1 ;;
  *) fail "unknown argument '$1' (see the header of $0)" ;;
  esac
  shift
done

# ---- preconditions: fail loudly, never skip ----
need_root_netns fail
need_tools iptables ss openssl jq timeout base64
need_turnserver
stunclient=$(dirname "$turnserver")/turnutils_stunclient
[ -x "$stunclient" ] || stunclient=$(command -v turnutils_stunclient || true)
need_exec "$peer_bin" "--peer: the peer_link_nat_peer binary"

nat_tmpdir ml-nat
nat_traps

# ---- topology ----
topology_up --nat "$nat"
if [ -n "$netem" ]; then
  # shellcheck disable=SC2086 # netem arguments are words on purpose
  "$NETNS" netem "$prefix" both $netem
  say "netem on both WAN links: $netem"
fi

# ---- coturn, configured like a hospital's, with a secret for this run ----
secret=$(openssl rand -hex 32)
coturn_start turn-tls "$secret"
wait_servers 10
say "coturn $($turnserver --version 2>/dev/null | head -n 1) listening on $PUB_IP:$TURN_PORT/udp" \
  "and :$TURN_TLS_PORT/tls (pid $turn_pid)"

# Each home reaches the public side through its router's MASQUERADE: coturn
# sees the router's WAN address (a STUN Binding from inside each home).
if [ -n "$stunclient" ]; then
  for h in a b; do
    if [ $h = a ]; then ns=$NS_HA want=$RA_WAN; else ns=$NS_HB want=$RB_WAN; fi
    out=$(timeout 10 ip netns exec "$ns" "$stunclient" -p "$TURN_PORT" "$PUB_IP" 2>&1 || true)
    grep -q "$want" <<<"$out" ||
      fail "STUN from $ns does not see the NAT's address $want: $(tail -n 3 <<<"$out")"
  done
  say "STUN through the NATs: mapped addresses are $RA_WAN and $RB_WAN"
fi

# TURN REST credentials: username "expiry:user", password
# base64(HMAC-SHA1(secret, username)).
rest_pass() { printf '%s' "$2" | openssl dgst -sha1 -hmac "$1" -binary | base64; }

# run_pair TAG ALICE_USER ALICE_PASS BOB_USER BOB_PASS: both peers at once,
# each in its home namespace; results in $tmp/TAG.{alice,bob}.json.
run_pair() {
  local tag=$1 ua=$2 pa=$3 ub=$4 pb=$5
  local left
  left=$(budget_left)
  [ "$left" -gt $((PEER_TIMEOUT_MS / 1000 + 3)) ] ||
    fail "time budget of ${BUDGET_S} s exhausted before scenario $tag"
  local sock="$tmp/$tag.sock" outer=$((PEER_TIMEOUT_MS / 1000 + 3))
  local -a common=(--rendezvous "$sock" --stun "$PUB_IP:$TURN_PORT" "${turn_args[@]}"
    --datagrams "$DATAGRAMS" --timeout-ms "$PEER_TIMEOUT_MS" --room "room-$tag")
  ML_TURN_USER=$ua ML_TURN_PASS=$pa timeout -k 2 "$outer" ip netns exec "$NS_HA" \
    "$peer_bin" --name alice --peer bob --local-address "$HA_IP" "${common[@]}" \
    >"$tmp/$tag.alice.json" 2>"$tmp/$tag.alice.log" &
  peer_pid[alice]=$!
  ML_TURN_USER=$ub ML_TURN_PASS=$pb timeout -k 2 "$outer" ip netns exec "$NS_HB" \
    "$peer_bin" --name bob --peer alice --local-address "$HB_IP" "${common[@]}" \
    >"$tmp/$tag.bob.json" 2>"$tmp/$tag.bob.log" &
  peer_pid[bob]=$!
  reap alice bob
  local who
  for who in alice bob; do
    no_sanitizer "$tag: $who" "$tmp/$tag.$who.log"
    [ -s "$tmp/$tag.$who.json" ] && jq -e . "$tmp/$tag.$who.json" >/dev/null 2>&1 ||
      fail "$tag: $who printed no JSON result (exit status ${rc[$who]})"
  done
}

field() { jq -r "$2" "$tmp/$1.json"; }

# expect_call TAG WANT_PATH: both sides succeeded, same SAS and safety number,
# everything arrived; WANT_PATH "any" or a path type.
expect_call() {
  local tag=$1 want=$2 who
  for who in alice bob; do
    local f="$tag.$who"
    [ "${rc[$who]}" -eq 0 ] && [ "$(field "$f" .ok)" = true ] ||
      fail "$tag: $who did not complete (exit ${rc[$who]}): $(field "$f" '.error // "no error given"')"
    [ "$(field "$f" .datagrams_received)" = "$DATAGRAMS" ] ||
      fail "$tag: $who received $(field "$f" .datagrams_received)/$DATAGRAMS datagrams"
    [ "$(field "$f" .chat_received)" = true ] && [ "$(field "$f" .chat_receipt)" = true ] ||
      fail "$tag: $who: chat message or its receipt missing"
    local path
    path=$(field "$f" .path)
    case "$path" in host | srflx | relay) ;; *) fail "$tag: $who reports path '$path'" ;; esac
    [ "$want" = any ] || [ "$path" = "$want" ] ||
      fail "$tag: $who went over a '$path' path, not '$want'"
  done
  local sas_a sas_b
  sas_a=$(field "$tag.alice" .sas)
  sas_b=$(field "$tag.bob" .sas)
  [ -n "$sas_a" ] && [ "$sas_a" != null ] && [ "$sas_a" = "$sas_b" ] ||
    fail "$tag: SAS differ: alice \"$sas_a\", bob \"$sas_b\""
  [ "$(field "$tag.alice" .safety_number)" = "$(field "$tag.bob" .safety_number)" ] ||
    fail "$tag: safety numbers differ"
  say "$tag: ok: path alice=$(field "$tag.alice" .path) bob=$(field "$tag.bob" .path);" \
    "secure after $(field "$tag.alice" .ms_secure)/$(field "$tag.bob" .ms_secure) ms," \
    "done after $(field "$tag.alice" .ms_total)/$(field "$tag.bob" .ms_total) ms;" \
    "relay candidates $(field "$tag.alice" .local_candidates.relay)/$(field "$tag.bob" .local_candidates.relay);" \
    "SAS \"$sas_a\" on both sides"
}

# coturn_saw PATTERN: a line of coturn's (verbose) log matches.
coturn_saw() { grep -q -- "$1" "$tmp/turnserver.log"; }

# One TURN user per peer and scenario, so coturn's log tells them apart.
now=$(date +%s)
creds() { # creds TAG -> user_a pass_a user_b pass_b
  user_a="$((now + 600)):alice-$1"
  user_b="$((now + 600)):bob-$1"
  pass_a=$(rest_pass "$secret" "$user_a")
  pass_b=$(rest_pass "$secret" "$user_b")
}

turn_args=(--turn "$PUB_IP:$TURN_PORT" --turn-transport udp)
say "a: direct paths allowed"
creds a
run_pair a "$user_a" "$pass_a" "$user_b" "$pass_b"
expect_call a any

"$NETNS" block "$prefix" on
say "b: direct paths between $RA_WAN and $RB_WAN blocked: the TURN relay is the only way"
creds b
run_pair b "$user_a" "$pass_a" "$user_b" "$pass_b"
expect_call b relay
dropped=$("$NETNS" dropped "$prefix")
[ "$dropped" -gt 0 ] || fail "b: the routers dropped no direct packet: did ICE try a direct path at all?"
for u in "$user_a" "$user_b"; do
  coturn_saw "user <$u>: incoming packet ALLOCATE processed, success" ||
    fail "b: coturn's log shows no allocation for $u"
done
say "b: the routers dropped $dropped direct packets; coturn allocated relays for both users"

# c: alice signs with the wrong secret; bob's username expired a minute ago
# (correctly signed). coturn must refuse both allocations, so no relay
# candidate exists and, with direct paths blocked, ICE must fail.
creds c
forged_pass=$(rest_pass "not-$secret" "$user_a")
expired_user="$((now - 60)):bob-c"
expired_pass=$(rest_pass "$secret" "$expired_user")
say "c: direct paths blocked, forged (alice) and expired (bob) TURN credentials"
run_pair c "$user_a" "$forged_pass" "$expired_user" "$expired_pass"
for who in alice bob; do
  f="c.$who"
  [ "${rc[$who]}" -ne 0 ] && [ "$(field "$f" .ok)" = false ] ||
    fail "c: $who connected with bad TURN credentials (path $(field "$f" .path))"
  [ "$(field "$f" .local_candidates.relay)" = 0 ] ||
    fail "c: $who gathered a relay candidate with bad credentials"
  [ "$(field "$f" .sas)" = null ] || fail "c: $who reports a SAS without a path"
  err=$(field "$f" .error)
  case "$err" in
  "ICE failed"*) ;;
  *) fail "c: $who did not fail with an ICE failure: $err" ;;
  esac
  say "c: $who failed as expected after $(field "$f" .ms_total) ms: $err"
done
for u in "$user_a" "$expired_user"; do
  coturn_saw "Cannot find credentials of user <$u>" ||
    fail "c: coturn's log does not show the refusal of $u"
  ! coturn_saw "user <$u>: incoming packet ALLOCATE processed, success" ||
    fail "c: coturn allocated a relay for $u"
done
say "c: coturn refused both allocations (forged password, expired username)"

# d: what a hospital firewall often leaves open: TURN over TLS (TCP) to the
# relay, the relayed path itself still UDP between coturn and the peers.
turn_args=(--turn "$PUB_IP:$TURN_TLS_PORT" --turn-transport tls)
say "d: direct paths blocked, TURN over TLS to $PUB_IP:$TURN_TLS_PORT"
creds d
run_pair d "$user_a" "$pass_a" "$user_b" "$pass_b"
expect_call d relay

say "all scenarios passed in $((SECONDS - T0)) s"
