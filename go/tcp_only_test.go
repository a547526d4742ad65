package memberlist

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// diffTCPOnly (a difference of doc.go, run by TestDifferences): Config.TCPOnly. Three TCP-only
// nodes join, carry best-effort messages (one of 100,000 bytes, over what a UDP datagram holds)
// and reliable ones, and see a stopped node leave the membership as dead; the node's port
// number stays free for UDP (no UDP socket); UDPBufferSize may be dskit's 10 MiB; a Transport
// other than NetTransport is refused with TCPOnly.
func diffTCPOnly(t *testing.T) {
	tcp := func() *Config {
		c := testConfig(t)
		c.TCPOnly = true
		c.UDPBufferSize = 10 << 20 // what dskit sets for its TCP transport
		return c
	}
	d0, d2 := &mockDelegate{}, &mockDelegate{}
	c0 := tcp()
	c0.Delegate = d0
	m0 := create(t, c0)
	c1 := tcp()
	m1 := joinPeer(t, m0, c1)
	c2 := tcp()
	c2.Delegate = d2
	m2 := createPeer(t, m0, c2) // also shut down by hand below
	if _, err := m2.Join([]string{joinAddr(m0)}); err != nil {
		t.Fatalf("Join: %v", err)
	}
	for _, m := range []*Memberlist{m0, m1, m2} {
		waitForMembers(t, m, 3)
	}

	// No UDP socket on the node's port.
	udp, err := net.ListenPacket("udp", net.JoinHostPort(m0.config.BindAddr, strconv.Itoa(m0.config.BindPort)))
	if err != nil {
		t.Fatalf("the UDP port of a TCP-only node is taken: %v", err)
	}
	udp.Close()

	big := bytes.Repeat([]byte{'x'}, 100000)
	if err := m1.SendBestEffort(m2.LocalNode(), big); err != nil {
		t.Fatal(err)
	}
	if err := m1.SendBestEffort(m0.LocalNode(), []byte("best-effort")); err != nil {
		t.Fatal(err)
	}
	if err := m2.SendReliable(m0.LocalNode(), []byte("reliable")); err != nil {
		t.Fatal(err)
	}
	waitForMsgs(t, d0, "best-effort", "reliable")
	waitForMsgs(t, d2, string(big))

	if err := m2.Shutdown(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Memberlist{m0, m1} {
		waitFor(t, "the stopped node declared dead", func() (bool, string) {
			for _, n := range m.Members() {
				if n.Name == c2.Name {
					return false, fmt.Sprintf("%s still a member (state %v)", n.Name, n.State)
				}
			}
			return true, ""
		})
	}

	// With a Transport of its own, TCPOnly is refused.
	c3 := tcp()
	mn := &MockNetwork{}
	c3.Transport = mn.NewTransport(c3.Name)
	if _, err := Create(c3); err == nil || !strings.Contains(err.Error(), "TCPOnly") {
		t.Fatalf("Create with TCPOnly and a MockTransport: %v", err)
	}
}
