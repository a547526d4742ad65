//go:build !memberlist_static

package memberlist

// The C library, found by pkg-config as memberlist.pc: libmemberlist.so, which the program loads
// at run time (go/README.md: an installed prefix needs an rpath, LD_LIBRARY_PATH or ldconfig).
// `-tags memberlist_static` selects pkgconfig_static.go instead.

// #cgo pkg-config: memberlist
import "C"
