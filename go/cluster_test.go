package memberlist

import (
	"bytes"
	"fmt"
	"net"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemberlist_Join(t *testing.T) {
	m1 := create(t, testConfig(t))
	m2 := createPeer(t, m1, testConfig(t))
	num, err := m2.Join([]string{joinAddr(m1)})
	if err != nil || num != 1 {
		t.Fatalf("Join = %d, %v; want 1, nil", num, err)
	}
	// The push/pull is complete when Join returns: both sides know each other.
	if n := len(m2.Members()); n != 2 {
		t.Fatalf("joiner has %d members: %v", n, m2.Members())
	}
	if n := m1.NumMembers(); n != 2 {
		t.Fatalf("joined node has %d members", n)
	}
}

func TestMemberlist_JoinAddressForms(t *testing.T) {
	m1 := create(t, testConfig(t))
	port := strconv.Itoa(m1.config.BindPort)
	for _, addr := range []string{
		m1.config.BindAddr,                                     // host: the default port is BindPort
		net.JoinHostPort(m1.config.BindAddr, port),             // host:port
		m1.config.Name + "/" + m1.config.BindAddr + ":" + port, // name/host:port
	} {
		t.Run(addr, func(t *testing.T) {
			c := testConfig(t)
			c.RequireNodeNames = false // joining a bare address
			m2 := createPeer(t, m1, c)
			if num, err := m2.Join([]string{addr}); err != nil || num != 1 {
				t.Fatalf("Join(%q) = %d, %v", addr, num, err)
			}
		})
	}
	t.Run("several, one bad", func(t *testing.T) {
		m2 := createPeer(t, m1, testConfig(t))
		num, err := m2.Join([]string{joinAddr(m1), "127.0.0.1:notaport"})
		if err != nil || num != 1 {
			t.Fatalf("a partial success is a success: %d, %v", num, err)
		}
	})
	t.Run("bad inputs", func(t *testing.T) {
		m2 := createPeer(t, m1, testConfig(t))
		for _, addr := range []string{"", "/127.0.0.1", "127.0.0.1:99999", "no-such-host.invalid"} {
			num, err := m2.Join([]string{addr})
			if err == nil || num != 0 {
				t.Fatalf("Join(%q) = %d, %v; want an error", addr, num, err)
			}
			if !strings.Contains(err.Error(), addr) {
				t.Fatalf("error for %q does not name it: %v", addr, err)
			}
		}
		if num, err := m2.Join(nil); err != nil || num != 0 {
			t.Fatalf("Join(nil) = %d, %v; want 0, nil as memberlist", num, err)
		}
	})
}

func TestMemberlist_JoinHostName(t *testing.T) {
	ips, err := net.LookupIP("localhost")
	if err != nil || len(ips) == 0 {
		t.Skip("localhost does not resolve here")
	}
	c := testConfig(t)
	c.BindAddr, c.Name = "127.0.0.1", "localhost-node"
	m1 := create(t, c)
	m2 := create(t, testConfig(t))
	num, err := m2.Join([]string{"localhost-node/localhost:" + strconv.Itoa(m1.config.BindPort)})
	if err != nil || num != 1 {
		t.Fatalf("Join via a host name = %d, %v", num, err)
	}
}

func testJoinWithLabels(t *testing.T, key []byte) {
	newConfig := func(label string) *Config {
		c := testConfig(t)
		c.Label = label
		c.SecretKey = key
		return c
	}
	m1 := create(t, newConfig("blah"))
	m2 := createPeer(t, m1, newConfig("blah"))
	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("same label: Join = %d, %v", num, err)
	}
	waitForMembers(t, m1, 2)
	waitForMembers(t, m2, 2)

	for _, label := range []string{"", "not-blah"} {
		m := createPeer(t, m1, newConfig(label))
		if _, err := m.Join([]string{joinAddr(m1)}); err == nil {
			t.Fatalf("label %q joined a cluster labelled blah", label)
		}
		if m.NumMembers() != 1 || m1.NumMembers() != 2 || m2.NumMembers() != 2 {
			t.Fatalf("a refused join changed membership: %d %d %d", m.NumMembers(), m1.NumMembers(), m2.NumMembers())
		}
	}
}

func TestMemberlist_Join_with_Labels(t *testing.T) { testJoinWithLabels(t, nil) }

func TestMemberlist_Join_with_Labels_and_Encryption(t *testing.T) {
	testJoinWithLabels(t, []byte("0123456789abcdef"))
}

