#!/usr/bin/env bash
# The project's one entry point for building, testing and running, used by the
# README quick start and by CI. Installs its dependencies first (root only).
#
#   packaging/dev.sh demo        build, then run the main job (mentorlink demo)
#   packaging/dev.sh test        build, then run every test (ctest summary last)
#   packaging/dev.sh sanitize    clang ASan+UBSan build with the libFuzzer
#                                targets; run every test, each fuzzer for
#                                ML_FUZZ_SECONDS (default 60) as a test
#   packaging/dev.sh package     the Debian packages mentorlink and
#                                mentorlink-signal (dpkg-buildpackage) in
#                                build-deb/, checked by lintian
#   packaging/dev.sh package-check   install those packages on this machine,
#                                check them (--version, man pages, the unit,
#                                the system user), then purge them again
#
# Build trees: build/ (tests, demo), build-sanitize/ (sanitize) and
# build-deb/ (package: a copy of the tree, the .deb files beside it).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)

deps() {
  if [ "$(id -u)" -eq 0 ]; then
    packaging/install-deps.sh
  else
    echo "dev.sh: not root: skipping dependency installation (run as root on a fresh machine)"
  fi
}

build() { # build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -DML_WERROR=ON "$@"
  cmake --build "$dir" -j "$jobs"
}

case "${1:-}" in
demo)
  deps
  build build
  exec ./build/client/mentorlink demo
  ;;
test)
  deps
  build build
  # No -j: several tests start servers and measure rates; they run one at a time.
  ctest --test-dir build --output-on-failure
  ;;
sanitize)
  deps
  build build-sanitize -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DML_SANITIZE=ON \
    -DML_FUZZ=ON -DML_FUZZ_SECONDS="${ML_FUZZ_SECONDS:-60}"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure
  ;;
package)
  deps
  rm -rf build-deb
  mkdir -p build-deb/mentorlink
  # dpkg-buildpackage writes its results beside the source tree: build a copy.
  tar --exclude=./.git --exclude='./build*' -cf - . | tar -C build-deb/mentorlink -xf -
  (cd build-deb/mentorlink && DEB_BUILD_OPTIONS="parallel=$jobs" dpkg-buildpackage -us -uc -b)
  # Every tag lintian reports at warning level or above fails the build.
  lintian --fail-on warning --info build-deb/*.changes
  ls -l build-deb/*.deb
  ;;
package-check)
  exec packaging/package-check.sh build-deb
  ;;
*)
  echo "usage: $0 demo|test|sanitize|package|package-check" >&2
  exit 2
  ;;
esac
