package memberlist

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// useSharedRuntimes sets SetSharedRuntimes(k) for one test (k < 0: clears the override, so
// LIBMEMBERLIST_RUNTIMES decides) and puts the previous setting back when it ends, after its
// nodes are shut down and the pool is empty again.
func useSharedRuntimes(tb testing.TB, k int) {
	tb.Helper()
	pool.mu.Lock()
	set, prev := pool.set, pool.k
	if k < 0 {
		pool.set, pool.k = false, 0
	} else {
		pool.set, pool.k = true, k
	}
	pool.mu.Unlock()
	tb.Cleanup(func() {
		waitPoolEmpty(tb)
		pool.mu.Lock()
		pool.set, pool.k = set, prev
		pool.mu.Unlock()
	})
}

// waitPoolEmpty waits until no shared runtime is in use or being destroyed.
func waitPoolEmpty(tb testing.TB) {
	tb.Helper()
	waitFor(tb, "the shared runtimes to be destroyed", func() (bool, string) {
		users, dying, err := sharedRuntimeUsers()
		if err != nil {
			return false, err.Error()
		}
		return len(users) == 0 && dying == 0, fmt.Sprintf("in use %v, being destroyed %d", users, dying)
	})
}

// threads counts this process's OS threads (/proc/self/task): all of them, libmemberlist loop
// threads and notification threads. Those are named "ml-loop" and "ml-notify" and block
// SIGPIPE (the loop thread blocks it; notification threads inherit its mask). A thread Go
// starts for itself while a callback runs on one of them inherits the name, but Go sets its
// signal mask to block nothing, so the mask tells them apart.
func threads(tb testing.TB) (all, loops, notify int) {
	tb.Helper()
	dirs, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range dirs {
		name, sigblk, ok := threadInfo(d)
		if !ok {
			continue // the thread ended meanwhile
		}
		all++
		if sigblk&(1<<(syscall.SIGPIPE-1)) == 0 {
			continue
		}
		switch name {
		case "ml-loop":
			loops++
		case "ml-notify":
			notify++
		}
	}
	return all, loops, notify
}

