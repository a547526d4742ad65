package memberlist

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestConfig_IPAllowedDefaults(t *testing.T) {
	for _, c := range []*Config{DefaultLANConfig(), DefaultWANConfig(), DefaultLocalConfig()} {
		if c.IPMustBeChecked() {
			t.Fatal("the presets allow everyone")
		}
		for _, ip := range []string{"127.0.0.1", "127.0.0.5", "10.0.0.9", "172.16.0.7", "192.168.2.1", "fe80::aede:48ff:fe00:1122", "::1"} {
			if err := c.IPAllowed(net.ParseIP(ip)); err != nil {
				t.Fatalf("%s: %v", ip, err)
			}
		}
	}
	c := DefaultLANConfig()
	c.CIDRsAllowed = []net.IPNet{} // empty allows all, as in memberlist's code
	if c.IPMustBeChecked() || c.IPAllowed(net.ParseIP("8.8.8.8")) != nil {
		t.Fatal("an empty list allows everyone")
	}
}

func TestConfig_IPAllowedOverride(t *testing.T) {
	for _, tc := range []struct {
		name        string
		allow       []string
		pass, block []string
	}{
		{"nil allows all", nil, []string{"127.0.0.5", "10.0.0.9", "::1"}, nil},
		{"IPv4 only", []string{"0.0.0.0/0"}, []string{"127.0.0.5", "192.168.1.7"}, []string{"::1", "fe80::38bc:4dff:fe62:b1ae"}},
		{"IPv6 only", []string{"::0/0"}, []string{"::1", "fe80::38bc:4dff:fe62:b1ae"}, []string{"127.0.0.5", "10.0.0.9"}},
		{"loopbacks", []string{"::1/128", " 127.0.0.0/8 "}, []string{"127.0.0.5", "127.1.2.3", "::1"},
			[]string{"::2", "178.250.0.187", "10.0.0.9", "fe80::38bc:4dff:fe62:b1ae"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultLANConfig()
			var err error
			if c.CIDRsAllowed, err = ParseCIDRs(tc.allow); err != nil {
				t.Fatal(err)
			}
			for _, ip := range tc.pass {
				if err := c.IPAllowed(net.ParseIP(ip)); err != nil {
					t.Fatalf("%s should pass: %v", ip, err)
				}
			}
			for _, ip := range tc.block {
				err := c.IPAllowed(net.ParseIP(ip))
				if err == nil || !strings.Contains(err.Error(), "is not allowed") {
					t.Fatalf("%s should be blocked: %v", ip, err)
				}
			}
		})
	}
	nets, err := ParseCIDRs([]string{"127.0.0.0/8", "bogus", "1.2.3.4/99"})
	if err == nil || len(nets) != 1 || !strings.Contains(err.Error(), "invalid cidr: bogus") || !strings.Contains(err.Error(), "1.2.3.4/99") {
		t.Fatalf("ParseCIDRs with bad entries: %v, %v", nets, err)
	}
	if nets, err := ParseCIDRs(nil); err != nil || len(nets) != 0 {
		t.Fatalf("ParseCIDRs(nil) = %v, %v", nets, err)
	}
}

