package memberlist

/*
#include "bridge.h"
*/
import "C"

import (
	"sort"
	"sync"
)

// maxDeparted bounds how many departed nodes MembersWithState remembers.
const maxDeparted = 1024

// departedNodes remembers, from the leave events, the nodes that left or were declared dead and
// have not joined again since, with the state libmemberlist reported for them.
type departedNodes struct {
	mu    sync.Mutex
	nodes map[string]*Node
	order []string // names, oldest first (may hold names removed since)
}

func (d *departedNodes) add(n *Node, state NodeStateType) {
	c := *n
	c.State = state
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nodes == nil {
		d.nodes = map[string]*Node{}
	}
	if _, ok := d.nodes[n.Name]; !ok {
		d.order = append(d.order, n.Name)
	}
	d.nodes[n.Name] = &c
	for len(d.nodes) > maxDeparted && len(d.order) > 0 {
		delete(d.nodes, d.order[0])
		d.order = d.order[1:]
	}
	if len(d.order) > 4*maxDeparted { // drop the names removed since
		kept := d.order[:0]
		for _, name := range d.order {
			if _, ok := d.nodes[name]; ok {
				kept = append(kept, name)
			}
		}
		d.order = kept
	}
}

func (d *departedNodes) remove(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.nodes, name)
}

func (d *departedNodes) list() []*Node {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*Node, 0, len(d.nodes))
	for _, n := range d.nodes {
		c := *n
		out = append(out, &c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// MembersWithState is libmemberlist's addition (hashicorp/memberlist has no counterpart, and
// leaves Node.State at StateAlive in Members and in events): Members with each node's State
// filled in, StateAlive or StateSuspect, followed by the nodes that have left (StateLeft) or
// been declared dead (StateDead) and not joined again since, as told by the leave events. Those
// are remembered only while Config.Events is set (any EventDelegate), at most 1024 of them
// (the oldest are forgotten first), sorted by name.
func (m *Memberlist) MembersWithState() []*Node {
	nodes, err := m.liveNodes(true)
	if err != nil {
		nodes = m.Members() // after Shutdown: the last members seen
	}
	live := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		live[n.Name] = true
	}
	for _, n := range m.cb.departed.list() {
		if !live[n.Name] {
			nodes = append(nodes, n)
		}
	}
	return nodes
}
