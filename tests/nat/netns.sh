#!/usr/bin/env bash
# mentorlink NAT test topology: network namespaces, veth pairs, MASQUERADE.
# See tests/nat/README.md for the diagram. Documentation ranges only
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24); nothing outside the
# namespaces this script creates is touched: every veth is created inside one
# of them (ip -n NS link add ... peer ... netns OTHER), ip_forward is set only
# in the two router namespaces, iptables only runs inside namespaces.
#
# usage:
#   netns.sh up PREFIX [--block-direct] [--nat cone|symmetric]
#   netns.sh down PREFIX
#   netns.sh block PREFIX on|off     drop everything between the two WAN
#                                    addresses (only the public host, e.g. the
#                                    TURN relay, is reachable from both sides)
#   netns.sh netem PREFIX a|b|both off|NETEM-ARGS...
#                                    tc netem on the routers' WAN links, e.g.
#                                    "delay 40ms 10ms loss 2% rate 1mbit"
#   netns.sh dropped PREFIX          packets both routers have dropped
#                                    between the WAN addresses (block on)
#   netns.sh env PREFIX              shell assignments of names and addresses
#
# PREFIX (e.g. "ml-$$-") names the namespaces PREFIXpub, PREFIXra, PREFIXrb,
# PREFIXha, PREFIXhb. `up` refuses to run if any namespace already starts with
# PREFIX, and removes what it built if it fails half way. `down` first kills
# the processes still inside those five namespaces (by pid, as listed by
# `ip netns pids`), then deletes them; it is idempotent.
set -euo pipefail

PUB_IP=203.0.113.1 # the "internet" side: coturn (and later the signaling server)
WAN_PREFIXLEN=24
RA_WAN=203.0.113.11
RB_WAN=203.0.113.12
RA_LAN=192.0.2.1
HA_IP=192.0.2.10
LAN_A_PREFIXLEN=25 # 192.0.2.0/25
RB_LAN=198.51.100.1
HB_IP=198.51.100.10
LAN_B_PREFIXLEN=25 # 198.51.100.0/25
BLOCK_CHAIN=ML-BLOCK-DIRECT
VOID_IP=203.0.113.254 # "the rest of the internet": nobody has this address
VOID_MAC=02:00:00:00:00:fe

die() {
  echo "netns.sh: $*" >&2
  exit 1
}

check_prefix() {
  [[ "${1:-}" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$ ]] ||
    die "bad PREFIX '${1:-}' (1-21 characters of [A-Za-z0-9_.-])"
}

check_env() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, iptables)"
  command -v ip >/dev/null || die "ip (iproute2) not found"
  ip netns list >/dev/null 2>&1 || die "'ip netns' is not available here"
}

names() {
  NS_PUB="${1}pub"
  NS_RA="${1}ra"
  NS_RB="${1}rb"
  NS_HA="${1}ha"
  NS_HB="${1}hb"
  ALL_NS=("$NS_PUB" "$NS_RA" "$NS_RB" "$NS_HA" "$NS_HB")
}

# Namespaces whose name starts with PREFIX (ip netns list prints "name (id: N)").
existing() {
  ip netns list 2>/dev/null | awk '{print $1}' | while read -r n; do
    case "$n" in "$1"*) echo "$n" ;; esac
  done
}

