//go:build cgo

package memberlist

import (
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// Packet is a packet received by a Transport.
type Packet struct {
	// Buf is the packet's payload.
	Buf []byte
	// From is the sender's address.
	From net.Addr
	// Timestamp is when the packet was received.
	Timestamp time.Time
}

// Transport is memberlist's pluggable network layer (see Config.Transport). libmemberlist calls
// WriteTo/WriteToAddress and DialTimeout/DialAddressTimeout from goroutines, never from its
// event loop, and reads PacketCh and StreamCh until Shutdown.
type Transport interface {
	// FinalAdvertiseAddr returns the address and port to advertise, given the configured ones.
	FinalAdvertiseAddr(ip string, port int) (net.IP, int, error)
	// WriteTo sends a packet to "host:port" and returns when it was sent.
	WriteTo(b []byte, addr string) (time.Time, error)
	// PacketCh delivers received packets.
	PacketCh() <-chan *Packet
	// DialTimeout opens a stream to "host:port".
	DialTimeout(addr string, timeout time.Duration) (net.Conn, error)
	// StreamCh delivers accepted streams.
	StreamCh() <-chan net.Conn
	// Shutdown stops the transport.
	Shutdown() error
}

// IngestionAwareTransport is deprecated in memberlist; kept for API compatibility.
type IngestionAwareTransport interface {
	IngestPacket(conn net.Conn, addr net.Addr, now time.Time, shouldClose bool) error
	IngestStream(conn net.Conn) error
}

// NodeAwareTransport is a Transport that also gets the node name with each address.
type NodeAwareTransport interface {
	Transport
	WriteToAddress(b []byte, addr Address) (time.Time, error)
	DialAddressTimeout(addr Address, timeout time.Duration) (net.Conn, error)
}

// NetTransportConfig configures a NetTransport.
type NetTransportConfig struct {
	// BindAddrs: addresses to bind UDP and TCP to.
	BindAddrs []string
	// BindPort: the port on every address; 0 lets the kernel choose (the first address's).
	BindPort int
	// Logger for the transport; nil logs to os.Stderr.
	Logger *log.Logger
	// MetricLabels: accepted for API compatibility; this transport emits no metrics.
	MetricLabels []metrics.Label
}

// NetTransport is a standalone UDP + TCP Transport in plain Go (memberlist's default
// transport). Passed as Config.Transport, Create takes it over: it reads its single bind address
// and port, shuts it down, and libmemberlist binds the same address and port itself.
type NetTransport struct {
	config       NetTransportConfig
	logger       *log.Logger
	packetCh     chan *Packet
	streamCh     chan net.Conn
	tcpListeners []*net.TCPListener
	udpListeners []*net.UDPConn
	wg           sync.WaitGroup
	shutdown     atomic.Bool
	shutdownCh   chan struct{}
}

var _ NodeAwareTransport = (*NetTransport)(nil)

// NewNetTransport binds UDP and TCP on every configured address and starts reading from them.
func NewNetTransport(config *NetTransportConfig) (*NetTransport, error) {
	if config == nil {
		return nil, fmt.Errorf("NetTransport needs a config")
	}
	if len(config.BindAddrs) == 0 {
		return nil, fmt.Errorf("at least one bind address is required")
	}
	logger := config.Logger
	if logger == nil {
		logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	t := &NetTransport{
		config:     *config,
		logger:     logger,
		packetCh:   make(chan *Packet),
		streamCh:   make(chan net.Conn),
		shutdownCh: make(chan struct{}),
	}
	ok := false
	defer func() {
		if !ok {
			_ = t.Shutdown()
		}
	}()
	port := config.BindPort
	for _, addr := range config.BindAddrs {
		ip := net.ParseIP(addr)
		if ip == nil {
			return nil, fmt.Errorf("failed to parse bind address %q", addr)
		}
		tl, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: port})
		if err != nil {
			return nil, fmt.Errorf("failed to start TCP listener on %q port %d: %v", addr, port, err)
		}
		t.tcpListeners = append(t.tcpListeners, tl)
		if port == 0 {
			port = tl.Addr().(*net.TCPAddr).Port
		}
		ul, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err != nil {
			return nil, fmt.Errorf("failed to start UDP listener on %q port %d: %v", addr, port, err)
		}
		_ = ul.SetReadBuffer(2 * 1024 * 1024)
		t.udpListeners = append(t.udpListeners, ul)
	}
	for i := range t.tcpListeners {
		t.wg.Add(2)
		go t.tcpListen(t.tcpListeners[i])
		go t.udpListen(t.udpListeners[i])
	}
	ok = true
	return t, nil
}

// GetAutoBindPort returns the port bound (useful with BindPort 0).
func (t *NetTransport) GetAutoBindPort() int {
	if len(t.tcpListeners) == 0 {
		return 0
	}
	return t.tcpListeners[0].Addr().(*net.TCPAddr).Port
}

