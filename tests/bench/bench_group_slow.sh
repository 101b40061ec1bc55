#!/usr/bin/env bash
# bench_group_slow — a group call with one participant behind a slow link:
# does the weak one pull everybody's video down? test_group_call runs the
# embedded signaling server and N-1 `mentorlink join` processes in one
# network namespace, the last participant in a second one; the link between
# the two is capped both ways with tc tbf (burst 16kb latency 100ms, as
# bench_rate.sh's capN). Prints test_group_call's figures: the others among
# themselves, what the slow one gets and sends, and which layer the others
# send it (the small one, ml/media.h "Layers", once its link holds them back).
# A program, not a test: it asserts nothing and its figures depend on the
# machine (README, "A group call").
#
#   PREFIXf  the others   eth0 198.51.100.1/24   server, P1..P(N-1); tbf on eth0
#   PREFIXs  the slow one eth0 198.51.100.10/24  PN; tbf on eth0
#
# Documentation ranges only (RFC 5737); nothing outside the two namespaces
# this script creates is touched. Root and `ip netns` are required.
#
# usage: bench_group_slow.sh --group PATH [--parties N] [--size WxH]
#                            [--seconds S] [--kbps K] [--keep]
#   --group    the test_group_call binary (build/tests/integration/test_group_call)
#   --parties  2-9, default 4      --size     capture size, default 640x360
#   --seconds  10-120, default 60  --kbps     the slow link, 64-100000, default 300
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../nat
. "$HERE/../nat/lib-nat.sh"
SAY_FD=2
SAY_WIDTH=3
nat_init bench_group_slow

group_bin=
parties=4
size=640x360
seconds=60
kbps=300
while [ $# -gt 0 ]; do
  case "$1" in
  --group) group_bin=${2:-}; shift ;;
  --parties) parties=${2:-}; shift ;;
  --size) size=${2:-}; shift ;;
  --seconds) seconds=${2:-}; shift ;;
  --kbps) kbps=${2:-}; shift ;;
  --keep) keep=1 ;;
  *) fail "unknown argument '$1' (see the header of $0)" ;;
  esac
  shift
done
need_root_netns fail
need_tools tc timeout
need_exec "$group_bin" "--group: the test_group_call binary"
[[ "$parties" =~ ^[2-9]$ ]] || fail "--parties: 2-9, not '$parties'"
[[ "$size" =~ ^[0-9]{2,4}x[0-9]{2,4}$ ]] || fail "--size: WxH, not '$size'"
[[ "$seconds" =~ ^[0-9]{2,3}$ ]] && [ "$seconds" -le 120 ] || fail "--seconds: 10-120, not '$seconds'"
[[ "$kbps" =~ ^[0-9]{2,6}$ ]] && [ "$kbps" -ge 64 ] && [ "$kbps" -le 100000 ] ||
  fail "--kbps: 64-100000, not '$kbps'"

NS_F=ml-grp-$$-f
NS_S=ml-grp-$$-s
nat_tmpdir ml-bench-group
nat_traps
ns_add "$NS_F"
ns_add "$NS_S"
ip -n "$NS_F" link add eth0 type veth peer name eth0 netns "$NS_S"
ip -n "$NS_F" addr add 198.51.100.1/24 dev eth0
ip -n "$NS_S" addr add 198.51.100.10/24 dev eth0
ip -n "$NS_F" link set eth0 up
ip -n "$NS_S" link set eth0 up
for ns in "$NS_F" "$NS_S"; do
  ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "${kbps}kbit" burst 16kb latency 100ms ||
    fail "tc tbf is not available here"
done
say "$parties participants at $size for ${seconds}s; P$parties behind ${kbps} kbit/s each way"
timeout -k 5 $((seconds + 90)) ip netns exec "$NS_F" "$group_bin" "$parties" "$size" "$seconds" \
  bench slow 198.51.100.1 "$NS_S" 198.51.100.10 2>"$tmp/group.log"
