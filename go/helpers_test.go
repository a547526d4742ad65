package memberlist

import (
	"bytes"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Addresses: 127.0.<net>.<n>, n from 10 up, wrapping before 255. Linux routes all of 127/8 to lo.
var (
	addrMu  sync.Mutex
	addrNum = map[byte]byte{}
)

func nextAddrNet(network byte) net.IP {
	addrMu.Lock()
	defer addrMu.Unlock()
	n := addrNum[network]
	if n < 10 || n >= 250 {
		n = 10
	}
	addrNum[network] = n + 1
	return net.IPv4(127, 0, network, n)
}

func nextAddr() net.IP { return nextAddrNet(0) }

// testLogWriter sends a node's log lines to t.Log while the test runs and drops them after.
type testLogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(tb testing.TB, prefix string) *log.Logger {
	w := &testLogWriter{t: tb}
	tb.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return log.New(w, prefix+" ", log.Lmicroseconds)
}

// testConfigNet: the local preset on a fresh loopback address of 127.0.network.0/24, named
// after its address, on a kernel-chosen port, requiring node names (as memberlist's tests do).
func testConfigNet(tb testing.TB, network byte) *Config {
	tb.Helper()
	c := DefaultLocalConfig()
	c.BindAddr = nextAddrNet(network).String()
	c.Name = c.BindAddr
	c.BindPort = 0
	c.RequireNodeNames = true
	c.Logger = testLogger(tb, c.Name)
	return c
}

func testConfig(tb testing.TB) *Config { return testConfigNet(tb, 0) }

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureLogs points c.Logger at a new buffer and returns it.
func captureLogs(c *Config) *lockedBuffer {
	logs := &lockedBuffer{}
	c.Logger = log.New(logs, "", 0)
	return logs
}

// create starts a node and shuts it down when the test ends.
func create(tb testing.TB, c *Config) *Memberlist {
	tb.Helper()
	m, err := Create(c)
	if err != nil {
		tb.Fatalf("Create(%s): %v", c.Name, err)
	}
	tb.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			tb.Errorf("Shutdown(%s): %v", c.Name, err)
		}
	})
	return m
}

// createPeer starts a node on the first node's port at a new address, so a bare IP joins it.
func createPeer(tb testing.TB, first *Memberlist, c *Config) *Memberlist {
	tb.Helper()
	c.BindPort = first.config.BindPort
	return create(tb, c)
}

// joinPeer starts a node like createPeer and joins it to first.
func joinPeer(tb testing.TB, first *Memberlist, c *Config) *Memberlist {
	tb.Helper()
	m := createPeer(tb, first, c)
	if _, err := m.Join([]string{joinAddr(first)}); err != nil {
		tb.Fatalf("Join(%s): %v", joinAddr(first), err)
	}
	return m
}

func joinAddr(m *Memberlist) string { return m.config.Name + "/" + m.config.BindAddr }

// waitTimeout bounds every wait: 20 s (ample under the race detector), stretched by
// ML_TEST_TIMEOUT_SCALE when it is set, the factor the C and C++ suites read.
var waitTimeout = scaledTimeout(20 * time.Second)

func scaledTimeout(d time.Duration) time.Duration {
	if f, err := strconv.ParseFloat(os.Getenv("ML_TEST_TIMEOUT_SCALE"), 64); err == nil && f > 0 {
		return time.Duration(float64(d) * f)
	}
	return d
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() (bool, string)) {
	tb.Helper()
	end := time.Now().Add(waitTimeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(end) {
			tb.Fatalf("timed out waiting for %s: %s", what, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitForMembers(tb testing.TB, m *Memberlist, n int) {
	tb.Helper()
	waitFor(tb, fmt.Sprintf("%s to see %d members", m.config.Name, n), func() (bool, string) {
		got := m.NumMembers()
		return got == n && len(m.Members()) == n, fmt.Sprintf("has %d: %v", got, m.Members())
	})
}

// portFree reports whether addr:port can be bound for both TCP and UDP.
func portFree(addr string, port int) error {
	ip := net.ParseIP(addr)
	tl, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: port})
	if err != nil {
		return err
	}
	_ = tl.Close()
	ul, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
	if err != nil {
		return err
	}
	return ul.Close()
}

// mockDelegate records what the node hands it.
type mockDelegate struct {
	mu          sync.Mutex
	meta        []byte
	metaLimit   int
	msgs        [][]byte
	broadcasts  [][]byte
	state       []byte
	remoteState []byte
	localJoin   []bool
	mergeJoin   []bool
}

func (d *mockDelegate) setMeta(b []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.meta = b
}

func (d *mockDelegate) messages() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([][]byte, len(d.msgs))
	copy(out, d.msgs)
	return out
}

func (d *mockDelegate) remote() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]byte(nil), d.remoteState...)
}

func (d *mockDelegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.metaLimit = limit
	return d.meta
}

func (d *mockDelegate) NotifyMsg(msg []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.msgs = append(d.msgs, msg) // the slice is ours to keep
}

func (d *mockDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Hand out what fits, keep the rest for the next round.
	var out [][]byte
	used := 0
	for len(d.broadcasts) > 0 && used+overhead+len(d.broadcasts[0]) <= limit {
		used += overhead + len(d.broadcasts[0])
		out = append(out, d.broadcasts[0])
		d.broadcasts = d.broadcasts[1:]
	}
	return out
}

func (d *mockDelegate) LocalState(join bool) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.localJoin = append(d.localJoin, join)
	return d.state
}

func (d *mockDelegate) MergeRemoteState(buf []byte, join bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mergeJoin = append(d.mergeJoin, join)
	d.remoteState = buf
}

func itoa(i int) string { return strconv.Itoa(i) }

func listenTCP(addr string, port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
}
