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
	"syscall"
	"time"
)

// runtimesEnv names the environment variable that turns on shared runtimes: at most that many
// libmemberlist runtimes (event-loop threads) for all the memberlists this process creates.
// Unset, empty or 0: a private runtime per memberlist (the default). See SetSharedRuntimes.
const runtimesEnv = "LIBMEMBERLIST_RUNTIMES"

// loopEnv names the environment variable that chooses who runs a runtime's event loop:
// "goroutine" (the default) or "thread". See driveLoops.
const loopEnv = "LIBMEMBERLIST_LOOP"

// driveLoops reports whether the runtimes this package starts are driven from goroutines
// (unset, empty or LIBMEMBERLIST_LOOP=goroutine, the default): no event-loop thread; a
// goroutine parks in Go's netpoller on the loop's file descriptor and runs the loop
// (ml_runtime_drive) when it has work or a timer is due, and the notifications (NotifyMsg, the
// events, ...) run on goroutines it starts (notifyRunners). No C thread then calls into Go: from
// a C thread each call costs about 30 µs more (it leaves Go's scheduler a P in a system call,
// which keeps sysmon from sleeping), and an idle node costs a parked goroutine instead of OS
// threads. "thread": a loop thread per runtime and notification threads (the default before
// a928ac4; docs/bench/cluster.md, "What a call from C into Go costs"). Read at every runtime
// start.
func driveLoops() (bool, error) {
	switch v := os.Getenv(loopEnv); v {
	case "", "goroutine":
		return true, nil
	case "thread":
		return false, nil
	default:
		return false, fmt.Errorf("memberlist: invalid %s=%q: want goroutine (the default) or thread", loopEnv, v)
	}
}

// startRuntime starts one runtime: driven from a new goroutine, or with its own loop thread.
func startRuntime(driven bool) (*C.ml_runtime_t, error) {
	var c *C.ml_runtime_t
	errbuf := make([]C.char, errBufSize)
	if !driven {
		if rc := C.ml_runtime_create(&c, &errbuf[0], C.size_t(len(errbuf))); rc != C.ML_OK {
			return nil, cError("memberlist: starting a runtime", rc, errbuf)
		}
		return c, nil
	}
	var fd C.int
	if rc := C.ml_runtime_create_driven(&c, &fd, &errbuf[0], C.size_t(len(errbuf))); rc != C.ML_OK {
		return nil, cError("memberlist: starting a runtime", rc, errbuf)
	}
	// Notifications (NotifyMsg, the events, ...) run on goroutines too: no C thread calls into Go.
	runners := &notifyRunners{}
	if rc := C.ml_runtime_notify_external(c, &runners.c); rc != C.ML_OK {
		go driveRuntime(c, nil, nil)
		C.ml_runtime_destroy(c)
		return nil, cError("memberlist: starting a runtime: its notifications", rc, nil)
	}
	runners.refs.Store(1) // the driver's
	// A duplicate for Go's poller: os.File closes what it holds, and the runtime owns its fd.
	dup, err := C.mlgo_dup_nonblock(fd)
	if dup < 0 {
		// Nothing drives it yet: a thread-less runtime that never ran can still be destroyed
		// only by driving it to its end, so drive it here.
		go driveRuntime(c, nil, runners)
		C.ml_runtime_destroy(c)
		return nil, fmt.Errorf("memberlist: starting a runtime: watching its file descriptor: %v", err)
	}
	go driveRuntime(c, os.NewFile(uintptr(dup), "libmemberlist-loop"), runners) // pollable: non-blocking
	return c, nil
}

// notifyRunners runs a driven runtime's notifications on goroutines (ml_runtime_notify_external):
// after each drive, the driver starts as many runners as the runtime asked for; a runner runs
// ready notifications (each memberlist's in order) and ends. A delegate that blocks holds one
// runner, and so only its own memberlist's notifications: the next memberlist with work asks for
// another runner. refs counts the driver and the runners still running; the last one out frees
// the handle (a runner may outlive the runtime, inside a blocked delegate).
type notifyRunners struct {
	c    *C.ml_notify_t
	refs atomic.Int64
}

// liveRunners counts notification runners in flight (tests).
var liveRunners atomic.Int64

