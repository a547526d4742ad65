#!/usr/bin/env bash
# install.deb: builds the Debian packages of a build (cpack -G DEB, cmake/MlPackage.cmake) into a
# scratch directory and checks them without installing anything on the machine:
#   1. libmemberlist0 holds the shared library and nothing else; libmemberlist-dev holds the
#      headers, libmemberlist.a, the .so link, the pkg-config and CMake files, ml_example and the
#      docs, and depends on libmemberlist0 of the same version;
#   2. both are unpacked (dpkg-deb -x) into a scratch root, and consumer.c is built against that
#      tree only (its memberlist.pc with prefix redefined to <root>/usr), shared and static, and
#      run; the unpacked ml_example starts (its rpath is relative);
#   3. when the build has the CLI (ML_BUILD_GO): memberlist-agent holds /usr/bin/memberlist, the
#      systemd unit and the conffile /etc/memberlist/agent.json, does not depend on
#      libmemberlist0; the unit passes `systemd-analyze verify` (skipped without systemd-analyze);
#      the unpacked memberlist needs no libmemberlist.so, prints its help, and runs an agent from
#      the unpacked sample configuration that leaves and exits 0 on SIGTERM.
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

# 3. The agent package, when the build has the CLI (CPACK_COMPONENTS_ALL lists agent).
if ! grep -q '^set(CPACK_COMPONENTS_ALL .*agent' "$build/CPackConfig.cmake"; then
  echo "install.deb: ok ($(basename "$runtime"), $(basename "$dev"); no memberlist-agent: ML_BUILD_GO is off)"
  exit 0
fi
agent=$(find "$tmp/pkgs" -maxdepth 1 -name "memberlist-agent_${version}-*_*.deb")
[ -f "$agent" ] || fail "no memberlist-agent package: $(ls "$tmp/pkgs")"
dpkg-deb -c "$agent" | awk '{ print $6 }' | grep -v '/$' | sort > "$tmp/agent.list"
expect_agent="./etc/memberlist/agent.json
./lib/systemd/system/memberlist-agent.service
./usr/bin/memberlist"
[ "$(cat "$tmp/agent.list")" = "$expect_agent" ] || fail "memberlist-agent holds: $(tr '\n' ' ' < "$tmp/agent.list")"
[ "$(dpkg-deb -f "$agent" Package)" = memberlist-agent ] || fail "agent package name"
agent_depends=$(dpkg-deb -f "$agent" Depends)
grep -q 'libuv1' <<< "$agent_depends" || fail "memberlist-agent does not depend on libuv1: $agent_depends"
if grep -q 'libmemberlist' <<< "$agent_depends"; then fail "memberlist-agent depends on libmemberlist: $agent_depends"; fi
mkdir "$tmp/agent-control"
dpkg-deb -e "$agent" "$tmp/agent-control"
[ "$(cat "$tmp/agent-control/conffiles" 2>/dev/null)" = /etc/memberlist/agent.json ] \
  || fail "memberlist-agent's conffiles: $(cat "$tmp/agent-control/conffiles" 2>&1)"
dpkg-deb -x "$agent" "$root"
unit=$root/lib/systemd/system/memberlist-agent.service
grep -qxF 'ExecStart=/usr/bin/memberlist agent --config /etc/memberlist/agent.json' "$unit" || fail "the unit's ExecStart"
for line in DynamicUser=yes Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict WantedBy=multi-user.target; do
  grep -qxF "$line" "$unit" || fail "the unit lacks $line"
done
# systemd-analyze checks the program named by ExecStart: a copy of the unit runs the unpacked one.
# It only warns (exit 0) about an unknown key or section, so any output is a failure.
if command -v systemd-analyze > /dev/null; then
  mkdir "$tmp/unit"
  sed "s#^ExecStart=/usr/bin/memberlist #ExecStart=$root/usr/bin/memberlist #" "$unit" > "$tmp/unit/memberlist-agent.service"
  verify_rc=0
  verify_out=$(systemd-analyze verify --man=no "$tmp/unit/memberlist-agent.service" 2>&1) || verify_rc=$?
  [ "$verify_rc" = 0 ] && [ -z "$verify_out" ] || fail "systemd-analyze verify (exit $verify_rc): $verify_out"
  echo "deb-agent: systemd-analyze verify: clean"
else
  echo "deb-agent: systemd-analyze not found, the unit is not verified"
fi
cli=$root/usr/bin/memberlist
if grep -q 'NEEDED.*libmemberlist\|RPATH\|RUNPATH' <<< "$(readelf -d "$cli")"; then
  fail "the packaged memberlist needs libmemberlist.so or a run-time path: $(readelf -d "$cli" | grep -E 'NEEDED|PATH')"
fi
help=$("$cli" --help) || fail "memberlist --help exited $?"
grep -q '^memberlist runs a cluster membership agent' <<< "$help" || fail "memberlist --help printed: $help"
# The sample configuration, unpacked, starts an agent (gossip and HTTP on loopback, free ports):
# its first JSON line is the "agent" event; SIGTERM makes it leave and exit 0.
"$cli" agent --config "$root/etc/memberlist/agent.json" --name deb-agent --bind 127.0.0.1:0 --http 127.0.0.1:0 \
  > "$tmp/agent.out" 2> "$tmp/agent.err" &
agent_pid=$!
for _ in $(seq 300); do  # up to 30 s for the first line, polled
  grep -q '"event":"agent"' "$tmp/agent.out" && break
  kill -0 "$agent_pid" 2> /dev/null || break
  sleep 0.1
done
grep -q '"event":"agent"' "$tmp/agent.out" || { kill "$agent_pid" 2> /dev/null || true
  fail "the agent from the sample configuration did not start: $(cat "$tmp/agent.out" "$tmp/agent.err")"; }
kill -TERM "$agent_pid"
agent_rc=0
wait "$agent_pid" || agent_rc=$?
[ "$agent_rc" = 0 ] || fail "the agent exited $agent_rc on SIGTERM: $(cat "$tmp/agent.out" "$tmp/agent.err")"
grep -q '"event":"left"' "$tmp/agent.out" || fail "the agent did not report leaving: $(cat "$tmp/agent.out")"
echo "deb-agent: $(head -1 "$tmp/agent.out")"
echo "install.deb: ok ($(basename "$runtime"), $(basename "$dev"), $(basename "$agent"))"
