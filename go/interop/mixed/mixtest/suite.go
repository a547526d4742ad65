package mixtest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// Deadlines. DefaultLocalConfig probes every second and gossips every 100 ms.
const (
	converge = 15 * time.Second // membership, metadata, messages
	detect   = 30 * time.Second // a killed node declared dead
)

// Run runs every scenario with ours and theirs in one cluster, each way round where the
// direction matters (who is the seed, who sends).
func Run(t *testing.T, ours, theirs Impl) {
	pairs := []struct {
		name string
		a, b Impl // a is the seed, b joins it
	}{
		{"ours-seed", ours, theirs},
		{"theirs-seed", theirs, ours},
	}
	scen := []struct {
		name string
		fn   func(t *testing.T, a, b Impl)
	}{
		{"JoinMetaUpdate", joinMetaUpdate},
		{"LongMetaFromOurs", longMetaFromOurs},
		{"UserMessages", userMessages},
		{"Broadcasts", broadcasts},
		{"PushPullState", pushPullState},
		{"Leave", leave},
		{"PingAliveMerge", pingAliveMerge},
		{"Encryption", encryption},
		{"Labels", labels},
		{"Compression", compression},
		{"Snappy", snappyCompression},
		{"CRCProtocol5", crcProtocol5},
		{"IPv6", ipv6},
	}
	for _, s := range scen {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range pairs {
				t.Run(p.name, func(t *testing.T) { s.fn(t, p.a, p.b) })
			}
		})
	}
	t.Run("FailureDetection", func(t *testing.T) {
		t.Parallel()
		for _, victim := range []Impl{ours, theirs} {
			t.Run("kill-"+victim.Kind, func(t *testing.T) { t.Parallel(); failure(t, ours, theirs, victim) })
		}
	})
}

// start creates a node that the test shuts down at its end.
func start(t *testing.T, impl Impl, o Options) Node {
	t.Helper()
	if o.PushPullInterval == 0 {
		// With three nodes a gossiped alive is handed out only twice (RetransmitMult 2) and may
		// go to the joiner itself both times, in memberlist too; the periodic push/pull then
		// repairs the view, but DefaultLocalConfig's 15 s interval (plus its random stagger)
		// exceeds `converge`. A short interval keeps every scenario's bound honest.
		o.PushPullInterval = 2 * time.Second
	}
	n, err := impl.New(o)
	if err != nil {
		t.Fatalf("start %s (%s): %v", o.Name, impl.Kind, err)
	}
	t.Cleanup(func() { _ = n.Shutdown() })
	return n
}

func join(t *testing.T, n Node, to Node) {
	t.Helper()
	if got, err := n.Join(to.Addr()); err != nil || got != 1 {
		t.Fatalf("%s (%s) joining %s (%s) at %s: %d, %v", n.Name(), n.Kind(), to.Name(), to.Kind(), to.Addr(), got, err)
	}
}

