package memberlist

import (
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// differences lists every bullet of doc.go's "Differences from hashicorp/memberlist" section:
// the bullet's opening words and a check that fails once the difference no longer holds (then
// doc.go must change), or why it cannot be checked here.
var differences = []struct {
	doc       string // how the bullet starts
	check     func(t *testing.T)
	unchecked string
}{
	{doc: "go-metrics:", unchecked: "which go-metrics keys are emitted needs the global sink; TestMetrics checks the counters"},
	{doc: "Config.Transport:", check: diffNetTransportTakenOver},
	{doc: "BindAddr must be an IP address", check: diffBindAddrMustBeIP},
	{doc: "The configuration is validated as a whole", check: diffConfigValidated},
	{doc: "Leave after Shutdown returns an error", check: diffLeaveAfterShutdownAndLongMeta},
	{doc: "Config.MetaMaxSize is an addition", check: diffMetaMaxSize},
	{doc: "Config.CompressionAlgorithm is an addition", check: diffCompressionAlgorithm},
	{doc: "Config.ReclaimNameOnNewAddress is an addition", check: diffReclaimNameOnNewAddress},
	{doc: "Config.NodeSelection (NodeSelectionDelegate, NodeState) and Config.PushPullNodes are", unchecked: "additions, not behaviour of hashicorp/memberlist: TestNodeSelection (node_selection_test.go) checks them"},
	{doc: "Config.TCPOnly is an addition", check: diffTCPOnly},
	{doc: "A nil argument returns an error", check: diffNilArguments},
	{doc: "SendReliable's error says only what kind of failure it was", check: diffSendReliableErrorText},
	{doc: "SendBestEffort, SendToAddress and SendTo queue the packet", check: diffBestEffortQueued},
	{doc: "Members and LocalNode return fresh snapshots", check: diffFreshSnapshots},
	{doc: "A Keyring backs at most one running Memberlist", check: diffKeyringOneMemberlist},
	{doc: "Join resolves host names with Go's resolver only", unchecked: "needs a DNS server that answers differently over TCP"},
	{doc: "Join, Leave, UpdateNode, Ping and SendReliable called from inside a delegate that answers", check: diffBlockingFromAnsweringDelegate},
	{doc: "ChannelEventDelegate does not hold the node up", unchecked: "TestChannelEventDelegate_UnreadChannelDoesNotDeadlock (callbacks_test.go) checks it"},
	{doc: "Shutdown releases everything", check: diffAfterShutdown},
	{doc: "Log lines about the protocol's own work", unchecked: "line by line: tests/core/protocol_test.cpp checks memberlist's lines and levels, TestJoinFailureLoggedOnceAtDebug the join's"},
}

func TestDifferences(t *testing.T) {
	for _, d := range differences {
		t.Run(d.doc, func(t *testing.T) {
			if d.check == nil {
				t.Skip("not checked here: " + d.unchecked)
			}
			d.check(t)
		})
	}
}

// TestDifferencesDocumented: the table above and doc.go's list are the same list.
func TestDifferencesDocumented(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(src), "// # Differences from hashicorp/memberlist")
	if !ok {
		t.Fatal("doc.go has no Differences section")
	}
	section, _, _ = strings.Cut(section, "\npackage ")
	var bullets []string
	for _, line := range strings.Split(section, "\n") {
		if b, ok := strings.CutPrefix(line, "//   - "); ok {
			bullets = append(bullets, b)
		}
	}
	if len(bullets) != len(differences) {
		t.Fatalf("doc.go lists %d differences, differences_test.go %d", len(bullets), len(differences))
	}
	for i, d := range differences {
		if !strings.HasPrefix(bullets[i], d.doc) {
			t.Errorf("difference %d: doc.go says %q..., the test expects %q...", i, bullets[i], d.doc)
		}
	}
}

// createPeerConfig is testConfig on first's port (a bare IP joins it).
func createPeerConfig(t *testing.T, first *Memberlist) *Config {
	c := testConfig(t)
	c.BindPort = first.config.BindPort
	return c
}

func diffNetTransportTakenOver(t *testing.T) {
	ip := nextAddr().String()
	nt, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{ip}})
	if err != nil {
		t.Fatal(err)
	}
	c := testConfig(t)
	c.BindAddr, c.Name, c.Transport = ip, ip, nt
	m := create(t, c)
	if !nt.shutdown.Load() {
		t.Fatal("the NetTransport still runs after Create: not taken over")
	}
	if got := m.LocalNode().Port; int(got) != nt.GetAutoBindPort() {
		t.Fatalf("node on port %d, the NetTransport had %d", got, nt.GetAutoBindPort())
	}
	two, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{nextAddr().String(), nextAddr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer two.Shutdown()
	c2 := testConfig(t)
	c2.Transport = two
	if m, err := Create(c2); err == nil {
		m.Shutdown()
		t.Fatal("a NetTransport with two bind addresses was accepted")
	}
}

