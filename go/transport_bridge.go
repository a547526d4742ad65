package memberlist

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// transportBridge runs a Memberlist over a Go Transport through libmemberlist's
// external-transport C API: what the library sends goes to the Transport (from goroutines, so
// the event loop never blocks on it), and what the Transport receives is fed to the library.
type transportBridge struct {
	t      NodeAwareTransport
	logger *log.Logger
	m      atomic.Pointer[Memberlist] // set once created; the inputs go through its withC

	done    chan struct{}
	packets chan outPacket
	wg      sync.WaitGroup // the input pumps; Shutdown waits for them

	mu      sync.Mutex
	streams map[uint64]net.Conn
	closed  bool
}

type outPacket struct {
	to  Address
	buf []byte
}

// nodeAwareShim adapts a plain Transport (as memberlist does).
type nodeAwareShim struct{ Transport }

func (s nodeAwareShim) WriteToAddress(b []byte, a Address) (time.Time, error) {
	return s.WriteTo(b, a.Addr)
}
func (s nodeAwareShim) DialAddressTimeout(a Address, timeout time.Duration) (net.Conn, error) {
	return s.DialTimeout(a.Addr, timeout)
}

func newTransportBridge(t Transport, logger *log.Logger) *transportBridge {
	nat, ok := t.(NodeAwareTransport)
	if !ok {
		logger.Printf("[DEBUG] memberlist: configured Transport is not a NodeAwareTransport and some features may not work as desired")
		nat = nodeAwareShim{t}
	}
	return &transportBridge{
		t:       nat,
		logger:  logger,
		done:    make(chan struct{}),
		packets: make(chan outPacket, 1024),
		streams: make(map[uint64]net.Conn),
	}
}

// start runs the goroutines: one sends packets, two feed PacketCh and StreamCh to the library.
func (b *transportBridge) start(m *Memberlist) {
	b.m.Store(m)
	go b.sendLoop() // not waited for: a Transport's WriteTo may block indefinitely
	b.wg.Add(2)
	go b.packetLoop()
	go b.streamLoop()
}

// stop is called after ml_memberlist_shutdown (no callback runs any more): it stops the pumps,
// closes every stream and shuts the Transport down.
func (b *transportBridge) stop() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.done)
	conns := b.streams
	b.streams = map[uint64]net.Conn{}
	b.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	err := b.t.Shutdown()
	b.wg.Wait()
	return err
}

// withC runs f with the memberlist's C handle (errShutdown before start and after Shutdown).
func (b *transportBridge) withC(f func(c *C.ml_memberlist_t) error) error {
	m := b.m.Load()
	if m == nil {
		return errShutdown
	}
	return m.withC(f)
}

func (b *transportBridge) isClosed() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

func (b *transportBridge) sendPacket(to Address, buf []byte) {
	select {
	case b.packets <- outPacket{to, buf}:
	default:
		b.logger.Printf("[WARN] memberlist: outgoing packet queue full, dropping a packet to %s", to.String())
	}
}

func (b *transportBridge) sendLoop() {
	for {
		select {
		case p := <-b.packets:
			if _, err := b.t.WriteToAddress(p.buf, p.to); err != nil && !b.isClosed() {
				b.logger.Printf("[ERR] memberlist: Failed to send packet to %s: %v", p.to.String(), err)
			}
		case <-b.done:
			return
		}
	}
}

func (b *transportBridge) addStream(id uint64, c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.streams[id] = c
	return true
}

func (b *transportBridge) takeStream(id uint64) net.Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.streams[id]
	delete(b.streams, id)
	return c
}

// openStream dials, writes the request and, if a reply is expected, feeds it back.
func (b *transportBridge) openStream(id uint64, to Address, timeout time.Duration, req []byte, expectReply bool) {
	go func() {
		conn, err := b.t.DialAddressTimeout(to, timeout)
		if err != nil {
			b.streamEnd(id, err)
			return
		}
		if !b.addStream(id, conn) {
			_ = conn.Close()
			return
		}
		if timeout > 0 {
			_ = conn.SetDeadline(time.Now().Add(timeout))
		}
		if _, err := conn.Write(req); err != nil {
			b.finish(id, err)
			return
		}
		if !expectReply {
			b.finish(id, nil)
			return
		}
		b.readInto(id, conn)
	}()
}

