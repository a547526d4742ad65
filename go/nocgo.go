//go:build !cgo

package memberlist

// This package is cgo over libmemberlist's C API: it cannot be built with CGO_ENABLED=0. Every
// other file is built only with cgo, so without it the identifier below is the one error the
// compiler reports, and its name is the message. Build with CGO_ENABLED=1, a C compiler and
// libmemberlist found by pkg-config (README.md).
var _ = libmemberlist_Go_package_needs_cgo_set_CGO_ENABLED_1_and_install_the_C_library
