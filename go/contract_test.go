package memberlist

// memberlist's concurrency and delivery contract, tested the way its consumers (serf,
// alertmanager, Consul) write code: their own lock held around our calls and taken inside
// their delegates; messages delivered in memberlist's handoff order; nothing a user hands us
// dropped silently.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedConsumer is a component with one state lock, as serf and alertmanager have: its
// delegates take the lock, and so do its own methods around calls into the Memberlist.
type lockedConsumer struct {
	mu       sync.Mutex
	msgs     int
	joins    int
	leaves   int
	attempts atomic.Int64 // delegate calls that reached for mu
	acquired atomic.Int64 // ... and got it
}

func newLockedConsumer() *lockedConsumer { return &lockedConsumer{} }

// waiting reports, while the caller holds mu (so acquired cannot grow), whether a delegate
// call is waiting for mu.
func (c *lockedConsumer) waiting() bool { return c.attempts.Load() > c.acquired.Load() }

func (c *lockedConsumer) NodeMeta(int) []byte             { return nil }
func (c *lockedConsumer) GetBroadcasts(int, int) [][]byte { return nil }
func (c *lockedConsumer) LocalState(bool) []byte          { return nil }
func (c *lockedConsumer) MergeRemoteState([]byte, bool)   {}

// lock takes the consumer's lock from a delegate, counting the attempt first.
func (c *lockedConsumer) lock() {
	c.attempts.Add(1)
	c.mu.Lock()
	c.acquired.Add(1)
}

func (c *lockedConsumer) NotifyUpdate(*Node) { c.lock(); c.mu.Unlock() }
func (c *lockedConsumer) NotifyJoin(*Node)   { c.lock(); c.joins++; c.mu.Unlock() }
func (c *lockedConsumer) NotifyLeave(*Node)  { c.lock(); c.leaves++; c.mu.Unlock() }
func (c *lockedConsumer) NotifyMsg([]byte)   { c.lock(); c.msgs++; c.mu.Unlock() }

// withDeadline runs f and fails the test if it does not return in time (a hang would
// otherwise stall the whole suite until go test's own timeout).
func withDeadline(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not return within %v: deadlock", what, waitTimeout)
	}
}

// The reported hang: a consumer holds its lock and calls Shutdown while NotifyMsg waits for
// that lock under traffic. Every call made with the lock held must return, the ports must be
// free for a restart on the same address at once, and this holds over many rounds.
func TestConsumerLockHeldAroundCallsWhileDelegatesWait(t *testing.T) {
	sender := create(t, testConfig(t))
	ip := nextAddr().String()
	port := sender.config.BindPort
	stop := make(chan struct{})
	var senderWG sync.WaitGroup
	defer func() {
		close(stop)
		senderWG.Wait()
	}()
	var target atomic.Pointer[Node]
	senderWG.Add(1)
	go func() { // traffic: a steady stream of user messages to whichever node runs now
		defer senderWG.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := target.Load(); n != nil {
				_ = sender.SendBestEffort(n, []byte("traffic"))
			}
			time.Sleep(time.Millisecond) // pacing of the traffic, not a wait for a condition
		}
	}()

	rounds := 15
	if testing.Short() {
		rounds = 5
	}
	for round := 0; round < rounds; round++ {
		c := newLockedConsumer()
		conf := testConfig(t)
		conf.BindAddr, conf.Name, conf.BindPort = ip, ip, port // the same ip:port every round
		conf.Delegate, conf.Events = c, c
		m, err := Create(conf)
		if err != nil {
			t.Fatalf("round %d: Create on %s:%d right after Shutdown: %v", round, ip, port, err)
		}
		if _, err := m.Join([]string{joinAddr(sender)}); err != nil {
			t.Fatalf("round %d: Join: %v", round, err)
		}
		target.Store(m.LocalNode())
		// Hold the lock until a delegate (under the traffic, mostly NotifyMsg) waits for it.
		c.mu.Lock()
		deadline := time.Now().Add(waitTimeout)
		for !c.waiting() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if !c.waiting() {
			c.mu.Unlock()
			t.Fatalf("round %d: no delegate call waits for the lock", round)
		}
		withDeadline(t, fmt.Sprintf("round %d: calls with the consumer's lock held", round), func() {
			if n := m.NumMembers(); n != 2 {
				t.Errorf("round %d: NumMembers = %d", round, n)
			}
			if len(m.Members()) != 2 {
				t.Errorf("round %d: Members", round)
			}
			if err := m.UpdateNode(time.Second); err != nil {
				t.Errorf("round %d: UpdateNode: %v", round, err)
			}
			if err := m.SendReliable(sender.LocalNode(), []byte("reliable")); err != nil {
				t.Errorf("round %d: SendReliable: %v", round, err)
			}
			if _, err := m.Ping(sender.config.Name, &net.UDPAddr{IP: net.ParseIP(sender.config.BindAddr), Port: port}); err != nil {
				t.Errorf("round %d: Ping: %v", round, err)
			}
			if round%2 == 0 {
				if err := m.Leave(time.Second); err != nil {
					t.Errorf("round %d: Leave: %v", round, err)
				}
			}
			if err := m.Shutdown(); err != nil {
				t.Errorf("round %d: Shutdown: %v", round, err)
			}
		})
		target.Store(nil)
		c.mu.Unlock()
		if t.Failed() {
			return
		}
	}
}

