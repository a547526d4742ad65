package memberlist

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestChannelEventDelegate(t *testing.T) {
	ch := make(chan NodeEvent, 64)
	d1 := &mockDelegate{meta: []byte("a")}
	c1 := testConfig(t)
	c1.Events = &ChannelEventDelegate{Ch: ch}
	c1.Delegate = d1
	m1 := create(t, c1)
	c2 := testConfig(t)
	m2 := joinPeer(t, m1, c2)
	next := func(want NodeEventType, name string) *Node {
		t.Helper()
		select {
		case ev := <-ch:
			if ev.Event != want || ev.Node.Name != name {
				t.Fatalf("event %v %s, want %v %s", ev.Event, ev.Node.Name, want, name)
			}
			return ev.Node
		case <-time.After(waitTimeout):
			t.Fatalf("no %v event for %s", want, name)
		}
		return nil
	}
	next(NodeJoin, c1.Name) // ourselves, at Create
	n2 := next(NodeJoin, c2.Name)
	if n2.State != StateAlive || n2.Port != uint16(c2.BindPort) {
		t.Fatalf("joined node %+v", n2)
	}
	if err := m2.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	next(NodeLeave, c2.Name)
}

// A ChannelEventDelegate whose channel nobody reads must not block the node or Shutdown.
func TestChannelEventDelegate_UnreadChannelDoesNotDeadlock(t *testing.T) {
	ch := make(chan NodeEvent) // unbuffered, never read
	c1 := testConfig(t)
	c1.Events = &ChannelEventDelegate{Ch: ch}
	m1, err := Create(c1)
	if err != nil {
		t.Fatal(err)
	}
	m2 := createPeer(t, m1, testConfig(t))
	m3 := createPeer(t, m1, testConfig(t))
	done := make(chan error, 1)
	go func() {
		if _, err := m2.Join([]string{joinAddr(m1)}); err != nil {
			done <- err
			return
		}
		if _, err := m3.Join([]string{joinAddr(m1)}); err != nil {
			done <- err
			return
		}
		if n := m1.NumMembers(); n != 3 {
			done <- fmt.Errorf("m1 has %d members", n)
			return
		}
		done <- m1.Shutdown()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Join/Shutdown blocked on an unread event channel")
	}
	// Shutdown dropped what was queued: nothing reaches the channel once it has returned, even
	// when someone finally reads it.
	select {
	case ev := <-ch:
		t.Fatalf("%v for %s delivered after Shutdown returned", ev.Event, ev.Node.Name)
	case <-time.After(200 * time.Millisecond):
	}
}

// eventOrder checks that EventDelegate calls never overlap: none starts while another is
// running. They run on libmemberlist's notification runners (goroutines, or threads with
// LIBMEMBERLIST_LOOP=thread), one call of a node at a time (not always on the same OS thread);
// each call yields for a while, so an overlap would show.
type eventOrder struct {
	busy       atomic.Int32
	overlapped atomic.Bool
	count      atomic.Int32
}

func (e *eventOrder) enter() {
	if e.busy.Add(1) != 1 {
		e.overlapped.Store(true)
	}
	for i := 0; i < 200; i++ {
		runtime.Gosched() // stay inside long enough for a concurrent call to be caught
	}
	e.count.Add(1)
	e.busy.Add(-1)
}
func (e *eventOrder) NotifyJoin(*Node)   { e.enter() }
func (e *eventOrder) NotifyLeave(*Node)  { e.enter() }
func (e *eventOrder) NotifyUpdate(*Node) { e.enter() }

func TestEventDelegate_NotConcurrent(t *testing.T) {
	ev := &eventOrder{}
	c1 := testConfig(t)
	c1.Events = ev
	m1 := create(t, c1)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		m := createPeer(t, m1, testConfig(t))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Join([]string{joinAddr(m1)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	waitFor(t, "5 join events", func() (bool, string) {
		return ev.count.Load() >= 5, fmt.Sprint(ev.count.Load())
	})
	if ev.overlapped.Load() {
		t.Fatal("an EventDelegate call started inside another")
	}
}

// panicky panics in NotifyMsg for "boom" and records everything else.
type panicky struct{ mockDelegate }

func (p *panicky) NotifyMsg(msg []byte) {
	if string(msg) == "boom" {
		panic("delegate exploded")
	}
	p.mockDelegate.NotifyMsg(msg)
}

func TestDelegatePanicIsRecovered(t *testing.T) {
	var mu sync.Mutex
	var logs strings.Builder
	d := &panicky{}
	c1 := testConfig(t)
	c1.Delegate = d
	c1.Logger = nil
	c1.LogOutput = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	})
	m1 := create(t, c1)
	m2 := joinPeer(t, m1, testConfig(t))
	to := m1.LocalNode()
	if err := m2.SendReliable(to, []byte("boom")); err != nil {
		t.Fatal(err)
	}
	if err := m2.SendReliable(to, []byte("after")); err != nil {
		t.Fatal(err)
	}
	waitForMsgs(t, &d.mockDelegate, "after")
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "[ERR] memberlist: panic in Delegate.NotifyMsg") ||
		!strings.Contains(logs.String(), "delegate exploded") {
		t.Fatalf("the panic was not logged: %q", logs.String())
	}
}

