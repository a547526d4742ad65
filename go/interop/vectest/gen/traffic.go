package gen

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/libmemberlist/interop/vectest"
	"github.com/libmemberlist/interop/vectest/cluster"
	"github.com/libmemberlist/interop/vectest/memnet"
)

// Per-scenario caps on recorded vectors kept (the first of each kind of traffic).
const (
	maxPacketsPerScenario = 30
	maxStreamsPerScenario = 12
	waitLong              = 10 * time.Second
)

// Addresses of the in-memory nodes: a 4-byte IPv4, a 16-byte IPv4-mapped address and an
// IPv6 address, as memberlist advertises them (Alive.Addr carries them verbatim).
var (
	ipA = net.IPv4(10, 0, 0, 1).To4()
	ipB = net.ParseIP("10.0.0.2") // 16-byte IPv4-mapped
	ipC = net.ParseIP("fd00::3")
	ipD = net.IPv4(10, 0, 0, 4).To4()
	ipE = net.IPv4(10, 0, 0, 5).To4()
	ipF = net.IPv4(10, 0, 0, 6).To4()
)

// Node names: "10.0.0.2" equals B's IP, so memberlist's sendMsg CRC lookup
// (nodeMap[host]) hits for pings/acks sent to B; C's name is longer than 31 bytes.
const (
	nameA = "node-a"
	nameB = "10.0.0.2"
	nameC = "node-c.with-a-name-longer-than-32-bytes"
	nameD = "node-d"
	nameE = "node-e-no-keys"
	nameF = "node-f-wrong-key"
)

// Scenario is one small cluster run.
type Scenario struct {
	Name   string
	Labels bool // needs label support (v0.3.0+)
	Run    func(r *Run) error
	// Rogue nodes' streams are expected to be rejected by their receiver; they become
	// error=1 vectors.
	Rogue []string
}

// Run is the state of one scenario.
type Run struct {
	Env  *cluster.Env
	C    vectest.Codec
	Name string
}

func info(x any) *cluster.EndpointInfo {
	if i, ok := x.(*cluster.EndpointInfo); ok {
		return i
	}
	return nil
}

func paramsFor(x any) vectest.Params {
	p := vectest.DefaultParams()
	if i := info(x); i != nil {
		p.Keys = i.Keys
		if i.Label != "" {
			p.Label, p.HasLabel = []byte(i.Label), true
		}
	}
	return p
}

// packets decodes this scenario's packets recorded so far (undecodable ones skipped).
func (r *Run) packets() []*vectest.Packet {
	var out []*vectest.Packet
	for _, rec := range r.Env.Net.Packets() {
		if rec.Scenario != r.Name || rec.Receiver == nil {
			continue
		}
		if pk, err := vectest.DecodePacket(r.C, rec.Data, paramsFor(rec.Receiver)); err == nil {
			out = append(out, pk)
		}
	}
	return out
}

