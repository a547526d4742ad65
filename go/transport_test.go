package memberlist

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func mockConfig(t *testing.T, n *MockNetwork, name string) *Config {
	c := DefaultLocalConfig()
	c.Name = name
	c.Transport = n.NewTransport(name)
	c.Logger = testLogger(t, name)
	return c
}

func TestTransport_Join(t *testing.T) {
	var n MockNetwork
	c1 := mockConfig(t, &n, "node1")
	m1 := create(t, c1)
	c2 := mockConfig(t, &n, "node2")
	m2 := create(t, c2)
	if m1.LocalNode().Address() != "127.0.0.1:1" || m2.LocalNode().Address() != "127.0.0.1:2" {
		t.Fatalf("advertised %s and %s, want the transports' addresses", m1.LocalNode().Address(), m2.LocalNode().Address())
	}
	num, err := m2.Join([]string{c1.Name + "/" + m1.LocalNode().Address()})
	if err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	waitForMembers(t, m1, 2)
	waitForMembers(t, m2, 2)

	// The label applies over a custom transport too.
	c3 := mockConfig(t, &n, "node3")
	c3.Label = "other"
	m3 := create(t, c3)
	if _, err := m3.Join([]string{c1.Name + "/" + m1.LocalNode().Address()}); err == nil {
		t.Fatal("a node with another label joined over the mock network")
	}
	if m1.NumMembers() != 2 {
		t.Fatalf("members: %v", m1.Members())
	}
}

func TestTransport_Send(t *testing.T) {
	var n MockNetwork
	c1 := mockConfig(t, &n, "node1")
	d1 := &mockDelegate{}
	c1.Delegate = d1
	c1.Label = "mock"
	c1.SecretKey = []byte("0123456789abcdef")
	m1 := create(t, c1)
	c2 := mockConfig(t, &n, "node2")
	c2.Label = "mock"
	c2.SecretKey = []byte("0123456789abcdef")
	m2 := create(t, c2)
	if _, err := m2.Join([]string{c1.Name + "/" + m1.LocalNode().Address()}); err != nil {
		t.Fatal(err)
	}
	waitForMembers(t, m2, 2)
	var node1 *Node
	for _, nd := range m2.Members() {
		if nd.Name == c1.Name {
			node1 = nd
		}
	}
	if err := m2.SendToAddress(node1.FullAddress(), []byte("SendToAddress")); err != nil {
		t.Fatal(err)
	}
	if err := m2.SendBestEffort(node1, []byte("SendBestEffort")); err != nil {
		t.Fatal(err)
	}
	if err := m2.SendReliable(node1, []byte("SendReliable")); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("r", 200_000)
	if err := m2.SendReliable(node1, []byte(big)); err != nil {
		t.Fatal(err)
	}
	waitForMsgs(t, d1, "SendToAddress", "SendBestEffort", "SendReliable", big)
}

// A cluster of several nodes over a MockNetwork detects a node that stops.
func TestTransport_FailureDetection(t *testing.T) {
	var n MockNetwork
	var ms []*Memberlist
	for i := 0; i < 4; i++ {
		c := mockConfig(t, &n, fmt.Sprintf("node%d", i))
		c.ProbeInterval = 100 * time.Millisecond
		c.ProbeTimeout = 50 * time.Millisecond
		c.GossipInterval = 20 * time.Millisecond
		ms = append(ms, create(t, c))
	}
	for _, m := range ms[1:] {
		if _, err := m.Join([]string{"node0/" + ms[0].LocalNode().Address()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		waitForMembers(t, m, 4)
	}
	if err := ms[3].Shutdown(); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:3] {
		waitForMembers(t, m, 3)
	}
}

// customTransport is a plain Transport (not node-aware) over real sockets, to exercise the shim.
type plainTransport struct{ nt *NetTransport }

func (p plainTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	return p.nt.FinalAdvertiseAddr(ip, port)
}
func (p plainTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return p.nt.WriteTo(b, addr)
}
func (p plainTransport) PacketCh() <-chan *Packet { return p.nt.PacketCh() }
func (p plainTransport) DialTimeout(a string, d time.Duration) (net.Conn, error) {
	return p.nt.DialTimeout(a, d)
}
func (p plainTransport) StreamCh() <-chan net.Conn { return p.nt.StreamCh() }
func (p plainTransport) Shutdown() error           { return p.nt.Shutdown() }

func TestTransport_PlainGoTransport(t *testing.T) {
	newNode := func(name string, port int) (*Memberlist, *Config) {
		addr := nextAddr().String()
		nt, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{addr}, BindPort: port, Logger: testLogger(t, name)})
		if err != nil {
			t.Fatal(err)
		}
		c := DefaultLocalConfig()
		c.Name = name
		c.Transport = plainTransport{nt}
		c.Logger = testLogger(t, name)
		return create(t, c), c
	}
	m1, _ := newNode("p1", 0)
	m2, _ := newNode("p2", int(m1.LocalNode().Port))
	if num, err := m2.Join([]string{"p1/" + m1.LocalNode().Address()}); err != nil || num != 1 {
		t.Fatalf("Join = %d, %v", num, err)
	}
	waitForMembers(t, m1, 2)
	// Shutdown shuts the transport down: its port is free.
	addr, port := m1.LocalNode().Addr.String(), int(m1.LocalNode().Port)
	if err := m1.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := portFree(addr, port); err != nil {
		t.Fatalf("the transport's port is still bound: %v", err)
	}
}
