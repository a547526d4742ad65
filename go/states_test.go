package memberlist

import (
	"fmt"
	"testing"
)

type nopEvents struct{}

func (nopEvents) NotifyJoin(*Node)   {}
func (nopEvents) NotifyLeave(*Node)  {}
func (nopEvents) NotifyUpdate(*Node) {}

func stateOfNode(nodes []*Node, name string) (NodeStateType, bool) {
	for _, n := range nodes {
		if n.Name == name {
			return n.State, true
		}
	}
	return 0, false
}

// TestMembersWithState: both nodes alive, then the one that left is StateLeft (Members no longer
// has it), and a node that joins again is alive and listed once.
func TestMembersWithState(t *testing.T) {
	c1 := testConfig(t)
	c1.Events = nopEvents{}
	m1 := create(t, c1)
	c2 := testConfig(t)
	m2 := joinPeer(t, m1, c2) // its Cleanup shuts it down again: a no-op
	waitForMembers(t, m1, 2)
	for _, n := range m1.MembersWithState() {
		if n.State != StateAlive {
			t.Fatalf("%s: state %v, want alive", n.Name, n.State)
		}
	}
	if err := m2.Leave(waitTimeout); err != nil {
		t.Fatal(err)
	}
	if err := m2.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c2.Name+" to be left in "+c1.Name+"'s view", func() (bool, string) {
		got := m1.MembersWithState()
		s, ok := stateOfNode(got, c2.Name)
		return ok && s == StateLeft && len(got) == 2 && m1.NumMembers() == 1, fmt.Sprintf("%d nodes, %s: %v %v", len(got), c2.Name, s, ok)
	})
	c3 := testConfig(t)
	c3.Name = c2.Name
	c3.BindAddr = c2.BindAddr
	joinPeer(t, m1, c3)
	waitFor(t, c2.Name+" to be alive again", func() (bool, string) {
		got := m1.MembersWithState()
		s, ok := stateOfNode(got, c2.Name)
		return ok && s == StateAlive && len(got) == 2, fmt.Sprintf("%d nodes, %s: %v %v", len(got), c2.Name, s, ok)
	})
}
