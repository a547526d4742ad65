//go:build cgo

package memberlist

import "time"

// Delegate is the interface a client implements to hook into the gossip layer. NotifyMsg runs
// off the event loop (a notification goroutine or thread) and may block; the other methods
// answer the node and run on its event loop, so they must not block (see the package
// documentation, Threading).
type Delegate interface {
	// NodeMeta returns this node's metadata, at most limit bytes (MetaMaxSize). It is called at
	// Create and at every UpdateNode. A longer result makes Create / UpdateNode fail.
	NodeMeta(limit int) []byte

	// NotifyMsg is called with each user message received. The slice is a copy owned by the
	// callee (libmemberlist copies it out of the C buffer), so it may be kept.
	NotifyMsg([]byte)

	// GetBroadcasts returns user broadcasts to piggyback on gossip, each costing overhead bytes
	// and all together within limit bytes.
	GetBroadcasts(overhead, limit int) [][]byte

	// LocalState returns the state to send in a push/pull. join is true for the push/pull that
	// Join starts.
	LocalState(join bool) []byte

	// MergeRemoteState is called with the remote side's LocalState. The slice may be kept.
	MergeRemoteState(buf []byte, join bool)
}

// EventDelegate receives notifications of membership changes. Its methods are never called
// concurrently and run in order on a notification goroutine (or thread), off the event loop:
// they may block and may call back into the Memberlist (see the package documentation,
// Threading).
type EventDelegate interface {
	// NotifyJoin is called when a node joins (including this node, at Create).
	NotifyJoin(*Node)
	// NotifyLeave is called when a node leaves or is declared dead.
	NotifyLeave(*Node)
	// NotifyUpdate is called when a node's metadata changes.
	NotifyUpdate(*Node)
}

// ChannelEventDelegate sends every event to Ch as a NodeEvent carrying a copy of the node.
//
// memberlist blocks on the send. Here an event that Ch cannot take at once is queued, in order,
// and sent by a goroutine; only when 1024 events are waiting does the node wait for the reader
// (as memberlist would). Shutdown never waits for a reader: it releases such a wait and drops
// the events still queued. Consume Ch promptly.
type ChannelEventDelegate struct {
	Ch chan<- NodeEvent
}

// NodeEventType is the kind of a NodeEvent.
type NodeEventType int

// Node event kinds.
const (
	NodeJoin NodeEventType = iota
	NodeLeave
	NodeUpdate
)

// NodeEvent is one membership change sent by ChannelEventDelegate. Node must not be modified.
type NodeEvent struct {
	Event NodeEventType
	Node  *Node
}

// NotifyJoin sends a NodeJoin event (blocking, as memberlist does, when called directly).
func (c *ChannelEventDelegate) NotifyJoin(n *Node) {
	node := *n
	c.Ch <- NodeEvent{NodeJoin, &node}
}

// NotifyLeave sends a NodeLeave event.
func (c *ChannelEventDelegate) NotifyLeave(n *Node) {
	node := *n
	c.Ch <- NodeEvent{NodeLeave, &node}
}

// NotifyUpdate sends a NodeUpdate event.
func (c *ChannelEventDelegate) NotifyUpdate(n *Node) {
	node := *n
	c.Ch <- NodeEvent{NodeUpdate, &node}
}

// ConflictDelegate is told when a known node's name is seen at another address.
type ConflictDelegate interface {
	NotifyConflict(existing, other *Node)
}

// MergeDelegate can veto joining a cluster: NotifyMerge sees the remote nodes of a join's
// push/pull (with State filled in); a non-nil error aborts the merge and is reported by Join.
type MergeDelegate interface {
	NotifyMerge(peers []*Node) error
}

// AliveDelegate can filter alive messages: a non-nil error from NotifyAlive ignores the message.
type AliveDelegate interface {
	NotifyAlive(peer *Node) error
}

// PingDelegate adds a payload to acks and observes round-trip times.
type PingDelegate interface {
	// AckPayload returns the payload sent with each ack (at most 512 bytes are used).
	AckPayload() []byte
	// NotifyPingComplete is called after a successful probe of other.
	NotifyPingComplete(other *Node, rtt time.Duration, payload []byte)
}

// NodeSelectionDelegate filters and prioritizes the nodes gossip and push/pull pick from, for
// zone- or rack-aware routing. It is grafana/memberlist's interface (Config.NodeSelection), with
// the same semantics, so code written for that fork (dskit's zone-aware routing) works here.
//
// SelectNodes is called each time gossip targets are picked (every GossipInterval, whether or
// not there is anything to send) and each time push/pull targets are picked (every
// PushPullInterval); never for probes, Join or reconnects. It receives every node this member
// knows, itself and suspect, dead and left nodes included, as fresh copies (StateChange is not
// reported: it is the zero time). It returns:
//   - selected: the nodes targets are drawn from, at random, after the usual rules (never this
//     node; alive, suspect or recently dead nodes for gossip; alive ones for push/pull). The
//     input slice may be returned as it is; it must not be modified in place.
//   - preferred: nil, or one node picked first whenever those rules allow it; it need not be
//     in selected.
//
// Nodes are matched to the candidates by pointer, else by name; a node that is neither is
// ignored with a logged warning. A panic selects every node and prefers none.
//
// SelectNodes runs on libmemberlist's event-loop thread, like AliveDelegate: it must be quick
// (a 1,000-node cluster calls it with 1,000 candidates about 5 times a second) and must not
// block. From inside it the snapshots (Members, NumMembers, LocalNode) work, while Join, Leave,
// UpdateNode, Ping and SendReliable return an error; a lock it takes must never be held around a
// call into this package.
type NodeSelectionDelegate interface {
	SelectNodes([]*NodeState) (selected []*NodeState, preferred *NodeState)
}

// NodeState is a node with its incarnation and state, as NodeSelectionDelegate sees it
// (grafana/memberlist exports memberlist's nodeState under this name).
type NodeState struct {
	Node
	Incarnation uint32        // last known incarnation number
	State       NodeStateType // current state
	StateChange time.Time     // not reported by libmemberlist: the zero time
}

// Address returns the host:port form of the node's address.
func (n *NodeState) Address() string { return n.Node.Address() }

// FullAddress returns the node's name and host:port address.
func (n *NodeState) FullAddress() Address { return n.Node.FullAddress() }

// DeadOrLeft reports whether the node is dead or has left.
func (n *NodeState) DeadOrLeft() bool { return n.State == StateDead || n.State == StateLeft }
