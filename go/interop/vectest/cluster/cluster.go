// Package cluster drives small clusters of real memberlist nodes over memnet, without
// depending on memberlist: each per-version module supplies a Factory that builds a real
// node (memberlist.Create with a memnet-backed Transport) behind the Node interface.
package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/libmemberlist/interop/vectest/memnet"
)

// Port is the port every in-memory node uses (distinct IPs tell them apart, so the
// protocol-version-1 "use my BindPort" substitution is harmless).
const Port = 7946

// NodeConfig describes one node. Zero values mean memberlist defaults.
type NodeConfig struct {
	Name            string
	IP              net.IP // 4-byte, 16-byte IPv4-mapped or IPv6; advertised verbatim
	Keys            [][]byte
	SecretKey       []byte
	Label           string // v0.3.0+ only
	Compression     bool
	ProtocolVersion uint8 // 0: memberlist's default (2)
	Meta            []byte
	LocalState      []byte
	AckPayload      []byte
	// NoVerifyIncoming sets GossipVerifyIncoming=false (accept plaintext with keys).
	NoVerifyIncoming bool
	LogOutput        io.Writer // nil: discard
	// Timing overrides (0: the fast defaults below).
	ProbeInterval    time.Duration
	ProbeTimeout     time.Duration
	GossipInterval   time.Duration
	PushPullInterval time.Duration
}

// Fast timings applied by every Factory unless overridden.
const (
	DefaultProbeInterval    = 100 * time.Millisecond
	DefaultProbeTimeout     = 40 * time.Millisecond
	DefaultGossipInterval   = 20 * time.Millisecond
	DefaultPushPullInterval = 400 * time.Millisecond
	DefaultTCPTimeout       = 500 * time.Millisecond
	DefaultSuspicionMult    = 2
	DefaultDeadTime         = 3 * time.Second
)

// EndpointInfo is what a node's memnet endpoint carries: the receiver parameters needed
// to decode traffic addressed to it.
type EndpointInfo struct {
	Name  string
	Keys  [][]byte // keyring in order, primary first
	Label string
}

// Node is a running memberlist node.
type Node interface {
	Name() string
	Addr() string // "host:port"
	Join(addrs []string) (int, error)
	Leave(timeout time.Duration) error
	Shutdown() error
	Members() []string // names of non-dead, non-left members, sorted
	SendBestEffort(to string, msg []byte) error
	SendReliable(to string, msg []byte) error
	Delegate() *Delegate
}

// Factory builds a node attached to nw.
type Factory func(nw *memnet.Network, cfg NodeConfig) (Node, error)

// Delegate implements memberlist's Delegate interface (the method set is identical in
// every version, and uses no memberlist types).
type Delegate struct {
	mu       sync.Mutex
	meta     []byte
	state    []byte
	bcasts   []*bcast
	received [][]byte
	remote   [][]byte
}

type bcast struct {
	msg  []byte
	left int
}

// NewDelegate returns a delegate with the given metadata and LocalState.
func NewDelegate(meta, state []byte) *Delegate { return &Delegate{meta: meta, state: state} }

// NodeMeta implements memberlist.Delegate.
func (d *Delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.meta
}

// NotifyMsg implements memberlist.Delegate.
func (d *Delegate) NotifyMsg(b []byte) {
	d.mu.Lock()
	d.received = append(d.received, bytes.Clone(b))
	d.mu.Unlock()
}

// GetBroadcasts implements memberlist.Delegate: queued user broadcasts that fit, each
// handed out a few times so every peer sees it.
func (d *Delegate) GetBroadcasts(overhead, limit int) [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out [][]byte
	used := 0
	kept := d.bcasts[:0]
	for _, b := range d.bcasts {
		if used+overhead+len(b.msg) <= limit {
			out = append(out, b.msg)
			used += overhead + len(b.msg)
			b.left--
		}
		if b.left > 0 {
			kept = append(kept, b)
		}
	}
	d.bcasts = kept
	return out
}

// LocalState implements memberlist.Delegate.
func (d *Delegate) LocalState(join bool) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// MergeRemoteState implements memberlist.Delegate.
func (d *Delegate) MergeRemoteState(buf []byte, join bool) {
	d.mu.Lock()
	d.remote = append(d.remote, bytes.Clone(buf))
	d.mu.Unlock()
}

// QueueBroadcast queues a user broadcast, handed out `times` times.
func (d *Delegate) QueueBroadcast(msg []byte, times int) {
	d.mu.Lock()
	d.bcasts = append(d.bcasts, &bcast{msg: bytes.Clone(msg), left: times})
	d.mu.Unlock()
}

// Received returns the user messages delivered so far.
func (d *Delegate) Received() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte(nil), d.received...)
}

// HasReceived reports whether msg was delivered.
func (d *Delegate) HasReceived(msg []byte) bool {
	for _, r := range d.Received() {
		if bytes.Equal(r, msg) {
			return true
		}
	}
	return false
}

// HasRemoteState reports whether a push/pull delivered this user state.
func (d *Delegate) HasRemoteState(state []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.remote {
		if bytes.Equal(r, state) {
			return true
		}
	}
	return false
}

// ErrTimeout is returned by WaitFor when the condition did not hold in time.
var ErrTimeout = errors.New("timed out")

// WaitFor polls cond every 2 ms until it holds or timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return ErrTimeout
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Env owns the nodes of one run so they can all be shut down.
type Env struct {
	Net     *memnet.Network
	Factory Factory
	Log     io.Writer
	mu      sync.Mutex
	nodes   []Node
}

// Start creates a node and remembers it for ShutdownAll.
func (e *Env) Start(cfg NodeConfig) (Node, error) {
	if cfg.LogOutput == nil {
		cfg.LogOutput = e.Log
	}
	n, err := e.Factory(e.Net, cfg)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
	}
	e.mu.Lock()
	e.nodes = append(e.nodes, n)
	e.mu.Unlock()
	return n, nil
}

// ShutdownAll shuts every started node down (idempotent in memberlist).
func (e *Env) ShutdownAll() {
	e.mu.Lock()
	nodes := e.nodes
	e.nodes = nil
	e.mu.Unlock()
	for _, n := range nodes {
		_ = n.Shutdown()
	}
}

// Has reports whether name is among n's members.
func Has(n Node, name string) bool {
	for _, m := range n.Members() {
		if m == name {
			return true
		}
	}
	return false
}

// AllSee waits until every node in nodes lists exactly the given names.
func AllSee(timeout time.Duration, nodes []Node, names ...string) error {
	want := append([]string(nil), names...)
	sort.Strings(want)
	err := WaitFor(timeout, func() bool {
		for _, n := range nodes {
			got := n.Members()
			if len(got) != len(want) {
				return false
			}
			for i := range got {
				if got[i] != want[i] {
					return false
				}
			}
		}
		return true
	})
	if err != nil {
		var desc []string
		for _, n := range nodes {
			desc = append(desc, fmt.Sprintf("%s sees %v", n.Name(), n.Members()))
		}
		return fmt.Errorf("waiting for members %v: %w (%v)", want, err, desc)
	}
	return nil
}
