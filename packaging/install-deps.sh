#!/usr/bin/env bash
# Installs every build and test dependency of mentorlink from Debian 12's
# packages. Idempotent and non-interactive; run as root.
#
#   packaging/install-deps.sh           build + test dependencies
#   ML_DEPS_QUIET=1 packaging/install-deps.sh   less apt output
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root (apt-get install)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential cmake pkg-config git clang llvm libclang-rt-14-dev
  clang-format clang-tidy cppcheck
  # common/: crypto core and unit tests
  libsodium-dev libcmocka-dev
  # signaling/ and engine glue
  libglib2.0-dev libjson-glib-dev libsoup-3.0-dev
  # signaling/: the Redis backend (hiredis) and its tests (redis-server)
  libhiredis-dev redis-server
  # engine: ICE and media
  libnice-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-nice gstreamer1.0-tools
  # UI
  libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core
  # rooms on the LAN (DNS-SD): host announces, join --discover lists; the
  # daemons for tests/nat/run-lan-discover.sh
  libavahi-client-dev libavahi-glib-dev avahi-daemon dbus-daemon dbus-bin
  # tests: TURN relay, interop peer, benchmark baseline, captures
  coturn nodejs npm libsrtp2-dev tshark iproute2 iptables xvfb
  # tests/nat: TURN REST credentials (openssl), JSON results (jq)
  openssl jq
  # packaging/dev.sh package: the Debian packages, their checks
  debhelper dpkg-dev lintian man-db systemd desktop-file-utils
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# A machine that already has Node.js from elsewhere keeps it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# coturn's package starts a system-wide daemon; the tests start their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet coturn 2>/dev/null; then
  systemctl stop coturn || true
fi
echo "install-deps: done"
