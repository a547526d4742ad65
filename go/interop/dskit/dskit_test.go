// Package dskit runs libmemberlist's Go package in TCP-only mode (Config.TCPOnly) in one cluster
// with real memberlist nodes (Grafana's fork, as dskit uses it) on dskit's own TCPTransport, the
// transport of Loki, Mimir and Tempo (docs/transport-tcp.md).
package dskit

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	dskitml "github.com/grafana/dskit/kv/memberlist"
	theirs "github.com/hashicorp/memberlist"
	ours "github.com/libmemberlist/libmemberlist/go"
	"github.com/prometheus/client_golang/prometheus"
)

// recorder is the delegate of every node, ours or theirs (the two Delegate interfaces have the
// same methods).
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) NodeMeta(int) []byte { return nil }
func (r *recorder) NotifyMsg(b []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, string(b))
	r.mu.Unlock()
}
func (r *recorder) GetBroadcasts(int, int) [][]byte { return nil }
func (r *recorder) LocalState(bool) []byte          { return nil }
func (r *recorder) MergeRemoteState([]byte, bool)   {}
func (r *recorder) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m == s {
			return true
		}
	}
	return false
}

// node is either kind, as the test sees it.
type node struct {
	name, addr string // addr: "ip:port"
	rec        *recorder
	members    func() []string // live members' names, sorted
	join       func(addr string) error
	bestEffort func(to *node, msg []byte) error
	reliable   func(to *node, msg []byte) error
	shutdown   func() error
}

var nextIP = 10

// 127.0.77.x: an address of its own per node, so a stopped node's port is not reused.
func newIP() string {
	nextIP++
	return "127.0.77." + strconv.Itoa(nextIP)
}

// transportLog collects what every dskit TCPTransport logs (its warnings name bad digests,
// truncated packets and unknown connection types).
type transportLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *transportLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if os.Getenv("ML_DSKIT_LOG") != "" {
		os.Stderr.Write(p)
	}
	return l.b.Write(p)
}

func (l *transportLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var theirLog = &transportLog{}

func logger(t *testing.T, name string) log.Logger {
	return log.With(log.NewLogfmtLogger(theirLog), "node", name)
}

func sortedNames[N any](ns []N, name func(N) string) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, name(n))
	}
	sort.Strings(out)
	return out
}

// theirNode: memberlist (grafana's fork) on dskit's TCPTransport, configured as dskit's KV
// client configures it (UDPBufferSize 10 MiB), with the fast probe timings of ours.
func theirNode(t *testing.T, name string) *node {
	ip := newIP()
	tr, err := dskitml.NewTCPTransport(dskitml.TCPTransportConfig{
		BindAddrs:            []string{ip},
		BindPort:             0,
		PacketDialTimeout:    2 * time.Second,
		PacketWriteTimeout:   5 * time.Second,
		MaxConcurrentWrites:  3,
		AcquireWriterTimeout: 250 * time.Millisecond,
	}, logger(t, name), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	c := theirs.DefaultLocalConfig()
	c.Name = name
	c.Transport = tr
	c.UDPBufferSize = 10 * 1024 * 1024
	c.ProbeInterval = 200 * time.Millisecond
	c.ProbeTimeout = 100 * time.Millisecond
	c.GossipInterval = 50 * time.Millisecond
	c.PushPullInterval = 2 * time.Second
	c.Delegate = rec
	if os.Getenv("ML_DSKIT_LOG") == "" {
		c.LogOutput = discard{}
	}
	m, err := theirs.Create(c)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(tr.GetAutoBindPort()))
	return wrapNode[*theirs.Node](t, name, addr, rec, m, func(n *theirs.Node) string { return n.Name })
}

// memberlistAPI is the part of memberlist's API the tests use, the same on both sides but for
// the node type.
type memberlistAPI[N any] interface {
	Members() []N
	Join([]string) (int, error)
	Shutdown() error
	SendBestEffort(N, []byte) error
	SendReliable(N, []byte) error
}