func TestMemberlist_JoinDifferentNetworksUniqueMask(t *testing.T) {
	cidrs, err := ParseCIDRs([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	c1 := testConfigNet(t, 0)
	c1.CIDRsAllowed = cidrs
	m1 := create(t, c1)
	c2 := testConfigNet(t, 1)
	c2.CIDRsAllowed = cidrs
	m2 := createPeer(t, m1, c2)
	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	if m2.NumMembers() != 2 {
		t.Fatalf("members: %v", m2.Members())
	}
}

func TestMemberlist_JoinDifferentNetworksMultiMasks(t *testing.T) {
	two, _ := ParseCIDRs([]string{"127.0.0.0/24", "127.0.1.0/24"})
	all, _ := ParseCIDRs([]string{"127.0.0.0/8"})
	c1 := testConfigNet(t, 0)
	c1.CIDRsAllowed = two
	m1 := create(t, c1)
	c2 := testConfigNet(t, 1)
	c2.CIDRsAllowed = two
	m2 := createPeer(t, m1, c2)
	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	if m2.NumMembers() != 2 {
		t.Fatalf("members: %v", m2.Members())
	}

	// A node from 127.0.2.0/24 that accepts everyone sees the others, but they refuse it.
	c3 := testConfigNet(t, 2)
	c3.CIDRsAllowed = all
	m3 := createPeer(t, m1, c3)
	if num, err := m3.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("rogue Join = %d, %v", num, err)
	}
	if m3.NumMembers() != 3 {
		t.Fatalf("rogue should see 3 members: %v", m3.Members())
	}
	if m1.NumMembers() != 2 || m2.NumMembers() != 2 {
		t.Fatalf("others must not accept the rogue: %v / %v", m1.Members(), m2.Members())
	}

	// A node that refuses its own network does not even list itself.
	c4 := testConfigNet(t, 2)
	c4.CIDRsAllowed = two
	m4 := createPeer(t, m1, c4)
	_, _ = m4.Join([]string{joinAddr(m1), joinAddr(m2)})
	if m4.NumMembers() != 2 {
		t.Fatalf("self-refusing node should list only the 2 others: %v", m4.Members())
	}
	if m1.NumMembers() != 2 || m2.NumMembers() != 2 {
		t.Fatalf("others must not accept it: %v / %v", m1.Members(), m2.Members())
	}
}

type refusingMerge struct {
	invoked atomic.Int32
	peers   atomic.Value // []*Node
}

func (r *refusingMerge) NotifyMerge(peers []*Node) error {
	r.invoked.Add(1)
	r.peers.Store(peers)
	return fmt.Errorf("Custom merge canceled")
}

func TestMemberlist_Join_Cancel(t *testing.T) {
	merge1, merge2 := &refusingMerge{}, &refusingMerge{}
	c1 := testConfig(t)
	c1.Merge = merge1
	m1 := create(t, c1)
	c2 := testConfig(t)
	c2.Merge = merge2
	m2 := createPeer(t, m1, c2)

	num, err := m2.Join([]string{joinAddr(m1)})
	if num != 0 || err == nil || !strings.Contains(err.Error(), "Custom merge canceled") {
		t.Fatalf("Join = %d, %v; want 0 and the delegate's error", num, err)
	}
	if m1.NumMembers() != 1 || m2.NumMembers() != 1 {
		t.Fatalf("a cancelled merge must not change membership: %v / %v", m1.Members(), m2.Members())
	}
	if merge1.invoked.Load() == 0 || merge2.invoked.Load() == 0 {
		t.Fatalf("both sides run the merge delegate: %d %d", merge1.invoked.Load(), merge2.invoked.Load())
	}
	// NotifyMerge is where Node.State is filled in.
	peers := merge2.peers.Load().([]*Node)
	if len(peers) != 1 || peers[0].Name != c1.Name || peers[0].State != StateAlive {
		t.Fatalf("merge peers: %+v", peers)
	}
}

type filteringAlive struct {
	allow string
	count atomic.Int32
}

func (f *filteringAlive) NotifyAlive(peer *Node) error {
	f.count.Add(1)
	if peer.Name == f.allow {
		return nil
	}
	return fmt.Errorf("Custom alive canceled")
}

func TestMemberlist_Join_Cancel_Passive(t *testing.T) {
	c1 := testConfig(t)
	alive1 := &filteringAlive{allow: c1.Name}
	c1.Alive = alive1
	m1 := create(t, c1)
	c2 := testConfig(t)
	alive2 := &filteringAlive{allow: c2.Name}
	c2.Alive = alive2
	m2 := createPeer(t, m1, c2)

	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v (the push/pull itself succeeds)", num, err)
	}
	if m1.NumMembers() != 1 || m2.NumMembers() != 1 {
		t.Fatalf("alive delegates refused everyone else: %v / %v", m1.Members(), m2.Members())
	}
	if alive1.count.Load() == 0 || alive2.count.Load() == 0 {
		t.Fatal("alive delegates were not called")
	}
}

