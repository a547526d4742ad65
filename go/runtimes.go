package memberlist

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

// runtimesEnv names the environment variable that turns on shared runtimes: at most that many
// libmemberlist runtimes (event-loop threads) for all the memberlists this process creates.
// Unset, empty or 0: a private runtime per memberlist (the default). See SetSharedRuntimes.
const runtimesEnv = "LIBMEMBERLIST_RUNTIMES"

// maxSharedRuntimes is the largest k SetSharedRuntimes and LIBMEMBERLIST_RUNTIMES accept.
const maxSharedRuntimes = 1024

// sharedTimerGridMs is the timer coalescing of every shared runtime: the protocol timers of its
// nodes fire on a common 10 ms grid (at most 10 ms late, against memberlist's 200 ms gossip and
// 1 s probe intervals), so a hundred nodes' probes and gossip rounds wake the loop thread, and
// call into Go, in bursts rather than one at a time: about a third less idle CPU at 128 nodes
// (docs/bench/cluster.md). Private runtimes keep exact timers.
const sharedTimerGridMs = 10

// sharedRuntime is one runtime of the pool. users counts the memberlists created on it and not
// yet destroyed; the last one to go destroys the runtime.
type sharedRuntime struct {
	c     *C.ml_runtime_t
	users int // guarded by pool.mu
}

// pool holds the shared runtimes in use. A runtime leaves rts when its last memberlist is
// destroyed, before it is destroyed itself, so a Create that races with that destroy starts a
// fresh runtime instead of joining the dying one.
var pool struct {
	mu    sync.Mutex
	set   bool // SetSharedRuntimes was called: k overrides the environment
	k     int
	rts   []*sharedRuntime
	dying int   // runtimes out of rts whose ml_runtime_destroy has not returned yet
	err   error // a runtime that could not be destroyed (a bug); the pool never empties then
}

// SetSharedRuntimes makes the memberlists created from now on share at most k libmemberlist
// runtimes (event-loop threads), instead of one private runtime each; k = 0 restores private
// runtimes. It overrides LIBMEMBERLIST_RUNTIMES for the rest of the process. Memberlists that
// already run stay where they are. k must be from 0 to 1024.
//
// This is libmemberlist's own addition, not part of hashicorp/memberlist's API; see the
// package documentation, "Many nodes in one process: shared runtimes", for what changes.
func SetSharedRuntimes(k int) error {
	if k < 0 || k > maxSharedRuntimes {
		return fmt.Errorf("memberlist: SetSharedRuntimes(%d): want 0 (a private runtime per memberlist) to %d", k, maxSharedRuntimes)
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	pool.set, pool.k = true, k
	return nil
}

// parseRuntimes reads LIBMEMBERLIST_RUNTIMES's value: "" and "0" mean private runtimes.
func parseRuntimes(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	k, err := strconv.Atoi(v)
	if err != nil || k < 0 || k > maxSharedRuntimes {
		return 0, fmt.Errorf("memberlist: invalid %s=%q: want an integer from 0 (a private runtime per memberlist) to %d",
			runtimesEnv, v, maxSharedRuntimes)
	}
	return k, nil
}

// acquireRuntime picks the runtime for a new memberlist: nil for a private one, else the pooled
// runtime with the fewest memberlists, starting a new one while fewer than k run. The
// environment is read at every call (SetSharedRuntimes aside), so a bad value fails each
// Create. The caller gives the runtime back with release once ml_memberlist_destroy has
// returned (or when ml_memberlist_create failed).
func acquireRuntime() (*sharedRuntime, error) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	k := pool.k
	if !pool.set {
		var err error
		if k, err = parseRuntimes(os.Getenv(runtimesEnv)); err != nil {
			return nil, err
		}
	}
	if k == 0 {
		return nil, nil
	}
	if len(pool.rts) < k {
		var c *C.ml_runtime_t
		errbuf := make([]C.char, errBufSize)
		if rc := C.ml_runtime_create(&c, &errbuf[0], C.size_t(len(errbuf))); rc != C.ML_OK {
			return nil, cError("memberlist: starting a shared runtime", rc, errbuf)
		}
		if rc := C.ml_runtime_set_timer_coalescing(c, sharedTimerGridMs); rc != C.ML_OK {
			C.ml_runtime_destroy(c)
			return nil, cError("memberlist: timer coalescing of a shared runtime", rc, nil)
		}
		rt := &sharedRuntime{c: c, users: 1}
		pool.rts = append(pool.rts, rt)
		return rt, nil
	}
	best := pool.rts[0]
	for _, rt := range pool.rts[1:] {
		if rt.users < best.users {
			best = rt
		}
	}
	best.users++
	return best, nil
}

// release gives back one memberlist's use of the runtime (nil: a private runtime, nothing to
// do). The last use destroys the runtime, on this thread unless this is the runtime's own loop
// thread (Shutdown from a delegate that answers): then from a new goroutine. From a notification
// thread of the runtime the destroy is safe: it does not wait for a notification in flight.
func (rt *sharedRuntime) release() {
	if rt == nil {
		return
	}
	pool.mu.Lock()
	rt.users--
	last := rt.users == 0
	if last {
		for i, r := range pool.rts {
			if r == rt {
				pool.rts = append(pool.rts[:i], pool.rts[i+1:]...)
				break
			}
		}
		pool.dying++
	}
	pool.mu.Unlock()
	if last {
		destroyRuntime(rt.c)
	}
}

// destroysOffLoop counts the runtimes whose destroy had to leave their own loop thread (tests).
var destroysOffLoop atomic.Int64

func destroyRuntime(c *C.ml_runtime_t) {
	rc := C.ml_runtime_destroy(c)
	if rc == C.ML_ERR_IN_CALLBACK {
		// This goroutine runs on the runtime's loop thread, which stays locked to it until the
		// callback returns: the new goroutine runs on another thread.
		destroysOffLoop.Add(1)
		go destroyRuntime(c)
		return
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if rc != C.ML_OK {
		pool.err = cError("memberlist: destroying a shared runtime", rc, nil)
		return
	}
	pool.dying--
}

// sharedRuntimeUsers returns the number of memberlists on each pooled runtime, the runtimes
// still being destroyed, and a destroy failure if there was one (for tests).
func sharedRuntimeUsers() (users []int, dying int, err error) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for _, rt := range pool.rts {
		users = append(users, rt.users)
	}
	return users, pool.dying, pool.err
}
