package memberlist

/*
#include <stdlib.h>
#include "bridge.h"

// Build-time check: this package speaks the 0.x C API and needs at least 0.1.0.
#if !defined(ML_VERSION) || ML_VERSION_MAJOR != 0 || ML_VERSION < 0x000100
#error "libmemberlist: this Go package needs the 0.x C API, version 0.1.0 or newer"
#endif
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Header version this package was compiled against.
const (
	cHeaderVersion = uint32(C.ML_VERSION)
	cHeaderMajor   = uint32(C.ML_VERSION_MAJOR)
)

// libVersionErr is set at init when the loaded libmemberlist does not match the header the
// package was compiled against; Create then fails with it.
var libVersionErr error

func init() {
	lib := uint32(C.ml_version())
	if lib>>16 != cHeaderMajor || lib < cHeaderVersion {
		libVersionErr = fmt.Errorf("memberlist: loaded libmemberlist %s (0x%06x) is incompatible with the header this package was built with (0x%06x); rebuild against the installed library",
			C.GoString(C.ml_version_string()), lib, cHeaderVersion)
	}
}

// LibraryVersion returns the version string of the loaded libmemberlist (libmemberlist's own
// addition; not part of hashicorp/memberlist's API).
func LibraryVersion() string { return C.GoString(C.ml_version_string()) }

const errBufSize = 1024

// cError turns an ml_err_t and its errstr into a Go error (nil for ML_OK).
func cError(op string, rc C.ml_err_t, errbuf []C.char) error {
	if rc == C.ML_OK {
		return nil
	}
	msg := ""
	if len(errbuf) > 0 {
		msg = C.GoString(&errbuf[0])
	}
	code := C.GoString(C.ml_err_string(rc))
	if msg == "" {
		return &cErr{op: op, code: int(rc), text: code}
	}
	return &cErr{op: op, code: int(rc), text: code + ": " + msg}
}

// cErr is an error reported by the C library.
type cErr struct {
	op   string
	code int
	text string
}

func (e *cErr) Error() string { return e.op + ": " + e.text }

// bytesPtr returns a pointer to b's first byte for a C call that only reads it during the call
// (never retained by C), or nil for an empty slice.
func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// goBytes copies C bytes into a new Go slice (nil when empty).
func goBytes(p *C.uint8_t, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}
