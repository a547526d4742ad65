package memberlist

// Edge cases of the exported API, written the way consumers (serf, alertmanager, Consul) use
// it, with memberlist v0.7.0's results: the same return values, error types and error texts.

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	multierror "github.com/hashicorp/go-multierror"
)

// closedPort returns a loopback port nothing listens on (dialling it is refused).
func closedPort(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// A first node started with an empty peer list (a seed): Join(nil) must not be an error.
func TestJoin_noAddressesIsNotAnError(t *testing.T) {
	m := create(t, testConfig(t))
	for _, peers := range [][]string{nil, {}} {
		n, err := m.Join(peers)
		if n != 0 || err != nil {
			t.Fatalf("Join(%#v) = %d, %v; want 0, nil", peers, n, err)
		}
	}
}

// Join's error is a *multierror.Error with one entry per failed address, in order, worded as
// memberlist words them.
func TestJoin_errorIsMultierror(t *testing.T) {
	c := testConfig(t)
	c.RequireNodeNames = false
	logs := captureLogs(c)
	m := create(t, c)
	refused := closedPort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(refused))

	n, err := m.Join([]string{addr, "/127.0.0.1", "127.0.0.1:99999"})
	if n != 0 || err == nil {
		t.Fatalf("Join = %d, %v; want an error", n, err)
	}
	var merr *multierror.Error
	if !errors.As(err, &merr) {
		t.Fatalf("Join's error is a %T, not a *multierror.Error", err)
	}
	want := []string{
		"failed to join " + addr + ": dial tcp " + addr + ": connect: connection refused",
		"failed to resolve /127.0.0.1: empty node name provided",
		`failed to resolve 127.0.0.1:99999: strconv.ParseUint: parsing "99999": value out of range`,
	}
	var got []string
	for _, e := range merr.WrappedErrors() {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Join's errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(err.Error(), "3 errors occurred:\n\t* ") {
		t.Fatalf("Join's error text is not multierror's: %q", err)
	}
	// memberlist logs a failed join at DEBUG and a failed resolve at WARN. The join's line is
	// libmemberlist's own, delivered through its log queue: it may follow Join's return.
	for _, line := range []string{"[DEBUG] memberlist: " + want[0], "[WARN] memberlist: " + want[1]} {
		waitFor(t, "the log line "+line, func() (bool, string) { return strings.Contains(logs.String(), line+"\n"), logs.String() })
	}
}

func TestJoin_requireNodeNames(t *testing.T) {
	m1 := create(t, testConfig(t))
	m2 := createPeer(t, m1, testConfig(t)) // testConfig requires node names
	n, err := m2.Join([]string{m1.config.BindAddr})
	want := "failed to join " + net.JoinHostPort(m1.config.BindAddr, strconv.Itoa(m1.config.BindPort)) + ": " +
		errNodeNamesAreRequired.Error()
	var merr *multierror.Error
	if n != 0 || !errors.As(err, &merr) || len(merr.Errors) != 1 || merr.Errors[0].Error() != want {
		t.Fatalf("Join without a name = %d, %v; want one error %q", n, err, want)
	}
}

// One address that works is a success: the error is a nil interface, not a typed nil.
func TestJoin_partialSuccessIsNil(t *testing.T) {
	m1 := create(t, testConfig(t))
	m2 := createPeer(t, m1, testConfig(t))
	bad := "x/127.0.0.1:" + strconv.Itoa(closedPort(t, "127.0.0.1"))
	n, err := m2.Join([]string{bad, joinAddr(m1)})
	if n != 1 || err != nil {
		t.Fatalf("Join = %d, %v; want 1, nil", n, err)
	}
}

