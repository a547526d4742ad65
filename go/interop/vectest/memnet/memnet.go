// Package memnet is an in-memory network for real memberlist nodes: it routes datagrams
// and streams between endpoints by their "host:port" strings and records every datagram
// and every byte written on every stream. Nothing touches a socket.
//
// memberlist's Transport interface uses memberlist types (*Packet, Address), so each
// per-version module wraps an Endpoint in a thin adapter that implements the interface.
package memnet

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Addr is a net.Addr for memnet endpoints.
type Addr string

func (a Addr) Network() string { return "memnet" }
func (a Addr) String() string  { return string(a) }

// PacketRecord is one datagram as the sender's transport got it.
type PacketRecord struct {
	Seq      int
	Scenario string
	From, To string
	Data     []byte
	Dropped  bool // not delivered (destination gone or UDP blocked)
	// Receiver is the destination endpoint's Info (also after it shut down; nil if the
	// address never existed).
	Receiver any
}

// StreamRecord is one stream connection: everything the dialer wrote and everything the
// listener wrote back.
type StreamRecord struct {
	Seq      int
	Scenario string
	From, To string
	// DialerInfo and ListenerInfo are the endpoints' Info values.
	DialerInfo, ListenerInfo any

	mu     sync.Mutex
	dialer bytes.Buffer
	reply  bytes.Buffer
}

// Dialer returns a copy of the bytes the dialer wrote.
func (s *StreamRecord) Dialer() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.dialer.Bytes())
}

// Reply returns a copy of the bytes the listener wrote.
func (s *StreamRecord) Reply() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.reply.Bytes())
}

// Network routes between endpoints and records traffic.
type Network struct {
	mu         sync.Mutex
	eps        map[string]*Endpoint
	gone       map[string]any // Info of endpoints that were shut down, by address
	blockedUDP map[string]bool
	scenario   string
	seq        int
	packets    []*PacketRecord
	streams    []*StreamRecord
	maxRecords int
}

// New returns an empty network that keeps at most maxRecords packet records (older
// ones are kept, newer ones dropped once full; streams are always kept).
func New(maxRecords int) *Network {
	return &Network{eps: map[string]*Endpoint{}, gone: map[string]any{}, blockedUDP: map[string]bool{},
		maxRecords: maxRecords}
}

// SetScenario tags subsequent records.
func (n *Network) SetScenario(s string) {
	n.mu.Lock()
	n.scenario = s
	n.mu.Unlock()
}

// BlockUDP drops (but still records) datagrams sent to addr while on is true.
func (n *Network) BlockUDP(addr string, on bool) {
	n.mu.Lock()
	n.blockedUDP[addr] = on
	n.mu.Unlock()
}

// Packets returns the packet records so far.
func (n *Network) Packets() []*PacketRecord {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*PacketRecord(nil), n.packets...)
}

// Streams returns the stream records so far.
func (n *Network) Streams() []*StreamRecord {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*StreamRecord(nil), n.streams...)
}

// Endpoint is one node's attachment to the network.
type Endpoint struct {
	n       *Network
	IP      net.IP
	Port    int
	addr    string
	Info    any // caller data (e.g. the node's keyring/label), copied into records
	deliver func(buf []byte, from net.Addr, now time.Time) bool
	streams chan net.Conn
	done    chan struct{}
	once    sync.Once
}

// NewEndpoint attaches an endpoint at ip:port. deliver is called for every datagram
// addressed to it; it must not block and returns false if it dropped the packet.
func (n *Network) NewEndpoint(ip net.IP, port int, info any,
	deliver func(buf []byte, from net.Addr, now time.Time) bool) (*Endpoint, error) {
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.eps[addr]; ok {
		return nil, fmt.Errorf("memnet: address %s in use", addr)
	}
	e := &Endpoint{n: n, IP: ip, Port: port, addr: addr, Info: info, deliver: deliver,
		streams: make(chan net.Conn, 64), done: make(chan struct{})}
	n.eps[addr] = e
	return e, nil
}

// Addr is the endpoint's "host:port".
func (e *Endpoint) Addr() string { return e.addr }

// WriteTo sends a datagram.
func (e *Endpoint) WriteTo(b []byte, addr string) (time.Time, error) {
	now := time.Now()
	select {
	case <-e.done:
		return now, errors.New("memnet: endpoint shut down")
	default:
	}
	n := e.n
	n.mu.Lock()
	dst := n.eps[addr]
	blocked := n.blockedUDP[addr]
	rec := &PacketRecord{Scenario: n.scenario, From: e.addr, To: addr, Data: bytes.Clone(b)}
	if dst != nil {
		rec.Receiver = dst.Info
	} else {
		rec.Receiver = n.gone[addr]
	}
	keep := len(n.packets) < n.maxRecords
	if keep {
		n.seq++
		rec.Seq = n.seq
		n.packets = append(n.packets, rec)
	}
	n.mu.Unlock()

	delivered := false
	if dst != nil && !blocked && dst.alive() {
		delivered = dst.deliver(bytes.Clone(b), Addr(e.addr), now)
	}
	if !delivered {
		n.mu.Lock()
		rec.Dropped = true
		n.mu.Unlock()
	}
	return now, nil
}

func (e *Endpoint) alive() bool {
	select {
	case <-e.done:
		return false
	default:
		return true
	}
}

// DialTimeout opens a stream to addr.
func (e *Endpoint) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if !e.alive() {
		return nil, errors.New("memnet: endpoint shut down")
	}
	n := e.n
	n.mu.Lock()
	dst := n.eps[addr]
	if dst == nil || !dst.alive() {
		n.mu.Unlock()
		return nil, fmt.Errorf("memnet: dial %s: connection refused", addr)
	}
	n.seq++
	rec := &StreamRecord{Seq: n.seq, Scenario: n.scenario, From: e.addr, To: addr,
		DialerInfo: e.Info, ListenerInfo: dst.Info}
	n.streams = append(n.streams, rec)
	n.mu.Unlock()

	c1, c2 := net.Pipe()
	client := &recConn{Conn: c1, local: Addr(e.addr), remote: Addr(addr), rec: rec, dialer: true}
	server := &recConn{Conn: c2, local: Addr(addr), remote: Addr(e.addr), rec: rec}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case dst.streams <- server:
		return client, nil
	case <-dst.done:
	case <-t.C:
	}
	c1.Close()
	c2.Close()
	return nil, fmt.Errorf("memnet: dial %s: timeout", addr)
}

// StreamCh delivers accepted streams.
func (e *Endpoint) StreamCh() <-chan net.Conn { return e.streams }

// Shutdown detaches the endpoint; later sends to it are dropped and dials refused.
func (e *Endpoint) Shutdown() error {
	e.once.Do(func() {
		close(e.done)
		e.n.mu.Lock()
		if e.n.eps[e.addr] == e {
			delete(e.n.eps, e.addr)
			e.n.gone[e.addr] = e.Info
		}
		e.n.mu.Unlock()
	})
	return nil
}

// Done is closed by Shutdown.
func (e *Endpoint) Done() <-chan struct{} { return e.done }

type recConn struct {
	net.Conn
	local, remote net.Addr
	rec           *StreamRecord
	dialer        bool
}

func (c *recConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.rec.mu.Lock()
		if c.dialer {
			c.rec.dialer.Write(p[:n])
		} else {
			c.rec.reply.Write(p[:n])
		}
		c.rec.mu.Unlock()
	}
	return n, err
}

func (c *recConn) LocalAddr() net.Addr  { return c.local }
func (c *recConn) RemoteAddr() net.Addr { return c.remote }
