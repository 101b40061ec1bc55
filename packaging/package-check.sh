#!/usr/bin/env bash
# Installs the Debian packages from DIR (packaging/dev.sh package made them),
# checks what they put on the machine, and purges them again, also when a
# check fails. Root only. Prints one line per check; exit 0 only if all pass.
#
#   packaging/package-check.sh [DIR]      default: build-deb
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-deb}

if [ "$(id -u)" -ne 0 ]; then
  echo "package-check: must run as root (installs packages)" >&2
  exit 1
fi
shopt -s nullglob
debs=("$dir"/mentorlink_*.deb "$dir"/mentorlink-signal_*.deb)
if [ "${#debs[@]}" -ne 2 ]; then
  echo "package-check: want one mentorlink and one mentorlink-signal .deb in $dir (packaging/dev.sh package)" >&2
  exit 1
fi
version=$(dpkg-parsechangelog -l debian/changelog -S Version)

failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    failed=1
  fi
}
purge() {
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -q mentorlink mentorlink-signal >/dev/null 2>&1 || true
}
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  purge
}
trap cleanup EXIT

purge
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debs[@]/#/./}" >/dev/null
check "both packages installed" dpkg-query -W mentorlink mentorlink-signal
check "mentorlink --version says $version" grep -qx "mentorlink $version" <(mentorlink --version)
check "mentorlink-signal --version says $version" \
  grep -qx "mentorlink-signal $version" <(mentorlink-signal --version)
check "man page mentorlink(1)" man -w 1 mentorlink
check "man page mentorlink-signal(8)" man -w 8 mentorlink-signal
check "desktop entry (opens mentorlink:// links)" \
  desktop-file-validate /usr/share/applications/mentorlink.desktop
check "the desktop entry handles mentorlink:// links" \
  grep -qx 'MimeType=x-scheme-handler/mentorlink;' /usr/share/applications/mentorlink.desktop
check "icon" test -s /usr/share/icons/hicolor/scalable/apps/mentorlink.svg
check "systemd-analyze verify mentorlink-signal.service" \
  systemd-analyze verify /lib/systemd/system/mentorlink-signal.service
check "system user mentorlink-signal" getent passwd mentorlink-signal
check "example config /etc/mentorlink/signal.conf.example" test -s /etc/mentorlink/signal.conf.example
check "coturn example" test -s /usr/share/doc/mentorlink-signal/examples/coturn-hospital.conf

# The installed daemon serves as its system user with the example config
# (open mode, loopback, port 0).
out=$(mktemp)
runuser -u mentorlink-signal -- mentorlink-signal --config /etc/mentorlink/signal.conf.example \
  --listen 127.0.0.1:0 --open >"$out" 2>/dev/null &
server=$!
port=
for _ in $(seq 1 50); do
  port=$(sed -n 's/^port=//p' "$out")
  [ -n "$port" ] && break
  sleep 0.1
done
healthz() {
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  timeout 5 cat <&3 | head -n 1 | grep -q ' 200 '
}
check "installed daemon answers /healthz as mentorlink-signal" healthz
kill -TERM "$server" && wait "$server" || true
server=
rm -f "$out"

purge
check "purged: no mentorlink binaries left" \
  test ! -e /usr/bin/mentorlink -a ! -e /usr/bin/mentorlink-signal
if [ "$failed" -ne 0 ]; then
  echo "package-check: some checks failed" >&2
  exit 1
fi
echo "package-check: all checks passed"