func TestMemberlist_Join_protocolVersions(t *testing.T) {
	m1 := create(t, testConfig(t))
	m2 := createPeer(t, m1, testConfig(t))
	c3 := testConfig(t)
	c3.ProtocolVersion = ProtocolVersionMax
	m3 := createPeer(t, m1, c3)
	if _, err := m1.Join([]string{joinAddr(m2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m1.Join([]string{joinAddr(m3)}); err != nil {
		t.Fatal(err)
	}
	waitForMembers(t, m2, 3)
}

func TestMemberlist_Join_Protocol_Compatibility(t *testing.T) {
	for _, pair := range [][2]uint8{{2, 1}, {2, 3}, {3, 2}, {3, 1}, {1, 5}, {5, 2}} {
		t.Run(fmt.Sprintf("%d,%d", pair[0], pair[1]), func(t *testing.T) {
			c1 := testConfig(t)
			c1.ProtocolVersion = pair[0]
			m1 := create(t, c1)
			c2 := testConfig(t)
			c2.ProtocolVersion = pair[1]
			m2 := createPeer(t, m1, c2)
			if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
				t.Fatalf("Join = %d, %v", num, err)
			}
			waitForMembers(t, m1, 2)
			waitForMembers(t, m2, 2)
		})
	}
}

func TestMemberlist_Join_DeadNode(t *testing.T) {
	c1 := testConfig(t)
	c1.TCPTimeout = 50 * time.Millisecond
	m1 := create(t, c1)
	// A "node" that accepts TCP and never answers.
	addr2 := nextAddr()
	l, err := net.Listen("tcp", net.JoinHostPort(addr2.String(), strconv.Itoa(c1.BindPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Now()
	num, err := m1.Join([]string{"fake/" + addr2.String()})
	if num != 0 || err == nil {
		t.Fatalf("Join = %d, %v; want a failure", num, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Join took %v with TCPTimeout 50ms", d)
	}
}

func TestMemberlist_Join_IPv6(t *testing.T) {
	l, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skip("no IPv6 loopback")
	}
	l.Close()
	newConfig := func(name string) *Config {
		c := DefaultLocalConfig()
		c.Name, c.BindAddr, c.BindPort = name, "::1", 0
		c.Logger = testLogger(t, name)
		return c
	}
	m1 := create(t, newConfig("A"))
	c2 := newConfig("B")
	c2.BindAddr = "[::1]" // memberlist's own test spells it with brackets
	m2 := create(t, c2)
	target := fmt.Sprintf("%s/[%s]:%d", m1.config.Name, m1.config.BindAddr, m1.config.BindPort)
	if num, err := m2.Join([]string{target}); err != nil || num != 1 {
		t.Fatalf("Join(%s) = %d, %v", target, num, err)
	}
	if m1.NumMembers() != 2 || m2.NumMembers() != 2 {
		t.Fatalf("members: %v / %v", m1.Members(), m2.Members())
	}
	if a := m2.LocalNode().Addr; a.To4() != nil || !a.Equal(net.IPv6loopback) {
		t.Fatalf("advertised %s, want ::1", a)
	}
}

func TestAdvertiseAddr(t *testing.T) {
	c := testConfig(t)
	advertise := nextAddr()
	c.AdvertiseAddr = advertise.String()
	c.AdvertisePort = 40000
	c.BindPort = 0
	m := create(t, c)
	members := m.Members()
	if len(members) != 1 || !members[0].Addr.Equal(advertise) {
		t.Fatalf("members %v, want address %s", members, advertise)
	}
	// With BindPort 0 the bound port is advertised, as memberlist does.
	if int(members[0].Port) != c.BindPort {
		t.Fatalf("advertised port %d, bound %d", members[0].Port, c.BindPort)
	}

	// A fixed bind port keeps the advertised port.
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	free := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c2 := testConfig(t)
	c2.BindPort = free
	c2.AdvertiseAddr = advertise.String()
	c2.AdvertisePort = 40001
	m2, err := Create(c2)
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", free, err)
	}
	defer m2.Shutdown()
	if n := m2.LocalNode(); !n.Addr.Equal(advertise) || n.Port != 40001 {
		t.Fatalf("LocalNode %s, want %s:40001", n.Address(), advertise)
	}
}

func TestMemberlist_Leave(t *testing.T) {
	events := make(chan NodeEvent, 16)
	c1 := testConfig(t)
	m1 := create(t, c1)
	c2 := testConfig(t)
	c2.Events = &ChannelEventDelegate{Ch: events}
	m2 := createPeer(t, m1, c2)
	if _, err := m2.Join([]string{joinAddr(m1)}); err != nil {
		t.Fatal(err)
	}
	if err := m1.Leave(5 * time.Second); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if err := m1.Leave(time.Second); err != nil {
		t.Fatalf("a second Leave: %v", err)
	}
	waitForMembers(t, m2, 1)
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev := <-events:
			if ev.Event == NodeLeave && ev.Node.Name == c1.Name {
				return
			}
		case <-deadline:
			t.Fatal("no NodeLeave event for the node that left")
		}
	}
}

func TestMemberlist_JoinShutdown(t *testing.T) {
	newConfig := func() *Config {
		c := testConfig(t)
		c.ProbeInterval = 50 * time.Millisecond
		c.ProbeTimeout = 20 * time.Millisecond
		c.SuspicionMaxTimeoutMult = 1
		return c
	}
	m1 := create(t, newConfig())
	m2 := createPeer(t, m1, newConfig())
	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	if err := m1.Shutdown(); err != nil {
		t.Fatal(err)
	}
	// Shutdown sends nothing: m2 finds out by probing.
	waitForMembers(t, m2, 1)
}

func TestMemberlist_delegateMeta(t *testing.T) {
	d1, d2 := &mockDelegate{meta: []byte("web")}, &mockDelegate{meta: []byte("lb")}
	c1 := testConfig(t)
	c1.Delegate = d1
	m1 := create(t, c1)
	c2 := testConfig(t)
	c2.Delegate = d2
	m2 := createPeer(t, m1, c2)
	if _, err := m1.Join([]string{joinAddr(m2)}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{c1.Name: "web", c2.Name: "lb"}
	for _, m := range []*Memberlist{m1, m2} {
		waitFor(t, "metadata on "+m.config.Name, func() (bool, string) {
			got := roles(m)
			return reflect.DeepEqual(got, want), fmt.Sprint(got)
		})
	}
	if d1.metaLimit != MetaMaxSize {
		t.Fatalf("NodeMeta called with limit %d, want MetaMaxSize", d1.metaLimit)
	}
}

func roles(m *Memberlist) map[string]string {
	out := map[string]string{}
	for _, n := range m.Members() {
		out[n.Name] = string(n.Meta)
	}
	return out
}

type metaEvents struct {
	mu      sync.Mutex
	updates map[string]string
}

func (e *metaEvents) NotifyJoin(*Node)  {}
func (e *metaEvents) NotifyLeave(*Node) {}
func (e *metaEvents) NotifyUpdate(n *Node) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.updates[n.Name] = string(n.Meta)
}

func TestMemberlist_delegateMeta_Update(t *testing.T) {
	d1, d2 := &mockDelegate{meta: []byte("web")}, &mockDelegate{meta: []byte("lb")}
	ev := &metaEvents{updates: map[string]string{}}
	c1 := testConfig(t)
	c1.Delegate = d1
	c1.Events = ev
	m1 := create(t, c1)
	c2 := testConfig(t)
	c2.Delegate = d2
	m2 := createPeer(t, m1, c2)
	if _, err := m1.Join([]string{joinAddr(m2)}); err != nil {
		t.Fatal(err)
	}
	d1.setMeta([]byte("api"))
	d2.setMeta([]byte("db"))
	if err := m1.UpdateNode(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := m2.UpdateNode(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{c1.Name: "api", c2.Name: "db"}
	for _, m := range []*Memberlist{m1, m2} {
		waitFor(t, "new metadata on "+m.config.Name, func() (bool, string) {
			got := roles(m)
			return reflect.DeepEqual(got, want), fmt.Sprint(got)
		})
	}
	waitFor(t, "NotifyUpdate", func() (bool, string) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		return ev.updates[c2.Name] == "db", fmt.Sprint(ev.updates)
	})

	// Metadata over MetaMaxSize is refused with an error.
	d1.setMeta(make([]byte, MetaMaxSize+1))
	if err := m1.UpdateNode(time.Second); err == nil {
		t.Fatal("UpdateNode with oversized metadata must fail")
	}
}

func TestCreate_metaTooLarge(t *testing.T) {
	c := testConfig(t)
	c.Delegate = &mockDelegate{meta: make([]byte, MetaMaxSize+1)}
	m, err := Create(c)
	if err == nil {
		_ = m.Shutdown()
		t.Fatal("Create with oversized metadata must fail")
	}
}

func TestMemberlist_UserData(t *testing.T) {
	newConfig := func() (*Config, *mockDelegate) {
		d := &mockDelegate{}
		c := testConfig(t)
		c.GossipInterval = 20 * time.Millisecond
		c.PushPullInterval = 100 * time.Millisecond
		c.Delegate = d
		return c, d
	}
	c1, d1 := newConfig()
	d1.state = []byte("something")
	m1 := create(t, c1)

	bcasts := make([][]byte, 256)
	for i := range bcasts {
		bcasts[i] = []byte(strconv.Itoa(i))
	}
	c2, d2 := newConfig()
	d2.broadcasts = bcasts
	d2.state = []byte("my state")
	m2 := createPeer(t, m1, c2)

	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	// The push/pull Join starts carries the user state both ways, with join=true.
	if got := d1.remote(); string(got) != "my state" {
		t.Fatalf("m1 got remote state %q", got)
	}
	if got := d2.remote(); string(got) != "something" {
		t.Fatalf("m2 got remote state %q", got)
	}
	d2.mu.Lock()
	if len(d2.localJoin) == 0 || !d2.localJoin[0] || len(d2.mergeJoin) == 0 || !d2.mergeJoin[0] {
		t.Fatalf("the joiner's first LocalState/MergeRemoteState must have join=true: %v %v", d2.localJoin, d2.mergeJoin)
	}
	d2.mu.Unlock()
	d1.mu.Lock()
	if len(d1.mergeJoin) == 0 || !d1.mergeJoin[0] {
		t.Fatalf("the joined node's merge must have join=true: %v", d1.mergeJoin)
	}
	d1.mu.Unlock()

	want := make([]string, len(bcasts))
	for i, b := range bcasts {
		want[i] = string(b)
	}
	sort.Strings(want)
	waitFor(t, "all 256 user broadcasts", func() (bool, string) {
		var got []string
		for _, m := range d1.messages() {
			got = append(got, string(m))
		}
		sort.Strings(got)
		return reflect.DeepEqual(got, want), fmt.Sprintf("%d of %d", len(got), len(want))
	})
	// Periodic push/pulls use join=false.
	waitFor(t, "a periodic push/pull", func() (bool, string) {
		d1.mu.Lock()
		defer d1.mu.Unlock()
		for _, j := range d1.mergeJoin {
			if !j {
				return true, ""
			}
		}
		return false, fmt.Sprint(d1.mergeJoin)
	})
}

func TestMemberlist_SendTo(t *testing.T) {
	newConfig := func() (*Config, *mockDelegate) {
		d := &mockDelegate{}
		c := testConfig(t)
		c.Delegate = d
		return c, d
	}
	c1, d1 := newConfig()
	m1 := create(t, c1)
	c2, d2 := newConfig()
	m2 := createPeer(t, m1, c2)
	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}

	to2 := Address{Addr: net.JoinHostPort(c2.BindAddr, strconv.Itoa(c2.BindPort)), Name: c2.Name}
	if err := m1.SendToAddress(to2, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	to1 := Address{Addr: net.JoinHostPort(c1.BindAddr, strconv.Itoa(c1.BindPort)), Name: c1.Name}
	if err := m2.SendToAddress(to1, []byte("pong")); err != nil {
		t.Fatal(err)
	}
	// RequireNodeNames: an address without a name is refused.
	if err := m2.SendToAddress(Address{Addr: to1.Addr}, []byte("x")); err != errNodeNamesAreRequired {
		t.Fatalf("unnamed address with RequireNodeNames: %v", err)
	}
	if err := m2.SendTo(&net.UDPAddr{IP: net.ParseIP(c1.BindAddr), Port: c1.BindPort}, []byte("x")); err == nil {
		t.Fatal("SendTo has no name: must fail with RequireNodeNames")
	}
	waitForMsgs(t, d1, "pong")
	waitForMsgs(t, d2, "ping")

	// The node-based sends.
	var node1 *Node
	for _, n := range m2.Members() {
		if n.Name == c1.Name {
			node1 = n
		}
	}
	if err := m2.SendBestEffort(node1, []byte("udp")); err != nil {
		t.Fatal(err)
	}
	if err := m2.SendReliable(node1, []byte("tcp")); err != nil {
		t.Fatal(err)
	}
	if err := m2.SendToUDP(node1, []byte("udp2")); err != nil {
		t.Fatal(err)
	}
	if err := m2.SendToTCP(node1, []byte("tcp2")); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 100_000) // far over a UDP packet: reliable only
	if err := m2.SendReliable(node1, big); err != nil {
		t.Fatal(err)
	}
	waitForMsgs(t, d1, "pong", "udp", "tcp", "udp2", "tcp2", string(big))

	if err := m2.SendReliable(&Node{Name: "nobody", Addr: net.ParseIP("127.0.0.1"), Port: 1}, []byte("x")); err == nil {
		t.Fatal("SendReliable to an address nobody listens on must fail")
	}
	if err := m2.SendToAddress(Address{Addr: "no port", Name: "x"}, []byte("x")); err == nil {
		t.Fatal("a bad address must fail")
	}
}

// SendReliable dials the Node's address as given, as memberlist's does: the node need not be a
// member (before, libmemberlist looked it up by name and refused a stranger).
func TestMemberlist_SendReliableToANodeOutsideTheCluster(t *testing.T) {
	d1 := &mockDelegate{}
	c1 := testConfig(t)
	c1.Delegate = d1
	m1 := create(t, c1)
	m2 := create(t, testConfig(t)) // never joined: m1 is not among its members
	if n := m2.NumMembers(); n != 1 {
		t.Fatalf("m2 has %d members", n)
	}
	if err := m2.SendReliable(m1.LocalNode(), []byte("from a stranger")); err != nil {
		t.Fatal(err)
	}
	waitForMsgs(t, d1, "from a stranger")
}

func waitForMsgs(t *testing.T, d *mockDelegate, want ...string) {
	t.Helper()
	sort.Strings(want)
	waitFor(t, "user messages", func() (bool, string) {
		var got []string
		for _, m := range d.messages() {
			got = append(got, string(m))
		}
		sort.Strings(got)
		return reflect.DeepEqual(got, want), fmt.Sprintf("%d messages, want %d", len(got), len(want))
	})
}

func TestMemberlistProtocolVersion(t *testing.T) {
	c := testConfig(t)
	c.ProtocolVersion = ProtocolVersionMax
	m := create(t, c)
	if v := m.ProtocolVersion(); v != ProtocolVersionMax {
		t.Fatalf("ProtocolVersion = %d", v)
	}
}

type recordingConflict struct {
	mu              sync.Mutex
	existing, other *Node
}

func (r *recordingConflict) NotifyConflict(existing, other *Node) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.existing, r.other = existing, other
}

func TestMemberlist_conflictDelegate(t *testing.T) {
	conflict := &recordingConflict{}
	c1 := testConfig(t)
	c1.Conflict = conflict
	m1 := create(t, c1)
	c2 := testConfig(t)
	c2.Name = c1.Name // same name, other address
	m2 := createPeer(t, m1, c2)
	if num, err := m1.Join([]string{c2.Name + "/" + c2.BindAddr}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	_ = m2
	waitFor(t, "NotifyConflict", func() (bool, string) {
		conflict.mu.Lock()
		defer conflict.mu.Unlock()
		return conflict.existing != nil && conflict.other != nil, "not called"
	})
	conflict.mu.Lock()
	defer conflict.mu.Unlock()
	if conflict.existing.Name != conflict.other.Name || conflict.existing.Addr.Equal(conflict.other.Addr) {
		t.Fatalf("conflict between %s@%s and %s@%s", conflict.existing.Name, conflict.existing.Addr,
			conflict.other.Name, conflict.other.Addr)
	}
}

type recordingPing struct {
	mu      sync.Mutex
	other   *Node
	rtt     time.Duration
	payload []byte
}

const pingPayload = "whatever"

func (p *recordingPing) AckPayload() []byte { return []byte(pingPayload) }
func (p *recordingPing) NotifyPingComplete(other *Node, rtt time.Duration, payload []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.other, p.rtt, p.payload = other, rtt, payload
}

func TestMemberlist_PingDelegate(t *testing.T) {
	newConfig := func() *Config {
		c := testConfig(t)
		c.ProbeInterval = 100 * time.Millisecond
		c.Ping = &recordingPing{}
		return c
	}
	c1 := newConfig()
	m1 := create(t, c1)
	c2 := newConfig()
	m2 := createPeer(t, m1, c2)
	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	rec := c2.Ping.(*recordingPing)
	waitFor(t, "a completed probe", func() (bool, string) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.other != nil, "no NotifyPingComplete yet"
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !reflect.DeepEqual(rec.other, m1.LocalNode()) {
		t.Fatalf("probed %+v, want %+v", rec.other, m1.LocalNode())
	}
	if rec.rtt <= 0 {
		t.Fatalf("rtt %v", rec.rtt)
	}
	if string(rec.payload) != pingPayload {
		t.Fatalf("payload %q", rec.payload)
	}
}

// DisableTcpPingsForNode is asked about a node whose direct probe failed: here the peer that
// shut down without leaving.
func TestMemberlist_DisableTcpPingsForNode(t *testing.T) {
	var mu sync.Mutex
	asked := map[string]int{}
	c1 := testConfig(t)
	c1.ProbeInterval = 100 * time.Millisecond
	c1.ProbeTimeout = 50 * time.Millisecond
	c1.DisableTcpPingsForNode = func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		asked[name]++
		return true
	}
	m1 := create(t, c1)
	m2 := createPeer(t, m1, testConfig(t))
	if num, err := m2.Join([]string{joinAddr(m1)}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	name2 := m2.LocalNode().Name
	waitForMembers(t, m1, 2)
	mu.Lock()
	before := asked[name2] // a loaded machine may have missed a direct ack already
	mu.Unlock()
	if err := m2.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "DisableTcpPingsForNode asked about the stopped peer", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return asked[name2] > before, fmt.Sprintf("asked %v", asked)
	})
}

func TestMemberlist_Ping(t *testing.T) {
	m1 := create(t, testConfig(t))
	m2 := createPeer(t, m1, testConfig(t))
	addr := &net.UDPAddr{IP: net.ParseIP(m2.config.BindAddr), Port: m2.config.BindPort}
	rtt, err := m1.Ping(m2.config.Name, addr)
	if err != nil || rtt <= 0 {
		t.Fatalf("Ping = %v, %v", rtt, err)
	}
	// Nobody there: NoPingResponseError after ProbeTimeout.
	dead := &net.UDPAddr{IP: nextAddr(), Port: m2.config.BindPort}
	_, err = m1.Ping("ghost", dead)
	if _, ok := err.(NoPingResponseError); !ok {
		t.Fatalf("Ping to nobody: %T %v", err, err)
	}
	if err.Error() != "No response from node ghost" {
		t.Fatalf("error text %q", err)
	}
}

func TestGossip_MismatchedKeys(t *testing.T) {
	c1 := testConfig(t)
	c1.SecretKey = []byte("4W6DGn2VQVqDEceOdmuRTQ==")[:16]
	m1 := create(t, c1)
	c2 := testConfig(t)
	c2.SecretKey = []byte("XhX/w702/JKKK7/7OtM9Ww==")[:16]
	m2 := createPeer(t, m1, c2)
	if _, err := m2.Join([]string{joinAddr(m1)}); err == nil {
		t.Fatal("nodes with different keys must not join")
	}
	if m1.NumMembers() != 1 || m2.NumMembers() != 1 {
		t.Fatalf("members: %v / %v", m1.Members(), m2.Members())
	}
}

func TestMemberlist_LiveKeyringRotation(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 32)
	c1 := testConfig(t)
	c1.SecretKey = oldKey
	m1 := create(t, c1)
	c2 := testConfig(t)
	c2.SecretKey = oldKey
	m2 := createPeer(t, m1, c2)
	if _, err := m2.Join([]string{joinAddr(m1)}); err != nil {
		t.Fatal(err)
	}
	// Rotate on the running nodes through the caller's Keyring objects.
	for _, kr := range []*Keyring{c1.Keyring, c2.Keyring} {
		if err := kr.AddKey(newKey); err != nil {
			t.Fatal(err)
		}
	}
	for _, kr := range []*Keyring{c1.Keyring, c2.Keyring} {
		if err := kr.UseKey(newKey); err != nil {
			t.Fatal(err)
		}
		if err := kr.RemoveKey(oldKey); err != nil {
			t.Fatal(err)
		}
		if keys := kr.GetKeys(); len(keys) != 1 || !bytes.Equal(keys[0], newKey) {
			t.Fatalf("keys after rotation: %x", keys)
		}
	}
	// A node with only the old key is locked out; one with the new key gets in.
	c3 := testConfig(t)
	c3.SecretKey = oldKey
	m3 := createPeer(t, m1, c3)
	if _, err := m3.Join([]string{joinAddr(m1)}); err == nil {
		t.Fatal("the removed key still works")
	}
	c4 := testConfig(t)
	c4.SecretKey = newKey
	m4 := createPeer(t, m1, c4)
	if _, err := m4.Join([]string{joinAddr(m1)}); err != nil {
		t.Fatalf("the new key does not work: %v", err)
	}
	waitForMembers(t, m2, 3)
}