func diffBindAddrMustBeIP(t *testing.T) {
	for _, addr := range []string{"localhost", ""} {
		c := testConfig(t)
		c.BindAddr = addr
		m, err := Create(c)
		if err == nil {
			m.Shutdown()
			t.Fatalf("BindAddr %q accepted", addr)
		}
		if want := "could not set up network transport: failed to parse bind address " + strconv.Quote(addr); err.Error() != want {
			t.Fatalf("BindAddr %q: %q, want %q", addr, err, want)
		}
		if nt, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{addr}}); err == nil {
			nt.Shutdown()
			t.Fatalf("NewNetTransport bound %q", addr)
		}
	}
	c := testConfig(t)
	c.BindAddr, c.AdvertiseAddr = "[::1]", "[::1]"
	m, err := Create(c)
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer m.Shutdown()
	if got := m.LocalNode().Addr.String(); got != "::1" {
		t.Fatalf("[::1] advertised as %s", got)
	}
}

func diffConfigValidated(t *testing.T) {
	for _, tc := range []struct {
		field  string
		modify func(*Config)
	}{
		{"GossipNodes", func(c *Config) { c.GossipNodes = -1 }},
		{"UDPBufferSize", func(c *Config) { c.UDPBufferSize = -5 }},
		{"Name", func(c *Config) { c.Name = "" }},
		{"ProbeInterval", func(c *Config) { c.ProbeInterval = 0 }},
		{"TCPTimeout", func(c *Config) { c.TCPTimeout = 0 }},
		{"ProbeTimeout", func(c *Config) { c.ProbeTimeout = 0 }},
		{"SuspicionMult", func(c *Config) { c.SuspicionMult = 0 }},
		{"RetransmitMult", func(c *Config) { c.RetransmitMult = 0 }},
	} {
		c := testConfig(t)
		tc.modify(c)
		m, err := Create(c)
		if err == nil {
			m.Shutdown()
			t.Fatalf("%s: accepted", tc.field)
		}
		if !strings.Contains(err.Error(), "Config."+tc.field) {
			t.Fatalf("%s: the error does not name the field: %v", tc.field, err)
		}
	}
}

type metaDelegate struct {
	mockDelegate
	meta []byte
}

func (d *metaDelegate) NodeMeta(int) []byte { return d.meta }

