#!/usr/bin/env bash
# nat.lan_discover: a clinic LAN with no IT. Two network namespaces joined by
# a veth pair (192.0.2.1 and 192.0.2.2, a documentation range), each with its
# own D-Bus system bus and Avahi daemon (as two machines have). In the first,
# `mentorlink host` starts a room, which it announces over mDNS; in the
# second, `mentorlink join --discover` must list that room with its link,
# heard over the wire, and a join from that link makes a secure call with the
# host. mDNS stays inside the two namespaces: each Avahi daemon may use only
# its veth end.
#
# usage: run-lan-discover.sh --mentorlink PATH [--keep]
#
# Without root or `ip netns` it exits 77 (ctest: skipped); without
# avahi-daemon or dbus-daemon it fails saying so. Everything it starts is
# stopped by pid, and the namespaces are removed, on exit. Every wait is
# bounded and polls for what it waits for.
set -euo pipefail

BUDGET_S=80 # every wait ends by then (plus cleanup): under ctest's TIMEOUT of 100
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib-nat.sh"
nat_init nat.lan_discover

while [ $# -gt 0 ]; do
  case "$1" in
  --mentorlink) ml_bin=${2:-}; shift ;;
  --keep) keep=1 ;;
  *) fail "unknown argument '$1' (see the header of $0)" ;;
  esac
  shift
done

need_root_netns skip
need_tools avahi-daemon dbus-daemon dbus-send timeout
need_exec "$ml_bin" "--mentorlink: the mentorlink binary"

nat_tmpdir ml-lan
chmod 755 "$tmp" # the daemons drop to their own users and reach their sockets here
daemons=()
cleanup_hook() { [ "${#daemons[@]}" -eq 0 ] || stop_pids "${daemons[@]}"; }
nat_traps

A=ml-$$-lana
B=ml-$$-lanb
ns_add "$A"
ns_add "$B"
ip -n "$A" link add mlA type veth peer name mlB netns "$B"
ip -n "$A" addr add 192.0.2.1/24 dev mlA
ip -n "$B" addr add 192.0.2.2/24 dev mlB
ip -n "$A" link set mlA up
ip -n "$B" link set mlB up

# has_avahi TAG: the Avahi daemon of TAG owns its name on TAG's bus.
has_avahi() {
  env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/bus-$1" dbus-send --system --print-reply \
    --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.Avahi 2>/dev/null | grep -q 'boolean true'
}

# lan_start NS TAG IFACE: a system bus and an Avahi daemon for NS, as a
# machine of its own has. The bus listens in $tmp (DBUS_SYSTEM_BUS_ADDRESS
# points the clients there); Avahi's /run is a tmpfs of its own inside the
# mount namespace `ip netns exec` makes, so the two daemons (and one the
# machine may run) do not meet.
lan_start() {
  local ns=$1 tag=$2 iface=$3 bus=unix:path=$tmp/bus-$2
  ip netns exec "$ns" dbus-daemon --config-file=/usr/share/dbus-1/system.conf \
    --address="$bus" --nofork --nopidfile >"$tmp/dbus-$tag.log" 2>&1 &
  daemons+=($!)
  cat >"$tmp/avahi-$tag.conf" <<EOF
[server]
host-name=mentorlink-$tag
use-ipv4=yes
use-ipv6=no
allow-interfaces=$iface
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
EOF
  wait_until 10 "D-Bus system bus of $tag" test -S "$tmp/bus-$tag"
  # shellcheck disable=SC2016 # $1 is the inner shell's
  DBUS_SYSTEM_BUS_ADDRESS=$bus ip netns exec "$ns" sh -c \
    'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir /run/avahi-daemon &&
     exec avahi-daemon --no-chroot --no-drop-root --no-rlimits -f "$1"' \
    sh "$tmp/avahi-$tag.conf" >"$tmp/avahi-$tag.log" 2>&1 &
  daemons+=($!)
  wait_until 10 "Avahi on the bus of $tag" has_avahi "$tag"
}

say "two machines on one LAN, each with D-Bus and Avahi"
lan_start "$A" a mlA
lan_start "$B" b mlB

say "the mentor starts a room with mentorlink host on 192.0.2.1"
mkdir -m 700 "$tmp/data-host" "$tmp/data-guest"
env -u MENTORLINK_ROOM_SECRET XDG_DATA_HOME="$tmp/data-host" \
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/bus-a" timeout -k 3 60 ip netns exec "$A" \
  "$ml_bin" host --room clinic --name Mentor --listen 192.0.2.1:0 --admit-all --headless \
  --video-source test --audio-source test --local-address 192.0.2.1 --duration 40 \
  >"$tmp/host.log" 2>&1 &
peer_pid[host]=$!
wait_until 20 "announcement by the host" grep -q 'announced on the LAN: others find' "$tmp/host.log"

say "the mentee lists the rooms on the other machine"
discovered() {
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/bus-b" ip netns exec "$B" \
    "$ml_bin" join --discover >"$tmp/discover.log" 2>&1 &&
    grep -q "^  clinic at 192.0.2.1:" "$tmp/discover.log"
}
wait_until 25 "room clinic in mentorlink join --discover on the other machine" discovered
link=$(sed -n "s/^  clinic at 192.0.2.1:[0-9]*: mentorlink join '\(.*\)'\$/\1/p" "$tmp/discover.log")
[[ "$link" == "mentorlink://join?server=ws://192.0.2.1:"*"/v1/ws&room=clinic" ]] ||
  fail "the link listed is not the room's: '$link'"
say "heard: $link"

say "the mentee joins from that link"
env -u MENTORLINK_ROOM_SECRET XDG_DATA_HOME="$tmp/data-guest" timeout -k 3 40 \
  ip netns exec "$B" "$ml_bin" join "$link" --name Mentee --headless --video-source test \
  --audio-source test --local-address 192.0.2.2 --duration 8 >"$tmp/guest.log" 2>&1 &
peer_pid[guest]=$!
reap guest
[ "${rc[guest]}" -eq 0 ] || fail "the mentee's join exited ${rc[guest]}"
grep -q "Mentor: end-to-end encrypted" "$tmp/guest.log" ||
  fail "the mentee's call with the mentor did not become secure"
grep -q "Mentee: end-to-end encrypted" "$tmp/host.log" ||
  fail "the host did not see the mentee secure"
say "ok: announced, discovered over mDNS on the other machine, joined, secure"