// allSee waits until every node lists exactly names.
func allSee(t *testing.T, nodes []Node, names ...string) {
	t.Helper()
	want := strings.Join(names, ",")
	ok := WaitFor(converge, func() bool {
		for _, n := range nodes {
			if strings.Join(Names(n.Members()), ",") != want {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("members never became [%s]:%s", want, Describe(nodes...))
	}
}

func waitEvent(t *testing.T, n Node, kind, name, meta string, timeout time.Duration) Event {
	t.Helper()
	var ev Event
	if !WaitFor(timeout, func() bool { var ok bool; ev, ok = n.Rec().HasEvent(kind, name, meta); return ok }) {
		t.Fatalf("%s (%s) never saw %s of %s (meta %q); events: %v", n.Name(), n.Kind(), kind, name, meta, n.Rec().Events())
	}
	return ev
}

func waitMsg(t *testing.T, n Node, msg []byte, what string) {
	t.Helper()
	if !WaitFor(converge, func() bool { return n.Rec().HasMsg(msg) }) {
		t.Fatalf("%s (%s) never received %s (%d bytes)", n.Name(), n.Kind(), what, len(msg))
	}
}

// sendBoth checks best-effort and reliable messages from -> to. Best-effort is UDP, so it
// is re-sent until it arrives.
func sendBoth(t *testing.T, from, to Node, size int) {
	t.Helper()
	tag := fmt.Sprintf("%s->%s:%d:", from.Name(), to.Name(), size)
	be := payload("udp:"+tag, min(size, 1000))
	ok := WaitFor(converge, func() bool {
		if err := from.SendBestEffort(to.Name(), be); err != nil {
			t.Fatalf("SendBestEffort %s: %v", tag, err)
		}
		return WaitFor(300*time.Millisecond, func() bool { return to.Rec().HasMsg(be) })
	})
	if !ok {
		t.Fatalf("best-effort message %s never arrived", tag)
	}
	rel := payload("tcp:"+tag, size)
	if err := from.SendReliable(to.Name(), rel); err != nil {
		t.Fatalf("SendReliable %s: %v", tag, err)
	}
	waitMsg(t, to, rel, "reliable message "+tag)
}

// payload is a compressible message of n bytes starting with prefix.
func payload(prefix string, n int) []byte {
	b := []byte(prefix)
	for i := 0; len(b) < n; i++ {
		b = append(b, fmt.Sprintf("%d,", i%97)...)
	}
	return b[:max(n, len(prefix))]
}

func key(t *testing.T, n int) []byte {
	k := make([]byte, n)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func joinMetaUpdate(t *testing.T, A, B Impl) {
	a := start(t, A, Options{Name: "a", Meta: []byte("meta-a")})
	b := start(t, B, Options{Name: "b", Meta: []byte("meta-b")})
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	// Each sees the other exactly as it sees itself: address, metadata, and the protocol
	// and delegate version ranges (1-5, current 2; the adapters set delegate 1-3, current 2).
	for _, n := range []Node{a, b} {
		for _, other := range []Node{a, b} {
			m, _ := Find(n, other.Name())
			self := other.Self()
			want := Member{Name: other.Name(), Addr: other.Addr(), Meta: "meta-" + other.Name(), Vsn: [6]uint8{1, 5, 2, 1, 3, 2}}
			if m != want || self != want {
				t.Errorf("%s (%s) sees %s as %+v, which sees itself as %+v; want %+v", n.Name(), n.Kind(), other.Name(), m, self, want)
			}
		}
	}
	waitEvent(t, a, "join", "b", "meta-b", converge)
	waitEvent(t, b, "join", "a", "meta-a", converge)

	// UpdateNode both ways: the new metadata reaches the other kind as NotifyUpdate.
	if err := b.SetMeta([]byte("meta-b2"), 5*time.Second); err != nil {
		t.Fatalf("b UpdateNode: %v", err)
	}
	waitEvent(t, a, "update", "b", "meta-b2", converge)
	if err := a.SetMeta([]byte("meta-a2"), 5*time.Second); err != nil {
		t.Fatalf("a UpdateNode: %v", err)
	}
	waitEvent(t, b, "update", "a", "meta-a2", converge)
	if m, _ := Find(b, "a"); m.Meta != "meta-a2" {
		t.Errorf("b's member list has a's meta %q, want meta-a2", m.Meta)
	}

	// A third node, of the seed's kind, joins through the other kind and learns everyone.
	c := start(t, A, Options{Name: "c", Meta: []byte("meta-c")})
	join(t, c, b)
	allSee(t, []Node{a, b, c}, "a", "b", "c")
	if m, _ := Find(c, "b"); m.Meta != "meta-b2" {
		t.Errorf("c learned b's meta %q, want meta-b2", m.Meta)
	}
}

// Metadata over 512 bytes from a libmemberlist node with MetaMaxSize 1200 (docs/protocol.md,
// "Metadata beyond 512 bytes"): memberlist checks no peer's metadata length, so the real node
// stores 1,000 bytes at join (push/pull) and 1,200 after an update (a gossiped alive), and
// reports both to its delegate.
func longMetaFromOurs(t *testing.T, A, B Impl) {
	if A.Kind != "libmemberlist" && B.Kind != "libmemberlist" {
		t.Skip("needs a libmemberlist node (Config.MetaMaxSize); -tags mlreal has none")
	}
	long := func(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }
	opts := func(impl Impl, name string) Options {
		o := Options{Name: name, Meta: []byte("meta-" + name)}
		if impl.Kind == "libmemberlist" {
			o.MetaMaxSize, o.Meta = 1200, long('m', 1000)
		}
		return o
	}
	a := start(t, A, opts(A, "a"))
	b := start(t, B, opts(B, "b"))
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	ours, theirs := a, b
	if A.Kind != "libmemberlist" {
		ours, theirs = b, a
	}
	if len(ours.Self().Meta) != 1000 {
		t.Fatalf("%s has %d bytes of metadata, want 1000", ours.Name(), len(ours.Self().Meta))
	}
	waitEvent(t, theirs, "join", ours.Name(), string(long('m', 1000)), converge)
	if err := ours.SetMeta(long('u', 1200), 5*time.Second); err != nil {
		t.Fatalf("%s UpdateNode with 1200 bytes: %v", ours.Name(), err)
	}
	waitEvent(t, theirs, "update", ours.Name(), string(long('u', 1200)), converge)
	if m, _ := Find(theirs, ours.Name()); m.Meta != string(long('u', 1200)) {
		t.Errorf("%s (%s) lists %d bytes of %s's metadata, want 1200", theirs.Name(), theirs.Kind(), len(m.Meta), ours.Name())
	}
}

func userMessages(t *testing.T, A, B Impl) {
	a := start(t, A, Options{Name: "a"})
	b := start(t, B, Options{Name: "b"})
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	sendBoth(t, a, b, 100)
	sendBoth(t, b, a, 100)
	sendBoth(t, a, b, 256<<10) // a reliable message far beyond a UDP packet
	sendBoth(t, b, a, 256<<10)
}

func broadcasts(t *testing.T, A, B Impl) {
	a := start(t, A, Options{Name: "a"})
	b := start(t, B, Options{Name: "b"})
	c := start(t, B, Options{Name: "c"})
	join(t, b, a)
	join(t, c, a)
	allSee(t, []Node{a, b, c}, "a", "b", "c")
	// Broadcasts ride along gossip through Delegate.GetBroadcasts (TransmitLimitedQueue).
	for _, from := range []Node{a, b} {
		msg := []byte("broadcast from " + from.Name())
		from.QueueBroadcast(msg)
		for _, to := range []Node{a, b, c} {
			if to != from {
				waitMsg(t, to, msg, "broadcast from "+from.Name())
			}
		}
	}
}

func pushPullState(t *testing.T, A, B Impl) {
	o := func(name string) Options {
		return Options{Name: name, LocalState: []byte("state-of-" + name), PushPullInterval: 300 * time.Millisecond}
	}
	a := start(t, A, o("a"))
	b := start(t, B, o("b"))
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	has := func(n Node, state string, join bool) bool {
		for _, m := range n.Rec().Merges() {
			if string(m.State) == state && m.Join == join {
				return true
			}
		}
		return false
	}
	// The join's push/pull carries each side's LocalState with join=true; the periodic
	// ones that follow carry it with join=false.
	for _, c := range []struct {
		n     Node
		state string
		join  bool
	}{{a, "state-of-b", true}, {b, "state-of-a", true}, {a, "state-of-b", false}, {b, "state-of-a", false}} {
		if !WaitFor(converge, func() bool { return has(c.n, c.state, c.join) }) {
			t.Errorf("%s (%s) never merged %q with join=%v; merges: %v", c.n.Name(), c.n.Kind(), c.state, c.join, c.n.Rec().Merges())
		}
	}
}

// pingAliveMerge checks the other delegates across kinds: ack payloads (PingDelegate),
// NotifyAlive (AliveDelegate) and NotifyMerge (MergeDelegate, on the join's push/pull).
func pingAliveMerge(t *testing.T, A, B Impl) {
	a := start(t, A, Options{Name: "a", AckPayload: []byte("ack payload of a")})
	b := start(t, B, Options{Name: "b", AckPayload: []byte("ack payload of b")})
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	for _, c := range []struct{ n, other Node }{{a, b}, {b, a}} {
		want := "ack payload of " + c.other.Name()
		if !WaitFor(converge, func() bool { return c.n.Rec().HasPing(c.other.Name(), want) }) {
			t.Errorf("%s (%s) never completed a probe of %s (%s) with ack payload %q; pings: %v",
				c.n.Name(), c.n.Kind(), c.other.Name(), c.other.Kind(), want, c.n.Rec().Pings())
		}
		if c.n.Rec().AliveCount(c.other.Name()) == 0 {
			t.Errorf("%s (%s): NotifyAlive never called for %s", c.n.Name(), c.n.Kind(), c.other.Name())
		}
		if st, ok := c.n.Rec().MergedState(c.other.Name()); !ok || st > 0 {
			t.Errorf("%s (%s): NotifyMerge reported %s: %v, state %d (want alive, 0)", c.n.Name(), c.n.Kind(), c.other.Name(), ok, st)
		}
	}
}

func leave(t *testing.T, A, B Impl) {
	a := start(t, A, Options{Name: "a"})
	b := start(t, B, Options{Name: "b"})
	c := start(t, A, Options{Name: "c"})
	join(t, b, a)
	join(t, c, b)
	allSee(t, []Node{a, b, c}, "a", "b", "c")
	// The joiner's kind leaves: both others (one of each kind) drop it promptly, without
	// waiting for failure detection.
	t0 := time.Now()
	if err := b.Leave(5 * time.Second); err != nil {
		t.Fatalf("b Leave: %v", err)
	}
	for _, n := range []Node{a, c} {
		ev := waitEvent(t, n, "leave", "b", "", 5*time.Second)
		t.Logf("%s (%s) saw b (%s) leave after %v", n.Name(), n.Kind(), b.Kind(), ev.At.Sub(t0).Round(time.Millisecond))
	}
	allSee(t, []Node{a, c}, "a", "c")
	if err := b.Shutdown(); err != nil {
		t.Errorf("b Shutdown after Leave: %v", err)
	}
	// Now the seed's kind leaves.
	if err := a.Leave(5 * time.Second); err != nil {
		t.Fatalf("a Leave: %v", err)
	}
	waitEvent(t, c, "leave", "a", "", 5*time.Second)
	allSee(t, []Node{c}, "c")
}

func failure(t *testing.T, ours, theirs, victim Impl) {
	a := start(t, ours, Options{Name: "a"})
	b := start(t, theirs, Options{Name: "b"})
	v := start(t, victim, Options{Name: "victim"})
	join(t, b, a)
	join(t, v, b)
	allSee(t, []Node{a, b, v}, "a", "b", "victim")
	t0 := time.Now()
	if err := v.Shutdown(); err != nil { // no Leave: to the others, a crash
		t.Fatal(err)
	}
	for _, n := range []Node{a, b} {
		ev := waitEvent(t, n, "leave", "victim", "", detect)
		t.Logf("%s (%s) declared the killed %s node dead after %v", n.Name(), n.Kind(), victim.Kind, ev.At.Sub(t0).Round(time.Millisecond))
	}
	allSee(t, []Node{a, b}, "a", "b")
}

func encryption(t *testing.T, A, B Impl) {
	// A shared keyring of two keys with a different primary on each side: each decrypts
	// what the other encrypts with its primary.
	k1, kx, k2 := key(t, 32), key(t, 24), key(t, 16)
	a := start(t, A, Options{Name: "a", Keys: [][]byte{k1, kx}})
	b := start(t, B, Options{Name: "b", Keys: [][]byte{kx, k1}})
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	sendBoth(t, a, b, 2000)
	sendBoth(t, b, a, 2000)

	// Neither a wrong key nor plaintext gets in, through either kind.
	for _, o := range []Options{{Name: "wrongkey", Keys: [][]byte{key(t, 32)}}, {Name: "plain"}} {
		for _, via := range []Node{a, b} {
			x := start(t, B, o)
			if n, err := x.Join(via.Addr()); err == nil || n != 0 {
				t.Errorf("%s (%s) joined %s (%s): %d, %v", o.Name, B.Kind, via.Name(), via.Kind(), n, err)
			}
			_ = x.Shutdown()
		}
	}
	allSee(t, []Node{a, b}, "a", "b")

	// Key rotation: install k2 everywhere, make it primary everywhere, drop the old keys.
	nodes := []Node{a, b}
	for _, n := range nodes {
		if err := n.Keyring().AddKey(k2); err != nil {
			t.Fatalf("%s AddKey: %v", n.Name(), err)
		}
	}
	for _, n := range nodes {
		if err := n.Keyring().UseKey(k2); err != nil {
			t.Fatalf("%s UseKey: %v", n.Name(), err)
		}
	}
	for _, n := range nodes {
		for _, k := range [][]byte{k1, kx} {
			if err := n.Keyring().RemoveKey(k); err != nil {
				t.Fatalf("%s RemoveKey: %v", n.Name(), err)
			}
		}
		if keys := n.Keyring().GetKeys(); len(keys) != 1 || !bytes.Equal(keys[0], k2) {
			t.Fatalf("%s keys after rotation: %d keys", n.Name(), len(keys))
		}
	}
	sendBoth(t, a, b, 3000)
	sendBoth(t, b, a, 3000)
	// A node holding only the new key joins through the joiner's kind; one holding only
	// an old key no longer can.
	c := start(t, A, Options{Name: "c", Keys: [][]byte{k2}})
	join(t, c, b)
	allSee(t, []Node{a, b, c}, "a", "b", "c")
	old := start(t, B, Options{Name: "old", Keys: [][]byte{k1}})
	if n, err := old.Join(a.Addr()); err == nil || n != 0 {
		t.Errorf("a node with the removed key joined: %d, %v", n, err)
	}
}

func labels(t *testing.T, A, B Impl) {
	if A.NoLabels || B.NoLabels {
		t.Skip("labels need memberlist v0.3.0+")
	}
	a := start(t, A, Options{Name: "a", Label: "blue"})
	b := start(t, B, Options{Name: "b", Label: "blue"})
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	sendBoth(t, a, b, 500)
	sendBoth(t, b, a, 500)
	// A labelled cluster with encryption too (the label is the AEAD's additional data).
	k := key(t, 32)
	ea := start(t, A, Options{Name: "ea", Label: "blue", Keys: [][]byte{k}})
	eb := start(t, B, Options{Name: "eb", Label: "blue", Keys: [][]byte{k}})
	join(t, eb, ea)
	allSee(t, []Node{ea, eb}, "ea", "eb")
	sendBoth(t, eb, ea, 500)
	// Another label, or none, cannot join.
	for _, o := range []Options{{Name: "green", Label: "green"}, {Name: "nolabel"}} {
		x := start(t, B, o)
		if n, err := x.Join(a.Addr()); err == nil || n != 0 {
			t.Errorf("%s (label %q) joined a cluster labelled blue: %d, %v", o.Name, o.Label, n, err)
		}
	}
	allSee(t, []Node{a, b}, "a", "b")
}

func compression(t *testing.T, A, B Impl) {
	for _, c := range []struct{ a, b bool }{{true, false}, {false, true}, {false, false}, {true, true}} {
		t.Run(fmt.Sprintf("a=%v,b=%v", c.a, c.b), func(t *testing.T) {
			a := start(t, A, Options{Name: "a", Compression: c.a, Meta: []byte("m-a")})
			b := start(t, B, Options{Name: "b", Compression: c.b, Meta: []byte("m-b")})
			join(t, b, a)
			allSee(t, []Node{a, b}, "a", "b")
			sendBoth(t, a, b, 20000)
			sendBoth(t, b, a, 20000)
		})
	}
}

// snappyCompression: a node sending Snappy (grafana/memberlist's CompressionAlgorithmSnappy) and
// one sending LZW or Snappy read each other's packets and streams.
func snappyCompression(t *testing.T, A, B Impl) {
	if !A.Snappy || !B.Snappy {
		t.Skip("needs Snappy on both kinds (libmemberlist, grafana/memberlist)")
	}
	for _, c := range []struct{ a, b bool }{{true, false}, {false, true}, {true, true}} {
		t.Run(fmt.Sprintf("snappy-a=%v,snappy-b=%v", c.a, c.b), func(t *testing.T) {
			a := start(t, A, Options{Name: "a", Compression: true, Snappy: c.a, Meta: []byte("m-a")})
			b := start(t, B, Options{Name: "b", Compression: true, Snappy: c.b, Meta: []byte("m-b")})
			join(t, b, a)
			allSee(t, []Node{a, b}, "a", "b")
			sendBoth(t, a, b, 20000)
			sendBoth(t, b, a, 20000)
			if err := a.SetMeta([]byte("m-a2"), converge); err != nil {
				t.Fatal(err)
			}
			if !WaitFor(converge, func() bool {
				for _, m := range b.Members() {
					if m.Name == "a" {
						return m.Meta == "m-a2"
					}
				}
				return false
			}) {
				t.Fatalf("b never saw a's new metadata: %v", b.Members())
			}
		})
	}
}

func crcProtocol5(t *testing.T, A, B Impl) {
	if A.NoCRC || B.NoCRC {
		t.Skip("checked against memberlist v0.7.0 only")
	}
	a := start(t, A, Options{Name: "a", ProtocolVersion: 5, Meta: []byte("m-a")})
	b := start(t, B, Options{Name: "b", ProtocolVersion: 5, Meta: []byte("m-b")})
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	sendBoth(t, a, b, 1000)
	sendBoth(t, b, a, 1000)
	if err := b.SetMeta([]byte("m-b2"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, a, "update", "b", "m-b2", converge)
	// A protocol-2 node of the other kind in the same cluster.
	c := start(t, B, Options{Name: "c", ProtocolVersion: 2})
	join(t, c, a)
	allSee(t, []Node{a, b, c}, "a", "b", "c")
	sendBoth(t, a, c, 1000)
}

func ipv6(t *testing.T, A, B Impl) {
	if l, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		l.Close()
	}
	a := start(t, A, Options{Name: "a", BindAddr: "::1"})
	b := start(t, B, Options{Name: "b", BindAddr: "::1"})
	if !strings.HasPrefix(a.Addr(), "[::1]:") {
		t.Fatalf("a advertises %s, want [::1]:port", a.Addr())
	}
	join(t, b, a)
	allSee(t, []Node{a, b}, "a", "b")
	sendBoth(t, a, b, 1000)
	sendBoth(t, b, a, 1000)
}
