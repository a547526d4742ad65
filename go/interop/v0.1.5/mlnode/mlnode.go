// Package mlnode runs real memberlist v0.1.5 nodes on a memnet in-memory network.
package mlnode

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"sort"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/libmemberlist/interop/vectest/cluster"
	"github.com/libmemberlist/interop/vectest/memnet"
)

// Transport adapts a memnet endpoint to memberlist.Transport (v0.1.5 has no
// NodeAwareTransport).
type Transport struct {
	ep      *memnet.Endpoint
	packets chan *memberlist.Packet
}

var _ memberlist.Transport = (*Transport)(nil)

// NewTransport attaches a transport at ip:port on nw. info is recorded with traffic
// addressed to it (see memnet).
func NewTransport(nw *memnet.Network, ip net.IP, port int, info any) (*Transport, error) {
	t := &Transport{packets: make(chan *memberlist.Packet, 4096)}
	ep, err := nw.NewEndpoint(ip, port, info, func(buf []byte, from net.Addr, now time.Time) bool {
		select {
		case t.packets <- &memberlist.Packet{Buf: buf, From: from, Timestamp: now}:
			return true
		default:
			return false // full: dropped like an overflowing UDP socket buffer
		}
	})
	if err != nil {
		return nil, err
	}
	t.ep = ep
	return t, nil
}

// Endpoint returns the underlying memnet endpoint.
func (t *Transport) Endpoint() *memnet.Endpoint { return t.ep }

func (t *Transport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.ep.IP, t.ep.Port, nil
}

func (t *Transport) WriteTo(b []byte, addr string) (time.Time, error) { return t.ep.WriteTo(b, addr) }

func (t *Transport) PacketCh() <-chan *memberlist.Packet { return t.packets }

func (t *Transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.ep.DialTimeout(addr, timeout)
}

func (t *Transport) StreamCh() <-chan net.Conn { return t.ep.StreamCh() }

func (t *Transport) Shutdown() error { return t.ep.Shutdown() }

type pingDelegate struct{ payload []byte }

func (p pingDelegate) AckPayload() []byte                                         { return p.payload }
func (p pingDelegate) NotifyPingComplete(*memberlist.Node, time.Duration, []byte) {}

// Node is a running memberlist v0.1.5 node.
type Node struct {
	ML  *memberlist.Memberlist
	cfg cluster.NodeConfig
	tr  *Transport
	del *cluster.Delegate
}

var _ cluster.Node = (*Node)(nil)

// Factory is a cluster.Factory for memberlist v0.1.5.
func Factory(nw *memnet.Network, nc cluster.NodeConfig) (cluster.Node, error) {
	return New(nw, nc)
}

// New creates and starts a node.
func New(nw *memnet.Network, nc cluster.NodeConfig) (*Node, error) {
	info := &cluster.EndpointInfo{Name: nc.Name, Label: nc.Label}
	tr, err := NewTransport(nw, nc.IP, cluster.Port, info)
	if err != nil {
		return nil, err
	}
	c := memberlist.DefaultLocalConfig()
	c.Name = nc.Name
	c.Transport = tr
	c.BindAddr = nc.IP.String()
	c.BindPort = cluster.Port
	c.AdvertisePort = cluster.Port
	if nc.Label != "" {
		tr.Shutdown()
		return nil, fmt.Errorf("memberlist v0.1.5 has no labels")
	}
	c.EnableCompression = nc.Compression
	if nc.ProtocolVersion != 0 {
		c.ProtocolVersion = nc.ProtocolVersion
	}
	c.ProbeInterval = pick(nc.ProbeInterval, cluster.DefaultProbeInterval)
	c.ProbeTimeout = pick(nc.ProbeTimeout, cluster.DefaultProbeTimeout)
	c.GossipInterval = pick(nc.GossipInterval, cluster.DefaultGossipInterval)
	c.PushPullInterval = pick(nc.PushPullInterval, cluster.DefaultPushPullInterval)
	c.TCPTimeout = cluster.DefaultTCPTimeout
	c.SuspicionMult = cluster.DefaultSuspicionMult
	c.GossipToTheDeadTime = cluster.DefaultDeadTime
	if len(nc.Keys) > 0 {
		kr, err := memberlist.NewKeyring(nc.Keys, nc.Keys[0])
		if err != nil {
			tr.Shutdown()
			return nil, err
		}
		c.Keyring = kr
	}
	c.SecretKey = nc.SecretKey
	c.GossipVerifyIncoming = !nc.NoVerifyIncoming
	del := cluster.NewDelegate(nc.Meta, nc.LocalState)
	c.Delegate = del
	if nc.AckPayload != nil {
		c.Ping = pingDelegate{nc.AckPayload}
	}
	out := nc.LogOutput
	if out == nil {
		out = io.Discard
	}
	c.Logger = log.New(out, nc.Name+" ", log.Lmicroseconds)

	m, err := memberlist.Create(c)
	if err != nil {
		tr.Shutdown()
		return nil, err
	}
	if c.Keyring != nil {
		info.Keys = c.Keyring.GetKeys() // final order, incl. SecretKey as primary
	}
	return &Node{ML: m, cfg: nc, tr: tr, del: del}, nil
}

func pick(v, def time.Duration) time.Duration {
	if v != 0 {
		return v
	}
	return def
}

func (n *Node) Name() string                      { return n.cfg.Name }
func (n *Node) Addr() string                      { return n.tr.ep.Addr() }
func (n *Node) Join(addrs []string) (int, error)  { return n.ML.Join(addrs) }
func (n *Node) Leave(timeout time.Duration) error { return n.ML.Leave(timeout) }
func (n *Node) Shutdown() error                   { return n.ML.Shutdown() }
func (n *Node) Delegate() *cluster.Delegate       { return n.del }
func (n *Node) Transport() *Transport             { return n.tr }

func (n *Node) Members() []string {
	var out []string
	for _, m := range n.ML.Members() {
		out = append(out, m.Name)
	}
	sort.Strings(out)
	return out
}

func (n *Node) find(name string) (*memberlist.Node, error) {
	for _, m := range n.ML.Members() {
		if m.Name == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%s: no member %q", n.cfg.Name, name)
}

func (n *Node) SendBestEffort(to string, msg []byte) error {
	m, err := n.find(to)
	if err != nil {
		return err
	}
	return n.ML.SendBestEffort(m, bytes.Clone(msg))
}

func (n *Node) SendReliable(to string, msg []byte) error {
	m, err := n.find(to)
	if err != nil {
		return err
	}
	return n.ML.SendReliable(m, bytes.Clone(msg))
}
