package memberlist

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestMain checks, after every test has shut its nodes down, that libmemberlist released every
// cgo.Handle it was given (each registration's user_free ran exactly once).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		// A Create that failed frees its registrations before it returns, and so does Shutdown,
		// unless a notification was running then: its registration is freed when it returns.
		// Every test's Cleanup has run by now, so only those may still be pending.
		deadline := time.Now().Add(waitTimeout)
		for liveHandles.Load() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := liveHandles.Load(); n != 0 {
			fmt.Fprintf(os.Stderr, "FAIL: %d cgo handles were never released by libmemberlist (a memberlist not shut down?)\n", n)
			code = 1
		}
	}
	os.Exit(code)
}
