// Command app is an ordinary program written against github.com/hashicorp/memberlist and
// nothing else. The drop-in test builds this file unchanged twice: as is, and with one
// go.mod line, `replace github.com/hashicorp/memberlist => <libmemberlist>/go`.
//
//	app selftest                          three nodes in this process, every API used below,
//	                                      then the edge cases (nil/empty inputs, error texts)
//	app peer -name a                      one node; prints "ready <addr>"
//	app peer -name b -join <addr>         ... joins; both wait for -expect members,
//	                                      message each other reliably, then leave
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/hashicorp/memberlist"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: app selftest | app peer -name N [-join ADDR] [-expect N]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "selftest":
		if err = selftest(); err == nil {
			err = edges()
		}
	case "peer":
		err = peer(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("PASS")
}

// node is one memberlist with the delegates an application typically has.
type node struct {
	name   string
	ml     *memberlist.Memberlist
	queue  *memberlist.TransmitLimitedQueue
	events chan memberlist.NodeEvent

	mu     sync.Mutex
	meta   []byte
	msgs   []string
	states []string
	seen   []string // "join:b", "update:b", "leave:b"
}

func (n *node) NodeMeta(limit int) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.meta
}
func (n *node) NotifyMsg(b []byte) {
	n.mu.Lock()
	n.msgs = append(n.msgs, string(b))
	n.mu.Unlock()
}
func (n *node) GetBroadcasts(overhead, limit int) [][]byte {
	return n.queue.GetBroadcasts(overhead, limit)
}
func (n *node) LocalState(join bool) []byte { return []byte("state of " + n.name) }
func (n *node) MergeRemoteState(buf []byte, join bool) {
	n.mu.Lock()
	n.states = append(n.states, string(buf))
	n.mu.Unlock()
}

type broadcast string

func (b broadcast) Invalidates(o memberlist.Broadcast) bool {
	return o.Message() != nil && string(o.Message()) == string(b)
}
func (b broadcast) Message() []byte { return []byte(b) }
func (b broadcast) Finished()       {}

func newNode(name string, key []byte) (*node, error) {
	n := &node{name: name, meta: []byte("role=" + name), events: make(chan memberlist.NodeEvent, 16)}
	c := memberlist.DefaultLocalConfig()
	c.Name = name
	c.BindAddr = "127.0.0.1"
	c.BindPort = 0
	c.LogOutput = io.Discard
	c.Delegate = n
	c.Events = &memberlist.ChannelEventDelegate{Ch: n.events}
	if key != nil {
		c.SecretKey = key
	}
	n.queue = &memberlist.TransmitLimitedQueue{RetransmitMult: c.RetransmitMult, NumNodes: func() int { return 3 }}
	// ChannelEventDelegate blocks until the event is read.
	go func() {
		for ev := range n.events {
			kind := map[memberlist.NodeEventType]string{memberlist.NodeJoin: "join", memberlist.NodeLeave: "leave", memberlist.NodeUpdate: "update"}[ev.Event]
			n.mu.Lock()
			n.seen = append(n.seen, kind+":"+ev.Node.Name+":"+string(ev.Node.Meta))
			n.mu.Unlock()
		}
	}()
	ml, err := memberlist.Create(c)
	if err != nil {
		return nil, err
	}
	n.ml = ml
	return n, nil
}

func (n *node) has(list *[]string, want string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range *list {
		if s == want {
			return true
		}
	}
	return false
}

