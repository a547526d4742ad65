//go:build memberlist_static

package memberlist

// With `-tags memberlist_static`: the C library found by pkg-config as memberlist-static.pc,
// libmemberlist.a linked into the program (libuv, libcrypto, zlib and libstdc++ stay shared), so
// the program needs no run-time path to libmemberlist. The tag also makes the package's files,
// and so Go's build cache key, differ from the shared build's: a package compiled for one link
// mode is never reused for the other.

// #cgo pkg-config: memberlist-static
import "C"
