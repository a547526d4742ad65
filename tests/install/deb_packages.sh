#!/usr/bin/env bash
# install.deb: builds the Debian packages of a build (cpack -G DEB, cmake/MlPackage.cmake) into a
# scratch directory and checks them without installing anything on the machine:
#   1. libmemberlist0 holds the shared library and nothing else; libmemberlist-dev holds the
#      headers, libmemberlist.a, the .so link, the pkg-config and CMake files, ml_example and the
#      docs, and depends on libmemberlist0 of the same version;
#   2. both are unpacked (dpkg-deb -x) into a scratch root, and consumer.c is built against that
#      tree only (its memberlist.pc with prefix redefined to <root>/usr), shared and static, and
#      run; the unpacked ml_example starts (its rpath is relative).
# Usage: deb_packages.sh <build dir> <C compiler>
set -euo pipefail
build=$1
cc=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ml-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# (Checks read a command's whole output before grep -q: on a pipe, grep -q's early exit can kill
# the writer with SIGPIPE, which pipefail reports as a failure.)
fail() { echo "install.deb: FAIL: $*" >&2; exit 1; }
unset LD_LIBRARY_PATH

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkgs" > "$tmp/cpack.log" 2>&1 \
  || { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in CPackConfig.cmake"
runtime=$(find "$tmp/pkgs" -maxdepth 1 -name "libmemberlist0_${version}-*_*.deb")
dev=$(find "$tmp/pkgs" -maxdepth 1 -name "libmemberlist-dev_${version}-*_*.deb")
[ -f "$runtime" ] || fail "no libmemberlist0 package: $(ls "$tmp/pkgs")"
[ -f "$dev" ] || fail "no libmemberlist-dev package: $(ls "$tmp/pkgs")"

# 1. Contents and control fields.
dpkg-deb -c "$runtime" | awk '{ print $6 }' | grep -v '/$' | sort > "$tmp/runtime.list"
dpkg-deb -c "$dev" | awk '{ print $6 }' | grep -v '/$' | sort > "$tmp/dev.list"
expect_runtime="./usr/lib/libmemberlist.so.0
./usr/lib/libmemberlist.so.$version"
[ "$(cat "$tmp/runtime.list")" = "$expect_runtime" ] \
  || fail "libmemberlist0 holds: $(tr '\n' ' ' < "$tmp/runtime.list")"
for f in ./usr/include/memberlist/memberlist.h ./usr/include/memberlist.hpp ./usr/lib/libmemberlist.a \
         ./usr/lib/libmemberlist.so ./usr/lib/pkgconfig/memberlist.pc ./usr/lib/pkgconfig/memberlist-static.pc \
         ./usr/lib/cmake/memberlist/memberlistConfig.cmake ./usr/lib/cmake/memberlist/memberlistTargets.cmake \
         ./usr/bin/ml_example ./usr/share/doc/libmemberlist/c-api.md ./usr/share/doc/libmemberlist/README.md; do
  grep -qxF "$f" "$tmp/dev.list" || fail "libmemberlist-dev lacks $f"
done
if grep -q 'libmemberlist\.so\.' "$tmp/dev.list"; then fail "libmemberlist-dev also holds the runtime library"; fi
[ "$(dpkg-deb -f "$runtime" Package)" = libmemberlist0 ] || fail "runtime package name"
[ "$(dpkg-deb -f "$dev" Package)" = libmemberlist-dev ] || fail "dev package name"
grep -q 'libuv1' <<< "$(dpkg-deb -f "$runtime" Depends)" || fail "libmemberlist0 does not depend on libuv1: $(dpkg-deb -f "$runtime" Depends)"
grep -qF "libmemberlist0 (= $version-" <<< "$(dpkg-deb -f "$dev" Depends)" \
  || fail "libmemberlist-dev does not depend on libmemberlist0 $version: $(dpkg-deb -f "$dev" Depends)"

# 2. Unpacked into a scratch root, used from there.
root=$tmp/root
dpkg-deb -x "$runtime" "$root"
dpkg-deb -x "$dev" "$root"
export PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig PKG_CONFIG_PATH=$root/usr/lib/pkgconfig
[ "$(pkg-config --variable=prefix memberlist)" = /usr ] || fail "memberlist.pc's prefix is not /usr"
pc() { pkg-config --define-variable=prefix="$root/usr" "$@"; }
libdir=$(pc --variable=libdir memberlist)
[ "$libdir" = "$root/usr/lib" ] || fail "libdir $libdir"

check_run() {
  local out
  out=$("$2") || fail "$1: the consumer exited $?"
  grep -Eq '^node install-consumer on 127\.0\.0\.1:[1-9][0-9]*, 1 member\(s\), libmemberlist ' <<< "$out" \
    || fail "$1: unexpected output: $out"
  echo "$1: $out"
}
# shellcheck disable=SC2046  # pkg-config's flags are meant to be split
"$cc" -std=c99 -Wall -Wextra -pedantic -Werror "$here/consumer.c" -o "$tmp/consumer-shared" \
  $(pc --cflags --libs memberlist) -Wl,-rpath,"$libdir"
grep -qF "libmemberlist.so.0 => $libdir/libmemberlist.so.0 " <<< "$(ldd "$tmp/consumer-shared")" \
  || fail "consumer-shared does not load the unpacked library: $(ldd "$tmp/consumer-shared" | grep memberlist)"
check_run deb-shared "$tmp/consumer-shared"
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -pedantic -Werror "$here/consumer.c" -o "$tmp/consumer-static" \
  $(pc --cflags --libs memberlist-static)
if grep -q 'NEEDED.*libmemberlist' <<< "$(readelf -d "$tmp/consumer-static")"; then
  fail "consumer-static still needs libmemberlist.so"
fi
check_run deb-static "$tmp/consumer-static"

rc=0
"$root/usr/bin/ml_example" > /dev/null 2> "$tmp/example.err" || rc=$?
[ "$rc" = 2 ] && grep -q '^usage:' "$tmp/example.err" || fail "ml_example exited $rc: $(cat "$tmp/example.err")"
echo "install.deb: ok ($(basename "$runtime"), $(basename "$dev"))"
