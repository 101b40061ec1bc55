#!/usr/bin/env bash
# compare_rate — mentorlink's bench_rate.sh and the libwebrtc anchor rig
# (../shared/bench/webrtc-anchor/run.sh, Chromium) one after the other on
# the same machine, the same phases and the same shaped link, then one table:
# per phase and column, mentorlink's figure, the anchor's and their ratio
# (mentorlink / anchor). Columns, measured at bob (alice's media): decoded fps,
# median frame height, audio concealed %, RTT ms, seconds frozen (higher is
# better for the first two, lower for the next three), kbps received. The
# anchor runs with --video smpte (the same picture as mentorlink's test
# source). A benchmark, not a test: it asserts nothing; both rigs need root.
#
# usage: compare_rate.sh --mentorlink BIN --signal BIN --anchor DIR
#                        [--delayer BIN] [--phases "SPEC:S ..."] [--keep]
#   --anchor   a writable copy of the anchor rig with `npm install` done in
#              it (its README: Chromium, libnetfilter-queue-dev, node)
#   --delayer  build/tests/bench/nfq_delay, for delayN phases
#   --phases   as bench_rate.sh (default: its default, the issue's first table)
#   --keep     keep both rigs' output (the directory is printed)
# Run it under `flock /tmp/ml-rt.lock` on a shared machine.
# shellcheck disable=SC2015 # "A && B || fail": fail when A or B is false
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
phases="clean:20 cap500:40 cap150:40 cap64:30 loss10:30 clean:20"
ml_bin=
signal_bin=
anchor=
delayer=
keep=0
fail() {
  echo "compare_rate: FAIL: $*" >&2
  exit 1
}
while [ $# -gt 0 ]; do
  case "$1" in
  --mentorlink) ml_bin=${2:-}; shift ;;
  --signal) signal_bin=${2:-}; shift ;;
  --anchor) anchor=${2:-}; shift ;;
  --delayer) delayer=${2:-}; shift ;;
  --phases) phases=${2:-}; shift ;;
  --keep) keep=1 ;;
  *) fail "unknown argument '$1' (see the header of $0)" ;;
  esac
  shift
done
[ -x "$anchor/run.sh" ] || fail "--anchor: a copy of the anchor rig (run.sh) is required"
[ -f "$anchor/node_modules/ws/package.json" ] || fail "--anchor: run 'npm install' in $anchor first"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare-rate.XXXXXX")
chmod 700 "$tmp"
cleanup() {
  local status=$?
  if [ "$keep" = 1 ] || [ "$status" -ne 0 ]; then
    echo "compare_rate: output kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT

ours=(--mentorlink "$ml_bin" --signal "$signal_bin" --phases "$phases" --summary "$tmp/ours.tsv")
[ -z "$delayer" ] || ours+=(--delayer "$delayer")
echo "compare_rate: mentorlink (bench_rate.sh), phases: $phases" >&2
"$HERE/bench_rate.sh" "${ours[@]}" >"$tmp/ours.txt" 2>"$tmp/ours.log" ||
  fail "bench_rate.sh failed (see $tmp/ours.log)"
echo "compare_rate: the anchor (Chromium, run.sh --video smpte)" >&2
# --keep: should it fail late (on a loaded machine its browsers may outlive
# their time limit), the phases it completed are still summarised.
anchor_ok=1
"$anchor/run.sh" --video smpte --keep --phases "$phases" >"$tmp/anchor.txt" 2>"$tmp/anchor.log" ||
  anchor_ok=0
anchor_dir=$(sed -n 's/^webrtc-anchor: files kept in //p' "$tmp/anchor.log" | tail -n 1)
if [ "$anchor_ok" = 0 ]; then
  [ -n "$anchor_dir" ] && [ -s "$anchor_dir/phases.tsv" ] ||
    fail "the anchor's run.sh failed (see $tmp/anchor.log)"
  echo "compare_rate: WARNING: the anchor's run.sh failed (see $tmp/anchor.log);" \
    "its completed phases from $anchor_dir" >&2
  node "$anchor/summary.js" "$anchor_dir" >>"$tmp/anchor.txt"
fi
[ -z "$anchor_dir" ] || [ "$keep" = 1 ] || rm -rf "$anchor_dir"

# The anchor's per-phase table (summary.js): the lines after its header, by
# column name, as the same TSV as bench_rate.sh --summary.
awk '/^phase +secs +fps/ { for (i = 1; i <= NF; i++) col[$i] = i; on = 1
                           print "phase\tsecs\tfps\theight\tconc_pct\trtt_ms\tfrozen_s\tkbps"; next }
     on && NF == 0 { exit }
     on { print $1 "\t" $col["secs"] "\t" $col["fps"] "\t" $col["height"] "\t" $col["conc%"] "\t" \
                $col["rtt_ms"] "\t" $col["freeze_s"] "\t" $col["rx_kbps"] }' \
  "$tmp/anchor.txt" >"$tmp/anchor.tsv"
[ "$(wc -l <"$tmp/anchor.tsv")" -gt 1 ] || fail "no per-phase table in the anchor's output"

echo "per phase, at bob: mentorlink | anchor (Chromium) | ratio mentorlink/anchor;" \
  "fps and height: higher is better; conc%, RTT and frozen: lower is better"
awk -F '\t' '
  function ratio(a, b) { return (a == "-" || b == "-" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
  NR == FNR { if (FNR > 1) for (c = 1; c <= 8; c++) an[FNR, c] = $c; next }
  FNR == 1 { printf "%-22s | %-17s | %-17s | %-17s | %-17s | %-17s | %-17s\n", "phase (s)", "fps",
               "height", "conc%", "rtt_ms", "frozen_s", "kbps"; next }
  { phase = $1 " (" $2 ")"
    if (an[FNR, 1] != $1) phase = phase "!=" an[FNR, 1]
    printf "%-22s", phase
    for (c = 3; c <= 8; c++) {
      a = (FNR, c) in an ? an[FNR, c] : "-"
      printf " | %5s %5s %5s", $c, a, ratio($c, a)
    }
    printf "\n" }' "$tmp/anchor.tsv" "$tmp/ours.tsv"