// waitLeaf waits until a packet carrying a leaf message matching pred was recorded.
func (r *Run) waitLeaf(desc string, pred func(any) bool) error {
	err := cluster.WaitFor(waitLong, func() bool {
		for _, pk := range r.packets() {
			for _, l := range pk.Root.Leaves() {
				if pred(l) {
					return true
				}
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("%s: waiting for a packet with %s: %w", r.Name, desc, err)
	}
	return nil
}

// waitPacket waits until a recorded packet matches pred.
func (r *Run) waitPacket(desc string, pred func(*vectest.Packet) bool) error {
	err := cluster.WaitFor(waitLong, func() bool {
		for _, pk := range r.packets() {
			if pred(pk) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("%s: waiting for %s: %w", r.Name, desc, err)
	}
	return nil
}

// waitStream waits until a complete dialer stream matching pred was recorded.
func (r *Run) waitStream(desc string, pred func(*vectest.Stream) bool) error {
	err := cluster.WaitFor(waitLong, func() bool {
		for _, rec := range r.Env.Net.Streams() {
			if rec.Scenario != r.Name {
				continue
			}
			if s, err := vectest.DecodeStream(r.C, rec.Dialer(), paramsFor(rec.ListenerInfo)); err == nil && pred(s) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("%s: waiting for a stream with %s: %w", r.Name, desc, err)
	}
	return nil
}

func (r *Run) waitReceived(n cluster.Node, msg []byte) error {
	if err := cluster.WaitFor(waitLong, func() bool { return n.Delegate().HasReceived(msg) }); err != nil {
		return fmt.Errorf("%s: %s did not receive %q: %w", r.Name, n.Name(), short(string(msg)), err)
	}
	return nil
}

func (r *Run) start(cfg cluster.NodeConfig) (cluster.Node, error) { return r.Env.Start(cfg) }

func (r *Run) join(n cluster.Node, to cluster.Node) error {
	if _, err := n.Join([]string{to.Addr()}); err != nil {
		return fmt.Errorf("%s: %s join %s: %w", r.Name, n.Name(), to.Name(), err)
	}
	return nil
}

func isPing(v any) bool            { _, ok := v.(*vectest.Ping); return ok }
func isIndirect(v any) bool        { _, ok := v.(*vectest.IndirectPingReq); return ok }
func isNack(v any) bool            { _, ok := v.(*vectest.NackResp); return ok }
func isSuspect(v any) bool         { _, ok := v.(*vectest.Suspect); return ok }
func isUser(v any) bool            { _, ok := v.(*vectest.User); return ok }
func ackWithPayload(v any) bool    { a, ok := v.(*vectest.AckResp); return ok && len(a.Payload) > 0 }
func ackWithoutPayload(v any) bool { a, ok := v.(*vectest.AckResp); return ok && len(a.Payload) == 0 }
func deadOf(name string, leave bool) func(any) bool {
	return func(v any) bool {
		d, ok := v.(*vectest.Dead)
		return ok && d.Node == name && (d.From == d.Node || d.From == "") == leave
	}
}

// Scenarios returns the real-traffic scenarios.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "plain", Run: scenarioPlain},
		{Name: "compress", Run: scenarioCompress},
		{Name: "keyring", Run: scenarioKeyring, Rogue: []string{nameE, nameF}},
		{Name: "enc0", Run: scenarioEnc0},
		{Name: "label", Labels: true, Run: scenarioLabel},
		{Name: "label_enc", Labels: true, Run: scenarioLabelEnc},
	}
}

// scenarioPlain: no compression, no encryption. Join (push/pull with user state),
// probes (ping/ack with and without payload, CRC to the node named by its IP), gossip of
// user broadcasts, best-effort and reliable user messages, periodic push/pull, a TCP
// fallback ping with an indirect ping and a nack while UDP to C is blocked, a kill
// (suspect, dead) and a graceful leave.
func scenarioPlain(r *Run) error {
	a, err := r.start(cluster.NodeConfig{Name: nameA, IP: ipA, LocalState: []byte("state-a"), AckPayload: []byte("ack-from-a")})
	if err != nil {
		return err
	}
	b, err := r.start(cluster.NodeConfig{Name: nameB, IP: ipB, Meta: []byte{}})
	if err != nil {
		return err
	}
	c, err := r.start(cluster.NodeConfig{Name: nameC, IP: ipC, Meta: []byte("meta-c"), LocalState: bytes.Repeat([]byte("C"), 300)})
	if err != nil {
		return err
	}
	if err := firstErr(r.join(b, a), r.join(c, a)); err != nil {
		return err
	}
	if err := cluster.AllSee(waitLong, []cluster.Node{a, b, c}, nameA, nameB, nameC); err != nil {
		return err
	}
	// The joins' push/pull carried A's LocalState to B, and C's to A.
	if err := cluster.WaitFor(waitLong, func() bool {
		return b.Delegate().HasRemoteState([]byte("state-a")) && a.Delegate().HasRemoteState(bytes.Repeat([]byte("C"), 300))
	}); err != nil {
		return fmt.Errorf("%s: push/pull user state not merged: %w", r.Name, err)
	}
	if err := firstErr(
		r.waitLeaf("ping", isPing),
		r.waitLeaf("ack with payload", ackWithPayload),
		r.waitLeaf("ack without payload", ackWithoutPayload),
		r.waitPacket("a CRC packet", func(p *vectest.Packet) bool { return p.CRC }),
	); err != nil {
		return err
	}
	for i := 1; i <= 3; i++ {
		a.Delegate().QueueBroadcast([]byte(fmt.Sprintf("broadcast-%d-from-a", i)), 4)
	}
	for i := 1; i <= 3; i++ {
		msg := []byte(fmt.Sprintf("broadcast-%d-from-a", i))
		if err := firstErr(r.waitReceived(b, msg), r.waitReceived(c, msg)); err != nil {
			return err
		}
	}
	be, rel, big := []byte("best-effort a->b"), []byte("reliable a->c"), text(rng(10), 40000)
	if err := firstErr(a.SendBestEffort(nameB, be), a.SendReliable(nameC, rel), c.SendReliable(nameB, big),
		b.SendBestEffort(nameC, []byte{})); err != nil {
		return err
	}
	if err := firstErr(r.waitReceived(b, be), r.waitReceived(c, rel), r.waitReceived(b, big), r.waitReceived(c, []byte{})); err != nil {
		return err
	}
	if err := r.waitStream("periodic push/pull", func(s *vectest.Stream) bool {
		return s.Type == vectest.PushPullMsg && !s.Header.Join
	}); err != nil {
		return err
	}

	// UDP to C blocked: UDP probes of C fail, so the prober asks B for an indirect probe
	// (with Nack set, B's PMax is 5) and falls back to a TCP ping, which succeeds.
	r.Env.Net.BlockUDP(c.Addr(), true)
	err = firstErr(
		r.waitStream("TCP fallback ping", func(s *vectest.Stream) bool { return s.Type == vectest.PingMsg }),
		r.waitLeaf("indirect ping", isIndirect),
		r.waitLeaf("nack", isNack),
	)
	r.Env.Net.BlockUDP(c.Addr(), false)
	if err != nil {
		return err
	}

	d, err := r.start(cluster.NodeConfig{Name: nameD, IP: ipD})
	if err != nil {
		return err
	}
	if err := r.join(d, c); err != nil {
		return err
	}
	if err := cluster.AllSee(waitLong, []cluster.Node{a, b, c, d}, nameA, nameB, nameC, nameD); err != nil {
		return err
	}
	// Kill C without leaving: suspect, then dead.
	if err := c.Shutdown(); err != nil {
		return err
	}
	if err := firstErr(
		cluster.AllSee(waitLong, []cluster.Node{a, b, d}, nameA, nameB, nameD),
		r.waitLeaf("suspect", isSuspect),
		r.waitLeaf("dead of C", deadOf(nameC, false)),
	); err != nil {
		return err
	}
	// Graceful leave of D.
	if err := d.Leave(waitLong); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	if err := firstErr(
		cluster.AllSee(waitLong, []cluster.Node{a, b}, nameA, nameB),
		r.waitLeaf("leave of D", deadOf(nameD, true)),
	); err != nil {
		return err
	}
	return d.Shutdown()
}

// scenarioCompress: compression on. Push/pull with a 20 kB varied user state (LZW table
// resets), a 70000-byte reliable message, compressible best-effort messages, gossip.
func scenarioCompress(r *Run) error {
	rr := rng(11)
	a, err := r.start(cluster.NodeConfig{Name: nameA, IP: ipA, Compression: true, Meta: []byte("meta-a"), LocalState: text(rr, 20000)})
	if err != nil {
		return err
	}
	b, err := r.start(cluster.NodeConfig{Name: nameB, IP: ipB, Compression: true, LocalState: randBytes(rr, 9000), AckPayload: []byte("ack")})
	if err != nil {
		return err
	}
	if err := r.join(b, a); err != nil {
		return err
	}
	if err := cluster.AllSee(waitLong, []cluster.Node{a, b}, nameA, nameB); err != nil {
		return err
	}
	big, be := text(rr, 40000), text(rr, 1000)
	for i := 0; i < 6; i++ {
		b.Delegate().QueueBroadcast(text(rr, 150), 3)
	}
	if err := firstErr(a.SendReliable(nameB, big), a.SendBestEffort(nameB, be), b.SendReliable(nameA, []byte("small"))); err != nil {
		return err
	}
	if err := firstErr(r.waitReceived(b, big), r.waitReceived(b, be), r.waitReceived(a, []byte("small")),
		r.waitPacket("a compressed packet", func(p *vectest.Packet) bool { return p.Root.Type == vectest.CompressMsg }),
		r.waitLeaf("ping", isPing),
		r.waitStream("periodic push/pull", func(s *vectest.Stream) bool { return s.Type == vectest.PushPullMsg && !s.Header.Join }),
	); err != nil {
		return err
	}
	if err := b.Leave(waitLong); err != nil {
		return err
	}
	return firstErr(cluster.AllSee(waitLong, []cluster.Node{a}, nameA), r.waitLeaf("leave", deadOf(nameB, true)))
}

// scenarioKeyring: encryption (version 1) with 3-key keyrings whose primaries differ, so
// every receiver has to try a key that is not its first; one node gets its primary from
// SecretKey. A node without keys and one with a wrong key try to join: their streams are
// rejected and answered with an encrypted errResp.
func scenarioKeyring(r *Run) error {
	a, err := r.start(cluster.NodeConfig{Name: nameA, IP: ipA, Compression: true, Keys: [][]byte{Key1, Key2, Key3}, LocalState: []byte("state-a")})
	if err != nil {
		return err
	}
	b, err := r.start(cluster.NodeConfig{Name: nameB, IP: ipB, Keys: [][]byte{Key2, Key3, Key1}, AckPayload: []byte("ack-b")})
	if err != nil {
		return err
	}
	c, err := r.start(cluster.NodeConfig{Name: nameC, IP: ipC, Compression: true, Keys: [][]byte{Key1, Key2}, SecretKey: Key3})
	if err != nil {
		return err
	}
	if err := firstErr(r.join(b, a), r.join(c, b)); err != nil {
		return err
	}
	if err := cluster.AllSee(waitLong, []cluster.Node{a, b, c}, nameA, nameB, nameC); err != nil {
		return err
	}
	c.Delegate().QueueBroadcast([]byte("encrypted broadcast from c"), 4)
	if err := firstErr(a.SendBestEffort(nameC, []byte("udp a->c")), b.SendReliable(nameA, []byte("tcp b->a")),
		c.SendReliable(nameB, text(rng(12), 5000))); err != nil {
		return err
	}
	if err := firstErr(r.waitReceived(c, []byte("udp a->c")), r.waitReceived(a, []byte("tcp b->a")),
		r.waitReceived(a, []byte("encrypted broadcast from c")),
		r.waitLeaf("ack with payload", ackWithPayload), r.waitLeaf("ping", isPing)); err != nil {
		return err
	}
	e, err := r.start(cluster.NodeConfig{Name: nameE, IP: ipE})
	if err != nil {
		return err
	}
	if n, err := e.Join([]string{a.Addr()}); err == nil || n != 0 {
		return fmt.Errorf("%s: unencrypted join to an encrypted node unexpectedly worked (%d)", r.Name, n)
	}
	f, err := r.start(cluster.NodeConfig{Name: nameF, IP: ipF, Keys: [][]byte{KeyBad}})
	if err != nil {
		return err
	}
	if n, err := f.Join([]string{b.Addr()}); err == nil || n != 0 {
		return fmt.Errorf("%s: join with a wrong key unexpectedly worked (%d)", r.Name, n)
	}
	if err := firstErr(e.Shutdown(), f.Shutdown(), c.Leave(waitLong)); err != nil {
		return err
	}
	return firstErr(cluster.AllSee(waitLong, []cluster.Node{a, b}, nameA, nameB), r.waitLeaf("leave", deadOf(nameC, true)))
}

// scenarioEnc0: a node speaking protocol version 1 encrypts with encryption version 0
// (PKCS7 padding); its peer (version 2) uses version 1. Each has the other's key second.
func scenarioEnc0(r *Run) error {
	a, err := r.start(cluster.NodeConfig{Name: nameA, IP: ipA, ProtocolVersion: 1, Keys: [][]byte{Key2}, SecretKey: Key1,
		LocalState: []byte("pv1")})
	if err != nil {
		return err
	}
	b, err := r.start(cluster.NodeConfig{Name: nameB, IP: ipB, Keys: [][]byte{Key2, Key1}, Meta: []byte("b")})
	if err != nil {
		return err
	}
	if err := r.join(a, b); err != nil {
		return err
	}
	if err := cluster.AllSee(waitLong, []cluster.Node{a, b}, nameA, nameB); err != nil {
		return err
	}
	if err := firstErr(a.SendBestEffort(nameB, []byte("v0 udp")), a.SendReliable(nameB, []byte("v0 tcp")),
		b.SendBestEffort(nameA, []byte("v1 udp"))); err != nil {
		return err
	}
	if err := firstErr(r.waitReceived(b, []byte("v0 udp")), r.waitReceived(b, []byte("v0 tcp")), r.waitReceived(a, []byte("v1 udp")),
		r.waitPacket("an encryption-v0 packet", func(p *vectest.Packet) bool { return p.Encrypted && p.EncVsn == 0 }),
		r.waitLeaf("ping", isPing)); err != nil {
		return err
	}
	if err := a.Leave(waitLong); err != nil {
		return err
	}
	return firstErr(cluster.AllSee(waitLong, []cluster.Node{b}, nameB), r.waitLeaf("leave", deadOf(nameA, true)))
}

// scenarioLabel: a labeled cluster without encryption, compression on.
func scenarioLabel(r *Run) error {
	const label = "cluster-label"
	a, err := r.start(cluster.NodeConfig{Name: nameA, IP: ipA, Label: label, Compression: true, LocalState: []byte("labeled")})
	if err != nil {
		return err
	}
	b, err := r.start(cluster.NodeConfig{Name: nameB, IP: ipB, Label: label, Compression: true, AckPayload: []byte("p")})
	if err != nil {
		return err
	}
	if err := r.join(b, a); err != nil {
		return err
	}
	if err := cluster.AllSee(waitLong, []cluster.Node{a, b}, nameA, nameB); err != nil {
		return err
	}
	if err := firstErr(a.SendBestEffort(nameB, []byte("labeled udp")), b.SendReliable(nameA, []byte("labeled tcp"))); err != nil {
		return err
	}
	if err := firstErr(r.waitReceived(b, []byte("labeled udp")), r.waitReceived(a, []byte("labeled tcp")), r.waitLeaf("ping", isPing)); err != nil {
		return err
	}
	if err := b.Leave(waitLong); err != nil {
		return err
	}
	return firstErr(cluster.AllSee(waitLong, []cluster.Node{a}, nameA), r.waitLeaf("leave", deadOf(nameB, true)))
}

// scenarioLabelEnc: a labeled, encrypted cluster (the label is GCM additional data).
func scenarioLabelEnc(r *Run) error {
	const label = "\xcel\u00e4bel" // not printable ASCII
	a, err := r.start(cluster.NodeConfig{Name: nameA, IP: ipA, Label: label, Keys: [][]byte{Key1, Key2}})
	if err != nil {
		return err
	}
	b, err := r.start(cluster.NodeConfig{Name: nameB, IP: ipC, Label: label, Keys: [][]byte{Key2, Key1}, Compression: true, LocalState: []byte("s")})
	if err != nil {
		return err
	}
	if err := r.join(a, b); err != nil {
		return err
	}
	if err := cluster.AllSee(waitLong, []cluster.Node{a, b}, nameA, nameB); err != nil {
		return err
	}
	if err := firstErr(a.SendReliable(nameB, []byte("labeled encrypted tcp")), b.SendBestEffort(nameA, []byte("labeled encrypted udp"))); err != nil {
		return err
	}
	if err := firstErr(r.waitReceived(b, []byte("labeled encrypted tcp")), r.waitReceived(a, []byte("labeled encrypted udp")),
		r.waitLeaf("ping", isPing)); err != nil {
		return err
	}
	if err := a.Leave(waitLong); err != nil {
		return err
	}
	return firstErr(cluster.AllSee(waitLong, []cluster.Node{b}, nameB), r.waitLeaf("leave", deadOf(nameA, true)))
}

// RunScenarios runs every scenario the version supports on a fresh network each and
// returns the networks by scenario name.
func RunScenarios(c vectest.Codec, factory cluster.Factory, log io.Writer) ([]Scenario, map[string]*memnet.Network, error) {
	nets := map[string]*memnet.Network{}
	var ran []Scenario
	for _, sc := range Scenarios() {
		if sc.Labels && !c.SupportsLabels() {
			continue
		}
		nw := memnet.New(200000)
		nw.SetScenario(sc.Name)
		env := &cluster.Env{Net: nw, Factory: factory, Log: log}
		err := sc.Run(&Run{Env: env, C: c, Name: sc.Name})
		env.ShutdownAll()
		if err != nil {
			return nil, nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
		nets[sc.Name] = nw
		ran = append(ran, sc)
	}
	return ran, nets, nil
}

func leafTag(v any) string {
	switch m := v.(type) {
	case *vectest.Ping:
		if m.SourceNode != "" {
			return "ping+src"
		}
		return "ping"
	case *vectest.AckResp:
		if len(m.Payload) > 0 {
			return "ack+payload"
		}
		return "ack"
	case *vectest.Dead:
		switch m.From {
		case m.Node:
			return "dead+leave"
		case "":
			return "dead+nofrom"
		}
		return "dead"
	case *vectest.Alive:
		return fmt.Sprintf("alive+ip%d", len(m.Addr))
	case *vectest.User:
		if len(m.Msg) > 1000 {
			return "user+big"
		}
		return "user"
	}
	return vectest.WireName(v)
}

func packetSignature(pk *vectest.Packet) string {
	layers := ""
	if pk.Label != "" {
		layers += "label."
	}
	if pk.Encrypted {
		layers += fmt.Sprintf("enc%d.", pk.EncVsn)
	}
	if pk.CRC {
		layers += "crc."
	}
	root := pk.Root
	if root.Type == vectest.CompressMsg {
		layers += "compress."
		root = root.Inner
	}
	if root.Type == vectest.CompoundMsg {
		layers += "compound."
	}
	tags := map[string]bool{}
	for _, l := range pk.Root.Leaves() {
		tags[leafTag(l)] = true
	}
	var ts []string
	for t := range tags {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return layers + strings.Join(ts, "_")
}

func streamSignature(s *vectest.Stream, reply bool) string {
	sig := "dialer."
	if reply {
		sig = "reply."
	}
	if s.Label != "" {
		sig += "label."
	}
	if s.Encrypted {
		sig += fmt.Sprintf("enc%d.", s.EncVsn)
	}
	if s.Compressed {
		sig += "compress."
	}
	switch s.Type {
	case vectest.PushPullMsg:
		sig += fmt.Sprintf("pushpull.join_%v.user_%v", s.Header.Join, s.Header.UserStateLen > 0)
	case vectest.UserMsg:
		sig += "user"
		if u := s.Msg.(*vectest.User); len(u.Msg) > 1000 {
			sig += "+big"
		} else if len(u.Msg) == 0 {
			sig += "+empty"
		}
	default:
		sig += vectest.WireName(s.Msg)
	}
	return sig
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func vecName(scn, kind string, i int, sig string) string {
	s := unsafeName.ReplaceAllString(strings.ReplaceAll(sig, "+", "-"), "_")
	if len(s) > 70 {
		s = s[:70]
	}
	return fmt.Sprintf("real.%s.%s%02d.%s", scn, kind, i, strings.Trim(s, "._"))
}

func cleanReason(err error) string {
	s := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, err.Error())
	return "real traffic rejected by the receiver: " + s
}

// Traffic runs the scenarios and adds a representative selection of the recorded
// datagrams and streams: the first one of each distinct signature (layers + message
// kinds), up to the per-scenario caps.
func Traffic(b *Builder, factory cluster.Factory, log io.Writer) error {
	ran, nets, err := RunScenarios(b.C, factory, log)
	if err != nil {
		return err
	}
	for _, sc := range ran {
		nw := nets[sc.Name]
		rogue := map[string]bool{}
		for _, n := range sc.Rogue {
			rogue[n] = true
		}
		b.W.Comment("real traffic, scenario %q (memberlist %s): %d datagrams and %d streams recorded",
			sc.Name, b.C.Version(), len(nw.Packets()), len(nw.Streams()))

		seen := map[string]bool{}
		kept := 0
		for _, rec := range nw.Packets() {
			if kept >= maxPacketsPerScenario {
				break
			}
			if rec.Receiver == nil {
				continue
			}
			p := paramsFor(rec.Receiver)
			pk, err := vectest.DecodePacket(b.C, rec.Data, p)
			if err != nil {
				return fmt.Errorf("scenario %s: datagram %d (%s -> %s) does not decode: %w", sc.Name, rec.Seq, rec.From, rec.To, err)
			}
			sig := packetSignature(pk)
			if seen[sig] {
				continue
			}
			seen[sig] = true
			kept++
			if err := b.Packet(vecName(sc.Name, "pkt", kept, sig), rec.Data, p, nil); err != nil {
				return err
			}
		}

		kept = 0
		for _, rec := range nw.Streams() {
			if kept >= maxStreamsPerScenario {
				break
			}
			dialer := info(rec.DialerInfo)
			isRogue := dialer != nil && rogue[dialer.Name]
			p := paramsFor(rec.ListenerInfo)
			data := rec.Dialer()
			if len(data) == 0 {
				continue
			}
			s, err := vectest.DecodeStream(b.C, data, p)
			if isRogue {
				if err == nil {
					return fmt.Errorf("scenario %s: stream from %s was expected to be rejected", sc.Name, dialer.Name)
				}
				sig := "rejected." + dialer.Name
				if !seen[sig] {
					seen[sig] = true
					kept++
					if err := b.Reject(vectest.KindStream, vecName(sc.Name, "err", kept, dialer.Name), data, p, cleanReason(err)); err != nil {
						return err
					}
				}
			} else if err != nil {
				return fmt.Errorf("scenario %s: stream %d (%s -> %s) does not decode: %w", sc.Name, rec.Seq, rec.From, rec.To, err)
			} else if sig := streamSignature(s, false); !seen[sig] {
				seen[sig] = true
				kept++
				if err := b.Stream(vecName(sc.Name, "str", kept, sig), data, p, ""); err != nil {
					return err
				}
			}

			// The listener's reply (push/pull answer, TCP ack, errResp). Replies carry no
			// label header, so only unlabeled ones are usable as stream vectors.
			reply := rec.Reply()
			if len(reply) == 0 || p.HasLabel {
				continue
			}
			rp := paramsFor(rec.DialerInfo)
			rs, err := vectest.DecodeStream(b.C, reply, rp)
			if err != nil && len(reply) > 0 && reply[0] == vectest.EncryptMsg {
				// The dialer could not read it (no or wrong keys); describe a receiver
				// holding the responder's keyring instead.
				rp = paramsFor(rec.ListenerInfo)
				rs, err = vectest.DecodeStream(b.C, reply, rp)
			}
			if err != nil {
				return fmt.Errorf("scenario %s: reply on stream %d (%s -> %s) does not decode: %w", sc.Name, rec.Seq, rec.To, rec.From, err)
			}
			if sig := streamSignature(rs, true); !seen[sig] && kept < maxStreamsPerScenario {
				seen[sig] = true
				kept++
				if err := b.Stream(vecName(sc.Name, "str", kept, sig), reply, rp, ""); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