// Bare IPv6 addresses, bracketed ones and ports: memberlist's rules for the default port.
func TestJoin_addressForms(t *testing.T) {
	c := testConfig(t)
	m := create(t, c)
	port := strconv.Itoa(c.BindPort)
	for _, tc := range []struct{ in, want string }{
		{"10.0.0.1", "10.0.0.1:" + port},
		{"10.0.0.1:80", "10.0.0.1:80"},
		{"::1", "[::1]:" + port},
		{"[::1]", "[::1]:" + port},
		{"[::1]:80", "[::1]:80"},
		{"n/10.0.0.1", "10.0.0.1:" + port},
	} {
		got, err := m.resolveAddr(tc.in)
		if err != nil || len(got) != 1 || got[0].Addr != tc.want {
			t.Errorf("resolveAddr(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// Create's errors are worded as memberlist's and name no C function.
func TestCreate_errorTexts(t *testing.T) {
	inUse := testConfig(t)
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.ParseIP(inUse.BindAddr)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	inUse.BindPort = l.Addr().(*net.TCPAddr).Port
	hp := l.Addr().String()
	for _, tc := range []struct {
		name string
		conf *Config
		want string
	}{
		{"port in use", inUse, fmt.Sprintf(`could not set up network transport: failed to obtain an address: failed to start TCP listener on %q port %d: listen tcp %s: bind: address already in use`,
			inUse.BindAddr, inUse.BindPort, hp)},
		{"advertise address not an IP", func() *Config { c := testConfig(t); c.AdvertiseAddr = "node1"; return c }(),
			`failed to get final advertise address: failed to parse advertise address "node1"`},
		{"protocol version", func() *Config { c := testConfig(t); c.ProtocolVersion = 9; return c }(),
			"protocol version '9' too high. Must be in range: [1, 5]"},
		{"bad secret key", func() *Config { c := testConfig(t); c.SecretKey = []byte("short"); return c }(),
			"key size must be 16, 24 or 32 bytes"},
		{"label too long", func() *Config { c := testConfig(t); c.Label = strings.Repeat("l", 256); return c }(),
			fmt.Sprintf("could not use %q as a label: too long", strings.Repeat("l", 256))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Create(tc.conf)
			if err == nil {
				m.Shutdown()
				t.Fatal("Create succeeded")
			}
			if err.Error() != tc.want {
				t.Fatalf("Create: %q\nwant    %q", err, tc.want)
			}
		})
	}
	// Errors memberlist does not have (see doc.go) name the Config field, not libmemberlist's C
	// function or key.
	for _, tc := range []struct {
		field  string
		modify func(*Config)
	}{
		{"BindAddr", func(c *Config) { c.BindAddr = "localhost" }},
		{"GossipNodes", func(c *Config) { c.GossipNodes = -1 }},
		{"UDPBufferSize", func(c *Config) { c.UDPBufferSize = -5 }},
		{"ProbeInterval", func(c *Config) { c.ProbeInterval = 0 }},
		{"Name", func(c *Config) { c.Name = "" }},
	} {
		c := testConfig(t)
		tc.modify(c)
		m, err := Create(c)
		if err == nil {
			m.Shutdown()
			t.Fatalf("%s: Create succeeded", tc.field)
		}
		if strings.Contains(err.Error(), "ml_") || !strings.Contains(strings.ToLower(strings.ReplaceAll(err.Error(), " ", "")), strings.ToLower(tc.field)) ||
			strings.Contains(err.Error(), "probe_interval") || strings.Contains(err.Error(), "_nodes") {
			t.Fatalf("%s: Create's error does not name the field, or names the C API: %q", tc.field, err)
		}
	}
}

func TestParseCIDRs_multierror(t *testing.T) {
	nets, err := ParseCIDRs([]string{"10.0.0.0/8", "not-a-cidr", " 192.168.0.0/16 ", "1.2.3.4"})
	var merr *multierror.Error
	if !errors.As(err, &merr) || len(merr.Errors) != 2 {
		t.Fatalf("ParseCIDRs error = %#v; want a *multierror.Error with 2 entries", err)
	}
	if want := "2 errors occurred:\n\t* invalid cidr: not-a-cidr\n\t* invalid cidr: 1.2.3.4\n\n"; err.Error() != want {
		t.Fatalf("ParseCIDRs error %q, want %q", err, want)
	}
	if len(nets) != 2 {
		t.Fatalf("the good entries must still be returned: %v", nets)
	}
	if nets, err := ParseCIDRs([]string{"10.0.0.0/8"}); err != nil || len(nets) != 1 {
		t.Fatalf("ParseCIDRs(good) = %v, %v", nets, err) // err must be a nil interface
	}
	if nets, err := ParseCIDRs(nil); err != nil || nets == nil || len(nets) != 0 {
		t.Fatalf("ParseCIDRs(nil) = %#v, %v; want an empty non-nil slice", nets, err)
	}
}

// SendToAddress passes the address parser's error through, as memberlist does.
func TestSendToAddress_badAddress(t *testing.T) {
	c := testConfig(t)
	logs := captureLogs(c)
	m := create(t, c)
	err := m.SendToAddress(Address{Addr: "nohost", Name: "x"}, []byte("hi"))
	if err == nil || err.Error() != "address nohost: missing port in address" {
		t.Fatalf("SendToAddress(nohost) = %v", err)
	}
	if want := `[ERR] memberlist: Failed to parse address "nohost": address nohost: missing port in address`; !strings.Contains(logs.String(), want) {
		t.Fatalf("log lacks %q:\n%s", want, logs.String())
	}
	if err := m.SendToAddress(Address{Addr: "127.0.0.1:1"}, nil); err != errNodeNamesAreRequired {
		t.Fatalf("SendToAddress without a name under RequireNodeNames = %v", err)
	}
}

func TestTransports_errorTexts(t *testing.T) {
	if _, err := NewNetTransport(&NetTransportConfig{}); err == nil || err.Error() != "at least one bind address is required" {
		t.Fatalf("NewNetTransport with no address: %v", err)
	}
	nt, err := NewNetTransport(&NetTransportConfig{BindAddrs: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nt.Shutdown()
	if _, _, err := nt.FinalAdvertiseAddr("nope", 1); err == nil || err.Error() != `failed to parse advertise address "nope"` {
		t.Fatalf("FinalAdvertiseAddr(nope): %v", err)
	}
	if ip, port, err := nt.FinalAdvertiseAddr("", 0); err != nil || !ip.Equal(net.IPv4(127, 0, 0, 1)) || port != nt.GetAutoBindPort() {
		t.Fatalf("FinalAdvertiseAddr(\"\") = %v, %d, %v", ip, port, err)
	}
	if ip, port, err := nt.FinalAdvertiseAddr("10.1.2.3", 4000); err != nil || ip.String() != "10.1.2.3" || len(ip) != 4 || port != 4000 {
		t.Fatalf("FinalAdvertiseAddr(10.1.2.3) = %v (%d bytes), %d, %v", ip, len(ip), port, err)
	}

	var mn MockNetwork
	mt := mn.NewTransport("a")
	if _, err := mt.DialAddressTimeout(Address{Addr: "127.0.0.1:9", Name: "b"}, 0); err == nil || err.Error() != "no route to {127.0.0.1:9 b}" {
		t.Fatalf("MockTransport dial to an unknown node: %v", err)
	}
	if _, err := mt.WriteTo([]byte("x"), "127.0.0.1:9"); err == nil || err.Error() != "no route to {127.0.0.1:9 }" {
		t.Fatalf("MockTransport write to an unknown address: %v", err)
	}
	c1, c2 := net.Pipe()
	c2.Close()
	if err := mt.IngestPacket(c1, &net.UDPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 5}, time.Now(), true); err == nil ||
		err.Error() != "packet too short (0 bytes) from=1.2.3.4:5" {
		t.Fatalf("IngestPacket of nothing: %v", err)
	}
}

// publicTransport is a MockTransport that advertises a given address.
type publicTransport struct {
	*MockTransport
	ip net.IP
}

func (p publicTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) { return p.ip, 7946, nil }

// memberlist warns at Create when it advertises a public address without encryption (a public
// address being one outside RFC 6890's special-purpose blocks).
func TestCreate_publicAddressWarning(t *testing.T) {
	const warning = "[WARN] memberlist: Binding to public address without encryption!"
	var mn MockNetwork
	for i, tc := range []struct {
		ip   string
		key  []byte
		warn bool
	}{
		{"8.8.8.8", nil, true},
		{"8.8.8.8", []byte("0123456789abcdef"), false},
		{"10.1.2.3", nil, false},
		{"192.0.2.7", nil, false},
		{"2a00:1450::1", nil, true},
		{"fd00::1", nil, false},
		{"2001:db8::1", nil, false},
	} {
		c := DefaultLocalConfig()
		c.Name = fmt.Sprintf("n%d", i)
		c.SecretKey = tc.key
		logs := captureLogs(c)
		c.Transport = publicTransport{mn.NewTransport(c.Name), net.ParseIP(tc.ip)}
		create(t, c)
		if got := strings.Contains(logs.String(), warning); got != tc.warn {
			t.Errorf("advertising %s (key %v): warned %v, want %v\n%s", tc.ip, tc.key != nil, got, tc.warn, logs.String())
		}
	}
}

// Ping takes any net.Addr whose String() is "host:port"; a host name is resolved (memberlist's
// transport resolves it when it writes the packet).
func TestPing_hostNameAddress(t *testing.T) {
	if _, err := net.LookupIP("localhost"); err != nil {
		t.Skip("localhost does not resolve here")
	}
	c := testConfig(t)
	c.BindAddr, c.Name = "127.0.0.1", "pinged"
	m1 := create(t, c)
	m2 := create(t, testConfig(t))
	addr := hostAddr("localhost:" + strconv.Itoa(m1.config.BindPort))
	if _, err := m2.Ping("pinged", addr); err != nil {
		t.Fatalf("Ping via a host name: %v", err)
	}
	if _, err := m2.Ping("pinged", hostAddr("localhost")); err == nil || err.Error() != "address localhost: missing port in address" {
		t.Fatalf("Ping without a port: %v", err)
	}
}

type hostAddr string

func (a hostAddr) Network() string { return "udp" }
func (a hostAddr) String() string  { return string(a) }