// readInto passes what conn yields to the library until EOF or an error.
func (b *transportBridge) readInto(id uint64, conn net.Conn) {
	buf := make([]byte, 64*1024)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if e := b.withC(func(c *C.ml_memberlist_t) error {
				rc := C.ml_memberlist_stream_data(c, C.uint64_t(id), bytesPtr(chunk), C.size_t(len(chunk)))
				runtime.KeepAlive(chunk)
				return cError("stream data", rc, nil)
			}); e != nil {
				b.finish(id, nil)
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			b.streamEnd(id, err)
			return
		}
	}
}

// finish closes our side of stream id and reports its end.
func (b *transportBridge) finish(id uint64, err error) {
	if c := b.takeStream(id); c != nil {
		_ = c.Close()
	}
	b.streamEnd(id, err)
}

func (b *transportBridge) streamEnd(id uint64, err error) {
	var cerr *C.char
	if err != nil {
		cerr = C.CString(err.Error())
		defer C.free(unsafe.Pointer(cerr))
	}
	_ = b.withC(func(c *C.ml_memberlist_t) error {
		C.ml_memberlist_stream_end(c, C.uint64_t(id), cerr)
		return nil
	})
}

func (b *transportBridge) replyStream(id uint64, data []byte) {
	conn := b.takeStream(id)
	if conn == nil {
		return
	}
	go func() {
		defer conn.Close()
		if len(data) > 0 {
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write(data); err != nil {
				b.logger.Printf("[ERR] memberlist: Failed to write stream reply: %v %s", err, LogConn(conn))
			}
		}
	}()
}

func (b *transportBridge) closeStream(id uint64) {
	if c := b.takeStream(id); c != nil {
		_ = c.Close()
	}
}

func (b *transportBridge) packetLoop() {
	defer b.wg.Done()
	for {
		select {
		case p := <-b.t.PacketCh():
			if p == nil {
				continue
			}
			from := hostPortOf(p.From)
			cfrom := C.CString(from)
			buf := p.Buf
			_ = b.withC(func(c *C.ml_memberlist_t) error {
				rc := C.ml_memberlist_deliver_packet(c, cfrom, bytesPtr(buf), C.size_t(len(buf)))
				runtime.KeepAlive(buf)
				if rc != C.ML_OK && rc != C.ML_ERR_CLOSED {
					b.logger.Printf("[ERR] memberlist: packet from %s refused: %v", from, cError("deliver", rc, nil))
				}
				return nil
			})
			C.free(unsafe.Pointer(cfrom))
		case <-b.done:
			return
		}
	}
}

func (b *transportBridge) streamLoop() {
	defer b.wg.Done()
	for {
		select {
		case conn := <-b.t.StreamCh():
			if conn == nil {
				continue
			}
			var id C.uint64_t
			cfrom := C.CString(hostPortOf(conn.RemoteAddr()))
			err := b.withC(func(c *C.ml_memberlist_t) error {
				return cError("accept stream", C.ml_memberlist_accept_stream(c, cfrom, &id), nil)
			})
			C.free(unsafe.Pointer(cfrom))
			if err != nil || !b.addStream(uint64(id), conn) {
				_ = conn.Close()
				continue
			}
			go b.readInto(uint64(id), conn)
		case <-b.done:
			return
		}
	}
}

// hostPortOf gives the library an "ip:port" for an address; addresses that are not (a pipe's)
// become "0.0.0.0:0".
func hostPortOf(a net.Addr) string {
	if a == nil {
		return "0.0.0.0:0"
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil || net.ParseIP(host) == nil {
		return "0.0.0.0:0"
	}
	return net.JoinHostPort(host, port)
}

// advertiseFor asks the Transport what to advertise, as memberlist does.
func advertiseFor(t Transport, conf *Config) (string, int, error) {
	ip, port, err := t.FinalAdvertiseAddr(conf.AdvertiseAddr, conf.AdvertisePort)
	if err != nil {
		return "", 0, fmt.Errorf("failed to get final advertise address: %v", err)
	}
	if ip == nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("the Transport advertises an invalid address %v:%d", ip, port)
	}
	return ip.String(), port, nil
}