func TestConfig_presets(t *testing.T) {
	lan, wan, local := DefaultLANConfig(), DefaultWANConfig(), DefaultLocalConfig()
	if lan.ProbeInterval != time.Second || lan.ProbeTimeout != 500*time.Millisecond || lan.BindPort != 7946 ||
		lan.UDPBufferSize != 1400 || !lan.EnableCompression || lan.DNSConfigPath != "/etc/resolv.conf" {
		t.Fatalf("LAN preset: %+v", lan)
	}
	if wan.ProbeInterval != 5*time.Second || wan.GossipNodes != 4 || wan.TCPTimeout != 30*time.Second {
		t.Fatalf("WAN preset: %+v", wan)
	}
	if local.ProbeTimeout != 200*time.Millisecond || local.IndirectChecks != 1 || local.GossipInterval != 100*time.Millisecond {
		t.Fatalf("Local preset: %+v", local)
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

type fakeConn struct {
	net.Conn
	remote net.Addr
}

func (c fakeConn) RemoteAddr() net.Addr { return c.remote }

func TestLogging_Address(t *testing.T) {
	if s := LogAddress(nil); s != "from=<unknown address>" {
		t.Fatal(s)
	}
	if s := LogAddress(fakeAddr("127.0.0.1:1")); s != "from=127.0.0.1:1" {
		t.Fatal(s)
	}
	if s := LogStringAddress(""); s != "from=<unknown address>" {
		t.Fatal(s)
	}
	if s := LogStringAddress("x:1"); s != "from=x:1" {
		t.Fatal(s)
	}
}

func TestLogging_Conn(t *testing.T) {
	if s := LogConn(nil); s != "from=<unknown address>" {
		t.Fatal(s)
	}
	if s := LogConn(fakeConn{remote: fakeAddr("10.0.0.1:7946")}); s != "from=10.0.0.1:7946" {
		t.Fatal(s)
	}
}

func TestLogLineFormat(t *testing.T) {
	for _, tc := range []struct {
		level int
		msg   string
		want  string
	}{
		{0, "x", "[DEBUG] memberlist: x"},
		{1, "x", "[INFO] memberlist: x"},
		{2, "memberlist: y", "[WARN] memberlist: y"},
		{3, "z", "[ERR] memberlist: z"},
	} {
		if got := formatLogLine(tc.level, tc.msg); got != tc.want {
			t.Fatalf("formatLogLine(%d, %q) = %q", tc.level, tc.msg, got)
		}
	}
}

func TestNodeAndAddress(t *testing.T) {
	n := &Node{Name: "a", Addr: net.ParseIP("::1"), Port: 7946}
	if n.Address() != "[::1]:7946" || n.String() != "a" {
		t.Fatalf("%s %s", n.Address(), n.String())
	}
	fa := n.FullAddress()
	if fa.Addr != "[::1]:7946" || fa.Name != "a" || fa.String() != "a ([::1]:7946)" {
		t.Fatalf("%+v %s", fa, fa.String())
	}
	noName := Address{Addr: "1.2.3.4:5"}
	if noName.String() != "1.2.3.4:5" {
		t.Fatal(noName.String())
	}
	if (NoPingResponseError{node: "x"}).Error() != "No response from node x" {
		t.Fatal("NoPingResponseError text")
	}
}

func TestLabelPacket(t *testing.T) {
	buf, err := AddLabelHeaderToPacket([]byte("payload"), "")
	if err != nil || string(buf) != "payload" {
		t.Fatalf("no label: %q %v", buf, err)
	}
	buf, err = AddLabelHeaderToPacket([]byte("payload"), "lbl")
	if err != nil || !bytes.Equal(buf, append([]byte{244, 3, 'l', 'b', 'l'}, "payload"...)) {
		t.Fatalf("labelled: %v %v", buf, err)
	}
	if _, err := AddLabelHeaderToPacket(nil, strings.Repeat("x", 256)); err == nil {
		t.Fatal("a 256-byte label must fail")
	}
	rest, label, err := RemoveLabelHeaderFromPacket(buf)
	if err != nil || label != "lbl" || string(rest) != "payload" {
		t.Fatalf("remove: %q %q %v", rest, label, err)
	}
	rest, label, err = RemoveLabelHeaderFromPacket([]byte("plain"))
	if err != nil || label != "" || string(rest) != "plain" {
		t.Fatalf("unlabelled: %q %q %v", rest, label, err)
	}
	for _, bad := range [][]byte{{244}, {244, 0}, {244, 5, 'a'}} {
		if _, _, err := RemoveLabelHeaderFromPacket(bad); err == nil {
			t.Fatalf("%v must fail", bad)
		}
	}
}

func TestLabelStream(t *testing.T) {
	for _, label := range []string{"", "lbl", strings.Repeat("y", 255)} {
		a, b := net.Pipe()
		go func() {
			defer a.Close()
			if err := AddLabelHeaderToStream(a, label); err != nil {
				t.Error(err)
			}
			_, _ = a.Write([]byte("rest of stream"))
		}()
		conn, got, err := RemoveLabelHeaderFromStream(b)
		if err != nil || got != label {
			t.Fatalf("label %q: got %q, %v", label, got, err)
		}
		rest, err := io.ReadAll(conn)
		if err != nil || string(rest) != "rest of stream" {
			t.Fatalf("rest %q %v", rest, err)
		}
		b.Close()
	}
	a, b := net.Pipe()
	go func() { _, _ = a.Write([]byte{244, 0}); a.Close() }()
	if _, _, err := RemoveLabelHeaderFromStream(b); err == nil {
		t.Fatal("an empty label header must fail")
	}
	if err := AddLabelHeaderToStream(nil, strings.Repeat("x", 256)); err == nil {
		t.Fatal("a 256-byte label must fail")
	}
}

func TestMockNetwork(t *testing.T) {
	var n MockNetwork
	t1, t2 := n.NewTransport("one"), n.NewTransport("two")
	ip, port, err := t2.FinalAdvertiseAddr("", 0)
	if err != nil || ip.String() != "127.0.0.1" || port != 2 {
		t.Fatalf("FinalAdvertiseAddr = %v %d %v", ip, port, err)
	}
	go func() { _, _ = t1.WriteTo([]byte("hi"), "127.0.0.1:2") }()
	p := <-t2.PacketCh()
	if string(p.Buf) != "hi" || p.From.String() != "127.0.0.1:1" || p.From.Network() != "mock" {
		t.Fatalf("packet %+v", p)
	}
	go func() { _, _ = t2.WriteToAddress([]byte("by name"), Address{Name: "one"}) }()
	if p := <-t1.PacketCh(); string(p.Buf) != "by name" {
		t.Fatalf("packet %+v", p)
	}
	go func() {
		c, err := t1.DialAddressTimeout(Address{Name: "two"}, time.Second)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = c.Write([]byte("stream"))
		c.Close()
	}()
	s := <-t2.StreamCh()
	if b, _ := io.ReadAll(s); string(b) != "stream" {
		t.Fatalf("stream %q", b)
	}
	if _, err := t1.WriteTo([]byte("x"), "127.0.0.1:99"); err == nil {
		t.Fatal("no route must fail")
	}
	if err := t1.Shutdown(); err != nil {
		t.Fatal(err)
	}
}

func TestNetTransport(t *testing.T) {
	if _, err := NewNetTransport(&NetTransportConfig{}); err == nil {
		t.Fatal("no bind address must fail")
	}
	if _, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{"nope"}}); err == nil {
		t.Fatal("a bad bind address must fail")
	}
	a1, a2 := nextAddr().String(), nextAddr().String()
	t1, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{a1}, Logger: testLogger(t, "t1")})
	if err != nil {
		t.Fatal(err)
	}
	defer t1.Shutdown()
	t2, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{a2}, BindPort: t1.GetAutoBindPort(), Logger: testLogger(t, "t2")})
	if err != nil {
		t.Fatal(err)
	}
	defer t2.Shutdown()
	ip, port, err := t2.FinalAdvertiseAddr("", 0)
	if err != nil || ip.String() != a2 || port != t1.GetAutoBindPort() {
		t.Fatalf("FinalAdvertiseAddr = %v %d %v", ip, port, err)
	}
	to := net.JoinHostPort(a2, itoa(port))
	if _, err := t1.WriteTo([]byte("packet"), to); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-t2.PacketCh():
		if string(p.Buf) != "packet" {
			t.Fatalf("packet %q", p.Buf)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no packet")
	}
	c, err := t1.DialTimeout(to, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("stream"))
	c.Close()
	select {
	case s := <-t2.StreamCh():
		b, _ := io.ReadAll(s)
		s.Close()
		if string(b) != "stream" {
			t.Fatalf("stream %q", b)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no stream")
	}
}

func TestCreate_withNetTransport(t *testing.T) {
	addr := nextAddr().String()
	nt, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{addr}, Logger: testLogger(t, "nt")})
	if err != nil {
		t.Fatal(err)
	}
	port := nt.GetAutoBindPort()
	c := testConfig(t)
	c.BindAddr = "0.0.0.0" // ignored: the transport's address is used
	c.BindPort = 0
	c.Transport = nt
	m := create(t, c)
	if n := m.LocalNode(); n.Addr.String() != addr || int(n.Port) != port {
		t.Fatalf("node at %s, want the transport's %s:%d", n.Address(), addr, port)
	}
	two, _ := NewNetTransport(&NetTransportConfig{BindAddrs: []string{nextAddr().String(), nextAddr().String()}})
	defer two.Shutdown()
	c2 := testConfig(t)
	c2.Transport = two
	if m2, err := Create(c2); err == nil {
		_ = m2.Shutdown()
		t.Fatal("a NetTransport with two addresses cannot be taken over")
	}
}