// wrapNode is a node of either side: m's members by name, its sends addressed by name, and one
// Shutdown at the end of the test.
func wrapNode[N any](t *testing.T, name, addr string, rec *recorder, m memberlistAPI[N], nameOf func(N) string) *node {
	stopped := false
	n := &node{
		name:    name,
		addr:    addr,
		rec:     rec,
		members: func() []string { return sortedNames(m.Members(), nameOf) },
		join:    func(addr string) error { _, err := m.Join([]string{addr}); return err },
		shutdown: func() error {
			if stopped {
				return nil
			}
			stopped = true
			return m.Shutdown()
		},
	}
	send := func(to *node, msg []byte, how func(N, []byte) error) error {
		for _, x := range m.Members() {
			if nameOf(x) == to.name {
				return how(x, msg)
			}
		}
		return fmt.Errorf("%s does not know %s", name, to.name)
	}
	n.bestEffort = func(to *node, msg []byte) error { return send(to, msg, m.SendBestEffort) }
	n.reliable = func(to *node, msg []byte) error { return send(to, msg, m.SendReliable) }
	t.Cleanup(func() { _ = n.shutdown() })
	return n
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// ourNode: libmemberlist's Go package, TCP-only.
func ourNode(t *testing.T, name string) *node { return ourNodeMode(t, name, true) }

func ourNodeMode(t *testing.T, name string, tcpOnly bool) *node {
	ip := newIP()
	rec := &recorder{}
	c := ours.DefaultLocalConfig()
	c.Name = name
	c.BindAddr = ip
	c.BindPort = 0
	c.TCPOnly = tcpOnly
	if tcpOnly {
		c.UDPBufferSize = 10 * 1024 * 1024
	}
	c.ProbeInterval = 200 * time.Millisecond
	c.ProbeTimeout = 100 * time.Millisecond
	c.GossipInterval = 50 * time.Millisecond
	c.PushPullInterval = 2 * time.Second
	c.Delegate = rec
	if os.Getenv("ML_DSKIT_LOG") == "" {
		c.LogOutput = discard{}
	}
	m, err := ours.Create(c)
	if err != nil {
		t.Fatal(err)
	}
	local := m.LocalNode()
	addr := net.JoinHostPort(local.Addr.String(), strconv.Itoa(int(local.Port)))
	return wrapNode[*ours.Node](t, name, addr, rec, m, func(n *ours.Node) string { return n.Name })
}

// waitTimeout bounds every wait: 20 s, stretched by ML_TEST_TIMEOUT_SCALE when it is set (the
// factor the C and C++ suites read).
var waitTimeout = func() time.Duration {
	d := 20 * time.Second
	if f, err := strconv.ParseFloat(os.Getenv("ML_TEST_TIMEOUT_SCALE"), 64); err == nil && f > 0 {
		d = time.Duration(float64(d) * f)
	}
	return d
}()

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(waitTimeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s: %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMembers: every node in ns sees exactly the names of want as live members.
func waitMembers(t *testing.T, ns []*node, want ...*node) {
	t.Helper()
	names := sortedNames(want, func(n *node) string { return n.name })
	for _, n := range ns {
		waitFor(t, n.name+" to see "+fmt.Sprint(names), func() (bool, string) {
			got := n.members()
			return fmt.Sprint(got) == fmt.Sprint(names), fmt.Sprint(got)
		})
	}
}

func waitMsg(t *testing.T, n *node, msg string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s to get a %d-byte message", n.name, len(msg)), func() (bool, string) {
		return n.rec.has(msg), fmt.Sprintf("%d messages", len(n.rec.msgs))
	})
}

// TestMixedWithDskit: a UDP-mode node of ours cannot join; join both ways, user messages both ways (best effort, one of them larger
// than a UDP datagram, and reliable), and failure detection of a node of either kind.
func TestMixedWithDskit(t *testing.T) {
	t1 := theirNode(t, "theirs-1")
	o1 := ourNode(t, "ours-1")
	// Ours joins through theirs: a push/pull on a [2]-framed stream accepted by dskit.
	if err := o1.join(t1.addr); err != nil {
		t.Fatalf("ours joins theirs: %v", err)
	}
	waitMembers(t, []*node{t1, o1}, t1, o1)
	// The framing is what makes it work: a node of ours in the default UDP+TCP mode cannot join
	// (dskit closes a connection whose first byte is not 1 or 2).
	udp := ourNodeMode(t, "ours-udp", false)
	if err := udp.join(t1.addr); err == nil {
		t.Fatal("a UDP-mode node of ours joined a dskit TCPTransport node")
	}
	if err := udp.shutdown(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(theirLog.String(), "unknown message type") {
		t.Fatalf("dskit did not log the UDP-mode node's connection as an unknown type:\n%s", theirLog.String())
	}
	// Theirs joins through ours.
	t2 := theirNode(t, "theirs-2")
	if err := t2.join(o1.addr); err != nil {
		t.Fatalf("theirs joins ours: %v", err)
	}
	o2 := ourNode(t, "ours-2")
	if err := o2.join(t2.addr); err != nil {
		t.Fatalf("a second node of ours joins theirs: %v", err)
	}
	all := []*node{t1, t2, o1, o2}
	waitMembers(t, all, all...)

	// User messages each way: packets (dskit's [1] framing with MD5) and streams.
	big := string(bytes.Repeat([]byte{'z'}, 100000))
	for _, p := range [][2]*node{{o1, t1}, {t1, o1}, {o2, t2}, {t2, o2}} {
		from, to := p[0], p[1]
		if err := from.bestEffort(to, []byte("be:"+from.name)); err != nil {
			t.Fatalf("%s SendBestEffort to %s: %v", from.name, to.name, err)
		}
		if err := from.reliable(to, []byte("rl:"+from.name)); err != nil {
			t.Fatalf("%s SendReliable to %s: %v", from.name, to.name, err)
		}
		if err := from.bestEffort(to, []byte(big+from.name)); err != nil {
			t.Fatalf("%s large SendBestEffort to %s: %v", from.name, to.name, err)
		}
	}
	for _, p := range [][2]*node{{o1, t1}, {t1, o1}, {o2, t2}, {t2, o2}} {
		from, to := p[0], p[1]
		waitMsg(t, to, "be:"+from.name)
		waitMsg(t, to, "rl:"+from.name)
		waitMsg(t, to, big+from.name)
	}

	// A node of theirs stops without leaving: the others, ours included, declare it dead.
	if err := t2.shutdown(); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, []*node{t1, o1, o2}, t1, o1, o2)
	// A node of ours stops without leaving: theirs declares it dead too.
	if err := o2.shutdown(); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, []*node{t1, o1}, t1, o1)

	// dskit checked every packet of ours: no digest mismatch, no truncated packet.
	for _, bad := range []string{"digest mismatch", "error while reading", "not enough data"} {
		if strings.Contains(theirLog.String(), bad) {
			t.Errorf("dskit logged %q:\n%s", bad, theirLog.String())
		}
	}
}