func (n *node) names() string {
	var out []string
	for _, m := range n.ml.Members() {
		out = append(out, m.Name)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func (n *node) member(name string) *memberlist.Node {
	for _, m := range n.ml.Members() {
		if m.Name == name {
			return m
		}
	}
	return nil
}

func waitFor(what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out waiting for " + what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("ok:", what)
	return nil
}

func selftest() error {
	key := []byte("0123456789abcdef0123456789abcdef")
	var nodes []*node
	defer func() {
		for _, n := range nodes {
			n.ml.Shutdown()
			close(n.events)
		}
	}()
	for _, name := range []string{"a", "b", "c"} {
		n, err := newNode(name, key)
		if err != nil {
			return fmt.Errorf("create %s: %v", name, err)
		}
		nodes = append(nodes, n)
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	if !a.ml.LocalNode().Addr.IsLoopback() || a.ml.LocalNode().Port == 0 {
		return fmt.Errorf("a's LocalNode is %s", a.ml.LocalNode().Address())
	}
	for _, n := range nodes[1:] {
		if k, err := n.ml.Join([]string{a.ml.LocalNode().Address()}); err != nil || k != 1 {
			return fmt.Errorf("%s join: %d, %v", n.name, k, err)
		}
	}
	for _, n := range nodes {
		if err := waitFor(n.name+" sees a,b,c", 10*time.Second, func() bool { return n.names() == "a,b,c" && n.ml.NumMembers() == 3 }); err != nil {
			return err
		}
	}
	if err := waitFor("a got b's join event with its meta", 10*time.Second, func() bool { return a.has(&a.seen, "join:b:role=b") }); err != nil {
		return err
	}
	if err := waitFor("a merged b's push/pull state", 10*time.Second, func() bool { return a.has(&a.states, "state of b") }); err != nil {
		return err
	}

	// Metadata change.
	b.mu.Lock()
	b.meta = []byte("role=b2")
	b.mu.Unlock()
	t0 := time.Now()
	if err := b.ml.UpdateNode(5 * time.Second); err != nil {
		return fmt.Errorf("UpdateNode: %v", err)
	}
	fmt.Println("ok: UpdateNode returned after", time.Since(t0).Round(time.Millisecond))
	if err := waitFor("c got b's update event", 10*time.Second, func() bool { return c.has(&c.seen, "update:b:role=b2") }); err != nil {
		return err
	}
	if err := waitFor("a's member list has b's new meta", 10*time.Second, func() bool {
		m := a.member("b")
		return m != nil && bytes.Equal(m.Meta, []byte("role=b2"))
	}); err != nil {
		return err
	}

	// Messages: reliable, best-effort, and a broadcast through the delegate's queue.
	if err := a.ml.SendReliable(a.member("c"), []byte("hello c")); err != nil {
		return fmt.Errorf("SendReliable: %v", err)
	}
	if err := waitFor("c got a's reliable message", 10*time.Second, func() bool { return c.has(&c.msgs, "hello c") }); err != nil {
		return err
	}
	if err := waitFor("b got c's best-effort message", 10*time.Second, func() bool {
		// Best effort may be lost: resent on every poll until it arrives.
		_ = c.ml.SendBestEffort(c.member("b"), []byte("psst b"))
		return b.has(&b.msgs, "psst b")
	}); err != nil {
		return err
	}
	// A broadcast is sent a bounded number of times (RetransmitMult * log10(N+1): 4 here), and
	// with three nodes the piggybacks on probes and acks may spend them all on one peer; in
	// memberlist too. So it is queued again (replacing the queued copy) while a peer lacks it.
	a.queue.QueueBroadcast(broadcast("news from a"))
	for _, n := range []*node{b, c} {
		polls := 0
		if err := waitFor(n.name+" got a's broadcast", 10*time.Second, func() bool {
			if polls++; polls%50 == 0 {
				a.queue.QueueBroadcast(broadcast("news from a"))
			}
			return n.has(&n.msgs, "news from a")
		}); err != nil {
			return err
		}
	}
	la := a.ml.LocalNode()
	// Only the error is checked: memberlist's Ping records the send time after the send
	// returns, so on loopback the ack can be stamped earlier and the RTT come out negative.
	if _, err := b.ml.Ping("a", &net.UDPAddr{IP: la.Addr, Port: int(la.Port)}); err != nil {
		return fmt.Errorf("b Ping a: %v", err)
	}
	fmt.Println("ok: b pinged a")

	// Leave and shutdown.
	if err := c.ml.Leave(5 * time.Second); err != nil {
		return fmt.Errorf("Leave: %v", err)
	}
	if err := waitFor("a and b see c leave", 10*time.Second, func() bool {
		return a.names() == "a,b" && b.names() == "a,b" && a.has(&a.seen, "leave:c:role=c")
	}); err != nil {
		return err
	}
	if err := c.ml.Shutdown(); err != nil {
		return fmt.Errorf("Shutdown: %v", err)
	}
	return nil
}

func peer(args []string) error {
	fs := flag.NewFlagSet("peer", flag.ContinueOnError)
	name := fs.String("name", "", "node name")
	join := fs.String("join", "", "address of a peer to join")
	expect := fs.Int("expect", 2, "members to wait for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := newNode(*name, nil)
	if err != nil {
		return err
	}
	defer func() { n.ml.Shutdown(); close(n.events) }()
	fmt.Println("ready", n.ml.LocalNode().Address())
	if *join != "" {
		if k, err := n.ml.Join([]string{*join}); err != nil || k != 1 {
			return fmt.Errorf("join %s: %d, %v", *join, k, err)
		}
	}
	if err := waitFor(fmt.Sprintf("%d members", *expect), 20*time.Second, func() bool { return n.ml.NumMembers() == *expect }); err != nil {
		return err
	}
	var others []*memberlist.Node
	for _, m := range n.ml.Members() {
		if m.Name != *name {
			others = append(others, m)
			if err := n.ml.SendReliable(m, []byte("hello "+m.Name+" from "+*name)); err != nil {
				return err
			}
		}
	}
	for _, m := range others {
		want := "hello " + *name + " from " + m.Name
		if err := waitFor("message from "+m.Name, 20*time.Second, func() bool { return n.has(&n.msgs, want) }); err != nil {
			return err
		}
	}
	// Stay until every peer has our message and we have theirs: wait until the others
	// leave, or leave first if we are the joiner.
	if *join != "" {
		return n.ml.Leave(5 * time.Second)
	}
	return waitFor("the others leave", 20*time.Second, func() bool { return n.ml.NumMembers() == 1 })
}

// expectErr checks an error's exact text; with multi, that it is a *multierror.Error (as
// consumers assert) whose entries have these texts.
func expectErr(what string, err error, multi bool, want ...string) error {
	if err == nil {
		return fmt.Errorf("%s: no error, want %q", what, want)
	}
	var got []string
	if multi {
		merr, ok := err.(*multierror.Error)
		if !ok {
			return fmt.Errorf("%s: error is a %T, not a *multierror.Error: %v", what, err, err)
		}
		for _, e := range merr.Errors {
			got = append(got, e.Error())
		}
	} else {
		got = []string{err.Error()}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		return fmt.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
	fmt.Println("ok:", what)
	return nil
}

// closedPort is a loopback TCP port nothing listens on.
func closedPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// edges: what a consumer meets first, with memberlist's exact results.
func edges() error {
	seed, err := newNode("seed", nil)
	if err != nil {
		return err
	}
	defer func() { seed.ml.Shutdown(); close(seed.events) }()

	// A first node with no peers to join.
	for _, peers := range [][]string{nil, {}} {
		if k, err := seed.ml.Join(peers); k != 0 || err != nil {
			return fmt.Errorf("Join(%#v) = %d, %v; want 0, nil", peers, k, err)
		}
	}
	fmt.Println("ok: Join with no peers is (0, nil)")

	port, err := closedPort()
	if err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	k, err := seed.ml.Join([]string{"x/" + addr, "/127.0.0.1", "127.0.0.1:99999"})
	if k != 0 {
		return fmt.Errorf("failed Join contacted %d", k)
	}
	if err := expectErr("Join's errors", err, true,
		"failed to join "+addr+": dial tcp "+addr+": connect: connection refused",
		"failed to resolve /127.0.0.1: empty node name provided",
		`failed to resolve 127.0.0.1:99999: strconv.ParseUint: parsing "99999": value out of range`); err != nil {
		return err
	}

	_, err = memberlist.ParseCIDRs([]string{"10.0.0.0/8", "bad"})
	if err := expectErr("ParseCIDRs", err, true, "invalid cidr: bad"); err != nil {
		return err
	}
	if err := expectErr("ParseCIDRs text", err, false, "1 error occurred:\n\t* invalid cidr: bad\n\n"); err != nil {
		return err
	}

	// Create on a port that is taken, and with an AdvertiseAddr that is no IP.
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer l.Close()
	c := memberlist.DefaultLocalConfig()
	c.Name, c.BindAddr, c.BindPort, c.LogOutput = "taken", "127.0.0.1", l.Addr().(*net.TCPAddr).Port, io.Discard
	_, err = memberlist.Create(c)
	if err := expectErr("Create on a taken port", err, false, fmt.Sprintf(
		`could not set up network transport: failed to obtain an address: failed to start TCP listener on "127.0.0.1" port %d: listen tcp %s: bind: address already in use`,
		c.BindPort, l.Addr())); err != nil {
		return err
	}
	c = memberlist.DefaultLocalConfig()
	c.Name, c.BindAddr, c.BindPort, c.AdvertiseAddr, c.LogOutput = "adv", "127.0.0.1", 0, "node1", io.Discard
	_, err = memberlist.Create(c)
	if err := expectErr("Create with a host name as AdvertiseAddr", err, false,
		`failed to get final advertise address: failed to parse advertise address "node1"`); err != nil {
		return err
	}
	c = memberlist.DefaultLocalConfig()
	c.ProtocolVersion = 0
	_, err = memberlist.Create(c)
	if err := expectErr("Create with protocol version 0", err, false, "protocol version '0' too low. Must be in range: [1, 5]"); err != nil {
		return err
	}

	err = seed.ml.SendToAddress(memberlist.Address{Addr: "nohost", Name: "x"}, []byte("hi"))
	if err := expectErr("SendToAddress without a port", err, false, "address nohost: missing port in address"); err != nil {
		return err
	}

	_, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{})
	if err := expectErr("NewNetTransport without addresses", err, false, "at least one bind address is required"); err != nil {
		return err
	}
	var mn memberlist.MockNetwork
	_, err = mn.NewTransport("a").DialAddressTimeout(memberlist.Address{Addr: "127.0.0.1:9", Name: "b"}, time.Second)
	if err := expectErr("MockTransport dial to nowhere", err, false, "no route to {127.0.0.1:9 b}"); err != nil {
		return err
	}

	// Keyrings.
	key := []byte("0123456789abcdef")
	_, err = memberlist.NewKeyring([][]byte{key}, nil)
	if err := expectErr("NewKeyring without a primary", err, false, "empty primary key not allowed"); err != nil {
		return err
	}
	kr, err := memberlist.NewKeyring(nil, key)
	if err != nil {
		return err
	}
	if err := expectErr("AddKey of a short key", kr.AddKey([]byte("short")), false, "key size must be 16, 24 or 32 bytes"); err != nil {
		return err
	}
	if err := expectErr("UseKey of a missing key", kr.UseKey([]byte("fedcba9876543210")), false, "requested key is not in the keyring"); err != nil {
		return err
	}
	if err := expectErr("RemoveKey of the primary", kr.RemoveKey(key), false, "removing the primary key is not allowed"); err != nil {
		return err
	}
	if err := kr.RemoveKey([]byte("fedcba9876543210")); err != nil {
		return fmt.Errorf("RemoveKey of a missing key: %v", err)
	}
	empty, err := memberlist.NewKeyring(nil, nil)
	if err != nil || len(empty.GetKeys()) != 0 || empty.GetPrimaryKey() != nil {
		return fmt.Errorf("NewKeyring(nil, nil) = %v, %v", empty.GetKeys(), err)
	}

	// Small types.
	n := &memberlist.Node{Name: "v6", Addr: net.ParseIP("::1"), Port: 7946}
	a := n.FullAddress()
	if n.Address() != "[::1]:7946" || a.String() != "v6 ([::1]:7946)" || n.String() != "v6" {
		return fmt.Errorf("Node: %q %q %q", n.Address(), a.String(), n.String())
	}
	if s := (&memberlist.Address{Addr: "1.2.3.4:5"}).String(); s != "1.2.3.4:5" {
		return fmt.Errorf("Address.String() = %q", s)
	}
	fmt.Println("ok: Node and Address formatting")
	return nil
}
