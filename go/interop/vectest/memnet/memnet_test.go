package memnet

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

func TestRoutingAndRecording(t *testing.T) {
	nw := New(100)
	nw.SetScenario("s")
	got := make(chan []byte, 4)
	a, err := nw.NewEndpoint(net.IPv4(10, 0, 0, 1).To4(), 1, "infoA", func([]byte, net.Addr, time.Time) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	b, err := nw.NewEndpoint(net.ParseIP("fd00::2"), 1, "infoB", func(p []byte, from net.Addr, _ time.Time) bool {
		if from.String() != "10.0.0.1:1" {
			t.Errorf("from = %s", from)
		}
		got <- p
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.NewEndpoint(net.IPv4(10, 0, 0, 1).To4(), 1, nil, nil); err == nil {
		t.Fatal("duplicate address accepted")
	}
	if b.Addr() != "[fd00::2]:1" {
		t.Fatalf("addr %s", b.Addr())
	}
	if _, err := a.WriteTo([]byte("hi"), b.Addr()); err != nil {
		t.Fatal(err)
	}
	if p := <-got; string(p) != "hi" {
		t.Fatalf("got %q", p)
	}
	nw.BlockUDP(b.Addr(), true)
	a.WriteTo([]byte("dropped"), b.Addr())
	nw.BlockUDP(b.Addr(), false)
	recs := nw.Packets()
	if len(recs) != 2 || recs[0].Dropped || !recs[1].Dropped || recs[1].Receiver != "infoB" || recs[0].Scenario != "s" {
		t.Fatalf("records: %+v %+v", recs[0], recs[1])
	}

	// Streams: both directions are recorded.
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := <-b.StreamCh()
		buf := make([]byte, 3)
		io.ReadFull(c, buf)
		c.Write([]byte("pong"))
		c.Close()
	}()
	c, err := a.DialTimeout(b.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("req"))
	reply, _ := io.ReadAll(c)
	c.Close()
	<-done
	if string(reply) != "pong" {
		t.Fatalf("reply %q", reply)
	}
	s := nw.Streams()
	if len(s) != 1 || !bytes.Equal(s[0].Dialer(), []byte("req")) || !bytes.Equal(s[0].Reply(), []byte("pong")) ||
		s[0].ListenerInfo != "infoB" || s[0].DialerInfo != "infoA" {
		t.Fatalf("stream record %+v", s[0])
	}

	// After shutdown: dial refused, packets dropped but recorded with the old info.
	b.Shutdown()
	if _, err := a.DialTimeout(b.Addr(), 10*time.Millisecond); err == nil {
		t.Fatal("dial to a shut-down endpoint worked")
	}
	a.WriteTo([]byte("late"), b.Addr())
	recs = nw.Packets()
	if last := recs[len(recs)-1]; !last.Dropped || last.Receiver != "infoB" {
		t.Fatalf("late packet %+v", last)
	}
	a.Shutdown()
	if _, err := a.WriteTo([]byte("x"), b.Addr()); err == nil {
		t.Fatal("send from a shut-down endpoint worked")
	}
}