func TestMemberlist_EncryptedGossipTransition(t *testing.T) {
	key := []byte("Hi16ZXu2lNCRVwtr20khAg==")[:16]
	addr0, addr1 := nextAddr().String(), nextAddr().String()
	port := 0
	start := func(addr string, encrypt, verifyIn, verifyOut bool) *Memberlist {
		t.Helper()
		c := DefaultLocalConfig()
		c.Name, c.BindAddr, c.BindPort = addr, addr, port
		c.Logger = testLogger(t, addr)
		if encrypt {
			c.SecretKey = key
			c.GossipVerifyIncoming, c.GossipVerifyOutgoing = verifyIn, verifyOut
		}
		var m *Memberlist
		// Re-binding a port just released: retry briefly in case the kernel lags.
		waitFor(t, "Create on "+addr, func() (bool, string) {
			var err error
			m, err = Create(c)
			return err == nil, fmt.Sprint(err)
		})
		port = c.BindPort
		return m
	}
	join := func(src, dst *Memberlist) {
		t.Helper()
		if num, err := src.Join([]string{joinAddr(dst)}); err != nil || num != 1 {
			t.Fatalf("%s joining %s: %d, %v", src.config.Name, dst.config.Name, num, err)
		}
		waitForMembers(t, src, 2)
		waitForMembers(t, dst, 2)
	}
	stop := func(leaver, bystander *Memberlist) {
		t.Helper()
		if err := leaver.Leave(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		waitForMembers(t, bystander, 1)
		if err := leaver.Shutdown(); err != nil {
			t.Fatal(err)
		}
		if err := portFree(leaver.config.BindAddr, leaver.config.BindPort); err != nil {
			t.Fatalf("port not free after Shutdown: %v", err)
		}
	}
	m0 := start(addr0, false, false, false)
	m1 := start(addr1, false, false, false)
	defer func() { _ = m0.Shutdown(); _ = m1.Shutdown() }()
	join(m1, m0)
	for _, stage := range []struct{ in, out bool }{{false, false}, {false, true}, {true, true}} {
		stop(m0, m1)
		m0 = start(addr0, true, stage.in, stage.out)
		join(m0, m1)
		stop(m1, m0)
		m1 = start(addr1, true, stage.in, stage.out)
		join(m1, m0)
	}
}

// Sixteen encrypted nodes, each joining the previous one, converge (memberlist's integration
// test, which it runs only with INTEG_TESTS; it is quick enough to run always here).
func TestMemberlist_Integ(t *testing.T) {
	const num = 16
	secret := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	events := make(chan NodeEvent, num)
	var members []*Memberlist
	for i := 0; i < num; i++ {
		c := testConfig(t)
		c.ProbeInterval = 100 * time.Millisecond
		c.ProbeTimeout = 50 * time.Millisecond
		c.GossipInterval = 20 * time.Millisecond
		c.PushPullInterval = 200 * time.Millisecond
		c.SecretKey = secret
		if i == 0 {
			c.Events = &ChannelEventDelegate{Ch: events}
		}
		m := create(t, c)
		if i > 0 {
			prev := members[i-1].config
			target := fmt.Sprintf("%s/%s:%d", prev.Name, prev.BindAddr, prev.BindPort)
			if n, err := m.Join([]string{target}); n != 1 || err != nil {
				t.Fatalf("node %d: Join = %d, %v", i, n, err)
			}
		}
		members = append(members, m)
	}
	for _, m := range members {
		waitForMembers(t, m, num)
	}
	joins := 0
	for joins < num {
		select {
		case e := <-events:
			if e.Event != NodeJoin {
				t.Fatalf("unexpected event %v for %s", e.Event, e.Node.Name)
			}
			joins++
		case <-time.After(waitTimeout):
			t.Fatalf("node 0 saw %d join events, want %d", joins, num)
		}
	}
}