func (r *notifyRunners) start() {
	var n C.size_t
	if r == nil || C.ml_notify_wanted(r.c, &n) != C.ML_OK {
		return
	}
	for ; n > 0; n-- {
		r.refs.Add(1)
		liveRunners.Add(1)
		go r.run()
	}
}

func (r *notifyRunners) run() {
	defer liveRunners.Add(-1)
	C.ml_notify_run(r.c) // ML_ERR_CLOSED: the runtime shut down, nothing to do
	r.unref()
}

func (r *notifyRunners) unref() {
	if r != nil && r.refs.Add(-1) == 0 {
		C.ml_notify_release(r.c)
	}
}

// liveDrivers counts the goroutines driving a runtime (tests check they end with it).
var liveDrivers atomic.Int64

// driveRuntime runs a driven runtime's loop until it ends (ml_runtime_destroy), parked in Go's
// netpoller on f (a duplicate of the loop's fd) between runs, and starts the notification runners
// it asks for. With f nil it only polls every millisecond (used only to finish a runtime whose fd
// could not be watched).
func driveRuntime(c *C.ml_runtime_t, f *os.File, runners *notifyRunners) {
	liveDrivers.Add(1)
	defer liveDrivers.Add(-1)
	defer runners.unref()
	var rc syscall.RawConn
	if f != nil {
		defer f.Close()
		var err error
		if rc, err = f.SyscallConn(); err != nil {
			rc = nil
		}
	}
	for {
		var next C.int
		if C.ml_runtime_drive(c, &next) != C.ML_OK {
			return // ended: c may be freed from now on
		}
		runners.start()
		if next == 0 {
			continue
		}
		if rc == nil {
			time.Sleep(time.Millisecond)
			continue
		}
		if next > 0 {
			f.SetReadDeadline(time.Now().Add(time.Duration(next) * time.Millisecond))
		} else {
			f.SetReadDeadline(time.Time{})
		}
		// Wait until the fd is readable or the deadline passes. RawRead forgets a readiness the
		// poller saw before it started, so the first call looks for itself (the loop may have
		// been woken since drive returned); later calls follow a wake-up.
		waited := false
		_ = rc.Read(func(fd uintptr) bool {
			if waited {
				return true
			}
			waited = true
			return C.mlgo_fd_readable(C.int(fd)) != 0
		})
	}
}

// maxSharedRuntimes is the largest k SetSharedRuntimes and LIBMEMBERLIST_RUNTIMES accept.
const maxSharedRuntimes = 1024

// sharedTimerGridMs is the timer coalescing of every shared runtime: the protocol timers of its
// nodes fire on a common 10 ms grid (at most 10 ms late, against memberlist's 200 ms gossip and
// 1 s probe intervals), so a hundred nodes' probes and gossip rounds wake the loop thread, and
// call into Go, in bursts rather than one at a time: about a third less idle CPU at 128 nodes
// (docs/bench/cluster.md). Private runtimes keep exact timers.
const sharedTimerGridMs = 10

// sharedRuntime is one runtime of the pool, or a memberlist's private driven runtime (users 1).
// users counts the memberlists created on it and not yet destroyed; the last one to go destroys
// the runtime.
type sharedRuntime struct {
	c       *C.ml_runtime_t
	users   int  // guarded by pool.mu
	private bool // one memberlist's own driven runtime, never in pool.rts
}

// shared reports whether a memberlist's runtime is one of the pool's.
func (rt *sharedRuntime) shared() bool { return rt != nil && !rt.private }

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

// acquireRuntime picks the runtime for a new memberlist: a private driven one (users 1, not in
// the pool; the default), nil for a private one with its own thread (LIBMEMBERLIST_LOOP=thread),
// else the pooled runtime with the fewest memberlists, starting a new one while fewer than k run. The
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
	driven, err := driveLoops()
	if err != nil {
		return nil, err
	}
	if k == 0 {
		if !driven {
			return nil, nil // ml_memberlist_create starts a private runtime with its own thread
		}
		c, err := startRuntime(true)
		if err != nil {
			return nil, err
		}
		return &sharedRuntime{c: c, users: 1, private: true}, nil
	}
	if len(pool.rts) < k {
		c, err := startRuntime(driven)
		if err != nil {
			return nil, err
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
// (runner goroutine or thread) of the runtime the destroy is safe: it does not wait for a
// notification in flight.
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
