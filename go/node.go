//go:build cgo

package memberlist

import (
	"fmt"
	"net"
	"strconv"
)

// Protocol versions this package understands and speaks (the same range as memberlist).
const (
	ProtocolVersionMin uint8 = 1
	// ProtocolVersion2Compatible is the default: TCP pings and nacks are used with peers that
	// understand them.
	ProtocolVersion2Compatible = 2
	ProtocolVersionMax         = 5
)

// MetaMaxSize is the largest node metadata accepted from Delegate.NodeMeta, unless
// Config.MetaMaxSize (libmemberlist's addition) says otherwise.
const MetaMaxSize = 512

// NodeStateType is the state of a node: alive, suspect, dead or left.
type NodeStateType int

// Node states.
const (
	StateAlive NodeStateType = iota
	StateSuspect
	StateDead
	StateLeft
)

// Node is a member of the cluster.
//
// As in memberlist, State is only filled in for the nodes handed to MergeDelegate.NotifyMerge;
// in Members(), LocalNode() and events it is always StateAlive (memberlist keeps a node's state
// in a separate field and so never fills this one in there).
type Node struct {
	Name  string
	Addr  net.IP
	Port  uint16
	Meta  []byte        // Metadata from the delegate for this node.
	State NodeStateType // State of the node (see the type's comment).
	PMin  uint8         // Minimum protocol version this understands
	PMax  uint8         // Maximum protocol version this understands
	PCur  uint8         // Current version node is speaking
	DMin  uint8         // Min protocol version for the delegate to understand
	DMax  uint8         // Max protocol version for the delegate to understand
	DCur  uint8         // Current version delegate is speaking
}

// Address returns the node's "host:port", suitable for a transport.
func (n *Node) Address() string {
	return joinHostPort(n.Addr.String(), n.Port)
}

// FullAddress returns the node's name and "host:port".
func (n *Node) FullAddress() Address {
	return Address{Addr: joinHostPort(n.Addr.String(), n.Port), Name: n.Name}
}

// String returns the node's name.
func (n *Node) String() string { return n.Name }

func joinHostPort(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// Address is a node's transport address plus, optionally, its name.
type Address struct {
	// Addr is "host:port".
	Addr string
	// Name is the node's name; may be empty when unknown.
	Name string
}

func (a *Address) String() string {
	if a.Name != "" {
		return fmt.Sprintf("%s (%s)", a.Name, a.Addr)
	}
	return a.Addr
}

// NoPingResponseError is returned by Ping when the node did not answer in time.
type NoPingResponseError struct {
	node string
}

func (f NoPingResponseError) Error() string {
	return fmt.Sprintf("No response from node %s", f.node)
}
