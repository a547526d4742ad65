package memberlist

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDefaultLANConfig_protocolVersion(t *testing.T) {
	if c := DefaultLANConfig(); c.ProtocolVersion != ProtocolVersion2Compatible {
		t.Fatalf("default protocol version = %d, want %d", c.ProtocolVersion, ProtocolVersion2Compatible)
	}
}

func TestCreate_protocolVersion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint8
		wantErr bool
	}{
		{"zero", 0, true},
		{"min", ProtocolVersionMin, false},
		{"max-1", ProtocolVersionMax - 1, false},
		{"max", ProtocolVersionMax, false},
		{"max+1", ProtocolVersionMax + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(t)
			c.ProtocolVersion = tc.version
			m, err := Create(c)
			if err == nil {
				if err := m.Shutdown(); err != nil {
					t.Fatal(err)
				}
			}
			if tc.wantErr != (err != nil) {
				t.Fatalf("version %d: err = %v, want error: %v", tc.version, err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "Must be in range") {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}
}

func TestCreate_secretKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		key     []byte
		wantErr bool
	}{
		{"size-0", []byte{}, false},
		{"abc", []byte("abc"), true},
		{"size-16", make([]byte, 16), false},
		{"size-24", make([]byte, 24), false},
		{"size-32", make([]byte, 32), false},
		{"size-38", make([]byte, 38), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(t)
			c.SecretKey = tc.key
			m, err := Create(c)
			if err == nil {
				if err := m.Shutdown(); err != nil {
					t.Fatal(err)
				}
			}
			if tc.wantErr != (err != nil) {
				t.Fatalf("key of %d bytes: err = %v, want error: %v", len(tc.key), err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "key size must be 16, 24 or 32 bytes") {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}
}

func TestCreate_secretKeyEmpty(t *testing.T) {
	c := testConfig(t)
	c.SecretKey = []byte{}
	create(t, c)
	if c.EncryptionEnabled() {
		t.Fatal("an empty SecretKey must leave encryption off")
	}
}

func TestCreate_keyringOnly(t *testing.T) {
	c := testConfig(t)
	kr, err := NewKeyring(nil, make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	c.Keyring = kr
	create(t, c)
	if !c.EncryptionEnabled() {
		t.Fatal("a keyring with a key must turn encryption on")
	}
}

func TestCreate_keyringAndSecretKey(t *testing.T) {
	c := testConfig(t)
	kr, err := NewKeyring(nil, make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	c.Keyring = kr
	c.SecretKey = bytes.Repeat([]byte{1}, 16)
	create(t, c)
	if !c.EncryptionEnabled() {
		t.Fatal("encryption should be on")
	}
	keys := c.Keyring.GetKeys()
	if len(keys) != 2 || !bytes.Equal(keys[0], c.SecretKey) {
		t.Fatalf("SecretKey must be added as the primary key, keys: %x", keys)
	}
}

func TestCreate_secretKeyBuildsKeyring(t *testing.T) {
	c := testConfig(t)
	c.SecretKey = bytes.Repeat([]byte{7}, 32)
	create(t, c)
	if c.Keyring == nil || !bytes.Equal(c.Keyring.GetPrimaryKey(), c.SecretKey) {
		t.Fatal("Create must build Config.Keyring from SecretKey")
	}
}

func TestCreate_invalidLoggerSettings(t *testing.T) {
	c := testConfig(t)
	c.Logger = log.New(io.Discard, "", log.LstdFlags)
	c.LogOutput = io.Discard
	m, err := Create(c)
	if err == nil {
		_ = m.Shutdown()
		t.Fatal("setting both LogOutput and Logger must fail")
	}
	if !strings.Contains(err.Error(), "cannot specify both LogOutput and Logger") {
		t.Fatalf("unclear error: %v", err)
	}
}

func TestCreate_logOutput(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	c := testConfig(t)
	c.Logger = nil
	c.LogOutput = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	})
	m1 := create(t, c) // BindPort 0: memberlist logs the port it got
	m2 := createPeer(t, m1, testConfig(t))
	if _, err := m2.Join([]string{joinAddr(m1)}); err != nil {
		t.Fatal(err)
	}
	// The library's own lines (here: m1 accepting the join's stream) arrive in the same shape.
	waitFor(t, "libmemberlist's log lines", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		s := buf.String()
		return strings.Contains(s, "[DEBUG] memberlist: Using dynamic bind port") &&
			strings.Contains(s, "[DEBUG] memberlist: Stream connection from="), s
	})
}

func TestConcurrentUseAndShutdown(t *testing.T) {
	m1 := create(t, testConfig(t))
	m2 := createPeer(t, m1, testConfig(t))
	if _, err := m2.Join([]string{joinAddr(m1)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var rounds atomic.Int32
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = m2.Members()
				_ = m2.NumMembers()
				_ = m2.LocalNode()
				_ = m2.GetHealthScore()
				_ = m2.SendBestEffort(m1.LocalNode(), []byte("x"))
				_ = m2.UpdateNode(10 * time.Millisecond)
				rounds.Add(1)
			}
		}()
	}
	// Shut down while the goroutines are in their calls: each has been through them a few times.
	waitFor(t, "the callers to get going", func() (bool, string) {
		return rounds.Load() >= 12, fmt.Sprint(rounds.Load(), " rounds")
	})
	if err := m2.Shutdown(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if m2.NumMembers() != 2 {
		t.Fatalf("last state after Shutdown: %d members", m2.NumMembers())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestCreate(t *testing.T) {
	c := testConfig(t)
	c.ProtocolVersion = ProtocolVersionMin
	c.DelegateProtocolVersion = 13
	c.DelegateProtocolMin = 12
	c.DelegateProtocolMax = 24
	m := create(t, c)

	members := m.Members()
	if len(members) != 1 {
		t.Fatalf("want 1 member, got %v", members)
	}
	n := members[0]
	want := Node{Name: c.Name, PMin: ProtocolVersionMin, PMax: ProtocolVersionMax, PCur: c.ProtocolVersion,
		DMin: c.DelegateProtocolMin, DMax: c.DelegateProtocolMax, DCur: c.DelegateProtocolVersion}
	if n.Name != want.Name || n.PMin != want.PMin || n.PMax != want.PMax || n.PCur != want.PCur ||
		n.DMin != want.DMin || n.DMax != want.DMax || n.DCur != want.DCur {
		t.Fatalf("member = %+v, want versions of %+v", n, want)
	}
	if !bytes.Equal(c.BuildVsnArray(), []byte{n.PMin, n.PMax, n.PCur, n.DMin, n.DMax, n.DCur}) {
		t.Fatalf("BuildVsnArray %v does not match the advertised versions", c.BuildVsnArray())
	}
	if !n.Addr.Equal(net.ParseIP(c.BindAddr)) || int(n.Port) != c.BindPort {
		t.Fatalf("member address %s, want %s:%d", n.Address(), c.BindAddr, c.BindPort)
	}
	if got := m.LocalNode(); got == nil || got.Name != c.Name || !got.Addr.Equal(n.Addr) {
		t.Fatalf("LocalNode = %+v", got)
	}
	if m.NumMembers() != 1 || m.GetHealthScore() != 0 {
		t.Fatalf("NumMembers %d, health %d", m.NumMembers(), m.GetHealthScore())
	}
}

func TestCreate_portWriteBackAndShutdownFreesIt(t *testing.T) {
	c := testConfig(t)
	m, err := Create(c)
	if err != nil {
		t.Fatal(err)
	}
	if c.BindPort == 0 || c.AdvertisePort != c.BindPort {
		_ = m.Shutdown()
		t.Fatalf("BindPort %d / AdvertisePort %d not written back", c.BindPort, c.AdvertisePort)
	}
	if err := portFree(c.BindAddr, c.BindPort); err == nil {
		_ = m.Shutdown()
		t.Fatal("the port should be in use while the node runs")
	}
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	// No waiting: Shutdown has released the ports when it returns.
	if err := portFree(c.BindAddr, c.BindPort); err != nil {
		t.Fatalf("port still in use right after Shutdown: %v", err)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	// The last state stays readable; operations fail clearly.
	if m.NumMembers() != 1 || len(m.Members()) != 1 || m.LocalNode() == nil {
		t.Fatalf("after Shutdown: NumMembers %d, Members %v", m.NumMembers(), m.Members())
	}
	if _, err := m.Join([]string{"127.0.0.1"}); err == nil {
		t.Fatal("Join after Shutdown must fail")
	}
	if err := m.Leave(time.Second); err == nil {
		t.Fatal("Leave after Shutdown must fail")
	}
	if err := m.UpdateNode(time.Second); err == nil {
		t.Fatal("UpdateNode after Shutdown must fail")
	}
}

func TestCreate_badInputs(t *testing.T) {
	if _, err := Create(nil); err == nil {
		t.Fatal("Create(nil) must fail")
	}
	for _, tc := range []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"label too long", func(c *Config) { c.Label = strings.Repeat("x", LabelMaxSize+1) }, "too long"},
		{"bad bind address", func(c *Config) { c.BindAddr = "not-an-ip" }, "not-an-ip"},
		{"negative gossip nodes", func(c *Config) { c.GossipNodes = -1 }, "GossipNodes"},
		{"bad CIDR", func(c *Config) { c.CIDRsAllowed = []net.IPNet{{IP: net.IP{1, 2}, Mask: net.CIDRMask(8, 32)}} }, "CIDRsAllowed"},
		{"port in use", func(c *Config) {
			l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.ParseIP(c.BindAddr)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			c.BindPort = l.Addr().(*net.TCPAddr).Port
		}, "bind: address already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(t)
			tc.modify(c)
			m, err := Create(c)
			if err == nil {
				_ = m.Shutdown()
				t.Fatalf("Create must fail")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