in_ns() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# Only the five names this script makes, never "everything with the prefix":
# another run's namespaces may share a shorter prefix.
cmd_down() {
  local prefix=$1 ns pid
  local -a left=()
  names "$prefix"
  local -a have
  mapfile -t have < <(existing "$prefix")
  for ns in "${ALL_NS[@]}"; do
    printf '%s\n' "${have[@]}" | grep -qxF -- "$ns" && left+=("$ns")
  done
  for ns in "${left[@]}"; do
    # Processes started in our namespaces (coturn, test peers) are ours.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -TERM "$pid" 2>/dev/null || true
    done
  done
  for ns in "${left[@]}"; do
    local i
    for ((i = 0; i < 30; i++)); do # bounded: 3 s, then SIGKILL
      [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
      sleep 0.1
    done
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns delete "$ns" 2>/dev/null || echo "netns.sh: could not delete $ns" >&2
  done
}

# Both routers drop all traffic to and from the other router's WAN address, so
# no host/srflx/prflx pair can work; the public host stays reachable.
cmd_block() {
  local prefix=$1 onoff=$2
  names "$prefix"
  local r other
  for r in a b; do
    if [ $r = a ]; then ns=$NS_RA other=$RB_WAN; else ns=$NS_RB other=$RA_WAN; fi
    in_ns "$ns" iptables -F "$BLOCK_CHAIN"
    if [ "$onoff" = on ]; then
      # The chain is hooked into FORWARD and INPUT.
      in_ns "$ns" iptables -A "$BLOCK_CHAIN" -d "$other" -j DROP
      in_ns "$ns" iptables -A "$BLOCK_CHAIN" -s "$other" -j DROP
    fi
  done
}

cmd_dropped() {
  local prefix=$1 n=0 ns c
  names "$prefix"
  for ns in "$NS_RA" "$NS_RB"; do
    for c in $(in_ns "$ns" iptables -L "$BLOCK_CHAIN" -n -v -x | awk '$3 == "DROP" {print $1}'); do
      n=$((n + c))
    done
  done
  echo "$n"
}

cmd_netem() {
  local prefix=$1 which=$2
  shift 2
  names "$prefix"
  local -a targets=()
  case "$which" in
  a) targets=("$NS_RA") ;;
  b) targets=("$NS_RB") ;;
  both) targets=("$NS_RA" "$NS_RB") ;;
  *) die "netem: a, b or both" ;;
  esac
  [ $# -gt 0 ] || die "netem: 'off' or netem arguments expected"
  local ns
  for ns in "${targets[@]}"; do
    if [ "$1" = off ]; then
      in_ns "$ns" tc qdisc del dev wan root 2>/dev/null || true
    elif ! in_ns "$ns" tc qdisc replace dev wan root netem "$@"; then
      die "netem: tc refused 'netem $*' in $ns (is the sch_netem kernel module available?)"
    fi
  done
}

cmd_env() {
  names "$1"
  cat <<EOF
NS_PUB=$NS_PUB
NS_RA=$NS_RA
NS_RB=$NS_RB
NS_HA=$NS_HA
NS_HB=$NS_HB
PUB_IP=$PUB_IP
RA_WAN=$RA_WAN
RB_WAN=$RB_WAN
HA_IP=$HA_IP
HB_IP=$HB_IP
EOF
}

# veth between two namespaces, created inside the first (never in the host's).
veth() {
  local ns1=$1 if1=$2 ns2=$3 if2=$4
  ip -n "$ns1" link add name "$if1" type veth peer name "$if2" netns "$ns2"
}

router() {
  local ns=$1 wan_ip=$2 lan_ip=$3 lan_len=$4 nat=$5
  ip -n "$ns" addr add "$wan_ip/$WAN_PREFIXLEN" dev wan
  ip -n "$ns" addr add "$lan_ip/$lan_len" dev lan
  ip -n "$ns" link set wan up
  ip -n "$ns" link set lan up
  # The "internet" is 203.0.113.0/24, on link; anything else (e.g. the other
  # home's private address in a host candidate) is silently lost, as it
  # would be out there (the router forwards into a blackhole, no ICMP).
  ip -n "$ns" route add blackhole default
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$ns" iptables -N "$BLOCK_CHAIN"
  in_ns "$ns" iptables -I FORWARD 1 -j "$BLOCK_CHAIN"
  in_ns "$ns" iptables -I INPUT 1 -j "$BLOCK_CHAIN"
  # A home router's firewall: nothing unsolicited from the WAN. Dropping in
  # filter also keeps such packets from leaving a conntrack entry behind,
  # which would make MASQUERADE pick another port for the hole punching
  # that follows (Linux then behaves like a symmetric NAT).
  in_ns "$ns" iptables -A INPUT -i wan -m conntrack --ctstate NEW,INVALID -j DROP
  in_ns "$ns" iptables -A FORWARD -i wan -m conntrack --ctstate NEW,INVALID -j DROP
  if [ "$nat" = symmetric ]; then
    # A new random port per destination: srflx candidates do not work for peers.
    in_ns "$ns" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE --random-fully
  else
    in_ns "$ns" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
  fi
}

