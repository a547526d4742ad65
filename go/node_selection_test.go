package memberlist

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// steeredSelector is a NodeSelectionDelegate the test steers (grafana/memberlist's interface).
// The consumer's own lock (mu) is taken inside SelectNodes, as consumers do; the test never
// holds it around a call into the package (SelectNodes runs on the loop thread: a lock held
// around a call that waits for the loop, and taken here, would deadlock).
type steeredSelector struct {
	mu       sync.Mutex
	mode     string // "all", "none", "prefer", "foreign", "panic", "blocking"
	target   string // the node to prefer / return as a foreign copy
	calls    int
	sawSelf  bool
	bad      []string // what a call got that it should not have
	self     string
	ml       *Memberlist
	blockErr error // what Join returned from inside SelectNodes ("blocking")
	members  int   // what NumMembers returned from inside SelectNodes ("blocking")
}

func (s *steeredSelector) SelectNodes(nodes []*NodeState) ([]*NodeState, *NodeState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	var target *NodeState
	for _, n := range nodes {
		if n.Name == s.self {
			s.sawSelf = true
		}
		if n.Incarnation == 0 || n.Addr == nil || n.Port == 0 {
			s.bad = append(s.bad, fmt.Sprintf("candidate %+v", *n))
		}
		if n.Name == s.target {
			target = n
		}
	}
	switch s.mode {
	case "all":
		return nodes, nil
	case "prefer":
		return nil, target
	case "foreign": // a copy, not one of the candidates: matched by name
		if target == nil {
			return nil, nil
		}
		c := *target
		return []*NodeState{&c}, &NodeState{Node: Node{Name: "nobody"}}
	case "panic":
		panic("selector panic")
	case "blocking":
		if s.ml != nil && s.blockErr == nil {
			_, s.blockErr = s.ml.Join([]string{"127.0.0.1:1"})
			s.members = s.ml.NumMembers()
		}
		return nodes, nil
	}
	return nil, nil
}

func (s *steeredSelector) set(mode string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = mode
	return s.calls
}

func (s *steeredSelector) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// TestNodeSelection: Config.NodeSelection (grafana/memberlist's NodeSelectionDelegate) routes
// node 0's gossip. Probes and push/pull are off, so gossip alone can carry node 0's metadata
// update: selecting nobody sends nothing and loses nothing (the update stays queued); a
// preferred node gets it with nothing selected; a copy of a candidate is matched by name and an
// unknown node is logged and ignored; a panic is recovered (every node selected); Join from
// inside returns an error while NumMembers works. PushPullNodes defaults to 1 and 0 or negative
// values are accepted (they mean 1, as in the fork).
func TestNodeSelection(t *testing.T) {
	for _, c := range []*Config{DefaultLANConfig(), DefaultWANConfig(), DefaultLocalConfig()} {
		if c.PushPullNodes != 1 {
			t.Errorf("preset PushPullNodes = %d, want 1", c.PushPullNodes)
		}
	}
	sel := &steeredSelector{mode: "all"}
	configs := make([]*Config, 3)
	delegates := make([]*mockDelegate, 3)
	for i := range configs {
		c := testConfig(t)
		c.ProbeInterval = time.Hour // no pings or acks to piggyback on
		c.PushPullInterval = 0
		c.RetransmitMult = 8 // nothing repairs a missed rumor here: send it to everyone
		c.PushPullNodes = []int{0, -1, 2}[i]
		delegates[i] = &mockDelegate{}
		c.Delegate = delegates[i]
		configs[i] = c
	}
	logs := captureLogs(configs[0])
	configs[0].NodeSelection = sel
	sel.self = configs[0].Name
	m0 := create(t, configs[0])
	m1 := joinPeer(t, m0, configs[1])
	m2 := joinPeer(t, m0, configs[2])
	for _, m := range []*Memberlist{m0, m1, m2} {
		waitForMembers(t, m, 3)
	}
	waitFor(t, "node 0's selector to be asked", func() (bool, string) {
		return sel.callCount() > 0, "no call"
	})
	sel.mu.Lock()
	if !sel.sawSelf || len(sel.bad) > 0 {
		t.Errorf("candidates: self seen %v, bad %v", sel.sawSelf, sel.bad)
	}
	sel.mu.Unlock()

	metaOf := func(m *Memberlist) string {
		for _, n := range m.Members() {
			if n.Name == configs[0].Name {
				return string(n.Meta)
			}
		}
		return ""
	}
	update := func(meta string) {
		t.Helper()
		delegates[0].setMeta([]byte(meta))
		// The update waits for its broadcast to be sent; with nobody selected it cannot be.
		if err := m0.UpdateNode(100 * time.Millisecond); err != nil && !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("UpdateNode: %v", err)
		}
	}

	// Nobody selected: 20 gossip rounds go by, and nobody hears the update.
	calls := sel.set("none")
	update("v1")
	waitFor(t, "20 more gossip rounds", func() (bool, string) {
		return sel.callCount() >= calls+20, fmt.Sprint(sel.callCount())
	})
	if a, b := metaOf(m1), metaOf(m2); a != "" || b != "" {
		t.Fatalf("with nobody selected the update arrived: %q %q", a, b)
	}

	// Preferred (nothing selected): node 2 gets it, and node 1 from node 2.
	sel.mu.Lock()
	sel.target = configs[2].Name
	sel.mu.Unlock()
	sel.set("prefer")
	waitFor(t, "the update at node 2 and node 1", func() (bool, string) {
		a, b := metaOf(m1), metaOf(m2)
		return a == "v1" && b == "v1", a + " " + b
	})

	// A copy of a candidate, matched by name; an unknown preferred node, logged and ignored.
	sel.mu.Lock()
	sel.target = configs[1].Name
	sel.mu.Unlock()
	sel.set("foreign")
	update("v2")
	waitFor(t, "the update at node 1", func() (bool, string) { return metaOf(m1) == "v2", metaOf(m1) })
	waitFor(t, "the unknown node's warning", func() (bool, string) {
		return strings.Contains(logs.String(), `[WARN] memberlist: NodeSelectionDelegate returned node "nobody", which is not a candidate; ignored`), ""
	})

	// A panic: recovered and logged, every node selected.
	sel.set("panic")
	update("v3")
	waitFor(t, "the update everywhere after a panic", func() (bool, string) {
		return metaOf(m1) == "v3" && metaOf(m2) == "v3", metaOf(m1) + " " + metaOf(m2)
	})
	if !strings.Contains(logs.String(), "panic in NodeSelectionDelegate.SelectNodes (recovered; every node selected, none preferred): selector panic") {
		t.Errorf("no panic log line")
	}

	// The blocking API from inside SelectNodes: an error, not a deadlock; snapshots work.
	sel.mu.Lock()
	sel.ml = m0
	sel.mu.Unlock()
	sel.set("blocking")
	waitFor(t, "SelectNodes to call Join", func() (bool, string) {
		sel.mu.Lock()
		defer sel.mu.Unlock()
		return sel.blockErr != nil, ""
	})
	sel.mu.Lock()
	if sel.members != 3 {
		t.Errorf("NumMembers from inside SelectNodes = %d, want 3", sel.members)
	}
	t.Logf("Join from inside SelectNodes: %v", sel.blockErr)
	sel.ml = nil
	sel.mu.Unlock()
	sel.set("all")
}
