#!/usr/bin/env bash
# The project's one entry point for building, testing and running, used by the
# README quick start and by CI. Installs its dependencies first (root only).
#
#   packaging/dev.sh demo        build, then run the main job (mentorlink demo)
#   packaging/dev.sh test        build, then run every test (ctest summary last)
#   packaging/dev.sh sanitize    clang ASan+UBSan build with the libFuzzer
#                                targets; run every test, each fuzzer for
#                                ML_FUZZ_SECONDS (default 60) as a test
#
# Build trees: build/ (tests, demo) and build-sanitize/ (sanitize).
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
*)
  echo "usage: $0 demo|test|sanitize" >&2
  exit 2
  ;;
esac
