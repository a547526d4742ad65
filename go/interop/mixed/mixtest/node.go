// Package mixtest runs libmemberlist nodes and real hashicorp/memberlist nodes in one
// cluster, over real loopback sockets, and checks that they interoperate.
//
// Ours and theirs have different import paths, so one process holds both. Each node kind
// sits behind the Node interface; an Impl builds nodes of one kind. This package holds the
// adapter for ours (package github.com/libmemberlist/libmemberlist/go) and the scenarios;
// each module ../v<version> adds the adapter for that real memberlist version and calls Run.
package mixtest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options describe one node. Zero values mean DefaultLocalConfig's.
type Options struct {
	Name            string
	BindAddr        string // default 127.0.0.1; the port is always dynamic
	Keys            [][]byte
	Label           string
	Compression     bool
	ProtocolVersion uint8
	Meta            []byte
	LocalState      []byte
	AckPayload      []byte // PingDelegate.AckPayload
	// PushPullInterval overrides DefaultLocalConfig's 15 s (for periodic push/pull).
	PushPullInterval time.Duration
	// MetaMaxSize sets libmemberlist's Config.MetaMaxSize; memberlist has no such field and
	// ignores it (its limit is the constant 512).
	MetaMaxSize int
	// Snappy sets Config.CompressionAlgorithm to Snappy (with Compression; libmemberlist and
	// grafana/memberlist only: the other adapters refuse it).
	Snappy bool
}

// Member is one entry of a node's member list.
type Member struct {
	Name string
	Addr string // host:port
	Meta string
	Vsn  [6]uint8 // PMin, PMax, PCur, DMin, DMax, DCur
}

// Node is a running node of any kind.
type Node interface {
	Name() string
	Kind() string
	Addr() string // host:port others join
	Self() Member // LocalNode
	Join(addrs ...string) (int, error)
	Members() []Member // sorted by name
	SendBestEffort(to string, msg []byte) error
	SendReliable(to string, msg []byte) error
	// SetMeta changes the metadata NodeMeta returns and calls UpdateNode.
	SetMeta(meta []byte, timeout time.Duration) error
	// QueueBroadcast queues msg on the node's TransmitLimitedQueue, which its delegate's
	// GetBroadcasts drains.
	QueueBroadcast(msg []byte)
	Keyring() Keyring // nil without encryption
	Leave(timeout time.Duration) error
	Shutdown() error // without Leave: to the others, a crash
	Rec() *Recorder
}

// Keyring is the Keyring API (identical in every version).
type Keyring interface {
	AddKey(key []byte) error
	UseKey(key []byte) error
	RemoveKey(key []byte) error
	GetKeys() [][]byte
}

// Impl builds nodes of one kind.
type Impl struct {
	Kind string
	New  func(o Options) (Node, error)
	// Features this kind lacks.
	NoLabels bool // memberlist < v0.3.0
	NoCRC    bool // the CRC layer is only checked as a scenario where this kind speaks v5 too
	// Features only some kinds have.
	Snappy bool // Config.CompressionAlgorithm with Snappy (libmemberlist, grafana/memberlist)
}

// Event is one EventDelegate callback.
type Event struct {
	At   time.Time
	Kind string // join, leave, update
	Name string
	Meta string
}

// Recorder collects what a node's delegates saw. Every adapter's delegates feed one.
type Recorder struct {
	mu     sync.Mutex
	events []Event
	msgs   [][]byte
	merged []Merged
	meta   []byte
	state  []byte
	ack    []byte
	pings  []Ping
	alive  map[string]int
	peers  map[string]int // NotifyMerge: name -> State (-1: not in this version's Node)
}

// Ping is one PingDelegate.NotifyPingComplete call.
type Ping struct {
	Name    string
	Payload string
}

// Merged is one MergeRemoteState call.
type Merged struct {
	State []byte
	Join  bool
}

func NewRecorder(meta, state, ack []byte) *Recorder {
	return &Recorder{meta: bytes.Clone(meta), state: bytes.Clone(state), ack: bytes.Clone(ack),
		alive: map[string]int{}, peers: map[string]int{}}
}

// AckPayload is what PingDelegate.AckPayload returns.
func (r *Recorder) AckPayload() []byte { return bytes.Clone(r.ack) }

func (r *Recorder) Ping(name string, payload []byte) {
	r.mu.Lock()
	r.pings = append(r.pings, Ping{name, string(payload)})
	r.mu.Unlock()
}

func (r *Recorder) Alive(name string) {
	r.mu.Lock()
	r.alive[name]++
	r.mu.Unlock()
}

func (r *Recorder) MergedPeer(name string, state int) {
	r.mu.Lock()
	r.peers[name] = state
	r.mu.Unlock()
}

// HasPing reports whether a probe of name completed with this ack payload.
func (r *Recorder) HasPing(name, payload string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.pings {
		if p.Name == name && p.Payload == payload {
			return true
		}
	}
	return false
}

func (r *Recorder) Pings() []Ping {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Ping(nil), r.pings...)
}

// AliveCount is how many times AliveDelegate.NotifyAlive was called for name.
func (r *Recorder) AliveCount(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.alive[name]
}

// MergedState is the State NotifyMerge reported for name, and whether it reported it.
func (r *Recorder) MergedState(name string) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.peers[name]
	return s, ok
}

func (r *Recorder) Event(kind, name string, meta []byte) {
	r.mu.Lock()
	r.events = append(r.events, Event{At: time.Now(), Kind: kind, Name: name, Meta: string(meta)})
	r.mu.Unlock()
}

func (r *Recorder) Msg(b []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, bytes.Clone(b))
	r.mu.Unlock()
}

func (r *Recorder) Merge(b []byte, join bool) {
	r.mu.Lock()
	r.merged = append(r.merged, Merged{bytes.Clone(b), join})
	r.mu.Unlock()
}

// Meta is what NodeMeta returns.
func (r *Recorder) Meta(limit int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.meta) > limit {
		return bytes.Clone(r.meta[:limit])
	}
	return bytes.Clone(r.meta)
}

func (r *Recorder) SetMeta(m []byte) {
	r.mu.Lock()
	r.meta = bytes.Clone(m)
	r.mu.Unlock()
}

// State is what LocalState returns.
func (r *Recorder) State() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.state)
}

func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *Recorder) HasEvent(kind, name, meta string) (Event, bool) {
	for _, e := range r.Events() {
		if e.Kind == kind && e.Name == name && (meta == "" || e.Meta == meta) {
			return e, true
		}
	}
	return Event{}, false
}

func (r *Recorder) HasMsg(m []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.msgs {
		if bytes.Equal(x, m) {
			return true
		}
	}
	return false
}

func (r *Recorder) Merges() []Merged {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Merged(nil), r.merged...)
}

// Names returns the sorted names of ms.
func Names(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	sort.Strings(out)
	return out
}

// Find returns name's entry in n's member list.
func Find(n Node, name string) (Member, bool) {
	for _, m := range n.Members() {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

// WaitFor polls cond every 10 ms until it holds or timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Describe summarises what every node sees, for failure messages.
func Describe(nodes ...Node) string {
	var b strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&b, "\n  %s (%s) sees %v", n.Name(), n.Kind(), Names(n.Members()))
	}
	return b.String()
}

// SortMembers sorts ms by name.
func SortMembers(ms []Member) { sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name }) }

// LogOutput is where nodes log: stderr with ML_MIXED_LOG=1, else nowhere.
func LogOutput(name string) io.Writer {
	if os.Getenv("ML_MIXED_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}
