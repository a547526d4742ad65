// Package grafana runs real grafana/memberlist nodes (the fork Loki, Mimir and Tempo run through
// dskit; replace in go.mod) in clusters with libmemberlist nodes (see ../mixtest).
package grafana

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/libmemberlist/interop/mixed/mixtest"
)

// Impl builds real grafana/memberlist nodes.
var Impl = mixtest.Impl{Kind: "grafana-memberlist", New: New, Snappy: true}

type node struct {
	ml   atomic.Pointer[memberlist.Memberlist]
	kind string
	rec  *mixtest.Recorder
	q    *memberlist.TransmitLimitedQueue
	kr   *memberlist.Keyring
}

type delegate struct{ n *node }

func (d delegate) NodeMeta(limit int) []byte { return d.n.rec.Meta(limit) }
func (d delegate) NotifyMsg(b []byte)        { d.n.rec.Msg(b) }
func (d delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.n.q.GetBroadcasts(overhead, limit)
}
func (d delegate) LocalState(join bool) []byte          { return d.n.rec.State() }
func (d delegate) MergeRemoteState(b []byte, join bool) { d.n.rec.Merge(b, join) }

type events struct{ rec *mixtest.Recorder }

func (e events) NotifyJoin(n *memberlist.Node)   { e.rec.Event("join", n.Name, n.Meta) }
func (e events) NotifyLeave(n *memberlist.Node)  { e.rec.Event("leave", n.Name, n.Meta) }
func (e events) NotifyUpdate(n *memberlist.Node) { e.rec.Event("update", n.Name, n.Meta) }

type ping struct{ rec *mixtest.Recorder }

func (p ping) AckPayload() []byte { return p.rec.AckPayload() }
func (p ping) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	p.rec.Ping(other.Name, payload)
}

type alive struct{ rec *mixtest.Recorder }

func (a alive) NotifyAlive(peer *memberlist.Node) error { a.rec.Alive(peer.Name); return nil }

type merge struct{ rec *mixtest.Recorder }

func (m merge) NotifyMerge(peers []*memberlist.Node) error {
	for _, p := range peers {
		m.rec.MergedPeer(p.Name, int(p.State))
	}
	return nil
}

type bcast []byte

func (b bcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b bcast) Message() []byte                       { return b }
func (b bcast) Finished()                             {}

// New creates and starts a node on a dynamic port.
func New(o mixtest.Options) (mixtest.Node, error) {
	c := memberlist.DefaultLocalConfig()
	c.Name = o.Name
	c.BindAddr = o.BindAddr
	if c.BindAddr == "" {
		c.BindAddr = "127.0.0.1"
	}
	c.BindPort, c.AdvertisePort = 0, 0
	c.Label = o.Label
	c.EnableCompression = o.Compression
	if o.Snappy {
		c.CompressionAlgorithm = memberlist.CompressionAlgorithmSnappy
	}
	if o.ProtocolVersion != 0 {
		c.ProtocolVersion = o.ProtocolVersion
	}
	if o.PushPullInterval != 0 {
		c.PushPullInterval = o.PushPullInterval
	}
	n := &node{kind: "grafana-memberlist", rec: mixtest.NewRecorder(o.Meta, o.LocalState, o.AckPayload)}
	if len(o.Keys) > 0 {
		kr, err := memberlist.NewKeyring(o.Keys, o.Keys[0])
		if err != nil {
			return nil, err
		}
		c.Keyring, n.kr = kr, kr
	}
	c.LogOutput = mixtest.LogOutput(o.Name)
	// Receivers do not forward user broadcasts, and every packet to any peer uses up one
	// transmission; with DefaultLocalConfig's RetransmitMult (2) a 3-node cluster hands a
	// broadcast out only twice in all, and a peer sometimes misses it (memberlist's design).
	// A higher multiplier makes delivery to every peer near certain.
	n.q = &memberlist.TransmitLimitedQueue{RetransmitMult: 8, NumNodes: func() int {
		if m := n.ml.Load(); m != nil {
			return m.NumMembers()
		}
		return 1
	}}
	c.Delegate = delegate{n}
	c.Events = events{n.rec}
	c.Ping = ping{n.rec}
	c.Alive = alive{n.rec}
	c.Merge = merge{n.rec}
	c.DelegateProtocolMin, c.DelegateProtocolVersion, c.DelegateProtocolMax = 1, 2, 3
	m, err := memberlist.Create(c)
	if err != nil {
		return nil, err
	}
	n.ml.Store(m)
	return n, nil
}

func (n *node) m() *memberlist.Memberlist { return n.ml.Load() }
func (n *node) Name() string              { return n.m().LocalNode().Name }
func (n *node) Kind() string              { return n.kind }
func (n *node) Addr() string              { return n.m().LocalNode().Address() }
func (n *node) Rec() *mixtest.Recorder    { return n.rec }
func (n *node) QueueBroadcast(msg []byte) { n.q.QueueBroadcast(bcast(append([]byte(nil), msg...))) }
func (n *node) Leave(d time.Duration) error {
	return n.m().Leave(d)
}
func (n *node) Shutdown() error { return n.m().Shutdown() }

func (n *node) Join(addrs ...string) (int, error) { return n.m().Join(addrs) }

func (n *node) Members() []mixtest.Member {
	var out []mixtest.Member
	for _, m := range n.m().Members() {
		out = append(out, member(m))
	}
	mixtest.SortMembers(out)
	return out
}

func member(m *memberlist.Node) mixtest.Member {
	return mixtest.Member{Name: m.Name, Addr: m.Address(), Meta: string(m.Meta), Vsn: [6]uint8{m.PMin, m.PMax, m.PCur, m.DMin, m.DMax, m.DCur}}
}

func (n *node) Self() mixtest.Member { return member(n.m().LocalNode()) }

func (n *node) find(name string) (*memberlist.Node, error) {
	for _, m := range n.m().Members() {
		if m.Name == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%s: no member %q", n.Name(), name)
}

func (n *node) SendBestEffort(to string, msg []byte) error {
	m, err := n.find(to)
	if err != nil {
		return err
	}
	return n.m().SendBestEffort(m, append([]byte(nil), msg...))
}

func (n *node) SendReliable(to string, msg []byte) error {
	m, err := n.find(to)
	if err != nil {
		return err
	}
	return n.m().SendReliable(m, append([]byte(nil), msg...))
}

func (n *node) SetMeta(meta []byte, timeout time.Duration) error {
	n.rec.SetMeta(meta)
	return n.m().UpdateNode(timeout)
}

func (n *node) Keyring() mixtest.Keyring {
	if n.kr == nil {
		return nil
	}
	return n.kr
}