home() {
  local ns=$1 ip=$2 len=$3 gw=$4
  ip -n "$ns" addr add "$ip/$len" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$gw"
}

up_failed() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "netns.sh: up failed, removing namespaces" >&2
    cmd_down "$UP_PREFIX"
  fi
}

cmd_up() {
  local prefix=$1
  shift
  local block=off nat=cone
  while [ $# -gt 0 ]; do
    case "$1" in
    --block-direct) block=on ;;
    --nat)
      [ $# -ge 2 ] || die "--nat needs cone or symmetric"
      nat=$2
      shift
      ;;
    *) die "up: unknown option '$1'" ;;
    esac
    shift
  done
  case "$nat" in cone | symmetric) ;; *) die "--nat: cone or symmetric, not '$nat'" ;; esac
  command -v iptables >/dev/null || die "iptables not found"
  names "$prefix"
  local -a clash
  mapfile -t clash < <(existing "$prefix")
  [ "${#clash[@]}" -eq 0 ] ||
    die "namespace '${clash[0]}' already exists: refusing to reuse prefix '$prefix'"

  # From here on, a failure removes what was built.
  UP_PREFIX=$prefix
  trap up_failed EXIT
  local ns
  for ns in "${ALL_NS[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  # The public segment: a bridge in the public namespace joins coturn's
  # address and both routers' WAN ports (no IP forwarding there).
  ip -n "$NS_PUB" link add name br0 type bridge
  veth "$NS_RA" wan "$NS_PUB" pa
  veth "$NS_RB" wan "$NS_PUB" pb
  veth "$NS_HA" eth0 "$NS_RA" lan
  veth "$NS_HB" eth0 "$NS_RB" lan
  ip -n "$NS_PUB" link set pa master br0
  ip -n "$NS_PUB" link set pb master br0
  ip -n "$NS_PUB" addr add "$PUB_IP/$WAN_PREFIXLEN" dev br0
  ip -n "$NS_PUB" link set pa up
  ip -n "$NS_PUB" link set pb up
  ip -n "$NS_PUB" link set br0 up
  # The rest of the internet for coturn: a next hop that no one answers for
  # (a static neighbour entry, so no ARP), which silently loses what it gets.
  # A blackhole route would fail coturn's sends with EINVAL, no route with
  # ENETUNREACH, and coturn closes an allocation on such errors.
  ip -n "$NS_PUB" neigh add "$VOID_IP" lladdr "$VOID_MAC" dev br0 nud permanent
  ip -n "$NS_PUB" route add default via "$VOID_IP" dev br0
  router "$NS_RA" "$RA_WAN" "$RA_LAN" "$LAN_A_PREFIXLEN" "$nat"
  router "$NS_RB" "$RB_WAN" "$RB_LAN" "$LAN_B_PREFIXLEN" "$nat"
  home "$NS_HA" "$HA_IP" "$LAN_A_PREFIXLEN" "$RA_LAN"
  home "$NS_HB" "$HB_IP" "$LAN_B_PREFIXLEN" "$RB_LAN"
  cmd_block "$prefix" "$block"

  # Reachability across the NAT is checked by the caller once a server runs
  # (run-nat-test.sh asks coturn for the mapped address of each home).
  trap - EXIT
  local what=allowed
  [ "$block" = on ] && what=blocked
  echo "netns.sh: up: ${ALL_NS[*]} (nat $nat, direct paths $what)"
}

[ $# -ge 2 ] || die "usage: netns.sh up|down|block|dropped|netem|env PREFIX ... (see the header)"
sub=$1
prefix=$2
shift 2
check_prefix "$prefix"
case "$sub" in
env) cmd_env "$prefix" ;;
up)
  check_env
  cmd_up "$prefix" "$@"
  ;;
down)
  check_env
  cmd_down "$prefix"
  ;;
block)
  check_env
  [ "${1:-}" = on ] || [ "${1:-}" = off ] || die "block: on or off"
  cmd_block "$prefix" "$1"
  ;;
dropped)
  check_env
  cmd_dropped "$prefix"
  ;;
netem)
  check_env
  cmd_netem "$prefix" "$@"
  ;;
*) die "unknown subcommand '$sub'" ;;
esac