// FinalAdvertiseAddr returns ip:port if given, else the first bound address (a private address
// of this host for 0.0.0.0) and the bound port.
func (t *NetTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	var advertiseAddr net.IP
	if ip != "" {
		advertiseAddr = net.ParseIP(ip)
		if advertiseAddr == nil {
			return nil, 0, fmt.Errorf("failed to parse advertise address %q", ip)
		}
		if ip4 := advertiseAddr.To4(); ip4 != nil {
			advertiseAddr = ip4
		}
	} else {
		if t.config.BindAddrs[0] == "0.0.0.0" {
			var err error
			if advertiseAddr, err = privateIP(); err != nil {
				return nil, 0, err
			}
		} else {
			advertiseAddr = t.tcpListeners[0].Addr().(*net.TCPAddr).IP // as bound (memberlist's choice)
		}
		port = t.GetAutoBindPort()
	}
	return advertiseAddr, port, nil
}

func privateIP() (net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("failed to get interface addresses: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsPrivate() {
			return n.IP, nil
		}
	}
	return nil, fmt.Errorf("no private IP address found, and explicit IP not provided")
}

// WriteTo sends a packet to "host:port" from the first bound socket.
func (t *NetTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	udpAddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return time.Time{}, err
	}
	_, err = t.udpListeners[0].WriteTo(b, udpAddr)
	return time.Now(), err
}

// WriteToAddress sends a packet to a.Addr.
func (t *NetTransport) WriteToAddress(b []byte, a Address) (time.Time, error) {
	return t.WriteTo(b, a.Addr)
}

// PacketCh delivers received packets.
func (t *NetTransport) PacketCh() <-chan *Packet { return t.packetCh }

// IngestPacket reads a whole packet from conn and delivers it on PacketCh.
func (t *NetTransport) IngestPacket(conn net.Conn, addr net.Addr, now time.Time, shouldClose bool) error {
	if shouldClose {
		defer conn.Close()
	}
	buf, err := io.ReadAll(conn)
	if err != nil {
		return fmt.Errorf("failed to read packet: %v", err)
	}
	if len(buf) == 0 {
		return fmt.Errorf("packet too short (0 bytes) %s", LogAddress(addr))
	}
	t.packetCh <- &Packet{Buf: buf, From: addr, Timestamp: now}
	return nil
}

// DialTimeout opens a TCP stream.
func (t *NetTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.Dial("tcp", addr)
}

// DialAddressTimeout opens a TCP stream to a.Addr.
func (t *NetTransport) DialAddressTimeout(a Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}

// StreamCh delivers accepted streams.
func (t *NetTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// IngestStream delivers conn on StreamCh.
func (t *NetTransport) IngestStream(conn net.Conn) error {
	t.streamCh <- conn
	return nil
}

// Shutdown closes the sockets and waits for the readers to stop. Idempotent.
func (t *NetTransport) Shutdown() error {
	if t.shutdown.Swap(true) {
		return nil
	}
	close(t.shutdownCh)
	for _, l := range t.tcpListeners {
		_ = l.Close()
	}
	for _, l := range t.udpListeners {
		_ = l.Close()
	}
	t.wg.Wait()
	return nil
}

// takeOver is Create's use of a NetTransport: its one address and port, then Shutdown so
// libmemberlist can bind them.
func (t *NetTransport) takeOver() (string, int, error) {
	if len(t.config.BindAddrs) != 1 {
		return "", 0, fmt.Errorf("memberlist: a NetTransport used as Config.Transport must have exactly one bind address (libmemberlist binds one), not %d", len(t.config.BindAddrs))
	}
	if t.shutdown.Load() {
		return "", 0, fmt.Errorf("memberlist: the NetTransport in Config.Transport has been shut down")
	}
	port := t.GetAutoBindPort()
	if err := t.Shutdown(); err != nil {
		return "", 0, err
	}
	return t.config.BindAddrs[0], port, nil
}

func (t *NetTransport) tcpListen(l *net.TCPListener) {
	defer t.wg.Done()
	for {
		conn, err := l.AcceptTCP()
		if err != nil {
			if t.shutdown.Load() {
				return
			}
			t.logger.Printf("[ERR] memberlist: Error accepting TCP connection: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		select {
		case t.streamCh <- conn:
		case <-t.shutdownCh:
			_ = conn.Close()
			return
		}
	}
}

func (t *NetTransport) udpListen(l *net.UDPConn) {
	defer t.wg.Done()
	for {
		buf := make([]byte, 65536)
		n, addr, err := l.ReadFrom(buf)
		ts := time.Now()
		if err != nil {
			if t.shutdown.Load() {
				return
			}
			t.logger.Printf("[ERR] memberlist: Error reading UDP packet: %v", err)
			continue
		}
		if n < 1 {
			t.logger.Printf("[ERR] memberlist: UDP packet too short (%d bytes) %s", n, LogAddress(addr))
			continue
		}
		select {
		case t.packetCh <- &Packet{Buf: buf[:n], From: addr, Timestamp: ts}:
		case <-t.shutdownCh:
			return
		}
	}
}