// memberlist's handler takes the newest message first: two user messages that arrive in one
// compound packet reach NotifyMsg newest first.
func TestCompoundUserMessagesArriveNewestFirst(t *testing.T) {
	d := &mockDelegate{}
	conf := testConfig(t)
	conf.Delegate = d
	m := create(t, conf)

	userMsg := func(s string) []byte { return append([]byte{8}, s...) } // userMsg type
	parts := [][]byte{userMsg("first"), userMsg("second")}
	var pkt bytes.Buffer
	pkt.WriteByte(7) // compoundMsg
	pkt.WriteByte(byte(len(parts)))
	for _, p := range parts {
		_ = binary.Write(&pkt, binary.BigEndian, uint16(len(p)))
	}
	for _, p := range parts {
		pkt.Write(p)
	}
	conn, err := net.Dial("udp", net.JoinHostPort(conf.BindAddr, fmt.Sprint(conf.BindPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(pkt.Bytes()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both messages", func() (bool, string) { return len(d.messages()) == 2, fmt.Sprint(len(d.messages())) })
	got := d.messages()
	if string(got[0]) != "second" || string(got[1]) != "first" {
		t.Fatalf("order %q, want newest first", got)
	}
	_ = m
}

// burstDelegate hands out n broadcasts in one GetBroadcasts call, ignoring the limit (as
// memberlist's TestMemberlist_UserData delegate does): every one must be sent.
type burstDelegate struct {
	mockDelegate
	once sync.Once
	n    int
}

func (d *burstDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	var out [][]byte
	d.once.Do(func() {
		for i := 0; i < d.n; i++ {
			out = append(out, []byte(fmt.Sprintf("broadcast-%03d", i)))
		}
	})
	return out
}

func TestAllBroadcastsADelegateReturnsAreSent(t *testing.T) {
	recv := &mockDelegate{}
	c1 := testConfig(t)
	c1.Delegate = recv
	m1 := create(t, c1)
	bd := &burstDelegate{n: 256}
	c2 := testConfig(t)
	c2.Delegate = bd
	joinPeer(t, m1, c2)
	waitFor(t, "256 broadcasts", func() (bool, string) {
		seen := map[string]bool{}
		for _, b := range recv.messages() {
			seen[string(b)] = true
		}
		return len(seen) == 256, fmt.Sprint(len(seen))
	})
}

// gatedDelegate blocks NotifyMsg until released, so messages pile up in the handoff queue.
type gatedDelegate struct {
	mockDelegate
	gate     chan struct{}
	entered  chan struct{}
	received atomic.Int32
}

func (d *gatedDelegate) NotifyMsg(b []byte) {
	select {
	case d.entered <- struct{}{}:
	default:
	}
	<-d.gate
	d.received.Add(1)
}

func TestFullHandoffQueueDropsAndLogs(t *testing.T) {
	d := &gatedDelegate{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	c1 := testConfig(t)
	c1.Delegate = d
	c1.HandoffQueueDepth = 4
	logs := captureLogs(c1)
	m1 := create(t, c1)
	m2 := joinPeer(t, m1, testConfig(t))
	if err := m2.SendBestEffort(m1.LocalNode(), []byte("first")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.entered: // one NotifyMsg in flight, blocked
	case <-time.After(waitTimeout):
		t.Fatal("NotifyMsg not called")
	}
	const sent = 20
	for i := 0; i < sent; i++ {
		if err := m2.SendBestEffort(m1.LocalNode(), []byte(fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	// Four wait in the queue; each of the other 16 is dropped with memberlist's warning.
	want := "[WARN] memberlist: handler queue full, dropping message (8) from="
	waitFor(t, "16 drop warnings", func() (bool, string) {
		return strings.Count(logs.String(), want) == sent-4, logs.String()
	})
	close(d.gate)
	// The one in flight plus the four queued ones are delivered, and nothing else.
	waitFor(t, "the queued messages", func() (bool, string) {
		return d.received.Load() == 1+4, fmt.Sprint(d.received.Load())
	})
	if n := strings.Count(logs.String(), want); n != sent-4 {
		t.Fatalf("%d drop warnings, want %d", n, sent-4)
	}
}

// keyringDelegate removes one key from NotifyMsg (a notification) and another from
// GetBroadcasts (on the loop): both act on the node's live keyring.
type keyringDelegate struct {
	mockDelegate
	ring              *Keyring
	fromMsg, fromLoop []byte
	armed             atomic.Bool
	msgErr, loopErr   chan error
}

func (d *keyringDelegate) NotifyMsg([]byte) {
	select {
	case d.msgErr <- d.ring.RemoveKey(d.fromMsg):
	default:
	}
}

func (d *keyringDelegate) GetBroadcasts(int, int) [][]byte {
	if d.armed.CompareAndSwap(true, false) {
		d.loopErr <- d.ring.RemoveKey(d.fromLoop)
	}
	return nil
}

func TestKeyringFromInsideDelegatesActsOnTheLiveRing(t *testing.T) {
	k1, k2, k3 := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 16)
	ring, err := NewKeyring([][]byte{k2, k3}, k1)
	if err != nil {
		t.Fatal(err)
	}
	d := &keyringDelegate{ring: ring, fromMsg: k2, fromLoop: k3, msgErr: make(chan error, 1), loopErr: make(chan error, 1)}
	c1 := testConfig(t)
	c1.Keyring, c1.Delegate = ring, d
	m1 := create(t, c1)
	ring2, _ := NewKeyring(nil, k1)
	c2 := testConfig(t)
	c2.Keyring = ring2
	m2 := joinPeer(t, m1, c2)
	if err := m2.SendReliable(m1.LocalNode(), []byte("remove")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.msgErr:
		if err != nil {
			t.Fatalf("RemoveKey from NotifyMsg: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("NotifyMsg not called")
	}
	d.armed.Store(true)
	select {
	case err := <-d.loopErr:
		if err != nil {
			t.Fatalf("RemoveKey from GetBroadcasts: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("GetBroadcasts not called")
	}
	if keys := ring.GetKeys(); len(keys) != 1 || !bytes.Equal(keys[0], k1) {
		t.Fatalf("keys after both removals: %x", keys)
	}
}
