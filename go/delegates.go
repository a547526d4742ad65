//go:build cgo

package memberlist

import "time"

// Delegate is the interface a client implements to hook into the gossip layer. NotifyMsg runs
// on a notification thread and may block; the other methods answer the node and run on its
// event-loop thread, so they must not block (see the package documentation, Threading).
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
// concurrently and run in order on a notification thread, off the event loop: they may block
// and may call back into the Memberlist (see the package documentation, Threading).
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