// threadInfo reads a thread's name and blocked-signal mask from /proc/self/task/<tid>.
func threadInfo(dir string) (name string, sigblk uint64, ok bool) {
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return "", 0, false
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, found := strings.CutPrefix(l, "Name:"); found {
			name = strings.TrimSpace(v)
		} else if v, found := strings.CutPrefix(l, "SigBlk:"); found {
			sigblk, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return name, sigblk, true
}

// waitNoLibThreads waits until no libmemberlist thread is left (idle notification threads end
// after a second) and returns the thread count then.
func waitNoLibThreads(tb testing.TB) int {
	tb.Helper()
	var all int
	waitFor(tb, "no libmemberlist threads", func() (bool, string) {
		var loops, notify int
		all, loops, notify = threads(tb)
		return loops == 0 && notify == 0, fmt.Sprintf("%d loop and %d notification threads: %s", loops, notify, libThreads())
	})
	return all
}

// libThreads describes the threads named ml-*: tid, name, blocked signals, where they wait.
func libThreads() string {
	var out []string
	dirs, _ := filepath.Glob("/proc/self/task/*")
	for _, d := range dirs {
		name, sigblk, ok := threadInfo(d)
		if !ok || !strings.HasPrefix(name, "ml-") {
			continue
		}
		wchan, _ := os.ReadFile(d + "/wchan")
		out = append(out, fmt.Sprintf("%s %s sigblk=%x wchan=%s", filepath.Base(d), name, sigblk, wchan))
	}
	return strings.Join(out, "; ")
}

func TestParseRuntimes(t *testing.T) {
	for v, want := range map[string]int{"": 0, "0": 0, "1": 1, "2": 2, "1024": 1024} {
		if k, err := parseRuntimes(v); err != nil || k != want {
			t.Errorf("parseRuntimes(%q) = %d, %v; want %d", v, k, err, want)
		}
	}
	for _, v := range []string{"x", "-1", "1025", "2.5", " 2", "2 ", "0x2", "99999999999999999999999"} {
		_, err := parseRuntimes(v)
		if err == nil || !strings.Contains(err.Error(), "LIBMEMBERLIST_RUNTIMES") || !strings.Contains(err.Error(), fmt.Sprintf("%q", v)) {
			t.Errorf("parseRuntimes(%q): %v; want an error naming LIBMEMBERLIST_RUNTIMES and the value", v, err)
		}
	}
}

// TestSharedRuntimesEnv: a bad value makes Create fail (each time); 0 and empty are private
// runtimes; a good value shares.
func TestSharedRuntimesEnv(t *testing.T) {
	useSharedRuntimes(t, -1)
	for _, v := range []string{"two", "-3", "100000"} {
		t.Setenv(runtimesEnv, v)
		m, err := Create(testConfig(t))
		if err == nil {
			m.Shutdown()
			t.Fatalf("%s=%q: Create succeeded", runtimesEnv, v)
		}
		want := fmt.Sprintf("memberlist: invalid LIBMEMBERLIST_RUNTIMES=%q: want an integer from 0 (a private runtime per memberlist) to 1024", v)
		if err.Error() != want {
			t.Errorf("%s=%q: Create: %q; want %q", runtimesEnv, v, err, want)
		}
	}
	for _, v := range []string{"", "0"} {
		t.Setenv(runtimesEnv, v)
		m := create(t, testConfig(t))
		if m.rt.shared() {
			t.Errorf("%s=%q: the node is on a shared runtime", runtimesEnv, v)
		}
		if users, _, _ := sharedRuntimeUsers(); len(users) != 0 {
			t.Errorf("%s=%q: shared runtimes in use: %v", runtimesEnv, v, users)
		}
	}
	t.Setenv(runtimesEnv, "1")
	a, b := create(t, testConfig(t)), create(t, testConfig(t))
	if !a.rt.shared() || a.rt != b.rt {
		t.Errorf("%s=1: the nodes are not on one shared runtime (%p, %p)", runtimesEnv, a.rt, b.rt)
	}
}

// TestSetSharedRuntimesOverridesEnv: SetSharedRuntimes wins over the environment, both ways.
func TestSetSharedRuntimesOverridesEnv(t *testing.T) {
	useSharedRuntimes(t, -1)
	for _, k := range []int{-1, 1025} {
		if err := SetSharedRuntimes(k); err == nil {
			t.Errorf("SetSharedRuntimes(%d) succeeded", k)
		}
	}
	t.Setenv(runtimesEnv, "not a number")
	if err := SetSharedRuntimes(1); err != nil {
		t.Fatal(err)
	}
	a := create(t, testConfig(t))
	if users, _, _ := sharedRuntimeUsers(); !a.rt.shared() || len(users) != 1 || users[0] != 1 {
		t.Errorf("SetSharedRuntimes(1) over a bad %s: shared runtime %p, users %v", runtimesEnv, a.rt, users)
	}
	t.Setenv(runtimesEnv, "2")
	if err := SetSharedRuntimes(0); err != nil {
		t.Fatal(err)
	}
	if b := create(t, testConfig(t)); b.rt.shared() {
		t.Errorf("SetSharedRuntimes(0) over %s=2: the node is on a shared runtime", runtimesEnv)
	}
}

// TestSharedRuntimesBalanced: six nodes on k=2 use exactly two runtimes (two loop threads),
// three nodes each; when they are gone, so are the runtimes and their threads.
func TestSharedRuntimesBalanced(t *testing.T) {
	t.Setenv(loopEnv, "thread") // counts loop threads
	useSharedRuntimes(t, 2)
	waitPoolEmpty(t)
	base := waitNoLibThreads(t)

	var nodes []*Memberlist
	for i := 0; i < 6; i++ {
		m, err := Create(testConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, m)
	}
	defer func() { // on failure; a second Shutdown is a no-op
		for _, m := range nodes {
			m.Shutdown()
		}
	}()
	if users, dying, _ := sharedRuntimeUsers(); len(users) != 2 || users[0] != 3 || users[1] != 3 || dying != 0 {
		t.Fatalf("runtimes in use %v (%d being destroyed); want [3 3]", users, dying)
	}
	if _, loops, _ := threads(t); loops != 2 {
		t.Errorf("%d loop threads for 6 nodes on 2 shared runtimes", loops)
	}
	first := fmt.Sprintf("%s/%s:%d", nodes[0].config.Name, nodes[0].config.BindAddr, nodes[0].config.BindPort)
	if _, err := nodes[1].Join([]string{first}); err != nil {
		t.Fatal(err)
	}
	waitForMembers(t, nodes[0], 2)

	// Shutting down one node on each runtime frees nothing; the next node goes to the runtime
	// with the fewest nodes.
	nodes[0].Shutdown()
	if users, _, _ := sharedRuntimeUsers(); len(users) != 2 || users[0]+users[1] != 5 {
		t.Fatalf("after one Shutdown: runtimes in use %v", users)
	}
	m := create(t, testConfig(t))
	if users, _, _ := sharedRuntimeUsers(); len(users) != 2 || users[0] != 3 || users[1] != 3 {
		t.Fatalf("after a new Create: runtimes in use %v; want [3 3]", users)
	}
	nodes = append(nodes, m)

	for _, m := range nodes {
		if err := m.Shutdown(); err != nil {
			t.Fatal(err)
		}
	}
	waitPoolEmpty(t)
	all := waitNoLibThreads(t)
	// Go keeps the threads it started for cgo calls (a few more than before); 2 loop threads
	// and their notification threads are what would be left by a leak, and they are not.
	if all > base+8 {
		t.Errorf("%d threads after the nodes are gone, %d before", all, base)
	}
}

// TestSharedRuntimesCreateFailure: a Create that fails after taking a runtime gives it back.
func TestSharedRuntimesCreateFailure(t *testing.T) {
	useSharedRuntimes(t, 1)
	c := testConfig(t)
	l, err := listenTCP(c.BindAddr, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c.BindPort = l.Addr().(*net.TCPAddr).Port
	if m, err := Create(c); err == nil {
		m.Shutdown()
		t.Fatal("Create on a port in use succeeded")
	}
	if users, dying, err := sharedRuntimeUsers(); len(users) != 0 || dying != 0 || err != nil {
		t.Fatalf("after a failed Create: runtimes in use %v, %d being destroyed, %v", users, dying, err)
	}
}

// TestSharedRuntimesCreateShutdownRace: Creates racing with the Shutdown of the last node on
// the runtime get a working runtime (a fresh one when the old one is being destroyed).
func TestSharedRuntimesCreateShutdownRace(t *testing.T) {
	useSharedRuntimes(t, 1)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				c := testConfigNet(t, 1)
				m, err := Create(c)
				if err != nil {
					errs <- err
					return
				}
				if m.LocalNode() == nil || m.NumMembers() != 1 {
					errs <- fmt.Errorf("%s: not running", c.Name)
				}
				if err := m.Shutdown(); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitPoolEmpty(t)
}

// msgDelegate records messages; a message "shutdown" shuts its own node down from NotifyMsg,
// and while block is set NotifyMsg waits for it to be closed.
type msgDelegate struct {
	mockDelegate
	self    atomic.Pointer[Memberlist]
	entered chan struct{} // one value each time NotifyMsg starts, when not nil
	block   chan struct{} // closed to let a blocked NotifyMsg return
	blocked atomic.Bool
}

func (d *msgDelegate) NotifyMsg(msg []byte) {
	if d.entered != nil {
		select {
		case d.entered <- struct{}{}:
		default:
		}
	}
	if d.blocked.Load() {
		<-d.block
	}
	if string(msg) == "shutdown" {
		if m := d.self.Load(); m != nil {
			m.Shutdown()
		}
	}
	d.mockDelegate.NotifyMsg(msg)
}

func hasMsg(d *msgDelegate, want string) (bool, string) {
	var got []string
	for _, m := range d.messages() {
		if string(m) == want {
			return true, ""
		}
		got = append(got, string(m))
	}
	return false, fmt.Sprintf("has %q", got)
}

// sharedCluster starts n nodes on the current pool setting, all joined to the first.
func sharedCluster(t *testing.T, n int) ([]*Memberlist, []*msgDelegate) {
	t.Helper()
	var nodes []*Memberlist
	var dels []*msgDelegate
	for i := 0; i < n; i++ {
		c := testConfig(t)
		d := &msgDelegate{}
		c.Delegate = d
		var m *Memberlist
		if i == 0 {
			m = create(t, c)
		} else {
			m = joinPeer(t, nodes[0], c)
		}
		d.self.Store(m)
		nodes, dels = append(nodes, m), append(dels, d)
	}
	for _, m := range nodes {
		waitForMembers(t, m, n)
	}
	return nodes, dels
}

func nodeNamed(m *Memberlist, name string) *Node {
	for _, n := range m.Members() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// TestSharedRuntimesCluster: four nodes on two shared runtimes join, exchange messages both
// ways, one leaves, one shuts itself down from NotifyMsg, and the others, one of them on the
// same runtime, keep working.
func TestSharedRuntimesCluster(t *testing.T) {
	useSharedRuntimes(t, 2)
	nodes, dels := sharedCluster(t, 4)
	if users, _, _ := sharedRuntimeUsers(); len(users) != 2 || users[0] != 2 || users[1] != 2 {
		t.Fatalf("runtimes in use %v; want [2 2]", users)
	}
	send := func(from, to int, msg string, reliable bool) {
		t.Helper()
		n := nodeNamed(nodes[from], nodes[to].config.Name)
		if n == nil {
			t.Fatalf("%s does not know %s", nodes[from].config.Name, nodes[to].config.Name)
		}
		var err error
		if reliable {
			err = nodes[from].SendReliable(n, []byte(msg))
		} else {
			err = nodes[from].SendBestEffort(n, []byte(msg))
		}
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, fmt.Sprintf("%q at %s", msg, nodes[to].config.Name), func() (bool, string) { return hasMsg(dels[to], msg) })
	}
	for from := range nodes {
		for to := range nodes {
			if from != to {
				send(from, to, fmt.Sprintf("reliable %d->%d", from, to), true)
				send(from, to, fmt.Sprintf("best effort %d->%d", from, to), false)
			}
		}
	}

	// Node 3 leaves; node 2 shuts itself down from NotifyMsg.
	victim, peer := 2, -1
	for i, m := range nodes {
		if i != victim && m.rt == nodes[victim].rt {
			peer = i
		}
	}
	if peer < 0 {
		t.Fatal("no node shares node 2's runtime")
	}
	if err := nodes[3].Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := nodes[3].Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].SendReliable(nodeNamed(nodes[0], nodes[victim].config.Name), []byte("shutdown")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node 2 to shut itself down", func() (bool, string) { return nodes[victim].shutdown.Load(), "" })
	waitFor(t, "node 2's runtime to keep only its other node", func() (bool, string) {
		nodes[victim].hmu.Lock()
		gone := nodes[victim].c == nil
		nodes[victim].hmu.Unlock()
		return gone, "node 2 not destroyed"
	})
	for _, i := range []int{0, 1} {
		waitFor(t, nodes[i].config.Name+" to see nodes 2 and 3 gone", func() (bool, string) {
			return len(nodes[i].Members()) == 2, fmt.Sprintf("members %v", nodes[i].Members())
		})
	}
	send(0, 1, "after", true)
	send(1, 0, "after back", false)
	if peer == 0 || peer == 1 {
		other := 1 - peer
		send(other, peer, "to the survivor on node 2's runtime", true)
	}
	if users, _, _ := sharedRuntimeUsers(); len(users) != 2 || users[0] != 1 || users[1] != 1 {
		t.Fatalf("runtimes in use %v; want [1 1]", users)
	}
}

// TestSharedRuntimesBlockingNotifyMsg: while node A's NotifyMsg blocks, node B on the same
// runtime still gets its messages (notifications run on the runtime's pool, not its loop).
func TestSharedRuntimesBlockingNotifyMsg(t *testing.T) {
	useSharedRuntimes(t, 1)
	nodes, dels := sharedCluster(t, 2)
	a, b := nodes[0], nodes[1]
	if a.rt == nil || a.rt != b.rt {
		t.Fatal("the nodes are not on one runtime")
	}
	da := dels[0]
	da.entered = make(chan struct{}, 1)
	da.block = make(chan struct{})
	da.blocked.Store(true)
	released := false
	release := func() {
		if !released {
			released = true
			close(da.block)
		}
	}
	defer release()
	if err := b.SendReliable(nodeNamed(b, a.config.Name), []byte("hold")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-da.entered:
	case <-time.After(waitTimeout):
		t.Fatal("A's NotifyMsg not called")
	}
	for i, reliable := range []bool{true, false} {
		msg := fmt.Sprintf("while A blocks %d", i)
		var err error
		if reliable {
			err = a.SendReliable(nodeNamed(a, b.config.Name), []byte(msg))
		} else {
			err = a.SendBestEffort(nodeNamed(a, b.config.Name), []byte(msg))
		}
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "B's message while A's NotifyMsg blocks", func() (bool, string) { return hasMsg(dels[1], msg) })
	}
	release()
	waitFor(t, "A's held message", func() (bool, string) { return hasMsg(da, "hold") })
}

// mergeShutdown shuts its own node down from NotifyMerge, an answering delegate run on the
// runtime's loop thread.
type mergeShutdown struct {
	self   atomic.Pointer[Memberlist]
	called atomic.Bool
}

func (d *mergeShutdown) NotifyMerge([]*Node) error {
	if d.called.CompareAndSwap(false, true) {
		if m := d.self.Load(); m != nil {
			m.Shutdown()
		}
	}
	return nil
}

// privateAndShared starts a node on a private runtime (other) and a peer of it, configured by
// set, alone on a shared runtime (m).
func privateAndShared(t *testing.T, set func(*Config)) (other, m *Memberlist) {
	t.Helper()
	useSharedRuntimes(t, 0)
	other = create(t, testConfig(t))
	if err := SetSharedRuntimes(1); err != nil {
		t.Fatal(err)
	}
	c := testConfig(t)
	set(c)
	m = createPeer(t, other, c)
	if !m.rt.shared() {
		t.Fatal("not on a shared runtime")
	}
	return other, m
}

// TestSharedRuntimesShutdownOnLoopThread: the last node of a shared runtime shuts down from a
// delegate on that runtime's loop thread; the runtime is destroyed from another thread.
func TestSharedRuntimesShutdownOnLoopThread(t *testing.T) {
	d := &mergeShutdown{}
	other, m := privateAndShared(t, func(c *Config) { c.Merge = d })
	d.self.Store(m)
	offLoop := destroysOffLoop.Load()
	_, _ = other.Join([]string{joinAddr(m)}) // m's NotifyMerge runs for the push/pull
	waitFor(t, "NotifyMerge to shut its node down", func() (bool, string) {
		return d.called.Load() && m.shutdown.Load(), ""
	})
	waitPoolEmpty(t)
	if n := destroysOffLoop.Load() - offLoop; n != 1 {
		t.Errorf("%d runtime destroys left the loop thread; want 1 (was the node destroyed there?)", n)
	}
}

// TestSharedRuntimesShutdownLastFromNotifyMsg: the last node of a shared runtime shuts itself
// down from NotifyMsg, so the runtime is destroyed on one of its own notification threads.
func TestSharedRuntimesShutdownLastFromNotifyMsg(t *testing.T) {
	t.Setenv(loopEnv, "thread") // counts loop threads
	d := &msgDelegate{}
	other, m := privateAndShared(t, func(c *Config) { c.Delegate = d })
	d.self.Store(m)
	if _, err := other.Join([]string{joinAddr(m)}); err != nil {
		t.Fatal(err)
	}
	waitForMembers(t, other, 2)
	if err := other.SendReliable(nodeNamed(other, m.config.Name), []byte("shutdown")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "NotifyMsg to shut its node down", func() (bool, string) { return m.shutdown.Load(), "" })
	waitPoolEmpty(t)
	// The destroyed runtime's loop thread is gone; other's private runtime stays.
	waitFor(t, "only other's loop thread left", func() (bool, string) {
		_, loops, _ := threads(t)
		return loops == 1, libThreads()
	})
}

// TestLoopEnv: unset, empty or LIBMEMBERLIST_LOOP=goroutine drives a memberlist's runtime from a
// goroutine (no loop thread) and runs its notifications on goroutines (no notification thread),
// which end with it; "thread" gives the runtime its own loop thread; any other value fails Create
// with an error that names the variable.
func TestLoopEnv(t *testing.T) {
	useSharedRuntimes(t, 0)
	t.Setenv(loopEnv, "threads")
	if m, err := Create(testConfig(t)); err == nil {
		m.Shutdown()
		t.Fatal("Create succeeded with LIBMEMBERLIST_LOOP=threads")
	} else if want := `memberlist: invalid LIBMEMBERLIST_LOOP="threads": want goroutine (the default) or thread`; err.Error() != want {
		t.Errorf("Create: %q; want %q", err, want)
	}

	for _, v := range []string{"goroutine", ""} {
		t.Run(fmt.Sprintf("%s=%q", loopEnv, v), func(t *testing.T) {
			t.Setenv(loopEnv, v)
			checkDrivenLoop(t)
		})
	}

	t.Setenv(loopEnv, "thread")
	waitNoLibThreads(t)
	m := create(t, testConfig(t))
	if m.rt != nil {
		t.Errorf("%s=thread: the runtime is not the memberlist's own threaded one", loopEnv)
	}
	if _, loops, _ := threads(t); loops != 1 {
		t.Errorf("%s=thread: %d loop threads; want 1", loopEnv, loops)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
}

// checkDrivenLoop checks that memberlists created now run on private driven runtimes: no loop
// thread, one driving goroutine each, notifications (a join event, a message) on goroutines with
// no notification thread, and the goroutines gone after Shutdown.
func checkDrivenLoop(t *testing.T) {
	waitNoLibThreads(t)
	drivers := liveDrivers.Load()
	m := create(t, testConfig(t))
	if m.rt == nil || !m.rt.private || m.rt.shared() {
		t.Fatal("not on a private driven runtime")
	}
	if _, loops, _ := threads(t); loops != 0 {
		t.Errorf("%d loop threads; want none", loops)
	}
	if n := liveDrivers.Load() - drivers; n != 1 {
		t.Errorf("%d goroutines drive runtimes for one memberlist", n)
	}
	events := make(chan NodeEvent, 16)
	d := &mockDelegate{}
	c2 := testConfig(t)
	c2.Events = &ChannelEventDelegate{Ch: events}
	c2.Delegate = d
	m2 := joinPeer(t, m, c2)
	waitFor(t, "NotifyJoin for the peer", func() (bool, string) {
		for {
			select {
			case e := <-events:
				if e.Event == NodeJoin && e.Node.Name == m.config.Name {
					return true, ""
				}
			default:
				return false, "no join event yet"
			}
		}
	})
	if err := m.SendReliable(m2.LocalNode(), []byte("to a goroutine")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "NotifyMsg", func() (bool, string) { return len(d.messages()) == 1, fmt.Sprint(d.messages()) })
	if _, _, notify := threads(t); notify != 0 {
		t.Errorf("%d notification threads; want none: %s", notify, libThreads())
	}
	if err := m2.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the driving goroutines and notification runners to end", func() (bool, string) {
		n, r := liveDrivers.Load(), liveRunners.Load()
		return n == drivers && r == 0, fmt.Sprintf("%d drivers, %d before; %d runners", n, drivers, r)
	})
}
