#!/usr/bin/env bash
# install.prefix: installs a build into a fresh temporary prefix, as README.md's "Build and install"
# section says, and uses only what was installed there:
#   1. the files are where they should be, and libmemberlist.a exports nothing but ml_*;
#   2. consumer.c, built with `pkg-config --cflags --libs memberlist` and an rpath, runs and
#      loads libmemberlist.so.0 from the prefix;
#   3. consumer.c, linked statically with `pkg-config --libs memberlist-static`, runs and needs no
#      libmemberlist.so at all; `pkg-config --static --libs memberlist` lists the same libraries;
#   4. consumer.c, through find_package(memberlist) and memberlist::memberlist_static, runs;
#   5. the installed ml_example starts without LD_LIBRARY_PATH (its rpath is relative).
# Usage: install_prefix.sh <build dir> <C compiler>
set -euo pipefail
build=$1
cc=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ml-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
# (Checks read a command's whole output before grep -q: on a pipe, grep -q's early exit can kill
# the writer with SIGPIPE, which pipefail reports as a failure.)
fail() { echo "install.prefix: FAIL: $*" >&2; exit 1; }
unset LD_LIBRARY_PATH

cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }

# Only the prefix's pkg-config files, never a system-wide memberlist.pc.
pcfile=$(find "$prefix" -name memberlist.pc -path '*/pkgconfig/*')
[ -n "$pcfile" ] || fail "no memberlist.pc under $prefix"
export PKG_CONFIG_PATH=$(dirname "$pcfile") PKG_CONFIG_LIBDIR=$(dirname "$pcfile")
[ "$(pkg-config --variable=prefix memberlist)" = "$prefix" ] || fail "memberlist.pc prefix is $(pkg-config --variable=prefix memberlist)"
libdir=$(pkg-config --variable=libdir memberlist)

# 1. The files.
for f in "$libdir/libmemberlist.so.0" "$libdir/libmemberlist.so" "$libdir/libmemberlist.a" \
         "$libdir/pkgconfig/memberlist-static.pc" "$libdir/cmake/memberlist/memberlistConfig.cmake" \
         "$prefix/include/memberlist/memberlist.h" "$prefix/include/memberlist.hpp" "$prefix/bin/ml_example" \
         "$prefix/share/doc/libmemberlist/c-api.md" "$prefix/share/doc/libmemberlist/config.md" \
         "$prefix/share/doc/libmemberlist/README.md" "$prefix/share/doc/libmemberlist/examples/ml_example.c"; do
  [ -e "$f" ] || fail "not installed: ${f#"$prefix"/}"
done
# GNU-unique symbols (nm type u: static locals of inline functions) cannot be made local by objcopy;
# they are one per process by design, so they are let through.
exported=$(nm -g --defined-only "$libdir/libmemberlist.a" | awk 'NF == 3 && $2 != "u" { print $3 }')
[ -n "$exported" ] || fail "libmemberlist.a defines no global symbol"
others=$(grep -v '^ml_' <<< "$exported" || true)
[ -z "$others" ] || fail "libmemberlist.a exports more than ml_*: $(head -5 <<< "$others" | tr '\n' ' ')"

check_run() {  # check_run <label> <program>: runs it and checks what it printed
  local out
  out=$("$2") || fail "$1: the consumer exited $?"
  grep -Eq '^node install-consumer on 127\.0\.0\.1:[1-9][0-9]*, 1 member\(s\), libmemberlist ' <<< "$out" \
    || fail "$1: unexpected output: $out"
  echo "$1: $out"
}

# 2. Shared, found through the rpath.
# shellcheck disable=SC2046  # pkg-config's flags are meant to be split
"$cc" -std=c99 -Wall -Wextra -pedantic -Werror "$here/consumer.c" -o "$tmp/consumer-shared" \
  $(pkg-config --cflags --libs memberlist) -Wl,-rpath,"$libdir"
grep -qF "libmemberlist.so.0 => $libdir/libmemberlist.so.0 " <<< "$(ldd "$tmp/consumer-shared")" \
  || fail "consumer-shared does not load the prefix's library: $(ldd "$tmp/consumer-shared" | grep memberlist)"
check_run shared "$tmp/consumer-shared"

# 3. Static: libmemberlist.a linked in, the system libraries shared.
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -pedantic -Werror "$here/consumer.c" -o "$tmp/consumer-static" \
  $(pkg-config --cflags --libs memberlist-static)
if grep -q 'NEEDED.*libmemberlist' <<< "$(readelf -d "$tmp/consumer-static")"; then
  fail "consumer-static still needs libmemberlist.so"
fi
check_run static "$tmp/consumer-static"
for l in -luv -lcrypto -lz -lstdc++ -lpthread -lm; do
  grep -q -- " $l " <<< " $(pkg-config --static --libs memberlist) " || fail "pkg-config --static --libs memberlist lacks $l"
  grep -q -- " $l " <<< " $(pkg-config --libs memberlist-static) " || fail "memberlist-static.pc lacks $l"
done

# 4. The CMake package's static target.
cmake -S "$here/cmake-consumer" -B "$tmp/cmake-consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  > "$tmp/cmake-consumer.log" 2>&1 && cmake --build "$tmp/cmake-consumer" >> "$tmp/cmake-consumer.log" 2>&1 \
  || { cat "$tmp/cmake-consumer.log"; fail "find_package(memberlist) with memberlist::memberlist_static"; }
if grep -q 'NEEDED.*libmemberlist' <<< "$(readelf -d "$tmp/cmake-consumer/consumer_static")"; then
  fail "memberlist::memberlist_static links libmemberlist.so"
fi
check_run cmake-static "$tmp/cmake-consumer/consumer_static"

# 5. The installed example: no arguments prints its usage and exits 2 (127 if it cannot load).
rc=0
"$prefix/bin/ml_example" > /dev/null 2> "$tmp/example.err" || rc=$?
[ "$rc" = 2 ] && grep -q '^usage:' "$tmp/example.err" || fail "ml_example exited $rc: $(cat "$tmp/example.err")"
echo "install.prefix: ok"