// reentrant calls back into its own memberlist from NotifyMsg.
type reentrant struct {
	mockDelegate
	m       atomic.Pointer[Memberlist]
	peer    string
	results chan string
}

func (r *reentrant) NotifyMsg(msg []byte) {
	m := r.m.Load()
	if m == nil || string(msg) != "go" {
		return
	}
	// NotifyMsg runs as memberlist's handler goroutine does: snapshots, blocking calls and
	// even Shutdown work from inside it.
	n := m.NumMembers()
	_, joinErr := m.Join([]string{r.peer})
	shutdownErr := m.Shutdown()
	r.results <- fmt.Sprintf("%d|%v|%v", n, joinErr, shutdownErr)
}

func TestCallbackReentrancy(t *testing.T) {
	d := &reentrant{results: make(chan string, 1)}
	c1 := testConfig(t)
	c1.Delegate = d
	m1 := create(t, c1)
	m2 := joinPeer(t, m1, testConfig(t))
	d.peer = joinAddr(m2)
	d.m.Store(m1)
	if err := m2.SendBestEffort(m1.LocalNode(), []byte("go")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-d.results:
		if r != "2|<nil>|<nil>" {
			t.Fatalf("from a callback: NumMembers|Join|Shutdown = %s", r)
		}
	case <-time.After(waitTimeout):
		t.Fatal("NotifyMsg not called")
	}
	// Shut down from its own delegate: the port is free again at once.
	if err := m1.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if m1.NumMembers() != 2 {
		t.Fatalf("after Shutdown the last membership stays readable, got %d", m1.NumMembers())
	}
}

func TestShutdownDuringJoin(t *testing.T) {
	c1 := testConfig(t)
	c1.TCPTimeout = 2 * time.Second
	m1 := create(t, c1)
	// A peer that accepts TCP and never answers keeps Join waiting.
	blackhole := nextAddr()
	l, err := listenTCP(blackhole.String(), c1.BindPort)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if conn, err := l.Accept(); err == nil {
			accepted <- conn
		}
	}()
	joined := make(chan error, 1)
	go func() {
		_, err := m1.Join([]string{"bh/" + blackhole.String()})
		joined <- err
	}()
	// Shut down while the Join's push/pull is in flight: its connection is open and unanswered.
	select {
	case conn := <-accepted:
		defer conn.Close()
	case <-time.After(waitTimeout):
		t.Fatal("Join never dialed the peer")
	}
	start := time.Now()
	if err := m1.Shutdown(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-joined:
		if err == nil {
			t.Fatal("Join must fail once the node is shut down")
		}
	case <-time.After(waitTimeout):
		t.Fatal("Join still blocked after Shutdown")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
}

func TestEventForwarder_BoundAndShutdown(t *testing.T) {
	ch := make(chan NodeEvent) // nobody reads yet
	f := newEventForwarder(ch)
	queued := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.queue)
	}
	for i := 0; i < maxQueuedEvents; i++ {
		f.push(NodeEvent{Event: NodeJoin, Node: &Node{Name: fmt.Sprint(i)}})
	}
	// The forwarder goroutine takes event 0 and waits to send it; the rest stay queued.
	waitFor(t, "the forwarder to take the first event", func() (bool, string) {
		return queued() == maxQueuedEvents-1, fmt.Sprint(queued())
	})
	f.push(NodeEvent{Event: NodeJoin, Node: &Node{Name: "last"}}) // reaches the bound
	pushed := make(chan struct{})
	go func() {
		f.push(NodeEvent{Event: NodeLeave, Node: &Node{Name: "blocked"}})
		close(pushed)
	}()
	select {
	case <-pushed:
		t.Fatal("a push past the bound should wait for the reader")
	case <-time.After(50 * time.Millisecond):
	}
	// Reading makes room: the waiting push gets in, and order is kept.
	for i := 0; i < 2; i++ {
		if ev := <-ch; ev.Node.Name != fmt.Sprint(i) {
			t.Fatalf("event %d is %s", i, ev.Node.Name)
		}
	}
	select {
	case <-pushed:
	case <-time.After(waitTimeout):
		t.Fatal("the waiting push did not get in after the reader made room")
	}
	// Refill to the bound; a waiting push is then released by stopBlocking (Shutdown).
	for queued() < maxQueuedEvents {
		f.push(NodeEvent{Event: NodeUpdate, Node: &Node{Name: "filler"}})
	}
	pushed2 := make(chan struct{})
	go func() {
		f.push(NodeEvent{Event: NodeLeave, Node: &Node{Name: "dropped"}})
		close(pushed2)
	}()
	f.stopBlocking()
	select {
	case <-pushed2:
	case <-time.After(waitTimeout):
		t.Fatal("stopBlocking did not release the waiting push")
	}
	f.close()
	f.push(NodeEvent{}) // after close: dropped, returns at once
	if queued() != 0 {
		waitFor(t, "close to drop the queue", func() (bool, string) { return queued() == 0, fmt.Sprint(queued()) })
	}
}
