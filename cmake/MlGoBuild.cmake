# cmake -P script behind the memberlist_cli target (cmake/MlGoCli.cmake): builds the `memberlist`
# CLI (go/cmd) with libmemberlist.a linked in (-tags memberlist_static: the build tree's
# memberlist-static.pc), so the installed binary needs no run-time path to libmemberlist.
#
# Go's build cache keys a cgo package on its own files and flags, not on the C header or on what
# pkg-config prints (the path of this tree's libmemberlist.a ends up recorded in the compiled
# package). So:
#   - the output is removed first: `go build -o` then always links again, against the current
#     libmemberlist.a (a link is a few seconds; everything else comes from the cache);
#   - the package gets a per-package compiler flag carrying a stamp of the header's SHA-256 and
#     this build tree: -D (the directory for "./x" imports, which no module uses) changes nothing
#     in the compiled code, but it is part of the package's cache key, so a changed header or
#     another build tree compiles the package again instead of reusing a stale one. The standard
#     library and the other modules stay cached (no -a).
# -trimpath and -buildvcs=false: no build-machine paths or VCS state in the installed binary (and
# no failure where the source is not a usable git checkout).
# Variables: GO, SRC (go/cmd), OUT, HEADER, PKG_CONFIG_DIR (<build>/pkgconfig), BUILD_DIR.
foreach(v GO SRC OUT HEADER PKG_CONFIG_DIR BUILD_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "MlGoBuild.cmake: ${v} not set")
  endif()
endforeach()
file(SHA256 "${HEADER}" _header_sha)
string(SHA256 _stamp "${_header_sha} ${BUILD_DIR}")
string(SUBSTRING "${_stamp}" 0 16 _stamp)
file(REMOVE "${OUT}")
get_filename_component(_godir "${GO}" DIRECTORY)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env
          "PATH=${_godir}:$ENV{PATH}" GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=1
          "PKG_CONFIG_PATH=${PKG_CONFIG_DIR}"
          "${GO}" build -tags memberlist_static -trimpath -buildvcs=false
          "-gcflags=github.com/hashicorp/memberlist=-D=/libmemberlist-stamp/${_stamp}"
          -o "${OUT}" ./memberlist
  WORKING_DIRECTORY "${SRC}"
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  file(REMOVE "${OUT}")
  message(FATAL_ERROR "go build of the memberlist CLI failed (${_rc})")
endif()
