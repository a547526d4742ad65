package memberlist

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// compressedAlgo sends msg from m to a plain UDP socket and returns the Algo of the compress
// wrapper the datagram arrived in (09, then msgpack {"Algo": n, "Buf": ...}, Algo first, as
// memberlist writes it).
func compressedAlgo(t *testing.T, m *Memberlist, msg []byte) byte {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(m.config.BindAddr)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := m.SendToAddress(Address{Addr: pc.LocalAddr().String(), Name: "sink"}, msg); err != nil {
		t.Fatal(err)
	}
	if err := pc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	head := []byte{9, 0x82, 0xa4, 'A', 'l', 'g', 'o'}
	if n <= len(head) || !bytes.Equal(buf[:len(head)], head) {
		t.Fatalf("datagram is not a compress wrapper: % x", buf[:min(n, 16)])
	}
	if n >= len(msg) {
		t.Fatalf("compressed datagram of %d bytes for a %d-byte message", n, len(msg))
	}
	return buf[len(head)]
}

// diffCompressionAlgorithm (a difference of doc.go, run by TestDifferences):
// Config.CompressionAlgorithm picks the Algo written (LZW 0 by default, Snappy 1), nodes with
// either algorithm form one cluster and read each other's packets and streams, and an unknown
// name fails Create naming the field.
func diffCompressionAlgorithm(t *testing.T) {
	msg := bytes.Repeat([]byte("compressible user message "), 40)

	if got := DefaultLANConfig().CompressionAlgorithm; got != CompressionAlgorithmLZW {
		t.Fatalf("DefaultLANConfig().CompressionAlgorithm = %q", got)
	}
	cl := testConfig(t)
	ml := create(t, cl)
	if a := compressedAlgo(t, ml, msg); a != 0 {
		t.Fatalf("default config sent Algo %d, want 0 (LZW)", a)
	}

	ds := &mockDelegate{}
	cs := testConfig(t)
	cs.CompressionAlgorithm = CompressionAlgorithmSnappy
	cs.Delegate = ds
	ms := create(t, cs)
	if a := compressedAlgo(t, ms, msg); a != 1 {
		t.Fatalf("CompressionAlgorithmSnappy sent Algo %d, want 1", a)
	}

	// An LZW node and a Snappy node: join (push/pull streams both ways), then a best-effort
	// packet and a reliable stream message from the LZW node to the Snappy node and back.
	dl := &mockDelegate{}
	cl2 := testConfig(t)
	cl2.Delegate = dl
	ml2 := joinPeer(t, ms, cl2)
	waitForMembers(t, ms, 2)
	waitForMembers(t, ml2, 2)
	node := func(m *Memberlist, name string) *Node {
		for _, n := range m.Members() {
			if n.Name == name {
				return n
			}
		}
		t.Fatalf("%s not in members", name)
		return nil
	}
	if err := ml2.SendBestEffort(node(ml2, cs.Name), append([]byte("udp:"), msg...)); err != nil {
		t.Fatal(err)
	}
	if err := ml2.SendReliable(node(ml2, cs.Name), append([]byte("tcp:"), msg...)); err != nil {
		t.Fatal(err)
	}
	if err := ms.SendBestEffort(node(ms, cl2.Name), append([]byte("udp:"), msg...)); err != nil {
		t.Fatal(err)
	}
	if err := ms.SendReliable(node(ms, cl2.Name), append([]byte("tcp:"), msg...)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*mockDelegate{ds, dl} {
		waitFor(t, "both messages delivered", func() (bool, string) {
			got := d.messages()
			return len(got) == 2, fmt.Sprintf("%d delivered", len(got))
		})
		for _, m := range d.messages() {
			if !bytes.Equal(m[4:], msg) {
				t.Fatalf("message %q... arrived changed", m[:8])
			}
		}
	}

	bad := testConfig(t)
	bad.CompressionAlgorithm = "zstd"
	if _, err := Create(bad); err == nil || !strings.Contains(err.Error(), "CompressionAlgorithm") ||
		!strings.Contains(err.Error(), "zstd") {
		t.Fatalf("Create with CompressionAlgorithm zstd: %v", err)
	}
}
