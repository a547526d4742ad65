#!/usr/bin/env bash
# install.go: a Go program built against an installed prefix only, as go/README.md says.
# `cmake --install` into a fresh temporary prefix; the Go consumer (go-consumer/main.go, written
# for github.com/hashicorp/memberlist) gets a go.mod that replaces that module with a copy of the
# repository's go/ package (its non-test files) and is built with PKG_CONFIG_PATH (and
# PKG_CONFIG_LIBDIR) = <prefix>/lib/pkgconfig, nothing else:
#   1. -tags memberlist_static (memberlist-static.pc): libmemberlist.a linked in, no
#      libmemberlist.so needed (readelf, ldd); it runs;
#   2. the default (memberlist.pc) with CGO_LDFLAGS=-Wl,-rpath,<prefix>/lib: ldd resolves
#      libmemberlist.so.0 in the prefix; it runs;
#   3. when the build has the CLI (ML_BUILD_GO), the installed <prefix>/bin/memberlist needs no
#      libmemberlist.so and runs (`memberlist agent --help`); the unit and sample config are in
#      <prefix>/lib/systemd/system and <prefix>/etc/memberlist.
# Modules come from the module cache (the go/ package's go.sum; GOFLAGS=-mod=mod may add lines).
# Usage: install_go.sh <build dir> <go>
set -euo pipefail
build=$1
go=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ml-install-go.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "install.go: FAIL: $*" >&2; exit 1; }
unset LD_LIBRARY_PATH
export PATH="$(dirname "$go"):$PATH" GOTOOLCHAIN=local CGO_ENABLED=1 GOFLAGS=-mod=mod

cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
pcfile=$(find "$prefix" -name memberlist.pc -path '*/pkgconfig/*')
[ -n "$pcfile" ] || fail "no memberlist.pc under $prefix"
export PKG_CONFIG_PATH=$(dirname "$pcfile") PKG_CONFIG_LIBDIR=$(dirname "$pcfile")
libdir=$(pkg-config --variable=libdir memberlist)

# The package as a user has it: go/ without its tests and without the other modules in it.
pkg=$tmp/memberlist-go
mkdir "$pkg"
find "$src/go" -maxdepth 1 -type f \( -name '*.go' -o -name '*.c' -o -name '*.h' -o -name 'go.mod' -o -name 'go.sum' \) \
     ! -name '*_test.go' -exec cp {} "$pkg/" \;
app=$tmp/app
mkdir "$app"
cp "$here/go-consumer/main.go" "$app/"
cp "$src/go/go.sum" "$app/go.sum"
cat > "$app/go.mod" <<MOD
module example.com/installgo

go 1.22

require github.com/hashicorp/memberlist v0.7.0

replace github.com/hashicorp/memberlist => $pkg
MOD

check_run() {  # check_run <label> <program>
  local out
  out=$("$2") || fail "$1: the program exited $?"
  grep -Eq '^node install-go-consumer on 127\.0\.0\.1:[1-9][0-9]*, 1 member\(s\), libmemberlist [0-9]' <<< "$out" \
    || fail "$1: unexpected output: $out"
  echo "$1: $out"
}

# 1. Static.
(cd "$app" && "$go" build -tags memberlist_static -o "$tmp/app-static" .) > "$tmp/build-static.log" 2>&1 \
  || { cat "$tmp/build-static.log"; fail "go build -tags memberlist_static"; }
if grep -q 'NEEDED.*libmemberlist' <<< "$(readelf -d "$tmp/app-static")"; then
  fail "app-static needs libmemberlist.so"
fi
if grep -q 'libmemberlist' <<< "$(ldd "$tmp/app-static")"; then
  fail "ldd app-static lists libmemberlist: $(ldd "$tmp/app-static" | grep memberlist)"
fi
check_run go-static "$tmp/app-static"

# 2. Shared, with an rpath to the prefix.
(cd "$app" && CGO_LDFLAGS="-Wl,-rpath,$libdir" "$go" build -o "$tmp/app-shared" .) > "$tmp/build-shared.log" 2>&1 \
  || { cat "$tmp/build-shared.log"; fail "go build (shared)"; }
grep -qF "libmemberlist.so.0 => $libdir/libmemberlist.so.0 " <<< "$(ldd "$tmp/app-shared")" \
  || fail "app-shared does not load the prefix's library: $(ldd "$tmp/app-shared" | grep memberlist || echo none)"
check_run go-shared "$tmp/app-shared"

# 3. The installed CLI.
if grep -q '^set(CPACK_COMPONENTS_ALL .*agent' "$build/CPackConfig.cmake"; then
  cli=$prefix/bin/memberlist
  [ -x "$cli" ] || fail "not installed: bin/memberlist"
  if grep -q 'libmemberlist' <<< "$(ldd "$cli")"; then fail "bin/memberlist loads libmemberlist.so: $(ldd "$cli" | grep memberlist)"; fi
  help=$("$cli" agent --help) || fail "memberlist agent --help exited $?"
  grep -q -- '--config' <<< "$help" || fail "memberlist agent --help: $help"
  [ -f "$prefix/etc/memberlist/agent.json" ] && [ -f "$prefix/lib/systemd/system/memberlist-agent.service" ] \
    || fail "the agent's sample config or unit is not under the prefix"
  echo "cli: $cli runs without libmemberlist.so"
fi
echo "install.go: ok"
