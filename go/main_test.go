package memberlist

import (
	"fmt"
	"os"
	"testing"
)

// TestMain checks, after every test has shut its nodes down, that libmemberlist released every
// cgo.Handle it was given (each registration's user_free ran exactly once).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		// A Create that failed frees its registrations before it returns, and so does Shutdown;
		// every test's Cleanup has run by now, so nothing may be pending.
		if n := liveHandles.Load(); n != 0 {
			fmt.Fprintf(os.Stderr, "FAIL: %d cgo handles were never released by libmemberlist (a memberlist not shut down?)\n", n)
			code = 1
		}
	}
	os.Exit(code)
}
