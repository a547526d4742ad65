package memberlist

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestMain checks, after every test has shut its nodes down, that libmemberlist released every
// cgo.Handle it was given (each registration's user_free ran exactly once), and that no shared
// runtime and no metrics goroutine is left.
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
		// With shared runtimes (LIBMEMBERLIST_RUNTIMES, SetSharedRuntimes) the last Shutdown on
		// a runtime destroys it, from another goroutine when it ran on that runtime's loop.
		for time.Now().Before(deadline) {
			if users, dying, _ := sharedRuntimeUsers(); len(users) == 0 && dying == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if users, dying, err := sharedRuntimeUsers(); len(users) != 0 || dying != 0 {
			fmt.Fprintf(os.Stderr, "FAIL: shared runtimes left: memberlists on them %v, %d not destroyed (%v)\n", users, dying, err)
			code = 1
		}
		// The metrics goroutine ends with the last node.
		for time.Now().Before(deadline) {
			if running, _ := metricsHubState(); !running {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if running, nodes := metricsHubState(); running || nodes != 0 {
			fmt.Fprintf(os.Stderr, "FAIL: the metrics goroutine still runs (reading %d nodes)\n", nodes)
			code = 1
		}
	}
	os.Exit(code)
}
