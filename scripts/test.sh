#!/usr/bin/env bash
# Runs every test suite of libmemberlist on this machine: installs missing system packages,
# builds, and runs CTest three times: the C/C++ suites under AddressSanitizer + UBSan, the
# threaded suites (core/net, C API) under ThreadSanitizer, then the full suite (C/C++, Go,
# vectors, fuzz corpora) in a normal build. The last lines printed are CTest's summary of the
# full suite. Exit status is non-zero if anything failed.
#
#   ML_TEST_SANITIZERS=0  skip the ASan+UBSan pass
#   ML_TEST_TSAN=0        skip the ThreadSanitizer pass
#   ML_TEST_JOBS=N        parallel build/test jobs (default: nproc)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${ML_TEST_JOBS:-$(nproc)}
export GOTOOLCHAIN=local
export PATH="$PATH:/usr/local/go/bin"

bash "$root/scripts/setup.sh"

# Every part on, and a missing tool is a configure error rather than a part quietly skipped.
configure_and_build() {
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -G Ninja -DML_REQUIRE_ALL=ON -DML_BUILD_TESTS=ON "$@" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j "$jobs"
}

status=0
if [ "${ML_TEST_SANITIZERS:-1}" != 0 ]; then
  echo "== sanitizer build (address;undefined)"
  configure_and_build "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DML_SANITIZE='address;undefined' \
    -DML_BUILD_GO=OFF -DML_BUILD_JAVA=OFF -DML_BUILD_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs" || status=1
fi

if [ "${ML_TEST_TSAN:-1}" != 0 ]; then
  echo "== ThreadSanitizer build (the suites with threads: core/net, the C API)"
  configure_and_build "$root/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DML_SANITIZE=thread \
    -DML_BUILD_GO=OFF -DML_BUILD_JAVA=OFF -DML_BUILD_BENCH=OFF
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir "$root/build-tsan" --output-on-failure -j "$jobs" -L 'net|capi' || status=1
fi

echo "== full suite"
configure_and_build "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DML_BUILD_GO=ON -DML_BUILD_JAVA=ON -DML_BUILD_BENCH=ON
ctest --test-dir "$root/build" --output-on-failure -j "$jobs" || status=1
exit $status