func diffLeaveAfterShutdownAndLongMeta(t *testing.T) {
	m, err := Create(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := m.Leave(time.Second); err == nil {
		t.Fatal("Leave after Shutdown returned nil")
	}
	c := testConfig(t)
	c.Delegate = &metaDelegate{meta: make([]byte, MetaMaxSize+1)}
	if m, err := Create(c); err == nil || err.Error() != "Node meta data provided is longer than the limit" {
		if m != nil {
			m.Shutdown()
		}
		t.Fatalf("Create with long metadata: %v", err)
	}
}

func diffNilArguments(t *testing.T) {
	if _, err := Create(nil); err == nil {
		t.Error("Create(nil) returned no error")
	}
	m := create(t, testConfig(t))
	for name, err := range map[string]error{
		"SendBestEffort": m.SendBestEffort(nil, []byte("x")),
		"SendReliable":   m.SendReliable(nil, []byte("x")),
		"SendToUDP":      m.SendToUDP(nil, []byte("x")),
		"SendToTCP":      m.SendToTCP(nil, []byte("x")),
		"SendTo":         m.SendTo(nil, []byte("x")),
	} {
		if err == nil {
			t.Errorf("%s(nil) returned no error", name)
		}
	}
	if _, err := m.Ping("x", nil); err == nil {
		t.Error("Ping(name, nil) returned no error")
	}
	if _, err := NewNetTransport(nil); err == nil {
		t.Error("NewNetTransport(nil) returned no error")
	}
	q := &TransmitLimitedQueue{RetransmitMult: 1}
	q.QueueBroadcast(&plainBroadcast{key: "x", msg: "hello"})
	if got := q.GetBroadcasts(0, 100); len(got) != 1 {
		t.Errorf("GetBroadcasts with nil NumNodes = %q", got)
	}
	var empty Keyring
	if err := empty.RemoveKey(make([]byte, 16)); err != nil {
		t.Errorf("RemoveKey on an empty Keyring: %v", err)
	}
}

func diffSendReliableErrorText(t *testing.T) {
	m1 := create(t, testConfig(t))
	m2, err := Create(createPeerConfig(t, m1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Join([]string{joinAddr(m1)}); err != nil {
		t.Fatal(err)
	}
	waitForMembers(t, m1, 2)
	gone := m2.LocalNode()
	if err := m2.Shutdown(); err != nil {
		t.Fatal(err)
	}
	// Still a member for m1 (not yet suspected): the dial is refused.
	want := "memberlist: send reliable to " + gone.Name + ": network error"
	if err := m1.SendReliable(gone, []byte("hi")); err == nil || err.Error() != want {
		t.Fatalf("SendReliable to a stopped member: %v, want %q", err, want)
	}
}

func diffBestEffortQueued(t *testing.T) {
	c := testConfig(t)
	logs := captureLogs(c)
	m := create(t, c)
	// sendto(2) refuses port 0 (EINVAL); memberlist returns "write udp ...: sendto: invalid
	// argument".
	if err := m.SendToAddress(Address{Addr: "127.0.0.1:0", Name: "x"}, []byte("hi")); err != nil {
		t.Fatalf("SendToAddress returned the write's error: %v", err)
	}
	waitFor(t, "the failed write in the log", func() (bool, string) {
		return strings.Contains(logs.String(), "127.0.0.1:0"), logs.String()
	})
}

func diffFreshSnapshots(t *testing.T) {
	m := create(t, testConfig(t))
	if m.LocalNode() == m.LocalNode() {
		t.Fatal("LocalNode returned the same pointer twice")
	}
	if a, b := m.Members(), m.Members(); a[0] == b[0] {
		t.Fatal("Members returned the same pointers twice")
	}
}

func diffKeyringOneMemberlist(t *testing.T) {
	key := []byte("0123456789abcdef")
	kr, err := NewKeyring(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	c1 := testConfig(t)
	c1.Keyring = kr
	create(t, c1)
	c2 := testConfig(t)
	c2.Keyring = kr
	if m, err := Create(c2); err == nil {
		m.Shutdown()
		t.Fatal("a second Memberlist shares the Keyring")
	}
	kr.GetKeys()[0][0] = 'X'
	if !bytes.Equal(kr.GetPrimaryKey(), key) {
		t.Fatal("GetKeys handed out the keyring's own slices")
	}
}

func diffAfterShutdown(t *testing.T) {
	m, err := Create(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Join([]string{"x/127.0.0.1:1"}); n != 0 || err == nil || !strings.Contains(err.Error(), errShutdown.Error()) {
		t.Fatalf("Join after Shutdown = %d, %v", n, err)
	}
	if m.NumMembers() != 1 || len(m.Members()) != 1 || m.LocalNode() == nil {
		t.Fatal("the snapshots after Shutdown are not the last state")
	}
}

// TestJoinFailureLoggedOnceAtDebug: memberlist logs a failed join once, at DEBUG, in these words.
func TestJoinFailureLoggedOnceAtDebug(t *testing.T) {
	c := testConfig(t)
	logs := captureLogs(c)
	m := create(t, c)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(closedPort(t, "127.0.0.1")))
	if _, err := m.Join([]string{"x/" + addr}); err == nil {
		t.Fatal("Join succeeded")
	}
	line := "[DEBUG] memberlist: failed to join " + addr + ": dial tcp " + addr + ": connect: connection refused"
	waitFor(t, "the DEBUG line", func() (bool, string) { return strings.Contains(logs.String(), line), logs.String() })
	if n := strings.Count(logs.String(), "failed to join "+addr); n != 1 {
		t.Fatalf("the failure was logged %d times:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "[WARN] memberlist: Failed to join") {
		t.Fatalf("logged at WARN too:\n%s", logs.String())
	}
}

// blockingInAnswer calls UpdateNode from GetBroadcasts (on the loop thread) once.
type blockingInAnswer struct {
	mockDelegate
	m      atomic.Pointer[Memberlist]
	result chan error
}

func (d *blockingInAnswer) GetBroadcasts(int, int) [][]byte {
	if m := d.m.Swap(nil); m != nil {
		d.result <- m.UpdateNode(time.Second)
	}
	return nil
}

func diffBlockingFromAnsweringDelegate(t *testing.T) {
	d := &blockingInAnswer{result: make(chan error, 1)}
	c1 := testConfig(t)
	c1.Delegate = d
	m1 := create(t, c1)
	joinPeer(t, m1, testConfig(t))
	d.m.Store(m1) // the next gossip round of m1 asks GetBroadcasts
	select {
	case err := <-d.result:
		if err == nil {
			t.Fatal("UpdateNode from GetBroadcasts succeeded: the difference no longer holds, update doc.go")
		}
	case <-time.After(waitTimeout):
		t.Fatal("GetBroadcasts not called")
	}
}
