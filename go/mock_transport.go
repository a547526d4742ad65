//go:build cgo

package memberlist

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// MockNetwork is an in-memory network of MockTransports (addresses 127.0.0.1:1, :2, ...),
// routed by address or by node name. Use one transport per Memberlist (Config.Transport) to run
// a cluster without sockets.
type MockNetwork struct {
	transportsByAddr map[string]*MockTransport
	transportsByName map[string]*MockTransport
	port             int
	mu               sync.Mutex
}

// NewTransport returns a transport on the next address, known by name.
func (n *MockNetwork) NewTransport(name string) *MockTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.port++
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port))
	t := &MockTransport{
		net:      n,
		addr:     &MockAddress{addr: addr, name: name},
		packetCh: make(chan *Packet),
		streamCh: make(chan net.Conn),
	}
	if n.transportsByAddr == nil {
		n.transportsByAddr = make(map[string]*MockTransport)
	}
	n.transportsByAddr[addr] = t
	if n.transportsByName == nil {
		n.transportsByName = make(map[string]*MockTransport)
	}
	n.transportsByName[name] = t
	return t
}

// MockAddress is a MockTransport's address.
type MockAddress struct {
	addr string
	name string
}

// Network returns "mock".
func (a *MockAddress) Network() string { return "mock" }

// String returns "host:port".
func (a *MockAddress) String() string { return a.addr }

// MockTransport is a Transport on a MockNetwork.
type MockTransport struct {
	net      *MockNetwork
	addr     *MockAddress
	packetCh chan *Packet
	streamCh chan net.Conn
}

var _ NodeAwareTransport = (*MockTransport)(nil)

// FinalAdvertiseAddr returns the transport's own address.
func (t *MockTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	host, portStr, err := net.SplitHostPort(t.addr.String())
	if err != nil {
		return nil, 0, err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, 0, fmt.Errorf("failed to parse IP %q", host)
	}
	port, err := strconv.ParseInt(portStr, 10, 16)
	if err != nil {
		return nil, 0, err
	}
	return ip, int(port), nil
}

// WriteTo delivers a packet to the transport at addr.
func (t *MockTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, Address{Addr: addr})
}

// WriteToAddress delivers a packet to the transport named a.Name (or at a.Addr).
func (t *MockTransport) WriteToAddress(b []byte, a Address) (time.Time, error) {
	dest, err := t.peer(a)
	if err != nil {
		return time.Time{}, err
	}
	now := time.Now()
	dest.packetCh <- &Packet{Buf: b, From: t.addr, Timestamp: now}
	return now, nil
}

// PacketCh delivers received packets.
func (t *MockTransport) PacketCh() <-chan *Packet { return t.packetCh }

// IngestPacket reads a packet from conn and delivers it on PacketCh.
func (t *MockTransport) IngestPacket(conn net.Conn, addr net.Addr, now time.Time, shouldClose bool) error {
	if shouldClose {
		defer conn.Close()
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, conn); err != nil {
		return fmt.Errorf("failed to read packet: %v", err)
	}
	if n := buf.Len(); n < 1 {
		return fmt.Errorf("packet too short (%d bytes) %s", n, LogAddress(addr))
	}
	t.packetCh <- &Packet{Buf: buf.Bytes(), From: addr, Timestamp: now}
	return nil
}

// DialTimeout opens an in-memory stream (net.Pipe) to the transport at addr.
func (t *MockTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(Address{Addr: addr}, timeout)
}

// DialAddressTimeout opens an in-memory stream to the transport named a.Name (or at a.Addr).
func (t *MockTransport) DialAddressTimeout(a Address, timeout time.Duration) (net.Conn, error) {
	dest, err := t.peer(a)
	if err != nil {
		return nil, err
	}
	p1, p2 := net.Pipe()
	dest.streamCh <- p1
	return p2, nil
}

// StreamCh delivers incoming streams.
func (t *MockTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// IngestStream delivers conn on StreamCh.
func (t *MockTransport) IngestStream(conn net.Conn) error {
	t.streamCh <- conn
	return nil
}

// Shutdown does nothing.
func (t *MockTransport) Shutdown() error { return nil }

func (t *MockTransport) peer(a Address) (*MockTransport, error) {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	var dest *MockTransport
	if a.Name != "" {
		dest = t.net.transportsByName[a.Name]
	} else {
		dest = t.net.transportsByAddr[a.Addr]
	}
	if dest == nil {
		// The Address value, not a.String(): memberlist's text is "no route to {127.0.0.1:9 name}".
		return nil, fmt.Errorf("no route to %s", a)
	}
	return dest, nil
}
